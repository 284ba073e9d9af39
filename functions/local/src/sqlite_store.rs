//! `SqliteStore`: the [`ItemStore`] port on one SQLite file, the embedded default.
//!
//! # Design
//!
//! * **Storage.** One `WITHOUT ROWID` table keyed `(pk, sk)` holds each item
//!   as DynamoDB-typed JSON (the serde form of [`Item`]), its TTL as an
//!   integer column and one column pair per GSI, each with a partial index,
//!   all derived from [`taquilla_core::store::TABLE`] (see [`schema`]).
//!   `PRAGMA user_version` records the schema version.
//! * **One writer, group commit.** A single `std::thread` owns the only
//!   read-write connection and takes jobs from a channel. It takes the first
//!   waiting job and drains the others already queued (up to 256), runs them
//!   in one `BEGIN IMMEDIATE` transaction, each inside its own `SAVEPOINT`
//!   so that a job whose condition fails changes nothing and does not affect
//!   the others, then `COMMIT`s once and answers each job. Many concurrent
//!   writers therefore share one fsync (see [`writer`]). Conditions and
//!   updates are evaluated on the writer thread with the core's
//!   [`apply`](taquilla_core::store::apply) functions, so check-then-write is
//!   atomic without locks.
//! * **Readers.** Gets, batch gets and queries run on a small pool of
//!   read-only connections; WAL lets them read a committed snapshot while
//!   the writer writes. Short reads run on the caller's thread, long
//!   queries on tokio's blocking threads (see [`readers`]).
//! * **Durability.** WAL with `synchronous=FULL`: every commit is fsynced,
//!   and no write is acknowledged before its `COMMIT` returned. A crash or
//!   `SIGKILL` loses nothing that was acknowledged (the `durability` test in
//!   `taquilla-tests` kills a writer process to check it). A thread of its
//!   own checkpoints the WAL back into the file, off the writer's path
//!   (see [`checkpoint`]).
//! * **Time.** Items whose TTL is at or before [`Clock::now_secs`] are absent
//!   for every operation (filtered in SQL); [`SqliteStore::purge_expired`]
//!   deletes them for good and is meant to be called by a ticker.
//! * **Contract.** Every call is validated with the core's
//!   [`validate`](taquilla_core::store::validate) before it touches storage,
//!   so bad input gets the same error here as from the DynamoDB adapter.
//!   Busy, locked and I/O errors are [`StoreError::Unavailable`]; stored JSON
//!   that is not an item is [`StoreError::Corrupt`].

mod checkpoint;
mod error;
mod query;
mod readers;
mod rows;
mod schema;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::TransactionBehavior;
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::store::{
    Condition, Item, ItemStore, Key, Page, Query, StoreError, Update, WriteOp, cursor, validate,
};

use self::checkpoint::Checkpointer;
use self::error::SqliteResultExt as _;
use self::readers::{INLINE_QUERY_LIMIT, Readers};
use self::writer::{Done, Op, Writer};

/// The [`ItemStore`] on a SQLite file. Cheap to clone: clones share the
/// writer thread and the reader pool; the writer stops when the last clone
/// is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    writer: Writer,
    readers: Arc<Readers>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path`, on the system clock.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// Opens (creating if missing) the database at `path`; TTLs are judged by `clock`.
    pub fn open_with_clock(path: &Path, clock: Arc<dyn Clock>) -> Result<SqliteStore, StoreError> {
        let conn = schema::open_writer(path)?;
        let checkpointer = Checkpointer::spawn(path)?;
        let writer = Writer::spawn(conn, Arc::clone(&clock), checkpointer)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                clock,
                writer,
                readers: Arc::new(Readers::new(path.to_owned())),
            }),
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Deletes every expired item and returns how many were deleted.
    ///
    /// Expired items are already invisible; this only reclaims their space.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        match self.inner.writer.submit(Op::Purge).await? {
            Done::Purged(n) => Ok(n),
            other => Err(unexpected(&other)),
        }
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_secs()
    }

    async fn write(&self, op: Op) -> Result<(), StoreError> {
        self.inner.writer.submit(op).await.map(drop)
    }
}

/// The writer answered a job with the wrong kind of outcome: a bug.
fn unexpected(done: &Done) -> StoreError {
    StoreError::Unavailable(format!(
        "internal error: unexpected writer outcome {done:?}"
    ))
}

#[async_trait]
impl ItemStore for SqliteStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        validate::key(key)?;
        let now = self.now();
        self.inner
            .readers
            .inline(|conn| rows::read_live(conn, key, now))
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        validate::batch_get(keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        self.inner.readers.inline(|conn| {
            // One read transaction: all keys from the same snapshot.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .store_err()?;
            let found = keys
                .iter()
                .map(|key| rows::read_live(&tx, key, now))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit().store_err()?;
            Ok(found)
        })
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        validate::item(&item)?;
        validate::condition(condition.as_ref())?;
        self.write(Op::Put { item, condition }).await
    }

    async fn update(&self, update: Update) -> Result<Item, StoreError> {
        validate::update(&update)?;
        match self.inner.writer.submit(Op::Update(update)).await? {
            Done::Item(item) => Ok(item),
            other => Err(unexpected(&other)),
        }
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<(), StoreError> {
        validate::key(key)?;
        validate::condition(condition.as_ref())?;
        self.write(Op::Delete {
            key: key.clone(),
            condition,
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        validate::query(query)?;
        let after = query
            .cursor
            .as_deref()
            .map(|c| cursor::decode(c, query))
            .transpose()?;
        let now = self.now();
        if query.limit <= INLINE_QUERY_LIMIT {
            return self
                .inner
                .readers
                .inline(|conn| query::page(conn, query, after.as_ref(), now));
        }
        // A query allowed a long page often finds a short one (the
        // configuration objects of an instance, its pending mail): a first
        // short page inline is the whole answer when it ends the results,
        // and only a longer one goes to a blocking thread.
        let short = Query {
            limit: INLINE_QUERY_LIMIT,
            ..query.clone()
        };
        let page = self
            .inner
            .readers
            .inline(|conn| query::page(conn, &short, after.as_ref(), now))?;
        if page.cursor.is_none() {
            return Ok(page);
        }
        let query = query.clone();
        self.inner
            .readers
            .blocking(move |conn| query::page(conn, &query, after.as_ref(), now))
            .await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate::transaction(&ops)?;
        self.write(Op::Transact(ops)).await
    }
}

#[cfg(test)]
mod tests;
