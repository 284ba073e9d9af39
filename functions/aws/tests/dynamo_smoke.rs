//! A quick check of `DynamoStore` against moto's server, for this crate
//! alone. The full contract is the shared conformance suite in
//! `taquilla-tests` (`store::dynamodb`); these cases cover what is peculiar
//! to DynamoDB: the table, TTL hiding, expired items replaced, guarded ADDs.
//!
//! The server is `TAQUILLA_MOTO_SERVER`, else `.venv/bin/moto_server` at the
//! workspace root; started here once per test binary on a free port.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use taquilla_aws::{AwsSettings, DynamoStore, sdk_config};
use taquilla_core::clock::ManualClock;
use taquilla_core::store::{
    Condition, Index, Item, ItemStore, Key, Query, SkCondition, StoreError, Update, WriteOp,
};

struct Moto {
    endpoint: String,
    _child: Mutex<Child>,
}

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let server = std::env::var_os("TAQUILLA_MOTO_SERVER").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server"),
            PathBuf::from,
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(
            server.exists(),
            "moto_server is not at {}",
            server.display()
        );
        // The server runs under a shell that kills it when our end of its
        // stdin closes, which happens however this process ends.
        let script = "\"$0\" -H 127.0.0.1 -p \"$1\" >/dev/null 2>&1 & pid=$!; \
                      cat >/dev/null; kill $pid 2>/dev/null; wait $pid 2>/dev/null";
        let child = Command::new("sh")
            .args(["-c", script])
            .arg(&server)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", server.display()));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: Mutex::new(child),
        }
    })
}

const NOW_MS: i64 = 1_000_000_000;

async fn store() -> (DynamoStore, Arc<ManualClock>) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let config = sdk_config(&AwsSettings {
        region: "eu-west-1".into(),
        endpoint_url: Some(moto().endpoint.clone()),
        static_credentials: Some(("testing".into(), "testing".into())),
    })
    .await;
    let table = format!(
        "smoke-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let clock = Arc::new(ManualClock::at_ms(NOW_MS));
    let store =
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table).with_clock(clock.clone());
    store.ensure_table().await.unwrap();
    (store, clock)
}

fn k(sk: &str) -> Key {
    Key::new("P", sk)
}

#[tokio::test]
async fn ensure_table_is_idempotent_and_items_round_trip() {
    let (store, _) = store().await;
    store.ensure_table().await.unwrap();
    let item = Item::new(k("a"))
        .with("n", -5)
        .with("b", vec![1u8, 2])
        .with("t", true);
    store
        .put(item.clone(), Some(Condition::Absent))
        .await
        .unwrap();
    assert_eq!(store.get(&k("a")).await.unwrap(), Some(item.clone()));
    assert_eq!(
        store.put(item.clone(), Some(Condition::Absent)).await,
        Err(StoreError::ConditionFailed)
    );
    store
        .put(item, Some(Condition::equals("n", -5)))
        .await
        .unwrap();
    let got = store.batch_get(&[k("zz"), k("a")]).await.unwrap();
    assert_eq!(got[0], None);
    assert_eq!(got[1].as_ref().map(Item::key), Some(k("a")));
    store
        .delete(&k("a"), Some(Condition::Exists))
        .await
        .unwrap();
    assert_eq!(store.get(&k("a")).await.unwrap(), None);
}

#[tokio::test]
async fn expired_items_are_absent_and_replaced() {
    let (store, clock) = store().await;
    let now = NOW_MS / 1000;
    store
        .put(
            Item::new(k("lock"))
                .with("ttl", now + 10)
                .with("owner", "a"),
            None,
        )
        .await
        .unwrap();
    assert!(store.get(&k("lock")).await.unwrap().is_some());
    clock.advance_ms(10_000);
    assert_eq!(store.get(&k("lock")).await.unwrap(), None);
    assert_eq!(store.batch_get(&[k("lock")]).await.unwrap(), vec![None]);
    assert_eq!(
        store
            .update(Update::new(k("lock")).set("x", 1).when(Condition::Exists))
            .await,
        Err(StoreError::ConditionFailed)
    );
    let fresh = store
        .update(
            Update::new(k("lock"))
                .set("owner", "b")
                .when(Condition::Absent),
        )
        .await
        .unwrap();
    assert_eq!(fresh, Item::new(k("lock")).with("owner", "b"));
    assert_eq!(store.get(&k("lock")).await.unwrap(), Some(fresh));
}

#[tokio::test]
async fn adds_count_and_refuse_strings_and_overflow() {
    let (store, _) = store().await;
    let out = store.update(Update::new(k("c")).add("n", 2)).await.unwrap();
    assert_eq!(out.get_i64("n"), Some(2));
    let out = store
        .update(Update::new(k("c")).add("n", 3).set("s", "x"))
        .await
        .unwrap();
    assert_eq!(out.get_i64("n"), Some(5));
    assert!(matches!(
        store.update(Update::new(k("c")).add("s", 1)).await,
        Err(StoreError::InvalidRequest(_))
    ));
    store
        .update(Update::new(k("c")).set("n", i64::MAX - 1))
        .await
        .unwrap();
    assert!(matches!(
        store.update(Update::new(k("c")).add("n", 2)).await,
        Err(StoreError::InvalidRequest(_))
    ));
    assert_eq!(
        store.get(&k("c")).await.unwrap().unwrap().get_i64("n"),
        Some(i64::MAX - 1)
    );
}

#[tokio::test]
async fn queries_page_past_expired_items() {
    let (store, _) = store().await;
    let now = NOW_MS / 1000;
    for i in 0..10 {
        let mut item = Item::new(k(&format!("E#{i:02}")))
            .with("gsi1pk", "G")
            .with("gsi1sk", format!("{i:02}"));
        if i % 2 == 1 {
            item.set("ttl", now - 1);
        }
        store.put(item, None).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query(
                &Query::table("P")
                    .sk(SkCondition::BeginsWith("E#".into()))
                    .limit(2)
                    .after(cursor),
            )
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|i| i.sk().to_owned()));
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["E#00", "E#02", "E#04", "E#06", "E#08"]);
    let page = store
        .query(&Query::index(Index::Gsi1, "G").descending().limit(3))
        .await
        .unwrap();
    let sks: Vec<_> = page.items.iter().map(Item::sk).collect();
    assert_eq!(sks, ["E#08", "E#06", "E#04"]);
    let next = store
        .query(
            &Query::index(Index::Gsi1, "G")
                .descending()
                .limit(3)
                .after(page.cursor.clone()),
        )
        .await
        .unwrap();
    let sks: Vec<_> = next.items.iter().map(Item::sk).collect();
    assert_eq!(sks, ["E#02", "E#00"]);
    assert_eq!(next.cursor, None);
    assert_eq!(
        store.query(&Query::table("Q").after(page.cursor)).await,
        Err(StoreError::InvalidCursor)
    );
}

#[tokio::test]
async fn cancelled_transactions_name_the_failed_operations() {
    let (store, _) = store().await;
    store.put(Item::new(k("x")), None).await.unwrap();
    let err = store
        .transact(vec![
            WriteOp::Put {
                item: Item::new(k("y")),
                condition: Some(Condition::Absent),
            },
            WriteOp::Check {
                key: k("x"),
                condition: Condition::Absent,
            },
            WriteOp::Update(Update::new(k("z")).add("n", 1).when(Condition::Exists)),
        ])
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::TransactionCanceled { failed: vec![1, 2] });
    assert_eq!(store.get(&k("y")).await.unwrap(), None);
    store
        .transact(vec![
            WriteOp::Put {
                item: Item::new(k("y")),
                condition: Some(Condition::Absent),
            },
            WriteOp::Update(Update::new(k("z")).add("n", 1)),
            WriteOp::Delete {
                key: k("x"),
                condition: Some(Condition::Exists),
            },
        ])
        .await
        .unwrap();
    assert_eq!(store.get(&k("x")).await.unwrap(), None);
    assert_eq!(
        store.get(&k("z")).await.unwrap().unwrap().get_i64("n"),
        Some(1)
    );
}
