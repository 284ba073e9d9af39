//! Where a new ticket goes: its help topic, department and priority, and
//! the number format it gets, read and checked before anything is written.
//!
//! The objects a request names are read together: one batch read for the
//! instance, the topic and whatever the request names itself, and, when
//! the topic decides the department or the priority, a second one for
//! those. On DynamoDB each read is a network round trip, so a ticket waits
//! for two instead of four before its checks can start.

use serde::de::DeserializeOwned;

use super::config;
use super::open::{DEFAULT_PRIORITY, OpenTicket, invalid};
use crate::domain::number::NumberFormat;
use crate::domain::{Department, DepartmentId, HelpTopic, Instance, Priority, PriorityId, TopicId};
use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{Item, Key, codec};

/// Where the ticket goes and with what number format, all checked.
pub(crate) struct Route {
    pub(crate) topic: Option<HelpTopic>,
    pub(crate) department: Department,
    pub(crate) priority: Priority,
    pub(crate) format: NumberFormat,
}

/// Keys to read at once, and where each answer will be.
#[derive(Default)]
struct Batch {
    keys: Vec<Key>,
}

impl Batch {
    /// Adds the configuration object `kind` `id`; its place in the answer.
    fn object(&mut self, ctx: &Ctx<'_>, kind: &str, id: u32) -> usize {
        self.keys.push(keys::object(ctx.instance, kind, id));
        self.keys.len() - 1
    }

    async fn read(self, ctx: &Ctx<'_>) -> Result<Vec<Option<Item>>, ServiceError> {
        if self.keys.is_empty() {
            return Ok(Vec::new());
        }
        Ok(ctx.store.batch_get(&self.keys).await?)
    }
}

/// The object read at `at`, if it was asked for (see [`config::decode_existing`]).
fn existing<T: DeserializeOwned>(
    found: &mut [Option<Item>],
    at: Option<usize>,
    field: &str,
    id: u32,
) -> Result<Option<T>, ServiceError> {
    at.map(|at| config::decode_existing(found.get_mut(at).and_then(Option::take), field, id))
        .transpose()
}

/// Reads and checks where `input` goes.
pub(crate) async fn route(ctx: &Ctx<'_>, input: &OpenTicket) -> Result<Route, ServiceError> {
    // First read: the instance and every object the request itself names.
    // Without a topic the priority is known too (asked for, or the default).
    let mut first = Batch::default();
    first.keys.push(keys::instance_config(ctx.instance));
    let topic_at = input.topic.map(|id| first.object(ctx, TopicId::KIND, id.0));
    let department_at = input
        .department
        .map(|id| first.object(ctx, DepartmentId::KIND, id.0));
    let priority_now = input
        .priority
        .or(input.topic.is_none().then_some(DEFAULT_PRIORITY));
    let priority_at = priority_now.map(|id| first.object(ctx, PriorityId::KIND, id.0));
    let mut found = first.read(ctx).await?;
    let instance: Instance = match found.first_mut().and_then(Option::take) {
        Some(item) => codec::decode(&item)?,
        None => return Err(ServiceError::NotFound(format!("instance {}", ctx.instance))),
    };
    if !instance.online {
        return Err(invalid("instance", "the help desk is offline"));
    }
    let topic: Option<HelpTopic> = existing(
        &mut found,
        topic_at,
        "topic",
        input.topic.map_or(0, |t| t.0),
    )?;
    let department: Option<Department> = existing(
        &mut found,
        department_at,
        "department",
        input.department.map_or(0, |d| d.0),
    )?;
    let priority: Option<Priority> = existing(
        &mut found,
        priority_at,
        "priority",
        priority_now.map_or(0, |p| p.0),
    )?;

    // Second read: what the topic decides.
    let mut second = Batch::default();
    let department_id = department
        .is_none()
        .then(|| topic.as_ref().map(|t| t.department))
        .flatten();
    let department_at = department_id.map(|id| second.object(ctx, DepartmentId::KIND, id.0));
    let priority_id = priority.is_none().then(|| {
        topic
            .as_ref()
            .and_then(|t| t.priority)
            .unwrap_or(DEFAULT_PRIORITY)
    });
    let priority_at = priority_id.map(|id| second.object(ctx, PriorityId::KIND, id.0));
    let mut found = second.read(ctx).await?;
    let department = match department.or(existing(
        &mut found,
        department_at,
        "department",
        department_id.map_or(0, |d| d.0),
    )?) {
        Some(department) => department,
        None => config::all::<Department>(ctx, DepartmentId::KIND)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| invalid("department", "the instance has no department"))?,
    };
    let priority = match priority {
        Some(priority) => priority,
        None => existing(
            &mut found,
            priority_at,
            "priority",
            priority_id.map_or(0, |p| p.0),
        )?
        .ok_or_else(|| invalid("priority", "no priority"))?,
    };

    let format_text = topic
        .as_ref()
        .and_then(|t| t.number_format.clone())
        .unwrap_or(instance.ticket_number_format);
    let format =
        NumberFormat::parse(&format_text).map_err(|e| invalid("number_format", e.to_string()))?;
    Ok(Route {
        topic,
        department,
        priority,
        format,
    })
}
