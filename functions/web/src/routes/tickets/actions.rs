//! Actions on a ticket: the `PATCH` of its fields, close, reopen, claim,
//! release, delete, the collision lock, collaborators, merge and links.
//!
//! Every action takes an optional `version` (the ticket's version the
//! caller read); a stale one is `409 conflict` and changes nothing.

use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use taquilla_core::domain::{
    AgentId, CopyKind, DepartmentId, PriorityId, SlaPlanId, StatusId, TeamId, Ticket, TopicId,
    UserId,
};
use taquilla_core::services::tickets::actions::{self as ops, Assignee};
use taquilla_core::services::tickets::collaborators::{self, CollaboratorReport};
use taquilla_core::services::tickets::locks::{self, Lock};
use taquilla_core::services::tickets::merge;
use taquilla_core::services::tickets::sla_plan;
use taquilla_core::services::{Ctx, ServiceError};

use super::{Body, invalid, nullable, ticket_by_number};
use crate::auth::{ApiAuth, Caller};
use crate::error::ApiError;
use crate::state::AppState;

/// Whom to assign to: `{"agent": id}` or `{"team": id}`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssigneeJson {
    Agent(u32),
    Team(u32),
}

/// The body of `PATCH tickets/{number}`. Absent fields stay; `null` clears
/// (topic, due date, SLA plan, assignee).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketChanges {
    version: i64,
    status: Option<u32>,
    priority: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    topic: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    due_at: Option<Option<i64>>,
    department: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    sla: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    assignee: Option<Option<AssigneeJson>>,
}

/// `PATCH tickets/{number}`: applies each given field through its action
/// (status, priority, topic, due date, department, SLA plan, assignee, in
/// that order: a plan given here is not replaced by the topic or
/// department changed in the same request), the first at `version` and
/// each next at the version the previous one returned, and answers the
/// ticket.
///
/// Each action is its own transaction: a refusal part-way (a missing
/// permission, an unknown id) leaves the earlier changes applied, and the
/// error says which field failed. Send one field per request to be atomic.
pub async fn update(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
    Body(changes): Body<TicketChanges>,
) -> Result<Json<Ticket>, ApiError> {
    let ctx = caller.ctx(&state);
    let mut ticket = ticket_by_number(&ctx, &caller, &number).await?;
    if ticket.version != changes.version {
        return Err(ServiceError::Conflict(format!(
            "ticket {} is at version {}, not {}",
            ticket.number, ticket.version, changes.version
        ))
        .into());
    }
    let actor = &caller.actor;
    let id = ticket.id.clone();
    let mut version = changes.version;
    if let Some(status) = changes.status {
        ticket = ops::set_status(&ctx, actor, &id, StatusId(status), Some(version)).await?;
        version = ticket.version;
    }
    if let Some(priority) = changes.priority {
        ticket = ops::set_priority(&ctx, actor, &id, PriorityId(priority), Some(version)).await?;
        version = ticket.version;
    }
    if let Some(topic) = changes.topic {
        ticket = ops::set_topic(&ctx, actor, &id, topic.map(TopicId), Some(version)).await?;
        version = ticket.version;
    }
    if let Some(due_at) = changes.due_at {
        ticket = ops::set_due(&ctx, actor, &id, due_at, Some(version)).await?;
        version = ticket.version;
    }
    if let Some(department) = changes.department {
        ticket = ops::transfer(&ctx, actor, &id, DepartmentId(department), Some(version)).await?;
        version = ticket.version;
    }
    if let Some(sla) = changes.sla {
        ticket = sla_plan::set_sla(&ctx, actor, &id, sla.map(SlaPlanId), Some(version)).await?;
        version = ticket.version;
    }
    if let Some(assignee) = changes.assignee {
        ticket = match assignee {
            Some(AssigneeJson::Agent(agent)) => {
                let to = Assignee::Agent(AgentId(agent));
                ops::assign(&ctx, actor, &id, to, Some(version)).await?
            }
            Some(AssigneeJson::Team(team)) => {
                let to = Assignee::Team(TeamId(team));
                ops::assign(&ctx, actor, &id, to, Some(version)).await?
            }
            None => ops::release(&ctx, actor, &id, Some(version)).await?,
        };
    }
    Ok(Json(ticket))
}

/// `{"version"?: n}`, the body of the one-word actions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    version: Option<i64>,
}

/// Handlers of the one-word actions, each an `actions::*` call.
macro_rules! simple_action {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub async fn $name(
            State(state): State<AppState>,
            ApiAuth(caller): ApiAuth,
            Path((_, number)): Path<(String, String)>,
            Body(body): Body<VersionBody>,
        ) -> Result<Json<Ticket>, ApiError> {
            let ctx = caller.ctx(&state);
            let ticket = ticket_by_number(&ctx, &caller, &number).await?;
            let ticket = ops::$name(&ctx, &caller.actor, &ticket.id, body.version).await?;
            Ok(Json(ticket))
        }
    };
}

simple_action!(
    /// `POST tickets/{number}/close`: to the first closed status.
    close
);
simple_action!(
    /// `POST tickets/{number}/reopen`: to the first open status.
    reopen
);
simple_action!(
    /// `POST tickets/{number}/claim`: assigns the ticket to the calling agent.
    claim
);
simple_action!(
    /// `POST tickets/{number}/release`: unassigns it.
    release
);
simple_action!(
    /// `POST tickets/{number}/delete`: soft delete, administrators only.
    delete
);

/// `{"seconds"?: n}`: how long to hold the lock.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockBody {
    seconds: Option<i64>,
}

/// `POST tickets/{number}/lock`: takes or renews the caller's lock;
/// `409 ticket_locked` (with `holder` and `until`) while another agent's
/// is live.
pub async fn lock(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
    Body(body): Body<LockBody>,
) -> Result<Json<Lock>, ApiError> {
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    let lock = match body.seconds {
        Some(secs) => locks::lock_for(&ctx, &caller.actor, &ticket.id, secs).await?,
        None => locks::lock(&ctx, &caller.actor, &ticket.id).await?,
    };
    Ok(Json(lock))
}

/// `DELETE tickets/{number}/lock`: releases the caller's lock (an
/// administrator may release anyone's).
pub async fn unlock(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    locks::unlock(&ctx, &caller.actor, &ticket.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How a pasted list is copied.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KindJson {
    Cc,
    Bcc,
}

/// `{"text": "...", "kind"?: "cc"|"bcc", "version"?: n}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollaboratorsBody {
    text: String,
    kind: Option<KindJson>,
    version: Option<i64>,
}

/// `POST tickets/{number}/collaborators`: what became of each entry.
pub async fn add_collaborators(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
    Body(body): Body<CollaboratorsBody>,
) -> Result<Json<CollaboratorReport>, ApiError> {
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    let kind = match body.kind {
        None | Some(KindJson::Cc) => CopyKind::Cc,
        Some(KindJson::Bcc) => CopyKind::Bcc,
    };
    let report = collaborators::add_collaborators(
        &ctx,
        &caller.actor,
        &ticket.id,
        &body.text,
        kind,
        body.version,
    )
    .await?;
    Ok(Json(report))
}

/// `DELETE tickets/{number}/collaborators/{user}`.
pub async fn remove_collaborator(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number, user)): Path<(String, String, String)>,
) -> Result<Json<Ticket>, ApiError> {
    let user = UserId::parse(&user).map_err(|_| invalid("user", "not a user id"))?;
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    let ticket =
        collaborators::remove_collaborator(&ctx, &caller.actor, &ticket.id, &user, None).await?;
    Ok(Json(ticket))
}

/// `{"into": number, "version"?: n}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    into: String,
    version: Option<i64>,
}

/// `POST tickets/{number}/merge`: answers the target ticket.
pub async fn merge(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
    Body(body): Body<MergeBody>,
) -> Result<Json<Ticket>, ApiError> {
    let ctx = caller.ctx(&state);
    let source = ticket_by_number(&ctx, &caller, &number).await?;
    let target = other_ticket(&ctx, &caller, "into", &body.into).await?;
    let ticket = merge::merge(&ctx, &caller.actor, &source.id, &target.id, body.version).await?;
    Ok(Json(ticket))
}

/// `{"number": "...", "version"?: n}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    number: String,
    version: Option<i64>,
}

/// `POST tickets/{number}/links`.
pub async fn link(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
    Body(body): Body<LinkBody>,
) -> Result<Json<Ticket>, ApiError> {
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    let other = other_ticket(&ctx, &caller, "number", &body.number).await?;
    let ticket = ops::link(&ctx, &caller.actor, &ticket.id, &other.id, body.version).await?;
    Ok(Json(ticket))
}

/// `DELETE tickets/{number}/links/{other}`.
pub async fn unlink(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number, other)): Path<(String, String, String)>,
) -> Result<Json<Ticket>, ApiError> {
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    let other = ticket_by_number(&ctx, &caller, &other).await?;
    let ticket = ops::unlink(&ctx, &caller.actor, &ticket.id, &other.id, None).await?;
    Ok(Json(ticket))
}

/// The ticket a body names (`field`): one the caller cannot see is
/// `400 invalid_field`, since the request, not the URL, is wrong.
async fn other_ticket(
    ctx: &Ctx<'_>,
    caller: &Caller,
    field: &str,
    number: &str,
) -> Result<Ticket, ApiError> {
    match ticket_by_number(ctx, caller, number).await {
        Err(ApiError::Service(ServiceError::NotFound(_))) => {
            Err(invalid(field, format!("no ticket {number}")))
        }
        other => other,
    }
}
