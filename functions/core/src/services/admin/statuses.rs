//! The ticket status list: statuses are added and renamed, never deleted
//! nor moved to another state, since tickets hold them and are queued by
//! their state.

use serde::Deserialize;

use super::records::{self, Versioned};
use super::{access, ids, validate};
use crate::domain::{State, Status, StatusId};
use crate::services::{Actor, Ctx, ServiceError};

const KIND: &str = StatusId::KIND;

/// A status to add.
#[derive(Debug, Clone, Deserialize)]
pub struct NewStatus {
    pub name: String,
    pub state: State,
}

/// A new name for a status, made from `version`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
}

/// Every status of the instance; any agent of the instance may list them.
pub async fn list(ctx: Ctx<'_>, actor: &Actor) -> Result<Vec<Versioned<Status>>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::list(&ctx, KIND).await
}

/// One status; any agent of the instance may read it.
pub async fn get(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: StatusId,
) -> Result<Versioned<Status>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::load(&ctx, KIND, id.0, "status").await
}

/// Adds a status (administrators only).
pub async fn create(
    ctx: Ctx<'_>,
    actor: &Actor,
    new: NewStatus,
) -> Result<Versioned<Status>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let mut status = Status {
        id: StatusId(0),
        name: new.name,
        state: new.state,
    };
    check(&ctx, &mut status, None).await?;
    status.id = StatusId(ids::next(ctx.store, ctx.instance, KIND).await?);
    let op = records::create_op(&ctx, KIND, status.id.0, &status)?;
    records::commit(&ctx, vec![op], "status", |_| None).await?;
    Ok(Versioned {
        record: status,
        version: 1,
    })
}

/// Renames a status if it is still at `changes.version`.
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: StatusId,
    changes: StatusChanges,
) -> Result<Versioned<Status>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("status {id}");
    let current: Versioned<Status> = records::load(&ctx, KIND, id.0, "status").await?;
    records::check_version(&what, current.version, changes.version)?;
    let mut status = current.record;
    if let Some(name) = changes.name {
        status.name = name;
    }
    check(&ctx, &mut status, Some(id)).await?;
    let op = records::replace_op(&ctx, KIND, id.0, &status, current.version)?;
    records::commit(&ctx, vec![op], &what, |_| None).await?;
    Ok(Versioned {
        record: status,
        version: current.version + 1,
    })
}

async fn check(
    ctx: &Ctx<'_>,
    status: &mut Status,
    own: Option<StatusId>,
) -> Result<(), ServiceError> {
    status.name = validate::name("name", &status.name)?;
    let existing = records::list::<Status>(ctx, KIND).await?;
    validate::unique_name(
        &status.name,
        own.map(|s| s.0),
        existing
            .iter()
            .map(|s| (s.record.id.0, s.record.name.as_str())),
    )
}
