//! The `ItemStore` port: a key-value store with DynamoDB semantics.
//!
//! Exactly the subset Taquilla uses, no more: get, batch get, conditional
//! put, update (SET / ADD / REMOVE, returning the new item), conditional
//! delete, key-range query on the table or a GSI with an opaque cursor,
//! transactional writes of up to [`MAX_TRANSACTION_OPS`] operations, and a
//! TTL attribute after which an item is gone.
//!
//! Two adapters implement it (`SqliteStore` in `taquilla-local`,
//! `DynamoStore` in `taquilla-aws`) and one conformance suite
//! (`taquilla-tests`) holds both to the same contract. Rules that must be
//! identical in both — limits, validation, cursors, condition and update
//! semantics — live here, in [`validate`], [`cursor`] and [`apply`], so the
//! adapters cannot drift apart. `docs/store.md` describes the contract.

pub mod apply;
pub mod codec;
pub mod cursor;
mod item;
pub mod schema;
pub mod validate;

use async_trait::async_trait;
use thiserror::Error;

pub use item::{Item, Key, PK, SK, TTL, Value};
pub use schema::{Index, IndexDef, TABLE, TableDef};

/// Largest item, in bytes as DynamoDB counts them (names plus values):
/// 400 KB in decimal, a little under DynamoDB's own 400 KiB, so no item the
/// contract accepts is ever refused by DynamoDB (or by its emulator, which
/// stops at 405,000 bytes).
pub const MAX_ITEM_BYTES: usize = 400_000;
/// Most operations in one [`ItemStore::transact`] call.
pub const MAX_TRANSACTION_OPS: usize = 100;
/// Most keys in one [`ItemStore::batch_get`] call.
pub const MAX_BATCH_GET_KEYS: usize = 100;
/// Largest page a [`Query`] may ask for.
pub const MAX_QUERY_LIMIT: u32 = 1000;
/// Longest partition key, in UTF-8 bytes.
pub const MAX_PK_BYTES: usize = 2048;
/// Longest sort key, in UTF-8 bytes.
pub const MAX_SK_BYTES: usize = 1024;

/// A condition a write requires of the item as it is before the write.
///
/// An expired item (see [`TTL`]) counts as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The item must not exist.
    Absent,
    /// The item must exist.
    Exists,
    /// The item must exist and its attribute must equal the value
    /// (optimistic versions: `Equals("version", 7)`).
    Equals(String, Value),
}

impl Condition {
    /// `Equals(attr, value)`.
    pub fn equals(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Condition::Equals(attr.into(), value.into())
    }
}

/// An update of one item: SET attributes, ADD to numbers, REMOVE attributes.
///
/// Like DynamoDB's `UpdateItem`, an update of a missing item creates it
/// (unless a condition forbids it); ADD to a missing attribute starts from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub key: Key,
    pub set: Vec<(String, Value)>,
    pub add: Vec<(String, i64)>,
    pub remove: Vec<String>,
    pub condition: Option<Condition>,
}

impl Update {
    #[must_use]
    pub fn new(key: Key) -> Self {
        Self {
            key,
            set: Vec::new(),
            add: Vec::new(),
            remove: Vec::new(),
            condition: None,
        }
    }

    /// SET `name` to `value`.
    #[must_use]
    pub fn set(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set.push((name.into(), value.into()));
        self
    }

    /// ADD `delta` to the number `name`.
    #[must_use]
    pub fn add(mut self, name: impl Into<String>, delta: i64) -> Self {
        self.add.push((name.into(), delta));
        self
    }

    /// REMOVE the attribute `name`.
    #[must_use]
    pub fn remove(mut self, name: impl Into<String>) -> Self {
        self.remove.push(name.into());
        self
    }

    /// Require `condition` of the item before the update.
    #[must_use]
    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// A condition on the sort key of a query (the table's `sk`, or the index's sort key).
///
/// Strings compare by their UTF-8 bytes, as DynamoDB compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkCondition {
    Eq(String),
    BeginsWith(String),
    /// Inclusive at both ends.
    Between(String, String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
}

/// Sort order of a query's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Ascending,
    Descending,
}

/// A query of one partition of the table or of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `None` queries the table itself.
    pub index: Option<Index>,
    /// The partition: the table's `pk`, or the index's partition key.
    pub pk: String,
    pub sk: Option<SkCondition>,
    pub order: Order,
    /// Most items to return, `1..=MAX_QUERY_LIMIT`.
    pub limit: u32,
    /// The cursor of the previous page.
    pub cursor: Option<String>,
}

impl Query {
    /// A query of the table's partition `pk`, ascending, 100 items a page.
    pub fn table(pk: impl Into<String>) -> Self {
        Self {
            index: None,
            pk: pk.into(),
            sk: None,
            order: Order::Ascending,
            limit: 100,
            cursor: None,
        }
    }

    /// A query of the partition `pk` of `index`, ascending, 100 items a page.
    pub fn index(index: Index, pk: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            ..Self::table(pk)
        }
    }

    #[must_use]
    pub fn sk(mut self, condition: SkCondition) -> Self {
        self.sk = Some(condition);
        self
    }

    #[must_use]
    pub fn descending(mut self) -> Self {
        self.order = Order::Descending;
        self
    }

    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    #[must_use]
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One page of query results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present exactly when more items follow; pass it back in [`Query::cursor`].
    pub cursor: Option<String>,
}

/// One operation of a transactional write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update(Update),
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    /// Writes nothing; the transaction fails unless the condition holds.
    Check {
        key: Key,
        condition: Condition,
    },
}

impl WriteOp {
    /// The key of the item the operation touches.
    #[must_use]
    pub fn key(&self) -> Key {
        match self {
            WriteOp::Put { item, .. } => item.key(),
            WriteOp::Update(update) => update.key.clone(),
            WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } => key.clone(),
        }
    }

    /// The operation's condition, if any.
    #[must_use]
    pub fn condition(&self) -> Option<&Condition> {
        match self {
            WriteOp::Put { condition, .. } | WriteOp::Delete { condition, .. } => {
                condition.as_ref()
            }
            WriteOp::Update(update) => update.condition.as_ref(),
            WriteOp::Check { condition, .. } => Some(condition),
        }
    }
}

/// What can go wrong with a store call. Each variant has a stable [`code`](StoreError::code).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The write's condition did not hold; nothing was written.
    #[error("the condition on the item did not hold")]
    ConditionFailed,
    /// A transaction was cancelled because the conditions of these
    /// operations (indexes into the request) did not hold; nothing was written.
    #[error("transaction cancelled: the conditions of operations {failed:?} did not hold")]
    TransactionCanceled { failed: Vec<usize> },
    /// The item would exceed [`MAX_ITEM_BYTES`]; nothing was written.
    #[error("item of {size} bytes exceeds the limit of {limit} bytes")]
    ItemTooLarge { size: usize, limit: usize },
    /// A key (of the table or of an index) is empty, too long or not a string.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The request breaks a rule of the contract (too many operations, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The cursor was not issued for this query, or was altered.
    #[error("invalid cursor: it was not issued for this query or was altered")]
    InvalidCursor,
    /// The store cannot be reached or is overloaded; retrying may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// What the store holds cannot be read back as an item.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// A stable, machine-readable code for the error.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::ConditionFailed => "condition_failed",
            StoreError::TransactionCanceled { .. } => "transaction_canceled",
            StoreError::ItemTooLarge { .. } => "item_too_large",
            StoreError::InvalidKey(_) => "invalid_key",
            StoreError::InvalidRequest(_) => "invalid_request",
            StoreError::InvalidCursor => "invalid_cursor",
            StoreError::Unavailable(_) => "store_unavailable",
            StoreError::Corrupt(_) => "store_corrupt",
        }
    }

    /// Whether the same call may succeed if retried later.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// The store port. See the module docs and `docs/store.md` for the contract.
#[async_trait]
pub trait ItemStore: Send + Sync + std::fmt::Debug {
    /// The item with this key, unless it is missing or expired.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// The items with these keys, in the order of `keys` (`None` where missing
    /// or expired). At most [`MAX_BATCH_GET_KEYS`] keys, each at most once.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;

    /// Writes the whole item, replacing any item with the same key, if the condition holds.
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError>;

    /// Applies the update if its condition holds, and returns the item as it is after it.
    async fn update(&self, update: Update) -> Result<Item, StoreError>;

    /// Deletes the item if the condition holds; deleting a missing item is not an error.
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), StoreError>;

    /// One page of the partition, in sort-key order.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// Applies all operations or none. At most [`MAX_TRANSACTION_OPS`], at
    /// most one per item; conditions are checked against the state before
    /// the transaction.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;
}
