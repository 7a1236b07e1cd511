//! Authentication at the edge: an API key (`Authorization: Bearer …`), an account's HTTP Basic
//! credentials, or a browser session cookie with its CSRF token (header or form field). Until the accounts issue lands, any authenticated account may use the API; its name
//! is recorded on every change and every read of personal data.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use sanad_app::Actor;
use sanad_app::auth::{api_key_hash, verify_password};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// Remembers recently verified Basic credentials (by a hash of user and password, with the
/// password hash they were checked against) so that a page load does not pay one Argon2
/// verification per request. The account is still read on every request: a reset password or a
/// lock takes effect at once.
#[derive(Default)]
pub struct LoginCache {
    verified: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

const CACHE_TTL: Duration = Duration::from_secs(300);
const CACHE_MAX: usize = 10_000;

impl LoginCache {
    fn key(user: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(user.as_bytes());
        h.update([0]);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// Whether these credentials were verified recently against this very password hash.
    fn verified(&self, key: &[u8; 32], password_hash: &str) -> bool {
        self.verified.lock().is_ok_and(|map| {
            map.get(key)
                .is_some_and(|(hash, at)| at.elapsed() < CACHE_TTL && hash == password_hash)
        })
    }

    fn put(&self, key: [u8; 32], password_hash: &str) {
        if let Ok(mut map) = self.verified.lock() {
            if map.len() >= CACHE_MAX {
                map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            map.insert(key, (password_hash.to_string(), Instant::now()));
        }
    }
}

/// Failed authentications per client address within the current minute; past the limit, further
/// attempts are refused with 429 before any password is checked.
pub struct FailureLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    limit: u32,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter::new(MAX_FAILURES_PER_MINUTE)
    }
}

/// Failed attempts allowed per client address per minute.
pub const MAX_FAILURES_PER_MINUTE: u32 = 10;
/// Failed logins in a row that lock an account, and for how long.
pub const LOCK_AFTER_FAILURES: u32 = 5;
pub const LOCK_MINUTES: i64 = 15;

impl FailureLimiter {
    /// A limiter allowing `limit` failed attempts per client address per minute.
    pub fn new(limit: u32) -> Self {
        FailureLimiter {
            failures: Mutex::default(),
            limit,
        }
    }

    pub(crate) fn blocked(&self, client: &str) -> bool {
        self.failures
            .lock()
            .map(|m| {
                m.get(client).is_some_and(|(n, since)| {
                    since.elapsed() < Duration::from_secs(60) && *n >= self.limit
                })
            })
            .unwrap_or(false)
    }

    pub(crate) fn fail(&self, client: &str) {
        if let Ok(mut m) = self.failures.lock() {
            if m.len() > 100_000 {
                m.retain(|_, (_, since)| since.elapsed() < Duration::from_secs(60));
            }
            let entry = m.entry(client.to_string()).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= Duration::from_secs(60) {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }
}

pub(crate) fn client_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".to_string())
}

/// Requests without any credential (health, the API document, the login form) allowed per client
/// address per minute; past it they are answered 429.
pub const ANONYMOUS_PER_MINUTE: u32 = 300;

/// Counts anonymous requests per client address and minute.
pub struct AnonymousLimiter {
    seen: Mutex<HashMap<String, (u32, Instant)>>,
    limit: u32,
}

impl Default for AnonymousLimiter {
    fn default() -> Self {
        AnonymousLimiter::new(ANONYMOUS_PER_MINUTE)
    }
}

impl AnonymousLimiter {
    /// A limiter admitting `limit` requests without credentials per client address per minute.
    pub fn new(limit: u32) -> Self {
        AnonymousLimiter {
            seen: Mutex::default(),
            limit,
        }
    }

    /// Counts one request; false once the client is past the limit for this minute.
    pub(crate) fn admit(&self, client: &str) -> bool {
        let Ok(mut m) = self.seen.lock() else {
            return true;
        };
        if m.len() > 100_000 {
            m.retain(|_, (_, since)| since.elapsed() < Duration::from_secs(60));
        }
        let entry = m.entry(client.to_string()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= Duration::from_secs(60) {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        entry.0 <= self.limit
    }
}

/// Middleware: anonymous traffic is rate limited per client address; requests that carry a
/// credential are accountable and limited by the failed-authentication limiter instead.
pub async fn limit_anonymous(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let (parts, body) = request.into_parts();
    let anonymous =
        !parts.headers.contains_key(header::AUTHORIZATION) && session_token(&parts).is_none();
    if anonymous && !state.anonymous.admit(&client_of(&parts)) {
        return ApiError::too_many_requests().into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// The authenticated caller.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state).await.map(|a| Caller(a.actor))
    }
}

/// Who is calling, and the CSRF token of their session when they came by the session cookie (a
/// page shows it in its forms).
pub struct Authenticated {
    pub actor: Actor,
    pub session_csrf: Option<String>,
}

/// Authenticates a request by API key, Basic credentials or session cookie (with its CSRF token
/// on changes). Every way in goes through here.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    let Some(value) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return session_caller(parts, state).await;
    };
    credential_caller(parts, state, value)
        .await
        .map(|actor| Authenticated {
            actor,
            session_csrf: None,
        })
}

async fn credential_caller(
    parts: &Parts,
    state: &AppState,
    value: &str,
) -> Result<Actor, ApiError> {
    let (scheme, credentials) = value.split_once(' ').ok_or_else(ApiError::unauthorized)?;
    let client = client_of(parts);
    if state.limiter.blocked(&client) {
        tracing::warn!("authentication rate limit reached");
        return Err(ApiError::too_many_requests());
    }
    let store = state.registry.store();
    let actor = if scheme.eq_ignore_ascii_case("bearer") {
        let owner = store
            .api_key_account(&api_key_hash(credentials.trim()))
            .await?;
        owner.map(|o| {
            let mut actor = Actor::of(&o.account);
            if !o.scopes.is_empty() {
                actor.scopes = Some(o.scopes);
            }
            actor
        })
    } else if scheme.eq_ignore_ascii_case("basic") {
        basic(state, credentials.trim()).await?
    } else {
        None
    };
    match actor {
        Some(actor) => Ok(actor),
        None => {
            state.limiter.fail(&client);
            tracing::info!(auth.scheme = %scheme.to_ascii_lowercase(), "authentication failed");
            Err(ApiError::unauthorized())
        }
    }
}

async fn basic(state: &AppState, encoded: &str) -> Result<Option<Actor>, ApiError> {
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return Ok(None);
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return Ok(None);
    };
    let Some((user, password)) = text.split_once(':') else {
        return Ok(None);
    };
    verify_login(state, user, password).await
}

/// Checks a username and password: lock-out, Argon2, failure count. The one place a password is
/// verified, for HTTP Basic and for the session login alike.
pub(crate) async fn verify_login(
    state: &AppState,
    user: &str,
    password: &str,
) -> Result<Option<Actor>, ApiError> {
    let key = LoginCache::key(user, password);
    let store = state.registry.store();
    let Some(account) = store.account(user).await? else {
        return Ok(None);
    };
    let now = time::OffsetDateTime::now_utc();
    if account.locked_until.is_some_and(|until| until > now) {
        tracing::info!("login refused: account locked");
        return Ok(None);
    }
    if state.logins.verified(&key, &account.password_hash) {
        return Ok(Some(Actor::of(&account)));
    }
    let password = password.to_string();
    let hash = account.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        let failures = store
            .record_login_failure(
                user,
                LOCK_AFTER_FAILURES,
                now + time::Duration::minutes(LOCK_MINUTES),
            )
            .await?;
        if failures >= LOCK_AFTER_FAILURES {
            tracing::warn!(
                auth.failures = failures,
                "account locked after repeated failed logins"
            );
        }
        return Ok(None);
    }
    if account.failed_logins > 0 || account.locked_until.is_some() {
        store.record_login_success(user).await?;
    }
    state.logins.put(key, &account.password_hash);
    Ok(Some(Actor::of(&account)))
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "sanad_session";
/// Header that must repeat the session's CSRF token on every state-changing request.
pub const CSRF_HEADER: &str = "x-csrf-token";

pub(crate) fn session_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Form field that may carry the session's CSRF token instead of the header (HTML forms).
pub const CSRF_FIELD: &str = "csrf_token";

/// The `csrf_token` field of a form body, read by [`form_csrf`] before the handler runs.
#[derive(Clone)]
struct FormCsrf(String);

/// Middleware: for a state-changing, form-encoded request that comes with a session cookie and
/// without the CSRF header, reads the body's `csrf_token` field so that the session check below
/// can accept it; the body is handed on untouched.
pub async fn form_csrf(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let (mut parts, body) = request.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let media = content_type.split(';').next().unwrap_or("").trim();
    let is_form = media.eq_ignore_ascii_case("application/x-www-form-urlencoded");
    let boundary = media
        .eq_ignore_ascii_case("multipart/form-data")
        .then(|| multipart_boundary(&content_type))
        .flatten();
    if !(is_form || boundary.is_some())
        || is_safe(&parts.method)
        || parts.headers.contains_key(CSRF_HEADER)
        || session_token(&parts).is_none()
    {
        return next
            .run(axum::extract::Request::from_parts(parts, body))
            .await;
    }
    let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT).await else {
        return ApiError::too_large().into_response();
    };
    #[derive(serde::Deserialize)]
    struct Field {
        csrf_token: Option<String>,
    }
    let token = match &boundary {
        Some(boundary) => multipart_field(&bytes, boundary, CSRF_FIELD),
        None => serde_urlencoded::from_bytes::<Field>(&bytes)
            .ok()
            .and_then(|f| f.csrf_token),
    };
    if let Some(token) = token {
        parts.extensions.insert(FormCsrf(token));
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (name, value) = p.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

/// The text value of one small field of a multipart body (the CSRF token of an upload form);
/// files and other fields are left to the handler.
fn multipart_field(body: &[u8], boundary: &str, name: &str) -> Option<String> {
    let delimiter = format!("--{boundary}");
    let wanted = format!("name=\"{name}\"");
    let text = body;
    let mut at = 0;
    while let Some(start) = find(&text[at..], delimiter.as_bytes()).map(|i| i + at) {
        let part = start + delimiter.len();
        let headers_end = find(&text[part..], b"\r\n\r\n").map(|i| i + part)?;
        let headers = std::str::from_utf8(&text[part..headers_end]).ok()?;
        let value_start = headers_end + 4;
        let next = find(&text[value_start..], delimiter.as_bytes()).map(|i| i + value_start)?;
        let is_wanted = headers.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("content-disposition")
                && l.contains(&wanted)
                && !l.contains("filename=")
        });
        if is_wanted {
            let value = std::str::from_utf8(&text[value_start..next]).ok()?;
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            return (value.len() <= 256).then(|| value.to_string());
        }
        at = next;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_safe(method: &axum::http::Method) -> bool {
    matches!(
        *method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    )
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A caller known by the session cookie; state-changing requests must carry the CSRF token, in
/// the `X-CSRF-Token` header or the `csrf_token` form field.
async fn session_caller(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    let token = session_token(parts).ok_or_else(ApiError::unauthorized)?;
    let now = time::OffsetDateTime::now_utc();
    let Some((account, csrf)) = state
        .registry
        .store()
        .session(&api_key_hash(&token), now)
        .await?
    else {
        return Err(ApiError::unauthorized());
    };
    if !is_safe(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.extensions.get::<FormCsrf>().map(|f| f.0.as_str()));
        if !sent.is_some_and(|s| same_secret(s, &csrf)) {
            tracing::warn!("request refused: missing or wrong CSRF token");
            return Err(ApiError::forbidden(
                "send the session's CSRF token in X-CSRF-Token (or the csrf_token form field)",
            ));
        }
    }
    Ok(Authenticated {
        actor: Actor::of(&account),
        session_csrf: Some(csrf),
    })
}

/// What the caller says the data is read for (`X-Purpose`), kept in the access log.
pub fn purpose(parts: &axum::http::HeaderMap) -> sanad_app::registry::Purpose {
    let text = parts
        .get("x-purpose")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect::<String>())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "consultation".to_string());
    sanad_app::registry::Purpose(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_field_of_an_upload_form_is_read() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nname=\"csrf_token\"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc123\r\n--XyZ--\r\n";
        assert_eq!(
            multipart_field(body, "XyZ", CSRF_FIELD).as_deref(),
            Some("abc123")
        );
        assert_eq!(multipart_field(body, "other", CSRF_FIELD), None);
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        assert_eq!(multipart_boundary("multipart/form-data"), None);
    }
}
