//! The escalation tick: for one instance, every ticket whose next fire
//! time has come, read from the due index (`gsi5`, `I#{instance}#DUE`,
//! ordered by that time) up to now, never a scan: a tick costs one query
//! page per hundred due tickets, one query of the rules, and one write per
//! due ticket, whatever the number of open ones.
//!
//! For each due ticket the clock is recomputed under its plan, and each
//! warning or breach whose moment came and that was not handled yet is
//! handled once: a thread event (`sla_warning`, `sla_breached`), the
//! ticket marked overdue on a breach, and the alert written to the outbox
//! (when the plan's `overdue_alerts` allows; an agent's own due date always
//! alerts) for the dispatcher to send under the outbound alert policy. The
//! ticket is saved with its index key moved to its next fire time (or out
//! of the index), all in one transaction conditional on the version read.
//!
//! The same write carries the time rules that are due
//! ([`rules::time::fire`](crate::services::rules::time::fire)): their
//! actions (a priority raised, an assignment, a status, a close, a note),
//! a `rule_fired` event per rule, the mail their changes owe, and the
//! record that each fired for its stretch, so it does not fire again
//! until the moment it counts from moves.
//!
//! After the due tickets, the tick takes a step of the sweep that follows
//! a time rule saved, if one is pending
//! ([`rules::sweep`](crate::services::rules::sweep)); without one that
//! costs a read.
//!
//! Ticks are idempotent and safe to run at once: a second tick that read
//! the same version loses the conditional write, reads the ticket again,
//! finds everything handled and writes nothing.

use std::collections::BTreeMap;

use super::Plans;
use crate::domain::change::event_entry;
use crate::domain::rules::CompiledRule;
use crate::domain::sla_clock::{self, Owed, Target};
use crate::domain::{Author, Entry, Ticket};
use crate::keys;
use crate::services::outbox::{self, Occasion, Permits};
use crate::services::rules::time;
use crate::services::tickets::store;
use crate::services::{Ctx, ServiceError};
use crate::store::{Index, MAX_QUERY_LIMIT, Query, SkCondition, codec};

/// Event names the tick records in the thread.
pub mod event {
    /// A target's warning time came (`data`: target, due_at).
    pub const WARNING: &str = "sla_warning";
    /// A target's due time passed (`data`: target, due_at).
    pub const BREACHED: &str = "sla_breached";
}

/// Who the tick's events are by.
pub const SYSTEM_AUTHOR: &str = "sla";

/// Attempts on one ticket that other writers keep changing.
const ATTEMPTS: usize = 4;

/// What one tick did in one instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Index entries read.
    pub due: usize,
    /// Warnings handled.
    pub warnings: usize,
    /// Breaches handled (tickets marked overdue).
    pub breaches: usize,
    /// Tickets written.
    pub written: usize,
    /// Tickets another writer had already brought up to date.
    pub skipped: usize,
    /// Time rules fired (one per rule and ticket).
    pub rules_fired: usize,
    /// Open tickets moved in the due index by the sweep that follows a
    /// time rule saved (`rules::sweep`).
    pub swept: usize,
}

/// Runs the tick for the context's instance at its clock's now.
pub async fn tick(ctx: &Ctx<'_>) -> Result<TickReport, ServiceError> {
    let now = ctx.clock.now_ms();
    let mut report = TickReport::default();
    let mut plans = Plans::default();
    let rules = crate::services::rules::enabled(ctx).await?;
    // Every key up to `now` inclusive: `{now:013}#~` sorts after any ticket id.
    let upto = format!("{now:013}#~");
    let mut query = Query::index(Index::Gsi5, keys::queue::due(ctx.instance))
        .sk(SkCondition::Le(upto))
        .limit(MAX_QUERY_LIMIT);
    loop {
        let page = ctx.store.query(&query).await?;
        for item in &page.items {
            report.due += 1;
            let ticket: Ticket = codec::decode(item)?;
            one(ctx, &mut plans, &rules, ticket, now, &mut report).await?;
        }
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    report.swept = crate::services::rules::sweep::step(ctx, &rules, &mut plans, now).await?;
    if report.written > 0 || report.swept > 0 {
        tracing::info!(instance = %ctx.instance, ?report, "sla tick");
    }
    Ok(report)
}

/// Handles one due ticket, retrying on a fresh read when another writer
/// wins the race.
async fn one(
    ctx: &Ctx<'_>,
    plans: &mut Plans,
    rules: &[CompiledRule],
    mut ticket: Ticket,
    now: i64,
    report: &mut TickReport,
) -> Result<(), ServiceError> {
    for _ in 0..ATTEMPTS {
        let old_version = ticket.version;
        let indexed = sla_clock::next_fire(&ticket);
        let mut clock = std::mem::take(&mut ticket.sla_clock);
        clock.observe(&ticket, now);
        let plan = match ticket.sla {
            Some(id) => plans.get(ctx, id).await?,
            None => None,
        };
        let counted = plan.map(|(p, c)| (p, c));
        clock.compute(&mut ticket, counted, now);
        let owed = clock.owed(now);
        let alerts = plan.is_none_or(|(p, _)| p.overdue_alerts);
        let mut events = Vec::new();
        for o in &owed {
            clock.handled(*o);
            events.push(owed_event(*o, now));
        }
        clock.compute(&mut ticket, counted, now);
        ticket.sla_clock = clock;
        let calendar = counted.map(|(_, c)| c);
        let firing = time::fire(ctx, &mut ticket, rules, calendar, now).await?;
        if firing.fired.is_empty() {
            time::schedule(ctx, &mut ticket, rules, calendar, now).await?;
        } else {
            // What the rules changed moves due times (a priority, a status,
            // a plan) and the rules' own next moment.
            super::refresh(ctx, &mut ticket, now, rules).await?;
        }
        if events.is_empty() && firing.fired.is_empty() && sla_clock::next_fire(&ticket) == indexed
        {
            report.skipped += 1;
            return Ok(());
        }
        let mut ops = firing.carried.ops(ctx, &ticket)?;
        for (o, entry) in owed.iter().zip(&events) {
            ops.push(store::append_entry_op(ctx, &ticket, entry)?);
            // An agent's own due date always alerts; a plan's targets when
            // the plan says so.
            if alerts || matches!(o, Owed::Breach(Target::DueDate, _)) {
                let occasion = match o {
                    Owed::Warning(..) => Occasion::SlaWarning,
                    Owed::Breach(..) => Occasion::Overdue,
                };
                ops.push(outbox::item_op(
                    ctx,
                    &ticket,
                    entry,
                    occasion,
                    Permits::default(),
                )?);
            }
        }
        match store::save(ctx, old_version, &ticket, ops).await {
            Ok(()) => {
                report.written += 1;
                report.rules_fired += firing.fired.len();
                for o in owed {
                    match o {
                        Owed::Warning(..) => report.warnings += 1,
                        Owed::Breach(..) => report.breaches += 1,
                    }
                }
                return Ok(());
            }
            Err(ServiceError::Conflict(_)) => {
                ticket = match store::load(ctx, &ticket.id).await {
                    Ok(fresh) => fresh,
                    Err(ServiceError::NotFound(_)) => return Ok(()),
                    Err(other) => return Err(other),
                };
            }
            Err(other) => return Err(other),
        }
    }
    tracing::warn!(instance = %ctx.instance, number = %ticket.number, "sla tick: the ticket kept changing; next tick");
    Ok(())
}

/// The thread event recording `owed`.
fn owed_event(owed: Owed, now: i64) -> Entry {
    let (name, target, due) = match owed {
        Owed::Warning(target, _) => (event::WARNING, target, None),
        Owed::Breach(target, at) => (event::BREACHED, target, Some(at)),
    };
    let mut data = BTreeMap::from([("target".to_owned(), target.as_str().to_owned())]);
    if let Some(due) = due {
        data.insert("due_at".to_owned(), due.to_string());
    }
    if let Owed::Warning(_, at) = owed {
        data.insert("warn_at".to_owned(), at.to_string());
    }
    event_entry(name, data, &Author::System(SYSTEM_AUTHOR.to_owned()), now)
}
