//! The ticket status list: statuses are added and renamed, never deleted
//! nor moved to another state, since tickets hold them and are queued by
//! their state. Listing, reading, creating and updating are
//! [`objects`](super::objects).

use serde::Deserialize;

use super::objects::{Object, set};
use crate::domain::{Status, StatusId};
use crate::services::{Ctx, ServiceError};

/// A new name for a status, made from `version`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
}

impl Object for Status {
    type Changes = StatusChanges;

    fn base_version(changes: &StatusChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: StatusChanges) {
        set(&mut self.name, changes.name);
    }

    /// Every state may have statuses of its own.
    async fn check(&mut self, _ctx: &Ctx<'_>, _own: Option<StatusId>) -> Result<(), ServiceError> {
        Ok(())
    }
}
