//! Allocating the next id of a kind from the instance's sequence counter.

use crate::domain::InstanceId;
use crate::keys;
use crate::services::ServiceError;
use crate::store::{ItemStore, StoreError, Update};

/// The next id of `kind` (`DEPT`, `TOPIC`, ...) in `instance`: one atomic
/// `ADD last 1` on the kind's sequence, which starts from 0 when missing.
///
/// An id taken by a write that then fails is never reused; ids only need to
/// be unique, not dense.
pub async fn next(
    store: &dyn ItemStore,
    instance: &InstanceId,
    kind: &str,
) -> Result<u32, ServiceError> {
    let item = store
        .update(Update::new(keys::sequence(instance, kind)).add(keys::SEQUENCE_ATTR, 1))
        .await?;
    let last = item.get_i64(keys::SEQUENCE_ATTR).ok_or_else(|| {
        StoreError::Corrupt(format!("the {kind} sequence of {instance} holds no number"))
    })?;
    u32::try_from(last).map_err(|_| {
        StoreError::Corrupt(format!(
            "the {kind} sequence of {instance} is out of range: {last}"
        ))
        .into()
    })
}
