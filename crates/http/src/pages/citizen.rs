//! The citizen pages.

use axum::Router;
use axum::extract::State;
use axum::response::Response;

use super::Ctx;
use crate::AppState;

/// The citizen's home.
pub async fn home(state: State<AppState>, ctx: Ctx) -> Response {
    super::supervisor::home(state, ctx).await
}

pub fn routes() -> Router<AppState> {
    Router::new()
}
