//! Custom forms: their changes, their rules (the form's own, [`Form::check`];
//! the lists its choice fields name exist) and what stops their deletion (a
//! help topic using it). Listing, reading, creating, updating and deleting
//! are [`objects`](super::objects).
//!
//! Also what the rest of the services need of forms: the forms a help
//! topic uses, its parents' first ([`of_topic`]), read with one batch get.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::objects::{Deletable, Object, set};
use super::{lists, records, validate};
use crate::domain::form::{Field, Texts};
use crate::domain::{Form, FormError, FormId, HelpTopic, TopicId};
use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{MAX_BATCH_GET_KEYS, codec};

/// Most forms a help topic lists itself.
pub const MAX_TOPIC_FORMS: usize = 20;
/// Deepest chain of parent topics followed for their forms.
const MAX_TOPIC_DEPTH: usize = 32;

/// Changes to a form made from `version`; absent fields stay. Fields are
/// replaced whole (their order is the form's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title: Option<Texts>,
    #[serde(default)]
    pub instructions: Option<Texts>,
    #[serde(default)]
    pub fields: Option<Vec<Field>>,
}

/// The `invalid_field` error for a form that breaks a rule: a message that
/// ends with the rule's stable code in brackets (`[form_bad_pattern]`).
#[must_use]
pub fn refusal(error: &FormError) -> ServiceError {
    validate::invalid("fields", format!("{error} [{}]", error.code()))
}

impl Object for Form {
    type Changes = FormChanges;

    fn base_version(changes: &FormChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: FormChanges) {
        set(&mut self.name, changes.name);
        set(&mut self.title, changes.title);
        set(&mut self.instructions, changes.instructions);
        set(&mut self.fields, changes.fields);
    }

    /// The form's own rules, and lists that exist for its choice fields.
    async fn check(&mut self, ctx: &Ctx<'_>, _own: Option<FormId>) -> Result<(), ServiceError> {
        self.check().map_err(|e| refusal(&e))?;
        let named = self.lists();
        let found = lists::load(ctx, named.iter().map(|(id, _)| *id)).await?;
        match named.iter().find(|(id, _)| !found.contains_key(id)) {
            Some((list, name)) => Err(refusal(&FormError::UnknownList {
                name: (*name).to_owned(),
                list: *list,
            })),
            None => Ok(()),
        }
    }
}

impl Deletable for Form {
    /// A help topic using it.
    async fn used_by(ctx: &Ctx<'_>, id: FormId) -> Result<Option<String>, ServiceError> {
        let topics = records::list::<HelpTopic>(ctx, TopicId::KIND).await?;
        Ok(topics
            .iter()
            .find(|t| t.record.forms.contains(&id))
            .map(|t| format!("help topic {:?} using it", t.record.name)))
    }
}

/// Forms `ids` that exist, in the order of `ids` (each once): batch gets of
/// at most [`MAX_BATCH_GET_KEYS`] keys, so one for any topic's forms.
pub(crate) async fn load(ctx: &Ctx<'_>, ids: &[FormId]) -> Result<Vec<Form>, ServiceError> {
    let mut unique: Vec<FormId> = Vec::new();
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    let mut out = Vec::with_capacity(unique.len());
    for chunk in unique.chunks(MAX_BATCH_GET_KEYS) {
        let keys: Vec<_> = chunk
            .iter()
            .map(|id| keys::object(ctx.instance, FormId::KIND, id.0))
            .collect();
        for item in ctx.store.batch_get(&keys).await?.into_iter().flatten() {
            out.push(codec::decode(&item)?);
        }
    }
    Ok(out)
}

/// The ids of the forms `topic` uses: its ancestors' first (the root's
/// first), then its own, each once. Reading the parents takes one query of
/// the topics, and none for a topic without a parent.
pub(crate) async fn ids_of_topic(
    ctx: &Ctx<'_>,
    topic: &HelpTopic,
) -> Result<Vec<FormId>, ServiceError> {
    let mut chain = vec![topic.forms.clone()];
    if topic.parent.is_some() {
        let topics = records::list::<HelpTopic>(ctx, TopicId::KIND).await?;
        let mut seen = BTreeSet::from([topic.id]);
        let mut at = topic.parent;
        while let Some(parent) = at.filter(|p| seen.insert(*p) && seen.len() <= MAX_TOPIC_DEPTH) {
            let Some(found) = topics.iter().find(|t| t.record.id == parent) else {
                break;
            };
            chain.push(found.record.forms.clone());
            at = found.record.parent;
        }
    }
    let mut ids: Vec<FormId> = Vec::new();
    for id in chain.into_iter().rev().flatten() {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The forms `topic` uses, in order ([`ids_of_topic`]); forms deleted
/// meanwhile are skipped.
pub(crate) async fn of_topic(ctx: &Ctx<'_>, topic: &HelpTopic) -> Result<Vec<Form>, ServiceError> {
    let ids = ids_of_topic(ctx, topic).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    load(ctx, &ids).await
}

/// Refuses a topic's `forms` that name a form twice or one that does not
/// exist, or whose forms (with its parents') share a variable name.
pub(super) async fn check_topic(ctx: &Ctx<'_>, topic: &HelpTopic) -> Result<(), ServiceError> {
    if topic.forms.len() > MAX_TOPIC_FORMS {
        return Err(validate::invalid(
            "forms",
            format!("a help topic uses at most {MAX_TOPIC_FORMS} forms"),
        ));
    }
    for (n, id) in topic.forms.iter().enumerate() {
        if topic.forms[..n].contains(id) {
            return Err(validate::invalid(
                "forms",
                format!("form {id} is listed twice"),
            ));
        }
    }
    let ids = ids_of_topic(ctx, topic).await?;
    if ids.is_empty() {
        return Ok(());
    }
    let forms = load(ctx, &ids).await?;
    if let Some(missing) = topic
        .forms
        .iter()
        .find(|id| !forms.iter().any(|f| f.id == **id))
    {
        return Err(validate::invalid(
            "forms",
            format!("form {missing} does not exist"),
        ));
    }
    match crate::domain::form::shared_variable(&forms) {
        Some(name) => Err(refusal(&FormError::DuplicateVariable(name.to_owned()))),
        None => Ok(()),
    }
}
