//! Canned responses under `/api/v1/{instance}/canned-responses` (list with
//! `department` and `language` filters, create, read, change, delete), and
//! one expanded for a ticket,
//! `GET /api/v1/{instance}/tickets/{number}/canned/{id}`.
//!
//! Agents with `canned.manage` in a department write its canned responses
//! (administrators those for all departments); every agent lists and reads
//! those of its departments and those for all. One the caller may not see,
//! or one of another department than the ticket's, or an inactive one when
//! expanded, is `404 not_found`. A body naming a variable a canned response
//! may not use is refused when saved with `400` and the template error's
//! code (`unknown_variable`, `template_syntax`, ...); bad fields are
//! `400 invalid_field` (`title`, `department`, `language`, `body`,
//! `attachments`).
//!
//! A response may use one (`canned` in `POST tickets/{number}/responses`):
//! its body is the canned one expanded for the ticket, after the agent's own
//! text if there is one, and its files are attached ([`response_body`]).

use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete as delete_route, get, patch, post};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use taquilla_core::blobs::BlobKey;
use taquilla_core::domain::{CannedId, CannedResponse, DepartmentId, Language, Ticket};
use taquilla_core::sanitize;
use taquilla_core::services::admin::Versioned;
use taquilla_core::services::admin::canned::{self, CannedChanges, CannedFilter, NewCanned};
use taquilla_core::services::tickets::{self, NewAttachment};
use taquilla_core::services::{Actor, Ctx, ServiceError};
use taquilla_mail::canned as mail_canned;
use taquilla_mail::templates::SaveError;

use super::tickets::{ApiRoute, Body, BodyJson, FileJson, Params, files};
use crate::MAX_UPLOAD_BYTES;
use crate::auth::{AgentAuth, ApiAuth};
use crate::error::ApiError;
use crate::state::AppState;

const LIST: &str = "/api/v1/{instance}/canned-responses";
const ONE: &str = "/api/v1/{instance}/canned-responses/{id}";

/// The routes of this module.
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "GET",
        path: LIST,
        summary: "Canned responses the caller may use: of a department (and for all) and in a language (and for any)",
        query: &["department", "language"],
        body: None,
        answer: (200, Some("CannedResponseList")),
        handler: || get(list),
    },
    ApiRoute {
        method: "POST",
        path: LIST,
        summary: "Create a canned response (canned.manage in its department; administrators for all)",
        query: &[],
        body: Some("NewCannedResponse"),
        answer: (201, Some("CannedResponse")),
        handler: || post(create).layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    },
    ApiRoute {
        method: "GET",
        path: ONE,
        summary: "A canned response",
        query: &[],
        body: None,
        answer: (200, Some("CannedResponse")),
        handler: || get(read),
    },
    ApiRoute {
        method: "PATCH",
        path: ONE,
        summary: "Change a canned response (attachments, when given, replace its files)",
        query: &[],
        body: Some("CannedResponseChanges"),
        answer: (200, Some("CannedResponse")),
        handler: || patch(update).layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    },
    ApiRoute {
        method: "DELETE",
        path: ONE,
        summary: "Delete a canned response and its files",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(remove),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/tickets/{number}/canned/{id}",
        summary: "A canned response expanded for the ticket (its variables filled in)",
        query: &[],
        body: None,
        answer: (200, Some("ExpandedCannedResponse")),
        handler: || get(expand),
    },
];

/// The routes of this module, registered from [`ROUTES`].
pub fn router() -> Router<AppState> {
    super::tickets::register(Router::new(), ROUTES)
}

/// The id in the path; one that is not a number names none.
fn canned_id(id: &str) -> Result<CannedId, ApiError> {
    id.parse()
        .map(CannedId)
        .map_err(|_| ServiceError::NotFound(format!("canned response {id}")).into())
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Service(ServiceError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    })
}

/// One of the instance's languages (`ca`, `es`, `en`), or `invalid_field`.
fn language(tag: &str) -> Result<Language, ApiError> {
    taquilla_mail::templates::language(tag).map_err(|_| {
        invalid(
            "language",
            format!("{tag:?} is not one of the instance's languages (ca, es, en)"),
        )
    })
}

fn optional_language(tag: Option<&str>) -> Result<Option<Language>, ApiError> {
    tag.map(language).transpose()
}

/// A save refused: the template's own code for its body, else the service's.
fn save_error(error: SaveError) -> ApiError {
    match error {
        SaveError::Service(e) => e.into(),
        SaveError::Template(e) => ApiError::BadRequest {
            code: e.code(),
            message: format!("body: {e}"),
        },
    }
}

/// `{"items": [...]}`.
#[derive(Debug, Serialize)]
struct List<T> {
    items: Vec<T>,
}

/// The query of the list.
#[derive(Debug, Deserialize)]
struct ListQuery {
    department: Option<u32>,
    language: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Params(query): Params<ListQuery>,
) -> Result<Json<List<Versioned<CannedResponse>>>, ApiError> {
    let filter = CannedFilter {
        department: query.department.map(DepartmentId),
        language: optional_language(query.language.as_deref())?,
    };
    let items = canned::list(caller.ctx(&state), &caller.actor, filter).await?;
    Ok(Json(List { items }))
}

async fn read(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Versioned<CannedResponse>>, ApiError> {
    let id = canned_id(&id)?;
    Ok(Json(
        canned::get(caller.ctx(&state), &caller.actor, id).await?,
    ))
}

/// A field that may be absent (leave it), `null` or a value.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The body of `POST canned-responses`. `department` must be given: a
/// department's id, or `null` for all departments.
#[derive(Debug, Deserialize)]
struct NewJson {
    #[serde(default)]
    title: String,
    #[serde(default, deserialize_with = "nullable")]
    department: Option<Option<u32>>,
    language: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    body: Option<BodyJson>,
    #[serde(default)]
    attachments: Vec<FileJson>,
}

fn yes() -> bool {
    true
}

async fn create(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Body(input): Body<NewJson>,
) -> Result<(StatusCode, Json<Versioned<CannedResponse>>), ApiError> {
    let Some(department) = input.department else {
        return Err(invalid(
            "department",
            "must be given: a department's id, or null for all departments",
        ));
    };
    let Some(body) = input.body else {
        return Err(invalid("body", "must not be empty"));
    };
    let new = NewCanned {
        title: input.title,
        department: department.map(DepartmentId),
        language: optional_language(input.language.as_deref())?,
        active: input.active,
        body: (String::new(), String::new()),
        files: files(input.attachments)?,
    };
    let created = mail_canned::create(caller.ctx(&state), &caller.actor, new, &body.into())
        .await
        .map_err(save_error)?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The body of `PATCH canned-responses/{id}`: absent fields stay.
#[derive(Debug, Deserialize)]
struct ChangesJson {
    version: i64,
    title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    department: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    language: Option<Option<String>>,
    active: Option<bool>,
    body: Option<BodyJson>,
    attachments: Option<Vec<FileJson>>,
}

async fn update(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
    Body(input): Body<ChangesJson>,
) -> Result<Json<Versioned<CannedResponse>>, ApiError> {
    let id = canned_id(&id)?;
    let changes = CannedChanges {
        version: input.version,
        title: input.title,
        department: input.department.map(|d| d.map(DepartmentId)),
        language: match input.language {
            Some(tag) => Some(optional_language(tag.as_deref())?),
            None => None,
        },
        active: input.active,
        body: None,
        attachments: None,
    };
    let body = input.body.map(tickets::Body::from);
    let files = input.attachments.map(files).transpose()?;
    let updated = mail_canned::update(
        caller.ctx(&state),
        &caller.actor,
        id,
        changes,
        body.as_ref(),
        files,
    )
    .await
    .map_err(save_error)?;
    Ok(Json(updated))
}

async fn remove(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = canned_id(&id)?;
    canned::delete(caller.ctx(&state), &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A file of an expanded canned response.
#[derive(Debug, Serialize)]
struct FileView {
    blob: BlobKey,
    name: String,
    content_type: String,
    size: u64,
}

/// A canned response expanded for a ticket.
#[derive(Debug, Serialize)]
struct ExpandedView {
    id: CannedId,
    title: String,
    html: String,
    text: String,
    attachments: Vec<FileView>,
}

async fn expand(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number, id)): Path<(String, String, String)>,
) -> Result<Json<ExpandedView>, ApiError> {
    let id = canned_id(&id)?;
    let ctx = caller.ctx(&state);
    let addressed = tickets::by_number(&ctx, &caller.actor, &number).await?;
    let ticket = landing(&ctx, &caller.actor, addressed).await?;
    let expanded = mail_canned::expand(ctx, &caller.actor, &ticket, id)
        .await
        .map_err(save_error)?;
    Ok(Json(ExpandedView {
        id: expanded.canned.id,
        title: expanded.canned.title,
        html: expanded.html,
        text: expanded.text,
        attachments: expanded
            .canned
            .attachments
            .into_iter()
            .map(|a| FileView {
                blob: a.blob,
                name: a.name,
                content_type: a.content_type,
                size: a.size,
            })
            .collect(),
    }))
}

/// The ticket a response to `addressed` lands in, as `actor` sees it (a
/// merged ticket's responses land in the one it was merged into, so a
/// canned response is expanded for that one).
async fn landing(ctx: &Ctx<'_>, actor: &Actor, addressed: Ticket) -> Result<Ticket, ApiError> {
    Ok(tickets::merge::destination(ctx, actor, addressed).await?)
}

/// The body and files of a response to `addressed` that uses canned
/// response `id`: the agent's own text (if any) and then the canned body
/// expanded for the ticket; the canned files after the agent's own.
pub(crate) async fn response_body(
    ctx: &Ctx<'_>,
    actor: &Actor,
    addressed: &Ticket,
    id: u32,
    own: Option<tickets::Body>,
    attachments: &mut Vec<NewAttachment>,
) -> Result<tickets::Body, ApiError> {
    let ticket = landing(ctx, actor, addressed.clone()).await?;
    let expanded = mail_canned::expand(*ctx, actor, &ticket, CannedId(id))
        .await
        .map_err(save_error)?;
    attachments.extend(expanded.files(ctx).await?);
    let own = own
        .map(|body| body.render().0)
        .filter(|html| !sanitize::html_to_text(html).trim().is_empty());
    Ok(tickets::Body::Html(match own {
        Some(html) => format!("{html}\n{}", expanded.html),
        None => expanded.html,
    }))
}

/// The schemas of this module's bodies and answers.
#[must_use]
pub fn schemas() -> Vec<(String, Value)> {
    let int = json!({"type": "integer"});
    let string = json!({"type": "string"});
    let body = json!({
        "description": "Plain text as a string or {\"text\": ...}; HTML (sanitised) as {\"html\": ...}. A template over the response mail's variables but recipient.*, ticket.link, response.*, instance.url and signature (e.g. {{ ticket.number }}, {{ user.name }})",
        "oneOf": [
            {"type": "string"},
            {"type": "object", "required": ["text"], "properties": {"text": string}},
            {"type": "object", "required": ["html"], "properties": {"html": string}},
        ],
    });
    let files =
        json!({"type": "array", "maxItems": 20, "items": {"$ref": "#/components/schemas/File"}});
    let department = json!({"type": "integer", "nullable": true, "description": "The department whose agents use it; null: all departments"});
    let language = json!({"type": "string", "nullable": true, "enum": ["ca", "es", "en", null], "description": "null: any language"});
    let attachment = json!({
        "type": "object",
        "properties": {"blob": string, "name": string, "content_type": string, "size": int},
    });
    let record = json!({
        "type": "object",
        "required": ["id", "title", "department", "active", "body_html", "body_text", "attachments", "version"],
        "properties": {
            "id": int, "title": string, "department": department, "language": language,
            "active": {"type": "boolean"}, "body_html": string, "body_text": string,
            "attachments": {"type": "array", "items": attachment}, "version": int,
        },
    });
    vec![
        (
            "NewCannedResponse".into(),
            json!({
                "type": "object",
                "required": ["title", "department", "body"],
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 120},
                    "department": department, "language": language,
                    "active": {"type": "boolean", "default": true},
                    "body": body, "attachments": files,
                },
            }),
        ),
        (
            "CannedResponseChanges".into(),
            json!({
                "type": "object",
                "required": ["version"],
                "properties": {
                    "version": int, "title": string, "department": department, "language": language,
                    "active": {"type": "boolean"}, "body": body,
                    "attachments": {"type": "array", "maxItems": 20, "description": "Replace the files whole", "items": {"$ref": "#/components/schemas/File"}},
                },
            }),
        ),
        ("CannedResponse".into(), record),
        (
            "CannedResponseList".into(),
            json!({
                "type": "object",
                "required": ["items"],
                "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/CannedResponse"}}},
            }),
        ),
        (
            "ExpandedCannedResponse".into(),
            json!({
                "type": "object",
                "required": ["id", "title", "html", "text", "attachments"],
                "properties": {
                    "id": int, "title": string,
                    "html": {"type": "string", "description": "Sanitised HTML, the variables filled in for the ticket"},
                    "text": string,
                    "attachments": {"type": "array", "items": attachment},
                },
            }),
        ),
    ]
}
