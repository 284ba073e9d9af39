//! The conversation: a user's message, an agent's response, an internal
//! note. Each adds an entry and updates the ticket (activity time, answered
//! flag, ...) in one transaction guarded by the ticket's version; a lost
//! race is retried on a fresh read, so two agents responding at once both
//! land in the thread.
//!
//! An entry addressed to a ticket that was merged lands in the ticket it
//! was merged into (following the chain, see [`merge::destination`]); the
//! permissions, the collision lock and the state that matter are the
//! landing ticket's, the entry records the number it was addressed to
//! (`data.redirected_from`), and the ticket returned is the one it landed
//! in. The author stays the addressed ticket's: mail answering ticket A is
//! A's user's message, wherever it lands.

use std::collections::BTreeMap;

use super::access::load_visible;
use super::attachments::{self, NewAttachment};
use super::merge;
use super::open::check_body;
use super::{config, store};
use crate::domain::change::{self, Change};
use crate::domain::{
    Author, Entry, EntryId, EntryKind, Permission, State, Status, StatusId, Ticket, TicketId,
};
use crate::sanitize::Body;
use crate::services::messages::{self, MESSAGE_ID, MailRef};
use crate::services::outbox::{self, Permits};
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::StoreError;

/// The entry attribute (in `data`) naming the ticket an entry was addressed
/// to, when it landed in the ticket that one was merged into.
pub const REDIRECTED_FROM: &str = "redirected_from";

/// Attempts at saving an entry when other changes keep winning the race.
const SAVE_ATTEMPTS: usize = 8;

/// A message from the user or a collaborator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub body: Body,
    pub attachments: Vec<NewAttachment>,
}

/// An agent's response, sent to the user; optionally changing the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResponse {
    pub body: Body,
    pub attachments: Vec<NewAttachment>,
    pub status: Option<StatusId>,
}

/// An internal note, for agents only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNote {
    pub body: Body,
    pub attachments: Vec<NewAttachment>,
}

/// One entry of the conversation, as a received mail message becomes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailEntry {
    Message(NewMessage),
    Response(NewResponse),
    Note(NewNote),
}

/// Who writes, as recorded on the entry.
fn author_of(actor: &Actor, ticket: &Ticket) -> Author {
    match actor {
        Actor::Agent(access) => Author::Agent(access.agent.id),
        Actor::User(user) => Author::User(user.clone()),
        Actor::ApiKey { key_id, .. } => Author::System(format!("api key {key_id}")),
        // Mail processing writes on behalf of the ticket's user.
        Actor::System(_) => Author::User(ticket.user.clone()),
    }
}

/// Who writes an agents' entry (response, note): the system writes under
/// its own name, not the user's.
fn agent_author(actor: &Actor, author: Author) -> Author {
    match actor {
        Actor::System(name) => Author::System(name.clone()),
        _ => author,
    }
}

/// Stores the files, then applies `edit` to a fresh read of the ticket and
/// saves it with the entry (and any events `edit` returns), retrying on a
/// lost race. Returns the ticket as saved.
///
/// With `mail`, the message is claimed in the same transaction, so a second
/// delivery of it is [`ServiceError::Duplicate`] and writes nothing.
async fn write<F>(
    ctx: &Ctx<'_>,
    ticket: Ticket,
    mut entry: Entry,
    files: Vec<NewAttachment>,
    mail: Option<&MailRef>,
    mut edit: F,
) -> Result<Ticket, ServiceError>
where
    F: FnMut(&mut Ticket, i64) -> Result<Vec<Entry>, ServiceError>,
{
    let permits = Permits {
        auto_respond: mail.is_none_or(|m| m.auto_respond),
        alert: true,
    };
    if let Some(mail) = mail {
        messages::refuse_seen(ctx, mail).await?;
        if let Some(id) = &mail.message_id {
            entry.data.insert(MESSAGE_ID.to_owned(), id.clone());
        }
    }
    entry.attachments = attachments::put_all(ctx, &ticket.id, &entry.id, files).await?;
    // Read once: due times and time rules follow them, update rules run after.
    let rules = crate::services::rules::enabled(ctx).await?;
    let mut current = ticket;
    for _ in 0..SAVE_ATTEMPTS {
        let now = ctx.clock.now_ms();
        entry.created_at = now;
        let old_version = current.version;
        let mut next = current.clone();
        next.updated_at = now.max(next.updated_at);
        let events = edit(&mut next, now)?;
        crate::services::sla::refresh(ctx, &mut next, now, &rules).await?;
        let mut ops = vec![store::append_entry_op(ctx, &next, &entry)?];
        for event in &events {
            ops.push(store::append_entry_op(ctx, &next, event)?);
        }
        // The mail this change owes, written with it (see `outbox`).
        if let Some(occasion) = outbox::occasion_of_entry(&entry) {
            ops.push(outbox::item_op(ctx, &next, &entry, occasion, permits)?);
        }
        ops.extend(outbox::event_ops(
            ctx,
            &next,
            &events,
            entry.kind == EntryKind::Response,
        )?);
        if let Some(mail) = mail {
            ops.push(messages::claim_op(ctx, mail, &next.id, &entry.id)?);
        }
        match store::save(ctx, old_version, &next, ops).await {
            Ok(()) => {
                next.version = store::next_version(old_version);
                // Update rules react to the entry and what it changed
                // (their own write runs no rules).
                return Ok(crate::services::rules::apply::after_entry(
                    ctx, &rules, next, &entry, &events, mail,
                )
                .await);
            }
            // Only the claim can fail among the new entries' puts: the
            // same message was written meanwhile.
            Err(ServiceError::Store(StoreError::TransactionCanceled { .. })) if mail.is_some() => {
                if let Some(mail) = mail {
                    messages::refuse_seen(ctx, mail).await?;
                }
                current = store::load(ctx, &current.id).await?;
            }
            Err(ServiceError::Conflict(_)) => {
                current = store::load(ctx, &current.id).await?;
                if current.merged_into.is_some() {
                    // Merged meanwhile: the entry belongs in the target,
                    // which the caller's next attempt finds.
                    return Err(ServiceError::Conflict(format!(
                        "ticket {} was merged while the entry was written; try again",
                        current.number
                    )));
                }
            }
            Err(other) => return Err(other),
        }
    }
    Err(ServiceError::Conflict(format!(
        "ticket {}: too many concurrent changes, try again",
        current.number
    )))
}

/// The ticket an entry addressed to `id` lands in, as `actor` may see
/// both, and the author the entry is recorded under (the addressed
/// ticket's, see the module docs).
async fn landing(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
) -> Result<(Ticket, Author, Option<String>), ServiceError> {
    let addressed = load_visible(ctx, actor, id).await?;
    let author = author_of(actor, &addressed);
    let number = addressed.number.clone();
    let ticket = merge::destination(ctx, actor, addressed).await?;
    let redirected_from = (ticket.number != number).then_some(number);
    Ok((ticket, author, redirected_from))
}

/// The entry of `kind` by `author`; `redirected_from` names the ticket it
/// was addressed to when it lands in another.
fn new_entry(
    kind: EntryKind,
    author: Author,
    (html, text): (String, String),
    redirected_from: Option<String>,
) -> Entry {
    let data = redirected_from
        .map(|number| BTreeMap::from([(REDIRECTED_FROM.to_owned(), number)]))
        .unwrap_or_default();
    Entry {
        id: EntryId::generate(),
        kind,
        author,
        body_html: html,
        body_text: text,
        attachments: Vec::new(),
        event: None,
        data,
        created_at: 0,
    }
}

/// A message from the ticket's user or a collaborator (or from the system,
/// e.g. mail, on the user's behalf). A closed ticket is reopened, as
/// osTicket does, with a `status_changed` event. Archived and deleted
/// tickets take no messages.
pub async fn reply(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
    message: NewMessage,
) -> Result<Ticket, ServiceError> {
    reply_with(ctx, actor, id, message, None).await
}

/// A received mail message becoming an entry of ticket `id` (or of the
/// ticket it was merged into), as [`reply`], [`respond`] or [`note`] would
/// write it, with the message claimed in the same transaction: a second
/// delivery is [`ServiceError::Duplicate`] and changes nothing.
pub async fn from_mail(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
    entry: MailEntry,
    mail: &MailRef,
) -> Result<Ticket, ServiceError> {
    match entry {
        MailEntry::Message(message) => reply_with(ctx, actor, id, message, Some(mail)).await,
        MailEntry::Response(response) => respond_with(ctx, actor, id, response, Some(mail)).await,
        MailEntry::Note(note) => note_with(ctx, actor, id, note, Some(mail)).await,
    }
}

async fn reply_with(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
    message: NewMessage,
    mail: Option<&MailRef>,
) -> Result<Ticket, ServiceError> {
    let body = check_body(&message.body)?;
    attachments::check(&message.attachments)?;
    let (ticket, author, redirected_from) = landing(ctx, actor, id).await?;
    if !matches!(actor, Actor::User(_) | Actor::System(_)) {
        return Err(ServiceError::Forbidden(
            "messages come from users; agents respond or note".into(),
        ));
    }
    let reopen_to: Option<Status> = match ticket.state {
        State::Open => None,
        State::Closed => Some(config::first_status(ctx, State::Open).await?),
        State::Archived | State::Deleted => {
            return Err(ServiceError::Forbidden(format!(
                "ticket {} is {}",
                ticket.number,
                ticket.state.as_str()
            )));
        }
    };
    let entry = new_entry(EntryKind::Message, author.clone(), body, redirected_from);
    write(ctx, ticket, entry, message.attachments, mail, |t, now| {
        t.last_message_at = Some(now);
        t.answered = false;
        let mut events = Vec::new();
        if let Some(status) = &reopen_to
            && t.state == State::Closed
            && let Some(event) = change::apply(t, Change::SetStatus(status.clone()), &author, now)
        {
            events.push(event);
        }
        Ok(events)
    })
    .await
}

/// An agent's response (needs `ticket.reply` in the department of the
/// ticket it lands in):
/// marks the ticket answered and, with `status`, changes it (an event
/// records the change). Refused with `Locked` while another agent holds the
/// ticket's collision lock.
pub async fn respond(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
    response: NewResponse,
) -> Result<Ticket, ServiceError> {
    respond_with(ctx, actor, id, response, None).await
}

async fn respond_with(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
    response: NewResponse,
    mail: Option<&MailRef>,
) -> Result<Ticket, ServiceError> {
    let body = check_body(&response.body)?;
    attachments::check(&response.attachments)?;
    let (ticket, author, redirected_from) = landing(ctx, actor, id).await?;
    if matches!(actor, Actor::User(_)) {
        return Err(ServiceError::Forbidden(
            Permission::TicketReply.as_str().into(),
        ));
    }
    actor.require(Permission::TicketReply, ticket.department)?;
    super::locks::check_lock(ctx, actor, &ticket.id).await?;
    let status: Option<Status> = match response.status {
        Some(id) => Some(config::existing(ctx, StatusId::KIND, id.0, "status").await?),
        None => None,
    };
    let author = agent_author(actor, author);
    let entry = new_entry(EntryKind::Response, author.clone(), body, redirected_from);
    write(ctx, ticket, entry, response.attachments, mail, |t, now| {
        t.answered = true;
        t.last_response_at = Some(now);
        Ok(status
            .clone()
            .and_then(|s| change::apply(t, Change::SetStatus(s), &author, now))
            .into_iter()
            .collect())
    })
    .await
}

/// The response a rule asked for (a canned response, expanded by the mail
/// side), written as the rules' (`Author::System("rules")`) and mailed to
/// the user as responses are; it runs no update rules. `key` (the outbox
/// item that asked) is claimed with it, so asking twice writes it once: a
/// second time is [`ServiceError::Duplicate`].
pub async fn respond_by_rule(
    ctx: &Ctx<'_>,
    id: &TicketId,
    key: &str,
    response: NewResponse,
) -> Result<Ticket, ServiceError> {
    let actor = Actor::System(crate::services::rules::AUTHOR.to_owned());
    let claim = MailRef {
        dedupe_key: format!("rule-response:{key}"),
        message_id: None,
        auto_respond: true,
        headers: Vec::new(),
        recipient: None,
    };
    respond_with(ctx, &actor, id, response, Some(&claim)).await
}

/// An internal note (needs `ticket.note` in the department of the ticket
/// it lands in).
pub async fn note(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
    note: NewNote,
) -> Result<Ticket, ServiceError> {
    note_with(ctx, actor, id, note, None).await
}

async fn note_with(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
    note: NewNote,
    mail: Option<&MailRef>,
) -> Result<Ticket, ServiceError> {
    let body = check_body(&note.body)?;
    attachments::check(&note.attachments)?;
    let (ticket, author, redirected_from) = landing(ctx, actor, id).await?;
    if matches!(actor, Actor::User(_)) {
        return Err(ServiceError::Forbidden(
            Permission::TicketNote.as_str().into(),
        ));
    }
    actor.require(Permission::TicketNote, ticket.department)?;
    let entry = new_entry(
        EntryKind::Note,
        agent_author(actor, author),
        body,
        redirected_from,
    );
    write(ctx, ticket, entry, note.attachments, mail, |_, _| {
        Ok(Vec::new())
    })
    .await
}
