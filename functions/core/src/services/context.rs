//! What every use case receives: the ports, the instance, and who acts.

use std::collections::BTreeSet;

use crate::blobs::Blobs;
use crate::clock::Clock;
use crate::domain::{AgentAccess, DepartmentId, InstanceId, Permission, UserId};
use crate::store::ItemStore;

use super::ServiceError;

/// The ports and the instance a call works in. Every key a service builds
/// starts with `instance`, so nothing a call does can reach another instance.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub store: &'a dyn ItemStore,
    pub blobs: &'a dyn Blobs,
    pub clock: &'a dyn Clock,
    pub instance: &'a InstanceId,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("instance", self.instance)
            .finish_non_exhaustive()
    }
}

/// Who is acting.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A signed-in agent (or an agent API token), with its roles resolved.
    Agent(AgentAccess),
    /// A user following their ticket (magic link, mail).
    User(UserId),
    /// An integration with an API key, limited to the key's permissions.
    ApiKey {
        key_id: String,
        permissions: BTreeSet<Permission>,
    },
    /// Taquilla itself: rules, the clock, mail processing.
    System(String),
}

impl Actor {
    /// Whether the actor may do `permission` on a ticket of `department`.
    /// Users act only on their own tickets, which callers check separately.
    #[must_use]
    pub fn can(&self, permission: Permission, department: DepartmentId) -> bool {
        match self {
            Actor::Agent(access) => access.can(permission, department),
            Actor::ApiKey { permissions, .. } => permissions.contains(&permission),
            Actor::System(_) => true,
            Actor::User(_) => false,
        }
    }

    /// `Ok` if the actor may, else a `Forbidden` naming what was refused.
    pub fn require(
        &self,
        permission: Permission,
        department: DepartmentId,
    ) -> Result<(), ServiceError> {
        if self.can(permission, department) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "{} in department {department}",
                permission.as_str()
            )))
        }
    }

    /// Whether the actor is an administrator agent.
    #[must_use]
    pub fn is_admin(&self) -> bool {
        matches!(self, Actor::Agent(a) if a.agent.admin && a.agent.active)
            || matches!(self, Actor::System(_))
    }
}
