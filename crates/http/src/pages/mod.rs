//! The web window's handlers: they authenticate the reader like the API does, call the same
//! use-cases (so scoping, rules and the audit are never written twice), fill a view of the `web`
//! crate and send what its template renders. One module per area; this one holds what they share:
//! the reader's context, the language, the navigation of each role, the error pages, the assets.

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sanad_app::{Actor, Role};
use sanad_web::shell::User;
use sanad_web::views::common::{Link, MessagePage};
use sanad_web::{Flash, Lang, NavItem, Shell, Tr, assets};

use crate::AppState;
use crate::auth::{Authenticated, authenticate};
use crate::error::ApiError;
use crate::page;

pub mod admin;
pub mod agent;
pub mod auditor;
pub mod certificates;
pub mod citizen;
pub mod declare;
pub mod household;
pub mod manager;
pub mod requests;
pub mod supervisor;

/// The cookie that remembers the language chosen with the switch.
pub const LANG_COOKIE: &str = "sanad_lang";

/// The reader's language: the one they chose (cookie), else the browser's preference, else French.
pub fn lang_of(headers: &axum::http::HeaderMap) -> Lang {
    page::cookie(headers, LANG_COOKIE)
        .and_then(Lang::from_code)
        .unwrap_or_else(|| {
            Lang::negotiate(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        })
}

/// A signed-in reader of a page: who they are, their session's CSRF token, their language, and
/// the page's path (for the language switch and the way back after login).
pub struct Ctx {
    pub actor: Actor,
    pub csrf: Option<String>,
    pub lang: Lang,
    /// Path and query of the page.
    pub path: String,
    /// The request's parts (headers for the purpose of a read, the client address).
    pub parts: Parts,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, Response> {
        let lang = lang_of(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        match authenticate(parts, state).await {
            Ok(Authenticated {
                actor,
                session_csrf,
            }) => Ok(Ctx {
                actor,
                csrf: session_csrf,
                lang,
                path,
                parts: parts.clone(),
            }),
            // An API client without credentials gets the usual 401 problem document.
            Err(e)
                if e.status() == StatusCode::UNAUTHORIZED && !page::wants_html(&parts.headers) =>
            {
                Err(e.into_response())
            }
            Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
                let back = if parts.method == axum::http::Method::GET {
                    path.as_str()
                } else {
                    "/"
                };
                Err(page::see_other(&if back == "/" {
                    "/login".to_string()
                } else {
                    format!("/login?next={}", sanad_web::url_encode(back))
                }))
            }
            Err(e) => Err(error_page(lang, &path, &e)),
        }
    }
}

impl Ctx {
    pub fn t(&self) -> Tr {
        Tr::new(self.lang)
    }

    /// The frame of a page titled `title`: the reader, the navigation of their role, the
    /// language switch, the CSRF token, and the message of the action just done (`?done=`).
    pub fn shell(&self, title: impl Into<String>) -> Shell {
        let mut shell = Shell::new(self.lang, title, &self.path);
        let t = self.t();
        shell.user = Some(User {
            name: self.actor.username.clone(),
            role: t.t(role_key(self.actor.role)),
        });
        shell.nav = nav(self.actor.role, t, self.path_only());
        shell.csrf = self.csrf.clone();
        // A citizen's pages use no partial update: htmx is left out, for a slow rural link.
        if self.actor.role == Role::Citizen {
            shell.htmx = String::new();
        }
        shell.flash = self.done().map(|key| Flash {
            kind: "ok",
            text: t.t(&key),
        });
        shell
    }

    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("/")
    }

    /// The `done=` message key of the query, when it names a known message (`done-…`).
    fn done(&self) -> Option<String> {
        let query = self.path.split_once('?')?.1;
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == "done")
            .map(|(_, v)| v)
            .filter(|v| v.starts_with("done-") && sanad_web::i18n::has(self.lang, v))
    }

    /// The error page for a failed use-case, in the reader's language.
    pub fn error(&self, e: ApiError) -> Response {
        error_page(self.lang, &self.path, &e)
    }

    /// A 403 page unless `allowed`.
    // The error is the page itself, returned at once by the handler: boxing it buys nothing.
    #[allow(clippy::result_large_err)]
    pub fn require(&self, allowed: bool) -> Result<(), Response> {
        if allowed {
            Ok(())
        } else {
            Err(self.error(ApiError::forbidden("role")))
        }
    }
}

/// The name–value pairs of a query string (none when it does not parse).
pub fn query_pairs(raw: Option<String>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default()
}

/// The first value of `key` among a query's or a form's pairs.
pub fn pair<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The first value of `key`, trimmed; empty when absent.
pub fn form_value(pairs: &[(String, String)], key: &str) -> String {
    pair(pairs, key).unwrap_or("").trim().to_string()
}

/// An error code of the registry's checks (`required`, `format`, …) in the reader's words: its
/// `form-error-<code>` message, or the general one.
pub fn error_words(t: Tr, code: &str) -> String {
    let key = format!("form-error-{code}");
    if sanad_web::i18n::has(t.lang, &key) {
        t.t(&key)
    } else {
        t.t("form-error-invalid")
    }
}

/// Renders a view with 200 OK.
pub fn render<T: Template>(view: &T) -> Response {
    render_status(StatusCode::OK, view)
}

/// Renders a view with a status (a form shown again with its errors answers 422).
pub fn render_status<T: Template>(status: StatusCode, view: &T) -> Response {
    match view.render() {
        Ok(html) => page::html(status, html),
        Err(e) => {
            tracing::error!(error = %e, "a page template failed to render");
            ApiError::internal().into_response()
        }
    }
}

/// After a form that changed something: back to `to` with the message `done` (a key `done-…`).
pub fn done(to: &str, done: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    page::see_other(&format!("{to}{sep}done={done}"))
}

/// The wording key of a role's name.
pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::Citizen => "role-citizen",
        Role::Agent => "role-agent",
        Role::Supervisor => "role-supervisor",
        Role::Manager => "role-manager",
        Role::Auditor => "role-auditor",
        Role::Admin => "role-admin",
        Role::Partner => "role-partner",
    }
}

/// The navigation of a role; the entry whose path the page is under is marked current.
pub fn nav(role: Role, t: Tr, path: &str) -> Vec<NavItem> {
    let entries: &[(&str, &str, &'static str)] = match role {
        Role::Citizen => &[
            ("/", "nav-household", "household"),
            ("/me/change", "nav-change", "edit"),
            ("/me/requests", "nav-my-requests", "list"),
        ],
        Role::Agent => &[
            ("/", "nav-search", "search"),
            ("/households/new", "nav-register", "plus"),
            ("/review", "nav-review", "merge"),
            ("/requests", "nav-requests", "list"),
        ],
        Role::Manager => &[
            ("/", "nav-dashboard", "chart"),
            ("/manage/programmes", "nav-programmes", "gift"),
            ("/manage/models", "nav-models", "index"),
            ("/manage/cycles", "nav-cycles", "money"),
            ("/review", "nav-review", "merge"),
            ("/requests", "nav-requests", "list"),
        ],
        Role::Supervisor => &[
            ("/", "nav-dashboard", "map"),
            ("/search", "nav-search", "search"),
            ("/requests", "nav-requests", "list"),
            ("/requests/bottlenecks", "nav-delays", "clock"),
        ],
        Role::Auditor => &[
            ("/", "nav-dashboard", "chart"),
            ("/audit", "nav-audit", "shield"),
            ("/audit/access", "nav-access", "list"),
            ("/audit/chain", "nav-chain", "check"),
        ],
        Role::Admin => &[
            ("/", "nav-dashboard", "chart"),
            ("/admin/accounts", "nav-accounts", "person"),
            ("/admin/keys", "nav-keys", "key"),
        ],
        Role::Partner => &[],
    };
    // The longest matching prefix wins, so /audit/access is not also /audit.
    let current = entries
        .iter()
        .filter(|(href, _, _)| {
            if *href == "/" {
                path == "/"
            } else {
                path == *href || path.starts_with(&format!("{href}/"))
            }
        })
        .max_by_key(|(href, _, _)| href.len())
        .map(|(href, _, _)| *href);
    entries
        .iter()
        .map(|(href, key, icon)| NavItem {
            href: (*href).to_string(),
            label: t.t(key),
            icon,
            current: Some(*href) == current,
        })
        .collect()
}

/// A message page in `lang`.
pub fn message_page(
    lang: Lang,
    path: &str,
    status: StatusCode,
    heading_key: &str,
    text: String,
    link: Option<Link>,
) -> Response {
    let t = Tr::new(lang);
    let kind = if status.is_success() { "info" } else { "bad" };
    let view = MessagePage {
        shell: Shell::new(lang, t.t(heading_key), path),
        heading: t.t(heading_key),
        text,
        kind,
        icon: if status.is_success() { "info" } else { "alert" },
        link,
        refresh: None,
    };
    render_status(status, &view)
}

/// The page for an error of a use-case: its status, a heading and a sentence in the reader's
/// language. Input errors keep the fields they name.
pub fn error_page(lang: Lang, path: &str, e: &ApiError) -> Response {
    let t = Tr::new(lang);
    let status = e.status();
    let (heading, text) = match status {
        StatusCode::NOT_FOUND => ("error-not-found-title", t.t("error-not-found")),
        StatusCode::FORBIDDEN => ("error-forbidden-title", t.t("error-forbidden")),
        // A rule of the registry refused the change: say which, as the registry words it.
        StatusCode::CONFLICT => match e.detail_text() {
            Some(detail) if !detail.is_empty() => (
                "error-title",
                format!("{} ({detail})", t.t("error-refused")),
            ),
            _ => ("error-title", t.t("error-conflict")),
        },
        StatusCode::SERVICE_UNAVAILABLE => ("error-title", t.t("error-unavailable")),
        s if s.is_client_error() => {
            let fields: Vec<String> = e
                .field_errors()
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            let text = if fields.is_empty() {
                t.t("error-bad-request")
            } else {
                format!("{} ({})", t.t("error-bad-request"), fields.join("; "))
            };
            ("error-title", text)
        }
        _ => ("error-title", t.t("error-internal")),
    };
    let link = Link {
        href: "/".into(),
        label: t.t("core-back-home"),
    };
    message_page(lang, path, status, heading, text, Some(link))
}

/// `GET /lang/{code}?next=/path`: remembers the language for a year and goes back to the page.
async fn switch_language(Path(code): Path<String>, RawQuery(query): RawQuery) -> Response {
    let next = query
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(&q).ok())
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "next").map(|(_, v)| v));
    let next = page::safe_next(next.as_deref());
    let Some(lang) = Lang::from_code(&code) else {
        return page::see_other(&next);
    };
    let mut response = page::see_other(&next);
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    )) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /assets/{digest}/{name}`: a vendored file, kept by browsers for a year.
async fn asset(Path((digest, name)): Path<(String, String)>) -> Response {
    let Some(asset) = assets::find(&digest, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        asset.bytes.clone().into_owned(),
    )
        .into_response()
}

/// `GET /assets/licences`: the licences of the vendored files.
async fn licences() -> Response {
    match assets::named("licences.txt") {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            a.bytes.clone().into_owned(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><rect width=\"16\" height=\"16\" rx=\"3\" fill=\"#0b5f59\"/><path d=\"M4 11.5c1 .8 2.2 1 3.3 1 1.8 0 3.2-.9 3.2-2.4 0-3-5.6-2-5.6-4.4 0-1 .9-1.7 2.3-1.7 1 0 1.9.3 2.6.8\" fill=\"none\" stroke=\"#fff\" stroke-width=\"1.6\" stroke-linecap=\"round\"/></svg>",
    )
        .into_response()
}

/// `GET /`: each role's home.
async fn home(State(state): State<AppState>, ctx: Ctx) -> Response {
    match ctx.actor.role {
        Role::Citizen => citizen::home(State(state), ctx).await,
        Role::Agent => agent::home(State(state), ctx).await,
        Role::Partner => {
            let t = ctx.t();
            message_page(
                ctx.lang,
                &ctx.path,
                StatusCode::OK,
                "app-name",
                t.t("core-partner-home"),
                Some(Link {
                    href: "/api/v1/docs/".into(),
                    label: t.t("core-footer-api"),
                }),
            )
        }
        Role::Supervisor | Role::Manager | Role::Auditor | Role::Admin => {
            supervisor::home(State(state), ctx).await
        }
    }
}

/// Unknown pages: a page in the reader's language for a browser, a problem document otherwise.
pub async fn not_found(parts: Parts) -> Response {
    if page::wants_html(&parts.headers) {
        let lang = lang_of(&parts.headers);
        error_page(lang, parts.uri.path(), &ApiError::not_found("page"))
    } else {
        ApiError::not_found("resource").into_response()
    }
}

/// Every page route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/lang/{code}", get(switch_language))
        .route("/assets/{digest}/{name}", get(asset))
        .route("/assets/licences", get(licences))
        .route("/favicon.ico", get(favicon))
        .merge(citizen::routes())
        .merge(agent::routes())
        .merge(manager::routes())
        .merge(supervisor::routes())
        .merge(auditor::routes())
        .merge(admin::routes())
        .merge(requests::routes())
        .merge(certificates::routes())
}
