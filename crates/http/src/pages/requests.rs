//! E-service requests and complaints in the window: the citizen's requests (`/me/requests`), the
//! form that files one (online, or at the centre for a household with its consent), a request's
//! page with its timeline and the moves the reader may make, the staff's queue (`/requests`), the
//! public follow-up by reference and code (`/follow`, no sign-in) and the supervisor's report of
//! delays (`/requests/bottlenecks`, with its tables as CSV). Every rule, scope and audit is the
//! `Requests` use-case's; these handlers only turn it into pages. Forms post and redirect, and
//! work without JavaScript.
// A refused request answers with its page at once: the `Err` of these helpers is that page,
// returned by the handler, and boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use axum::Router;
use axum::extract::{Form, Multipart, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sanad_app::Role;
use sanad_app::declarations::{MAX_DOCUMENTS, Upload, check_upload};
use sanad_app::policy::{self, Permission};
use sanad_app::registry::RegistryError;
use sanad_app::requests::{Requests, ServiceRequest, StepVisit, SubmitRequest};
use sanad_domain::{HouseholdId, Territories};
use sanad_web::i18n::plain;
use sanad_web::views::registry::{Fact, Field};
use sanad_web::views::requests::{
    ActionForm, BottlenecksPage, Choice, DocumentLink, FollowPage, MinePage, NewRequestPage, Offer,
    QueuePage, RatingLine, RequestPage, RequestRow, SubmittedPage, TimelineItem, TimingRow,
};
use sanad_web::{Lang, Shell, Tr, url_encode};
use sanad_workflow::{Definition, Timing};
use time::OffsetDateTime;

use super::{Ctx, done, error_words, form_value, pair, query_pairs, render, render_status};
use crate::AppState;
use crate::error::ApiError;

/// The services a household may ask for, in the order the citizen sees them.
const OFFERED: [(&str, &str); 5] = [
    ("programme_application", "gift"),
    ("disability_card", "person"),
    ("registration_attestation", "file"),
    ("household_change", "edit"),
    ("complaint", "alert"),
];

/// How many requests a queue shows.
const QUEUE_LIMIT: u32 = 200;

/// The workflow crate's language for the page's.
fn wf(lang: Lang) -> sanad_workflow::Lang {
    match lang {
        Lang::Ar => sanad_workflow::Lang::Ar,
        Lang::Fr => sanad_workflow::Lang::Fr,
        Lang::En => sanad_workflow::Lang::En,
    }
}

fn service(svc: &Requests, lang: Lang, kind: &str) -> String {
    svc.definition(kind)
        .map(|d| d.title().get(wf(lang)).to_string())
        .unwrap_or_else(|| kind.to_string())
}

fn step_title(d: Option<&Definition>, lang: Lang, step: &str) -> String {
    d.and_then(|d| d.step(step))
        .map(|s| s.title.get(wf(lang)).to_string())
        .unwrap_or_else(|| step.to_string())
}

/// A code's words (`<prefix>-<code>`), or the code itself when none is written.
fn words(t: Tr, prefix: &str, code: &str) -> String {
    let key = format!("{prefix}-{code}");
    if sanad_web::i18n::has(t.lang, &key) {
        t.t(&key)
    } else {
        code.replace('_', " ")
    }
}

/// A document's name: its wording key's words.
fn document_name(t: Tr, key: &str) -> String {
    if sanad_web::i18n::has(t.lang, key) {
        t.t(key)
    } else {
        key.trim_start_matches("doc-").replace('-', " ")
    }
}

/// The step a request starts at: a citizen's own submission step is done by submitting.
fn entry_step(d: &Definition) -> String {
    let initial = d.initial();
    if initial.role == Role::Citizen.as_str()
        && let Ok(m) = d.advance(&initial.id, "submit", Role::Citizen.as_str())
    {
        m.to
    } else {
        initial.id.clone()
    }
}

/// A duration in plain words: "3 days 4 hours", "5 hours", "12 minutes".
pub(super) fn duration(t: Tr, seconds: i64) -> String {
    let s = seconds.max(0);
    let days = s / 86_400;
    let hours = (s % 86_400) / 3_600;
    if days > 0 && hours > 0 {
        format!(
            "{} {}",
            t.tn("requests-days", days),
            t.tn("requests-hours", hours)
        )
    } else if days > 0 {
        t.tn("requests-days", days)
    } else if hours > 0 {
        t.tn("requests-hours", hours)
    } else {
        t.tn("requests-minutes", s / 60)
    }
}

/// The state of a request as a badge: its kind and its words.
fn badge(t: Tr, r: &ServiceRequest) -> (&'static str, String) {
    if r.is_open() {
        return ("warn", t.t("requests-state-open"));
    }
    let outcome = r.outcome.as_deref().unwrap_or("closed");
    let kind = match outcome {
        "approved" | "issued" | "resolved" => "ok",
        "rejected" => "bad",
        _ => "info",
    };
    (kind, words(t, "requests-outcome", outcome))
}

/// What a request is about, in words: the programme applied to, the complaint's subject.
fn subject(state: &AppState, svc: &Requests, lang: Lang, r: &ServiceRequest) -> String {
    let t = Tr::new(lang);
    match r.kind.as_str() {
        "programme_application" => {
            let code = r.subject.clone().unwrap_or_default();
            state
                .targeting
                .as_ref()
                .and_then(|tg| {
                    let engine = tg.engine();
                    engine.programme(&code).map(|p| {
                        let n = &p.programme().names;
                        match lang {
                            Lang::Ar => n.ar.clone(),
                            Lang::Fr => n.fr.clone(),
                            Lang::En => n.en.clone(),
                        }
                    })
                })
                .unwrap_or(code)
        }
        "complaint" => {
            let kind = r
                .subject
                .as_deref()
                .map(|g| words(t, "requests-grievance", g))
                .unwrap_or_default();
            let category = r
                .category
                .as_deref()
                .and_then(|c| svc.complaint_rules().category(c))
                .map(|c| c.title.get(wf(lang)).to_string())
                .unwrap_or_default();
            [kind, category]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ")
        }
        _ => String::new(),
    }
}

fn row(
    state: &AppState,
    svc: &Requests,
    t: Tr,
    r: &ServiceRequest,
    base: &str,
    now: OffsetDateTime,
) -> RequestRow {
    let d = svc.definition(&r.kind);
    let (badge, state_words) = badge(t, r);
    let overdue = r.is_open() && r.due_at.is_some_and(|due| due < now);
    RequestRow {
        href: format!("{base}/{}", r.id),
        reference: r.reference.clone(),
        service: service(svc, t.lang, &r.kind),
        subject: subject(state, svc, t.lang, r),
        step: step_title(d, t.lang, &r.step),
        badge,
        state: state_words,
        due: match r.due_at {
            Some(due) if r.is_open() => t.t1("requests-due", "date", t.datetime(&due)),
            _ => String::new(),
        },
        overdue,
        left: match d.and_then(|d| d.remaining_steps(&r.step)) {
            Some(n) if r.is_open() && n > 0 => t.tn("requests-steps-left", n),
            _ => String::new(),
        },
        submitted: t.t1("requests-submitted-on", "date", t.datetime(&r.submitted_at)),
    }
}

fn service_of(ctx: &Ctx, state: &AppState) -> Result<Requests, Response> {
    state
        .requests
        .clone()
        .ok_or_else(|| ctx.error(ApiError::unavailable()))
}

fn own(ctx: &Ctx) -> Result<HouseholdId, Response> {
    match (ctx.actor.role, ctx.actor.household) {
        (Role::Citizen, Some(h)) => Ok(h),
        _ => Err(ctx.error(ApiError::forbidden("role"))),
    }
}

fn staff(ctx: &Ctx) -> Result<(), Response> {
    ctx.require(ctx.actor.role != Role::Citizen && ctx.actor.role != Role::Partner)
}

fn parse_household(ctx: &Ctx, id: &str) -> Result<HouseholdId, Response> {
    HouseholdId::parse(id).map_err(|_| ctx.error(ApiError::not_found("household")))
}

// ---------------------------------------------------------------------------------------------
// The citizen's list, and a household's list for the centre.

fn offers(svc: &Requests, t: Tr, base: &str) -> Vec<Offer> {
    OFFERED
        .iter()
        .filter(|(kind, _)| svc.definition(kind).is_some())
        .map(|(kind, icon)| Offer {
            href: format!("{base}?kind={kind}"),
            label: t.t(&format!("requests-offer-{kind}")),
            icon,
        })
        .collect()
}

/// `GET /me/requests`: the household's requests and complaints, and the services offered.
async fn mine(State(state): State<AppState>, ctx: Ctx) -> Response {
    let h = match own(&ctx) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let found = match svc.of_household(&ctx.actor, h).await {
        Ok(f) => f,
        Err(e) => return ctx.error(e.into()),
    };
    let t = ctx.t();
    let now = state.registry.now();
    let view = MinePage {
        shell: ctx.shell(t.t("requests-mine-title")),
        t,
        heading: t.t("requests-mine-title"),
        intro: t.t("requests-mine-intro"),
        rows: found
            .iter()
            .map(|r| row(&state, &svc, t, r, "/me/requests", now))
            .collect(),
        offers: offers(&svc, t, "/me/requests/new"),
        follow: Some("/follow".into()),
    };
    render(&view)
}

/// `GET /households/{id}/requests`: a household's requests, and the services the centre may file
/// for it.
async fn of_household(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let h = match parse_household(&ctx, &id) {
        Ok(h) => h,
        Err(r) => return r,
    };
    if let Err(r) = staff(&ctx) {
        return r;
    }
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let found = match svc.of_household(&ctx.actor, h).await {
        Ok(f) => f,
        Err(e) => return ctx.error(e.into()),
    };
    let t = ctx.t();
    let now = state.registry.now();
    let heading = t.t1("requests-household-title", "id", h);
    let may_file = policy::role_grants(ctx.actor.role, Permission::SubmitRequests);
    let view = MinePage {
        shell: ctx.shell(heading.clone()),
        t,
        heading,
        intro: t.t("requests-household-intro"),
        rows: found
            .iter()
            .map(|r| row(&state, &svc, t, r, "/requests", now))
            .collect(),
        offers: if may_file {
            offers(&svc, t, &format!("/households/{h}/requests/new"))
        } else {
            Vec::new()
        },
        follow: None,
    };
    render(&view)
}

// ---------------------------------------------------------------------------------------------
// Filing a request.

/// A multipart form as sent: its text fields, its checked files, and what was wrong with a file.
#[derive(Default)]
struct Posted {
    fields: Vec<(String, String)>,
    documents: Vec<Upload>,
    document_error: Option<String>,
}

impl Posted {
    fn get(&self, key: &str) -> String {
        form_value(&self.fields, key)
    }
}

async fn read(mut form: Multipart, t: Tr) -> Result<Posted, ApiError> {
    let mut p = Posted::default();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| ApiError::bad_field("form", "format", "a multipart form"))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "documents" {
            let file = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| ApiError::too_large())?;
            // A file input left empty sends a part with no name and no bytes.
            if file.is_empty() && bytes.is_empty() {
                continue;
            }
            match check_upload(&file, bytes.to_vec()) {
                Ok(u) => p.documents.push(u),
                Err(RegistryError::Validation(v)) => {
                    let code = v.0.first().map(|f| f.code.clone()).unwrap_or_default();
                    p.document_error
                        .get_or_insert_with(|| error_words(t, &code));
                }
                Err(_) => p.document_error = Some(error_words(t, "invalid")),
            }
        } else {
            let text = field
                .text()
                .await
                .map_err(|_| ApiError::bad_field("form", "format", "a multipart form"))?;
            p.fields.push((name, text));
        }
    }
    if p.documents.len() > MAX_DOCUMENTS && p.document_error.is_none() {
        p.document_error = Some(t.tn("requests-error-too-many-documents", MAX_DOCUMENTS));
    }
    Ok(p)
}

/// A field's error in the reader's words: this page's own wording for the field and code when
/// there is one, else the registry's for the code.
fn field_error(t: Tr, field: &str, code: &str) -> String {
    let key = format!("requests-error-{field}-{code}");
    if sanad_web::i18n::has(t.lang, &key) {
        t.t(&key)
    } else {
        error_words(t, code)
    }
}

struct NewForm<'a> {
    kind: &'a str,
    /// `Some` when the centre files it for this household.
    household: Option<HouseholdId>,
    posted: &'a Posted,
    errors: &'a [(String, String)],
}

fn new_page(
    ctx: &Ctx,
    state: &AppState,
    svc: &Requests,
    d: &Definition,
    f: &NewForm<'_>,
) -> NewRequestPage {
    let t = ctx.t();
    let lang = ctx.lang;
    let err = |name: &str| {
        f.errors
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, m)| m.clone())
    };
    let title = d.title().get(wf(lang)).to_string();
    let heading = match f.household {
        Some(h) => t.t2("requests-assisted-title", "service", &title, "id", h),
        None => title,
    };
    let posted = |k: &str| f.posted.get(k);
    let entry = entry_step(d);
    let documents = d
        .step(&entry)
        .map(|s| s.documents.iter().map(|k| document_name(t, k)).collect())
        .unwrap_or_default();
    let programmes = if f.kind == "programme_application" {
        state
            .targeting
            .as_ref()
            .map(|tg| {
                tg.engine()
                    .programmes()
                    .iter()
                    .map(|p| {
                        let p = p.programme();
                        Choice {
                            value: p.code.clone(),
                            label: match lang {
                                Lang::Ar => p.names.ar.clone(),
                                Lang::Fr => p.names.fr.clone(),
                                Lang::En => p.names.en.clone(),
                            },
                            selected: posted("programme") == p.code,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let (grievances, categories) = if f.kind == "complaint" {
        let chosen = posted("grievance");
        let chosen = if chosen.is_empty() {
            "complaint".to_string()
        } else {
            chosen
        };
        (
            ["complaint", "suggestion", "observation"]
                .iter()
                .map(|g| Choice {
                    value: (*g).to_string(),
                    label: t.t(&format!("requests-grievance-{g}")),
                    selected: chosen == *g,
                })
                .collect(),
            svc.complaint_rules()
                .categories()
                .iter()
                .map(|c| Choice {
                    value: c.id.clone(),
                    label: c.title.get(wf(lang)).to_string(),
                    selected: posted("category") == c.id,
                })
                .collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let channel = posted("channel");
    let action = match f.household {
        Some(h) => format!("/households/{h}/requests/new"),
        None => "/me/requests/new".into(),
    };
    NewRequestPage {
        shell: ctx.shell(heading.clone()),
        t,
        heading,
        action,
        kind: f.kind.to_string(),
        documents,
        programmes,
        programme_error: err("programme"),
        grievances,
        grievance_error: err("grievance"),
        categories,
        category_error: err("category"),
        details: Field {
            name: "details".into(),
            value: posted("details"),
            error: err("details"),
        },
        documents_error: err("documents"),
        max_documents: MAX_DOCUMENTS,
        assisted: f.household.is_some(),
        channels: ["centre", "phone"]
            .iter()
            .map(|c| Choice {
                value: (*c).to_string(),
                label: t.t(&format!("requests-channel-{c}")),
                selected: channel == *c || (channel.is_empty() && *c == "centre"),
            })
            .collect(),
        consent_error: err("consent"),
        error: err("general"),
    }
}

fn kind_of(raw: Option<String>) -> String {
    pair(&query_pairs(raw), "kind").unwrap_or("").to_string()
}

async fn form_for(
    state: AppState,
    ctx: Ctx,
    household: Option<HouseholdId>,
    kind: String,
) -> Response {
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(d) = svc.definition(&kind) else {
        return ctx.error(ApiError::not_found("request type"));
    };
    let posted = Posted::default();
    render(&new_page(
        &ctx,
        &state,
        &svc,
        d,
        &NewForm {
            kind: &kind,
            household,
            posted: &posted,
            errors: &[],
        },
    ))
}

/// `GET /me/requests/new?kind=…`.
async fn new_own(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    if let Err(r) = own(&ctx) {
        return r;
    }
    form_for(state, ctx, None, kind_of(raw)).await
}

/// `GET /households/{id}/requests/new?kind=…`: filed at the centre, with the citizen's consent.
async fn new_assisted(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let h = match parse_household(&ctx, &id) {
        Ok(h) => h,
        Err(r) => return r,
    };
    if let Err(r) = ctx.require(
        ctx.actor.role != Role::Citizen
            && policy::role_grants(ctx.actor.role, Permission::SubmitRequests),
    ) {
        return r;
    }
    // The household must be one the agent may see.
    if let Err(e) = state
        .registry
        .household(
            &ctx.actor,
            h,
            &sanad_app::registry::Purpose("request".into()),
        )
        .await
    {
        return ctx.error(e.into());
    }
    form_for(state, ctx, Some(h), kind_of(raw)).await
}

async fn file(
    state: AppState,
    ctx: Ctx,
    household: Option<HouseholdId>,
    form: Multipart,
) -> Response {
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = ctx.t();
    let posted = match read(form, t).await {
        Ok(p) => p,
        Err(e) => return ctx.error(e),
    };
    let kind = posted.get("kind");
    let Some(d) = svc.definition(&kind) else {
        return ctx.error(ApiError::not_found("request type"));
    };
    let assisted = household.is_some();
    let mut errors: Vec<(String, String)> = Vec::new();
    if let Some(e) = &posted.document_error {
        errors.push(("documents".into(), e.clone()));
    }
    let consent = posted.get("consent") == "1";
    if assisted && !consent {
        errors.push(("consent".into(), t.t("form-consent-needed")));
    }
    // Online, the citizen gives the documents the first step asks for (at the centre they may
    // be brought on paper), and a complaint says what happened.
    let entry = d
        .advance(&d.initial().id, "submit", "citizen")
        .map(|m| m.to)
        .unwrap_or_else(|_| d.initial().id.clone());
    let asks_documents = d.step(&entry).is_some_and(|st| !st.documents.is_empty());
    if !assisted && asks_documents && posted.documents.is_empty() && posted.document_error.is_none()
    {
        errors.push(("documents".into(), t.t("requests-error-documents-required")));
    }
    if kind == "complaint" && posted.get("details").trim().is_empty() {
        errors.push(("details".into(), t.t("requests-error-details-required")));
    }
    if kind == "programme_application" {
        let code = posted.get("programme");
        let known = state
            .targeting
            .as_ref()
            .is_some_and(|tg| tg.engine().programme(&code).is_some());
        if !known {
            errors.push((
                "programme".into(),
                t.t("requests-error-programme-unknown_programme"),
            ));
        }
    }
    if errors.is_empty() {
        let optional = |k: &str| Some(posted.get(k)).filter(|v| !v.is_empty());
        let s = SubmitRequest {
            kind: kind.clone(),
            household_id: household,
            programme: optional("programme"),
            grievance: optional("grievance"),
            category: optional("category"),
            channel: if assisted { optional("channel") } else { None },
            details: posted.get("details"),
            documents: posted.documents.clone(),
            consent,
            // The SMS of receipt speaks the language of the page it was filed on.
            lang: Some(match ctx.lang {
                Lang::Ar => sanad_domain::Lang::Ar,
                Lang::Fr => sanad_domain::Lang::Fr,
                Lang::En => sanad_domain::Lang::En,
            }),
        };
        let reason = if assisted {
            "filed at the centre for the citizen"
        } else {
            "filed online by the citizen"
        };
        match svc.submit(&ctx.actor, s, reason).await {
            Ok(sub) => {
                let href = if assisted {
                    format!("/requests/{}", sub.request.id)
                } else {
                    format!("/me/requests/{}", sub.request.id)
                };
                let view = SubmittedPage {
                    shell: ctx.shell(t.t("requests-submitted-title")),
                    t,
                    service: service(&svc, ctx.lang, &kind),
                    reference: sub.request.reference.clone(),
                    secret: sub.secret,
                    href,
                    follow: "/follow".into(),
                };
                let mut response = render(&view);
                // The code is shown once: no copy of this page is kept.
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                return response;
            }
            Err(RegistryError::Validation(v)) => {
                for f in v.0 {
                    let field = match f.field.as_str() {
                        "programme" | "grievance" | "category" | "details" | "documents"
                        | "consent" => f.field.clone(),
                        _ => "general".into(),
                    };
                    let words = field_error(t, &f.field, &f.code);
                    errors.push((field, words));
                }
            }
            Err(e) => return ctx.error(e.into()),
        }
    }
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &new_page(
            &ctx,
            &state,
            &svc,
            d,
            &NewForm {
                kind: &kind,
                household,
                posted: &posted,
                errors: &errors,
            },
        ),
    )
}

/// `POST /me/requests/new`.
async fn file_own(State(state): State<AppState>, ctx: Ctx, form: Multipart) -> Response {
    if let Err(r) = own(&ctx) {
        return r;
    }
    file(state, ctx, None, form).await
}

/// `POST /households/{id}/requests/new`.
async fn file_assisted(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Multipart,
) -> Response {
    let h = match parse_household(&ctx, &id) {
        Ok(h) => h,
        Err(r) => return r,
    };
    if let Err(r) = ctx.require(ctx.actor.role != Role::Citizen) {
        return r;
    }
    file(state, ctx, Some(h), form).await
}

// ---------------------------------------------------------------------------------------------
// A request's page.

/// What the page of a request shows beside the request itself.
#[derive(Default)]
struct Shown {
    conflict: bool,
    error: Option<String>,
}

fn timeline(
    svc: &Requests,
    t: Tr,
    r: &ServiceRequest,
    visits: &[StepVisit],
    citizen: bool,
    now: OffsetDateTime,
) -> Vec<TimelineItem> {
    let d = svc.definition(&r.kind);
    let mut items: Vec<TimelineItem> = visits
        .iter()
        .map(|v| {
            let current = v.left_at.is_none() && r.is_open();
            let role = Role::parse(&v.role)
                .map(|role| t.t(super::role_key(role)))
                .unwrap_or_else(|| v.role.clone());
            // A citizen reads which role acted, not which colleague.
            let who = if citizen || v.actor.is_empty() {
                role
            } else {
                format!("{} ({role})", v.actor)
            };
            let stay = match v.left_at {
                Some(left) => t.t1(
                    "requests-stayed",
                    "time",
                    duration(t, (left - v.entered_at).whole_seconds()),
                ),
                None if current => t.t1(
                    "requests-waiting-since",
                    "time",
                    duration(t, (now - v.entered_at).whole_seconds()),
                ),
                None => String::new(),
            };
            TimelineItem {
                when: t.datetime(&v.entered_at),
                step: step_title(d, t.lang, &v.step),
                action: words(t, "requests-action", &v.action),
                who,
                // The first visit's reason is the system's note of how it was filed, in the
                // use-case's words: the reader gets it in theirs.
                reason: if v.seq == 1 && v.action == "submit" {
                    if r.assisted {
                        t.t("requests-filed-assisted")
                    } else {
                        String::new()
                    }
                } else {
                    v.reason.clone()
                },
                stay,
                current,
            }
        })
        .collect();
    // The newest first: what happened last is what the reader looks for.
    items.reverse();
    items
}

async fn detail(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let svc = match service_of(ctx, state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let r = match svc.request(&ctx.actor, id).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e.into()),
    };
    let visits = match svc.history(&ctx.actor, id).await {
        Ok(v) => v,
        Err(e) => return ctx.error(e.into()),
    };
    let t = ctx.t();
    let lang = ctx.lang;
    let citizen = ctx.actor.role == Role::Citizen;
    let base = if citizen { "/me/requests" } else { "/requests" };
    let now = state.registry.now();
    let d = svc.definition(&r.kind);
    let (_, state_words) = badge(t, &r);
    let mut facts = vec![
        Fact {
            label: t.t("requests-reference"),
            value: r.reference.clone(),
        },
        Fact {
            label: t.t("requests-service"),
            value: service(&svc, lang, &r.kind),
        },
    ];
    let about = subject(state, &svc, lang, &r);
    if !about.is_empty() {
        facts.push(Fact {
            label: t.t("requests-about"),
            value: about,
        });
    }
    facts.push(Fact {
        label: t.t("requests-step"),
        value: step_title(d, lang, &r.step),
    });
    facts.push(Fact {
        label: t.t("requests-state"),
        value: state_words,
    });
    if let Some(due) = r.due_at.filter(|_| r.is_open()) {
        let late = due < now;
        facts.push(Fact {
            label: t.t("requests-deadline"),
            value: if late {
                format!("{} — {}", t.datetime(&due), t.t("requests-overdue"))
            } else {
                t.datetime(&due)
            },
        });
    }
    if let Some(n) = d
        .and_then(|d| d.remaining_steps(&r.step))
        .filter(|n| r.is_open() && *n > 0)
    {
        facts.push(Fact {
            label: t.t("requests-progress"),
            value: t.tn("requests-steps-left", n),
        });
    }
    facts.push(Fact {
        label: t.t("requests-submitted"),
        value: t.datetime(&r.submitted_at),
    });
    if let Some(closed) = r.closed_at {
        facts.push(Fact {
            label: t.t("requests-closed"),
            value: t.datetime(&closed),
        });
    }
    if !citizen {
        facts.push(Fact {
            label: t.t("requests-channel"),
            value: words(t, "requests-channel", &r.channel),
        });
        facts.push(Fact {
            label: t.t("requests-centre"),
            value: centre_name(t, &r.routing.centre),
        });
        if r.escalation_level > 0 {
            facts.push(Fact {
                label: t.t("requests-escalated"),
                value: Role::parse(&r.queue_role)
                    .map(|role| t.t(super::role_key(role)))
                    .unwrap_or_else(|| r.queue_role.clone()),
            });
        }
    }
    let offered = svc.actions(&ctx.actor, &r);
    // A move that issues a disability card names its holder among the household's members.
    let issues_card = offered.iter().any(|a| {
        d.and_then(|d| d.step(&a.to))
            .is_some_and(|s| s.issues.as_deref() == Some("disability_card"))
    });
    let members: Vec<Choice> = match (issues_card, r.household_id) {
        (true, Some(h)) => state
            .registry
            .household(
                &ctx.actor,
                h,
                &sanad_app::registry::Purpose(format!("decision {}", r.reference)),
            )
            .await
            .map(|h| {
                h.members
                    .iter()
                    .map(|m| Choice {
                        value: m.id.to_string(),
                        label: super::household::names(lang, m).0,
                        selected: false,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let degrees: Vec<Choice> = ["mild", "moderate", "severe", "profound"]
        .iter()
        .map(|d| Choice {
            value: d.to_string(),
            label: t.t(&format!("requests-degree-{d}")),
            selected: false,
        })
        .collect();
    let certificate = match (&state.certificates, r.is_open()) {
        (Some(c), false) => c.of_request(r.id).await.ok().flatten().map(|c| {
            sanad_web::views::certificates::CertificateLink {
                href: format!("/certificates/{}/pdf", c.id),
                label: super::certificates::kind_words(t, &c.kind),
                revoked: c
                    .revocation
                    .as_ref()
                    .map(|x| super::certificates::reason_words(t, x.reason)),
                number: c.id,
            }
        }),
        _ => None,
    };
    let actions = offered
        .into_iter()
        .map(|a| {
            let next = d.and_then(|d| d.step(&a.to));
            let card = next.is_some_and(|s| s.issues.as_deref() == Some("disability_card"));
            ActionForm {
                members: if card { members.clone() } else { Vec::new() },
                degrees: if card { degrees.clone() } else { Vec::new() },
                label: words(t, "requests-action", &a.action),
                reason_required: a.reason_required,
                documents: next
                    .map(|s| s.documents.iter().map(|k| document_name(t, k)).collect())
                    .unwrap_or_default(),
                danger: next
                    .and_then(|s| s.outcome)
                    .is_some_and(|o| matches!(o.as_str(), "rejected" | "withdrawn" | "closed")),
                action: a.action,
            }
        })
        .collect();
    let may_reopen = citizen
        && !r.is_open()
        && d.is_some_and(|d| d.reopen_to().is_some())
        && svc
            .complaint_rules()
            .can_reopen(r.closed_at.unwrap_or(r.updated_at), now);
    let view = RequestPage {
        shell: ctx.shell(r.reference.clone()),
        t,
        heading: t.t2(
            "requests-detail-title",
            "service",
            service(&svc, lang, &r.kind),
            "reference",
            &r.reference,
        ),
        facts,
        household: match (citizen, r.household_id) {
            (false, Some(h)) => Some(format!("/households/{h}")),
            _ => None,
        },
        details: r.details.clone(),
        documents: r
            .documents
            .iter()
            .map(|doc| DocumentLink {
                href: format!("/requests/{}/documents/{}", r.id, doc.sha256),
                name: doc.name.clone(),
                size: t.tn("requests-kilobytes", (doc.size + 1023) / 1024),
            })
            .collect(),
        timeline: timeline(&svc, t, &r, &visits, citizen, now),
        answer: r.answer.clone().filter(|_| !r.is_open()),
        outcome: r
            .outcome
            .as_deref()
            .map(|o| words(t, "requests-outcome", o)),
        act: format!("{base}/{}/act", r.id),
        version: r.version,
        actions,
        max_documents: MAX_DOCUMENTS,
        reopen: may_reopen.then(|| format!("{base}/{}/reopen", r.id)),
        rate: (citizen && !r.is_open() && r.rating.is_none())
            .then(|| format!("{base}/{}/rate", r.id)),
        rating: r
            .rating
            .as_ref()
            .map(|x| t.tn("requests-rated", i64::from(x.rating))),
        conflict: shown.conflict,
        error: shown.error,
        back: base.to_string(),
        certificate,
    };
    render_status(status, &view)
}

fn parse_id(ctx: &Ctx, id: &str) -> Result<i64, Response> {
    id.parse::<i64>()
        .map_err(|_| ctx.error(ApiError::not_found("request")))
}

/// `GET /me/requests/{id}` and `GET /requests/{id}`.
async fn page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let id = match parse_id(&ctx, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    // Each reader has their own address: a citizen under /me, the staff under /requests.
    let citizen = ctx.actor.role == Role::Citizen;
    if citizen != ctx.path_only().starts_with("/me/") {
        return ctx.error(ApiError::not_found("request"));
    }
    detail(&state, &ctx, id, StatusCode::OK, Shown::default()).await
}

/// The page after a refused move: someone else moved it, or a rule refused it.
async fn refused(state: &AppState, ctx: &Ctx, id: i64, e: RegistryError) -> Response {
    let t = ctx.t();
    let api: ApiError = e.into();
    if api.code() == "version_conflict" {
        return detail(
            state,
            ctx,
            id,
            StatusCode::CONFLICT,
            Shown {
                conflict: true,
                error: None,
            },
        )
        .await;
    }
    let status = api.status();
    if status == StatusCode::NOT_FOUND
        || status == StatusCode::FORBIDDEN
        || status.is_server_error()
    {
        return ctx.error(api);
    }
    let text = if let Some(f) = api.field_errors().first() {
        field_error(t, &f.field, &f.code)
    } else {
        match api.detail_text() {
            Some(detail) if !detail.is_empty() => format!("{} ({detail})", t.t("error-refused")),
            _ => t.t("error-conflict"),
        }
    };
    detail(
        state,
        ctx,
        id,
        status,
        Shown {
            conflict: false,
            error: Some(text),
        },
    )
    .await
}

/// Whether the version posted is the request's (else the page says someone else moved it).
async fn same_version(svc: &Requests, ctx: &Ctx, id: i64, posted: &str) -> Result<u32, bool> {
    let Ok(version) = posted.trim().parse::<u32>() else {
        return Err(true);
    };
    match svc.request(&ctx.actor, id).await {
        Ok(r) if r.version == version => Ok(version),
        Ok(_) => Err(true),
        // Not found or hidden: the move itself answers it.
        Err(_) => Ok(version),
    }
}

/// `POST /me/requests/{id}/act` and `POST /requests/{id}/act`: one move by one of the actions
/// offered, with its reason and documents, at the version the reader saw.
async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Multipart,
) -> Response {
    let id = match parse_id(&ctx, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let posted = match read(form, ctx.t()).await {
        Ok(p) => p,
        Err(e) => return ctx.error(e),
    };
    let version = match same_version(&svc, &ctx, id, &posted.get("version")).await {
        Ok(v) => v,
        Err(_) => {
            let shown = Shown {
                conflict: true,
                error: None,
            };
            return detail(&state, &ctx, id, StatusCode::CONFLICT, shown).await;
        }
    };
    if let Some(e) = posted.document_error.clone() {
        let shown = Shown {
            conflict: false,
            error: Some(format!("{}: {e}", ctx.t().t("requests-documents"))),
        };
        return detail(&state, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, shown).await;
    }
    let action = posted.get("action");
    let issue = sanad_app::certificates::IssueFacts {
        person_id: posted.get("person_id").trim().parse().ok(),
        degree: sanad_app::certificates::parse_degree(posted.get("degree").trim()),
    };
    match svc
        .act_issuing(
            &ctx.actor,
            id,
            version,
            &action,
            &posted.get("reason"),
            posted.documents.clone(),
            &issue,
        )
        .await
    {
        Ok(r) => {
            let base = if ctx.actor.role == Role::Citizen {
                "/me/requests"
            } else {
                "/requests"
            };
            done(&format!("{base}/{}", r.id), "done-request-moved")
        }
        Err(e) => refused(&state, &ctx, id, e).await,
    }
}

/// `POST /me/requests/{id}/reopen`: the answer does not settle it.
async fn reopen(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let id = match parse_id(&ctx, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if let Err(r) = own(&ctx) {
        return r;
    }
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let version = match same_version(&svc, &ctx, id, &form_value(&form, "version")).await {
        Ok(v) => v,
        Err(_) => {
            let shown = Shown {
                conflict: true,
                error: None,
            };
            return detail(&state, &ctx, id, StatusCode::CONFLICT, shown).await;
        }
    };
    match svc
        .reopen(&ctx.actor, id, version, &form_value(&form, "reason"))
        .await
    {
        Ok(_) => done(&format!("/me/requests/{id}"), "done-request-reopened"),
        Err(e) => refused(&state, &ctx, id, e).await,
    }
}

/// `POST /me/requests/{id}/rate`: a mark from 1 to 5 and a comment, once it is closed.
async fn rate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let id = match parse_id(&ctx, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if let Err(r) = own(&ctx) {
        return r;
    }
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    // A missing mark is out of range, and said so.
    let mark = form_value(&form, "rating").parse::<u8>().unwrap_or(0);
    match svc
        .rate(&ctx.actor, id, mark, &form_value(&form, "comment"))
        .await
    {
        Ok(()) => done(&format!("/me/requests/{id}"), "done-request-rated"),
        Err(e) => refused(&state, &ctx, id, e).await,
    }
}

/// `GET /requests/{id}/documents/{sha}`: a document of a request the reader may see.
async fn document(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, sha)): Path<(String, String)>,
) -> Response {
    let id = match parse_id(&ctx, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match svc.document(&ctx.actor, id, &sha).await {
        Ok((media, bytes)) => {
            let mut r = bytes.into_response();
            let headers = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&media) {
                headers.insert(header::CONTENT_TYPE, v);
            }
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment"),
            );
            r
        }
        Err(e) => ctx.error(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The staff's queue.

fn kind_choices(svc: &Requests, lang: Lang, chosen: &str) -> Vec<Choice> {
    svc.definitions()
        .map(|d| Choice {
            value: d.kind().to_string(),
            label: d.title().get(wf(lang)).to_string(),
            selected: d.kind() == chosen,
        })
        .collect()
}

/// `GET /requests?kind=…`: the requests waiting for the reader's role in their territories, the
/// most urgent first.
async fn queue(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    if let Err(r) = staff(&ctx) {
        return r;
    }
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let kind = kind_of(raw);
    let kinds: Vec<String> = if svc.definition(&kind).is_some() {
        vec![kind.clone()]
    } else {
        Vec::new()
    };
    let found = match svc.queue(&ctx.actor, &kinds, QUEUE_LIMIT).await {
        Ok(f) => f,
        Err(e) => return ctx.error(e.into()),
    };
    let t = ctx.t();
    let now = state.registry.now();
    let rows: Vec<RequestRow> = found
        .iter()
        .map(|r| row(&state, &svc, t, r, "/requests", now))
        .collect();
    let view = QueuePage {
        shell: ctx.shell(t.t("requests-queue-title")),
        t,
        overdue: rows.iter().filter(|r| r.overdue).count(),
        rows,
        kinds: kind_choices(&svc, ctx.lang, &kind),
    };
    render(&view)
}

// ---------------------------------------------------------------------------------------------
// The public follow-up.

fn follow_page(lang: Lang, reference: String) -> FollowPage {
    let t = Tr::new(lang);
    FollowPage {
        shell: Shell::new(lang, t.t("requests-follow-title"), "/follow"),
        t,
        reference,
        not_found: false,
        error: None,
        status: Vec::new(),
        answer: None,
    }
}

/// `GET /follow`: the form (no sign-in).
async fn follow_form(parts: axum::http::request::Parts) -> Response {
    let lang = super::lang_of(&parts.headers);
    render(&follow_page(lang, String::new()))
}

/// `POST /follow`: where a request stands, for its reference and code. A wrong code and an
/// unknown reference get the same page.
async fn follow(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let lang = super::lang_of(&parts.headers);
    let t = Tr::new(lang);
    let reference = form_value(&form, "reference").to_ascii_uppercase();
    let mut view = follow_page(lang, reference.clone());
    let Some(svc) = state.requests.as_ref() else {
        return super::error_page(lang, "/follow", &ApiError::unavailable());
    };
    match svc
        .follow(&reference, &form_value(&form, "secret"), wf(lang))
        .await
    {
        Ok(s) => {
            let (_, state_words) = if s.state == "open" {
                ("warn", t.t("requests-state-open"))
            } else {
                (
                    "info",
                    words(
                        t,
                        "requests-outcome",
                        s.outcome.as_deref().unwrap_or("closed"),
                    ),
                )
            };
            let mut facts = vec![
                Fact {
                    label: t.t("requests-reference"),
                    value: s.reference.clone(),
                },
                Fact {
                    label: t.t("requests-service"),
                    value: s.kind.clone(),
                },
                Fact {
                    label: t.t("requests-step"),
                    value: s.step.clone(),
                },
                Fact {
                    label: t.t("requests-state"),
                    value: state_words,
                },
                Fact {
                    label: t.t("requests-submitted"),
                    value: t.datetime(&s.submitted_at),
                },
                Fact {
                    label: t.t("requests-updated"),
                    value: t.datetime(&s.updated_at),
                },
            ];
            if let Some(due) = s.due_at.filter(|_| s.state == "open") {
                facts.push(Fact {
                    label: t.t("requests-deadline"),
                    value: t.datetime(&due),
                });
            }
            if let Some(n) = s.steps_left.filter(|n| s.state == "open" && *n > 0) {
                facts.push(Fact {
                    label: t.t("requests-progress"),
                    value: t.tn("requests-steps-left", n),
                });
            }
            view.status = facts;
            view.answer = s.answer.clone().filter(|_| s.state != "open");
            let mut response = render(&view);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(RegistryError::Store(sanad_app::StoreError::Internal(_))) => {
            super::error_page(lang, "/follow", &ApiError::internal())
        }
        // Unknown, wrong code or badly written: one answer, that says nothing of which.
        Err(_) => {
            view.not_found = true;
            render_status(StatusCode::NOT_FOUND, &view)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The supervisor's report of delays.

/// A territory's name, or its code.
fn place_name(lang: Lang, code: &str) -> String {
    match Territories::morocco().get(code) {
        Some(t) if lang == Lang::Ar => t.name_ar.clone(),
        Some(t) => t.name_fr.clone(),
        None => code.to_string(),
    }
}

/// A centre: a commune's centre, or a unit of a province (`unit@province`).
fn centre_name(t: Tr, centre: &str) -> String {
    match centre.split_once('@') {
        Some((unit, place)) => format!(
            "{} — {}",
            words(t, "requests-unit", unit),
            place_name(t.lang, place)
        ),
        None => place_name(t.lang, centre),
    }
}

fn seconds(t: Tr, s: Option<i64>) -> String {
    s.map(|s| duration(t, s)).unwrap_or_else(|| "—".into())
}

fn timing_row(svc: &Requests, t: Tr, r: &sanad_workflow::Row, place: String) -> TimingRow {
    let d = svc.definition(&r.kind);
    let Timing {
        count,
        median_seconds,
        p90_seconds,
        ..
    } = r.finished;
    TimingRow {
        service: service(svc, t.lang, &r.kind),
        step: step_title(d, t.lang, &r.step),
        place,
        finished: t.num(count),
        median: seconds(t, median_seconds),
        p90: seconds(t, p90_seconds),
        open: t.num(r.open.count),
        waiting: seconds(t, r.open.median_seconds),
        breaches: t.num(r.breaches()),
        late: r.breaches() > 0,
    }
}

struct Asked {
    territory: String,
    kind: String,
}

impl Asked {
    fn of(raw: Option<String>) -> Asked {
        let pairs = query_pairs(raw);
        Asked {
            territory: form_value(&pairs, "territory"),
            kind: form_value(&pairs, "kind"),
        }
    }

    fn kinds(&self, svc: &Requests) -> Vec<String> {
        if svc.definition(&self.kind).is_some() {
            vec![self.kind.clone()]
        } else {
            Vec::new()
        }
    }

    fn territory(&self) -> Option<&str> {
        Some(self.territory.as_str()).filter(|t| !t.is_empty())
    }

    fn csv(&self, table: &str) -> String {
        let mut link = format!("/requests/bottlenecks.csv?table={table}");
        if !self.territory.is_empty() {
            link.push_str(&format!("&territory={}", url_encode(&self.territory)));
        }
        if !self.kind.is_empty() {
            link.push_str(&format!("&kind={}", url_encode(&self.kind)));
        }
        link
    }
}

type Figures = (sanad_workflow::Report, Vec<sanad_app::requests::RatingRow>);

async fn figures(svc: &Requests, ctx: &Ctx, asked: &Asked) -> Result<Figures, Response> {
    let report = svc
        .bottlenecks(&ctx.actor, asked.territory(), &asked.kinds(svc))
        .await
        .map_err(|e| ctx.error(e.into()))?;
    let mut ratings = svc
        .ratings(&ctx.actor, asked.territory())
        .await
        .map_err(|e| ctx.error(e.into()))?;
    if !asked.kind.is_empty() {
        ratings.retain(|r| r.kind == asked.kind);
    }
    Ok((report, ratings))
}

/// `GET /requests/bottlenecks?territory=…&kind=…`.
async fn bottlenecks(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    if let Err(r) = staff(&ctx) {
        return r;
    }
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let asked = Asked::of(raw);
    let (report, ratings) = match figures(&svc, &ctx, &asked).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let t = ctx.t();
    let lang = ctx.lang;
    let waiting_most = report
        .waiting_most
        .as_ref()
        .filter(|w| w.open > 0)
        .map(|w| {
            let d = svc.definition(&w.kind);
            let place = format!(
                "{} — {}",
                step_title(d, lang, &w.step),
                service(&svc, lang, &w.kind)
            );
            t.tn1("requests-waiting-most", w.open, "step", place)
        });
    let view = BottlenecksPage {
        shell: ctx.shell(t.t("requests-delays-title")),
        t,
        kinds: kind_choices(&svc, lang, &asked.kind),
        territory: asked.territory.clone(),
        waiting_most,
        steps: report
            .steps
            .iter()
            .map(|r| timing_row(&svc, t, r, String::new()))
            .collect(),
        centres: report
            .by_centre
            .iter()
            .map(|r| {
                let place = centre_name(t, r.centre.as_deref().unwrap_or(""));
                timing_row(&svc, t, r, place)
            })
            .collect(),
        territories: report
            .by_territory
            .iter()
            .map(|r| {
                let place = place_name(lang, r.territory.as_deref().unwrap_or(""));
                timing_row(&svc, t, r, place)
            })
            .collect(),
        ratings: ratings
            .iter()
            .map(|r| RatingLine {
                service: service(&svc, lang, &r.kind),
                centre: centre_name(t, &r.centre),
                average: if r.count > 0 {
                    t.t1(
                        "requests-out-of-five",
                        "mark",
                        t.dec(r.sum as f64 / r.count as f64, 1),
                    )
                } else {
                    "—".into()
                },
                count: t.num(r.count),
            })
            .collect(),
        csv: ["steps", "centres", "territories", "ratings"]
            .iter()
            .map(|k| ((*k).to_string(), asked.csv(k)))
            .collect(),
    };
    render(&view)
}

/// `GET /requests/bottlenecks.csv?table=steps|centres|territories|ratings`: a table of the
/// report, durations in seconds.
async fn bottlenecks_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(r) = staff(&ctx) {
        return r;
    }
    let svc = match service_of(&ctx, &state) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let table = pair(&query_pairs(raw.clone()), "table")
        .unwrap_or("steps")
        .to_string();
    let asked = Asked::of(raw);
    let (report, ratings) = match figures(&svc, &ctx, &asked).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let t = ctx.t();
    let lang = ctx.lang;
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let head = |keys: &[&str]| keys.iter().map(|k| t.t(k)).collect::<Vec<_>>();
    let timing_head = [
        "requests-col-service",
        "requests-col-step",
        "requests-col-finished",
        "requests-col-median-seconds",
        "requests-col-p90-seconds",
        "requests-col-open",
        "requests-col-waiting-seconds",
        "requests-col-breaches",
    ];
    let timing = |r: &sanad_workflow::Row| {
        vec![
            service(&svc, lang, &r.kind),
            step_title(svc.definition(&r.kind), lang, &r.step),
            r.finished.count.to_string(),
            n(r.finished.median_seconds),
            n(r.finished.p90_seconds),
            r.open.count.to_string(),
            n(r.open.median_seconds),
            r.breaches().to_string(),
        ]
    };
    let (file, rows): (&str, Vec<Vec<String>>) = match table.as_str() {
        "centres" | "territories" => {
            let by_centre = table == "centres";
            let mut h = vec![
                "code".to_string(),
                t.t(if by_centre {
                    "requests-col-centre"
                } else {
                    "requests-col-territory"
                }),
            ];
            h.extend(head(&timing_head));
            let mut out = vec![h];
            let source = if by_centre {
                &report.by_centre
            } else {
                &report.by_territory
            };
            for r in source {
                let code = if by_centre {
                    r.centre.clone().unwrap_or_default()
                } else {
                    r.territory.clone().unwrap_or_default()
                };
                let name = if by_centre {
                    centre_name(t, &code)
                } else {
                    place_name(lang, &code)
                };
                let mut line = vec![code, name];
                line.extend(timing(r));
                out.push(line);
            }
            if by_centre {
                ("delays-centres.csv", out)
            } else {
                ("delays-territories.csv", out)
            }
        }
        "ratings" => {
            let mut out = vec![head(&[
                "requests-col-service",
                "requests-col-centre",
                "requests-col-average",
                "requests-col-ratings",
            ])];
            for r in &ratings {
                out.push(vec![
                    service(&svc, lang, &r.kind),
                    centre_name(t, &r.centre),
                    if r.count > 0 {
                        format!("{:.2}", r.sum as f64 / r.count as f64)
                    } else {
                        String::new()
                    },
                    r.count.to_string(),
                ]);
            }
            ("ratings.csv", out)
        }
        _ => {
            let mut out = vec![head(&timing_head)];
            out.extend(report.steps.iter().map(timing));
            ("delays-steps.csv", out)
        }
    };
    csv_response(file, rows)
}

fn csv_response(name: &str, rows: Vec<Vec<String>>) -> Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        if writer.write_record(row.iter().map(|c| plain(c))).is_err() {
            return ApiError::internal().into_response();
        }
    }
    match writer.into_inner() {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/requests", get(mine))
        .route("/me/requests/new", get(new_own).post(file_own))
        .route("/me/requests/{id}", get(page))
        .route("/me/requests/{id}/act", post(act))
        .route("/me/requests/{id}/reopen", post(reopen))
        .route("/me/requests/{id}/rate", post(rate))
        .route("/follow", get(follow_form).post(follow))
        .route("/requests", get(queue))
        .route("/requests/bottlenecks", get(bottlenecks))
        .route("/requests/bottlenecks.csv", get(bottlenecks_csv))
        .route("/requests/{id}", get(page))
        .route("/requests/{id}/act", post(act))
        .route("/requests/{id}/documents/{sha}", get(document))
        .route("/households/{id}/requests", get(of_household))
        .route(
            "/households/{id}/requests/new",
            get(new_assisted).post(file_assisted),
        )
}
