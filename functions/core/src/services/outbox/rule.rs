//! Mail a rule asks for: a canned response to the user, or a mail to the
//! addresses it names. The rule's change writes one outbox item per such
//! action, in its own transaction, about the ticket and the rule's
//! `rule_fired` event ([`Occasion::RuleSend`](super::Occasion::RuleSend)),
//! carrying what to send ([`RuleSend`]); nothing is rendered then, since
//! templates and canned responses are expanded by the mail side.
//!
//! The dispatcher (`taquilla_mail::dispatch`) turns a canned response into
//! the rules' response entry (expanded for the ticket as it then is,
//! written through the respond path with the item as its claim, so the
//! item sent twice writes it once), which is mailed to the user as
//! responses are; and renders a mail to the named addresses from the
//! `rule_mail` template. Both go out `Auto-Submitted: auto-generated`, and
//! update rules never send them on behalf of an automatic message, so no
//! two robots answer each other.

use serde::{Deserialize, Serialize};

use super::{About, Occasion, TicketMail, put_op};
use crate::domain::rules::RuleId;
use crate::domain::{CannedId, Entry, Ticket};
use crate::services::{Ctx, ServiceError};
use crate::store::WriteOp;

/// What a rule asked to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum RuleSend {
    /// Answer the user with canned response `canned`.
    SendCanned { rule: RuleId, canned: CannedId },
    /// Mail `to` about the ticket: the rule's `subject` and `body`, each a
    /// template over the `rule_mail` template's variables.
    SendMail {
        rule: RuleId,
        to: Vec<String>,
        subject: String,
        body: String,
    },
}

impl RuleSend {
    /// The rule that asked.
    #[must_use]
    pub fn rule(&self) -> RuleId {
        match self {
            RuleSend::SendCanned { rule, .. } | RuleSend::SendMail { rule, .. } => *rule,
        }
    }
}

/// The outbox item for `send`, about `ticket` and the rule's `rule_fired`
/// event `entry`, to write in the rule's change.
pub(crate) fn item_op(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    entry: &Entry,
    send: RuleSend,
) -> Result<WriteOp, ServiceError> {
    put_op(
        ctx,
        About::Ticket(TicketMail {
            ticket: ticket.id.clone(),
            entry: entry.id.clone(),
            entry_at: entry.created_at,
            occasion: Occasion::RuleSend,
            auto_respond: false,
            alert: false,
            send: Some(send),
        }),
    )
}
