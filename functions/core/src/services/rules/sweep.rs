//! Bringing open tickets up to date with a time rule saved after them.
//!
//! A ticket's next time-rule moment is recomputed on every write of the
//! ticket; a time rule saved (created, changed, enabled) after a ticket's
//! last write would reach it only at its next one. So saving a time rule
//! also writes a sweep marker ([`mark_op`], in the rule's transaction;
//! saving another restarts it), and the escalation tick, after the due
//! tickets, takes one step of the sweep ([`step`]): a page of the open
//! tickets, department by department (the department queues, `gsi1`),
//! each given its next moment under the rules as they are, and written
//! only when its key in the due index moves. The marker keeps where the
//! sweep is and is deleted when it is done, so a sweep costs the open
//! tickets once per rule saved, spread over ticks, and a tick with no
//! sweep pending costs one read more.

use serde::{Deserialize, Serialize};

use super::time;
use crate::domain::rules::{CompiledRule, Moment, Rule};
use crate::domain::sla_clock;
use crate::domain::{Department, DepartmentId, EntryId, State, Ticket};
use crate::keys;
use crate::services::admin::records;
use crate::services::sla::Plans;
use crate::services::tickets::store;
use crate::services::{Ctx, ServiceError};
use crate::store::{Condition, Index, Key, Query, StoreError, WriteOp, codec};

/// Open tickets one tick looks at.
pub const PAGE: u32 = 100;

/// The marker's attribute naming the sweep (a new save, a new sweep).
const TOKEN_ATTR: &str = "token";

/// Where a sweep is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Marker {
    token: String,
    /// Index of the department being swept, in id order.
    department: usize,
    /// Where in its open queue.
    #[serde(default)]
    cursor: Option<String>,
}

fn key(ctx: &Ctx<'_>) -> Key {
    Key::new(keys::instance_pk(ctx.instance), "RULESWEEP")
}

/// Whether saving a rule from `before` to `after` may change open tickets'
/// next moments: an enabled time rule created or changed, or a rule that
/// becomes one.
#[must_use]
pub fn needed(before: Option<&Rule>, after: Option<&Rule>) -> bool {
    let Some(after) = after.filter(|r| r.enabled && r.moment == Moment::Time) else {
        return false;
    };
    before.is_none_or(|b| {
        !b.enabled
            || b.moment != after.moment
            || b.matching != after.matching
            || b.conditions != after.conditions
            || b.order != after.order
            || b.stop != after.stop
    })
}

/// The operation (re)starting the sweep.
pub(crate) fn mark_op(ctx: &Ctx<'_>) -> Result<WriteOp, ServiceError> {
    let marker = Marker {
        token: EntryId::generate().to_string(),
        department: 0,
        cursor: None,
    };
    Ok(WriteOp::Put {
        item: codec::encode(key(ctx), &marker)?,
        condition: None,
    })
}

/// One step of the pending sweep, if any, under the instance's enabled
/// `rules` at `now`: how many tickets it moved in the due index.
pub(crate) async fn step(
    ctx: &Ctx<'_>,
    rules: &[CompiledRule],
    plans: &mut Plans,
    now: i64,
) -> Result<usize, ServiceError> {
    let Some(item) = ctx.store.get(&key(ctx)).await? else {
        return Ok(0);
    };
    let mut marker: Marker = codec::decode(&item)?;
    let token = marker.token.clone();
    let mut departments: Vec<DepartmentId> = records::list::<Department>(ctx, DepartmentId::KIND)
        .await?
        .into_iter()
        .map(|d| d.record.id)
        .collect();
    departments.sort_unstable();
    let mut seen: u32 = 0;
    let mut moved = 0;
    while seen < PAGE {
        let Some(department) = departments.get(marker.department) else {
            break;
        };
        let mut query = Query::index(
            Index::Gsi1,
            keys::queue::department(ctx.instance, *department, State::Open),
        )
        .limit(PAGE - seen);
        query.cursor = marker.cursor.take();
        let page = ctx.store.query(&query).await?;
        for item in &page.items {
            seen += 1;
            let ticket: Ticket = codec::decode(item)?;
            if bring_up_to_date(ctx, rules, plans, ticket, now).await? {
                moved += 1;
            }
        }
        match page.cursor {
            Some(cursor) => marker.cursor = Some(cursor),
            None => marker.department += 1,
        }
    }
    let done = marker.department >= departments.len();
    let write = if done {
        ctx.store
            .delete(&key(ctx), Some(Condition::equals(TOKEN_ATTR, token)))
            .await
    } else {
        ctx.store
            .put(
                codec::encode(key(ctx), &marker)?,
                Some(Condition::equals(TOKEN_ATTR, token)),
            )
            .await
    };
    match write {
        // A rule saved meanwhile restarted the sweep.
        Ok(()) | Err(StoreError::ConditionFailed) => {}
        Err(other) => return Err(other.into()),
    }
    if done {
        tracing::info!(instance = %ctx.instance, "time rules: open tickets up to date");
    }
    Ok(moved)
}

/// Gives `ticket` its next moment under `rules` and writes it when its key
/// in the due index moves; whether it did. A ticket written meanwhile got
/// its moment from that write.
async fn bring_up_to_date(
    ctx: &Ctx<'_>,
    rules: &[CompiledRule],
    plans: &mut Plans,
    mut ticket: Ticket,
    now: i64,
) -> Result<bool, ServiceError> {
    let indexed = sla_clock::next_fire(&ticket);
    let counted = match ticket.sla {
        Some(id) => plans.get(ctx, id).await?,
        None => None,
    };
    time::schedule(ctx, &mut ticket, rules, counted.map(|(_, c)| c), now).await?;
    if sla_clock::next_fire(&ticket) == indexed {
        return Ok(false);
    }
    match store::save(ctx, ticket.version, &ticket, Vec::new()).await {
        Ok(()) => Ok(true),
        Err(ServiceError::Conflict(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(value: serde_json::Value) -> Rule {
        serde_json::from_value(value).expect("a rule")
    }

    #[test]
    fn only_an_enabled_time_rule_created_or_changed_needs_a_sweep() {
        let time = rule(serde_json::json!({"name": "t", "moment": {"on": "time"},
            "conditions": [{"field": "age", "op": "greater_than", "value": "1d"}],
            "actions": [{"do": "close"}]}));
        assert!(needed(None, Some(&time)));
        assert!(!needed(Some(&time), Some(&time)), "unchanged");
        let mut renamed = time.clone();
        renamed.name = "other".into();
        assert!(
            !needed(Some(&time), Some(&renamed)),
            "a name changes no moment"
        );
        let mut later = time.clone();
        later.conditions[0].value = "2d".into();
        assert!(needed(Some(&time), Some(&later)));
        let mut off = time.clone();
        off.enabled = false;
        assert!(!needed(Some(&time), Some(&off)));
        assert!(needed(Some(&off), Some(&time)), "enabled again");
        assert!(!needed(Some(&time), None), "deleted");
        let creation = rule(
            serde_json::json!({"name": "c", "moment": {"on": "creation"},
            "actions": [{"do": "close"}]}),
        );
        assert!(!needed(None, Some(&creation)));
    }
}
