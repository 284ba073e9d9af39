//! Requests delivered twice: API Gateway (and Lambda behind it) may deliver
//! the same request event more than once, and a repeated event must change
//! nothing. A request that changes something (any method but `GET`, `HEAD`
//! and `OPTIONS`) is claimed by API Gateway's request id before it is
//! served ([`claim`]); its answer is kept with the claim ([`answered`]), and
//! the same event delivered again gets that answer back without being
//! served again. A claim whose request failed on our side (a 5xx) is
//! given up ([`give_up`]), so a retry is served.
//!
//! Claims expire after a day (TTL): redeliveries come within seconds.

use serde::{Deserialize, Serialize};

use crate::domain::InstanceId;
use crate::keys;
use crate::store::{Condition, ItemStore, StoreError, TTL, codec};

/// How long a claim and its answer are kept, in ms.
pub const CLAIM_MS: i64 = 24 * 3_600_000;
/// Longest answer body kept; a longer one is not replayed (the claim stays,
/// so the request is still not served twice: the repeat gets a 409).
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// The answer given to a claimed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: String,
}

/// A claim as stored: pending until answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Claim {
    at: i64,
    answer: Option<Answer>,
}

/// What a request's claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// The first delivery: serve it.
    First,
    /// Delivered before and answered: give this answer again.
    Answered(Answer),
    /// Delivered before and not answered yet (being served, or its answer
    /// was too long to keep).
    Pending,
}

/// Whether a method changes something, so that its requests are claimed.
#[must_use]
pub fn changes(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// Claims request `id` for `instance` at `now` (epoch ms).
pub async fn claim(
    store: &dyn ItemStore,
    instance: &InstanceId,
    id: &str,
    now: i64,
) -> Result<Claimed, StoreError> {
    let key = keys::gateway_request(instance, id);
    let claim = Claim {
        at: now,
        answer: None,
    };
    let item = codec::encode(key.clone(), &claim)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .with(TTL, now.saturating_add(CLAIM_MS).div_euclid(1000));
    match store.put(item, Some(Condition::Absent)).await {
        Ok(()) => Ok(Claimed::First),
        Err(StoreError::ConditionFailed) => {
            let Some(found) = store.get(&key).await? else {
                // Expired between the two calls: long ago, so serve it.
                return Ok(Claimed::First);
            };
            let found: Claim =
                codec::decode(&found).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(found.answer.map_or(Claimed::Pending, Claimed::Answered))
        }
        Err(other) => Err(other),
    }
}

/// Keeps `answer` with the claim of request `id` (when it is short enough
/// to keep).
pub async fn answered(
    store: &dyn ItemStore,
    instance: &InstanceId,
    id: &str,
    now: i64,
    answer: Answer,
) -> Result<(), StoreError> {
    if answer.body.len() > MAX_ANSWER_BYTES {
        return Ok(());
    }
    let claim = Claim {
        at: now,
        answer: Some(answer),
    };
    let item = codec::encode(keys::gateway_request(instance, id), &claim)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .with(TTL, now.saturating_add(CLAIM_MS).div_euclid(1000));
    store.put(item, Some(Condition::Exists)).await
}

/// Gives up the claim of request `id`, whose serving failed on our side: a
/// retry of it is served.
pub async fn give_up(
    store: &dyn ItemStore,
    instance: &InstanceId,
    id: &str,
) -> Result<(), StoreError> {
    store
        .delete(&keys::gateway_request(instance, id), None)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_that_change_something_are_claimed() {
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            assert!(changes(method), "{method}");
        }
        for method in ["GET", "HEAD", "OPTIONS"] {
            assert!(!changes(method), "{method}");
        }
    }

    #[test]
    fn claims_are_per_instance_and_request() {
        let demo = InstanceId::parse("demo").unwrap();
        let other = InstanceId::parse("other").unwrap();
        assert_ne!(
            keys::gateway_request(&demo, "r1"),
            keys::gateway_request(&other, "r1")
        );
        assert_ne!(
            keys::gateway_request(&demo, "r1"),
            keys::gateway_request(&demo, "r2")
        );
        assert!(
            keys::gateway_request(&demo, "r1")
                .pk
                .starts_with("I#demo#REQ#")
        );
    }
}
