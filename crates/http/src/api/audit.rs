//! The audit trail for auditors: the access log (who read which record, when, why) and the chained
//! audit events.

use axum::extract::State;
use sanad_app::store::{AccessEntry, AccessLogQuery};
use sanad_domain::audit::AuditEvent;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Query;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessLogParams {
    /// Only reads by this account.
    pub actor: Option<String>,
    /// Only reads of this record (a registry id).
    pub entity_id: Option<String>,
    /// The last entry id of the previous page.
    pub after: Option<i64>,
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessLogPage {
    pub items: Vec<AccessEntry>,
    pub next_after: Option<i64>,
}

/// Who read which record, when and for what purpose.
#[utoipa::path(get, path = "/api/v1/access-log", tag = "audit", params(AccessLogParams),
    responses((status = 200, body = AccessLogPage), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn access_log(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(params): Query<AccessLogParams>,
) -> Result<axum::Json<AccessLogPage>, ApiError> {
    let limit = super::page_limit(params.limit, 100)?;
    let items = state
        .registry
        .access_log(
            &actor,
            AccessLogQuery {
                actor: params.actor,
                entity_id: params.entity_id,
                after: params.after.unwrap_or(0),
                limit,
            },
        )
        .await?;
    let next_after = (items.len() as u32 == limit)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    Ok(axum::Json(AccessLogPage { items, next_after }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Events after this sequence number.
    pub after: Option<i64>,
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Audit events in chain order, each with its hash and the previous event's hash.
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", params(EventParams),
    responses((status = 200, body = Vec<AuditEvent>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn events(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(params): Query<EventParams>,
) -> Result<axum::Json<Vec<AuditEvent>>, ApiError> {
    let events = state
        .registry
        .audit_events(
            &actor,
            params.after.unwrap_or(0),
            super::page_limit(params.limit, 100)?,
        )
        .await?;
    Ok(axum::Json(events))
}
