//! The `inbound-mail` Lambda function on the emulator: SES's receipt event
//! (the committed fixture) and the raw message in an S3 bucket become a
//! ticket in DynamoDB; delivered twice it changes nothing; a message gone
//! from the bucket and a message SES found a virus in are reported, not
//! retried; an unreadable bucket asks Lambda to retry; the auto-response
//! leaves through the emulator's SES (read back from `/moto-api/data.json`).

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;
use taquilla_aws::{DynamoStore, S3Blobs, SesMailer};
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{EntryKind, InstanceId};
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_core::services::tickets::{self, QueueFilter};
use taquilla_core::services::{Actor, Ctx, provision, users};
use taquilla_lambda::config::InboundSource;
use taquilla_lambda::inbound_mail::{self, InboundDeps, Outbound, SimpleEmailEvent, Summary};
use taquilla_mail::pipeline::Outcome;
use taquilla_mail::reply_token::ReplyTokens;
use taquilla_tests::moto;

const FIXTURE_EVENT: &str = include_str!("../fixtures/ses/receipt.json");
const FIXTURE_MESSAGE: &[u8] = include_bytes!("../fixtures/ses/message.eml");
/// The fixture's SES messageId.
const MESSAGE_ID: &str = "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1";
/// The receipt rule's object key prefix in these tests.
const PREFIX: &str = "inbound/";

/// A deployment on the emulator: a fresh table with the demo instance, an
/// attachments bucket and an inbound bucket, and the function's deps.
struct Deployment {
    deps: InboundDeps,
    store: Arc<DynamoStore>,
    blobs: Arc<S3Blobs>,
    clock: Arc<dyn Clock>,
    s3: aws_sdk_s3::Client,
}

async fn deployment() -> Deployment {
    let emulator = moto::moto();
    let settings = taquilla_aws::AwsSettings {
        region: moto::REGION.to_owned(),
        endpoint_url: Some(emulator.endpoint.clone()),
        static_credentials: Some((
            moto::ACCESS_KEY_ID.to_owned(),
            moto::SECRET_ACCESS_KEY.to_owned(),
        )),
    };
    let config = taquilla_aws::sdk_config(&settings).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        moto::unique_name("ses"),
    )
    .with_clock(clock.clone());
    store.ensure_table().await.unwrap();
    provision::ensure_demo(&store, clock.as_ref())
        .await
        .unwrap();
    let s3 = taquilla_lambda::config::s3_client(&config);
    let blobs = S3Blobs::new(s3.clone(), moto::unique_name("files"), "attachments/");
    blobs.ensure_bucket().await.unwrap();
    let inbound = moto::unique_name("inbound");
    S3Blobs::new(s3.clone(), inbound.clone(), "")
        .ensure_bucket()
        .await
        .unwrap();
    // The demo instance's mailboxes may send (moto keeps identities for
    // the life of the process: a second creation is refused, harmlessly).
    let ses = aws_sdk_sesv2::Client::new(&config);
    let _ = ses
        .create_email_identity()
        .email_identity("demo.taquilla.test")
        .send()
        .await;
    let store = Arc::new(store);
    let blobs = Arc::new(blobs);
    let master = MasterKey::generate().unwrap();
    let deps = InboundDeps {
        store: store.clone(),
        blobs: blobs.clone(),
        clock: clock.clone(),
        s3: s3.clone(),
        source: InboundSource {
            bucket: inbound,
            prefix: PREFIX.to_owned(),
        },
        tokens: ReplyTokens::new(master.derive(Purpose::ReplyTokens)),
        outbound: Some(Outbound {
            mailer: Arc::new(SesMailer::new(ses)),
            public_url: "https://help.example.edu".to_owned(),
        }),
    };
    Deployment {
        deps,
        store,
        blobs,
        clock,
        s3,
    }
}

impl Deployment {
    /// Stores `raw` as SES would for `message_id`.
    async fn receive(&self, message_id: &str, raw: &[u8]) {
        self.s3
            .put_object()
            .bucket(&self.deps.source.bucket)
            .key(format!("{PREFIX}{message_id}"))
            .body(ByteStream::from(raw.to_vec()))
            .send()
            .await
            .unwrap();
    }

    async fn handle(&self, event: SimpleEmailEvent) -> Summary {
        inbound_mail::handle(&self.deps, event).await.unwrap()
    }

    fn ctx<'a>(&'a self, demo: &'a InstanceId) -> Ctx<'a> {
        Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: self.clock.as_ref(),
            instance: demo,
        }
    }

    /// The demo instance's open tickets.
    async fn open_tickets(&self) -> Vec<taquilla_core::domain::Ticket> {
        let demo = InstanceId::parse("demo").unwrap();
        tickets::queue(&self.ctx(&demo), &system(), &QueueFilter::default())
            .await
            .unwrap()
            .items
    }
}

fn system() -> Actor {
    Actor::System("test".into())
}

/// The fixture event, with `edit` applied to its JSON first.
fn event(edit: impl FnOnce(&mut Value)) -> SimpleEmailEvent {
    let mut json: Value = serde_json::from_str(FIXTURE_EVENT).unwrap();
    edit(&mut json);
    serde_json::from_value(json).unwrap()
}

fn ses(json: &mut Value) -> &mut Value {
    &mut json["Records"][0]["ses"]
}

/// The one outcome of a one-message, one-desk summary.
fn outcome(summary: &Summary) -> &Outcome {
    assert_eq!(summary.messages.len(), 1, "{summary:?}");
    let deliveries = &summary.messages[0].deliveries;
    assert_eq!(deliveries.len(), 1, "{summary:?}");
    assert_eq!(deliveries[0].instance, "demo");
    &deliveries[0].outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_event_opens_a_ticket_once_however_often_it_comes() {
    let d = deployment().await;
    d.receive(MESSAGE_ID, FIXTURE_MESSAGE).await;

    let summary = d.handle(event(|_| {})).await;
    let Outcome::Opened { number, .. } = outcome(&summary).clone() else {
        panic!("{summary:?}");
    };
    assert_eq!(summary.messages[0].message_id, MESSAGE_ID);
    assert_eq!(
        summary.messages[0].deliveries[0].recipients,
        vec!["support@demo.taquilla.test"]
    );

    let demo = InstanceId::parse("demo").unwrap();
    let ctx = d.ctx(&demo);
    let ticket = tickets::by_number(&ctx, &system(), &number).await.unwrap();
    assert_eq!(ticket.subject, "Cannot log in to the virtual campus");
    let user = users::get(&ctx, &ticket.user).await.unwrap();
    assert_eq!(user.name, "Núria Puig");
    assert_eq!(user.emails, vec!["nuria.puig@example.edu"]);
    let thread = tickets::thread(&ctx, &system(), &ticket.id, None, 100)
        .await
        .unwrap();
    let message = thread
        .items
        .iter()
        .find(|e| e.kind == EntryKind::Message)
        .unwrap();
    assert!(
        message
            .body_text
            .contains("the virtual campus answers \"invalid credentials\""),
        "{}",
        message.body_text
    );
    assert!(message.body_text.contains("My user is npuig."));

    let again = d.handle(event(|_| {})).await;
    assert_eq!(
        outcome(&again),
        &Outcome::Duplicate {
            ticket: number.clone()
        }
    );
    let open = d.open_tickets().await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].number, number);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_gone_from_the_bucket_is_reported_not_retried() {
    let d = deployment().await;
    let summary = d
        .handle(event(|json| {
            ses(json)["mail"]["messageId"] = "never0stored0in0the0bucket".into();
        }))
        .await;
    let report = &summary.messages[0];
    assert!(report.deliveries.is_empty(), "{summary:?}");
    let failure = report.failure.as_ref().unwrap();
    assert_eq!(failure.code, "mail_object_missing");
    assert!(
        failure
            .reason
            .contains("inbound/never0stored0in0the0bucket")
    );
    assert!(d.open_tickets().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virus_verdict_in_the_receipt_refuses_the_message() {
    let d = deployment().await;
    // The stored message says PASS in its own headers; the receipt wins.
    d.receive(MESSAGE_ID, FIXTURE_MESSAGE).await;
    let summary = d
        .handle(event(|json| {
            ses(json)["receipt"]["virusVerdict"]["status"] = "FAIL".into();
        }))
        .await;
    assert!(
        matches!(outcome(&summary), Outcome::Rejected { code, .. } if *code == "mail_virus"),
        "{summary:?}"
    );
    assert!(d.open_tickets().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_of_no_help_desk_are_skipped_and_the_others_served() {
    let d = deployment().await;
    d.receive(MESSAGE_ID, FIXTURE_MESSAGE).await;
    let summary = d
        .handle(event(|json| {
            ses(json)["receipt"]["recipients"] =
                serde_json::json!(["someone@elsewhere.test", "support@demo.taquilla.test"]);
        }))
        .await;
    assert_eq!(summary.messages[0].skipped, vec!["someone@elsewhere.test"]);
    assert!(matches!(outcome(&summary), Outcome::Opened { .. }));

    let nobody = d
        .handle(event(|json| {
            ses(json)["receipt"]["recipients"] = serde_json::json!(["someone@elsewhere.test"]);
        }))
        .await;
    assert!(nobody.messages[0].deliveries.is_empty());
    assert_eq!(nobody.messages[0].failure, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_inbound_bucket_asks_lambda_to_retry() {
    let mut d = deployment().await;
    d.deps.source.bucket = moto::unique_name("no-such-bucket");
    let error = inbound_mail::handle(&d.deps, event(|_| {}))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "inbound_unavailable");
    assert!(error.to_string().contains(MESSAGE_ID), "{error}");
    assert!(d.open_tickets().await.is_empty());
}

/// The raw messages the emulator's SES recorded as sent to `address`.
async fn sent_to(address: &str) -> Vec<String> {
    let url = format!("{}/moto-api/data.json", moto::moto().endpoint);
    let body = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    let data: Value = serde_json::from_slice(&body).unwrap();
    data["ses"]["RawMessage"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m["destinations"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d == address))
        })
        .map(|m| m["raw_data"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auto_response_leaves_through_ses_once() {
    let d = deployment().await;
    // A sender of this test alone, so the emulator's record is ours.
    let sender = format!("{}@example.edu", moto::unique_name("nuria"));
    let raw = String::from_utf8(FIXTURE_MESSAGE.to_vec())
        .unwrap()
        .replace("nuria.puig@example.edu", &sender);
    d.receive(MESSAGE_ID, raw.as_bytes()).await;

    let summary = d.handle(event(|_| {})).await;
    let Outcome::Opened { number, .. } = outcome(&summary).clone() else {
        panic!("{summary:?}");
    };
    let report = summary.messages[0].deliveries[0].mail.unwrap();
    assert!(report.sent >= 1 && report.failed == 0, "{report:?}");
    let sent = sent_to(&sender).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let mail = &sent[0];
    assert!(mail.contains(&format!("[#{number}]")), "{mail}");
    assert!(mail.contains("support@demo.taquilla.test"), "{mail}");
    assert!(mail.contains("Auto-Submitted: auto-replied"), "{mail}");

    // Delivered again: a duplicate, and nothing more is sent.
    let again = d.handle(event(|_| {})).await;
    assert!(matches!(outcome(&again), Outcome::Duplicate { .. }));
    assert_eq!(sent_to(&sender).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spam_verdict_in_the_receipt_opens_a_ticket_that_gets_no_auto_response() {
    let d = deployment().await;
    let sender = format!("{}@example.edu", moto::unique_name("spam"));
    let raw = String::from_utf8(FIXTURE_MESSAGE.to_vec())
        .unwrap()
        .replace("nuria.puig@example.edu", &sender);
    d.receive(MESSAGE_ID, raw.as_bytes()).await;
    // The demo instance flags spam rather than refusing it.
    let summary = d
        .handle(event(|json| {
            ses(json)["receipt"]["spamVerdict"]["status"] = "FAIL".into();
        }))
        .await;
    assert!(
        matches!(outcome(&summary), Outcome::Opened { .. }),
        "{summary:?}"
    );
    assert_eq!(d.open_tickets().await.len(), 1);
    assert!(sent_to(&sender).await.is_empty());
}
