//! Cycles and payments: how a household is paid, cycles computed by one manager and approved by
//! another, the payment files for providers and their answers, and AMO-Tadamon adhesions.
//! Managers prepare and approve; auditors and supervisors read; agents see the payments of their
//! territory; a citizen sees their own household's.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine as _;
use sanad_app::payments::files::{BatchFormat, Payer, check_means};
use sanad_app::payments::service::{
    AdhesionAnswerOutcome, CycleOutcome, CyclePreview, Payments, ReconcileOutcome,
};
use sanad_app::payments::{
    AdhesionBatch, Batch, Cycle, Entitlement, EntitlementFilter, Payment, PaymentFilter,
    PaymentState,
};
use sanad_domain::HouseholdId;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::households::{not_found, parse_household_id};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Query};

fn payments(state: &AppState) -> Result<&Payments, ApiError> {
    state
        .payments
        .as_ref()
        .ok_or_else(|| ApiError::unavailable().detail("payments are not configured on this server"))
}

/// A household's means of payment: `{"kind": "bank", "rib": "…", "holder": "…"}`,
/// `{"kind": "wallet", "phone": "+212…", "provider": "…", "holder": "…"}` or
/// `{"kind": "cash", "agency": "…", "holder": "…"}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetMeans {
    #[schema(value_type = Object)]
    pub means: serde_json::Value,
    pub reason: String,
}

/// How a household is paid (the account number is shown to managers only).
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeansView {
    pub household_id: HouseholdId,
    /// `bank`, `wallet` or `cash`.
    pub kind: String,
    pub holder: String,
    /// The means in full, for managers; none for other roles.
    #[schema(value_type = Option<Object>)]
    pub means: Option<serde_json::Value>,
    pub updated_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: time::OffsetDateTime,
}

/// Records how a household is paid. A RIB whose key is wrong, a phone not in E.164 form or an
/// empty name is refused with the field.
#[utoipa::path(put, path = "/api/v1/households/{id}/payment-means", tag = "payments",
    params(("id" = HouseholdId, Path, description = "Household registry id")),
    request_body = SetMeans,
    responses((status = 204, description = "Recorded"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_means(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<SetMeans>,
) -> Result<StatusCode, ApiError> {
    let id = parse_household_id(&id)?;
    let mut means = body.means;
    if let Some(m) = means.as_object_mut()
        && m.get("kind").and_then(|k| k.as_str()) == Some("cash")
        && !m.contains_key("reference")
    {
        // The pick-up code is drawn for each payment.
        m.insert("reference".into(), "per-payment".into());
    }
    let means = check_means(&means.to_string())?;
    payments(&state)?
        .set_means_checked(&actor, id, &means, &body.reason)
        .await
        .map_err(not_found("household"))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/households/{id}/payment-means", tag = "payments",
    params(("id" = HouseholdId, Path, description = "Household registry id")),
    responses((status = 200, body = MeansView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn get_means(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<MeansView>, ApiError> {
    let id = parse_household_id(&id)?;
    let m = payments(&state)?
        .means(&actor, id)
        .await
        .map_err(not_found("household"))?
        .ok_or_else(|| ApiError::not_found("payment means"))?;
    let full = sanad_app::policy::allows(&actor, sanad_app::policy::Permission::ManagePayments);
    Ok(axum::Json(MeansView {
        household_id: m.household_id,
        kind: m.kind,
        holder: m.holder,
        means: if full {
            serde_json::from_str(&m.details).ok()
        } else {
            None
        },
        updated_by: m.updated_by,
        updated_at: m.updated_at,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PrepareCycle {
    /// The programme paid (it must pay cash).
    pub programme: String,
    /// The month, `YYYY-MM`.
    pub period: String,
    /// The most the cycle may pay, in centimes (default: the programme's cap, if any).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub budget_cap: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

/// Computes the entitlement of every enrolled beneficiary for the month, from the programme's
/// rules and amounts on its first day and each household's recorded index. A cycle over its cap
/// is refused (409, with the excess) before anything is written; the same call resumes a cycle
/// interrupted while it was written.
#[utoipa::path(post, path = "/api/v1/cycles", tag = "payments", request_body = PrepareCycle,
    responses((status = 201, body = CycleOutcome), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn prepare_cycle(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<PrepareCycle>,
) -> Result<impl IntoResponse, ApiError> {
    let out = payments(&state)?
        .prepare_cycle(
            &actor,
            &body.programme,
            &body.period,
            body.budget_cap,
            &body.reason,
            &sanad_app::store::NoProgress,
        )
        .await
        .map_err(not_found("programme"))?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PreviewCycle {
    pub programme: String,
    /// The month, `YYYY-MM`.
    pub period: String,
}

/// What a cycle would pay (entitlements, total, who is left out and why), writing nothing.
#[utoipa::path(post, path = "/api/v1/cycles/preview", tag = "payments", request_body = PreviewCycle,
    responses((status = 200, body = CyclePreview), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn preview_cycle(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<PreviewCycle>,
) -> Result<axum::Json<CyclePreview>, ApiError> {
    Ok(axum::Json(
        payments(&state)?
            .preview_cycle(
                &actor,
                &body.programme,
                &body.period,
                &sanad_app::store::NoProgress,
            )
            .await
            .map_err(not_found("programme"))?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CycleParams {
    /// Only this programme's cycles.
    pub programme: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/cycles", tag = "payments", params(CycleParams),
    responses((status = 200, body = Vec<Cycle>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn cycles(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(params): Query<CycleParams>,
) -> Result<axum::Json<Vec<Cycle>>, ApiError> {
    Ok(axum::Json(
        payments(&state)?
            .cycles(&actor, params.programme.as_deref())
            .await?,
    ))
}

/// A page cursor `H<11 digits>[/P<11 digits>]` as a position: only the serials order the rows, so
/// a cursor is not checked like an id (its check digit is ignored); serial 0 is the start.
fn position(text: &str) -> Result<Option<(HouseholdId, Option<sanad_domain::PersonId>)>, ApiError> {
    let bad = || {
        ApiError::bad_field(
            "after",
            "cursor",
            "`next_after` of a page: H and 11 digits, optionally /P and 11 digits",
        )
    };
    let serial = |part: &str, prefix: char| -> Result<u64, ApiError> {
        let digits = part.strip_prefix(prefix).ok_or_else(bad)?;
        if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        digits[..10].parse().map_err(|_| bad())
    };
    let (h, p) = match text.split_once('/') {
        Some((h, p)) => (serial(h, 'H')?, Some(serial(p, 'P')?)),
        None => (serial(text, 'H')?, None),
    };
    let Some(household) = HouseholdId::from_serial(h) else {
        return Ok(None);
    };
    Ok(Some((
        household,
        p.and_then(sanad_domain::PersonId::from_serial),
    )))
}

fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_field("limit", "range", "from 1 to 1000")),
    }
}

fn cycle_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ApiError::bad_field("id", "format", "a whole number from 1"))
}

/// A cycle with its batches.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CycleView {
    pub cycle: Cycle,
    pub batches: Vec<Batch>,
}

#[utoipa::path(get, path = "/api/v1/cycles/{id}", tag = "payments",
    params(("id" = i64, Path, description = "Cycle id", minimum = 1)),
    responses((status = 200, body = CycleView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn cycle(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<CycleView>, ApiError> {
    let id = cycle_id(&id)?;
    let p = payments(&state)?;
    let cycle = p.cycle(&actor, id).await.map_err(not_found("cycle"))?;
    let batches = p.batches(&actor, id).await?;
    Ok(axum::Json(CycleView { cycle, batches }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Reason {
    #[serde(default)]
    pub reason: String,
}

/// A second manager approves a computed cycle; the manager who prepared it is refused (409).
#[utoipa::path(post, path = "/api/v1/cycles/{id}/approve", tag = "payments",
    params(("id" = i64, Path, description = "Cycle id", minimum = 1)), request_body = Reason,
    responses((status = 200, body = Cycle), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn approve_cycle(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<Reason>,
) -> Result<axum::Json<Cycle>, ApiError> {
    let id = cycle_id(&id)?;
    Ok(axum::Json(
        payments(&state)?
            .approve_cycle(&actor, id, &body.reason)
            .await
            .map_err(not_found("cycle"))?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CancelCycle {
    pub reason: String,
}

/// Stops a cycle that is not approved (a reason is required).
#[utoipa::path(post, path = "/api/v1/cycles/{id}/cancel", tag = "payments",
    params(("id" = i64, Path, description = "Cycle id", minimum = 1)), request_body = CancelCycle,
    responses((status = 200, body = Cycle), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn cancel_cycle(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<CancelCycle>,
) -> Result<axum::Json<Cycle>, ApiError> {
    let id = cycle_id(&id)?;
    Ok(axum::Json(
        payments(&state)?
            .cancel_cycle(&actor, id, &body.reason)
            .await
            .map_err(not_found("cycle"))?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntitlementParams {
    /// One household's entitlements (required for an account limited to territories).
    pub household_id: Option<HouseholdId>,
    /// Resume after this entitlement (`next_after` of the previous page: `household[/person]`).
    pub after: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EntitlementPage {
    pub items: Vec<Entitlement>,
    pub next_after: Option<String>,
}

/// A cycle's entitlements, each with the household version and index it was computed from.
#[utoipa::path(get, path = "/api/v1/cycles/{id}/entitlements", tag = "payments",
    params(("id" = i64, Path, description = "Cycle id", minimum = 1), EntitlementParams),
    responses((status = 200, body = EntitlementPage), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn entitlements(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Query(params): Query<EntitlementParams>,
) -> Result<axum::Json<EntitlementPage>, ApiError> {
    let id = cycle_id(&id)?;
    let limit = page_limit(params.limit)?;
    let items = payments(&state)?
        .entitlements(
            &actor,
            EntitlementFilter {
                cycle_id: id,
                household_id: params.household_id,
                after: params.after.as_deref().map(position).transpose()?.flatten(),
                limit,
            },
        )
        .await
        .map_err(not_found("household"))?;
    let next_after = (items.len() as u32 == limit)
        .then(|| {
            items.last().map(|e| match e.person_id {
                Some(p) => format!("{}/{p}", e.household_id),
                None => e.household_id.to_string(),
            })
        })
        .flatten();
    Ok(axum::Json(EntitlementPage { items, next_after }))
}

/// Puts what an approved cycle still owes into one batch per means kind (bank, wallet, cash), or
/// gives back the batches still open. An unapproved cycle answers 409.
#[utoipa::path(post, path = "/api/v1/cycles/{id}/batches", tag = "payments",
    params(("id" = i64, Path, description = "Cycle id", minimum = 1)), request_body = Reason,
    responses((status = 200, body = Vec<Batch>), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn open_batches(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Json(body): Json<Reason>,
) -> Result<axum::Json<Vec<Batch>>, ApiError> {
    let id = cycle_id(&id)?;
    Ok(axum::Json(
        payments(&state)?
            .open_batches(&actor, id, &body.reason)
            .await
            .map_err(not_found("cycle"))?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `pain001` (ISO 20022 pain.001.001.09, the default) or `csv`.
    #[param(inline)]
    pub format: Option<BatchFormat>,
}

/// The batch's file for the provider, recorded as handed over (its payments are then sent). The
/// same file every time: asking again gives the same bytes.
#[utoipa::path(post, path = "/api/v1/batches/{id}/export", tag = "payments",
    params(("id" = i64, Path, description = "Batch id", minimum = 1), ExportParams),
    responses((status = 200, description = "The file (pain.001 XML or CSV), as a download", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_batch(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Query(params): Query<ExportParams>,
) -> Result<impl IntoResponse, ApiError> {
    let id = cycle_id(&id)?;
    let format = params.format.unwrap_or(BatchFormat::Pain001);
    let p = payments(&state)?;
    let batch = p.batch(&actor, id).await.map_err(not_found("batch"))?;
    let (bytes, written) = p
        .write_batch(&actor, &batch, format, &Payer::default(), Vec::new())
        .await?;
    if batch.state == sanad_app::payments::BatchState::Open
        || batch.file_sha256.as_deref() == Some(written.sha256.as_str())
    {
        p.mark_exported(&actor, id, &written.sha256).await?;
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"batch-{id}-{}.{}\"",
                    batch.kind,
                    format.extension()
                ),
            ),
        ],
        bytes,
    ))
}

/// A provider's answer file, as text or base64 (one of the two); camt.054 when it starts with `<`,
/// CSV otherwise.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AnswerFile {
    #[serde(default)]
    pub file_name: String,
    #[serde(default, deserialize_with = "given")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "given")]
    pub content_base64: Option<String>,
}

/// A field that may be left out but, when given, is a string (never `null`).
fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// The insurer's answer file, as text or base64 (one of the two).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AdhesionAnswerFile {
    #[serde(default)]
    pub file_name: String,
    #[serde(default, deserialize_with = "given")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "given")]
    pub content_base64: Option<String>,
}

fn file_bytes(body: &AnswerFile) -> Result<Vec<u8>, ApiError> {
    if body.file_name.chars().count() > 255 {
        return Err(ApiError::bad_field(
            "file_name",
            "length",
            "at most 255 characters",
        ));
    }
    match (&body.content, &body.content_base64) {
        (Some(text), None) => Ok(text.as_bytes().to_vec()),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| ApiError::bad_field("content_base64", "format", "base64 text")),
        _ => Err(ApiError::bad_field(
            "content",
            "required",
            "the file, as `content` (text) or `content_base64`, not both",
        )),
    }
}

/// Reads a provider's answer: every line is checked (a known payment, its amount, an outcome that
/// fits) before anything is written; a bad line is named (422) and nothing changes. The same file
/// again does nothing (200 with `already_imported`).
#[utoipa::path(post, path = "/api/v1/reconciliations", tag = "payments", request_body = AnswerFile,
    responses((status = 200, body = ReconcileOutcome), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn reconcile(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<AnswerFile>,
) -> Result<axum::Json<ReconcileOutcome>, ApiError> {
    let bytes = file_bytes(&body)?;
    Ok(axum::Json(
        payments(&state)?
            .reconcile_file(&actor, &bytes, &body.file_name, None)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentParams {
    pub cycle_id: Option<i64>,
    pub household_id: Option<HouseholdId>,
    pub state: Option<PaymentState>,
    /// Resume after this payment id.
    pub after: Option<i64>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PaymentPage {
    pub items: Vec<Payment>,
    pub next_after: Option<i64>,
}

/// Payments the caller may see: of their territory, or their own household for a citizen.
#[utoipa::path(get, path = "/api/v1/payments", tag = "payments", params(PaymentParams),
    responses((status = 200, body = PaymentPage), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_payments(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(params): Query<PaymentParams>,
) -> Result<axum::Json<PaymentPage>, ApiError> {
    let limit = page_limit(params.limit)?;
    let items = payments(&state)?
        .payments(
            &actor,
            PaymentFilter {
                cycle_id: params.cycle_id,
                household_id: params.household_id,
                state: params.state,
                after: params.after,
                limit,
                ..Default::default()
            },
        )
        .await
        .map_err(not_found("household"))?;
    let next_after = (items.len() as u32 == limit)
        .then(|| items.last().map(|p| p.id))
        .flatten();
    Ok(axum::Json(PaymentPage { items, next_after }))
}

/// Puts every enrolled person of an insurance programme without a live adhesion into a file for
/// the insurer; 204 when everyone has one.
#[utoipa::path(post, path = "/api/v1/programmes/{code}/adhesion-batches", tag = "payments",
    params(("code" = String, Path, description = "Programme code")), request_body = Reason,
    responses((status = 200, body = AdhesionBatch), (status = 204, description = "Nothing to send"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn open_adhesions(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(code): Path<String>,
    Json(body): Json<Reason>,
) -> Result<axum::response::Response, ApiError> {
    let batch = payments(&state)?
        .open_adhesions(&actor, &code, &body.reason)
        .await
        .map_err(not_found("programme"))?;
    Ok(match batch {
        Some(b) => axum::Json(b).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// The adhesion file (CSV) for the insurer, recorded as sent.
#[utoipa::path(post, path = "/api/v1/programmes/{code}/adhesion-batches/{id}/export", tag = "payments",
    params(("code" = String, Path, description = "Programme code"), ("id" = i64, Path, description = "Adhesion batch id", minimum = 1)),
    responses((status = 200, description = "The file", content_type = "text/csv", body = String),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_adhesions(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((code, id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let id = cycle_id(&id)?;
    let p = payments(&state)?;
    let batch = p
        .adhesion_batches(&actor, &code)
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| ApiError::not_found("adhesion batch"))?;
    let (bytes, written) = p.write_adhesions(&actor, &batch, Vec::new()).await?;
    p.mark_adhesions_exported(&actor, id, &written.sha256)
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes))
}

/// Reads the insurer's answer (accepted with its number, or rejected with a reason): all lines or
/// none, exactly once.
#[utoipa::path(post, path = "/api/v1/adhesion-answers", tag = "payments", request_body = AdhesionAnswerFile,
    responses((status = 200, body = AdhesionAnswerOutcome), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn adhesion_answer(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<AdhesionAnswerFile>,
) -> Result<axum::Json<AdhesionAnswerOutcome>, ApiError> {
    let bytes = file_bytes(&AnswerFile {
        file_name: body.file_name.clone(),
        content: body.content,
        content_base64: body.content_base64,
    })?;
    Ok(axum::Json(
        payments(&state)?
            .adhesion_answer_file(&actor, &bytes, &body.file_name)
            .await?,
    ))
}
