//! The manager's pages: programmes and their conditions tried on the registry before a new version
//! is saved, index models with their dry runs and activation, payment cycles from the preview to
//! the provider's answer. They call the same use-cases as the API (`Targeting`, `Payments`), which
//! check roles; on top of that, only managers and auditors (who only read) see these pages.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Form, Multipart, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sanad_app::payments::files::{BatchFormat, Payer};
use sanad_app::payments::service::Payments;
use sanad_app::payments::{Batch, BatchState, Cycle, CycleState, PaymentFilter, PaymentState};
use sanad_app::policy::{Permission, allows};
use sanad_app::store::NoProgress;
use sanad_app::targeting::{EnrolmentState, ModelRecord};
use sanad_app::{Role, Targeting};
use sanad_domain::Territories;
use sanad_programmes::{DefinitionError, Frequency, Limits, Programme, Rule, Unit};
use sanad_web::views::manager::{
    ActivatePage, BatchRow, Choice, ConditionField, CountRow, Counts, CycleForm, CyclePage,
    CycleRow, CyclesPage, DryRunRow, DryRunTotal, ModelPage, ModelRow, ModelsPage, Outcome,
    Preview, Problem, ProgrammePage, ProgrammeRow, ProgrammesPage,
};
use sanad_web::{Lang, Tr, url_encode};
use time::OffsetDateTime;

use super::{Ctx, done, form_value, query_pairs, render, render_status};
use crate::AppState;
use crate::error::ApiError;

/// Payments read at most to show how a cycle's batches stand (beyond, the page says they were
/// not counted here: the payment list of the API pages through them).
const PROGRESS_SCAN: usize = 5_000;

fn targeting(state: &AppState) -> Result<&Targeting, ApiError> {
    state
        .targeting
        .as_ref()
        .ok_or_else(|| ApiError::unavailable().detail("targeting is not configured on this server"))
}

fn payments(state: &AppState) -> Result<&Payments, ApiError> {
    state
        .payments
        .as_ref()
        .ok_or_else(|| ApiError::unavailable().detail("payments are not configured on this server"))
}

/// Managers work on these pages; auditors read them. Other roles may read some of this through
/// the API (an agent, their territory's payments) but have no page here.
fn reads(ctx: &Ctx, manage: Permission) -> bool {
    allows(&ctx.actor, manage) || ctx.actor.role == Role::Auditor
}

fn domain_lang(lang: Lang) -> sanad_domain::Lang {
    sanad_domain::Lang::parse(lang.code()).unwrap_or(sanad_domain::Lang::Fr)
}

fn region_name(lang: Lang, code: &str) -> String {
    match Territories::morocco().get(code) {
        Some(r) if lang == Lang::Ar => r.name_ar.clone(),
        Some(r) => r.name_fr.clone(),
        None => code.to_string(),
    }
}

fn area_words(t: Tr, area: &str) -> String {
    match area {
        "urban" => t.t("manager-area-urban"),
        "rural" => t.t("manager-area-rural"),
        other => other.to_string(),
    }
}

/// A use-case's refusal in the reader's words, with the server's sentence beside it.
fn problem(t: Tr, e: &ApiError) -> Problem {
    let field = e.field_errors().first();
    let text = match field.map(|f| f.code.as_str()) {
        Some("same_manager") => t.t("manager-problem-same-manager"),
        Some("over_budget") => t.t("manager-problem-over-budget"),
        Some("cycle_exists") => t.t("manager-problem-cycle-exists"),
        Some("cycle_not_computed") => t.t("manager-problem-not-computed"),
        Some("cycle_not_approved") => t.t("manager-problem-not-approved"),
        Some("cycle_approved") => t.t("manager-problem-approved"),
        Some("invalid_period") => t.t("manager-problem-period"),
        Some("invalid_amount") => t.t("manager-problem-cap"),
        Some("no_cash") => t.t("manager-problem-no-cash"),
        Some("required") => t.t("manager-problem-reason"),
        Some("invalid_programme") | Some("invalid_rule") => t.t("manager-problem-programme"),
        Some("bad_answer_line") => {
            let f = field.map(|f| f.field.as_str()).unwrap_or("");
            let (line, name) = f
                .strip_prefix("line ")
                .and_then(|rest| rest.split_once('.'))
                .unwrap_or(("?", f));
            t.t2("manager-problem-line", "line", line, "field", name)
        }
        _ => match e.status() {
            StatusCode::FORBIDDEN => t.t("error-forbidden"),
            StatusCode::NOT_FOUND => t.t("error-not-found"),
            StatusCode::CONFLICT => t.t("error-conflict"),
            s if s.is_client_error() => t.t("error-bad-request"),
            _ => t.t("error-internal"),
        },
    };
    let detail = field
        .map(|f| f.message.clone())
        .or_else(|| e.detail_text().map(str::to_string))
        .filter(|_| e.status().is_client_error());
    Problem { text, detail }
}

/// A condition that does not compile, with where.
fn rule_problem(t: Tr, e: &DefinitionError) -> Problem {
    let text = if e.line > 0 {
        t.t2("manager-rule-error", "line", e.line, "column", e.column)
    } else {
        t.t("manager-rule-error-file")
    };
    Problem {
        text,
        detail: Some(e.message.clone()),
    }
}

// --- Programmes -------------------------------------------------------------------------------

/// The conditions of a programme as one CEL expression (each must hold).
fn joined(conditions: &[String]) -> String {
    if conditions.is_empty() {
        return "true".into();
    }
    conditions
        .iter()
        .map(|c| format!("({})", c.trim()))
        .collect::<Vec<_>>()
        .join(" && ")
}

fn benefit_words(t: Tr, p: &Programme) -> String {
    let unit = match p.unit {
        Unit::Household => t.t("manager-unit-household"),
        Unit::Person => t.t("manager-unit-person"),
    };
    let frequency = match p.frequency {
        Frequency::None => t.t("manager-frequency-none"),
        other => t.t(&format!("manager-frequency-{}", other.code())),
    };
    match p.budget_cap {
        Some(cap) => format!(
            "{unit} · {frequency} · {}",
            t.t1("manager-cap-of", "cap", t.mad(cap.centimes()))
        ),
        None => format!("{unit} · {frequency}"),
    }
}

/// Counts what `rule` admits over the registry's facts read now, by region. Reading the facts is
/// the targeting use-case's (managers only); the rule runs here, on every core.
async fn count_by_region(state: &AppState, ctx: &Ctx, rule: Rule) -> Result<Counts, ApiError> {
    let snapshot = targeting(state)?.snapshot(&ctx.actor, &NoProgress).await?;
    let read_at = ctx.t().datetime(&OffsetDateTime::now_utc());
    let tallies = tokio::task::spawn_blocking(move || {
        let mut by_region: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
        for (facts, index) in snapshot.households.iter().zip(&snapshot.indexes) {
            let entry = by_region.entry(facts.region_code.clone()).or_default();
            match rule.admits(facts, *index, snapshot.on) {
                Ok(true) => entry.0 += 1,
                Ok(false) => entry.1 += 1,
                Err(_) => entry.2 += 1,
            }
        }
        by_region
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "counting a rule failed");
        ApiError::internal()
    })?;
    let mut rows = Vec::new();
    let mut seen = Vec::new();
    for region in Territories::morocco().regions() {
        let (a, r, u) = tallies.get(&region.code).copied().unwrap_or_default();
        seen.push(region.code.clone());
        rows.push(CountRow {
            region: region_name(ctx.lang, &region.code),
            admitted: a,
            refused: r,
            undecided: u,
        });
    }
    for (code, (a, r, u)) in &tallies {
        if !seen.contains(code) {
            rows.push(CountRow {
                region: region_name(ctx.lang, code),
                admitted: *a,
                refused: *r,
                undecided: *u,
            });
        }
    }
    Ok(Counts {
        households: rows
            .iter()
            .map(|r| r.admitted + r.refused + r.undecided)
            .sum(),
        admitted: rows.iter().map(|r| r.admitted).sum(),
        refused: rows.iter().map(|r| r.refused).sum(),
        undecided: rows.iter().map(|r| r.undecided).sum(),
        rows,
        read_at,
    })
}

/// `GET /manage/programmes[?rule=…]`: the programmes in force, and a condition tried on the
/// registry.
async fn programmes(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    if let Err(r) = ctx.require(reads(&ctx, Permission::ManageTargeting)) {
        return r;
    }
    let t = ctx.t();
    let tg = match targeting(&state) {
        Ok(tg) => tg,
        Err(e) => return ctx.error(e),
    };
    let list = match tg.programmes(&ctx.actor).await {
        Ok(l) => l,
        Err(e) => return ctx.error(e.into()),
    };
    let counts = match tg.enrolment_counts(&ctx.actor, None).await {
        Ok(c) => c,
        Err(e) => return ctx.error(e.into()),
    };
    let lang = domain_lang(ctx.lang);
    let rows = list
        .iter()
        .map(|p| {
            let sum = |s: EnrolmentState| {
                counts
                    .iter()
                    .filter(|c| c.programme_code == p.code && c.state == s)
                    .map(|c| c.count as i64)
                    .sum()
            };
            ProgrammeRow {
                code: p.code.clone(),
                version: p.version,
                name: p.names.get(lang).to_string(),
                condition: joined(
                    &p.conditions
                        .iter()
                        .map(|c| c.expression.clone())
                        .collect::<Vec<_>>(),
                ),
                benefit: benefit_words(t, p),
                enrolled: sum(EnrolmentState::Enrolled),
                eligible: sum(EnrolmentState::Eligible),
            }
        })
        .collect();
    let manage = allows(&ctx.actor, Permission::ManageTargeting);
    let rule = form_value(&query_pairs(raw), "rule");
    let mut view = ProgrammesPage {
        shell: ctx.shell(t.t("manager-programmes-title")),
        t,
        rows,
        rule: rule.clone(),
        rule_error: None,
        counts: None,
        manage,
    };
    if manage && !rule.is_empty() {
        match Rule::compile(&rule) {
            Err(e) => {
                view.rule_error = Some(rule_problem(t, &e));
                return render_status(StatusCode::UNPROCESSABLE_ENTITY, &view);
            }
            Ok(compiled) => match count_by_region(&state, &ctx, compiled).await {
                Ok(c) => view.counts = Some(c),
                Err(e) => return ctx.error(e),
            },
        }
    }
    render(&view)
}

async fn programme_in_force(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
) -> Result<Programme, ApiError> {
    targeting(state)?
        .programmes(&ctx.actor)
        .await?
        .into_iter()
        .find(|p| p.code == code)
        .ok_or_else(|| ApiError::not_found("programme"))
}

fn programme_page(
    ctx: &Ctx,
    p: &Programme,
    expressions: Option<&[String]>,
    errors: &[(usize, Problem)],
) -> ProgrammePage {
    let t = ctx.t();
    let lang = domain_lang(ctx.lang);
    let name = p.names.get(lang).to_string();
    let mut facts = vec![
        (t.t("manager-col-benefit"), benefit_words(t, p)),
        (t.t("manager-start"), t.date(&p.start)),
    ];
    if let Some(end) = p.end {
        facts.push((t.t("manager-end"), t.date(&end)));
    }
    if let Some(threshold) = p.index_threshold {
        facts.push((t.t("manager-threshold"), t.dec(threshold, 4)));
    }
    let conditions = p
        .conditions
        .iter()
        .enumerate()
        .map(|(i, c)| ConditionField {
            index: i,
            name: c.name.clone(),
            expression: expressions
                .and_then(|e| e.get(i).cloned())
                .unwrap_or_else(|| c.expression.clone()),
            message: p.message(&c.message_key, lang, &[]),
            error: errors
                .iter()
                .find(|(at, _)| *at == i)
                .map(|(_, e)| e.clone()),
        })
        .collect();
    ProgrammePage {
        shell: ctx.shell(name.clone()),
        t,
        code: p.code.clone(),
        version: p.version,
        name,
        facts,
        conditions,
        counts: None,
        problem: None,
        reason: String::new(),
        manage: allows(&ctx.actor, Permission::ManageTargeting),
    }
}

/// `GET /manage/programmes/{code}`: the programme and its conditions, editable.
async fn programme(State(state): State<AppState>, ctx: Ctx, Path(code): Path<String>) -> Response {
    if let Err(r) = ctx.require(reads(&ctx, Permission::ManageTargeting)) {
        return r;
    }
    match programme_in_force(&state, &ctx, &code).await {
        Ok(p) => render(&programme_page(&ctx, &p, None, &[])),
        Err(e) => ctx.error(e),
    }
}

/// The conditions sent by the form, in the programme's order; each compiled with the programme's
/// parameters, the ones that do not compile named.
fn sent_conditions(
    t: Tr,
    p: &Programme,
    form: &[(String, String)],
) -> (Vec<String>, Vec<(usize, Problem)>) {
    let parameters = p.parameters_on(OffsetDateTime::now_utc().date());
    let mut expressions = Vec::new();
    let mut errors = Vec::new();
    for (i, c) in p.conditions.iter().enumerate() {
        let sent = form
            .iter()
            .find(|(k, _)| *k == format!("cond-{i}"))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| c.expression.clone());
        if let Err(e) = Rule::compile_with(&sent, &parameters, Limits::default()) {
            errors.push((i, rule_problem(t, &e)));
        }
        expressions.push(sent);
    }
    (expressions, errors)
}

/// `POST /manage/programmes/{code}/try`: the conditions of the form counted on the registry, by
/// region; nothing is saved.
async fn try_programme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = ctx.require(allows(&ctx.actor, Permission::ManageTargeting)) {
        return r;
    }
    let p = match programme_in_force(&state, &ctx, &code).await {
        Ok(p) => p,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let (expressions, errors) = sent_conditions(t, &p, &form);
    let mut view = programme_page(&ctx, &p, Some(&expressions), &errors);
    view.reason = form_value(&form, "reason");
    if !errors.is_empty() {
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let parameters = p.parameters_on(OffsetDateTime::now_utc().date());
    let rule = match Rule::compile_with(&joined(&expressions), &parameters, Limits::default()) {
        Ok(r) => r,
        Err(e) => {
            view.problem = Some(rule_problem(t, &e));
            return render_status(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
    };
    match count_by_region(&state, &ctx, rule).await {
        Ok(c) => view.counts = Some(c),
        Err(e) => return ctx.error(e),
    }
    render(&view)
}

/// `POST /manage/programmes/{code}/save`: a new version of the programme with the conditions of
/// the form.
async fn save_programme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = ctx.require(allows(&ctx.actor, Permission::ManageTargeting)) {
        return r;
    }
    let p = match programme_in_force(&state, &ctx, &code).await {
        Ok(p) => p,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let (expressions, errors) = sent_conditions(t, &p, &form);
    let reason = form_value(&form, "reason");
    if !errors.is_empty() {
        let mut view = programme_page(&ctx, &p, Some(&expressions), &errors);
        view.reason = reason;
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let mut next = p.clone();
    next.version = p.version + 1;
    for (c, e) in next.conditions.iter_mut().zip(&expressions) {
        c.expression = e.clone();
    }
    let tg = match targeting(&state) {
        Ok(tg) => tg,
        Err(e) => return ctx.error(e),
    };
    match tg
        .define_programme(&ctx.actor, &next.to_toml(), &reason)
        .await
    {
        Ok(_) => done(
            &format!("/manage/programmes/{}", url_encode(&code)),
            "done-programme-saved",
        ),
        Err(e) => {
            let e = ApiError::from(e);
            if !e.status().is_client_error() || e.status() == StatusCode::FORBIDDEN {
                return ctx.error(e);
            }
            let status = e.status();
            let mut view = programme_page(&ctx, &p, Some(&expressions), &[]);
            view.problem = Some(problem(t, &e));
            view.reason = reason;
            render_status(status, &view)
        }
    }
}

// --- Models ---------------------------------------------------------------------------------

fn model_row(t: Tr, m: &ModelRecord) -> ModelRow {
    let r2 = sanad_app::targeting::service::parse_model(&m.definition)
        .ok()
        .and_then(|model| model.fit)
        .map(|fit| t.dec(fit.r2, 3));
    ModelRow {
        id: m.id.clone(),
        version: m.version,
        description: m.description.clone(),
        active: m.active,
        r2,
        imported_by: m.imported_by.clone(),
        imported_at: t.datetime(&m.imported_at),
        activated_at: m.activated_at.map(|at| t.datetime(&at)),
        href: format!("/manage/models/{}/{}", url_encode(&m.id), m.version),
    }
}

/// `GET /manage/models`: the recorded model versions.
async fn models(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(reads(&ctx, Permission::ManageTargeting)) {
        return r;
    }
    let list = match targeting(&state) {
        Ok(tg) => tg.models(&ctx.actor).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let list = match list {
        Ok(l) => l,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let view = ModelsPage {
        shell: ctx.shell(t.t("manager-models-title")),
        t,
        rows: list.iter().map(|m| model_row(t, m)).collect(),
        manage: allows(&ctx.actor, Permission::ManageTargeting),
    };
    render(&view)
}

async fn model_record(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    version: &str,
) -> Result<ModelRecord, ApiError> {
    let version: u32 = version.parse().map_err(|_| ApiError::not_found("model"))?;
    targeting(state)?
        .models(&ctx.actor)
        .await?
        .into_iter()
        .find(|m| m.id == id && m.version == version)
        .ok_or_else(|| ApiError::not_found("model"))
}

/// `GET /manage/models/{id}/{version}`: the version tried on the whole registry against the model
/// in force: households entering and leaving each programme, by region and area.
async fn model(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, version)): Path<(String, String)>,
) -> Response {
    if let Err(r) = ctx.require(allows(&ctx.actor, Permission::ManageTargeting)) {
        return r;
    }
    let record = match model_record(&state, &ctx, &id, &version).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let run = async {
        let tg = targeting(&state)?;
        let candidate = sanad_app::targeting::service::parse_model(&record.definition)?;
        let run = tg.dry_run(&ctx.actor, candidate, &NoProgress).await?;
        let names = tg.programmes(&ctx.actor).await?;
        Ok::<_, ApiError>((run, names))
    };
    let (run, names) = match run.await {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let lang = domain_lang(ctx.lang);
    let name = |code: &str| {
        names
            .iter()
            .find(|p| p.code == code)
            .map(|p| p.names.get(lang).to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let mut totals: Vec<DryRunTotal> = Vec::new();
    let mut rows = Vec::new();
    for line in &run.lines {
        let programme = name(&line.programme_code);
        match totals.iter_mut().find(|x| x.programme == programme) {
            Some(x) => {
                x.now += line.eligible_now as i64;
                x.then += line.eligible_then as i64;
                x.entering += line.entering as i64;
                x.leaving += line.leaving as i64;
            }
            None => totals.push(DryRunTotal {
                programme: programme.clone(),
                now: line.eligible_now as i64,
                then: line.eligible_then as i64,
                entering: line.entering as i64,
                leaving: line.leaving as i64,
            }),
        }
        rows.push(DryRunRow {
            programme,
            region: region_name(ctx.lang, &line.region_code),
            area: area_words(t, &line.area),
            now: line.eligible_now as i64,
            then: line.eligible_then as i64,
            entering: line.entering as i64,
            leaving: line.leaving as i64,
        });
    }
    let model = model_row(t, &record);
    let view = ModelPage {
        shell: ctx.shell(t.t2(
            "manager-model-title",
            "id",
            &model.id,
            "version",
            model.version,
        )),
        t,
        model,
        households: run.households as i64,
        totals,
        rows,
        manage: true,
    };
    render(&view)
}

fn activate_page(ctx: &Ctx, record: &ModelRecord, problem: Option<Problem>) -> ActivatePage {
    let t = ctx.t();
    let model = model_row(t, record);
    ActivatePage {
        shell: ctx.shell(t.t("manager-activate-title")),
        t,
        action: format!("{}/activate", model.href),
        model,
        problem,
    }
}

/// `GET /manage/models/{id}/{version}/activate`: the confirmation, before anything changes.
async fn confirm_activation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, version)): Path<(String, String)>,
) -> Response {
    if let Err(r) = ctx.require(allows(&ctx.actor, Permission::ManageTargeting)) {
        return r;
    }
    match model_record(&state, &ctx, &id, &version).await {
        Ok(record) => render(&activate_page(&ctx, &record, None)),
        Err(e) => ctx.error(e),
    }
}

/// `POST /manage/models/{id}/{version}/activate`: the version becomes the one households are
/// scored with; the registry is rescored in the background, as the API does.
async fn activate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, version)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = ctx.require(allows(&ctx.actor, Permission::ManageTargeting)) {
        return r;
    }
    let record = match model_record(&state, &ctx, &id, &version).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let reason = form_value(&form, "reason");
    if reason.is_empty() {
        let t = ctx.t();
        let p = Problem {
            text: t.t("manager-problem-reason"),
            detail: None,
        };
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &activate_page(&ctx, &record, Some(p)),
        );
    }
    let tg = match targeting(&state) {
        Ok(tg) => tg.clone(),
        Err(e) => return ctx.error(e),
    };
    if let Err(e) = tg
        .activate_model(&ctx.actor, &record.id, record.version, &reason)
        .await
    {
        return ctx.error(e.into());
    }
    let actor = ctx.actor.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match tg.rescore_all(&actor, false, &NoProgress).await {
            Ok(s) => tracing::info!(
                targeting.households = s.households,
                targeting.transitions = s.run.transitions,
                duration_ms = started.elapsed().as_millis() as u64,
                "registry rescored after a model activation"
            ),
            Err(e) => tracing::error!(error = %e, "rescoring after a model activation failed"),
        }
    });
    done("/manage/models", "done-model-activated")
}

// --- Cycles ---------------------------------------------------------------------------------

fn cycle_state(t: Tr, s: CycleState) -> (String, &'static str) {
    let badge = match s {
        CycleState::Computing => "warn",
        CycleState::Computed => "warn",
        CycleState::Approved => "ok",
        CycleState::Cancelled => "bad",
    };
    (t.t(&format!("manager-cycle-{}", s.as_str())), badge)
}

fn cycle_row(t: Tr, c: &Cycle, names: &[Programme], lang: Lang) -> CycleRow {
    let (state, badge) = cycle_state(t, c.state);
    let programme = names
        .iter()
        .find(|p| p.code == c.programme_code)
        .map(|p| p.names.get(domain_lang(lang)).to_string())
        .unwrap_or_else(|| c.programme_code.clone());
    CycleRow {
        id: c.id,
        href: format!("/manage/cycles/{}", c.id),
        programme,
        period: c.period.clone(),
        state,
        badge,
        entitlements: c.entitlements as i64,
        total: c.total,
        cap: c.budget_cap,
        skipped: c.skipped as i64,
        prepared_by: c.prepared_by.clone(),
        prepared_at: t.datetime(&c.prepared_at),
        approved_by: c.approved_by.clone(),
    }
}

/// Dirhams as typed (`1500000`, `1 500 000,50`) to centimes; empty is none.
fn parse_mad(text: &str) -> Result<Option<i64>, ()> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '\u{a0}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    if clean.is_empty() {
        return Ok(None);
    }
    let (whole, part) = clean.split_once('.').unwrap_or((&clean, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || part.len() > 2
        || !part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(());
    }
    let whole: i64 = whole.parse().map_err(|_| ())?;
    let part: i64 = format!("{part:0<2}").parse().map_err(|_| ())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(part))
        .map(Some)
        .ok_or(())
}

fn skipped_words(t: Tr, p: Option<&Programme>, lang: Lang, key: &str) -> String {
    match key {
        "household-not-scored" => t.t("manager-skip-not-scored"),
        "score-not-current" => t.t("manager-skip-not-current"),
        "no-amount" => t.t("manager-skip-no-amount"),
        "not-eligible" => t.t("manager-skip-not-eligible"),
        other => match p {
            Some(p) => t.t1(
                "manager-skip-condition",
                "reason",
                p.message(other, domain_lang(lang), &[]),
            ),
            None => other.to_string(),
        },
    }
}

struct CyclesInput {
    form: CycleForm,
    preview: bool,
    problem: Option<Problem>,
    status: StatusCode,
}

async fn cycles_page(state: &AppState, ctx: &Ctx, input: CyclesInput) -> Response {
    let t = ctx.t();
    let loaded = async {
        let list = payments(state)?.cycles(&ctx.actor, None).await?;
        let names = targeting(state)?.programmes(&ctx.actor).await?;
        Ok::<_, ApiError>((list, names))
    };
    let (mut list, names) = match loaded.await {
        Ok(l) => l,
        Err(e) => return ctx.error(e),
    };
    list.sort_by_key(|c| std::cmp::Reverse(c.id));
    let manage = allows(&ctx.actor, Permission::ManagePayments);
    let lang = domain_lang(ctx.lang);
    let CyclesInput {
        mut form,
        preview,
        mut problem,
        mut status,
    } = input;
    if form.period.is_empty() {
        let today = OffsetDateTime::now_utc().date();
        form.period = format!("{:04}-{:02}", today.year(), u8::from(today.month()));
    }
    let paying: Vec<&Programme> = names
        .iter()
        .filter(|p| p.frequency != Frequency::None)
        .collect();
    let mut shown = None;
    if manage && preview && problem.is_none() {
        let chosen = paying.iter().find(|p| p.code == form.programme).copied();
        match parse_mad(&form.cap) {
            Err(()) => {
                problem = Some(Problem {
                    text: t.t("manager-problem-cap"),
                    detail: None,
                });
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Ok(cap) => {
                let run = match payments(state) {
                    Ok(p) => p
                        .preview_cycle(&ctx.actor, &form.programme, &form.period, &NoProgress)
                        .await
                        .map_err(ApiError::from),
                    Err(e) => Err(e),
                };
                match run {
                    Ok(p) => {
                        let cap =
                            cap.or_else(|| chosen.and_then(|c| c.budget_cap.map(|a| a.centimes())));
                        shown = Some(Preview {
                            programme: chosen
                                .map(|c| c.names.get(lang).to_string())
                                .unwrap_or_else(|| p.programme_code.clone()),
                            period: p.period.clone(),
                            entitlements: p.entitlements as i64,
                            total: p.total,
                            skipped: p
                                .skipped
                                .iter()
                                .map(|(k, n)| (skipped_words(t, chosen, ctx.lang, k), *n as i64))
                                .collect(),
                            over: cap.filter(|c| p.total > *c).map(|c| p.total - c),
                            cap,
                        });
                    }
                    Err(e) if e.status() == StatusCode::FORBIDDEN => return ctx.error(e),
                    Err(e) => {
                        status = if e.status().is_client_error() {
                            e.status()
                        } else {
                            return ctx.error(e);
                        };
                        problem = Some(self::problem(t, &e));
                    }
                }
            }
        }
    }
    let view = CyclesPage {
        shell: ctx.shell(t.t("manager-cycles-title")),
        t,
        rows: list
            .iter()
            .map(|c| cycle_row(t, c, &names, ctx.lang))
            .collect(),
        programmes: paying
            .iter()
            .map(|p| Choice {
                value: p.code.clone(),
                label: p.names.get(lang).to_string(),
                selected: p.code == form.programme,
            })
            .collect(),
        form,
        preview: shown,
        problem,
        manage,
    };
    render_status(status, &view)
}

fn cycle_form(pairs: &[(String, String)]) -> CycleForm {
    CycleForm {
        programme: form_value(pairs, "programme"),
        period: form_value(pairs, "period"),
        cap: form_value(pairs, "cap"),
    }
}

/// `GET /manage/cycles[?programme=…&period=…&cap=…]`: the cycles, and what a new one would pay.
async fn cycles(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    if let Err(r) = ctx.require(reads(&ctx, Permission::ManagePayments)) {
        return r;
    }
    let pairs = query_pairs(raw);
    let form = cycle_form(&pairs);
    let preview = !form.programme.is_empty();
    cycles_page(
        &state,
        &ctx,
        CyclesInput {
            form,
            preview,
            problem: None,
            status: StatusCode::OK,
        },
    )
    .await
}

/// `POST /manage/cycles`: computes the cycle (refused over its cap, nothing written).
async fn prepare(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = ctx.require(allows(&ctx.actor, Permission::ManagePayments)) {
        return r;
    }
    let form = cycle_form(&pairs);
    let reason = form_value(&pairs, "reason");
    let t = ctx.t();
    let refused = |problem: Problem, status: StatusCode, form: CycleForm| CyclesInput {
        form,
        preview: false,
        problem: Some(problem),
        status,
    };
    let cap = match parse_mad(&form.cap) {
        Ok(c) => c,
        Err(()) => {
            let p = Problem {
                text: t.t("manager-problem-cap"),
                detail: None,
            };
            return cycles_page(
                &state,
                &ctx,
                refused(p, StatusCode::UNPROCESSABLE_ENTITY, form),
            )
            .await;
        }
    };
    let outcome = match payments(&state) {
        Ok(p) => p
            .prepare_cycle(
                &ctx.actor,
                &form.programme,
                &form.period,
                cap,
                &reason,
                &NoProgress,
            )
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(out) => done(
            &format!("/manage/cycles/{}", out.cycle.id),
            "done-cycle-prepared",
        ),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let status = e.status();
            cycles_page(&state, &ctx, refused(problem(t, &e), status, form)).await
        }
        Err(e) => ctx.error(e),
    }
}

/// Counts of a cycle's payments by batch and state, when there are few enough to read here.
async fn progress(
    p: &Payments,
    ctx: &Ctx,
    cycle: i64,
) -> Result<Option<BTreeMap<(i64, PaymentState), i64>>, ApiError> {
    let mut counts = BTreeMap::new();
    let mut after = None;
    let mut read = 0usize;
    loop {
        let page = p
            .payments(
                &ctx.actor,
                PaymentFilter {
                    cycle_id: Some(cycle),
                    after,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await?;
        let more = page.len() == 1000;
        read += page.len();
        for pay in &page {
            *counts.entry((pay.batch_id, pay.state)).or_insert(0i64) += 1;
        }
        after = page.last().map(|x| x.id);
        if !more {
            return Ok(Some(counts));
        }
        if read >= PROGRESS_SCAN {
            return Ok(None);
        }
    }
}

fn means_words(t: Tr, kind: &str) -> String {
    match kind {
        "bank" => t.t("manager-means-bank"),
        "wallet" => t.t("manager-means-wallet"),
        "cash" => t.t("manager-means-cash"),
        other => other.to_string(),
    }
}

fn batch_row(t: Tr, b: &Batch, counts: Option<&BTreeMap<(i64, PaymentState), i64>>) -> BatchRow {
    let count = |s: PaymentState| counts.map(|c| c.get(&(b.id, s)).copied().unwrap_or(0));
    let paid = count(PaymentState::Paid);
    let failed = match (count(PaymentState::Failed), count(PaymentState::Reversed)) {
        (Some(f), Some(r)) => Some(f + r),
        _ => None,
    };
    let total = b.payments.max(1) as i64;
    BatchRow {
        id: b.id,
        kind: means_words(t, &b.kind),
        state: t.t(&format!("manager-batch-{}", b.state.as_str())),
        exported: b.state == BatchState::Exported,
        payments: b.payments as i64,
        total: b.total,
        exported_at: b.exported_at.map(|at| t.datetime(&at)),
        sent: count(PaymentState::Sent),
        paid,
        failed,
        done_percent: paid.map(|p| (p * 100 / total).clamp(0, 100)).unwrap_or(0),
    }
}

/// What the cycle page shows besides the cycle.
#[derive(Default)]
struct CycleExtras {
    problem: Option<Problem>,
    upload_problem: Option<Problem>,
    outcome: Option<Outcome>,
}

async fn cycle_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    extras: CycleExtras,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let p = payments(state)?;
        let cycle = p.cycle(&ctx.actor, id).await?;
        let batches = p.batches(&ctx.actor, id).await?;
        let counts = if batches.is_empty() {
            Some(BTreeMap::new())
        } else {
            progress(p, ctx, id).await?
        };
        let names = targeting(state)?.programmes(&ctx.actor).await?;
        Ok::<_, ApiError>((cycle, batches, counts, names))
    };
    let (cycle, batches, counts, names) = match loaded.await {
        Ok(l) => l,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let manage = allows(&ctx.actor, Permission::ManagePayments);
    let own = cycle.prepared_by == ctx.actor.username;
    let view = CyclePage {
        shell: ctx.shell(t.t1("manager-cycle-title", "id", cycle.id)),
        t,
        approved_at: cycle.approved_at.map(|at| t.datetime(&at)),
        period_start: t.date(&cycle.period_start),
        batches: batches
            .iter()
            .map(|b| batch_row(t, b, counts.as_ref()))
            .collect(),
        problem: extras.problem,
        upload_problem: extras.upload_problem,
        outcome: extras.outcome,
        can_approve: cycle.state == CycleState::Computed,
        can_cancel: matches!(cycle.state, CycleState::Computed | CycleState::Computing),
        can_open: cycle.state == CycleState::Approved,
        own,
        manage,
        cycle: cycle_row(t, &cycle, &names, ctx.lang),
    };
    render_status(status, &view)
}

fn cycle_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ApiError::not_found("cycle"))
}

/// `GET /manage/cycles/{id}`.
async fn cycle(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(r) = ctx.require(reads(&ctx, Permission::ManagePayments)) {
        return r;
    }
    match cycle_id(&id) {
        Ok(id) => cycle_page(&state, &ctx, id, CycleExtras::default(), StatusCode::OK).await,
        Err(e) => ctx.error(e),
    }
}

/// The cycle page again after a refused action, or the error page for what is not a refusal.
async fn refused(state: &AppState, ctx: &Ctx, id: i64, e: ApiError) -> Response {
    let status = e.status();
    if !status.is_client_error()
        || status == StatusCode::FORBIDDEN
        || status == StatusCode::NOT_FOUND
    {
        return ctx.error(e);
    }
    let extras = CycleExtras {
        problem: Some(problem(ctx.t(), &e)),
        ..Default::default()
    };
    cycle_page(state, ctx, id, extras, status).await
}

#[derive(Clone, Copy)]
enum CycleAction {
    Approve,
    Cancel,
    OpenBatches,
}

async fn cycle_action(
    state: AppState,
    ctx: Ctx,
    id: String,
    form: Vec<(String, String)>,
    action: CycleAction,
) -> Response {
    if let Err(r) = ctx.require(allows(&ctx.actor, Permission::ManagePayments)) {
        return r;
    }
    let id = match cycle_id(&id) {
        Ok(id) => id,
        Err(e) => return ctx.error(e),
    };
    let p = match payments(&state) {
        Ok(p) => p,
        Err(e) => return ctx.error(e),
    };
    let reason = form_value(&form, "reason");
    let (result, message) = match action {
        CycleAction::Approve => (
            p.approve_cycle(&ctx.actor, id, &reason).await.map(|_| ()),
            "done-cycle-approved",
        ),
        CycleAction::Cancel => (
            p.cancel_cycle(&ctx.actor, id, &reason).await.map(|_| ()),
            "done-cycle-cancelled",
        ),
        CycleAction::OpenBatches => (
            p.open_batches(&ctx.actor, id, &reason).await.map(|_| ()),
            "done-batches-opened",
        ),
    };
    match result {
        Ok(()) => done(&format!("/manage/cycles/{id}"), message),
        Err(e) => refused(&state, &ctx, id, e.into()).await,
    }
}

/// `POST /manage/cycles/{id}/approve`: a second manager approves; the one who prepared it is
/// refused.
async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    cycle_action(state, ctx, id, form, CycleAction::Approve).await
}

/// `POST /manage/cycles/{id}/cancel` (a reason is required).
async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    cycle_action(state, ctx, id, form, CycleAction::Cancel).await
}

/// `POST /manage/cycles/{id}/batches`: one batch per means kind for what the approved cycle owes.
async fn open_batches(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    cycle_action(state, ctx, id, form, CycleAction::OpenBatches).await
}

/// `POST /manage/batches/{id}/export`: the batch's file as a download, recorded as handed over
/// (the same bytes each time), as the API does.
async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = ctx.require(allows(&ctx.actor, Permission::ManagePayments)) {
        return r;
    }
    let id = match id.parse::<i64>() {
        Ok(id) if id >= 1 => id,
        _ => return ctx.error(ApiError::not_found("batch")),
    };
    let format = BatchFormat::parse(&form_value(&form, "format")).unwrap_or(BatchFormat::Pain001);
    let p = match payments(&state) {
        Ok(p) => p,
        Err(e) => return ctx.error(e),
    };
    let batch = match p.batch(&ctx.actor, id).await {
        Ok(b) => b,
        Err(e) => return ctx.error(e.into()),
    };
    let written = async {
        let (bytes, written) = p
            .write_batch(&ctx.actor, &batch, format, &Payer::default(), Vec::new())
            .await?;
        if batch.state == BatchState::Open
            || batch.file_sha256.as_deref() == Some(written.sha256.as_str())
        {
            p.mark_exported(&ctx.actor, id, &written.sha256).await?;
        }
        Ok::<_, sanad_app::registry::RegistryError>(bytes)
    };
    match written.await {
        Ok(bytes) => (
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
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => refused(&state, &ctx, batch.cycle_id, e.into()).await,
    }
}

/// `POST /manage/cycles/{id}/reconcile` (multipart): a provider's answer file. A bad line is
/// named (422) and nothing is written; otherwise the outcome counts are shown.
async fn reconcile(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    if let Err(r) = ctx.require(allows(&ctx.actor, Permission::ManagePayments)) {
        return r;
    }
    let id = match cycle_id(&id) {
        Ok(id) => id,
        Err(e) => return ctx.error(e),
    };
    let t = ctx.t();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes.to_vec())),
                    Err(_) => {
                        return ctx.error(ApiError::bad_request("the file could not be read"));
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return ctx.error(ApiError::bad_request("the form could not be read")),
        }
    }
    let upload_problem = |text: String, detail: Option<String>| CycleExtras {
        upload_problem: Some(Problem { text, detail }),
        ..Default::default()
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return cycle_page(
            &state,
            &ctx,
            id,
            upload_problem(t.t("manager-reconcile-empty"), None),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let p = match payments(&state) {
        Ok(p) => p,
        Err(e) => return ctx.error(e),
    };
    let name: String = name.chars().take(255).collect();
    match p.reconcile_file(&ctx.actor, &bytes, &name, None).await {
        Ok(out) => {
            let r = out.reconciliation;
            let extras = CycleExtras {
                outcome: Some(Outcome {
                    file_name: r.file_name,
                    lines: r.lines as i64,
                    paid: r.paid as i64,
                    failed: r.failed as i64,
                    reversed: r.reversed as i64,
                    unchanged: r.unchanged as i64,
                    already: out.already_imported,
                }),
                ..Default::default()
            };
            cycle_page(&state, &ctx, id, extras, StatusCode::OK).await
        }
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.status();
            if !status.is_client_error() || status == StatusCode::FORBIDDEN {
                return ctx.error(e);
            }
            let p = problem(t, &e);
            cycle_page(&state, &ctx, id, upload_problem(p.text, p.detail), status).await
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/manage/programmes", get(programmes))
        .route("/manage/programmes/{code}", get(programme))
        .route("/manage/programmes/{code}/try", post(try_programme))
        .route("/manage/programmes/{code}/save", post(save_programme))
        .route("/manage/models", get(models))
        .route("/manage/models/{id}/{version}", get(model))
        .route(
            "/manage/models/{id}/{version}/activate",
            get(confirm_activation).post(activate),
        )
        .route("/manage/cycles", get(cycles).post(prepare))
        .route("/manage/cycles/{id}", get(cycle))
        .route("/manage/cycles/{id}/approve", post(approve))
        .route("/manage/cycles/{id}/cancel", post(cancel))
        .route("/manage/cycles/{id}/batches", post(open_batches))
        .route("/manage/cycles/{id}/reconcile", post(reconcile))
        .route("/manage/batches/{id}/export", post(export))
}
