//! Departments and help topics: how an instance is divided and how requests
//! find their way in.

use serde::{Deserialize, Serialize};

use super::outbound_settings::OutboundSettings;
use super::{AgentId, DepartmentId, FormId, PriorityId, TeamId, TopicId};

/// How new tickets of a department find an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentMode {
    /// Agents claim or are given tickets.
    #[default]
    Manual,
    /// Each new ticket goes to the next available member, in turn.
    RoundRobin,
}

/// A unit inside an instance that owns tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub id: DepartmentId,
    pub name: String,
    /// Outgoing address of the department's mail.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub parent: Option<DepartmentId>,
    /// The department's manager.
    #[serde(default)]
    pub manager: Option<AgentId>,
    /// SLA plan of its tickets unless the help topic names one (SLA plans
    /// are not configurable yet; the reference is kept).
    #[serde(default)]
    pub sla: Option<u32>,
    /// Tickets visible only to agents with access to this department.
    #[serde(default)]
    pub members_only: bool,
    #[serde(default)]
    pub assignment: AssignmentMode,
    /// The department's own auto-response and alert policy, replacing the
    /// instance's (`mail.outbound`) for its tickets when set.
    #[serde(default)]
    pub outbound: Option<OutboundSettings>,
}

impl Department {
    /// A department with nothing but its name configured.
    #[must_use]
    pub fn new(id: DepartmentId, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            email: None,
            parent: None,
            manager: None,
            sla: None,
            members_only: false,
            assignment: AssignmentMode::Manual,
            outbound: None,
        }
    }
}

/// Who a help topic assigns its new tickets to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum AutoAssign {
    Agent(AgentId),
    Team(TeamId),
}

/// What a user picks when opening a ticket; it routes the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpTopic {
    pub id: TopicId,
    pub name: String,
    pub department: DepartmentId,
    /// Shown on the public portal (true when not given).
    #[serde(default = "yes")]
    pub public: bool,
    #[serde(default)]
    pub parent: Option<TopicId>,
    #[serde(default)]
    pub priority: Option<PriorityId>,
    #[serde(default)]
    pub sla: Option<u32>,
    #[serde(default)]
    pub auto_assign: Option<AutoAssign>,
    /// Send the new-ticket auto-response.
    #[serde(default = "yes")]
    pub auto_response: bool,
    /// Overrides the instance's ticket-number format.
    #[serde(default)]
    pub number_format: Option<String>,
    /// Forms the topic asks for, in order, after its parent's.
    #[serde(default)]
    pub forms: Vec<FormId>,
    /// Users copied on every ticket of the topic.
    #[serde(default)]
    pub default_collaborators: Vec<String>,
}

impl HelpTopic {
    /// A public topic of `department` with nothing else configured.
    #[must_use]
    pub fn new(id: TopicId, name: impl Into<String>, department: DepartmentId) -> Self {
        Self {
            id,
            name: name.into(),
            department,
            public: true,
            parent: None,
            priority: None,
            sla: None,
            auto_assign: None,
            auto_response: true,
            number_format: None,
            forms: Vec::new(),
            default_collaborators: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}
