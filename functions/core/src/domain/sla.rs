//! SLA plans: the promises a service unit makes on its tickets, and the pure
//! computation of when each one falls due.
//!
//! A plan has up to three targets, each in business minutes of its
//! schedule ([`super::schedule`]; none means 24x7):
//!
//! - **first response**: from the ticket's creation to the first response;
//! - **next response**: once a ticket has had a response, from each user
//!   message still awaiting an answer to the response that answers it;
//! - **resolution**: from creation to the ticket's close.
//!
//! Time spent in a status the plan names in `pause_statuses` (e.g.
//! "waiting on user") counts towards no target: [`due_times`] pushes every
//! running target back by the business time the ticket spent paused, and
//! while it is paused no target has a due time. A warning fires when
//! `warning_percent` of a target's business time has elapsed.
//!
//! [`due_times`] reads a ticket's clock ([`ClockHistory`]) and answers every
//! due time, every warning time, whether anything is overdue at `now`, and
//! [`SlaTimes::next_fire_ms`]: the earliest later moment at which a warning
//! or a breach could fire, which is what the escalation tick's sparse index
//! orders tickets by.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::ids::{ScheduleId, SlaPlanId, StatusId};
use super::schedule::{Calendar, MINUTE_MS};

/// The longest target: a year of business minutes.
pub const MAX_TARGET_MINUTES: u32 = 365 * 24 * 60;
/// The warning threshold of a new plan, in percent of each target.
pub const DEFAULT_WARNING_PERCENT: u8 = 80;

fn default_warning() -> Option<u8> {
    Some(DEFAULT_WARNING_PERCENT)
}

fn yes() -> bool {
    true
}

/// An SLA plan as an instance stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPlan {
    pub id: SlaPlanId,
    pub name: String,
    /// Business minutes from creation to the first response.
    #[serde(default)]
    pub first_response_minutes: Option<u32>,
    /// Business minutes from a user message awaiting an answer to the
    /// response, once the ticket has had a first response.
    #[serde(default)]
    pub next_response_minutes: Option<u32>,
    /// Business minutes from creation to the close.
    #[serde(default)]
    pub resolution_minutes: Option<u32>,
    /// The schedule whose business hours the targets count; `null` is 24x7.
    #[serde(default)]
    pub schedule: Option<ScheduleId>,
    /// Statuses (of the open state) that stop every clock while a ticket
    /// has them.
    #[serde(default)]
    pub pause_statuses: Vec<StatusId>,
    /// Warn when this percent of a target has elapsed (1 to 99); `null`
    /// never warns.
    #[serde(default = "default_warning")]
    pub warning_percent: Option<u8>,
    /// A ticket whose help topic or department changes takes the new one's
    /// plan instead of keeping this one.
    #[serde(default)]
    pub transient: bool,
    /// Alert the ticket's agents when a target is missed.
    #[serde(default = "yes")]
    pub overdue_alerts: bool,
}

/// Why a plan cannot be saved. Each variant has a stable [`code`](Self::code).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SlaError {
    #[error("a plan needs at least one target")]
    NoTarget,
    #[error("{0}: a target is 1 to {MAX_TARGET_MINUTES} business minutes")]
    BadTarget(&'static str),
    #[error("the warning is 1 to 99 percent of a target")]
    BadWarning,
}

impl SlaError {
    /// The stable snake_case code of the error.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoTarget => "sla_no_target",
            Self::BadTarget(_) => "sla_bad_target",
            Self::BadWarning => "sla_bad_warning",
        }
    }

    /// The field of [`SlaPlan`] the error is about.
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            Self::NoTarget => "first_response_minutes",
            Self::BadTarget(field) => field,
            Self::BadWarning => "warning_percent",
        }
    }
}

impl SlaPlan {
    /// Checks what the plan says on its own (that its schedule and statuses
    /// exist is the service's to check): at least one target, each within
    /// bounds, a warning between 1 and 99 percent. Pause statuses are
    /// sorted and listed once.
    pub fn check(&mut self) -> Result<(), SlaError> {
        let targets = [
            ("first_response_minutes", self.first_response_minutes),
            ("next_response_minutes", self.next_response_minutes),
            ("resolution_minutes", self.resolution_minutes),
        ];
        if targets.iter().all(|(_, t)| t.is_none()) {
            return Err(SlaError::NoTarget);
        }
        for (field, target) in targets {
            if let Some(minutes) = target
                && !(1..=MAX_TARGET_MINUTES).contains(&minutes)
            {
                return Err(SlaError::BadTarget(field));
            }
        }
        if let Some(percent) = self.warning_percent
            && !(1..=99).contains(&percent)
        {
            return Err(SlaError::BadWarning);
        }
        self.pause_statuses.sort_unstable();
        self.pause_statuses.dedup();
        Ok(())
    }

    /// Whether a ticket in `status` has its clocks stopped.
    #[must_use]
    pub fn pauses(&self, status: StatusId) -> bool {
        self.pause_statuses.contains(&status)
    }

    /// The pause intervals of a ticket whose status changed as `changes`
    /// says (`(at_ms, status)`, the first one its status at creation), in
    /// the order they happened.
    #[must_use]
    pub fn pauses_of(&self, changes: &[(i64, StatusId)]) -> Vec<Pause> {
        let mut out: Vec<Pause> = Vec::new();
        let mut since: Option<i64> = None;
        for &(at, status) in changes {
            match (since, self.pauses(status)) {
                (None, true) => since = Some(at),
                (Some(from), false) => {
                    out.push(Pause {
                        from_ms: from,
                        to_ms: Some(at),
                    });
                    since = None;
                }
                _ => {}
            }
        }
        if let Some(from) = since {
            out.push(Pause {
                from_ms: from,
                to_ms: None,
            });
        }
        out
    }
}

/// A stretch of time in a pausing status; `to_ms` is `None` while the
/// ticket is still paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from_ms: i64,
    pub to_ms: Option<i64>,
}

/// What the SLA clocks of a ticket need to know of its life.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockHistory {
    pub created_ms: i64,
    /// The first response, if it has had one.
    pub first_response_ms: Option<i64>,
    /// The user message awaiting an answer since, if any (the earliest one
    /// after the last response).
    pub awaiting_since_ms: Option<i64>,
    /// When it was closed, if it is: every clock stops.
    pub closed_ms: Option<i64>,
    /// Time in pausing statuses, in any order, possibly overlapping.
    pub pauses: Vec<Pause>,
}

/// Where a running target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TargetTimes {
    /// The clock runs: due at `due_ms`, warning at `warn_ms` (if the plan
    /// warns).
    Running { due_ms: i64, warn_ms: Option<i64> },
    /// The ticket is in a pausing status: `left_ms` of business time
    /// remain when it leaves it.
    Paused { left_ms: i64 },
}

impl TargetTimes {
    /// The due time, while the clock runs.
    #[must_use]
    pub fn due_ms(&self) -> Option<i64> {
        match self {
            Self::Running { due_ms, .. } => Some(*due_ms),
            Self::Paused { .. } => None,
        }
    }

    /// The warning time, while the clock runs and the plan warns.
    #[must_use]
    pub fn warn_ms(&self) -> Option<i64> {
        match self {
            Self::Running { warn_ms, .. } => *warn_ms,
            Self::Paused { .. } => None,
        }
    }
}

/// Every clock of a ticket under a plan, at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTimes {
    /// `None`: the plan has no such target, or it is met, or it has not
    /// started (a next response before the first one).
    pub first_response: Option<TargetTimes>,
    pub next_response: Option<TargetTimes>,
    pub resolution: Option<TargetTimes>,
    /// The ticket is in a pausing status.
    pub paused: bool,
    /// A running target's due time has come (`due_ms <= now`).
    pub overdue: bool,
    /// The earliest warning or due time after `now`; `None` when nothing
    /// more can fire until the ticket changes.
    pub next_fire_ms: Option<i64>,
}

impl SlaTimes {
    /// The running targets.
    pub fn targets(&self) -> impl Iterator<Item = TargetTimes> + use<> {
        [self.first_response, self.next_response, self.resolution]
            .into_iter()
            .flatten()
    }

    /// The earliest due time of a running target.
    #[must_use]
    pub fn earliest_due_ms(&self) -> Option<i64> {
        self.targets().filter_map(|t| t.due_ms()).min()
    }
}

/// Sorted, merged pauses; an open-ended one runs to `i64::MAX`.
fn merged(pauses: &[Pause]) -> Vec<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = pauses
        .iter()
        .map(|p| (p.from_ms, p.to_ms.unwrap_or(i64::MAX)))
        .filter(|(a, b)| b > a)
        .collect();
    spans.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// The moment `amount_ms` of unpaused business time has elapsed since
/// `start_ms`, or `Err(left)` when a pause still running stops the clock
/// with `left` business milliseconds to go.
fn add_unpaused(
    calendar: &Calendar,
    pauses: &[(i64, i64)],
    start_ms: i64,
    amount_ms: i64,
) -> Result<i64, i64> {
    let mut at = start_ms;
    let mut left = amount_ms;
    for &(from, to) in pauses {
        if to <= at {
            continue;
        }
        if from > at {
            let available = calendar.business_between(at, from);
            if left <= available {
                return Ok(calendar.add_business(at, left));
            }
            left -= available;
        }
        if to == i64::MAX {
            return Err(left);
        }
        at = to;
    }
    Ok(calendar.add_business(at, left))
}

/// One target's times: started at `start_ms`, `minutes` long.
fn target(
    plan: &SlaPlan,
    calendar: &Calendar,
    pauses: &[(i64, i64)],
    start_ms: i64,
    minutes: u32,
) -> TargetTimes {
    let total = i64::from(minutes) * MINUTE_MS;
    match add_unpaused(calendar, pauses, start_ms, total) {
        Ok(due_ms) => TargetTimes::Running {
            due_ms,
            warn_ms: plan.warning_percent.and_then(|percent| {
                let part = total * i64::from(percent) / 100;
                add_unpaused(calendar, pauses, start_ms, part).ok()
            }),
        },
        Err(left_ms) => TargetTimes::Paused { left_ms },
    }
}

/// The clocks of a ticket under `plan`, counted in `calendar` (the plan's
/// schedule, or [`Calendar::always`]), as they stand at `now_ms`.
#[must_use]
pub fn due_times(
    plan: &SlaPlan,
    calendar: &Calendar,
    history: &ClockHistory,
    now_ms: i64,
) -> SlaTimes {
    let pauses = merged(&history.pauses);
    let paused = pauses.last().is_some_and(|&(_, to)| to == i64::MAX);
    let mut times = SlaTimes {
        first_response: None,
        next_response: None,
        resolution: None,
        paused: paused && history.closed_ms.is_none(),
        overdue: false,
        next_fire_ms: None,
    };
    if history.closed_ms.is_some() {
        return times;
    }
    let run = |start: i64, minutes: Option<u32>| {
        minutes.map(|m| target(plan, calendar, &pauses, start, m))
    };
    match history.first_response_ms {
        None => times.first_response = run(history.created_ms, plan.first_response_minutes),
        Some(_) => {
            if let Some(since) = history.awaiting_since_ms {
                times.next_response = run(since, plan.next_response_minutes);
            }
        }
    }
    times.resolution = run(history.created_ms, plan.resolution_minutes);
    times.overdue = times
        .targets()
        .filter_map(|t| t.due_ms())
        .any(|due| due <= now_ms);
    times.next_fire_ms = times
        .targets()
        .flat_map(|t| [t.warn_ms(), t.due_ms()])
        .flatten()
        .filter(|&at| at > now_ms)
        .min();
    times
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDateTime, TimeZone};
    use chrono_tz::Tz;

    use super::*;
    use crate::domain::schedule::{Day, Holiday, Opening, Schedule};

    const HOUR: i64 = 60 * MINUTE_MS;

    fn madrid(wall: &str) -> i64 {
        let tz: Tz = "Europe/Madrid".parse().unwrap();
        let naive = NaiveDateTime::parse_from_str(wall, "%Y-%m-%d %H:%M").unwrap();
        tz.from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .timestamp_millis()
    }

    fn wall(ms: i64) -> String {
        let tz: Tz = "Europe/Madrid".parse().unwrap();
        tz.timestamp_millis_opt(ms)
            .unwrap()
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// Mon–Fri 09:00–17:00 in Madrid, the Diada closed.
    fn office() -> Calendar {
        Schedule {
            id: ScheduleId(1),
            name: "Office".into(),
            timezone: "Europe/Madrid".into(),
            always_open: false,
            hours: vec![Opening {
                days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
                from: "09:00".into(),
                to: "17:00".into(),
            }],
            holidays: vec![Holiday {
                date: "2026-09-11".into(),
                until: None,
                name: Some("Diada".into()),
                hours: None,
            }],
        }
        .calendar()
        .unwrap()
    }

    /// First response in 4 business hours, next in 8, resolution in 40;
    /// status 5 ("waiting on user") pauses; warn at 80 %.
    fn plan() -> SlaPlan {
        SlaPlan {
            id: SlaPlanId(1),
            name: "Standard".into(),
            first_response_minutes: Some(4 * 60),
            next_response_minutes: Some(8 * 60),
            resolution_minutes: Some(40 * 60),
            schedule: Some(ScheduleId(1)),
            pause_statuses: vec![StatusId(5)],
            warning_percent: Some(80),
            transient: false,
            overdue_alerts: true,
        }
    }

    fn created(wall: &str) -> ClockHistory {
        ClockHistory {
            created_ms: madrid(wall),
            ..ClockHistory::default()
        }
    }

    fn running(t: Option<TargetTimes>) -> (String, Option<String>) {
        match t {
            Some(TargetTimes::Running { due_ms, warn_ms }) => (wall(due_ms), warn_ms.map(wall)),
            other => panic!("not running: {other:?}"),
        }
    }

    #[test]
    fn a_new_ticket_has_first_response_and_resolution_due_in_business_time() {
        // Wednesday 9 September 2026 at 15:00; Friday is the Diada.
        let history = created("2026-09-09 15:00");
        let t = due_times(&plan(), &office(), &history, history.created_ms);
        // 4h: 2h on Wednesday, 2h on Thursday; warning at 3h12m.
        assert_eq!(
            running(t.first_response),
            ("2026-09-10 11:00".into(), Some("2026-09-10 10:12".into()))
        );
        // 40h: Wed 2h, Thu 8h, (Fri holiday, weekend), Mon–Wed 24h, Thu 6h.
        assert_eq!(running(t.resolution).0, "2026-09-17 15:00");
        assert_eq!(t.next_response, None, "no response yet");
        assert!(!t.overdue && !t.paused);
        assert_eq!(t.next_fire_ms, Some(madrid("2026-09-10 10:12")));
        assert_eq!(t.earliest_due_ms(), Some(madrid("2026-09-10 11:00")));
    }

    #[test]
    fn next_fire_moves_past_each_moment_and_overdue_follows_the_due_time() {
        let history = created("2026-09-09 15:00");
        let (p, cal) = (plan(), office());
        let warn = madrid("2026-09-10 10:12");
        let due = madrid("2026-09-10 11:00");
        let at_warn = due_times(&p, &cal, &history, warn);
        assert_eq!(at_warn.next_fire_ms, Some(due));
        assert!(!at_warn.overdue);
        let before = due_times(&p, &cal, &history, due - 1);
        assert!(!before.overdue);
        let at_due = due_times(&p, &cal, &history, due);
        assert!(at_due.overdue);
        // Next: the resolution's warning (32h in: Wednesday 16 at 15:00).
        assert_eq!(at_due.next_fire_ms, Some(madrid("2026-09-16 15:00")));
        let late = due_times(&p, &cal, &history, madrid("2026-12-01 00:00"));
        assert!(late.overdue);
        assert_eq!(late.next_fire_ms, None, "everything has fired");
    }

    #[test]
    fn a_first_response_stops_its_clock_and_a_waiting_message_starts_the_next() {
        let mut history = created("2026-09-09 15:00");
        history.first_response_ms = Some(madrid("2026-09-09 16:00"));
        let (p, cal) = (plan(), office());
        let t = due_times(&p, &cal, &history, madrid("2026-09-09 16:00"));
        assert_eq!(t.first_response, None, "met");
        assert_eq!(t.next_response, None, "nothing awaits an answer");
        assert!(t.resolution.is_some());

        // The user writes back Thursday at 16:00: 8h is 1h Thursday, the
        // Diada and the weekend closed, 7h on Monday.
        history.awaiting_since_ms = Some(madrid("2026-09-10 16:00"));
        let t = due_times(&p, &cal, &history, madrid("2026-09-10 16:00"));
        assert_eq!(
            running(t.next_response),
            ("2026-09-14 16:00".into(), Some("2026-09-14 14:24".into()))
        );
    }

    #[test]
    fn a_pause_pushes_every_due_time_back_by_the_business_time_paused() {
        let mut history = created("2026-09-09 15:00");
        // Waiting on the user from Wednesday 16:00 to Thursday 10:00: 2
        // business hours (16–17 and 9–10).
        history.pauses = vec![Pause {
            from_ms: madrid("2026-09-09 16:00"),
            to_ms: Some(madrid("2026-09-10 10:00")),
        }];
        let t = due_times(&plan(), &office(), &history, madrid("2026-09-10 10:00"));
        assert_eq!(running(t.first_response).0, "2026-09-10 13:00");
        // 40h ends at closing time on Thursday 17 rather than 15:00.
        assert_eq!(running(t.resolution).0, "2026-09-17 17:00");
        assert!(!t.paused);
    }

    #[test]
    fn while_paused_no_clock_runs_and_nothing_fires() {
        let mut history = created("2026-09-09 15:00");
        history.pauses = vec![Pause {
            from_ms: madrid("2026-09-09 16:00"),
            to_ms: None,
        }];
        let t = due_times(&plan(), &office(), &history, madrid("2026-10-01 12:00"));
        assert!(t.paused);
        assert!(!t.overdue);
        assert_eq!(t.next_fire_ms, None);
        assert_eq!(
            t.first_response,
            Some(TargetTimes::Paused { left_ms: 3 * HOUR })
        );
        assert_eq!(
            t.resolution,
            Some(TargetTimes::Paused { left_ms: 39 * HOUR })
        );
    }

    #[test]
    fn pauses_overlapping_or_before_the_start_count_once() {
        let mut history = created("2026-09-09 15:00");
        history.pauses = vec![
            Pause {
                from_ms: madrid("2026-09-09 16:30"),
                to_ms: Some(madrid("2026-09-09 17:00")),
            },
            Pause {
                from_ms: madrid("2026-09-09 16:00"),
                to_ms: Some(madrid("2026-09-09 16:45")),
            },
            // Before the ticket existed: changes nothing.
            Pause {
                from_ms: madrid("2026-09-01 09:00"),
                to_ms: Some(madrid("2026-09-01 12:00")),
            },
        ];
        let t = due_times(&plan(), &office(), &history, history.created_ms);
        // One business hour paused (16:00–17:00).
        assert_eq!(running(t.first_response).0, "2026-09-10 12:00");
    }

    #[test]
    fn a_warning_that_falls_inside_a_pause_lands_after_it() {
        let mut history = created("2026-09-09 09:00");
        // 80 % of 4h is 3h12m: 12:12, but paused 12:00–15:00.
        history.pauses = vec![Pause {
            from_ms: madrid("2026-09-09 12:00"),
            to_ms: Some(madrid("2026-09-09 15:00")),
        }];
        let t = due_times(&plan(), &office(), &history, history.created_ms);
        assert_eq!(
            running(t.first_response),
            ("2026-09-09 16:00".into(), Some("2026-09-09 15:12".into()))
        );
    }

    #[test]
    fn a_closed_ticket_has_no_clock() {
        let mut history = created("2026-09-09 15:00");
        history.closed_ms = Some(madrid("2026-09-09 15:30"));
        let t = due_times(&plan(), &office(), &history, madrid("2026-12-01 00:00"));
        assert_eq!(t.targets().count(), 0);
        assert!(!t.overdue);
        assert_eq!(t.next_fire_ms, None);
    }

    #[test]
    fn a_24x7_plan_without_warnings_counts_real_time() {
        let mut p = plan();
        p.schedule = None;
        p.warning_percent = None;
        p.resolution_minutes = None;
        let history = created("2026-09-11 22:00");
        let t = due_times(&p, &Calendar::always(), &history, history.created_ms);
        assert_eq!(running(t.first_response), ("2026-09-12 02:00".into(), None));
        assert_eq!(t.resolution, None);
        assert_eq!(t.next_fire_ms, Some(madrid("2026-09-12 02:00")));
    }

    #[test]
    fn pauses_come_from_the_status_changes_the_plan_names() {
        let p = plan();
        let open = StatusId(1);
        let waiting = StatusId(5);
        let changes = [
            (0, open),
            (10, waiting),
            (15, waiting),
            (20, open),
            (30, waiting),
        ];
        assert_eq!(
            p.pauses_of(&changes),
            vec![
                Pause {
                    from_ms: 10,
                    to_ms: Some(20)
                },
                Pause {
                    from_ms: 30,
                    to_ms: None
                },
            ]
        );
        assert!(p.pauses_of(&[(0, open)]).is_empty());
    }

    #[test]
    fn bad_plans_are_refused_with_stable_codes() {
        let mut ok = plan();
        ok.pause_statuses = vec![StatusId(7), StatusId(5), StatusId(7)];
        assert!(ok.check().is_ok());
        assert_eq!(ok.pause_statuses, vec![StatusId(5), StatusId(7)]);

        let mut none = plan();
        none.first_response_minutes = None;
        none.next_response_minutes = None;
        none.resolution_minutes = None;
        assert_eq!(none.check().unwrap_err().code(), "sla_no_target");

        let mut zero = plan();
        zero.next_response_minutes = Some(0);
        let err = zero.check().unwrap_err();
        assert_eq!(
            (err.code(), err.field()),
            ("sla_bad_target", "next_response_minutes")
        );
        let mut huge = plan();
        huge.resolution_minutes = Some(MAX_TARGET_MINUTES + 1);
        assert_eq!(huge.check().unwrap_err().code(), "sla_bad_target");

        for percent in [0, 100, 150] {
            let mut p = plan();
            p.warning_percent = Some(percent);
            assert_eq!(
                p.check().unwrap_err().code(),
                "sla_bad_warning",
                "{percent}"
            );
        }
    }

    #[test]
    fn a_plan_from_json_takes_its_defaults() {
        let p: SlaPlan = serde_json::from_value(serde_json::json!({
            "id": 0, "name": "Quick", "first_response_minutes": 30,
        }))
        .unwrap();
        assert_eq!(p.warning_percent, Some(DEFAULT_WARNING_PERCENT));
        assert!(p.overdue_alerts && !p.transient);
        assert_eq!(p.schedule, None, "24x7");
        assert!(p.pause_statuses.is_empty());
    }
}
