//! Round-robin auto-assignment: a new ticket of a department whose
//! [`AssignmentMode`] is `RoundRobin` goes to the next available member.
//!
//! The members are the active agents not on vacation whose primary
//! department is the ticket's or whose extra access includes it, ordered
//! by id. "Next" is a per-department counter (`keys::sequence(instance,
//! "RR-{department}")`) bumped with one atomic `ADD 1`: the n-th ticket
//! goes to member `(n - 1) mod members`. The counter is only bumped when
//! there is a member; a ticket whose write then fails leaves a gap in the
//! turn, which is harmless (the next ticket simply goes to the one after).

use super::config;
use crate::domain::change::{self, Change};
use crate::domain::{
    Agent, AgentId, AssignmentMode, Author, Department, DepartmentId, Entry, Ticket,
};
use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{StoreError, Update};

/// The author round-robin events are recorded under.
pub const AUTHOR: &str = "round robin";

/// The sequence kind of a department's round-robin counter.
#[must_use]
pub fn counter_kind(department: DepartmentId) -> String {
    format!("RR-{department}")
}

/// Whether `agent` can take a new ticket of `department` in turn.
fn available(agent: &Agent, department: DepartmentId) -> bool {
    agent.active
        && !agent.on_vacation
        && (agent.department == department || agent.access.contains_key(&department))
}

/// The members of `department` taking turns, ordered by id.
async fn members(ctx: &Ctx<'_>, department: DepartmentId) -> Result<Vec<AgentId>, ServiceError> {
    let agents: Vec<Agent> = config::all(ctx, AgentId::KIND).await?;
    let mut ids: Vec<AgentId> = agents
        .iter()
        .filter(|a| available(a, department))
        .map(|a| a.id)
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The agent whose turn it is in `department`, if it assigns round-robin
/// and has an available member; takes the turn (bumps the counter).
pub(crate) async fn next_agent(
    ctx: &Ctx<'_>,
    department: &Department,
) -> Result<Option<AgentId>, ServiceError> {
    if department.assignment != AssignmentMode::RoundRobin {
        return Ok(None);
    }
    let members = members(ctx, department.id).await?;
    if members.is_empty() {
        return Ok(None);
    }
    let kind = counter_kind(department.id);
    let item = ctx
        .store
        .update(Update::new(keys::sequence(ctx.instance, &kind)).add(keys::SEQUENCE_ATTR, 1))
        .await?;
    let turn = item.get_i64(keys::SEQUENCE_ATTR).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "the {kind} sequence of {} holds no number",
            ctx.instance
        ))
    })?;
    let count = i64::try_from(members.len()).map_err(|_| {
        StoreError::Corrupt(format!(
            "{} members in department {}",
            members.len(),
            department.id
        ))
    })?;
    let index = usize::try_from((turn - 1).rem_euclid(count)).map_err(|_| {
        StoreError::Corrupt(format!(
            "round-robin turn {turn} of department {}",
            department.id
        ))
    })?;
    Ok(members.get(index).copied())
}

/// Gives a new, unassigned `ticket` (no agent, no team) of `department` to
/// the member whose turn it is; the `assigned` event recording it, or
/// `None` when the department assigns manually, has no available member,
/// or the ticket is already assigned.
pub(crate) async fn assign_new(
    ctx: &Ctx<'_>,
    department: &Department,
    ticket: &mut Ticket,
) -> Result<Option<Entry>, ServiceError> {
    if ticket.assignee.is_some() || ticket.team.is_some() {
        return Ok(None);
    }
    let Some(agent) = next_agent(ctx, department).await? else {
        return Ok(None);
    };
    let by = Author::System(AUTHOR.to_owned());
    let now = ticket.created_at;
    Ok(change::apply(ticket, Change::AssignAgent(agent), &by, now))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::RoleId;

    fn agent(department: u32, access: &[u32]) -> Agent {
        Agent {
            id: AgentId(7),
            name: "A".into(),
            email: "a@x.org".into(),
            password_hash: String::new(),
            admin: false,
            department: DepartmentId(department),
            role: RoleId(1),
            access: access
                .iter()
                .map(|d| (DepartmentId(*d), RoleId(2)))
                .collect::<BTreeMap<_, _>>(),
            teams: Vec::new(),
            active: true,
            on_vacation: false,
        }
    }

    #[test]
    fn members_are_active_present_agents_of_the_department() {
        let d = DepartmentId(2);
        assert!(available(&agent(2, &[]), d));
        assert!(available(&agent(1, &[2]), d));
        assert!(!available(&agent(1, &[3]), d));
        let mut away = agent(2, &[]);
        away.on_vacation = true;
        assert!(!available(&away, d));
        let mut gone = agent(2, &[]);
        gone.active = false;
        assert!(!available(&gone, d));
    }
}
