//! The home page: shows that the product is alive (households and persons per region). It stays
//! simple until the web issue brings the full window.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sanad_domain::Territories;

use crate::AppState;
use crate::api::session::RequestParts;
use crate::auth::authenticate;
use crate::page::{self, escape};

/// The home page. A browser without credentials is sent to the login page; an API client gets
/// the usual 401 problem document.
pub async fn home(State(state): State<AppState>, RequestParts(parts): RequestParts) -> Response {
    let caller = match authenticate(&parts, &state).await {
        Ok(caller) => caller,
        Err(e) if e.status() == StatusCode::UNAUTHORIZED && page::wants_html(&parts.headers) => {
            return page::see_other("/login");
        }
        Err(e) => return e.into_response(),
    };
    match render(&state, &caller).await {
        Ok(document) => page::html(StatusCode::OK, document),
        Err(e) => e.into_response(),
    }
}

async fn render(
    state: &AppState,
    caller: &crate::auth::Authenticated,
) -> Result<String, crate::error::ApiError> {
    let actor = &caller.actor;
    let counts = state.registry.region_counts(actor).await?;
    let territories = Territories::morocco();
    let mut rows = String::new();
    let (mut households, mut persons) = (0u64, 0u64);
    for region in territories.regions() {
        let c = counts.iter().find(|c| c.region_code == region.code);
        let (h, p) = c.map(|c| (c.households, c.persons)).unwrap_or((0, 0));
        households += h;
        persons += p;
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td lang=\"ar\" dir=\"rtl\">{}</td><td class=\"n\">{h}</td><td class=\"n\">{p}</td></tr>\n",
            escape(&region.code),
            escape(&region.name_fr),
            escape(&region.name_ar),
        ));
    }
    let logout = caller
        .session_csrf
        .as_deref()
        .map(|csrf| crate::login::logout_form(csrf, "Se déconnecter / تسجيل الخروج"))
        .unwrap_or_default();
    Ok(format!(
        r#"<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sanad — registre</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d2a33; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ padding: .4rem .6rem; border-bottom: 1px solid #dde3e8; text-align: start; }}
td.n, th.n {{ text-align: end; font-variant-numeric: tabular-nums; }} tfoot td {{ font-weight: bold; }}
</style></head>
<body>
<h1>Sanad <span lang="ar" dir="rtl">سند</span></h1>
<p>Registre social — connecté en tant que <strong>{user}</strong> ({role}). API : <a href="/api/v1/docs/">/api/v1/docs</a></p>
{logout}
<table>
<thead><tr><th>Code</th><th>Région</th><th lang="ar" dir="rtl">الجهة</th><th class="n">Ménages</th><th class="n">Personnes</th></tr></thead>
<tbody>
{rows}</tbody>
<tfoot><tr><td></td><td>Total</td><td></td><td class="n">{households}</td><td class="n">{persons}</td></tr></tfoot>
</table>
<p><small>Données territoriales : Haut-Commissariat au Plan, RGPH 2024.</small></p>
</body></html>"#,
        user = escape(&actor.username),
        role = actor.role.as_str(),
    ))
}
