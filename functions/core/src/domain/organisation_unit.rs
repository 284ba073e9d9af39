//! Departments and help topics: how an instance is divided and how requests
//! find their way in.

use serde::{Deserialize, Serialize};

use super::{DepartmentId, TopicId};

/// A unit inside an instance that owns tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub id: DepartmentId,
    pub name: String,
    /// Outgoing address of the department's mail.
    pub email: Option<String>,
    pub parent: Option<DepartmentId>,
}

/// What a user picks when opening a ticket; it routes the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpTopic {
    pub id: TopicId,
    pub name: String,
    pub department: DepartmentId,
    /// Shown on the public portal.
    pub public: bool,
    pub parent: Option<TopicId>,
}
