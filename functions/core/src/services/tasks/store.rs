//! The one place a [`Task`] becomes an item and back, with the keys of the
//! task queues it is in, and where optimistic concurrency is enforced.

use crate::domain::{Entry, Task, TaskId};
use crate::keys::{self, task_queue};
use crate::services::{Ctx, ServiceError};
use crate::store::{Condition, Item, StoreError, WriteOp, codec};

/// Attribute holding a task's optimistic version.
const VERSION_ATTR: &str = "version";

/// The task item: the record plus the index keys of its queues:
///
/// - `gsi1`: its department's tasks in its state, by activity;
/// - `gsi2`: its assignee's tasks in its state, only when assigned;
/// - `gsi3`: its ticket's tasks, by creation, only when linked;
/// - `gsi4`: its team's tasks in its state, only when it has a team.
pub(crate) fn task_item(ctx: &Ctx<'_>, task: &Task) -> Result<Item, ServiceError> {
    let instance = ctx.instance;
    let mut item = codec::encode(keys::task(instance, &task.id), task)?;
    let activity = task_queue::at(task.updated_at, &task.id);
    item.set(
        "gsi1pk",
        task_queue::department(instance, task.department, task.state),
    );
    item.set("gsi1sk", activity.clone());
    if let Some(agent) = task.assignee {
        item.set("gsi2pk", task_queue::assignee(instance, agent, task.state));
        item.set("gsi2sk", activity.clone());
    }
    if let Some(ticket) = &task.ticket {
        item.set("gsi3pk", task_queue::ticket(instance, ticket));
        item.set("gsi3sk", task_queue::at(task.created_at, &task.id));
    }
    if let Some(team) = task.team {
        item.set("gsi4pk", task_queue::team(instance, team, task.state));
        item.set("gsi4sk", activity);
    }
    Ok(item)
}

/// The task `id` of the context's instance, or `NotFound`. No permission
/// check: callers check visibility (see `access`).
pub(crate) async fn load(ctx: &Ctx<'_>, id: &TaskId) -> Result<Task, ServiceError> {
    let item = ctx
        .store
        .get(&keys::task(ctx.instance, id))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("task {id}")))?;
    Ok(codec::decode(&item)?)
}

/// The task, refused with `Conflict` unless it is at `expected` (when given).
pub(crate) fn at_version(task: Task, expected: Option<i64>) -> Result<Task, ServiceError> {
    match expected {
        Some(expected) if expected != task.version => Err(stale(&task.id, expected)),
        _ => Ok(task),
    }
}

fn stale(id: &TaskId, version: i64) -> ServiceError {
    ServiceError::Conflict(format!(
        "task {id} was changed by someone else (version {version} is stale)"
    ))
}

/// The operation creating a new task (fails if its id exists).
pub(crate) fn create_op(ctx: &Ctx<'_>, task: &Task) -> Result<WriteOp, ServiceError> {
    Ok(WriteOp::Put {
        item: task_item(ctx, task)?,
        condition: Some(Condition::Absent),
    })
}

/// The operation adding `entry` to the thread of `task`.
pub(crate) fn entry_op(ctx: &Ctx<'_>, task: &Task, entry: &Entry) -> Result<WriteOp, ServiceError> {
    let key = keys::task_entry(ctx.instance, &task.id, entry.created_at, &entry.id);
    Ok(WriteOp::Put {
        item: codec::encode(key, entry)?,
        condition: Some(Condition::Absent),
    })
}

/// Writes `task` as the successor of `old_version`, with `entries` (events,
/// a note), in one transaction on condition that the stored version is
/// still `old_version`. Returns the task as stored, with its new version.
/// A lost race (or a task deleted meanwhile) is `Conflict`.
pub(crate) async fn save(
    ctx: &Ctx<'_>,
    old_version: i64,
    task: &Task,
    entries: &[Entry],
) -> Result<Task, ServiceError> {
    save_with(ctx, old_version, task, entries, Vec::new()).await
}

/// [`save`], with `extra` operations in the same transaction (the outbox
/// items the change owes).
pub(crate) async fn save_with(
    ctx: &Ctx<'_>,
    old_version: i64,
    task: &Task,
    entries: &[Entry],
    extra: Vec<WriteOp>,
) -> Result<Task, ServiceError> {
    let mut next = task.clone();
    next.version = old_version.saturating_add(1);
    let mut ops = Vec::with_capacity(entries.len() + extra.len() + 1);
    ops.push(WriteOp::Put {
        item: task_item(ctx, &next)?,
        condition: Some(Condition::equals(VERSION_ATTR, old_version)),
    });
    for entry in entries {
        ops.push(entry_op(ctx, &next, entry)?);
    }
    ops.extend(extra);
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(next),
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
            Err(stale(&task.id, old_version))
        }
        Err(other) => Err(other.into()),
    }
}

/// The operation deleting the task item at `version`.
pub(crate) fn delete_op(ctx: &Ctx<'_>, task: &Task) -> WriteOp {
    WriteOp::Delete {
        key: keys::task(ctx.instance, &task.id),
        condition: Some(Condition::equals(VERSION_ATTR, task.version)),
    }
}
