//! Use cases: the only code that writes. Each takes the ports it needs.

pub mod accounts;
pub mod admin;
pub mod agents_access;
pub mod apikeys;
pub mod context;
pub mod directory;
pub mod messages;
pub mod organisations;
pub mod osticket;
pub mod outbox;
pub mod provision;
pub mod replays;
pub mod rules;
pub mod sla;
pub mod suppressions;
pub mod tasks;
pub mod tickets;
pub mod tokens;
pub mod users;

pub use context::{Actor, Ctx};

/// One page of a list a service returns, with the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present exactly when more items follow.
    pub cursor: Option<String>,
}

impl<T: serde::de::DeserializeOwned> Page<T> {
    /// The records of a store page, decoded, with its cursor.
    pub fn decode(page: crate::store::Page) -> Result<Self, crate::store::StoreError> {
        Ok(Self {
            items: page
                .items
                .iter()
                .map(crate::store::codec::decode)
                .collect::<Result<_, _>>()?,
            cursor: page.cursor,
        })
    }
}

use thiserror::Error;

use crate::password::PasswordError;
use crate::store::StoreError;

/// What a use case can fail with. Each variant has a stable [`code`](ServiceError::code).
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0} not found")]
    NotFound(String),
    /// The actor lacks a permission (or is not who the object belongs to).
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// Another agent holds the ticket's lock.
    #[error("the ticket is locked by {holder} until {until_ms}")]
    Locked { holder: String, until_ms: i64 },
    #[error("{0} already exists")]
    Conflict(String),
    /// A received mail message was processed before (delivered twice).
    #[error("duplicate: {0}")]
    Duplicate(String),
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Credentials missing, unknown, inactive, expired or presented from a
    /// disallowed address; `code` says which (e.g. `invalid_token`).
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// A request a rule of its own refuses, with that rule's code (a weak
    /// password, a used or expired password link).
    #[error("{message}")]
    Rejected { code: &'static str, message: String },
    /// Answers that do not fit a help topic's forms: each field and why.
    #[error("the answers do not fit the form: {}", problems(.0))]
    InvalidForm(Vec<crate::domain::form::FieldProblem>),
    /// A creation rule refused the ticket: `rejected_by_rule`. Without a
    /// `notice` the rule rejects quietly (mail is dropped unanswered).
    #[error("{}", notice.as_deref().unwrap_or("the ticket was not accepted"))]
    RejectedByRule {
        rule: String,
        notice: Option<String>,
    },
}

fn problems(list: &[crate::domain::form::FieldProblem]) -> String {
    let parts: Vec<String> = list.iter().map(ToString::to_string).collect();
    parts.join("; ")
}

impl ServiceError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Store(e) => e.code(),
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::Locked { .. } => "ticket_locked",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::Duplicate(_) => "duplicate_message",
            ServiceError::Invalid { .. } => "invalid_field",
            ServiceError::InvalidForm(_) => "invalid_form",
            ServiceError::RejectedByRule { .. } => "rejected_by_rule",
            ServiceError::Password(_) => "internal",
            ServiceError::Unauthorized { code, .. } | ServiceError::Rejected { code, .. } => code,
        }
    }
}
