//! The mail messages a ticket's thread knows: every message received into
//! it and every message sent from it, by Message-ID.
//!
//! Two jobs share one item per message ([`keys::mail::message`]):
//!
//! - **Idempotency.** SES and Lambda deliver at least once. A message
//!   received into a thread is claimed, on condition that no claim exists,
//!   in the same transaction as the ticket or entry it becomes; a second
//!   delivery fails that condition and changes nothing
//!   ([`ServiceError::Duplicate`]). An agent's mail reply to a task alert,
//!   which becomes a note in the task's thread, is claimed the same way
//!   ([`task_claim_op`]): one message becomes one entry, of a ticket or of
//!   a task, never two.
//! - **Threading.** A reply's In-Reply-To and References name messages we
//!   received or sent; each is looked up here. Sent messages are recorded
//!   under the id the mailer reports, which for SES is the id SES assigned,
//!   not the one we set.

use serde::{Deserialize, Serialize};

use crate::domain::{EntryId, TaskId, TicketId};
use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{Condition, WriteOp, codec};

/// A received message as the ticket services take it: the key it is
/// claimed under (its Message-ID, or its content hash when it has none)
/// and its Message-ID, recorded on the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRef {
    pub dedupe_key: String,
    pub message_id: Option<String>,
    /// Whether the message may be answered automatically: false for an
    /// auto-reply, bulk mail, spam or a bounce, so an auto-responder's
    /// answer to our auto-response never gets another one.
    pub auto_respond: bool,
    /// The message's header fields, in order, for rules that look at them.
    pub headers: Vec<(String, String)>,
    /// The address of ours it was received at, if known.
    pub recipient: Option<String>,
}

/// Whether a message came in or went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

/// Where a message is in the threads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub ticket: TicketId,
    pub entry: EntryId,
    pub direction: Direction,
}

/// Where a received message went in a task's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskMessageRecord {
    pub task: TaskId,
    pub entry: EntryId,
    pub direction: Direction,
}

/// A message known to the instance: in a ticket's thread or a task's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Ticket(MessageRecord),
    Task(TaskMessageRecord),
}

/// Either record as stored: a ticket's has `ticket`, a task's `task`.
#[derive(Deserialize)]
struct StoredRecord {
    #[serde(default)]
    ticket: Option<TicketId>,
    #[serde(default)]
    task: Option<TaskId>,
    entry: EntryId,
    direction: Direction,
}

/// The entry attribute (in `data`) holding a received message's Message-ID.
pub const MESSAGE_ID: &str = "message_id";

/// Where the message `id` (a Message-ID or dedupe key) is in the tickets'
/// threads, if known there. A message that went into a task is not.
pub async fn find(ctx: &Ctx<'_>, id: &str) -> Result<Option<MessageRecord>, ServiceError> {
    Ok(match find_any(ctx, id).await? {
        Some(Seen::Ticket(record)) => Some(record),
        Some(Seen::Task(_)) | None => None,
    })
}

/// Where the message `id` is, in a ticket's thread or a task's, if known.
pub async fn find_any(ctx: &Ctx<'_>, id: &str) -> Result<Option<Seen>, ServiceError> {
    let Some(item) = ctx
        .store
        .get(&keys::mail::message(ctx.instance, id))
        .await?
    else {
        return Ok(None);
    };
    let stored: StoredRecord = codec::decode(&item)?;
    let seen = match (stored.ticket, stored.task) {
        (Some(ticket), _) => Seen::Ticket(MessageRecord {
            ticket,
            entry: stored.entry,
            direction: stored.direction,
        }),
        (None, Some(task)) => Seen::Task(TaskMessageRecord {
            task,
            entry: stored.entry,
            direction: stored.direction,
        }),
        (None, None) => {
            return Err(crate::store::StoreError::Corrupt(format!(
                "message record {id:?} names neither a ticket nor a task"
            ))
            .into());
        }
    };
    Ok(Some(seen))
}

/// The claim of a received message, to write with the ticket or entry it
/// becomes; fails its condition when the message was processed before.
pub(crate) fn claim_op(
    ctx: &Ctx<'_>,
    mail: &MailRef,
    ticket: &TicketId,
    entry: &EntryId,
) -> Result<WriteOp, ServiceError> {
    let record = MessageRecord {
        ticket: ticket.clone(),
        entry: entry.clone(),
        direction: Direction::In,
    };
    Ok(WriteOp::Put {
        item: codec::encode(keys::mail::message(ctx.instance, &mail.dedupe_key), &record)?,
        condition: Some(Condition::Absent),
    })
}

/// The claim of a received message that becomes the note `entry` of
/// `task`; fails its condition when the message was processed before.
pub(crate) fn task_claim_op(
    ctx: &Ctx<'_>,
    mail: &MailRef,
    task: &TaskId,
    entry: &EntryId,
) -> Result<WriteOp, ServiceError> {
    let record = TaskMessageRecord {
        task: task.clone(),
        entry: entry.clone(),
        direction: Direction::In,
    };
    Ok(WriteOp::Put {
        item: codec::encode(keys::mail::message(ctx.instance, &mail.dedupe_key), &record)?,
        condition: Some(Condition::Absent),
    })
}

/// `Duplicate` if `mail` was processed before, naming where it went.
pub(crate) async fn refuse_seen(ctx: &Ctx<'_>, mail: &MailRef) -> Result<(), ServiceError> {
    match find_any(ctx, &mail.dedupe_key).await? {
        Some(Seen::Ticket(seen)) => Err(ServiceError::Duplicate(format!(
            "message {} is already in ticket {}",
            mail.dedupe_key, seen.ticket
        ))),
        Some(Seen::Task(seen)) => Err(ServiceError::Duplicate(format!(
            "message {} is already in task {}",
            mail.dedupe_key, seen.task
        ))),
        None => Ok(()),
    }
}

/// Records that the message `message_id` was sent from `entry` of `ticket`,
/// so replies naming it thread. Sending again records the same.
pub async fn record_sent(
    ctx: &Ctx<'_>,
    message_id: &str,
    ticket: &TicketId,
    entry: &EntryId,
) -> Result<(), ServiceError> {
    let record = MessageRecord {
        ticket: ticket.clone(),
        entry: entry.clone(),
        direction: Direction::Out,
    };
    let item = codec::encode(keys::mail::message(ctx.instance, message_id), &record)?;
    ctx.store.put(item, None).await?;
    Ok(())
}
