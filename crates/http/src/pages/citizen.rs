//! The citizen's pages: their household (members, index explained, programmes, payments) and the
//! declaration of a change.

use axum::Router;
use axum::extract::State;
use axum::response::Response;

use super::Ctx;
use crate::AppState;

/// The citizen's home: their own household.
pub async fn home(state: State<AppState>, ctx: Ctx) -> Response {
    super::household::own(state, ctx).await
}

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/me/change",
        axum::routing::get(super::declare::form_own).post(super::declare::submit_own),
    )
}
