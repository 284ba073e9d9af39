//! The `mail-feedback` Lambda function. Its binary runs under the local
//! Runtime API (`taquilla_tests::runtime_api`) against the emulator's
//! DynamoDB: an agent's response goes out through the emulator's SES, the
//! committed SNS-wrapped SES notification of a permanent bounce (carrying
//! the id SES gave that mail) suppresses the user's address and puts a
//! `mail_bounced` event on the ticket; the same notification again changes
//! nothing; the next response is not sent and the ticket says why. A
//! transient bounce is recorded without suppressing; a complaint
//! suppresses. Each log line written while handling a notification names
//! the Lambda request, the instance and the ticket. The library function
//! runs on SQLite too, where the mail is found by the Message-ID in the
//! notification's headers, and notifications it can never handle are
//! reported, not retried. A start with a bad master key is reported to
//! Lambda as an init error; an event that is no SNS event is an error
//! answer, and the function serves the next. Administrators list and
//! remove suppressions over HTTP (`/api/v1/{instance}/suppressions`).

use std::sync::Arc;

use serde_json::{Value, json};
use taquilla_core::blobs::Blobs;
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{Entry, EntryKind, InstanceId, Source, Ticket};
use taquilla_core::mailer::Mailer;
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_core::services::outbox::delivery_event;
use taquilla_core::services::suppressions::{self, Reason, feedback_event};
use taquilla_core::services::tickets::{self, Body, NewResponse, OpenTicket};
use taquilla_core::services::{Actor, Ctx, provision};
use taquilla_core::store::ItemStore;
use taquilla_lambda::mail_feedback::{self, FeedbackDeps, SnsEvent};
use taquilla_local::{FsBlobs, OutboxMailer, SqliteStore};
use taquilla_mail::dispatch::{self, Dispatcher, Due, Report, RetryPolicy};
use taquilla_mail::reply_token::ReplyTokens;
use taquilla_tests::emulated::{Emulated, MASTER_KEY, sent_to, set_var};
use taquilla_tests::moto;
use taquilla_tests::runtime_api::{Answer, json_lines};

const PERMANENT: &str = include_str!("../fixtures/sns/ses-bounce-permanent.json");
const TRANSIENT: &str = include_str!("../fixtures/sns/ses-bounce-transient.json");
const COMPLAINT: &str = include_str!("../fixtures/sns/ses-complaint.json");
/// The recipient the fixtures name.
const FIXTURE_RECIPIENT: &str = "nuria.puig@example.edu";

fn system() -> Actor {
    Actor::System("test".into())
}

/// A help desk on some store: the demo instance, a mailer, and what the
/// dispatcher needs.
struct Desk {
    store: Arc<dyn ItemStore>,
    blobs: Arc<dyn Blobs>,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
    tokens: ReplyTokens,
    demo: InstanceId,
}

impl Desk {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock: self.clock.as_ref(),
            instance: &self.demo,
        }
    }

    fn deps(&self) -> FeedbackDeps {
        FeedbackDeps {
            store: self.store.clone(),
            blobs: self.blobs.clone(),
            clock: self.clock.clone(),
            region: moto::REGION.to_owned(),
        }
    }

    /// A ticket opened by `email`, without mail.
    async fn open(&self, email: &str) -> Ticket {
        let request = OpenTicket {
            name: "Núria Puig".into(),
            email: email.into(),
            phone: None,
            subject: "Cannot log in to the virtual campus".into(),
            body: Body::Text("The virtual campus says my password is wrong.".into()),
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
        tickets::open(&self.ctx(), &system(), request)
            .await
            .unwrap()
    }

    /// An agent's response on `ticket`, then the outbox sent.
    async fn respond(&self, ticket: &Ticket, text: &str) -> Report {
        tickets::respond(
            &self.ctx(),
            &system(),
            &ticket.id,
            NewResponse {
                body: Body::Text(text.into()),
                attachments: Vec::new(),
                status: None,
            },
        )
        .await
        .unwrap();
        let dispatcher = Dispatcher {
            mailer: self.mailer.as_ref(),
            tokens: &self.tokens,
            public_url: "https://help.example.edu",
            retry: RetryPolicy::default(),
        };
        dispatch::send_pending(&self.ctx(), &dispatcher, Due::Now)
            .await
            .unwrap()
    }

    async fn thread(&self, ticket: &Ticket) -> Vec<Entry> {
        tickets::thread(&self.ctx(), &system(), &ticket.id, None, 200)
            .await
            .unwrap()
            .items
    }

    /// The Message-ID of the last response mail sent from `ticket`.
    async fn sent_message_id(&self, ticket: &Ticket) -> String {
        self.thread(ticket)
            .await
            .iter()
            .rev()
            .find(|e| e.event.as_deref() == Some(delivery_event::SENT))
            .and_then(|e| e.data.get("message_id").cloned())
            .expect("a mail_sent event")
    }
}

/// The events of `thread` named `name`.
fn events<'a>(thread: &'a [Entry], name: &str) -> Vec<&'a Entry> {
    thread
        .iter()
        .filter(|e| e.kind == EntryKind::Event && e.event.as_deref() == Some(name))
        .collect()
}

/// A committed notification, its SES message edited by `edit`.
fn notification(fixture: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut event: Value = serde_json::from_str(fixture).unwrap();
    let sns = &mut event["Records"][0]["Sns"];
    let mut message: Value = serde_json::from_str(sns["Message"].as_str().unwrap()).unwrap();
    edit(&mut message);
    sns["Message"] = message.to_string().into();
    event
}

/// Points a notification's mail at `recipient` and SES's id `ses_id`.
fn about(recipient: &str, ses_id: &str) -> impl FnOnce(&mut Value) {
    let (recipient, ses_id) = (recipient.to_owned(), ses_id.to_owned());
    move |message: &mut Value| {
        let text = message.to_string().replace(FIXTURE_RECIPIENT, &recipient);
        *message = serde_json::from_str(&text).unwrap();
        message["mail"]["messageId"] = ses_id.into();
    }
}

/// SES's own id in a Message-ID it gave (`<{id}@{region}.amazonses.com>`).
fn ses_id(message_id: &str) -> String {
    message_id
        .trim_matches(['<', '>'])
        .split('@')
        .next()
        .unwrap()
        .to_owned()
}

/// The demo instance of a fresh deployment on the emulator, mail through
/// its SES, and the deployment (which starts the function).
async fn emulated() -> (Desk, Emulated) {
    let e = Emulated::new("feedback").await;
    let desk = Desk {
        store: e.store.clone(),
        blobs: e.blobs.clone(),
        clock: e.clock.clone(),
        mailer: Arc::new(e.mailer()),
        tokens: e.reply_tokens(),
        demo: e.demo.clone(),
    };
    (desk, e)
}

/// The one notification report of a summary.
fn report(summary: &Value) -> &Value {
    let list = summary["notifications"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{summary}");
    &list[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_bounce_suppresses_the_address_once_and_the_ticket_says_why() {
    let (desk, e) = emulated().await;
    let user = format!("{}@example.edu", moto::unique_name("nuria"));
    let ticket = desk.open(&user).await;
    let first = desk
        .respond(&ticket, "Reset it from the identity portal.")
        .await;
    assert_eq!((first.sent, first.suppressed), (1, 0), "{first:?}");
    assert_eq!(sent_to(&user).await.len(), 1);
    let message_id = desk.sent_message_id(&ticket).await;
    assert!(
        message_id.ends_with("@eu-west-1.amazonses.com>"),
        "{message_id}"
    );

    let function = e.start("mail-feedback").await;
    let event = notification(PERMANENT, about(&user, &ses_id(&message_id)));
    let invocation = function.invoke(event.clone()).await;
    let summary = invocation.answer.clone().unwrap();
    let handled = report(&summary);
    assert_eq!(handled["kind"], "permanent", "{summary}");
    assert_eq!(handled["instance"], "demo");
    assert_eq!(
        handled["outcome"],
        json!({"duplicate": false, "suppressed": [user], "ticket": ticket.number}),
        "{summary}"
    );

    // The address is suppressed, for this bounce.
    let found = suppressions::find(&desk.ctx(), &[user.to_uppercase()])
        .await
        .unwrap();
    let suppression = found.get(&user).expect("suppressed");
    assert_eq!(suppression.reason, Reason::Bounce);
    assert!(suppression.detail.contains("5.1.1"), "{suppression:?}");
    assert_eq!(suppression.ticket.as_deref(), Some(ticket.number.as_str()));

    // The ticket shows why its response did not arrive.
    let thread = desk.thread(&ticket).await;
    let bounced = events(&thread, feedback_event::BOUNCED);
    assert_eq!(bounced.len(), 1, "{thread:?}");
    let data = &bounced[0].data;
    assert_eq!(data["bounce"], "permanent");
    assert_eq!(data["recipients"], user);
    assert_eq!(data["suppressed"], user);
    assert_eq!(data["sent_message_id"], message_id);
    assert!(data["diagnostic"].contains("User unknown"), "{data:?}");

    // Each line logged while handling it names the request, the instance
    // and the ticket.
    let lines = json_lines(&function.logs());
    let handled_line = lines
        .iter()
        .find(|l| l["message"] == "mail feedback handled")
        .unwrap_or_else(|| panic!("no such line in {lines:?}"));
    assert_eq!(handled_line["requestId"], invocation.request_id.as_str());
    assert_eq!(handled_line["instance"], "demo");
    assert_eq!(handled_line["ticket"], ticket.number.as_str());

    // The same notification again: nothing changes.
    let again = function.invoke(event).await.answer.unwrap();
    assert_eq!(report(&again)["outcome"]["duplicate"], true, "{again}");
    assert_eq!(
        events(&desk.thread(&ticket).await, feedback_event::BOUNCED).len(),
        1
    );
    let still = suppressions::find(&desk.ctx(), std::slice::from_ref(&user))
        .await
        .unwrap();
    assert_eq!(still.get(&user), Some(suppression));

    // No more mail goes there, and the ticket says why.
    let second = desk.respond(&ticket, "Did it work?").await;
    assert_eq!((second.sent, second.suppressed), (0, 1), "{second:?}");
    assert_eq!(sent_to(&user).await.len(), 1);
    let thread = desk.thread(&ticket).await;
    let skipped = events(&thread, delivery_event::SUPPRESSED);
    assert_eq!(skipped.len(), 1, "{thread:?}");
    assert!(
        skipped[0].data["suppressed_reason"].contains("bounce"),
        "{:?}",
        skipped[0].data
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_bounce_is_recorded_and_a_complaint_suppresses() {
    let (desk, e) = emulated().await;
    let user = format!("{}@example.edu", moto::unique_name("marta"));
    let ticket = desk.open(&user).await;
    desk.respond(&ticket, "We are looking into it.").await;
    let ses = ses_id(&desk.sent_message_id(&ticket).await);
    let function = e.start("mail-feedback").await;

    let transient = function
        .invoke(notification(TRANSIENT, about(&user, &ses)))
        .await
        .answer
        .unwrap();
    let handled = report(&transient);
    assert_eq!(handled["kind"], "transient");
    assert_eq!(handled["outcome"]["suppressed"], json!([]), "{transient}");
    assert!(
        suppressions::find(&desk.ctx(), std::slice::from_ref(&user))
            .await
            .unwrap()
            .is_empty()
    );
    let thread = desk.thread(&ticket).await;
    let bounced = events(&thread, feedback_event::BOUNCED);
    assert_eq!(bounced.len(), 1);
    assert_eq!(bounced[0].data["bounce"], "transient");
    assert_eq!(bounced[0].data["detail"], "MailboxFull");
    assert_eq!(bounced[0].data["suppressed"], "");
    // Mail still goes there.
    assert_eq!(desk.respond(&ticket, "Any news?").await.sent, 1);

    let complaint = function
        .invoke(notification(COMPLAINT, about(&user, &ses)))
        .await
        .answer
        .unwrap();
    assert_eq!(report(&complaint)["outcome"]["suppressed"], json!([user]));
    let found = suppressions::find(&desk.ctx(), std::slice::from_ref(&user))
        .await
        .unwrap();
    assert_eq!(found[&user].reason, Reason::Complaint);
    assert_eq!(found[&user].detail, "abuse");
    let thread = desk.thread(&ticket).await;
    assert_eq!(events(&thread, feedback_event::COMPLAINED).len(), 1);
    assert_eq!(desk.respond(&ticket, "Closing this.").await.suppressed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_of_no_help_desk_is_reported_and_the_invocation_succeeds() {
    let (_desk, e) = emulated().await;
    let function = e.start("mail-feedback").await;
    let event = notification(PERMANENT, |m| {
        m["mail"]["source"] = "someone@elsewhere.test".into();
        m["mail"]["commonHeaders"]["from"] = json!(["someone@elsewhere.test"]);
        m["mail"]["headers"] = json!([]);
    });
    let invocation = function.invoke(event).await;
    let Answer::Response(summary) = invocation.answer else {
        panic!("{:?}", invocation.answer);
    };
    assert_eq!(report(&summary)["failure"]["code"], "feedback_no_instance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_with_a_bad_master_key_is_an_init_error_that_names_it() {
    let (_desk, e) = emulated().await;
    let mut env = e.env();
    set_var(&mut env, "TAQUILLA_MASTER_KEY", Some("not hex"));
    let function = e.start_with("mail-feedback", &env).await;
    let message = function
        .expect_init_error(notification(PERMANENT, |_| {}))
        .await;
    assert!(message.contains("TAQUILLA_MASTER_KEY"), "{message}");
    assert!(
        !message.contains("not hex"),
        "a key's value never prints: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_is_no_sns_event_is_an_error_and_the_next_is_served() {
    let (_desk, e) = emulated().await;
    let function = e.start("mail-feedback").await;
    let answer = function.invoke(json!({"Records": "none"})).await.answer;
    let Answer::Error { message, .. } = &answer else {
        panic!("{answer:?}");
    };
    assert!(message.contains("deserialize"), "{message}");
    let next = function
        .invoke(notification(PERMANENT, |m| {
            m["mail"]["source"] = "someone@elsewhere.test".into();
            m["mail"]["commonHeaders"]["from"] = json!(["someone@elsewhere.test"]);
            m["mail"]["headers"] = json!([]);
        }))
        .await
        .answer
        .unwrap();
    assert_eq!(report(&next)["failure"]["code"], "feedback_no_instance");
    assert_eq!(function.exit_status(), None);
}

/// The demo instance on SQLite in `dir`, mail into an outbox folder.
async fn on_sqlite(dir: &std::path::Path) -> Desk {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(SqliteStore::open_with_clock(&dir.join("t.db"), clock.clone()).unwrap());
    provision::ensure_demo(store.as_ref(), clock.as_ref())
        .await
        .unwrap();
    let master = MasterKey::from_hex(MASTER_KEY).unwrap();
    Desk {
        store,
        blobs: Arc::new(FsBlobs::new(
            dir.join("blobs"),
            "http://127.0.0.1:1".into(),
            master.derive(Purpose::BlobUrls).expose().to_vec(),
            clock.clone(),
        )),
        clock,
        mailer: Arc::new(OutboxMailer::new(dir.join("outbox"))),
        tokens: ReplyTokens::new(master.derive(Purpose::ReplyTokens)),
        demo: InstanceId::parse("demo").unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_the_mail_is_found_by_its_header_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let desk = on_sqlite(dir.path()).await;
    let ticket = desk.open(FIXTURE_RECIPIENT).await;
    desk.respond(&ticket, "Reset it from the identity portal.")
        .await;
    let message_id = desk.sent_message_id(&ticket).await;
    let event = |fixture: &str| -> SnsEvent {
        let message_id = message_id.clone();
        serde_json::from_value(notification(fixture, move |m| {
            // A Message-ID SES did not give: only the headers name it.
            m["mail"]["messageId"] = "0000000000000000-unknown-000000".into();
            m["mail"]["commonHeaders"]["messageId"] = message_id.into();
        }))
        .unwrap()
    };

    let summary = mail_feedback::handle(&desk.deps(), event(PERMANENT))
        .await
        .unwrap();
    let outcome = summary.notifications[0].outcome.clone().unwrap();
    assert_eq!(outcome.suppressed, vec![FIXTURE_RECIPIENT.to_owned()]);
    assert_eq!(outcome.ticket.as_deref(), Some(ticket.number.as_str()));
    let again = mail_feedback::handle(&desk.deps(), event(PERMANENT))
        .await
        .unwrap();
    assert!(again.notifications[0].outcome.as_ref().unwrap().duplicate);
    let thread = desk.thread(&ticket).await;
    assert_eq!(events(&thread, feedback_event::BOUNCED).len(), 1);
    assert_eq!(desk.respond(&ticket, "Hello?").await.suppressed, 1);

    // Administrators list the suppression and remove it; mail goes again.
    let page = suppressions::list(&desk.ctx(), &system(), None, 50)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].address, FIXTURE_RECIPIENT);
    suppressions::remove(&desk.ctx(), &system(), "Nuria.Puig@example.edu")
        .await
        .unwrap();
    let gone = suppressions::remove(&desk.ctx(), &system(), FIXTURE_RECIPIENT)
        .await
        .unwrap_err();
    assert_eq!(gone.code(), "not_found");
    assert_eq!(desk.respond(&ticket, "Hello again.").await.sent, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_that_can_never_be_handled_are_reported_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let desk = on_sqlite(dir.path()).await;
    let mut unreadable: SnsEvent = serde_json::from_str(PERMANENT).unwrap();
    unreadable.records[0].sns.message = "not json".into();
    let delivery: SnsEvent = serde_json::from_value(notification(PERMANENT, |m| {
        m["notificationType"] = "Delivery".into();
    }))
    .unwrap();
    let no_recipient: SnsEvent = serde_json::from_value(notification(PERMANENT, |m| {
        m["bounce"]["bouncedRecipients"] = json!([]);
    }))
    .unwrap();
    for (event, code) in [
        (unreadable, "feedback_unreadable"),
        (delivery, "feedback_ignored"),
        (no_recipient, "feedback_invalid"),
    ] {
        let summary = mail_feedback::handle(&desk.deps(), event).await.unwrap();
        let failure = summary.notifications[0].failure.as_ref().unwrap();
        assert_eq!(failure.code, code, "{summary:?}");
    }
    let page = suppressions::list(&desk.ctx(), &system(), None, 50)
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

#[test]
fn administrators_list_and_remove_suppressions_over_http() {
    use taquilla_core::services::suppressions::{Feedback, FeedbackKind, FeedbackRecipient};
    use taquilla_tests::app::{DEMO, TestApp, json as body};

    let app = TestApp::new();
    let demo = InstanceId::parse(DEMO).unwrap();
    let ctx = Ctx {
        store: app.store.as_ref(),
        blobs: app.blobs.as_ref(),
        clock: app.clock.as_ref(),
        instance: &demo,
    };
    let feedback = Feedback {
        id: "0102019a0c4e7b21-http".into(),
        kind: FeedbackKind::Complaint,
        detail: "abuse".into(),
        recipients: vec![FeedbackRecipient {
            address: "Gone@Example.edu".into(),
            ..FeedbackRecipient::default()
        }],
        message_ids: Vec::new(),
    };
    app.rt
        .block_on(suppressions::record_feedback(&ctx, &feedback))
        .unwrap();

    let list = app.api("GET", &format!("{DEMO}/suppressions"), None);
    assert_eq!(list.status, 200, "{}", list.text());
    let page = body(&list);
    assert_eq!(page["items"][0]["address"], "gone@example.edu", "{page}");
    assert_eq!(page["items"][0]["reason"], "complaint");
    assert_eq!(page["cursor"], Value::Null);
    let bad = app.api("GET", &format!("{DEMO}/suppressions?limit=0"), None);
    assert_eq!(bad.status, 400, "{}", bad.text());

    // Other agents may not.
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents"),
        Some(&json!({"name": "Pau", "email": "pau@example.edu", "department": 1, "role": 1})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let agent = u32::try_from(body(&r)["agent"]["id"].as_u64().unwrap()).unwrap();
    let token = app.token_for(DEMO, agent, None);
    let refused = app.api_as(&token, "GET", &format!("{DEMO}/suppressions"), None);
    assert_eq!(refused.status, 403, "{}", refused.text());
    let path = format!("{DEMO}/suppressions/gone@example.edu");
    assert_eq!(app.api_as(&token, "DELETE", &path, None).status, 403);

    assert_eq!(app.api("DELETE", &path, None).status, 204);
    let again = app.api("DELETE", &path, None);
    assert_eq!(again.status, 404, "{}", again.text());
    let empty = body(&app.api("GET", &format!("{DEMO}/suppressions"), None));
    assert_eq!(empty["items"], json!([]));
}
