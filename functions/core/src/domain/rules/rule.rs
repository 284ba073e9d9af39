//! A rule: when it runs ([`Moment`]), what it looks at ([`Condition`]s,
//! all or any), what it does ([`Action`]s in order) and whether the rules
//! after it still run.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::condition::{Field, Op};
use super::{Action, Condition};
use crate::domain::{AgentId, DepartmentId, Source};

/// Most conditions a rule has.
pub const MAX_CONDITIONS: usize = 50;
/// Most actions a rule has.
pub const MAX_ACTIONS: usize = 20;

/// A rule of an instance.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct RuleId(pub u32);

impl RuleId {
    /// The kind's name in store keys and sequences.
    pub const KIND: &'static str = "RULE";
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// When a rule runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Moment {
    /// As a ticket is opened, before it is stored: from the `sources`
    /// listed (all when empty) and, when `mailbox` is given, only mail
    /// received at that address.
    Creation {
        #[serde(default)]
        sources: Vec<Source>,
        #[serde(default)]
        mailbox: Option<String>,
    },
    /// After the `events` listed (all when empty) happen to a ticket.
    Update {
        #[serde(default)]
        events: Vec<UpdateEvent>,
    },
    /// When the escalation tick finds the time conditions true.
    Time,
}

impl Moment {
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Moment::Creation { .. } => "creation",
            Moment::Update { .. } => "update",
            Moment::Time => "time",
        }
    }
}

/// What happened to a ticket that update rules may react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateEvent {
    UserMessage,
    AgentResponse,
    Note,
    StatusChanged,
    PriorityChanged,
    AssignmentChanged,
    CollaboratorAdded,
}

impl UpdateEvent {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            UpdateEvent::UserMessage => "user_message",
            UpdateEvent::AgentResponse => "agent_response",
            UpdateEvent::Note => "note",
            UpdateEvent::StatusChanged => "status_changed",
            UpdateEvent::PriorityChanged => "priority_changed",
            UpdateEvent::AssignmentChanged => "assignment_changed",
            UpdateEvent::CollaboratorAdded => "collaborator_added",
        }
    }
}

/// Whether every condition must hold, or one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matching {
    #[default]
    All,
    Any,
}

fn yes() -> bool {
    true
}

/// A rule as an administrator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(default)]
    pub id: RuleId,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Rules run by `order`, then by id.
    #[serde(default)]
    pub order: i32,
    pub moment: Moment,
    #[serde(default)]
    pub matching: Matching,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
    /// No rule after this one runs when this one fires.
    #[serde(default)]
    pub stop: bool,
}

/// A rule that cannot be saved; each has a stable [`code`](RuleError::code).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RuleError {
    #[error(
        "unknown field {0:?} (email, name, domain, organisation, subject, body, header:NAME, recipient, source, topic, department, status, priority, assignee, team, field:NAME or a time field)"
    )]
    BadField(String),
    #[error("invalid regular expression {pattern:?}: {message}")]
    BadRegex { pattern: String, message: String },
    #[error("operator {op:?} does not fit field {field}")]
    BadOperator { field: String, op: Op },
    #[error("bad value for {field}: {message}")]
    BadValue { field: String, message: String },
    #[error("a rule has 1 to {MAX_ACTIONS} actions")]
    NoActions,
    #[error("a rule has at most {MAX_CONDITIONS} conditions")]
    TooManyConditions,
    #[error("a {0} rule needs conditions")]
    NoConditions(&'static str),
    #[error(
        "a time rule needs a time condition (waiting_on_user, unanswered, unassigned, idle, age, due_in)"
    )]
    NoTimeCondition,
    #[error("action {action} does not fit a {moment} rule")]
    ActionMoment {
        action: &'static str,
        moment: &'static str,
    },
    #[error("action {action}: {message}")]
    BadAction {
        action: &'static str,
        message: String,
    },
    #[error("bad address: {0}")]
    BadAddress(String),
    #[error("bad mailbox: {0:?} is not an e-mail address")]
    BadMailbox(String),
}

impl RuleError {
    /// The stable code of the refusal.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::BadField(_) => "rule_bad_field",
            RuleError::BadRegex { .. } => "rule_bad_regex",
            RuleError::BadOperator { .. } => "rule_bad_operator",
            RuleError::BadValue { .. } => "rule_bad_value",
            RuleError::NoActions => "rule_no_actions",
            RuleError::TooManyConditions => "rule_too_many_conditions",
            RuleError::NoConditions(_) => "rule_no_conditions",
            RuleError::NoTimeCondition => "rule_no_time_condition",
            RuleError::ActionMoment { .. } => "rule_action_moment",
            RuleError::BadAction { .. } => "rule_bad_action",
            RuleError::BadAddress(_) => "rule_bad_address",
            RuleError::BadMailbox(_) => "rule_bad_mailbox",
        }
    }

    /// The field of the rule the refusal is about.
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            RuleError::NoActions
            | RuleError::ActionMoment { .. }
            | RuleError::BadAction { .. }
            | RuleError::BadAddress(_) => "actions",
            RuleError::BadMailbox(_) => "moment",
            _ => "conditions",
        }
    }
}

impl Rule {
    /// The department a ticket is in when the rule fires on it, as far as
    /// the rule fixes it: its last `set_department`, else a `department
    /// equals` condition it needs (matching all, or its only condition).
    #[must_use]
    pub fn department(&self) -> Option<DepartmentId> {
        let set = self.actions.iter().rev().find_map(|a| match a {
            Action::SetDepartment { department } => Some(*department),
            _ => None,
        });
        let needs_all = self.matching == Matching::All || self.conditions.len() == 1;
        set.or_else(|| {
            self.conditions
                .iter()
                .filter(|_| needs_all)
                .filter(|c| c.field == Field::Department && c.op == Op::Equals)
                .find_map(|c| c.value.trim().parse().ok().map(DepartmentId))
        })
    }

    /// The agents the rule assigns tickets to.
    pub fn assigned_agents(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.actions.iter().filter_map(|a| match a {
            Action::AssignAgent { agent } => Some(*agent),
            _ => None,
        })
    }

    /// The rule's own rules: conditions that compile, actions that fit the
    /// moment, a time rule with a time condition. References to the
    /// instance's objects (departments, agents, ...) are the services'.
    pub fn check(&self) -> Result<(), RuleError> {
        self.compile_conditions().map(|_| ())
    }

    pub(crate) fn compile_conditions(&self) -> Result<Vec<super::condition::Operand>, RuleError> {
        if self.actions.is_empty() || self.actions.len() > MAX_ACTIONS {
            return Err(RuleError::NoActions);
        }
        if self.conditions.len() > MAX_CONDITIONS {
            return Err(RuleError::TooManyConditions);
        }
        if let Moment::Creation {
            mailbox: Some(address),
            ..
        } = &self.moment
            && !address.contains('@')
        {
            return Err(RuleError::BadMailbox(address.clone()));
        }
        match &self.moment {
            Moment::Time if self.conditions.is_empty() => {
                return Err(RuleError::NoConditions("time"));
            }
            Moment::Time if !self.conditions.iter().any(|c| c.field.is_time()) => {
                return Err(RuleError::NoTimeCondition);
            }
            _ if self.matching == Matching::Any && self.conditions.is_empty() => {
                return Err(RuleError::NoConditions(self.moment.name()));
            }
            _ => {}
        }
        for action in &self.actions {
            action.check(&self.moment)?;
        }
        self.conditions.iter().map(Condition::compile).collect()
    }
}
