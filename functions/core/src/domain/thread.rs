//! A ticket's thread: messages, responses, internal notes and events.

use serde::{Deserialize, Serialize};

use super::{AgentId, EntryId, UserId};
use crate::blobs::BlobKey;

/// Who wrote or did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Author {
    User(UserId),
    Agent(AgentId),
    /// Taquilla itself (rules, the clock) or an integration.
    System(String),
}

/// What kind of entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// From the user or a collaborator.
    Message,
    /// From an agent, sent to the user.
    Response,
    /// Agents only.
    Note,
    /// Something that happened (assigned, transferred, status changed, ...).
    Event,
}

/// A file attached to an entry, kept in `Blobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub blob: BlobKey,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

/// One entry of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub kind: EntryKind,
    pub author: Author,
    /// Sanitised HTML.
    #[serde(default)]
    pub body_html: String,
    /// The same body as plain text.
    #[serde(default)]
    pub body_text: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// For events: what happened, e.g. `assigned`, `status_changed`.
    #[serde(default)]
    pub event: Option<String>,
    /// For events: details, e.g. `{"from": "Open", "to": "Closed"}`.
    #[serde(default)]
    pub data: std::collections::BTreeMap<String, String>,
    pub created_at: i64,
}
