//! Writing: opening a ticket, and the entries of its thread (an agent's
//! response, an internal note, a user's message entered on their behalf).

use std::collections::BTreeMap;

use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use taquilla_core::domain::{
    DepartmentId, Permission, PriorityId, Source, StatusId, Ticket, TopicId,
};
use taquilla_core::services::osticket::parse_data_url;
use taquilla_core::services::tickets::{
    self, NewAttachment, NewMessage, NewNote, NewResponse, OpenTicket, merge,
};
use taquilla_core::services::{Actor, ServiceError};

use super::super::canned;
use super::{Body, TicketView, invalid, ticket_by_number};
use crate::auth::{ApiAuth, ClientIp};
use crate::error::ApiError;
use crate::state::AppState;

/// A body as sent: `"text"`, `{"text": "..."}` or `{"html": "..."}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum BodyJson {
    Plain(String),
    Tagged(TaggedBody),
}

/// `{"text": ...}` or `{"html": ...}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaggedBody {
    Text(String),
    Html(String),
}

impl From<BodyJson> for tickets::Body {
    fn from(body: BodyJson) -> Self {
        match body {
            BodyJson::Plain(text) | BodyJson::Tagged(TaggedBody::Text(text)) => Self::Text(text),
            BodyJson::Tagged(TaggedBody::Html(html)) => Self::Html(html),
        }
    }
}

/// A file as sent: its bytes in standard base64.
#[derive(Debug, Deserialize)]
pub struct FileJson {
    name: String,
    content_type: String,
    data_base64: String,
}

/// The files decoded; undecodable base64 is `400 invalid_field`.
pub(crate) fn files(files: Vec<FileJson>) -> Result<Vec<NewAttachment>, ApiError> {
    files
        .into_iter()
        .map(|file| {
            let url = format!("data:application/octet-stream;base64,{}", file.data_base64);
            let decoded = parse_data_url(&url).map_err(|_| {
                invalid(
                    "attachments",
                    format!("{}: data_base64 is not base64", file.name),
                )
            })?;
            Ok(NewAttachment {
                name: file.name,
                content_type: file.content_type,
                bytes: decoded.bytes,
            })
        })
        .collect()
}

/// An answer to a form's field as sent: text, a number, a boolean, or the
/// items of a multiple choice (stored joined by commas).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum AnswerJson {
    Text(String),
    Number(serde_json::Number),
    Flag(bool),
    Items(Vec<String>),
}

impl From<AnswerJson> for String {
    fn from(answer: AnswerJson) -> Self {
        match answer {
            AnswerJson::Text(text) => text,
            AnswerJson::Number(n) => n.to_string(),
            AnswerJson::Flag(flag) => flag.to_string(),
            AnswerJson::Items(items) => items.join(","),
        }
    }
}

/// The body of `POST tickets`.
#[derive(Debug, Deserialize)]
pub struct OpenJson {
    #[serde(default)]
    name: String,
    email: String,
    phone: Option<String>,
    subject: String,
    body: BodyJson,
    topic: Option<u32>,
    department: Option<u32>,
    priority: Option<u32>,
    /// `other` when an agent opens it, `api` for an API key, unless given.
    source: Option<Source>,
    /// Answers to the topic's forms by variable name; wrong ones are
    /// `422 invalid_form` naming each field.
    #[serde(default)]
    fields: BTreeMap<String, AnswerJson>,
    #[serde(default)]
    collaborators: Vec<String>,
    #[serde(default)]
    attachments: Vec<FileJson>,
    #[serde(default = "yes")]
    autorespond: bool,
    #[serde(default = "yes")]
    alert: bool,
}

fn yes() -> bool {
    true
}

/// `POST tickets`: 201 with the ticket.
pub async fn open(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    ClientIp(ip): ClientIp,
    Body(input): Body<OpenJson>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let default_source = match caller.actor {
        Actor::ApiKey { .. } => Source::Api,
        _ => Source::Other,
    };
    let open = OpenTicket {
        name: input.name,
        email: input.email,
        phone: input.phone,
        subject: input.subject,
        body: input.body.into(),
        topic: input.topic.map(TopicId),
        department: input.department.map(DepartmentId),
        priority: input.priority.map(PriorityId),
        source: input.source.unwrap_or(default_source),
        fields: input
            .fields
            .into_iter()
            .map(|(name, answer)| (name, answer.into()))
            .collect(),
        attachments: files(input.attachments)?,
        collaborators: input.collaborators,
        autorespond: input.autorespond,
        alert: input.alert,
        ip: ip.map(|ip| ip.to_string()),
    };
    let ticket = tickets::open(&caller.ctx(&state), &caller.actor, open).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// The body of `POST tickets/{number}/responses`: a body, a canned
/// response, or both (the agent's text first).
#[derive(Debug, Deserialize)]
pub struct ResponseJson {
    body: Option<BodyJson>,
    status: Option<u32>,
    #[serde(default)]
    attachments: Vec<FileJson>,
    /// A canned response expanded for the ticket, with its files.
    canned: Option<u32>,
}

/// The body of a note or a message.
#[derive(Debug, Deserialize)]
pub struct EntryJson {
    body: BodyJson,
    #[serde(default)]
    attachments: Vec<FileJson>,
}

/// `POST tickets/{number}/responses`: refused with `409 ticket_locked`
/// while another agent holds the ticket's lock. To a merged ticket, the
/// response lands in the ticket it was merged into, which is answered
/// with `redirected_from` (the same for notes and messages).
pub async fn respond(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
    Body(input): Body<ResponseJson>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let mut attachments = files(input.attachments)?;
    let own = input.body.map(tickets::Body::from);
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    let body = match input.canned {
        Some(id) => {
            let actor = &caller.actor;
            canned::response_body(&ctx, actor, &ticket, id, own, &mut attachments).await?
        }
        None => own.ok_or_else(|| invalid("body", "must be given, or a canned response"))?,
    };
    let response = NewResponse {
        body,
        attachments,
        status: input.status.map(StatusId),
    };
    let landed = tickets::respond(&ctx, &caller.actor, &ticket.id, response).await?;
    Ok((
        StatusCode::CREATED,
        Json(TicketView::written(&ticket, landed)),
    ))
}

/// `POST tickets/{number}/notes`.
pub async fn note(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
    Body(input): Body<EntryJson>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let note = NewNote {
        body: input.body.into(),
        attachments: files(input.attachments)?,
    };
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    let landed = tickets::note(&ctx, &caller.actor, &ticket.id, note).await?;
    Ok((
        StatusCode::CREATED,
        Json(TicketView::written(&ticket, landed)),
    ))
}

/// What the system actor of an entered message is called.
fn on_behalf(actor: &Actor) -> String {
    match actor {
        Actor::Agent(access) => format!("agent {} on the user's behalf", access.agent.id),
        Actor::ApiKey { key_id, .. } => format!("api key {key_id} on the user's behalf"),
        Actor::User(user) => format!("user {user}"),
        Actor::System(name) => name.clone(),
    }
}

/// `POST tickets/{number}/messages`: a message of the ticket's user that
/// an agent or an integration enters for them (a phone call, a letter).
///
/// The caller must see the ticket and hold `ticket.create` in its
/// department (the permission that lets it open a ticket on a user's
/// behalf); the message is then written as the user's (`reply` as the
/// system on the user's behalf), so it reopens a closed ticket as a user's
/// message does. To a merged ticket, the caller must see the ticket it
/// lands in and hold `ticket.create` there.
pub async fn message(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
    Body(input): Body<EntryJson>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let message = NewMessage {
        body: input.body.into(),
        attachments: files(input.attachments)?,
    };
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    if matches!(caller.actor, Actor::User(_)) {
        return Err(ServiceError::Forbidden("users write through the portal".into()).into());
    }
    let destination = merge::destination(&ctx, &caller.actor, ticket.clone()).await?;
    caller
        .actor
        .require(Permission::TicketCreate, destination.department)?;
    let system = Actor::System(on_behalf(&caller.actor));
    let landed = tickets::reply(&ctx, &system, &ticket.id, message).await?;
    Ok((
        StatusCode::CREATED,
        Json(TicketView::written(&ticket, landed)),
    ))
}
