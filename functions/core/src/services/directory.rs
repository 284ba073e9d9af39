//! Reading instances and their configuration objects.

use serde::de::DeserializeOwned;

use super::ServiceError;
use crate::domain::{Department, HelpTopic, Instance, InstanceId};
use crate::keys;
use crate::store::{ItemStore, Query, codec};

/// Every instance of the deployment (the directory is small: one item per unit).
pub async fn list_instances(store: &dyn ItemStore) -> Result<Vec<Instance>, ServiceError> {
    let mut ids = Vec::new();
    let mut query = Query::table(keys::DIRECTORY_PK).limit(1000);
    loop {
        let page = store.query(&query).await?;
        for item in &page.items {
            if let Some(slug) = item.sk().strip_prefix("I#")
                && let Ok(id) = InstanceId::parse(slug)
            {
                ids.push(id);
            }
        }
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    let mut instances = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(crate::store::MAX_BATCH_GET_KEYS) {
        let keys: Vec<_> = chunk.iter().map(keys::instance_config).collect();
        for item in store.batch_get(&keys).await?.into_iter().flatten() {
            instances.push(codec::decode(&item)?);
        }
    }
    Ok(instances)
}

/// Whether the instance exists: its small directory entry, read without
/// decoding the instance's settings (every request asks).
pub async fn exists(store: &dyn ItemStore, id: &InstanceId) -> Result<bool, ServiceError> {
    Ok(store.get(&keys::directory_entry(id)).await?.is_some())
}

/// One instance's settings.
pub async fn instance(store: &dyn ItemStore, id: &InstanceId) -> Result<Instance, ServiceError> {
    let item = store
        .get(&keys::instance_config(id))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("instance {id}")))?;
    Ok(codec::decode(&item)?)
}

async fn objects<T: DeserializeOwned>(
    store: &dyn ItemStore,
    id: &InstanceId,
    kind: &str,
) -> Result<Vec<T>, ServiceError> {
    let mut out = Vec::new();
    let mut query = Query::table(keys::instance_pk(id))
        .sk(keys::objects_of(kind))
        .limit(1000);
    loop {
        let page = store.query(&query).await?;
        for item in &page.items {
            out.push(codec::decode(item)?);
        }
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
}

/// The instance's departments, by id.
pub async fn departments(
    store: &dyn ItemStore,
    id: &InstanceId,
) -> Result<Vec<Department>, ServiceError> {
    objects(store, id, crate::domain::DepartmentId::KIND).await
}

/// The instance's help topics, by id.
pub async fn topics(
    store: &dyn ItemStore,
    id: &InstanceId,
) -> Result<Vec<HelpTopic>, ServiceError> {
    objects(store, id, crate::domain::TopicId::KIND).await
}

/// The instance whose mailbox `address` is (any plus tag ignored): how mail
/// arriving for the whole deployment (SES) finds its help desk.
pub async fn instance_for_address(
    store: &dyn ItemStore,
    address: &str,
) -> Result<Option<InstanceId>, ServiceError> {
    let Some(base) = crate::domain::mail_settings::base_address(address) else {
        return Ok(None);
    };
    let route = store.get(&crate::keys::mail::mailbox_route(&base)).await?;
    Ok(route
        .and_then(|r| {
            r.get_str(crate::keys::mail::ROUTE_INSTANCE_ATTR)
                .map(str::to_owned)
        })
        .and_then(|slug| InstanceId::parse(slug).ok()))
}
