//! Canned responses over HTTP on the real server: managed by the agents
//! with `canned.manage` in their department (administrators for all
//! departments), seen by the agents of their department, their bodies
//! checked against the response mail's variables when saved, and expanded
//! for a ticket — alone or in a response, whose thread entry and mail show
//! the ticket's values and which carries their files.
//!
//! The demo instance: department 1 "IT Support", 2 "Academic Office";
//! role 1 "All access" (with `canned.manage`), role 2 "Limited access"
//! (without).

use serde_json::{Value, json};
use taquilla_core::blobs::BlobKey;
use taquilla_tests::app::{DEMO, TestApp, json};
use taquilla_tests::http::Response;

const LIST: &str = "demo/canned-responses";

fn code(r: &Response) -> String {
    json(r)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An agent of the demo instance with `role` in `department`; a token for it.
fn agent(app: &TestApp, email: &str, department: u32, role: u32) -> String {
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents"),
        Some(&json!({"name": email, "email": email, "department": department, "role": role})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = u32::try_from(json(&r)["agent"]["id"].as_u64().unwrap()).unwrap();
    app.token_for(DEMO, id, None)
}

/// The canned responses' titles a token's agent lists with `query`.
fn titles(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let r = app.api_as(token, "GET", &format!("{LIST}{query}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap().to_owned())
        .collect()
}

fn create(app: &TestApp, token: &str, body: &Value) -> Response {
    app.api_as(token, "POST", LIST, Some(body))
}

fn created(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = create(app, token, body);
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)
}

/// Opens a ticket for Ada Lovelace in department 1 (topic 1); its number.
fn open_ticket(app: &TestApp) -> String {
    let r = app.open_ticket(
        DEMO,
        &json!({
            "name": "Ada Lovelace",
            "email": "ada@example.org",
            "subject": "Projector broken",
            "body": {"text": "The projector does not start."},
            "topic": 1,
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)["number"].as_str().unwrap().to_owned()
}

#[test]
fn managers_of_a_department_write_its_canned_responses_and_its_agents_read_them() {
    let app = TestApp::new();
    let manager = agent(&app, "manager@demo.test", 1, 1);
    let limited = agent(&app, "limited@demo.test", 1, 2);
    let academic = agent(&app, "academic@demo.test", 2, 1);

    let printer = created(
        &app,
        &manager,
        &json!({"title": "Printer", "department": 1, "language": "en", "body": "Try turning it off and on."}),
    );
    assert_eq!(printer["version"], 1);
    assert_eq!(printer["department"], 1);
    assert_eq!(printer["active"], true);
    assert_eq!(printer["body_html"], "<p>Try turning it off and on.</p>");
    assert_eq!(printer["body_text"], "Try turning it off and on.");
    let id = printer["id"].as_u64().unwrap();
    let one = format!("{LIST}/{id}");

    // For all departments: administrators only. For another department:
    // canned.manage there.
    let everyone = json!({"title": "Thanks", "department": null, "body": "Thank you."});
    let r = create(&app, &manager, &everyone);
    assert_eq!(
        (r.status, code(&r)),
        (403, "forbidden".into()),
        "{}",
        r.text()
    );
    let r = create(
        &app,
        &manager,
        &json!({"title": "Grades", "department": 2, "body": "Grades are out."}),
    );
    assert_eq!(
        (r.status, code(&r)),
        (403, "forbidden".into()),
        "{}",
        r.text()
    );
    created(&app, &app.token, &everyone);
    created(
        &app,
        &academic,
        &json!({"title": "Grades", "department": 2, "language": "ca", "body": "Les notes ja hi són."}),
    );

    // Each agent sees its departments' and those for all.
    assert_eq!(titles(&app, &manager, ""), ["Printer", "Thanks"]);
    assert_eq!(titles(&app, &limited, ""), ["Printer", "Thanks"]);
    assert_eq!(titles(&app, &academic, ""), ["Thanks", "Grades"]);
    assert_eq!(
        titles(&app, &app.token, ""),
        ["Printer", "Thanks", "Grades"]
    );
    assert_eq!(
        titles(&app, &app.token, "?department=2"),
        ["Thanks", "Grades"]
    );
    assert_eq!(
        titles(&app, &app.token, "?language=ca"),
        ["Thanks", "Grades"]
    );
    assert_eq!(
        titles(&app, &app.token, "?department=1&language=en"),
        ["Printer", "Thanks"]
    );

    // An agent without canned.manage reads but does not write (403); an
    // agent of another department does not see it at all (404).
    let r = app.api_as(&limited, "GET", &one, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let change = json!({"version": 1, "title": "Printers"});
    let r = app.api_as(&limited, "PATCH", &one, Some(&change));
    assert_eq!(
        (r.status, code(&r)),
        (403, "forbidden".into()),
        "{}",
        r.text()
    );
    let r = app.api_as(&limited, "DELETE", &one, None);
    assert_eq!(
        (r.status, code(&r)),
        (403, "forbidden".into()),
        "{}",
        r.text()
    );
    let r = create(
        &app,
        &limited,
        &json!({"title": "Mine", "department": 1, "body": "x"}),
    );
    assert_eq!(
        (r.status, code(&r)),
        (403, "forbidden".into()),
        "{}",
        r.text()
    );
    for (method, body) in [("GET", None), ("PATCH", Some(&change)), ("DELETE", None)] {
        let r = app.api_as(&academic, method, &one, body);
        assert_eq!(
            (r.status, code(&r)),
            (404, "not_found".into()),
            "{method}: {}",
            r.text()
        );
    }

    // The manager changes it (from the version read), not from a stale one,
    // and cannot move it to a department it does not manage.
    let r = app.api_as(
        &manager,
        "PATCH",
        &one,
        Some(&json!({"version": 1, "title": "Printers", "body": {"html": "<p>Restart <b>it</b>.</p>"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let changed = json(&r);
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["title"], "Printers");
    assert_eq!(changed["body_html"], "<p>Restart <b>it</b>.</p>");
    assert_eq!(changed["body_text"], "Restart it.");
    let r = app.api_as(&manager, "PATCH", &one, Some(&change));
    assert_eq!(
        (r.status, code(&r)),
        (409, "conflict".into()),
        "{}",
        r.text()
    );
    let r = app.api_as(
        &manager,
        "PATCH",
        &one,
        Some(&json!({"version": 2, "department": 2})),
    );
    assert_eq!(
        (r.status, code(&r)),
        (403, "forbidden".into()),
        "{}",
        r.text()
    );

    // Put aside, it is offered to nobody but those who manage it.
    let r = app.api_as(
        &manager,
        "PATCH",
        &one,
        Some(&json!({"version": 2, "active": false})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(titles(&app, &limited, ""), ["Thanks"]);
    assert_eq!(titles(&app, &manager, ""), ["Printers", "Thanks"]);
    let r = app.api_as(&limited, "GET", &one, None);
    assert_eq!(
        (r.status, code(&r)),
        (404, "not_found".into()),
        "{}",
        r.text()
    );

    let r = app.api_as(&manager, "DELETE", &one, None);
    assert_eq!(r.status, 204, "{}", r.text());
    let r = app.api_as(&manager, "GET", &one, None);
    assert_eq!(
        (r.status, code(&r)),
        (404, "not_found".into()),
        "{}",
        r.text()
    );
    // Its title is free again.
    created(
        &app,
        &manager,
        &json!({"title": "Printers", "department": 1, "body": "Again."}),
    );
}

#[test]
fn a_body_naming_a_variable_canned_responses_do_not_have_is_refused_when_saved() {
    let app = TestApp::new();
    for (body, expected) in [
        (json!("Dear {{ user.nickname }}"), "unknown_variable"),
        // The user's magic link is their key: a canned body, copied to
        // every collaborator, may not carry it.
        (
            json!({"html": "<p>{{ ticket.link }}</p>"}),
            "unknown_variable",
        ),
        (json!("{{ recipient.name }}"), "unknown_variable"),
        (json!("{{ ticket.number "), "template_syntax"),
        (json!("{{ now() }}"), "function_not_allowed"),
    ] {
        let r = create(
            &app,
            &app.token,
            &json!({"title": "Bad", "department": 1, "body": body}),
        );
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(code(&r), expected, "{body}: {}", r.text());
    }
    assert_eq!(titles(&app, &app.token, ""), Vec::<String>::new());

    // Quoted strings in plain text work as in templates.
    let fine = created(
        &app,
        &app.token,
        &json!({"title": "Fine", "department": 1,
                "body": "Dear {{ user.name | default(value='user') }}, about {{ ticket.number }}"}),
    );
    // A change to a bad body is refused and changes nothing.
    let one = format!("{LIST}/{}", fine["id"]);
    let r = app.api(
        "PATCH",
        &one,
        Some(&json!({"version": 1, "body": "{{ ticket.secret }}"})),
    );
    assert_eq!(
        (r.status, code(&r)),
        (400, "unknown_variable".into()),
        "{}",
        r.text()
    );
    assert!(
        json(&r)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ticket.secret")
    );
    let r = app.api("GET", &one, None);
    assert_eq!(json(&r)["version"], 1);
}

#[test]
fn bad_input_is_refused_with_the_field_it_is_about() {
    let app = TestApp::new();
    let field = |r: &Response| {
        (
            r.status,
            code(r),
            json(r)["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let refused = |body: Value, expected: &str| {
        let r = create(&app, &app.token, &body);
        assert_eq!(
            field(&r),
            (400, "invalid_field".into(), format!("invalid {expected}")),
            "{body}: {}",
            r.text()
        );
    };
    refused(
        json!({"title": "  ", "department": 1, "body": "x"}),
        "title",
    );
    refused(json!({"department": 1, "body": "x"}), "title");
    refused(
        json!({"title": "A", "department": 1, "language": "fr", "body": "x"}),
        "language",
    );
    refused(json!({"title": "A", "body": "x"}), "department");
    refused(
        json!({"title": "A", "department": 99, "body": "x"}),
        "department",
    );
    refused(json!({"title": "A", "department": 1}), "body");
    refused(json!({"title": "A", "department": 1, "body": "  "}), "body");
    refused(
        json!({"title": "A", "department": 1, "body": "x",
               "attachments": [{"name": "a.txt", "content_type": "text/plain", "data_base64": "%%%"}]}),
        "attachments",
    );
    created(
        &app,
        &app.token,
        &json!({"title": "Taken", "department": 1, "body": "x"}),
    );
    refused(
        json!({"title": "taken", "department": 2, "body": "y"}),
        "title",
    );
    let r = app.api("GET", &format!("{LIST}?language=fr"), None);
    assert_eq!(
        field(&r),
        (400, "invalid_field".into(), "invalid language".into()),
        "{}",
        r.text()
    );
    let r = app.api("GET", &format!("{LIST}/nope"), None);
    assert_eq!((r.status, code(&r)), (404, "not_found".into()));
    assert_eq!(titles(&app, &app.token, ""), ["Taken"]);
}

#[test]
fn a_canned_response_expanded_in_a_response_shows_the_tickets_values_in_the_thread_and_the_mail() {
    let app = TestApp::new();
    let manager = agent(&app, "manager@demo.test", 1, 1);
    let canned = created(
        &app,
        &manager,
        &json!({
            "title": "Projector",
            "department": 1,
            "body": {"html": "<p>Hello {{ user.name }},</p><p>about ticket {{ ticket.number }} ({{ ticket.subject }}): the guide is attached.</p><p>{{ agent.name }}, {{ ticket.department }}</p>"},
            "attachments": [{"name": "projector guide.txt", "content_type": "text/plain", "data_base64": "UHJlc3MgdGhlIHJlZCBidXR0b24u"}],
        }),
    );
    let id = canned["id"].as_u64().unwrap();
    assert_eq!(canned["attachments"][0]["name"], "projector guide.txt");
    assert_eq!(canned["attachments"][0]["size"], 21);
    let number = open_ticket(&app);
    app.send_pending_mail(DEMO); // the auto-response

    // Expanded alone, for the agent to read before sending.
    let r = app.api_as(
        &manager,
        "GET",
        &format!("{DEMO}/tickets/{number}/canned/{id}"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let expanded = json(&r);
    let greeting = format!("about ticket {number} (Projector broken): the guide is attached.");
    assert!(
        expanded["text"]
            .as_str()
            .unwrap()
            .contains("Hello Ada Lovelace,"),
        "{expanded}"
    );
    assert!(
        expanded["text"].as_str().unwrap().contains(&greeting),
        "{expanded}"
    );
    assert!(
        expanded["html"]
            .as_str()
            .unwrap()
            .contains("<p>manager@demo.test, IT Support</p>"),
        "{expanded}"
    );
    assert_eq!(expanded["attachments"][0]["name"], "projector guide.txt");

    // Used in a response, after the agent's own words, with its file
    // beside the agent's.
    let r = app.api_as(
        &manager,
        "POST",
        &format!("{DEMO}/tickets/{number}/responses"),
        Some(&json!({
            "body": "Sorry for the wait.",
            "canned": id,
            "attachments": [{"name": "photo.txt", "content_type": "text/plain", "data_base64": "aGVsbG8="}],
        })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let (_, thread) = app.ticket_and_thread(DEMO, &number);
    let response = thread
        .iter()
        .rev()
        .find(|e| e.kind == taquilla_core::domain::EntryKind::Response)
        .expect("the response");
    let text = &response.body_text;
    assert!(text.starts_with("Sorry for the wait."), "{text}");
    assert!(text.contains("Hello Ada Lovelace,"), "{text}");
    assert!(text.contains(&greeting), "{text}");
    assert!(!response.body_html.contains("{{"), "{}", response.body_html);
    let names: Vec<&str> = response
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["photo.txt", "projector guide.txt"]);
    let copied = &response.attachments[1];
    assert_eq!(app.blob(&copied.blob), b"Press the red button.");
    assert!(
        copied.blob.as_str().contains("/tickets/"),
        "{}",
        copied.blob
    );

    // The user's mail carries the expanded text.
    let mails: Vec<_> = app
        .send_pending_mail(DEMO)
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.address == "ada@example.org"))
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].subject.contains(&format!("[#{number}]")),
        "{}",
        mails[0].subject
    );
    assert!(
        mails[0].text.contains("Hello Ada Lovelace,"),
        "{}",
        mails[0].text
    );
    assert!(mails[0].text.contains(&greeting), "{}", mails[0].text);

    // The canned response's own file stays, and goes with it when deleted.
    let own = BlobKey::parse(canned["attachments"][0]["blob"].as_str().unwrap()).unwrap();
    assert_eq!(app.blob(&own), b"Press the red button.");
    let r = app.api_as(&manager, "DELETE", &format!("{LIST}/{id}"), None);
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(
        app.rt
            .block_on(taquilla_core::blobs::Blobs::get(app.blobs.as_ref(), &own))
            .is_err()
    );
    assert_eq!(app.blob(&copied.blob), b"Press the red button.");
}

#[test]
fn a_canned_response_the_agent_may_not_use_on_the_ticket_is_not_found() {
    let app = TestApp::new();
    let manager = agent(&app, "manager@demo.test", 1, 1);
    let academic = agent(&app, "academic@demo.test", 2, 1);
    let number = open_ticket(&app);
    let other_department = created(
        &app,
        &academic,
        &json!({"title": "Grades", "department": 2, "body": "Grades are out."}),
    )["id"]
        .clone();
    let inactive = created(
        &app,
        &manager,
        &json!({"title": "Old", "department": 1, "active": false, "body": "Old text."}),
    )["id"]
        .clone();
    let fine = created(
        &app,
        &manager,
        &json!({"title": "Fine", "department": 1, "body": "Fine, {{ user.name }}."}),
    )["id"]
        .clone();
    let (_, before) = app.ticket_and_thread(DEMO, &number);

    for (token, id) in [
        (&app.token, &other_department),
        (&manager, &inactive),
        // Agent of department 2: neither the ticket nor the canned response.
        (&academic, &fine),
        (&manager, &json!(999)),
    ] {
        let r = app.api_as(
            token,
            "GET",
            &format!("{DEMO}/tickets/{number}/canned/{id}"),
            None,
        );
        assert_eq!(
            (r.status, code(&r)),
            (404, "not_found".into()),
            "{id}: {}",
            r.text()
        );
        let r = app.api_as(
            token,
            "POST",
            &format!("{DEMO}/tickets/{number}/responses"),
            Some(&json!({"canned": id})),
        );
        assert_eq!(
            (r.status, code(&r)),
            (404, "not_found".into()),
            "{id}: {}",
            r.text()
        );
    }
    // Neither a body nor a canned response.
    let r = app.api_as(
        &manager,
        "POST",
        &format!("{DEMO}/tickets/{number}/responses"),
        Some(&json!({"status": 1})),
    );
    assert_eq!(
        (r.status, code(&r)),
        (400, "invalid_field".into()),
        "{}",
        r.text()
    );
    let (_, after) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(after.len(), before.len(), "nothing was written");

    // The same canned response alone makes the whole body; an API key with
    // ticket.reply may use it too.
    let r = app.api_with_key(
        &app.api_key,
        "POST",
        &format!("{DEMO}/tickets/{number}/responses"),
        Some(&json!({"canned": fine})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let (_, thread) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(thread.last().unwrap().body_text, "Fine, Ada Lovelace.");
}
