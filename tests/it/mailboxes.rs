//! An instance's mailboxes over the admin API: each address belongs to one
//! help desk in the whole deployment (mail arriving through SES finds its
//! instance by it), and routes to a department that exists.

use serde_json::{Value, json};
use taquilla_core::services::directory;
use taquilla_tests::app::{DEMO, OTHER, TestApp, json};

/// The instance's settings as the API shows them.
fn settings(app: &TestApp, token: &str, instance: &str) -> Value {
    let r = app.api_as(token, "GET", instance, None);
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)
}

/// Replaces the instance's mailboxes; the response.
fn set_mailboxes(app: &TestApp, token: &str, instance: &str, mailboxes: Value) -> (u16, Value) {
    let current = settings(app, token, instance);
    let mut mail = current["mail"].clone();
    mail["mailboxes"] = mailboxes;
    let body = json!({"version": current["version"], "mail": mail});
    let r = app.api_as(token, "PATCH", instance, Some(&body));
    (
        r.status,
        serde_json::from_str(&r.text()).unwrap_or(Value::Null),
    )
}

fn owner(app: &TestApp, address: &str) -> Option<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(directory::instance_for_address(app.store.as_ref(), address))
        .unwrap()
        .map(|i| i.to_string())
}

#[test]
fn a_mailbox_address_belongs_to_one_help_desk_until_it_lets_go() {
    let app = TestApp::new();
    let other_admin = app.token_for(OTHER, 1, None);
    // The demo's own mailboxes route to it, with any plus tag.
    assert_eq!(
        owner(&app, "support+abc@demo.taquilla.test").as_deref(),
        Some(DEMO)
    );
    assert_eq!(owner(&app, "nobody@demo.taquilla.test"), None);

    let (status, body) = set_mailboxes(
        &app,
        &app.token,
        DEMO,
        json!([
            {"address": "support@demo.taquilla.test", "department": 1},
            {"address": "Labs@Uni.Example", "department": 2, "topic": 3}
        ]),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mail"]["mailboxes"][1]["address"], "labs@uni.example");
    assert_eq!(owner(&app, "labs@uni.example").as_deref(), Some(DEMO));
    // academic@ was dropped: released.
    assert_eq!(owner(&app, "academic@demo.taquilla.test"), None);

    // Another help desk cannot take it, and nothing of its settings changes.
    let before = settings(&app, &other_admin, OTHER);
    let (status, body) = set_mailboxes(
        &app,
        &other_admin,
        OTHER,
        json!([{"address": "labs@uni.example", "department": 1}]),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_field");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another help desk"),
        "{body}"
    );
    assert_eq!(settings(&app, &other_admin, OTHER), before);

    // Once the demo lets go of it, the other help desk may have it.
    let (status, _) = set_mailboxes(&app, &app.token, DEMO, json!([]));
    assert_eq!(status, 200);
    let (status, body) = set_mailboxes(
        &app,
        &other_admin,
        OTHER,
        json!([{"address": "labs@uni.example", "department": 1}]),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(owner(&app, "labs@uni.example").as_deref(), Some(OTHER));
}

#[test]
fn bad_mailboxes_are_refused_with_the_field_and_change_nothing() {
    let app = TestApp::new();
    let before = settings(&app, &app.token, DEMO);
    for (mailboxes, says) in [
        (
            json!([{"address": "not an address", "department": 1}]),
            "not a mailbox address",
        ),
        (
            json!([{"address": "it+x@uni.example", "department": 1}]),
            "no plus tag",
        ),
        (
            json!([{"address": "it@uni.example", "department": 99}]),
            "no department 99",
        ),
        (
            json!([{"address": "it@uni.example", "department": 1, "topic": 42}]),
            "no help topic 42",
        ),
        (
            json!([{"address": "it@uni.example", "department": 1}, {"address": "IT@uni.example", "department": 2}]),
            "listed twice",
        ),
    ] {
        let (status, body) = set_mailboxes(&app, &app.token, DEMO, mailboxes);
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "invalid_field");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    assert_eq!(settings(&app, &app.token, DEMO), before);
    assert_eq!(owner(&app, "it@uni.example"), None);
}
