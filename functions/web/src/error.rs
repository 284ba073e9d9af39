//! The one place where errors become HTTP responses.
//!
//! Every error body is `{"error": {"code": "...", "message": "..."}}` with a
//! stable snake_case code. Server errors (5xx) say nothing of their cause to
//! the client; the cause chain is logged once, here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use taquilla_core::blobs::BlobError;
use taquilla_core::services::ServiceError;
use taquilla_core::store::StoreError;
use thiserror::Error;

/// An error a handler returns.
#[derive(Debug, Error)]
pub enum ApiError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// No route or no such object.
    #[error("{0}")]
    NotFound(String),
    /// A failure of ours the client cannot act on (logged, not shown).
    #[error("{0}")]
    Internal(String),
    /// The instance named in the path does not exist.
    #[error("instance {0} not found")]
    InstanceNotFound(String),
    /// The request itself is malformed.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: String,
}

fn store_status(e: &StoreError) -> StatusCode {
    match e {
        StoreError::ConditionFailed | StoreError::TransactionCanceled { .. } => {
            StatusCode::CONFLICT
        }
        StoreError::ItemTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        StoreError::InvalidKey(_) | StoreError::InvalidRequest(_) | StoreError::InvalidCursor => {
            StatusCode::BAD_REQUEST
        }
        StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        StoreError::Corrupt(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn blob_status(e: &BlobError) -> StatusCode {
    match e {
        BlobError::NotFound(_) => StatusCode::NOT_FOUND,
        BlobError::InvalidKey(_) | BlobError::InvalidUpload(_) => StatusCode::BAD_REQUEST,
        BlobError::InvalidSignature => StatusCode::FORBIDDEN,
        BlobError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        BlobError::Corrupt(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// The status and stable code of the error.
    #[must_use]
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Service(ServiceError::Store(e)) | ApiError::Store(e) => {
                (store_status(e), e.code())
            }
            ApiError::Service(e @ ServiceError::NotFound(_)) => (StatusCode::NOT_FOUND, e.code()),
            ApiError::Service(e @ ServiceError::Conflict(_)) => (StatusCode::CONFLICT, e.code()),
            ApiError::Service(e @ ServiceError::Forbidden(_)) => (StatusCode::FORBIDDEN, e.code()),
            ApiError::Service(e @ ServiceError::Locked { .. }) => (StatusCode::CONFLICT, e.code()),
            ApiError::Service(e @ ServiceError::Invalid { .. }) => {
                (StatusCode::BAD_REQUEST, e.code())
            }
            ApiError::Service(e @ ServiceError::Password(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, e.code())
            }
            ApiError::Service(e @ ServiceError::Unauthorized { .. }) => {
                (StatusCode::UNAUTHORIZED, e.code())
            }
            ApiError::Blob(e) => (blob_status(e), e.code()),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::InstanceNotFound(_) => (StatusCode::NOT_FOUND, "instance_not_found"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() {
            let chain = taquilla_core::report::error_chain(&self);
            tracing::error!(code, error = %chain, "request failed");
            match status {
                StatusCode::SERVICE_UNAVAILABLE => {
                    "the service is unavailable; try again".to_owned()
                }
                _ => "internal error".to_owned(),
            }
        } else {
            self.to_string()
        };
        (
            status,
            Json(Body {
                error: Detail { code, message },
            }),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_store_error_has_a_client_or_server_status() {
        let cases = [
            (StoreError::ConditionFailed, 409),
            (StoreError::ItemTooLarge { size: 1, limit: 0 }, 413),
            (StoreError::InvalidCursor, 400),
            (StoreError::Unavailable("x".into()), 503),
            (StoreError::Corrupt("x".into()), 500),
        ];
        for (err, status) in cases {
            let (s, code) = ApiError::from(err.clone()).status_and_code();
            assert_eq!(s.as_u16(), status, "{err:?}");
            assert_eq!(code, err.code());
        }
    }
}
