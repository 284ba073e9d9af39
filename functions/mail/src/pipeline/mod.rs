//! The inbound pipeline: one received message in, a ticket or a thread
//! entry out (or a recorded bounce, a refusal, a message kept for review).
//!
//! The same chain runs for every entry point (`taquilla pipe`, the
//! `tickets.email` API, the SES receipt function):
//!
//! 1. parse; what cannot be parsed is kept whole ([`kept`]), a message
//!    without a sender is refused;
//! 2. a message seen before changes nothing (idempotency on Message-ID, or
//!    a content hash, claimed in the same transaction as what it becomes);
//! 3. SES verdicts: virus and spam are refused or flagged, per instance;
//!    our own mail coming back is refused (it would loop);
//! 4. a delivery failure report is noted in the ticket whose mail bounced
//!    and never answered;
//! 5. a reply to a task alert (a task token in the address of ours it was
//!    delivered to) becomes a note in the task's thread, or is refused
//!    ([`task_reply`]); mail to the no-reply address of account mail is
//!    refused (`mail_no_reply`);
//! 6. matching ([`matching`]): a reply joins its ticket as the user's
//!    message or an agent's response or note; what points at a ticket
//!    without passing the checks opens a new ticket linked to it;
//! 7. anything else opens a ticket routed by the mailbox it was sent to.
//!
//! Auto-replies, bulk mail and bounces never ask for an auto-response.
//! Attachments beyond the instance's limits are refused and noted in the
//! thread. Failures of the store are [`Temporary`]: nothing was written, and
//! the sender's server (or Lambda) delivers again.

pub mod kept;
pub mod matching;
pub mod outcome;
pub mod task_reply;

use std::collections::BTreeMap;

use taquilla_core::domain::mail_settings::{AttachmentLimits, base_address};
use taquilla_core::domain::{Instance, MailSettings, Source, Ticket, VerdictPolicy};
use taquilla_core::sanitize;
use taquilla_core::services::messages::MailRef;
use taquilla_core::services::tickets::{
    self, Body, MailEntry, NewAttachment, NewMessage, NewNote, NewResponse, OpenTicket,
};
use taquilla_core::services::{Actor, Ctx, ServiceError, directory, messages, users};

use crate::inbound::{self, Classification, MailKind, ParsedMail, Verdict};
use crate::reply_token::ReplyTokens;
use kept::KeepReason;
use matching::{Match, Participant};
pub use outcome::{EntryRole, MatchedBy, Outcome, Temporary};

/// Largest body stored as the entry; longer mail keeps its text cut there
/// and the whole message as an attachment.
const MAX_BODY_BYTES: usize = tickets::open::MAX_BODY_BYTES;
/// Longest subject stored.
const MAX_SUBJECT_CHARS: usize = tickets::open::MAX_SUBJECT_CHARS;
/// Who the system acts as.
const SYSTEM: &str = "mail";

/// How a message reached us, beyond its own headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// The envelope recipients (RCPT TO, or SES's `receipt.recipients`).
    pub recipients: Vec<String>,
    /// The receiving service's own verdicts (SES's `receipt.spamVerdict`
    /// and `virusVerdict`), honoured like the X-SES-* header verdicts.
    pub verdicts: Verdicts,
}

/// Scanner verdicts delivered beside the message rather than in it. They
/// come from our own receiving service, but the headers can only make the
/// message look worse, so FAIL wins whichever says it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdicts {
    pub spam: Option<Verdict>,
    pub virus: Option<Verdict>,
}

/// `class` with the envelope's verdicts merged in: a FAIL from either side
/// wins, and the envelope fills in what the headers did not say.
fn with_verdicts(mut class: Classification, verdicts: &Verdicts) -> Classification {
    for (mine, theirs, name) in [
        (&mut class.spam, &verdicts.spam, "receipt spamVerdict"),
        (&mut class.virus, &verdicts.virus, "receipt virusVerdict"),
    ] {
        let Some(theirs) = theirs else { continue };
        if *theirs == Verdict::Fail && *mine != Some(Verdict::Fail) {
            class.signals.push(format!("{name}: FAIL"));
            *mine = Some(Verdict::Fail);
        } else if mine.is_none() {
            *mine = Some(theirs.clone());
        }
    }
    class
}

/// Processes one raw message for the context's instance; see the module
/// docs. `Err` only for a temporary failure: nothing was written.
pub async fn ingest(
    ctx: &Ctx<'_>,
    tokens: &ReplyTokens,
    raw: &[u8],
    envelope: &Envelope,
) -> Result<Outcome, Temporary> {
    let instance = match directory::instance(ctx.store, ctx.instance).await {
        Ok(instance) => instance,
        Err(ServiceError::NotFound(_)) => {
            return Ok(rejected(
                "unknown_instance",
                format!("no help desk {}", ctx.instance),
            ));
        }
        Err(other) => return Err(temporary(&other)),
    };
    let mail = match inbound::parse(raw) {
        Ok(mail) => mail,
        Err(error) if matches!(error.code(), "mail_no_sender" | "mail_empty") => {
            return Ok(rejected(error.code(), error.to_string()));
        }
        Err(error) => {
            let why = KeepReason {
                code: error.code().to_owned(),
                reason: error.to_string(),
                ..KeepReason::default()
            };
            return keep(ctx, raw, why).await;
        }
    };
    match process(ctx, tokens, &instance, &mail, raw, envelope).await {
        Ok(outcome) => Ok(outcome),
        Err(ServiceError::Duplicate(_)) => duplicate(ctx, &mail).await,
        Err(ServiceError::Store(error)) if error.is_retryable() => Err(Temporary {
            code: error.code().to_owned(),
            message: error.to_string(),
        }),
        Err(error @ ServiceError::Invalid { .. }) => Ok(rejected(error.code(), error.to_string())),
        // A creation rule refused it: with a notice the sender's server
        // bounces it with that notice; quietly, it is dropped unanswered.
        Err(error @ ServiceError::RejectedByRule { .. }) => Ok(by_rule(&error)),
        Err(error) => {
            // Anything else is our problem, not the sender's: keep it.
            let why = KeepReason {
                code: error.code().to_owned(),
                reason: error.to_string(),
                from: Some(mail.from.address.clone()),
                subject: Some(mail.subject.clone()),
            };
            keep(ctx, raw, why).await
        }
    }
}

async fn process(
    ctx: &Ctx<'_>,
    tokens: &ReplyTokens,
    instance: &Instance,
    mail: &ParsedMail,
    raw: &[u8],
    envelope: &Envelope,
) -> Result<Outcome, ServiceError> {
    let settings = &instance.mail;
    let class = with_verdicts(inbound::classify(mail), &envelope.verdicts);
    let mail_ref = MailRef {
        dedupe_key: mail.dedupe_key.clone(),
        message_id: mail.message_id.clone(),
        auto_respond: class.may_auto_respond(),
        headers: mail.headers.clone(),
        recipient: receiving_address(settings, mail, envelope),
    };
    // A message seen before is refused by the core (`ServiceError::Duplicate`,
    // turned into `Outcome::Duplicate` by `ingest`) before it writes anything.
    if class.has_virus() && settings.virus == VerdictPolicy::Reject {
        return Ok(rejected("mail_virus", "a virus was found in the message"));
    }
    if class.is_spam() && settings.spam == VerdictPolicy::Reject {
        return Ok(rejected("mail_spam", "the message was judged spam"));
    }
    if settings.is_own(&mail.from.address) {
        return Ok(rejected(
            "mail_loop",
            format!("{} is one of our own addresses", mail.from.address),
        ));
    }
    if class.kind == MailKind::Bounce {
        return bounce(ctx, tokens, mail, &class, envelope).await;
    }

    if let Some(token) = task_reply::token_of(settings, mail, &envelope.recipients) {
        return task_reply::note(ctx, tokens, &token, mail, &class, &mail_ref).await;
    }
    if crate::no_reply::is_addressed(settings, mail, &envelope.recipients) {
        return Ok(rejected(crate::no_reply::REFUSED, crate::no_reply::REASON));
    }

    let (attachments, refused) = attachments(mail, raw, &settings.attachments);
    let body = body(mail);
    match matching::find(ctx, tokens, mail, &envelope.recipients).await? {
        Match::Join { ticket, by, sender } => {
            let (actor, entry, role) = entry_for(settings, sender, body, attachments);
            let saved = tickets::from_mail(ctx, &actor, &ticket.id, entry, &mail_ref).await?;
            note_refused(ctx, &saved, &refused).await?;
            tracing::info!(instance = %ctx.instance, number = %saved.number, ?by, ?role, "mail threaded");
            Ok(Outcome::Threaded {
                number: saved.number,
                role,
                matched_by: by,
                refused,
            })
        }
        Match::Related(other) => {
            let opened = open(
                ctx,
                settings,
                mail,
                &class,
                envelope,
                body,
                attachments,
                &mail_ref,
            )
            .await?;
            let system = Actor::System(SYSTEM.into());
            tickets::actions::link(ctx, &system, &opened.id, &other.id, None).await?;
            note_refused(ctx, &opened, &refused).await?;
            Ok(Outcome::Opened {
                number: opened.number,
                related_to: Some(other.number),
                refused,
            })
        }
        Match::None => {
            let opened = open(
                ctx,
                settings,
                mail,
                &class,
                envelope,
                body,
                attachments,
                &mail_ref,
            )
            .await?;
            note_refused(ctx, &opened, &refused).await?;
            Ok(Outcome::Opened {
                number: opened.number,
                related_to: None,
                refused,
            })
        }
    }
}

/// The entry a participant's message becomes, and who writes it.
fn entry_for(
    settings: &MailSettings,
    sender: Participant,
    body: Body,
    attachments: Vec<NewAttachment>,
) -> (Actor, MailEntry, EntryRole) {
    match sender {
        Participant::User(user) => (
            Actor::User(user),
            MailEntry::Message(NewMessage { body, attachments }),
            EntryRole::Message,
        ),
        Participant::Agent(access) => {
            let actor = Actor::Agent(*access);
            let prefix = settings.note_prefix.trim();
            let text = body.raw().trim_start();
            let as_note = !prefix.is_empty()
                && text
                    .get(..prefix.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(prefix));
            if as_note {
                (
                    actor,
                    MailEntry::Note(NewNote { body, attachments }),
                    EntryRole::Note,
                )
            } else {
                (
                    actor,
                    MailEntry::Response(NewResponse {
                        body,
                        attachments,
                        status: None,
                    }),
                    EntryRole::Response,
                )
            }
        }
    }
}

/// Opens a ticket for `mail`, routed by the mailbox it was sent to.
#[allow(clippy::too_many_arguments)]
async fn open(
    ctx: &Ctx<'_>,
    settings: &MailSettings,
    mail: &ParsedMail,
    class: &Classification,
    envelope: &Envelope,
    body: Body,
    attachments: Vec<NewAttachment>,
    mail_ref: &MailRef,
) -> Result<Ticket, ServiceError> {
    let delivered: Vec<&String> = envelope
        .recipients
        .iter()
        .chain(&mail.delivered_to)
        .chain(mail.to.iter().map(|m| &m.address))
        .chain(mail.cc.iter().map(|m| &m.address))
        .collect();
    let mailbox = delivered.iter().find_map(|a| settings.mailbox_for(a));
    let sender = base_address(&mail.from.address);
    let mut collaborators: Vec<String> = Vec::new();
    for copied in mail.cc.iter().chain(&mail.to) {
        let address = &copied.address;
        let base = base_address(address);
        if settings.is_own(address)
            || base == sender
            || users::normalise_email(address).is_err()
            || collaborators.iter().any(|c| base_address(c) == base)
        {
            continue;
        }
        collaborators.push(address.clone());
    }
    let subject = subject(&mail.subject);
    let input = OpenTicket {
        name: mail.from.name.clone().unwrap_or_default(),
        email: mail.from.address.clone(),
        phone: None,
        subject,
        body,
        topic: mailbox.and_then(|m| m.topic),
        department: mailbox.map(|m| m.department),
        priority: mailbox.and_then(|m| m.priority),
        source: Source::Email,
        fields: BTreeMap::new(),
        attachments,
        collaborators,
        autorespond: class.may_auto_respond(),
        alert: true,
        ip: None,
    };
    let system = Actor::System(SYSTEM.into());
    tickets::open_from_mail(ctx, &system, input, mail_ref).await
}

/// A subject as stored: trimmed, at most 255 characters, never empty.
fn subject(subject: &str) -> String {
    let trimmed: String = subject.trim().chars().take(MAX_SUBJECT_CHARS).collect();
    if trimmed.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        trimmed.trim().to_owned()
    }
}

/// The body as stored: the HTML when there is one that fits, else the text
/// (cut to fit, the whole message then being attached by [`attachments`]).
fn body(mail: &ParsedMail) -> Body {
    // An HTML body with no text (an image alone) would sanitise to nothing;
    // its images are attachments anyway.
    if let Some(html) = &mail.html
        && html.len() <= MAX_BODY_BYTES
        && !mail.text.trim().is_empty()
    {
        let (new, quoted) = inbound::split_quoted_html(html);
        return Body::Html(collapse(new, quoted, html, str::to_owned));
    }
    let text = mail.text.trim();
    if text.is_empty() {
        return Body::Text("(no text)".to_owned());
    }
    if text.len() <= MAX_BODY_BYTES {
        let (new, quoted) = inbound::split_quoted(text);
        if new.trim().is_empty() || quoted.trim().is_empty() {
            return Body::Text(text.to_owned());
        }
        return Body::Html(collapse(new, quoted, text, sanitize::text_to_html));
    }
    let note = "\n\n[… the message is longer; the whole of it is attached as message.eml]";
    let mut cut = MAX_BODY_BYTES - note.len();
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Body::Text(format!("{}{note}", &text[..cut]))
}

/// A body whose quoted history (the part of a reply below "On ... wrote:",
/// "-----Original Message-----", `>` lines, ...) is kept whole but folded
/// away in display, inside `<details>`; `as_html` turns either part into
/// HTML. Without both a new part and a quoted one, the body as it was.
fn collapse(new: &str, quoted: &str, whole: &str, as_html: impl Fn(&str) -> String) -> String {
    if new.trim().is_empty() || quoted.trim().is_empty() {
        return as_html(whole);
    }
    format!(
        "{}<details><summary>{QUOTED_SUMMARY}</summary>{}</details>",
        as_html(new),
        as_html(quoted)
    )
}

/// The label of a folded quoted history.
const QUOTED_SUMMARY: &str = "Quoted text";

/// Whether [`body`] had to cut the message.
fn body_was_cut(mail: &ParsedMail) -> bool {
    let html_fits = mail
        .html
        .as_ref()
        .is_some_and(|h| h.len() <= MAX_BODY_BYTES && !mail.text.trim().is_empty());
    !html_fits && mail.text.trim().len() > MAX_BODY_BYTES
}

/// The attachments to store, and a line for each refused one.
fn attachments(
    mail: &ParsedMail,
    raw: &[u8],
    limits: &AttachmentLimits,
) -> (Vec<NewAttachment>, Vec<String>) {
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    let max_bytes = limits
        .max_bytes
        .min(tickets::attachments::MAX_ATTACHMENT_BYTES as u64);
    let max_count = (limits.max_count as usize).min(tickets::attachments::MAX_ATTACHMENTS);
    let mut files: Vec<NewAttachment> = mail
        .attachments
        .iter()
        .map(|a| NewAttachment {
            name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            bytes: a.bytes.clone(),
        })
        .collect();
    if body_was_cut(mail) {
        files.push(NewAttachment {
            name: "message.eml".into(),
            content_type: "message/rfc822".into(),
            bytes: raw.to_vec(),
        });
    }
    for file in files {
        let size = file.bytes.len() as u64;
        if !limits.allows_type(&file.content_type) {
            refused.push(format!(
                "{} ({} files are not accepted)",
                file.name, file.content_type
            ));
        } else if size > max_bytes {
            refused.push(format!(
                "{} ({} bytes, over the limit of {max_bytes})",
                file.name, size
            ));
        } else if kept.len() >= max_count {
            refused.push(format!("{} (more than {max_count} files)", file.name));
        } else {
            kept.push(file);
        }
    }
    (kept, refused)
}

/// Notes in the thread of `ticket` the attachments that were refused.
async fn note_refused(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    refused: &[String],
) -> Result<(), ServiceError> {
    if refused.is_empty() {
        return Ok(());
    }
    let text = format!(
        "Attachments of the last message that were not accepted:\n{}",
        refused
            .iter()
            .map(|r| format!("- {r}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let note = NewNote {
        body: Body::Text(text),
        attachments: Vec::new(),
    };
    tickets::note(ctx, &Actor::System(SYSTEM.into()), &ticket.id, note).await?;
    Ok(())
}

/// A delivery failure report: noted in the ticket whose mail bounced, if
/// one is found by the report's references or a reply token; never answered.
async fn bounce(
    ctx: &Ctx<'_>,
    tokens: &ReplyTokens,
    mail: &ParsedMail,
    class: &Classification,
    envelope: &Envelope,
) -> Result<Outcome, ServiceError> {
    let report = class.bounce.clone().unwrap_or_default();
    let recipients: Vec<String> = report
        .recipients
        .iter()
        .map(|r| r.address.clone())
        .collect();
    let mut ticket = match matching::find(ctx, tokens, mail, &envelope.recipients).await? {
        Match::Join { ticket, .. } | Match::Related(ticket) => Some(ticket),
        Match::None => None,
    };
    if ticket.is_none() {
        // The report quotes the original's headers: its Message-ID is ours.
        for id in quoted_message_ids(&mail.text) {
            if let Some(record) = messages::find(ctx, &id).await? {
                ticket = tickets::get(ctx, &Actor::System(SYSTEM.into()), &record.ticket)
                    .await
                    .ok();
                break;
            }
        }
    }
    let Some(ticket) = ticket else {
        tracing::info!(instance = %ctx.instance, ?recipients, "bounce for no known ticket");
        return Ok(Outcome::Bounce {
            number: None,
            recipients,
        });
    };
    let lines: Vec<String> = report
        .recipients
        .iter()
        .map(|r| {
            let mut line = format!("- {}", r.address);
            if let Some(status) = &r.status {
                line.push_str(&format!(" (status {status})"));
            }
            if let Some(diagnostic) = &r.diagnostic {
                line.push_str(&format!(": {diagnostic}"));
            }
            line
        })
        .collect();
    let text = format!(
        "Mail from this ticket could not be delivered{}:\n{}",
        report
            .reporting_mta
            .as_ref()
            .map(|m| format!(" (reported by {m})"))
            .unwrap_or_default(),
        if lines.is_empty() {
            "- (the report names no recipient)".to_owned()
        } else {
            lines.join("\n")
        }
    );
    let mail_ref = MailRef {
        dedupe_key: mail.dedupe_key.clone(),
        message_id: mail.message_id.clone(),
        auto_respond: false,
        headers: Vec::new(),
        recipient: None,
    };
    let note = MailEntry::Note(NewNote {
        body: Body::Text(text),
        attachments: Vec::new(),
    });
    let saved = tickets::from_mail(
        ctx,
        &Actor::System(SYSTEM.into()),
        &ticket.id,
        note,
        &mail_ref,
    )
    .await?;
    Ok(Outcome::Bounce {
        number: Some(saved.number),
        recipients,
    })
}

/// The Message-IDs in `Message-ID:` lines of a report's quoted headers.
fn quoted_message_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("message-id")
                .then(|| value.trim().trim_matches(['<', '>']).to_owned())
        })
        .filter(|id| !id.is_empty())
        .collect()
}

async fn duplicate(ctx: &Ctx<'_>, mail: &ParsedMail) -> Result<Outcome, Temporary> {
    match messages::find_any(ctx, &mail.dedupe_key).await {
        Ok(Some(messages::Seen::Ticket(seen))) => Ok(Outcome::Duplicate {
            ticket: number_of(ctx, &seen.ticket)
                .await
                .map_err(|e| temporary(&e))?,
        }),
        // A reply noted in a task: no ticket to name.
        Ok(Some(messages::Seen::Task(_)) | None) => Ok(Outcome::Duplicate {
            ticket: String::new(),
        }),
        Err(error) => Err(temporary(&error)),
    }
}

async fn number_of(
    ctx: &Ctx<'_>,
    id: &taquilla_core::domain::TicketId,
) -> Result<String, ServiceError> {
    match tickets::get(ctx, &Actor::System(SYSTEM.into()), id).await {
        Ok(ticket) => Ok(ticket.number),
        Err(ServiceError::NotFound(_)) => Ok(id.to_string()),
        Err(other) => Err(other),
    }
}

async fn keep(ctx: &Ctx<'_>, raw: &[u8], why: KeepReason) -> Result<Outcome, Temporary> {
    match kept::keep(ctx, raw, why).await {
        Ok(record) => Ok(Outcome::Kept {
            id: record.id,
            code: record.code,
            reason: record.reason,
        }),
        Err(error) => Err(temporary(&error)),
    }
}

/// The outcome of a message a creation rule refused.
fn by_rule(error: &ServiceError) -> Outcome {
    match error {
        ServiceError::RejectedByRule {
            notice: Some(notice),
            ..
        } => rejected(error.code(), notice.clone()),
        ServiceError::RejectedByRule { rule, notice: None } => Outcome::Dropped {
            code: error.code(),
            reason: format!("rule {rule:?} rejects it quietly"),
        },
        other => rejected(other.code(), other.to_string()),
    }
}

/// The address of ours the message was received at: the first envelope
/// recipient, delivery header or addressee that is one of the mailboxes.
fn receiving_address(
    settings: &MailSettings,
    mail: &ParsedMail,
    envelope: &Envelope,
) -> Option<String> {
    envelope
        .recipients
        .iter()
        .chain(&mail.delivered_to)
        .chain(mail.to.iter().map(|m| &m.address))
        .chain(mail.cc.iter().map(|m| &m.address))
        .find(|a| settings.mailbox_for(a).is_some())
        .map(|a| a.to_lowercase())
}

fn rejected(code: &'static str, reason: impl Into<String>) -> Outcome {
    Outcome::Rejected {
        code,
        reason: reason.into(),
    }
}

fn temporary(error: &ServiceError) -> Temporary {
    Temporary {
        code: error.code().to_owned(),
        message: error.to_string(),
    }
}
