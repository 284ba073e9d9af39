//! Creating, reading, changing, closing, reopening and deleting a task.
//!
//! Every change follows one shape: load the task the actor may see, hold
//! it to the version the caller read, check the permission in the task's
//! department, and save it with the event entry that records the change in
//! one transaction guarded by the version. A change that changes nothing
//! writes nothing and returns the task as it is.
//!
//! A creation and an assignment owe mail (the new-task alert, the
//! assignment alert): its outbox item (`outbox::task`) is written in the
//! same transaction as the change.

use std::collections::BTreeMap;

use super::access::load_visible;
use super::store;
use crate::domain::task::check_title;
use crate::domain::{
    Agent, AgentId, Author, Department, DepartmentId, Entry, Permission, Task, TaskId, TaskState,
    Team, TeamId, TicketId,
};
use crate::keys;
use crate::sanitize::Body;
use crate::services::outbox::task as task_mail;
use crate::services::tickets::actions::author_of;
use crate::services::tickets::config::object;
use crate::services::{Actor, Ctx, ServiceError, tickets};
use crate::store::{MAX_QUERY_LIMIT, MAX_TRANSACTION_OPS, Query, StoreError, Update, WriteOp};

/// Largest description as sent, in bytes.
const MAX_DESCRIPTION_BYTES: usize = 64 * 1024;

/// What a new task is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub description: Option<Body>,
    pub department: DepartmentId,
    /// Needs `task.assign`.
    pub assignee: Option<AgentId>,
    /// The team that works it (its agents see the task); needs `task.assign`.
    pub team: Option<TeamId>,
    pub due_at: Option<i64>,
    /// The ticket the task belongs to; the actor must see it.
    pub ticket: Option<TicketId>,
}

/// The fields to change (absent: leave) and the version they were made from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskChanges {
    pub version: i64,
    /// Needs `task.edit`.
    pub title: Option<String>,
    /// Needs `task.edit`.
    pub description: Option<Body>,
    /// Needs `task.edit`; `Some(None)` clears the due date.
    pub due_at: Option<Option<i64>>,
    /// Needs `task.assign`; `Some(None)` releases the task.
    pub assignee: Option<Option<AgentId>>,
    /// Needs `task.assign`; `Some(None)` takes the task from its team.
    pub team: Option<Option<TeamId>>,
}

fn invalid(field: &str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// The description as sanitised HTML and plain text (both empty when none).
fn render_description(body: Option<&Body>) -> Result<(String, String), ServiceError> {
    let Some(body) = body else {
        return Ok((String::new(), String::new()));
    };
    if body.raw().len() > MAX_DESCRIPTION_BYTES {
        return Err(invalid("description", "at most 64 KiB"));
    }
    let (html, text) = body.render();
    if text.trim().is_empty() {
        Ok((String::new(), String::new()))
    } else {
        Ok((html, text))
    }
}

/// An event of a task's thread.
pub(crate) fn event(author: Author, name: &str, now: i64, data: BTreeMap<String, String>) -> Entry {
    crate::domain::change::event_entry(name, data, &author, now)
}

/// The agent `id`, if it exists and is active; `Invalid` naming `assignee`.
async fn active_agent(ctx: &Ctx<'_>, id: AgentId) -> Result<Agent, ServiceError> {
    match object::<Agent>(ctx, AgentId::KIND, id.0).await? {
        Some(agent) if agent.active => Ok(agent),
        _ => Err(invalid("assignee", "no active agent with this id")),
    }
}

/// The team `id`, if it exists in the instance; `Invalid` naming `team`.
async fn existing_team(ctx: &Ctx<'_>, id: TeamId) -> Result<Team, ServiceError> {
    object::<Team>(ctx, TeamId::KIND, id.0)
        .await?
        .ok_or_else(|| invalid("team", "there is no such team"))
}

/// Creates a task (needs `task.create` in its department, and
/// `task.assign` to give it an assignee or a team), with a `created` event
/// in its thread. A linked ticket must exist in the instance and be
/// visible to the actor; a team must exist in the instance.
pub async fn create(ctx: &Ctx<'_>, actor: &Actor, new: NewTask) -> Result<Task, ServiceError> {
    let title = check_title(&new.title).map_err(|m| invalid("title", m))?;
    let (description_html, description_text) = render_description(new.description.as_ref())?;
    actor.require(Permission::TaskCreate, new.department)?;
    if object::<Department>(ctx, DepartmentId::KIND, new.department.0)
        .await?
        .is_none()
    {
        return Err(invalid("department", "there is no such department"));
    }
    if new.assignee.is_some() || new.team.is_some() {
        actor.require(Permission::TaskAssign, new.department)?;
    }
    if let Some(agent) = new.assignee {
        active_agent(ctx, agent).await?;
    }
    if let Some(team) = new.team {
        existing_team(ctx, team).await?;
    }
    if let Some(ticket) = &new.ticket {
        tickets::get(ctx, actor, ticket)
            .await
            .map_err(|_| invalid("ticket", "no such ticket"))?;
    }
    let number = next_number(ctx).await?;
    let now = ctx.clock.now_ms();
    let author = author_of(actor);
    let task = Task {
        id: TaskId::generate(),
        number: Some(number),
        title,
        description_html,
        description_text,
        department: new.department,
        assignee: new.assignee,
        team: new.team,
        due_at: new.due_at,
        state: TaskState::Open,
        ticket: new.ticket,
        created_by: author.clone(),
        created_at: now,
        updated_at: now,
        closed_at: None,
        version: 1,
    };
    // The assignment a task is created with is recorded as later ones are.
    let given = [
        ("agent", task.assignee.map(|a| a.to_string())),
        ("team", task.team.map(|t| t.to_string())),
    ];
    let data = given
        .into_iter()
        .filter_map(|(kind, id)| Some((kind.to_owned(), id?)))
        .collect();
    let created = event(author, task_mail::event::CREATED, now, data);
    // The new-task alert goes out with the task, or not at all.
    let mut ops = vec![
        store::create_op(ctx, &task)?,
        store::entry_op(ctx, &task, &created)?,
    ];
    ops.extend(task_mail::task_event_ops(ctx, &task, &[created])?);
    ctx.store.transact(ops).await?;
    Ok(task)
}

/// The next task number of the instance (`SEQ#TASKNUM`, an atomic
/// counter, so no two tasks share one). A number is taken whether or not
/// its task is then written, so numbers may skip, as tickets' do.
async fn next_number(ctx: &Ctx<'_>) -> Result<u64, ServiceError> {
    let item = ctx
        .store
        .update(Update::new(keys::sequence(ctx.instance, "TASKNUM")).add(keys::SEQUENCE_ATTR, 1))
        .await?;
    item.get_i64(keys::SEQUENCE_ATTR)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| {
            StoreError::Corrupt("the task-number sequence is not a number".into()).into()
        })
}

/// The task, if `actor` may see it; `NotFound` otherwise.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: &TaskId) -> Result<Task, ServiceError> {
    load_visible(ctx, actor, id).await
}

/// Changes the given fields at `changes.version`, all in one transaction
/// with one event per kind of change (`edited`; `assigned` or `released`
/// for the agent, with `agent`; for the team, with `team`). Every
/// permission is checked, and every id validated, before anything is
/// written.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
    changes: TaskChanges,
) -> Result<Task, ServiceError> {
    let title = changes
        .title
        .as_deref()
        .map(check_title)
        .transpose()
        .map_err(|m| invalid("title", m))?;
    let description = changes
        .description
        .as_ref()
        .map(|body| render_description(Some(body)))
        .transpose()?;
    let task = store::at_version(load_visible(ctx, actor, id).await?, Some(changes.version))?;
    if title.is_some() || description.is_some() || changes.due_at.is_some() {
        actor.require(Permission::TaskEdit, task.department)?;
    }
    if changes.assignee.is_some() || changes.team.is_some() {
        actor.require(Permission::TaskAssign, task.department)?;
    }
    if let Some(Some(agent)) = changes.assignee {
        active_agent(ctx, agent).await?;
    }
    if let Some(Some(team)) = changes.team {
        existing_team(ctx, team).await?;
    }
    let now = ctx.clock.now_ms();
    let author = author_of(actor);
    let mut next = task.clone();
    let mut edited = BTreeMap::new();
    if let Some(title) = title.filter(|t| *t != task.title) {
        edited.insert("title".to_owned(), title.clone());
        next.title = title;
    }
    if let Some((html, text)) = description.filter(|(html, _)| *html != task.description_html) {
        edited.insert("description".to_owned(), "changed".to_owned());
        next.description_html = html;
        next.description_text = text;
    }
    if let Some(due) = changes.due_at.filter(|due| *due != task.due_at) {
        let shown = due.map_or_else(|| "none".to_owned(), |d| d.to_string());
        edited.insert("due_at".to_owned(), shown);
        next.due_at = due;
    }
    let mut events = Vec::new();
    if !edited.is_empty() {
        events.push(event(author.clone(), "edited", now, edited));
    }
    if let Some(assignee) = changes.assignee.filter(|a| *a != task.assignee) {
        next.assignee = assignee;
        events.push(assignment_event(
            &author,
            "agent",
            assignee,
            task.assignee,
            now,
        ));
    }
    if let Some(team) = changes.team.filter(|t| *t != task.team) {
        next.team = team;
        events.push(assignment_event(&author, "team", team, task.team, now));
    }
    if events.is_empty() {
        return Ok(task);
    }
    next.updated_at = now.max(task.updated_at);
    // The assignment alerts are written with the change that owes them.
    let mail = task_mail::task_event_ops(ctx, &next, &events)?;
    store::save_with(ctx, task.version, &next, &events, mail).await
}

/// The event of a new assignment of `kind` (`agent` or `team`): `assigned`
/// with the new id, or `released` with the old one.
fn assignment_event<T: ToString>(
    author: &Author,
    kind: &str,
    to: Option<T>,
    from: Option<T>,
    now: i64,
) -> Entry {
    match (to, from) {
        (Some(to), _) => event(
            author.clone(),
            task_mail::event::ASSIGNED,
            now,
            BTreeMap::from([(kind.to_owned(), to.to_string())]),
        ),
        (None, from) => event(
            author.clone(),
            "released",
            now,
            from.map(|from| BTreeMap::from([(kind.to_owned(), from.to_string())]))
                .unwrap_or_default(),
        ),
    }
}

/// Sets the task's state (needs `task.close`), with a `closed` or
/// `reopened` event; nothing is written if it is already in `state`.
async fn set_state(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
    state: TaskState,
    version: Option<i64>,
) -> Result<Task, ServiceError> {
    let task = store::at_version(load_visible(ctx, actor, id).await?, version)?;
    actor.require(Permission::TaskClose, task.department)?;
    if task.state == state {
        return Ok(task);
    }
    let now = ctx.clock.now_ms();
    let mut next = task.clone();
    next.state = state;
    next.updated_at = now.max(task.updated_at);
    next.closed_at = (state == TaskState::Closed).then_some(now);
    let name = match state {
        TaskState::Closed => "closed",
        TaskState::Open => "reopened",
    };
    let entry = event(author_of(actor), name, now, BTreeMap::new());
    store::save(ctx, task.version, &next, &[entry]).await
}

/// Closes the task (needs `task.close`), at `version` when given.
pub async fn close(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
    version: Option<i64>,
) -> Result<Task, ServiceError> {
    set_state(ctx, actor, id, TaskState::Closed, version).await
}

/// Reopens the task (needs `task.close`), at `version` when given.
pub async fn reopen(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
    version: Option<i64>,
) -> Result<Task, ServiceError> {
    set_state(ctx, actor, id, TaskState::Open, version).await
}

/// Deletes the task and its thread for good (needs `task.delete`).
///
/// The task item (on condition of its version) and the first entries go in
/// one transaction: once it lands the task is gone for every reader, since
/// every read starts from the task item. The remaining entries follow in
/// transactions of at most [`MAX_TRANSACTION_OPS`] deletes; an interruption
/// leaves only unreachable entries under an id never reused.
pub async fn delete(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
    version: Option<i64>,
) -> Result<(), ServiceError> {
    let task = store::at_version(load_visible(ctx, actor, id).await?, version)?;
    actor.require(Permission::TaskDelete, task.department)?;
    let mut entry_keys = Vec::new();
    let mut query = Query::table(keys::task_pk(ctx.instance, &task.id))
        .sk(keys::entries())
        .limit(MAX_QUERY_LIMIT);
    loop {
        let page = ctx.store.query(&query).await?;
        entry_keys.extend(page.items.iter().map(crate::store::Item::key));
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    let deletes = entry_keys.into_iter().map(|key| WriteOp::Delete {
        key,
        condition: None,
    });
    let mut ops = vec![store::delete_op(ctx, &task)];
    let mut first = true;
    for op in deletes {
        ops.push(op);
        if ops.len() == MAX_TRANSACTION_OPS {
            commit_delete(ctx, &task, std::mem::take(&mut ops), first).await?;
            first = false;
        }
    }
    if !ops.is_empty() {
        commit_delete(ctx, &task, ops, first).await?;
    }
    Ok(())
}

/// One transaction of a delete; the first one's failure on the task's
/// version condition is a `Conflict`.
async fn commit_delete(
    ctx: &Ctx<'_>,
    task: &Task,
    ops: Vec<WriteOp>,
    first: bool,
) -> Result<(), ServiceError> {
    match ctx.store.transact(ops).await {
        Err(crate::store::StoreError::TransactionCanceled { failed })
            if first && failed.contains(&0) =>
        {
            Err(ServiceError::Conflict(format!(
                "task {} was changed by someone else (version {} is stale)",
                task.id, task.version
            )))
        }
        other => Ok(other?),
    }
}
