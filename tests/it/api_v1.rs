//! The ticket API under `/api/v1/{instance}` over HTTP on the real server:
//! every action, bad input, authentication across instances, a permission
//! matrix, collision locks, version conflicts and concurrent opening.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use taquilla_core::domain::{EntryKind, Permission};
use taquilla_tests::app::{DEMO, OTHER, TestApp, json};
use taquilla_tests::http::Response;

/// The stable code of a JSON error body.
fn code(r: &Response) -> String {
    json(r)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn ticket_body(subject: &str) -> Value {
    json!({
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "subject": subject,
        "body": {"text": "The projector does not start."},
        "topic": 1,
    })
}

/// Opens a ticket as the demo admin; its JSON.
fn open(app: &TestApp, subject: &str) -> Value {
    let r = app.open_ticket(DEMO, &ticket_body(subject));
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)
}

fn number(ticket: &Value) -> String {
    ticket["number"].as_str().unwrap().to_owned()
}

fn version(ticket: &Value) -> i64 {
    ticket["version"].as_i64().unwrap()
}

/// An agent of the demo instance created through the admin API with
/// `role` in department 1; a token for it.
fn agent_with_role(app: &TestApp, email: &str, role: u32) -> (u32, String) {
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents"),
        Some(&json!({"name": email, "email": email, "department": 1, "role": role})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = u32::try_from(json(&r)["agent"]["id"].as_u64().unwrap()).unwrap();
    (id, app.token_for(DEMO, id, None))
}

fn post(app: &TestApp, path: &str, body: &Value) -> Response {
    app.api("POST", &format!("{DEMO}/{path}"), Some(body))
}

fn kinds(thread: &Value) -> Vec<String> {
    thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_agent_opens_a_ticket_reads_it_and_finds_it_in_the_queue() {
    let app = TestApp::new();
    let mut body = ticket_body("Projector broken");
    body["attachments"] =
        json!([{"name": "note.txt", "content_type": "text/plain", "data_base64": "aGVsbG8="}]);
    body["fields"] = json!({"room": "B-12"});
    let r = app.open_ticket(DEMO, &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let ticket = json(&r);
    assert_eq!(ticket["subject"], "Projector broken");
    assert_eq!(ticket["source"], "other");
    assert_eq!(ticket["fields"]["room"], "B-12");

    let got = app.get_ticket(DEMO, &number(&ticket));
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(json(&got)["id"], ticket["id"]);

    let thread = json(&app.thread(DEMO, &number(&ticket)));
    assert_eq!(kinds(&thread), ["message"]);
    let file = &thread["items"][0]["attachments"][0];
    assert_eq!(file["name"], "note.txt");
    assert_eq!(file["size"], 5);

    let queue = app.list_tickets(DEMO, "limit=10");
    assert_eq!(queue.status, 200, "{}", queue.text());
    let items = json(&queue)["items"].as_array().unwrap().clone();
    assert!(items.iter().any(|t| t["number"] == ticket["number"]));
}

#[test]
fn an_api_key_opens_tickets_with_source_api() {
    let app = TestApp::new();
    let r = app.api_with_key(
        &app.api_key,
        "POST",
        &format!("{DEMO}/tickets"),
        Some(&ticket_body("From an integration")),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(json(&r)["source"], "api");
    let listed = app.api_with_key(&app.api_key, "GET", &format!("{DEMO}/tickets"), None);
    assert_eq!(listed.status, 200, "{}", listed.text());
}

#[test]
fn responses_notes_and_messages_land_in_the_thread() {
    let app = TestApp::new();
    let n = number(&open(&app, "Conversation"));
    let r = post(
        &app,
        &format!("tickets/{n}/responses"),
        &json!({"body": {"html": "<p>On it<script>x</script></p>"}, "status": 2}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let answered = json(&r);
    assert_eq!(answered["answered"], true);
    assert_eq!(answered["status"], 2);
    assert_eq!(answered["state"], "closed");

    let r = post(
        &app,
        &format!("tickets/{n}/notes"),
        &json!({"body": "internal"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // The user called back: the message reopens the resolved ticket.
    let r = post(
        &app,
        &format!("tickets/{n}/messages"),
        &json!({"body": {"text": "Still broken"}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(json(&r)["state"], "open");

    let (ticket, thread) = app.ticket_and_thread(DEMO, &n);
    let entry_kinds: Vec<EntryKind> = thread.iter().map(|e| e.kind).collect();
    assert!(entry_kinds.contains(&EntryKind::Response));
    assert!(entry_kinds.contains(&EntryKind::Note));
    assert_eq!(
        entry_kinds
            .iter()
            .filter(|k| **k == EntryKind::Message)
            .count(),
        2
    );
    let response = thread
        .iter()
        .find(|e| e.kind == EntryKind::Response)
        .unwrap();
    assert!(!response.body_html.contains("script"));
    let message = thread.last().unwrap();
    assert_eq!(
        serde_json::to_value(&message.author).unwrap()["id"],
        json!(ticket.user.as_str()),
        "an entered message is the user's"
    );
}

#[test]
fn patch_applies_each_field_with_the_version_of_the_previous_change() {
    let app = TestApp::new();
    let ticket = open(&app, "Patch me");
    let n = number(&ticket);
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/tickets/{n}"),
        Some(&json!({
            "version": version(&ticket),
            "priority": 1, "topic": 2, "due_at": 4_102_444_800_000_i64,
            "assignee": {"agent": 1}
        })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = json(&r);
    assert_eq!(t["priority"], 1);
    assert_eq!(t["topic"], 2);
    assert_eq!(t["due_at"], 4_102_444_800_000_i64);
    assert_eq!(t["assignee"], 1);
    assert_eq!(version(&t), version(&ticket) + 4);

    let team = app.api(
        "POST",
        &format!("{DEMO}/teams"),
        Some(&json!({"name": "Night shift"})),
    );
    assert_eq!(team.status, 201, "{}", team.text());
    let team_id = json(&team)["id"].clone();
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/tickets/{n}"),
        Some(&json!({"version": version(&t), "topic": null, "due_at": null, "department": 2, "assignee": {"team": team_id}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = json(&r);
    assert_eq!(t["topic"], Value::Null);
    assert_eq!(t["due_at"], Value::Null);
    assert_eq!(t["department"], 2);
    assert_eq!(t["team"], team_id);

    let r = app.api(
        "PATCH",
        &format!("{DEMO}/tickets/{n}"),
        Some(&json!({"version": version(&t), "assignee": null, "status": 3})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let t = json(&r);
    assert_eq!(t["team"], Value::Null);
    assert_eq!(t["assignee"], Value::Null);
    assert_eq!(t["state"], "closed");
}

#[test]
fn one_word_actions_locks_collaborators_links_and_merge_work_over_http() {
    let app = TestApp::new();
    let a = number(&open(&app, "First"));
    let b = number(&open(&app, "Second"));
    let ok = |r: Response| {
        assert!(r.status == 200 || r.status == 204, "{}", r.text());
        if r.body.is_empty() {
            Value::Null
        } else {
            json(&r)
        }
    };

    assert_eq!(
        ok(post(&app, &format!("tickets/{a}/claim"), &json!({})))["assignee"],
        1
    );
    assert_eq!(
        ok(post(&app, &format!("tickets/{a}/release"), &json!({})))["assignee"],
        Value::Null
    );
    assert_eq!(
        ok(post(&app, &format!("tickets/{a}/close"), &json!({})))["state"],
        "closed"
    );
    assert_eq!(
        ok(post(&app, &format!("tickets/{a}/reopen"), &json!({})))["state"],
        "open"
    );

    let lock = ok(post(
        &app,
        &format!("tickets/{a}/lock"),
        &json!({"seconds": 60}),
    ));
    assert_eq!(lock["holder"], 1);
    assert!(lock["until_ms"].as_i64().unwrap() > 0);
    // An empty body takes the default time.
    let renewed = app.api("POST", &format!("{DEMO}/tickets/{a}/lock"), None);
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let r = app.api("DELETE", &format!("{DEMO}/tickets/{a}/lock"), None);
    assert_eq!(r.status, 204, "{}", r.text());

    let report = ok(post(
        &app,
        &format!("tickets/{a}/collaborators"),
        &json!({"text": "Bo <bo@example.org>, not-an-address, ada@example.org", "kind": "bcc"}),
    ));
    assert_eq!(report["added"].as_array().unwrap().len(), 1);
    assert_eq!(report["already"], json!(["ada@example.org"]));
    assert_eq!(report["invalid"].as_array().unwrap().len(), 1);
    let user = report["added"][0].as_str().unwrap().to_owned();
    let t = ok(app.api("GET", &format!("{DEMO}/tickets/{a}"), None));
    assert_eq!(t["collaborators"][0]["kind"], "bcc");
    let t = ok(app.api(
        "DELETE",
        &format!("{DEMO}/tickets/{a}/collaborators/{user}"),
        None,
    ));
    assert_eq!(t["collaborators"], json!([]));

    let linked = ok(post(
        &app,
        &format!("tickets/{a}/links"),
        &json!({"number": b}),
    ));
    assert_eq!(linked["links"].as_array().unwrap().len(), 1);
    let unlinked = ok(app.api("DELETE", &format!("{DEMO}/tickets/{a}/links/{b}"), None));
    assert_eq!(unlinked["links"], json!([]));

    let target = ok(post(
        &app,
        &format!("tickets/{a}/merge"),
        &json!({"into": b}),
    ));
    assert_eq!(target["number"], json!(b));
    let merged = ok(app.get_ticket(DEMO, &a));
    assert_eq!(merged["merged_into"], target["id"]);

    let deleted = ok(post(&app, &format!("tickets/{b}/delete"), &json!({})));
    assert_eq!(deleted["state"], "deleted");
    let queue = json(&app.list_tickets(DEMO, "state=deleted"));
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["number"] == json!(b))
    );
}

#[test]
fn users_and_organisations_round_trip() {
    let app = TestApp::new();
    let org = app.api(
        "POST",
        &format!("{DEMO}/organisations"),
        Some(&json!({"name": "Physics", "domains": ["physics.example.org"]})),
    );
    assert_eq!(org.status, 201, "{}", org.text());
    let org_id = json(&org)["id"].as_u64().unwrap();
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/organisations/{org_id}"),
        Some(&json!({"name": "Physics Faculty"})),
    );
    assert_eq!(json(&r)["name"], "Physics Faculty", "{}", r.text());
    let r = app.api("GET", &format!("{DEMO}/organisations/{org_id}"), None);
    assert_eq!(json(&r)["name"], "Physics Faculty");
    let r = app.api("GET", &format!("{DEMO}/organisations"), None);
    assert_eq!(json(&r)["items"].as_array().unwrap().len(), 1);

    let created = app.api(
        "POST",
        &format!("{DEMO}/users"),
        Some(&json!({"email": "Marie@Physics.example.org", "name": "Marie"})),
    );
    assert_eq!(created.status, 200, "{}", created.text());
    let user = json(&created);
    assert_eq!(user["organisation"], org_id);
    let again = json(&app.api(
        "POST",
        &format!("{DEMO}/users"),
        Some(&json!({"email": "marie@physics.example.org"})),
    ));
    assert_eq!(again["id"], user["id"], "find-or-create finds");
    let id = user["id"].as_str().unwrap();
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/users/{id}"),
        Some(&json!({"phone": "555", "language": "ca", "organisation": null})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = json(&app.api("GET", &format!("{DEMO}/users/{id}"), None));
    assert_eq!(got["phone"], "555");
    assert_eq!(got["organisation"], Value::Null);
    let _ = open(&app, "A second user");
    let page = json(&app.api("GET", &format!("{DEMO}/users?limit=1"), None));
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["cursor"].is_string());
    // The test API key has only ticket permissions.
    let r = app.api_with_key(
        &app.api_key,
        "POST",
        &format!("{DEMO}/users"),
        Some(&json!({"email": "x@example.org"})),
    );
    assert_eq!((r.status, code(&r).as_str()), (403, "forbidden"));
}

#[test]
fn bad_input_gets_4xx_with_a_stable_code_and_changes_nothing() {
    let app = TestApp::new();
    let ticket = open(&app, "Untouched");
    let n = number(&ticket);
    let before = app.count_tickets(DEMO);
    let long = "x".repeat(256);
    let huge = "x".repeat(70 * 1024);
    let mut cases: Vec<(&str, String, Value, u16, &str)> = vec![
        (
            "POST",
            "nowhere/tickets".into(),
            ticket_body("x"),
            404,
            "instance_not_found",
        ),
        (
            "POST",
            format!("{DEMO}/tickets"),
            json!({"email": "a@example.org"}),
            400,
            "invalid_body",
        ),
        (
            "POST",
            format!("{DEMO}/tickets"),
            json!({"subject": 5}),
            400,
            "invalid_body",
        ),
        (
            "GET",
            format!("{DEMO}/tickets?limit=0"),
            Value::Null,
            400,
            "invalid_field",
        ),
        (
            "GET",
            format!("{DEMO}/tickets?state=sideways"),
            Value::Null,
            400,
            "invalid_query",
        ),
        (
            "GET",
            format!("{DEMO}/tickets/nope"),
            Value::Null,
            404,
            "not_found",
        ),
        (
            "PATCH",
            format!("{DEMO}/tickets/{n}"),
            json!({"version": version(&ticket), "status": 99}),
            404,
            "not_found",
        ),
        (
            "PATCH",
            format!("{DEMO}/tickets/{n}"),
            json!({"version": version(&ticket) + 7, "priority": 1}),
            409,
            "conflict",
        ),
        (
            "PATCH",
            format!("{DEMO}/tickets/{n}"),
            json!({"version": version(&ticket), "colour": "red"}),
            400,
            "invalid_body",
        ),
        (
            "POST",
            format!("{DEMO}/tickets/{n}/close"),
            json!({"version": version(&ticket) - 1}),
            409,
            "conflict",
        ),
        (
            "POST",
            format!("{DEMO}/tickets/{n}/responses"),
            json!({"body": ""}),
            400,
            "invalid_field",
        ),
        (
            "POST",
            format!("{DEMO}/tickets/{n}/responses"),
            json!({"body": "x", "status": 99}),
            400,
            "invalid_field",
        ),
        (
            "POST",
            format!("{DEMO}/tickets/{n}/notes"),
            json!({"body": huge}),
            400,
            "invalid_field",
        ),
        (
            "POST",
            format!("{DEMO}/tickets/{n}/merge"),
            json!({"into": n}),
            400,
            "invalid_field",
        ),
        (
            "POST",
            format!("{DEMO}/tickets/{n}/links"),
            json!({"number": "000000"}),
            400,
            "invalid_field",
        ),
        (
            "POST",
            format!("{DEMO}/tickets/{n}/lock"),
            json!({"seconds": 0}),
            400,
            "invalid_field",
        ),
        (
            "POST",
            format!("{DEMO}/tickets/{n}/notes"),
            json!({"body": "x", "attachments": [{"name": "a", "content_type": "text/plain", "data_base64": "!!"}]}),
            400,
            "invalid_field",
        ),
    ];
    for (field, value, status, want) in [
        ("subject", json!(long), 400, "invalid_field"),
        ("subject", json!(""), 400, "invalid_field"),
        ("body", json!({"text": huge}), 400, "invalid_field"),
        ("email", json!("not an address"), 400, "invalid_field"),
        ("topic", json!(99), 400, "invalid_field"),
        ("priority", json!(99), 400, "invalid_field"),
    ] {
        let mut body = ticket_body("Bad");
        body[field] = value;
        cases.push(("POST", format!("{DEMO}/tickets"), body, status, want));
    }
    for (method, path, body, status, want) in cases {
        let body = (!body.is_null()).then_some(body);
        let r = app.api(method, &path, body.as_ref());
        assert_eq!(r.status, status, "{method} {path}: {}", r.text());
        assert_eq!(code(&r), want, "{method} {path}: {}", r.text());
    }
    assert_eq!(app.count_tickets(DEMO), before, "nothing was opened");
    let (after, thread) = app.ticket_and_thread(DEMO, &n);
    assert_eq!(after.version, version(&ticket), "nothing changed");
    assert_eq!(thread.len(), 1);
}

#[test]
fn a_token_or_key_of_demo_is_refused_on_other() {
    let app = TestApp::new();
    let r = app.list_tickets(OTHER, "");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (401, "invalid_token"),
        "{}",
        r.text()
    );
    let r = app.api_with_key(&app.api_key, "GET", &format!("{OTHER}/tickets"), None);
    assert_eq!(r.status, 401, "{}", r.text());
    let r = app.api_as("garbage", "GET", &format!("{DEMO}/tickets"), None);
    assert_eq!(r.status, 401, "{}", r.text());
    let r = app.api_with_key("", "GET", &format!("{DEMO}/tickets"), None);
    assert_eq!(r.status, 401, "{}", r.text());
}

/// The status each action gets for agents of the demo roles (department 1).
#[test]
fn each_role_may_do_exactly_the_actions_its_permissions_name() {
    let app = TestApp::new();
    let (all_id, all) = agent_with_role(&app, "all@demo.example.org", 1);
    let (_, limited) = agent_with_role(&app, "limited@demo.example.org", 2);
    // (action, All access, Limited access)
    let matrix: [(&str, u16, u16); 7] = [
        ("note", 201, 201),
        ("reply", 201, 201),
        ("assign", 200, 403),
        ("transfer", 200, 403),
        ("close", 200, 200),
        ("delete", 403, 403),
        ("merge", 200, 403),
    ];
    for (token, column) in [(&all, 1), (&limited, 2)] {
        for (action, all_status, limited_status) in matrix {
            let want = if column == 1 {
                all_status
            } else {
                limited_status
            };
            let t = open(&app, &format!("{action} by role {column}"));
            let n = number(&t);
            let v = version(&t);
            let into = number(&open(&app, "target"));
            let (method, path, body) = match action {
                "note" => ("POST", format!("tickets/{n}/notes"), json!({"body": "n"})),
                "reply" => (
                    "POST",
                    format!("tickets/{n}/responses"),
                    json!({"body": "r"}),
                ),
                "assign" => (
                    "PATCH",
                    format!("tickets/{n}"),
                    json!({"version": v, "assignee": {"agent": all_id}}),
                ),
                "transfer" => (
                    "PATCH",
                    format!("tickets/{n}"),
                    json!({"version": v, "department": 2}),
                ),
                "close" => ("POST", format!("tickets/{n}/close"), json!({})),
                "delete" => ("POST", format!("tickets/{n}/delete"), json!({})),
                _ => ("POST", format!("tickets/{n}/merge"), json!({"into": into})),
            };
            let r = app.api_as(token, method, &format!("{DEMO}/{path}"), Some(&body));
            assert_eq!(r.status, want, "{action} by role {column}: {}", r.text());
            if want == 403 {
                assert_eq!(code(&r), "forbidden");
                let (after, _) = app.ticket_and_thread(DEMO, &n);
                assert_eq!(after.version, v, "{action} refused, nothing changed");
            }
        }
    }
}

#[test]
fn a_response_while_another_agent_holds_the_lock_is_409_ticket_locked() {
    let app = TestApp::new();
    let (_, first) = agent_with_role(&app, "first@demo.example.org", 1);
    let (_, second) = agent_with_role(&app, "second@demo.example.org", 1);
    let n = number(&open(&app, "Contended"));
    let r = app.api_as(&first, "POST", &format!("{DEMO}/tickets/{n}/lock"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let until = json(&r)["until_ms"].clone();

    let r = app.api_as(
        &second,
        "POST",
        &format!("{DEMO}/tickets/{n}/responses"),
        Some(&json!({"body": "me too"})),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    let error = &json(&r)["error"];
    assert_eq!(error["code"], "ticket_locked");
    assert_eq!(error["holder"], "first@demo.example.org");
    assert_eq!(error["until"], until);
    let r = app.api_as(&second, "POST", &format!("{DEMO}/tickets/{n}/lock"), None);
    assert_eq!(code(&r), "ticket_locked");

    // The holder responds; after the unlock the other may too.
    let r = app.api_as(
        &first,
        "POST",
        &format!("{DEMO}/tickets/{n}/responses"),
        Some(&json!({"body": "mine"})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = app.api_as(&first, "DELETE", &format!("{DEMO}/tickets/{n}/lock"), None);
    assert_eq!(r.status, 204, "{}", r.text());
    let r = app.api_as(
        &second,
        "POST",
        &format!("{DEMO}/tickets/{n}/responses"),
        Some(&json!({"body": "now me"})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn two_concurrent_patches_of_one_version_one_wins_one_conflicts() {
    let app = TestApp::new();
    let ticket = open(&app, "Race");
    let n = number(&ticket);
    let v = version(&ticket);
    let statuses: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = [1, 4]
            .into_iter()
            .map(|priority| {
                let (app, n) = (&app, &n);
                s.spawn(move || {
                    let r = app.api(
                        "PATCH",
                        &format!("{DEMO}/tickets/{n}"),
                        Some(&json!({"version": v, "priority": priority})),
                    );
                    let c = if r.status == 200 {
                        String::new()
                    } else {
                        code(&r)
                    };
                    (r.status, c)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut got: Vec<u16> = statuses.iter().map(|(s, _)| *s).collect();
    got.sort_unstable();
    assert_eq!(got, [200, 409], "{statuses:?}");
    assert!(statuses.iter().any(|(_, c)| c == "conflict"));
    let (after, _) = app.ticket_and_thread(DEMO, &n);
    assert_eq!(after.version, v + 1);
}

#[test]
fn a_thousand_tickets_opened_concurrently_get_distinct_numbers_and_are_all_listed() {
    const CLIENTS: usize = 16;
    const TICKETS: usize = 1000;
    let app = TestApp::new();
    let numbers: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let app = &app;
                s.spawn(move || {
                    (client..TICKETS)
                        .step_by(CLIENTS)
                        .map(|i| {
                            let r = app.api_with_key(
                                &app.api_key,
                                "POST",
                                &format!("{DEMO}/tickets"),
                                Some(&ticket_body(&format!("Load {i}"))),
                            );
                            assert_eq!(r.status, 201, "{}", r.text());
                            number(&json(&r))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let distinct: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), TICKETS);

    let mut listed = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=100&cursor={c}"),
            None => "limit=100".to_owned(),
        };
        let r = app.list_tickets(DEMO, &query);
        assert_eq!(r.status, 200, "{}", r.text());
        let page = json(&r);
        for t in page["items"].as_array().unwrap() {
            listed.insert(number(t));
        }
        match page["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(
        distinct.iter().all(|n| listed.contains(*n)),
        "{} of {TICKETS} listed",
        listed.len()
    );
}

#[test]
fn a_scoped_token_without_ticket_note_may_not_note() {
    let app = TestApp::new();
    let n = number(&open(&app, "Scoped"));
    let scope: BTreeSet<Permission> = [Permission::TicketReply].into_iter().collect();
    let token = app.token_for(DEMO, 1, Some(scope));
    let r = app.api_as(
        &token,
        "POST",
        &format!("{DEMO}/tickets/{n}/notes"),
        Some(&json!({"body": "x"})),
    );
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.text()
    );
}

/// `path` with every `{param}` filled in with something plausible.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{instance}" => DEMO,
            "{id}" => "1",
            s if s.starts_with('{') => "000000",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every `/api/v1` path the app's router has. Axum offers no list of its
/// routes but prints its paths in its debug form, so they are read from
/// there (the caller checks that known paths are found, so a change of that
/// form fails loudly instead of finding nothing).
fn routed_api_paths(app: &TestApp) -> BTreeSet<String> {
    let state = taquilla_web::AppState {
        store: app.store.clone(),
        blobs: app.blobs.clone(),
        mailer: std::sync::Arc::new(taquilla_local::OutboxMailer::new(
            app.dir.path().join("outbox"),
        )),
        clock: std::sync::Arc::new(taquilla_core::clock::SystemClock),
        signed_blobs: Some(app.blobs.clone()),
        pages: std::sync::Arc::new(taquilla_web::Pages::embedded().unwrap()),
        token_key: std::sync::Arc::new(app.token_key.clone()),
        reply_key: std::sync::Arc::new(
            taquilla_core::secrets::MasterKey::generate()
                .unwrap()
                .derive(taquilla_core::secrets::Purpose::ReplyTokens),
        ),
    };
    format!("{:?}", taquilla_web::router(state))
        .split('"')
        .filter(|s| s.starts_with("/api/v1/"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_openapi_document_describes_exactly_the_routes_the_server_has() {
    let app = TestApp::new();
    let r = app.openapi();
    assert_eq!(r.status, 200, "{}", r.text());
    let document = json(&r);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();

    // The served document is built from the routing tables.
    let table = taquilla_web::routes::openapi::routes();
    for route in &table {
        assert!(
            paths[route.path]
                .get(route.method.to_ascii_lowercase())
                .is_some(),
            "{} {} is routed but not documented",
            route.method,
            route.path
        );
    }
    assert!(taquilla_web::routes::tickets::ROUTES.len() > 20);

    // The router has no path the document lacks (a route registered by
    // hand, outside the tables, would not be probed below).
    let routed = routed_api_paths(&app);
    assert!(
        routed.contains("/api/v1/{instance}/tickets") && routed.contains("/api/v1/{instance}"),
        "no paths read from the router: {routed:?}"
    );
    let documented: BTreeSet<String> = paths.keys().cloned().collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not documented: {undocumented:?}"
    );

    // Every documented method of every documented path is routed (no
    // credentials: 401, or 200 for the document), and no other method is.
    for (path, ops) in paths {
        let url = concrete(path);
        for method in ["GET", "POST", "PATCH", "PUT", "DELETE"] {
            let r = app.api_as("", method, url.trim_start_matches("/api/v1/"), None);
            let documented = ops.get(method.to_ascii_lowercase()).is_some();
            // Routes that need no credentials (signing in, passwords)
            // answer the empty body instead.
            let public = ops
                .get(method.to_ascii_lowercase())
                .is_some_and(|op| op["security"] == serde_json::json!([]))
                && !path.ends_with("openapi.json");
            if documented {
                assert!(
                    r.status == 401
                        || (r.status == 200 && path.ends_with("openapi.json"))
                        || (public && r.status == 400),
                    "{method} {path} is documented but answers {}: {}",
                    r.status,
                    r.text()
                );
            } else {
                assert_eq!(
                    r.status, 405,
                    "{method} {path} is routed but not documented"
                );
            }
        }
    }
    assert_eq!(
        paths
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum::<usize>(),
        table.len()
    );
}

#[test]
fn ticket_numbers_follow_the_instance_and_topic_formats_and_are_never_reused() {
    let app = TestApp::new();
    let refused = |r: &Response, field: &str| {
        assert_eq!(r.status, 400, "{}", r.text());
        let error = &json(r)["error"];
        assert_eq!(
            (
                error["code"].as_str(),
                error["field"].as_str(),
                error["rule"].as_str()
            ),
            (
                Some("invalid_field"),
                Some(field),
                Some("bad_number_format")
            ),
            "{error}"
        );
    };
    // The instance numbers by a padded sequence with a prefix.
    let version = json(&app.api("GET", DEMO, None))["version"].clone();
    for bad in ["{seq}{seq}", "IT/##", "DEMO-{seq:99}", "ABC"] {
        let r = app.api(
            "PATCH",
            DEMO,
            Some(&json!({"version": version, "ticket_number_format": bad})),
        );
        refused(&r, "ticket_number_format");
    }
    let r = app.api(
        "PATCH",
        DEMO,
        Some(&json!({"version": version, "ticket_number_format": "D-{seq:5}"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // A topic with random digits, one with a sequence of its own.
    let topic = |name: &str, format: &str| {
        post(
            &app,
            "topics",
            &json!({"name": name, "department": 1, "number_format": format}),
        )
    };
    refused(&topic("Bad", "R-{seq"), "number_format");
    refused(&topic("Bad", ""), "number_format");
    let random = json(&topic("Printing", "P-####"));
    let counted = json(&topic("Erasmus", "ERA{seq:3}"));
    let in_topic = |topic: &Value, subject: &str| {
        let mut body = ticket_body(subject);
        body["topic"] = topic["id"].clone();
        let r = app.open_ticket(DEMO, &body);
        assert_eq!(r.status, 201, "{}", r.text());
        number(&json(&r))
    };

    let first = number(&open(&app, "One"));
    let erasmus = in_topic(&counted, "Learning agreement");
    let printing = in_topic(&random, "Toner");
    let second = number(&open(&app, "Two"));
    assert_eq!((first.as_str(), second.as_str()), ("D-00001", "D-00002"));
    assert_eq!(erasmus, "ERA001", "the topic counts on its own");
    assert!(
        printing.len() == 6
            && printing.starts_with("P-")
            && printing[2..].bytes().all(|b| b.is_ascii_digit()),
        "{printing}"
    );

    // A deleted ticket keeps its number: the next one is new.
    let r = app.api("POST", &format!("{DEMO}/tickets/{second}/delete"), None);
    assert!(r.status == 200 || r.status == 204, "{}", r.text());
    assert_eq!(number(&open(&app, "Three")), "D-00003");
    assert_eq!(in_topic(&counted, "Another one"), "ERA002");
    let randoms: BTreeSet<String> = (0..20)
        .map(|i| in_topic(&random, &format!("Toner {i}")))
        .chain([printing])
        .collect();
    assert_eq!(
        randoms.len(),
        21,
        "random numbers are claimed, never shared"
    );
}
