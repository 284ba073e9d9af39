//! The task API under `/api/v1/{instance}/tasks`: lists, creating, reading,
//! changing, closing, reopening and deleting a task, and its thread.
//!
//! Tasks are addressed by id; a linked ticket is named by its number (as
//! everywhere in the ticket API) and answered as the ticket's id. Every
//! route is one row of [`ROUTES`], which registers it ([`router`]) and
//! describes it in the OpenAPI document (`routes::openapi`, with the
//! schemas of [`schemas`]). Errors leave through [`ApiError`] with stable
//! codes: `400 invalid_body|invalid_query|invalid_field`, `403 forbidden`,
//! `404 not_found`, `409 conflict` (a stale `version`).

use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete as delete_route, get, patch, post};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use taquilla_core::domain::{
    AgentId, DepartmentId, Entry, Task, TaskId, TaskState, TeamId, TicketId,
};
use taquilla_core::sanitize::Body as TextBody;
use taquilla_core::services::tasks::{self, NewTask, TaskChanges, TaskFilter};
use taquilla_core::services::{Ctx, Page, ServiceError, tickets};

use super::tickets::{ApiRoute, Body, Params};
use crate::auth::{ApiAuth, Caller};
use crate::error::ApiError;
use crate::state::AppState;

const LIST_PARAMS: &[&str] = &[
    "department",
    "state",
    "assignee",
    "team",
    "ticket",
    "limit",
    "cursor",
];
const PAGE_PARAMS: &[&str] = &["cursor", "limit"];

/// Every route of this module.
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/tasks",
        summary: "A page of tasks: of a ticket, of an assignee, of a team, of a department (default: the caller's own open tasks)",
        query: LIST_PARAMS,
        body: None,
        answer: (200, Some("TaskPage")),
        handler: || get(list),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tasks",
        summary: "Create a task (needs task.create in its department, and task.assign to give it an assignee or a team)",
        query: &[],
        body: Some("NewTask"),
        answer: (201, Some("Task")),
        handler: || post(create),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/tasks/{id}",
        summary: "A task",
        query: &[],
        body: None,
        answer: (200, Some("Task")),
        handler: || get(read),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/tasks/{id}",
        summary: "Change title, description, due date (task.edit) or assignee and team (task.assign)",
        query: &[],
        body: Some("TaskChanges"),
        answer: (200, Some("Task")),
        handler: || patch(update),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/tasks/{id}",
        summary: "Delete the task and its thread for good (needs task.delete)",
        query: &[],
        body: Some("VersionBody"),
        answer: (204, None),
        handler: || delete_route(delete),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tasks/{id}/close",
        summary: "Close the task (needs task.close)",
        query: &[],
        body: Some("VersionBody"),
        answer: (200, Some("Task")),
        handler: || post(close),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tasks/{id}/reopen",
        summary: "Reopen the task (needs task.close)",
        query: &[],
        body: Some("VersionBody"),
        answer: (200, Some("Task")),
        handler: || post(reopen),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tasks/{id}/notes",
        summary: "An internal note on the task (agents only)",
        query: &[],
        body: Some("NewTaskNote"),
        answer: (201, Some("Task")),
        handler: || post(note),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/tasks/{id}/thread",
        summary: "A page of the task's thread (notes and events), oldest first",
        query: PAGE_PARAMS,
        body: None,
        answer: (200, Some("EntryPage")),
        handler: || get(thread),
    },
];

/// The routes of this module, registered from [`ROUTES`] (rows sharing a
/// path add their method to it).
pub fn router() -> Router<AppState> {
    super::tickets::register(Router::new(), ROUTES)
}

/// The OpenAPI schemas of the task bodies and answers (`EntryPage` and
/// `VersionBody` are the ticket API's).
#[must_use]
pub fn schemas() -> Vec<(String, Value)> {
    let int = json!({"type": "integer"});
    let nullable_int = json!({"type": "integer", "nullable": true});
    let body = json!({
        "description": "Plain text as a string or {\"text\": ...}; HTML (sanitised) as {\"html\": ...}",
        "oneOf": [{"type": "string"}, {"type": "object"}],
    });
    let task = json!({
        "type": "object",
        "required": ["id", "title", "department", "state", "created_at", "updated_at", "version"],
        "properties": {
            "id": {"type": "string"}, "title": {"type": "string"},
            "description_html": {"type": "string"}, "description_text": {"type": "string"},
            "department": int, "assignee": nullable_int,
            "team": {"type": "integer", "nullable": true, "description": "The team that works the task; its agents see it"},
            "due_at": nullable_int,
            "state": {"type": "string", "enum": ["open", "closed"]},
            "ticket": {"type": "string", "nullable": true, "description": "The linked ticket's id"},
            "created_by": {"type": "object"}, "created_at": int, "updated_at": int,
            "closed_at": nullable_int, "version": int,
        },
    });
    let page = json!({
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
            "cursor": {"type": "string", "nullable": true, "description": "Present exactly when more items follow"},
        },
    });
    let new_task = json!({
        "type": "object",
        "required": ["title", "department"],
        "properties": {
            "title": {"type": "string", "maxLength": 255}, "description": body,
            "department": int,
            "assignee": {"type": "integer", "description": "An active agent (needs task.assign)"},
            "team": {"type": "integer", "description": "A team of the instance (needs task.assign)"},
            "due_at": int,
            "ticket": {"type": "string", "description": "The number of the ticket to link"},
        },
    });
    let changes = json!({
        "type": "object",
        "required": ["version"],
        "properties": {
            "version": int, "title": {"type": "string"}, "description": body,
            "due_at": nullable_int,
            "assignee": {"type": "integer", "nullable": true, "description": "null releases the task"},
            "team": {"type": "integer", "nullable": true, "description": "A team of the instance; null takes the task from its team"},
        },
    });
    let new_note = json!({"type": "object", "required": ["body"], "properties": {"body": body}});
    [
        ("Task", task),
        ("TaskPage", page),
        ("NewTask", new_task),
        ("TaskChanges", changes),
        ("NewTaskNote", new_note),
    ]
    .into_iter()
    .map(|(name, schema)| (name.to_owned(), schema))
    .collect()
}

// ---------------------------------------------------------------------------
// Bodies and queries
// ---------------------------------------------------------------------------

/// A text as sent: `"text"`, `{"text": "..."}` or `{"html": "..."}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum TextJson {
    Plain(String),
    Tagged(TaggedText),
}

/// `{"text": ...}` or `{"html": ...}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaggedText {
    Text(String),
    Html(String),
}

impl From<TextJson> for TextBody {
    fn from(body: TextJson) -> Self {
        match body {
            TextJson::Plain(text) | TextJson::Tagged(TaggedText::Text(text)) => Self::Text(text),
            TextJson::Tagged(TaggedText::Html(html)) => Self::Html(html),
        }
    }
}

/// The body of `POST tasks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTaskJson {
    title: String,
    description: Option<TextJson>,
    department: u32,
    assignee: Option<u32>,
    team: Option<u32>,
    due_at: Option<i64>,
    /// A ticket number.
    ticket: Option<String>,
}

/// For fields where `null` means "clear" and absence "leave".
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// The body of `PATCH tasks/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskChangesJson {
    version: i64,
    title: Option<String>,
    description: Option<TextJson>,
    #[serde(default, deserialize_with = "nullable")]
    due_at: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    assignee: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    team: Option<Option<u32>>,
}

/// `{"version": n}`, all optional: the version the caller read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionJson {
    version: Option<i64>,
}

/// The body of `POST tasks/{id}/notes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteJson {
    body: TextJson,
}

/// The query of `GET tasks`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    department: Option<u32>,
    state: Option<TaskState>,
    assignee: Option<u32>,
    team: Option<u32>,
    /// A ticket number.
    ticket: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `?cursor&limit`.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A page size from the query: 1 to 100, 50 when absent.
fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=100) => Ok(n),
        Some(_) => Err(ServiceError::Invalid {
            field: "limit".into(),
            message: "must be between 1 and 100".into(),
        }
        .into()),
    }
}

/// The task id of the path; anything else is not found.
fn task_id(id: &str) -> Result<TaskId, ApiError> {
    TaskId::parse(id).map_err(|_| ServiceError::NotFound(format!("task {id}")).into())
}

/// The id of the ticket numbered `number`, as `caller` may see it.
async fn ticket_id(ctx: &Ctx<'_>, caller: &Caller, number: &str) -> Result<TicketId, ApiError> {
    Ok(tickets::by_number(ctx, &caller.actor, number).await?.id)
}

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

/// `GET tasks`: `{"items": [...], "cursor": ...}`.
async fn list(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<Task>>, ApiError> {
    let ctx = caller.ctx(&state);
    let ticket = match &query.ticket {
        Some(number) => Some(ticket_id(&ctx, &caller, number).await?),
        None => None,
    };
    let filter = TaskFilter {
        department: query.department.map(DepartmentId),
        assignee: query.assignee.map(AgentId),
        team: query.team.map(TeamId),
        ticket,
        state: query.state,
        cursor: query.cursor,
        limit: page_limit(query.limit)?,
    };
    Ok(Json(tasks::list(&ctx, &caller.actor, &filter).await?))
}

/// `POST tasks`: `201` with the task.
async fn create(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Body(body): Body<NewTaskJson>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let ctx = caller.ctx(&state);
    let ticket = match &body.ticket {
        Some(number) => Some(ticket_id(&ctx, &caller, number).await.map_err(|_| {
            ApiError::from(ServiceError::Invalid {
                field: "ticket".into(),
                message: format!("there is no ticket {number}"),
            })
        })?),
        None => None,
    };
    let new = NewTask {
        title: body.title,
        description: body.description.map(Into::into),
        department: DepartmentId(body.department),
        assignee: body.assignee.map(AgentId),
        team: body.team.map(TeamId),
        due_at: body.due_at,
        ticket,
    };
    let task = tasks::create(&ctx, &caller.actor, new).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// `GET tasks/{id}`.
async fn read(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Task>, ApiError> {
    let id = task_id(&id)?;
    Ok(Json(
        tasks::get(&caller.ctx(&state), &caller.actor, &id).await?,
    ))
}

/// `PATCH tasks/{id}`: every given field in one transaction.
async fn update(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<TaskChangesJson>,
) -> Result<Json<Task>, ApiError> {
    let id = task_id(&id)?;
    let changes = TaskChanges {
        version: body.version,
        title: body.title,
        description: body.description.map(Into::into),
        due_at: body.due_at,
        assignee: body.assignee.map(|a| a.map(AgentId)),
        team: body.team.map(|t| t.map(TeamId)),
    };
    let ctx = caller.ctx(&state);
    Ok(Json(
        tasks::update(&ctx, &caller.actor, &id, changes).await?,
    ))
}

/// `DELETE tasks/{id}`: `204`.
async fn delete(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<VersionJson>,
) -> Result<StatusCode, ApiError> {
    let id = task_id(&id)?;
    tasks::delete(&caller.ctx(&state), &caller.actor, &id, body.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST tasks/{id}/close`.
async fn close(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<VersionJson>,
) -> Result<Json<Task>, ApiError> {
    let id = task_id(&id)?;
    let ctx = caller.ctx(&state);
    Ok(Json(
        tasks::close(&ctx, &caller.actor, &id, body.version).await?,
    ))
}

/// `POST tasks/{id}/reopen`.
async fn reopen(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<VersionJson>,
) -> Result<Json<Task>, ApiError> {
    let id = task_id(&id)?;
    let ctx = caller.ctx(&state);
    Ok(Json(
        tasks::reopen(&ctx, &caller.actor, &id, body.version).await?,
    ))
}

/// `POST tasks/{id}/notes`: `201` with the task.
async fn note(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<NoteJson>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let id = task_id(&id)?;
    let ctx = caller.ctx(&state);
    let task = tasks::note(&ctx, &caller.actor, &id, &body.body.into()).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// `GET tasks/{id}/thread`: entries oldest first.
async fn thread(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, String)>,
    Params(query): Params<PageQuery>,
) -> Result<Json<Page<Entry>>, ApiError> {
    let id = task_id(&id)?;
    let limit = page_limit(query.limit)?;
    let ctx = caller.ctx(&state);
    Ok(Json(
        tasks::thread(&ctx, &caller.actor, &id, query.cursor, limit).await?,
    ))
}
