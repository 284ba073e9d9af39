//! Configuration objects as versioned items: reading them, and the write
//! operations that create or replace one only if nobody changed it meanwhile.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{Condition, Item, Key, Query, StoreError, WriteOp, codec};

/// Attribute holding an object's version, beside the record's fields.
pub const VERSION_ATTR: &str = "version";

/// An object with the version it was read at. An update names this version;
/// it is written only if the stored object still has it.
///
/// Serialises as the record's fields plus `"version"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versioned<T> {
    #[serde(flatten)]
    pub record: T,
    /// 1 when created, one more with every change. Objects written before
    /// versions existed read as 0.
    pub version: i64,
}

impl<T> Versioned<T> {
    /// The same version of a transformed record.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Versioned<U> {
        Versioned {
            record: f(self.record),
            version: self.version,
        }
    }
}

/// The key of object `id` of `kind` in the call's instance.
#[must_use]
pub fn key(ctx: &Ctx<'_>, kind: &str, id: u32) -> Key {
    keys::object(ctx.instance, kind, id)
}

/// The record in `item` with its version (0 for items written before versions).
pub(super) fn decode<T: DeserializeOwned>(item: &Item) -> Result<Versioned<T>, ServiceError> {
    Ok(Versioned {
        record: codec::decode(item)?,
        version: item.get_i64(VERSION_ATTR).unwrap_or(0),
    })
}

/// Object `id` of `kind`, or `NotFound` naming `what`.
pub async fn load<T: DeserializeOwned>(
    ctx: &Ctx<'_>,
    kind: &str,
    id: u32,
    what: &str,
) -> Result<Versioned<T>, ServiceError> {
    match ctx.store.get(&key(ctx, kind, id)).await? {
        Some(item) => decode(&item),
        None => Err(ServiceError::NotFound(format!("{what} {id}"))),
    }
}

/// Every object of `kind` in the instance, by id: one key-range query of the
/// instance partition (paged through; configuration lists are short).
pub async fn list<T: DeserializeOwned>(
    ctx: &Ctx<'_>,
    kind: &str,
) -> Result<Vec<Versioned<T>>, ServiceError> {
    let mut out = Vec::new();
    let mut query = Query::table(keys::instance_pk(ctx.instance))
        .sk(keys::objects_of(kind))
        .limit(crate::store::MAX_QUERY_LIMIT);
    loop {
        let page = ctx.store.query(&query).await?;
        for item in &page.items {
            out.push(decode(item)?);
        }
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
}

/// Puts a new object (version 1) if no object has its key.
pub fn create_op<T: Serialize>(
    ctx: &Ctx<'_>,
    kind: &str,
    id: u32,
    record: &T,
) -> Result<WriteOp, ServiceError> {
    Ok(WriteOp::Put {
        item: codec::encode(key(ctx, kind, id), record)?.with(VERSION_ATTR, 1),
        condition: Some(Condition::Absent),
    })
}

/// Replaces object `id` with `record` if it is still at `version`; the
/// stored version becomes `version + 1`.
pub fn replace_op<T: Serialize>(
    ctx: &Ctx<'_>,
    kind: &str,
    id: u32,
    record: &T,
    version: i64,
) -> Result<WriteOp, ServiceError> {
    Ok(WriteOp::Put {
        item: codec::encode(key(ctx, kind, id), record)?.with(VERSION_ATTR, version + 1),
        condition: Some(if_at(version)),
    })
}

/// The condition that an object is still at `version` (objects from before
/// versions, read as 0, can only be required to exist).
#[must_use]
pub fn if_at(version: i64) -> Condition {
    if version == 0 {
        Condition::Exists
    } else {
        Condition::equals(VERSION_ATTR, version)
    }
}

/// Writes `ops` all or none. A failed condition means someone changed (or
/// took) what the call read: `Conflict` naming `what` — or, when `explain`
/// recognises the failed operation's index, the error it returns.
pub async fn commit(
    ctx: &Ctx<'_>,
    ops: Vec<WriteOp>,
    what: &str,
    explain: impl Fn(usize) -> Option<ServiceError>,
) -> Result<(), ServiceError> {
    match ctx.store.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failed }) => Err(failed
            .iter()
            .find_map(|i| explain(*i))
            .unwrap_or_else(|| stale(what))),
        Err(other) => Err(other.into()),
    }
}

/// The error of an update made from a version that is no longer current.
#[must_use]
pub fn stale(what: &str) -> ServiceError {
    // Displays as "a newer version of {what} already exists".
    ServiceError::Conflict(format!("a newer version of {what}"))
}

/// Refuses an update made from another version than the one stored.
pub fn check_version(what: &str, stored: i64, given: i64) -> Result<(), ServiceError> {
    if stored == given {
        Ok(())
    } else {
        Err(stale(what))
    }
}

/// Whether object `id` of `kind` exists in the call's instance.
pub async fn exists(ctx: &Ctx<'_>, kind: &str, id: u32) -> Result<bool, ServiceError> {
    Ok(ctx.store.get(&key(ctx, kind, id)).await?.is_some())
}
