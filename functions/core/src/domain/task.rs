//! Tasks: work an agent tracks apart from a ticket's conversation (call
//! the supplier, replace the projector), in a department, optionally linked
//! to a ticket, with a thread of their own (notes and events).

use serde::{Deserialize, Serialize};

use super::{AgentId, Author, DepartmentId, TaskId, TeamId, TicketId};

/// Whether a task is still to be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Open,
    Closed,
}

impl TaskState {
    /// The state as keys and the API spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Open => "open",
            TaskState::Closed => "closed",
        }
    }
}

impl Task {
    /// What people call the task: its number, else (a task older than
    /// numbers) its id.
    #[must_use]
    pub fn label(&self) -> String {
        self.number
            .map_or_else(|| self.id.to_string(), |number| number.to_string())
    }
}

/// Longest task title, in characters.
pub const MAX_TITLE_CHARS: usize = 255;

/// One task and everything known of it (its thread is stored beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    /// The task's number in its instance (1, 2, 3, ...), what agents and
    /// alert subjects call it. Tasks created before numbers have none and
    /// go by their id.
    #[serde(default)]
    pub number: Option<u64>,
    pub title: String,
    /// Sanitised HTML (may be empty).
    #[serde(default)]
    pub description_html: String,
    /// The same description as plain text.
    #[serde(default)]
    pub description_text: String,
    pub department: DepartmentId,
    #[serde(default)]
    pub assignee: Option<AgentId>,
    /// The team that works the task: its agents see it, wherever their
    /// departments are, and it is listed under the team.
    #[serde(default)]
    pub team: Option<TeamId>,
    /// Epoch ms.
    #[serde(default)]
    pub due_at: Option<i64>,
    pub state: TaskState,
    /// The ticket the task belongs to, if any.
    #[serde(default)]
    pub ticket: Option<TicketId>,
    pub created_by: Author,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub closed_at: Option<i64>,
    /// Optimistic concurrency: every update requires the version it read.
    pub version: i64,
}

/// Whether `title` is acceptable: not blank, at most [`MAX_TITLE_CHARS`].
/// Returns the title trimmed, or what is wrong with it.
pub fn check_title(title: &str) -> Result<String, &'static str> {
    let title = title.trim();
    if title.is_empty() {
        Err("empty")
    } else if title.chars().count() > MAX_TITLE_CHARS {
        Err("at most 255 characters")
    } else {
        Ok(title.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(check_title("  Call them "), Ok("Call them".to_owned()));
        assert!(check_title("   ").is_err());
        assert!(check_title(&"x".repeat(256)).is_err());
    }
}
