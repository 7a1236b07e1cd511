//! Browser sessions: log in with a username and password to get an HttpOnly, SameSite=Strict cookie
//! (Secure behind TLS) and a CSRF token to repeat in `X-CSRF-Token` on every change. Opening and
//! closing a session live here for every way of logging in (JSON, HTML form, OpenID Connect).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sanad_app::auth::{api_key_hash, random_secret};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{SESSION_COOKIE, session_token, verify_login};
use crate::error::{ApiError, Problem};
use crate::extract::Json;

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 8;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Login {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub username: String,
    pub role: String,
    /// Repeat it in `X-CSRF-Token` (or, from an HTML form, a `csrf_token` field) on every POST, PUT
    /// or DELETE made with the session cookie.
    pub csrf_token: String,
}

/// The request's own parts, for the client address and cookie.
pub struct RequestParts(pub Parts);

impl<S: Send + Sync> FromRequestParts<S> for RequestParts {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(RequestParts(parts.clone()))
    }
}

/// The `Set-Cookie` value of the session cookie (an empty value with `max_age` 0 clears it).
pub(crate) fn session_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or(HeaderValue::from_static("sanad_session=; Max-Age=0"))
}

/// A session just opened: the cookie to set and the CSRF token to repeat on changes.
pub(crate) struct OpenedSession {
    pub cookie: HeaderValue,
    pub csrf_token: String,
}

/// Opens a session for an actor who has just proved who they are (password, form or OpenID
/// Connect): the one place sessions are created.
pub(crate) async fn open_session(
    state: &AppState,
    actor: &sanad_app::Actor,
) -> Result<OpenedSession, ApiError> {
    let token = random_secret(32).map_err(|_| ApiError::internal())?;
    let csrf = random_secret(16).map_err(|_| ApiError::internal())?;
    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(SESSION_HOURS);
    state
        .registry
        .store()
        .create_session(&api_key_hash(&token), &actor.username, &csrf, expires)
        .await?;
    Ok(OpenedSession {
        cookie: session_cookie(state, &token, SESSION_HOURS * 3600),
        csrf_token: csrf,
    })
}

/// Closes the session of the request's cookie, if any; returns the `Set-Cookie` that clears it.
pub(crate) async fn close_session(
    state: &AppState,
    parts: &Parts,
) -> Result<HeaderValue, ApiError> {
    if let Some(token) = session_token(parts) {
        state
            .registry
            .store()
            .delete_session(&api_key_hash(&token))
            .await?;
    }
    Ok(session_cookie(state, "", 0))
}

/// Opens a session.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "system", request_body = Login,
    security(()),
    responses((status = 200, body = SessionInfo), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn login(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    Json(body): Json<Login>,
) -> Result<Response, ApiError> {
    let client = crate::auth::client_of(&parts);
    if state.limiter.blocked(&client) {
        return Err(ApiError::too_many_requests());
    }
    let Some(actor) = verify_login(&state, &body.username, &body.password).await? else {
        state.limiter.fail(&client);
        return Err(ApiError::unauthorized());
    };
    let session = open_session(&state, &actor).await?;
    let info = SessionInfo {
        username: actor.username,
        role: actor.role.as_str().to_string(),
        csrf_token: session.csrf_token,
    };
    let mut response = axum::Json(info).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session.cookie);
    Ok(response)
}

/// Closes the session of the cookie. An open session is closed only with its CSRF token in
/// `X-CSRF-Token`, so that another site cannot log the user out; an expired or unknown one is simply
/// forgotten.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "system", security(()),
    responses((status = 204, description = "Logged out"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn logout(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
) -> Result<Response, ApiError> {
    if crate::auth::session_token(&parts).is_some()
        && let Err(e) = crate::auth::authenticate(&parts, &state).await
        && e.status() == StatusCode::FORBIDDEN
    {
        return Err(e);
    }
    let clear = close_session(&state, &parts).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, clear);
    Ok(response)
}
