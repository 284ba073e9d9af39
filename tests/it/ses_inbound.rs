//! The `inbound-mail` Lambda function: its binary runs under the local
//! Runtime API (`taquilla_tests::runtime_api`) on a deployment of the
//! emulator (`taquilla_tests::emulated`). The committed message dropped in
//! the inbound bucket, at the key the rule gives the messageId of the
//! committed SES receipt event, becomes a ticket in DynamoDB and one
//! auto-response recorded by the emulator's SES; delivered twice it
//! changes nothing and sends nothing more. A message gone from the bucket
//! and a message SES found a virus in are reported, not retried; recipients
//! of no help desk are skipped; a spam verdict opens a ticket that gets no
//! auto-response; an unreadable inbound bucket is an error answer, so
//! Lambda retries. A start without the inbound bucket is reported to
//! Lambda as an init error; an event that is no receipt event is an error
//! answer, and the function serves the next.

use serde_json::{Value, json};
use taquilla_core::domain::EntryKind;
use taquilla_core::services::{tickets, users};
use taquilla_tests::emulated::{Emulated, INBOUND_PREFIX, sent_to, set_var, system};
use taquilla_tests::moto;
use taquilla_tests::runtime_api::{Answer, Function, json_lines};

const FIXTURE_EVENT: &str = include_str!("../fixtures/ses/receipt.json");
const FIXTURE_MESSAGE: &str = include_str!("../fixtures/ses/message.eml");
/// The fixture's SES messageId.
const MESSAGE_ID: &str = "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1";
/// The sender the fixtures name.
const FIXTURE_SENDER: &str = "nuria.puig@example.edu";

/// A deployment with the function started on it.
async fn deployment() -> (Emulated, Function) {
    let e = Emulated::new("ses").await;
    let function = e.start("inbound-mail").await;
    (e, function)
}

/// A sender of one test alone, so the emulator's record of sent mail is
/// that test's.
fn own_sender(name: &str) -> String {
    format!("{}@example.edu", moto::unique_name(name))
}

/// The fixture message from `sender`.
fn message_from(sender: &str) -> String {
    FIXTURE_MESSAGE.replace(FIXTURE_SENDER, sender)
}

/// The fixture event about the message from `sender`, with `edit` applied.
fn event_from(sender: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut json: Value = serde_json::from_str(&FIXTURE_EVENT.replace(FIXTURE_SENDER, sender))
        .expect("the receipt fixture");
    edit(&mut json);
    json
}

/// The fixture event, with `edit` applied.
fn event(edit: impl FnOnce(&mut Value)) -> Value {
    event_from(FIXTURE_SENDER, edit)
}

fn ses(json: &mut Value) -> &mut Value {
    &mut json["Records"][0]["ses"]
}

/// The one delivery of a one-message, one-desk summary.
fn delivery(summary: &Value) -> &Value {
    let messages = summary["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{summary}");
    let deliveries = messages[0]["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{summary}");
    assert_eq!(deliveries[0]["instance"], "demo");
    &deliveries[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_in_the_bucket_and_its_receipt_event_become_a_ticket_and_one_auto_response() {
    let (e, function) = deployment().await;
    let sender = own_sender("nuria");
    e.receive(MESSAGE_ID, message_from(&sender).as_bytes())
        .await;

    let invocation = function.invoke(event_from(&sender, |_| {})).await;
    let summary = invocation.answer.unwrap();
    assert_eq!(summary["messages"][0]["message_id"], MESSAGE_ID);
    let opened = delivery(&summary);
    assert_eq!(opened["outcome"]["outcome"], "opened", "{summary}");
    assert_eq!(opened["recipients"], json!(["support@demo.taquilla.test"]));
    assert!(opened["mail"]["sent"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(opened["mail"]["failed"], 0, "{summary}");
    let number = opened["outcome"]["number"].as_str().unwrap().to_owned();

    // The ticket, in DynamoDB.
    let ticket = tickets::by_number(&e.ctx(), &system(), &number)
        .await
        .unwrap();
    assert_eq!(ticket.subject, "Cannot log in to the virtual campus");
    let user = users::get(&e.ctx(), &ticket.user).await.unwrap();
    assert_eq!(user.name, "Núria Puig");
    assert_eq!(user.emails, vec![sender.clone()]);
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
            .contains("the virtual campus answers \"invalid credentials\""),
        "{}",
        message.body_text
    );
    assert!(message.body_text.contains("My user is npuig."));

    // The auto-response, recorded by the emulator's SES.
    let sent = sent_to(&sender).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let mail = &sent[0];
    assert!(mail.contains(&format!("[#{number}]")), "{mail}");
    assert!(mail.contains("support@demo.taquilla.test"), "{mail}");
    assert!(mail.contains("Auto-Submitted: auto-replied"), "{mail}");

    // Logged under the Lambda request and the help desk.
    let lines = json_lines(&function.logs());
    assert!(
        lines
            .iter()
            .any(|l| l["requestId"] == invocation.request_id.as_str() && l["instance"] == "demo"),
        "{lines:?}"
    );

    // Delivered again: a duplicate, nothing more is written or sent.
    let again = function
        .invoke(event_from(&sender, |_| {}))
        .await
        .answer
        .unwrap();
    assert_eq!(
        delivery(&again)["outcome"],
        json!({"outcome": "duplicate", "ticket": number}),
        "{again}"
    );
    let open = e.open_tickets().await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].number, number);
    assert_eq!(sent_to(&sender).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_gone_from_the_bucket_is_reported_not_retried() {
    let (e, function) = deployment().await;
    let summary = function
        .invoke(event(|json| {
            ses(json)["mail"]["messageId"] = "never0stored0in0the0bucket".into();
        }))
        .await
        .answer
        .unwrap();
    let report = &summary["messages"][0];
    assert_eq!(report["deliveries"], json!([]), "{summary}");
    assert_eq!(report["failure"]["code"], "mail_object_missing");
    let expected_key = format!("{INBOUND_PREFIX}never0stored0in0the0bucket");
    assert!(
        report["failure"]["reason"]
            .as_str()
            .unwrap()
            .contains(&expected_key),
        "{summary}"
    );
    assert!(e.open_tickets().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virus_verdict_in_the_receipt_refuses_the_message() {
    let (e, function) = deployment().await;
    // The stored message says PASS in its own headers; the receipt wins.
    e.receive(MESSAGE_ID, FIXTURE_MESSAGE.as_bytes()).await;
    let summary = function
        .invoke(event(|json| {
            ses(json)["receipt"]["virusVerdict"]["status"] = "FAIL".into();
        }))
        .await
        .answer
        .unwrap();
    let refused = &delivery(&summary)["outcome"];
    assert_eq!(refused["outcome"], "rejected", "{summary}");
    assert_eq!(refused["code"], "mail_virus", "{summary}");
    assert!(e.open_tickets().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_of_no_help_desk_are_skipped_and_the_others_served() {
    let (e, function) = deployment().await;
    e.receive(MESSAGE_ID, FIXTURE_MESSAGE.as_bytes()).await;
    let summary = function
        .invoke(event(|json| {
            ses(json)["receipt"]["recipients"] =
                json!(["someone@elsewhere.test", "support@demo.taquilla.test"]);
        }))
        .await
        .answer
        .unwrap();
    assert_eq!(
        summary["messages"][0]["skipped"],
        json!(["someone@elsewhere.test"])
    );
    assert_eq!(delivery(&summary)["outcome"]["outcome"], "opened");

    let nobody = function
        .invoke(event(|json| {
            ses(json)["receipt"]["recipients"] = json!(["someone@elsewhere.test"]);
        }))
        .await
        .answer
        .unwrap();
    assert_eq!(nobody["messages"][0]["deliveries"], json!([]), "{nobody}");
    assert_eq!(nobody["messages"][0]["failure"], Value::Null);
    assert_eq!(e.open_tickets().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spam_verdict_in_the_receipt_opens_a_ticket_that_gets_no_auto_response() {
    let (e, function) = deployment().await;
    let sender = own_sender("spam");
    e.receive(MESSAGE_ID, message_from(&sender).as_bytes())
        .await;
    // The demo instance flags spam rather than refusing it.
    let summary = function
        .invoke(event_from(&sender, |json| {
            ses(json)["receipt"]["spamVerdict"]["status"] = "FAIL".into();
        }))
        .await
        .answer
        .unwrap();
    assert_eq!(
        delivery(&summary)["outcome"]["outcome"],
        "opened",
        "{summary}"
    );
    assert_eq!(e.open_tickets().await.len(), 1);
    assert!(sent_to(&sender).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_inbound_bucket_is_an_error_so_lambda_retries() {
    let e = Emulated::new("ses").await;
    let mut env = e.env();
    let missing = moto::unique_name("no-such-bucket");
    set_var(&mut env, "TAQUILLA_INBOUND_BUCKET", Some(&missing));
    let function = e.start_with("inbound-mail", &env).await;
    let answer = function.invoke(event(|_| {})).await.answer;
    let Answer::Error {
        error_type,
        message,
    } = &answer
    else {
        panic!("{answer:?}");
    };
    assert_eq!(error_type, "inbound_unavailable");
    assert!(message.contains(MESSAGE_ID), "{message}");
    assert!(e.open_tickets().await.is_empty());
    // The function lives on for the retry.
    assert_eq!(function.exit_status(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_without_the_inbound_bucket_is_an_init_error_that_names_it() {
    let e = Emulated::new("ses").await;
    let mut env = e.env();
    set_var(&mut env, "TAQUILLA_INBOUND_BUCKET", None);
    let function = e.start_with("inbound-mail", &env).await;
    let message = function.expect_init_error(event(|_| {})).await;
    assert!(
        message.contains("TAQUILLA_INBOUND_BUCKET") && message.contains("is required"),
        "{message}"
    );
    let lines = json_lines(&function.logs());
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "inbound-mail cannot start"),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_is_no_receipt_event_is_an_error_and_the_next_is_served() {
    let (e, function) = deployment().await;
    let answer = function
        .invoke(json!({"Records": [{"ses": {"mail": "not a mail"}}]}))
        .await
        .answer;
    let Answer::Error { message, .. } = &answer else {
        panic!("{answer:?}");
    };
    assert!(message.contains("deserialize"), "{message}");
    e.receive(MESSAGE_ID, FIXTURE_MESSAGE.as_bytes()).await;
    let next = function.invoke(event(|_| {})).await.answer.unwrap();
    assert_eq!(delivery(&next)["outcome"]["outcome"], "opened", "{next}");
    assert_eq!(function.exit_status(), None);
}
