//! `taquilla sla tick` as an operator runs it: each instance's line says
//! what the tick did, the time rules it fired and the open tickets a time
//! rule's sweep moved included; and `taquilla serve` runs the same tick by
//! itself. The tickets and the rule are written straight into the data
//! directory's store two hours in the past, so the binary, on the real
//! clock, finds them due.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use taquilla_core::clock::{Clock, ManualClock, SystemClock};
use taquilla_core::domain::rules::Rule;
use taquilla_core::domain::{EntryKind, Source};
use taquilla_core::services::admin::objects;
use taquilla_core::services::tickets::{self, Body, OpenTicket};
use taquilla_core::services::{Actor, Ctx};
use taquilla_local::{FsBlobs, SqliteStore};

use common::{demo, demo_id, run, taquilla};

const HOUR: i64 = 3_600_000;

fn request(subject: &str) -> OpenTicket {
    OpenTicket {
        name: "Marta Vidal".into(),
        email: "marta.vidal@example.edu".into(),
        phone: None,
        subject: subject.into(),
        body: Body::Text("My October grades are not on my transcript.".into()),
        topic: None,
        department: None,
        priority: None,
        source: Source::Web,
        fields: BTreeMap::new(),
        attachments: Vec::new(),
        collaborators: Vec::new(),
        autorespond: false,
        alert: false,
        ip: None,
    }
}

/// Writes into the store of `data`, two hours ago: a ticket, then a time
/// rule noting tickets older than an hour, then a second ticket. The
/// first ticket predates the rule (only its sweep reaches it); the second
/// carries the rule's moment from its opening. Returns both numbers.
fn tickets_around_a_time_rule(data: &Path) -> (String, String) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::at_ms(SystemClock.now_ms() - 2 * HOUR));
        let store = SqliteStore::open_with_clock(&data.join("taquilla.db"), clock.clone()).unwrap();
        let blobs = FsBlobs::new(
            data.join("blobs"),
            "http://localhost".to_owned(),
            vec![7; 32],
            clock.clone(),
        );
        let instance = demo_id();
        let ctx = Ctx {
            store: &store,
            blobs: &blobs,
            clock: clock.as_ref(),
            instance: &instance,
        };
        let system = Actor::System("test".into());
        let before = tickets::open(&ctx, &system, request("Before the rule"))
            .await
            .unwrap();
        let rule: Rule = serde_json::from_value(serde_json::json!({
            "name": "Older than an hour",
            "moment": {"on": "time"},
            "conditions": [{"field": "age", "op": "greater_than", "value": "1h"}],
            "actions": [{"do": "add_note", "body": "Open for more than an hour."}],
        }))
        .unwrap();
        objects::create(ctx, &system, rule).await.unwrap();
        let after = tickets::open(&ctx, &system, request("After the rule"))
            .await
            .unwrap();
        (before.number, after.number)
    })
}

/// The counts of the demo's line of `taquilla sla tick --instance demo`.
fn tick(data: &Path) -> BTreeMap<String, usize> {
    let out = run(data, &["sla", "tick", "--instance", "demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("demo\t"))
        .unwrap_or_else(|| panic!("no line for demo in {stdout:?}"));
    line.split('\t')
        .skip(1)
        .map(|pair| {
            let (name, count) = pair.rsplit_once(' ').unwrap();
            (name.to_owned(), count.parse().unwrap())
        })
        .collect()
}

fn notes(data: &Path, number: &str) -> usize {
    let shown = common::ticket_json(data, number);
    shown["thread"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["kind"] == serde_json::to_value(EntryKind::Note).unwrap()
                && e["body_text"]
                    .as_str()
                    .is_some_and(|t| t.contains("more than an hour"))
        })
        .count()
}

#[test]
fn the_tick_says_how_many_time_rules_fired_and_how_many_tickets_its_sweep_moved() {
    let dir = demo();
    let data = dir.path();
    let (before, after) = tickets_around_a_time_rule(data);

    // The ticket opened after the rule is due: the rule fires on it. The
    // sweep the rule's saving started gives the older ticket its moment.
    let first = tick(data);
    assert_eq!(
        (first["due"], first["rules_fired"], first["swept"]),
        (1, 1, 1),
        "{first:?}"
    );
    for name in ["warnings", "breaches", "written", "skipped"] {
        assert!(first.contains_key(name), "{first:?}");
    }
    assert_eq!((notes(data, &before), notes(data, &after)), (0, 1));

    // The older ticket is due now; the sweep is done.
    let second = tick(data);
    assert_eq!(
        (second["rules_fired"], second["swept"]),
        (1, 0),
        "{second:?}"
    );
    assert_eq!((notes(data, &before), notes(data, &after)), (1, 1));

    // Each fired once for its stretch: nothing more.
    let third = tick(data);
    assert_eq!(
        (third["due"], third["rules_fired"], third["swept"]),
        (0, 0, 0),
        "{third:?}"
    );
}

#[test]
fn the_server_runs_the_escalation_tick_by_itself() {
    let dir = demo();
    let data = dir.path();
    let (_, after) = tickets_around_a_time_rule(data);
    let mut server = taquilla(data)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The ticker's first tick comes as the server starts.
    let started = Instant::now();
    let noted = loop {
        if notes(data, &after) == 1 {
            break true;
        }
        if started.elapsed() > Duration::from_secs(30) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = server.kill();
    let _ = server.wait();
    assert!(noted, "the server's tick did not fire the rule within 30 s");
}
