//! Task lists: served only by key-range queries on the task partitions of
//! the queue indexes (see [`crate::keys`]), never by a scan.
//!
//! The partition is chosen from the filter: a ticket (`gsi3`, by creation,
//! oldest first), else an assignee (`gsi2`), else a team (`gsi4`), else a
//! department (`gsi1`), all three by last activity, most recent first; an
//! agent with no filter gets its own open tasks. Filters the partition does
//! not serve (a department on a team list, ...) are applied while paging. The page's cursor is the store's cursor of that one
//! partition. Tasks the actor may not see are skipped while paging, so a
//! page may be short and still carry a cursor.

use super::access::can_see;
use crate::domain::{AgentId, DepartmentId, Task, TaskState, TeamId, TicketId};
use crate::keys::task_queue;
use crate::services::{Actor, Ctx, Page, ServiceError, tickets};
use crate::store::{Index, MAX_QUERY_LIMIT, Query, codec};

/// Which tasks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskFilter {
    pub department: Option<DepartmentId>,
    pub assignee: Option<AgentId>,
    /// Tasks given to this team.
    pub team: Option<TeamId>,
    /// Tasks of this ticket (which the actor must see), in any state
    /// unless `state` is given.
    pub ticket: Option<TicketId>,
    /// Defaults to open for department, assignee and team lists.
    pub state: Option<TaskState>,
    pub cursor: Option<String>,
    /// 1 to [`MAX_QUERY_LIMIT`].
    pub limit: u32,
}

/// The index query serving `filter`, or `Invalid` when nothing names a list.
async fn query_for(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &TaskFilter,
) -> Result<Query, ServiceError> {
    let state = filter.state.unwrap_or(TaskState::Open);
    let instance = ctx.instance;
    if let Some(ticket) = &filter.ticket {
        tickets::get(ctx, actor, ticket).await?;
        return Ok(Query::index(
            Index::Gsi3,
            task_queue::ticket(instance, ticket),
        ));
    }
    let assignee = filter
        .assignee
        .or(match (actor, filter.department, filter.team) {
            (Actor::Agent(access), None, None) => Some(access.agent.id),
            _ => None,
        });
    let query = match (assignee, filter.team, filter.department) {
        (Some(agent), _, _) => {
            Query::index(Index::Gsi2, task_queue::assignee(instance, agent, state))
        }
        (None, Some(team), _) => Query::index(Index::Gsi4, task_queue::team(instance, team, state)),
        (None, None, Some(department)) => Query::index(
            Index::Gsi1,
            task_queue::department(instance, department, state),
        ),
        (None, None, None) => {
            return Err(ServiceError::Invalid {
                field: "department".into(),
                message: "name a department, an assignee, a team or a ticket".into(),
            });
        }
    };
    Ok(query.descending())
}

/// One page of the tasks `filter` names that `actor` may see.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &TaskFilter,
) -> Result<Page<Task>, ServiceError> {
    let query = query_for(ctx, actor, filter)
        .await?
        .limit(filter.limit.clamp(1, MAX_QUERY_LIMIT))
        .after(filter.cursor.clone());
    let page = ctx.store.query(&query).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let task: Task = codec::decode(item)?;
        let in_state = filter.state.is_none_or(|state| task.state == state);
        // Filters the partition does not serve are applied here.
        let in_department = filter
            .department
            .is_none_or(|department| task.department == department);
        let in_team = filter.team.is_none_or(|team| task.team == Some(team));
        let by_assignee = filter
            .assignee
            .is_none_or(|agent| task.assignee == Some(agent));
        if in_state && in_department && in_team && by_assignee && can_see(actor, &task) {
            items.push(task);
        }
    }
    Ok(Page {
        items,
        cursor: page.cursor,
    })
}
