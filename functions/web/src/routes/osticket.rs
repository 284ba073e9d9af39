//! osTicket-compatible ticket creation, so existing clients and scripts
//! only change their base URL:
//!
//! - `POST /{instance}/api/tickets.json|xml`
//! - `POST /api/tickets.json|xml` (the API key names the instance)
//! - `POST /{instance}/api/tickets.email`, `POST /api/tickets.email`: a raw
//!   RFC 5322 message through the inbound mail pipeline, as osTicket's
//!   email API takes it (`201` and the number for a new ticket, `200` and
//!   the number for a reply threaded into one, or a delivery report or a
//!   duplicate recorded; `400` with a code for a message refused for good;
//!   `503` when it was not processed and must be sent again)
//!
//! With `X-API-Key`, the payload as osTicket takes it, and osTicket's
//! answers: `201 Created` with the ticket number as a plain-text body; 400
//! for malformed data or an unknown key; 401 for a missing, inactive or
//! wrong-address key; 403 when the key may not create tickets. Errors are
//! plain text ([`PlainTextError`]).

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use taquilla_core::domain::{DepartmentId, InstanceId, Permission};
use taquilla_core::services::osticket::{self, OsTicketRequest};
use taquilla_core::services::tickets::{self, Body, NewNote};
use taquilla_core::services::{Actor, ServiceError};
use taquilla_mail::pipeline::{self, Envelope, Outcome};
use taquilla_mail::reply_token::ReplyTokens;

use crate::auth::{self, Caller, ClientIp};
use crate::error::{ApiError, PlainTextError};
use crate::state::AppState;

/// The payload formats osTicket accepts.
#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    Xml,
    Email,
}

fn format_of(file: &str) -> Result<Format, PlainTextError> {
    match file {
        "tickets.json" => Ok(Format::Json),
        "tickets.xml" => Ok(Format::Xml),
        "tickets.email" => Ok(Format::Email),
        _ => Err(ApiError::NotFound("no such route".into()).into()),
    }
}

/// `POST /{instance}/api/{tickets.json|tickets.xml}`.
pub async fn create_in_instance(
    State(state): State<AppState>,
    Path((instance, file)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PlainTextError> {
    let format = format_of(&file)?;
    let instance = auth::existing_instance(&state, &instance).await?;
    create(&state, Some(instance), ip, &headers, format, &body).await
}

/// `POST /api/{tickets.json|tickets.xml}`: the key names the instance.
pub async fn create_by_key(
    State(state): State<AppState>,
    Path(file): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PlainTextError> {
    let format = format_of(&file)?;
    create(&state, None, ip, &headers, format, &body).await
}

async fn create(
    state: &AppState,
    instance: Option<InstanceId>,
    ip: Option<IpAddr>,
    headers: &HeaderMap,
    format: Format,
    body: &[u8],
) -> Result<Response, PlainTextError> {
    let key = auth::api_key(headers).unwrap_or_default();
    let caller = auth::key_caller(state, instance.as_ref(), key, ip).await?;
    let request = match format {
        Format::Json => osticket::parse_json(body),
        Format::Xml => osticket::parse_xml(body),
        Format::Email => return email(state, &caller, body).await,
    }
    .map_err(ApiError::from)?;
    let number = open(state, &caller, request, ip).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        number,
    )
        .into_response())
}

/// A raw message through the inbound mail pipeline of the key's instance.
async fn email(state: &AppState, caller: &Caller, raw: &[u8]) -> Result<Response, PlainTextError> {
    if !caller.actor.can(Permission::TicketCreate, DepartmentId(0)) {
        return Err(ApiError::Service(ServiceError::Forbidden(
            Permission::TicketCreate.as_str().into(),
        ))
        .into());
    }
    let ctx = caller.ctx(state);
    let tokens = ReplyTokens::new((*state.reply_key).clone());
    let outcome = pipeline::ingest(&ctx, &tokens, raw, &Envelope::default())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let text = |status: StatusCode, body: String| {
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response()
    };
    Ok(match outcome {
        Outcome::Opened { number, .. } => text(StatusCode::CREATED, number),
        Outcome::Threaded { number, .. } => text(StatusCode::OK, number),
        Outcome::Duplicate { ticket } => text(StatusCode::OK, ticket),
        Outcome::Rejected { code, reason } => {
            return Err(ApiError::BadRequest {
                code,
                message: reason,
            }
            .into());
        }
        other => text(StatusCode::OK, other.summary()),
    })
}

/// Opens the ticket, adds the payload's notes, and returns its number.
async fn open(
    state: &AppState,
    caller: &Caller,
    request: OsTicketRequest,
    ip: Option<IpAddr>,
) -> Result<String, ApiError> {
    let ctx = caller.ctx(state);
    let (input, notes) = request.into_open_ticket(ip.map(|ip| ip.to_string()));
    let ticket = tickets::open(&ctx, &caller.actor, input).await?;
    if let Some(notes) = notes {
        let key_id = match &caller.actor {
            Actor::ApiKey { key_id, .. } => key_id.clone(),
            _ => String::new(),
        };
        // The notes are part of the creation the key was allowed; they are
        // written by the system on its behalf, as osTicket does.
        let note = NewNote {
            body: Body::Text(notes),
            attachments: Vec::new(),
        };
        let system = Actor::System(format!("api key {key_id}"));
        if let Err(e) = tickets::note(&ctx, &system, &ticket.id, note).await {
            let e: ServiceError = e;
            tracing::warn!(ticket = %ticket.number, error = %e, "the API request's notes were not added");
        }
    }
    tracing::info!(ticket = %ticket.number, "ticket opened through the osTicket API");
    Ok(ticket.number)
}
