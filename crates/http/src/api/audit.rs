//! The audit trail: the access log (who read which record, when, why) and the audit events for
//! auditors; inclusion and consistency proofs of the audit log (a citizen gets those of her own
//! household's changes) and its latest signed tree head.

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

/// Audit events in sequence order, each with its hash, its leaf index in the audit log once
/// integrated, and (for the events of the old hash chain) the previous event's hash.
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionParams {
    /// The event's sequence number.
    pub seq: Option<i64>,
    /// Or: the registration (or import) of this household. With neither, the newest event of the
    /// latest signed tree head.
    #[param(value_type = Option<sanad_domain::HouseholdId>)]
    pub household: Option<String>,
}

fn verifier_key(state: &AppState) -> Result<&str, ApiError> {
    state.audit_verifier_key.as_deref().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "audit_key_unavailable",
            "This server does not sign the audit log",
        )
    })
}

/// The inclusion proof of an audit event in the latest signed tree head, as a JSON bundle that
/// `sanad-tlog-verify` checks. Auditors and administrators: any event; a citizen: the changes of
/// their own household. An event not yet integrated (a few hundred milliseconds after its change)
/// is answered 409.
#[utoipa::path(get, path = "/api/v1/audit/proofs/inclusion", tag = "audit", params(InclusionParams),
    responses((status = 200, description = "an inclusion proof bundle (kind = inclusion)"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn inclusion(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(params): Query<InclusionParams>,
) -> Result<axum::Json<sanad_tlog::bundle::Bundle>, ApiError> {
    let target = match (params.seq, params.household) {
        (Some(seq), _) => sanad_app::audit::EventRef::Seq(seq),
        (None, Some(h)) => sanad_app::audit::EventRef::Registration(
            sanad_domain::HouseholdId::parse(&h).map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "bad_household_id",
                    "The household id is not valid",
                )
                .detail(format!("household: {e}"))
            })?,
        ),
        (None, None) => sanad_app::audit::EventRef::Latest,
    };
    let bundle = sanad_app::audit::prove_inclusion(
        state.registry.store().as_ref(),
        &actor,
        &target,
        verifier_key(&state)?,
    )
    .await?;
    Ok(axum::Json(sanad_tlog::bundle::Bundle::Inclusion(bundle)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyParams {
    /// The size of the older signed tree head.
    pub old: u64,
    /// The size of the newer one (default: the latest).
    pub new: Option<u64>,
}

/// The consistency proof between two signed tree heads (the log only grew), as a JSON bundle.
/// Auditors and administrators.
#[utoipa::path(get, path = "/api/v1/audit/proofs/consistency", tag = "audit", params(ConsistencyParams),
    responses((status = 200, description = "a consistency proof bundle (kind = consistency)"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn consistency(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(params): Query<ConsistencyParams>,
) -> Result<axum::Json<sanad_tlog::bundle::Bundle>, ApiError> {
    let bundle = sanad_app::audit::prove_consistency(
        state.registry.store().as_ref(),
        &actor,
        params.old,
        params.new,
        verifier_key(&state)?,
    )
    .await?;
    Ok(axum::Json(sanad_tlog::bundle::Bundle::Consistency(bundle)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LatestHead {
    pub head: Option<sanad_app::audit_log::TreeHead>,
    /// The key that signs the heads, `name+id+base64(0x01 ‖ key)`.
    pub verifier_key: Option<String>,
    /// Events committed but not yet in a signed head (the integrator folds them in within
    /// `integrate_ms`), and when the oldest of them was written.
    pub waiting: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest_waiting_at: Option<time::OffsetDateTime>,
}

/// The latest signed tree head of the audit log, the key that signs it, and how many events wait
/// for the integrator; for any signed-in caller (it names no record).
#[utoipa::path(get, path = "/api/v1/audit/tree-head", tag = "audit",
    responses((status = 200, body = LatestHead)))]
pub async fn tree_head(
    State(state): State<AppState>,
    Caller(_actor): Caller,
) -> Result<axum::Json<LatestHead>, ApiError> {
    let store = state.registry.store();
    let head = store.tree_head(None).await?;
    let pending = store.pending_events().await?;
    Ok(axum::Json(LatestHead {
        head,
        verifier_key: state.audit_verifier_key.clone(),
        waiting: pending.count,
        oldest_waiting_at: pending.oldest_at,
    }))
}
