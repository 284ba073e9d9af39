//! Custom lists: what a form's choice fields choose from (osTicket's
//! "Lists"). A list is ordered items, each with a value (what a ticket
//! stores), an optional label per language (what people read), extra
//! properties as a small flat JSON object, and a switch that disables it
//! for new answers while old tickets keep it.
//!
//! The ticket status list is one of them: [`CustomList::statuses`] shows
//! the instance's statuses as the built-in list [`STATUS_LIST`], read-only
//! (statuses keep their own storage and rules).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use super::form::Texts;
use super::{ListId, Status};

/// The id of the built-in ticket status list (custom lists count from 1).
pub const STATUS_LIST: ListId = ListId(0);
/// Most items of a list.
pub const MAX_ITEMS: usize = 500;
/// Longest item value, in characters.
pub const MAX_VALUE_CHARS: usize = 120;
/// Longest item label, in characters.
pub const MAX_LABEL_CHARS: usize = 255;
/// Most extra properties of an item.
pub const MAX_PROPERTIES: usize = 20;
/// Longest property name, in characters.
pub const MAX_PROPERTY_NAME_CHARS: usize = 64;
/// Longest text property, in characters.
pub const MAX_PROPERTY_TEXT_CHARS: usize = 1000;

/// A custom list of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomList {
    pub id: ListId,
    pub name: String,
    /// In the order they are offered.
    #[serde(default)]
    pub items: Vec<ListItem>,
}

/// One item of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListItem {
    /// What a ticket stores when it is chosen: unique in the list, no commas
    /// (a multiple choice stores its values joined by commas).
    pub value: String,
    /// What people read, per language (the value when there is none).
    #[serde(default, skip_serializing_if = "Texts::is_blank")]
    pub label: Texts,
    /// Extra properties: names to strings, integers or booleans.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
    /// Not offered to new answers (tickets that have it keep it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// A list that breaks a rule; each has a stable [`code`](ListError::code).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ListError {
    #[error("a list has at most {MAX_ITEMS} items")]
    TooManyItems,
    #[error(
        "item value {0:?} must have 1 to {MAX_VALUE_CHARS} characters, no commas and no control characters"
    )]
    BadValue(String),
    #[error("item value {0:?} is in the list twice")]
    DuplicateValue(String),
    #[error("item {value:?}: {reason}")]
    BadProperties { value: String, reason: String },
    #[error("item {0:?}: a label has at most {MAX_LABEL_CHARS} characters")]
    LabelTooLong(String),
}

impl ListError {
    /// The rule's stable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ListError::TooManyItems => "list_too_many_items",
            ListError::BadValue(_) => "list_bad_value",
            ListError::DuplicateValue(_) => "list_duplicate_value",
            ListError::BadProperties { .. } => "list_bad_properties",
            ListError::LabelTooLong(_) => "list_text_too_long",
        }
    }
}

impl CustomList {
    /// Refuses a list that breaks a rule; values and labels are trimmed.
    pub fn check(&mut self) -> Result<(), ListError> {
        if self.items.len() > MAX_ITEMS {
            return Err(ListError::TooManyItems);
        }
        let mut seen = std::collections::BTreeSet::new();
        for item in &mut self.items {
            item.value = item.value.trim().to_owned();
            let chars = item.value.chars().count();
            if chars == 0
                || chars > MAX_VALUE_CHARS
                || item.value.contains(',')
                || item.value.chars().any(char::is_control)
            {
                return Err(ListError::BadValue(item.value.clone()));
            }
            if !seen.insert(item.value.clone()) {
                return Err(ListError::DuplicateValue(item.value.clone()));
            }
            if !item.label.trim(MAX_LABEL_CHARS) {
                return Err(ListError::LabelTooLong(item.value.clone()));
            }
            check_properties(&item.properties).map_err(|reason| ListError::BadProperties {
                value: item.value.clone(),
                reason,
            })?;
        }
        Ok(())
    }

    /// The enabled item with `value`, if any.
    #[must_use]
    pub fn offered(&self, value: &str) -> Option<&ListItem> {
        self.items
            .iter()
            .find(|item| item.value == value && !item.disabled)
    }

    /// The instance's statuses as the built-in list: the value is the
    /// status's id, the label its name (in every language), the property
    /// `state` its state.
    #[must_use]
    pub fn statuses(statuses: &[Status]) -> Self {
        Self {
            id: STATUS_LIST,
            name: "Ticket statuses".to_owned(),
            items: statuses
                .iter()
                .map(|status| ListItem {
                    value: status.id.to_string(),
                    label: Texts::uniform(&status.name),
                    properties: Map::from_iter([(
                        "state".to_owned(),
                        Value::from(status.state.as_str()),
                    )]),
                    disabled: false,
                })
                .collect(),
        }
    }
}

/// A small flat object: names of 1 to 64 characters, values that are
/// strings (up to 1000 characters), integers or booleans. Floats are
/// refused because the store keeps integers only.
fn check_properties(properties: &Map<String, Value>) -> Result<(), String> {
    if properties.len() > MAX_PROPERTIES {
        return Err(format!("at most {MAX_PROPERTIES} properties"));
    }
    for (name, value) in properties {
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_PROPERTY_NAME_CHARS {
            return Err(format!(
                "property names have 1 to {MAX_PROPERTY_NAME_CHARS} characters"
            ));
        }
        let ok = match value {
            Value::String(text) => text.chars().count() <= MAX_PROPERTY_TEXT_CHARS,
            Value::Number(n) => n.as_i64().is_some(),
            Value::Bool(_) => true,
            Value::Null | Value::Array(_) | Value::Object(_) => false,
        };
        if !ok {
            return Err(format!(
                "property {name:?} must be a string of at most {MAX_PROPERTY_TEXT_CHARS} characters, an integer or a boolean"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{State, StatusId};

    fn list(items: Value) -> CustomList {
        serde_json::from_value(json!({"id": 1, "name": "Campus", "items": items})).unwrap()
    }

    #[test]
    fn a_list_keeps_its_order_labels_properties_and_disabled_items() {
        let mut campus = list(json!([
            {"value": " north ", "label": {"en": "North", "ca": "Nord"}, "properties": {"code": 7, "open": true}},
            {"value": "south", "disabled": true},
        ]));
        campus.check().unwrap();
        assert_eq!(campus.items[0].value, "north");
        assert_eq!(campus.items[0].label.en.as_deref(), Some("North"));
        assert!(campus.offered("north").is_some());
        assert!(campus.offered("south").is_none(), "disabled");
        assert!(campus.offered("east").is_none());
        let back: CustomList =
            serde_json::from_value(serde_json::to_value(&campus).unwrap()).unwrap();
        assert_eq!(back, campus);
    }

    #[test]
    fn bad_lists_are_refused_with_stable_codes() {
        let cases = [
            (json!([{"value": ""}]), "list_bad_value"),
            (json!([{"value": "a,b"}]), "list_bad_value"),
            (json!([{"value": "x".repeat(121)}]), "list_bad_value"),
            (
                json!([{"value": "a"}, {"value": " a"}]),
                "list_duplicate_value",
            ),
            (
                json!([{"value": "a", "properties": {"ratio": 0.5}}]),
                "list_bad_properties",
            ),
            (
                json!([{"value": "a", "properties": {"nested": {"x": 1}}}]),
                "list_bad_properties",
            ),
            (
                json!([{"value": "a", "properties": {"": 1}}]),
                "list_bad_properties",
            ),
            (
                json!([{"value": "a", "label": {"en": "x".repeat(256)}}]),
                "list_text_too_long",
            ),
        ];
        for (items, code) in cases {
            let err = list(items.clone()).check().unwrap_err();
            assert_eq!(err.code(), code, "{items}");
        }
        let many: Vec<Value> = (0..=MAX_ITEMS)
            .map(|n| json!({"value": n.to_string()}))
            .collect();
        assert_eq!(
            list(Value::Array(many)).check().unwrap_err().code(),
            "list_too_many_items"
        );
    }

    #[test]
    fn statuses_are_the_built_in_list() {
        let statuses = [
            Status {
                id: StatusId(1),
                name: "Open".into(),
                state: State::Open,
            },
            Status {
                id: StatusId(3),
                name: "Closed".into(),
                state: State::Closed,
            },
        ];
        let list = CustomList::statuses(&statuses);
        assert_eq!(list.id, STATUS_LIST);
        let values: Vec<&str> = list.items.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(values, ["1", "3"]);
        assert_eq!(list.items[1].label.es.as_deref(), Some("Closed"));
        assert_eq!(list.items[1].properties["state"], "closed");
    }
}
