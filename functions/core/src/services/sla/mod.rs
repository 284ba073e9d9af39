//! SLA plans at work on tickets: keeping each ticket's clock up to date as
//! it is written ([`refresh`]), showing it to agents ([`for_reader`]), and
//! the escalation tick that sends warnings and marks breaches
//! ([`tick`](tick::tick)).
//!
//! Every write of a ticket (opening it, an agent's action, a message, a
//! response) calls [`refresh`] on the ticket about to be saved: the clock
//! ([`SlaClock`]) records what changed, a transient plan is replaced when
//! the help topic or department changes, and the due times, `due_at`,
//! `overdue` and the due index's key are recomputed in the plan's
//! schedule, together with the next moment a time rule could fire. A
//! ticket without a plan and without an agent's due date costs no read.

pub mod tick;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::domain::rules::CompiledRule;
use crate::domain::schedule::Calendar;
use crate::domain::sla_clock::SlaClock;
use crate::domain::{
    Department, DepartmentId, HelpTopic, Schedule, ScheduleId, SlaPlan, SlaPlanId, Ticket, TopicId,
};
use crate::services::tickets::config;
use crate::services::{Actor, Ctx, ServiceError};

/// A plan with the calendar its targets count in.
pub type Counted = (SlaPlan, Calendar);

/// The plan `id` and its calendar; `None` when the plan is gone. A plan
/// whose schedule is gone or no longer checks counts 24x7 (and says so in
/// the log) rather than stopping every clock.
pub async fn load_plan(ctx: &Ctx<'_>, id: u32) -> Result<Option<Counted>, ServiceError> {
    let Some(plan) = config::object::<SlaPlan>(ctx, SlaPlanId::KIND, id).await? else {
        return Ok(None);
    };
    let calendar = match plan.schedule {
        None => Calendar::always(),
        Some(ScheduleId(schedule)) => {
            match config::object::<Schedule>(ctx, ScheduleId::KIND, schedule).await? {
                Some(found) => found.calendar().unwrap_or_else(|error| {
                    tracing::warn!(instance = %ctx.instance, schedule, %error, "schedule does not check; counting 24x7");
                    Calendar::always()
                }),
                None => {
                    tracing::warn!(instance = %ctx.instance, schedule, "schedule is gone; counting 24x7");
                    Calendar::always()
                }
            }
        }
    };
    Ok(Some((plan, calendar)))
}

/// Plans loaded once per run (the tick reads many tickets of few plans).
#[derive(Debug, Default)]
pub struct Plans {
    loaded: HashMap<u32, Option<Counted>>,
}

impl Plans {
    /// The plan `id`, loaded the first time it is asked for.
    pub async fn get(&mut self, ctx: &Ctx<'_>, id: u32) -> Result<Option<&Counted>, ServiceError> {
        if let Entry::Vacant(slot) = self.loaded.entry(id) {
            slot.insert(load_plan(ctx, id).await?);
        }
        Ok(self.loaded.get(&id).and_then(Option::as_ref))
    }
}

/// The plan a ticket of this help topic and department gets: the topic's,
/// else the department's.
async fn routed_plan(ctx: &Ctx<'_>, ticket: &Ticket) -> Result<Option<u32>, ServiceError> {
    if let Some(TopicId(topic)) = ticket.topic
        && let Some(topic) = config::object::<HelpTopic>(ctx, TopicId::KIND, topic).await?
        && topic.sla.is_some()
    {
        return Ok(topic.sla);
    }
    let department: Option<Department> =
        config::object(ctx, DepartmentId::KIND, ticket.department.0).await?;
    Ok(department.and_then(|d| d.sla))
}

/// Brings `ticket`'s SLA clock up to date with the ticket about to be
/// saved at `now` (see the module docs), and its time rules' next moment
/// under `rules`, the instance's enabled rules
/// ([`rules::time::schedule`](crate::services::rules::time::schedule)).
pub async fn refresh(
    ctx: &Ctx<'_>,
    ticket: &mut Ticket,
    now: i64,
    rules: &[CompiledRule],
) -> Result<(), ServiceError> {
    let mut plans = Plans::default();
    let mut clock = std::mem::take(&mut ticket.sla_clock);
    if clock.routing_changed(ticket) {
        // A transient plan (or none) follows the topic and department.
        let keeps = match ticket.sla {
            Some(id) => plans
                .get(ctx, id)
                .await?
                .is_some_and(|(plan, _)| !plan.transient),
            None => false,
        };
        if !keeps {
            ticket.sla = routed_plan(ctx, ticket).await?;
        }
    }
    clock.observe(ticket, now);
    let counted = match ticket.sla {
        Some(id) => plans.get(ctx, id).await?,
        None => None,
    };
    clock.compute(ticket, counted.map(|(p, c)| (p, c)), now);
    ticket.sla_clock = clock;
    let calendar = counted.map(|(_, c)| c);
    crate::services::rules::time::schedule(ctx, ticket, rules, calendar, now).await
}

/// The ticket as `actor` reads it: agents (and API keys) see every target
/// with its state as of now; users see none of the clock, nor the time
/// rules' records, nor the headers kept of the mail that opened it.
#[must_use]
pub fn for_reader(ctx: &Ctx<'_>, actor: &Actor, mut ticket: Ticket) -> Ticket {
    match actor {
        Actor::User(_) => {
            ticket.sla_clock = SlaClock::default();
            ticket.rule_timer = Default::default();
            ticket.opening_mail = None;
        }
        _ => ticket.sla_clock.targets = ticket.sla_clock.view_at(ctx.clock.now_ms()),
    }
    ticket
}
