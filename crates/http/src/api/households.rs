//! Households: register, read, update with an expected version, list by territory, version history.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use sanad_app::store::{HouseholdFilter, HouseholdSummary, HouseholdVersion};
use sanad_domain::{Household, HouseholdId, HouseholdInput};

use crate::api::dto::HouseholdBody;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, purpose};
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Query};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterHousehold {
    pub household: HouseholdBody,
    /// Why the household is registered (kept in its version history).
    #[serde(default)]
    pub reason: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UpdateHousehold {
    /// The version the change was made on; a different current version answers 409.
    #[serde(deserialize_with = "crate::api::dto::whole")]
    pub expected_version: u32,
    /// The whole new state; members left out leave the household.
    pub household: HouseholdBody,
    #[serde(default)]
    pub reason: String,
}

/// A registered household, with the registry's persons its new members may duplicate.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Registered {
    #[serde(flatten)]
    pub household: Household,
    /// Likely duplicates of the new members (also queued for review); empty when none.
    pub possible_duplicates: Vec<sanad_app::duplicates::PossibleDuplicate>,
    /// The household's index and each programme's decision, recorded with the registration
    /// (absent when targeting is not configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<sanad_app::targeting::service::AssessmentSummary>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HouseholdPage {
    pub items: Vec<HouseholdSummary>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<HouseholdId>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A region, province or commune code (`01`, `01.511`, `01.511.01.01`).
    pub territory: Option<String>,
    /// The last household id of the previous page.
    #[param(value_type = Option<HouseholdId>)]
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

pub(crate) fn parse_household_id(text: &str) -> Result<HouseholdId, ApiError> {
    HouseholdId::parse(text).map_err(|e| ApiError::bad_field("id", "registry_id", e.to_string()))
}

fn etag(h: &Household) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{}\"", h.version))
        .unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Registers a household and its members; the registry issues their identifiers.
#[utoipa::path(post, path = "/api/v1/households", tag = "households",
    request_body = RegisterHousehold,
    responses(
        (status = 201, description = "Registered", body = Registered, headers(
            ("Location" = String, description = "The household's URL"),
            ("ETag" = String, description = "The version, quoted: `\"1\"`"))),
        (status = 409, description = "A member is in another household, or a national id is used", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<RegisterHousehold>,
) -> Result<impl IntoResponse, ApiError> {
    let (h, possible_duplicates) = state
        .registry
        .register_household_checked(&actor, &HouseholdInput::from(body.household), &body.reason)
        .await?;
    let location = HeaderValue::from_str(&format!("/api/v1/households/{}", h.id))
        .unwrap_or(HeaderValue::from_static("/api/v1/households"));
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location), (header::ETAG, etag(&h))],
        axum::Json(Registered {
            assessment: state.targeting.as_ref().map(|t| t.summary(&h)),
            household: h,
            possible_duplicates,
        }),
    ))
}

/// A household with its members.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "households",
    params(("id" = HouseholdId, Path, description = "Household registry id")),
    responses((status = 200, body = Household, headers(("ETag" = String, description = "The version, quoted: `\"3\"`"))), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_household_id(&id)?;
    let h = state
        .registry
        .household(&actor, id, &purpose(&headers))
        .await
        .map_err(not_found("household"))?;
    Ok(([(header::ETAG, etag(&h))], axum::Json(h)))
}

/// Replaces a household's state if it is still at `expected_version`.
#[utoipa::path(put, path = "/api/v1/households/{id}", tag = "households",
    params(("id" = HouseholdId, Path, description = "Household registry id")),
    request_body = UpdateHousehold,
    responses(
        (status = 200, body = Household, headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The household changed since it was read, or a member conflicts", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<UpdateHousehold>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_household_id(&id)?;
    let h = state
        .registry
        .update_household(
            &actor,
            id,
            body.expected_version,
            &HouseholdInput::from(body.household),
            &body.reason,
        )
        .await
        .map_err(not_found("household"))?;
    Ok(([(header::ETAG, etag(&h))], axum::Json(h)))
}

/// Households in id order, optionally inside a territory; page with `after`.
#[utoipa::path(get, path = "/api/v1/households", tag = "households",
    params(ListParams),
    responses((status = 200, body = HouseholdPage), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<HouseholdPage>, ApiError> {
    let after = params
        .after
        .as_deref()
        .map(|a| {
            HouseholdId::parse(a)
                .map_err(|e| ApiError::bad_field("after", "registry_id", e.to_string()))
        })
        .transpose()?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=sanad_app::registry::MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_field(
            "limit",
            "out_of_range",
            "a page size from 1 to 500",
        ));
    }
    let items = state
        .registry
        .list_households(
            &actor,
            params.territory,
            HouseholdFilter {
                territories: Vec::new(),
                after,
                limit,
            },
            &purpose(&headers),
        )
        .await?;
    let next_after = (items.len() as u32 == limit)
        .then(|| items.last().map(|h| h.id))
        .flatten();
    Ok(axum::Json(HouseholdPage { items, next_after }))
}

/// Every version of a household: who changed it, when, why, and its state after the change.
#[utoipa::path(get, path = "/api/v1/households/{id}/versions", tag = "households",
    params(("id" = HouseholdId, Path, description = "Household registry id")),
    responses((status = 200, body = Vec<HouseholdVersion>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn versions(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<HouseholdVersion>>, ApiError> {
    let id = parse_household_id(&id)?;
    let versions = state
        .registry
        .household_history(&actor, id, &purpose(&headers))
        .await
        .map_err(not_found("household"))?;
    Ok(axum::Json(versions))
}

/// Names the missing thing in a 404.
pub(crate) fn not_found(
    what: &'static str,
) -> impl Fn(sanad_app::registry::RegistryError) -> ApiError {
    move |e| match e {
        sanad_app::registry::RegistryError::Store(sanad_app::StoreError::NotFound) => {
            ApiError::not_found(what)
        }
        other => other.into(),
    }
}
