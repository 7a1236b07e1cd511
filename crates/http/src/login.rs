//! The HTML login and logout forms. The login form is protected against login CSRF by a random
//! token kept both in a short-lived HttpOnly, SameSite=Strict cookie and in a hidden field; the
//! two must match. The password check, the rate limits and the session are those of the JSON login.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use sanad_app::auth::random_secret;
use serde::Deserialize;

use crate::AppState;
use crate::api::session::{RequestParts, close_session, open_session};
use crate::auth::{authenticate, client_of, same_secret, verify_login};
use crate::page::{self, Lang, safe_next};
use sanad_web::Shell;
use sanad_web::views::common::{LoginPage, Provider};

/// The cookie holding the login form's anti-forgery token.
pub const LOGIN_CSRF_COOKIE: &str = "sanad_login_csrf";
/// The hidden field that repeats it.
pub const LOGIN_CSRF_FIELD: &str = "login_csrf";
/// How long a login form stays usable.
const LOGIN_FORM_MINUTES: i64 = 30;

#[derive(Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    username: Option<String>,
    password: Option<String>,
    login_csrf: Option<String>,
    next: Option<String>,
    lang: Option<String>,
}

fn login_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/login; Max-Age={max_age}{secure}"
    ))
    .unwrap_or(HeaderValue::from_static("sanad_login_csrf=; Max-Age=0"))
}

/// The login form, with the message `error` (a wording key) above it when the previous attempt
/// failed.
fn form(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    token: &str,
    next: &str,
    error: Option<&str>,
) -> Response {
    let t = sanad_web::Tr::new(lang);
    let provider = state.oidc.as_ref().map(|oidc| Provider {
        href: format!("/auth/oidc/start?next={}", page::form_encode(next)),
        name: oidc.provider_name().to_string(),
    });
    let here = format!("/login?next={}", page::form_encode(next));
    let view = LoginPage {
        shell: Shell::new(lang, t.t("login-title"), &here),
        token: token.to_string(),
        next: next.to_string(),
        error: error.map(|key| t.t(key)),
        provider,
    };
    let mut response = crate::pages::render_status(status, &view);
    response.headers_mut().insert(
        header::SET_COOKIE,
        login_cookie(state, token, LOGIN_FORM_MINUTES * 60),
    );
    response
}

/// `GET /login`: the form. A browser that already holds a form token keeps it, so two open tabs
/// both work.
pub async fn show(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    RawQuery(query): RawQuery,
) -> Response {
    let query: LoginQuery = query
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    let lang = page::lang_or(query.lang.as_deref(), &parts.headers);
    let next = safe_next(query.next.as_deref());
    let token = match page::cookie(&parts.headers, LOGIN_CSRF_COOKIE) {
        Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t.to_string(),
        _ => match random_secret(16) {
            Ok(t) => t,
            Err(_) => {
                return page::message(StatusCode::INTERNAL_SERVER_ERROR, lang, "error-internal");
            }
        },
    };
    form(&state, lang, StatusCode::OK, &token, &next, None)
}

/// `POST /login`: checks the form token, then the password exactly as the JSON login does, and
/// opens the same session.
pub async fn submit(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    body: Bytes,
) -> Response {
    let Ok(sent) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        let lang = crate::pages::lang_of(&parts.headers);
        return page::message(StatusCode::BAD_REQUEST, lang, "login-bad-request");
    };
    let lang = page::lang_or(sent.lang.as_deref(), &parts.headers);
    let cookie = page::cookie(&parts.headers, LOGIN_CSRF_COOKIE);
    let token = match (cookie, sent.login_csrf.as_deref()) {
        (Some(cookie), Some(field)) if !cookie.is_empty() && same_secret(cookie, field) => {
            cookie.to_string()
        }
        _ => {
            tracing::warn!("login form refused: missing or wrong anti-forgery token");
            return page::message(StatusCode::FORBIDDEN, lang, "login-expired");
        }
    };
    let next = safe_next(sent.next.as_deref());
    let client = client_of(&parts);
    if state.limiter.blocked(&client) {
        tracing::warn!("authentication rate limit reached");
        return page::message(StatusCode::TOO_MANY_REQUESTS, lang, "login-too-many");
    }
    let username = sent.username.unwrap_or_default();
    let password = sent.password.unwrap_or_default();
    let actor = match verify_login(&state, username.trim(), &password).await {
        Ok(actor) => actor,
        Err(e) => return page::message(e.status(), lang, "error-internal"),
    };
    let Some(actor) = actor else {
        state.limiter.fail(&client);
        tracing::info!(auth.scheme = "form", "authentication failed");
        return form(
            &state,
            lang,
            StatusCode::UNAUTHORIZED,
            &token,
            &next,
            Some("login-failed"),
        );
    };
    let session = match open_session(&state, &actor).await {
        Ok(s) => s,
        Err(e) => return page::message(e.status(), lang, "error-internal"),
    };
    let mut response = page::see_other(&next);
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session.cookie);
    headers.append(header::SET_COOKIE, login_cookie(&state, "", 0));
    response
}

/// `POST /logout`: a form carrying the session's CSRF token in `csrf_token`; closes the session
/// and goes back to the login page.
pub async fn logout(State(state): State<AppState>, RequestParts(parts): RequestParts) -> Response {
    let lang = crate::pages::lang_of(&parts.headers);
    match authenticate(&parts, &state).await {
        Ok(caller) if caller.session_csrf.is_some() => {}
        Ok(_) => return page::see_other("/login"),
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => return page::see_other("/login"),
        Err(e) if e.status() == StatusCode::FORBIDDEN => {
            return page::message(StatusCode::FORBIDDEN, lang, "login-expired");
        }
        Err(e) => return page::message(e.status(), lang, "error-internal"),
    }
    match close_session(&state, &parts).await {
        Ok(clear) => {
            let mut response = page::see_other("/login");
            response.headers_mut().insert(header::SET_COOKIE, clear);
            response
        }
        Err(e) => page::message(e.status(), lang, "error-internal"),
    }
}
