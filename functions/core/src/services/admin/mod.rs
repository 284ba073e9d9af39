//! What an administrator configures: the instance's settings, departments,
//! help topics, agents, teams, roles, statuses and priorities.
//!
//! Business-hours schedules ([`schedules`]) and SLA plans ([`sla_plans`])
//! are named objects too, with the same life.
//!
//! Canned responses ([`canned`]) are a named kind as well, written by the
//! agents with `canned.manage` in their department rather than by
//! administrators only.
//!
//! So are custom forms ([`forms`]) and the lists their choice fields choose
//! from ([`lists`]), of which the ticket status list is a built-in one.
//!
//! Rules ([`rules`]) are a named kind too, written and read by
//! administrators; they run through [`crate::services::rules`].
//!
//! Departments, help topics, teams, roles, statuses and priorities are named
//! objects with one life, written once in [`objects`] (list, get, create,
//! update and, but for statuses, delete); each kind's module holds what is
//! its own (its changes, its rules, what stops its deletion). Their names
//! are unique per kind through claim items ([`names`]). Agents ([`agents`]:
//! a generated password, an e-mail claim, deactivated rather than deleted)
//! and the instance's settings ([`instances`]) have modules of their own.
//!
//! Every write needs an administrator of the instance
//! ([`access::require_admin`]); departments, topics, teams, statuses and
//! priorities may be read by any active agent of the instance
//! ([`access::require_member`]).
//!
//! Objects are stored one item each under [`crate::keys::object`], with a
//! `version` attribute beside the record's fields: an update names the
//! version it was made from and is written only if that is still the stored
//! one (see [`records`]), so two concurrent edits never both win silently.

pub mod access;
pub mod agents;
pub mod canned;
pub mod departments;
pub mod forms;
pub mod ids;
pub mod instances;
pub mod lists;
pub mod names;
pub mod objects;
pub mod priorities;
pub mod records;
pub mod roles;
pub mod rules;
pub mod schedules;
pub mod sla_plans;
pub mod statuses;
pub mod teams;
pub mod topics;
mod validate;

pub use records::Versioned;

/// Deserialises a field that may be absent (leave it), `null` (clear it) or
/// a value (set it): use with `#[serde(default, deserialize_with = "nullable")]`
/// on an `Option<Option<T>>`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
