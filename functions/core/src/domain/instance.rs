//! An instance: one independent help desk.

use serde::{Deserialize, Serialize};

use super::InstanceId;

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
    /// Ticket-number format: `#` is a random digit, other characters are kept
    /// (osTicket's `######`); issue-specific formats extend it.
    pub ticket_number_format: String,
    /// Whether the help desk accepts tickets.
    pub online: bool,
    /// Epoch milliseconds.
    pub created_at: i64,
}
