//! Who sees a task. A task an actor may not see is reported as not found,
//! so its existence is not revealed.

use super::store;
use crate::domain::{Permission, Task, TaskId};
use crate::services::{Actor, Ctx, ServiceError};

/// The permissions that make an API key a task integration.
const TASK_PERMISSIONS: [Permission; 5] = [
    Permission::TaskCreate,
    Permission::TaskEdit,
    Permission::TaskAssign,
    Permission::TaskClose,
    Permission::TaskDelete,
];

/// Whether `actor` may see `task`, as for tickets:
///
/// - an active agent with any role in the task's department, or to whom
///   (or to one of whose teams) it is assigned; administrators always;
/// - an API key with any task permission;
/// - users never (tasks are internal);
/// - the system always.
#[must_use]
pub(crate) fn can_see(actor: &Actor, task: &Task) -> bool {
    match actor {
        Actor::Agent(access) => {
            let agent = &access.agent;
            agent.active
                && (agent.admin
                    || agent.role_in(task.department).is_some()
                    || task.assignee == Some(agent.id)
                    || task.team.is_some_and(|team| agent.teams.contains(&team)))
        }
        Actor::ApiKey { permissions, .. } => {
            TASK_PERMISSIONS.iter().any(|p| permissions.contains(p))
        }
        Actor::User(_) => false,
        Actor::System(_) => true,
    }
}

/// The task, if it exists and `actor` may see it; `NotFound` otherwise.
pub(crate) async fn load_visible(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
) -> Result<Task, ServiceError> {
    let task = store::load(ctx, id).await?;
    if can_see(actor, &task) {
        Ok(task)
    } else {
        Err(ServiceError::NotFound(format!("task {id}")))
    }
}
