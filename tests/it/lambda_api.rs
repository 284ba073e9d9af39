//! The `api` Lambda function: its binary runs under the local Runtime API
//! (`taquilla_tests::runtime_api`) on a deployment of the emulator
//! (`taquilla_tests::emulated`). The committed API Gateway v2 event (an
//! osTicket client opening a ticket with its API key) opens a ticket in
//! DynamoDB, and the log line saying so names the Lambda request, the
//! instance and the ticket. API Gateway's `sourceIp` is the address API
//! keys are checked against, not the client's `X-Forwarded-For`. An
//! unknown route is a JSON 404. The same event delivered again changes
//! nothing: it gets the first answer again (a request with another API
//! Gateway id is another ticket).
//! A start without a master key is reported to Lambda as an init error; an
//! event that is no API Gateway request is an error answer, and the
//! function serves the next one.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use taquilla_core::domain::{EntryKind, Permission};
use taquilla_core::services::{apikeys, tickets};
use taquilla_tests::emulated::{Emulated, set_var, system};
use taquilla_tests::runtime_api::{Answer, json_lines};

const FIXTURE: &str = include_str!("../fixtures/apigw/osticket-create.json");
/// The API key the fixture carries, replaced by a real one.
const FIXTURE_KEY: &str = "tq_demo_FIXTURE_KEY";
const SUBJECT: &str = "Projector in room B-12 does not turn on";

/// A deployment with an API key of the demo instance allowed from
/// 198.51.100.0/24 (where the fixture's request comes from); the key.
async fn deployment() -> (Emulated, String) {
    let e = Emulated::new("api").await;
    let permissions: BTreeSet<Permission> = Permission::ALL
        .into_iter()
        .filter(|p| p.as_str().starts_with("ticket."))
        .collect();
    let key = apikeys::create(
        e.store.as_ref(),
        e.clock.as_ref(),
        &e.demo,
        apikeys::NewApiKey {
            networks: vec!["198.51.100.0/24".to_owned()],
            permissions,
            description: Some("osTicket client".to_owned()),
        },
    )
    .await
    .unwrap()
    .key;
    (e, key)
}

/// The fixture event carrying `key`, with `edit` applied.
fn event(key: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut json: Value = serde_json::from_str(&FIXTURE.replace(FIXTURE_KEY, key)).unwrap();
    edit(&mut json);
    json
}

fn header<'a>(response: &'a Value, name: &str) -> Option<&'a str> {
    response["headers"][name].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_gateway_request_opens_a_ticket_in_dynamodb() {
    let (e, key) = deployment().await;
    let function = e.start("api").await;
    let invocation = function.invoke(event(&key, |_| {})).await;
    let response = invocation.answer.unwrap();
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

    let ticket = tickets::by_number(&e.ctx(), &system(), &number)
        .await
        .unwrap();
    assert_eq!(ticket.subject, SUBJECT);
    let thread = tickets::thread(&e.ctx(), &system(), &ticket.id, None, 100)
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

    let lines = json_lines(&function.logs());
    let opened = lines
        .iter()
        .find(|l| l["message"] == "ticket opened through the osTicket API")
        .unwrap_or_else(|| panic!("no such line in {lines:?}"));
    assert_eq!(opened["requestId"], invocation.request_id.as_str());
    assert_eq!(opened["instance"], "demo");
    assert_eq!(opened["ticket"], number.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_request_delivered_again_changes_nothing_and_gets_its_answer_again() {
    let (e, key) = deployment().await;
    let function = e.start("api").await;
    let first = function.invoke(event(&key, |_| {})).await.answer.unwrap();
    let again = function.invoke(event(&key, |_| {})).await.answer.unwrap();
    assert_eq!(first["statusCode"], 201, "{first}");
    assert_eq!(
        (&again["statusCode"], &again["body"]),
        (&first["statusCode"], &first["body"]),
        "the same answer"
    );
    assert_eq!(header(&again, "x-taquilla-replayed"), Some("true"));
    assert_eq!(header(&first, "x-taquilla-replayed"), None);
    assert_eq!(e.open_tickets().await.len(), 1, "one ticket");
    // Another request (another id API Gateway gave it) with the same body
    // is another ticket, as on osTicket.
    let other = function
        .invoke(event(&key, |json| {
            json["requestContext"]["requestId"] = json!("AnotherRequest0=");
        }))
        .await
        .answer
        .unwrap();
    assert_eq!(other["statusCode"], 201, "{other}");
    assert_ne!(other["body"], first["body"]);
    let open = e.open_tickets().await;
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(open.iter().all(|t| t.subject == SUBJECT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_checked_against_api_gateways_source_ip_not_x_forwarded_for() {
    let (e, key) = deployment().await;
    let function = e.start("api").await;
    // The client claims an allowed address; API Gateway saw another.
    let response = function
        .invoke(event(&key, |e| {
            e["requestContext"]["http"]["sourceIp"] = "203.0.113.9".into();
        }))
        .await
        .answer
        .unwrap();
    assert_eq!(response["statusCode"], 401, "{response}");
    assert!(
        response["body"].as_str().unwrap().contains("203.0.113.9"),
        "{response}"
    );
    assert!(e.open_tickets().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_route_is_a_json_404() {
    let (e, key) = deployment().await;
    let function = e.start("api").await;
    let response = function
        .invoke(event(&key, |e| {
            e["rawPath"] = "/nowhere".into();
            e["requestContext"]["http"]["path"] = "/nowhere".into();
            e["requestContext"]["http"]["method"] = "GET".into();
            e["body"] = Value::Null;
        }))
        .await
        .answer
        .unwrap();
    assert_eq!(response["statusCode"], 404, "{response}");
    assert!(
        header(&response, "content-type")
            .unwrap()
            .starts_with("application/json"),
        "{response}"
    );
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    assert!(e.open_tickets().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_without_a_master_key_is_an_init_error_that_names_it() {
    let (e, key) = deployment().await;
    let mut env = e.env();
    set_var(&mut env, "TAQUILLA_MASTER_KEY", None);
    let function = e.start_with("api", &env).await;
    let message = function.expect_init_error(event(&key, |_| {})).await;
    assert!(message.contains("TAQUILLA_MASTER_KEY"), "{message}");
    assert!(message.contains("is required"), "{message}");
    let lines = json_lines(&function.logs());
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "api cannot start" && l["level"] == "ERROR"),
        "{lines:?}"
    );
    assert!(e.open_tickets().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_is_no_api_gateway_request_is_an_error_and_the_next_is_served() {
    let (e, key) = deployment().await;
    let function = e.start("api").await;
    let answer = function
        .invoke(json!({"Records": [{"eventSource": "aws:ses"}]}))
        .await
        .answer;
    let Answer::Error { message, .. } = &answer else {
        panic!("{answer:?}");
    };
    assert!(message.contains("deserialize"), "{message}");
    let next = function.invoke(event(&key, |_| {})).await.answer.unwrap();
    assert_eq!(next["statusCode"], 201, "{next}");
    assert_eq!(function.exit_status(), None);
}
