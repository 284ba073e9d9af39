//! What an instance sends on its own: which auto-responses its users get,
//! which alerts its agents get and who receives each, and the addresses it
//! never writes to. Part of [`MailSettings`](super::MailSettings) as
//! `mail.outbound`; every field has a default, so settings saved before
//! these existed read as the defaults.

use serde::{Deserialize, Serialize};

/// The instance's outbound mail policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundSettings {
    /// Answer a new ticket with the new-ticket auto-response (a help
    /// topic's own `auto_response` can still turn it off for its tickets).
    pub new_ticket_autoresponse: bool,
    /// Answer a user's further message with the new-message auto-response.
    pub new_message_autoresponse: bool,
    /// Tell the user when their ticket is closed.
    pub closed_notice: bool,
    /// Who is alerted of each occasion.
    pub alerts: Alerts,
    /// An administrator's address that alerts with `admin` set also go to.
    pub admin_address: Option<String>,
    /// Addresses never written to (lower case; `@domain` suppresses a
    /// whole domain), e.g. after hard bounces.
    pub suppressed: Vec<String>,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            new_ticket_autoresponse: true,
            new_message_autoresponse: true,
            closed_notice: true,
            alerts: Alerts::default(),
            admin_address: None,
            suppressed: Vec::new(),
        }
    }
}

impl OutboundSettings {
    /// Whether `address` is on the suppression list (exactly, or by domain).
    #[must_use]
    pub fn is_suppressed(&self, address: &str) -> bool {
        let address = address.trim().to_ascii_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d);
        self.suppressed.iter().any(|entry| {
            let entry = entry.trim().to_ascii_lowercase();
            match entry.strip_prefix('@') {
                Some(suppressed) => domain == Some(suppressed),
                None => entry == address,
            }
        })
    }
}

/// Who is alerted, per occasion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Alerts {
    pub new_ticket: AlertTargets,
    pub new_message: AlertTargets,
    pub internal_note: AlertTargets,
    /// The agent or team a ticket was just assigned to is always the
    /// target; these settings add others (or, disabled, silence it).
    pub assigned: AlertTargets,
    /// Alerts the receiving department of a transfer.
    pub transfer: AlertTargets,
    /// A task was created: its assignee and team, else its department.
    pub new_task: AlertTargets,
    /// A task was assigned: the agent or team just given it is always the
    /// target; these settings add others (or, disabled, silence it).
    pub task_assigned: AlertTargets,
    /// A ticket missed an SLA target or its due date (the escalation tick).
    pub overdue: AlertTargets,
    /// An SLA target's warning time came (the escalation tick).
    pub sla_warning: AlertTargets,
}

impl Default for Alerts {
    fn default() -> Self {
        Self {
            new_ticket: AlertTargets::default(),
            new_message: AlertTargets::default(),
            internal_note: AlertTargets::default(),
            assigned: AlertTargets {
                department_members: Members::Never,
                ..AlertTargets::default()
            },
            transfer: AlertTargets::default(),
            new_task: AlertTargets::default(),
            task_assigned: AlertTargets {
                department_members: Members::Never,
                ..AlertTargets::default()
            },
            overdue: AlertTargets {
                department_manager: true,
                ..AlertTargets::default()
            },
            sla_warning: AlertTargets::default(),
        }
    }
}

/// The recipients of one kind of alert. The agent whose action caused the
/// alert is never alerted of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertTargets {
    /// Send this alert at all.
    pub enabled: bool,
    /// The assigned agent.
    pub assignee: bool,
    /// The lead of the assigned team.
    pub team_lead: bool,
    /// The members of the assigned team.
    pub team_members: bool,
    /// The department's manager.
    pub department_manager: bool,
    /// The agents with access to the department.
    pub department_members: Members,
    /// [`OutboundSettings::admin_address`].
    pub admin: bool,
}

impl Default for AlertTargets {
    fn default() -> Self {
        Self {
            enabled: true,
            assignee: true,
            team_lead: false,
            team_members: true,
            department_manager: false,
            department_members: Members::WhenUnassigned,
            admin: false,
        }
    }
}

/// When a department's agents are alerted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Members {
    Always,
    /// Only when the other targets name no one (the ticket is
    /// unassigned, or its assignee and team have nobody to alert).
    WhenUnassigned,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_settings_read_as_the_defaults() {
        let parsed: OutboundSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, OutboundSettings::default());
        assert!(parsed.new_ticket_autoresponse && parsed.new_message_autoresponse);
        assert_eq!(
            parsed.alerts.new_ticket.department_members,
            Members::WhenUnassigned
        );
        let partial: OutboundSettings =
            serde_json::from_str(r#"{"alerts": {"new_message": {"admin": true}}}"#).unwrap();
        assert!(partial.alerts.new_message.admin && partial.alerts.new_message.assignee);
    }

    #[test]
    fn suppression_matches_addresses_and_domains() {
        let settings = OutboundSettings {
            suppressed: vec!["Gone@Example.net".into(), "@spam.example".into()],
            ..OutboundSettings::default()
        };
        assert!(settings.is_suppressed("gone@example.NET"));
        assert!(settings.is_suppressed("anyone@spam.example"));
        assert!(!settings.is_suppressed("anyone@example.net"));
        assert!(!settings.is_suppressed("x@notspam.example"));
    }
}
