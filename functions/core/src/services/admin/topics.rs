//! Help topics: their changes, their rules (everything a topic refers to
//! exists, its parents make no cycle) and what stops their deletion.
//! Listing, reading, creating, updating and deleting are
//! [`objects`](super::objects).

use serde::Deserialize;

use super::objects::{Deletable, Object, set};
use super::{nullable, records, validate};
use crate::domain::{
    AgentId, AutoAssign, DepartmentId, FormId, HelpTopic, PriorityId, TeamId, TopicId,
};
use crate::services::{Ctx, ServiceError};

/// Changes to a help topic made from `version`; absent fields stay, `null`
/// clears an optional one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TopicChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub department: Option<DepartmentId>,
    #[serde(default)]
    pub public: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub parent: Option<Option<TopicId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub priority: Option<Option<PriorityId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sla: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub auto_assign: Option<Option<AutoAssign>>,
    #[serde(default)]
    pub auto_response: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub number_format: Option<Option<String>>,
    #[serde(default)]
    pub forms: Option<Vec<FormId>>,
    #[serde(default)]
    pub default_collaborators: Option<Vec<String>>,
}

impl Object for HelpTopic {
    type Changes = TopicChanges;

    fn base_version(changes: &TopicChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: TopicChanges) {
        set(&mut self.name, changes.name);
        set(&mut self.department, changes.department);
        set(&mut self.public, changes.public);
        set(&mut self.parent, changes.parent);
        set(&mut self.priority, changes.priority);
        set(&mut self.sla, changes.sla);
        set(&mut self.auto_assign, changes.auto_assign);
        set(&mut self.auto_response, changes.auto_response);
        set(&mut self.number_format, changes.number_format);
        set(&mut self.forms, changes.forms);
        set(
            &mut self.default_collaborators,
            changes.default_collaborators,
        );
    }

    /// Every object the topic refers to exists; its parent chain has no
    /// cycle; collaborators are e-mail addresses (lower-cased); its forms
    /// exist and share no variable name with each other or its parents'.
    async fn check(&mut self, ctx: &Ctx<'_>, own: Option<TopicId>) -> Result<(), ServiceError> {
        if let Some(parent) = self.parent {
            let existing = records::list::<HelpTopic>(ctx, TopicId::KIND).await?;
            validate::parent("parent", own.map(|t| t.0), parent.0, |at| {
                existing
                    .iter()
                    .find(|t| t.record.id.0 == at)
                    .map(|t| t.record.parent.map(|p| p.0))
            })?;
        }
        if !records::exists(ctx, DepartmentId::KIND, self.department.0).await? {
            return Err(validate::invalid(
                "department",
                format!("department {} does not exist", self.department),
            ));
        }
        super::sla_plans::require_plan(ctx, self.sla).await?;
        if let Some(priority) = self.priority
            && !records::exists(ctx, PriorityId::KIND, priority.0).await?
        {
            return Err(validate::invalid(
                "priority",
                format!("priority {priority} does not exist"),
            ));
        }
        let assignee = match self.auto_assign {
            Some(AutoAssign::Agent(agent)) => Some((AgentId::KIND, agent.0, "agent")),
            Some(AutoAssign::Team(team)) => Some((TeamId::KIND, team.0, "team")),
            None => None,
        };
        if let Some((kind, id, what)) = assignee
            && !records::exists(ctx, kind, id).await?
        {
            return Err(validate::invalid(
                "auto_assign",
                format!("{what} {id} does not exist"),
            ));
        }
        if let Some(format) = &self.number_format {
            self.number_format = Some(validate::number_format("number_format", format)?);
        }
        for address in &mut self.default_collaborators {
            *address = validate::email("default_collaborators", address)?;
        }
        super::forms::check_topic(ctx, self).await
    }
}

impl Deletable for HelpTopic {
    /// A sub-topic. Tickets keep the id of the topic they were opened with.
    async fn used_by(ctx: &Ctx<'_>, id: TopicId) -> Result<Option<String>, ServiceError> {
        let topics = records::list::<HelpTopic>(ctx, TopicId::KIND).await?;
        Ok(topics
            .iter()
            .find(|t| t.record.parent == Some(id))
            .map(|child| format!("sub-topic {:?} of it", child.record.name)))
    }
}
