//! Reading the instance's configuration objects a ticket refers to.

use serde::de::DeserializeOwned;

use crate::domain::{State, Status, StatusId};
use crate::keys;
use crate::services::{Ctx, ServiceError};
use crate::store::{Item, Query, codec};

/// The configuration object of `kind` numbered `id`, if it exists.
pub(crate) async fn object<T: DeserializeOwned>(
    ctx: &Ctx<'_>,
    kind: &str,
    id: u32,
) -> Result<Option<T>, ServiceError> {
    match ctx.store.get(&keys::object(ctx.instance, kind, id)).await? {
        Some(item) => Ok(Some(codec::decode(&item)?)),
        None => Ok(None),
    }
}

/// Like [`object`], but a missing object is `Invalid` naming `field`.
pub(crate) async fn existing<T: DeserializeOwned>(
    ctx: &Ctx<'_>,
    kind: &str,
    id: u32,
    field: &str,
) -> Result<T, ServiceError> {
    let item = ctx.store.get(&keys::object(ctx.instance, kind, id)).await?;
    decode_existing(item, field, id)
}

/// The configuration object numbered `id` as read (by a get or a batch
/// get), decoded; a missing one is `Invalid` naming `field`.
pub(crate) fn decode_existing<T: DeserializeOwned>(
    item: Option<Item>,
    field: &str,
    id: u32,
) -> Result<T, ServiceError> {
    match item {
        Some(item) => Ok(codec::decode(&item)?),
        None => Err(ServiceError::Invalid {
            field: field.to_owned(),
            message: format!("there is no {field} {id}"),
        }),
    }
}

/// Configuration objects read per page: an instance has a few of each
/// kind, and a page this size is a short read for every store.
const PAGE: u32 = 100;

/// Every configuration object of a kind, by id.
pub(crate) async fn all<T: DeserializeOwned>(
    ctx: &Ctx<'_>,
    kind: &str,
) -> Result<Vec<T>, ServiceError> {
    let mut out = Vec::new();
    let mut query = Query::table(keys::instance_pk(ctx.instance))
        .sk(keys::objects_of(kind))
        .limit(PAGE);
    loop {
        let page = ctx.store.query(&query).await?;
        for item in &page.items {
            out.push(codec::decode(item)?);
        }
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
}

/// The first status (by id) in `state`.
pub(crate) async fn first_status(ctx: &Ctx<'_>, state: State) -> Result<Status, ServiceError> {
    all::<Status>(ctx, StatusId::KIND)
        .await?
        .into_iter()
        .find(|s| s.state == state)
        .ok_or_else(|| ServiceError::NotFound(format!("a status in state {}", state.as_str())))
}
