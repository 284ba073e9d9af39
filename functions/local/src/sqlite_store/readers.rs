//! The reader pool: a few read-only connections. WAL lets them read a
//! consistent snapshot while the writer writes.
//!
//! Short reads (a point read, a batch get, a page of a query of at most
//! [`INLINE_QUERY_LIMIT`] items) run [`inline`](Readers::inline), on the
//! calling task's thread: they are a few B-tree lookups in pages the OS
//! already caches, and a hop to a blocking thread and back costs two
//! context switches, more than the read itself (a ticket's creation makes
//! about seven such reads). Longer reads run [`blocking`](Readers::blocking)
//! on tokio's blocking threads so that they never hold up a runtime worker;
//! a query allowed a longer page first reads a short one inline, which is
//! the whole answer when the results end within it.
//! A reader never waits for the writer in WAL mode.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use taquilla_core::store::StoreError;
use tokio::sync::Semaphore;

use super::schema::open_reader;

/// Most blocking reads running at once, and most idle connections kept.
const MAX_READERS: usize = 8;

/// Largest query page read inline rather than on a blocking thread.
pub(crate) const INLINE_QUERY_LIMIT: u32 = 100;

/// Read-only connections to one database file, opened on demand.
#[derive(Debug)]
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::with_capacity(MAX_READERS)),
            permits: Semaphore::new(MAX_READERS),
        }
    }

    /// Runs the short read `read` with a read-only connection on this thread.
    pub(crate) fn inline<T>(
        &self,
        read: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.take()?;
        let out = read(&mut conn);
        self.give(conn);
        out
    }

    /// Runs `read` with a read-only connection on a blocking thread.
    pub(crate) async fn blocking<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("the reader pool is closed".into()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.take()?;
            let out = read(&mut conn);
            pool.give(conn);
            out
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("a read did not finish: {e}")))?
    }

    /// An idle connection, or a new one.
    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => open_reader(&self.path),
        }
    }

    /// Returns a connection to the pool.
    fn give(&self, conn: Connection) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_READERS {
            idle.push(conn);
        }
    }
}
