//! The writer thread: one read-write connection, fed by a channel, that
//! commits whatever writes are waiting in one transaction (group commit).
//!
//! The thread takes the first waiting job and drains up to [`MAX_BATCH`]
//! more that are already queued, opens one `BEGIN IMMEDIATE` transaction,
//! runs each job inside its own `SAVEPOINT` (a job that fails rolls back to
//! its savepoint and leaves the others alone), commits once — one fsync for
//! the whole batch under `synchronous=FULL` — and only then answers each
//! job. If the transaction itself fails (busy, I/O, full disk, COMMIT
//! refused), every job of the batch gets that error and nothing of the batch
//! is acknowledged. After each commit the thread nudges the
//! [`Checkpointer`], which copies the WAL back on a thread of its own.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use rusqlite::Connection;
use taquilla_core::clock::Clock;
use taquilla_core::store::apply::{condition_holds, update as apply_update};
use taquilla_core::store::{Condition, Item, Key, StoreError, Update, WriteOp};
use tokio::sync::{mpsc, oneshot};

use super::checkpoint::Checkpointer;
use super::error::{SqliteResultExt as _, writer_gone};
use super::rows;

/// Most jobs committed in one transaction.
pub(crate) const MAX_BATCH: usize = 256;

/// Jobs that may wait for the writer before senders wait for room.
const QUEUE: usize = 1024;

/// A write, validated by the caller, for the writer thread to run.
#[derive(Debug)]
pub(crate) enum Op {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update(Update),
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    Transact(Vec<WriteOp>),
    /// Deletes every expired row.
    Purge,
}

/// What a committed job reports.
#[derive(Debug)]
pub(crate) enum Done {
    Written,
    /// The item after an update.
    Item(Item),
    /// Rows deleted by a purge.
    Purged(usize),
}

type Reply = oneshot::Sender<Result<Done, StoreError>>;

#[derive(Debug)]
struct Job {
    op: Op,
    reply: Reply,
}

/// The sending side of the writer thread; the thread stops when this is
/// dropped, and the drop waits for it (its queue done, the checkpoint
/// thread's last checkpoint made).
#[derive(Debug)]
pub(crate) struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread on `conn`; it nudges `checkpointer` after each commit.
    pub(crate) fn spawn(
        conn: Connection,
        clock: Arc<dyn Clock>,
        checkpointer: Checkpointer,
    ) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("taquilla-sqlite-writer".into())
            .spawn(move || run(&conn, clock.as_ref(), &checkpointer, queue))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `op` and waits until it is committed (or failed).
    pub(crate) async fn submit(&self, op: Op) -> Result<Done, StoreError> {
        let (reply, answer) = oneshot::channel();
        let jobs = self.jobs.as_ref().ok_or_else(writer_gone)?;
        jobs.send(Job { op, reply })
            .await
            .map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the SQLite writer thread panicked");
        }
    }
}

/// The thread's loop: one batch per turn until every sender is gone.
fn run(
    conn: &Connection,
    clock: &dyn Clock,
    checkpointer: &Checkpointer,
    mut queue: mpsc::Receiver<Job>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (ops, replies): (Vec<Op>, Vec<Reply>) =
            batch.drain(..).map(|job| (job.op, job.reply)).unzip();
        match commit(conn, clock, &ops) {
            Ok(outcomes) => {
                checkpointer.nudge();
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // A caller that stopped waiting is no error of ours.
                    let _ = reply.send(outcome);
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, jobs = ops.len(), "sqlite write batch failed");
                for reply in replies {
                    let _ = reply.send(Err(err.clone()));
                }
            }
        }
    }
}

/// Runs `ops` in one transaction and commits it. The outer error fails the
/// whole batch; the inner results are each job's own.
fn commit(
    conn: &Connection,
    clock: &dyn Clock,
    ops: &[Op],
) -> Result<Vec<Result<Done, StoreError>>, StoreError> {
    run_cached(conn, "BEGIN IMMEDIATE")?;
    let mut outcomes = Vec::with_capacity(ops.len());
    for op in ops {
        match in_savepoint(conn, op, clock.now_secs()) {
            Ok(outcome) => outcomes.push(outcome),
            Err(err) => {
                abandon(conn);
                return Err(err);
            }
        }
    }
    if let Err(err) = run_cached(conn, "COMMIT") {
        abandon(conn);
        return Err(err);
    }
    Ok(outcomes)
}

/// Rolls back the open transaction, if SQLite has not already done so.
fn abandon(conn: &Connection) {
    if !conn.is_autocommit()
        && let Err(err) = conn.execute_batch("ROLLBACK")
    {
        tracing::error!(error = %err, "sqlite rollback failed");
    }
}

/// Runs one job inside a savepoint, rolled back if the job fails.
fn in_savepoint(
    conn: &Connection,
    op: &Op,
    now: i64,
) -> Result<Result<Done, StoreError>, StoreError> {
    run_cached(conn, "SAVEPOINT job")?;
    let outcome = catch_unwind(AssertUnwindSafe(|| execute(conn, op, now))).unwrap_or_else(|_| {
        Err(StoreError::Unavailable(
            "internal error while writing".into(),
        ))
    });
    if let Err(err) = &outcome {
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (I/O error, full disk):
            // the jobs before this one are lost too.
            return Err(err.clone());
        }
        run_cached(conn, "ROLLBACK TO job")?;
    }
    run_cached(conn, "RELEASE job")?;
    Ok(outcome)
}

/// Runs a statement without parameters from the connection's statement
/// cache (every job runs three of them; `execute_batch` parses each time).
fn run_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(drop)
        .store_err()
}

/// One job's reads and writes, conditions checked against the live items at `now`.
fn execute(conn: &Connection, op: &Op, now: i64) -> Result<Done, StoreError> {
    match op {
        Op::Put { item, condition } => {
            check(conn, &item.key(), condition.as_ref(), now)?;
            rows::write(conn, item)?;
            Ok(Done::Written)
        }
        Op::Update(update) => {
            let current = rows::read_live(conn, &update.key, now)?;
            let item = apply_update(current, update)?;
            rows::write(conn, &item)?;
            Ok(Done::Item(item))
        }
        Op::Delete { key, condition } => {
            check(conn, key, condition.as_ref(), now)?;
            rows::delete(conn, key)?;
            Ok(Done::Written)
        }
        Op::Transact(ops) => transact(conn, ops, now),
        Op::Purge => rows::purge(conn, now).map(Done::Purged),
    }
}

/// Fails with [`StoreError::ConditionFailed`] unless `condition` holds of the live item.
fn check(
    conn: &Connection,
    key: &Key,
    condition: Option<&Condition>,
    now: i64,
) -> Result<(), StoreError> {
    if condition.is_none() {
        return Ok(());
    }
    let current = rows::read_live(conn, key, now)?;
    if condition_holds(current.as_ref(), condition) {
        Ok(())
    } else {
        Err(StoreError::ConditionFailed)
    }
}

/// All conditions against the state before the transaction, then all writes.
fn transact(conn: &Connection, ops: &[WriteOp], now: i64) -> Result<Done, StoreError> {
    let current = ops
        .iter()
        .map(|op| rows::read_live(conn, &op.key(), now))
        .collect::<Result<Vec<_>, _>>()?;
    let failed: Vec<usize> = ops
        .iter()
        .zip(&current)
        .enumerate()
        .filter(|(_, (op, item))| !condition_holds(item.as_ref(), op.condition()))
        .map(|(n, _)| n)
        .collect();
    if !failed.is_empty() {
        return Err(StoreError::TransactionCanceled { failed });
    }
    for (op, item) in ops.iter().zip(current) {
        match op {
            WriteOp::Put { item, .. } => rows::write(conn, item)?,
            WriteOp::Update(update) => rows::write(conn, &apply_update(item, update)?)?,
            WriteOp::Delete { key, .. } => rows::delete(conn, key)?,
            WriteOp::Check { .. } => {}
        }
    }
    Ok(Done::Written)
}
