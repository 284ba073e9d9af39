//! An `ItemStore` that counts the calls it passes on, so a test can show
//! what a use case costs in store operations (e.g. that the queue listing is
//! a handful of key-range queries whatever the number of tickets).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use taquilla_core::store::{
    Condition, Item, ItemStore, Key, Page, Query, StoreError, Update, WriteOp,
};

/// Calls by kind since the last [`CountingStore::reset`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub get: usize,
    pub batch_get: usize,
    pub put: usize,
    pub update: usize,
    pub delete: usize,
    pub query: usize,
    pub transact: usize,
    /// Items returned by queries, over all pages.
    pub items_read: usize,
}

#[derive(Debug, Default)]
struct Counters {
    get: AtomicUsize,
    batch_get: AtomicUsize,
    put: AtomicUsize,
    update: AtomicUsize,
    delete: AtomicUsize,
    query: AtomicUsize,
    transact: AtomicUsize,
    items_read: AtomicUsize,
}

/// Wraps a store and counts every call.
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn ItemStore>,
    counters: Counters,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn ItemStore>) -> Self {
        Self {
            inner,
            counters: Counters::default(),
        }
    }

    /// The calls so far.
    pub fn counts(&self) -> Counts {
        let c = &self.counters;
        let load = |a: &AtomicUsize| a.load(Ordering::SeqCst);
        Counts {
            get: load(&c.get),
            batch_get: load(&c.batch_get),
            put: load(&c.put),
            update: load(&c.update),
            delete: load(&c.delete),
            query: load(&c.query),
            transact: load(&c.transact),
            items_read: load(&c.items_read),
        }
    }

    /// Starts counting from zero.
    pub fn reset(&self) {
        let c = &self.counters;
        for a in [
            &c.get,
            &c.batch_get,
            &c.put,
            &c.update,
            &c.delete,
            &c.query,
            &c.transact,
            &c.items_read,
        ] {
            a.store(0, Ordering::SeqCst);
        }
    }
}

fn bump(a: &AtomicUsize) {
    a.fetch_add(1, Ordering::SeqCst);
}

#[async_trait]
impl ItemStore for CountingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        bump(&self.counters.get);
        self.inner.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        bump(&self.counters.batch_get);
        self.inner.batch_get(keys).await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        bump(&self.counters.put);
        self.inner.put(item, condition).await
    }

    async fn update(&self, update: Update) -> Result<Item, StoreError> {
        bump(&self.counters.update);
        self.inner.update(update).await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), StoreError> {
        bump(&self.counters.delete);
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        bump(&self.counters.query);
        let page = self.inner.query(query).await?;
        self.counters
            .items_read
            .fetch_add(page.items.len(), Ordering::SeqCst);
        Ok(page)
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        bump(&self.counters.transact);
        self.inner.transact(ops).await
    }
}
