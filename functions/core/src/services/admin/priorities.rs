//! Ticket priorities: added, renamed, re-ranked, and deleted unless a help
//! topic uses one. Listing, reading, creating, updating and deleting are
//! [`objects`](super::objects).

use serde::Deserialize;

use super::objects::{Deletable, Object, set};
use super::{records, validate};
use crate::domain::{HelpTopic, Priority, PriorityId, TopicId};
use crate::services::{Ctx, ServiceError};

/// Changes to a priority made from `version`; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PriorityChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub urgency: Option<u8>,
}

impl Object for Priority {
    type Changes = PriorityChanges;

    fn base_version(changes: &PriorityChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: PriorityChanges) {
        set(&mut self.name, changes.name);
        set(&mut self.urgency, changes.urgency);
    }

    /// An urgency from 1 (most urgent) to 10.
    async fn check(
        &mut self,
        _ctx: &Ctx<'_>,
        _own: Option<PriorityId>,
    ) -> Result<(), ServiceError> {
        if (1..=10).contains(&self.urgency) {
            Ok(())
        } else {
            Err(validate::invalid(
                "urgency",
                "must be from 1 (most urgent) to 10",
            ))
        }
    }
}

impl Deletable for Priority {
    /// A help topic giving it to its tickets.
    async fn used_by(ctx: &Ctx<'_>, id: PriorityId) -> Result<Option<String>, ServiceError> {
        let topics = records::list::<HelpTopic>(ctx, TopicId::KIND).await?;
        Ok(topics
            .iter()
            .find(|t| t.record.priority == Some(id))
            .map(|topic| format!("help topic {:?} with it", topic.record.name)))
    }
}
