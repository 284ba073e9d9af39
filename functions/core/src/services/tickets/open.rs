//! Opening a ticket: by a user on the portal, by an agent on a user's
//! behalf (a phone call), through the API, or by Taquilla itself (mail).
//!
//! Everything is checked before anything is written; the ticket, its first
//! entry and the claim on its number are then written in one transaction,
//! so nothing is ever half-written. Only the user (found or created by
//! address) and the attachments' blobs are written before it.

use std::collections::BTreeMap;

use super::attachments::{self, NewAttachment};
use super::routing::route;
use super::{config, fields, numbers, round_robin, store};
use crate::domain::rules::OpeningMail;
use crate::domain::{
    Author, AutoAssign, Collaborator, CopyKind, DepartmentId, Entry, EntryId, EntryKind, HelpTopic,
    Permission, PriorityId, Source, State, Ticket, TicketId, TopicId, User,
};
use crate::keys;
use crate::sanitize::Body;
use crate::services::messages::{self, MESSAGE_ID, MailRef};
use crate::services::outbox::{self, Occasion, Permits};
use crate::services::rules::apply as rules;
use crate::services::{Actor, Ctx, ServiceError, organisations, users};
use crate::store::{Condition, Item, StoreError, WriteOp};

/// Longest subject, in characters (after trimming).
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Largest body as it arrives, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest body once stored (sanitised HTML plus text), in bytes.
const MAX_RENDERED_BODY_BYTES: usize = 300_000;
/// The priority of tickets whose topic names none ("Normal").
pub const DEFAULT_PRIORITY: PriorityId = PriorityId(3);
/// Attempts at a free ticket number before giving up.
const NUMBER_ATTEMPTS: usize = 20;
/// Attribute of a number claim naming its ticket.
pub(crate) const CLAIM_TICKET_ATTR: &str = "ticket";

/// What opening a ticket takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTicket {
    /// The user's name and address (found or created); ignored when a user
    /// opens the ticket itself.
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub subject: String,
    pub body: Body,
    pub topic: Option<TopicId>,
    /// Defaults to the topic's department (or the instance's first).
    pub department: Option<DepartmentId>,
    /// Defaults to the topic's priority, or Normal.
    pub priority: Option<PriorityId>,
    pub source: Source,
    /// Custom field values by variable name.
    pub fields: BTreeMap<String, String>,
    pub attachments: Vec<NewAttachment>,
    /// Addresses of users to copy (created if new).
    pub collaborators: Vec<String>,
    /// Send the new-ticket auto-response (when the instance and the help
    /// topic also want it; see `services::outbox`).
    pub autorespond: bool,
    /// Alert the agents the instance's settings name.
    pub alert: bool,
    /// The requester's address, recorded in the first entry.
    pub ip: Option<String>,
}

pub(super) fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The subject trimmed, if it has 1 to 255 characters.
pub(crate) fn check_subject(subject: &str) -> Result<String, ServiceError> {
    let subject = subject.trim();
    let chars = subject.chars().count();
    if chars == 0 || chars > MAX_SUBJECT_CHARS {
        return Err(invalid("subject", "1 to 255 characters"));
    }
    if subject.chars().any(char::is_control) {
        return Err(invalid("subject", "no control characters"));
    }
    Ok(subject.to_owned())
}

/// The body as sanitised HTML and text, if it is not empty and not too large.
pub(crate) fn check_body(body: &Body) -> Result<(String, String), ServiceError> {
    if body.raw().len() > MAX_BODY_BYTES {
        return Err(invalid("body", "at most 64 KiB"));
    }
    let (html, text) = body.render();
    if text.trim().is_empty() {
        return Err(invalid("body", "empty"));
    }
    if html.len() + text.len() > MAX_RENDERED_BODY_BYTES {
        return Err(invalid("body", "too large once formatted"));
    }
    Ok((html, text))
}

fn check_fields(input: &OpenTicket) -> Result<(), ServiceError> {
    if input.phone.as_ref().is_some_and(|p| p.chars().count() > 64) {
        return Err(invalid("phone", "at most 64 characters"));
    }
    if input.ip.as_ref().is_some_and(|ip| ip.len() > 64) {
        return Err(invalid("ip", "at most 64 characters"));
    }
    if input.fields.len() > 100
        || input
            .fields
            .iter()
            .any(|(k, v)| k.is_empty() || k.len() > 64 || v.len() > 16 * 1024)
    {
        return Err(invalid(
            "fields",
            "at most 100 fields, names of 1 to 64 bytes, values up to 16 KiB",
        ));
    }
    Ok(())
}

/// Agents need `ticket.create` in the target department, API keys
/// `ticket.create`; users (portal) and the system may always open.
fn authorise(actor: &Actor, department: DepartmentId) -> Result<(), ServiceError> {
    match actor {
        Actor::Agent(_) | Actor::ApiKey { .. } => {
            actor.require(Permission::TicketCreate, department)
        }
        Actor::User(_) | Actor::System(_) => Ok(()),
    }
}

/// The collaborators to copy: those asked for, then the topic's and the
/// organisation's defaults; never the ticket's user, each once. Addresses
/// asked for must be valid; invalid configured defaults are skipped.
async fn collaborators(
    ctx: &Ctx<'_>,
    user: &User,
    asked: &[String],
    topic: Option<&HelpTopic>,
) -> Result<Vec<Collaborator>, ServiceError> {
    let mut addresses: Vec<String> = asked.to_vec();
    if let Some(topic) = topic {
        addresses.extend(topic.default_collaborators.iter().cloned());
    }
    if let Some(org) = user.organisation {
        match organisations::get(ctx, org).await {
            Ok(org) => addresses.extend(org.default_collaborators),
            Err(ServiceError::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
    }
    let mut out: Vec<Collaborator> = Vec::new();
    for (n, address) in addresses.iter().enumerate() {
        let found = match users::find_or_create(ctx, "", address).await {
            Ok(found) => found,
            Err(ServiceError::Invalid { .. }) if n >= asked.len() => continue,
            Err(other) => return Err(other),
        };
        if found.id != user.id && !out.iter().any(|c| c.user == found.id) {
            out.push(Collaborator {
                user: found.id,
                kind: CopyKind::Cc,
            });
        }
    }
    Ok(out)
}

/// What the first entry records of who opened the ticket and from where.
fn opening_data(actor: &Actor, ip: Option<&String>) -> BTreeMap<String, String> {
    let mut data = BTreeMap::new();
    match actor {
        Actor::Agent(access) => {
            data.insert("agent".into(), access.agent.id.to_string());
        }
        Actor::ApiKey { key_id, .. } => {
            data.insert("api_key".into(), key_id.clone());
        }
        Actor::System(name) => {
            data.insert("system".into(), name.clone());
        }
        Actor::User(_) => {}
    }
    if let Some(ip) = ip {
        data.insert("ip".into(), ip.clone());
    }
    data
}

/// Opens a ticket; see the module docs. Returns the ticket as stored.
pub async fn open(ctx: &Ctx<'_>, actor: &Actor, input: OpenTicket) -> Result<Ticket, ServiceError> {
    open_with(ctx, actor, input, None).await
}

/// Opens a ticket from a received mail message, claimed in the same
/// transaction: a second delivery is [`ServiceError::Duplicate`] and opens
/// nothing.
pub async fn open_from_mail(
    ctx: &Ctx<'_>,
    actor: &Actor,
    input: OpenTicket,
    mail: &MailRef,
) -> Result<Ticket, ServiceError> {
    open_with(ctx, actor, input, Some(mail)).await
}

async fn open_with(
    ctx: &Ctx<'_>,
    actor: &Actor,
    input: OpenTicket,
    mail: Option<&MailRef>,
) -> Result<Ticket, ServiceError> {
    // Everything checked first: a refused ticket writes nothing.
    let subject = check_subject(&input.subject)?;
    let (body_html, body_text) = check_body(&input.body)?;
    check_fields(&input)?;
    attachments::check(&input.attachments)?;
    for address in &input.collaborators {
        users::normalise_email(address).map_err(|_| {
            invalid(
                "collaborators",
                format!("{address:?} is not an e-mail address"),
            )
        })?;
    }
    let route = route(ctx, &input).await?;
    authorise(actor, route.department.id)?;
    let answers = fields::check(ctx, actor, route.topic.as_ref(), &input).await?;
    if let Some(mail) = mail {
        messages::refuse_seen(ctx, mail).await?;
    }
    // Creation rules decide before anything is written: a rejection writes nothing.
    let draft = rules::Draft {
        subject: &subject,
        body: &body_text,
        department: route.department.id,
        topic: route.topic.as_ref().map(|t| t.id),
        priority: route.priority.id,
        fields: &answers,
    };
    let ruled = rules::Creation::decide(ctx, actor, &input, mail, draft).await?;
    let user = match actor {
        Actor::User(id) => users::get(ctx, id).await?,
        _ => users::find_or_create(ctx, &input.name, &input.email).await?,
    };
    let collaborators =
        collaborators(ctx, &user, &input.collaborators, route.topic.as_ref()).await?;
    let open_status = config::first_status(ctx, State::Open).await?;
    let mut permits = Permits {
        auto_respond: input.autorespond && mail.is_none_or(|m| m.auto_respond),
        alert: input.alert,
    };

    let ticket_id = TicketId::generate();
    let entry_id = EntryId::generate();
    let files = attachments::put_all(ctx, &ticket_id, &entry_id, input.attachments).await?;
    let now = ctx.clock.now_ms();
    let mut data = opening_data(actor, input.ip.as_ref());
    if let Some(id) = mail.and_then(|m| m.message_id.as_ref()) {
        data.insert(MESSAGE_ID.to_owned(), id.clone());
    }
    let entry = Entry {
        id: entry_id,
        kind: EntryKind::Message,
        author: Author::User(user.id.clone()),
        body_html,
        body_text,
        attachments: files,
        event: None,
        data,
        created_at: now,
    };
    let topic = route.topic.as_ref();
    let mut ticket = Ticket {
        id: ticket_id,
        number: String::new(),
        subject,
        user: user.id.clone(),
        collaborators,
        source: input.source,
        topic: topic.map(|t| t.id),
        department: route.department.id,
        priority: route.priority.id,
        status: open_status.id,
        state: open_status.state,
        assignee: None,
        team: None,
        sla: topic.and_then(|t| t.sla).or(route.department.sla),
        due_at: None,
        overdue: false,
        answered: false,
        fields: answers,
        created_at: now,
        updated_at: now,
        last_message_at: Some(now),
        last_response_at: None,
        closed_at: None,
        reopened_at: None,
        merged_into: None,
        sla_clock: Default::default(),
        unassigned_since: None,
        rule_timer: Default::default(),
        // Kept for the rules that look at the mail later (replay, time rules).
        opening_mail: mail.and_then(|m| OpeningMail::keep(&m.headers, m.recipient.as_deref())),
        links: Vec::new(),
        version: 1,
    };
    match topic.and_then(|t| t.auto_assign) {
        Some(AutoAssign::Agent(agent)) => ticket.assignee = Some(agent),
        Some(AutoAssign::Team(team)) => ticket.team = Some(team),
        None => {}
    }
    let ruled = ruled.apply(ctx, &mut ticket, &mut permits).await?;
    let department = ruled.department.as_ref().unwrap_or(&route.department);
    let assigned = round_robin::assign_new(ctx, department, &mut ticket).await?;
    if ticket.assignee.is_none() && ticket.team.is_none() {
        ticket.unassigned_since = Some(now);
    }
    crate::services::sla::refresh(ctx, &mut ticket, now, &ruled.rules).await?;
    let format_owner = topic.filter(|t| t.number_format.is_some()).map(|t| t.id);
    for _ in 0..NUMBER_ATTEMPTS {
        ticket.number = numbers::candidate(ctx, &route.format, format_owner).await?;
        let mut ops = vec![
            store::create_op(ctx, &ticket)?,
            store::append_entry_op(ctx, &ticket, &entry)?,
            WriteOp::Put {
                item: Item::new(keys::ticket_number(ctx.instance, &ticket.number))
                    .with(CLAIM_TICKET_ATTR, ticket.id.to_string()),
                condition: Some(Condition::Absent),
            },
        ];
        for event in assigned.iter().chain(&ruled.entries) {
            ops.push(store::append_entry_op(ctx, &ticket, event)?);
        }
        ops.extend(ruled.send_ops(ctx, &ticket)?);
        ops.push(outbox::item_op(
            ctx,
            &ticket,
            &entry,
            Occasion::TicketOpened,
            permits,
        )?);
        let claim = match mail {
            Some(mail) => {
                ops.push(messages::claim_op(ctx, mail, &ticket.id, &entry.id)?);
                Some((ops.len() - 1, mail))
            }
            None => None,
        };
        match ctx.store.transact(ops).await {
            Ok(()) => {
                tracing::info!(instance = %ctx.instance, number = %ticket.number, "ticket opened");
                return Ok(ticket);
            }
            // The same message was processed meanwhile.
            Err(StoreError::TransactionCanceled { failed })
                if claim.is_some_and(|(index, _)| failed.contains(&index)) =>
            {
                if let Some((_, mail)) = claim {
                    messages::refuse_seen(ctx, mail).await?;
                }
                return Err(ServiceError::Duplicate(
                    "the message was processed meanwhile".into(),
                ));
            }
            // The number is taken: draw another.
            Err(StoreError::TransactionCanceled { failed }) if failed == [2] => {}
            Err(other) => return Err(other.into()),
        }
    }
    Err(ServiceError::Conflict(format!(
        "a free ticket number after {NUMBER_ATTEMPTS} attempts with format {}",
        route.format
    )))
}
