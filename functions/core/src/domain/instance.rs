//! An instance: one independent help desk.

use serde::{Deserialize, Serialize};

use super::{InstanceId, MailSettings};

/// The languages Taquilla speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ca,
    Es,
    En,
}

/// An independent help desk (one per service unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub id: InstanceId,
    pub name: String,
    pub language: Language,
    /// IANA time zone, e.g. `Europe/Madrid`.
    pub timezone: String,
    /// Ticket-number format (see `domain::number`): `#` is a random digit
    /// (osTicket's `######`), `{seq:N}` a counter padded to N digits, other
    /// characters are kept; a help topic may override it.
    pub ticket_number_format: String,
    /// Whether the help desk accepts tickets.
    pub online: bool,
    /// How long an agent's collision lock on a ticket lasts unless renewed.
    #[serde(default = "default_lock_seconds")]
    pub lock_seconds: u32,
    /// How the instance receives mail.
    #[serde(default)]
    pub mail: MailSettings,
    /// Epoch milliseconds.
    pub created_at: i64,
}

/// How long a collision lock lasts unless the instance says otherwise: 3 minutes.
pub const DEFAULT_LOCK_SECONDS: u32 = 180;

fn default_lock_seconds() -> u32 {
    DEFAULT_LOCK_SECONDS
}
