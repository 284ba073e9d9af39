//! The mails Taquilla sends: one [`TemplateKind`] per occasion, each with a
//! built-in template in every language and, optionally, an instance's own.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use taquilla_core::domain::instance::Language;

use super::compose::AutoSubmitted;

/// Who reads a mail: the registry keeps agent-only variables (the agent
/// portal's link) out of users' mail and users' magic links out of agents'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The user who asked (and collaborators).
    User,
    /// Agents, managers and teams.
    Agent,
}

/// One occasion on which Taquilla sends mail. The snake_case name is the
/// template's file name under `templates/mail/{language}/` and the key an
/// instance's own texts are stored under.
///
/// Where a reply goes (the Reply-To the dispatcher sets, whatever the
/// texts say):
///
/// - mail about a ticket: the sending mailbox with the ticket's token
///   signed for the recipient; the reply joins the ticket's thread;
/// - task alerts: the sending mailbox with the task's token signed for the
///   agent alerted; the agent's reply becomes a note in the task's thread,
///   anyone else's is refused (`task_reply_refused`). The built-in texts
///   say so in their last line;
/// - account mail (welcome, password reset), which carries a one-time
///   password link: the instance's administrator address
///   (`mail.outbound.admin_address`) when it has one, else the mailbox's
///   no-reply address (`support+noreply@…`), which refuses all mail
///   (`mail_no_reply`). A reply, quoting the link, never becomes a ticket
///   other agents could read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// To the user: a new ticket was opened from their message or form.
    NewTicketAutoresponse,
    /// To the user: their message was added to an open ticket.
    NewMessageAutoresponse,
    /// To the user: their message was refused because they have too many
    /// open tickets.
    OverLimitNotice,
    /// To the user: an agent answered.
    Response,
    /// To the user: the ticket was closed.
    TicketClosed,
    /// To agents: a new ticket arrived in their department.
    AlertNewTicket,
    /// To agents: the user wrote again on a ticket.
    AlertNewMessage,
    /// To agents: an internal note was added.
    AlertInternalNote,
    /// To an agent: a ticket was assigned to them.
    AlertAssignedAgent,
    /// To a team: a ticket was assigned to the team.
    AlertAssignedTeam,
    /// To agents of the new department: a ticket was transferred to it.
    AlertTransfer,
    /// To the assignee and managers: a ticket is past its due date.
    AlertOverdue,
    /// To the assignee and managers: an SLA target's warning time came,
    /// before it is missed.
    AlertSlaWarning,
    /// To agents: a new task was created.
    TaskAlertNew,
    /// To an agent or team: a task was assigned to them.
    TaskAlertAssigned,
    /// To a new agent: their account exists; how to set a password.
    AgentWelcome,
    /// To an agent: how to choose a new password.
    PasswordReset,
    /// To the addresses a rule names: a mail about a ticket, around the
    /// rule's own subject and text.
    RuleMail,
}

impl TemplateKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [TemplateKind; 18] = [
        TemplateKind::NewTicketAutoresponse,
        TemplateKind::NewMessageAutoresponse,
        TemplateKind::OverLimitNotice,
        TemplateKind::Response,
        TemplateKind::TicketClosed,
        TemplateKind::AlertNewTicket,
        TemplateKind::AlertNewMessage,
        TemplateKind::AlertInternalNote,
        TemplateKind::AlertAssignedAgent,
        TemplateKind::AlertAssignedTeam,
        TemplateKind::AlertTransfer,
        TemplateKind::AlertOverdue,
        TemplateKind::AlertSlaWarning,
        TemplateKind::TaskAlertNew,
        TemplateKind::TaskAlertAssigned,
        TemplateKind::AgentWelcome,
        TemplateKind::PasswordReset,
        TemplateKind::RuleMail,
    ];

    /// The snake_case name: file name and storage key.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateKind::NewTicketAutoresponse => "new_ticket_autoresponse",
            TemplateKind::NewMessageAutoresponse => "new_message_autoresponse",
            TemplateKind::OverLimitNotice => "over_limit_notice",
            TemplateKind::Response => "response",
            TemplateKind::TicketClosed => "ticket_closed",
            TemplateKind::AlertNewTicket => "alert_new_ticket",
            TemplateKind::AlertNewMessage => "alert_new_message",
            TemplateKind::AlertInternalNote => "alert_internal_note",
            TemplateKind::AlertAssignedAgent => "alert_assigned_agent",
            TemplateKind::AlertAssignedTeam => "alert_assigned_team",
            TemplateKind::AlertTransfer => "alert_transfer",
            TemplateKind::AlertOverdue => "alert_overdue",
            TemplateKind::AlertSlaWarning => "alert_sla_warning",
            TemplateKind::TaskAlertNew => "task_alert_new",
            TemplateKind::TaskAlertAssigned => "task_alert_assigned",
            TemplateKind::AgentWelcome => "agent_welcome",
            TemplateKind::PasswordReset => "password_reset",
            TemplateKind::RuleMail => "rule_mail",
        }
    }

    /// Who reads this mail.
    #[must_use]
    pub fn audience(self) -> Audience {
        match self {
            TemplateKind::NewTicketAutoresponse
            | TemplateKind::NewMessageAutoresponse
            | TemplateKind::OverLimitNotice
            | TemplateKind::Response
            | TemplateKind::TicketClosed => Audience::User,
            _ => Audience::Agent,
        }
    }

    /// The `Auto-Submitted` value this mail should carry (RFC 3834):
    /// answers to a user's mail are `auto-replied`, notices Taquilla sends
    /// on its own are `auto-generated`, and an agent's response is written
    /// by a person.
    #[must_use]
    pub fn auto_submitted(self) -> AutoSubmitted {
        match self {
            TemplateKind::NewTicketAutoresponse
            | TemplateKind::NewMessageAutoresponse
            | TemplateKind::OverLimitNotice => AutoSubmitted::AutoReplied,
            TemplateKind::Response => AutoSubmitted::No,
            _ => AutoSubmitted::AutoGenerated,
        }
    }
}

impl fmt::Display for TemplateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no template kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown template kind {0:?}")]
pub struct UnknownTemplateKind(pub String);

impl FromStr for TemplateKind {
    type Err = UnknownTemplateKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TemplateKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownTemplateKind(s.to_owned()))
    }
}

/// The folder name of a language under `templates/mail/` and the value of
/// `Content-Language`.
#[must_use]
pub fn language_tag(language: Language) -> &'static str {
    match language {
        Language::Ca => "ca",
        Language::Es => "es",
        Language::En => "en",
    }
}

/// The three parts of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// One line; whitespace is collapsed after rendering.
    Subject,
    /// The HTML body's content (the shared layout wraps it); values are
    /// escaped unless the registry marks them as sanitised HTML.
    Html,
    /// The plain-text body.
    Text,
}

impl Part {
    /// Every part.
    pub const ALL: [Part; 3] = [Part::Subject, Part::Html, Part::Text];

    /// The part's name, which is also its file extension (`txt` for text).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Html => "html",
            Part::Text => "text",
        }
    }

    /// The template file's extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Html => "html",
            Part::Text => "txt",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in TemplateKind::ALL {
            assert_eq!(kind.as_str().parse::<TemplateKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert_eq!(
            "no_such_mail".parse::<TemplateKind>(),
            Err(UnknownTemplateKind("no_such_mail".into()))
        );
    }

    #[test]
    fn only_an_agent_response_is_written_by_a_person() {
        let people: Vec<_> = TemplateKind::ALL
            .into_iter()
            .filter(|kind| kind.auto_submitted() == AutoSubmitted::No)
            .collect();
        assert_eq!(people, [TemplateKind::Response]);
    }
}
