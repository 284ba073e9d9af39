//! `GET /`: the server's front page, listing its instances.

use axum::extract::State;
use axum::response::Html;
use serde::Serialize;
use taquilla_core::services::directory;
use tera::Context;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize)]
struct InstanceView {
    id: String,
    name: String,
    online: bool,
    departments: Vec<String>,
    topics: Vec<String>,
}

/// The front page: every instance with its departments and public help topics.
pub async fn home(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let store = state.store.as_ref();
    let mut views = Vec::new();
    for instance in directory::list_instances(store).await? {
        let departments = directory::departments(store, &instance.id).await?;
        let topics = directory::topics(store, &instance.id).await?;
        views.push(InstanceView {
            id: instance.id.to_string(),
            name: instance.name,
            online: instance.online,
            departments: departments.into_iter().map(|d| d.name).collect(),
            topics: topics
                .into_iter()
                .filter(|t| t.public)
                .map(|t| t.name)
                .collect(),
        });
    }
    let mut context = Context::new();
    context.insert("instances", &views);
    context.insert("version", env!("CARGO_PKG_VERSION"));
    state
        .pages
        .render("home.html", &context)
        .map(Html)
        .map_err(|e| ApiError::Internal(format!("rendering home.html: {e}")))
}
