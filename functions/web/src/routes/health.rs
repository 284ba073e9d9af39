//! `GET /healthz`: the server is up and its store answers.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use taquilla_core::store::Key;

use crate::error::ApiError;
use crate::state::AppState;

/// 200 `{"status":"ok"}` when a read of the store succeeds; the store's error otherwise.
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.get(&Key::new("HEALTH", "CHECK")).await?;
    Ok(Json(json!({ "status": "ok" })))
}
