//! The web window through its pages, as a browser uses them: a session cookie, forms with their
//! CSRF field, the language switch. One module per area; what they share is here.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../common/mod.rs"]
mod common;

mod admin;
mod agent;
mod auditor;
mod certificates;
mod citizen;
mod frame;
mod manager;
mod requests;
mod supervisor;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::json;
use tower::ServiceExt as _;

pub use common::{App, basic, household, set_up_targeting};

/// A signed-in browser: its session cookie and CSRF token, and its language.
#[derive(Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub lang: &'static str,
}

/// What a page answered.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body without Fluent's isolation marks, for assertions on sentences.
    pub fn text(&self) -> String {
        self.body
            .chars()
            .filter(|c| !matches!(c, '\u{2068}' | '\u{2069}'))
            .collect()
    }

    /// Whether the page contains this text (isolation marks ignored).
    pub fn has(&self, text: &str) -> bool {
        self.text().contains(text)
    }

    /// The value of the first hidden or text field with this name.
    pub fn field(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\""))?;
        let start = self.body[..at].rfind('<')?;
        let end = at + self.body[at..].find('>')?;
        let tag = &self.body[start..end];
        let v = tag.find("value=\"")? + 7;
        let rest = &tag[v..];
        Some(rest[..rest.find('"')?].to_string())
    }
}

/// Checks what every page must be: its language and direction, no missing wording key, every
/// field with a label, no inline script or style (the CSP forbids them).
pub fn sound(page: &Page, lang: &str) {
    let body = &page.body;
    let dir = if lang == "ar" { "rtl" } else { "ltr" };
    assert!(
        body.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
        "language and direction: {}",
        &body[..body.len().min(400)]
    );
    assert!(
        !body.contains("[core-") && !regex_like_missing_key(body),
        "a wording key is missing: {body}"
    );
    for tag in body.split("<script").skip(1) {
        assert!(tag.trim_start().starts_with("src="), "inline script");
    }
    assert!(
        !body.contains("<style") && !body.contains(" style=\""),
        "inline style"
    );
    // Every visible field has a label (for=id) or an aria-label.
    for kind in ["<input", "<select", "<textarea"] {
        for tag in body.split(kind).skip(1) {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            if tag.contains("type=\"hidden\"")
                || tag.contains("type=\"submit\"")
                || tag.contains("aria-label=")
            {
                continue;
            }
            let id = tag
                .split("id=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_else(|| panic!("a field without id: {kind}{tag}"));
            assert!(
                body.contains(&format!("for=\"{id}\"")),
                "the field {id} has no label"
            );
        }
    }
}

/// A missing key shows as `[some-key]`.
fn regex_like_missing_key(body: &str) -> bool {
    body.split('[').skip(1).any(|rest| {
        let key: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        key.contains('-') && rest[key.len()..].starts_with(']')
    })
}

impl App {
    /// Opens a session for `user` (password `pass <user>`), reading pages in `lang`.
    pub async fn session(&self, user: &str, lang: &'static str) -> Session {
        self.session_with(user, &format!("pass {user}"), lang).await
    }

    /// Opens a session with a password of one's own.
    pub async fn session_with(&self, user: &str, password: &str, lang: &'static str) -> Session {
        let (status, v) = self.call_login(user, password).await;
        assert_eq!(status, StatusCode::OK, "login of {user}: {v}");
        Session {
            cookie: v["cookie"].as_str().unwrap().to_string(),
            csrf: v["csrf_token"].as_str().unwrap().to_string(),
            lang,
        }
    }

    /// An API call with a key (`Authorization: Bearer`).
    pub async fn call_key(&self, method: &str, uri: &str, key: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn call_login(&self, user: &str, password: &str) -> (StatusCode, serde_json::Value) {
        let req = Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": user, "password": password}).to_string(),
            ))
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let cookie = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("sanad_session="))
            .map(|c| c.split(';').next().unwrap_or("").to_string());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let mut v: serde_json::Value =
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        if let Some(c) = cookie {
            v["cookie"] = json!(c);
        }
        (status, v)
    }

    async fn send(&self, req: Request<Body>) -> Page {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A page read by a browser with this session.
    pub async fn page(&self, s: &Session, uri: &str) -> Page {
        let req = Request::get(uri)
            .header(header::ACCEPT, "text/html")
            .header(
                header::COOKIE,
                format!("{}; sanad_lang={}", s.cookie, s.lang),
            )
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// A page read by a browser without a session.
    pub async fn anonymous(&self, uri: &str, lang: &str) -> Page {
        let req = Request::get(uri)
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, format!("sanad_lang={lang}"))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// A form posted by a browser with this session; the CSRF field is added.
    pub async fn submit(&self, s: &Session, uri: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", s.csrf.as_str())];
        all.extend_from_slice(fields);
        let body = serde_urlencoded::to_string(&all).unwrap();
        let req = Request::post(uri)
            .header(header::ACCEPT, "text/html")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                header::COOKIE,
                format!("{}; sanad_lang={}", s.cookie, s.lang),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// A multipart form (an upload) posted with this session; the CSRF field is added.
    pub async fn upload(
        &self,
        s: &Session,
        uri: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Page {
        let boundary = "sanad-test-boundary-7f3a";
        let mut body = Vec::new();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", s.csrf.as_str())];
        all.extend_from_slice(fields);
        for (name, value) in all {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        let (name, filename, bytes) = file;
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post(uri)
            .header(header::ACCEPT, "text/html")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(
                header::COOKIE,
                format!("{}; sanad_lang={}", s.cookie, s.lang),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }
}
