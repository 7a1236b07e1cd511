//! Issued documents: a household's cards and attestations, their PDF, revocation, and the public
//! verification (by number and code, or by the PDF itself) that answers valid, revoked or forged.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine as _;
use sanad_app::certificates::{
    Certificates, IssueRequest, IssuedCertificate, PublicVerdict, RevocationReason,
};
use sanad_certificates::Kind;
use sanad_domain::{HouseholdId, PersonId};
use serde::Deserialize;

use crate::AppState;
use crate::api::households::{not_found, parse_household_id};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Query};

pub(crate) fn service(state: &AppState) -> Result<&Certificates, ApiError> {
    state
        .certificates
        .as_ref()
        .ok_or_else(ApiError::unavailable)
}

/// The documents Sanad issues on demand.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnDemandKind {
    RegistrationAttestation,
    EligibilityAttestation,
    AmoTadamonCard,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct IssueBody {
    pub kind: OnDemandKind,
    /// An eligibility attestation: the programme's code.
    pub programme: Option<String>,
    /// An AMO-Tadamon card: the member (default: the head of the household).
    pub person_id: Option<PersonId>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Issues an attestation or a card for a household (an agent at the centre, or the citizen for
/// their own): what it states is read from the registry and targeting now.
#[utoipa::path(post, path = "/api/v1/households/{id}/certificates", tag = "certificates",
    params(("id" = HouseholdId, Path, description = "Household registry id")), request_body = IssueBody,
    responses(
        (status = 201, body = IssuedCertificate, headers(("Location" = String, description = "The document's URL"))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The household does not meet the programme's conditions, or the member is not covered", body = Problem, content_type = "application/problem+json")))]
pub async fn issue(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<IssueBody>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_household_id(&id)?;
    let kind = match body.kind {
        OnDemandKind::RegistrationAttestation => Kind::RegistrationAttestation,
        OnDemandKind::EligibilityAttestation => Kind::EligibilityAttestation,
        OnDemandKind::AmoTadamonCard => Kind::AmoTadamonCard,
    };
    let issued = service(&state)?
        .issue(
            &actor,
            id,
            IssueRequest {
                kind,
                programme: body.programme,
                person_id: body.person_id,
            },
            &body.reason,
        )
        .await
        .map_err(not_found("household, programme or member"))?;
    let location = HeaderValue::from_str(&format!("/api/v1/certificates/{}", issued.id))
        .unwrap_or(HeaderValue::from_static("/api/v1/certificates"));
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(issued),
    ))
}

/// The documents issued to a household, newest first.
#[utoipa::path(get, path = "/api/v1/households/{id}/certificates", tag = "certificates",
    params(("id" = HouseholdId, Path, description = "Household registry id")),
    responses((status = 200, body = [IssuedCertificate]), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn of_household(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<IssuedCertificate>>, ApiError> {
    let id = parse_household_id(&id)?;
    Ok(axum::Json(
        service(&state)?
            .of_household(&actor, id)
            .await
            .map_err(not_found("household"))?,
    ))
}

/// A document's record: what it is, whose, when, and its revocation if any.
#[utoipa::path(get, path = "/api/v1/certificates/{id}", tag = "certificates",
    params(("id" = String, Path, description = "Document number, such as CT-2026-0000001-7")),
    responses((status = 200, body = IssuedCertificate), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<IssuedCertificate>, ApiError> {
    Ok(axum::Json(
        service(&state)?
            .get(&actor, &id)
            .await
            .map_err(not_found("document"))?,
    ))
}

/// The document as a signed PDF (Arabic and French), the same bytes at every download.
#[utoipa::path(get, path = "/api/v1/certificates/{id}/pdf", tag = "certificates",
    params(("id" = String, Path, description = "Document number")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn pdf(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let (c, bytes) = service(&state)?
        .pdf(&actor, &id)
        .await
        .map_err(not_found("document"))?;
    Ok(pdf_response(&c.id, bytes))
}

pub(crate) fn pdf_response(id: &str, bytes: Vec<u8>) -> impl IntoResponse + use<> {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.pdf\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RevokeBody {
    pub reason: RevocationReason,
    /// Why, in a few words (kept for staff, never shown on the public page).
    #[schema(min_length = 1, max_length = 500)]
    pub note: String,
}

/// Revokes a document: the public verification answers "revoked" from now on.
#[utoipa::path(post, path = "/api/v1/certificates/{id}/revocation", tag = "certificates",
    params(("id" = String, Path, description = "Document number")), request_body = RevokeBody,
    responses((status = 200, body = IssuedCertificate), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Revoked already", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<RevokeBody>,
) -> Result<axum::Json<IssuedCertificate>, ApiError> {
    Ok(axum::Json(
        service(&state)?
            .revoke(&actor, &id, body.reason, &body.note)
            .await
            .map_err(not_found("document"))?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodeParams {
    /// The verification code printed on the document (any case, dashes and spaces ignored).
    pub code: String,
}

/// Checks a document by its number and the code printed on it. Open to anyone (no credential):
/// the answer shows no more than the document itself.
#[utoipa::path(get, path = "/api/v1/certificates/{id}/verification", tag = "certificates",
    params(("id" = String, Path, description = "Document number"), CodeParams),
    responses((status = 200, body = PublicVerdict)))]
pub async fn verify_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<CodeParams>,
) -> Result<axum::Json<PublicVerdict>, ApiError> {
    Ok(axum::Json(
        service(&state)?.verify_code(&id, &params.code).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyFileBody {
    /// The PDF, base64 (text that is not base64 is answered as a forged document).
    pub content_base64: String,
}

/// Checks a PDF file: signed by one of the published keys, exactly as issued, and not revoked.
/// Open to anyone (no credential).
#[utoipa::path(post, path = "/api/v1/certificates/verification", tag = "certificates",
    request_body = VerifyFileBody, responses((status = 200, body = PublicVerdict)))]
pub async fn verify_file(
    State(state): State<AppState>,
    Json(body): Json<VerifyFileBody>,
) -> Result<axum::Json<PublicVerdict>, ApiError> {
    let svc = service(&state)?;
    // Text that is not base64 is no PDF, let alone a genuine one.
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(body.content_base64.trim())
    else {
        return Ok(axum::Json(svc.verify_file(b"").await?));
    };
    Ok(axum::Json(svc.verify_file(&bytes).await?))
}

/// The public keys that verify Sanad's documents, current and retired (served at
/// `/.well-known/sanad-certificate-keys.json`).
pub async fn published_keys(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let json = service(&state)?.published_keys().to_json();
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        json,
    ))
}
