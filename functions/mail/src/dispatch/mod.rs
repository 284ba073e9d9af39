//! The dispatcher: the outbox's pending items become mail.
//!
//! Services write an outbox item in the same transaction as the change
//! that owes mail (see `taquilla_core::services::outbox`): about a ticket,
//! a task ([`task`]: the new-task and assignment alerts) or an agent's
//! account ([`account`]: the welcome and the password reset, whose link's
//! secret is made only as the mail is sent). Here, over the ports only,
//! each due item is:
//!
//! 1. leased (a conditional write only one dispatcher wins);
//! 2. planned ([`plan`]): who gets which template, under the instance's
//!    outbound settings: auto-responses only when the change permits them
//!    (never to automatic mail) and the instance and help topic want them;
//!    alerts to the agents the settings name, never to the agent who acted;
//!    never to our own addresses, suppressed ones, or machines; then the
//!    recipients whose addresses bounced for good or complained
//!    (`services::suppressions`, one batch read per item) are left out: a
//!    mail left with nobody is not sent and `mail_suppressed` records why,
//!    a mail sent without some says so in its `mail_sent` event;
//! 3. rendered in the recipient's language (the user's, else the
//!    instance's) and composed: From the department's mailbox (or the
//!    instance's first), Reply-To the signed token address for that
//!    recipient, `[#NUMBER]` in the subject, a `[ref:TOKEN]` marker in the
//!    body, In-Reply-To/References from the thread's Message-IDs,
//!    `Auto-Submitted` by template kind;
//! 4. sent through the `Mailer`; the Message-ID it reports is recorded
//!    (`messages::record_sent`) so replies thread, and the delivery in the
//!    thread as a `mail_sent` event;
//! 5. deleted once every mail went out. A retryable failure keeps it
//!    pending with a later next attempt (exponential backoff) and records
//!    `mail_deferred`; after [`RetryPolicy::max_attempts`] it is given up
//!    with `mail_failed`. A permanent failure of one mail records
//!    `mail_failed` for it and the others still go.
//!
//! Nothing here can undo the ticket change: it committed before.

pub mod account;
pub mod plan;
pub mod rule;
pub mod task;

use std::collections::BTreeMap;

use taquilla_core::domain::{Department, DepartmentId, Instance};
use taquilla_core::mailer::{MailError, Mailer};
use taquilla_core::services::outbox::{
    self, AUDIENCE, About, AccountMail, AccountSubject, OutboxItem, Subject, TaskMail, TaskSubject,
    TicketMail, delivery_event,
};
use taquilla_core::services::suppressions::{self, Suppression};
use taquilla_core::services::{Ctx, ServiceError, messages};
use tracing::Instrument as _;

use crate::outbound::{
    Audience, AutoSubmitted, LoopTag, Mailbox, Outgoing, Rendered, compose, render,
};
use crate::reply_token::ReplyTokens;
pub use plan::{Planned, deliverable, variables};

/// How often and how soon failed mail is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before an item is given up.
    pub max_attempts: u32,
    /// Wait after the first failure, doubled after each further one.
    pub first_delay_ms: i64,
    /// Longest wait between attempts.
    pub max_delay_ms: i64,
    /// How long a dispatcher holds an item it is sending.
    pub lease_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            first_delay_ms: 30_000,
            max_delay_ms: 3_600_000,
            lease_ms: 120_000,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempts + 1`, after `attempts` failed.
    #[must_use]
    pub fn delay_ms(&self, attempts: u32) -> i64 {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first_delay_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.max_delay_ms)
    }
}

/// What the dispatcher works with besides the context.
#[derive(Debug, Clone, Copy)]
pub struct Dispatcher<'a> {
    pub mailer: &'a dyn Mailer,
    pub tokens: &'a ReplyTokens,
    /// The portal's address, for links in mail.
    pub public_url: &'a str,
    pub retry: RetryPolicy,
}

/// Which items a run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Due {
    /// Those whose next attempt is due.
    #[default]
    Now,
    /// Every pending item, also those waiting for a retry (an operator
    /// who fixed the cause).
    All,
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Items whose mail all went out (or that needed none).
    pub finished: u32,
    /// Mails sent.
    pub sent: u32,
    /// Items kept for a later attempt.
    pub deferred: u32,
    /// Mails given up on.
    pub failed: u32,
    /// Mails not sent because every recipient's address is suppressed.
    pub suppressed: u32,
}

/// Sends the instance's pending outbox items; see the module docs.
/// `Err` only when the store fails; the items then stay pending.
pub async fn send_pending(
    ctx: &Ctx<'_>,
    dispatcher: &Dispatcher<'_>,
    due: Due,
) -> Result<Report, ServiceError> {
    let started = ctx.clock.now_ms();
    let mut report = Report::default();
    // A rule's canned response becomes a response whose own item is sent
    // in a second pass over the items written since the run started.
    for pass in 0..2 {
        let now = ctx.clock.now_ms();
        let items = outbox::pending(ctx, now, due == Due::Now).await?;
        let mut responded = false;
        for item in items {
            if pass > 0 && item.created_at < started {
                continue;
            }
            let Some(leased) =
                outbox::lease(ctx, &item, now.saturating_add(dispatcher.retry.lease_ms)).await?
            else {
                continue;
            };
            if let Some((mail, canned)) = rule::canned_of(&leased) {
                let mail = mail.clone();
                responded |= rule::take_canned(ctx, &leased, &mail, canned, &mut report).await?;
                continue;
            }
            // Its lines name the ticket (recorded once the item is loaded).
            let span = tracing::info_span!("outbox item", ticket = tracing::field::Empty);
            dispatch_item(ctx, dispatcher, leased, &mut report)
                .instrument(span)
                .await?;
        }
        if !responded {
            break;
        }
    }
    Ok(report)
}

/// What one item's mail is about, loaded: where it is planned from, how
/// each mail goes out and where its delivery is recorded.
enum Work {
    /// Mail about a ticket; deliveries go into its thread.
    Ticket(Box<Subject>, TicketMail),
    /// Mail about a task; deliveries go into its thread.
    Task(Box<TaskSubject>, TaskMail),
    /// Mail about an agent's account; deliveries are only logged (an
    /// account has no thread, and its mail's link must not be kept).
    Account(Box<AccountSubject>, AccountMail),
}

impl Work {
    /// Loads what `item` is about; `NotFound` when it is gone or the mail
    /// is no longer owed.
    async fn load(ctx: &Ctx<'_>, item: &OutboxItem) -> Result<Self, ServiceError> {
        Ok(match &item.about {
            About::Ticket(mail) => {
                Work::Ticket(Box::new(outbox::subject(ctx, mail).await?), mail.clone())
            }
            About::Task(mail) => Work::Task(
                Box::new(outbox::task::task_subject(ctx, mail).await?),
                mail.clone(),
            ),
            About::Account(mail) => Work::Account(
                Box::new(outbox::account::account_subject(ctx, mail).await?),
                mail.clone(),
            ),
        })
    }

    fn plan(&self, public_url: &str) -> Vec<Planned> {
        match self {
            Work::Ticket(subject, mail) => plan::plan(subject, mail, public_url),
            Work::Task(subject, mail) => task::plan_task(subject, mail, public_url),
            Work::Account(subject, mail) => account::plan_account(subject, mail, public_url),
        }
    }

    /// What logs name: the ticket's number, the task's or the agent's id.
    fn label(&self) -> String {
        match self {
            Work::Ticket(subject, _) => format!("ticket {}", subject.ticket.number),
            Work::Task(subject, _) => format!("task {}", subject.task.id),
            Work::Account(subject, _) => format!("agent {}", subject.agent.id),
        }
    }

    async fn send(
        &self,
        ctx: &Ctx<'_>,
        dispatcher: &Dispatcher<'_>,
        planned: &Planned,
    ) -> Result<String, Failure> {
        match self {
            Work::Ticket(subject, _) => send_one(ctx, dispatcher, subject, planned).await,
            Work::Task(subject, _) => {
                let from = sender(
                    &subject.instance,
                    subject.department.as_ref(),
                    Some(subject.task.department),
                );
                let reply_to = from.as_ref().map(|from| {
                    let to = &planned.to.address;
                    task::reply_to(dispatcher.tokens, ctx.instance, from, &subject.task.id, to)
                });
                send_plain(ctx, dispatcher, from, reply_to, planned).await
            }
            Work::Account(subject, mail) => {
                // The link's secret is made now, for this mail only.
                let token =
                    taquilla_core::services::accounts::links::mint(ctx, mail.agent, &mail.link)
                        .await
                        .map_err(|e| Failure::Retry(e.to_string()))?
                        .ok_or_else(|| {
                            Failure::Moot("the link was used, expired or replaced".to_owned())
                        })?;
                let planned =
                    account::with_link(planned, dispatcher.public_url, ctx.instance, &token);
                let from = sender(&subject.instance, None, None);
                let reply_to = from
                    .as_ref()
                    .map(|from| account::reply_to(&subject.instance.mail, from));
                send_plain(ctx, dispatcher, from, reply_to, &planned).await
            }
        }
    }

    /// Records what became of a mail where its subject keeps such things.
    async fn record(
        &self,
        ctx: &Ctx<'_>,
        name: &str,
        data: BTreeMap<String, String>,
    ) -> Result<(), ServiceError> {
        match self {
            Work::Ticket(subject, _) => {
                outbox::record_delivery(ctx, &subject.ticket.id, name, data).await
            }
            Work::Task(subject, _) => {
                outbox::task::record_task_delivery(ctx, &subject.task.id, name, data).await
            }
            Work::Account(subject, _) => {
                tracing::info!(instance = %ctx.instance, agent = %subject.agent.id, event = name, template = data.get("template").map(String::as_str).unwrap_or_default(), "account mail");
                Ok(())
            }
        }
    }
}

async fn dispatch_item(
    ctx: &Ctx<'_>,
    dispatcher: &Dispatcher<'_>,
    mut item: OutboxItem,
    report: &mut Report,
) -> Result<(), ServiceError> {
    let work = match Work::load(ctx, &item).await {
        Ok(work) => work,
        Err(ServiceError::NotFound(what)) => {
            tracing::info!(instance = %ctx.instance, item = %item.id, about = %item.about.describe(), %what, "outbox item for something gone; dropped");
            outbox::finish(ctx, &item).await?;
            report.finished += 1;
            return Ok(());
        }
        Err(other) => return Err(other),
    };
    let label = work.label();
    if let Work::Ticket(subject, _) = &work {
        tracing::Span::current().record("ticket", subject.ticket.number.as_str());
    }
    let plan = work.plan(dispatcher.public_url);
    let suppressed = suppressions::find(ctx, &addresses(&plan)).await?;
    for planned in plan {
        let key = planned.done_key();
        if item.done.contains(&key) {
            continue;
        }
        let (planned, left_out) = without_suppressed(planned, &suppressed);
        let planned = match planned {
            Ok(planned) => planned,
            Err(planned) => {
                tracing::info!(instance = %ctx.instance, about = %label, template = %planned.kind, "mail not sent: every recipient is suppressed");
                report.suppressed += 1;
                let mut data = delivery_data(&planned);
                data.extend(left_out_data(&planned, &left_out));
                work.record(ctx, delivery_event::SUPPRESSED, data).await?;
                item.done.push(key);
                continue;
            }
        };
        match work.send(ctx, dispatcher, &planned).await {
            Ok(message_id) => {
                report.sent += 1;
                let mut data = delivery_data(&planned);
                data.extend(left_out_data(&planned, &left_out));
                data.insert(messages::MESSAGE_ID.to_owned(), message_id);
                work.record(ctx, delivery_event::SENT, data).await?;
                item.done.push(key);
                if !outbox::keep(ctx, &item).await? {
                    return Ok(());
                }
                item.rev += 1;
            }
            Err(Failure::Retry(reason)) if item.attempts < dispatcher.retry.max_attempts => {
                let next = ctx
                    .clock
                    .now_ms()
                    .saturating_add(dispatcher.retry.delay_ms(item.attempts));
                tracing::warn!(instance = %ctx.instance, about = %label, template = %planned.kind, %reason, attempts = item.attempts, "mail deferred");
                let mut data = delivery_data(&planned);
                data.insert("reason".into(), reason.clone());
                data.insert("attempts".into(), item.attempts.to_string());
                data.insert("next_attempt_at".into(), next.to_string());
                work.record(ctx, delivery_event::DEFERRED, data).await?;
                item.last_error = Some(reason);
                item.next_attempt_at = next;
                outbox::keep(ctx, &item).await?;
                report.deferred += 1;
                return Ok(());
            }
            Err(Failure::Moot(reason)) => {
                tracing::info!(instance = %ctx.instance, about = %label, template = %planned.kind, %reason, "mail no longer owed");
                item.done.push(key);
            }
            Err(Failure::Retry(reason) | Failure::Permanent(reason)) => {
                tracing::warn!(instance = %ctx.instance, about = %label, template = %planned.kind, %reason, "mail given up");
                report.failed += 1;
                let mut data = delivery_data(&planned);
                data.insert("reason".into(), reason);
                data.insert("attempts".into(), item.attempts.to_string());
                work.record(ctx, delivery_event::FAILED, data).await?;
                item.done.push(key);
            }
        }
    }
    outbox::finish(ctx, &item).await?;
    report.finished += 1;
    Ok(())
}

/// Why one mail did not go out.
enum Failure {
    /// The provider may take it later.
    Retry(String),
    /// It will never go out as it is.
    Permanent(String),
    /// It is no longer owed (a password link used or replaced meanwhile).
    Moot(String),
}

/// Every address the planned mails go to.
fn addresses(plan: &[Planned]) -> Vec<String> {
    plan.iter()
        .flat_map(|p| std::iter::once(&p.to).chain(&p.cc).chain(&p.bcc))
        .map(|m| m.address.clone())
        .collect()
}

/// `planned` without its suppressed recipients (a copy standing in for a
/// suppressed `To`), and the suppressions that left them out; `Err` with
/// the mail as planned when nobody is left.
fn without_suppressed(
    planned: Planned,
    suppressed: &BTreeMap<String, Suppression>,
) -> (Result<Planned, Planned>, Vec<Suppression>) {
    let find = |m: &Mailbox| suppressed.get(&m.address.trim().to_lowercase()).cloned();
    let mut left_out = Vec::new();
    let keep = |list: &[Mailbox], left_out: &mut Vec<Suppression>| -> Vec<Mailbox> {
        list.iter()
            .filter(|m| match find(m) {
                Some(s) => {
                    left_out.push(s);
                    false
                }
                None => true,
            })
            .cloned()
            .collect()
    };
    let mut cc = keep(&planned.cc, &mut left_out);
    let mut bcc = keep(&planned.bcc, &mut left_out);
    let to = match find(&planned.to) {
        None => planned.to.clone(),
        Some(s) => {
            left_out.push(s);
            if !cc.is_empty() {
                cc.remove(0)
            } else if !bcc.is_empty() {
                bcc.remove(0)
            } else {
                return (Err(planned), left_out);
            }
        }
    };
    if left_out.is_empty() {
        return (Ok(planned), left_out);
    }
    (
        Ok(Planned {
            to,
            cc,
            bcc,
            ..planned
        }),
        left_out,
    )
}

/// What a delivery event says of the recipients left out: their addresses
/// and why when they are the user's side, only how many and why for
/// agents (whose addresses stay out of a thread users see).
fn left_out_data(planned: &Planned, left_out: &[Suppression]) -> BTreeMap<String, String> {
    if left_out.is_empty() {
        return BTreeMap::new();
    }
    let to_user = planned.kind.audience() == Audience::User;
    let suppressed = if to_user {
        left_out
            .iter()
            .map(|s| s.address.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        left_out.len().to_string()
    };
    let reason = left_out
        .iter()
        .map(|s| {
            if to_user {
                format!("{}: {}", s.address, s.why())
            } else {
                s.why()
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    BTreeMap::from([
        ("suppressed".to_owned(), suppressed),
        ("suppressed_reason".to_owned(), reason),
    ])
}

/// What a delivery event records: the template, who read it, and the
/// recipients when they are the user's side (agents' addresses stay out of
/// a thread users see).
fn delivery_data(planned: &Planned) -> BTreeMap<String, String> {
    let audience = planned.kind.audience();
    let mut data = BTreeMap::from([
        ("template".to_owned(), planned.kind.to_string()),
        (
            AUDIENCE.to_owned(),
            match audience {
                Audience::User => "user",
                Audience::Agent => "agent",
            }
            .to_owned(),
        ),
    ]);
    if audience == Audience::User {
        let visible: Vec<&str> = std::iter::once(&planned.to)
            .chain(&planned.cc)
            .map(|m| m.address.as_str())
            .collect();
        data.insert("recipients".into(), visible.join(", "));
    }
    data
}

/// The address mail comes from: the department's own, else the first
/// mailbox routed to the department, else the instance's first.
fn sender(
    instance: &Instance,
    department: Option<&Department>,
    routed: Option<DepartmentId>,
) -> Option<Mailbox> {
    let settings = &instance.mail;
    let address = department
        .and_then(|d| d.email.clone())
        .filter(|a| settings.is_own(a))
        .or_else(|| {
            settings
                .mailboxes
                .iter()
                .find(|m| Some(m.department) == routed)
                .or_else(|| settings.mailboxes.first())
                .map(|m| m.address.clone())
        })?;
    Some(Mailbox::new(instance.name.clone(), address))
}

/// Renders `planned` with the instance's own texts where it has them.
async fn rendered(ctx: &Ctx<'_>, planned: &Planned) -> Result<Rendered, Failure> {
    // Unreadable texts now are a retry, not a mail sent with the wrong ones.
    let own = crate::templates::own_texts(ctx, planned.kind, planned.language)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    render(planned.kind, planned.language, &own, &planned.variables)
        .map_err(|e| Failure::Permanent(format!("{}: {e}", e.code())))
}

/// Composes and sends `outgoing`; the Message-ID recipients see.
async fn deliver(dispatcher: &Dispatcher<'_>, outgoing: &Outgoing) -> Result<String, Failure> {
    let mail = compose(outgoing).map_err(|e| Failure::Permanent(format!("{}: {e}", e.code())))?;
    let sent = dispatcher.mailer.send(&mail).await.map_err(|e| match e {
        MailError::Unavailable(_) => Failure::Retry(format!("{}: {e}", e.code())),
        other => Failure::Permanent(format!("{}: {other}", other.code())),
    })?;
    Ok(sent.message_id)
}

/// Renders, composes and sends a mail about no ticket (a task, an
/// account) with the Reply-To its kind chose (a task token address, an
/// administrator, the no-reply address): no ticket token, no thread to
/// reference, nothing to record for threading.
async fn send_plain(
    ctx: &Ctx<'_>,
    dispatcher: &Dispatcher<'_>,
    from: Option<Mailbox>,
    reply_to: Option<Mailbox>,
    planned: &Planned,
) -> Result<String, Failure> {
    let from = from
        .ok_or_else(|| Failure::Permanent("the instance has no mailbox to send from".to_owned()))?;
    let rendered = rendered(ctx, planned).await?;
    let outgoing = Outgoing {
        from,
        to: vec![planned.to.clone()],
        cc: planned.cc.clone(),
        bcc: planned.bcc.clone(),
        reply_to,
        date: ctx.clock.now_ms() / 1000,
        auto_submitted: planned.kind.auto_submitted(),
        language: Some(planned.language),
        loop_tag: Some(LoopTag {
            instance: ctx.instance.clone(),
            ticket: None,
        }),
        ..Outgoing::default()
    }
    .with_rendered(&rendered);
    deliver(dispatcher, &outgoing).await
}

/// Renders, composes and sends one mail; the Message-ID recipients see.
async fn send_one(
    ctx: &Ctx<'_>,
    dispatcher: &Dispatcher<'_>,
    subject: &Subject,
    planned: &Planned,
) -> Result<String, Failure> {
    let from = sender(
        &subject.instance,
        subject.department.as_ref(),
        Some(subject.ticket.department),
    )
    .ok_or_else(|| Failure::Permanent("the instance has no mailbox to send from".to_owned()))?;
    let ticket = &subject.ticket;
    let token = dispatcher
        .tokens
        .token(ctx.instance, &ticket.id, &planned.to.address);
    let reply_to =
        dispatcher
            .tokens
            .address(&from.address, ctx.instance, &ticket.id, &planned.to.address);
    let rendered = rendered(ctx, planned).await?;

    let marker = format!("[ref:{token}]");
    let mut subject_line = rendered.subject.clone();
    let number_tag = format!("[#{}]", ticket.number);
    if !subject_line.contains(&number_tag) {
        subject_line = format!("{number_tag} {subject_line}");
    }
    let text = format!("{}\n{marker}\n", rendered.text.trim_end());
    let marker_html = format!("<p style=\"color:#999999;font-size:11px\">{marker}</p>");
    let html = match rendered.html.rfind("</body>") {
        Some(at) => format!(
            "{}{marker_html}{}",
            &rendered.html[..at],
            &rendered.html[at..]
        ),
        None => format!("{}{marker_html}", rendered.html),
    };

    // The user's side sees only the messages it was part of.
    let for_user = planned.kind.audience() == Audience::User;
    let references: Vec<String> = subject
        .thread_ids
        .iter()
        .filter(|(_, user_saw)| !for_user || *user_saw)
        .map(|(id, _)| id.clone())
        .collect();
    let in_reply_to = references.last().cloned();
    let auto_submitted: AutoSubmitted = rule::auto_submitted(planned.kind, &subject.entry);
    let outgoing = Outgoing {
        from,
        to: vec![planned.to.clone()],
        cc: planned.cc.clone(),
        bcc: planned.bcc.clone(),
        reply_to: Some(Mailbox::address(reply_to)),
        subject: subject_line,
        date: ctx.clock.now_ms() / 1000,
        in_reply_to,
        references,
        auto_submitted,
        language: Some(planned.language),
        loop_tag: Some(LoopTag {
            instance: ctx.instance.clone(),
            ticket: Some(ticket.number.clone()),
        }),
        text,
        html: Some(html),
        ..Outgoing::default()
    };
    let message_id = deliver(dispatcher, &outgoing).await?;
    // Replies name this id: record it before anything else can fail.
    if let Err(error) = messages::record_sent(ctx, &message_id, &ticket.id, &subject.entry.id).await
    {
        tracing::warn!(instance = %ctx.instance, number = %ticket.number, %error, "sent mail not recorded for threading");
    }
    Ok(message_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::TemplateKind;

    fn planned(kind: TemplateKind, to: &str, cc: &[&str]) -> Planned {
        Planned {
            kind,
            to: Mailbox::address(to),
            cc: cc.iter().map(|a| Mailbox::address(*a)).collect(),
            bcc: Vec::new(),
            language: taquilla_core::domain::Language::En,
            variables: crate::outbound::Variables::default(),
        }
    }

    fn suppressed(addresses: &[&str]) -> BTreeMap<String, Suppression> {
        addresses
            .iter()
            .map(|a| {
                let s = Suppression {
                    address: (*a).to_owned(),
                    reason: suppressions::Reason::Bounce,
                    detail: "General 5.1.1".into(),
                    feedback_id: "f".into(),
                    ticket: None,
                    at: 0,
                };
                ((*a).to_owned(), s)
            })
            .collect()
    }

    #[test]
    fn a_mail_whose_every_recipient_is_suppressed_is_not_sent() {
        let mail = planned(TemplateKind::Response, "Ana@Example.net", &[]);
        let (kept, left_out) = without_suppressed(mail.clone(), &suppressed(&["ana@example.net"]));
        assert_eq!(kept, Err(mail.clone()));
        assert_eq!(left_out.len(), 1);
        let data = left_out_data(&mail, &left_out);
        assert_eq!(data["suppressed"], "ana@example.net");
        assert_eq!(
            data["suppressed_reason"],
            "ana@example.net: bounce: General 5.1.1"
        );
    }

    #[test]
    fn a_copy_stands_in_for_a_suppressed_to_and_the_rest_still_go() {
        let mail = planned(
            TemplateKind::Response,
            "ana@example.net",
            &["gone@example.net", "joan@example.net"],
        );
        let (kept, left_out) = without_suppressed(
            mail.clone(),
            &suppressed(&["ana@example.net", "gone@example.net"]),
        );
        let kept = kept.unwrap();
        assert_eq!(kept.to.address, "joan@example.net");
        assert!(kept.cc.is_empty());
        assert_eq!(left_out.len(), 2);
        // The done key stays the planned mail's.
        assert_eq!(mail.done_key(), "response:ana@example.net");

        let untouched = without_suppressed(mail.clone(), &BTreeMap::new());
        assert_eq!(untouched, (Ok(mail), Vec::new()));
    }

    #[test]
    fn agents_suppressed_addresses_stay_out_of_the_thread() {
        let mail = planned(TemplateKind::AlertNewTicket, "agent@example.edu", &[]);
        let (_, left_out) = without_suppressed(mail.clone(), &suppressed(&["agent@example.edu"]));
        let data = left_out_data(&mail, &left_out);
        assert_eq!(data["suppressed"], "1");
        assert!(!data["suppressed_reason"].contains("agent@"));
    }

    #[test]
    fn retries_back_off_exponentially_up_to_a_ceiling() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_ms(1), 30_000);
        assert_eq!(policy.delay_ms(2), 60_000);
        assert_eq!(policy.delay_ms(3), 120_000);
        assert_eq!(policy.delay_ms(40), 3_600_000);
    }
}
