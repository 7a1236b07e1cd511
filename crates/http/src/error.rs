//! The one error type at the HTTP edge: every failure becomes an RFC 9457 problem document
//! (`application/problem+json`) with a stable machine `code` and, for bad input, the fields at fault.
//! Server-side failures are logged once with their cause and answered with a generic body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sanad_app::StoreError;
use sanad_app::registry::RegistryError;
use sanad_domain::{FieldError, ValidationErrors};
use serde::Serialize;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`/problems/<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code, e.g. `validation`, `version_conflict`, `not_found`.
    pub code: String,
    /// The offending fields, for input errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<FieldError>,
    challenge: bool,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: None,
            errors: Vec::new(),
            challenge: false,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable machine code (`validation`, `not_found` …).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The detail sentence, when there is one.
    pub fn detail_text(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The fields at fault, for input errors.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn unauthorized() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Credentials required",
        )
        .detail("send `Authorization: Bearer <api key>` or HTTP Basic credentials of an account");
        e.challenge = true;
        e
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed").detail(detail)
    }

    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests from this address; wait a minute",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found").detail(format!("no such {what}"))
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request has invalid fields",
        );
        e.errors = errors;
        e
    }

    pub fn bad_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, code, message)])
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", "Malformed request").detail(detail)
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Expected a JSON body",
        )
        .detail("send `Content-Type: application/json`")
    }

    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "The request body is too large",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; it has been logged",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The database is unavailable; try again shortly",
        )
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::invalid(e.0)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("record"),
            StoreError::VersionConflict { expected, current } => ApiError::new(
                StatusCode::CONFLICT,
                "version_conflict",
                "The record changed since you read it",
            )
            .detail(format!(
                "you sent version {expected}, the record is at version {current}: read it again and reapply your change"
            )),
            StoreError::Conflict { field, code, message } => {
                let mut e = ApiError::new(StatusCode::CONFLICT, "conflict", "The change conflicts with the registry");
                e.errors = vec![FieldError::new(field, code, message)];
                e
            }
            StoreError::Unavailable(cause) => {
                tracing::error!(error.cause = %cause, "database unavailable");
                ApiError::unavailable()
            }
            StoreError::Internal(cause) => {
                tracing::error!(error.cause = %cause, "storage failure");
                ApiError::internal()
            }
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Validation(v) => v.into(),
            RegistryError::Store(s) => s.into(),
            RegistryError::Forbidden(what) => ApiError::forbidden(format!(
                "your role, key or territories do not allow this ({what})"
            )),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("/problems/{}", self.code),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_string(),
            errors: self.errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        if self.challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Sanad\", charset=\"UTF-8\""),
            );
        }
        response
    }
}
