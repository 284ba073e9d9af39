//! [`Value`] <-> DynamoDB [`AttributeValue`], and items <-> attribute maps.
//!
//! Numbers are stored as the decimal string of an `i64`; a number read back
//! that is not an `i64` (written by something else) is [`StoreError::Corrupt`],
//! as is any type the model does not have (sets).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use taquilla_core::store::{Item, Key, PK, SK, StoreError, Value};

/// The attribute value of `value`.
#[must_use]
pub fn to_attr(value: &Value) -> AttributeValue {
    match value {
        Value::S(s) => AttributeValue::S(s.clone()),
        Value::N(n) => AttributeValue::N(n.to_string()),
        Value::B(b) => AttributeValue::B(Blob::new(b.clone())),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Null => AttributeValue::Null(true),
        Value::L(list) => AttributeValue::L(list.iter().map(to_attr).collect()),
        Value::M(map) => {
            AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect())
        }
    }
}

/// The value of an attribute read back from DynamoDB.
pub fn from_attr(attr: &AttributeValue) -> Result<Value, StoreError> {
    Ok(match attr {
        AttributeValue::S(s) => Value::S(s.clone()),
        AttributeValue::N(n) => {
            Value::N(n.parse().map_err(|_| {
                StoreError::Corrupt(format!("the number {n} is not a 64-bit integer"))
            })?)
        }
        AttributeValue::B(b) => Value::B(b.as_ref().to_vec()),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(list) => Value::L(list.iter().map(from_attr).collect::<Result<_, _>>()?),
        AttributeValue::M(map) => Value::M(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), from_attr(v)?)))
                .collect::<Result<_, StoreError>>()?,
        ),
        other => {
            return Err(StoreError::Corrupt(format!(
                "unsupported attribute type {other:?}"
            )));
        }
    })
}

/// The attribute map of an item.
#[must_use]
pub fn to_attrs(item: &Item) -> HashMap<String, AttributeValue> {
    item.attrs()
        .iter()
        .map(|(k, v)| (k.clone(), to_attr(v)))
        .collect()
}

/// The item of an attribute map read back from DynamoDB.
pub fn from_attrs(attrs: &HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    let map = attrs
        .iter()
        .map(|(k, v)| Ok((k.clone(), from_attr(v)?)))
        .collect::<Result<BTreeMap<_, _>, StoreError>>()?;
    let item = Item::from_attrs(map);
    for required in [PK, SK] {
        if item.get_str(required).is_none() {
            return Err(StoreError::Corrupt(format!(
                "a stored item has no string {required}"
            )));
        }
    }
    Ok(item)
}

/// The key attributes of `key`.
#[must_use]
pub fn key_attrs(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// The key of an attribute map (`None` when it has no string `pk`/`sk`).
#[must_use]
pub fn key_of(attrs: &HashMap<String, AttributeValue>) -> Option<Key> {
    let part = |name: &str| match attrs.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    Some(Key::new(part(PK)?, part(SK)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips() {
        let value = Value::M(BTreeMap::from([
            ("s".into(), Value::S("x".into())),
            ("n".into(), Value::N(i64::MIN)),
            ("b".into(), Value::B(vec![0, 255])),
            ("t".into(), Value::Bool(true)),
            ("z".into(), Value::Null),
            (
                "l".into(),
                Value::L(vec![Value::N(1), Value::S(String::new())]),
            ),
        ]));
        assert_eq!(from_attr(&to_attr(&value)).unwrap(), value);
    }

    #[test]
    fn a_number_that_is_not_an_i64_is_corrupt() {
        for n in ["1.5", "99999999999999999999", "1e3"] {
            assert!(matches!(
                from_attr(&AttributeValue::N(n.into())),
                Err(StoreError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn sets_are_corrupt() {
        assert!(matches!(
            from_attr(&AttributeValue::Ss(vec!["a".into()])),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn items_keep_their_keys() {
        let item = Item::new(Key::new("p", "s")).with("a", 1);
        let attrs = to_attrs(&item);
        assert_eq!(key_of(&attrs), Some(Key::new("p", "s")));
        assert_eq!(from_attrs(&attrs).unwrap(), item);
        assert_eq!(key_attrs(&item.key()), {
            let mut k = attrs.clone();
            k.remove("a");
            k
        });
    }
}
