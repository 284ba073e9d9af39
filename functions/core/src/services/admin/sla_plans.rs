//! SLA plans: their changes, their rules (targets and warning within
//! bounds, [`SlaPlan::check`]; an existing schedule; pause statuses that
//! exist and belong to the open state) and what stops their deletion (a
//! department or help topic giving it to its tickets). Listing, reading,
//! creating, updating and deleting are [`objects`](super::objects).
//!
//! Tickets keep the id of the plan they were given: deleting a plan no
//! department or topic names leaves such tickets without a plan to count
//! in, and their clocks stop.

use serde::Deserialize;

use super::objects::{Deletable, Object, set};
use super::{nullable, records, validate};
use crate::domain::{
    Department, DepartmentId, HelpTopic, ScheduleId, SlaPlan, SlaPlanId, State, Status, StatusId,
    TopicId,
};
use crate::services::{Ctx, ServiceError};

/// Changes to an SLA plan made from `version`; absent fields stay, `null`
/// clears an optional one (a `null` schedule is 24x7).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlaPlanChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub first_response_minutes: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub next_response_minutes: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub resolution_minutes: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub schedule: Option<Option<ScheduleId>>,
    #[serde(default)]
    pub pause_statuses: Option<Vec<StatusId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub warning_percent: Option<Option<u8>>,
    #[serde(default)]
    pub transient: Option<bool>,
    #[serde(default)]
    pub overdue_alerts: Option<bool>,
}

impl Object for SlaPlan {
    type Changes = SlaPlanChanges;

    fn base_version(changes: &SlaPlanChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: SlaPlanChanges) {
        set(&mut self.name, changes.name);
        set(
            &mut self.first_response_minutes,
            changes.first_response_minutes,
        );
        set(
            &mut self.next_response_minutes,
            changes.next_response_minutes,
        );
        set(&mut self.resolution_minutes, changes.resolution_minutes);
        set(&mut self.schedule, changes.schedule);
        set(&mut self.pause_statuses, changes.pause_statuses);
        set(&mut self.warning_percent, changes.warning_percent);
        set(&mut self.transient, changes.transient);
        set(&mut self.overdue_alerts, changes.overdue_alerts);
    }

    /// The plan's own rules (the message ends with their stable code in
    /// brackets, `[sla_no_target]`), an existing schedule
    /// (`[sla_unknown_schedule]`), and pause
    /// statuses that exist and are open ones.
    async fn check(&mut self, ctx: &Ctx<'_>, _own: Option<SlaPlanId>) -> Result<(), ServiceError> {
        SlaPlan::check(self)
            .map_err(|e| validate::invalid(e.field(), format!("{e} [{}]", e.code())))?;
        if let Some(schedule) = self.schedule
            && !records::exists(ctx, ScheduleId::KIND, schedule.0).await?
        {
            return Err(validate::invalid(
                "schedule",
                format!("schedule {schedule} does not exist [sla_unknown_schedule]"),
            ));
        }
        if !self.pause_statuses.is_empty() {
            let statuses = records::list::<Status>(ctx, StatusId::KIND).await?;
            for id in &self.pause_statuses {
                match statuses.iter().find(|s| s.record.id == *id) {
                    None => {
                        return Err(validate::invalid(
                            "pause_statuses",
                            format!("status {id} does not exist"),
                        ));
                    }
                    Some(s) if s.record.state != State::Open => {
                        return Err(validate::invalid(
                            "pause_statuses",
                            format!("status {:?} is not an open one", s.record.name),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

impl Deletable for SlaPlan {
    /// A department or help topic giving it to its tickets.
    async fn used_by(ctx: &Ctx<'_>, id: SlaPlanId) -> Result<Option<String>, ServiceError> {
        let departments = records::list::<Department>(ctx, DepartmentId::KIND).await?;
        if let Some(d) = departments.iter().find(|d| d.record.sla == Some(id.0)) {
            return Ok(Some(format!("department {:?} with it", d.record.name)));
        }
        let topics = records::list::<HelpTopic>(ctx, TopicId::KIND).await?;
        Ok(topics
            .iter()
            .find(|t| t.record.sla == Some(id.0))
            .map(|t| format!("help topic {:?} with it", t.record.name)))
    }
}

/// Refuses an `sla` field (of a department or help topic) naming no plan.
pub(super) async fn require_plan(ctx: &Ctx<'_>, sla: Option<u32>) -> Result<(), ServiceError> {
    match sla {
        Some(id) if !records::exists(ctx, SlaPlanId::KIND, id).await? => Err(validate::invalid(
            "sla",
            format!("SLA plan {id} does not exist"),
        )),
        _ => Ok(()),
    }
}
