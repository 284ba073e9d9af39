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
use taquilla_core::domain::form::FieldProblem;
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
    /// Something we depend on is down; the client should try again.
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: String,
    /// For `ticket_locked`: who holds the lock.
    #[serde(skip_serializing_if = "Option::is_none")]
    holder: Option<String>,
    /// For `ticket_locked`: when the lock ends, epoch milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<i64>,
    /// For `invalid_form`: each field that is wrong, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a [FieldProblem]>,
    /// For `invalid_field`: the field refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// For `invalid_field` refused by a configuration rule (a schedule, an
    /// SLA plan, a form, a list, a rule): the rule's own stable code, e.g.
    /// `sla_no_target`, which the message also ends with in brackets.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
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
            ApiError::Service(e @ ServiceError::Duplicate(_)) => (StatusCode::CONFLICT, e.code()),
            ApiError::Service(e @ ServiceError::Forbidden(_)) => (StatusCode::FORBIDDEN, e.code()),
            ApiError::Service(e @ ServiceError::Locked { .. }) => (StatusCode::CONFLICT, e.code()),
            ApiError::Service(e @ ServiceError::Invalid { .. }) => {
                (StatusCode::BAD_REQUEST, e.code())
            }
            ApiError::Service(e @ ServiceError::RejectedByRule { .. }) => {
                (StatusCode::UNPROCESSABLE_ENTITY, e.code())
            }
            ApiError::Service(e @ ServiceError::InvalidForm(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, e.code())
            }
            ApiError::Service(e @ ServiceError::Password(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, e.code())
            }
            ApiError::Service(e @ ServiceError::Unauthorized { .. }) => {
                (StatusCode::UNAUTHORIZED, e.code())
            }
            ApiError::Service(e @ ServiceError::Rejected { .. }) => {
                (StatusCode::BAD_REQUEST, e.code())
            }
            ApiError::Blob(e) => (blob_status(e), e.code()),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::InstanceNotFound(_) => (StatusCode::NOT_FOUND, "instance_not_found"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        }
    }
}

impl ApiError {
    /// What the client is told: the error itself, or for a server error an
    /// opaque sentence (the cause chain is logged here, once).
    fn client_message(&self, status: StatusCode, code: &str) -> String {
        if status.is_server_error() {
            let chain = taquilla_core::report::error_chain(self);
            tracing::error!(code, error = %chain, "request failed");
            match status {
                StatusCode::SERVICE_UNAVAILABLE => {
                    "the service is unavailable; try again".to_owned()
                }
                _ => "internal error".to_owned(),
            }
        } else {
            self.to_string()
        }
    }
}

/// An error of the osTicket-compatible endpoints, answered as osTicket
/// does: a plain-text body, 400 for an unknown API key or anything the
/// payload names that does not exist (a help topic), 401 for a missing,
/// inactive or wrong-address key. The stable code is in `X-Error-Code`.
#[derive(Debug)]
pub struct PlainTextError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PlainTextError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PlainTextError {
    fn into_response(self) -> Response {
        let (status, code) = self.0.status_and_code();
        let status = match &self.0 {
            ApiError::Service(ServiceError::NotFound(_)) => StatusCode::BAD_REQUEST,
            _ if code == "unknown_api_key" => StatusCode::BAD_REQUEST,
            _ => status,
        };
        let message = self.0.client_message(status, code);
        (
            status,
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                ),
                (axum::http::HeaderName::from_static("x-error-code"), code),
            ],
            message,
        )
            .into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = self.client_message(status, code);
        let (holder, until) = match &self {
            ApiError::Service(ServiceError::Locked { holder, until_ms }) => {
                (Some(holder.clone()), Some(*until_ms))
            }
            _ => (None, None),
        };
        let fields = match &self {
            ApiError::Service(ServiceError::InvalidForm(problems)) => Some(problems.as_slice()),
            _ => None,
        };
        let (field, rule) = match &self {
            ApiError::Service(ServiceError::Invalid { field, message }) => {
                (Some(field.as_str()), rule_of(message))
            }
            _ => (None, None),
        };
        (
            status,
            Json(Body {
                error: Detail {
                    code,
                    message,
                    holder,
                    until,
                    fields,
                    field,
                    rule,
                },
            }),
        )
            .into_response()
    }
}

/// The stable code a configuration rule ends its refusal with, in
/// brackets (`invalid first_response_minutes: ... [sla_no_target]`).
fn rule_of(message: &str) -> Option<&str> {
    let (_, code) = message.strip_suffix(']')?.rsplit_once('[')?;
    let snake = code
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    (snake && code.contains('_')).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_rules_code_is_read_from_the_end_of_its_message() {
        assert_eq!(
            rule_of("a plan needs at least one target [sla_no_target]"),
            Some("sla_no_target")
        );
        assert_eq!(
            rule_of("08:00-14:00 overlaps [schedule_overlapping_intervals]"),
            Some("schedule_overlapping_intervals")
        );
        assert_eq!(rule_of("status 99 does not exist"), None);
        assert_eq!(rule_of("names like [x]"), None, "not a code");
        assert_eq!(rule_of("[Bad Code]"), None);
    }

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
