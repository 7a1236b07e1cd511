//! Territories: Morocco's regions, provinces and communes, and the registry's counts per region.

use axum::extract::{Path, State};
use sanad_app::store::RegionCount;
use sanad_domain::{Territories, Territory, TerritoryLevel};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Query;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TerritoryParams {
    /// `region`, `province` or `commune`.
    pub level: Option<TerritoryLevel>,
    /// Only the children of this territory.
    pub parent: Option<String>,
}

/// Territories, filtered by level and parent.
#[utoipa::path(get, path = "/api/v1/territories", tag = "territories",
    params(TerritoryParams),
    responses((status = 200, body = Vec<Territory>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    Caller(_caller): Caller,
    Query(params): Query<TerritoryParams>,
) -> Result<axum::Json<Vec<Territory>>, ApiError> {
    let all = Territories::morocco();
    if let Some(parent) = &params.parent
        && all.get(parent).is_none()
    {
        return Err(ApiError::bad_field(
            "parent",
            "unknown_territory",
            "the code of a region or province",
        ));
    }
    let items = all
        .all()
        .filter(|t| params.level.is_none_or(|l| t.level == l))
        .filter(|t| {
            params
                .parent
                .as_deref()
                .is_none_or(|p| t.parent_code.as_deref() == Some(p))
        })
        .cloned()
        .collect();
    Ok(axum::Json(items))
}

/// One territory.
#[utoipa::path(get, path = "/api/v1/territories/{code}", tag = "territories",
    params(("code" = String, Path, description = "HCP code")),
    responses((status = 200, body = Territory), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    Caller(_caller): Caller,
    Path(code): Path<String>,
) -> Result<axum::Json<Territory>, ApiError> {
    Territories::morocco()
        .get(&code)
        .cloned()
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("territory"))
}

/// Households and persons registered per region.
#[utoipa::path(get, path = "/api/v1/stats/regions", tag = "territories",
    responses((status = 200, body = Vec<RegionCount>)))]
pub async fn region_counts(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<axum::Json<Vec<RegionCount>>, ApiError> {
    Ok(axum::Json(state.registry.region_counts(&actor).await?))
}
