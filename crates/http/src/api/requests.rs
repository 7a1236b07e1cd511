//! E-service requests and complaints: submit, read, move along the workflow, the caller's queue,
//! follow-up by reference and secret, and the bottleneck report.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use sanad_app::requests::{PublicStatus, Requests, ServiceRequest, StepVisit, SubmitRequest};
use sanad_domain::HouseholdId;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::households::not_found;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Query};

fn service(state: &AppState) -> Result<&Requests, ApiError> {
    state.requests.as_ref().ok_or_else(ApiError::unavailable)
}

/// A request id: a whole number (anything else is 422); none is 0 or below (404).
fn number_id(text: &str) -> Result<i64, ApiError> {
    let n: i64 = text
        .parse()
        .map_err(|_| ApiError::bad_field("id", "format", "a whole number"))?;
    if n <= 0 {
        return Err(ApiError::not_found("request"));
    }
    Ok(n)
}

/// The request types Sanad offers.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    ProgrammeApplication,
    HouseholdChange,
    DisabilityCard,
    RegistrationAttestation,
    Complaint,
}

impl RequestKind {
    fn code(self) -> &'static str {
        match self {
            RequestKind::ProgrammeApplication => "programme_application",
            RequestKind::HouseholdChange => "household_change",
            RequestKind::DisabilityCard => "disability_card",
            RequestKind::RegistrationAttestation => "registration_attestation",
            RequestKind::Complaint => "complaint",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrievanceKind {
    Complaint,
    Suggestion,
    Observation,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Centre,
    Phone,
}

/// A request filed through the API (documents are given on the web window's forms).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SubmitBody {
    pub kind: RequestKind,
    /// The household it is for (a citizen names their own).
    pub household_id: HouseholdId,
    /// A programme application: the programme's code.
    pub programme: Option<String>,
    /// A complaint: what kind of grievance, and its category (see the complaint rules).
    pub grievance: Option<GrievanceKind>,
    /// A complaint's category, one of the complaint rules' (`payment`, `against_agent` …;
    /// default `other`).
    pub category: Option<String>,
    pub channel: Option<Channel>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub details: String,
    /// An agent filing for a citizen: the citizen agreed.
    #[serde(default)]
    pub consent: bool,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmittedBody {
    pub request: ServiceRequest,
    /// The follow-up secret: given once, to pass on to the citizen; Sanad keeps only a digest.
    pub secret: String,
}

/// Files a request or a complaint.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = SubmitBody,
    responses(
        (status = 201, body = SubmittedBody, headers(("Location" = String, description = "The request's URL"))),
        (status = 404, description = "No such household in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn submit(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<SubmitBody>,
) -> Result<impl IntoResponse, ApiError> {
    let submitted = service(&state)?
        .submit(
            &actor,
            SubmitRequest {
                kind: body.kind.code().to_string(),
                household_id: Some(body.household_id),
                programme: body.programme,
                grievance: body.grievance.map(|g| {
                    match g {
                        GrievanceKind::Complaint => "complaint",
                        GrievanceKind::Suggestion => "suggestion",
                        GrievanceKind::Observation => "observation",
                    }
                    .to_string()
                }),
                category: body.category,
                channel: body.channel.map(|c| {
                    match c {
                        Channel::Web => "web",
                        Channel::Centre => "centre",
                        Channel::Phone => "phone",
                    }
                    .to_string()
                }),
                details: body.details,
                documents: Vec::new(),
                consent: body.consent,
                lang: None,
            },
            &body.reason,
        )
        .await
        .map_err(|e| match e {
            // Filing for a citizen without their agreement is not allowed, whatever the form.
            sanad_app::registry::RegistryError::Validation(v)
                if v.0.iter().any(|f| f.field == "consent") =>
            {
                ApiError::forbidden("filing for a citizen needs their consent (`consent`: true)")
            }
            other => not_found("household or programme")(other),
        })?;
    let location = HeaderValue::from_str(&format!("/api/v1/requests/{}", submitted.request.id))
        .unwrap_or(HeaderValue::from_static("/api/v1/requests"));
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(SubmittedBody {
            request: submitted.request,
            secret: submitted.secret,
        }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// Only this request type.
    pub kind: Option<RequestKind>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RequestPage {
    pub items: Vec<ServiceRequest>,
}

/// The caller's queue: open requests of their territories waiting for their role, the most urgent
/// first.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(QueueParams),
    responses((status = 200, body = RequestPage), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn queue(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(params): Query<QueueParams>,
) -> Result<axum::Json<RequestPage>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_field(
            "limit",
            "out_of_range",
            "a page size from 1 to 500",
        ));
    }
    let kinds: Vec<String> = params
        .kind
        .map(|k| k.code().to_string())
        .into_iter()
        .collect();
    let items = service(&state)?.queue(&actor, &kinds, limit).await?;
    Ok(axum::Json(RequestPage { items }))
}

/// A request, with its documents and rating.
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = ServiceRequest), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ServiceRequest>, ApiError> {
    let id = number_id(&id)?;
    Ok(axum::Json(
        service(&state)?
            .request(&actor, id)
            .await
            .map_err(not_found("request"))?,
    ))
}

/// Every step the request entered: who moved it, why, when it was due and when it left.
#[utoipa::path(get, path = "/api/v1/requests/{id}/history", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = [StepVisit]), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn history(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<StepVisit>>, ApiError> {
    let id = number_id(&id)?;
    Ok(axum::Json(
        service(&state)?
            .history(&actor, id)
            .await
            .map_err(not_found("request"))?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActBody {
    /// One of the actions of the request's step (see its type's workflow).
    #[schema(min_length = 1, max_length = 64)]
    pub action: String,
    /// The request's version as read: a request moved since is a 409.
    #[serde(deserialize_with = "crate::api::dto::whole")]
    #[schema(minimum = 1)]
    pub version: u32,
    /// Required by some actions (a refusal, a request for documents, an answer to a complaint).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: String,
    /// Granting a disability card: the member it is for.
    pub person_id: Option<sanad_domain::PersonId>,
    /// Granting a disability card: the degree the committee gave.
    pub degree: Option<Degree>,
}

/// The degree of a disability as the assessment committee states it.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Degree {
    Mild,
    Moderate,
    Severe,
    Profound,
}

/// Moves a request by one of its step's actions.
#[utoipa::path(post, path = "/api/v1/requests/{id}/actions", tag = "requests",
    params(("id" = i64, Path, description = "Request id")), request_body = ActBody,
    responses((status = 200, body = ServiceRequest), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Moved since it was read, or the action is not possible at this step for this role", body = Problem, content_type = "application/problem+json")))]
pub async fn act(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<ActBody>,
) -> Result<axum::Json<ServiceRequest>, ApiError> {
    let id = number_id(&id)?;
    Ok(axum::Json(
        service(&state)?
            .act_issuing(
                &actor,
                id,
                body.version,
                &body.action,
                &body.reason,
                Vec::new(),
                &sanad_app::certificates::IssueFacts {
                    person_id: body.person_id,
                    degree: body.degree.map(|d| match d {
                        Degree::Mild => sanad_certificates::DisabilityDegree::Mild,
                        Degree::Moderate => sanad_certificates::DisabilityDegree::Moderate,
                        Degree::Severe => sanad_certificates::DisabilityDegree::Severe,
                        Degree::Profound => sanad_certificates::DisabilityDegree::Profound,
                    }),
                },
            )
            .await
            .map_err(not_found("request"))?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FollowBody {
    /// `SR-2026-0000123-4` or `GR-…`.
    #[schema(pattern = "^(SR|GR)-[0-9]{4}-[0-9]{7}-[0-9]$")]
    pub reference: String,
    /// The 6-character code given with the reference (any case).
    #[schema(pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{6}$")]
    pub secret: String,
    /// `ar`, `fr` (default) or `en`: the language of the step's name.
    pub lang: Option<String>,
}

/// Where a request stands, by its reference and secret (nothing personal in the answer; a wrong
/// secret answers as an unknown reference).
#[utoipa::path(post, path = "/api/v1/requests/follow", tag = "requests", request_body = FollowBody,
    responses((status = 200, body = PublicStatus), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn follow(
    State(state): State<AppState>,
    Caller(_actor): Caller,
    Json(body): Json<FollowBody>,
) -> Result<axum::Json<PublicStatus>, ApiError> {
    let lang = match body.lang.as_deref() {
        Some("ar") => sanad_workflow::Lang::Ar,
        Some("en") => sanad_workflow::Lang::En,
        _ => sanad_workflow::Lang::Fr,
    };
    // A reference of the right shape with a wrong check digit names no request, like an
    // unknown one (the page says which digit to check).
    let shaped = body.reference.len() == 17 && body.reference.as_bytes().get(2) == Some(&b'-');
    match service(&state)?
        .follow(&body.reference, &body.secret, lang)
        .await
    {
        Ok(status) => Ok(axum::Json(status)),
        Err(sanad_app::registry::RegistryError::Validation(_)) if shaped => {
            Err(ApiError::not_found("request"))
        }
        Err(e) => Err(not_found("request")(e)),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BottleneckParams {
    /// A region, province or commune code inside the caller's territories (default: all of them).
    pub territory: Option<String>,
    /// Only this request type.
    pub kind: Option<RequestKind>,
}

/// Time spent per step, per centre and per territory (median, p90), deadlines missed, and the
/// step where most requests wait now.
#[utoipa::path(get, path = "/api/v1/requests/bottlenecks", tag = "requests", params(BottleneckParams),
    responses((status = 200, body = sanad_workflow::Report), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn bottlenecks(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(params): Query<BottleneckParams>,
) -> Result<axum::Json<sanad_workflow::Report>, ApiError> {
    if let Some(code) = &params.territory
        && sanad_domain::Territories::morocco().get(code).is_none()
    {
        return Err(ApiError::bad_field(
            "territory",
            "unknown_territory",
            "the HCP code of a region, province or commune",
        ));
    }
    let kinds: Vec<String> = params
        .kind
        .map(|k| k.code().to_string())
        .into_iter()
        .collect();
    Ok(axum::Json(
        service(&state)?
            .bottlenecks(&actor, params.territory.as_deref(), &kinds)
            .await?,
    ))
}
