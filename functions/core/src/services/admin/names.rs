//! Names unique per kind in an instance, through claim items.
//!
//! A department, help topic, team, role, status or priority holds the claim
//! on its name ([`keys::object_name`]), written in the same transaction as
//! the object with an `Absent` condition: of two concurrent creates with one
//! name, the store lets exactly one commit. A rename releases the old claim
//! and takes the new one in the object's transaction; a delete releases it.
//! Checking by listing the kind could not do this: both creates would list
//! before either wrote.

use super::validate;
use crate::domain::InstanceId;
use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{Condition, Item, WriteOp};

/// Attribute of a claim holding the id of the object that has the name.
const HOLDER_ATTR: &str = "id";

/// The claim of object `id` of `kind` on `name`, as it is stored.
#[must_use]
pub fn claim_item(instance: &InstanceId, kind: &str, name: &str, id: u32) -> Item {
    Item::new(keys::object_name(instance, kind, name)).with(HOLDER_ATTR, i64::from(id))
}

/// Takes the claim on `name` for object `id`; fails if another holds it.
pub(super) fn claim(ctx: &Ctx<'_>, kind: &str, name: &str, id: u32) -> WriteOp {
    WriteOp::Put {
        item: claim_item(ctx.instance, kind, name, id),
        condition: Some(Condition::Absent),
    }
}

/// Releases the claim on `name` (a name never claimed is released as well).
pub(super) fn release(ctx: &Ctx<'_>, kind: &str, name: &str) -> WriteOp {
    WriteOp::Delete {
        key: keys::object_name(ctx.instance, kind, name),
        condition: None,
    }
}

/// The id of the object of `kind` holding the claim on `name`, if any.
pub(super) async fn holder(
    ctx: &Ctx<'_>,
    kind: &str,
    name: &str,
) -> Result<Option<u32>, ServiceError> {
    Ok(ctx
        .store
        .get(&keys::object_name(ctx.instance, kind, name))
        .await?
        .and_then(|item| item.get_i64(HOLDER_ATTR))
        .and_then(|id| u32::try_from(id).ok()))
}

/// Whether `a` and `b` are one name (they claim the same key).
pub(super) fn same(a: &str, b: &str) -> bool {
    keys::fold_name(a) == keys::fold_name(b)
}

/// The error for a name another object of the kind has: `invalid_field`
/// on `name`, as when uniqueness was checked by listing.
pub(super) fn taken(name: &str, holder: Option<u32>) -> ServiceError {
    let message = match holder {
        Some(id) => format!("{name:?} is already the name of another one (id {id})"),
        None => format!("{name:?} is already the name of another one"),
    };
    validate::invalid("name", message)
}
