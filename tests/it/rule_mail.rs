//! Rules that send mail, over HTTP on the real server: a creation rule
//! answers the user with a canned response expanded for the ticket (a
//! response in the thread, mailed as responses are) and mails the
//! addresses it names from the `rule_mail` template, both
//! `Auto-Submitted: auto-generated`, never to a suppressed or a machine's
//! address, and once however often the outbox is sent; an update rule
//! sends nothing for an automatic message; a rule whose mail names an
//! unknown variable, or an unknown canned response, is refused when saved,
//! and so is an instance's own `rule_mail` text naming one.

use serde_json::{Value, json};
use taquilla_core::domain::{Author, EntryKind};
use taquilla_mail::inbound::ParsedMail;
use taquilla_tests::app::{DEMO, TestApp, json};
use taquilla_tests::http::Response;

fn code(r: &Response) -> String {
    json(r)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn created(app: &TestApp, kind: &str, body: &Value) -> Value {
    let r = app.api("POST", &format!("{DEMO}/{kind}"), Some(body));
    assert_eq!(r.status, 201, "{kind} {body}: {}", r.text());
    json(&r)
}

fn mail(from: &str, subject: &str, headers: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@demo.taquilla.test\r\nSubject: {subject}\r\n{headers}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

fn header<'a>(mail: &'a ParsedMail, name: &str) -> Option<&'a str> {
    mail.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn to(mail: &ParsedMail) -> Vec<String> {
    mail.to.iter().map(|m| m.address.clone()).collect()
}

/// Suppresses `address` in the instance's outbound settings.
fn suppress(app: &TestApp, address: &str) {
    let current = json(&app.api("GET", DEMO, None));
    let mut mail = current["mail"].clone();
    mail["outbound"]["suppressed"] = json!([address]);
    let r = app.api(
        "PATCH",
        DEMO,
        Some(&json!({"version": current["version"], "mail": mail})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_rule_answers_with_a_canned_response_and_mails_the_addresses_it_names() {
    let app = TestApp::new();
    suppress(&app, "gone@uni.example");
    let canned = created(
        &app,
        "canned-responses",
        &json!({"title": "Scholarships", "department": null,
                "body": "Dear {{ user.name }}, the scholarship office answers ticket {{ ticket.number }} within a week."}),
    );
    let rule = created(
        &app,
        "rules",
        &json!({
            "name": "Scholarships",
            "moment": {"on": "creation", "sources": ["email"]},
            "conditions": [{"field": "subject", "op": "contains", "value": "scholarship"}],
            "actions": [
                {"do": "send_canned", "canned": canned["id"]},
                {"do": "send_mail",
                 "to": ["Dean@uni.example", "gone@uni.example", "noreply@uni.example"],
                 "subject": "Scholarship request {{ ticket.number }}",
                 "body": "{{ user.name }} <{{ user.email }}> asks about: {{ ticket.subject }}"},
            ],
        }),
    );
    assert_eq!(rule["actions"][1]["do"], "send_mail");

    let raw = mail(
        "Ana Puig <ana@uni.example>",
        "Scholarship deadline",
        "Message-ID: <grant@uni.example>\r\n",
        "When is the deadline?",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.text().trim().to_owned();
    let (_, thread) = app.ticket_and_thread(DEMO, &number);
    let fired: Vec<_> = thread
        .iter()
        .filter(|e| e.event.as_deref() == Some("rule_fired"))
        .collect();
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].data["actions"],
        format!(
            "send_canned {}; send_mail Dean@uni.example, gone@uni.example, noreply@uni.example",
            canned["id"]
        )
    );

    let mails = app.send_pending_mail(DEMO);
    // The dean, once: the suppressed address and the machine's get nothing.
    let dean: Vec<&ParsedMail> = mails
        .iter()
        .filter(|m| {
            m.headers.iter().any(|(n, _)| n == "X-Taquilla-Ticket") && to(m) == ["dean@uni.example"]
        })
        .collect();
    assert_eq!(
        dean.len(),
        1,
        "{:?}",
        mails.iter().map(to).collect::<Vec<_>>()
    );
    let dean = dean[0];
    assert!(
        dean.subject
            .contains(&format!("Scholarship request {number}")),
        "{}",
        dean.subject
    );
    assert!(
        dean.text
            .contains("Ana Puig <ana@uni.example> asks about: Scholarship deadline"),
        "{}",
        dean.text
    );
    assert!(dean.text.contains("\"Scholarships\""), "{}", dean.text);
    assert_eq!(header(dean, "Auto-Submitted"), Some("auto-generated"));
    for nobody in ["gone@uni.example", "noreply@uni.example"] {
        assert!(
            !mails.iter().any(|m| to(m).contains(&nobody.to_owned())),
            "{nobody}"
        );
    }

    // The user's canned answer: a response in the thread, by the rules,
    // mailed as responses are but as automatic mail.
    let (ticket, thread) = app.ticket_and_thread(DEMO, &number);
    let responses: Vec<_> = thread
        .iter()
        .filter(|e| e.kind == EntryKind::Response)
        .collect();
    assert_eq!(responses.len(), 1, "{thread:?}");
    assert_eq!(responses[0].author, Author::System("rules".into()));
    let expected =
        format!("Dear Ana Puig, the scholarship office answers ticket {number} within a week.");
    assert!(
        responses[0].body_text.contains(&expected),
        "{}",
        responses[0].body_text
    );
    assert!(ticket.answered);
    let answer: Vec<&ParsedMail> = mails
        .iter()
        .filter(|m| to(m) == ["ana@uni.example"] && m.text.contains(&expected))
        .collect();
    assert_eq!(
        answer.len(),
        1,
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert_eq!(header(answer[0], "Auto-Submitted"), Some("auto-generated"));

    // Sending again sends and writes nothing more.
    assert!(app.send_pending_mail(DEMO).is_empty());
    let (_, again) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(
        again
            .iter()
            .filter(|e| e.kind == EntryKind::Response)
            .count(),
        1
    );
}

#[test]
fn an_update_rule_sends_nothing_for_an_automatic_message() {
    let app = TestApp::new();
    let canned = created(
        &app,
        "canned-responses",
        &json!({"title": "Got it", "department": null, "body": "We got your message."}),
    );
    created(
        &app,
        "rules",
        &json!({
            "name": "Acknowledge",
            "moment": {"on": "update", "events": ["user_message"]},
            "actions": [
                {"do": "send_canned", "canned": canned["id"]},
                {"do": "send_mail", "to": ["watch@uni.example"], "subject": "New message", "body": "On {{ ticket.number }}."},
            ],
        }),
    );
    let raw = mail(
        "pau@uni.example",
        "Printer",
        "Message-ID: <printer@uni.example>\r\n",
        "It jams.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
    let number = r.text().trim().to_owned();
    app.send_pending_mail(DEMO);

    // An out-of-office answer to our mail is threaded; the rule fires but
    // sends nothing, and says why.
    let auto = mail(
        "pau@uni.example",
        "Automatic reply: Printer",
        "In-Reply-To: <printer@uni.example>\r\nAuto-Submitted: auto-replied\r\n",
        "I am away until Monday.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &auto);
    assert_eq!(r.status, 200, "{}", r.text());
    let (_, thread) = app.ticket_and_thread(DEMO, &number);
    let fired: Vec<_> = thread
        .iter()
        .filter(|e| e.event.as_deref() == Some("rule_fired"))
        .collect();
    assert_eq!(fired.len(), 1);
    let skipped = &fired[0].data["skipped"];
    assert!(
        skipped.contains("send_canned") && skipped.contains("send_mail watch@uni.example"),
        "{skipped}"
    );
    assert!(skipped.contains("automatic"), "{skipped}");
    let mails = app.send_pending_mail(DEMO);
    assert!(
        !mails.iter().any(|m| to(m) == ["watch@uni.example"]),
        "{:?}",
        mails.iter().map(to).collect::<Vec<_>>()
    );
    assert!(
        !mails
            .iter()
            .any(|m| m.text.contains("We got your message."))
    );

    // A person's message is acknowledged.
    let person = mail(
        "pau@uni.example",
        "Re: Printer",
        "In-Reply-To: <printer@uni.example>\r\n",
        "Still jams.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &person);
    assert_eq!(r.status, 200, "{}", r.text());
    let mails = app.send_pending_mail(DEMO);
    assert!(mails.iter().any(|m| to(m) == ["watch@uni.example"]));
    assert!(
        mails
            .iter()
            .any(|m| to(m) == ["pau@uni.example"] && m.text.contains("We got your message."))
    );
}

#[test]
fn a_rule_whose_mail_names_an_unknown_variable_or_canned_response_is_refused() {
    let app = TestApp::new();
    let rule = |actions: Value| json!({"name": "Mailer", "moment": {"on": "creation"}, "actions": actions});
    for (actions, status, expected) in [
        (
            json!([{"do": "send_mail", "to": ["a@uni.example"], "subject": "{{ ticket.link }}", "body": "x"}]),
            400,
            "unknown_variable",
        ),
        (
            json!([{"do": "send_mail", "to": ["a@uni.example"], "subject": "x", "body": "{{ ticket.number"}]),
            400,
            "template_syntax",
        ),
        (
            json!([{"do": "send_canned", "canned": 99}]),
            400,
            "invalid_field",
        ),
    ] {
        let r = app.api(
            "POST",
            &format!("{DEMO}/rules"),
            Some(&rule(actions.clone())),
        );
        assert_eq!(
            (r.status, code(&r)),
            (status, expected.to_owned()),
            "{actions}: {}",
            r.text()
        );
    }
    let r = app.api(
        "POST",
        &format!("{DEMO}/rules"),
        Some(&rule(json!([{"do": "send_canned", "canned": 99}]))),
    );
    assert!(r.text().contains("rule_unknown_canned"), "{}", r.text());
    let list = json(&app.api("GET", &format!("{DEMO}/rules"), None));
    assert_eq!(list["items"], json!([]));

    // A fine one saves; changing it to a bad text is refused the same way.
    let saved = created(
        &app,
        "rules",
        &rule(
            json!([{"do": "send_mail", "to": ["a@uni.example"], "subject": "About {{ ticket.number }}", "body": "{{ user.name }}"}]),
        ),
    );
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/rules/{}", saved["id"]),
        Some(&json!({"version": saved["version"],
                     "actions": [{"do": "send_mail", "to": ["a@uni.example"], "subject": "x", "body": "{{ recipient.secret }}"}]})),
    );
    assert_eq!((r.status, code(&r).as_str()), (400, "unknown_variable"));

    // The rule_mail template is an instance's to change, checked the same
    // way: the user's magic link is no variable of a mail to other people.
    let path = format!("{DEMO}/templates/rule_mail/ca");
    let r = app.api("GET", &path, None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        json(&r)["builtin"]["html"]
            .as_str()
            .unwrap()
            .contains("rule.body_html")
    );
    let r = app.api("PUT", &path, Some(&json!({"subject": "{{ ticket.link }}"})));
    assert_eq!((r.status, code(&r).as_str()), (400, "unknown_variable"));
    let r = app.api(
        "PUT",
        &path,
        Some(&json!({"subject": "Avís de la regla {{ rule.name }}: {{ rule.subject }}"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}
