//! The meaning of conditions and updates, as pure functions over the item as
//! stored. Adapters that evaluate writes themselves (SQLite) call these; the
//! DynamoDB adapter translates the same meaning into expressions, and the
//! conformance suite checks that both agree.

use super::{Condition, Item, StoreError, Update, Value, validate};

/// Whether `condition` holds of `current`, the live (present, unexpired) item.
#[must_use]
pub fn condition_holds(current: Option<&Item>, condition: Option<&Condition>) -> bool {
    match condition {
        None => true,
        Some(Condition::Absent) => current.is_none(),
        Some(Condition::Exists) => current.is_some(),
        Some(Condition::Equals(name, value)) => current.and_then(|it| it.get(name)) == Some(value),
    }
}

/// The item after `update` is applied to `current` (the live item, if any).
///
/// Checks the condition, applies SET, ADD and REMOVE, and checks the size of
/// the result.
pub fn update(current: Option<Item>, update: &Update) -> Result<Item, StoreError> {
    if !condition_holds(current.as_ref(), update.condition.as_ref()) {
        return Err(StoreError::ConditionFailed);
    }
    let mut item = current.unwrap_or_else(|| Item::new(update.key.clone()));
    for (name, value) in &update.set {
        item.set(name.clone(), value.clone());
    }
    for (name, delta) in &update.add {
        let start = match item.get(name) {
            None => 0,
            Some(Value::N(n)) => *n,
            Some(other) => {
                return Err(StoreError::InvalidRequest(format!(
                    "cannot add to {name}: it holds {}, not a number",
                    other.type_name()
                )));
            }
        };
        let sum = start.checked_add(*delta).ok_or_else(|| {
            StoreError::InvalidRequest(format!("adding {delta} to {name} overflows"))
        })?;
        item.set(name.clone(), sum);
    }
    for name in &update.remove {
        item.remove(name);
    }
    validate::size(&item)?;
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Key;

    fn k() -> Key {
        Key::new("p", "s")
    }

    #[test]
    fn update_of_a_missing_item_creates_it_and_adds_from_zero() {
        let out = update(None, &Update::new(k()).add("n", 5).set("a", "x")).unwrap();
        assert_eq!(out.get_i64("n"), Some(5));
        assert_eq!(out.get_str("a"), Some("x"));
        assert_eq!(out.key(), k());
    }

    #[test]
    fn add_to_a_string_is_refused() {
        let current = Item::new(k()).with("n", "x");
        let err = update(Some(current), &Update::new(k()).add("n", 1)).unwrap_err();
        assert!(matches!(err, StoreError::InvalidRequest(_)));
    }

    #[test]
    fn equals_needs_the_item_and_the_value() {
        let current = Item::new(k()).with("v", 2);
        let cond = Condition::equals("v", 2);
        assert!(condition_holds(Some(&current), Some(&cond)));
        assert!(!condition_holds(None, Some(&cond)));
        assert!(!condition_holds(
            Some(&current),
            Some(&Condition::equals("v", 3))
        ));
    }
}
