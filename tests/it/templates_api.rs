//! An instance's own mail templates over the API: checked when saved,
//! shown beside the built-in texts, reset to them; administrators only.

use std::collections::BTreeSet;

use serde_json::json;
use taquilla_core::domain::Permission;
use taquilla_tests::app::{DEMO, TestApp, json};

const PATH: &str = "demo/templates/new_ticket_autoresponse/ca";

#[test]
fn an_instance_replaces_a_template_part_and_goes_back_to_the_built_in() {
    let app = TestApp::new();
    let r = app.api("GET", PATH, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let view = json(&r);
    assert_eq!(view["own"], json!({}));
    let builtin_subject = view["builtin"]["subject"].as_str().unwrap().to_owned();
    assert!(
        builtin_subject.contains("ticket.number"),
        "{builtin_subject}"
    );
    let names: Vec<&str> = view["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ticket.number"), "{names:?}");

    let subject = "[#{{ ticket.number }}] Hem rebut la vostra sol·licitud";
    let r = app.api("PUT", PATH, Some(&json!({ "subject": subject })));
    assert_eq!(r.status, 200, "{}", r.text());
    let view = json(&app.api("GET", PATH, None));
    assert_eq!(view["own"], json!({ "subject": subject }));
    // Other languages keep the built-in texts.
    let es = json(&app.api("GET", "demo/templates/new_ticket_autoresponse/es", None));
    assert_eq!(es["own"], json!({}));

    let r = app.api("DELETE", PATH, None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&app.api("GET", PATH, None))["own"], json!({}));
    assert_eq!(
        json(&app.api("GET", PATH, None))["builtin"]["subject"],
        builtin_subject.as_str()
    );
}

#[test]
fn a_bad_template_is_refused_when_saved_with_its_code_and_nothing_changes() {
    let app = TestApp::new();
    let saved = json!({ "text": "Hola {{ user.name }}" });
    assert_eq!(app.api("PUT", PATH, Some(&saved)).status, 200);
    for (body, status, code) in [
        (
            json!({ "subject": "{{ ticket.secret }}" }),
            400,
            "unknown_variable",
        ),
        (
            json!({ "html": "{% include \"x\" %}" }),
            400,
            "unsupported_tag",
        ),
        (
            json!({ "text": "{{ ticket.number" }),
            400,
            "template_syntax",
        ),
        (json!({ "subject": 7 }), 400, "invalid_body"),
    ] {
        let r = app.api("PUT", PATH, Some(&body));
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert_eq!(json(&r)["error"]["code"], code, "{body}");
    }
    assert_eq!(json(&app.api("GET", PATH, None))["own"], saved);
    for (path, code) in [
        ("demo/templates/no_such_mail/ca", "not_found"),
        ("demo/templates/new_ticket_autoresponse/fr", "not_found"),
    ] {
        let r = app.api("GET", path, None);
        assert_eq!(
            (r.status, json(&r)["error"]["code"].clone()),
            (404, json!(code))
        );
    }
}

#[test]
fn only_administrators_read_or_change_templates() {
    let app = TestApp::new();
    let scoped = app.token_for(DEMO, 1, Some(BTreeSet::from([Permission::TicketReply])));
    for method in ["GET", "PUT", "DELETE"] {
        let body = (method == "PUT").then(|| json!({ "subject": "x" }));
        let r = app.api_as(&scoped, method, PATH, body.as_ref());
        assert_eq!(r.status, 403, "{method}: {}", r.text());
    }
    assert_eq!(json(&app.api("GET", PATH, None))["own"], json!({}));
}

#[test]
fn mail_goes_out_with_the_instances_own_texts() {
    let app = TestApp::new();
    let own = json!({ "subject": "We have your request {{ ticket.number }}, {{ user.name }}" });
    let r = app.api(
        "PUT",
        "demo/templates/new_ticket_autoresponse/en",
        Some(&own),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mail = "From: Pau <pau@uni.example>\r\nTo: support@demo.taquilla.test\r\n\
                Subject: Locker\r\n\r\nMy locker is stuck.\r\n";
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), mail);
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.text().trim().to_owned();

    let sent = app.send_pending_mail(DEMO);
    let parsed = sent
        .iter()
        .find(|m| m.to.iter().any(|t| t.address == "pau@uni.example"))
        .unwrap_or_else(|| panic!("no mail to Pau in {sent:?}"));
    assert!(
        parsed
            .subject
            .contains(&format!("We have your request {number}, Pau")),
        "{}",
        parsed.subject
    );
}
