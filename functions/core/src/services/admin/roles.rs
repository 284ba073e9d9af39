//! Roles: named sets of permissions. A role held by an agent is not deleted.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::records::{self, Versioned};
use super::{access, ids, validate};
use crate::domain::{Agent, AgentId, Permission, Role, RoleId};
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::WriteOp;

const KIND: &str = RoleId::KIND;

/// A role to create.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewRole {
    pub name: String,
    #[serde(default)]
    pub permissions: BTreeSet<Permission>,
}

/// Changes to a role made from `version`; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoleChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub permissions: Option<BTreeSet<Permission>>,
}

/// Every role of the instance (administrators only).
pub async fn list(ctx: Ctx<'_>, actor: &Actor) -> Result<Vec<Versioned<Role>>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    records::list(&ctx, KIND).await
}

/// One role (administrators only).
pub async fn get(ctx: Ctx<'_>, actor: &Actor, id: RoleId) -> Result<Versioned<Role>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    records::load(&ctx, KIND, id.0, "role").await
}

/// Creates a role (administrators only).
pub async fn create(
    ctx: Ctx<'_>,
    actor: &Actor,
    new: NewRole,
) -> Result<Versioned<Role>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let mut role = Role {
        id: RoleId(0),
        name: new.name,
        permissions: new.permissions,
    };
    check(&ctx, &mut role, None).await?;
    role.id = RoleId(ids::next(ctx.store, ctx.instance, KIND).await?);
    let op = records::create_op(&ctx, KIND, role.id.0, &role)?;
    records::commit(&ctx, vec![op], "role", |_| None).await?;
    Ok(Versioned {
        record: role,
        version: 1,
    })
}

/// Applies `changes` if the role is still at `changes.version`.
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: RoleId,
    changes: RoleChanges,
) -> Result<Versioned<Role>, ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("role {id}");
    let current: Versioned<Role> = records::load(&ctx, KIND, id.0, "role").await?;
    records::check_version(&what, current.version, changes.version)?;
    let mut role = current.record;
    if let Some(name) = changes.name {
        role.name = name;
    }
    if let Some(permissions) = changes.permissions {
        role.permissions = permissions;
    }
    check(&ctx, &mut role, Some(id)).await?;
    let op = records::replace_op(&ctx, KIND, id.0, &role, current.version)?;
    records::commit(&ctx, vec![op], &what, |_| None).await?;
    Ok(Versioned {
        record: role,
        version: current.version + 1,
    })
}

/// Deletes a role no agent holds (else `Conflict`).
pub async fn delete(ctx: Ctx<'_>, actor: &Actor, id: RoleId) -> Result<(), ServiceError> {
    access::require_admin(&ctx, actor).await?;
    let what = format!("role {id}");
    let current: Versioned<Role> = records::load(&ctx, KIND, id.0, "role").await?;
    let agents = records::list::<Agent>(&ctx, AgentId::KIND).await?;
    if let Some(holder) = agents
        .iter()
        .find(|a| a.record.role == id || a.record.access.values().any(|r| *r == id))
    {
        return Err(ServiceError::Conflict(format!(
            "{what} is in use: agent {} holding it",
            holder.record.email
        )));
    }
    let op = WriteOp::Delete {
        key: records::key(&ctx, KIND, id.0),
        condition: Some(records::if_at(current.version)),
    };
    records::commit(&ctx, vec![op], &what, |_| None).await
}

async fn check(ctx: &Ctx<'_>, role: &mut Role, own: Option<RoleId>) -> Result<(), ServiceError> {
    role.name = validate::name("name", &role.name)?;
    let existing = records::list::<Role>(ctx, KIND).await?;
    validate::unique_name(
        &role.name,
        own.map(|r| r.0),
        existing
            .iter()
            .map(|r| (r.record.id.0, r.record.name.as_str())),
    )
}
