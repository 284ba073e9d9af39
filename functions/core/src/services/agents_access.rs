//! Resolving who an agent is and what it may do: the agent with every role
//! it holds, as permission checks read it, optionally narrowed to a token's
//! scope.

use std::collections::{BTreeMap, BTreeSet};

use super::{Ctx, ServiceError, directory};
use crate::domain::{Agent, AgentAccess, AgentId, Permission, Role, RoleId};
use crate::keys;
use crate::store::codec;

/// Role id of the synthetic role a scoped administrator token acts with.
const SCOPE_ROLE: RoleId = RoleId(u32::MAX);

/// The agent `id` of the context's instance with its roles resolved.
///
/// A missing agent is [`ServiceError::NotFound`]; a role the agent names but
/// the instance lacks grants nothing.
pub async fn load_agent_access(ctx: &Ctx<'_>, id: AgentId) -> Result<AgentAccess, ServiceError> {
    let item = ctx
        .store
        .get(&keys::object(ctx.instance, AgentId::KIND, id.0))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("agent {id}")))?;
    let agent: Agent = codec::decode(&item)?;
    let role_ids: BTreeSet<RoleId> = std::iter::once(agent.role)
        .chain(agent.access.values().copied())
        .collect();
    let role_keys: Vec<_> = role_ids
        .iter()
        .map(|r| keys::object(ctx.instance, RoleId::KIND, r.0))
        .collect();
    let mut roles = BTreeMap::new();
    for item in ctx.store.batch_get(&role_keys).await?.into_iter().flatten() {
        let role: Role = codec::decode(&item)?;
        roles.insert(role.id, role);
    }
    Ok(AgentAccess { agent, roles })
}

/// The id of the agent with `email` in the context's instance.
pub async fn agent_by_email(ctx: &Ctx<'_>, email: &str) -> Result<AgentId, ServiceError> {
    let item = ctx
        .store
        .get(&keys::agent_email(ctx.instance, email))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("agent {email}")))?;
    item.get_i64("agent")
        .and_then(|n| u32::try_from(n).ok())
        .map(AgentId)
        .ok_or_else(|| {
            ServiceError::Store(crate::store::StoreError::Corrupt(format!(
                "the e-mail claim of {email} names no agent"
            )))
        })
}

/// Narrows `access` to `scope`: the agent keeps at most those permissions,
/// in at most the departments where it had them.
///
/// A scoped administrator stops being an administrator and holds exactly
/// `scope` in every department of the instance.
pub async fn scoped(
    ctx: &Ctx<'_>,
    mut access: AgentAccess,
    scope: &BTreeSet<Permission>,
) -> Result<AgentAccess, ServiceError> {
    if access.agent.admin {
        let departments = directory::departments(ctx.store, ctx.instance).await?;
        access.agent.admin = false;
        access.agent.role = SCOPE_ROLE;
        access.agent.access = departments
            .iter()
            .map(|d| (d.id, SCOPE_ROLE))
            .filter(|(d, _)| *d != access.agent.department)
            .collect();
        access.roles = BTreeMap::from([(
            SCOPE_ROLE,
            Role {
                id: SCOPE_ROLE,
                name: "token scope".into(),
                permissions: scope.clone(),
            },
        )]);
    } else {
        for role in access.roles.values_mut() {
            role.permissions = role.permissions.intersection(scope).copied().collect();
        }
    }
    Ok(access)
}
