//! Merging one ticket into another: the source's thread entries are copied
//! into the target's thread, the source points to the target and is closed,
//! and both record the merge.
//!
//! A thread can hold more entries than one transaction can write, so the
//! merge is built to be safe if interrupted and completed by running it
//! again:
//!
//! 1. the entries are copied under the target's partition (same sort key,
//!    so they keep their place in time) page by page, each page in one
//!    transaction of conditional puts of the entries the target lacks;
//! 2. only then, in one transaction, the source is marked merged and closed,
//!    the target's activity is bumped, and both get their event;
//! 3. a last copy pass takes any entry that reached the source meanwhile.
//!
//! A merge interrupted in step 1 left a source that is not marked merged:
//! running it again skips what was copied and finishes. Once the source is
//! marked, running it again only repeats step 3, which finds nothing to do.
//!
//! After the merge the source still reads as it was (closed, with
//! `merged_into`), and whatever is written to it — a user's message, an
//! agent's response or note — lands in the target instead: see
//! [`destination`].

use super::access::{can_see, load_visible};
use super::actions::{Attempt, OTHER_SIDE_RETRIES, attempt, author_of, load_at, versioned_put};
use super::config::first_status;
use super::store;
use crate::domain::change::{self, Change};
use crate::domain::{Permission, State, Ticket, TicketId};
use crate::keys;
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::{Condition, Item, MAX_TRANSACTION_OPS, PK, Query, StoreError, WriteOp};

/// How often one page of entries is retried when a concurrent run of the
/// same merge copied some of them first.
const PAGE_RETRIES: usize = 3;

/// Longest chain of merges [`destination`] follows (a target merged in
/// turn into another, ...). Merging refuses a target that was merged, so
/// chains only grow one link per merge and cycles cannot be made; the bound
/// keeps a damaged chain from looping.
pub const MAX_MERGE_CHAIN: usize = 16;

/// The ticket an entry addressed to `addressed` lands in: `addressed`
/// itself unless it was merged; else the ticket it was merged into, and so
/// on along the chain, at most [`MAX_MERGE_CHAIN`] links.
///
/// Every ticket on the way must be one `actor` may see: a write must never
/// reach a ticket its author could not address directly, so a hidden one is
/// `Forbidden` (the source already names its target, so nothing is
/// revealed). A missing target, or a chain longer than the bound (a cycle),
/// is `Conflict`: the stored merge is damaged, and nothing is written.
pub async fn destination(
    ctx: &Ctx<'_>,
    actor: &Actor,
    addressed: Ticket,
) -> Result<Ticket, ServiceError> {
    let mut current = addressed;
    for _ in 0..MAX_MERGE_CHAIN {
        let Some(next) = current.merged_into.clone() else {
            return Ok(current);
        };
        let target = match store::load(ctx, &next).await {
            Ok(target) => target,
            Err(ServiceError::NotFound(_)) => {
                return Err(ServiceError::Conflict(format!(
                    "ticket {} was merged into {next}, which does not exist",
                    current.number
                )));
            }
            Err(e) => return Err(e),
        };
        if !can_see(actor, &target) {
            return Err(ServiceError::Forbidden(format!(
                "ticket {} was merged into a ticket out of your reach",
                current.number
            )));
        }
        current = target;
    }
    match current.merged_into {
        None => Ok(current),
        Some(_) => Err(ServiceError::Conflict(format!(
            "ticket {}: the chain of merges is longer than {MAX_MERGE_CHAIN} (a cycle?)",
            current.number
        ))),
    }
}

/// Merges `source` into `into`. Needs to see both tickets (either hidden is
/// `NotFound`) and `ticket.merge` in both tickets' departments;
/// `expected_version` is the source's. Returns the target as stored.
/// Running it again after it finished (or was interrupted) is safe and
/// completes the job.
pub async fn merge(
    ctx: &Ctx<'_>,
    actor: &Actor,
    source: &TicketId,
    into: &TicketId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    if source == into {
        return Err(ServiceError::Invalid {
            field: "into".into(),
            message: "a ticket cannot be merged into itself".into(),
        });
    }
    let from = load_at(ctx, actor, source, expected_version).await?;
    let target = load_visible(ctx, actor, into).await?;
    actor.require(Permission::TicketMerge, from.department)?;
    actor.require(Permission::TicketMerge, target.department)?;
    if let Some(further) = &target.merged_into {
        return Err(ServiceError::Invalid {
            field: "into".into(),
            message: format!("ticket {} was itself merged into {further}", target.number),
        });
    }
    match &from.merged_into {
        Some(done) if done == into => {
            copy_thread(ctx, source, into).await?;
            return Ok(target);
        }
        Some(other) => {
            return Err(ServiceError::Conflict(format!(
                "ticket {} was already merged into {other}",
                from.number
            )));
        }
        None => {}
    }
    copy_thread(ctx, source, into).await?;
    let target = mark_merged(ctx, actor, from, target).await?;
    copy_thread(ctx, source, into).await?;
    Ok(target)
}

/// Step 2: marks `from` merged into `target` and closed, bumps the target's
/// activity, and records both events, in one transaction. A race lost on
/// the target is retried on a fresh read of it; one lost on the source is
/// `Conflict` (running the merge again completes it).
async fn mark_merged(
    ctx: &Ctx<'_>,
    actor: &Actor,
    from: Ticket,
    mut target: Ticket,
) -> Result<Ticket, ServiceError> {
    let closed = first_status(ctx, State::Closed).await?;
    for _ in 0..=OTHER_SIDE_RETRIES {
        let (by, now) = (author_of(actor), ctx.clock.now_ms());
        let mut source = from.clone();
        let change = Change::MergeInto {
            target: target.id.clone(),
            target_number: target.number.clone(),
            status: closed.clone(),
        };
        let mut ops = Vec::new();
        if let Some(event) = change::apply(&mut source, change, &by, now) {
            ops.push(store::append_entry_op(ctx, &source, &event)?);
        }
        let target_version = target.version;
        let mut next = target.clone();
        next.updated_at = now;
        ops.push(versioned_put(ctx, target_version, &next)?);
        let event = change::merged_from_event(&source, &by, now);
        ops.push(store::append_entry_op(ctx, &next, &event)?);
        let saved = store::save(ctx, from.version, &source, ops).await;
        next.version = store::next_version(target_version);
        match attempt(saved, next)? {
            Attempt::Done(next) => return Ok(*next),
            Attempt::OtherMoved => target = store::load(ctx, &target.id).await?,
        }
    }
    Err(ServiceError::Conflict(format!(
        "ticket {} kept changing while a ticket was being merged into it",
        target.number
    )))
}

/// Steps 1 and 3: copies every entry of the source's thread the target
/// lacks. Returns how many were copied.
async fn copy_thread(
    ctx: &Ctx<'_>,
    source: &TicketId,
    into: &TicketId,
) -> Result<usize, ServiceError> {
    let limit = u32::try_from(MAX_TRANSACTION_OPS).unwrap_or(100);
    let mut query = Query::table(keys::ticket_pk(ctx.instance, source))
        .sk(keys::entries())
        .limit(limit);
    let target_pk = keys::ticket_pk(ctx.instance, into);
    let mut copied = 0;
    loop {
        let page = ctx.store.query(&query).await?;
        let copies: Vec<Item> = page
            .items
            .iter()
            .filter(|item| belongs_in_target(item))
            .map(|item| rekeyed(item, &target_pk))
            .collect();
        copied += copy_page(ctx, &copies).await?;
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(copied),
        }
    }
}

/// Whether a source entry moves: all do but the source's own `merged_into`
/// event, which speaks of the source.
fn belongs_in_target(item: &Item) -> bool {
    item.get_str("event") != Some(change::event::MERGED_INTO)
}

/// The entry `item` under the partition `pk` (same sort key).
fn rekeyed(item: &Item, pk: &str) -> Item {
    let mut copy = item.clone();
    copy.set(PK, pk);
    copy
}

/// Writes those of `copies` (at most one transaction's worth) the target
/// lacks, with conditional puts; retried when a concurrent run wins some.
async fn copy_page(ctx: &Ctx<'_>, copies: &[Item]) -> Result<usize, ServiceError> {
    if copies.is_empty() {
        return Ok(0);
    }
    let keys: Vec<_> = copies.iter().map(Item::key).collect();
    for _ in 0..=PAGE_RETRIES {
        let present = ctx.store.batch_get(&keys).await?;
        let ops: Vec<WriteOp> = copies
            .iter()
            .zip(&present)
            .filter(|(_, there)| there.is_none())
            .map(|(item, _)| WriteOp::Put {
                item: item.clone(),
                condition: Some(Condition::Absent),
            })
            .collect();
        if ops.is_empty() {
            return Ok(0);
        }
        let count = ops.len();
        match ctx.store.transact(ops).await {
            Ok(()) => return Ok(count),
            Err(StoreError::TransactionCanceled { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::Conflict(
        "another merge of the same tickets is copying the thread; try again".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Key;

    #[test]
    fn entries_keep_their_sort_key_under_the_target() {
        let item = Item::new(Key::new("I#demo#T#a", "E#0000000000001#e")).with("kind", "note");
        let copy = rekeyed(&item, "I#demo#T#b");
        assert_eq!(copy.key(), Key::new("I#demo#T#b", "E#0000000000001#e"));
        assert_eq!(copy.get_str("kind"), Some("note"));
    }

    #[test]
    fn the_source_merged_into_event_stays_behind() {
        let key = Key::new("p", "E#1#x");
        assert!(belongs_in_target(
            &Item::new(key.clone()).with("event", "assigned")
        ));
        assert!(belongs_in_target(&Item::new(key.clone())));
        assert!(!belongs_in_target(
            &Item::new(key).with("event", change::event::MERGED_INTO)
        ));
    }
}
