//! Rules at work: read an instance's enabled rules (one query), run them
//! where a ticket is opened ([`apply::Creation`]), after what happens to
//! one ([`apply::after_entry`], [`apply::after_events`]) and when the
//! escalation tick finds a time rule due ([`time`]), and replay a rule
//! over past tickets ([`replay`]). The rules themselves, their checks
//! and their evaluation are pure: [`crate::domain::rules`]. Saving them is
//! the admin kind [`crate::services::admin::rules`].
//!
//! The thread records each rule that fired as a `rule_fired` event (its
//! id, name and what it did), written by `rules`. What rules change is
//! never a reason for update rules to run again: their own writes do not
//! call back into them.

pub mod apply;
pub mod replay;
pub mod sweep;
pub mod time;

use crate::domain::rules::{CompiledRule, Rule, RuleId, prepare};
use crate::services::admin::records;
use crate::services::{Ctx, ServiceError};

/// Who the thread says acted.
pub const AUTHOR: &str = "rules";
/// The event recording a rule that fired.
pub const RULE_FIRED: &str = "rule_fired";

/// The instance's enabled rules in running order, compiled: one query of
/// the instance partition. A stored rule that no longer compiles (saved by
/// an older version) is skipped with a warning.
pub async fn enabled(ctx: &Ctx<'_>) -> Result<Vec<CompiledRule>, ServiceError> {
    let rules: Vec<Rule> = records::list::<Rule>(ctx, RuleId::KIND)
        .await?
        .into_iter()
        .map(|v| v.record)
        .collect();
    let (ready, broken) = prepare(rules);
    for (id, error) in broken {
        tracing::warn!(instance = %ctx.instance, rule = %id, code = error.code(), %error, "rule skipped");
    }
    Ok(ready)
}
