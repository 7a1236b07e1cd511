//! Deduplication review: the queue of candidate pairs, decisions, merges and their undoing.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use sanad_app::store::{DuplicatePair, PairStatus, PersonMerge};
use sanad_domain::PersonId;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::households::not_found;
use crate::auth::{Caller, purpose};
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Query};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairParams {
    /// `pending` (default), `accepted` or `rejected`.
    pub status: Option<PairStatus>,
    /// The last pair id of the previous page.
    pub after: Option<i64>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PairPage {
    pub items: Vec<ReviewPair>,
    pub next_after: Option<i64>,
}

/// A pair in the review queue, with the weights behind its probability (the waterfall of
/// `sanad dedup --explain`): what the reviewer weighs, field by field.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewPair {
    #[serde(flatten)]
    pub pair: DuplicatePair,
    pub weights: sanad_app::duplicates::WeightBreakdown,
}

impl From<DuplicatePair> for ReviewPair {
    fn from(pair: DuplicatePair) -> Self {
        let weights = sanad_app::duplicates::weight_breakdown(pair.probability, &pair.explanation);
        ReviewPair { pair, weights }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Decision {
    /// `accepted` (the same person) or `rejected` (two persons).
    pub decision: PairStatus,
    #[serde(default)]
    pub reason: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MergeRequest {
    /// The person record that stays.
    pub into: PersonId,
    #[serde(default)]
    pub reason: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UndoRequest {
    #[serde(default)]
    pub reason: String,
}

fn number_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_field("id", "format", "a whole number"))
}

/// Candidate duplicate pairs, in id order.
#[utoipa::path(get, path = "/api/v1/duplicates", tag = "duplicates", params(PairParams),
    responses((status = 200, body = PairPage), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Query(params): Query<PairParams>,
) -> Result<axum::Json<PairPage>, ApiError> {
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
        .duplicate_pairs(
            &actor,
            Some(params.status.unwrap_or(PairStatus::Pending)),
            params.after.unwrap_or(0),
            limit,
            &purpose(&headers),
        )
        .await?;
    let next_after = (items.len() as u32 == limit)
        .then(|| items.last().map(|p| p.id))
        .flatten();
    let items = items.into_iter().map(ReviewPair::from).collect();
    Ok(axum::Json(PairPage { items, next_after }))
}

/// Accepts or rejects a pending pair.
#[utoipa::path(post, path = "/api/v1/duplicates/{id}/decision", tag = "duplicates",
    params(("id" = i64, Path, description = "Pair id")), request_body = Decision,
    responses((status = 200, body = DuplicatePair), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json")))]
pub async fn decide(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<Decision>,
) -> Result<axum::Json<DuplicatePair>, ApiError> {
    let id = number_id(&id)?;
    if body.decision == PairStatus::Pending {
        return Err(ApiError::bad_field(
            "decision",
            "invalid",
            "accepted or rejected",
        ));
    }
    let pair = state
        .registry
        .decide_duplicate_pair(&actor, id, body.decision, &body.reason)
        .await
        .map_err(not_found("duplicate pair"))?;
    Ok(axum::Json(pair))
}

/// Merges this person into another record of the same human being: this record leaves its
/// household and points to the kept one. Undo with `/merges/{id}/undo`.
#[utoipa::path(post, path = "/api/v1/persons/{id}/merge", tag = "duplicates",
    params(("id" = PersonId, Path, description = "Registry id of the record merged away")), request_body = MergeRequest,
    responses((status = 200, body = PersonMerge), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn merge(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<MergeRequest>,
) -> Result<axum::Json<PersonMerge>, ApiError> {
    let merged = PersonId::parse(&id)
        .map_err(|e| ApiError::bad_field("id", "registry_id", e.to_string()))?;
    let merge = state
        .registry
        .merge_persons(&actor, merged, body.into, &body.reason)
        .await
        .map_err(not_found("person"))?;
    Ok(axum::Json(merge))
}

/// Undoes a merge.
#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", tag = "duplicates",
    params(("id" = i64, Path, description = "Merge id")), request_body = UndoRequest,
    responses((status = 200, body = PersonMerge), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn undo(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<UndoRequest>,
) -> Result<axum::Json<PersonMerge>, ApiError> {
    let id = number_id(&id)?;
    let merge = state
        .registry
        .undo_merge(&actor, id, &body.reason)
        .await
        .map_err(not_found("merge"))?;
    Ok(axum::Json(merge))
}
