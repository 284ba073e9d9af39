//! The ticket API under `/api/v1/{instance}`: queues, opening, reading,
//! the conversation, every action on a ticket, and the users and
//! organisations tickets belong to.
//!
//! Every handler authenticates an agent token or an API key of the path's
//! instance ([`ApiAuth`]); an API key acts with its permissions. Tickets are
//! addressed by number. Every route is one row of [`ROUTES`], which both
//! registers it ([`router`]) and describes it in the OpenAPI document
//! (`routes::openapi`), so the two cannot drift apart.
//!
//! Bodies and query strings that do not parse are `400 invalid_body` /
//! `400 invalid_query` (never axum's plain-text rejections), so every error
//! leaves through [`ApiError`] with a stable code.

mod actions;
mod people;
mod read;
mod write;

pub(crate) use write::{BodyJson, FileJson, files};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{MethodRouter, delete, get, patch, post};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use taquilla_core::domain::Ticket;
use taquilla_core::services::{Ctx, ServiceError, tickets};

use crate::MAX_UPLOAD_BYTES;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// One route of the JSON API: what registers it and what documents it.
#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// The axum path, e.g. `/api/v1/{instance}/tickets/{number}`.
    pub path: &'static str,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
    /// The query parameters it reads.
    pub query: &'static [&'static str],
    /// The schema (in the OpenAPI components) of its JSON body, if any.
    pub body: Option<&'static str>,
    /// Success status and the schema of its answer (`None`: no body).
    pub answer: (u16, Option<&'static str>),
    /// The handler, as a method router.
    pub handler: fn() -> MethodRouter<AppState>,
}

const QUEUE_PARAMS: &[&str] = &[
    "department",
    "state",
    "status",
    "assignee",
    "team",
    "topic",
    "priority",
    "overdue",
    "user",
    "sort",
    "order",
    "limit",
    "cursor",
];
const PAGE_PARAMS: &[&str] = &["cursor", "limit"];

/// Every route of this module. Attachments ride in JSON bodies (base64),
/// so the routes that take them accept up to [`MAX_UPLOAD_BYTES`].
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/tickets",
        summary: "A page of a ticket queue",
        query: QUEUE_PARAMS,
        body: None,
        answer: (200, Some("TicketPage")),
        handler: || get(read::queue),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets",
        summary: "Open a ticket (for a user, by an agent or an integration)",
        query: &[],
        body: Some("OpenTicket"),
        answer: (201, Some("Ticket")),
        handler: || post(write::open).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/tickets/{number}",
        summary: "A ticket; a merged one names the ticket it was merged into (merged_into, merged_into_number)",
        query: &[],
        body: None,
        answer: (200, Some("Ticket")),
        handler: || get(read::ticket),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/tickets/{number}",
        summary: "Change status, priority, topic, due date, department, SLA plan or assignee",
        query: &[],
        body: Some("TicketChanges"),
        answer: (200, Some("Ticket")),
        handler: || patch(actions::update),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/tickets/{number}/thread",
        summary: "A page of the ticket's thread, oldest first",
        query: PAGE_PARAMS,
        body: None,
        answer: (200, Some("EntryPage")),
        handler: || get(read::thread),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/responses",
        summary: "An agent's response to the user (optionally changing the status); answers the ticket it landed in (redirected_from when the addressed one was merged)",
        query: &[],
        body: Some("NewResponse"),
        answer: (201, Some("Ticket")),
        handler: || post(write::respond).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/notes",
        summary: "An internal note; answers the ticket it landed in (redirected_from when the addressed one was merged)",
        query: &[],
        body: Some("NewEntry"),
        answer: (201, Some("Ticket")),
        handler: || post(write::note).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/messages",
        summary: "A message of the ticket's user, entered on their behalf (needs ticket.create); answers the ticket it landed in (redirected_from when the addressed one was merged)",
        query: &[],
        body: Some("NewEntry"),
        answer: (201, Some("Ticket")),
        handler: || post(write::message).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/close",
        summary: "Close the ticket",
        query: &[],
        body: Some("VersionBody"),
        answer: (200, Some("Ticket")),
        handler: || post(actions::close),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/reopen",
        summary: "Reopen the ticket",
        query: &[],
        body: Some("VersionBody"),
        answer: (200, Some("Ticket")),
        handler: || post(actions::reopen),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/claim",
        summary: "Assign the ticket to the calling agent",
        query: &[],
        body: Some("VersionBody"),
        answer: (200, Some("Ticket")),
        handler: || post(actions::claim),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/release",
        summary: "Unassign the ticket",
        query: &[],
        body: Some("VersionBody"),
        answer: (200, Some("Ticket")),
        handler: || post(actions::release),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/delete",
        summary: "Delete the ticket (soft; administrators only)",
        query: &[],
        body: Some("VersionBody"),
        answer: (200, Some("Ticket")),
        handler: || post(actions::delete),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/lock",
        summary: "Take or renew the collision lock (default 180 s)",
        query: &[],
        body: Some("LockBody"),
        answer: (200, Some("Lock")),
        handler: || post(actions::lock),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/tickets/{number}/lock",
        summary: "Release the collision lock",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete(actions::unlock),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/collaborators",
        summary: "Copy a pasted list of addresses on the ticket",
        query: &[],
        body: Some("CollaboratorsBody"),
        answer: (200, Some("CollaboratorReport")),
        handler: || post(actions::add_collaborators),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/tickets/{number}/collaborators/{user}",
        summary: "Stop copying a user on the ticket",
        query: &[],
        body: None,
        answer: (200, Some("Ticket")),
        handler: || delete(actions::remove_collaborator),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/merge",
        summary: "Merge the ticket into another; answers the target",
        query: &[],
        body: Some("MergeBody"),
        answer: (200, Some("Ticket")),
        handler: || post(actions::merge),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/tickets/{number}/links",
        summary: "Link a related ticket",
        query: &[],
        body: Some("LinkBody"),
        answer: (200, Some("Ticket")),
        handler: || post(actions::link),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/tickets/{number}/links/{other}",
        summary: "Unlink a related ticket",
        query: &[],
        body: None,
        answer: (200, Some("Ticket")),
        handler: || delete(actions::unlink),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/users",
        summary: "A page of the instance's users",
        query: PAGE_PARAMS,
        body: None,
        answer: (200, Some("UserPage")),
        handler: || get(people::users),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/users",
        summary: "Find the user with an address, or create it (needs user.manage)",
        query: &[],
        body: Some("NewUser"),
        answer: (200, Some("User")),
        handler: || post(people::user_find_or_create),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/users/{id}",
        summary: "A user",
        query: &[],
        body: None,
        answer: (200, Some("User")),
        handler: || get(people::user),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/users/{id}",
        summary: "Change a user's profile (needs user.manage)",
        query: &[],
        body: Some("UserChanges"),
        answer: (200, Some("User")),
        handler: || patch(people::user_update),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/organisations",
        summary: "A page of the instance's organisations",
        query: PAGE_PARAMS,
        body: None,
        answer: (200, Some("OrganisationPage")),
        handler: || get(people::organisations),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/organisations",
        summary: "Create an organisation (needs org.manage)",
        query: &[],
        body: Some("NewOrganisation"),
        answer: (201, Some("Organisation")),
        handler: || post(people::organisation_create),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/organisations/{id}",
        summary: "An organisation",
        query: &[],
        body: None,
        answer: (200, Some("Organisation")),
        handler: || get(people::organisation),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/organisations/{id}",
        summary: "Change an organisation (needs org.manage)",
        query: &[],
        body: Some("OrganisationChanges"),
        answer: (200, Some("Organisation")),
        handler: || patch(people::organisation_update),
    },
];

/// The routes of this module, registered from [`ROUTES`], and the OpenAPI
/// document that describes them.
pub fn router() -> Router<AppState> {
    register(
        Router::new().route(super::openapi::OPENAPI_PATH, get(super::openapi::document)),
        ROUTES,
    )
}

/// `router` with every row of `routes` (rows sharing a path add their
/// method to it): how each module's table becomes its routes.
pub fn register(router: Router<AppState>, routes: &[ApiRoute]) -> Router<AppState> {
    routes.iter().fold(router, |router, route| {
        router.route(route.path, (route.handler)())
    })
}

// ---------------------------------------------------------------------------
// Extractors with stable error codes
// ---------------------------------------------------------------------------

/// A JSON body; an empty body reads as `{}` (so bodies whose fields are all
/// optional may be left out). Anything unparsable is `400 invalid_body`.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| bad("invalid_body", e.body_text()))?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(text)
            .map(Body)
            .map_err(|e| bad("invalid_body", e.to_string()))
    }
}

/// A query string; anything unparsable is `400 invalid_query`.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| Params(value))
            .map_err(|e| bad("invalid_query", e.body_text()))
    }
}

fn bad(code: &'static str, message: String) -> ApiError {
    ApiError::BadRequest { code, message }
}

/// `ServiceError::Invalid` for `field`.
fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Service(ServiceError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    })
}

/// For `PATCH` fields where `null` means "clear" and absence "leave":
/// `Some(None)` for `null`, `Some(Some(v))` for a value.
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// A page size from the query: 1 to 100, 50 when absent.
fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=100) => Ok(n),
        Some(_) => Err(invalid("limit", "must be between 1 and 100")),
    }
}

/// A ticket as the API answers it where a merge matters: the ticket's own
/// fields, and what tells a client where things went.
#[derive(Debug, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// Reading a merged ticket: the number of the ticket it was merged into
    /// (when the caller may see that one; `merged_into` has its id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into_number: Option<String>,
    /// Writing to a merged ticket: the number the entry was addressed to;
    /// `ticket` is then the one it landed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirected_from: Option<String>,
}

impl TicketView {
    /// The answer to an entry addressed to `addressed` that landed in `landed`.
    fn written(addressed: &Ticket, landed: Ticket) -> Self {
        let redirected_from = (landed.id != addressed.id).then(|| addressed.number.clone());
        Self {
            ticket: landed,
            merged_into_number: None,
            redirected_from,
        }
    }
}

/// The ticket `number` as `caller` may see it (`404 not_found` otherwise).
async fn ticket_by_number(
    ctx: &Ctx<'_>,
    caller: &Caller,
    number: &str,
) -> Result<Ticket, ApiError> {
    Ok(tickets::by_number(ctx, &caller.actor, number).await?)
}
