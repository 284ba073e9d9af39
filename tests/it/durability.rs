//! Crash durability of the SQLite adapter: every write the store acknowledged
//! is on disk, even when the process is killed with SIGKILL mid-burst.
//!
//! The `store-writer` binary writes from eight tasks and prints a line per
//! acknowledged write; the test kills it after some acknowledgements, reopens
//! the file and checks each one. (SIGKILL tests that nothing acknowledged is
//! still only in the process; power loss is covered by `synchronous=FULL`.)

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use taquilla_core::store::{ItemStore as _, Key};
use taquilla_local::SqliteStore;

/// Runs the writer on `db`, kills it after `acks` acknowledgements, and
/// returns every line it printed (including those still in the pipe).
fn run_writer_and_kill(db: &Path, acks: usize) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_store-writer"))
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    while acked.len() < acks {
        match lines.next() {
            Some(line) => acked.push(line.unwrap()),
            None => panic!("the writer ended after {} acknowledgements", acked.len()),
        }
    }
    child.kill().unwrap(); // SIGKILL on unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer was killed, not finished");
    // Lines printed before the kill but not yet read were acknowledged too.
    acked.extend(lines.map(Result::unwrap));
    acked
}

/// Reopens `db` and checks that every acknowledged write is there.
async fn assert_all_present(db: &Path, acked: &[String]) {
    let store = SqliteStore::open(db).unwrap();
    let mut counters: BTreeMap<Key, i64> = BTreeMap::new();
    let mut keys = Vec::new();
    for line in acked {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["put", pk, sk] => keys.push(Key::new(*pk, *sk)),
            ["tx", pk, sks @ ..] => keys.extend(sks.iter().map(|sk| Key::new(*pk, *sk))),
            ["counter", pk, sk, value] => {
                let value: i64 = value.parse().unwrap();
                let max = counters.entry(Key::new(*pk, *sk)).or_default();
                *max = (*max).max(value);
            }
            _ => panic!("unexpected line from the writer: {line:?}"),
        }
    }
    for key in &keys {
        assert!(
            store.get(key).await.unwrap().is_some(),
            "acknowledged write of {key:?} is lost"
        );
    }
    for (key, acked) in &counters {
        let item = store.get(key).await.unwrap().unwrap();
        let value = item.get_i64("value").unwrap();
        assert!(
            value >= *acked,
            "{key:?} is {value}, {acked} was acknowledged"
        );
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_of_the_writer() {
    // Kill at a few different moments, on fresh files and on a file that
    // already survived a kill.
    let dir = tempfile::tempdir().unwrap();
    for (round, acks) in [2_000, 350, 1_200].into_iter().enumerate() {
        let db = dir.path().join(format!("fresh-{round}.db"));
        let acked = run_writer_and_kill(&db, acks);
        assert!(acked.len() >= acks);
        assert_all_present(&db, &acked).await;
    }
    let db = dir.path().join("fresh-0.db");
    let before = run_writer_and_kill(&db, 700);
    assert_all_present(&db, &before).await;
}
