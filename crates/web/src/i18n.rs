//! The wording of the pages in Arabic, French and English: Fluent files per language and per area
//! (`locales/<lang>/<area>.ftl`), compiled into the binary, and a small translator handed to every
//! template. A key is named after the page and the thing (`household-members-title`).
//!
//! Fluent wraps placeables in isolation marks (U+2068 … U+2069) so that a French name inside an
//! Arabic sentence keeps its direction; they stay in HTML. [`plain`] removes them for CSV and tests.

use std::borrow::Cow;
use std::fmt::Display;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Ar,
    Fr,
    En,
}

impl Lang {
    /// In the order the language switch shows them.
    pub const ALL: [Lang; 3] = [Lang::Ar, Lang::Fr, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ar => "ar",
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            Lang::Fr | Lang::En => "ltr",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Ar => "العربية",
            Lang::Fr => "Français",
            Lang::En => "English",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ar" => Some(Lang::Ar),
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The best language for an `Accept-Language` header (`ar-MA,fr;q=0.8`): the highest-weighted
    /// tag whose primary language is one of ours; French when none is.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in accept_language.unwrap_or("").split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split(['-', '_']).next().unwrap_or("");
            let Some(lang) = Lang::from_code(primary) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Fr)
    }

    fn index(self) -> usize {
        match self {
            Lang::Ar => 0,
            Lang::Fr => 1,
            Lang::En => 2,
        }
    }
}

/// One Fluent file: its language, its name and its text.
pub struct WordingFile {
    pub lang: Lang,
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! files {
    ($($area:literal),* $(,)?) => {
        &[
            $(
                WordingFile { lang: Lang::Ar, name: concat!("ar/", $area, ".ftl"), text: include_str!(concat!("../locales/ar/", $area, ".ftl")) },
                WordingFile { lang: Lang::Fr, name: concat!("fr/", $area, ".ftl"), text: include_str!(concat!("../locales/fr/", $area, ".ftl")) },
                WordingFile { lang: Lang::En, name: concat!("en/", $area, ".ftl"), text: include_str!(concat!("../locales/en/", $area, ".ftl")) },
            )*
        ]
    };
}

/// Every wording file, one per language and area. An area added here must exist in all three.
pub static FILES: &[WordingFile] = files!(
    "core",
    "registry",
    "citizen",
    "agent",
    "manager",
    "supervisor",
    "auditor",
    "admin",
    "requests",
    "certificates",
);

struct Wording {
    bundles: Vec<FluentBundle<FluentResource>>,
    /// Parse errors and keys defined twice, found when the files were loaded (the wording test
    /// fails on any).
    problems: Vec<String>,
}

static WORDING: LazyLock<Wording> = LazyLock::new(load);

fn load() -> Wording {
    let mut problems = Vec::new();
    let mut bundles = Vec::new();
    for lang in [Lang::Ar, Lang::Fr, Lang::En] {
        let id: LanguageIdentifier = lang.code().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        for file in FILES.iter().filter(|f| f.lang == lang) {
            let resource = match FluentResource::try_new(file.text.to_string()) {
                Ok(r) => r,
                Err((r, errors)) => {
                    for e in errors {
                        problems.push(format!("{}: {e:?}", file.name));
                    }
                    r
                }
            };
            if let Err(errors) = bundle.add_resource(resource) {
                for e in errors {
                    problems.push(format!("{}: {e}", file.name));
                }
            }
        }
        bundles.push(bundle);
    }
    Wording { bundles, problems }
}

/// Problems found when loading the wording files (none in a sound build).
pub fn problems() -> Vec<String> {
    WORDING.problems.clone()
}

/// Whether a message exists in a language.
pub fn has(lang: Lang, key: &str) -> bool {
    WORDING.bundles[lang.index()].has_message(key)
}

/// The message keys defined by one wording text (for the parity test).
pub fn keys_of(text: &str) -> Vec<String> {
    let resource = match FluentResource::try_new(text.to_string()) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

/// Removes Fluent's isolation marks (for CSV cells, logs and test assertions).
pub fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{2068}' | '\u{2069}'))
        .collect()
}

/// The translator of one language, handed to templates as `t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    fn format(&self, key: &str, args: Option<&FluentArgs>) -> String {
        let bundle = &WORDING.bundles[self.lang.index()];
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            // A missing key shows itself rather than an empty space; the wording test makes
            // sure no template or handler names one.
            return format!("[{key}]");
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// A message without arguments.
    pub fn t(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// A message with one text argument.
    pub fn t1(&self, key: &str, name: &str, value: impl Display) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value.to_string());
        self.format(key, Some(&args))
    }

    /// A message with two text arguments.
    pub fn t2(
        &self,
        key: &str,
        name: &str,
        value: impl Display,
        name2: &str,
        value2: impl Display,
    ) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value.to_string());
        args.set(name2, value2.to_string());
        self.format(key, Some(&args))
    }

    /// A message with a count (`$n`), for plural forms; the number is shown formatted for the
    /// language.
    pub fn tn(&self, key: &str, n: impl Whole) -> String {
        let n = n.whole();
        let mut args = FluentArgs::new();
        args.set("n", FluentValue::from(n));
        args.set("count", crate::format::number(self.lang, n));
        self.format(key, Some(&args))
    }

    /// A message with a count and one text argument.
    pub fn tn1(&self, key: &str, n: impl Whole, name: &str, value: impl Display) -> String {
        let n = n.whole();
        let mut args = FluentArgs::new();
        args.set("n", FluentValue::from(n));
        args.set("count", crate::format::number(self.lang, n));
        args.set(name, value.to_string());
        self.format(key, Some(&args))
    }

    /// A whole number formatted for the language.
    pub fn num(&self, n: impl Whole) -> String {
        crate::format::number(self.lang, n.whole())
    }

    /// A decimal number with `places` decimals.
    pub fn dec(&self, x: impl Real, places: usize) -> String {
        crate::format::decimal(self.lang, x.real(), places)
    }

    /// An amount in dirhams given in centimes.
    pub fn mad(&self, centimes: impl Whole) -> String {
        crate::format::amount(self.lang, centimes.whole())
    }

    /// A share (0.0–1.0) as a percentage.
    pub fn pct(&self, share: impl Real) -> String {
        crate::format::percent(self.lang, share.real())
    }

    pub fn date(&self, date: &time::Date) -> String {
        crate::format::date(self.lang, *date)
    }

    pub fn month(&self, date: &time::Date) -> String {
        crate::format::month_year(self.lang, *date)
    }

    pub fn datetime(&self, at: &time::OffsetDateTime) -> String {
        crate::format::datetime(self.lang, *at)
    }

    /// The language's code and direction, for `lang`/`dir` attributes.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn dir(&self) -> &'static str {
        self.lang.dir()
    }
}

/// A whole number of any width, or a reference to one (templates pass loop values by reference).
pub trait Whole {
    fn whole(&self) -> i64;
}

macro_rules! whole {
    ($($t:ty),*) => { $(impl Whole for $t { fn whole(&self) -> i64 { i64::try_from(*self).unwrap_or(i64::MAX) } })* };
}
whole!(i64, u64, i32, u32, usize, u16, i16, u8);

impl<T: Whole + ?Sized> Whole for &T {
    fn whole(&self) -> i64 {
        (**self).whole()
    }
}

/// A real number, or a reference to one.
pub trait Real {
    fn real(&self) -> f64;
}

impl Real for f64 {
    fn real(&self) -> f64 {
        *self
    }
}

impl Real for f32 {
    fn real(&self) -> f64 {
        f64::from(*self)
    }
}

impl<T: Real + ?Sized> Real for &T {
    fn real(&self) -> f64 {
        (**self).real()
    }
}

/// A name shown in the reader's script when the record has it: Arabic first in Arabic, Latin
/// first otherwise, falling back to whichever exists.
pub fn name_in_script<'a>(lang: Lang, latin: &'a str, arabic: Option<&'a str>) -> Cow<'a, str> {
    match (lang, arabic.filter(|a| !a.trim().is_empty())) {
        (Lang::Ar, Some(ar)) => Cow::Borrowed(ar),
        (_, _) if !latin.trim().is_empty() => Cow::Borrowed(latin),
        (_, Some(ar)) => Cow::Borrowed(ar),
        _ => Cow::Borrowed(latin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_of_ours() {
        assert_eq!(Lang::negotiate(Some("ar-MA,fr;q=0.8")), Lang::Ar);
        assert_eq!(Lang::negotiate(Some("de-DE,en;q=0.5,fr;q=0.7")), Lang::Fr);
        assert_eq!(Lang::negotiate(Some("en-GB")), Lang::En);
        assert_eq!(Lang::negotiate(Some("es")), Lang::Fr);
        assert_eq!(Lang::negotiate(None), Lang::Fr);
        assert_eq!(Lang::negotiate(Some("ar;q=0,en;q=0.1")), Lang::En);
    }
}
