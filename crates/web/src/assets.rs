//! The vendored assets (style sheet, htmx, the Arabic font, the icons), compiled into the binary
//! and served by Sanad itself: a centre with no internet gets the same window. Each URL carries a
//! digest of the file, so a browser may keep it for a year and still gets a new version at once.
//! Their licences are in `assets/licences/`.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

/// One asset and what the server answers for it.
pub struct Asset {
    pub name: &'static str,
    pub bytes: std::borrow::Cow<'static, [u8]>,
    pub content_type: &'static str,
    /// The first 12 hex digits of the SHA-256 of the bytes.
    pub digest: String,
}

impl Asset {
    /// Where pages link it: `/assets/<digest>/<name>`.
    pub fn url(&self) -> String {
        format!("/assets/{}/{}", self.digest, self.name)
    }
}

macro_rules! asset {
    ($name:literal, $path:literal, $type:literal) => {
        (
            $name,
            include_bytes!(concat!("../assets/", $path)) as &[u8],
            $type,
        )
    };
}

static FILES: &[(&str, &[u8], &str)] = &[
    asset!("sanad.css", "sanad.css", "text/css; charset=utf-8"),
    asset!("sanad.js", "sanad.js", "text/javascript; charset=utf-8"),
    asset!(
        "htmx.min.js",
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("icons.svg", "icons.svg", "image/svg+xml"),
    asset!(
        "noto-sans-arabic-400.woff2",
        "fonts/noto-sans-arabic-arabic-400-normal.woff2",
        "font/woff2"
    ),
    asset!(
        "noto-sans-arabic-700.woff2",
        "fonts/noto-sans-arabic-arabic-700-normal.woff2",
        "font/woff2"
    ),
    asset!(
        "licences.txt",
        "licences/LICENCES.txt",
        "text/plain; charset=utf-8"
    ),
];

fn digest(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..6])
}

/// The style sheet names its fonts as `/assets/font/<name>`; they are rewritten to the fonts'
/// digest URLs before the sheet's own digest is taken, so a new font gives a new sheet URL.
static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    let mut assets: Vec<Asset> = FILES
        .iter()
        .map(|(name, bytes, content_type)| Asset {
            name,
            bytes: std::borrow::Cow::Borrowed(*bytes),
            content_type,
            digest: digest(bytes),
        })
        .collect();
    let fonts: Vec<(String, String)> = assets
        .iter()
        .filter(|a| a.name.ends_with(".woff2"))
        .map(|a| (format!("/assets/font/{}", a.name), a.url()))
        .collect();
    for asset in assets.iter_mut().filter(|a| a.name.ends_with(".css")) {
        let mut text = String::from_utf8_lossy(&asset.bytes).into_owned();
        for (from, to) in &fonts {
            text = text.replace(from, to);
        }
        asset.digest = digest(text.as_bytes());
        asset.bytes = std::borrow::Cow::Owned(text.into_bytes());
    }
    assets
});

/// Every asset.
pub fn all() -> &'static [Asset] {
    &ASSETS
}

/// The asset with this name.
pub fn named(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The URL of the asset with this name (an empty string for an unknown name, caught by tests).
pub fn url(name: &str) -> String {
    named(name).map(Asset::url).unwrap_or_default()
}

/// The asset a request names, when its digest is the current one. An old digest is not served:
/// the page that asked for it is older than the binary and reloads with the new URL.
pub fn find(digest: &str, name: &str) -> Option<&'static Asset> {
    named(name).filter(|a| a.digest == digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_stable_url() {
        for a in all() {
            assert!(find(&a.digest, a.name).is_some());
            assert_eq!(a.digest.len(), 12);
            assert!(!a.bytes.is_empty(), "{}", a.name);
        }
        assert!(find("000000000000", "sanad.css").is_none());
        let css = String::from_utf8_lossy(
            &named("sanad.css")
                .map(|a| a.bytes.to_vec())
                .unwrap_or_default(),
        )
        .into_owned();
        assert!(
            !css.contains("/assets/font/"),
            "every font of the sheet is a known asset"
        );
        assert!(css.contains(&url("noto-sans-arabic-400.woff2")));
    }
}
