//! Mail about tasks: the new-task alert and the assignment alerts, owed by
//! the event entries `tasks::write` records (`created`, `assigned`).
//!
//! The item names the task and the event; the dispatcher loads the
//! [`TaskSubject`] and writes to the agents the instance's (or the task's
//! department's) `new_task` and `task_assigned` alert targets name. What
//! became of each mail goes into the task's thread, as for tickets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{About, SYSTEM_AUTHOR, put_op};
use crate::domain::{
    Agent, AgentId, Author, Department, DepartmentId, Entry, EntryId, Instance, Task, TaskId, Team,
    TeamId,
};
use crate::keys;
use crate::services::tickets::config;
use crate::services::{Ctx, ServiceError, directory, tasks, tickets};
use crate::store::{Condition, WriteOp, codec};

/// Names of the task events worth a mail (as `tasks::write` records them).
pub mod event {
    /// A task was created (`data`: `agent`, `team` it was given, if any).
    pub const CREATED: &str = "created";
    /// A task was given to an agent (`data`: `agent`) or a team (`team`).
    pub const ASSIGNED: &str = "assigned";
}

/// Why mail about a task is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOccasion {
    /// A task was created: the new-task alert.
    TaskCreated,
    /// A task was assigned to an agent: the assignment alert to that agent.
    TaskAssignedAgent,
    /// A task was assigned to a team: the assignment alert to its members.
    TaskAssignedTeam,
}

/// Mail about a task: an event of its thread and why it is owed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskMail {
    pub task: TaskId,
    pub entry: EntryId,
    /// The entry's `created_at`, which its key holds.
    pub entry_at: i64,
    pub occasion: TaskOccasion,
}

/// The occasion of a task's event entry, if it is worth a mail. A
/// `released` event is not: nobody needs telling that nobody has it.
#[must_use]
pub(crate) fn occasion_of_task_event(entry: &Entry) -> Option<TaskOccasion> {
    match entry.event.as_deref()? {
        event::CREATED => Some(TaskOccasion::TaskCreated),
        event::ASSIGNED if entry.data.contains_key("agent") => {
            Some(TaskOccasion::TaskAssignedAgent)
        }
        event::ASSIGNED if entry.data.contains_key("team") => Some(TaskOccasion::TaskAssignedTeam),
        _ => None,
    }
}

/// The outbox items for the events of a task change, to write in its
/// transaction.
pub(crate) fn task_event_ops(
    ctx: &Ctx<'_>,
    task: &Task,
    events: &[Entry],
) -> Result<Vec<WriteOp>, ServiceError> {
    events
        .iter()
        .filter_map(|entry| Some((entry, occasion_of_task_event(entry)?)))
        .map(|(entry, occasion)| {
            put_op(
                ctx,
                About::Task(TaskMail {
                    task: task.id.clone(),
                    entry: entry.id.clone(),
                    entry_at: entry.created_at,
                    occasion,
                }),
            )
        })
        .collect()
}

/// Everything a dispatcher needs to write the mails about a task.
#[derive(Debug, Clone)]
pub struct TaskSubject {
    pub instance: Instance,
    pub task: Task,
    /// The event that owes the mail.
    pub entry: Entry,
    pub department: Option<Department>,
    /// The team the event assigned the task to, else the task's team.
    pub team: Option<Team>,
    /// The number of the ticket the task belongs to, if any.
    pub ticket_number: Option<String>,
    /// Every agent of the instance (alert recipients are chosen among them).
    pub agents: Vec<Agent>,
}

impl TaskSubject {
    /// The agent who caused the mail, if an agent did.
    #[must_use]
    pub fn actor(&self) -> Option<AgentId> {
        match &self.entry.author {
            Author::Agent(id) => Some(*id),
            _ => None,
        }
    }

    /// The agent the event assigned the task to, if it names one.
    #[must_use]
    pub fn assigned_agent(&self) -> Option<AgentId> {
        self.entry
            .data
            .get("agent")
            .and_then(|id| id.parse().ok())
            .map(AgentId)
    }

    /// The team the event assigned the task to, if it names one that exists.
    #[must_use]
    pub fn assigned_team(&self) -> Option<&Team> {
        self.entry.data.get("team")?;
        self.team.as_ref()
    }
}

/// Loads the [`TaskSubject`] of `item`; `NotFound` when its task or entry
/// is gone (a task deleted before its mail went out owes none).
pub async fn task_subject(ctx: &Ctx<'_>, item: &TaskMail) -> Result<TaskSubject, ServiceError> {
    let instance = directory::instance(ctx.store, ctx.instance).await?;
    let task = tasks::store::load(ctx, &item.task).await?;
    let key = keys::task_entry(ctx.instance, &item.task, item.entry_at, &item.entry);
    let entry: Entry = match ctx.store.get(&key).await? {
        Some(found) => codec::decode(&found)?,
        None => return Err(ServiceError::NotFound(format!("entry {}", item.entry))),
    };
    let department: Option<Department> =
        config::object(ctx, DepartmentId::KIND, task.department.0).await?;
    // The team the event names (an assignment), else the task's.
    let team_id = entry
        .data
        .get("team")
        .and_then(|id| id.parse().ok())
        .map(TeamId)
        .or(task.team);
    let team: Option<Team> = match team_id {
        Some(TeamId(id)) => config::object(ctx, TeamId::KIND, id).await?,
        None => None,
    };
    let ticket_number = match &task.ticket {
        Some(ticket) => match tickets::store::load(ctx, ticket).await {
            Ok(found) => Some(found.number),
            Err(ServiceError::NotFound(_)) => None,
            Err(other) => return Err(other),
        },
        None => None,
    };
    let agents: Vec<Agent> = config::all(ctx, AgentId::KIND).await?;
    Ok(TaskSubject {
        instance,
        task,
        entry,
        department,
        team,
        ticket_number,
        agents,
    })
}

/// Records in the thread of `task` what became of a mail (an event named
/// after one of [`super::delivery_event`]'s names). It touches only the
/// thread, not the task, so it never conflicts with agents' changes.
pub async fn record_task_delivery(
    ctx: &Ctx<'_>,
    task: &TaskId,
    name: &str,
    data: BTreeMap<String, String>,
) -> Result<(), ServiceError> {
    let entry = crate::domain::change::event_entry(
        name,
        data,
        &Author::System(SYSTEM_AUTHOR.to_owned()),
        ctx.clock.now_ms(),
    );
    let key = keys::task_entry(ctx.instance, task, entry.created_at, &entry.id);
    ctx.store
        .put(codec::encode(key, &entry)?, Some(Condition::Absent))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::change::event_entry;

    fn event(name: &str, data: &[(&str, &str)]) -> Entry {
        let data = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        event_entry(name, data, &Author::System("t".into()), 1)
    }

    #[test]
    fn creation_and_assignments_are_worth_a_mail_releases_are_not() {
        assert_eq!(
            occasion_of_task_event(&event(event::CREATED, &[])),
            Some(TaskOccasion::TaskCreated)
        );
        assert_eq!(
            occasion_of_task_event(&event(event::ASSIGNED, &[("agent", "3")])),
            Some(TaskOccasion::TaskAssignedAgent)
        );
        assert_eq!(
            occasion_of_task_event(&event(event::ASSIGNED, &[("team", "1")])),
            Some(TaskOccasion::TaskAssignedTeam)
        );
        assert_eq!(
            occasion_of_task_event(&event("released", &[("agent", "3")])),
            None
        );
        assert_eq!(occasion_of_task_event(&event("edited", &[])), None);
        assert_eq!(occasion_of_task_event(&event("closed", &[])), None);
    }
}
