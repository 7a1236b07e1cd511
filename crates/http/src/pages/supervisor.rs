//! The supervisor's pages: the dashboard of their territory.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use sanad_domain::Territories;
use sanad_web::views::supervisor::{RegionRow, RegionsPage};

use super::{Ctx, render};
use crate::AppState;
use crate::error::ApiError;

/// The home of supervisors, managers, auditors and administrators: households and persons per
/// region of the reader's territory.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Response {
    let counts = match state.registry.region_counts(&ctx.actor).await {
        Ok(c) => c,
        Err(e) => return ctx.error(ApiError::from(e)),
    };
    let t = ctx.t();
    let territories = Territories::morocco();
    let rows: Vec<RegionRow> = territories
        .regions()
        .iter()
        .map(|region| {
            let c = counts.iter().find(|c| c.region_code == region.code);
            RegionRow {
                code: region.code.clone(),
                name: match ctx.lang {
                    sanad_web::Lang::Ar => region.name_ar.clone(),
                    _ => region.name_fr.clone(),
                },
                households: c.map(|c| c.households as i64).unwrap_or(0),
                persons: c.map(|c| c.persons as i64).unwrap_or(0),
            }
        })
        .collect();
    let view = RegionsPage {
        shell: ctx.shell(t.t("supervisor-regions-title")),
        t,
        households: rows.iter().map(|r| r.households).sum(),
        persons: rows.iter().map(|r| r.persons).sum(),
        rows,
    };
    render(&view)
}

pub fn routes() -> Router<AppState> {
    Router::new()
}
