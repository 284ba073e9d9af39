//! Use cases: the only code that writes. Each takes the ports it needs.

pub mod directory;
pub mod provision;

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
    #[error("{0} already exists")]
    Conflict(String),
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl ServiceError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Store(e) => e.code(),
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::Invalid { .. } => "invalid_field",
            ServiceError::Password(_) => "internal",
        }
    }
}
