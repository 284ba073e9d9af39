//! A task's thread: internal notes (agents only) and the events of its
//! changes, oldest first.

use std::collections::BTreeMap;

use super::access::load_visible;
use super::store;
use crate::domain::{Author, Entry, EntryId, EntryKind, Task, TaskId};
use crate::keys;
use crate::sanitize::Body;
use crate::services::messages::{self, MailRef};
use crate::services::{Actor, Ctx, Page, ServiceError};
use crate::store::{MAX_QUERY_LIMIT, Query, StoreError};

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
    note_with(ctx, actor, id, body, None).await
}

/// An agent's mail reply to a task alert, as a note in the task's thread
/// ([`note`]'s rules). The message is claimed in the same transaction
/// (`messages::task_claim_op`), so a second delivery of it is `Duplicate`
/// and writes nothing; its Message-ID is kept on the entry.
pub async fn note_from_mail(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
    body: &Body,
    mail: &MailRef,
) -> Result<Task, ServiceError> {
    note_with(ctx, actor, id, body, Some(mail)).await
}

async fn note_with(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TaskId,
    body: &Body,
    mail: Option<&MailRef>,
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
    let mut data = BTreeMap::new();
    if let Some(mail) = mail {
        messages::refuse_seen(ctx, mail).await?;
        if let Some(message_id) = &mail.message_id {
            data.insert(messages::MESSAGE_ID.to_owned(), message_id.clone());
        }
    }
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
            data: data.clone(),
            created_at: now,
        };
        let mut next = task.clone();
        next.updated_at = now.max(task.updated_at);
        let claim = match mail {
            Some(mail) => vec![messages::task_claim_op(ctx, mail, &task.id, &entry.id)?],
            None => Vec::new(),
        };
        match store::save_with(ctx, task.version, &next, &[entry], claim).await {
            Err(ServiceError::Conflict(_)) => task = load_visible(ctx, actor, id).await?,
            // Only the claim can fail besides the task's version: the same
            // message was written meanwhile.
            Err(ServiceError::Store(StoreError::TransactionCanceled { .. })) if mail.is_some() => {
                if let Some(mail) = mail {
                    messages::refuse_seen(ctx, mail).await?;
                }
                task = load_visible(ctx, actor, id).await?;
            }
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
