//! Items, keys and attribute values: the data model of the [`ItemStore`](super::ItemStore).
//!
//! The model is the subset of DynamoDB's that Taquilla uses: string, integer,
//! binary, boolean and null scalars, lists and maps. Numbers are `i64`: every
//! number Taquilla stores (counters, versions, epoch seconds, minutes) is an
//! integer, and integers round-trip exactly through both adapters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Name of the partition-key attribute of every item.
pub const PK: &str = "pk";
/// Name of the sort-key attribute of every item.
pub const SK: &str = "sk";
/// Name of the time-to-live attribute: epoch seconds after which the item is gone.
pub const TTL: &str = "ttl";

/// One attribute value.
///
/// Serialised as DynamoDB's typed JSON (`{"S": "..."}`, `{"N": 1}`, ...), which
/// is also how the SQLite adapter keeps items on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    #[serde(rename = "S")]
    S(String),
    #[serde(rename = "N")]
    N(i64),
    #[serde(rename = "B", with = "base64_bytes")]
    B(Vec<u8>),
    #[serde(rename = "BOOL")]
    Bool(bool),
    #[serde(rename = "NULL")]
    Null,
    #[serde(rename = "L")]
    L(Vec<Value>),
    #[serde(rename = "M")]
    M(BTreeMap<String, Value>),
}

impl Value {
    /// The string inside an `S` value.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::S(s) => Some(s),
            _ => None,
        }
    }

    /// The integer inside an `N` value.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::N(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean inside a `BOOL` value.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A short name of the value's type, for error messages.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::S(_) => "S",
            Value::N(_) => "N",
            Value::B(_) => "B",
            Value::Bool(_) => "BOOL",
            Value::Null => "NULL",
            Value::L(_) => "L",
            Value::M(_) => "M",
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::S(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::S(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::N(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::B(b)
    }
}

/// The primary key of an item: partition key and sort key, both strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// An item: a map of attribute names to values, always holding `pk` and `sk`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Item {
    attrs: BTreeMap<String, Value>,
}

impl Item {
    /// A new item with only its key.
    #[must_use]
    pub fn new(key: Key) -> Self {
        let mut attrs = BTreeMap::new();
        attrs.insert(PK.to_owned(), Value::S(key.pk));
        attrs.insert(SK.to_owned(), Value::S(key.sk));
        Self { attrs }
    }

    /// An item from raw attributes (as read back from a store); not validated.
    #[must_use]
    pub fn from_attrs(attrs: BTreeMap<String, Value>) -> Self {
        Self { attrs }
    }

    /// Builder form of [`Item::set`].
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set(name, value);
        self
    }

    /// Sets an attribute, replacing any previous value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.attrs.insert(name.into(), value.into());
    }

    /// Removes an attribute and returns it.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.attrs.remove(name)
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attrs.get(name)
    }

    /// The string attribute `name`, if present and a string.
    #[must_use]
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// The integer attribute `name`, if present and a number.
    #[must_use]
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_i64)
    }

    /// The partition key (empty if the item has none, which validation refuses).
    #[must_use]
    pub fn pk(&self) -> &str {
        self.get_str(PK).unwrap_or_default()
    }

    /// The sort key (empty if the item has none, which validation refuses).
    #[must_use]
    pub fn sk(&self) -> &str {
        self.get_str(SK).unwrap_or_default()
    }

    /// The item's primary key.
    #[must_use]
    pub fn key(&self) -> Key {
        Key::new(self.pk(), self.sk())
    }

    /// Epoch seconds after which the item is expired, if it has a TTL.
    #[must_use]
    pub fn ttl(&self) -> Option<i64> {
        self.get_i64(TTL)
    }

    /// Whether the item's TTL has passed at `now` (epoch seconds).
    #[must_use]
    pub fn is_expired(&self, now: i64) -> bool {
        self.ttl().is_some_and(|ttl| ttl <= now)
    }

    pub fn attrs(&self) -> &BTreeMap<String, Value> {
        &self.attrs
    }

    #[must_use]
    pub fn into_attrs(self) -> BTreeMap<String, Value> {
        self.attrs
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_serialise_as_dynamodb_typed_json() {
        let item = Item::new(Key::new("p", "s"))
            .with("n", 5)
            .with("b", vec![1u8, 2])
            .with("t", true)
            .with("z", Value::Null);
        let json = serde_json::to_string(&item).unwrap();
        assert_eq!(
            json,
            r#"{"b":{"B":"AQI="},"n":{"N":5},"pk":{"S":"p"},"sk":{"S":"s"},"t":{"BOOL":true},"z":"NULL"}"#
        );
        let back: Item = serde_json::from_str(&json).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn expiry_is_inclusive_of_the_ttl_second() {
        let item = Item::new(Key::new("p", "s")).with(TTL, 100);
        assert!(!item.is_expired(99));
        assert!(item.is_expired(100));
    }
}
