//! Checks every adapter runs before it touches storage, so that bad input gets
//! the same error from SQLite and from DynamoDB.

use std::collections::HashSet;

use super::{
    Condition, Item, Key, MAX_BATCH_GET_KEYS, MAX_ITEM_BYTES, MAX_PK_BYTES, MAX_QUERY_LIMIT,
    MAX_SK_BYTES, MAX_TRANSACTION_OPS, PK, Query, SK, StoreError, TABLE, TTL, Update, Value,
    WriteOp,
};

/// The size of an item as DynamoDB counts it: for each attribute, the UTF-8
/// length of its name plus the size of its value.
#[must_use]
pub fn item_size(item: &Item) -> usize {
    item.attrs()
        .iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// The size of one value as DynamoDB counts it.
#[must_use]
pub fn value_size(value: &Value) -> usize {
    match value {
        Value::S(s) => s.len(),
        Value::N(n) => number_size(*n),
        Value::B(b) => b.len(),
        Value::Bool(_) | Value::Null => 1,
        Value::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        Value::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
    }
}

/// DynamoDB stores numbers as base-100 digits: one byte per two significant
/// digits, plus one.
fn number_size(n: i64) -> usize {
    let digits = n.unsigned_abs().to_string();
    let significant = digits.trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1 + usize::from(n < 0)
}

/// A primary key: both parts non-empty and within DynamoDB's length limits.
pub fn key(key: &Key) -> Result<(), StoreError> {
    key_part(PK, &key.pk, MAX_PK_BYTES)?;
    key_part(SK, &key.sk, MAX_SK_BYTES)
}

fn key_part(name: &str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.is_empty() {
        return Err(StoreError::InvalidKey(format!("{name} is empty")));
    }
    if value.len() > max {
        return Err(StoreError::InvalidKey(format!(
            "{name} is {} bytes long, the limit is {max}",
            value.len()
        )));
    }
    Ok(())
}

/// An attribute that keys the table or an index must be a non-empty string;
/// the TTL attribute must be a number; attribute names must not be empty.
fn attribute(name: &str, value: &Value) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(StoreError::InvalidRequest(
            "attribute names must not be empty".into(),
        ));
    }
    if TABLE.is_key_attr(name) {
        match value {
            Value::S(s) if s.is_empty() => {
                return Err(StoreError::InvalidKey(format!("{name} is empty")));
            }
            Value::S(s) if TABLE.is_index_attr(name) && s.len() > MAX_SK_BYTES => {
                return Err(StoreError::InvalidKey(format!(
                    "{name} is {} bytes long, the limit is {MAX_SK_BYTES}",
                    s.len()
                )));
            }
            Value::S(_) => {}
            other => {
                return Err(StoreError::InvalidKey(format!(
                    "{name} must be a string, not {}",
                    other.type_name()
                )));
            }
        }
    }
    if name == TTL && !matches!(value, Value::N(_)) {
        return Err(StoreError::InvalidRequest(format!(
            "{TTL} must be a number of epoch seconds, not {}",
            value.type_name()
        )));
    }
    Ok(())
}

/// An item as it would be stored: valid key, valid key attributes, within the size limit.
pub fn item(item: &Item) -> Result<(), StoreError> {
    for required in [PK, SK] {
        if !matches!(item.get(required), Some(Value::S(_))) {
            return Err(StoreError::InvalidKey(format!(
                "the item has no string {required}"
            )));
        }
    }
    key(&item.key())?;
    for (name, value) in item.attrs() {
        attribute(name, value)?;
    }
    size(item)
}

/// The size limit alone.
pub fn size(item: &Item) -> Result<(), StoreError> {
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge {
            size,
            limit: MAX_ITEM_BYTES,
        });
    }
    Ok(())
}

/// A condition names an attribute when it compares one.
pub fn condition(condition: Option<&Condition>) -> Result<(), StoreError> {
    if let Some(Condition::Equals(name, _)) = condition
        && name.is_empty()
    {
        return Err(StoreError::InvalidRequest(
            "a condition names an empty attribute".into(),
        ));
    }
    Ok(())
}

/// An update: valid key, never touching `pk`/`sk`, each attribute at most once.
pub fn update(update: &Update) -> Result<(), StoreError> {
    key(&update.key)?;
    condition(update.condition.as_ref())?;
    if update.set.is_empty() && update.add.is_empty() && update.remove.is_empty() {
        return Err(StoreError::InvalidRequest(
            "an update must set, add or remove something".into(),
        ));
    }
    let mut seen = HashSet::new();
    let names = update
        .set
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(update.add.iter().map(|(n, _)| n.as_str()))
        .chain(update.remove.iter().map(String::as_str));
    for name in names {
        if name == PK || name == SK {
            return Err(StoreError::InvalidRequest(format!(
                "an update cannot change the key attribute {name}"
            )));
        }
        if !seen.insert(name) {
            return Err(StoreError::InvalidRequest(format!(
                "an update names the attribute {name} more than once"
            )));
        }
    }
    for (name, value) in &update.set {
        attribute(name, value)?;
    }
    for (name, _) in &update.add {
        if TABLE.is_key_attr(name) {
            return Err(StoreError::InvalidKey(format!(
                "{name} keys an index and must be a string; it cannot be added to"
            )));
        }
        if name.is_empty() {
            return Err(StoreError::InvalidRequest(
                "attribute names must not be empty".into(),
            ));
        }
    }
    // The values set must fit on their own; whether the whole item fits is
    // known only once it is applied to what is stored.
    let set_size: usize = update
        .set
        .iter()
        .map(|(n, v)| n.len() + value_size(v))
        .sum();
    if set_size > super::MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge {
            size: set_size,
            limit: super::MAX_ITEM_BYTES,
        });
    }
    Ok(())
}

/// A query: a non-empty partition, a limit within bounds.
pub fn query(query: &Query) -> Result<(), StoreError> {
    if query.pk.is_empty() {
        return Err(StoreError::InvalidKey(
            "the query's partition key is empty".into(),
        ));
    }
    if query.limit == 0 || query.limit > MAX_QUERY_LIMIT {
        return Err(StoreError::InvalidRequest(format!(
            "a query's limit must be between 1 and {MAX_QUERY_LIMIT}, not {}",
            query.limit
        )));
    }
    Ok(())
}

/// A batch get: at most [`MAX_BATCH_GET_KEYS`] valid keys, none twice.
pub fn batch_get(keys: &[Key]) -> Result<(), StoreError> {
    if keys.len() > MAX_BATCH_GET_KEYS {
        return Err(StoreError::InvalidRequest(format!(
            "a batch get takes at most {MAX_BATCH_GET_KEYS} keys, not {}",
            keys.len()
        )));
    }
    let mut seen = HashSet::new();
    for k in keys {
        key(k)?;
        if !seen.insert(k) {
            return Err(StoreError::InvalidRequest(format!(
                "a batch get names the key ({}, {}) more than once",
                k.pk, k.sk
            )));
        }
    }
    Ok(())
}

/// A transaction: 1 to [`MAX_TRANSACTION_OPS`] valid operations, one per item.
pub fn transaction(ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.is_empty() || ops.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::InvalidRequest(format!(
            "a transaction takes 1 to {MAX_TRANSACTION_OPS} operations, not {}",
            ops.len()
        )));
    }
    let mut seen = HashSet::new();
    for op in ops {
        match op {
            WriteOp::Put {
                item: it,
                condition: c,
            } => {
                item(it)?;
                condition(c.as_ref())?;
            }
            WriteOp::Update(u) => update(u)?,
            WriteOp::Delete {
                key: k,
                condition: c,
            } => {
                key(k)?;
                condition(c.as_ref())?;
            }
            WriteOp::Check {
                key: k,
                condition: c,
            } => {
                key(k)?;
                condition(Some(c))?;
            }
        }
        let k = op.key();
        if !seen.insert(k.clone()) {
            return Err(StoreError::InvalidRequest(format!(
                "a transaction touches the item ({}, {}) more than once",
                k.pk, k.sk
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_sizes_follow_dynamodb() {
        assert_eq!(number_size(0), 2);
        assert_eq!(number_size(7), 2);
        assert_eq!(number_size(12), 2);
        assert_eq!(number_size(123), 3);
        assert_eq!(number_size(1_000_000), 2);
        assert_eq!(number_size(-12), 3);
    }

    #[test]
    fn item_size_counts_names_and_values() {
        let it = Item::new(Key::new("ab", "c")).with("s", "hello");
        // "pk" + "ab" + "sk" + "c" + "s" + "hello"
        assert_eq!(item_size(&it), 2 + 2 + 2 + 1 + 1 + 5);
    }

    #[test]
    fn empty_and_long_keys_are_refused() {
        assert!(matches!(
            key(&Key::new("", "s")),
            Err(StoreError::InvalidKey(_))
        ));
        assert!(matches!(
            key(&Key::new("p", "")),
            Err(StoreError::InvalidKey(_))
        ));
        let long = "x".repeat(MAX_SK_BYTES + 1);
        assert!(matches!(
            key(&Key::new("p", long)),
            Err(StoreError::InvalidKey(_))
        ));
    }

    #[test]
    fn index_attributes_must_be_non_empty_strings() {
        let it = Item::new(Key::new("p", "s")).with("gsi1pk", "");
        assert!(matches!(item(&it), Err(StoreError::InvalidKey(_))));
        let it = Item::new(Key::new("p", "s")).with("gsi1sk", 3);
        assert!(matches!(item(&it), Err(StoreError::InvalidKey(_))));
    }

    #[test]
    fn updates_cannot_touch_the_key_or_name_an_attribute_twice() {
        let k = Key::new("p", "s");
        assert!(update(&Update::new(k.clone()).set("pk", "x")).is_err());
        assert!(update(&Update::new(k.clone()).set("a", 1).add("a", 1)).is_err());
        assert!(update(&Update::new(k).set("a", 1)).is_ok());
    }
}
