//! DynamoDB errors -> [`StoreError`], in one place.
//!
//! * `ConditionalCheckFailedException` -> [`StoreError::ConditionFailed`];
//! * throttling, server errors, transaction conflicts, a missing table,
//!   timeouts and network failures -> [`StoreError::Unavailable`] (the SDK
//!   has already retried what is retryable);
//! * "Item size ... has exceeded the maximum allowed size" ->
//!   [`StoreError::ItemTooLarge`];
//! * other validation errors (an ADD on a non-number, ...) ->
//!   [`StoreError::InvalidRequest`];
//! * the reasons of a cancelled transaction -> [`StoreError::TransactionCanceled`]
//!   when they are all failed conditions, else the worst other reason.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use taquilla_core::store::{MAX_ITEM_BYTES, StoreError};

/// Error codes DynamoDB answers when it is overloaded or throttling.
const THROTTLING: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ProvisionedThroughputExceeded",
    "ThrottlingException",
    "ThrottlingError",
    "Throttling",
    "RequestLimitExceeded",
    "LimitExceededException",
];

/// Error codes that say "try again later" without being throttling.
const TRANSIENT: &[&str] = &[
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "TransactionConflictException",
    "TransactionConflict",
    "TransactionInProgressException",
    "ResourceNotFoundException",
    "ResourceInUseException",
    "ReplicatedWriteConflictException",
];

/// The store error of a DynamoDB error `code` with `message`.
///
/// `size` is the caller's best estimate of the item's size, used when the
/// error says the item is too large.
#[must_use]
pub fn classify(code: Option<&str>, message: Option<&str>, size: usize) -> StoreError {
    let message = message.unwrap_or_default();
    let described = |what: &str| match code {
        Some(code) => format!("{what}: {code}: {message}"),
        None => format!("{what}: {message}"),
    };
    match code {
        Some("ConditionalCheckFailedException" | "ConditionalCheckFailed") => {
            StoreError::ConditionFailed
        }
        Some(c) if THROTTLING.contains(&c) => StoreError::Unavailable(described("throttled")),
        Some(c) if TRANSIENT.contains(&c) => StoreError::Unavailable(described("DynamoDB")),
        Some(
            "ValidationException"
            | "ValidationError"
            | "SerializationException"
            | "ItemCollectionSizeLimitExceededException"
            | "ItemCollectionSizeLimitExceeded",
        ) => {
            let lower = message.to_ascii_lowercase();
            if lower.contains("item size") && lower.contains("exceeded") {
                StoreError::ItemTooLarge {
                    size: size.max(MAX_ITEM_BYTES + 1),
                    limit: MAX_ITEM_BYTES,
                }
            } else {
                StoreError::InvalidRequest(described("DynamoDB refused the request"))
            }
        }
        _ => StoreError::Unavailable(described("DynamoDB error")),
    }
}

/// The store error of a failed SDK call (`size` as in [`classify`]).
pub fn from_sdk<E, R>(err: &SdkError<E, R>, size: usize) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            classify(inner.code(), inner.message(), size)
        }
        SdkError::ConstructionFailure(_) => StoreError::InvalidRequest(format!(
            "the DynamoDB request could not be built: {}",
            DisplayErrorContext(err)
        )),
        _ => StoreError::Unavailable(format!(
            "DynamoDB cannot be reached: {}",
            DisplayErrorContext(err)
        )),
    }
}

/// One reason of a cancelled transaction, as DynamoDB gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason<'a> {
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// The store error of a cancelled transaction with these reasons (one per
/// operation, in order): [`StoreError::TransactionCanceled`] with the indexes
/// whose condition failed when that is all that went wrong; otherwise the
/// error of the first other reason (a conflict or throttling is
/// [`StoreError::Unavailable`]).
#[must_use]
pub fn canceled(reasons: &[Reason<'_>], size: usize) -> StoreError {
    let mut failed = Vec::new();
    for (index, reason) in reasons.iter().enumerate() {
        match reason.code {
            None | Some("None" | "") => {}
            Some("ConditionalCheckFailed") => failed.push(index),
            Some(_) => return classify(reason.code, reason.message, size),
        }
    }
    if failed.is_empty() {
        StoreError::Unavailable("DynamoDB cancelled the transaction without a reason".into())
    } else {
        StoreError::TransactionCanceled { failed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_conditions_are_condition_failed() {
        assert_eq!(
            classify(Some("ConditionalCheckFailedException"), Some("x"), 0),
            StoreError::ConditionFailed
        );
    }

    #[test]
    fn throttling_and_server_errors_are_unavailable() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
            "InternalServerError",
            "TransactionConflictException",
            "ResourceNotFoundException",
            "SomethingNew",
        ] {
            let err = classify(Some(code), Some("Rate exceeded"), 0);
            assert!(matches!(err, StoreError::Unavailable(_)), "{code}: {err:?}");
            assert!(err.to_string().contains(code));
        }
        assert!(matches!(
            classify(None, None, 0),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn an_oversized_update_is_item_too_large() {
        let err = classify(
            Some("ValidationException"),
            Some("Item size to update has exceeded the maximum allowed size"),
            500_000,
        );
        assert_eq!(
            err,
            StoreError::ItemTooLarge {
                size: 500_000,
                limit: MAX_ITEM_BYTES
            }
        );
        let unknown = classify(
            Some("ValidationException"),
            Some("Item size has exceeded the maximum allowed size"),
            0,
        );
        assert!(matches!(unknown, StoreError::ItemTooLarge { size, .. } if size > MAX_ITEM_BYTES));
    }

    #[test]
    fn an_add_on_a_string_is_an_invalid_request() {
        let err = classify(
            Some("ValidationException"),
            Some("An operand in the update expression has an incorrect data type"),
            0,
        );
        assert!(matches!(err, StoreError::InvalidRequest(m) if m.contains("incorrect data type")));
    }

    #[test]
    fn cancelled_transactions_report_the_failed_conditions() {
        let none = Reason {
            code: Some("None"),
            message: None,
        };
        let failed = Reason {
            code: Some("ConditionalCheckFailed"),
            message: Some("The conditional request failed"),
        };
        assert_eq!(
            canceled(&[none, failed, none, failed], 0),
            StoreError::TransactionCanceled { failed: vec![1, 3] }
        );
        let conflict = Reason {
            code: Some("TransactionConflict"),
            message: Some("Transaction is ongoing for the item"),
        };
        assert!(matches!(
            canceled(&[failed, conflict], 0),
            StoreError::Unavailable(_)
        ));
        let throttled = Reason {
            code: Some("ThrottlingError"),
            message: None,
        };
        assert!(matches!(
            canceled(&[throttled], 0),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(canceled(&[none], 0), StoreError::Unavailable(_)));
    }
}
