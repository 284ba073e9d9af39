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
    assert_eq!(
        to_bo.subject,
        format!(
            "[Task {}] New task: Replace the projector in room 4",
            task["id"].as_str().unwrap()
        )
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
            task["id"].as_str().unwrap()
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
