//! The `api` Lambda function on the emulator: a committed API Gateway v2
//! event (an osTicket client opening a ticket with its API key) goes
//! through `lambda_http`'s adapter, as the Lambda runtime drives it, into
//! the router on DynamoDB and S3, and the ticket is in DynamoDB. API
//! Gateway's `sourceIp` is the address API keys are checked against, not
//! the client's `X-Forwarded-For`. Opening a ticket is not idempotent: the
//! same event delivered again opens a second ticket, and the test says so.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use taquilla_aws::{DynamoStore, S3Blobs, SesMailer};
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{EntryKind, InstanceId, Permission};
use taquilla_core::secrets::MasterKey;
use taquilla_core::services::tickets::{self, QueueFilter};
use taquilla_core::services::{Actor, Ctx, apikeys, provision};
use taquilla_lambda::api::lambda_http::tower::ServiceExt as _;
use taquilla_lambda::api::lambda_http::{Adapter, Context, LambdaEvent};
use taquilla_lambda::api::{self, LambdaRequest};
use taquilla_lambda::config::{self, Adapters};
use taquilla_tests::moto;

const FIXTURE: &str = include_str!("../fixtures/apigw/osticket-create.json");
/// The API key the fixture carries, replaced by a real one.
const FIXTURE_KEY: &str = "tq_demo_FIXTURE_KEY";

/// The function on a fresh table and bucket of the emulator, with the demo
/// instance and an API key of it allowed from 198.51.100.0/24.
struct Deployment {
    router: axum::Router,
    store: Arc<DynamoStore>,
    blobs: Arc<S3Blobs>,
    clock: Arc<dyn Clock>,
    key: String,
}

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
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        moto::unique_name("api"),
    )
    .with_clock(clock.clone());
    store.ensure_table().await.unwrap();
    provision::ensure_demo(&store, clock.as_ref())
        .await
        .unwrap();
    let s3 = config::s3_client(&sdk);
    let blobs = S3Blobs::new(s3.clone(), moto::unique_name("files"), "attachments/");
    blobs.ensure_bucket().await.unwrap();
    let (store, blobs) = (Arc::new(store), Arc::new(blobs));
    let adapters = Adapters {
        store: store.clone(),
        blobs: blobs.clone(),
        clock: clock.clone(),
        mailer: Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(&sdk))),
        s3,
    };
    let state = api::app_state(&adapters, &MasterKey::generate().unwrap()).unwrap();
    let permissions: BTreeSet<Permission> = Permission::ALL
        .into_iter()
        .filter(|p| p.as_str().starts_with("ticket."))
        .collect();
    let key = apikeys::create(
        store.as_ref(),
        clock.as_ref(),
        &InstanceId::parse("demo").unwrap(),
        apikeys::NewApiKey {
            networks: vec!["198.51.100.0/24".to_owned()],
            permissions,
            description: Some("osTicket client".to_owned()),
        },
    )
    .await
    .unwrap()
    .key;
    Deployment {
        router: taquilla_web::router(state),
        store,
        blobs,
        clock,
        key,
    }
}

/// The fixture event carrying the deployment's key, with `edit` applied.
fn event(key: &str, edit: impl FnOnce(&mut Value)) -> LambdaRequest {
    let mut json: Value = serde_json::from_str(&FIXTURE.replace(FIXTURE_KEY, key)).unwrap();
    edit(&mut json);
    serde_json::from_value(json).unwrap()
}

impl Deployment {
    /// Invokes the function with `event` as the runtime does; the
    /// response API Gateway would get, as JSON.
    async fn invoke(&self, event: LambdaRequest) -> Value {
        let adapter = Adapter::from(api::service(self.router.clone()));
        let response = adapter
            .oneshot(LambdaEvent::new(event, Context::default()))
            .await
            .unwrap();
        serde_json::to_value(response).unwrap()
    }

    fn ctx<'a>(&'a self, demo: &'a InstanceId) -> Ctx<'a> {
        Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: self.clock.as_ref(),
            instance: demo,
        }
    }

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

fn header<'a>(response: &'a Value, name: &str) -> Option<&'a str> {
    response["headers"][name].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_gateway_request_opens_a_ticket_in_dynamodb() {
    let d = deployment().await;
    let response = d.invoke(event(&d.key, |_| {})).await;
    assert_eq!(response["statusCode"], 201, "{response}");
    assert!(
        header(&response, "content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(
        header(&response, "x-request-id"),
        Some("CsF7aizrjoEEPXw="),
        "API Gateway's request id is the request's"
    );
    let number = response["body"].as_str().unwrap().trim().to_owned();

    let demo = InstanceId::parse("demo").unwrap();
    let ctx = d.ctx(&demo);
    let ticket = tickets::by_number(&ctx, &system(), &number).await.unwrap();
    assert_eq!(ticket.subject, "Projector in room B-12 does not turn on");
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
            .contains("The projector shows no image since this morning."),
        "{}",
        message.body_text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_request_delivered_again_opens_a_second_ticket() {
    // An osTicket client's POST carries nothing that identifies a retry, so
    // a repeated event is a new ticket, as it is on osTicket itself.
    let d = deployment().await;
    let first = d.invoke(event(&d.key, |_| {})).await;
    let again = d.invoke(event(&d.key, |_| {})).await;
    assert_eq!(
        (first["statusCode"].clone(), again["statusCode"].clone()),
        (201.into(), 201.into())
    );
    assert_ne!(first["body"], again["body"]);
    let open = d.open_tickets().await;
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(
        open.iter()
            .all(|t| t.subject == "Projector in room B-12 does not turn on")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_checked_against_api_gateways_source_ip_not_x_forwarded_for() {
    let d = deployment().await;
    // The client claims an allowed address; API Gateway saw another.
    let response = d
        .invoke(event(&d.key, |e| {
            e["requestContext"]["http"]["sourceIp"] = "203.0.113.9".into();
        }))
        .await;
    assert_eq!(response["statusCode"], 401, "{response}");
    assert!(
        response["body"].as_str().unwrap().contains("203.0.113.9"),
        "{response}"
    );
    assert!(d.open_tickets().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_route_is_a_json_404_through_the_adapter() {
    let d = deployment().await;
    let response = d
        .invoke(event(&d.key, |e| {
            e["rawPath"] = "/nowhere".into();
            e["requestContext"]["http"]["path"] = "/nowhere".into();
            e["requestContext"]["http"]["method"] = "GET".into();
            e["body"] = Value::Null;
        }))
        .await;
    assert_eq!(response["statusCode"], 404, "{response}");
    assert!(d.open_tickets().await.is_empty());
}
