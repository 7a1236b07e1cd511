//! Targeting: index models, programmes, a household's index and eligibility explained, and
//! enrolments. Managers define and activate; supervisors and auditors read; agents see their
//! territory; a citizen sees their own household.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use sanad_app::Targeting;
use sanad_app::targeting::service::{DryRun, HouseholdTargeting};
use sanad_app::targeting::{
    Enrolment, EnrolmentCount, EnrolmentEvent, EnrolmentFilter, EnrolmentState, ModelRecord,
};
use sanad_domain::{Amount, HouseholdId, Lang, PersonId};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::households::{not_found, parse_household_id};
use crate::auth::{Caller, purpose};
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Query};

fn targeting(state: &AppState) -> Result<&Targeting, ApiError> {
    state
        .targeting
        .as_ref()
        .ok_or_else(|| ApiError::unavailable().detail("targeting is not configured on this server"))
}

/// A language from the query, then from `Accept-Language`, French by default.
fn language(query: Option<Lang>, headers: &HeaderMap) -> Lang {
    if let Some(lang) = query {
        return lang;
    }
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|tag| Lang::parse(tag.split(';').next().unwrap_or("")))
        })
        .unwrap_or(Lang::Fr)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangParams {
    /// `fr`, `ar` or `en` (default: from `Accept-Language`, else French).
    pub lang: Option<Lang>,
}

/// A household's index, what raised or lowered it, and each programme's answer in plain words:
/// "you can receive it" or the condition that failed, with the amount and how it was made.
#[utoipa::path(get, path = "/api/v1/households/{id}/targeting", tag = "targeting",
    params(("id" = HouseholdId, Path, description = "Household registry id"), LangParams),
    responses((status = 200, body = HouseholdTargeting), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn household(
    State(state): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<LangParams>,
) -> Result<axum::Json<HouseholdTargeting>, ApiError> {
    let id = parse_household_id(&id)?;
    let lang = language(params.lang, &headers);
    let view = targeting(&state)?
        .household(&actor, id, lang, &purpose(&headers))
        .await
        .map_err(not_found("household"))?;
    Ok(axum::Json(view))
}

/// A household's enrolments and their history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HouseholdEnrolments {
    pub enrolments: Vec<Enrolment>,
    pub history: Vec<EnrolmentEvent>,
}

/// The household's enrolments in every programme, with each change of state (who, when, why).
#[utoipa::path(get, path = "/api/v1/households/{id}/enrolments", tag = "targeting",
    params(("id" = HouseholdId, Path, description = "Household registry id")),
    responses((status = 200, body = HouseholdEnrolments), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn household_enrolments(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<HouseholdEnrolments>, ApiError> {
    let id = parse_household_id(&id)?;
    let t = targeting(&state)?;
    let enrolments = t
        .enrolments(
            &actor,
            EnrolmentFilter {
                household_id: Some(id),
                limit: 1_000,
                ..Default::default()
            },
        )
        .await
        .map_err(not_found("household"))?;
    let history = t
        .enrolment_history(&actor, id)
        .await
        .map_err(not_found("household"))?;
    Ok(axum::Json(HouseholdEnrolments {
        enrolments,
        history,
    }))
}

/// A programme as published.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgrammeSummary {
    pub code: String,
    pub version: u32,
    pub name_fr: String,
    pub name_ar: String,
    pub name_en: String,
    /// `household` or `person`.
    pub unit: String,
    /// `monthly`, `quarterly`, `yearly`, `once` or `none`.
    pub frequency: String,
    pub index_threshold: Option<f64>,
    /// Written as an amount is; it may exceed an amount's bound (a national programme's budget).
    #[schema(value_type = Option<Amount>)]
    pub budget_cap: Option<sanad_programmes::Budget>,
    #[schema(value_type = String, format = Date)]
    pub start: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub end: Option<String>,
    /// The conditions, in order: name, CEL expression, message key.
    pub conditions: Vec<ConditionSummary>,
    /// The programme file (TOML), with its amounts and their public sources.
    pub definition: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConditionSummary {
    pub name: String,
    pub expression: String,
    pub message_key: String,
}

fn summary(p: &sanad_programmes::Programme) -> ProgrammeSummary {
    ProgrammeSummary {
        code: p.code.clone(),
        version: p.version,
        name_fr: p.names.fr.clone(),
        name_ar: p.names.ar.clone(),
        name_en: p.names.en.clone(),
        unit: sanad_app::targeting::service::unit_code(p.unit).to_string(),
        frequency: p.frequency.code().to_string(),
        index_threshold: p.index_threshold,
        budget_cap: p.budget_cap,
        start: p.start.to_string(),
        end: p.end.map(|d| d.to_string()),
        conditions: p
            .conditions
            .iter()
            .map(|c| ConditionSummary {
                name: c.name.clone(),
                expression: c.expression.clone(),
                message_key: c.message_key.clone(),
            })
            .collect(),
        definition: p.to_toml(),
    }
}

/// The programmes in force.
#[utoipa::path(get, path = "/api/v1/programmes", tag = "targeting",
    responses((status = 200, body = Vec<ProgrammeSummary>)))]
pub async fn programmes(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<axum::Json<Vec<ProgrammeSummary>>, ApiError> {
    let list = targeting(&state)?.programmes(&actor).await?;
    Ok(axum::Json(list.iter().map(summary).collect()))
}

/// One programme in force.
#[utoipa::path(get, path = "/api/v1/programmes/{code}", tag = "targeting",
    params(("code" = String, Path, description = "Programme code")),
    responses((status = 200, body = ProgrammeSummary), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn programme(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(code): Path<String>,
) -> Result<axum::Json<ProgrammeSummary>, ApiError> {
    let list = targeting(&state)?.programmes(&actor).await?;
    list.iter()
        .find(|p| p.code == code)
        .map(|p| axum::Json(summary(p)))
        .ok_or_else(|| ApiError::not_found("programme"))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DefineProgramme {
    /// The programme file, TOML (or JSON).
    pub definition: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Defined {
    pub code: String,
    pub version: u32,
    /// False when this version was already defined with the same file.
    pub created: bool,
}

/// Defines a new version of a programme. A condition that does not compile, or has the wrong type,
/// is refused (422) with the condition and its position.
#[utoipa::path(post, path = "/api/v1/programmes", tag = "targeting", request_body = DefineProgramme,
    responses((status = 201, body = Defined), (status = 200, description = "Already defined", body = Defined),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn define_programme(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<DefineProgramme>,
) -> Result<impl IntoResponse, ApiError> {
    let (record, created) = targeting(&state)?
        .define_programme(&actor, &body.definition, &body.reason)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(Defined {
            code: record.code,
            version: record.version,
            created,
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnrolEligible {
    /// Only inside this region, province or commune (within the caller's territories).
    #[serde(default)]
    pub territory: Option<String>,
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnrolledCount {
    pub enrolled: u64,
}

/// Enrols every eligible household (or person) of the programme.
#[utoipa::path(post, path = "/api/v1/programmes/{code}/enrol", tag = "targeting",
    params(("code" = String, Path, description = "Programme code")), request_body = EnrolEligible,
    responses((status = 200, body = EnrolledCount), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn enrol(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(code): Path<String>,
    Json(body): Json<EnrolEligible>,
) -> Result<axum::Json<EnrolledCount>, ApiError> {
    let enrolled = targeting(&state)?
        .enrol_eligible(&actor, &code, body.territory.as_deref(), &body.reason)
        .await
        .map_err(not_found("programme"))?;
    Ok(axum::Json(EnrolledCount { enrolled }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnrolmentParams {
    /// `eligible`, `enrolled`, `suspended` or `exited`.
    pub state: Option<EnrolmentState>,
    /// `next_after` of the previous page: a household id, or `HOUSEHOLD/PERSON` for a programme
    /// paid per person.
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnrolmentPage {
    pub items: Vec<Enrolment>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

pub(crate) fn enrolment_cursor(text: &str) -> Result<(HouseholdId, Option<PersonId>), ApiError> {
    let bad =
        |e: String| ApiError::bad_field("after", "cursor", format!("`next_after` of a page: {e}"));
    let (h, p) = match text.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (text, None),
    };
    let h = HouseholdId::parse(h).map_err(|e| bad(e.to_string()))?;
    let p = p
        .map(|p| PersonId::parse(p).map_err(|e| bad(e.to_string())))
        .transpose()?;
    Ok((h, p))
}

/// The programme's enrolments in the caller's territories, in household order.
#[utoipa::path(get, path = "/api/v1/programmes/{code}/enrolments", tag = "targeting",
    params(("code" = String, Path, description = "Programme code"), EnrolmentParams),
    responses((status = 200, body = EnrolmentPage), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn enrolments(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(code): Path<String>,
    Query(params): Query<EnrolmentParams>,
) -> Result<axum::Json<EnrolmentPage>, ApiError> {
    let limit = crate::api::page_limit(params.limit, 50)?;
    let after = params.after.as_deref().map(enrolment_cursor).transpose()?;
    let items = targeting(&state)?
        .enrolments(
            &actor,
            EnrolmentFilter {
                programme_code: Some(code),
                state: params.state,
                after,
                limit,
                ..Default::default()
            },
        )
        .await?;
    let next_after = (items.len() as u32 == limit)
        .then(|| {
            items.last().map(|e| match e.person_id {
                Some(p) => format!("{}/{p}", e.household_id),
                None => e.household_id.to_string(),
            })
        })
        .flatten();
    Ok(axum::Json(EnrolmentPage { items, next_after }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ChangeEnrolment {
    /// `enrolled` (enrol or resume), `suspended` or `exited`.
    pub to: EnrolmentState,
    /// For a programme paid per person: the member.
    #[serde(default)]
    pub person_id: Option<PersonId>,
    pub reason: String,
}

/// A manager's move of one enrolment: enrol an eligible household, suspend, resume, or exit; any
/// other move answers 409.
#[utoipa::path(post, path = "/api/v1/programmes/{code}/enrolments/{household}", tag = "targeting",
    params(("code" = String, Path, description = "Programme code"), ("household" = HouseholdId, Path, description = "Household registry id")),
    request_body = ChangeEnrolment,
    responses((status = 200, body = Enrolment), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn change_enrolment(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((code, household)): Path<(String, String)>,
    Json(body): Json<ChangeEnrolment>,
) -> Result<axum::Json<Enrolment>, ApiError> {
    let household = parse_household_id(&household)?;
    let e = targeting(&state)?
        .change_enrolment(
            &actor,
            &code,
            household,
            body.person_id,
            body.to,
            &body.reason,
        )
        .await
        .map_err(not_found("enrolment"))?;
    Ok(axum::Json(e))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountParams {
    /// One programme (default: all).
    pub programme: Option<String>,
}

/// Enrolments counted by programme, region, area and state, with the amounts per period.
#[utoipa::path(get, path = "/api/v1/stats/enrolments", tag = "targeting", params(CountParams),
    responses((status = 200, body = Vec<EnrolmentCount>)))]
pub async fn counts(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(params): Query<CountParams>,
) -> Result<axum::Json<Vec<EnrolmentCount>>, ApiError> {
    Ok(axum::Json(
        targeting(&state)?
            .enrolment_counts(&actor, params.programme.as_deref())
            .await?,
    ))
}

/// An index model as recorded.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ModelSummary {
    pub id: String,
    pub version: u32,
    pub description: String,
    pub active: bool,
    pub imported_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub imported_at: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub activated_at: Option<String>,
    pub variables: Vec<String>,
}

fn model_summary(m: &ModelRecord) -> ModelSummary {
    let rfc = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    ModelSummary {
        id: m.id.clone(),
        version: m.version,
        description: m.description.clone(),
        active: m.active,
        imported_by: m.imported_by.clone(),
        imported_at: rfc(m.imported_at),
        activated_at: m.activated_at.map(rfc),
        variables: m.variables.clone(),
    }
}

/// The recorded index models; one is active.
#[utoipa::path(get, path = "/api/v1/models", tag = "targeting",
    responses((status = 200, body = Vec<ModelSummary>)))]
pub async fn models(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<axum::Json<Vec<ModelSummary>>, ApiError> {
    let list = targeting(&state)?.models(&actor).await?;
    Ok(axum::Json(list.iter().map(model_summary).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ImportModel {
    /// The model file, TOML (or JSON).
    pub definition: String,
    #[serde(default)]
    pub reason: String,
}

/// Records a model version (not yet active). A published version never changes: the same id and
/// version with another file answers 409.
#[utoipa::path(post, path = "/api/v1/models", tag = "targeting", request_body = ImportModel,
    responses((status = 201, body = ModelSummary), (status = 200, description = "Already recorded", body = ModelSummary),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn import_model(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<ImportModel>,
) -> Result<impl IntoResponse, ApiError> {
    let (record, created) = targeting(&state)?
        .import_model(&actor, &body.definition, &body.reason)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(model_summary(&record))))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Activate {
    pub reason: String,
}

fn model_version(text: &str) -> Result<u32, ApiError> {
    text.parse()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ApiError::bad_field("version", "format", "a whole number from 1"))
}

/// Makes a recorded model the one every household is scored with: each later write is scored with
/// it at once, and the whole registry is rescored (and every programme re-checked) in the
/// background, resumably (`sanad score --all` finishes an interrupted run).
#[utoipa::path(post, path = "/api/v1/models/{id}/{version}/activate", tag = "targeting",
    params(("id" = String, Path, description = "Model id"), ("version" = u32, Path, description = "Model version")),
    request_body = Activate,
    responses((status = 202, description = "Active; the registry is being rescored"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn activate_model(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((id, version)): Path<(String, String)>,
    Json(body): Json<Activate>,
) -> Result<StatusCode, ApiError> {
    let version = model_version(&version)?;
    let t = targeting(&state)?.clone();
    t.activate_model(&actor, &id, version, &body.reason)
        .await
        .map_err(not_found("model"))?;
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match t
            .rescore_all(&actor, false, &sanad_app::store::NoProgress)
            .await
        {
            Ok(s) => tracing::info!(
                targeting.households = s.households,
                targeting.transitions = s.run.transitions,
                duration_ms = started.elapsed().as_millis() as u64,
                "registry rescored after a model activation"
            ),
            Err(e) => tracing::error!(error = %e, "rescoring after a model activation failed"),
        }
    });
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DryRunRequest {
    /// The candidate model file, TOML (or JSON).
    pub definition: String,
}

/// Tries a candidate model on the whole registry: households entering and leaving each programme,
/// by region and area. Writes nothing.
#[utoipa::path(post, path = "/api/v1/models/dry-run", tag = "targeting", request_body = DryRunRequest,
    responses((status = 200, body = DryRun), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn dry_run(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<DryRunRequest>,
) -> Result<axum::Json<DryRun>, ApiError> {
    let model = sanad_app::targeting::service::parse_model(&body.definition)?;
    let run = targeting(&state)?
        .dry_run(&actor, model, &sanad_app::store::NoProgress)
        .await?;
    Ok(axum::Json(run))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CountRule {
    /// A CEL condition over `household` and `members`, e.g. `household.index <= 9.32`.
    pub rule: String,
}

/// How many households of the registry a rule admits (a threshold tried before a programme is
/// defined). Counted over the registry's facts in memory, loaded at most ten minutes before.
#[utoipa::path(post, path = "/api/v1/programmes/count", tag = "targeting", request_body = CountRule,
    responses((status = 200, body = sanad_app::targeting::service::RuleCount),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn count_rule(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Json(body): Json<CountRule>,
) -> Result<axum::Json<sanad_app::targeting::service::RuleCount>, ApiError> {
    Ok(axum::Json(
        targeting(&state)?.count(&actor, &body.rule).await?,
    ))
}
