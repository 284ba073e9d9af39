//! A ticket's custom fields: the answers to the forms of its help topic
//! (the parent topics' forms first, see [`admin::forms::of_topic`]).
//!
//! - Opening a ticket checks the answers ([`check`]): a topic with forms
//!   refuses unknown fields, missing required ones and answers that do not
//!   fit, all at once, as [`ServiceError::InvalidForm`] naming each field
//!   and why; what is stored is the normalised answers. A topic without
//!   forms (or no topic) keeps the free fields as they were given. Users
//!   may only answer fields visible to and editable by users; agents and
//!   integrations answer any; Taquilla itself (mail) is required nothing.
//! - Users read only the answers to user-visible fields ([`for_reader`]).
//! - The portal and the agents' "new ticket" screen read a topic's forms
//!   resolved, with the items of their lists ([`topic_form`]).
//!
//! Reads: none for a ticket whose topic has no forms and no parent; else
//! one batch get of the forms (one query of the topics when the topic has
//! a parent) and one batch get of the lists choice fields name.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::config;
use super::open::OpenTicket;
use crate::domain::form::{self, Field, Submitter, Texts, Visibility};
use crate::domain::list::ListItem;
use crate::domain::{Form, FormId, HelpTopic, ListId, Ticket, TopicId};
use crate::services::admin::{access, forms, lists};
use crate::services::{Actor, Ctx, ServiceError};

/// Who the answers come from, as the forms see it.
fn submitter(actor: &Actor) -> Submitter {
    match actor {
        Actor::User(_) => Submitter::User,
        Actor::Agent(_) | Actor::ApiKey { .. } => Submitter::Agent,
        Actor::System(_) => Submitter::System,
    }
}

/// The answers of `input` to store on a ticket of `topic`, checked against
/// the topic's forms.
pub(super) async fn check(
    ctx: &Ctx<'_>,
    actor: &Actor,
    topic: Option<&HelpTopic>,
    input: &OpenTicket,
) -> Result<BTreeMap<String, String>, ServiceError> {
    let Some(topic) = topic else {
        return Ok(input.fields.clone());
    };
    if topic.forms.is_empty() && topic.parent.is_none() {
        return Ok(input.fields.clone());
    }
    let forms = forms::of_topic(ctx, topic).await?;
    if forms.is_empty() {
        return Ok(input.fields.clone());
    }
    let fields = form::resolve(&forms);
    let lists = lists::load(ctx, fields.iter().filter_map(|f| f.list)).await?;
    let files: Vec<&str> = input.attachments.iter().map(|a| a.name.as_str()).collect();
    form::check_answers(&fields, &lists, &input.fields, &files, submitter(actor))
        .map_err(ServiceError::InvalidForm)
}

/// `ticket` as `actor` may read it: users see only the answers to fields
/// of its topic's forms that are visible to users (all of them when the
/// topic has no forms); everyone else sees every answer.
pub(crate) async fn for_reader(
    ctx: &Ctx<'_>,
    actor: &Actor,
    mut ticket: Ticket,
) -> Result<Ticket, ServiceError> {
    if !matches!(actor, Actor::User(_)) || ticket.fields.is_empty() {
        return Ok(ticket);
    }
    let Some(topic_id) = ticket.topic else {
        return Ok(ticket);
    };
    let Some(topic) = config::object::<HelpTopic>(ctx, TopicId::KIND, topic_id.0).await? else {
        return Ok(ticket);
    };
    let forms = forms::of_topic(ctx, &topic).await?;
    if forms.is_empty() {
        return Ok(ticket);
    }
    let shown: BTreeSet<&str> = form::resolve(&forms)
        .into_iter()
        .filter(|f| f.visible_to == Visibility::Users)
        .map(|f| f.name.as_str())
        .collect();
    ticket
        .fields
        .retain(|name, _| shown.contains(name.as_str()));
    Ok(ticket)
}

/// A help topic's forms, resolved, as a screen renders them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicForm {
    pub topic: TopicId,
    /// Its parents' forms first.
    pub forms: Vec<FormView>,
}

/// One form of a [`TopicForm`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormView {
    pub id: FormId,
    pub name: String,
    #[serde(skip_serializing_if = "Texts::is_blank")]
    pub title: Texts,
    #[serde(skip_serializing_if = "Texts::is_blank")]
    pub instructions: Texts,
    pub fields: Vec<FieldView>,
}

/// A field, with the items its list offers when it is a choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldView {
    #[serde(flatten)]
    pub field: Field,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ListItem>>,
}

/// The forms of help topic `id` as `reader` may see them: anyone (`None`)
/// or a user sees a public topic's fields visible to users, with the
/// enabled items of their lists (without their properties); agents and
/// integrations see every topic and field, with the items' properties.
/// Fields a form before hides (the same variable name) are left out, and
/// for users so are forms left with no field.
pub async fn topic_form(
    ctx: &Ctx<'_>,
    reader: Option<&Actor>,
    id: TopicId,
) -> Result<TopicForm, ServiceError> {
    let full = match reader {
        Some(actor @ Actor::Agent(_)) => {
            access::require_member(ctx, actor).await?;
            true
        }
        Some(Actor::ApiKey { .. } | Actor::System(_)) => true,
        Some(Actor::User(_)) | None => false,
    };
    let not_found = || ServiceError::NotFound(format!("help topic {id}"));
    let topic = config::object::<HelpTopic>(ctx, TopicId::KIND, id.0)
        .await?
        .filter(|t| full || t.public)
        .ok_or_else(not_found)?;
    let forms = forms::of_topic(ctx, &topic).await?;
    let resolved = form::resolve(&forms);
    let lists = lists::load(ctx, resolved.iter().filter_map(|f| f.list)).await?;
    let shown = |field: &&Field| {
        resolved.iter().any(|r| std::ptr::eq(*r, *field))
            && (full || field.visible_to == Visibility::Users)
    };
    let view = |form: &Form| FormView {
        id: form.id,
        name: form.name.clone(),
        title: form.title.clone(),
        instructions: form.instructions.clone(),
        fields: form
            .fields
            .iter()
            .filter(shown)
            .map(|field| FieldView {
                field: field.clone(),
                items: field.list.map(|list| offered(&lists, list, full)),
            })
            .collect(),
    };
    Ok(TopicForm {
        topic: topic.id,
        forms: forms
            .iter()
            .map(view)
            .filter(|form| full || !form.fields.is_empty())
            .collect(),
    })
}

/// The enabled items of `list` (none if it is gone), with their properties
/// for agents only.
fn offered(
    lists: &BTreeMap<ListId, crate::domain::CustomList>,
    list: ListId,
    full: bool,
) -> Vec<ListItem> {
    lists.get(&list).map_or_else(Vec::new, |list| {
        list.items
            .iter()
            .filter(|item| !item.disabled)
            .map(|item| {
                let mut item = item.clone();
                if !full {
                    item.properties.clear();
                }
                item
            })
            .collect()
    })
}
