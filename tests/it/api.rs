//! The API over HTTP: osTicket-compatible ticket creation, the JSON API
//! under `/api/v1`, authentication by agent token and API key.

use std::collections::BTreeSet;

use taquilla_core::domain::{EntryKind, Permission};
use taquilla_tests::app::{DEMO, OTHER, TestApp};

const JSON_TICKET: &str = r#"{
    "name": "Angry User", "email": "angry@example.org", "phone": "555-1234",
    "subject": "Printer on fire", "message": "It is on fire.",
    "ip": "192.0.2.10", "topicId": 1, "room": "B-12"
}"#;

fn error_code(r: &taquilla_tests::http::Response) -> String {
    r.header("x-error-code").unwrap_or_default().to_owned()
}

#[test]
fn osticket_json_creation_answers_201_with_the_number_as_plain_text() {
    let app = TestApp::new();
    let r = app.osticket_create(Some(DEMO), "json", Some(&app.api_key), JSON_TICKET);
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let number = r.text();
    assert_eq!(number.len(), 6, "demo numbers are ######: {number}");
    let (ticket, thread) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(ticket.subject, "Printer on fire");
    assert_eq!(ticket.fields.get("room").map(String::as_str), Some("B-12"));
    assert_eq!(thread[0].kind, EntryKind::Message);
    assert!(thread[0].body_text.contains("It is on fire."));
}

#[test]
fn the_key_alone_names_the_instance_at_the_bare_api_path() {
    let app = TestApp::new();
    let r = app.osticket_create(None, "json", Some(&app.api_key), JSON_TICKET);
    assert_eq!(r.status, 201, "{}", r.text());
    let (ticket, _) = app.ticket_and_thread(DEMO, &r.text());
    assert_eq!(ticket.number, r.text());
}

#[test]
fn osticket_xml_creation_with_attachments_stores_them() {
    let app = TestApp::new();
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ticket alert="true" autorespond="false" source="API">
    <name>Angry User</name>
    <email>api@example.org</email>
    <subject>Testing API</subject>
    <message type="text/plain"><![CDATA[Message content here]]></message>
    <attachments>
        <file name="file.txt" type="text/plain"><![CDATA[File content]]></file>
        <file name="image.gif" type="image/gif" encoding="base64">R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7</file>
    </attachments>
</ticket>"#;
    let r = app.osticket_create(Some(DEMO), "xml", Some(&app.api_key), xml);
    assert_eq!(r.status, 201, "{}", r.text());
    let (_, thread) = app.ticket_and_thread(DEMO, &r.text());
    let files = &thread[0].attachments;
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].name, "file.txt");
    assert_eq!(app.blob(&files[0].blob), b"File content");
    assert!(app.blob(&files[1].blob).starts_with(b"GIF89a"));
}

#[test]
fn a_data_url_html_message_is_sanitised_and_json_attachments_are_stored() {
    let app = TestApp::new();
    let body = r#"{"name":"A","email":"a@example.org","subject":"HTML",
        "message":"data:text/html,<p>Hello <b>there</b><script>alert(1)</script></p>",
        "attachments":[{"note.txt":"data:text/plain;base64,aGVsbG8="}]}"#;
    let r = app.osticket_create(Some(DEMO), "json", Some(&app.api_key), body);
    assert_eq!(r.status, 201, "{}", r.text());
    let (_, thread) = app.ticket_and_thread(DEMO, &r.text());
    let entry = &thread[0];
    assert!(
        entry.body_html.contains("<b>there</b>"),
        "{}",
        entry.body_html
    );
    assert!(!entry.body_html.contains("script"), "{}", entry.body_html);
    assert_eq!(entry.attachments.len(), 1);
    assert_eq!(app.blob(&entry.attachments[0].blob), b"hello");
}

/// Instance, key, body, expected status and code.
type BadCase<'a> = (Option<&'a str>, Option<&'a str>, String, u16, &'a str);

#[test]
fn bad_osticket_requests_get_4xx_with_a_stable_code_and_create_nothing() {
    let app = TestApp::new();
    let key = app.api_key.clone();
    let long_subject = format!(
        r#"{{"name":"A","email":"a@example.org","subject":"{}","message":"M"}}"#,
        "s".repeat(300)
    );
    let long_body = format!(
        r#"{{"name":"A","email":"a@example.org","subject":"S","message":"{}"}}"#,
        "b".repeat(200_000)
    );
    let cases: Vec<BadCase> = vec![
        (Some("nowhere"), Some(&key), JSON_TICKET.into(), 404, "instance_not_found"),
        (Some(DEMO), Some(&key), r#"{"name":"A","subject":"S","message":"M"}"#.into(), 400, "invalid_field"),
        (Some(DEMO), Some(&key), r#"{"name":"A","email":"nope","subject":"S","message":"M"}"#.into(), 400, "invalid_field"),
        (Some(DEMO), Some(&key), long_subject, 400, "invalid_field"),
        (Some(DEMO), Some(&key), long_body, 400, "invalid_field"),
        (Some(DEMO), Some(&key), r#"{"name":"A","email":"a@example.org","subject":"S","message":"M","topicId":99}"#.into(), 400, "invalid_field"),
        (Some(DEMO), Some(&key), r#"{"name":"A","email":"a@example.org","subject":"S","message":"data:text/html;base64,%%%"}"#.into(), 400, "invalid_field"),
        (Some(DEMO), Some(&key), "{not json".into(), 400, "invalid_field"),
        (Some(DEMO), Some("tq_demo_wrongwrongwrongwrongwrongwrongwr"), JSON_TICKET.into(), 400, "unknown_api_key"),
        (Some(DEMO), None, JSON_TICKET.into(), 401, "missing_api_key"),
    ];
    for (instance, key, body, status, code) in cases {
        let r = app.osticket_create(instance, "json", key, &body);
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (status, code),
            "{}",
            r.text()
        );
        assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    }
    assert_eq!(app.count_tickets(DEMO), 0);
}

#[test]
fn a_key_from_a_disallowed_address_or_of_another_instance_is_refused_with_401() {
    let app = TestApp::new();
    let far_key = app.create_api_key(DEMO, &["203.0.113.0/24"], BTreeSet::new());
    let r = app.osticket_create(Some(DEMO), "json", Some(&far_key), JSON_TICKET);
    assert_eq!((r.status, error_code(&r).as_str()), (401, "ip_not_allowed"));
    let other_key = app.create_api_key(OTHER, &["127.0.0.1"], BTreeSet::new());
    let r = app.osticket_create(Some(DEMO), "json", Some(&other_key), JSON_TICKET);
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (401, "api_key_wrong_instance")
    );
    assert_eq!(app.count_tickets(DEMO), 0);
    // The other instance's key works on its own instance.
    let r = app.osticket_create(Some(OTHER), "json", Some(&other_key), JSON_TICKET);
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn a_key_without_ticket_create_is_forbidden() {
    let app = TestApp::new();
    let key = app.create_api_key(
        DEMO,
        &["127.0.0.1"],
        BTreeSet::from([Permission::TicketNote]),
    );
    let r = app.osticket_create(Some(DEMO), "json", Some(&key), JSON_TICKET);
    assert_eq!((r.status, error_code(&r).as_str()), (403, "forbidden"));
    assert_eq!(app.count_tickets(DEMO), 0);
}

#[test]
fn a_deactivated_key_is_refused_with_401() {
    let app = TestApp::new();
    let key = app.create_api_key(DEMO, &["127.0.0.1"], BTreeSet::new());
    let demo = taquilla_core::domain::InstanceId::parse(DEMO).unwrap();
    let keys = app
        .rt
        .block_on(taquilla_core::services::apikeys::list(
            app.store.as_ref(),
            &demo,
        ))
        .unwrap();
    let record = keys
        .iter()
        .find(|k| k.hash == taquilla_core::services::apikeys::hash_key(&key))
        .unwrap();
    app.rt
        .block_on(taquilla_core::services::apikeys::deactivate(
            app.store.as_ref(),
            &demo,
            &record.id,
        ))
        .unwrap();
    let r = app.osticket_create(Some(DEMO), "json", Some(&key), JSON_TICKET);
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (401, "api_key_inactive")
    );
}
