//! `POST /api/tickets.email`: a raw message through the inbound mail
//! pipeline over HTTP, as osTicket's email API takes it.

use std::collections::BTreeSet;

use taquilla_core::domain::Permission;
use taquilla_tests::app::{DEMO, TestApp};

fn error_code(r: &taquilla_tests::http::Response) -> String {
    r.header("x-error-code").unwrap_or_default().to_owned()
}

fn message(from: &str, subject: &str, headers: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@demo.taquilla.test\r\nSubject: {subject}\r\n{headers}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

#[test]
fn a_message_opens_a_ticket_its_reply_threads_and_a_second_delivery_changes_nothing() {
    let app = TestApp::new();
    let first = message(
        "Pau <pau@uni.example>",
        "Projector",
        "Message-ID: <projector@uni.example>\r\n",
        "The projector in room 3 is broken.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &first);
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.text().trim().to_owned();
    assert_eq!(app.count_tickets(DEMO), 1);

    // At the bare path the key names the instance; the same message again
    // answers the same number and opens nothing.
    let again = app.osticket_create(None, "email", Some(&app.api_key), &first);
    assert_eq!((again.status, again.text().trim()), (200, number.as_str()));
    assert_eq!(app.count_tickets(DEMO), 1);

    let reply = message(
        "pau@uni.example",
        "Re: Projector",
        "In-Reply-To: <projector@uni.example>\r\n",
        "Any news?",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &reply);
    assert_eq!((r.status, r.text().trim()), (200, number.as_str()));
    let thread = app.thread(DEMO, &number);
    assert_eq!(thread.status, 200, "{}", thread.text());
    let thread = taquilla_tests::app::json(&thread);
    let bodies: Vec<&str> = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["body_text"].as_str())
        .collect();
    assert!(bodies.contains(&"Any news?"), "{bodies:?}");
}

#[test]
fn bad_messages_and_keys_get_a_stable_code_and_change_nothing() {
    let app = TestApp::new();
    let ok = message("ana@uni.example", "Hello", "", "Hi");
    let cases: Vec<(Option<String>, String, u16, &str)> = vec![
        (None, ok.clone(), 401, "missing_api_key"),
        (
            Some("tq_demo_wrongwrongwrongwrongwrongwrongwr".into()),
            ok.clone(),
            400,
            "unknown_api_key",
        ),
        (
            Some(app.api_key.clone()),
            "Subject: nobody\r\n\r\nx".into(),
            400,
            "mail_no_sender",
        ),
        (Some(app.api_key.clone()), String::new(), 400, "mail_empty"),
        (
            Some(app.api_key.clone()),
            message("support@demo.taquilla.test", "Loop", "", "x"),
            400,
            "mail_loop",
        ),
    ];
    for (key, body, status, code) in cases {
        let r = app.osticket_create(Some(DEMO), "email", key.as_deref(), &body);
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (status, code),
            "{}",
            r.text()
        );
    }
    let no_create = app.create_api_key(
        DEMO,
        &["127.0.0.1"],
        BTreeSet::from([Permission::TicketNote]),
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&no_create), &ok);
    assert_eq!((r.status, error_code(&r).as_str()), (403, "forbidden"));
    assert_eq!(app.count_tickets(DEMO), 0);
}
