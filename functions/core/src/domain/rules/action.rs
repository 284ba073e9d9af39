//! What a rule does, in the order it lists.

use serde::{Deserialize, Serialize};

use super::{Moment, RuleError};
use crate::domain::{
    AgentId, CannedId, DepartmentId, PriorityId, SlaPlanId, StatusId, TeamId, TopicId,
};

/// Most addresses an action names.
pub const MAX_ADDRESSES: usize = 20;
/// Longest text (a note, a mail's body, a notice) an action carries.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// One action of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Action {
    /// Refuse the ticket (creation only): quietly when there is no
    /// `notice`, else with the notice as the answer to the sender.
    Reject {
        #[serde(default)]
        notice: Option<String>,
    },
    SetDepartment {
        department: DepartmentId,
    },
    SetTopic {
        topic: TopicId,
    },
    SetPriority {
        priority: PriorityId,
    },
    SetSla {
        sla: SlaPlanId,
    },
    SetStatus {
        status: StatusId,
    },
    AssignAgent {
        agent: AgentId,
    },
    AssignTeam {
        team: TeamId,
    },
    /// Copy these addresses on the ticket (users created if new).
    AddCollaborators {
        addresses: Vec<String>,
    },
    /// No automatic answer to the message (the new-ticket or new-message
    /// auto-response).
    DisableAutoResponse,
    /// Answer the user with a canned response, expanded for the ticket.
    SendCanned {
        canned: CannedId,
    },
    /// Mail these addresses about the ticket.
    SendMail {
        to: Vec<String>,
        subject: String,
        body: String,
    },
    /// An internal note in the thread.
    AddNote {
        body: String,
    },
    /// Close the ticket (with the instance's first closed status).
    Close,
}

impl Action {
    /// The action's name in the API and in the thread's records.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Action::Reject { .. } => "reject",
            Action::SetDepartment { .. } => "set_department",
            Action::SetTopic { .. } => "set_topic",
            Action::SetPriority { .. } => "set_priority",
            Action::SetSla { .. } => "set_sla",
            Action::SetStatus { .. } => "set_status",
            Action::AssignAgent { .. } => "assign_agent",
            Action::AssignTeam { .. } => "assign_team",
            Action::AddCollaborators { .. } => "add_collaborators",
            Action::DisableAutoResponse => "disable_auto_response",
            Action::SendCanned { .. } => "send_canned",
            Action::SendMail { .. } => "send_mail",
            Action::AddNote { .. } => "add_note",
            Action::Close => "close",
        }
    }

    /// A short account of the action for the thread and for replay
    /// (`set_priority 1`, `add_collaborators a@x.org, b@y.org`).
    #[must_use]
    pub fn describe(&self) -> String {
        let detail = match self {
            Action::Reject { notice } => notice.clone().unwrap_or_else(|| "quietly".into()),
            Action::SetDepartment { department } => department.to_string(),
            Action::SetTopic { topic } => topic.to_string(),
            Action::SetPriority { priority } => priority.to_string(),
            Action::SetSla { sla } => sla.to_string(),
            Action::SetStatus { status } => status.to_string(),
            Action::AssignAgent { agent } => agent.to_string(),
            Action::AssignTeam { team } => team.to_string(),
            Action::AddCollaborators { addresses } => addresses.join(", "),
            Action::SendCanned { canned } => canned.to_string(),
            Action::SendMail { to, .. } => to.join(", "),
            Action::DisableAutoResponse | Action::AddNote { .. } | Action::Close => String::new(),
        };
        if detail.is_empty() {
            self.name().to_owned()
        } else {
            format!("{} {detail}", self.name())
        }
    }

    /// Refuses an action that cannot happen at `moment` or carries bad
    /// data (no address, too long a text).
    pub(crate) fn check(&self, moment: &Moment) -> Result<(), RuleError> {
        let misfit = || RuleError::ActionMoment {
            action: self.name(),
            moment: moment.name(),
        };
        match (self, moment) {
            (Action::Reject { .. }, Moment::Update { .. } | Moment::Time) => return Err(misfit()),
            (Action::DisableAutoResponse, Moment::Time) => return Err(misfit()),
            _ => {}
        }
        let long = |text: &str| text.len() > MAX_TEXT_BYTES;
        match self {
            Action::Reject { notice: Some(text) } if long(text) => Err(self.too_long()),
            Action::AddNote { body } if body.trim().is_empty() || long(body) => {
                Err(self.too_long())
            }
            Action::SendMail { to, subject, body } => {
                check_addresses(to)?;
                if subject.trim().is_empty()
                    || subject.len() > 255
                    || body.trim().is_empty()
                    || long(body)
                {
                    return Err(self.too_long());
                }
                Ok(())
            }
            Action::AddCollaborators { addresses } => check_addresses(addresses),
            _ => Ok(()),
        }
    }

    fn too_long(&self) -> RuleError {
        RuleError::BadAction {
            action: self.name(),
            message: format!(
                "its text must not be empty nor longer than {MAX_TEXT_BYTES} bytes (a subject 255)"
            ),
        }
    }
}

/// One to [`MAX_ADDRESSES`] addresses, each looking like one (the services
/// normalise them when they use them).
fn check_addresses(addresses: &[String]) -> Result<(), RuleError> {
    if addresses.is_empty() || addresses.len() > MAX_ADDRESSES {
        return Err(RuleError::BadAddress(format!(
            "1 to {MAX_ADDRESSES} addresses"
        )));
    }
    for address in addresses {
        let looks_right = address
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !address.chars().any(|c| c.is_whitespace() || c.is_control())
            && address.len() <= 254;
        if !looks_right {
            return Err(RuleError::BadAddress(format!(
                "{address:?} is not an e-mail address"
            )));
        }
    }
    Ok(())
}
