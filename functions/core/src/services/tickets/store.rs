//! The one place a [`Ticket`] becomes an item and back, with the keys of
//! the queues it is in, and where optimistic concurrency is enforced.
//!
//! Every ticket change goes through [`save`]: it writes the whole ticket
//! with `version` one higher, on condition that the stored version is still
//! the one the caller read, together with any `extra_ops` (a thread entry,
//! a lock check) in one transaction.

use crate::domain::sla_clock;
use crate::domain::{Entry, State, Ticket, TicketId};
use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{Condition, Item, StoreError, WriteOp, codec};

/// Attribute holding a ticket's optimistic version.
pub(crate) const VERSION_ATTR: &str = "version";

/// The ticket item: the record's attributes plus the index keys of every
/// queue the ticket is in (see the queue table in [`crate::keys`]):
///
/// - `gsi1`: its department's queue for its state, by activity;
/// - `gsi2`: its assignee's queue for its state, only when assigned;
/// - `gsi3`: its user's tickets, by creation;
/// - `gsi4`: its team's queue for its state, only when a team is set;
/// - `gsi5`: the due index while open: by the next moment time-driven
///   work is owed ([`sla_clock::next_fire`], what the escalation tick
///   reads), else, with a due time and nothing owed (overdue and every
///   alert sent), in the late partition by due time (what the due-ordered
///   queue adds).
pub(crate) fn ticket_item(ctx: &Ctx<'_>, ticket: &Ticket) -> Result<Item, ServiceError> {
    let instance = ctx.instance;
    let mut item = codec::encode(keys::ticket(instance, &ticket.id), ticket)?;
    let activity = keys::queue::at(ticket.last_activity(), &ticket.id);
    item.set(
        "gsi1pk",
        keys::queue::department(instance, ticket.department, ticket.state),
    );
    item.set("gsi1sk", activity.clone());
    if let Some(agent) = ticket.assignee {
        item.set(
            "gsi2pk",
            keys::queue::assignee(instance, agent, ticket.state),
        );
        item.set("gsi2sk", activity.clone());
    }
    item.set("gsi3pk", keys::queue::user(instance, &ticket.user));
    item.set("gsi3sk", keys::queue::at(ticket.created_at, &ticket.id));
    if let Some(team) = ticket.team {
        item.set("gsi4pk", keys::queue::team(instance, team, ticket.state));
        item.set("gsi4sk", activity);
    }
    match (ticket.state, sla_clock::next_fire(ticket), ticket.due_at) {
        (State::Open, Some(fire), _) => {
            item.set("gsi5pk", keys::queue::due(instance));
            item.set("gsi5sk", keys::queue::at(fire, &ticket.id));
        }
        (State::Open, None, Some(due)) => {
            item.set("gsi5pk", keys::queue::late(instance));
            item.set("gsi5sk", keys::queue::at(due, &ticket.id));
        }
        _ => {}
    }
    Ok(item)
}

/// The ticket `id` of the context's instance, or `NotFound`.
///
/// No permission check: callers check visibility (see `access`).
pub(crate) async fn load(ctx: &Ctx<'_>, id: &TicketId) -> Result<Ticket, ServiceError> {
    let item = ctx
        .store
        .get(&keys::ticket(ctx.instance, id))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("ticket {id}")))?;
    Ok(codec::decode(&item)?)
}

/// The operation creating a new ticket (fails if its id exists).
pub(crate) fn create_op(ctx: &Ctx<'_>, ticket: &Ticket) -> Result<WriteOp, ServiceError> {
    Ok(WriteOp::Put {
        item: ticket_item(ctx, ticket)?,
        condition: Some(Condition::Absent),
    })
}

/// Writes `ticket` as the successor of version `old_version`: the stored
/// item gets `version = old_version + 1` (whatever `ticket.version` says;
/// callers keep their copy in step with [`next_version`]) and all its queue
/// keys recomputed, on condition that the stored version is `old_version`.
///
/// `extra_ops` (a new thread entry from [`append_entry_op`], a lock check,
/// ...) are written in the same transaction: all land or none.
///
/// A lost race (the stored version moved on, or the ticket is gone) is
/// [`ServiceError::Conflict`]. When another of `extra_ops` fails its
/// condition, the store's `TransactionCanceled` is returned as is, with
/// indexes counted in `extra_ops` plus one (the ticket's own put is 0).
pub(crate) async fn save(
    ctx: &Ctx<'_>,
    old_version: i64,
    ticket: &Ticket,
    extra_ops: Vec<WriteOp>,
) -> Result<(), ServiceError> {
    let mut next = ticket.clone();
    next.version = next_version(old_version);
    let item = ticket_item(ctx, &next)?;
    let condition = Some(Condition::equals(VERSION_ATTR, old_version));
    let conflict = || {
        ServiceError::Conflict(format!(
            "ticket {} was changed by someone else (version {old_version} is stale)",
            ticket.number
        ))
    };
    if extra_ops.is_empty() {
        return match ctx.store.put(item, condition).await {
            Err(StoreError::ConditionFailed) => Err(conflict()),
            other => Ok(other?),
        };
    }
    let mut ops = Vec::with_capacity(extra_ops.len() + 1);
    ops.push(WriteOp::Put { item, condition });
    ops.extend(extra_ops);
    match ctx.store.transact(ops).await {
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => Err(conflict()),
        other => Ok(other?),
    }
}

/// The version [`save`] writes after `old_version`.
#[must_use]
pub(crate) fn next_version(old_version: i64) -> i64 {
    old_version.saturating_add(1)
}

/// The operation adding `entry` to the thread of `ticket` (fails if an
/// entry with the same key exists). Entries sort by `created_at`, ties by id.
pub(crate) fn append_entry_op(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    entry: &Entry,
) -> Result<WriteOp, ServiceError> {
    let key = keys::entry(ctx.instance, &ticket.id, entry.created_at, &entry.id);
    Ok(WriteOp::Put {
        item: codec::encode(key, entry)?,
        condition: Some(Condition::Absent),
    })
}
