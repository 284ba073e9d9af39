//! Business-hours schedules: their changes, their rules (the whole schedule
//! must make a [`Calendar`](crate::domain::Calendar): a known zone,
//! well-formed hours that do not overlap, holidays once each, some open
//! time) and what stops their deletion (an SLA plan counting in it).
//! Listing, reading, creating, updating and deleting are
//! [`objects`](super::objects).

use serde::Deserialize;

use super::objects::{Deletable, Object, set};
use super::{records, validate};
use crate::domain::schedule::{Holiday, Opening};
use crate::domain::{Schedule, ScheduleError, ScheduleId, SlaPlan, SlaPlanId};
use crate::services::{Ctx, ServiceError};

/// Changes to a schedule made from `version`; absent fields stay. Hours and
/// holidays are replaced whole.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScheduleChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub always_open: Option<bool>,
    #[serde(default)]
    pub hours: Option<Vec<Opening>>,
    #[serde(default)]
    pub holidays: Option<Vec<Holiday>>,
}

/// The `invalid_field` error for a schedule that makes no calendar: the
/// field it is about, and a message that ends with the stable code of
/// [`ScheduleError`] in brackets (`[schedule_overlapping_intervals]`).
#[must_use]
pub fn refusal(error: &ScheduleError) -> ServiceError {
    validate::invalid(error.field(), format!("{error} [{}]", error.code()))
}

impl Object for Schedule {
    type Changes = ScheduleChanges;

    fn base_version(changes: &ScheduleChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: ScheduleChanges) {
        set(&mut self.name, changes.name);
        set(&mut self.timezone, changes.timezone);
        set(&mut self.always_open, changes.always_open);
        set(&mut self.hours, changes.hours);
        set(&mut self.holidays, changes.holidays);
    }

    /// The schedule makes a calendar; the zone is stored trimmed.
    async fn check(
        &mut self,
        _ctx: &Ctx<'_>,
        _own: Option<ScheduleId>,
    ) -> Result<(), ServiceError> {
        self.timezone = self.timezone.trim().to_owned();
        self.calendar().map(|_| ()).map_err(|e| refusal(&e))
    }
}

impl Deletable for Schedule {
    /// An SLA plan counting its targets in it.
    async fn used_by(ctx: &Ctx<'_>, id: ScheduleId) -> Result<Option<String>, ServiceError> {
        let plans = records::list::<SlaPlan>(ctx, SlaPlanId::KIND).await?;
        Ok(plans
            .iter()
            .find(|p| p.record.schedule == Some(id))
            .map(|plan| format!("SLA plan {:?} counting in it", plan.record.name)))
    }
}
