//! Departments: their changes, their rules (an e-mail, a parent without
//! cycles, an existing manager) and what stops their deletion. Listing,
//! reading, creating, updating and deleting are [`objects`](super::objects).

use serde::Deserialize;

use super::objects::{Deletable, Object, set};
use super::{nullable, records, validate};
use crate::domain::outbound_settings::OutboundSettings;
use crate::domain::{
    Agent, AgentId, AssignmentMode, Department, DepartmentId, HelpTopic, State, TopicId,
};
use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{Index, Query};

/// Changes to a department made from `version`; absent fields stay,
/// `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DepartmentChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub parent: Option<Option<DepartmentId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub manager: Option<Option<AgentId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sla: Option<Option<u32>>,
    #[serde(default)]
    pub members_only: Option<bool>,
    #[serde(default)]
    pub assignment: Option<AssignmentMode>,
    /// The department's own outbound policy; `null` goes back to the instance's.
    #[serde(default, deserialize_with = "nullable")]
    pub outbound: Option<Option<OutboundSettings>>,
}

impl Object for Department {
    type Changes = DepartmentChanges;

    fn base_version(changes: &DepartmentChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: DepartmentChanges) {
        set(&mut self.name, changes.name);
        set(&mut self.email, changes.email);
        set(&mut self.parent, changes.parent);
        set(&mut self.manager, changes.manager);
        set(&mut self.sla, changes.sla);
        set(&mut self.members_only, changes.members_only);
        set(&mut self.assignment, changes.assignment);
        set(&mut self.outbound, changes.outbound);
    }

    /// A well-formed e-mail (lower-cased), an existing parent that makes no
    /// cycle, an existing SLA plan, an existing manager.
    async fn check(
        &mut self,
        ctx: &Ctx<'_>,
        own: Option<DepartmentId>,
    ) -> Result<(), ServiceError> {
        if let Some(email) = &self.email {
            self.email = Some(validate::email("email", email)?);
        }
        if let Some(parent) = self.parent {
            let existing = records::list::<Department>(ctx, DepartmentId::KIND).await?;
            validate::parent("parent", own.map(|d| d.0), parent.0, |at| {
                existing
                    .iter()
                    .find(|d| d.record.id.0 == at)
                    .map(|d| d.record.parent.map(|p| p.0))
            })?;
        }
        super::sla_plans::require_plan(ctx, self.sla).await?;
        if let Some(manager) = self.manager
            && !records::exists(ctx, AgentId::KIND, manager.0).await?
        {
            return Err(validate::invalid(
                "manager",
                format!("agent {manager} does not exist"),
            ));
        }
        Ok(())
    }
}

impl Deletable for Department {
    /// Tickets in any state, an agent with access, a help topic, a
    /// sub-department.
    async fn used_by(ctx: &Ctx<'_>, id: DepartmentId) -> Result<Option<String>, ServiceError> {
        for state in [State::Open, State::Closed, State::Archived, State::Deleted] {
            let query = Query::index(
                Index::Gsi1,
                keys::queue::department(ctx.instance, id, state),
            )
            .limit(1);
            if !ctx.store.query(&query).await?.items.is_empty() {
                return Ok(Some(format!("a {} ticket of it", state.as_str())));
            }
        }
        let agents = records::list::<Agent>(ctx, AgentId::KIND).await?;
        if let Some(agent) = agents
            .iter()
            .find(|a| a.record.departments().any(|d| d == id))
        {
            return Ok(Some(format!("agent {} of it", agent.record.email)));
        }
        let topics = records::list::<HelpTopic>(ctx, TopicId::KIND).await?;
        if let Some(topic) = topics.iter().find(|t| t.record.department == id) {
            return Ok(Some(format!("help topic {:?} of it", topic.record.name)));
        }
        let departments = records::list::<Department>(ctx, DepartmentId::KIND).await?;
        Ok(departments
            .iter()
            .find(|d| d.record.parent == Some(id))
            .map(|child| format!("sub-department {:?} of it", child.record.name)))
    }
}
