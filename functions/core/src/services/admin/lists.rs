//! Custom lists: their changes, their rules ([`CustomList::check`]) and
//! what stops their deletion (a form's choice field choosing from it).
//! Creating, updating and deleting are [`objects`](super::objects).
//!
//! The ticket status list is one of them, built in and read-only: listing
//! ([`list`]) and reading ([`get`]) show the instance's statuses as list
//! [`STATUS_LIST`] beside the custom ones, and choice fields may choose
//! from it. Statuses keep their own storage and rules
//! ([`statuses`](super::statuses)).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::objects::{self, Deletable, Object, set};
use super::records::{self, Versioned};
use super::validate;
use crate::domain::list::{ListItem, STATUS_LIST};
use crate::domain::{CustomList, Form, FormId, ListError, ListId, Status, StatusId};
use crate::keys;
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::{MAX_BATCH_GET_KEYS, codec};

/// Changes to a list made from `version`; absent fields stay. Items are
/// replaced whole (their order is the list's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListChanges {
    pub version: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub items: Option<Vec<ListItem>>,
}

/// A list as listings show it: built in (the statuses, version 0) or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListView {
    #[serde(flatten)]
    pub list: Versioned<CustomList>,
    pub built_in: bool,
}

/// The `invalid_field` error for a list that breaks a rule: a message that
/// ends with the rule's stable code in brackets (`[list_duplicate_value]`).
#[must_use]
pub fn refusal(error: &ListError) -> ServiceError {
    validate::invalid("items", format!("{error} [{}]", error.code()))
}

impl Object for CustomList {
    type Changes = ListChanges;

    fn base_version(changes: &ListChanges) -> i64 {
        changes.version
    }

    fn apply(&mut self, changes: ListChanges) {
        set(&mut self.name, changes.name);
        set(&mut self.items, changes.items);
    }

    async fn check(&mut self, _ctx: &Ctx<'_>, _own: Option<ListId>) -> Result<(), ServiceError> {
        self.check().map_err(|e| refusal(&e))
    }
}

impl Deletable for CustomList {
    /// A form whose choice field chooses from it.
    async fn used_by(ctx: &Ctx<'_>, id: ListId) -> Result<Option<String>, ServiceError> {
        let forms = records::list::<Form>(ctx, FormId::KIND).await?;
        Ok(forms.iter().find_map(|form| {
            form.record
                .fields
                .iter()
                .find(|field| field.list == Some(id))
                .map(|field| {
                    format!(
                        "field {:?} of form {:?} choosing from it",
                        field.name, form.record.name
                    )
                })
        }))
    }
}

/// The built-in status list, as listings show it.
async fn status_list(ctx: &Ctx<'_>) -> Result<ListView, ServiceError> {
    let statuses: Vec<Status> = records::list::<Status>(ctx, StatusId::KIND)
        .await?
        .into_iter()
        .map(|s| s.record)
        .collect();
    Ok(ListView {
        list: Versioned {
            record: CustomList::statuses(&statuses),
            version: 0,
        },
        built_in: true,
    })
}

/// The built-in status list, then every custom list by id.
pub async fn list(ctx: Ctx<'_>, actor: &Actor) -> Result<Vec<ListView>, ServiceError> {
    let custom = objects::list::<CustomList>(ctx, actor).await?;
    let mut out = vec![status_list(&ctx).await?];
    out.extend(custom.into_iter().map(|list| ListView {
        list,
        built_in: false,
    }));
    Ok(out)
}

/// List `id`, the built-in status list included.
pub async fn get(ctx: Ctx<'_>, actor: &Actor, id: ListId) -> Result<ListView, ServiceError> {
    if id == STATUS_LIST {
        super::access::require_member(&ctx, actor).await?;
        return status_list(&ctx).await;
    }
    Ok(ListView {
        list: objects::get(ctx, actor, id).await?,
        built_in: false,
    })
}

/// Refuses a change to the built-in status list, which is changed through
/// the statuses.
pub fn refuse_built_in(id: ListId) -> Result<(), ServiceError> {
    if id == STATUS_LIST {
        Err(validate::invalid(
            "id",
            "the ticket status list is built in: change it through the statuses",
        ))
    } else {
        Ok(())
    }
}

/// Lists `ids` that exist, the built-in status list included: one batch
/// get of the custom ones (per [`MAX_BATCH_GET_KEYS`]) and one query of
/// the statuses when it is named.
pub(crate) async fn load(
    ctx: &Ctx<'_>,
    ids: impl IntoIterator<Item = ListId>,
) -> Result<BTreeMap<ListId, CustomList>, ServiceError> {
    let mut wanted: Vec<ListId> = ids.into_iter().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = BTreeMap::new();
    if wanted.first() == Some(&STATUS_LIST) {
        wanted.remove(0);
        out.insert(STATUS_LIST, status_list(ctx).await?.list.record);
    }
    for chunk in wanted.chunks(MAX_BATCH_GET_KEYS) {
        let keys: Vec<_> = chunk
            .iter()
            .map(|id| keys::object(ctx.instance, ListId::KIND, id.0))
            .collect();
        for item in ctx.store.batch_get(&keys).await?.into_iter().flatten() {
            let list: CustomList = codec::decode(&item)?;
            out.insert(list.id, list);
        }
    }
    Ok(out)
}
