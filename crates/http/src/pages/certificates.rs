//! Issued documents in the window: the public verify page (`/verify`, no sign-in; the QR code
//! on a document opens `/verify/{number}?c={code}`), the check of a PDF file, and the download of
//! a document by whoever may see it (`/certificates/{number}/pdf`). The rules, scopes and audit
//! are the `Certificates` use-case's; these handlers turn its answers into pages.

use axum::Router;
use axum::extract::{Form, Multipart, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sanad_app::Role;
use sanad_app::certificates::{Certificates, PublicVerdict, RevocationReason, VerdictKind};
use sanad_app::policy::{self, Permission};
use sanad_web::views::certificates::{DocumentRow, DocumentsSection, VerifyPage, VerifyResult};
use sanad_web::views::registry::Fact;
use sanad_web::views::requests::Choice;
use sanad_web::{Lang, Shell, Tr};

use super::{Ctx, done, form_value, query_pairs, render, render_status};
use crate::AppState;
use crate::error::ApiError;

/// The largest file the public check reads.
const MAX_FILE: usize = 2 * 1024 * 1024;

/// A document's kind in words.
pub(crate) fn kind_words(t: Tr, code: &str) -> String {
    let key = format!("certificate-kind-{code}");
    if sanad_web::i18n::has(t.lang, &key) {
        t.t(&key)
    } else {
        code.to_string()
    }
}

pub(crate) fn reason_words(t: Tr, reason: RevocationReason) -> String {
    t.t(&format!("revocation-{}", reason.as_str()))
}

fn page(lang: Lang, number: String, code: String) -> VerifyPage {
    let t = Tr::new(lang);
    VerifyPage {
        shell: Shell::new(lang, t.t("verify-title"), "/verify"),
        t,
        number,
        code,
        result: None,
        error: None,
    }
}

/// The verdict in the reader's words, with what the document states.
fn result(t: Tr, v: &PublicVerdict) -> VerifyResult {
    let mut facts = Vec::new();
    if let Some(d) = &v.document {
        facts.push(Fact {
            label: t.t("verify-doc-number"),
            value: d.id.clone(),
        });
        facts.push(Fact {
            label: t.t("verify-doc-kind"),
            value: kind_words(t, &d.kind),
        });
        let holder = match (t.lang, &d.holder_name_ar, &d.holder_name_fr) {
            (Lang::Ar, Some(ar), _) => ar.clone(),
            (_, Some(ar), Some(fr)) => format!("{fr} — {ar}"),
            (_, None, Some(fr)) => fr.clone(),
            (_, Some(ar), None) => ar.clone(),
            (_, None, None) => String::new(),
        };
        facts.push(Fact {
            label: t.t("verify-doc-holder"),
            value: holder,
        });
        if let Some(n) = &d.national_id_masked {
            facts.push(Fact {
                label: t.t("verify-doc-national-id"),
                value: n.clone(),
            });
        }
        facts.push(Fact {
            label: t.t("verify-doc-issued"),
            value: t.date(&d.issued_at.date()),
        });
        if let Some(until) = d.valid_until {
            facts.push(Fact {
                label: t.t("verify-doc-valid-until"),
                value: if d.expired {
                    format!("{} — {}", t.date(&until), t.t("verify-expired"))
                } else {
                    t.date(&until)
                },
            });
        }
        facts.push(Fact {
            label: t.t("verify-doc-issuer"),
            value: if t.lang == Lang::Ar {
                d.issuer_ar.clone()
            } else {
                d.issuer_fr.clone()
            },
        });
    }
    match v.verdict {
        VerdictKind::Valid => VerifyResult {
            tone: if v.document.as_ref().is_some_and(|d| d.expired) {
                "warn"
            } else {
                "ok"
            },
            title: t.t("verify-valid-title"),
            text: t.t("verify-valid-text"),
            facts,
        },
        VerdictKind::Revoked => {
            let (date, reason) = v
                .revoked
                .as_ref()
                .map(|r| (t.date(&r.at.date()), reason_words(t, r.reason)))
                .unwrap_or_default();
            VerifyResult {
                tone: "warn",
                title: t.t("verify-revoked-title"),
                text: t.t2("verify-revoked-text", "date", date, "reason", reason),
                facts,
            }
        }
        VerdictKind::Forged => VerifyResult {
            tone: "bad",
            title: t.t("verify-forged-title"),
            text: t.t1(
                "verify-forged-text",
                "why",
                // The file's own failure is told in general words: the reader needs to know
                // the document is not genuine, not which byte gave it away.
                if v.document.is_none()
                    && v.why
                        .as_deref()
                        .is_some_and(|w| w.contains("code") || w.contains("number"))
                {
                    t.t("verify-why-unknown")
                } else {
                    t.t("verify-why-altered")
                },
            ),
            facts: Vec::new(),
        },
    }
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

// A refused page answers at once: the `Err` is that page, returned by the handler.
#[allow(clippy::result_large_err)]
fn service(state: &AppState, lang: Lang) -> Result<&Certificates, Response> {
    state
        .certificates
        .as_ref()
        .ok_or_else(|| super::error_page(lang, "/verify", &ApiError::unavailable()))
}

async fn checked(state: &AppState, lang: Lang, number: String, code: String) -> Response {
    let svc = match service(state, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut view = page(lang, number.clone(), code.clone());
    if number.trim().is_empty() && code.trim().is_empty() {
        return render(&view);
    }
    match svc.verify_code(&number, &code).await {
        Ok(v) => {
            view.result = Some(result(view.t, &v));
            let status = if v.verdict == VerdictKind::Forged {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            no_store(render_status(status, &view))
        }
        Err(e) => super::error_page(lang, "/verify", &e.into()),
    }
}

/// `GET /verify?n=…&c=…`: the form, or the check of a number and code typed in.
async fn verify_form(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    RawQuery(raw): RawQuery,
) -> Response {
    let lang = super::lang_of(&parts.headers);
    let pairs = query_pairs(raw);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    checked(&state, lang, get("n"), get("c")).await
}

/// `GET /verify/{number}?c=…`: what the QR code on a document opens.
async fn verify_link(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Path(number): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let lang = super::lang_of(&parts.headers);
    let code = query_pairs(raw)
        .into_iter()
        .find(|(k, _)| k == "c")
        .map(|(_, v)| v)
        .unwrap_or_default();
    checked(&state, lang, number, code).await
}

/// `POST /verify`: the check of a PDF file.
async fn verify_file(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    mut form: Multipart,
) -> Response {
    let lang = super::lang_of(&parts.headers);
    let svc = match service(&state, lang) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut view = page(lang, String::new(), String::new());
    let mut bytes = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                bytes = field.bytes().await.ok().filter(|b| b.len() <= MAX_FILE);
                break;
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        view.error = Some(view.t.t("verify-file-error"));
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &view);
    };
    match svc.verify_file(&bytes).await {
        Ok(v) => {
            view.result = Some(result(view.t, &v));
            no_store(render(&view))
        }
        Err(e) => super::error_page(lang, "/verify", &e.into()),
    }
}

/// `GET /certificates/{number}/pdf`: the document, for its household and the staff of its
/// territory (the read is in the access log).
async fn download(State(state): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> Response {
    let Some(svc) = state.certificates.as_ref() else {
        return ctx.error(ApiError::unavailable());
    };
    match svc.pdf(&ctx.actor, &number).await {
        Ok((c, bytes)) => crate::api::certificates::pdf_response(&c.id, bytes).into_response(),
        Err(e) => ctx.error(crate::api::households::not_found("document")(e)),
    }
}

/// The documents section of a household's page: its documents, and the forms the reader may use.
pub(crate) async fn section(
    state: &AppState,
    ctx: &Ctx,
    household: &sanad_domain::Household,
) -> Option<DocumentsSection> {
    let svc = state.certificates.as_ref()?;
    let t = ctx.t();
    let docs = svc.of_household(&ctx.actor, household.id).await.ok()?;
    let may_revoke = policy::allows(&ctx.actor, Permission::RevokeCertificates);
    let name = |p: Option<sanad_domain::PersonId>| {
        household
            .members
            .iter()
            .find(|m| Some(m.id) == p)
            .map(|m| super::household::names(t.lang, m).0)
            .unwrap_or_default()
    };
    let rows = docs
        .into_iter()
        .map(|c| DocumentRow {
            label: kind_words(t, &c.kind),
            holder: name(c.person_id),
            issued: t.date(&c.issued_at.date()),
            href: format!("/certificates/{}/pdf", c.id),
            revoked: c.revocation.as_ref().map(|r| reason_words(t, r.reason)),
            revoke: (may_revoke && c.revocation.is_none())
                .then(|| format!("/certificates/{}/revoke", c.id)),
            number: c.id,
        })
        .collect();
    let may_issue = ctx.actor.role == Role::Citizen
        || policy::allows(&ctx.actor, Permission::IssueCertificates);
    Some(DocumentsSection {
        rows,
        issue: may_issue.then(|| format!("/households/{}/certificates", household.id)),
        reasons: RevocationReason::ALL
            .iter()
            .map(|r| Choice {
                value: r.as_str().to_string(),
                label: reason_words(t, *r),
                selected: false,
            })
            .collect(),
    })
}

/// Where the household's page is for this reader.
fn household_page(ctx: &Ctx, household: sanad_domain::HouseholdId) -> String {
    if ctx.actor.role == Role::Citizen {
        "/".to_string()
    } else {
        format!("/households/{household}")
    }
}

/// `POST /households/{id}/certificates`: a registration attestation, now.
async fn issue(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let Ok(household) = sanad_domain::HouseholdId::parse(&id) else {
        return ctx.error(ApiError::not_found("household"));
    };
    let Some(svc) = state.certificates.as_ref() else {
        return ctx.error(ApiError::unavailable());
    };
    let kind = match form_value(&form, "kind").as_str() {
        "registration-attestation" => sanad_certificates::Kind::RegistrationAttestation,
        _ => {
            return ctx.error(ApiError::bad_field(
                "kind",
                "unknown",
                "registration-attestation",
            ));
        }
    };
    let reason = if ctx.actor.role == Role::Citizen {
        "asked online"
    } else {
        "asked at the centre"
    };
    match svc
        .issue(
            &ctx.actor,
            household,
            sanad_app::certificates::IssueRequest {
                kind,
                programme: None,
                person_id: None,
            },
            reason,
        )
        .await
    {
        Ok(_) => done(&household_page(&ctx, household), "done-certificate-issued"),
        Err(e) => ctx.error(crate::api::households::not_found("household")(e)),
    }
}

/// `POST /certificates/{number}/revoke`: revoked with its reason and a note.
async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let Some(svc) = state.certificates.as_ref() else {
        return ctx.error(ApiError::unavailable());
    };
    let Some(reason) = RevocationReason::parse(&form_value(&form, "reason")) else {
        return ctx.error(ApiError::bad_field(
            "reason",
            "unknown",
            "a reason from the list",
        ));
    };
    match svc
        .revoke(&ctx.actor, &number, reason, &form_value(&form, "note"))
        .await
    {
        Ok(c) => done(
            &household_page(&ctx, c.household_id),
            "done-certificate-revoked",
        ),
        Err(e) => ctx.error(crate::api::households::not_found("document")(e)),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/households/{id}/certificates", post(issue))
        .route("/certificates/{number}/revoke", post(revoke))
        .route("/verify", get(verify_form).post(verify_file))
        .route("/verify/{number}", get(verify_link))
        .route("/certificates/{number}/pdf", get(download))
}
