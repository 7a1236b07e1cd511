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
use crate::auth::{CSRF_FIELD, authenticate, client_of, same_secret, verify_login};
use crate::page::{self, Lang, escape, safe_next};

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

/// The login form, with `message` above it when the previous attempt failed.
fn form(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    token: &str,
    next: &str,
    message: Option<&str>,
) -> Response {
    let t = lang.t();
    let alert = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(m)))
        .unwrap_or_default();
    let provider = state
        .oidc
        .as_ref()
        .map(|oidc| {
            let start = format!("/auth/oidc/start?next={}", page::form_encode(next));
            format!(
                "<p>{or}</p>\n<p><a class=\"provider button\" href=\"{href}\">{with} {name}</a></p>\n",
                or = escape(t.or),
                href = escape(&start),
                with = escape(t.with_provider),
                name = escape(oidc.provider_name()),
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<nav><a href="/login?lang={other}" lang="{other}">{other_name}</a></nav>
<h2>{title}</h2>
{alert}<form method="post" action="/login">
<input type="hidden" name="{field}" value="{token}">
<input type="hidden" name="next" value="{next}">
<input type="hidden" name="lang" value="{code}">
<label for="username">{username}</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required>
<label for="password">{password}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">{submit}</button>
</form>
{provider}"#,
        other = t.other_code,
        other_name = escape(t.other_language),
        title = escape(t.title),
        field = LOGIN_CSRF_FIELD,
        token = escape(token),
        next = escape(next),
        code = lang.code(),
        username = escape(t.username),
        password = escape(t.password),
        submit = escape(t.submit),
    );
    let mut response = page::html(status, page::document(lang, t.title, &body));
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
    let lang = Lang::parse(query.lang.as_deref());
    let next = safe_next(query.next.as_deref());
    let token = match page::cookie(&parts.headers, LOGIN_CSRF_COOKIE) {
        Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t.to_string(),
        _ => match random_secret(16) {
            Ok(t) => t,
            Err(_) => {
                return page::message(StatusCode::INTERNAL_SERVER_ERROR, lang, lang.t().error);
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
        return page::message(StatusCode::BAD_REQUEST, Lang::Fr, Lang::Fr.t().bad_request);
    };
    let lang = Lang::parse(sent.lang.as_deref());
    let t = lang.t();
    let cookie = page::cookie(&parts.headers, LOGIN_CSRF_COOKIE);
    let token = match (cookie, sent.login_csrf.as_deref()) {
        (Some(cookie), Some(field)) if !cookie.is_empty() && same_secret(cookie, field) => {
            cookie.to_string()
        }
        _ => {
            tracing::warn!("login form refused: missing or wrong anti-forgery token");
            return page::message(StatusCode::FORBIDDEN, lang, t.expired_form);
        }
    };
    let next = safe_next(sent.next.as_deref());
    let client = client_of(&parts);
    if state.limiter.blocked(&client) {
        tracing::warn!("authentication rate limit reached");
        return page::message(StatusCode::TOO_MANY_REQUESTS, lang, t.too_many);
    }
    let username = sent.username.unwrap_or_default();
    let password = sent.password.unwrap_or_default();
    let actor = match verify_login(&state, username.trim(), &password).await {
        Ok(actor) => actor,
        Err(e) => return page::message(e.status(), lang, t.error),
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
            Some(t.failed),
        );
    };
    let session = match open_session(&state, &actor).await {
        Ok(s) => s,
        Err(e) => return page::message(e.status(), lang, t.error),
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
    match authenticate(&parts, &state).await {
        Ok(caller) if caller.session_csrf.is_some() => {}
        Ok(_) => return page::see_other("/login"),
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => return page::see_other("/login"),
        Err(e) if e.status() == StatusCode::FORBIDDEN => {
            return page::message(StatusCode::FORBIDDEN, Lang::Fr, Lang::Fr.t().expired_form);
        }
        Err(e) => return page::message(e.status(), Lang::Fr, Lang::Fr.t().error),
    }
    match close_session(&state, &parts).await {
        Ok(clear) => {
            let mut response = page::see_other("/login");
            response.headers_mut().insert(header::SET_COOKIE, clear);
            response
        }
        Err(e) => page::message(e.status(), Lang::Fr, Lang::Fr.t().error),
    }
}

/// The logout form of a page shown to a session caller.
pub fn logout_form(csrf: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{}\"><button type=\"submit\">{}</button></form>",
        escape(csrf),
        escape(label)
    )
}
