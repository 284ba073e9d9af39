//! A task's thread: internal notes (agents only) and the events of its
//! changes, oldest first.

use std::collections::BTreeMap;

use super::access::load_visible;
use super::store;
use crate::domain::{Author, Entry, EntryId, EntryKind, Task, TaskId};
use crate::keys;
use crate::sanitize::Body;
use crate::services::{Actor, Ctx, Page, ServiceError};
use crate::store::{MAX_QUERY_LIMIT, Query};

/// Attempts at saving a note when other changes keep winning the race.
const SAVE_ATTEMPTS: usize = 8;

/// Largest note as sent, in bytes.
const MAX_NOTE_BYTES: usize = 64 * 1024;

/// Adds an internal note to the task's thread. Only agents write notes,
/// on tasks they may see. The task's activity time moves with it, in the
/// same transaction guarded by its version; a lost race is retried on a
/// fresh read, so two notes at once both land.
pub async fn note(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
    body: &Body,
) -> Result<Task, ServiceError> {
    if body.raw().len() > MAX_NOTE_BYTES {
        return Err(invalid_body("at most 64 KiB"));
    }
    let (html, text) = body.render();
    if text.trim().is_empty() {
        return Err(invalid_body("empty"));
    }
    // Visibility first: a task the actor may not see is `NotFound`, for
    // anyone; `Forbidden` is for an integration that sees it.
    let mut task = load_visible(ctx, actor, id).await?;
    let Actor::Agent(access) = actor else {
        return Err(ServiceError::Forbidden("task notes are for agents".into()));
    };
    for _ in 0..SAVE_ATTEMPTS {
        let now = ctx.clock.now_ms();
        let entry = Entry {
            id: EntryId::generate(),
            kind: EntryKind::Note,
            author: Author::Agent(access.agent.id),
            body_html: html.clone(),
            body_text: text.clone(),
            attachments: Vec::new(),
            event: None,
            data: BTreeMap::new(),
            created_at: now,
        };
        let mut next = task.clone();
        next.updated_at = now.max(task.updated_at);
        match store::save(ctx, task.version, &next, &[entry]).await {
            Err(ServiceError::Conflict(_)) => task = load_visible(ctx, actor, id).await?,
            other => return other,
        }
    }
    Err(ServiceError::Conflict(format!(
        "task {id}: too many concurrent changes, try again"
    )))
}

fn invalid_body(message: &str) -> ServiceError {
    ServiceError::Invalid {
        field: "body".into(),
        message: message.into(),
    }
}

/// One page of the task's thread, oldest first.
pub async fn thread(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
    cursor: Option<String>,
    limit: u32,
) -> Result<Page<Entry>, ServiceError> {
    let task = load_visible(ctx, actor, id).await?;
    let query = Query::table(keys::task_pk(ctx.instance, &task.id))
        .sk(keys::entries())
        .limit(limit.clamp(1, MAX_QUERY_LIMIT))
        .after(cursor);
    Ok(Page::<Entry>::decode(ctx.store.query(&query).await?)?)
}
