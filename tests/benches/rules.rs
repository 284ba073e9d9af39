//! `cargo bench -p taquilla-tests --bench rules`: what rules cost.
//!
//! - Evaluation: 50 creation rules (each a domain test and a
//!   case-insensitive regex on the subject, the last one matching) on one
//!   ticket with its mail headers, against evaluating 1 such rule and
//!   against a plain loop of 50 lower-cased `contains` on the subject (the
//!   baselines), per evaluation.
//! - Replay of a rule over the 100,000 tickets opened in the window (SQLite
//!   store behind a counting wrapper): a rule on the subject and priority
//!   (the department queues alone), and one on the body too (a read of each
//!   ticket's first message), against reading the same index pages and
//!   counting them (the baseline). Results go in `docs/performance.md`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use taquilla_core::clock::{Clock, ManualClock};
use taquilla_core::domain::rules::{
    CompiledRule, Happening, Rule, RuleId, TicketView, evaluate, prepare,
};
use taquilla_core::domain::{DepartmentId, InstanceId, Source, State, Ticket};
use taquilla_core::keys;
use taquilla_core::services::rules::replay;
use taquilla_core::services::tickets::{self, Body, OpenTicket};
use taquilla_core::services::{Actor, Ctx, provision};
use taquilla_core::store::{Index, MAX_QUERY_LIMIT, Query, SkCondition};
use taquilla_local::{FsBlobs, SqliteStore};
use taquilla_tests::counting::{CountingStore, Counts};

/// Rules in the evaluation.
const RULES: usize = 50;
/// How long each evaluation case runs.
const RUN: Duration = Duration::from_millis(1_500);
/// Tickets the replay reads.
const TICKETS: usize = 100_000;
/// Concurrent openers while setting up.
const OPENERS: usize = 8;
const T0: i64 = 1_800_000_000_000;

fn rules(n: usize) -> Vec<CompiledRule> {
    let rules = (0..n)
        .map(|i| {
            let word = if i + 1 == n { "vpn".to_owned() } else { format!("word{i}") };
            let mut rule: Rule = serde_json::from_value(json!({
                "name": format!("rule {i}"),
                "order": i,
                "moment": {"on": "creation", "sources": ["email"]},
                "conditions": [
                    {"field": "domain", "op": "ends_with", "value": if i + 1 == n { "uni.example".to_owned() } else { format!("dept{i}.example") }},
                    {"field": "subject", "op": "matches", "value": format!("(?i)\\b{word}\\b")},
                ],
                "actions": [{"do": "set_priority", "priority": 1}, {"do": "assign_agent", "agent": 1}],
            }))
            .unwrap();
            rule.id = RuleId(u32::try_from(i).unwrap() + 1);
            rule
        })
        .collect();
    let (ready, broken) = prepare(rules);
    assert!(broken.is_empty());
    ready
}

fn ticket() -> Ticket {
    serde_json::from_value(json!({
        "id": taquilla_core::domain::TicketId::generate(), "number": "100001",
        "subject": "Cannot connect to the VPN from the library",
        "user": taquilla_core::domain::UserId::generate(),
        "source": "email", "department": 1, "priority": 3, "status": 1, "state": "open",
        "created_at": T0, "updated_at": T0, "last_message_at": T0, "version": 1
    }))
    .unwrap()
}

/// Nanoseconds per call of `f`, run for [`RUN`].
fn per_call(mut f: impl FnMut() -> usize) -> f64 {
    let start = Instant::now();
    let mut calls = 0u64;
    let mut sink = 0usize;
    while start.elapsed() < RUN {
        for _ in 0..100 {
            sink = sink.wrapping_add(f());
        }
        calls += 100;
    }
    black_box(sink);
    start.elapsed().as_nanos() as f64 / calls as f64
}

fn evaluation() {
    let t = ticket();
    let headers = vec![
        ("Received".to_owned(), "from mx.uni.example".to_owned()),
        ("X-Spam-Flag".to_owned(), "NO".to_owned()),
        ("Message-ID".to_owned(), "<a@uni.example>".to_owned()),
    ];
    let body = "Since this morning the VPN client says the certificate expired.";
    let mut view = TicketView::of(&t, "ana@uni.example", "Ana", body, T0);
    view.headers = &headers;
    let happening = Happening::Creation {
        source: Source::Email,
        mailbox: Some("support@uni.example"),
    };
    let all = rules(RULES);
    let one = rules(1);
    assert_eq!(evaluate(&all, happening, &view).fired.len(), 1);
    let words: Vec<String> = (0..RULES).map(|i| format!("word{i}")).collect();
    let compare = per_call(|| {
        let subject = black_box(view.subject).to_lowercase();
        words
            .iter()
            .filter(|w| subject.contains(w.as_str()))
            .count()
    });
    let single = per_call(|| {
        evaluate(black_box(&one), happening, black_box(&view))
            .fired
            .len()
    });
    let fifty = per_call(|| {
        evaluate(black_box(&all), happening, black_box(&view))
            .fired
            .len()
    });
    println!("evaluation of rules on one ticket");
    println!("  {RULES} lower-cased contains (baseline) {compare:>9.0} ns");
    println!("  1 rule (baseline)                  {single:>9.0} ns");
    println!(
        "  {RULES} rules                           {fifty:>9.0} ns   {:.1}x one rule, {:.1}x the string loop",
        fifty / single,
        fifty / compare
    );
}

struct Desk {
    store: Arc<CountingStore>,
    blobs: Arc<FsBlobs>,
    clock: Arc<ManualClock>,
    instance: InstanceId,
    _dir: tempfile::TempDir,
}

impl Desk {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: self.clock.as_ref(),
            instance: &self.instance,
        }
    }

    async fn new(total: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::at_ms(T0));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let sqlite = Arc::new(
            SqliteStore::open_with_clock(&dir.path().join("t.db"), dyn_clock.clone()).unwrap(),
        );
        let store = Arc::new(CountingStore::new(sqlite));
        let blobs = Arc::new(FsBlobs::new(
            dir.path().join("blobs"),
            "http://127.0.0.1:9".into(),
            b"bench key".to_vec(),
            dyn_clock,
        ));
        provision::ensure_demo(store.as_ref(), clock.as_ref())
            .await
            .unwrap()
            .unwrap();
        let desk = Self {
            store,
            blobs,
            clock,
            instance: InstanceId::parse("demo").unwrap(),
            _dir: dir,
        };
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..OPENERS {
            let (store, blobs, clock) =
                (desk.store.clone(), desk.blobs.clone(), desk.clock.clone());
            let (instance, next) = (desk.instance.clone(), next.clone());
            workers.spawn(async move {
                let ctx = Ctx {
                    store: store.as_ref(),
                    blobs: blobs.as_ref(),
                    clock: clock.as_ref(),
                    instance: &instance,
                };
                let actor = Actor::System("bench".into());
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    tickets::open(&ctx, &actor, request(n)).await.unwrap();
                }
            });
        }
        while let Some(done) = workers.join_next().await {
            done.unwrap();
        }
        desk.clock.set_ms(T0 + 3_600_000);
        desk
    }

    /// The baseline: the same department queues read from the window's
    /// start, page by page, counting the items.
    async fn read_index(&self, since: i64) -> usize {
        let mut n = 0;
        for department in [1, 2] {
            for state in [State::Open, State::Closed, State::Archived] {
                let mut query = Query::index(
                    Index::Gsi1,
                    keys::queue::department(&self.instance, DepartmentId(department), state),
                )
                .sk(SkCondition::Ge(format!("{since:013}")))
                .limit(MAX_QUERY_LIMIT);
                loop {
                    let page = self.ctx().store.query(&query).await.unwrap();
                    n += page.items.len();
                    match page.cursor {
                        Some(cursor) => query.cursor = Some(cursor),
                        None => break,
                    }
                }
            }
        }
        n
    }
}

/// Every tenth ticket is about a printer.
fn request(n: usize) -> OpenTicket {
    let printer = n.is_multiple_of(10);
    OpenTicket {
        name: "Ada".into(),
        email: format!("user{}@uni.example", n % 1_000),
        phone: None,
        subject: if printer {
            "Printer jam".into()
        } else {
            "Enrolment certificate".into()
        },
        body: Body::Text(if printer {
            "Paper stuck again".into()
        } else {
            "Please send it.".into()
        }),
        topic: None,
        department: None,
        priority: None,
        source: Source::Web,
        fields: std::collections::BTreeMap::new(),
        attachments: Vec::new(),
        collaborators: Vec::new(),
        autorespond: false,
        alert: false,
        ip: None,
    }
}

fn rule(body_too: bool) -> Rule {
    let mut conditions = vec![
        json!({"field": "subject", "op": "contains", "value": "printer"}),
        json!({"field": "priority", "op": "equals", "value": "3"}),
    ];
    if body_too {
        conditions.push(json!({"field": "body", "op": "matches", "value": "(?i)stuck"}));
    }
    serde_json::from_value(json!({
        "name": "printers", "moment": {"on": "creation"}, "conditions": conditions,
        "actions": [{"do": "set_department", "department": 2}],
    }))
    .unwrap()
}

fn diff(a: &Counts, b: &Counts) -> Counts {
    Counts {
        get: a.get - b.get,
        batch_get: a.batch_get - b.batch_get,
        put: a.put - b.put,
        update: a.update - b.update,
        delete: a.delete - b.delete,
        query: a.query - b.query,
        transact: a.transact - b.transact,
        items_read: a.items_read - b.items_read,
    }
}

fn main() {
    evaluation();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let setup = Instant::now();
        let desk = Desk::new(TICKETS).await;
        println!(
            "replay over {TICKETS} tickets (set-up took {:.0} s)",
            setup.elapsed().as_secs_f64()
        );
        let system = Actor::System("bench".into());
        let since = desk.clock.now_ms() - 86_400_000;
        let start = Instant::now();
        let read = desk.read_index(since).await;
        let base = start.elapsed();
        assert_eq!(read, TICKETS);
        println!(
            "  index pages read and counted (baseline) {:>8.0} ms   {:>9.0} tickets/s",
            base.as_secs_f64() * 1e3,
            TICKETS as f64 / base.as_secs_f64()
        );
        for (name, body_too) in [("subject and priority", false), ("and the body", true)] {
            let before = desk.store.counts();
            let start = Instant::now();
            let report = replay::replay(&desk.ctx(), &system, rule(body_too), 1)
                .await
                .unwrap();
            let took = start.elapsed();
            let c = diff(&desk.store.counts(), &before);
            assert_eq!((report.examined, report.matched), (TICKETS, TICKETS / 10));
            println!(
                "  replay, {name:<21} {:>8.0} ms   {:>9.0} tickets/s   {:.1}x the baseline   ({} queries, {} gets, {} writes)",
                took.as_secs_f64() * 1e3,
                TICKETS as f64 / took.as_secs_f64(),
                took.as_secs_f64() / base.as_secs_f64(),
                c.query,
                c.get + c.batch_get,
                c.put + c.update + c.delete + c.transact
            );
        }
    });
}
