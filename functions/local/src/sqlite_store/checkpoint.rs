//! The checkpointer: copies committed WAL frames back into the database
//! file on a thread of its own, so that the writer never does.
//!
//! SQLite's default is to checkpoint inside the commit that takes the WAL
//! past 1,000 pages: that commit, and every job of its batch, then waits
//! for the copy and its fsync of the database file, which under a steady
//! stream of writes was a sixth of the writer thread's time. The writer
//! connection turns automatic checkpoints off and [`nudge`]s this thread
//! after each commit; the thread runs a `PASSIVE` checkpoint (which never
//! waits for readers or the writer) at most every [`PAUSE`], so one copy
//! serves many commits. Durability does not change: a commit is durable
//! once its WAL frames are fsynced, checkpointed or not, and a reopened
//! database replays whatever the WAL still holds.
//!
//! [`nudge`]: Checkpointer::nudge

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::Duration;

use rusqlite::Connection;
use taquilla_core::store::StoreError;

use super::schema::open_checkpointer;

/// Least time between two checkpoints.
const PAUSE: Duration = Duration::from_millis(100);

/// The writer's handle on the checkpoint thread, which stops when this is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    nudge: SyncSender<()>,
}

impl Checkpointer {
    /// Starts the checkpoint thread on its own connection to `path`.
    pub(crate) fn spawn(path: &Path) -> Result<Self, StoreError> {
        let conn = open_checkpointer(path)?;
        let (nudge, nudges) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("taquilla-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &nudges))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Self { nudge })
    }

    /// Says that something was committed; nudges already waiting merge.
    pub(crate) fn nudge(&self) {
        match self.nudge.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => {
                tracing::error!("the SQLite checkpoint thread has stopped");
            }
        }
    }
}

/// One checkpoint per nudge, at most one per [`PAUSE`], until the writer is gone.
fn run(conn: &Connection, nudges: &Receiver<()>) {
    while nudges.recv().is_ok() {
        checkpoint(conn);
        std::thread::sleep(PAUSE);
    }
    checkpoint(conn);
}

/// A `PASSIVE` checkpoint: copies what it can without waiting for anyone.
fn checkpoint(conn: &Connection) {
    let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    });
    match outcome {
        Ok((log, copied)) => tracing::trace!(log, copied, "sqlite checkpoint"),
        // Another process checkpointing, or a passing I/O problem: the next
        // nudge tries again, and the WAL keeps everything meanwhile.
        Err(err) => tracing::warn!(error = %err, "sqlite checkpoint failed"),
    }
}
