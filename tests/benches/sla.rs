//! `cargo bench -p taquilla-tests --bench sla`: what SLA plans cost.
//!
//! - Due-date computation: `sla::due_times` for a ticket under a plan with
//!   business hours (Mon–Fri 09:00–14:00 and 15:00–17:30 in Madrid, with
//!   holidays), against the same plan counted 24x7 (the baseline), per call.
//! - The escalation tick over 100,000 open tickets of which 100 are due
//!   (SQLite store behind a counting wrapper), against a tick over 100 open
//!   tickets that are all due (the baseline): the store operations and the
//!   time should be the same, because the tick reads the due index up to
//!   now and nothing else. Results go in `docs/performance.md`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use taquilla_core::clock::{Clock, ManualClock};
use taquilla_core::domain::schedule::{Day, Holiday, Opening, Schedule};
use taquilla_core::domain::sla::{self, ClockHistory, Pause};
use taquilla_core::domain::{
    Calendar, DepartmentId, InstanceId, ScheduleId, SlaPlan, SlaPlanId, Source,
};
use taquilla_core::services::admin::departments::DepartmentChanges;
use taquilla_core::services::admin::objects;
use taquilla_core::services::sla::tick;
use taquilla_core::services::tickets::{self, Body, OpenTicket};
use taquilla_core::services::{Actor, Ctx, provision};
use taquilla_local::{FsBlobs, SqliteStore};
use taquilla_tests::counting::{CountingStore, Counts};

/// Open tickets in the large tick.
const OPEN: usize = 100_000;
/// Of which due.
const DUE: usize = 100;
/// Concurrent openers while setting up (group commit keeps it short).
const OPENERS: usize = 32;
/// Calls per due-date case.
const CALLS: u32 = 20_000;
/// 2026-10-19 09:00 in Madrid, a Monday.
const T0: i64 = 1_792_393_200_000;
const MINUTE: i64 = 60_000;

fn office() -> Calendar {
    let weekdays = vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
    Schedule {
        id: ScheduleId(1),
        name: "Office".into(),
        timezone: "Europe/Madrid".into(),
        always_open: false,
        hours: vec![
            Opening {
                days: weekdays.clone(),
                from: "09:00".into(),
                to: "14:00".into(),
            },
            Opening {
                days: weekdays,
                from: "15:00".into(),
                to: "17:30".into(),
            },
        ],
        holidays: ["2026-10-12", "2026-11-01", "2026-12-08", "2026-12-25"]
            .into_iter()
            .map(|d| Holiday {
                date: d.into(),
                until: None,
                name: None,
                hours: None,
            })
            .collect(),
    }
    .calendar()
    .unwrap()
}

fn plan(schedule: Option<ScheduleId>) -> SlaPlan {
    SlaPlan {
        id: SlaPlanId(1),
        name: "Standard".into(),
        first_response_minutes: Some(8 * 60),
        next_response_minutes: Some(16 * 60),
        resolution_minutes: Some(80 * 60),
        schedule,
        pause_statuses: Vec::new(),
        warning_percent: Some(80),
        transient: false,
        overdue_alerts: true,
    }
}

/// Nanoseconds per `due_times` call.
fn per_call(plan: &SlaPlan, calendar: &Calendar) -> f64 {
    let history = ClockHistory {
        created_ms: T0 + 4 * 60 * MINUTE,
        first_response_ms: Some(T0 + 6 * 60 * MINUTE),
        awaiting_since_ms: Some(T0 + 24 * 60 * MINUTE),
        closed_ms: None,
        pauses: vec![Pause {
            from_ms: T0 + 7 * 60 * MINUTE,
            to_ms: Some(T0 + 26 * 60 * MINUTE),
        }],
    };
    let start = Instant::now();
    for i in 0..CALLS {
        let mut h = history.clone();
        h.created_ms += i64::from(i % 977) * MINUTE;
        black_box(sla::due_times(plan, calendar, black_box(&h), T0));
    }
    start.elapsed().as_nanos() as f64 / f64::from(CALLS)
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

    /// The demo instance with a 24x7 plan (first response in an hour) on
    /// its first department, `total` open tickets, `due` of them due at
    /// the moment it returns.
    async fn new(total: usize, due: usize) -> Self {
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
        let system = Actor::System("bench".into());
        let mut quick = plan(None);
        quick.first_response_minutes = Some(60);
        quick.next_response_minutes = None;
        quick.resolution_minutes = None;
        let quick = objects::create(desk.ctx(), &system, quick).await.unwrap();
        let department = objects::get(desk.ctx(), &system, DepartmentId(1))
            .await
            .unwrap();
        objects::update(
            desk.ctx(),
            &system,
            DepartmentId(1),
            DepartmentChanges {
                version: department.version,
                sla: Some(Some(quick.record.id.0)),
                ..DepartmentChanges::default()
            },
        )
        .await
        .unwrap();
        desk.open(due).await;
        desk.clock.set_ms(T0 + 61 * MINUTE);
        desk.open(total - due).await;
        desk
    }

    async fn open(&self, n: usize) {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..OPENERS {
            let (store, blobs, clock) =
                (self.store.clone(), self.blobs.clone(), self.clock.clone());
            let (instance, next) = (self.instance.clone(), next.clone());
            workers.spawn(async move {
                let ctx = Ctx {
                    store: store.as_ref(),
                    blobs: blobs.as_ref(),
                    clock: clock.as_ref(),
                    instance: &instance,
                };
                let actor = Actor::System("bench".into());
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                    tickets::open(&ctx, &actor, request()).await.unwrap();
                }
            });
        }
        while let Some(done) = workers.join_next().await {
            done.unwrap();
        }
    }

    /// One tick at the current time: its report, its store operations and
    /// how long it took.
    async fn tick(&self) -> (tick::TickReport, Counts, Duration) {
        let before = self.store.counts();
        let start = Instant::now();
        let report = tick::tick(&self.ctx()).await.unwrap();
        let took = start.elapsed();
        let after = self.store.counts();
        (report, diff(&after, &before), took)
    }
}

fn request() -> OpenTicket {
    OpenTicket {
        name: "Ada".into(),
        email: "ada@example.org".into(),
        phone: None,
        subject: "Enrolment certificate".into(),
        body: Body::Text("Please send it.".into()),
        topic: None,
        department: None,
        priority: None,
        source: Source::Email,
        fields: std::collections::BTreeMap::new(),
        attachments: Vec::new(),
        collaborators: Vec::new(),
        autorespond: false,
        alert: false,
        ip: None,
    }
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

fn ops(c: &Counts) -> usize {
    c.get + c.batch_get + c.put + c.update + c.delete + c.query + c.transact
}

fn main() {
    println!("due-date computation ({CALLS} calls each)");
    let business = per_call(&plan(Some(ScheduleId(1))), &office());
    let always = per_call(&plan(None), &Calendar::always());
    println!("  24x7 (baseline)        {always:>10.0} ns/call");
    println!(
        "  business hours, Madrid {business:>10.0} ns/call   ratio {:.1}x",
        business / always
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let setup = Instant::now();
        let small = Desk::new(DUE, DUE).await;
        let large = Desk::new(OPEN, DUE).await;
        println!(
            "tick ({DUE} due; set-up of {} tickets took {:.0} s)",
            OPEN + DUE,
            setup.elapsed().as_secs_f64()
        );
        let (base_report, base_ops, base_time) = small.tick().await;
        let (report, counted, time) = large.tick().await;
        assert_eq!(base_report.breaches, DUE);
        assert_eq!(report.breaches, DUE);
        for (name, c, t) in [
            (format!("{DUE} open (baseline)"), &base_ops, base_time),
            (format!("{OPEN} open"), &counted, time),
        ] {
            println!(
                "  {name:<20} {:>5} store ops (query {}, get {}, transact {}, items read {})   {:>8.1} ms",
                ops(c),
                c.query,
                c.get,
                c.transact,
                c.items_read,
                t.as_secs_f64() * 1000.0
            );
        }
        println!(
            "  ratio {OPEN} open / baseline: store ops {:.2}x, time {:.2}x",
            ops(&counted) as f64 / ops(&base_ops) as f64,
            time.as_secs_f64() / base_time.as_secs_f64()
        );
        let (again, again_ops, _) = large.tick().await;
        println!(
            "  second tick: {} due, {} store ops",
            again.due,
            ops(&again_ops)
        );
    });
}
