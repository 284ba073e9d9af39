//! Teams of agents (they may span departments). A team's members and each
//! member's `teams` list are written together ([`Object::linked_writes`]),
//! so both sides always agree. Listing, reading, creating, updating and
//! deleting are [`objects`](super::objects).

use std::collections::BTreeSet;

use serde::Deserialize;

use super::objects::{Deletable, Object, set};
use super::records::{self, Versioned};
use super::{nullable, validate};
use crate::domain::{Agent, AgentId, AutoAssign, HelpTopic, Team, TeamId, TopicId};
use crate::services::{Ctx, ServiceError};
use crate::store::WriteOp;

/// Changes to a team made from `version`; absent fields stay, a `null` lead
/// leaves the team without one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TeamChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub lead: Option<Option<AgentId>>,
    #[serde(default)]
    pub members: Option<Vec<AgentId>>,
}

impl Object for Team {
    type Changes = TeamChanges;

    fn base_version(changes: &TeamChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: TeamChanges) {
        set(&mut self.name, changes.name);
        set(&mut self.lead, changes.lead);
        set(&mut self.members, changes.members);
    }

    /// The lead is a member; members are listed once and exist.
    async fn check(&mut self, ctx: &Ctx<'_>, _own: Option<TeamId>) -> Result<(), ServiceError> {
        if let Some(lead) = self.lead
            && !self.members.contains(&lead)
        {
            self.members.push(lead);
        }
        let mut seen = BTreeSet::new();
        self.members.retain(|m| seen.insert(*m));
        for member in &self.members {
            if !records::exists(ctx, AgentId::KIND, member.0).await? {
                let field = if Some(*member) == self.lead {
                    "lead"
                } else {
                    "members"
                };
                return Err(validate::invalid(
                    field,
                    format!("agent {member} does not exist"),
                ));
            }
        }
        Ok(())
    }

    /// Rewrites the agents who join or leave the team, each only if
    /// unchanged since read.
    async fn linked_writes(
        ctx: &Ctx<'_>,
        before: Option<&Team>,
        after: Option<&Team>,
    ) -> Result<Vec<WriteOp>, ServiceError> {
        let Some(team) = after.or(before).map(|t| t.id) else {
            return Ok(Vec::new());
        };
        let members = |t: Option<&Team>| -> BTreeSet<AgentId> {
            t.map(|t| t.members.iter().copied().collect())
                .unwrap_or_default()
        };
        let (before, after) = (members(before), members(after));
        let mut ops = Vec::new();
        for id in before.symmetric_difference(&after) {
            let mut agent: Versioned<Agent> =
                match records::load(ctx, AgentId::KIND, id.0, "agent").await {
                    Ok(agent) => agent,
                    // A member that no longer exists has nothing to update.
                    Err(ServiceError::NotFound(_)) if !after.contains(id) => continue,
                    Err(e) => return Err(e),
                };
            agent.record.teams.retain(|t| *t != team);
            if after.contains(id) {
                agent.record.teams.push(team);
            }
            ops.push(records::replace_op(
                ctx,
                AgentId::KIND,
                id.0,
                &agent.record,
                agent.version,
            )?);
        }
        Ok(ops)
    }
}

impl Deletable for Team {
    /// A help topic assigning to the team. Tickets keep the id of a team
    /// they were assigned.
    async fn used_by(ctx: &Ctx<'_>, id: TeamId) -> Result<Option<String>, ServiceError> {
        let topics = records::list::<HelpTopic>(ctx, TopicId::KIND).await?;
        Ok(topics
            .iter()
            .find(|t| t.record.auto_assign == Some(AutoAssign::Team(id)))
            .map(|topic| format!("help topic {:?} assigning to it", topic.record.name)))
    }
}
