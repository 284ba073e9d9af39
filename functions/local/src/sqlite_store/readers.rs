//! The reader pool: a few read-only connections used on tokio's blocking
//! threads. WAL lets them read a consistent snapshot while the writer writes.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use taquilla_core::store::StoreError;
use tokio::sync::Semaphore;

use super::schema::open_reader;

/// Most reads running at once (and most idle connections kept).
const MAX_READERS: usize = 8;

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

    /// Runs `read` with a read-only connection on a blocking thread.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
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
