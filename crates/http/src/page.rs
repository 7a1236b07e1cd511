//! What the server-rendered pages share at the HTTP level: escaping, no-store HTML responses,
//! redirects, the safe `next` of a login, cookies, and the login's message pages (rendered by the
//! `web` crate's templates). No inline script anywhere: the content security policy forbids it.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub use sanad_web::Lang;

/// The language a login page asks for (`?lang=`, the form's `lang` field), else the reader's.
pub fn lang_or(code: Option<&str>, headers: &HeaderMap) -> Lang {
    code.and_then(Lang::from_code)
        .unwrap_or_else(|| crate::pages::lang_of(headers))
}

/// A page with a message (the wording key `key`) and a link back to the login page, answered
/// with `status`.
pub fn message(status: StatusCode, lang: Lang, key: &str) -> Response {
    let t = sanad_web::Tr::new(lang);
    crate::pages::message_page(
        lang,
        "/login",
        status,
        "login-title",
        t.t(key),
        Some(sanad_web::views::common::Link {
            href: format!("/login?lang={}", lang.code()),
            label: t.t("core-back-login"),
        }),
    )
}

/// An HTML response that no cache keeps (pages carry CSRF tokens and the caller's name).
pub fn html(status: StatusCode, document: String) -> Response {
    let mut response = (status, axum::response::Html(document)).into_response();
    no_store(response.headers_mut());
    response
}

pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A 303 See Other to a local path.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    no_store(response.headers_mut());
    response
}

/// Whether the client asked for a web page (a browser) rather than a document of the API.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Where to go after logging in: a local path only. Anything that a browser could read as another
/// site (`https://…`, `//host`, `/\host`) or that carries control characters gives `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= 512
                && !path.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value (a query parameter, a client secret).
pub fn form_encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s.trim_start_matches("v=").to_string())
        .unwrap_or_default()
}

/// The value of a cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_only() {
        assert_eq!(safe_next(Some("/api/v1/docs/")), "/api/v1/docs/");
        assert_eq!(safe_next(Some("/?a=1")), "/?a=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/\t/evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
