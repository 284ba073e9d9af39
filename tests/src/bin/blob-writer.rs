//! `blob-writer ROOT`: a burst of concurrent puts to an `FsBlobs`, for the
//! crash test of the blob folder (`it/blobs.rs`).
//!
//! Eight tokio tasks write in a loop, as a ticket's attachments are added:
//! one to three files of one entry at once (appended to the instance's
//! pack, sharing its syncs), of sizes up to 96 KiB; and every third round
//! the task's own key is put, replacing its file with new content (siblings
//! of a bucket, sharing its directory syncs). Before a write the task
//! prints `try KEY SHA256`; after a put was acknowledged `put KEY SHA256`,
//! after an add `add KEY SHA256 LOCATED_KEY` (each line flushed), so the
//! test knows what was promised and what may have been half-way when the
//! process was killed. Keys carry the process id, so runs on the same
//! folder do not collide.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use taquilla_core::blobs::{BlobKey, Blobs as _, sha256_hex};
use taquilla_core::clock::SystemClock;
use taquilla_local::FsBlobs;

const TASKS: usize = 8;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(std::env::args().nth(1).context("usage: blob-writer ROOT")?);
    let blobs = FsBlobs::new(
        root,
        "http://127.0.0.1:1".into(),
        b"blob-writer".to_vec(),
        Arc::new(SystemClock),
    );
    let out = Arc::new(Mutex::new(()));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(put_burst(blobs.clone(), task, Arc::clone(&out))))
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// Prints one line and flushes it, whole, before anything else is printed.
fn say(out: &Mutex<()>, line: &str) {
    let _whole = out
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (the test stopped reading) ends the process anyway.
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

/// Content that differs per key and round, of a size that varies.
fn content(task: usize, n: usize, k: usize) -> Vec<u8> {
    let size = (task * 7_919 + n * 104_729 + k * 1_299_709) % (96 * 1024) + 1;
    (0..size)
        .map(|i| u8::try_from((i * 31 + n + k + task) % 251).unwrap_or(0))
        .collect()
}

async fn put_burst(blobs: FsBlobs, task: usize, out: Arc<Mutex<()>>) -> anyhow::Result<()> {
    let pid = std::process::id();
    for n in 0.. {
        let files = n % 3 + 1;
        let mut keys = Vec::new();
        for k in 0..files {
            keys.push((
                BlobKey::parse(format!("w{pid}/tickets/t{task}/e{n}/{k}-file.bin"))?,
                true,
            ));
        }
        if n % 3 == 2 {
            keys.push((BlobKey::parse(format!("w{pid}/own/t{task}"))?, false));
        }
        // At once, as a ticket's attachments are put.
        let puts: Vec<_> = keys
            .into_iter()
            .enumerate()
            .map(|(k, (key, added))| {
                let (blobs, out) = (blobs.clone(), Arc::clone(&out));
                tokio::spawn(async move {
                    let bytes = content(task, n, k);
                    let sha = sha256_hex(&bytes);
                    say(&out, &format!("try {key} {sha}"));
                    if added {
                        let meta = blobs
                            .add(&key, "application/octet-stream", bytes)
                            .await
                            .with_context(|| format!("add {key}"))?;
                        say(&out, &format!("add {key} {sha} {}", meta.key));
                    } else {
                        blobs
                            .put(&key, "application/octet-stream", bytes)
                            .await
                            .with_context(|| format!("put {key}"))?;
                        say(&out, &format!("put {key} {sha}"));
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for put in puts {
            put.await??;
        }
    }
    Ok(())
}
