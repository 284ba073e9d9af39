//! Agents' accounts, the routes anyone may call (no token: they are how
//! an agent gets one):
//!
//! - `POST /api/v1/{instance}/session` `{email, password}`: a bearer token
//!   (`401 invalid_credentials` for a wrong address, a wrong password or
//!   an inactive agent alike);
//! - `POST /api/v1/{instance}/password` `{token, password}`: chooses a
//!   password with the token of a password link (welcome or reset); `204`,
//!   or `400 weak_password` (the link still works) or `400 invalid_link`
//!   (used, expired, replaced or unknown, one answer for all);
//! - `POST /api/v1/{instance}/password/forgot` `{email}`: mails a reset link
//!   if an active agent has that address; `202` and no body whatever the
//!   address, so it tells nothing (only a malformed one is `400`).
//!
//! Every route is one row of [`ROUTES`], registered by [`router`] and
//! described in the OpenAPI document with the schemas of [`schemas`].

use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use taquilla_core::domain::InstanceId;
use taquilla_core::services::Ctx;
use taquilla_core::services::accounts::{self, Session};

use super::tickets::{ApiRoute, Body};
use crate::auth::existing_instance;
use crate::error::ApiError;
use crate::state::AppState;

/// The routes of this module.
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/session",
        summary: "Sign in: an agent's e-mail and password for a bearer token (no token needed)",
        query: &[],
        body: Some("SignIn"),
        answer: (200, Some("Session")),
        handler: || post(sign_in),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/password",
        summary: "Choose a password with the token of a password link (no token needed)",
        query: &[],
        body: Some("ChoosePassword"),
        answer: (204, None),
        handler: || post(choose_password),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/password/forgot",
        summary: "Mail a password reset link to the agent with this address, if any; always 202 (no token needed)",
        query: &[],
        body: Some("ForgotPassword"),
        answer: (202, None),
        handler: || post(forgot_password),
    },
];

/// The routes of this module, registered from [`ROUTES`].
pub fn router() -> Router<AppState> {
    super::tickets::register(Router::new(), ROUTES)
}

/// Whether `path` is one of these routes, which need no credentials.
#[must_use]
pub fn is_public(path: &str) -> bool {
    ROUTES.iter().any(|route| route.path == path)
}

/// The services' context in `instance`, for a caller who is nobody yet.
fn ctx<'a>(state: &'a AppState, instance: &'a InstanceId) -> Ctx<'a> {
    Ctx {
        store: state.store.as_ref(),
        blobs: state.blobs.as_ref(),
        clock: state.clock.as_ref(),
        instance,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    email: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoosePassword {
    token: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgotPassword {
    email: String,
}

/// `POST /api/v1/{instance}/session`.
async fn sign_in(
    State(state): State<AppState>,
    Path(instance): Path<String>,
    Body(body): Body<SignIn>,
) -> Result<Json<Session>, ApiError> {
    let instance = existing_instance(&state, &instance).await?;
    let ctx = ctx(&state, &instance);
    Ok(Json(
        accounts::sign_in(&ctx, &state.token_key, &body.email, &body.password).await?,
    ))
}

/// `POST /api/v1/{instance}/password`.
async fn choose_password(
    State(state): State<AppState>,
    Path(instance): Path<String>,
    Body(body): Body<ChoosePassword>,
) -> Result<StatusCode, ApiError> {
    let instance = existing_instance(&state, &instance).await?;
    accounts::set_password(&ctx(&state, &instance), &body.token, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/{instance}/password/forgot`.
async fn forgot_password(
    State(state): State<AppState>,
    Path(instance): Path<String>,
    Body(body): Body<ForgotPassword>,
) -> Result<StatusCode, ApiError> {
    let instance = existing_instance(&state, &instance).await?;
    accounts::forgot(&ctx(&state, &instance), &body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The OpenAPI schemas of these routes' bodies and answers, and of the
/// administrators' password reset (`routes::admin`).
#[must_use]
pub fn schemas() -> Vec<(String, Value)> {
    let text = json!({"type": "string"});
    let object = |required: &[&str], properties: Value| json!({"type": "object", "required": required, "properties": properties});
    vec![
        (
            "SignIn".into(),
            object(
                &["email", "password"],
                json!({"email": text, "password": text}),
            ),
        ),
        (
            "Session".into(),
            object(
                &["token", "agent", "expires_at"],
                json!({
                    "token": {"type": "string", "description": "For Authorization: Bearer"},
                    "agent": {"type": "integer"},
                    "expires_at": {"type": "integer", "description": "Epoch seconds"},
                }),
            ),
        ),
        (
            "ChoosePassword".into(),
            object(
                &["token", "password"],
                json!({
                    "token": {"type": "string", "description": "The token of the link in the welcome or reset mail"},
                    "password": {"type": "string", "minLength": accounts::strength::MIN_CHARS, "maxLength": accounts::strength::MAX_CHARS},
                }),
            ),
        ),
        (
            "ForgotPassword".into(),
            object(&["email"], json!({"email": text})),
        ),
        (
            "ResetPassword".into(),
            json!({
                "type": "object",
                "properties": {"send_link": {
                    "type": "boolean",
                    "description": "Revoke the password and mail the agent a reset link instead of answering a generated password",
                }},
            }),
        ),
        (
            "AgentPasswordReset".into(),
            object(
                &["agent"],
                json!({
                    "agent": {"$ref": "#/components/schemas/Agent"},
                    "password": {"type": "string", "description": "The generated password, shown once (without send_link)"},
                    "link_expires_at": {"type": "integer", "description": "When the mailed link expires, epoch ms (with send_link)"},
                }),
            ),
        ),
    ]
}
