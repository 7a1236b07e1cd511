//! The administrator's pages: accounts (role, territories, a citizen's household, password,
//! unlocking) and API keys (made with their scopes, shown once, revoked). Every change goes through
//! the accounts use-case, which records it in the audit trail.
// A refused request answers with its page at once: the `Err` of these helpers is that page,
// returned by the handler, and boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use sanad_app::Role;
use sanad_app::accounts::{AccountChange, Accounts};
use sanad_app::policy::Permission;
use sanad_app::registry::RegistryError;
use sanad_domain::HouseholdId;
use sanad_web::Tr;
use sanad_web::views::admin::{AccountForm, AccountRow, AccountsPage, KeyRow, KeysPage};
use sanad_web::views::registry::{Choice, Field};

use super::household::territory_name;
use super::{Ctx, done, error_words, form_value, query_pairs, render, render_status, role_key};
use crate::AppState;
use crate::error::ApiError;

const PAGE: u32 = 100;

const ROLES: [Role; 7] = [
    Role::Citizen,
    Role::Agent,
    Role::Supervisor,
    Role::Manager,
    Role::Auditor,
    Role::Admin,
    Role::Partner,
];

fn service<'a>(state: &'a AppState, ctx: &Ctx) -> Result<&'a Accounts, Response> {
    state
        .accounts
        .as_ref()
        .ok_or_else(|| ctx.error(ApiError::unavailable()))
}

/// `GET /admin/accounts`.
async fn accounts(State(state): State<AppState>, ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    let svc = match service(&state, &ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let after = form_value(&query_pairs(raw), "after");
    let list = match svc.list(&ctx.actor, &after, PAGE).await {
        Ok(l) => l,
        Err(e) => return ctx.error(e.into()),
    };
    let t = ctx.t();
    let rows = list
        .iter()
        .map(|a| AccountRow {
            username: a.username.clone(),
            role: t.t(role_key(a.role)),
            territories: if a.territories.is_empty() {
                t.t("admin-whole-country")
            } else {
                a.territories
                    .iter()
                    .map(|c| territory_name(ctx.lang, c))
                    .collect::<Vec<_>>()
                    .join(" · ")
            },
            household: a.household_id.map(|h| h.to_string()).unwrap_or_default(),
            locked: a
                .locked_until
                .is_some_and(|u| u > time::OffsetDateTime::now_utc()),
        })
        .collect();
    let next = (list.len() as u32 == PAGE)
        .then(|| {
            list.last().map(|a| {
                format!(
                    "/admin/accounts?after={}",
                    sanad_web::url_encode(&a.username)
                )
            })
        })
        .flatten();
    render(&AccountsPage {
        shell: ctx.shell(t.t("admin-accounts-title")),
        t,
        rows,
        next,
    })
}

fn role_choices(t: Tr, selected: Role) -> Vec<Choice> {
    ROLES
        .iter()
        .map(|&r| Choice {
            value: r.as_str().to_string(),
            label: t.t(role_key(r)),
            selected: r == selected,
        })
        .collect()
}

fn field(name: &str, value: &str, error: Option<String>) -> Field {
    Field {
        name: name.into(),
        value: value.into(),
        error,
    }
}

fn account_form(
    ctx: &Ctx,
    existing: bool,
    username: &str,
    role: Role,
    territories: &str,
    household: &str,
    errors: &[(String, String)],
) -> AccountForm {
    let t = ctx.t();
    let err = |name: &str| {
        errors
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.clone())
    };
    let heading = if existing {
        t.t1("admin-account-title", "name", username)
    } else {
        t.t("admin-account-new")
    };
    AccountForm {
        shell: ctx.shell(heading.clone()),
        t,
        heading,
        existing,
        username: field("username", username, err("username")),
        roles: role_choices(t, role),
        territories: field("territories", territories, err("territories")),
        household: field("household_id", household, err("household_id")),
        password: field("password", "", err("password")),
        errors: errors
            .iter()
            .filter(|(f, _)| {
                !["username", "territories", "household_id", "password"].contains(&f.as_str())
            })
            .map(|(_, m)| m.clone())
            .collect(),
    }
}

/// `GET /admin/accounts/new`.
async fn new_account(ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(sanad_app::policy::role_grants(
        ctx.actor.role,
        Permission::ManageAccounts,
    )) {
        return r;
    }
    render(&account_form(&ctx, false, "", Role::Agent, "", "", &[]))
}

/// `GET /admin/accounts/{name}`.
async fn account(State(state): State<AppState>, ctx: Ctx, Path(name): Path<String>) -> Response {
    let svc = match service(&state, &ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match svc.account(&ctx.actor, &name).await {
        Ok(a) => render(&account_form(
            &ctx,
            true,
            &a.username,
            a.role,
            &a.territories.join(" "),
            &a.household_id.map(|h| h.to_string()).unwrap_or_default(),
            &[],
        )),
        Err(e) => ctx.error(e.into()),
    }
}

/// `POST /admin/accounts`: creates or changes an account (and unlocks it).
async fn save_account(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let svc = match service(&state, &ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let get = |k: &str| form_value(&form, k);
    let t = ctx.t();
    let existing = get("existing") == "1";
    let (username, territories, household) =
        (get("username"), get("territories"), get("household_id"));
    let role = Role::parse(&get("role")).unwrap_or(Role::Agent);
    let mut errors: Vec<(String, String)> = Vec::new();
    let household_id = if household.is_empty() {
        None
    } else {
        match HouseholdId::parse(&household) {
            Ok(h) => Some(h),
            Err(_) => {
                errors.push(("household_id".into(), error_words(t, "format")));
                None
            }
        }
    };
    let password = get("password");
    if errors.is_empty() {
        let change = AccountChange {
            username: username.clone(),
            role,
            territories: territories.split_whitespace().map(str::to_string).collect(),
            household_id,
            password: (!password.is_empty()).then_some(password),
        };
        match svc.save(&ctx.actor, change).await {
            Ok(_) => return done("/admin/accounts", "done-account-saved"),
            Err(RegistryError::Validation(v)) => {
                errors.extend(v.0.into_iter().map(|f| (f.field, error_words(t, &f.code))));
            }
            Err(e) => return ctx.error(e.into()),
        }
    }
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &account_form(
            &ctx,
            existing,
            &username,
            role,
            &territories,
            &household,
            &errors,
        ),
    )
}

async fn keys_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    username: &str,
    errors: Vec<String>,
    new_key: Option<String>,
) -> Response {
    let svc = match service(state, ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let keys = match svc.keys(&ctx.actor, None).await {
        Ok(k) => k,
        Err(e) => return ctx.error(e.into()),
    };
    let t = ctx.t();
    let rows = keys
        .iter()
        .map(|k| KeyRow {
            id: k.id.clone(),
            username: k.username.clone(),
            scopes: k.scopes.join(" "),
            active: k.revoked_at.is_none(),
            state: k
                .revoked_at
                .map(|at| t.t1("admin-key-revoked", "date", t.date(&at.date())))
                .unwrap_or_default(),
        })
        .collect();
    let scopes = Permission::ALL
        .iter()
        .map(|p| Choice {
            value: p.scope().to_string(),
            label: t.t(&format!("scope-{}", p.scope().replace(':', "-"))),
            selected: false,
        })
        .collect();
    render_status(
        status,
        &KeysPage {
            shell: ctx.shell(t.t("admin-keys-title")),
            t,
            rows,
            username: field("username", username, None),
            scopes,
            errors,
            new_key,
        },
    )
}

/// `GET /admin/keys`.
async fn keys(State(state): State<AppState>, ctx: Ctx) -> Response {
    keys_page(&state, &ctx, StatusCode::OK, "", Vec::new(), None).await
}

/// `POST /admin/keys`: makes a key and shows it once (the answer is not a redirect, so that the
/// key is in no URL and no history).
async fn create_key(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    let svc = match service(&state, &ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let username = form_value(&form, "username");
    let scopes: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let t = ctx.t();
    match svc.issue_key(&ctx.actor, &username, &scopes).await {
        Ok((key, _)) => {
            let mut r =
                keys_page(&state, &ctx, StatusCode::CREATED, "", Vec::new(), Some(key)).await;
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(RegistryError::Validation(v)) => {
            let errors = v.0.iter().map(|f| error_words(t, &f.code)).collect();
            keys_page(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &username,
                errors,
                None,
            )
            .await
        }
        Err(RegistryError::Store(sanad_app::StoreError::NotFound)) => {
            keys_page(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &username,
                vec![t.t("admin-no-account")],
                None,
            )
            .await
        }
        Err(e) => ctx.error(e.into()),
    }
}

/// `POST /admin/keys/{id}/revoke`.
async fn revoke_key(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let svc = match service(&state, &ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match svc.revoke_key(&ctx.actor, &id).await {
        Ok(()) => done("/admin/keys", "done-key-revoked"),
        Err(e) => ctx.error(e.into()),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(accounts).post(save_account))
        .route("/admin/accounts/new", get(new_account))
        .route("/admin/accounts/{name}", get(account))
        .route("/admin/keys", get(keys).post(create_key))
        .route("/admin/keys/{id}/revoke", post(revoke_key))
}
