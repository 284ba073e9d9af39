//! Time rules on one ticket: which are due now ([`RuleTimer::due`]), what
//! fired ([`RuleTimer::record`]), and when one could fire next
//! ([`RuleTimer::schedule`]), the value the escalation tick's due index
//! adds to the SLA clock's (`sla_clock::next_fire`).
//!
//! A time rule fires once per *stretch*: the moments its time conditions
//! count from (the last response for `waiting_on_user`, the moment the
//! ticket became unassigned for `unassigned`, the last change for `idle`,
//! ...). It fires again only when one of them moves (the user answered
//! and an agent responded again, the ticket was assigned and released
//! again). Its record is taken on the ticket as the rule left it, so a
//! rule's own change (the `idle` clock restarts with it) does not arm it
//! again. A rule that fired and still holds keeps its `stop`: the time
//! rules after it wait.

use serde::{Deserialize, Serialize};

use super::evaluate::{CompiledRule, TicketView, matches, next_moment, stretch};
use super::{Moment, RuleId};
use crate::domain::State;

/// How long the tick waits before trying again a rule whose moment came
/// but whose conditions do not hold (a moment computed at a boundary).
pub const RETRY_MS: i64 = 60_000;

/// A time rule that fired on a ticket, and the stretch it fired for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeFired {
    pub rule: RuleId,
    /// The moments its time conditions counted from, in their order
    /// (`None` for one that did not apply).
    pub since: Vec<Option<i64>>,
}

/// What a ticket carries of its time rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleTimer {
    /// The earliest moment (epoch ms) a time rule could fire, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_ms: Option<i64>,
    /// The time rules that fired, one record per rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fired: Vec<TimeFired>,
}

fn is_time(compiled: &CompiledRule) -> bool {
    compiled.rule.moment == Moment::Time
}

impl RuleTimer {
    /// Whether there is nothing to keep.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.next_ms.is_none() && self.fired.is_empty()
    }

    /// Whether `compiled` fired for the stretch `view` is in.
    fn fired_for(&self, compiled: &CompiledRule, view: &TicketView<'_>) -> bool {
        self.fired
            .iter()
            .any(|f| f.rule == compiled.rule.id && f.since == stretch(compiled, view))
    }

    /// The time rules of `rules` (in running order) that fire now on
    /// `view`: those whose conditions hold and that did not fire for this
    /// stretch, up to a rule with `stop` that holds (fired now or before).
    /// Only open tickets have time rules.
    #[must_use]
    pub fn due<'r>(
        &self,
        rules: &'r [CompiledRule],
        view: &TicketView<'_>,
    ) -> Vec<&'r CompiledRule> {
        let mut out = Vec::new();
        if view.state != State::Open {
            return out;
        }
        for compiled in rules.iter().filter(|c| is_time(c)) {
            if !matches(compiled, view) {
                continue;
            }
            if !self.fired_for(compiled, view) {
                out.push(compiled);
            }
            if compiled.rule.stop {
                break;
            }
        }
        out
    }

    /// Records that `compiled` fired; `view` is the ticket as the rule
    /// left it.
    pub fn record(&mut self, compiled: &CompiledRule, view: &TicketView<'_>) {
        let since = stretch(compiled, view);
        match self.fired.iter_mut().find(|f| f.rule == compiled.rule.id) {
            Some(found) => found.since = since,
            None => self.fired.push(TimeFired {
                rule: compiled.rule.id,
                since,
            }),
        }
    }

    /// Recomputes the next moment a time rule of `rules` could fire on
    /// `view`, and forgets the records of rules that are no longer
    /// enabled time rules. A moment that came while the rule's conditions
    /// do not hold is moved [`RETRY_MS`] on, so a due ticket never stays
    /// due without anything to do.
    pub fn schedule(&mut self, rules: &[CompiledRule], view: &TicketView<'_>) {
        self.fired
            .retain(|f| rules.iter().any(|c| c.rule.id == f.rule && is_time(c)));
        self.next_ms = None;
        if view.state != State::Open {
            return;
        }
        for compiled in rules.iter().filter(|c| is_time(c)) {
            let holds = matches(compiled, view);
            if !self.fired_for(compiled, view)
                && let Some(at) = next_moment(compiled, view)
            {
                let at = if at <= view.now && !holds {
                    view.now.saturating_add(RETRY_MS)
                } else {
                    at
                };
                self.next_ms = Some(self.next_ms.map_or(at, |n| n.min(at)));
            }
            if holds && compiled.rule.stop {
                break;
            }
        }
    }
}
