//! DynamoDB expressions (condition, update, key condition, filter) built with
//! `#name` and `:value` placeholders: attribute names and values are never
//! spliced into expression text.
//!
//! DynamoDB does not hide expired items (its TTL deletes them lazily, moto
//! never), so every expression here that reads the item treats an item whose
//! `ttl` is at or before `now` as absent, as the contract says.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use taquilla_core::store::{Condition, PK, SkCondition, TTL, Update};

use super::convert::to_attr;

/// Placeholders for names and values, shared by all expressions of one request.
#[derive(Debug, Default)]
pub struct Expr {
    names: HashMap<String, String>,
    placeholders: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// The placeholder of the attribute `name` (one per name).
    pub fn name(&mut self, name: &str) -> String {
        if let Some(placeholder) = self.placeholders.get(name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        self.placeholders
            .insert(name.to_owned(), placeholder.clone());
        placeholder
    }

    /// A new placeholder for `value`.
    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// The name placeholders, `None` when there are none (DynamoDB refuses empty maps).
    #[must_use]
    pub fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// The value placeholders, `None` when there are none.
    #[must_use]
    pub fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    fn number(&mut self, n: i64) -> String {
        self.value(AttributeValue::N(n.to_string()))
    }

    /// True when the item is live: absent, without a TTL, or with a TTL after `now`.
    pub fn live(&mut self, now: i64) -> String {
        let ttl = self.name(TTL);
        let now = self.number(now);
        format!("(attribute_not_exists({ttl}) OR {ttl} > {now})")
    }

    /// The expression of a write's condition; `None` when there is none.
    pub fn condition(&mut self, condition: Option<&Condition>, now: i64) -> Option<String> {
        Some(match condition? {
            Condition::Absent => {
                let pk = self.name(PK);
                let ttl = self.name(TTL);
                let now = self.number(now);
                format!("(attribute_not_exists({pk}) OR {ttl} <= {now})")
            }
            Condition::Exists => {
                let pk = self.name(PK);
                let live = self.live(now);
                format!("(attribute_exists({pk}) AND {live})")
            }
            Condition::Equals(name, value) => {
                let name = self.name(name);
                let value = self.value(to_attr(value));
                let live = self.live(now);
                format!("({name} = {value} AND {live})")
            }
        })
    }

    /// The condition of an update: its own condition, the item is live (an
    /// expired item must be replaced, not merged into), and every ADD lands
    /// on a missing attribute or on a number it cannot overflow.
    ///
    /// When it fails, the adapter re-evaluates the update against the old
    /// item with the core's `apply::update` to tell which of these failed.
    pub fn update_condition(&mut self, update: &Update, now: i64) -> String {
        let mut parts: Vec<String> = self
            .condition(update.condition.as_ref(), now)
            .into_iter()
            .collect();
        parts.push(self.live(now));
        for (name, delta) in &update.add {
            let name = self.name(name);
            let number = self.value(AttributeValue::S("N".into()));
            let bound = match delta.signum() {
                1 => format!(" AND {name} <= {}", self.number(i64::MAX - delta)),
                -1 => format!(" AND {name} >= {}", self.number(i64::MIN - delta)),
                _ => String::new(),
            };
            parts.push(format!(
                "(attribute_not_exists({name}) OR (attribute_type({name}, {number}){bound}))"
            ));
        }
        parts.join(" AND ")
    }

    /// The update expression: `SET ... ADD ... REMOVE ...`.
    pub fn update(&mut self, update: &Update) -> String {
        let mut clauses = Vec::new();
        if !update.set.is_empty() {
            let sets: Vec<String> = update
                .set
                .iter()
                .map(|(name, value)| {
                    format!("{} = {}", self.name(name), self.value(to_attr(value)))
                })
                .collect();
            clauses.push(format!("SET {}", sets.join(", ")));
        }
        if !update.add.is_empty() {
            let adds: Vec<String> = update
                .add
                .iter()
                .map(|(name, delta)| format!("{} {}", self.name(name), self.number(*delta)))
                .collect();
            clauses.push(format!("ADD {}", adds.join(", ")));
        }
        if !update.remove.is_empty() {
            let removes: Vec<String> = update.remove.iter().map(|name| self.name(name)).collect();
            clauses.push(format!("REMOVE {}", removes.join(", ")));
        }
        clauses.join(" ")
    }

    /// The key condition of a query of partition `pk` (attribute `pk_attr`)
    /// and sort key `sk_attr`; `None` when the sort-key condition can match
    /// nothing.
    pub fn key_condition(
        &mut self,
        pk_attr: &str,
        pk: &str,
        sk_attr: &str,
        sk: Option<&SkCondition>,
    ) -> Option<String> {
        let partition = format!(
            "{} = {}",
            self.name(pk_attr),
            self.value(AttributeValue::S(pk.to_owned()))
        );
        let range = match sk.map(normalise) {
            None | Some(SkPlan::All) => return Some(partition),
            Some(SkPlan::Nothing) => return None,
            Some(SkPlan::Only(condition)) => condition,
        };
        let name = self.name(sk_attr);
        let mut v = |s: &String| self.value(AttributeValue::S(s.clone()));
        let range = match &range {
            SkCondition::Eq(a) => format!("{name} = {}", v(a)),
            SkCondition::BeginsWith(a) => format!("begins_with({name}, {})", v(a)),
            SkCondition::Between(a, b) => format!("{name} BETWEEN {} AND {}", v(a), v(b)),
            SkCondition::Lt(a) => format!("{name} < {}", v(a)),
            SkCondition::Le(a) => format!("{name} <= {}", v(a)),
            SkCondition::Gt(a) => format!("{name} > {}", v(a)),
            SkCondition::Ge(a) => format!("{name} >= {}", v(a)),
        };
        Some(format!("{partition} AND {range}"))
    }
}

/// What a sort-key condition asks of DynamoDB. Keys are never empty, and
/// DynamoDB refuses empty strings and inverted `BETWEEN` bounds, so those
/// cases are settled here, as the SQLite adapter would answer them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SkPlan {
    All,
    Nothing,
    Only(SkCondition),
}

fn normalise(sk: &SkCondition) -> SkPlan {
    match sk {
        SkCondition::Eq(a) | SkCondition::Lt(a) | SkCondition::Le(a) if a.is_empty() => {
            SkPlan::Nothing
        }
        SkCondition::BeginsWith(a) | SkCondition::Gt(a) | SkCondition::Ge(a) if a.is_empty() => {
            SkPlan::All
        }
        SkCondition::Between(a, b) if a.as_bytes() > b.as_bytes() || b.is_empty() => {
            SkPlan::Nothing
        }
        SkCondition::Between(a, b) if a.is_empty() => SkPlan::Only(SkCondition::Le(b.clone())),
        other => SkPlan::Only(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taquilla_core::store::Key;

    #[test]
    fn names_are_placeholders_and_reused() {
        let mut e = Expr::default();
        let a = e.name("weird name.with#chars");
        assert_eq!(e.name("weird name.with#chars"), a);
        assert_ne!(e.name("other"), a);
        assert_eq!(e.names().unwrap()[&a], "weird name.with#chars");
        assert!(e.values().is_none());
    }

    #[test]
    fn absent_accepts_an_expired_item() {
        let mut e = Expr::default();
        let text = e.condition(Some(&Condition::Absent), 10).unwrap();
        assert_eq!(text, "(attribute_not_exists(#n0) OR #n1 <= :v0)");
        assert_eq!(e.names().unwrap()["#n1"], "ttl");
        assert_eq!(e.values().unwrap()[":v0"], AttributeValue::N("10".into()));
    }

    #[test]
    fn equals_requires_a_live_item() {
        let mut e = Expr::default();
        let text = e
            .condition(Some(&Condition::equals("version", 3)), 10)
            .unwrap();
        assert_eq!(
            text,
            "(#n0 = :v0 AND (attribute_not_exists(#n1) OR #n1 > :v1))"
        );
    }

    #[test]
    fn an_update_guards_liveness_and_overflow() {
        let mut e = Expr::default();
        let update = Update::new(Key::new("p", "s"))
            .set("a", "x")
            .add("n", 5)
            .remove("r");
        let condition = e.update_condition(&update, 10);
        assert!(condition.contains("attribute_type("));
        assert!(condition.contains(" <= "));
        let text = e.update(&update);
        assert!(text.starts_with("SET "));
        assert!(text.contains(" ADD "));
        assert!(text.contains(" REMOVE "));
        let values = e.values().unwrap();
        assert!(
            values
                .values()
                .any(|v| *v == AttributeValue::N((i64::MAX - 5).to_string()))
        );
    }

    #[test]
    fn sort_key_conditions_that_dynamodb_refuses_are_settled_here() {
        let mut e = Expr::default();
        let none = |c: SkCondition| Expr::default().key_condition("pk", "P", "sk", Some(&c));
        assert_eq!(none(SkCondition::Eq(String::new())), None);
        assert_eq!(none(SkCondition::Between("b".into(), "a".into())), None);
        assert_eq!(
            none(SkCondition::BeginsWith(String::new())).as_deref(),
            Some("#n0 = :v0")
        );
        let text = e
            .key_condition(
                "pk",
                "P",
                "sk",
                Some(&SkCondition::Between("a".into(), "b".into())),
            )
            .unwrap();
        assert_eq!(text, "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2");
    }
}
