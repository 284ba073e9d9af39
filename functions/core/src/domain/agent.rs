//! Agents: the staff who work tickets.

use serde::{Deserialize, Serialize};

use super::{AgentId, DepartmentId, RoleId};

/// A staff member of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    /// Lower-case; unique within the instance.
    pub email: String,
    /// Argon2id PHC string; never the password.
    pub password_hash: String,
    pub admin: bool,
    /// Primary department, and the agent's role there.
    pub department: DepartmentId,
    pub role: RoleId,
    pub active: bool,
}
