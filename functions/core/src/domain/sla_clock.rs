//! A ticket's SLA clock: what the ticket's life means for its plan's
//! targets, kept on the ticket and brought up to date, without I/O, every
//! time the ticket is written.
//!
//! [`SlaClock::observe`] compares the ticket with what the clock last saw
//! (its status, its last message and response, its plan) and records what
//! happened since: a status change (the marks from which pauses and closed
//! stretches are derived), the first response, a user message now awaiting
//! an answer, a new plan. [`SlaClock::compute`] then turns that history
//! into every target's due and warning time under the plan
//! ([`sla::due_times`]) and answers the two things the rest of Taquilla
//! reads:
//!
//! - the ticket's `due_at` (an agent's own due date wins over the plan's
//!   earliest due time) and whether it is still `overdue`;
//! - [`SlaClock::next_fire_ms`]: the earliest moment at which the tick
//!   owes something (a warning or a breach not yet handled), in the past
//!   when it is owed already. [`next_fire`] combines it with the other
//!   sources of time-driven work into the key of the due index.
//!
//! Warnings and breaches are handled once per target: the tick records
//! them in `warned` and `breached`; a target that starts again (a new
//! message awaiting an answer, a new plan, a new due date) forgets them.

use serde::{Deserialize, Serialize};

use super::schedule::Calendar;
use super::sla::{self, ClockHistory, Pause, SlaPlan, TargetTimes};
use super::{State, StatusId, Ticket};

/// One promise on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    FirstResponse,
    NextResponse,
    Resolution,
    /// A due date an agent set by hand.
    DueDate,
}

impl Target {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::NextResponse => "next_response",
            Self::Resolution => "resolution",
            Self::DueDate => "due_date",
        }
    }
}

/// Where a target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    Running,
    Paused,
    Met,
    Breached,
}

/// A target as a reader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetView {
    pub target: Target,
    pub state: TargetState,
    /// Epoch ms, while it runs (or was breached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<i64>,
    /// Epoch ms of the pre-breach warning, when the plan warns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_at: Option<i64>,
    /// Business ms left, while paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_ms: Option<i64>,
    /// Epoch ms it was met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_at: Option<i64>,
}

/// A status the ticket took, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub at: i64,
    pub status: StatusId,
    /// The status is of the open state.
    pub open: bool,
}

/// Most status marks kept; older ones are folded into the first.
pub const MAX_MARKS: usize = 64;

/// The SLA clock a ticket carries (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlaClock {
    /// The plan the clock counts in, as last seen on the ticket.
    pub plan: Option<u32>,
    /// The help topic and department last seen (a change of either may
    /// replace a transient plan).
    pub topic: Option<u32>,
    pub department: Option<u32>,
    pub first_response_at: Option<i64>,
    /// The user message awaiting an answer since, once there was a first
    /// response.
    pub awaiting_since: Option<i64>,
    pub last_message_at: Option<i64>,
    pub last_response_at: Option<i64>,
    /// The statuses the ticket took, oldest first.
    pub marks: Vec<Mark>,
    /// Targets whose warning was sent.
    pub warned: Vec<Target>,
    /// Targets whose breach was handled (the ticket marked overdue).
    pub breached: Vec<Target>,
    /// An agent's own due date.
    pub manual_due: Option<i64>,
    /// The `due_at` the clock last wrote (a different one on the ticket is
    /// an agent's).
    pub written_due: Option<i64>,
    /// Every target, as of the last computation.
    pub targets: Vec<TargetView>,
    /// The earliest moment the tick owes something, if any.
    pub next_fire_ms: Option<i64>,
}

/// What the tick owes at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owed {
    Warning(Target, i64),
    Breach(Target, i64),
}

fn forget(list: &mut Vec<Target>, target: Target) {
    list.retain(|t| *t != target);
}

fn remember(list: &mut Vec<Target>, target: Target) {
    if !list.contains(&target) {
        list.push(target);
        list.sort_unstable();
    }
}

impl SlaClock {
    /// Whether nothing was ever recorded (the clock of a ticket stored
    /// before clocks existed).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// Records what happened to `ticket` since the clock last saw it, as of
    /// `now`. Returns whether the plan changed (the service then needs the
    /// new one).
    pub fn observe(&mut self, ticket: &Ticket, now: i64) -> bool {
        let open = ticket.state == State::Open;
        if self.marks.is_empty() {
            // A new ticket, or one stored before clocks: start from what it says.
            self.marks.push(Mark {
                at: ticket.created_at,
                status: ticket.status,
                open,
            });
            self.first_response_at = ticket.last_response_at;
            self.last_response_at = ticket.last_response_at;
            self.last_message_at = ticket.last_message_at;
            self.awaiting_since = if ticket.last_response_at.is_some() && !ticket.answered {
                ticket.last_message_at
            } else {
                None
            };
            self.plan = ticket.sla;
            self.topic = ticket.topic.map(|t| t.0);
            self.department = Some(ticket.department.0);
            // A due date already there (set before clocks) is an agent's.
            self.manual_due = ticket.due_at;
            self.written_due = ticket.due_at;
            return false;
        }
        if let Some(last) = self.marks.last()
            && (last.status != ticket.status || last.open != open)
        {
            self.marks.push(Mark {
                at: now,
                status: ticket.status,
                open,
            });
            if self.marks.len() > MAX_MARKS {
                // The oldest stretch is folded: its pause is forgotten.
                self.marks.remove(1);
            }
        }
        if ticket.last_response_at != self.last_response_at {
            self.last_response_at = ticket.last_response_at;
            if let Some(at) = ticket.last_response_at {
                self.first_response_at.get_or_insert(at);
                self.awaiting_since = None;
            }
        }
        if ticket.last_message_at != self.last_message_at {
            self.last_message_at = ticket.last_message_at;
            if self.first_response_at.is_some() && !ticket.answered && self.awaiting_since.is_none()
            {
                self.awaiting_since = ticket.last_message_at;
                forget(&mut self.warned, Target::NextResponse);
                forget(&mut self.breached, Target::NextResponse);
            }
        }
        if ticket.due_at != self.written_due {
            // An agent set (or cleared) a due date of their own.
            self.manual_due = ticket.due_at;
            forget(&mut self.breached, Target::DueDate);
        }
        self.topic = ticket.topic.map(|t| t.0);
        self.department = Some(ticket.department.0);
        if ticket.sla != self.plan {
            self.plan = ticket.sla;
            self.warned.clear();
            self.breached.clear();
            return true;
        }
        false
    }

    /// Whether `ticket`'s help topic or department differs from what the
    /// clock last saw (call before [`observe`](Self::observe)).
    #[must_use]
    pub fn routing_changed(&self, ticket: &Ticket) -> bool {
        !self.is_empty()
            && (self.topic != ticket.topic.map(|t| t.0)
                || self.department != Some(ticket.department.0))
    }

    /// Stretches in a pausing status of `plan` or out of the open state.
    #[must_use]
    pub fn pauses(&self, plan: &SlaPlan) -> Vec<Pause> {
        let mut out = Vec::new();
        let mut since: Option<i64> = None;
        for mark in &self.marks {
            let stops = !mark.open || plan.pauses(mark.status);
            match (since, stops) {
                (None, true) => since = Some(mark.at),
                (Some(from), false) => {
                    out.push(Pause {
                        from_ms: from,
                        to_ms: Some(mark.at),
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

    /// The clock's history under its plan, for [`sla::due_times`].
    fn history(&self, ticket: &Ticket, plan: &SlaPlan) -> ClockHistory {
        let closed = self.marks.last().filter(|m| !m.open).map(|m| m.at);
        ClockHistory {
            created_ms: ticket.created_at,
            first_response_ms: self.first_response_at,
            awaiting_since_ms: self.awaiting_since,
            closed_ms: closed,
            pauses: self.pauses(plan),
        }
    }

    /// Computes every target of `ticket` under `plan` (`None`: no plan, or
    /// one that no longer exists) and sets the ticket's `due_at`,
    /// `overdue` and the clock's next fire time.
    pub fn compute(&mut self, ticket: &mut Ticket, plan: Option<(&SlaPlan, &Calendar)>, now: i64) {
        let mut targets = Vec::new();
        let closed_at = self.marks.last().filter(|m| !m.open).map(|m| m.at);
        if let Some((plan, calendar)) = plan {
            let times = sla::due_times(plan, calendar, &self.history(ticket, plan), now);
            let view = |target: Target, t: Option<TargetTimes>| {
                t.map(|t| match t {
                    TargetTimes::Running { due_ms, warn_ms } => TargetView {
                        target,
                        state: TargetState::Running,
                        due_at: Some(due_ms),
                        warn_at: warn_ms,
                        left_ms: None,
                        met_at: None,
                    },
                    TargetTimes::Paused { left_ms } => TargetView {
                        target,
                        state: TargetState::Paused,
                        due_at: None,
                        warn_at: None,
                        left_ms: Some(left_ms),
                        met_at: None,
                    },
                })
            };
            let met = |target: Target, at: Option<i64>| TargetView {
                target,
                state: TargetState::Met,
                due_at: None,
                warn_at: None,
                left_ms: None,
                met_at: at,
            };
            if plan.first_response_minutes.is_some() {
                targets.extend(match self.first_response_at {
                    Some(at) => Some(met(Target::FirstResponse, Some(at))),
                    None if closed_at.is_some() => Some(met(Target::FirstResponse, closed_at)),
                    None => view(Target::FirstResponse, times.first_response),
                });
            }
            if plan.next_response_minutes.is_some() && self.first_response_at.is_some() {
                targets.extend(match times.next_response {
                    Some(t) => view(Target::NextResponse, Some(t)),
                    None => Some(met(Target::NextResponse, self.last_response_at)),
                });
            }
            if plan.resolution_minutes.is_some() {
                targets.extend(match closed_at {
                    Some(at) => Some(met(Target::Resolution, Some(at))),
                    None => view(Target::Resolution, times.resolution),
                });
            }
        }
        if let Some(due) = self.manual_due {
            targets.push(TargetView {
                target: Target::DueDate,
                state: if closed_at.is_some() {
                    TargetState::Met
                } else {
                    TargetState::Running
                },
                due_at: Some(due),
                warn_at: None,
                left_ms: None,
                met_at: closed_at,
            });
        }
        self.targets = targets;
        // Forget what no longer runs, so it fires again when it restarts.
        let running: Vec<Target> = self.running().map(|t| t.target).collect();
        self.warned.retain(|t| running.contains(t));
        self.breached.retain(|t| running.contains(t));
        let plan_due = self
            .running()
            .filter(|t| t.target != Target::DueDate)
            .filter_map(|t| t.due_at)
            .min();
        let due = if closed_at.is_some() {
            self.manual_due
        } else {
            self.manual_due.or(plan_due)
        };
        self.written_due = due;
        ticket.due_at = due;
        ticket.overdue = !self.breached.is_empty();
        self.next_fire_ms = self.owed_moments().map(|o| o.at()).min();
    }

    /// The targets whose clock runs.
    fn running(&self) -> impl Iterator<Item = &TargetView> {
        self.targets
            .iter()
            .filter(|t| t.state == TargetState::Running)
    }

    /// Every warning and breach not yet handled, whenever it falls.
    fn owed_moments(&self) -> impl Iterator<Item = Owed> + '_ {
        self.running().flat_map(|t| {
            let breach = (!self.breached.contains(&t.target))
                .then_some(t.due_at)
                .flatten()
                .map(|at| Owed::Breach(t.target, at));
            let warning = (!self.warned.contains(&t.target) && !self.breached.contains(&t.target))
                .then_some(t.warn_at)
                .flatten()
                .map(|at| Owed::Warning(t.target, at));
            [warning, breach].into_iter().flatten()
        })
    }

    /// What the tick owes at `now`: every warning and breach whose moment
    /// has come and that was not handled. A breach makes its target's
    /// warning moot (the warning is then recorded without being sent).
    #[must_use]
    pub fn owed(&self, now: i64) -> Vec<Owed> {
        let due: Vec<Owed> = self.owed_moments().filter(|o| o.at() <= now).collect();
        due.iter()
            .copied()
            .filter(|o| match o {
                Owed::Warning(target, _) => !due
                    .iter()
                    .any(|b| matches!(b, Owed::Breach(t, _) if t == target)),
                Owed::Breach(..) => true,
            })
            .collect()
    }

    /// Records that the tick handled `owed` (and, for a breach, the
    /// target's warning).
    pub fn handled(&mut self, owed: Owed) {
        match owed {
            Owed::Warning(target, _) => remember(&mut self.warned, target),
            Owed::Breach(target, _) => {
                remember(&mut self.warned, target);
                remember(&mut self.breached, target);
            }
        }
    }

    /// The targets as they stand at `now`: a running one whose due time has
    /// come, or whose breach was handled, reads as breached.
    #[must_use]
    pub fn view_at(&self, now: i64) -> Vec<TargetView> {
        self.targets
            .iter()
            .map(|t| {
                let mut t = *t;
                if t.state == TargetState::Running
                    && (self.breached.contains(&t.target) || t.due_at.is_some_and(|d| d <= now))
                {
                    t.state = TargetState::Breached;
                }
                t
            })
            .collect()
    }
}

impl Owed {
    /// The moment it falls.
    #[must_use]
    pub fn at(&self) -> i64 {
        match self {
            Owed::Warning(_, at) | Owed::Breach(_, at) => *at,
        }
    }
}

/// The key of the due index for `ticket`: the earliest moment any
/// time-driven work is owed on it (its SLA clock's warnings and breaches,
/// its time rules' next moment: `min(sla, rules)`), or `None` when nothing
/// is, or the ticket is not open.
#[must_use]
pub fn next_fire(ticket: &Ticket) -> Option<i64> {
    if ticket.state != State::Open {
        return None;
    }
    match (ticket.sla_clock.next_fire_ms, ticket.rule_timer.next_ms) {
        (Some(sla), Some(rules)) => Some(sla.min(rules)),
        (sla, rules) => sla.or(rules),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{ScheduleId, SlaPlanId};
    use crate::domain::schedule::MINUTE_MS;
    use crate::domain::{DepartmentId, PriorityId, Source, TicketId, UserId};

    const HOUR: i64 = 60 * MINUTE_MS;

    fn plan() -> SlaPlan {
        SlaPlan {
            id: SlaPlanId(1),
            name: "24x7".into(),
            first_response_minutes: Some(60),
            next_response_minutes: Some(120),
            resolution_minutes: Some(600),
            schedule: None::<ScheduleId>,
            pause_statuses: vec![StatusId(5)],
            warning_percent: Some(50),
            transient: false,
            overdue_alerts: true,
        }
    }

    fn ticket() -> Ticket {
        serde_json::from_value(serde_json::json!({
            "id": TicketId::generate(), "number": "1", "subject": "s",
            "user": UserId::generate(), "source": Source::Web,
            "department": DepartmentId(1), "priority": PriorityId(3),
            "status": StatusId(1), "state": "open", "sla": 1,
            "created_at": 0, "updated_at": 0, "last_message_at": 0, "version": 1,
        }))
        .unwrap()
    }

    fn refresh(t: &mut Ticket, now: i64) {
        let mut clock = std::mem::take(&mut t.sla_clock);
        clock.observe(t, now);
        clock.compute(t, Some((&plan(), &Calendar::always())), now);
        t.sla_clock = clock;
    }

    #[test]
    fn a_new_ticket_owes_its_warnings_then_its_breaches_once_each() {
        let mut t = ticket();
        refresh(&mut t, 0);
        assert_eq!(t.due_at, Some(HOUR));
        assert_eq!(next_fire(&t), Some(HOUR / 2), "the first warning");
        assert!(t.sla_clock.owed(HOUR / 2 - 1).is_empty());
        let owed = t.sla_clock.owed(HOUR / 2);
        assert_eq!(owed, vec![Owed::Warning(Target::FirstResponse, HOUR / 2)]);
        t.sla_clock.handled(owed[0]);
        refresh(&mut t, HOUR / 2);
        assert_eq!(next_fire(&t), Some(HOUR));
        // Late tick: the breach only, the warning is moot.
        let owed = t.sla_clock.owed(3 * HOUR);
        assert_eq!(owed, vec![Owed::Breach(Target::FirstResponse, HOUR)]);
        t.sla_clock.handled(owed[0]);
        refresh(&mut t, 3 * HOUR);
        assert!(t.overdue);
        assert_eq!(next_fire(&t), Some(5 * HOUR), "the resolution's warning");
        assert_eq!(
            t.sla_clock.view_at(3 * HOUR)[0].state,
            TargetState::Breached
        );
    }

    #[test]
    fn a_response_meets_the_first_target_and_a_message_starts_the_next() {
        let mut t = ticket();
        refresh(&mut t, 0);
        t.last_response_at = Some(10 * MINUTE_MS);
        t.answered = true;
        refresh(&mut t, 10 * MINUTE_MS);
        let v = t.sla_clock.view_at(10 * MINUTE_MS);
        assert_eq!(v[0].state, TargetState::Met);
        assert_eq!(v[1].target, Target::NextResponse);
        assert_eq!(v[1].state, TargetState::Met);
        assert_eq!(t.due_at, Some(10 * HOUR), "the resolution");
        t.last_message_at = Some(HOUR);
        t.answered = false;
        refresh(&mut t, HOUR);
        assert_eq!(t.due_at, Some(3 * HOUR), "the next response");
    }

    #[test]
    fn a_pausing_status_stops_the_clock_and_resuming_shifts_it() {
        let mut t = ticket();
        refresh(&mut t, 0);
        t.status = StatusId(5);
        refresh(&mut t, 10 * MINUTE_MS);
        assert_eq!(t.due_at, None);
        assert_eq!(next_fire(&t), None);
        assert_eq!(t.sla_clock.view_at(0)[0].state, TargetState::Paused);
        t.status = StatusId(1);
        refresh(&mut t, 2 * HOUR);
        assert_eq!(t.due_at, Some(HOUR + 2 * HOUR - 10 * MINUTE_MS));
    }

    #[test]
    fn closing_clears_due_times_and_reopening_resumes_them() {
        let mut t = ticket();
        refresh(&mut t, 0);
        t.status = StatusId(3);
        t.state = State::Closed;
        refresh(&mut t, 30 * MINUTE_MS);
        assert_eq!((t.due_at, next_fire(&t)), (None, None));
        assert!(
            t.sla_clock
                .view_at(HOUR)
                .iter()
                .all(|v| v.state == TargetState::Met)
        );
        t.status = StatusId(1);
        t.state = State::Open;
        refresh(&mut t, 5 * HOUR);
        assert_eq!(t.due_at, Some(5 * HOUR + 30 * MINUTE_MS));
    }

    #[test]
    fn an_agents_due_date_wins_and_clearing_it_returns_to_the_plan() {
        let mut t = ticket();
        refresh(&mut t, 0);
        t.due_at = Some(20 * MINUTE_MS);
        refresh(&mut t, MINUTE_MS);
        assert_eq!(t.due_at, Some(20 * MINUTE_MS));
        assert_eq!(next_fire(&t), Some(20 * MINUTE_MS));
        t.due_at = None;
        refresh(&mut t, 2 * MINUTE_MS);
        assert_eq!(t.due_at, Some(HOUR));
    }

    #[test]
    fn a_new_plan_forgets_what_was_handled() {
        let mut t = ticket();
        refresh(&mut t, 0);
        t.sla_clock
            .handled(Owed::Breach(Target::FirstResponse, HOUR));
        refresh(&mut t, 2 * HOUR);
        assert!(t.overdue);
        t.sla = Some(2);
        refresh(&mut t, 2 * HOUR);
        assert!(!t.overdue);
        assert_eq!(next_fire(&t), Some(HOUR / 2), "owed again, at once");
    }
}
