//! Time rules at work: keeping each ticket's next moment up to date as it
//! is written ([`schedule`], called by `sla::refresh` on every write), and
//! firing the due ones when the escalation tick reaches the ticket
//! ([`fire`]). Which rule is due, which fired for which stretch and when
//! the next could fire are the domain's ([`RuleTimer`]).
//!
//! The next moment goes into the ticket's `rule_timer`, and from there,
//! with the SLA clock's, into the one key of the due index the tick reads
//! (`sla_clock::next_fire`): a time rule costs nothing while nothing is
//! due, and the tick reads only the tickets something is due on.

use super::apply::{Carried, Requester, carry_out};
use crate::domain::rules::{CompiledRule, Fired, Moment, RuleTimer, TicketView};
use crate::domain::{Calendar, Ticket};
use crate::services::{Ctx, ServiceError};

fn has_time_rules(rules: &[CompiledRule]) -> bool {
    rules.iter().any(|c| c.rule.moment == Moment::Time)
}

/// The view time rules evaluate: the stored ticket, its requester, the
/// mail that opened it (as kept), no message at hand, measured in
/// `calendar` (the ticket's plan's) when a condition asks for business
/// hours.
fn view<'a>(
    ticket: &'a Ticket,
    requester: &'a Requester,
    calendar: Option<&'a Calendar>,
    now: i64,
) -> TicketView<'a> {
    let mut view = TicketView::of(ticket, &requester.email, &requester.name, "", now)
        .with_opening_mail(ticket);
    view.organisation = requester.organisation.as_deref();
    view.calendar = calendar;
    view
}

/// Recomputes `ticket`'s next time-rule moment under `rules` (the
/// instance's enabled ones). Costs no read unless a time rule looks at the
/// requester.
pub(crate) async fn schedule(
    ctx: &Ctx<'_>,
    ticket: &mut Ticket,
    rules: &[CompiledRule],
    calendar: Option<&Calendar>,
    now: i64,
) -> Result<(), ServiceError> {
    if !has_time_rules(rules) {
        ticket.rule_timer = RuleTimer::default();
        return Ok(());
    }
    let requester = Requester::of(ctx, rules, ticket).await?;
    let mut timer = std::mem::take(&mut ticket.rule_timer);
    timer.schedule(rules, &view(ticket, &requester, calendar, now));
    ticket.rule_timer = timer;
    Ok(())
}

/// What firing the due time rules did to a ticket.
#[derive(Debug, Default)]
pub(crate) struct Firing {
    /// The rules that fired, in order.
    pub fired: Vec<Fired>,
    /// What to write with the ticket.
    pub carried: Carried,
}

/// Fires the time rules of `rules` due on `ticket` at `now`: carries out
/// their actions (as update rules' are, see `apply::carry_out`) and
/// records on the ticket that each fired for its stretch. The caller
/// brings due times up to date and saves; nothing is written here.
pub(crate) async fn fire(
    ctx: &Ctx<'_>,
    ticket: &mut Ticket,
    rules: &[CompiledRule],
    calendar: Option<&Calendar>,
    now: i64,
) -> Result<Firing, ServiceError> {
    if !has_time_rules(rules) {
        return Ok(Firing::default());
    }
    let requester = Requester::of(ctx, rules, ticket).await?;
    let due: Vec<&CompiledRule> = ticket
        .rule_timer
        .due(rules, &view(ticket, &requester, calendar, now));
    if due.is_empty() {
        return Ok(Firing::default());
    }
    let fired: Vec<Fired> = due
        .iter()
        .map(|c| Fired {
            rule: c.rule.id,
            name: c.rule.name.clone(),
            actions: c.rule.actions.clone(),
        })
        .collect();
    let carried = carry_out(ctx, ticket, &fired, now, false).await?;
    let mut timer = std::mem::take(&mut ticket.rule_timer);
    {
        let after = view(ticket, &requester, calendar, now);
        for compiled in &due {
            timer.record(compiled, &after);
        }
    }
    ticket.rule_timer = timer;
    tracing::info!(instance = %ctx.instance, number = %ticket.number, rules = fired.len(), "time rules fired");
    Ok(Firing { fired, carried })
}
