//! `cargo bench -p taquilla-tests --bench store`: the SQLite adapter against
//! raw rusqlite doing the same work with the same pragmas.
//!
//! Each operation runs for a fixed time on the adapter (a `SqliteStore` on a
//! temporary file), then as the equivalent raw statements on a separate file
//! (WAL, `synchronous=FULL`, the same table shape), and prints ops/second and
//! the ratio adapter/raw. Writes are fsynced on both sides, so on most disks
//! the write figures measure the fsync; the concurrent case shows what group
//! commit buys. Results go in `docs/performance.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension as _, params};
use taquilla_core::store::{Condition, Item, ItemStore as _, Key, Query, WriteOp};
use taquilla_local::SqliteStore;

/// How long each side of each case runs.
const RUN: Duration = Duration::from_millis(2_500);
/// Items preloaded for the get case.
const PRELOADED: u64 = 1_000;
/// Concurrent writers in the group-commit case.
const TASKS: u64 = 8;
/// The item a put writes: a small ticket-like record.
const BODY: &str = "a ticket subject of ordinary length, with some words";

fn item(pk: &str, sk: &str) -> Item {
    Item::new(Key::new(pk, sk))
        .with("subject", BODY)
        .with("status", "open")
        .with("version", 1)
}

fn json(item: &Item) -> String {
    serde_json::to_string(item).unwrap()
}

// ------------------------------------------------------------------ raw side

/// A raw connection with the adapter's pragmas and table shape.
fn raw_open(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    let _: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS items (pk TEXT NOT NULL, sk TEXT NOT NULL, item TEXT NOT NULL,
           ttl INTEGER, gsi1pk TEXT, gsi1sk TEXT, PRIMARY KEY (pk, sk)) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk)
           WHERE gsi1pk IS NOT NULL;",
    )
    .unwrap();
    conn
}

/// `BEGIN IMMEDIATE`, then check-absent-and-insert for each item, then `COMMIT`.
fn raw_put_absent(conn: &Connection, items: &[(String, String, String)]) {
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    for (pk, sk, body) in items {
        let exists = conn
            .prepare_cached(
                "SELECT 1 FROM items WHERE pk = ?1 AND sk = ?2 AND (ttl IS NULL OR ttl > ?3)",
            )
            .unwrap()
            .query_row(params![pk, sk, 0], |_| Ok(()))
            .optional()
            .unwrap()
            .is_some();
        assert!(!exists);
        conn.prepare_cached(
            "INSERT OR REPLACE INTO items (pk, sk, item, ttl) VALUES (?1, ?2, ?3, NULL)",
        )
        .unwrap()
        .execute(params![pk, sk, body])
        .unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
}

fn raw_get(conn: &Connection, pk: &str, sk: &str) -> Option<String> {
    conn.prepare_cached(
        "SELECT item FROM items WHERE pk = ?1 AND sk = ?2 AND (ttl IS NULL OR ttl > ?3)",
    )
    .unwrap()
    .query_row(params![pk, sk, 0], |r| r.get(0))
    .optional()
    .unwrap()
}

fn raw_query(conn: &Connection, pk: &str, limit: u32) -> Vec<String> {
    let mut st = conn
        .prepare_cached(
            "SELECT item FROM items WHERE pk = ?1 AND (ttl IS NULL OR ttl > ?2) ORDER BY sk LIMIT ?3",
        )
        .unwrap();
    st.query_map(params![pk, 0, limit + 1], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Ops per second of `op` called until [`RUN`] elapses.
fn timed_sync(mut op: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < RUN {
        op(n);
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Ops per second of the async `op` awaited until [`RUN`] elapses.
async fn timed<F, Fut>(mut op: F) -> f64
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = ()>,
{
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < RUN {
        op(n).await;
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn row(name: &str, adapter: f64, raw: f64) {
    println!(
        "| {name} | {adapter:.0} | {raw:.0} | {:.2} |",
        adapter / raw
    );
}

// ------------------------------------------------------------------- cases

async fn get(store: &SqliteStore, raw: &Connection) {
    // Preloaded in transactions of 100, not one fsync per item.
    for chunk in 0..PRELOADED / 100 {
        let ops = (chunk * 100..(chunk + 1) * 100)
            .map(|n| WriteOp::Put {
                item: item("G", &format!("s{n:05}")),
                condition: None,
            })
            .collect();
        store.transact(ops).await.unwrap();
    }
    let rows: Vec<_> = (0..PRELOADED)
        .map(|n| {
            (
                "G".to_owned(),
                format!("s{n:05}"),
                json(&item("G", &format!("s{n:05}"))),
            )
        })
        .collect();
    raw_put_absent(raw, &rows);
    let keys: Vec<Key> = (0..PRELOADED)
        .map(|n| Key::new("G", format!("s{n:05}")))
        .collect();
    let adapter = timed(|n| {
        let key = &keys[(n * 7919 % PRELOADED) as usize];
        async move {
            assert!(store.get(key).await.unwrap().is_some());
        }
    })
    .await;
    let raw_rate = timed_sync(|n| {
        let key = &keys[(n * 7919 % PRELOADED) as usize];
        assert!(raw_get(raw, &key.pk, &key.sk).is_some());
    });
    row("get", adapter, raw_rate);
}

async fn put_absent(store: &SqliteStore, raw: &Connection) {
    let adapter = timed(|n| async move {
        store
            .put(item("P", &format!("s{n:08}")), Some(Condition::Absent))
            .await
            .unwrap();
    })
    .await;
    let raw_rate = timed_sync(|n| {
        let it = item("P", &format!("s{n:08}"));
        raw_put_absent(raw, &[("P".into(), it.sk().to_owned(), json(&it))]);
    });
    row("conditional put (Absent), 1 writer", adapter, raw_rate);
}

async fn query(store: &SqliteStore, raw: &Connection) {
    let rows: Vec<_> = (0..60).map(|n| item("Q", &format!("E#{n:04}"))).collect();
    for it in &rows {
        store.put(it.clone(), None).await.unwrap();
    }
    let raw_rows: Vec<_> = rows
        .iter()
        .map(|it| ("Q".to_owned(), it.sk().to_owned(), json(it)))
        .collect();
    raw_put_absent(raw, &raw_rows);
    let q = Query::table("Q").limit(50);
    let adapter = timed(|_| {
        let q = &q;
        async move {
            let page = store.query(q).await.unwrap();
            assert_eq!(page.items.len(), 50);
        }
    })
    .await;
    let raw_rate = timed_sync(|_| assert_eq!(raw_query(raw, "Q", 50).len(), 51));
    row("query, 50 items of 60", adapter, raw_rate);
}

async fn transact(store: &SqliteStore, raw: &Connection) {
    let adapter = timed(|n| async move {
        let ops = (0..10)
            .map(|k| WriteOp::Put {
                item: item("T", &format!("s{n:08}#{k}")),
                condition: Some(Condition::Absent),
            })
            .collect();
        store.transact(ops).await.unwrap();
    })
    .await;
    let raw_rate = timed_sync(|n| {
        let rows: Vec<_> = (0..10)
            .map(|k| {
                let it = item("T", &format!("s{n:08}#{k}"));
                ("T".to_owned(), it.sk().to_owned(), json(&it))
            })
            .collect();
        raw_put_absent(raw, &rows);
    });
    row("transaction of 10 conditional puts", adapter, raw_rate);
}

async fn concurrent_puts(store: &SqliteStore, raw_path: &Path) {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (store, done) = (store.clone(), Arc::clone(&done));
            tokio::spawn(async move {
                let mut n = 0u64;
                while start.elapsed() < RUN {
                    let it = item(&format!("C#{task}"), &format!("s{n:08}"));
                    store.put(it, Some(Condition::Absent)).await.unwrap();
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let adapter = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();

    // Raw: one connection per thread, each write its own transaction and fsync.
    let done = Arc::new(AtomicU64::new(0));
    let ready = Arc::new(Barrier::new(usize::try_from(TASKS).unwrap() + 1));
    let threads: Vec<_> = (0..TASKS)
        .map(|task| {
            let (done, ready, path) = (Arc::clone(&done), Arc::clone(&ready), raw_path.to_owned());
            std::thread::spawn(move || {
                let conn = raw_open(&path);
                ready.wait();
                let start = Instant::now();
                let mut n = 0u64;
                while start.elapsed() < RUN {
                    let it = item(&format!("C#{task}"), &format!("s{n:08}"));
                    raw_put_absent(
                        &conn,
                        &[(it.pk().to_owned(), it.sk().to_owned(), json(&it))],
                    );
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    ready.wait();
    let start = Instant::now();
    for thread in threads {
        thread.join().unwrap();
    }
    let raw_rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    row(
        &format!("conditional put (Absent), {TASKS} concurrent writers"),
        adapter,
        raw_rate,
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("adapter.db")).unwrap();
    let raw_path = dir.path().join("raw.db");
    let raw = raw_open(&raw_path);
    println!(
        "SqliteStore vs raw rusqlite (WAL, synchronous=FULL), {} s per side, {} cores",
        RUN.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    println!("| operation | adapter ops/s | raw rusqlite ops/s | adapter/raw |");
    println!("| --- | ---: | ---: | ---: |");
    runtime.block_on(async {
        get(&store, &raw).await;
        query(&store, &raw).await;
        put_absent(&store, &raw).await;
        transact(&store, &raw).await;
        concurrent_puts(&store, &raw_path).await;
    });
}
