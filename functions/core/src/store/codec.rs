//! Records to items and back: a serde struct becomes the attributes of an
//! item (one attribute per field), so items stay readable in any console and
//! an index key can be any field.
//!
//! Numbers must be integers (the store's `N` is `i64`); the key attributes
//! (`pk`, `sk`, index keys, `ttl`) belong to the key design, not to records,
//! and are skipped when decoding.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value as Json};

use super::{Item, Key, StoreError, TABLE, TTL, Value};

/// The item holding `record` under `key`.
///
/// Fails only for records this codec cannot represent (floats, non-object
/// records), which is a programming error surfaced as `InvalidRequest`.
pub fn encode<T: Serialize>(key: Key, record: &T) -> Result<Item, StoreError> {
    let json = serde_json::to_value(record)
        .map_err(|e| StoreError::InvalidRequest(format!("record cannot be encoded: {e}")))?;
    let Json::Object(fields) = json else {
        return Err(StoreError::InvalidRequest(
            "only records with named fields can be stored".into(),
        ));
    };
    let mut item = Item::new(key);
    for (name, value) in fields {
        if name == super::PK || name == super::SK || TABLE.is_index_attr(&name) || name == TTL {
            return Err(StoreError::InvalidRequest(format!(
                "the record field {name} clashes with a key attribute"
            )));
        }
        if !value.is_null() {
            item.set(name, to_value(value)?);
        }
    }
    Ok(item)
}

/// The record stored in `item`.
pub fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let mut fields = Map::new();
    for (name, value) in item.attrs() {
        if name == super::PK || name == super::SK || TABLE.is_index_attr(name) || name == TTL {
            continue;
        }
        fields.insert(name.clone(), to_json(value));
    }
    serde_json::from_value(Json::Object(fields)).map_err(|e| {
        StoreError::Corrupt(format!(
            "item ({}, {}) does not hold the expected record: {e}",
            item.pk(),
            item.sk()
        ))
    })
}

fn to_value(json: Json) -> Result<Value, StoreError> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => Value::N(n.as_i64().ok_or_else(|| {
            StoreError::InvalidRequest(format!("only integers can be stored, not {n}"))
        })?),
        Json::String(s) => Value::S(s),
        Json::Array(list) => Value::L(list.into_iter().map(to_value).collect::<Result<_, _>>()?),
        Json::Object(map) => Value::M(
            map.into_iter()
                .map(|(k, v)| Ok((k, to_value(v)?)))
                .collect::<Result<BTreeMap<_, _>, StoreError>>()?,
        ),
    })
}

fn to_json(value: &Value) -> Json {
    match value {
        Value::S(s) => Json::String(s.clone()),
        Value::N(n) => Json::Number(Number::from(*n)),
        Value::B(b) => Json::Array(b.iter().map(|x| Json::Number(Number::from(*x))).collect()),
        Value::Bool(b) => Json::Bool(*b),
        Value::Null => Json::Null,
        Value::L(list) => Json::Array(list.iter().map(to_json).collect()),
        Value::M(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Topic {
        name: String,
        public: bool,
        parent: Option<u32>,
        forms: Vec<u32>,
    }

    #[test]
    fn records_round_trip_through_items() {
        let topic = Topic {
            name: "Wi-Fi".into(),
            public: true,
            parent: None,
            forms: vec![1, 2],
        };
        let item = encode(Key::new("I#demo", "TOPIC#1"), &topic).unwrap();
        assert_eq!(item.get_str("name"), Some("Wi-Fi"));
        assert_eq!(item.get("parent"), None, "None fields are left out");
        let item = item.with("gsi1pk", "x").with(TTL, 5);
        assert_eq!(decode::<Topic>(&item).unwrap(), topic);
    }

    #[test]
    fn floats_and_key_fields_are_refused() {
        #[derive(Serialize)]
        struct Bad {
            ratio: f64,
        }
        assert!(encode(Key::new("p", "s"), &Bad { ratio: 0.5 }).is_err());
        #[derive(Serialize)]
        struct Clash {
            pk: String,
        }
        assert!(encode(Key::new("p", "s"), &Clash { pk: "x".into() }).is_err());
    }

    #[test]
    fn an_item_of_another_shape_is_reported_corrupt() {
        let item = Item::new(Key::new("p", "s")).with("name", 3);
        assert!(matches!(
            decode::<Topic>(&item),
            Err(StoreError::Corrupt(_))
        ));
    }
}
