//! Agents: the staff who work tickets, and what they may do where.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{AgentId, DepartmentId, Permission, Role, RoleId, TeamId};

/// A staff member of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    /// Lower-case; unique within the instance.
    pub email: String,
    /// Argon2id PHC string; never the password.
    pub password_hash: String,
    /// Administrators configure the instance and may delete tickets.
    pub admin: bool,
    /// Primary department, and the agent's role there.
    pub department: DepartmentId,
    pub role: RoleId,
    /// Further departments the agent may work in, each with its own role.
    #[serde(default)]
    pub access: BTreeMap<DepartmentId, RoleId>,
    #[serde(default)]
    pub teams: Vec<TeamId>,
    pub active: bool,
    /// Away: skipped by automatic assignment.
    #[serde(default)]
    pub on_vacation: bool,
}

impl Agent {
    /// The agent's role in `department`, if it has access there.
    #[must_use]
    pub fn role_in(&self, department: DepartmentId) -> Option<RoleId> {
        if department == self.department {
            Some(self.role)
        } else {
            self.access.get(&department).copied()
        }
    }

    /// Every department the agent has access to.
    pub fn departments(&self) -> impl Iterator<Item = DepartmentId> + '_ {
        std::iter::once(self.department).chain(self.access.keys().copied())
    }
}

/// An agent with the roles it holds, resolved: what permission checks read.
#[derive(Debug, Clone)]
pub struct AgentAccess {
    pub agent: Agent,
    /// Roles by id, for every role the agent holds somewhere.
    pub roles: BTreeMap<RoleId, Role>,
}

impl AgentAccess {
    /// Whether the agent holds `permission` in `department`. Administrators
    /// hold every permission everywhere.
    #[must_use]
    pub fn can(&self, permission: Permission, department: DepartmentId) -> bool {
        if !self.agent.active {
            return false;
        }
        if self.agent.admin {
            return true;
        }
        self.agent
            .role_in(department)
            .and_then(|role| self.roles.get(&role))
            .is_some_and(|role| role.allows(permission))
    }
}
