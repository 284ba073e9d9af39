//! The transactional outbox: the mail a change has to send, written in the
//! same transaction as the change.
//!
//! A service that commits a change worth a mail adds one small
//! [`OutboxItem`] to its transaction, saying what the mail is [`About`]:
//!
//! - a ticket ([`TicketMail`]): a ticket opened, a user's message, an
//!   agent's response, an internal note, an assignment, a transfer, a
//!   close, naming the ticket, the entry and the [`Occasion`];
//! - a task ([`TaskMail`], see [`task`]): a task created or assigned,
//!   naming the task and the event entry that records it;
//! - an agent's account ([`AccountMail`], see [`account`]): the welcome
//!   of a new agent or a password reset, naming the agent and the issue of
//!   its password link (the link's secret is made when the mail is sent and
//!   is stored only hashed, so no secret waits in the outbox).
//!
//! Nothing is rendered
//! or sent then: the change never waits for, nor fails because of, a mail
//! provider. A dispatcher (`taquilla_mail::dispatch`) later takes the
//! pending items, works out the recipients under the instance's
//! [`OutboundSettings`](crate::domain::outbound_settings::OutboundSettings),
//! sends, records each sent Message-ID (see [`messages::record_sent`]) and
//! the delivery in the thread ([`record_delivery`]), and deletes the item;
//! a retryable failure leaves it pending with a later `next_attempt_at`.
//!
//! Two dispatchers may run at once (the server's ticker and `taquilla
//! pipe`): each [`lease`]s an item first, a conditional write on its `rev`
//! that only one wins, and the lease (a `next_attempt_at` in the near
//! future) lapses by itself if the winner dies mid-send.
//!
//! [`messages::record_sent`]: super::messages::record_sent

pub mod account;
pub mod rule;
pub mod task;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::tickets::config;
use super::tickets::store;
use crate::domain::change::event;
use crate::domain::{
    Agent, AgentId, Author, Department, DepartmentId, Entry, EntryId, EntryKind, HelpTopic,
    Instance, Priority, PriorityId, State, Status, StatusId, Team, TeamId, Ticket, TicketId,
    TopicId, User, UserId,
};
use crate::keys;
use crate::services::messages::MESSAGE_ID;
use crate::services::{Ctx, ServiceError, directory, users};
use crate::store::{Condition, Query, StoreError, WriteOp, codec};

/// Why a mail is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Occasion {
    /// A ticket was opened: the new-ticket auto-response, the new-ticket alert.
    TicketOpened,
    /// The user (or a collaborator) wrote: the new-message auto-response,
    /// the new-message alert.
    UserMessage,
    /// An agent responded: the response to the user and collaborators.
    AgentResponse,
    /// An internal note: the note alert.
    InternalNote,
    /// Assigned to an agent: the assignment alert to that agent.
    AssignedAgent,
    /// Assigned to a team: the assignment alert to the team.
    AssignedTeam,
    /// Moved to another department: the transfer alert.
    Transferred,
    /// Closed: the closed notice to the user.
    Closed,
    /// An SLA target's warning time came (the entry is the tick's
    /// `sla_warning` event): the pre-breach warning.
    SlaWarning,
    /// An SLA target (or an agent's due date) was missed (the entry is the
    /// tick's `sla_breached` event): the overdue alert.
    Overdue,
    /// A rule asked for a canned response or a mail (the entry is its
    /// `rule_fired` event; what to send is the item's `send`, see [`rule`]).
    RuleSend,
}

/// What the change allows beyond the instance's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permits {
    /// The author may get an automatic answer. False for a message that was
    /// itself automatic (an auto-reply, bulk mail, spam, a bounce): this is
    /// what keeps two robots from answering each other forever.
    pub auto_respond: bool,
    /// Agents may be alerted.
    pub alert: bool,
}

impl Default for Permits {
    fn default() -> Self {
        Self {
            auto_respond: true,
            alert: true,
        }
    }
}

/// One mail (or set of mails) still to send, stored under
/// [`keys::mail::outbox`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: String,
    /// What the mail is about; its fields are stored beside the item's own.
    #[serde(flatten)]
    pub about: About,
    pub created_at: i64,
    /// Sending attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Not before this moment (epoch ms): the next retry, or the end of a
    /// dispatcher's lease.
    pub next_attempt_at: i64,
    /// Raised by every write; the condition of the next one.
    #[serde(default)]
    pub rev: i64,
    /// Recipients already sent to, so a retry does not write to them twice.
    #[serde(default)]
    pub done: Vec<String>,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// What an outbox item's mail is about. Stored flat, each kind told by the
/// field naming its subject (`ticket`, `task` or `agent`), so ticket items
/// keep the layout they always had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum About {
    Ticket(TicketMail),
    Task(task::TaskMail),
    Account(account::AccountMail),
}

impl About {
    /// A short description for logs: `ticket {id}`, `task {id}`, `agent {id}`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            About::Ticket(mail) => format!("ticket {}", mail.ticket),
            About::Task(mail) => format!("task {}", mail.task),
            About::Account(mail) => format!("agent {}", mail.agent),
        }
    }
}

/// Mail about a ticket: an entry of its thread and why it is owed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketMail {
    pub ticket: TicketId,
    pub entry: EntryId,
    /// The entry's `created_at`, which its key holds.
    pub entry_at: i64,
    pub occasion: Occasion,
    pub auto_respond: bool,
    pub alert: bool,
    /// What a rule asked to send ([`Occasion::RuleSend`] only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<rule::RuleSend>,
}

pub use account::{AccountMail, AccountOccasion, AccountSubject};
pub use task::{TaskMail, TaskOccasion, TaskSubject};

/// Names of the events a dispatcher records in the thread.
pub mod delivery_event {
    /// A mail went out (`data`: template, audience, recipients, message_id).
    pub const SENT: &str = "mail_sent";
    /// A mail could not be sent now and will be tried again (`data`: reason, next_attempt_at).
    pub const DEFERRED: &str = "mail_deferred";
    /// A mail was given up on (`data`: template, reason).
    pub const FAILED: &str = "mail_failed";
    /// Recipients of a mail were left out, their addresses suppressed
    /// (`data`: template, audience, suppressed, reason; see
    /// `services::suppressions`).
    pub const SUPPRESSED: &str = "mail_suppressed";
}

/// Who records deliveries in the thread.
pub const SYSTEM_AUTHOR: &str = "mail";

/// The outbox item for `occasion` of `entry` in `ticket`, to write in the
/// change's transaction.
pub(crate) fn item_op(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    entry: &Entry,
    occasion: Occasion,
    permits: Permits,
) -> Result<WriteOp, ServiceError> {
    put_op(
        ctx,
        About::Ticket(TicketMail {
            ticket: ticket.id.clone(),
            entry: entry.id.clone(),
            entry_at: entry.created_at,
            occasion,
            auto_respond: permits.auto_respond,
            alert: permits.alert,
            send: None,
        }),
    )
}

/// The operation writing a new outbox item about `about`, due now.
fn put_op(ctx: &Ctx<'_>, about: About) -> Result<WriteOp, ServiceError> {
    let now = ctx.clock.now_ms();
    let item = OutboxItem {
        id: EntryId::generate().to_string(),
        about,
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        rev: 0,
        done: Vec::new(),
        last_error: None,
    };
    Ok(WriteOp::Put {
        item: codec::encode(keys::mail::outbox(ctx.instance, now, &item.id), &item)?,
        condition: Some(Condition::Absent),
    })
}

/// The occasion of an entry written by the conversation services.
#[must_use]
pub(crate) fn occasion_of_entry(entry: &Entry) -> Option<Occasion> {
    match entry.kind {
        EntryKind::Message => Some(Occasion::UserMessage),
        EntryKind::Response => Some(Occasion::AgentResponse),
        EntryKind::Note => Some(Occasion::InternalNote),
        EntryKind::Event => None,
    }
}

/// The occasion of an event entry, if it is worth a mail.
#[must_use]
pub(crate) fn occasion_of_event(entry: &Entry) -> Option<Occasion> {
    let data = |name: &str| entry.data.get(name).map(String::as_str);
    match entry.event.as_deref()? {
        event::ASSIGNED => match data("kind") {
            Some("team") => Some(Occasion::AssignedTeam),
            _ => Some(Occasion::AssignedAgent),
        },
        event::TRANSFERRED => Some(Occasion::Transferred),
        event::STATUS_CHANGED
            if data("to_state") == Some(State::Closed.as_str())
                && data("from_state") != Some(State::Closed.as_str()) =>
        {
            Some(Occasion::Closed)
        }
        _ => None,
    }
}

/// The outbox items for the events a change produced (no closed notice
/// beside a response: the response says it).
pub(crate) fn event_ops(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    events: &[Entry],
    with_response: bool,
) -> Result<Vec<WriteOp>, ServiceError> {
    let mut ops = Vec::new();
    for entry in events {
        match occasion_of_event(entry) {
            Some(Occasion::Closed) if with_response => {}
            Some(occasion) => ops.push(item_op(ctx, ticket, entry, occasion, Permits::default())?),
            None => {}
        }
    }
    Ok(ops)
}

/// Every pending item of the instance, oldest first; with `due_only`, only
/// those whose next attempt is due at `now`.
pub async fn pending(
    ctx: &Ctx<'_>,
    now: i64,
    due_only: bool,
) -> Result<Vec<OutboxItem>, ServiceError> {
    let mut out = Vec::new();
    let mut query =
        Query::table(keys::mail::outbox_pk(ctx.instance)).limit(crate::store::MAX_QUERY_LIMIT);
    loop {
        let page = ctx.store.query(&query).await?;
        for item in &page.items {
            let record: OutboxItem = codec::decode(item)?;
            if !due_only || record.next_attempt_at <= now {
                out.push(record);
            }
        }
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
}

fn item_key(ctx: &Ctx<'_>, item: &OutboxItem) -> crate::store::Key {
    keys::mail::outbox(ctx.instance, item.created_at, &item.id)
}

/// Writes `item` as the successor of the stored one (whose `rev` it still
/// carries); `Ok(None)` when another dispatcher wrote it meanwhile.
async fn replace(ctx: &Ctx<'_>, item: &OutboxItem) -> Result<Option<OutboxItem>, ServiceError> {
    let mut next = item.clone();
    next.rev = item.rev + 1;
    let put = ctx
        .store
        .put(
            codec::encode(item_key(ctx, item), &next)?,
            Some(Condition::equals("rev", item.rev)),
        )
        .await;
    match put {
        Ok(()) => Ok(Some(next)),
        Err(StoreError::ConditionFailed) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Takes `item` for sending until `until` (epoch ms), counting an attempt;
/// `None` when another dispatcher took or finished it first.
pub async fn lease(
    ctx: &Ctx<'_>,
    item: &OutboxItem,
    until: i64,
) -> Result<Option<OutboxItem>, ServiceError> {
    let mut next = item.clone();
    next.attempts = item.attempts.saturating_add(1);
    next.next_attempt_at = until;
    replace(ctx, &next).await
}

/// Keeps `item` pending (its recipients done so far, its error, its next
/// attempt), if it is still the leased one.
pub async fn keep(ctx: &Ctx<'_>, item: &OutboxItem) -> Result<bool, ServiceError> {
    Ok(replace(ctx, item).await?.is_some())
}

/// Removes `item`: sent, or given up on.
pub async fn finish(ctx: &Ctx<'_>, item: &OutboxItem) -> Result<(), ServiceError> {
    match ctx
        .store
        .delete(
            &item_key(ctx, item),
            Some(Condition::equals("rev", item.rev)),
        )
        .await
    {
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

/// Records in the thread of `ticket` what became of a mail: an event entry
/// named after one of [`delivery_event`]'s names. It touches only the
/// thread, not the ticket, so it never conflicts with agents' changes.
pub async fn record_delivery(
    ctx: &Ctx<'_>,
    ticket: &TicketId,
    name: &str,
    data: BTreeMap<String, String>,
) -> Result<(), ServiceError> {
    let entry = crate::domain::change::event_entry(
        name,
        data,
        &Author::System(SYSTEM_AUTHOR.to_owned()),
        ctx.clock.now_ms(),
    );
    let key = keys::entry(ctx.instance, ticket, entry.created_at, &entry.id);
    ctx.store
        .put(codec::encode(key, &entry)?, Some(Condition::Absent))
        .await?;
    Ok(())
}

/// Everything a dispatcher needs to write the mails of an item.
#[derive(Debug, Clone)]
pub struct Subject {
    pub instance: Instance,
    pub ticket: Ticket,
    pub entry: Entry,
    pub user: User,
    /// The collaborators that exist, with how they are copied.
    pub collaborators: Vec<(User, crate::domain::CopyKind)>,
    /// The entry's author when a user other than the ticket's.
    pub author_user: Option<User>,
    pub department: Option<Department>,
    /// For a transfer: the department it came from.
    pub previous_department: Option<Department>,
    pub topic: Option<HelpTopic>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub team: Option<Team>,
    /// Every agent of the instance (alert recipients are chosen among them).
    pub agents: Vec<Agent>,
    /// The entry's Message-ID when it came by mail.
    pub received_message_id: Option<String>,
    /// Every Message-ID of the thread so far, oldest first, with whether a
    /// user saw it (received from a user, or sent to them).
    pub thread_ids: Vec<(String, bool)>,
}

/// Loads the [`Subject`] of mail about a ticket; `NotFound` when its
/// ticket or entry is gone.
pub async fn subject(ctx: &Ctx<'_>, item: &TicketMail) -> Result<Subject, ServiceError> {
    let instance = directory::instance(ctx.store, ctx.instance).await?;
    let ticket = store::load(ctx, &item.ticket).await?;
    let entry: Entry = match ctx
        .store
        .get(&keys::entry(
            ctx.instance,
            &item.ticket,
            item.entry_at,
            &item.entry,
        ))
        .await?
    {
        Some(found) => codec::decode(&found)?,
        None => return Err(ServiceError::NotFound(format!("entry {}", item.entry))),
    };
    subject_for(ctx, instance, ticket, entry).await
}

/// The [`Subject`] of `entry` in `ticket`, loading the rest (people,
/// configuration, the thread's Message-IDs). The entry need not be stored:
/// a canned response is expanded for a response not yet written.
pub async fn subject_for(
    ctx: &Ctx<'_>,
    instance: Instance,
    ticket: Ticket,
    entry: Entry,
) -> Result<Subject, ServiceError> {
    let user = users::get(ctx, &ticket.user).await?;
    let mut collaborators = Vec::new();
    for copied in &ticket.collaborators {
        match users::get(ctx, &copied.user).await {
            Ok(found) => collaborators.push((found, copied.kind)),
            Err(ServiceError::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
    }
    let author_user = match &entry.author {
        Author::User(id) if *id != ticket.user => optional_user(ctx, id).await?,
        _ => None,
    };
    let department: Option<Department> =
        config::object(ctx, DepartmentId::KIND, ticket.department.0).await?;
    let previous_department = match entry
        .data
        .get("from")
        .filter(|_| entry.event.as_deref() == Some(event::TRANSFERRED))
        .and_then(|from| from.parse::<u32>().ok())
    {
        Some(from) => config::object(ctx, DepartmentId::KIND, from).await?,
        None => None,
    };
    let topic: Option<HelpTopic> = match ticket.topic {
        Some(TopicId(id)) => config::object(ctx, TopicId::KIND, id).await?,
        None => None,
    };
    let StatusId(status) = ticket.status;
    let PriorityId(priority) = ticket.priority;
    let team: Option<Team> = match ticket.team {
        Some(TeamId(id)) => config::object(ctx, TeamId::KIND, id).await?,
        None => None,
    };
    let agents: Vec<Agent> = config::all(ctx, AgentId::KIND).await?;
    let received_message_id = entry.data.get(MESSAGE_ID).cloned();
    let thread_ids = thread_ids(ctx, &ticket.id).await?;
    Ok(Subject {
        status: config::object(ctx, StatusId::KIND, status).await?,
        priority: config::object(ctx, PriorityId::KIND, priority).await?,
        instance,
        ticket,
        entry,
        user,
        collaborators,
        author_user,
        department,
        previous_department,
        topic,
        team,
        agents,
        received_message_id,
        thread_ids,
    })
}

async fn optional_user(ctx: &Ctx<'_>, id: &UserId) -> Result<Option<User>, ServiceError> {
    match users::get(ctx, id).await {
        Ok(found) => Ok(Some(found)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The data attribute of a `mail_sent` event saying whether a user
/// received the mail (`user`) or agents did (`agent`).
pub const AUDIENCE: &str = "audience";

/// Every Message-ID of the thread, oldest first: received ones (from
/// entries' `message_id`) and sent ones (from `mail_sent` events), each
/// with whether the user side saw it.
async fn thread_ids(ctx: &Ctx<'_>, ticket: &TicketId) -> Result<Vec<(String, bool)>, ServiceError> {
    let mut out = Vec::new();
    let mut query = Query::table(keys::ticket_pk(ctx.instance, ticket))
        .sk(keys::entries())
        .limit(crate::store::MAX_QUERY_LIMIT);
    loop {
        let page = ctx.store.query(&query).await?;
        for item in &page.items {
            let entry: Entry = codec::decode(item)?;
            let Some(id) = entry.data.get(MESSAGE_ID) else {
                continue;
            };
            match entry.event.as_deref() {
                Some(delivery_event::SENT) => {
                    let to_user = entry.data.get(AUDIENCE).map(String::as_str) == Some("user");
                    out.push((id.clone(), to_user));
                }
                Some(_) => {}
                None => out.push((id.clone(), entry.kind == EntryKind::Message)),
            }
        }
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::change::event_entry;

    fn event(name: &str, data: &[(&str, &str)]) -> Entry {
        let data = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        event_entry(name, data, &Author::System("t".into()), 1)
    }

    fn item(about: About) -> OutboxItem {
        OutboxItem {
            id: "i".into(),
            about,
            created_at: 5,
            attempts: 0,
            next_attempt_at: 5,
            rev: 0,
            done: Vec::new(),
            last_error: None,
        }
    }

    #[test]
    fn items_about_tickets_tasks_and_accounts_round_trip_through_the_store() {
        let demo = crate::domain::InstanceId::parse("demo").unwrap();
        let abouts = [
            About::Ticket(TicketMail {
                ticket: TicketId::generate(),
                entry: EntryId::generate(),
                entry_at: 3,
                occasion: Occasion::AssignedTeam,
                auto_respond: false,
                alert: true,
                send: None,
            }),
            About::Ticket(TicketMail {
                ticket: TicketId::generate(),
                entry: EntryId::generate(),
                entry_at: 3,
                occasion: Occasion::RuleSend,
                auto_respond: false,
                alert: false,
                send: Some(rule::RuleSend::SendMail {
                    rule: crate::domain::rules::RuleId(4),
                    to: vec!["dean@uni.example".into()],
                    subject: "Ticket {{ ticket.number }}".into(),
                    body: "Have a look.".into(),
                }),
            }),
            About::Task(TaskMail {
                task: crate::domain::TaskId::generate(),
                entry: EntryId::generate(),
                entry_at: 4,
                occasion: TaskOccasion::TaskAssignedAgent,
            }),
            About::Account(AccountMail {
                agent: AgentId(3),
                link: "l".into(),
                occasion: AccountOccasion::PasswordReset,
                by: Some(AgentId(1)),
            }),
            About::Account(AccountMail {
                agent: AgentId(4),
                link: "m".into(),
                occasion: AccountOccasion::AgentWelcome,
                by: None,
            }),
        ];
        for about in abouts {
            let stored = codec::encode(keys::mail::outbox(&demo, 5, "i"), &item(about)).unwrap();
            let back: OutboxItem = codec::decode(&stored).unwrap();
            assert_eq!(back, item(back.about.clone()));
            assert_eq!(codec::encode(stored.key(), &back).unwrap(), stored);
        }
    }

    #[test]
    fn a_ticket_item_keeps_the_layout_it_always_had() {
        let ticket = TicketId::generate();
        let entry = EntryId::generate();
        let stored = serde_json::json!({
            "id": "i", "ticket": ticket, "entry": entry, "entry_at": 3,
            "occasion": "ticket_opened", "auto_respond": true, "alert": false,
            "created_at": 5, "next_attempt_at": 5,
        });
        let read: OutboxItem = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(
            read.about,
            About::Ticket(TicketMail {
                ticket,
                entry,
                entry_at: 3,
                occasion: Occasion::TicketOpened,
                auto_respond: true,
                alert: false,
                send: None,
            })
        );
        let written = serde_json::to_value(&read).unwrap();
        for field in [
            "ticket",
            "entry",
            "entry_at",
            "occasion",
            "auto_respond",
            "alert",
        ] {
            assert_eq!(written[field], stored[field], "{field}");
        }
    }

    #[test]
    fn events_worth_a_mail_are_assignment_transfer_and_closing() {
        assert_eq!(
            occasion_of_event(&event(event::ASSIGNED, &[("kind", "agent")])),
            Some(Occasion::AssignedAgent)
        );
        assert_eq!(
            occasion_of_event(&event(event::ASSIGNED, &[("kind", "team")])),
            Some(Occasion::AssignedTeam)
        );
        assert_eq!(
            occasion_of_event(&event(event::TRANSFERRED, &[])),
            Some(Occasion::Transferred)
        );
        let closing = [("from_state", "open"), ("to_state", "closed")];
        assert_eq!(
            occasion_of_event(&event(event::STATUS_CHANGED, &closing)),
            Some(Occasion::Closed)
        );
        let reopening = [("from_state", "closed"), ("to_state", "open")];
        assert_eq!(
            occasion_of_event(&event(event::STATUS_CHANGED, &reopening)),
            None
        );
        assert_eq!(occasion_of_event(&event(event::RELEASED, &[])), None);
    }
}
