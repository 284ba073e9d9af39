//! Collision avoidance: an agent about to respond takes the ticket's lock
//! for a while (default [`DEFAULT_LOCK_SECS`], renewable); another agent's
//! response while it is live is refused with [`ServiceError::Locked`],
//! naming who holds it and until when. Locks expire by themselves: the lock
//! item carries a `ttl`, and an expired item counts as absent for every
//! store operation, so nothing ever has to clean up after an agent who
//! walked away.
//!
//! The lock is one item per ticket (`keys::ticket_lock`), taken with a
//! conditional put: when absent (or expired), or when its holder is the
//! acting agent (a renewal).

use super::access::load_visible;
use super::actions::acting_agent;
use crate::domain::{Agent, AgentId, DepartmentId, Permission, TicketId};
use crate::keys;
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::{Condition, Item, StoreError, TTL};

/// How long a lock lasts unless the caller says otherwise: 3 minutes.
pub const DEFAULT_LOCK_SECS: i64 = 180;

/// Longest lock an agent may take: an hour.
pub const MAX_LOCK_SECS: i64 = 3600;

/// Attribute of the lock item: the holder's agent id.
const HOLDER: &str = "holder";
/// Attribute of the lock item: the holder's name (or e-mail), for messages.
const HOLDER_NAME: &str = "holder_name";
/// Attribute of the lock item: when it ends, epoch ms.
const UNTIL_MS: &str = "until_ms";

/// A live lock on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lock {
    pub ticket: TicketId,
    pub holder: AgentId,
    /// The holder's name, or its e-mail when it has none.
    pub holder_name: String,
    /// Epoch ms when the lock ends unless renewed.
    pub until_ms: i64,
}

impl Lock {
    /// The error another agent gets while this lock is live.
    #[must_use]
    pub fn refusal(&self) -> ServiceError {
        ServiceError::Locked {
            holder: self.holder_name.clone(),
            until_ms: self.until_ms,
        }
    }
}

/// Takes or renews the ticket's lock for the instance's lock time
/// (`Instance::lock_seconds`, 3 minutes unless configured).
pub async fn lock(ctx: &Ctx<'_>, actor: &Actor, ticket: &TicketId) -> Result<Lock, ServiceError> {
    let secs = crate::services::directory::instance(ctx.store, ctx.instance)
        .await?
        .lock_seconds;
    lock_for(ctx, actor, ticket, i64::from(secs)).await
}

/// Takes or renews the ticket's lock for `secs` seconds (1 to
/// [`MAX_LOCK_SECS`]; the instance's configured lock time).
///
/// Needs an active agent with `ticket.reply` in the ticket's department.
/// A ticket the actor may not see is `NotFound`; another agent's live lock
/// is [`ServiceError::Locked`].
pub async fn lock_for(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    secs: i64,
) -> Result<Lock, ServiceError> {
    if !(1..=MAX_LOCK_SECS).contains(&secs) {
        return Err(ServiceError::Invalid {
            field: "lock_secs".into(),
            message: format!("must be between 1 and {MAX_LOCK_SECS}"),
        });
    }
    let current = load_visible(ctx, actor, ticket).await?;
    let me = acting_agent(actor)?;
    actor.require(Permission::TicketReply, current.department)?;
    let lock = Lock {
        ticket: current.id.clone(),
        holder: me.id,
        holder_name: display_name(me),
        until_ms: ctx.clock.now_ms().saturating_add(secs.saturating_mul(1000)),
    };
    let item = lock_item(ctx, &lock);
    // Free (or expired): take it. Mine: renew it. Else: someone else's.
    for condition in [
        Condition::Absent,
        Condition::equals(HOLDER, holder_attr(me.id)),
    ] {
        match ctx.store.put(item.clone(), Some(condition)).await {
            Ok(()) => return Ok(lock),
            Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    match read(ctx, &current.id).await? {
        Some(held) => Err(held.refusal()),
        // Released or expired between the two attempts: the caller may retry.
        None => Err(ServiceError::Conflict(format!(
            "the lock of ticket {} changed hands; try again",
            current.number
        ))),
    }
}

/// Releases the acting agent's lock on the ticket. Releasing a lock that is
/// not held is fine; another agent's lock can be released by an
/// administrator only (else [`ServiceError::Locked`]).
pub async fn unlock(ctx: &Ctx<'_>, actor: &Actor, ticket: &TicketId) -> Result<(), ServiceError> {
    let current = load_visible(ctx, actor, ticket).await?;
    let me = acting_agent(actor)?;
    require_access(actor, current.department)?;
    let key = keys::ticket_lock(ctx.instance, &current.id);
    let condition = (!actor.is_admin()).then(|| Condition::equals(HOLDER, holder_attr(me.id)));
    match ctx.store.delete(&key, condition).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed) => match read(ctx, &current.id).await? {
            Some(held) if held.holder != me.id => Err(held.refusal()),
            _ => Ok(()),
        },
        Err(e) => Err(e.into()),
    }
}

/// The ticket's live lock, if any. Needs access to the ticket's department
/// (a ticket the actor may not see is `NotFound`).
pub async fn current_lock(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
) -> Result<Option<Lock>, ServiceError> {
    let current = load_visible(ctx, actor, ticket).await?;
    require_access(actor, current.department)?;
    read(ctx, &current.id).await
}

/// `Ok` unless another agent holds a live lock on the ticket, which is
/// [`ServiceError::Locked`] with the holder's name and the lock's end.
///
/// For the respond use case: an agent's response is refused while another
/// agent holds the lock. Only agents are held back; users, integrations and
/// Taquilla itself are not (a user's reply never waits on an agent).
pub async fn check_lock(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
) -> Result<(), ServiceError> {
    let Actor::Agent(access) = actor else {
        return Ok(());
    };
    match read(ctx, ticket).await? {
        Some(held) if held.holder != access.agent.id => Err(held.refusal()),
        _ => Ok(()),
    }
}

/// The live lock of `ticket`, read without any permission check.
async fn read(ctx: &Ctx<'_>, ticket: &TicketId) -> Result<Option<Lock>, ServiceError> {
    let key = keys::ticket_lock(ctx.instance, ticket);
    let Some(item) = ctx.store.get(&key).await? else {
        return Ok(None);
    };
    Ok(decode(ticket, &item).filter(|lock| lock.until_ms > ctx.clock.now_ms()))
}

/// The lock held in `item`; `None` for an item that does not hold one
/// (treated as free, and overwritten by the next lock).
fn decode(ticket: &TicketId, item: &Item) -> Option<Lock> {
    let holder = u32::try_from(item.get_i64(HOLDER)?).ok()?;
    Some(Lock {
        ticket: ticket.clone(),
        holder: AgentId(holder),
        holder_name: item.get_str(HOLDER_NAME).unwrap_or_default().to_owned(),
        until_ms: item.get_i64(UNTIL_MS)?,
    })
}

/// The lock item: expires (by `ttl`, whole seconds) at the first second at
/// or after `until_ms`.
fn lock_item(ctx: &Ctx<'_>, lock: &Lock) -> Item {
    Item::new(keys::ticket_lock(ctx.instance, &lock.ticket))
        .with(HOLDER, holder_attr(lock.holder))
        .with(HOLDER_NAME, lock.holder_name.clone())
        .with(UNTIL_MS, lock.until_ms)
        .with(TTL, ttl_secs(lock.until_ms))
}

/// The `ttl` (epoch seconds) of a lock ending at `until_ms`: rounded up, so
/// the item outlives the lock by under a second, never the reverse.
fn ttl_secs(until_ms: i64) -> i64 {
    until_ms.div_euclid(1000) + i64::from(until_ms.rem_euclid(1000) != 0)
}

fn holder_attr(agent: AgentId) -> i64 {
    i64::from(agent.0)
}

/// What other agents are told: the holder's name, or its e-mail.
fn display_name(agent: &Agent) -> String {
    if agent.name.trim().is_empty() {
        agent.email.clone()
    } else {
        agent.name.clone()
    }
}

/// `Forbidden` unless the actor is an agent with access to `department`
/// (administrators and Taquilla itself have access everywhere).
fn require_access(actor: &Actor, department: DepartmentId) -> Result<(), ServiceError> {
    let allowed = match actor {
        Actor::Agent(access) => {
            access.agent.active
                && (access.agent.admin || access.agent.role_in(department).is_some())
        }
        Actor::System(_) => true,
        Actor::User(_) | Actor::ApiKey { .. } => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "no access to department {department}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ttl_never_ends_before_the_lock() {
        assert_eq!(ttl_secs(180_000), 180);
        assert_eq!(ttl_secs(180_001), 181);
        assert_eq!(ttl_secs(180_999), 181);
    }

    #[test]
    fn an_item_that_holds_no_lock_is_free() {
        let ticket = TicketId::generate();
        let key = keys::ticket_lock(&crate::domain::InstanceId::parse("demo").unwrap(), &ticket);
        assert_eq!(decode(&ticket, &Item::new(key.clone())), None);
        let item = Item::new(key)
            .with(HOLDER, 4)
            .with(HOLDER_NAME, "Ana")
            .with(UNTIL_MS, 9_000);
        let lock = decode(&ticket, &item).unwrap();
        assert_eq!((lock.holder, lock.until_ms), (AgentId(4), 9_000));
        assert!(matches!(
            lock.refusal(),
            ServiceError::Locked { holder, until_ms: 9_000 } if holder == "Ana"
        ));
    }
}
