//! The `sla-tick` Lambda function on the emulator: the committed
//! EventBridge scheduled event, handled when a ticket's first response is
//! an hour late (on a clock the test moves), marks that ticket overdue in
//! DynamoDB and records the breach once; the same event delivered again
//! changes nothing.

use std::sync::Arc;

use taquilla_aws::{DynamoStore, S3Blobs, SesMailer};
use taquilla_core::clock::{Clock, ManualClock};
use taquilla_core::domain::{DepartmentId, EntryKind, InstanceId, SlaPlan, SlaPlanId, Source};
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_core::services::admin::departments::DepartmentChanges;
use taquilla_core::services::admin::objects;
use taquilla_core::services::sla::tick::event;
use taquilla_core::services::tickets::{self, Body, OpenTicket};
use taquilla_core::services::{Actor, Ctx, provision};
use taquilla_lambda::inbound_mail::Outbound;
use taquilla_lambda::sla_tick::{self, EventBridgeEvent, TickDeps};
use taquilla_mail::reply_token::ReplyTokens;
use taquilla_tests::moto;

const FIXTURE: &str = include_str!("../fixtures/eventbridge/scheduled.json");
/// 2026-10-19 09:00 in Madrid, a Monday.
const T0: i64 = 1_792_393_200_000;
const MINUTE: i64 = 60_000;

struct Deployment {
    deps: TickDeps,
    store: Arc<DynamoStore>,
    blobs: Arc<S3Blobs>,
    clock: Arc<ManualClock>,
    demo: InstanceId,
}

impl Deployment {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: self.clock.as_ref(),
            instance: &self.demo,
        }
    }
}

fn system() -> Actor {
    Actor::System("test".into())
}

/// The demo instance on a fresh table, its first department under a 24x7
/// plan owing the first response within the hour.
async fn deployment() -> Deployment {
    let emulator = moto::moto();
    let sdk = taquilla_aws::sdk_config(&taquilla_aws::AwsSettings {
        region: moto::REGION.to_owned(),
        endpoint_url: Some(emulator.endpoint.clone()),
        static_credentials: Some((
            moto::ACCESS_KEY_ID.to_owned(),
            moto::SECRET_ACCESS_KEY.to_owned(),
        )),
    })
    .await;
    let clock = Arc::new(ManualClock::at_ms(T0));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        moto::unique_name("sla"),
    )
    .with_clock(dyn_clock.clone());
    store.ensure_table().await.unwrap();
    provision::ensure_demo(&store, clock.as_ref())
        .await
        .unwrap();
    let s3 = taquilla_lambda::config::s3_client(&sdk);
    let blobs = S3Blobs::new(s3, moto::unique_name("files"), "attachments/");
    blobs.ensure_bucket().await.unwrap();
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    let _ = ses
        .create_email_identity()
        .email_identity("demo.taquilla.test")
        .send()
        .await;
    let (store, blobs) = (Arc::new(store), Arc::new(blobs));
    let master = MasterKey::generate().unwrap();
    let d = Deployment {
        deps: TickDeps {
            store: store.clone(),
            blobs: blobs.clone(),
            clock: dyn_clock,
            tokens: ReplyTokens::new(master.derive(Purpose::ReplyTokens)),
            outbound: Some(Outbound {
                mailer: Arc::new(SesMailer::new(ses)),
                public_url: "https://help.example.edu".to_owned(),
            }),
        },
        store,
        blobs,
        clock,
        demo: InstanceId::parse("demo").unwrap(),
    };
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
    let plan = objects::create(d.ctx(), &system(), plan).await.unwrap();
    let department = objects::get(d.ctx(), &system(), DepartmentId(1))
        .await
        .unwrap();
    objects::update(
        d.ctx(),
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
    d
}

fn request() -> OpenTicket {
    OpenTicket {
        name: "Marta Vidal".into(),
        email: "marta.vidal@example.edu".into(),
        phone: None,
        subject: "Grades missing from the transcript".into(),
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
    }
}

fn scheduled() -> EventBridgeEvent {
    serde_json::from_str(FIXTURE).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_event_marks_a_late_ticket_overdue_once() {
    let d = deployment().await;
    let opened = tickets::open(&d.ctx(), &system(), request()).await.unwrap();
    let number = opened.number.clone();

    // Nothing is due yet: the event finds nothing to do.
    let early = sla_tick::handle(&d.deps, scheduled()).await.unwrap();
    assert_eq!(early.written(), 0, "{early:?}");
    let ticket = tickets::by_number(&d.ctx(), &system(), &number)
        .await
        .unwrap();
    assert!(!ticket.overdue);

    d.clock.set_ms(T0 + 61 * MINUTE);
    let summary = sla_tick::handle(&d.deps, scheduled()).await.unwrap();
    let demo = summary
        .instances
        .iter()
        .find(|i| i.instance == "demo")
        .unwrap();
    assert_eq!(
        (demo.due, demo.breaches, demo.written),
        (1, 1, 1),
        "{summary:?}"
    );
    assert!(demo.mail.is_some(), "pending mail was sent: {summary:?}");
    let ticket = tickets::by_number(&d.ctx(), &system(), &number)
        .await
        .unwrap();
    assert!(ticket.overdue, "{ticket:?}");
    let breaches = |thread: &[taquilla_core::domain::Entry]| {
        thread
            .iter()
            .filter(|e| e.kind == EntryKind::Event && e.event.as_deref() == Some(event::BREACHED))
            .count()
    };
    let thread = tickets::thread(&d.ctx(), &system(), &ticket.id, None, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(breaches(&thread), 1, "{thread:?}");

    // The same event again (a retry, a doubled delivery): nothing changes.
    let again = sla_tick::handle(&d.deps, scheduled()).await.unwrap();
    assert_eq!(again.written(), 0, "{again:?}");
    let demo = again
        .instances
        .iter()
        .find(|i| i.instance == "demo")
        .unwrap();
    assert_eq!(demo.breaches, 0);
    assert_eq!(demo.mail.map(|m| m.sent), Some(0));
    let after = tickets::by_number(&d.ctx(), &system(), &number)
        .await
        .unwrap();
    assert_eq!(after.version, ticket.version);
    assert!(after.overdue);
    let thread = tickets::thread(&d.ctx(), &system(), &ticket.id, None, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(breaches(&thread), 1);
}
