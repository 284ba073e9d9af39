//! Running rules: a view of the ticket in, the rules that fired and their
//! actions in order out. Nothing is read or written here; the services
//! build the view, apply the actions and record them.
//!
//! Every rule sees the ticket as it was given (the actions of an earlier
//! rule do not change what a later one looks at), as osTicket's filters
//! do; rules run by `order`, then id; a rule with `stop` that fires ends
//! the chain, and so does a rejection.

use std::collections::BTreeMap;

use super::condition::{Clock, Field, Op, Operand, test_text};
use super::{Action, Matching, Moment, Rule, RuleError, RuleId, UpdateEvent};
use crate::domain::{
    AgentId, Calendar, DepartmentId, PriorityId, Source, State, StatusId, TeamId, Ticket, TopicId,
};

/// A rule ready to run: checked, its regular expressions compiled once.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub rule: Rule,
    operands: Vec<Operand>,
}

impl Rule {
    /// Checks the rule ([`Rule::check`]) and compiles it.
    pub fn compile(self) -> Result<CompiledRule, RuleError> {
        let operands = self.compile_conditions()?;
        Ok(CompiledRule {
            rule: self,
            operands,
        })
    }

    /// Whether any condition looks at `field`-like data (so the services
    /// read it only when a rule needs it).
    #[must_use]
    pub fn looks_at(&self, wanted: impl Fn(&Field) -> bool) -> bool {
        self.conditions.iter().any(|c| wanted(&c.field))
    }
}

/// The enabled rules of `rules` compiled and in running order (`order`,
/// then id). A stored rule that no longer compiles is left out and named
/// in the second list.
#[must_use]
pub fn prepare(rules: Vec<Rule>) -> (Vec<CompiledRule>, Vec<(RuleId, RuleError)>) {
    let mut ready = Vec::new();
    let mut broken = Vec::new();
    for rule in rules.into_iter().filter(|r| r.enabled) {
        let id = rule.id;
        match rule.compile() {
            Ok(compiled) => ready.push(compiled),
            Err(error) => broken.push((id, error)),
        }
    }
    ready.sort_by_key(|c| (c.rule.order, c.rule.id));
    (ready, broken)
}

/// What a rule sees of a ticket: the ticket's fields, who asked, the
/// message at hand (the first at creation, the new one on an update) and
/// the mail that brought it, if any.
#[derive(Debug, Clone)]
pub struct TicketView<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub organisation: Option<&'a str>,
    pub subject: &'a str,
    pub body: &'a str,
    /// The mail's header fields, in order (empty when no mail).
    pub headers: &'a [(String, String)],
    /// The address the mail was received at.
    pub recipient: Option<&'a str>,
    pub source: Source,
    pub topic: Option<TopicId>,
    pub department: DepartmentId,
    pub status: StatusId,
    pub state: State,
    pub priority: PriorityId,
    pub assignee: Option<AgentId>,
    pub team: Option<TeamId>,
    /// Since when the ticket has had no agent and no team (`None`: since
    /// it was opened, when unassigned).
    pub unassigned_since: Option<i64>,
    pub fields: &'a BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_message_at: Option<i64>,
    pub last_response_at: Option<i64>,
    pub answered: bool,
    pub due_at: Option<i64>,
    /// The moment of evaluation, epoch ms.
    pub now: i64,
    /// The ticket's business hours, for time conditions counted in them.
    pub calendar: Option<&'a Calendar>,
}

impl<'a> TicketView<'a> {
    /// The view of a stored ticket; the requester, the message and the
    /// mail are the caller's (no mail: no headers, no recipient).
    #[must_use]
    pub fn of(ticket: &'a Ticket, email: &'a str, name: &'a str, body: &'a str, now: i64) -> Self {
        Self {
            email,
            name,
            organisation: None,
            subject: &ticket.subject,
            body,
            headers: &[],
            recipient: None,
            source: ticket.source,
            topic: ticket.topic,
            department: ticket.department,
            status: ticket.status,
            state: ticket.state,
            priority: ticket.priority,
            assignee: ticket.assignee,
            team: ticket.team,
            unassigned_since: ticket.unassigned_since,
            fields: &ticket.fields,
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            last_message_at: ticket.last_message_at,
            last_response_at: ticket.last_response_at,
            answered: ticket.answered,
            due_at: ticket.due_at,
            now,
            calendar: None,
        }
    }

    /// The view with the mail at hand: the header fields of the message
    /// that set the rules off and the address it was received at (what
    /// update rules see of a message that came by mail).
    #[must_use]
    pub fn with_mail(
        mut self,
        headers: &'a [(String, String)],
        recipient: Option<&'a str>,
    ) -> Self {
        self.headers = headers;
        self.recipient = recipient;
        self
    }

    /// The view with the mail that opened `ticket`, as far as it was kept
    /// (what replay and time rules see of headers and the receiving
    /// address).
    #[must_use]
    pub fn with_opening_mail(mut self, ticket: &'a Ticket) -> Self {
        if let Some(mail) = &ticket.opening_mail {
            self.headers = &mail.headers;
            self.recipient = mail.recipient.as_deref();
        }
        self
    }
}

/// What is happening as rules run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening<'a> {
    /// A ticket is being opened from `source`, by mail at `mailbox`.
    Creation {
        source: Source,
        mailbox: Option<&'a str>,
    },
    Update(UpdateEvent),
    /// The tick.
    Time,
    /// A replay: the conditions alone decide, whatever the moment.
    Replay,
}

/// A rule that fired and the actions it asks for (up to a rejection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub rule: RuleId,
    pub name: String,
    pub actions: Vec<Action>,
}

/// What running the rules decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub fired: Vec<Fired>,
}

impl Outcome {
    /// Every action of every rule that fired, in order.
    pub fn actions(&self) -> impl Iterator<Item = (&Fired, &Action)> {
        self.fired
            .iter()
            .flat_map(|f| f.actions.iter().map(move |a| (f, a)))
    }

    /// The rejection, if a rule rejected: the rule and its notice (none:
    /// quietly).
    #[must_use]
    pub fn rejection(&self) -> Option<(&Fired, Option<&str>)> {
        self.actions().find_map(|(fired, action)| match action {
            Action::Reject { notice } => Some((fired, notice.as_deref())),
            _ => None,
        })
    }
}

/// Runs `rules` (in the order given; see [`prepare`]) for `happening` on
/// `view`.
#[must_use]
pub fn evaluate(
    rules: &[CompiledRule],
    happening: Happening<'_>,
    view: &TicketView<'_>,
) -> Outcome {
    let mut outcome = Outcome::default();
    for compiled in rules {
        if !runs_at(&compiled.rule.moment, happening) || !matches(compiled, view) {
            continue;
        }
        let rule = &compiled.rule;
        let mut actions = Vec::with_capacity(rule.actions.len());
        let mut rejected = false;
        for action in &rule.actions {
            actions.push(action.clone());
            if matches!(action, Action::Reject { .. }) {
                rejected = true;
                break;
            }
        }
        outcome.fired.push(Fired {
            rule: rule.id,
            name: rule.name.clone(),
            actions,
        });
        if rejected || rule.stop {
            break;
        }
    }
    outcome
}

/// Whether a rule of `moment` runs for `happening`.
fn runs_at(moment: &Moment, happening: Happening<'_>) -> bool {
    match (moment, happening) {
        (_, Happening::Replay) | (Moment::Time, Happening::Time) => true,
        (
            Moment::Creation { sources, mailbox },
            Happening::Creation {
                source,
                mailbox: at,
            },
        ) => {
            (sources.is_empty() || sources.contains(&source))
                && mailbox.as_ref().is_none_or(|wanted| {
                    at.is_some_and(|at| at.trim().eq_ignore_ascii_case(wanted.trim()))
                })
        }
        (Moment::Update { events }, Happening::Update(event)) => {
            events.is_empty() || events.contains(&event)
        }
        _ => false,
    }
}

/// Whether the rule's conditions hold on `view` (all or any; no condition
/// holds for every ticket).
#[must_use]
pub fn matches(compiled: &CompiledRule, view: &TicketView<'_>) -> bool {
    let mut each = compiled
        .rule
        .conditions
        .iter()
        .zip(&compiled.operands)
        .map(|(c, operand)| holds(&c.field, c.op, operand, c.business, view));
    match compiled.rule.matching {
        Matching::All => each.all(|b| b),
        Matching::Any => each.any(|b| b),
    }
}

fn id_text<T: ToString>(id: Option<T>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

fn source_name(source: Source) -> &'static str {
    match source {
        Source::Web => "web",
        Source::Email => "email",
        Source::Api => "api",
        Source::Phone => "phone",
        Source::Other => "other",
    }
}

fn negative(op: Op) -> bool {
    matches!(op, Op::NotEquals | Op::NotContains | Op::NotMatches)
}

fn holds(field: &Field, op: Op, operand: &Operand, business: bool, view: &TicketView<'_>) -> bool {
    let text = |value: &str| test_text(op, operand, value);
    match field {
        Field::Email => text(view.email),
        Field::Name => text(view.name),
        Field::Domain => text(view.email.rsplit_once('@').map_or("", |(_, d)| d)),
        Field::Organisation => text(view.organisation.unwrap_or("")),
        Field::Subject => text(view.subject),
        Field::Body => text(view.body),
        Field::Recipient => text(view.recipient.unwrap_or("")),
        Field::Source => text(source_name(view.source)),
        Field::Topic => text(&id_text(view.topic)),
        Field::Department => text(&view.department.to_string()),
        Field::Status => text(&view.status.to_string()),
        Field::Priority => text(&view.priority.to_string()),
        Field::Assignee => text(&id_text(view.assignee)),
        Field::Team => text(&id_text(view.team)),
        Field::Form(name) => text(view.fields.get(name).map_or("", String::as_str)),
        Field::Header(name) => {
            let mut values = view
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .peekable();
            if values.peek().is_none() {
                return text("");
            }
            // Every occurrence must pass a negative test; one is enough
            // for a positive one.
            if negative(op) {
                values.all(text)
            } else {
                values.any(text)
            }
        }
        Field::Time(clock) => {
            let Operand::Duration(limit) = operand else {
                return false;
            };
            measure(*clock, business, view).is_some_and(|m| match op {
                Op::GreaterThan => m > *limit,
                Op::LessThan => m < *limit,
                _ => false,
            })
        }
    }
}

/// Time between `from` and `to`, in business hours when asked and known.
fn elapsed(view: &TicketView<'_>, business: bool, from: i64, to: i64) -> i64 {
    match view.calendar.filter(|_| business) {
        Some(calendar) => calendar.business_between(from, to),
        None => (to - from).max(0),
    }
}

/// When `clock` starts counting for the ticket, if it counts at all.
fn start(clock: Clock, view: &TicketView<'_>) -> Option<i64> {
    let open = view.state == State::Open;
    match clock {
        Clock::WaitingOnUser => (open && view.answered).then_some(view.last_response_at)?,
        Clock::Unanswered => {
            (open && !view.answered).then(|| view.last_message_at.unwrap_or(view.created_at))
        }
        Clock::Unassigned => (open && view.assignee.is_none() && view.team.is_none())
            .then(|| view.unassigned_since.unwrap_or(view.created_at)),
        Clock::Idle => open.then_some(view.updated_at),
        Clock::Age => Some(view.created_at),
        Clock::DueIn => open.then_some(view.due_at)?,
    }
}

/// The moments the rule's time conditions count from on `view`, in their
/// order: the stretch a time rule fires once for (see
/// [`super::timer`]).
#[must_use]
pub fn stretch(compiled: &CompiledRule, view: &TicketView<'_>) -> Vec<Option<i64>> {
    compiled
        .rule
        .conditions
        .iter()
        .filter_map(|c| match c.field {
            Field::Time(clock) => Some(start(clock, view)),
            _ => None,
        })
        .collect()
}

/// What a time field measures now, if it applies to the ticket.
fn measure(clock: Clock, business: bool, view: &TicketView<'_>) -> Option<i64> {
    let at = start(clock, view)?;
    Some(if clock == Clock::DueIn {
        if at >= view.now {
            elapsed(view, business, view.now, at)
        } else {
            -elapsed(view, business, at, view.now)
        }
    } else {
        elapsed(view, business, at, view.now)
    })
}

/// The earliest moment (epoch ms, at least `view.now`) at which the rule's
/// conditions could hold as time passes with nothing else changing, or
/// `None` when waiting cannot make them hold. `view.now` means they hold
/// already. The escalation tick keeps each ticket's earliest such moment
/// (with its SLA times) in its sparse index, so a time rule costs nothing
/// while nothing is due.
#[must_use]
pub fn next_moment(compiled: &CompiledRule, view: &TicketView<'_>) -> Option<i64> {
    let rule = &compiled.rule;
    let mut moments = rule
        .conditions
        .iter()
        .zip(&compiled.operands)
        .map(|(c, operand)| {
            if holds(&c.field, c.op, operand, c.business, view) {
                return Some(view.now);
            }
            match (&c.field, operand) {
                (Field::Time(clock), Operand::Duration(limit)) => {
                    becomes_true(*clock, c.op, *limit, c.business, view)
                }
                _ => None,
            }
        });
    match rule.matching {
        Matching::All => moments.try_fold(view.now, |latest, m| m.map(|m| latest.max(m))),
        Matching::Any => moments.flatten().min(),
    }
}

/// When a time condition that does not hold now will (durations since a
/// moment only grow; the time left until a due time only shrinks).
fn becomes_true(
    clock: Clock,
    op: Op,
    limit: i64,
    business: bool,
    view: &TicketView<'_>,
) -> Option<i64> {
    let at = start(clock, view)?;
    let calendar = view.calendar.filter(|_| business);
    match (clock, op) {
        (Clock::DueIn, Op::LessThan) => {
            // The first t with time left until `at` below `limit`.
            let left = |t: i64| match calendar {
                Some(c) => c.business_between(t, at),
                None => at - t,
            };
            let (mut low, mut high) = (view.now, at.max(view.now));
            if left(high) >= limit {
                return None;
            }
            while high - low > 1_000 {
                let mid = low + (high - low) / 2;
                if left(mid) < limit {
                    high = mid;
                } else {
                    low = mid;
                }
            }
            Some(high)
        }
        (Clock::DueIn, _) | (_, Op::LessThan) => None,
        // The first instant the duration exceeds `limit`: one millisecond
        // of (business) time more.
        (_, _) => Some(
            match calendar {
                Some(c) => c.add_business(at, limit.saturating_add(1)),
                None => at.saturating_add(limit).saturating_add(1),
            }
            .max(view.now),
        ),
    }
}
