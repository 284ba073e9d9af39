//! Adapter-specific tests; the contract itself is checked by the conformance
//! suite in `taquilla-tests`.

use std::sync::Arc;

use taquilla_core::clock::ManualClock;
use taquilla_core::store::{Index, SkCondition, TTL};

use super::*;

fn open(dir: &tempfile::TempDir) -> (SqliteStore, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_ms(1_000_000));
    let store =
        SqliteStore::open_with_clock(&dir.path().join("t.db"), clock.clone() as Arc<dyn Clock>)
            .unwrap();
    (store, clock)
}

fn item(pk: &str, sk: &str) -> Item {
    Item::new(Key::new(pk, sk))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conditional_puts_let_exactly_one_win_and_others_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(&dir);
    let mut tasks = Vec::new();
    for n in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Every task races for "race"; each also writes its own item in
            // the same batches, which must not be disturbed by the losers.
            let won = store
                .put(item("p", "race").with("n", n), Some(Condition::Absent))
                .await;
            store
                .put(item("p", &format!("own{n:02}")), Some(Condition::Absent))
                .await
                .unwrap();
            won.is_ok()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
    let page = store.query(&Query::table("p").limit(100)).await.unwrap();
    assert_eq!(page.items.len(), 65);
}

#[tokio::test]
async fn writes_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(&dir);
    store.put(item("p", "s").with("a", 1), None).await.unwrap();
    drop(store);
    let (store, _) = open(&dir);
    let back = store.get(&Key::new("p", "s")).await.unwrap().unwrap();
    assert_eq!(back.get_i64("a"), Some(1));
}

#[tokio::test]
async fn purge_deletes_only_expired_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = open(&dir);
    let now = clock.now_secs();
    store
        .put(item("p", "old").with(TTL, now - 1), None)
        .await
        .unwrap();
    store
        .put(item("p", "soon").with(TTL, now + 10), None)
        .await
        .unwrap();
    store.put(item("p", "keep"), None).await.unwrap();
    assert_eq!(store.purge_expired().await.unwrap(), 1);
    clock.advance_ms(10_000);
    assert_eq!(store.purge_expired().await.unwrap(), 1);
    let page = store.query(&Query::table("p")).await.unwrap();
    assert_eq!(page.items, vec![item("p", "keep")]);
}

#[tokio::test]
async fn begins_with_treats_like_wildcards_and_high_code_points_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(&dir);
    for sk in [
        "a%b",
        "a%c",
        "axb",
        "a_b",
        "a\u{10FFFF}",
        "a\u{10FFFF}z",
        "b",
    ] {
        store.put(item("p", sk), None).await.unwrap();
    }
    let sks =
        |page: Page| -> Vec<String> { page.items.iter().map(|i| i.sk().to_owned()).collect() };
    let q = |prefix: &str| Query::table("p").sk(SkCondition::BeginsWith(prefix.into()));
    assert_eq!(sks(store.query(&q("a%")).await.unwrap()), ["a%b", "a%c"]);
    assert_eq!(sks(store.query(&q("a_")).await.unwrap()), ["a_b"]);
    assert_eq!(
        sks(store.query(&q("a\u{10FFFF}")).await.unwrap()),
        ["a\u{10FFFF}", "a\u{10FFFF}z"]
    );
}

#[tokio::test]
async fn an_item_is_in_an_index_only_with_both_index_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(&dir);
    let def = Index::Gsi2.def();
    store
        .put(item("p", "both").with(def.pk, "G").with(def.sk, "1"), None)
        .await
        .unwrap();
    store
        .put(item("p", "pk-only").with(def.pk, "G"), None)
        .await
        .unwrap();
    let page = store.query(&Query::index(Index::Gsi2, "G")).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].sk(), "both");
}

#[tokio::test]
async fn undecodable_rows_are_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(&dir);
    store.put(item("p", "s"), None).await.unwrap();
    let raw = rusqlite::Connection::open(store.path()).unwrap();
    raw.execute("UPDATE items SET item = 'not json'", [])
        .unwrap();
    let err = store.get(&Key::new("p", "s")).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    let err = store.query(&Query::table("p")).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

#[tokio::test]
async fn a_read_only_directory_is_unavailable_not_a_panic() {
    let err = SqliteStore::open(Path::new("/proc/no/such/dir/t.db")).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn the_checkpoint_thread_copies_committed_pages_into_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(&dir);
    let file = dir.path().join("t.db");
    let before = std::fs::metadata(&file).unwrap().len();
    let text = "x".repeat(2_000);
    for n in 0..200 {
        store
            .put(
                item("p", &format!("s{n:03}")).with("text", text.as_str()),
                None,
            )
            .await
            .unwrap();
    }
    // The writer never checkpoints (wal_autocheckpoint=0), so the file only
    // grows if the checkpoint thread copied the WAL's pages into it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::metadata(&file).unwrap().len() < before + 200 * 2_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {} bytes",
            std::fs::metadata(&file).unwrap().len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        store
            .query(&Query::table("p").limit(1000))
            .await
            .unwrap()
            .items
            .len(),
        200
    );
}

/// A long page is answered by a short one read inline when the results end
/// within it, and in full otherwise: the same items and cursors either way.
#[tokio::test]
async fn long_pages_are_whole_whether_read_inline_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(&dir);
    let inline = INLINE_QUERY_LIMIT as usize;
    for (partition, count) in [("short", inline / 2), ("long", inline + 50)] {
        for n in 0..count {
            store
                .put(item(partition, &format!("s{n:04}")), None)
                .await
                .unwrap();
        }
    }
    let short = store
        .query(&Query::table("short").limit(1000))
        .await
        .unwrap();
    assert_eq!(short.items.len(), inline / 2);
    assert_eq!(short.cursor, None);

    let all = store
        .query(&Query::table("long").limit(1000))
        .await
        .unwrap();
    assert_eq!(all.items.len(), inline + 50);
    assert_eq!(all.cursor, None);
    let first = store
        .query(&Query::table("long").limit(INLINE_QUERY_LIMIT + 1))
        .await
        .unwrap();
    assert_eq!(first.items.len(), inline + 1);
    assert_eq!(first.items[..], all.items[..=inline]);
    let rest = store
        .query(&Query::table("long").limit(1000).after(first.cursor))
        .await
        .unwrap();
    assert_eq!(rest.items[..], all.items[inline + 1..]);
    assert_eq!(rest.cursor, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_store_leaves_an_empty_wal_unless_another_still_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("t.db-wal");
    let wal_len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    // Two stores on the file, as a server and a `taquilla pipe`.
    let (server, _) = open(&dir);
    let (pipe, _) = open(&dir);
    for n in 0..50 {
        pipe.put(item("p", &format!("{n:03}")).with("n", n), None)
            .await
            .unwrap();
    }
    assert!(wal_len() > 0);
    // The server still has the database open: the WAL is left to it.
    drop(pipe);
    let page = server.query(&Query::table("p")).await.unwrap();
    assert_eq!(page.items.len(), 50);
    // The last one out empties it, and nothing is lost.
    drop(server);
    assert_eq!(wal_len(), 0, "the WAL is emptied");
    let (again, _) = open(&dir);
    let page = again.query(&Query::table("p")).await.unwrap();
    assert_eq!(page.items.len(), 50);
}
