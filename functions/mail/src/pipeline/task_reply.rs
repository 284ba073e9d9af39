//! Agents' mail replies to task alerts: a note in the task's thread.
//!
//! A task alert's Reply-To is one of the instance's mailboxes with a task
//! token as its plus tag ([`ReplyTokens::task_address`]), signed for the
//! agent it was sent to. A message delivered to such an address:
//!
//! - from that agent (the token verifies for the sender), still active and
//!   still allowed to see the task, becomes a note in the task's thread
//!   ([`tasks::note_from_mail`]: claimed with the note, so a second
//!   delivery is a duplicate), its quoted history folded away as in
//!   tickets; task notes hold no files, so the names of any attached are
//!   listed at the end of the note instead of being dropped unsaid;
//! - written by a program (an agent's vacation notice, a list) is dropped
//!   quietly: never a note, never an answer;
//! - from anyone else, or about a task that is gone, is refused
//!   (`task_reply_refused`, the sender's server bounces it with the
//!   reason). It opens no ticket either: a task has no requester, and an
//!   alert forwarded outside must not carry the task's internal text into
//!   a queue.
//!
//! Only addresses that are one of the instance's mailboxes count, so a
//! plus tag on someone else's address never decides anything here.

use taquilla_core::domain::{MailSettings, TaskId};
use taquilla_core::services::messages::MailRef;
use taquilla_core::services::tickets::Body;
use taquilla_core::services::{Actor, Ctx, ServiceError, tasks};

use super::matching;
use super::outcome::Outcome;
use crate::inbound::{Classification, MailKind, ParsedMail, plus_tag};
use crate::reply_token::{ReadTaskToken, ReplyTokens};

/// The code of a refused reply to a task alert.
pub const REFUSED: &str = "task_reply_refused";
/// The code of an automatic message to a task's address, dropped.
pub const AUTOMATIC: &str = "task_reply_automatic";

/// The task token of the first of our mailboxes the message was delivered
/// to with one, if any.
#[must_use]
pub fn token_of(
    settings: &MailSettings,
    mail: &ParsedMail,
    recipients: &[String],
) -> Option<ReadTaskToken> {
    recipients
        .iter()
        .chain(&mail.delivered_to)
        .chain(mail.to.iter().map(|m| &m.address))
        .chain(mail.cc.iter().map(|m| &m.address))
        .filter(|address| settings.mailbox_for(address).is_some())
        .find_map(|address| {
            let (_, tag) = plus_tag(address)?;
            ReplyTokens::read_task(&tag)
        })
}

/// What a message to a task's reply address becomes; see the module docs.
pub async fn note(
    ctx: &Ctx<'_>,
    tokens: &ReplyTokens,
    token: &ReadTaskToken,
    mail: &ParsedMail,
    class: &Classification,
    mail_ref: &MailRef,
) -> Result<Outcome, ServiceError> {
    if matches!(class.kind, MailKind::AutoReply | MailKind::Bulk) {
        return Ok(Outcome::Dropped {
            code: AUTOMATIC,
            reason: format!("automatic mail to the reply address of task {}", token.task),
        });
    }
    let sender = &mail.from.address;
    if !tokens.verify_task(ctx.instance, token, sender) {
        return Ok(refused(
            &token.task,
            "the reply address of a task alert takes replies only from the agent it was sent to",
        ));
    }
    let Some(agent) = matching::agent(ctx, sender).await? else {
        return Ok(refused(&token.task, "the sender is no active agent"));
    };
    let actor = Actor::Agent(agent);
    // Inline images (a signature's logo) are part of the text, not files.
    let files: Vec<String> = mail
        .attachments
        .iter()
        .filter(|file| !file.inline)
        .map(|file| file.file_name.clone())
        .collect();
    let body = with_files_named(super::body(mail), &files);
    match tasks::note_from_mail(ctx, &actor, &token.task, &body, mail_ref).await {
        Ok(task) => {
            tracing::info!(instance = %ctx.instance, task = %task.id, "mail reply noted in a task");
            Ok(Outcome::TaskNoted {
                task: task.id.to_string(),
                not_kept: files,
            })
        }
        // Gone, or no longer visible to this agent: the same answer.
        Err(ServiceError::NotFound(_)) => Ok(refused(
            &token.task,
            "the task does not exist or the agent may no longer see it",
        )),
        Err(error @ ServiceError::Invalid { .. }) => Ok(Outcome::Rejected {
            code: REFUSED,
            reason: format!("task {}: {error}", token.task),
        }),
        Err(other) => Err(other),
    }
}

fn refused(task: &TaskId, why: &str) -> Outcome {
    Outcome::Rejected {
        code: REFUSED,
        reason: format!("reply to task {task} refused: {why}"),
    }
}

/// `body` with a last paragraph naming the files that came with it, which
/// a task note cannot hold.
fn with_files_named(body: Body, files: &[String]) -> Body {
    if files.is_empty() {
        return body;
    }
    let line = format!(
        "[Attached to the mail and not kept, a task note holds no files: {}]",
        files.join(", ")
    );
    match body {
        Body::Text(text) => Body::Text(format!("{}\n\n{line}", text.trim_end())),
        Body::Html(html) => Body::Html(format!(
            "{html}<p>{}</p>",
            taquilla_core::sanitize::escape(&line)
        )),
    }
}
