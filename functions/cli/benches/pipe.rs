//! `cargo bench -p taquilla-cli --bench pipe`: `taquilla pipe` started once
//! per message, as a mail server's pipe transport runs it, on the embedded
//! default (SQLite with `synchronous=FULL`: a message is acknowledged only
//! once its ticket is on disk).
//!
//! The messages are a mix of the real mail corpus (`tests/fixtures/mail-corpus`,
//! those with a sender), each with a Message-ID of its own so none is a
//! duplicate. The baseline is the same process started as
//! `taquilla --version`: what starting a process costs before any work.
//! Run with 1 sender (one delivery at a time) and with 8 concurrent ones
//! (as a mail server delivers in parallel). Results go in
//! `docs/performance.md`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_taquilla");
const RUN: Duration = Duration::from_secs(10);

fn taquilla(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("TAQUILLA_") {
            cmd.env_remove(name);
        }
    }
    cmd.arg("--data-dir").arg(data).env("TAQUILLA_LOG", "warn");
    cmd
}

fn corpus() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mail-corpus");
    let mut mails = Vec::new();
    for folder in ["rfc", "legacy", "thirdparty"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(folder))
            .unwrap_or_else(|e| panic!("the mail corpus at {}: {e}", root.display()))
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            let raw = std::fs::read(path).unwrap();
            if taquilla_mail::inbound::parse(&raw).is_ok() {
                mails.push(raw);
            }
        }
    }
    mails
}

/// Latencies (µs) of `work` run by `workers` threads for [`RUN`].
fn measure(workers: usize, work: Arc<dyn Fn(usize) + Send + Sync>) -> (f64, Vec<u64>) {
    let next = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + RUN;
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let (next, work) = (Arc::clone(&next), Arc::clone(&work));
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let start = Instant::now();
                    work(n);
                    latencies.push(start.elapsed().as_micros() as u64);
                }
                latencies
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    (all.len() as f64 / RUN.as_secs_f64(), all)
}

fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let init = taquilla(&data).args(["init", "--demo"]).output().unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let mails = Arc::new(corpus());
    println!(
        "taquilla pipe, one process per message: {} corpus messages, SQLite (WAL, synchronous=FULL), {} cores",
        mails.len(),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    println!("| case | msg/s | p50 ms | p99 ms | vs process start: time per msg |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for workers in [1, 8] {
        let version_data = data.clone();
        let (base_rate, base) = measure(
            workers,
            Arc::new(move |_| {
                let out = taquilla(&version_data).arg("--version").output().unwrap();
                assert!(out.status.success());
            }),
        );
        let (pipe_data, pipe_mails) = (data.clone(), Arc::clone(&mails));
        let (rate, piped) = measure(
            workers,
            Arc::new(move |n| {
                let raw = &pipe_mails[n % pipe_mails.len()];
                let mut child = taquilla(&pipe_data)
                    .args(["pipe", "--instance", "demo"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                write!(stdin, "Message-ID: <pipe-bench-{n}@bench.example>\r\n").unwrap();
                stdin.write_all(raw).unwrap();
                drop(stdin);
                let out = child.wait_with_output().unwrap();
                assert!(
                    out.status.success(),
                    "pipe: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }),
        );
        println!(
            "| `taquilla --version` ({workers} at a time; baseline) | {base_rate:.0} | {:.2} | {:.2} | 1.00 |",
            percentile_ms(&base, 50.0),
            percentile_ms(&base, 99.0)
        );
        println!(
            "| `taquilla pipe` ({workers} at a time) | {rate:.0} | {:.2} | {:.2} | {:.2} |",
            percentile_ms(&piped, 50.0),
            percentile_ms(&piped, 99.0),
            base_rate / rate
        );
    }
}
