//! Rules as an admin kind: their changes, their checks (the rule's own,
//! [`Rule::check`], with its stable code in brackets; then every object an
//! action names must exist: `[rule_unknown_department]`, ...; an agent
//! an action assigns to must work in the department the rule puts the
//! ticket in: `[rule_agent_no_access]`). Listing, reading, creating, updating and deleting are
//! [`objects`](super::objects); lists come by id, and rules run by
//! `order`, then id.

use serde::Deserialize;

use super::objects::{Deletable, Object, set};
use super::{records, validate};
use crate::domain::rules::{Action, Condition, Matching, Moment, Rule, RuleError, RuleId};
use crate::domain::{
    Agent, AgentId, CannedId, DepartmentId, PriorityId, SlaPlanId, StatusId, TeamId, TopicId,
};
use crate::services::rules::apply::works_in;
use crate::services::rules::sweep;
use crate::services::tickets::config;
use crate::services::{Ctx, ServiceError};
use crate::store::WriteOp;

/// Changes to a rule made from `version`; absent fields stay. Conditions
/// and actions are replaced whole.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub order: Option<i32>,
    #[serde(default)]
    pub moment: Option<Moment>,
    #[serde(default)]
    pub matching: Option<Matching>,
    #[serde(default)]
    pub conditions: Option<Vec<Condition>>,
    #[serde(default)]
    pub actions: Option<Vec<Action>>,
    #[serde(default)]
    pub stop: Option<bool>,
}

/// The `invalid_field` error for a rule that breaks one of its rules: a
/// message that ends with the stable code in brackets (`[rule_bad_regex]`).
#[must_use]
pub fn refusal(error: &RuleError) -> ServiceError {
    validate::invalid(error.field(), format!("{error} [{}]", error.code()))
}

/// What an action names, as `(kind, id, what, code)`.
fn reference(action: &Action) -> Option<(&'static str, u32, &'static str, &'static str)> {
    Some(match action {
        Action::SetDepartment { department } => (
            DepartmentId::KIND,
            department.0,
            "department",
            "rule_unknown_department",
        ),
        Action::SetTopic { topic } => (TopicId::KIND, topic.0, "help topic", "rule_unknown_topic"),
        Action::SetPriority { priority } => (
            PriorityId::KIND,
            priority.0,
            "priority",
            "rule_unknown_priority",
        ),
        Action::SetSla { sla } => (SlaPlanId::KIND, sla.0, "SLA plan", "rule_unknown_sla"),
        Action::SetStatus { status } => (StatusId::KIND, status.0, "status", "rule_unknown_status"),
        Action::AssignAgent { agent } => (AgentId::KIND, agent.0, "agent", "rule_unknown_agent"),
        Action::AssignTeam { team } => (TeamId::KIND, team.0, "team", "rule_unknown_team"),
        Action::SendCanned { canned } => (
            CannedId::KIND,
            canned.0,
            "canned response",
            "rule_unknown_canned",
        ),
        _ => return None,
    })
}

impl Object for Rule {
    type Changes = RuleChanges;

    fn base_version(changes: &RuleChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: RuleChanges) {
        set(&mut self.name, changes.name);
        set(&mut self.enabled, changes.enabled);
        set(&mut self.order, changes.order);
        set(&mut self.moment, changes.moment);
        set(&mut self.matching, changes.matching);
        set(&mut self.conditions, changes.conditions);
        set(&mut self.actions, changes.actions);
        set(&mut self.stop, changes.stop);
    }

    /// The rule's own checks and the objects its actions name. (The texts
    /// of a mail it sends are templates the mail side checks before
    /// saving: `taquilla_mail::rules`.)
    async fn check(&mut self, ctx: &Ctx<'_>, _own: Option<RuleId>) -> Result<(), ServiceError> {
        Rule::check(self).map_err(|e| refusal(&e))?;
        for (kind, id, what, code) in self.actions.iter().filter_map(reference) {
            if !records::exists(ctx, kind, id).await? {
                return Err(validate::invalid(
                    "actions",
                    format!("{what} {id} does not exist [{code}]"),
                ));
            }
        }
        // An agent is given only tickets of a department it works in.
        if let Some(department) = self.department() {
            for id in self.assigned_agents() {
                let agent: Option<Agent> = config::object(ctx, AgentId::KIND, id.0).await?;
                if agent.is_some_and(|a| !works_in(&a, department)) {
                    return Err(validate::invalid(
                        "actions",
                        format!(
                            "agent {id} has no access to department {department}, where the rule puts the ticket [rule_agent_no_access]"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Saving an enabled time rule (re)starts the sweep that gives open
    /// tickets their next moment under it ([`sweep`]).
    async fn linked_writes(
        ctx: &Ctx<'_>,
        before: Option<&Self>,
        after: Option<&Self>,
    ) -> Result<Vec<WriteOp>, ServiceError> {
        Ok(if sweep::needed(before, after) {
            vec![sweep::mark_op(ctx)?]
        } else {
            Vec::new()
        })
    }
}

impl Deletable for Rule {
    /// Nothing refers to a rule (the thread names the rules that fired by
    /// id and name, as they were).
    async fn used_by(_ctx: &Ctx<'_>, _id: RuleId) -> Result<Option<String>, ServiceError> {
        Ok(None)
    }
}
