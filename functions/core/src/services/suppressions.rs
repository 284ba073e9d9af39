//! Suppressed addresses: where no mail of an instance goes any more, and
//! the bounce and complaint notifications that put them there.
//!
//! A mail provider judges a sender by its bounces and complaints: SES
//! reviews an account whose bounce rate passes 5 % or whose complaint rate
//! passes 0.1 %, and may pause its sending. Writing again to an address
//! that bounced for good, or whose owner called our mail spam, only
//! raises those rates, so such an address is suppressed.
//!
//! The `mail-feedback` function turns each notification into a
//! [`Feedback`] and calls [`record_feedback`], which in one transaction:
//!
//! - claims the notification by its id ([`keys::mail::feedback`], on
//!   condition that no claim exists), so the same notification delivered
//!   again changes nothing (the outcome says `duplicate`);
//! - suppresses every recipient of a permanent bounce or a complaint (one
//!   item per address, [`keys::mail::suppression`]); a transient or
//!   undetermined bounce suppresses nothing, it is only recorded;
//! - records on the ticket the mail was sent from (found by the Message-ID
//!   the dispatcher recorded when it sent it, [`messages::record_sent`]) a
//!   [`feedback_event::BOUNCED`] or [`feedback_event::COMPLAINED`] event
//!   saying which recipients, what the provider said and whether they are
//!   suppressed now: the ticket shows why a reply did not reach its user.
//!
//! The dispatcher asks [`find`] about the recipients of every mail before
//! sending it, leaves the suppressed ones out and records why
//! (`outbox::delivery_event::SUPPRESSED`). Administrators [`list`] the
//! suppressions and [`remove`] one once the address works again. The
//! instance settings' own list (`outbound.suppressed`, written by hand,
//! domains too) applies as well.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::tickets::store;
use crate::domain::change::event_entry;
use crate::domain::{Author, Entry, Ticket};
use crate::keys;
use crate::services::admin::access::require_admin;
use crate::services::messages::{self, Direction, MessageRecord};
use crate::services::outbox::SYSTEM_AUTHOR;
use crate::services::{Actor, Ctx, Page, ServiceError};
use crate::store::{
    Condition, MAX_BATCH_GET_KEYS, MAX_QUERY_LIMIT, Query, StoreError, TTL, WriteOp, codec,
};

/// How long a notification's claim is kept: longer than any redelivery
/// (SNS retries a Lambda subscription for up to 23 days).
pub const FEEDBACK_CLAIM_MS: i64 = 30 * 24 * 3_600_000;

/// Longest address kept (RFC 5321's path limit).
const MAX_ADDRESS_LEN: usize = 254;

/// Names of the events a notification records in a ticket's thread.
pub mod feedback_event {
    /// A mail from the ticket bounced (`data`: bounce, detail, recipients,
    /// diagnostic, suppressed, message_id, entry).
    pub const BOUNCED: &str = "mail_bounced";
    /// A recipient of a mail from the ticket complained (`data`: detail,
    /// recipients, suppressed, message_id, entry).
    pub const COMPLAINED: &str = "mail_complaint";
}

/// Why an address is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Mail to it bounced for good.
    Bounce,
    /// Its owner marked our mail as spam.
    Complaint,
}

impl Reason {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Bounce => "bounce",
            Reason::Complaint => "complaint",
        }
    }
}

/// An address no mail goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// In lower case.
    pub address: String,
    pub reason: Reason,
    /// What the provider said: the bounce's subtype and the receiving
    /// server's diagnostic, or the complaint's feedback type.
    pub detail: String,
    /// The notification that suppressed it.
    pub feedback_id: String,
    /// The number of the ticket whose mail bounced, when known.
    #[serde(default)]
    pub ticket: Option<String>,
    /// When (epoch ms).
    pub at: i64,
}

impl Suppression {
    /// One line saying why, for logs and thread events.
    #[must_use]
    pub fn why(&self) -> String {
        if self.detail.is_empty() {
            self.reason.as_str().to_owned()
        } else {
            format!("{}: {}", self.reason.as_str(), self.detail)
        }
    }
}

/// What a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// The mail will never be delivered (no such mailbox, ...): suppress.
    PermanentBounce,
    /// Not delivered now (mailbox full, ...): recorded, not suppressed.
    TransientBounce,
    /// The provider could not tell: recorded, not suppressed.
    UndeterminedBounce,
    /// The recipient called the mail spam: suppress.
    Complaint,
}

impl FeedbackKind {
    /// Whether its recipients get no more mail.
    #[must_use]
    pub fn suppresses(self) -> bool {
        matches!(
            self,
            FeedbackKind::PermanentBounce | FeedbackKind::Complaint
        )
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::PermanentBounce => "permanent",
            FeedbackKind::TransientBounce => "transient",
            FeedbackKind::UndeterminedBounce => "undetermined",
            FeedbackKind::Complaint => "complaint",
        }
    }

    fn reason(self) -> Reason {
        match self {
            FeedbackKind::Complaint => Reason::Complaint,
            _ => Reason::Bounce,
        }
    }
}

/// One recipient a notification is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackRecipient {
    pub address: String,
    /// The enhanced status code (`5.1.1`), for bounces.
    pub status: Option<String>,
    /// The receiving server's words (`smtp; 550 5.1.1 user unknown`).
    pub diagnostic: Option<String>,
}

/// A bounce or complaint notification, as the provider's format was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// The notification's own id (SES's feedbackId): what makes a second
    /// delivery of it a duplicate.
    pub id: String,
    pub kind: FeedbackKind,
    /// The bounce's subtype (`General`, `MailboxFull`) or the complaint's
    /// feedback type (`abuse`), when given.
    pub detail: String,
    pub recipients: Vec<FeedbackRecipient>,
    /// The Message-IDs the mail may have been recorded under when it was
    /// sent, the likeliest first.
    pub message_ids: Vec<String>,
}

/// What [`record_feedback`] did (or, for a duplicate, did the first time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackOutcome {
    /// The notification was handled before; nothing changed now.
    pub duplicate: bool,
    /// Addresses suppressed by it.
    pub suppressed: Vec<String>,
    /// The number of the ticket its mail was sent from, when known.
    pub ticket: Option<String>,
}

/// The claim of a handled notification: what it changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FeedbackClaim {
    kind: FeedbackKind,
    recipients: Vec<String>,
    suppressed: Vec<String>,
    #[serde(default)]
    ticket: Option<String>,
    at: i64,
}

/// An address as suppressions key it; `None` for what is no address.
fn normalise(address: &str) -> Option<String> {
    let address = address.trim().to_lowercase();
    let plausible = !address.is_empty()
        && address.len() <= MAX_ADDRESS_LEN
        && address.contains('@')
        && address.bytes().all(|b| b.is_ascii_graphic());
    plausible.then_some(address)
}

/// The suppressions among `addresses` (any case), by lower-case address.
pub async fn find(
    ctx: &Ctx<'_>,
    addresses: &[String],
) -> Result<BTreeMap<String, Suppression>, ServiceError> {
    let wanted: BTreeSet<String> = addresses.iter().filter_map(|a| normalise(a)).collect();
    let keys: Vec<_> = wanted
        .iter()
        .map(|a| keys::mail::suppression(ctx.instance, a))
        .collect();
    let mut found = BTreeMap::new();
    for chunk in keys.chunks(MAX_BATCH_GET_KEYS) {
        for item in ctx.store.batch_get(chunk).await?.into_iter().flatten() {
            let suppression: Suppression = codec::decode(&item)?;
            found.insert(suppression.address.clone(), suppression);
        }
    }
    Ok(found)
}

/// One page of the instance's suppressions, by address (administrators).
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    cursor: Option<String>,
    limit: u32,
) -> Result<Page<Suppression>, ServiceError> {
    require_admin(ctx, actor).await?;
    let query = Query::table(keys::mail::suppressions_pk(ctx.instance))
        .limit(limit.clamp(1, MAX_QUERY_LIMIT))
        .after(cursor);
    Ok(Page::decode(ctx.store.query(&query).await?)?)
}

/// Lets mail go to `address` again (administrators); `NotFound` when it
/// is not suppressed.
pub async fn remove(ctx: &Ctx<'_>, actor: &Actor, address: &str) -> Result<(), ServiceError> {
    require_admin(ctx, actor).await?;
    let not_found = || ServiceError::NotFound(format!("suppression of {address}"));
    let address = normalise(address).ok_or_else(not_found)?;
    match ctx
        .store
        .delete(
            &keys::mail::suppression(ctx.instance, &address),
            Some(Condition::Exists),
        )
        .await
    {
        Ok(()) => {
            tracing::info!(instance = %ctx.instance, %address, "suppression removed");
            Ok(())
        }
        Err(StoreError::ConditionFailed) => Err(not_found()),
        Err(other) => Err(other.into()),
    }
}

/// Handles one bounce or complaint notification; see the module docs.
/// `Invalid` when it names no id or no recipient.
pub async fn record_feedback(
    ctx: &Ctx<'_>,
    feedback: &Feedback,
) -> Result<FeedbackOutcome, ServiceError> {
    let invalid = |field: &str, message: &str| ServiceError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    };
    if feedback.id.trim().is_empty() {
        return Err(invalid("feedback_id", "the notification has no id"));
    }
    let mut recipients: Vec<String> = Vec::new();
    for recipient in &feedback.recipients {
        if let Some(address) = normalise(&recipient.address)
            && !recipients.contains(&address)
        {
            recipients.push(address);
        }
    }
    if recipients.is_empty() {
        return Err(invalid("recipients", "the notification names no recipient"));
    }
    // Each suppression and the event go in one transaction with the claim.
    recipients.truncate(crate::store::MAX_TRANSACTION_OPS - 2);

    let claim_key = keys::mail::feedback(ctx.instance, &feedback.id);
    if let Some(seen) = ctx.store.get(&claim_key).await? {
        return Ok(duplicate(&codec::decode(&seen)?));
    }
    let sent = sent_from(ctx, feedback).await?;
    let ticket = match &sent {
        Some((record, _)) => match store::load(ctx, &record.ticket).await {
            Ok(ticket) => Some(ticket),
            Err(ServiceError::NotFound(_)) => None,
            Err(other) => return Err(other),
        },
        None => None,
    };
    let number = ticket.as_ref().map(|t| t.number.clone());
    let now = ctx.clock.now_ms();
    let suppressed: Vec<String> = if feedback.kind.suppresses() {
        recipients.clone()
    } else {
        Vec::new()
    };

    let claim = FeedbackClaim {
        kind: feedback.kind,
        recipients: recipients.clone(),
        suppressed: suppressed.clone(),
        ticket: number.clone(),
        at: now,
    };
    let claim_item = codec::encode(claim_key, &claim)?
        .with(TTL, now.saturating_add(FEEDBACK_CLAIM_MS).div_euclid(1000));
    let mut ops = vec![WriteOp::Put {
        item: claim_item,
        condition: Some(Condition::Absent),
    }];
    for address in &suppressed {
        let suppression = Suppression {
            address: address.clone(),
            reason: feedback.kind.reason(),
            detail: detail(feedback, address),
            feedback_id: feedback.id.clone(),
            ticket: number.clone(),
            at: now,
        };
        ops.push(WriteOp::Put {
            item: codec::encode(keys::mail::suppression(ctx.instance, address), &suppression)?,
            condition: None,
        });
    }
    if let (Some(ticket), Some((record, message_id))) = (&ticket, &sent) {
        let entry = event(feedback, &recipients, &suppressed, record, message_id, now);
        let key = keys::entry(ctx.instance, &ticket.id, entry.created_at, &entry.id);
        ops.push(WriteOp::Put {
            item: codec::encode(key, &entry)?,
            condition: Some(Condition::Absent),
        });
    }
    match ctx.store.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
            // Delivered twice at once: the other delivery did it.
            let seen = ctx
                .store
                .get(&keys::mail::feedback(ctx.instance, &feedback.id))
                .await?;
            return match seen {
                Some(seen) => Ok(duplicate(&codec::decode(&seen)?)),
                None => {
                    Err(StoreError::Unavailable("the notification's claim vanished".into()).into())
                }
            };
        }
        Err(other) => return Err(other.into()),
    }
    log(ctx, feedback, &recipients, &suppressed, ticket.as_ref());
    Ok(FeedbackOutcome {
        duplicate: false,
        suppressed,
        ticket: number,
    })
}

fn duplicate(claim: &FeedbackClaim) -> FeedbackOutcome {
    FeedbackOutcome {
        duplicate: true,
        suppressed: claim.suppressed.clone(),
        ticket: claim.ticket.clone(),
    }
}

/// The sent message the notification is about, with the Message-ID it was
/// found under.
async fn sent_from(
    ctx: &Ctx<'_>,
    feedback: &Feedback,
) -> Result<Option<(MessageRecord, String)>, ServiceError> {
    for id in &feedback.message_ids {
        if id.trim().is_empty() {
            continue;
        }
        if let Some(record) = messages::find(ctx, id).await?
            && record.direction == Direction::Out
        {
            return Ok(Some((record, id.clone())));
        }
    }
    Ok(None)
}

/// What the provider said about `address`: the notification's detail and
/// the recipient's status and diagnostic.
fn detail(feedback: &Feedback, address: &str) -> String {
    let recipient = feedback
        .recipients
        .iter()
        .find(|r| r.address.trim().eq_ignore_ascii_case(address));
    let parts: Vec<&str> = [
        Some(feedback.detail.as_str()),
        recipient.and_then(|r| r.status.as_deref()),
        recipient.and_then(|r| r.diagnostic.as_deref()),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|p| !p.is_empty())
    .collect();
    parts.join(" ")
}

/// The event recording the notification in the ticket's thread.
fn event(
    feedback: &Feedback,
    recipients: &[String],
    suppressed: &[String],
    record: &MessageRecord,
    message_id: &str,
    now: i64,
) -> Entry {
    let (name, mut data) = match feedback.kind {
        FeedbackKind::Complaint => (feedback_event::COMPLAINED, BTreeMap::new()),
        kind => (
            feedback_event::BOUNCED,
            BTreeMap::from([("bounce".to_owned(), kind.as_str().to_owned())]),
        ),
    };
    data.insert("detail".into(), feedback.detail.clone());
    data.insert("recipients".into(), recipients.join(", "));
    let diagnostics: Vec<String> = recipients
        .iter()
        .map(|address| detail(feedback, address))
        .filter(|d| !d.is_empty())
        .collect();
    if !diagnostics.is_empty() {
        data.insert("diagnostic".into(), diagnostics.join("; "));
    }
    data.insert("suppressed".into(), suppressed.join(", "));
    // Not `MESSAGE_ID`, which names a message of the thread itself.
    data.insert("sent_message_id".into(), message_id.to_owned());
    data.insert("entry".into(), record.entry.to_string());
    data.insert("feedback_id".into(), feedback.id.clone());
    event_entry(name, data, &Author::System(SYSTEM_AUTHOR.to_owned()), now)
}

fn log(
    ctx: &Ctx<'_>,
    feedback: &Feedback,
    recipients: &[String],
    suppressed: &[String],
    ticket: Option<&Ticket>,
) {
    let number = ticket.map(|t| t.number.as_str()).unwrap_or_default();
    if suppressed.is_empty() {
        tracing::info!(instance = %ctx.instance, ticket = number, kind = feedback.kind.as_str(), detail = %feedback.detail, recipients = %recipients.join(", "), "mail feedback recorded");
    } else {
        tracing::warn!(instance = %ctx.instance, ticket = number, kind = feedback.kind.as_str(), detail = %feedback.detail, suppressed = %suppressed.join(", "), "addresses suppressed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_permanent_bounces_and_complaints_suppress() {
        assert!(FeedbackKind::PermanentBounce.suppresses());
        assert!(FeedbackKind::Complaint.suppresses());
        assert!(!FeedbackKind::TransientBounce.suppresses());
        assert!(!FeedbackKind::UndeterminedBounce.suppresses());
    }

    #[test]
    fn addresses_are_kept_in_lower_case_and_non_addresses_dropped() {
        assert_eq!(
            normalise(" Ana@Example.NET ").as_deref(),
            Some("ana@example.net")
        );
        assert_eq!(normalise("no address"), None);
        assert_eq!(normalise(""), None);
        assert_eq!(normalise(&format!("{}@x.org", "a".repeat(260))), None);
    }

    #[test]
    fn the_detail_joins_what_the_provider_said() {
        let feedback = Feedback {
            id: "f".into(),
            kind: FeedbackKind::PermanentBounce,
            detail: "General".into(),
            recipients: vec![FeedbackRecipient {
                address: "Ana@example.net".into(),
                status: Some("5.1.1".into()),
                diagnostic: Some("smtp; 550 5.1.1 user unknown".into()),
            }],
            message_ids: Vec::new(),
        };
        assert_eq!(
            detail(&feedback, "ana@example.net"),
            "General 5.1.1 smtp; 550 5.1.1 user unknown"
        );
        assert_eq!(detail(&feedback, "other@example.net"), "General");
    }
}
