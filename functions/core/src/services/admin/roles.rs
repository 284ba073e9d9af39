//! Roles: named sets of permissions. A role held by an agent is not deleted.
//! Listing, reading, creating, updating and deleting are
//! [`objects`](super::objects).

use std::collections::BTreeSet;

use serde::Deserialize;

use super::objects::{Deletable, Object, set};
use super::records;
use crate::domain::{Agent, AgentId, Permission, Role, RoleId};
use crate::services::{Ctx, ServiceError};

/// Changes to a role made from `version`; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoleChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub permissions: Option<BTreeSet<Permission>>,
}

impl Object for Role {
    type Changes = RoleChanges;

    fn base_version(changes: &RoleChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: RoleChanges) {
        set(&mut self.name, changes.name);
        set(&mut self.permissions, changes.permissions);
    }

    /// Any set of known permissions will do (serde refuses unknown ones).
    async fn check(&mut self, _ctx: &Ctx<'_>, _own: Option<RoleId>) -> Result<(), ServiceError> {
        Ok(())
    }
}

impl Deletable for Role {
    /// An agent holding it, in its primary department or another.
    async fn used_by(ctx: &Ctx<'_>, id: RoleId) -> Result<Option<String>, ServiceError> {
        let agents = records::list::<Agent>(ctx, AgentId::KIND).await?;
        Ok(agents
            .iter()
            .find(|a| a.record.role == id || a.record.access.values().any(|r| *r == id))
            .map(|holder| format!("agent {} holding it", holder.record.email)))
    }
}
