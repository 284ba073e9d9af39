//! Tickets, their statuses and priorities.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rules::{OpeningMail, RuleTimer};
use super::sla_clock::SlaClock;
use super::{AgentId, DepartmentId, PriorityId, StatusId, TeamId, TicketId, TopicId, UserId};

/// Where a ticket came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Web,
    Email,
    Api,
    Phone,
    Other,
}

/// The state behind a status: what the help desk does with the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Open,
    Closed,
    Archived,
    Deleted,
}

impl State {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Closed => "closed",
            State::Archived => "archived",
            State::Deleted => "deleted",
        }
    }
}

/// A ticket status of the instance's customisable list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub id: StatusId,
    pub name: String,
    pub state: State,
}

/// A ticket priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    pub id: PriorityId,
    pub name: String,
    /// 1 is the most urgent.
    pub urgency: u8,
}

/// How a collaborator is copied on the ticket's mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CopyKind {
    Cc,
    Bcc,
}

/// A user copied on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collaborator {
    pub user: UserId,
    pub kind: CopyKind,
}

/// One request and everything known of it (its thread is stored beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    /// What users and agents call it; unique in the instance, never reused.
    pub number: String,
    pub subject: String,
    pub user: UserId,
    #[serde(default)]
    pub collaborators: Vec<Collaborator>,
    pub source: Source,
    #[serde(default)]
    pub topic: Option<TopicId>,
    pub department: DepartmentId,
    pub priority: PriorityId,
    pub status: StatusId,
    /// The state of `status`, kept beside it for queues.
    pub state: State,
    #[serde(default)]
    pub assignee: Option<AgentId>,
    #[serde(default)]
    pub team: Option<TeamId>,
    #[serde(default)]
    pub sla: Option<u32>,
    /// Epoch ms: an agent's own due date, else the earliest due time of
    /// the SLA plan's running targets (see [`super::sla_clock`]).
    #[serde(default)]
    pub due_at: Option<i64>,
    #[serde(default)]
    pub overdue: bool,
    /// An agent has responded since the user last wrote.
    #[serde(default)]
    pub answered: bool,
    /// Custom field values by variable name.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub last_message_at: Option<i64>,
    #[serde(default)]
    pub last_response_at: Option<i64>,
    #[serde(default)]
    pub closed_at: Option<i64>,
    #[serde(default)]
    pub reopened_at: Option<i64>,
    /// Set when this ticket was merged into another.
    #[serde(default)]
    pub merged_into: Option<TicketId>,
    /// Related tickets.
    #[serde(default)]
    pub links: Vec<TicketId>,
    /// The SLA clock: targets, pauses, what the tick handled.
    #[serde(default, skip_serializing_if = "SlaClock::is_empty")]
    pub sla_clock: SlaClock,
    /// Since when the ticket has had no agent and no team, when its
    /// assignment was cleared (`None` while assigned, or unassigned since
    /// it was opened): what the `unassigned` time condition counts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unassigned_since: Option<i64>,
    /// The time rules: when one could next fire, which fired.
    #[serde(default, skip_serializing_if = "RuleTimer::is_empty")]
    pub rule_timer: RuleTimer,
    /// What rules may still look at of the mail that opened the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_mail: Option<OpeningMail>,
    /// Optimistic concurrency: every update requires the version it read.
    pub version: i64,
}

impl Ticket {
    /// The moment of the last activity (what queues sort by).
    #[must_use]
    pub fn last_activity(&self) -> i64 {
        self.updated_at
    }
}
