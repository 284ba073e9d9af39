//! Rules under `/api/v1/{instance}/rules` (administrators only):
//!
//! - list (in running order: `order`, then id), create, read, change and
//!   delete, as the other named kinds ([`objects`]). A rule that breaks one
//!   of its rules is `400 invalid_field` whose message ends with the stable
//!   code in brackets (`[rule_bad_regex]`, `[rule_action_moment]`,
//!   `[rule_no_conditions]`, `[rule_unknown_department]`, ...). The
//!   subject and body of a mail a rule sends are templates over the
//!   `rule_mail` variables: one naming anything else is `400` with the
//!   template error's code (`unknown_variable`, `template_syntax`, ...).
//! - `POST /rules/{id}/replay?days=N`, and `POST /rules/replay?days=N`
//!   with an unsaved rule as the body: which tickets opened in the last N
//!   days the rule would have touched and what it would have done; nothing
//!   is changed.
//!
//! A ticket a creation rule rejects is `422 rejected_by_rule` wherever it
//! is opened (the rule's notice is the message; a quiet rejection says
//! only that it was not accepted).

use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete as delete_route, get, patch, post};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use taquilla_core::domain::rules::{Action, Rule, RuleId};
use taquilla_core::services::ServiceError;
use taquilla_core::services::admin::Versioned;
use taquilla_core::services::admin::objects;
use taquilla_core::services::admin::rules::RuleChanges;
use taquilla_core::services::rules::replay::{self, Report};

use super::tickets::{ApiRoute, Body, Params};
use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::state::AppState;

/// Every route of this module.
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/rules",
        summary: "Rules, in running order (administrators)",
        query: &[],
        body: None,
        answer: (200, Some("RuleList")),
        handler: || get(list),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/rules",
        summary: "Create a rule (checked when saved: regular expressions, actions that fit the moment, objects named)",
        query: &[],
        body: Some("NewRule"),
        answer: (201, Some("Rule")),
        handler: || post(create),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/rules/{id}",
        summary: "A rule",
        query: &[],
        body: None,
        answer: (200, Some("Rule")),
        handler: || get(read),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/rules/{id}",
        summary: "Change a rule",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Rule")),
        handler: || patch(update),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/rules/{id}",
        summary: "Delete a rule",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(delete),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/rules/{id}/replay",
        summary: "What a saved rule would have done to the tickets of the last N days (nothing is changed)",
        query: &["days"],
        body: None,
        answer: (200, Some("RuleReplay")),
        handler: || post(replay_saved),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/rules/replay",
        summary: "What an unsaved rule would have done to the tickets of the last N days (nothing is changed)",
        query: &["days"],
        body: Some("NewRule"),
        answer: (200, Some("RuleReplay")),
        handler: || post(replay_unsaved),
    },
];

/// The routes of this module, registered from [`ROUTES`].
pub fn router() -> Router<AppState> {
    super::tickets::register(Router::new(), ROUTES)
}

#[derive(Debug, Serialize)]
struct List {
    items: Vec<Versioned<Rule>>,
}

#[derive(Debug, Deserialize)]
struct ReplayQuery {
    #[serde(default = "default_days")]
    days: u32,
}

fn default_days() -> u32 {
    30
}

/// The rule id in the path; one that is not a number names no rule.
fn rule_id(id: &str) -> Result<RuleId, ApiError> {
    id.parse()
        .map(RuleId)
        .map_err(|_| ServiceError::NotFound(format!("rule {id}")).into())
}

async fn list(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
) -> Result<Json<List>, ApiError> {
    let mut items = objects::list::<Rule>(caller.ctx(&state), &caller.actor).await?;
    items.sort_by_key(|r| (r.record.order, r.record.id));
    Ok(Json(List { items }))
}

async fn create(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Body(rule): Body<Rule>,
) -> Result<(StatusCode, Json<Versioned<Rule>>), ApiError> {
    check_texts(&rule.actions)?;
    let created = objects::create(caller.ctx(&state), &caller.actor, rule).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn read(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Versioned<Rule>>, ApiError> {
    let id = rule_id(&id)?;
    Ok(Json(
        objects::get(caller.ctx(&state), &caller.actor, id).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
    Body(changes): Body<RuleChanges>,
) -> Result<Json<Versioned<Rule>>, ApiError> {
    let id = rule_id(&id)?;
    if let Some(actions) = &changes.actions {
        check_texts(actions)?;
    }
    Ok(Json(
        objects::update(caller.ctx(&state), &caller.actor, id, changes).await?,
    ))
}

async fn delete(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = rule_id(&id)?;
    objects::delete(caller.ctx(&state), &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn replay_saved(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
    Params(query): Params<ReplayQuery>,
) -> Result<Json<Report>, ApiError> {
    let id = rule_id(&id)?;
    let ctx = caller.ctx(&state);
    Ok(Json(
        replay::replay_saved(&ctx, &caller.actor, id, query.days).await?,
    ))
}

async fn replay_unsaved(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Params(query): Params<ReplayQuery>,
    Body(rule): Body<Rule>,
) -> Result<Json<Report>, ApiError> {
    let ctx = caller.ctx(&state);
    Ok(Json(
        replay::replay(&ctx, &caller.actor, rule, query.days).await?,
    ))
}

/// The texts of the mails `actions` send, checked as templates.
fn check_texts(actions: &[Action]) -> Result<(), ApiError> {
    taquilla_mail::rules::check_texts(actions).map_err(|e| ApiError::BadRequest {
        code: e.code(),
        message: format!("actions: {e}"),
    })
}

/// The schemas of this module's bodies and answers.
#[must_use]
pub fn schemas() -> Map<String, Value> {
    let int = json!({"type": "integer"});
    let string = json!({"type": "string"});
    let condition = json!({
        "type": "object",
        "required": ["field", "op"],
        "properties": {
            "field": {"type": "string", "description": "email, name, domain, organisation, subject, body, header:NAME, recipient, source, topic, department, status, priority, assignee, team, field:VARIABLE, or a time field: waiting_on_user, unanswered, unassigned, idle, age, due_in"},
            "op": {"type": "string", "enum": ["equals", "not_equals", "contains", "not_contains", "starts_with", "ends_with", "matches", "not_matches", "greater_than", "less_than"]},
            "value": {"type": "string", "description": "Text (compared ignoring case), a regular expression (linear-time syntax), a number, or a duration such as 7d, 2h, 90m"},
            "business": {"type": "boolean", "default": false, "description": "Time fields: count the business hours of the ticket's schedule"},
        },
    });
    let action = json!({
        "type": "object",
        "required": ["do"],
        "properties": {
            "do": {"type": "string", "enum": ["reject", "set_department", "set_topic", "set_priority", "set_sla", "set_status", "assign_agent", "assign_team", "add_collaborators", "disable_auto_response", "send_canned", "send_mail", "add_note", "close"]},
            "notice": {"type": "string", "description": "reject: the answer to the sender (none: quietly)"},
            "department": int, "topic": int, "priority": int, "sla": int, "status": int, "agent": int, "team": int,
            "canned": {"type": "integer", "description": "send_canned: the canned response, expanded for the ticket and sent to the user as the rules' response"},
            "addresses": {"type": "array", "items": string, "maxItems": 20},
            "to": {"type": "array", "items": string, "minItems": 1, "maxItems": 20, "description": "send_mail: the addresses mailed (the rule_mail template)"},
            "subject": {"type": "string", "maxLength": 255, "description": "send_mail: the subject, a template over the rule_mail variables"},
            "body": {"type": "string", "description": "add_note: the note's text; send_mail: the mail's text, a template over the rule_mail variables"},
        },
    });
    let moment = json!({
        "type": "object",
        "required": ["on"],
        "properties": {
            "on": {"type": "string", "enum": ["creation", "update", "time"]},
            "sources": {"type": "array", "items": {"type": "string", "enum": ["web", "email", "api", "phone", "other"]}, "description": "creation: the sources it applies to (all when empty)"},
            "mailbox": {"type": "string", "description": "creation: only mail received at this address"},
            "events": {"type": "array", "items": {"type": "string", "enum": ["user_message", "agent_response", "note", "status_changed", "priority_changed", "assignment_changed", "collaborator_added"]}, "description": "update: the events it reacts to (all when empty)"},
        },
    });
    let rule = json!({
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "enabled": {"type": "boolean", "default": true},
        "order": {"type": "integer", "default": 0, "description": "Rules run by order, then id"},
        "moment": moment,
        "matching": {"type": "string", "enum": ["all", "any"], "default": "all"},
        "conditions": {"type": "array", "maxItems": 50, "items": condition},
        "actions": {"type": "array", "minItems": 1, "maxItems": 20, "items": action},
        "stop": {"type": "boolean", "default": false, "description": "No later rule runs when this one fires"},
    });
    let mut saved = rule.clone();
    saved["id"] = int.clone();
    saved["version"] = int.clone();
    let touched = json!({
        "type": "object",
        "properties": {
            "number": string, "subject": string, "created_at": int,
            "actions": {"type": "array", "items": string},
        },
    });
    let mut out = Map::new();
    out.insert(
        "NewRule".into(),
        json!({"type": "object", "required": ["name", "moment", "actions"], "properties": rule}),
    );
    out.insert(
        "Rule".into(),
        json!({"type": "object", "required": ["id", "name", "moment", "actions", "version"], "properties": saved}),
    );
    out.insert(
        "RuleList".into(),
        json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}}}}),
    );
    out.insert(
        "RuleReplay".into(),
        json!({"type": "object", "properties": {
            "days": int, "since": int,
            "examined": {"type": "integer", "description": "Tickets opened in the window"},
            "matched": {"type": "integer", "description": "Tickets the rule would have touched"},
            "tickets": {"type": "array", "items": touched, "description": "The first 1,000 of them"},
        }}),
    );
    out
}
