//! Task alerts end to end: a task created or assigned over HTTP writes its
//! outbox item with the change, and the dispatcher sends the alert (real
//! MIME in the outbox folder) to the agents the outbound policy names,
//! never to the agent who acted, nor to agents away or inactive.

use serde_json::{Value, json};
use taquilla_mail::inbound::ParsedMail;
use taquilla_tests::app::{DEMO, TestApp, json};

const ADMIN: &str = "admin@demo.taquilla.test";
const ANA: &str = "ana@demo.example.org";
const BO: &str = "bo@demo.example.org";
const CARLA: &str = "carla@demo.example.org";

/// The demo instance with three more agents: Ana (IT Support, all
/// access), Bo (IT Support, limited) and Carla (Academic Office); their
/// ids and tokens. Their welcome mails are sent here, out of the way.
struct Desk {
    app: TestApp,
    ana: (u32, String),
    bo: (u32, String),
    carla: (u32, String),
}

fn agent(app: &TestApp, name: &str, email: &str, department: u32, role: u32) -> (u32, String) {
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents"),
        Some(&json!({"name": name, "email": email, "department": department, "role": role})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = u32::try_from(json(&r)["agent"]["id"].as_u64().unwrap()).unwrap();
    (id, app.token_for(DEMO, id, None))
}

fn desk() -> Desk {
    let app = TestApp::new();
    let ana = agent(&app, "Ana Vidal", ANA, 1, 1);
    let bo = agent(&app, "Bo Serra", BO, 1, 2);
    let carla = agent(&app, "Carla Puig", CARLA, 2, 1);
    let welcomes = app.send_pending_mail(DEMO);
    assert_eq!(welcomes.len(), 3, "{:?}", subjects(&welcomes));
    Desk {
        app,
        ana,
        bo,
        carla,
    }
}

fn subjects(mails: &[ParsedMail]) -> Vec<String> {
    mails.iter().map(|m| m.subject.clone()).collect()
}

/// Who each mail was sent to, sorted.
fn recipients(mails: &[ParsedMail]) -> Vec<String> {
    let mut out: Vec<String> = mails
        .iter()
        .flat_map(|m| m.to.iter().map(|t| t.address.clone()))
        .collect();
    out.sort();
    out
}

fn create_task(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app.api_as(token, "POST", &format!("{DEMO}/tasks"), Some(body));
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)
}

fn change_task(app: &TestApp, token: &str, task: &Value, changes: Value) -> Value {
    let mut body = changes;
    body["version"] = task["version"].clone();
    let id = task["id"].as_str().unwrap();
    let r = app.api_as(token, "PATCH", &format!("{DEMO}/tasks/{id}"), Some(&body));
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)
}

fn team(app: &TestApp, name: &str, members: &[u32]) -> u64 {
    let r = app.api(
        "POST",
        &format!("{DEMO}/teams"),
        Some(&json!({"name": name, "members": members})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)["id"].as_u64().unwrap()
}

/// The events of a task's thread, by name.
fn events(app: &TestApp, task: &Value) -> Vec<String> {
    let id = task["id"].as_str().unwrap();
    let r = app.api("GET", &format!("{DEMO}/tasks/{id}/thread"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_new_task_alerts_its_departments_agents_but_never_the_agent_who_created_it() {
    let desk = desk();
    let app = &desk.app;
    let task = create_task(
        app,
        &desk.ana.1,
        &json!({"title": "Replace the projector in room 4", "department": 1,
                "description": "The lamp is gone.", "due_at": 1_800_000_000_000_i64}),
    );
    let sent = app.send_pending_mail(DEMO);
    // Unassigned: IT Support's agents hear of it, except Ana who made it;
    // Carla works in another department.
    assert_eq!(recipients(&sent), [ADMIN, BO], "{:?}", subjects(&sent));
    let to_bo = sent.iter().find(|m| m.to[0].address == BO).unwrap();
    // The instance's first task: number 1, not its id.
    assert_eq!(task["number"], 1);
    assert_eq!(
        to_bo.subject,
        "[Task 1] New task: Replace the projector in room 4"
    );
    assert_eq!(to_bo.header("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(to_bo.from.address, "support@demo.taquilla.test");
    assert!(to_bo.text.contains("Hello Bo Serra,"), "{}", to_bo.text);
    assert!(
        to_bo
            .text
            .contains("Ana Vidal has created a new task in the department IT Support"),
        "{}",
        to_bo.text
    );
    assert!(to_bo.text.contains("> The lamp is gone."), "{}", to_bo.text);
    assert!(to_bo.text.contains("Due:"), "{}", to_bo.text);
    assert!(to_bo.html.as_deref().unwrap().contains("Open the task"));
    // Delivered once, and recorded in the task's thread.
    assert!(app.send_pending_mail(DEMO).is_empty());
    let recorded = events(app, &task);
    assert_eq!(
        recorded.iter().filter(|e| *e == "mail_sent").count(),
        2,
        "{recorded:?}"
    );
}

#[test]
fn a_task_created_with_an_assignee_alerts_the_assignee_and_not_the_department() {
    let desk = desk();
    let app = &desk.app;
    create_task(
        app,
        &app.token,
        &json!({"title": "Call the supplier", "department": 1, "assignee": desk.bo.0}),
    );
    let sent = app.send_pending_mail(DEMO);
    assert_eq!(recipients(&sent), [BO], "{:?}", subjects(&sent));
    assert!(
        sent[0].text.contains("Assigned to: Bo Serra"),
        "{}",
        sent[0].text
    );
}

#[test]
fn assigning_a_task_alerts_the_agent_given_it_and_nobody_else() {
    let desk = desk();
    let app = &desk.app;
    let task = create_task(
        app,
        &app.token,
        &json!({"title": "Renew the licence", "department": 1}),
    );
    app.send_pending_mail(DEMO);

    let task = change_task(app, &app.token, &task, json!({"assignee": desk.bo.0}));
    let sent = app.send_pending_mail(DEMO);
    assert_eq!(recipients(&sent), [BO], "{:?}", subjects(&sent));
    assert_eq!(
        sent[0].subject,
        format!(
            "[Task {}] Assigned to you: Renew the licence",
            task["number"].as_u64().unwrap()
        )
    );
    assert!(
        sent[0]
            .text
            .contains("has been assigned to you by Demo Admin"),
        "{}",
        sent[0].text
    );

    // Ana takes it herself: she is told nothing.
    let task = change_task(app, &desk.ana.1, &task, json!({"assignee": desk.ana.0}));
    assert_eq!(task["assignee"], desk.ana.0);
    assert!(app.send_pending_mail(DEMO).is_empty());

    // Releasing it alerts nobody.
    change_task(app, &app.token, &task, json!({"assignee": null}));
    assert!(app.send_pending_mail(DEMO).is_empty());
}

#[test]
fn assigning_a_task_to_a_team_alerts_its_members_but_the_one_who_assigned_it() {
    let desk = desk();
    let app = &desk.app;
    let helpdesk = team(app, "Help desk", &[desk.ana.0, desk.carla.0, desk.bo.0]);
    let task = create_task(
        app,
        &app.token,
        &json!({"title": "Move the servers", "department": 1}),
    );
    app.send_pending_mail(DEMO);

    change_task(app, &desk.ana.1, &task, json!({"team": helpdesk}));
    let sent = app.send_pending_mail(DEMO);
    assert_eq!(recipients(&sent), [BO, CARLA], "{:?}", subjects(&sent));
    for mail in &sent {
        assert!(
            mail.subject
                .ends_with("Assigned to Help desk: Move the servers"),
            "{}",
            mail.subject
        );
        assert!(
            mail.text
                .contains("assigned to the team Help desk by Ana Vidal")
        );
    }
}

#[test]
fn agents_away_or_inactive_get_no_task_alerts() {
    let desk = desk();
    let app = &desk.app;
    for (id, change) in [
        (desk.bo.0, json!({"on_vacation": true})),
        (desk.ana.0, json!({"active": false})),
    ] {
        let agent = json(&app.api("GET", &format!("{DEMO}/agents/{id}"), None));
        let mut body = change;
        body["version"] = agent["version"].clone();
        let r = app.api("PATCH", &format!("{DEMO}/agents/{id}"), Some(&body));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let task = create_task(
        app,
        &app.token,
        &json!({"title": "Order toner", "department": 1}),
    );
    // Only Bo and Ana work in IT Support besides the admin, who made it.
    assert!(app.send_pending_mail(DEMO).is_empty());
    change_task(app, &app.token, &task, json!({"assignee": desk.bo.0}));
    assert!(app.send_pending_mail(DEMO).is_empty(), "Bo is on vacation");
}

#[test]
fn a_departments_policy_can_silence_or_widen_task_alerts() {
    let desk = desk();
    let app = &desk.app;
    let dept = json(&app.api("GET", &format!("{DEMO}/departments/1"), None));
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/departments/1"),
        Some(&json!({
            "version": dept["version"],
            "outbound": {"alerts": {
                "new_task": {"enabled": false},
                "task_assigned": {"department_members": "always"},
            }},
        })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let task = create_task(
        app,
        &desk.ana.1,
        &json!({"title": "Quiet task", "department": 1}),
    );
    assert!(app.send_pending_mail(DEMO).is_empty());
    change_task(app, &desk.ana.1, &task, json!({"assignee": desk.bo.0}));
    let sent = app.send_pending_mail(DEMO);
    // Bo as the assignee; the department's members too (not Ana, who acted).
    assert_eq!(recipients(&sent), [ADMIN, BO], "{:?}", subjects(&sent));
}

#[test]
fn a_refused_task_change_sends_nothing() {
    let desk = desk();
    let app = &desk.app;
    let r = app.api(
        "POST",
        &format!("{DEMO}/tasks"),
        Some(&json!({"title": "Ghost", "department": 1, "assignee": 999})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(json(&r)["error"]["code"], "invalid_field");
    let task = create_task(app, &app.token, &json!({"title": "Real", "department": 1}));
    app.send_pending_mail(DEMO);
    // A stale version changes nothing and owes nothing.
    let id = task["id"].as_str().unwrap();
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/tasks/{id}"),
        Some(&json!({"version": 99, "assignee": desk.bo.0})),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    // Bo (limited access) may not assign.
    let r = app.api_as(
        &desk.bo.1,
        "PATCH",
        &format!("{DEMO}/tasks/{id}"),
        Some(&json!({"version": task["version"], "assignee": desk.bo.0})),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(app.send_pending_mail(DEMO).is_empty());
}

#[test]
fn a_task_deleted_before_its_alert_went_out_owes_none() {
    let desk = desk();
    let app = &desk.app;
    let task = create_task(app, &desk.ana.1, &json!({"title": "Oops", "department": 1}));
    let id = task["id"].as_str().unwrap();
    let r = app.api(
        "DELETE",
        &format!("{DEMO}/tasks/{id}"),
        Some(&json!({"version": task["version"]})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(app.send_pending_mail(DEMO).is_empty());
}

/// The thread entries of a task that are notes: (author agent, text).
fn notes(app: &TestApp, task: &Value) -> Vec<(u64, String)> {
    let id = task["id"].as_str().unwrap();
    let r = app.api("GET", &format!("{DEMO}/tasks/{id}/thread"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note")
        .map(|e| {
            (
                e["author"]["id"].as_u64().unwrap_or_default(),
                e["body_text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A reply from `from` to `alert`, sent to its Reply-To, quoting it the way
/// a mail client does, with `extra` header lines.
fn reply_to_alert(alert: &ParsedMail, from: &str, id: &str, extra: &str, text: &str) -> String {
    let reply_to = &alert.reply_to[0].address;
    let quoted: String = alert.text.lines().map(|l| format!("> {l}\r\n")).collect();
    format!(
        "From: {from}\r\nTo: {reply_to}\r\nSubject: Re: {subject}\r\n\
         Message-ID: <{id}@demo.example.org>\r\nIn-Reply-To: <{parent}>\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         {text}\r\n\r\nOn Mon, 1 Jun 2026 at 10:00, Demo <support@demo.taquilla.test> wrote:\r\n{quoted}",
        subject = alert.subject,
        parent = alert.message_id.as_deref().unwrap_or("none"),
    )
}

fn error_code(r: &taquilla_tests::http::Response) -> String {
    r.header("x-error-code").unwrap_or_default().to_owned()
}

#[test]
fn an_agents_mail_reply_to_a_task_alert_becomes_a_note_once() {
    let desk = desk();
    let app = &desk.app;
    let task = create_task(
        app,
        &desk.ana.1,
        &json!({"title": "Replace the projector in room 4", "department": 1}),
    );
    let sent = app.send_pending_mail(DEMO);
    let to_bo = sent.iter().find(|m| m.to[0].address == BO).unwrap();
    // Reply-To: the sending mailbox with a task token signed for Bo.
    let reply_to = &to_bo.reply_to[0].address;
    let (base, tag) = taquilla_mail::inbound::plus_tag(reply_to).unwrap();
    assert_eq!(base, "support");
    assert!(reply_to.ends_with("@demo.taquilla.test"), "{reply_to}");
    let read = taquilla_mail::reply_token::ReplyTokens::read_task(&tag).unwrap();
    assert_eq!(read.task.as_str(), task["id"].as_str().unwrap());
    // Not a ticket's token: it names no ticket.
    assert_eq!(taquilla_mail::reply_token::ReplyTokens::read(&tag), None);

    let reply = reply_to_alert(
        to_bo,
        "Bo Serra <bo@demo.example.org>",
        "bo-reply-1",
        "",
        "I will fetch a lamp from the store tomorrow morning.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &reply);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("added a note to task"), "{}", r.text());
    let noted = notes(app, &task);
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert_eq!(noted[0].0, u64::from(desk.bo.0));
    assert!(
        noted[0]
            .1
            .starts_with("I will fetch a lamp from the store tomorrow morning."),
        "{}",
        noted[0].1
    );
    // The quoted alert is kept, folded away, not taken for Bo's words.
    assert!(noted[0].1.contains("Quoted text"), "{}", noted[0].1);

    // Delivered again: nothing more, and no ticket ever.
    let again = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &reply);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(notes(app, &task).len(), 1);
    assert_eq!(app.count_tickets(DEMO), 0);
}

#[test]
fn a_reply_to_a_task_alert_from_anyone_else_is_refused_and_opens_nothing() {
    let desk = desk();
    let app = &desk.app;
    let task = create_task(
        app,
        &desk.ana.1,
        &json!({"title": "Renew the licence", "department": 1}),
    );
    let sent = app.send_pending_mail(DEMO);
    let to_bo = sent.iter().find(|m| m.to[0].address == BO).unwrap();
    // Carla (an agent, but the alert was not hers), someone outside, and
    // Bo with a token altered by one character.
    let outsider = reply_to_alert(to_bo, "eve@uni.example", "eve-1", "", "Let me in.");
    let carla = reply_to_alert(to_bo, CARLA, "carla-1", "", "Mine now.");
    let reply_to = to_bo.reply_to[0].address.clone();
    let (_, tag) = taquilla_mail::inbound::plus_tag(&reply_to).unwrap();
    let mut altered: Vec<char> = tag.chars().collect();
    altered[5] = if altered[5] == 'a' { 'b' } else { 'a' };
    let altered: String = altered.into_iter().collect();
    let tampered = reply_to_alert(to_bo, BO, "bo-2", "", "Hello.").replace(&tag, &altered);
    for (raw, who) in [
        (outsider, "outsider"),
        (carla, "carla"),
        (tampered, "tampered"),
    ] {
        let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (400, "task_reply_refused"),
            "{who}: {}",
            r.text()
        );
    }
    // An automatic answer from Bo's mailbox is dropped quietly.
    let vacation = reply_to_alert(
        to_bo,
        BO,
        "bo-away",
        "Auto-Submitted: auto-replied\r\n",
        "I am away until Monday.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &vacation);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("task_reply_automatic"), "{}", r.text());
    assert!(notes(app, &task).is_empty());
    assert_eq!(app.count_tickets(DEMO), 0);
}
