//! Replaying a rule over past tickets: which tickets of the last N days it
//! would have touched and what it would have done, with nothing changed.
//!
//! The tickets come from the department queues (`gsi1`, one partition per
//! department and state, ordered by last activity), read from the start of
//! the window on: a ticket opened since then has been active since then,
//! so each partition is read only as far back as the window reaches, page
//! by page, and never beyond the instance. Tickets active in the window but
//! opened before it are read and skipped. The requester is read only when
//! the rule looks at them, the first message only when it looks at the
//! body; header and receiving-address conditions see what the ticket kept
//! of the mail that opened it (`Ticket::opening_mail`), read with it.
//!
//! Conditions decide alone (a replay ignores the rule's moment and
//! whether it is enabled); time conditions are measured now.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::rules::{Action, Field, Happening, Rule, TicketView, evaluate};
use crate::domain::{Department, DepartmentId, Entry, State, Ticket, UserId};
use crate::keys;
use crate::services::admin::{access, records, rules::refusal};
use crate::services::{Actor, Ctx, ServiceError, users};
use crate::store::{Index, MAX_QUERY_LIMIT, Query, SkCondition, codec};

/// Longest window a replay looks back over, in days.
pub const MAX_DAYS: u32 = 366;
/// Most tickets a report lists (it still counts them all).
pub const MAX_LISTED: usize = 1_000;
const DAY_MS: i64 = 86_400_000;

/// One ticket the rule would have touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WouldTouch {
    pub number: String,
    pub subject: String,
    pub created_at: i64,
    /// What it would have done, in order (`set_priority 1`, `close`).
    pub actions: Vec<String>,
}

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub days: u32,
    /// The window's start, epoch ms.
    pub since: i64,
    /// Tickets opened in the window.
    pub examined: usize,
    /// How many the rule would have touched.
    pub matched: usize,
    /// The first [`MAX_LISTED`] of them, newest activity first within
    /// each department and state.
    pub tickets: Vec<WouldTouch>,
}

/// Replays `rule` (saved or not) over the tickets opened in the last
/// `days` days. Administrators only; a rule that cannot be saved is
/// refused as saving would refuse it.
pub async fn replay(
    ctx: &Ctx<'_>,
    actor: &Actor,
    rule: Rule,
    days: u32,
) -> Result<Report, ServiceError> {
    access::require_admin(ctx, actor).await?;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ServiceError::Invalid {
            field: "days".into(),
            message: format!("1 to {MAX_DAYS}"),
        });
    }
    let compiled = rule.compile().map_err(|e| refusal(&e))?;
    let needs_user = compiled.rule.looks_at(|f| {
        matches!(
            f,
            Field::Email | Field::Name | Field::Domain | Field::Organisation
        )
    });
    let needs_body = compiled.rule.looks_at(|f| *f == Field::Body);
    let now = ctx.clock.now_ms();
    let since = now - i64::from(days) * DAY_MS;
    let rules = [compiled];
    let mut report = Report {
        days,
        since,
        examined: 0,
        matched: 0,
        tickets: Vec::new(),
    };
    let mut people: HashMap<UserId, (String, String)> = HashMap::new();
    let departments = records::list::<Department>(ctx, DepartmentId::KIND).await?;
    for department in departments {
        for state in [State::Open, State::Closed, State::Archived] {
            let mut query = Query::index(
                Index::Gsi1,
                keys::queue::department(ctx.instance, department.record.id, state),
            )
            .sk(SkCondition::Ge(format!("{since:013}")))
            .limit(MAX_QUERY_LIMIT);
            loop {
                let page = ctx.store.query(&query).await?;
                for item in &page.items {
                    let ticket: Ticket = codec::decode(item)?;
                    if ticket.created_at < since {
                        continue;
                    }
                    report.examined += 1;
                    let (email, name) = if needs_user {
                        requester(ctx, &mut people, &ticket.user).await?
                    } else {
                        (String::new(), String::new())
                    };
                    let body = if needs_body {
                        first_message(ctx, &ticket).await?
                    } else {
                        String::new()
                    };
                    let view = TicketView::of(&ticket, &email, &name, &body, now)
                        .with_opening_mail(&ticket);
                    let outcome = evaluate(&rules, Happening::Replay, &view);
                    if outcome.fired.is_empty() {
                        continue;
                    }
                    report.matched += 1;
                    if report.tickets.len() < MAX_LISTED {
                        report.tickets.push(WouldTouch {
                            number: ticket.number,
                            subject: ticket.subject,
                            created_at: ticket.created_at,
                            actions: outcome
                                .actions()
                                .map(|(_, a)| Action::describe(a))
                                .collect(),
                        });
                    }
                }
                match page.cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => break,
                }
            }
        }
    }
    Ok(report)
}

/// The address and name of `user`, read once per replay.
async fn requester(
    ctx: &Ctx<'_>,
    people: &mut HashMap<UserId, (String, String)>,
    user: &UserId,
) -> Result<(String, String), ServiceError> {
    if let Some(found) = people.get(user) {
        return Ok(found.clone());
    }
    let found = match users::get(ctx, user).await {
        Ok(u) => (u.primary_email().unwrap_or_default().to_owned(), u.name),
        Err(ServiceError::NotFound(_)) => (String::new(), String::new()),
        Err(other) => return Err(other),
    };
    people.insert(user.clone(), found.clone());
    Ok(found)
}

/// The text of the ticket's first entry (its first message).
async fn first_message(ctx: &Ctx<'_>, ticket: &Ticket) -> Result<String, ServiceError> {
    let query = Query::table(keys::ticket_pk(ctx.instance, &ticket.id))
        .sk(keys::entries())
        .limit(1);
    let page = ctx.store.query(&query).await?;
    match page.items.first() {
        Some(item) => Ok(codec::decode::<Entry>(item)?.body_text),
        None => Ok(String::new()),
    }
}

/// Replays the saved rule `id`.
pub async fn replay_saved(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: crate::domain::rules::RuleId,
    days: u32,
) -> Result<Report, ServiceError> {
    access::require_admin(ctx, actor).await?;
    let rule: Rule = records::load(ctx, crate::domain::rules::RuleId::KIND, id.0, "rule")
        .await?
        .record;
    replay(ctx, actor, rule, days).await
}
