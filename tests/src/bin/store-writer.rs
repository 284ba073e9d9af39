//! `store-writer DB [OPS_PER_TASK]`: a burst of concurrent writes to a
//! `SqliteStore`, for the crash-durability test (`it/durability.rs`).
//!
//! Eight tokio tasks write in a loop: plain puts, conditional puts
//! (`Absent`), counter updates (`ADD`) and three-item transactions. After
//! each write is acknowledged (its future returned `Ok`) the task prints one
//! line to stdout and flushes it, so every line the test reads names a write
//! the store promised to keep (keys carry the process id, so runs on the same
//! file do not collide; counters are shared and keep counting):
//!
//! ```text
//! put PK SK
//! counter PK SK VALUE
//! tx PK SK1 SK2 SK3
//! ```

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use taquilla_core::store::{Condition, Item, ItemStore as _, Key, Update, WriteOp};
use taquilla_local::SqliteStore;

const TASKS: usize = 8;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .context("usage: store-writer DB [OPS_PER_TASK]")?,
    );
    let ops: usize = match args.next() {
        Some(n) => n.parse().context("OPS_PER_TASK must be a number")?,
        None => 1_000_000,
    };
    let store = SqliteStore::open(&path)?;
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(write_burst(store.clone(), task, ops)))
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// One task's writes; prints a line per acknowledged write.
async fn write_burst(store: SqliteStore, task: usize, ops: usize) -> anyhow::Result<()> {
    // The process id keeps the keys of a rerun on the same file apart.
    let pk = format!("W#{}#{task}", std::process::id());
    for n in 0..ops {
        let line = match n % 4 {
            0 => {
                let sk = format!("put#{n:08}");
                store
                    .put(Item::new(Key::new(&pk, &sk)).with("n", n.to_string()), None)
                    .await?;
                format!("put {pk} {sk}")
            }
            1 => {
                let sk = format!("cput#{n:08}");
                store
                    .put(Item::new(Key::new(&pk, &sk)), Some(Condition::Absent))
                    .await?;
                format!("put {pk} {sk}")
            }
            2 => {
                let key = Key::new("C", format!("counter#{task}"));
                let after = store
                    .update(Update::new(key.clone()).add("value", 1))
                    .await?;
                let value = after.get_i64("value").context("the counter has no value")?;
                format!("counter {} {} {value}", key.pk, key.sk)
            }
            _ => {
                let sks: Vec<String> = (0..3).map(|k| format!("tx#{n:08}#{k}")).collect();
                let ops = sks
                    .iter()
                    .map(|sk| WriteOp::Put {
                        item: Item::new(Key::new(&pk, sk)),
                        condition: Some(Condition::Absent),
                    })
                    .collect();
                store.transact(ops).await?;
                format!("tx {pk} {}", sks.join(" "))
            }
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(())
}
