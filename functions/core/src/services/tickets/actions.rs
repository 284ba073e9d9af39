//! What an agent does to a ticket besides writing in its thread: assign,
//! claim, release, transfer, change status, priority, topic or due date,
//! close, reopen, link and delete.
//!
//! Every action follows one shape: load the ticket as the actor may see it
//! (one it may not see is `NotFound`, exactly as a ticket that does not
//! exist, so its existence is not revealed), hold it to the version the
//! caller says it edits (or the version just read), check the permission
//! in the ticket's department (`Forbidden` only now, for a ticket the actor
//! sees), apply a
//! [`Change`](crate::domain::change::Change) and save the ticket together
//! with the event entries that record it, in one transaction guarded by the
//! version. Two concurrent changes of the same ticket never both win: the
//! loser gets [`ServiceError::Conflict`]. A change that changes nothing
//! writes nothing and returns the ticket as it is.

use serde::de::DeserializeOwned;

use super::access::load_visible;
use super::config::{first_status, object};
use super::store;
use crate::domain::change::{self, Change};
use crate::domain::{
    Agent, AgentId, Author, Department, DepartmentId, Permission, Priority, PriorityId, State,
    Status, StatusId, Team, TeamId, Ticket, TicketId, TopicId,
};
use crate::domain::{Entry, HelpTopic};
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::{Condition, StoreError, WriteOp};

/// Whom a ticket is assigned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    Agent(AgentId),
    Team(TeamId),
}

/// How often a change that lost a race on the *other* ticket of a two-ticket
/// action (link, merge) is retried on a fresh read of that ticket.
pub(crate) const OTHER_SIDE_RETRIES: usize = 3;

// ---------------------------------------------------------------------------
// Shared steps (also used by collaborators and merge)
// ---------------------------------------------------------------------------

/// The author events of `actor` are recorded under.
pub(crate) fn author_of(actor: &Actor) -> Author {
    match actor {
        Actor::Agent(access) => Author::Agent(access.agent.id),
        Actor::User(user) => Author::User(user.clone()),
        Actor::ApiKey { key_id, .. } => Author::System(format!("api key {key_id}")),
        Actor::System(name) => Author::System(name.clone()),
    }
}

/// Like [`config::object`](super::config::object), but a missing object is `NotFound` naming `what`.
async fn required<T: DeserializeOwned>(
    ctx: &Ctx<'_>,
    kind: &str,
    id: u32,
    what: &str,
) -> Result<T, ServiceError> {
    object(ctx, kind, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("{what} {id}")))
}

/// The ticket `id` as `actor` may see it (`NotFound` when it may not, as
/// for a missing ticket), refused with `Conflict` unless it is at
/// `expected_version` (when given). Visibility comes first, so a stale
/// version on a hidden ticket is still `NotFound`.
pub(crate) async fn load_at(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let ticket = load_visible(ctx, actor, id).await?;
    match expected_version {
        Some(expected) if expected != ticket.version => Err(ServiceError::Conflict(format!(
            "ticket {} is at version {}, not {expected}",
            ticket.number, ticket.version
        ))),
        _ => Ok(ticket),
    }
}

/// The operations appending `entries` to the thread of `ticket`.
pub(crate) fn entry_ops(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    entries: &[Entry],
) -> Result<Vec<WriteOp>, ServiceError> {
    entries
        .iter()
        .map(|entry| store::append_entry_op(ctx, ticket, entry))
        .collect()
}

/// Applies `changes` to `ticket` (read at its current version) as `actor`
/// and saves it with the events, all in one transaction. Returns the ticket
/// as stored, with its new version; unchanged and unwritten if no change
/// changed anything.
pub(crate) async fn commit(
    ctx: &Ctx<'_>,
    actor: &Actor,
    mut ticket: Ticket,
    changes: Vec<Change>,
) -> Result<Ticket, ServiceError> {
    let old_version = ticket.version;
    let now = ctx.clock.now_ms();
    let events = change::apply_all(&mut ticket, changes, &author_of(actor), now);
    if events.is_empty() {
        return Ok(ticket);
    }
    // Read once: due times and time rules follow them, update rules run after.
    let rules = crate::services::rules::enabled(ctx).await?;
    crate::services::sla::refresh(ctx, &mut ticket, now, &rules).await?;
    let mut ops = entry_ops(ctx, &ticket, &events)?;
    // The mail the change owes (alerts, the closed notice), written with it.
    ops.extend(crate::services::outbox::event_ops(
        ctx, &ticket, &events, false,
    )?);
    store::save(ctx, old_version, &ticket, ops).await?;
    ticket.version = store::next_version(old_version);
    // Update rules react to the change (their own write runs no rules).
    Ok(crate::services::rules::apply::after_events(ctx, &rules, ticket, &events).await)
}

/// The put of `ticket` as the successor of `old_version`, on condition that
/// the stored version is still `old_version`: the other ticket of a
/// two-ticket action, written in the same transaction as the first one's
/// [`store::save`].
pub(crate) fn versioned_put(
    ctx: &Ctx<'_>,
    old_version: i64,
    ticket: &Ticket,
) -> Result<WriteOp, ServiceError> {
    let mut next = ticket.clone();
    next.version = store::next_version(old_version);
    Ok(WriteOp::Put {
        item: store::ticket_item(ctx, &next)?,
        condition: Some(Condition::equals(store::VERSION_ATTR, old_version)),
    })
}

/// Whether a failed save lost its race on an operation other than the
/// first ticket's own put (index 0): the other ticket of a two-ticket action.
pub(crate) fn lost_on_other(error: &ServiceError) -> bool {
    matches!(
        error,
        ServiceError::Store(StoreError::TransactionCanceled { failed }) if !failed.contains(&0)
    )
}

/// The agent acting, or `Forbidden` for anyone else.
pub(crate) fn acting_agent(actor: &Actor) -> Result<&Agent, ServiceError> {
    match actor {
        Actor::Agent(access) if access.agent.active => Ok(&access.agent),
        _ => Err(ServiceError::Forbidden(
            "only an active agent may do this".into(),
        )),
    }
}

/// Whether `agent` may work in `department` (administrators may everywhere).
fn has_access(agent: &Agent, department: DepartmentId) -> bool {
    agent.admin || agent.role_in(department).is_some()
}

// ---------------------------------------------------------------------------
// Assignment
// ---------------------------------------------------------------------------

/// Assigns the ticket to an agent (who must exist, be active and have
/// access to the ticket's department) or to a team. Needs `ticket.assign`.
pub async fn assign(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    to: Assignee,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    actor.require(Permission::TicketAssign, current.department)?;
    let change = match to {
        Assignee::Agent(id) => {
            let agent: Agent = required(ctx, AgentId::KIND, id.0, "agent").await?;
            check_assignable(&agent, current.department)?;
            Change::AssignAgent(id)
        }
        Assignee::Team(id) => {
            let _team: Team = required(ctx, TeamId::KIND, id.0, "team").await?;
            Change::AssignTeam(id)
        }
    };
    commit(ctx, actor, current, vec![change]).await
}

/// `Invalid` unless `agent` can be given a ticket of `department`.
fn check_assignable(agent: &Agent, department: DepartmentId) -> Result<(), ServiceError> {
    let problem = if !agent.active {
        "is not active"
    } else if !has_access(agent, department) {
        "has no access to the ticket's department"
    } else {
        return Ok(());
    };
    Err(ServiceError::Invalid {
        field: "assignee".into(),
        message: format!("agent {} {problem}", agent.id),
    })
}

/// The acting agent assigns the ticket to itself: with `ticket.assign`, or
/// when the ticket is unassigned and in one of its departments.
pub async fn claim(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    let me = acting_agent(actor)?;
    let may = actor.can(Permission::TicketAssign, current.department)
        || (current.assignee.is_none() && has_access(me, current.department));
    if !may {
        let why = if current.assignee.is_some() {
            "it is assigned"
        } else {
            "you have no access to its department"
        };
        return Err(ServiceError::Forbidden(format!(
            "claiming ticket {}: {why}, and claiming it needs {}",
            current.number,
            Permission::TicketAssign.as_str()
        )));
    }
    commit(ctx, actor, current, vec![Change::AssignAgent(me.id)]).await
}

/// Clears the assigned agent and team. Needs `ticket.release`.
pub async fn release(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    actor.require(Permission::TicketRelease, current.department)?;
    commit(ctx, actor, current, vec![Change::Release]).await
}

/// Moves the ticket to another department (which must exist); the assigned
/// agent is cleared if it has no access there. Needs `ticket.transfer` in
/// the ticket's current department.
pub async fn transfer(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    to: DepartmentId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    actor.require(Permission::TicketTransfer, current.department)?;
    let _department: Department = required(ctx, DepartmentId::KIND, to.0, "department").await?;
    let clear_assignee = match current.assignee {
        Some(id) => object::<Agent>(ctx, AgentId::KIND, id.0)
            .await?
            .is_none_or(|agent| !has_access(&agent, to)),
        None => false,
    };
    let change = Change::Transfer {
        department: to,
        clear_assignee,
    };
    commit(ctx, actor, current, vec![change]).await
}

// ---------------------------------------------------------------------------
// Status, priority, topic, due date
// ---------------------------------------------------------------------------

/// Gives the ticket another status; its state follows. Closing needs
/// `ticket.close` (and sets `closed_at`), any other status `ticket.edit`
/// (reopening sets `reopened_at` and clears `closed_at`). Deleting is
/// [`delete`]'s alone.
pub async fn set_status(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    status: StatusId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    let status: Status = required(ctx, StatusId::KIND, status.0, "status").await?;
    apply_status(ctx, actor, current, status).await
}

/// The permission checks and the change of [`set_status`], on a loaded ticket.
async fn apply_status(
    ctx: &Ctx<'_>,
    actor: &Actor,
    current: Ticket,
    status: Status,
) -> Result<Ticket, ServiceError> {
    let permission = match status.state {
        State::Closed => Permission::TicketClose,
        State::Open | State::Archived => Permission::TicketEdit,
        State::Deleted => {
            return Err(ServiceError::Invalid {
                field: "status".into(),
                message: "a ticket is deleted with delete, by an administrator".into(),
            });
        }
    };
    actor.require(permission, current.department)?;
    commit(ctx, actor, current, vec![Change::SetStatus(status)]).await
}

/// Closes the ticket with the first closed-state status. Needs `ticket.close`.
pub async fn close(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    let status = first_status(ctx, State::Closed).await?;
    apply_status(ctx, actor, current, status).await
}

/// Reopens the ticket with the first open-state status. Needs `ticket.edit`.
pub async fn reopen(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    let status = first_status(ctx, State::Open).await?;
    apply_status(ctx, actor, current, status).await
}

/// Changes the priority (which must exist). Needs `ticket.edit`.
pub async fn set_priority(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    priority: PriorityId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    actor.require(Permission::TicketEdit, current.department)?;
    let _priority: Priority = required(ctx, PriorityId::KIND, priority.0, "priority").await?;
    commit(ctx, actor, current, vec![Change::SetPriority(priority)]).await
}

/// Changes the help topic (which must exist), or clears it. Needs `ticket.edit`.
pub async fn set_topic(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    topic: Option<TopicId>,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    actor.require(Permission::TicketEdit, current.department)?;
    if let Some(id) = topic {
        let _topic: HelpTopic = required(ctx, TopicId::KIND, id.0, "help topic").await?;
    }
    commit(ctx, actor, current, vec![Change::SetTopic(topic)]).await
}

/// Sets the due date (epoch ms) or clears it. Needs `ticket.edit`.
pub async fn set_due(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    due_at: Option<i64>,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    actor.require(Permission::TicketEdit, current.department)?;
    if due_at.is_some_and(|due| due < 0) {
        return Err(ServiceError::Invalid {
            field: "due_at".into(),
            message: "must be epoch milliseconds".into(),
        });
    }
    commit(ctx, actor, current, vec![Change::SetDue(due_at)]).await
}

// ---------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------

/// Soft-deletes the ticket: it takes the first deleted-state status and
/// leaves the open queues. Administrators only.
pub async fn delete(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    if !actor.is_admin() {
        return Err(ServiceError::Forbidden(
            "only an administrator may delete a ticket".into(),
        ));
    }
    let status = first_status(ctx, State::Deleted).await?;
    commit(ctx, actor, current, vec![Change::Delete(status)]).await
}

// ---------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------

/// Relates tickets `a` and `b`, on both sides, in one transaction. Needs
/// `ticket.edit` in both departments; `expected_version` is `a`'s.
/// Returns `a` as stored.
pub async fn link(
    ctx: &Ctx<'_>,
    actor: &Actor,
    a: &TicketId,
    b: &TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    relate(ctx, actor, a, b, expected_version, true).await
}

/// Undoes [`link`], on both sides. Same permissions.
pub async fn unlink(
    ctx: &Ctx<'_>,
    actor: &Actor,
    a: &TicketId,
    b: &TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    relate(ctx, actor, a, b, expected_version, false).await
}

/// The change linking (or unlinking) `ticket` to `other`.
fn link_change(other: &Ticket, linked: bool) -> Change {
    let (other, other_number) = (other.id.clone(), other.number.clone());
    if linked {
        Change::Link {
            other,
            other_number,
        }
    } else {
        Change::Unlink {
            other,
            other_number,
        }
    }
}

/// [`link`] and [`unlink`]: both tickets and both events in one
/// transaction; a race lost on `b` is retried on a fresh read of `b`.
async fn relate(
    ctx: &Ctx<'_>,
    actor: &Actor,
    a: &TicketId,
    b: &TicketId,
    expected_version: Option<i64>,
    linked: bool,
) -> Result<Ticket, ServiceError> {
    if a == b {
        return Err(ServiceError::Invalid {
            field: "ticket".into(),
            message: "a ticket cannot be linked to itself".into(),
        });
    }
    for _ in 0..=OTHER_SIDE_RETRIES {
        let first = load_at(ctx, actor, a, expected_version).await?;
        let second = load_visible(ctx, actor, b).await?;
        actor.require(Permission::TicketEdit, first.department)?;
        actor.require(Permission::TicketEdit, second.department)?;
        if let Attempt::Done(first) = relate_once(ctx, actor, first, second, linked).await? {
            return Ok(*first);
        }
    }
    Err(ServiceError::Conflict(format!(
        "ticket {b} kept changing while it was being linked"
    )))
}

/// How one attempt of a two-ticket action ended.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Written; the first ticket as stored.
    Done(Box<Ticket>),
    /// The other ticket changed since it was read: read it again and retry.
    OtherMoved,
}

/// The outcome of a save whose extra operations hold the other ticket's put.
pub(crate) fn attempt(
    saved: Result<(), ServiceError>,
    first: Ticket,
) -> Result<Attempt, ServiceError> {
    match saved {
        Ok(()) => Ok(Attempt::Done(Box::new(first))),
        Err(e) if lost_on_other(&e) => Ok(Attempt::OtherMoved),
        Err(e) => Err(e),
    }
}

/// One attempt of [`relate`] on tickets read at their current versions.
async fn relate_once(
    ctx: &Ctx<'_>,
    actor: &Actor,
    mut first: Ticket,
    mut second: Ticket,
    linked: bool,
) -> Result<Attempt, ServiceError> {
    let (by, now) = (author_of(actor), ctx.clock.now_ms());
    let (first_version, second_version) = (first.version, second.version);
    let first_event = change::apply(&mut first, link_change(&second, linked), &by, now);
    let second_event = change::apply(&mut second, link_change(&first, linked), &by, now);
    let mut ops = Vec::new();
    if let Some(event) = &second_event {
        ops.push(versioned_put(ctx, second_version, &second)?);
        ops.push(store::append_entry_op(ctx, &second, event)?);
    }
    match &first_event {
        Some(event) => {
            ops.push(store::append_entry_op(ctx, &first, event)?);
            let saved = store::save(ctx, first_version, &first, ops).await;
            first.version = store::next_version(first_version);
            attempt(saved, first)
        }
        // Only the other side was missing its half of the link.
        None if !ops.is_empty() => match ctx.store.transact(ops).await {
            Ok(()) => Ok(Attempt::Done(Box::new(first))),
            Err(StoreError::TransactionCanceled { .. }) => Ok(Attempt::OtherMoved),
            Err(e) => Err(e.into()),
        },
        None => Ok(Attempt::Done(Box::new(first))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::{AgentAccess, RoleId};

    fn agent(admin: bool, active: bool) -> Agent {
        Agent {
            id: AgentId(3),
            name: "Ana".into(),
            email: "ana@x.org".into(),
            password_hash: String::new(),
            admin,
            department: DepartmentId(2),
            role: RoleId(2),
            access: BTreeMap::new(),
            teams: Vec::new(),
            active,
            on_vacation: false,
        }
    }

    #[test]
    fn only_active_agents_with_access_can_be_assigned() {
        assert!(check_assignable(&agent(false, true), DepartmentId(2)).is_ok());
        assert!(check_assignable(&agent(false, true), DepartmentId(1)).is_err());
        assert!(check_assignable(&agent(true, true), DepartmentId(1)).is_ok());
        assert!(check_assignable(&agent(false, false), DepartmentId(2)).is_err());
    }

    #[test]
    fn events_name_who_acted() {
        let access = AgentAccess {
            agent: agent(false, true),
            roles: BTreeMap::new(),
        };
        assert_eq!(author_of(&Actor::Agent(access)), Author::Agent(AgentId(3)));
        assert_eq!(
            author_of(&Actor::System("sla".into())),
            Author::System("sla".into())
        );
    }

    #[test]
    fn a_lost_race_on_the_other_ticket_is_told_apart() {
        let other = ServiceError::Store(StoreError::TransactionCanceled { failed: vec![1] });
        let mine = ServiceError::Conflict("stale".into());
        assert!(lost_on_other(&other));
        assert!(!lost_on_other(&mine));
    }
}
