//! An instance's own mail templates under
//! `/api/v1/{instance}/templates/{kind}/{language}` (administrators):
//! read the instance's texts beside the built-in ones and the variables the
//! kind may use, replace them (checked when saved: a refused text answers
//! `400` with the template error's code, e.g. `unknown_variable`), or go
//! back to the built-in texts.

use axum::extract::{Json, Path, State};
use axum::routing::{get, put};
use axum::{Router, routing::delete as delete_route};
use serde_json::{Value, json};
use taquilla_mail::outbound::TemplateTexts;
use taquilla_mail::templates::{self, SaveError, TemplateView};

use super::tickets::{ApiRoute, Body};
use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::state::AppState;

const PATH: &str = "/api/v1/{instance}/templates/{kind}/{language}";

/// The routes of this module.
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "GET",
        path: PATH,
        summary: "A mail template: the instance's texts, the built-in ones, its variables",
        query: &[],
        body: None,
        answer: (200, Some("MailTemplate")),
        handler: || get(read),
    },
    ApiRoute {
        method: "PUT",
        path: PATH,
        summary: "Replace a mail template's texts (checked when saved)",
        query: &[],
        body: Some("MailTemplateTexts"),
        answer: (200, Some("MailTemplate")),
        handler: || put(save),
    },
    ApiRoute {
        method: "DELETE",
        path: PATH,
        summary: "Go back to the built-in texts",
        query: &[],
        body: None,
        answer: (200, Some("MailTemplate")),
        handler: || delete_route(reset),
    },
];

/// The routes of this module, registered from [`ROUTES`].
pub fn router() -> Router<AppState> {
    super::tickets::register(Router::new(), ROUTES)
}

async fn read(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, kind, language)): Path<(String, String, String)>,
) -> Result<Json<TemplateView>, ApiError> {
    let (kind, language) = (templates::kind(&kind)?, templates::language(&language)?);
    let view = templates::get(&caller.ctx(&state), &caller.actor, kind, language).await?;
    Ok(Json(view))
}

async fn save(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, kind, language)): Path<(String, String, String)>,
    Body(texts): Body<TemplateTexts>,
) -> Result<Json<TemplateView>, ApiError> {
    let (kind, language) = (templates::kind(&kind)?, templates::language(&language)?);
    match templates::save(&caller.ctx(&state), &caller.actor, kind, language, texts).await {
        Ok(view) => Ok(Json(view)),
        Err(SaveError::Service(e)) => Err(e.into()),
        Err(SaveError::Template(e)) => Err(ApiError::BadRequest {
            code: e.code(),
            message: format!("{}: {e}", e.part().as_str()),
        }),
    }
}

async fn reset(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, kind, language)): Path<(String, String, String)>,
) -> Result<Json<TemplateView>, ApiError> {
    let (kind, language) = (templates::kind(&kind)?, templates::language(&language)?);
    let view = templates::reset(&caller.ctx(&state), &caller.actor, kind, language).await?;
    Ok(Json(view))
}

/// The schemas of this module's bodies and answers.
#[must_use]
pub fn schemas() -> Vec<(String, Value)> {
    let text = json!({"type": "string"});
    let texts = json!({
        "type": "object",
        "description": "Parts not given (or blank) keep the built-in text",
        "properties": {"subject": text, "html": text, "text": text},
    });
    let template = json!({
        "type": "object",
        "required": ["kind", "language", "own", "builtin", "variables"],
        "properties": {
            "kind": text,
            "language": {"type": "string", "enum": ["ca", "es", "en"]},
            "own": {"$ref": "#/components/schemas/MailTemplateTexts"},
            "builtin": {
                "type": "object",
                "properties": {"subject": text, "html": text, "text": text},
            },
            "variables": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": text, "description": text, "example": text},
                },
            },
        },
    });
    vec![
        ("MailTemplateTexts".into(), texts),
        ("MailTemplate".into(), template),
    ]
}
