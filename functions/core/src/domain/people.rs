//! Users (who ask), organisations, and teams of agents.

use serde::{Deserialize, Serialize};

use super::{AgentId, Language, OrgId, TeamId, UserId};

/// A person who asks for help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    /// Lower-case addresses; the first is the primary one. Each is unique in the instance.
    pub emails: Vec<String>,
    #[serde(default)]
    pub organisation: Option<OrgId>,
    #[serde(default)]
    pub language: Option<Language>,
    #[serde(default)]
    pub phone: Option<String>,
    pub created_at: i64,
}

impl User {
    /// The address mail goes to.
    #[must_use]
    pub fn primary_email(&self) -> Option<&str> {
        self.emails.first().map(String::as_str)
    }
}

/// Users grouped, e.g. by the mail domain of a faculty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    /// Users with an address in one of these domains join automatically.
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub managers: Vec<UserId>,
    /// Users copied on every ticket of the organisation's members.
    #[serde(default)]
    pub default_collaborators: Vec<String>,
}

/// A group of agents; may span departments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    #[serde(default)]
    pub lead: Option<AgentId>,
    #[serde(default)]
    pub members: Vec<AgentId>,
}
