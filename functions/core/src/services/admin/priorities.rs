//! Ticket priorities: added, renamed, re-ranked, and deleted unless a help
//! topic uses one.

use serde::Deserialize;

use super::records::{self, Versioned};
use super::{access, ids, validate};
use crate::domain::{HelpTopic, Priority, PriorityId, TopicId};
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::WriteOp;

const KIND: &str = PriorityId::KIND;

/// A priority to add.
#[derive(Debug, Clone, Deserialize)]
pub struct NewPriority {
    pub name: String,
    /// 1 is the most urgent.
    pub urgency: u8,
}

/// Changes to a priority made from `version`; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PriorityChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub urgency: Option<u8>,
}

/// Every priority of the instance; any agent of the instance may list them.
pub async fn list(ctx: Ctx<'_>, actor: &Actor) -> Result<Vec<Versioned<Priority>>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::list(&ctx, KIND).await
}

/// One priority; any agent of the instance may read it.
pub async fn get(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: PriorityId,
) -> Result<Versioned<Priority>, ServiceError> {
    access::require_member(&ctx, actor).await?;
    records::load(&ctx, KIND, id.0, "priority").await
}

/// Adds a priority (administrators only).
pub async fn create(
    ctx: Ctx<'_>,
    actor: &Actor,
    new: NewPriority,
) -> Result<Versioned<Priority>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let mut priority = Priority {
        id: PriorityId(0),
        name: new.name,
        urgency: new.urgency,
    };
    check(&ctx, &mut priority, None).await?;
    priority.id = PriorityId(ids::next(ctx.store, ctx.instance, KIND).await?);
    let op = records::create_op(&ctx, KIND, priority.id.0, &priority)?;
    records::commit(&ctx, vec![op], "priority", |_| None).await?;
    Ok(Versioned {
        record: priority,
        version: 1,
    })
}

/// Applies `changes` if the priority is still at `changes.version`.
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: PriorityId,
    changes: PriorityChanges,
) -> Result<Versioned<Priority>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("priority {id}");
    let current: Versioned<Priority> = records::load(&ctx, KIND, id.0, "priority").await?;
    records::check_version(&what, current.version, changes.version)?;
    let mut priority = current.record;
    if let Some(name) = changes.name {
        priority.name = name;
    }
    if let Some(urgency) = changes.urgency {
        priority.urgency = urgency;
    }
    check(&ctx, &mut priority, Some(id)).await?;
    let op = records::replace_op(&ctx, KIND, id.0, &priority, current.version)?;
    records::commit(&ctx, vec![op], &what, |_| None).await?;
    Ok(Versioned {
        record: priority,
        version: current.version + 1,
    })
}

/// Deletes a priority no help topic uses (else `Conflict`).
pub async fn delete(ctx: Ctx<'_>, actor: &Actor, id: PriorityId) -> Result<(), ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("priority {id}");
    let current: Versioned<Priority> = records::load(&ctx, KIND, id.0, "priority").await?;
    let topics = records::list::<HelpTopic>(&ctx, TopicId::KIND).await?;
    if let Some(topic) = topics.iter().find(|t| t.record.priority == Some(id)) {
        return Err(ServiceError::Conflict(format!(
            "{what} is in use: help topic {:?} with it",
            topic.record.name
        )));
    }
    let op = WriteOp::Delete {
        key: records::key(&ctx, KIND, id.0),
        condition: Some(records::if_at(current.version)),
    };
    records::commit(&ctx, vec![op], &what, |_| None).await
}

async fn check(
    ctx: &Ctx<'_>,
    priority: &mut Priority,
    own: Option<PriorityId>,
) -> Result<(), ServiceError> {
    priority.name = validate::name("name", &priority.name)?;
    if !(1..=10).contains(&priority.urgency) {
        return Err(validate::invalid(
            "urgency",
            "must be from 1 (most urgent) to 10",
        ));
    }
    let existing = records::list::<Priority>(ctx, KIND).await?;
    validate::unique_name(
        &priority.name,
        own.map(|p| p.0),
        existing
            .iter()
            .map(|p| (p.record.id.0, p.record.name.as_str())),
    )
}
