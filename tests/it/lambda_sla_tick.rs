//! The `sla-tick` Lambda function: its binary runs under the local Runtime
//! API (`taquilla_tests::runtime_api`) on a deployment of the emulator
//! (`taquilla_tests::emulated`). The committed EventBridge scheduled event
//! marks overdue, in DynamoDB, the ticket whose first response is an hour
//! late (opened, through the same table, two hours before the function's
//! clock) and records the breach once, leaving a ticket not yet due alone;
//! the same event delivered again changes nothing. A start whose store is
//! not DynamoDB is reported to Lambda as an init error; an event that is no
//! scheduled event is an error answer, and the function serves the next.

use serde_json::{Value, json};
use taquilla_core::clock::{Clock, ManualClock, SystemClock};
use taquilla_core::domain::{DepartmentId, Entry, EntryKind, SlaPlan, SlaPlanId, Source, Ticket};
use taquilla_core::services::admin::departments::DepartmentChanges;
use taquilla_core::services::admin::objects;
use taquilla_core::services::sla::tick::event;
use taquilla_core::services::tickets::{self, Body, OpenTicket};
use taquilla_tests::emulated::{Emulated, set_var, system};
use taquilla_tests::runtime_api::{Answer, json_lines};

const FIXTURE: &str = include_str!("../fixtures/eventbridge/scheduled.json");
const HOUR_MS: i64 = 3_600_000;

/// A deployment whose first department is under a 24x7 plan owing the
/// first response within the hour.
async fn deployment() -> Emulated {
    let e = Emulated::new("sla").await;
    let plan = SlaPlan {
        id: SlaPlanId(1),
        name: "First hour".into(),
        first_response_minutes: Some(60),
        next_response_minutes: None,
        resolution_minutes: None,
        schedule: None,
        pause_statuses: Vec::new(),
        warning_percent: None,
        transient: false,
        overdue_alerts: true,
    };
    let plan = objects::create(e.ctx(), &system(), plan).await.unwrap();
    let department = objects::get(e.ctx(), &system(), DepartmentId(1))
        .await
        .unwrap();
    objects::update(
        e.ctx(),
        &system(),
        DepartmentId(1),
        DepartmentChanges {
            version: department.version,
            sla: Some(Some(plan.record.id.0)),
            ..DepartmentChanges::default()
        },
    )
    .await
    .unwrap();
    e
}

/// A ticket opened `hours_ago` hours before now.
async fn open(e: &Emulated, subject: &str, hours_ago: i64) -> Ticket {
    let then = ManualClock::at_ms(SystemClock.now_ms() - hours_ago * HOUR_MS);
    let request = OpenTicket {
        name: "Marta Vidal".into(),
        email: "marta.vidal@example.edu".into(),
        phone: None,
        subject: subject.into(),
        body: Body::Text("My October grades are not on my transcript.".into()),
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
    };
    tickets::open(&e.ctx_at(&then), &system(), request)
        .await
        .unwrap()
}

async fn reread(e: &Emulated, ticket: &Ticket) -> Ticket {
    tickets::by_number(&e.ctx(), &system(), &ticket.number)
        .await
        .unwrap()
}

async fn breaches(e: &Emulated, ticket: &Ticket) -> usize {
    let thread: Vec<Entry> = tickets::thread(&e.ctx(), &system(), &ticket.id, None, 100)
        .await
        .unwrap()
        .items;
    thread
        .iter()
        .filter(|e| e.kind == EntryKind::Event && e.event.as_deref() == Some(event::BREACHED))
        .count()
}

/// The demo instance's part of a summary.
fn demo(summary: &Value) -> &Value {
    summary["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["instance"] == "demo")
        .unwrap_or_else(|| panic!("no demo in {summary}"))
}

fn scheduled() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_event_marks_a_late_ticket_overdue_once() {
    let e = deployment().await;
    let fresh = open(&e, "Grades missing from the transcript", 0).await;
    let function = e.start("sla-tick").await;

    // Nothing is due yet: the event finds nothing to do.
    let early = function.invoke(scheduled()).await.answer.unwrap();
    assert_eq!(demo(&early)["written"], 0, "{early}");
    assert!(!reread(&e, &fresh).await.overdue);

    let late = open(&e, "Certificate of enrolment not received", 2).await;
    let invocation = function.invoke(scheduled()).await;
    let summary = invocation.answer.unwrap();
    let tick = demo(&summary);
    assert_eq!(
        (&tick["due"], &tick["breaches"], &tick["written"]),
        (&json!(1), &json!(1), &json!(1)),
        "{summary}"
    );
    assert!(tick["mail"].is_object(), "pending mail was sent: {summary}");
    let ticket = reread(&e, &late).await;
    assert!(ticket.overdue, "{ticket:?}");
    assert_eq!(breaches(&e, &ticket).await, 1);
    assert!(!reread(&e, &fresh).await.overdue);
    let lines = json_lines(&function.logs());
    assert!(
        lines
            .iter()
            .any(|l| l["requestId"] == invocation.request_id.as_str()),
        "{lines:?}"
    );

    // The same event again (a retry, a doubled delivery): nothing changes.
    let again = function.invoke(scheduled()).await.answer.unwrap();
    let tick = demo(&again);
    assert_eq!(
        (&tick["written"], &tick["breaches"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(tick["mail"]["sent"], 0, "{again}");
    let after = reread(&e, &late).await;
    assert_eq!(after.version, ticket.version);
    assert!(after.overdue);
    assert_eq!(breaches(&e, &ticket).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_on_a_local_store_is_an_init_error_that_names_it() {
    let e = Emulated::new("sla").await;
    let mut env = e.env();
    set_var(
        &mut env,
        "TAQUILLA_STORE",
        Some("sqlite:///tmp/taquilla.db"),
    );
    let function = e.start_with("sla-tick", &env).await;
    let message = function.expect_init_error(scheduled()).await;
    assert!(message.contains("TAQUILLA_STORE"), "{message}");
    assert!(message.contains("dynamodb://"), "{message}");
    // The process is gone, and every later invocation gets the same.
    let again = function.invoke(scheduled()).await.answer;
    assert_eq!(Some(again), function.init_error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_is_no_scheduled_event_is_an_error_and_the_next_is_served() {
    let e = deployment().await;
    let function = e.start("sla-tick").await;
    let answer = function.invoke(json!("tick, please")).await.answer;
    let Answer::Error { message, .. } = &answer else {
        panic!("{answer:?}");
    };
    assert!(message.contains("deserialize"), "{message}");
    let next = function.invoke(scheduled()).await.answer.unwrap();
    assert_eq!(demo(&next)["written"], 0, "{next}");
    assert_eq!(function.exit_status(), None);
}
