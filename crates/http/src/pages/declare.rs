//! Declaring a change of the household: the citizen from `/me/change`, an agent for a citizen
//! (assisted, with consent) from `/households/{id}/declare`. A multipart form with the documents
//! asked for each kind of change; works without JavaScript and by keyboard alone.
// A refused request answers with its page at once: the `Err` of these helpers is that page,
// returned by the handler, and boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sanad_app::Role;
use sanad_app::declarations::{self, MAX_DOCUMENTS, NewDeclaration, Upload, check_upload};
use sanad_app::registry::RegistryError;
use sanad_domain::HouseholdId;
use sanad_web::Tr;
use sanad_web::views::registry::{DeclarePage, Field, KindChoice};

use super::{Ctx, done, error_words, render, render_status};
use crate::AppState;
use crate::error::ApiError;

#[derive(Default)]
struct Posted {
    kind: String,
    happened_on: String,
    details: String,
    consent: bool,
    documents: Vec<Upload>,
    /// What was wrong with a document, by error code.
    document_error: Option<String>,
}

fn page(ctx: &Ctx, household: HouseholdId, p: &Posted, errors: &[(String, String)]) -> DeclarePage {
    let t = ctx.t();
    let assisted = ctx.actor.role != Role::Citizen;
    let err = |f: &str| errors.iter().find(|(k, _)| k == f).map(|(_, m)| m.clone());
    let heading = if assisted {
        t.t1("declare-assisted-title", "id", household)
    } else {
        t.t("declare-title")
    };
    DeclarePage {
        shell: ctx.shell(heading.clone()),
        t,
        heading,
        action: if assisted {
            format!("/households/{household}/declare")
        } else {
            "/me/change".into()
        },
        kinds: declarations::KINDS
            .iter()
            .map(|(k, docs)| KindChoice {
                value: (*k).to_string(),
                label: t.t(&format!("kind-{k}")),
                documents: docs.iter().map(|d| t.t(d)).collect(),
                selected: p.kind == *k,
            })
            .collect(),
        kind_error: err("kind"),
        happened_on: Field {
            name: "happened_on".into(),
            value: p.happened_on.clone(),
            error: err("happened_on"),
        },
        details: Field {
            name: "details".into(),
            value: p.details.clone(),
            error: err("details"),
        },
        documents_error: err("documents"),
        assisted,
        consent_error: err("consent"),
        max_documents: MAX_DOCUMENTS,
    }
}

async fn read(mut form: Multipart, t: Tr) -> Result<Posted, StatusCode> {
    let mut p = Posted::default();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?
    {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "documents" => {
                let file = field.file_name().unwrap_or("").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
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
            }
            other => {
                let text = field.text().await.map_err(|_| StatusCode::BAD_REQUEST)?;
                match other {
                    "kind" => p.kind = text.trim().into(),
                    "happened_on" => p.happened_on = text.trim().into(),
                    "details" => p.details = text,
                    "consent" => p.consent = text == "1",
                    _ => {}
                }
            }
        }
    }
    Ok(p)
}

fn own(ctx: &Ctx) -> Result<HouseholdId, Response> {
    match (ctx.actor.role, ctx.actor.household) {
        (Role::Citizen, Some(h)) => Ok(h),
        _ => Err(ctx.error(ApiError::forbidden("role"))),
    }
}

fn parse(ctx: &Ctx, id: &str) -> Result<HouseholdId, Response> {
    HouseholdId::parse(id).map_err(|_| ctx.error(ApiError::not_found("household")))
}

/// `GET /me/change`.
pub async fn form_own(ctx: Ctx) -> Response {
    match own(&ctx) {
        Ok(h) => render(&page(&ctx, h, &Posted::default(), &[])),
        Err(r) => r,
    }
}

/// `GET /households/{id}/declare`.
pub async fn form_assisted(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Response {
    let h = match parse(&ctx, &id) {
        Ok(h) => h,
        Err(r) => return r,
    };
    if let Err(e) = state
        .registry
        .household(
            &ctx.actor,
            h,
            &sanad_app::registry::Purpose("declaration".into()),
        )
        .await
    {
        return ctx.error(e.into());
    }
    if let Err(r) = ctx.require(sanad_app::policy::role_grants(
        ctx.actor.role,
        sanad_app::policy::Permission::WriteRegistry,
    )) {
        return r;
    }
    render(&page(&ctx, h, &Posted::default(), &[]))
}

async fn submit(state: AppState, ctx: Ctx, household: HouseholdId, form: Multipart) -> Response {
    let Some(service) = state.declarations.as_ref() else {
        return ctx.error(ApiError::unavailable());
    };
    let t = ctx.t();
    let posted = match read(form, t).await {
        Ok(p) => p,
        Err(status) => {
            return ctx.error(if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large()
            } else {
                ApiError::bad_field("form", "format", "a multipart form")
            });
        }
    };
    let mut errors: Vec<(String, String)> = Vec::new();
    if let Some(e) = &posted.document_error {
        errors.push(("documents".into(), e.clone()));
    }
    let assisted = ctx.actor.role != Role::Citizen;
    if assisted && !posted.consent {
        errors.push(("consent".into(), t.t("form-consent-needed")));
    }
    if errors.is_empty() {
        let reason = if assisted {
            "declared at the centre; the citizen's consent was recorded"
        } else {
            "declared online by the citizen"
        };
        let d = NewDeclaration {
            household_id: household,
            kind: posted.kind.clone(),
            details: posted.details.clone(),
            happened_on: (!posted.happened_on.is_empty()).then(|| posted.happened_on.clone()),
            documents: posted.documents.clone(),
        };
        match service.declare(&ctx.actor, d, reason).await {
            Ok(_) => {
                let to = if assisted {
                    format!("/households/{household}")
                } else {
                    "/".to_string()
                };
                return done(&to, "done-change-declared");
            }
            Err(RegistryError::Validation(v)) => {
                errors.extend(v.0.into_iter().map(|f| (f.field, error_words(t, &f.code))));
            }
            Err(e) => return ctx.error(e.into()),
        }
    }
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(&ctx, household, &posted, &errors),
    )
}

/// `POST /me/change`.
pub async fn submit_own(State(state): State<AppState>, ctx: Ctx, form: Multipart) -> Response {
    match own(&ctx) {
        Ok(h) => submit(state, ctx, h, form).await,
        Err(r) => r,
    }
}

/// `POST /households/{id}/declare`.
pub async fn submit_assisted(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    form: Multipart,
) -> Response {
    match parse(&ctx, &id) {
        Ok(h) => submit(state, ctx, h, form).await,
        Err(r) => r,
    }
}

/// `GET /households/{id}/declarations/{d}/documents/{sha}`: a document given with a declaration,
/// to the household's citizen and the centres of its territory.
pub async fn document(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, declaration, sha)): Path<(String, i64, String)>,
) -> Response {
    let Some(service) = state.declarations.as_ref() else {
        return ctx.error(ApiError::unavailable());
    };
    let h = match parse(&ctx, &id) {
        Ok(h) => h,
        Err(r) => return r,
    };
    match service.document(&ctx.actor, declaration, h, &sha).await {
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
