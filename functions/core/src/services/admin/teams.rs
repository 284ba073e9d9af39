//! Teams of agents (they may span departments). A team's members and each
//! member's `teams` list are written together, so both sides always agree.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::records::{self, Versioned};
use super::{access, ids, nullable, validate};
use crate::domain::{Agent, AgentId, AutoAssign, HelpTopic, Team, TeamId, TopicId};
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::WriteOp;

const KIND: &str = TeamId::KIND;

/// A team to create. The lead, if any, is a member.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewTeam {
    pub name: String,
    #[serde(default)]
    pub lead: Option<AgentId>,
    #[serde(default)]
    pub members: Vec<AgentId>,
}

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

/// Every team of the instance; any agent of the instance may list them.
pub async fn list(ctx: Ctx<'_>, actor: &Actor) -> Result<Vec<Versioned<Team>>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::list(&ctx, KIND).await
}

/// One team; any agent of the instance may read it.
pub async fn get(ctx: Ctx<'_>, actor: &Actor, id: TeamId) -> Result<Versioned<Team>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::load(&ctx, KIND, id.0, "team").await
}

/// Creates a team and adds it to its members (administrators only).
pub async fn create(
    ctx: Ctx<'_>,
    actor: &Actor,
    new: NewTeam,
) -> Result<Versioned<Team>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let mut team = Team {
        id: TeamId(0),
        name: new.name,
        lead: new.lead,
        members: new.members,
    };
    check(&ctx, &mut team, None).await?;
    team.id = TeamId(ids::next(ctx.store, ctx.instance, KIND).await?);
    let mut ops = vec![records::create_op(&ctx, KIND, team.id.0, &team)?];
    ops.extend(membership_ops(&ctx, team.id, &[], &team.members).await?);
    records::commit(&ctx, ops, "team", |_| None).await?;
    Ok(Versioned {
        record: team,
        version: 1,
    })
}

/// Applies `changes` if the team is still at `changes.version`; agents who
/// join or leave have their `teams` updated in the same transaction.
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: TeamId,
    changes: TeamChanges,
) -> Result<Versioned<Team>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("team {id}");
    let current: Versioned<Team> = records::load(&ctx, KIND, id.0, "team").await?;
    records::check_version(&what, current.version, changes.version)?;
    let mut team = current.record.clone();
    if let Some(name) = changes.name {
        team.name = name;
    }
    if let Some(lead) = changes.lead {
        team.lead = lead;
    }
    if let Some(members) = changes.members {
        team.members = members;
    }
    check(&ctx, &mut team, Some(id)).await?;
    let mut ops = vec![records::replace_op(
        &ctx,
        KIND,
        id.0,
        &team,
        current.version,
    )?];
    ops.extend(membership_ops(&ctx, id, &current.record.members, &team.members).await?);
    records::commit(&ctx, ops, &what, |_| None).await?;
    Ok(Versioned {
        record: team,
        version: current.version + 1,
    })
}

/// Deletes a team no help topic assigns to (else `Conflict`), taking it out
/// of its members' `teams`. Tickets keep the id of a team they were assigned.
pub async fn delete(ctx: Ctx<'_>, actor: &Actor, id: TeamId) -> Result<(), ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("team {id}");
    let current: Versioned<Team> = records::load(&ctx, KIND, id.0, "team").await?;
    let topics = records::list::<HelpTopic>(&ctx, TopicId::KIND).await?;
    if let Some(topic) = topics
        .iter()
        .find(|t| t.record.auto_assign == Some(AutoAssign::Team(id)))
    {
        return Err(ServiceError::Conflict(format!(
            "{what} is in use: help topic {:?} assigning to it",
            topic.record.name
        )));
    }
    let mut ops = vec![WriteOp::Delete {
        key: records::key(&ctx, KIND, id.0),
        condition: Some(records::if_at(current.version)),
    }];
    ops.extend(membership_ops(&ctx, id, &current.record.members, &[]).await?);
    records::commit(&ctx, ops, &what, |_| None).await
}

/// Rewrites the agents whose membership of `team` changes from `before` to
/// `after`, each only if unchanged since read.
async fn membership_ops(
    ctx: &Ctx<'_>,
    team: TeamId,
    before: &[AgentId],
    after: &[AgentId],
) -> Result<Vec<WriteOp>, ServiceError> {
    let before: BTreeSet<_> = before.iter().copied().collect();
    let after: BTreeSet<_> = after.iter().copied().collect();
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

/// Validates `team` (normalising name and members): unique name, members
/// exist, the lead is a member.
async fn check(ctx: &Ctx<'_>, team: &mut Team, own: Option<TeamId>) -> Result<(), ServiceError> {
    team.name = validate::name("name", &team.name)?;
    let existing = records::list::<Team>(ctx, KIND).await?;
    validate::unique_name(
        &team.name,
        own.map(|t| t.0),
        existing
            .iter()
            .map(|t| (t.record.id.0, t.record.name.as_str())),
    )?;
    if let Some(lead) = team.lead
        && !team.members.contains(&lead)
    {
        team.members.push(lead);
    }
    let mut seen = BTreeSet::new();
    team.members.retain(|m| seen.insert(*m));
    for member in &team.members {
        if !records::exists(ctx, AgentId::KIND, member.0).await? {
            let field = if Some(*member) == team.lead {
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
