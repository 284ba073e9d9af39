//! The `ItemStore` conformance suite: the contract of `docs/store.md` as
//! executable cases, written once and run against every adapter.
//!
//! Each case is a public async function taking a [`Subject`]; the
//! [`store_conformance!`](crate::store_conformance) macro turns the whole
//! list into `#[tokio::test]`s for one adapter, so `tests/it/store.rs` runs
//! every case as `store::sqlite::<case>` and `store::dynamodb::<case>`.
//! A bug found in one adapter becomes a case here.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use taquilla_core::clock::{Clock, ManualClock};
use taquilla_core::store::{
    Condition, Index, Item, ItemStore, Key, MAX_ITEM_BYTES, MAX_TRANSACTION_OPS, Query,
    SkCondition, StoreError, TTL, Update, Value, WriteOp,
};

/// Where the suite's clock starts: 2027-01-15T08:00:00Z.
pub const START_MS: i64 = 1_800_000_000_000;

/// A store under test, the clock it reads, and whatever must live as long as it.
pub struct Subject {
    pub store: Arc<dyn ItemStore>,
    pub clock: Arc<ManualClock>,
    pub _guard: Box<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subject")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Subject {
    fn now(&self) -> i64 {
        self.clock.now_secs()
    }
}

fn item(pk: &str, sk: &str) -> Item {
    Item::new(Key::new(pk, sk))
}

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

async fn put_all(s: &Subject, items: impl IntoIterator<Item = Item>) {
    for it in items {
        s.store.put(it, None).await.unwrap();
    }
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.sk().to_owned()).collect()
}

/// Every page of a query, following cursors; the sort keys in order.
async fn all_pages(s: &Subject, query: Query) -> (Vec<String>, usize) {
    let mut query = query;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = s.store.query(&query).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= query.limit as usize);
        seen.extend(sks(&page.items));
        match page.cursor {
            Some(cursor) => {
                assert!(!page.items.is_empty(), "a cursor came with an empty page");
                query.cursor = Some(cursor);
            }
            None => return (seen, pages),
        }
        assert!(pages < 1000, "pagination does not end");
    }
}

// ---------------------------------------------------------------- get / put

pub async fn get_returns_the_item_put_with_every_value_type(s: &Subject) {
    let mut map = BTreeMap::new();
    map.insert("inner".to_owned(), Value::N(-42));
    map.insert("name".to_owned(), Value::from("Núria"));
    let it = item("I#demo", "T#1")
        .with("s", "hola, món — ✓")
        .with("n", i64::MAX)
        .with("neg", i64::MIN)
        .with("b", vec![0u8, 1, 2, 255])
        .with("t", true)
        .with("f", false)
        .with("z", Value::Null)
        .with(
            "l",
            Value::L(vec![Value::from("a"), Value::N(1), Value::Null]),
        )
        .with("m", Value::M(map))
        .with("empty_string", "")
        .with("empty_list", Value::L(vec![]));
    s.store.put(it.clone(), None).await.unwrap();
    let back = s.store.get(&key("I#demo", "T#1")).await.unwrap();
    assert_eq!(back, Some(it));
}

pub async fn get_of_a_missing_item_is_none(s: &Subject) {
    assert_eq!(s.store.get(&key("I#demo", "nothing")).await.unwrap(), None);
}

pub async fn put_replaces_the_whole_item(s: &Subject) {
    s.store
        .put(item("p", "s").with("a", 1).with("b", 2), None)
        .await
        .unwrap();
    s.store
        .put(item("p", "s").with("c", 3), None)
        .await
        .unwrap();
    let back = s.store.get(&key("p", "s")).await.unwrap().unwrap();
    assert_eq!(back, item("p", "s").with("c", 3));
}

pub async fn put_if_absent_refuses_an_existing_item(s: &Subject) {
    s.store
        .put(item("p", "s").with("v", 1), Some(Condition::Absent))
        .await
        .unwrap();
    let err = s
        .store
        .put(item("p", "s").with("v", 2), Some(Condition::Absent))
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConditionFailed);
    assert_eq!(err.code(), "condition_failed");
    let back = s.store.get(&key("p", "s")).await.unwrap().unwrap();
    assert_eq!(
        back.get_i64("v"),
        Some(1),
        "the refused put changed the item"
    );
}

pub async fn put_if_version_equals_gives_optimistic_concurrency(s: &Subject) {
    s.store
        .put(item("p", "t").with("version", 1).with("subject", "a"), None)
        .await
        .unwrap();
    // Two writers read version 1; the first wins, the second is refused.
    let first = item("p", "t").with("version", 2).with("subject", "first");
    let second = item("p", "t").with("version", 2).with("subject", "second");
    s.store
        .put(first, Some(Condition::equals("version", 1)))
        .await
        .unwrap();
    let err = s
        .store
        .put(second, Some(Condition::equals("version", 1)))
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConditionFailed);
    let back = s.store.get(&key("p", "t")).await.unwrap().unwrap();
    assert_eq!(back.get_str("subject"), Some("first"));
}

pub async fn conditions_on_a_missing_item_fail(s: &Subject) {
    for condition in [Condition::Exists, Condition::equals("version", 1)] {
        let err = s
            .store
            .put(item("p", "ghost"), Some(condition))
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::ConditionFailed);
    }
    assert_eq!(s.store.get(&key("p", "ghost")).await.unwrap(), None);
}

pub async fn equals_compares_type_and_value(s: &Subject) {
    s.store
        .put(item("p", "s").with("v", "1"), None)
        .await
        .unwrap();
    let err = s
        .store
        .put(item("p", "s"), Some(Condition::equals("v", 1)))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::ConditionFailed,
        "the string \"1\" equalled the number 1"
    );
    s.store
        .put(
            item("p", "s").with("v", "2"),
            Some(Condition::equals("v", "1")),
        )
        .await
        .unwrap();
}

// ------------------------------------------------------------------- update

pub async fn update_sets_adds_and_removes_and_returns_the_new_item(s: &Subject) {
    s.store
        .put(
            item("p", "s")
                .with("status", "open")
                .with("count", 5)
                .with("gone", "x"),
            None,
        )
        .await
        .unwrap();
    let after = s
        .store
        .update(
            Update::new(key("p", "s"))
                .set("status", "closed")
                .set("closed_by", "agent-1")
                .add("count", 3)
                .remove("gone"),
        )
        .await
        .unwrap();
    let expected = item("p", "s")
        .with("status", "closed")
        .with("closed_by", "agent-1")
        .with("count", 8);
    assert_eq!(after, expected);
    assert_eq!(s.store.get(&key("p", "s")).await.unwrap(), Some(expected));
}

pub async fn update_of_a_missing_item_creates_it_and_counts_from_zero(s: &Subject) {
    let after = s
        .store
        .update(Update::new(key("I#demo", "SEQ#ticket")).add("next", 1))
        .await
        .unwrap();
    assert_eq!(after.get_i64("next"), Some(1));
    let after = s
        .store
        .update(Update::new(key("I#demo", "SEQ#ticket")).add("next", 1))
        .await
        .unwrap();
    assert_eq!(after.get_i64("next"), Some(2));
}

pub async fn update_with_a_failed_condition_changes_nothing(s: &Subject) {
    s.store
        .put(item("p", "s").with("version", 3).with("a", "x"), None)
        .await
        .unwrap();
    let err = s
        .store
        .update(
            Update::new(key("p", "s"))
                .set("a", "y")
                .add("version", 1)
                .when(Condition::equals("version", 2)),
        )
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConditionFailed);
    let back = s.store.get(&key("p", "s")).await.unwrap().unwrap();
    assert_eq!(back, item("p", "s").with("version", 3).with("a", "x"));

    let err = s
        .store
        .update(
            Update::new(key("p", "missing"))
                .set("a", "y")
                .when(Condition::Exists),
        )
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConditionFailed);
    assert_eq!(s.store.get(&key("p", "missing")).await.unwrap(), None);
}

pub async fn concurrent_counter_updates_are_never_lost(s: &Subject) {
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let store = s.store.clone();
            tokio::spawn(async move {
                store
                    .update(Update::new(Key::new("I#demo", "SEQ#n")).add("n", 1))
                    .await
                    .unwrap()
                    .get_i64("n")
                    .unwrap()
            })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=40).collect::<Vec<_>>(),
        "two updates saw the same value"
    );
}

pub async fn add_to_a_non_number_is_refused(s: &Subject) {
    s.store
        .put(item("p", "s").with("n", "seven"), None)
        .await
        .unwrap();
    let err = s
        .store
        .update(Update::new(key("p", "s")).add("n", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidRequest(_)), "{err:?}");
    assert_eq!(
        s.store
            .get(&key("p", "s"))
            .await
            .unwrap()
            .unwrap()
            .get_str("n"),
        Some("seven")
    );
}

pub async fn update_cannot_change_the_key_or_name_an_attribute_twice(s: &Subject) {
    for update in [
        Update::new(key("p", "s")).set("pk", "other"),
        Update::new(key("p", "s")).remove("sk"),
        Update::new(key("p", "s")).set("a", 1).add("a", 1),
        Update::new(key("p", "s")),
    ] {
        let err = s.store.update(update).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidRequest(_)), "{err:?}");
    }
    assert_eq!(s.store.get(&key("p", "s")).await.unwrap(), None);
}

// ------------------------------------------------------------------- delete

pub async fn delete_removes_the_item_and_is_idempotent(s: &Subject) {
    s.store.put(item("p", "s"), None).await.unwrap();
    s.store.delete(&key("p", "s"), None).await.unwrap();
    assert_eq!(s.store.get(&key("p", "s")).await.unwrap(), None);
    s.store.delete(&key("p", "s"), None).await.unwrap();
}

pub async fn conditional_delete_refuses_when_the_condition_fails(s: &Subject) {
    s.store
        .put(item("p", "lock").with("holder", "agent-1"), None)
        .await
        .unwrap();
    let err = s
        .store
        .delete(
            &key("p", "lock"),
            Some(Condition::equals("holder", "agent-2")),
        )
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConditionFailed);
    assert!(s.store.get(&key("p", "lock")).await.unwrap().is_some());
    s.store
        .delete(
            &key("p", "lock"),
            Some(Condition::equals("holder", "agent-1")),
        )
        .await
        .unwrap();
    assert_eq!(s.store.get(&key("p", "lock")).await.unwrap(), None);
    let err = s
        .store
        .delete(&key("p", "lock"), Some(Condition::Exists))
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConditionFailed);
}

// ---------------------------------------------------------------- batch get

pub async fn batch_get_returns_items_in_the_order_asked_with_gaps(s: &Subject) {
    put_all(
        s,
        (0..30).map(|n| item("p", &format!("k{n:02}")).with("n", n)),
    )
    .await;
    let keys: Vec<Key> = [29, 3, 100, 0, 17]
        .iter()
        .map(|n| key("p", &format!("k{n:02}")))
        .collect();
    let got = s.store.batch_get(&keys).await.unwrap();
    let ns: Vec<Option<i64>> = got
        .iter()
        .map(|o| o.as_ref().and_then(|i| i.get_i64("n")))
        .collect();
    assert_eq!(ns, vec![Some(29), Some(3), None, Some(0), Some(17)]);
    assert_eq!(
        s.store.batch_get(&[]).await.unwrap(),
        Vec::<Option<Item>>::new()
    );
}

pub async fn batch_get_of_100_keys_works_and_of_101_is_refused(s: &Subject) {
    put_all(s, (0..100).map(|n| item("p", &format!("k{n:03}")))).await;
    let keys: Vec<Key> = (0..101).map(|n| key("p", &format!("k{n:03}"))).collect();
    let got = s.store.batch_get(&keys[..100]).await.unwrap();
    assert!(got.iter().all(Option::is_some));
    let err = s.store.batch_get(&keys).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidRequest(_)), "{err:?}");
    let err = s
        .store
        .batch_get(&[key("p", "k001"), key("p", "k001")])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidRequest(_)), "{err:?}");
}

// -------------------------------------------------------------------- query

async fn seed_partition(s: &Subject) {
    let sks = ["a", "b", "b#1", "b#2", "b#3", "ba", "c", "d#1", "d#2", "e"];
    put_all(s, sks.iter().map(|sk| item("P", sk))).await;
    // Neighbouring partitions that a careless prefix match would leak.
    put_all(s, [item("PP", "a"), item("P#", "a"), item("Q", "b")]).await;
}

pub async fn query_filters_by_every_sort_key_condition(s: &Subject) {
    seed_partition(s).await;
    let cases: Vec<(SkCondition, Vec<&str>)> = vec![
        (SkCondition::Eq("b#2".into()), vec!["b#2"]),
        (
            SkCondition::BeginsWith("b#".into()),
            vec!["b#1", "b#2", "b#3"],
        ),
        (
            SkCondition::BeginsWith("b".into()),
            vec!["b", "b#1", "b#2", "b#3", "ba"],
        ),
        (
            SkCondition::Between("b#2".into(), "c".into()),
            vec!["b#2", "b#3", "ba", "c"],
        ),
        (SkCondition::Lt("b#1".into()), vec!["a", "b"]),
        (SkCondition::Le("b#1".into()), vec!["a", "b", "b#1"]),
        (SkCondition::Gt("d#1".into()), vec!["d#2", "e"]),
        (SkCondition::Ge("d#1".into()), vec!["d#1", "d#2", "e"]),
        (SkCondition::Eq("zz".into()), vec![]),
    ];
    for (condition, expected) in cases {
        let page = s
            .store
            .query(&Query::table("P").sk(condition.clone()))
            .await
            .unwrap();
        assert_eq!(sks(&page.items), expected, "{condition:?}");
        assert_eq!(page.cursor, None);
    }
    let page = s.store.query(&Query::table("P")).await.unwrap();
    assert_eq!(
        page.items.len(),
        10,
        "the partition leaked into its neighbours"
    );
}

pub async fn query_orders_by_bytes_ascending_and_descending(s: &Subject) {
    put_all(
        s,
        ["z", "a", "Z", "é", "0", "a#"]
            .iter()
            .map(|sk| item("P", sk)),
    )
    .await;
    let page = s.store.query(&Query::table("P")).await.unwrap();
    assert_eq!(sks(&page.items), vec!["0", "Z", "a", "a#", "z", "é"]);
    let page = s
        .store
        .query(&Query::table("P").descending())
        .await
        .unwrap();
    assert_eq!(sks(&page.items), vec!["é", "z", "a#", "a", "Z", "0"]);
    let page = s
        .store
        .query(
            &Query::table("P")
                .sk(SkCondition::Lt("z".into()))
                .descending()
                .limit(2),
        )
        .await
        .unwrap();
    assert_eq!(sks(&page.items), vec!["a#", "a"]);
}

pub async fn query_pages_cover_the_partition_exactly_once(s: &Subject) {
    let all: Vec<String> = (0..23).map(|n| format!("E#{n:03}")).collect();
    put_all(s, all.iter().map(|sk| item("T", sk))).await;
    for limit in [1, 5, 7, 23, 24, 100] {
        let (seen, pages) = all_pages(s, Query::table("T").limit(limit)).await;
        assert_eq!(seen, all, "ascending, limit {limit}");
        assert_eq!(
            pages,
            23usize.div_ceil(limit as usize).max(1),
            "limit {limit}"
        );
        let (seen, _) = all_pages(s, Query::table("T").limit(limit).descending()).await;
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(seen, reversed, "descending, limit {limit}");
    }
    // A page that ends exactly at the end of the partition carries no cursor.
    let page = s.store.query(&Query::table("T").limit(23)).await.unwrap();
    assert_eq!(page.items.len(), 23);
    assert_eq!(page.cursor, None);
    // Cursors combine with sort-key conditions.
    let q = Query::table("T")
        .sk(SkCondition::Between("E#005".into(), "E#014".into()))
        .limit(4);
    let (seen, pages) = all_pages(s, q).await;
    assert_eq!(seen, all[5..15].to_vec());
    assert_eq!(pages, 3);
}

pub async fn query_of_an_empty_partition_is_an_empty_page(s: &Subject) {
    let page = s.store.query(&Query::table("nobody")).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.cursor, None);
}

pub async fn query_limits_out_of_range_are_refused(s: &Subject) {
    for limit in [0, 1001] {
        let err = s
            .store
            .query(&Query::table("P").limit(limit))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidRequest(_)), "{err:?}");
    }
}

// --------------------------------------------------------------------- GSIs

fn ticket(n: u32, dept: &str, activity: &str) -> Item {
    item(&format!("I#demo#T#{n}"), "TICKET")
        .with("gsi1pk", format!("I#demo#D#{dept}#open"))
        .with("gsi1sk", activity.to_owned())
        .with("n", i64::from(n))
}

pub async fn index_query_finds_items_by_their_index_keys(s: &Subject) {
    put_all(
        s,
        [
            ticket(1, "it", "2027-01-03"),
            ticket(2, "it", "2027-01-01"),
            ticket(3, "lab", "2027-01-02"),
            ticket(4, "it", "2027-01-05"),
            // Not in the index at all: no gsi1pk.
            item("I#demo#T#5", "TICKET").with("n", 5),
        ],
    )
    .await;
    let page = s
        .store
        .query(&Query::index(Index::Gsi1, "I#demo#D#it#open"))
        .await
        .unwrap();
    let ns: Vec<i64> = page.items.iter().filter_map(|i| i.get_i64("n")).collect();
    assert_eq!(ns, vec![2, 1, 4]);
    let page = s
        .store
        .query(
            &Query::index(Index::Gsi1, "I#demo#D#it#open")
                .descending()
                .limit(2),
        )
        .await
        .unwrap();
    let ns: Vec<i64> = page.items.iter().filter_map(|i| i.get_i64("n")).collect();
    assert_eq!(ns, vec![4, 1]);
    let page = s
        .store
        .query(
            &Query::index(Index::Gsi1, "I#demo#D#it#open").sk(SkCondition::Ge("2027-01-03".into())),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    // Index partitions are separate from table partitions.
    let page = s
        .store
        .query(&Query::index(Index::Gsi2, "I#demo#D#it#open"))
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

pub async fn index_pages_cover_the_index_partition_exactly_once(s: &Subject) {
    put_all(
        s,
        (0..17).map(|n| ticket(n, "it", &format!("2027-01-{:02}T{n:02}", n % 5))),
    )
    .await;
    let mut expected: Vec<String> = (0..17)
        .map(|n| format!("2027-01-{:02}T{n:02}", n % 5))
        .collect();
    expected.sort();
    let index_sks = |items: &[Item]| -> Vec<String> {
        items
            .iter()
            .map(|i| i.get_str("gsi1sk").unwrap().to_owned())
            .collect()
    };
    let mut query = Query::index(Index::Gsi1, "I#demo#D#it#open").limit(4);
    let mut seen = Vec::new();
    loop {
        let page = s.store.query(&query).await.unwrap();
        seen.extend(index_sks(&page.items));
        match page.cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let mut query = Query::index(Index::Gsi1, "I#demo#D#it#open")
        .limit(5)
        .descending();
    let mut seen = Vec::new();
    loop {
        let page = s.store.query(&query).await.unwrap();
        seen.extend(index_sks(&page.items));
        match page.cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    expected.reverse();
    assert_eq!(seen, expected);
}

pub async fn indexes_follow_updates_of_their_key_attributes(s: &Subject) {
    s.store
        .put(ticket(1, "it", "2027-01-01"), None)
        .await
        .unwrap();
    let q_it = Query::index(Index::Gsi1, "I#demo#D#it#open");
    let q_lab = Query::index(Index::Gsi1, "I#demo#D#lab#open");
    // Transfer: the item moves from one index partition to another.
    s.store
        .update(Update::new(key("I#demo#T#1", "TICKET")).set("gsi1pk", "I#demo#D#lab#open"))
        .await
        .unwrap();
    assert!(s.store.query(&q_it).await.unwrap().items.is_empty());
    assert_eq!(s.store.query(&q_lab).await.unwrap().items.len(), 1);
    // Sparse: removing the index key takes the item out of the index.
    s.store
        .update(Update::new(key("I#demo#T#1", "TICKET")).remove("gsi1pk"))
        .await
        .unwrap();
    assert!(s.store.query(&q_lab).await.unwrap().items.is_empty());
    assert!(
        s.store
            .get(&key("I#demo#T#1", "TICKET"))
            .await
            .unwrap()
            .is_some()
    );
    // And a delete takes it out of every index.
    s.store
        .update(Update::new(key("I#demo#T#1", "TICKET")).set("gsi1pk", "I#demo#D#it#open"))
        .await
        .unwrap();
    assert_eq!(s.store.query(&q_it).await.unwrap().items.len(), 1);
    s.store
        .delete(&key("I#demo#T#1", "TICKET"), None)
        .await
        .unwrap();
    assert!(s.store.query(&q_it).await.unwrap().items.is_empty());
}

pub async fn cursors_that_were_altered_or_reused_elsewhere_are_refused(s: &Subject) {
    put_all(s, (0..6).map(|n| item("P", &format!("s{n}")))).await;
    put_all(s, (0..6).map(|n| item("Q", &format!("s{n}")))).await;
    let page = s.store.query(&Query::table("P").limit(2)).await.unwrap();
    let cursor = page.cursor.unwrap();

    let mut tampered = cursor.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (bad, query) in [
        (tampered, Query::table("P")),
        ("not-a-cursor".to_owned(), Query::table("P")),
        (String::new(), Query::table("P")),
        (cursor.clone(), Query::table("Q")),
        (cursor.clone(), Query::index(Index::Gsi1, "P")),
    ] {
        let err = s
            .store
            .query(&query.limit(2).after(Some(bad.clone())))
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::InvalidCursor, "cursor {bad:?}");
        assert_eq!(err.code(), "invalid_cursor");
    }
    // The genuine cursor still works.
    let page = s
        .store
        .query(&Query::table("P").limit(2).after(Some(cursor)))
        .await
        .unwrap();
    assert_eq!(sks(&page.items), vec!["s2", "s3"]);
}

// ------------------------------------------------------------- transactions

pub async fn transaction_applies_every_operation(s: &Subject) {
    put_all(
        s,
        [
            item("I#demo#T#1", "TICKET").with("version", 1),
            item("I#demo#T#1", "LOCK").with("holder", "a1"),
            item("I#demo", "CONFIG").with("online", true),
        ],
    )
    .await;
    s.store
        .transact(vec![
            WriteOp::Put {
                item: item("I#demo#T#1", "E#0001").with("body", "reply"),
                condition: Some(Condition::Absent),
            },
            WriteOp::Update(
                Update::new(key("I#demo#T#1", "TICKET"))
                    .add("version", 1)
                    .set("answered", true)
                    .when(Condition::equals("version", 1)),
            ),
            WriteOp::Delete {
                key: key("I#demo#T#1", "LOCK"),
                condition: Some(Condition::equals("holder", "a1")),
            },
            WriteOp::Check {
                key: key("I#demo", "CONFIG"),
                condition: Condition::equals("online", true),
            },
        ])
        .await
        .unwrap();
    let t = s
        .store
        .get(&key("I#demo#T#1", "TICKET"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.get_i64("version"), Some(2));
    assert!(
        s.store
            .get(&key("I#demo#T#1", "E#0001"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.store
            .get(&key("I#demo#T#1", "LOCK"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn transaction_with_failed_conditions_writes_nothing_and_names_them(s: &Subject) {
    put_all(
        s,
        [
            item("A", "1").with("v", 1),
            item("A", "2").with("v", 1),
            item("A", "3"),
        ],
    )
    .await;
    let before = s.store.query(&Query::table("A")).await.unwrap().items;
    let err = s
        .store
        .transact(vec![
            WriteOp::Put {
                item: item("A", "new"),
                condition: Some(Condition::Absent),
            },
            WriteOp::Update(
                Update::new(key("A", "1"))
                    .add("v", 1)
                    .when(Condition::equals("v", 9)),
            ),
            WriteOp::Delete {
                key: key("A", "3"),
                condition: None,
            },
            WriteOp::Put {
                item: item("A", "2").with("v", 2),
                condition: Some(Condition::Absent),
            },
            WriteOp::Check {
                key: key("A", "missing"),
                condition: Condition::Exists,
            },
        ])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::TransactionCanceled {
            failed: vec![1, 3, 4]
        }
    );
    assert_eq!(err.code(), "transaction_canceled");
    let after = s.store.query(&Query::table("A")).await.unwrap().items;
    assert_eq!(after, before, "a cancelled transaction wrote something");
}

pub async fn transaction_of_100_operations_works_and_of_101_is_refused(s: &Subject) {
    let ops = |n: usize| -> Vec<WriteOp> {
        (0..n)
            .map(|i| WriteOp::Put {
                item: item("B", &format!("{i:03}")),
                condition: Some(Condition::Absent),
            })
            .collect()
    };
    let err = s
        .store
        .transact(ops(MAX_TRANSACTION_OPS + 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidRequest(_)), "{err:?}");
    assert!(
        s.store
            .query(&Query::table("B"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let err = s.store.transact(vec![]).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidRequest(_)), "{err:?}");
    s.store.transact(ops(MAX_TRANSACTION_OPS)).await.unwrap();
    let (seen, _) = all_pages(s, Query::table("B").limit(1000)).await;
    assert_eq!(seen.len(), MAX_TRANSACTION_OPS);
}

pub async fn transaction_touching_an_item_twice_is_refused(s: &Subject) {
    let err = s
        .store
        .transact(vec![
            WriteOp::Put {
                item: item("C", "1"),
                condition: None,
            },
            WriteOp::Update(Update::new(key("C", "1")).add("n", 1)),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidRequest(_)), "{err:?}");
    assert_eq!(s.store.get(&key("C", "1")).await.unwrap(), None);
}

pub async fn concurrent_transactions_on_one_version_let_exactly_one_win(s: &Subject) {
    s.store
        .put(item("I#demo#T#9", "TICKET").with("version", 1), None)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let store = s.store.clone();
            tokio::spawn(async move {
                store
                    .transact(vec![
                        WriteOp::Update(
                            Update::new(Key::new("I#demo#T#9", "TICKET"))
                                .add("version", 1)
                                .set("priority", format!("p{n}"))
                                .when(Condition::equals("version", 1)),
                        ),
                        WriteOp::Put {
                            item: Item::new(Key::new("I#demo#T#9", format!("E#{n}"))),
                            condition: Some(Condition::Absent),
                        },
                    ])
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::TransactionCanceled { failed }) => assert_eq!(failed, vec![0]),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        won, 1,
        "concurrent updates of one version did not exclude each other"
    );
    let entries = s
        .store
        .query(&Query::table("I#demo#T#9").sk(SkCondition::BeginsWith("E#".into())))
        .await
        .unwrap();
    assert_eq!(entries.items.len(), 1);
}

// ---------------------------------------------------------------------- TTL

pub async fn expired_items_are_gone_for_every_read(s: &Subject) {
    let now = s.now();
    put_all(
        s,
        [
            item("L", "live").with(TTL, now + 3600),
            item("L", "dead").with(TTL, now - 1),
            item("L", "plain"),
        ],
    )
    .await;
    assert!(s.store.get(&key("L", "dead")).await.unwrap().is_none());
    assert!(s.store.get(&key("L", "live")).await.unwrap().is_some());
    let got = s
        .store
        .batch_get(&[key("L", "dead"), key("L", "live")])
        .await
        .unwrap();
    assert!(got[0].is_none() && got[1].is_some());
    let page = s.store.query(&Query::table("L")).await.unwrap();
    assert_eq!(sks(&page.items), vec!["live", "plain"]);
}

pub async fn items_expire_when_the_clock_passes_their_ttl(s: &Subject) {
    let now = s.now();
    s.store
        .put(
            item("I#demo#T#1", "LOCK")
                .with("holder", "a1")
                .with(TTL, now + 180),
            None,
        )
        .await
        .unwrap();
    s.clock.advance_ms(179_000);
    assert!(
        s.store
            .get(&key("I#demo#T#1", "LOCK"))
            .await
            .unwrap()
            .is_some()
    );
    s.clock.advance_ms(1_000);
    assert!(
        s.store
            .get(&key("I#demo#T#1", "LOCK"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn an_expired_item_counts_as_absent_for_conditions(s: &Subject) {
    let now = s.now();
    s.store
        .put(
            item("I#demo#T#1", "LOCK")
                .with("holder", "a1")
                .with(TTL, now - 5),
            None,
        )
        .await
        .unwrap();
    // Another agent can take an expired lock ...
    s.store
        .put(
            item("I#demo#T#1", "LOCK")
                .with("holder", "a2")
                .with(TTL, now + 180),
            Some(Condition::Absent),
        )
        .await
        .unwrap();
    // ... and conditions see only the live item.
    let err = s
        .store
        .delete(
            &key("I#demo#T#1", "LOCK"),
            Some(Condition::equals("holder", "a1")),
        )
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConditionFailed);
    s.store
        .put(
            item("I#demo#T#2", "LOCK")
                .with("holder", "a1")
                .with(TTL, now - 5),
            None,
        )
        .await
        .unwrap();
    let err = s
        .store
        .update(
            Update::new(key("I#demo#T#2", "LOCK"))
                .set(TTL, now + 60)
                .when(Condition::equals("holder", "a1")),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::ConditionFailed,
        "an expired lock was renewed"
    );
}

pub async fn an_expired_item_in_a_page_does_not_shorten_pagination(s: &Subject) {
    let now = s.now();
    put_all(
        s,
        (0..12).map(|n| {
            let it = item("X", &format!("{n:02}"));
            if n % 3 == 0 {
                it.with(TTL, now - 1)
            } else {
                it
            }
        }),
    )
    .await;
    let page = s.store.query(&Query::table("X").limit(4)).await.unwrap();
    assert_eq!(sks(&page.items), vec!["01", "02", "04", "05"]);
    let (seen, _) = all_pages(s, Query::table("X").limit(3)).await;
    assert_eq!(seen, vec!["01", "02", "04", "05", "07", "08", "10", "11"]);
}

// --------------------------------------------------------------- bad input

pub async fn an_item_over_400_kb_is_refused_and_nothing_is_written(s: &Subject) {
    let big = "x".repeat(MAX_ITEM_BYTES);
    let err = s
        .store
        .put(item("p", "big").with("body", big.clone()), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::ItemTooLarge { limit, .. } if limit == MAX_ITEM_BYTES),
        "{err:?}"
    );
    assert_eq!(err.code(), "item_too_large");
    assert_eq!(s.store.get(&key("p", "big")).await.unwrap(), None);

    let err = s
        .store
        .transact(vec![
            WriteOp::Put {
                item: item("p", "small"),
                condition: None,
            },
            WriteOp::Put {
                item: item("p", "big").with("body", big),
                condition: None,
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ItemTooLarge { .. }), "{err:?}");
    assert_eq!(s.store.get(&key("p", "small")).await.unwrap(), None);
}

pub async fn an_item_just_under_400_kb_round_trips(s: &Subject) {
    // "pk" + "p" + "sk" + "s" + "body" = 10 bytes of names and keys.
    let body = "y".repeat(MAX_ITEM_BYTES - 10);
    let it = item("p", "s").with("body", body);
    s.store.put(it.clone(), None).await.unwrap();
    assert_eq!(s.store.get(&key("p", "s")).await.unwrap(), Some(it));
}

pub async fn an_update_growing_an_item_past_400_kb_is_refused_and_changes_nothing(s: &Subject) {
    let it = item("p", "s")
        .with("a", "x".repeat(300 * 1024))
        .with("v", 1);
    s.store.put(it.clone(), None).await.unwrap();
    let err = s
        .store
        .update(
            Update::new(key("p", "s"))
                .set("b", "y".repeat(200 * 1024))
                .add("v", 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ItemTooLarge { .. }), "{err:?}");
    assert_eq!(s.store.get(&key("p", "s")).await.unwrap(), Some(it));
}

pub async fn empty_keys_are_refused_by_every_operation(s: &Subject) {
    let is_invalid_key = |r: Result<(), StoreError>| {
        let err = r.unwrap_err();
        assert!(matches!(err, StoreError::InvalidKey(_)), "{err:?}");
        assert_eq!(err.code(), "invalid_key");
    };
    is_invalid_key(s.store.put(item("", "s"), None).await);
    is_invalid_key(s.store.put(item("p", ""), None).await);
    is_invalid_key(s.store.get(&key("", "s")).await.map(drop));
    is_invalid_key(s.store.delete(&key("p", ""), None).await);
    is_invalid_key(
        s.store
            .update(Update::new(key("", "s")).add("n", 1))
            .await
            .map(drop),
    );
    is_invalid_key(s.store.query(&Query::table("")).await.map(drop));
    is_invalid_key(s.store.batch_get(&[key("p", "")]).await.map(drop));
    is_invalid_key(
        s.store
            .transact(vec![WriteOp::Delete {
                key: key("", "x"),
                condition: None,
            }])
            .await,
    );
    // Index keys too: an empty or non-string index key is refused.
    is_invalid_key(s.store.put(item("p", "s").with("gsi1pk", ""), None).await);
    is_invalid_key(s.store.put(item("p", "s").with("gsi2sk", 7), None).await);
    is_invalid_key(
        s.store
            .update(Update::new(key("p", "s")).set("gsi1pk", ""))
            .await
            .map(drop),
    );
    // An over-long key.
    is_invalid_key(s.store.put(item("p", &"k".repeat(1025)), None).await);
    assert!(
        s.store
            .query(&Query::table("p"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// The cases, in the order `store_conformance!` runs them.
#[macro_export]
macro_rules! store_conformance {
    ($make:path) => {
        $crate::store_conformance!(@cases $make;
            get_returns_the_item_put_with_every_value_type,
            get_of_a_missing_item_is_none,
            put_replaces_the_whole_item,
            put_if_absent_refuses_an_existing_item,
            put_if_version_equals_gives_optimistic_concurrency,
            conditions_on_a_missing_item_fail,
            equals_compares_type_and_value,
            update_sets_adds_and_removes_and_returns_the_new_item,
            update_of_a_missing_item_creates_it_and_counts_from_zero,
            update_with_a_failed_condition_changes_nothing,
            concurrent_counter_updates_are_never_lost,
            add_to_a_non_number_is_refused,
            update_cannot_change_the_key_or_name_an_attribute_twice,
            delete_removes_the_item_and_is_idempotent,
            conditional_delete_refuses_when_the_condition_fails,
            batch_get_returns_items_in_the_order_asked_with_gaps,
            batch_get_of_100_keys_works_and_of_101_is_refused,
            query_filters_by_every_sort_key_condition,
            query_orders_by_bytes_ascending_and_descending,
            query_pages_cover_the_partition_exactly_once,
            query_of_an_empty_partition_is_an_empty_page,
            query_limits_out_of_range_are_refused,
            index_query_finds_items_by_their_index_keys,
            index_pages_cover_the_index_partition_exactly_once,
            indexes_follow_updates_of_their_key_attributes,
            cursors_that_were_altered_or_reused_elsewhere_are_refused,
            transaction_applies_every_operation,
            transaction_with_failed_conditions_writes_nothing_and_names_them,
            transaction_of_100_operations_works_and_of_101_is_refused,
            transaction_touching_an_item_twice_is_refused,
            concurrent_transactions_on_one_version_let_exactly_one_win,
            expired_items_are_gone_for_every_read,
            items_expire_when_the_clock_passes_their_ttl,
            an_expired_item_counts_as_absent_for_conditions,
            an_expired_item_in_a_page_does_not_shorten_pagination,
            an_item_over_400_kb_is_refused_and_nothing_is_written,
            an_item_just_under_400_kb_round_trips,
            an_update_growing_an_item_past_400_kb_is_refused_and_changes_nothing,
            empty_keys_are_refused_by_every_operation
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let subject = $make().await;
                $crate::store_suite::$case(&subject).await;
            }
        )*
    };
}

/// A clock for a subject, at [`START_MS`].
#[must_use]
pub fn suite_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_ms(START_MS))
}
