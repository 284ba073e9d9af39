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
//! When the store is dropped, the thread's last checkpoint is a `TRUNCATE`
//! that empties the WAL, if no other connection is busy with it (it never
//! waits). A process that opens the database while no other has it open
//! rebuilds the WAL index by reading the whole WAL: without this, a WAL
//! that short-lived processes (`taquilla pipe`, one per message) left
//! behind grew with every message, and so did the start of the next one.
//! Dropping the handle waits for the thread (see [`Checkpointer`]'s `Drop`).
//!
//! [`nudge`]: Checkpointer::nudge

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use taquilla_core::store::StoreError;

use super::schema::open_checkpointer;

/// Least time between two checkpoints.
const PAUSE: Duration = Duration::from_millis(100);

/// The writer's handle on the checkpoint thread, which stops when this is
/// dropped (the drop waits for its last checkpoint).
#[derive(Debug)]
pub(crate) struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the checkpoint thread on its own connection to `path`.
    pub(crate) fn spawn(path: &Path) -> Result<Self, StoreError> {
        let conn = open_checkpointer(path)?;
        let (nudge, nudges) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("taquilla-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &nudges))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Self {
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    /// Says that something was committed; nudges already waiting merge.
    pub(crate) fn nudge(&self) {
        let Some(nudge) = &self.nudge else { return };
        match nudge.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => {
                tracing::error!("the SQLite checkpoint thread has stopped");
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.nudge.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the SQLite checkpoint thread panicked");
        }
    }
}

/// One checkpoint per nudge, at most one per [`PAUSE`], until the writer is
/// gone; then the last one, which empties the WAL if it can.
fn run(conn: &Connection, nudges: &Receiver<()>) {
    let mut nudged = nudges.recv().is_ok();
    while nudged {
        checkpoint(conn);
        // The pause, cut short when the writer goes; a nudge received
        // meanwhile makes the next turn start as soon as it ends.
        let until = Instant::now() + PAUSE;
        nudged = false;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match nudges.recv_timeout(left) {
                Ok(()) => nudged = true,
                // The pause is over, or the writer is gone (the next
                // `recv` says so).
                Err(_) => break,
            }
        }
        if !nudged {
            nudged = nudges.recv().is_ok();
        }
    }
    truncate(conn);
}

/// The last checkpoint: copies everything and empties the WAL, unless
/// another connection is using it (then a `PASSIVE` one; never waits).
fn truncate(conn: &Connection) {
    if let Err(err) = conn.busy_timeout(Duration::ZERO) {
        tracing::warn!(error = %err, "sqlite busy timeout not cleared");
    }
    let outcome = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        row.get::<_, i64>(0)
    });
    match outcome {
        Ok(0) => tracing::trace!("sqlite WAL emptied"),
        // Busy: another connection (another process) still uses the WAL,
        // and keeps its index alive.
        Ok(_) => checkpoint(conn),
        Err(err) => tracing::warn!(error = %err, "sqlite last checkpoint failed"),
    }
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
