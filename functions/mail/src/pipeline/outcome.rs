//! What became of one received message, and the failures that make the
//! sender's mail server try again.

use serde::Serialize;
use thiserror::Error;

/// How a reply was matched to its ticket, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The signed reply token in the address it was sent to.
    Token,
    /// In-Reply-To or References naming a message of the thread.
    Header,
    /// The reference marker in the body.
    Marker,
    /// The ticket number in the subject, from a participant.
    Subject,
}

/// What a threaded message became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryRole {
    /// The user's or a collaborator's message.
    Message,
    /// An agent's mail reply, sent to the user.
    Response,
    /// An agent's mail reply with the note prefix.
    Note,
}

/// What became of a message. Every outcome but [`Outcome::Rejected`] means
/// the message is safe with us (the mail server may forget it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A new ticket. `related_to` names a ticket the message pointed at
    /// without passing the checks to join it.
    Opened {
        number: String,
        related_to: Option<String>,
        /// Attachments refused by the instance's limits (noted in the thread).
        refused: Vec<String>,
    },
    /// An entry in an existing ticket's thread.
    Threaded {
        number: String,
        role: EntryRole,
        matched_by: MatchedBy,
        refused: Vec<String>,
    },
    /// An agent's mail reply to a task alert, now a note in the task's
    /// thread (see `pipeline::task_reply`). `not_kept` names the files that
    /// came with it, which a task note cannot hold (the note names them).
    TaskNoted { task: String, not_kept: Vec<String> },
    /// Delivered before: nothing changed.
    Duplicate { ticket: String },
    /// A delivery failure report, noted in the ticket whose mail bounced
    /// (if found), never answered.
    Bounce {
        number: Option<String>,
        recipients: Vec<String>,
    },
    /// Refused for good; the sender's server should bounce it.
    Rejected { code: &'static str, reason: String },
    /// Refused quietly (a rule rejecting without a notice): nothing was
    /// written and nobody is told; the mail server may forget it.
    Dropped { code: &'static str, reason: String },
    /// It could not be processed and is kept whole for an administrator
    /// (`taquilla mail kept`, `taquilla mail replay`).
    Kept {
        id: String,
        code: String,
        reason: String,
    },
}

impl Outcome {
    /// One line for logs and for the `pipe` command.
    #[must_use]
    pub fn summary(&self) -> String {
        match self {
            Outcome::Opened {
                number, related_to, ..
            } => match related_to {
                Some(other) => format!("opened ticket {number} (possibly related to {other})"),
                None => format!("opened ticket {number}"),
            },
            Outcome::Threaded {
                number,
                role,
                matched_by,
                ..
            } => format!("added a {role:?} to ticket {number} (matched by {matched_by:?})")
                .to_lowercase(),
            Outcome::TaskNoted { task, .. } => format!("added a note to task {task}"),
            Outcome::Duplicate { ticket } => format!("already received (ticket {ticket})"),
            Outcome::Bounce { number, recipients } => format!(
                "delivery failure for {} recorded{}",
                recipients.join(", "),
                number
                    .as_ref()
                    .map(|n| format!(" in ticket {n}"))
                    .unwrap_or_default()
            ),
            Outcome::Rejected { code, reason } => format!("rejected ({code}): {reason}"),
            Outcome::Dropped { code, reason } => format!("dropped ({code}): {reason}"),
            Outcome::Kept { id, code, reason } => {
                format!("kept for review as {id} ({code}): {reason}")
            }
        }
    }
}

/// A failure that may pass: the message was not processed and nothing
/// was kept, so the sender's server (or Lambda) must deliver it again.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("temporary failure ({code}): {message}")]
pub struct Temporary {
    pub code: String,
    pub message: String,
}
