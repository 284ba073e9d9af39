//! Tasks over HTTP on the real server: create, list, read, change, assign,
//! close, reopen, note, thread and delete; tasks of a ticket; permission
//! refusals; bad input that changes nothing.

use serde_json::{Value, json};
use taquilla_tests::app::{DEMO, TestApp, json};
use taquilla_tests::http::Response;

/// The stable code of a JSON error body.
fn code(r: &Response) -> String {
    json(r)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An agent of the demo instance created through the admin API with
/// `role` in `department`; its id and a token for it.
fn agent(app: &TestApp, email: &str, department: u32, role: u32) -> (u32, String) {
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents"),
        Some(&json!({"name": email, "email": email, "department": department, "role": role})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = u32::try_from(json(&r)["agent"]["id"].as_u64().unwrap()).unwrap();
    (id, app.token_for(DEMO, id, None))
}

fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<&Value>) -> Response {
    app.api_as(token, method, &format!("{DEMO}/{path}"), body)
}

/// Creates a task in department 1 as the demo admin; its JSON.
fn create(app: &TestApp, body: &Value) -> Value {
    let r = call(app, &app.token, "POST", "tasks", Some(body));
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)
}

fn id(task: &Value) -> String {
    task["id"].as_str().unwrap().to_owned()
}

/// The ids of a page of tasks.
fn ids(app: &TestApp, query: &str) -> Vec<String> {
    let r = call(app, &app.token, "GET", &format!("tasks?{query}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect()
}

/// The task as stored (through the API as the admin).
fn stored(app: &TestApp, task: &str) -> Value {
    let r = call(app, &app.token, "GET", &format!("tasks/{task}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)
}

#[test]
fn a_task_is_created_changed_assigned_closed_reopened_noted_and_deleted() {
    let app = TestApp::new();
    let task = create(
        &app,
        &json!({"title": " Replace the projector ", "department": 1,
                "description": {"html": "<p>Room 4<script>x</script></p>"}}),
    );
    let t = id(&task);
    assert_eq!(task["title"], "Replace the projector");
    assert_eq!(task["state"], "open");
    assert_eq!(task["version"], 1);
    assert!(
        !task["description_html"]
            .as_str()
            .unwrap()
            .contains("script")
    );
    assert_eq!(stored(&app, &t), task);
    assert!(ids(&app, "department=1").contains(&t));

    let r = call(
        &app,
        &app.token,
        "PATCH",
        &format!("tasks/{t}"),
        Some(
            &json!({"version": 1, "title": "Replace both projectors", "due_at": 1_900_000_000_000_i64}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["version"], 2);
    assert_eq!(json(&r)["due_at"], 1_900_000_000_000_i64);

    let r = call(
        &app,
        &app.token,
        "PATCH",
        &format!("tasks/{t}"),
        Some(&json!({"version": 2, "assignee": 1})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["assignee"], 1);
    assert!(ids(&app, "assignee=1").contains(&t));
    assert!(
        ids(&app, "").contains(&t),
        "an agent's default list is its own open tasks"
    );

    let r = call(
        &app,
        &app.token,
        "PATCH",
        &format!("tasks/{t}"),
        Some(&json!({"version": 3, "assignee": null})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(json(&r)["assignee"].is_null());
    assert!(!ids(&app, "assignee=1").contains(&t));

    let r = call(
        &app,
        &app.token,
        "POST",
        &format!("tasks/{t}/close"),
        Some(&json!({"version": 4})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["state"], "closed");
    assert!(json(&r)["closed_at"].is_i64());
    assert!(!ids(&app, "department=1").contains(&t));
    assert!(ids(&app, "department=1&state=closed").contains(&t));

    let r = call(&app, &app.token, "POST", &format!("tasks/{t}/reopen"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["state"], "open");
    assert!(ids(&app, "department=1").contains(&t));

    let r = call(
        &app,
        &app.token,
        "POST",
        &format!("tasks/{t}/notes"),
        Some(&json!({"body": "Ordered."})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let version = json(&r)["version"].as_i64().unwrap();
    assert_eq!(version, 7);

    let r = call(&app, &app.token, "GET", &format!("tasks/{t}/thread"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let thread = json(&r);
    let kinds: Vec<String> = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["event"]
                .as_str()
                .unwrap_or_else(|| e["kind"].as_str().unwrap())
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "created", "edited", "assigned", "released", "closed", "reopened", "note"
        ]
    );

    let r = call(
        &app,
        &app.token,
        "DELETE",
        &format!("tasks/{t}"),
        Some(&json!({"version": 1})),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(code(&r), "conflict");
    assert_eq!(stored(&app, &t)["version"], version);

    let r = call(
        &app,
        &app.token,
        "DELETE",
        &format!("tasks/{t}"),
        Some(&json!({"version": version})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    for path in [format!("tasks/{t}"), format!("tasks/{t}/thread")] {
        let r = call(&app, &app.token, "GET", &path, None);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert_eq!(code(&r), "not_found");
    }
    assert!(!ids(&app, "department=1").contains(&t));
}

#[test]
fn a_task_linked_to_a_ticket_is_listed_by_the_ticket() {
    let app = TestApp::new();
    let r = app.open_ticket(
        DEMO,
        &json!({"name": "Ada", "email": "ada@example.org", "subject": "Projector",
                "body": {"text": "It does not start."}, "topic": 1}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let ticket = json(&r);
    let number = ticket["number"].as_str().unwrap();
    let linked = create(
        &app,
        &json!({"title": "Call the supplier", "department": 1, "ticket": number}),
    );
    let other = create(&app, &json!({"title": "Unrelated", "department": 1}));
    assert_eq!(linked["ticket"], ticket["id"]);
    let listed = ids(&app, &format!("ticket={number}"));
    assert_eq!(listed, [id(&linked)]);
    assert!(!listed.contains(&id(&other)));

    let r = call(
        &app,
        &app.token,
        "POST",
        "tasks",
        Some(&json!({"title": "x", "department": 1, "ticket": "nope"})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(code(&r), "invalid_field");
}

#[test]
fn limited_agents_may_not_act_on_tasks_beyond_their_permissions() {
    let app = TestApp::new();
    let task = create(
        &app,
        &json!({"title": "Department 1 work", "department": 1}),
    );
    let t = id(&task);
    let (_, outsider) = agent(&app, "limited2@demo.example.org", 2, 2);

    // Department 1 tasks are out of sight for an agent of department 2.
    for (method, path, body) in [
        ("GET", format!("tasks/{t}"), None),
        ("DELETE", format!("tasks/{t}"), Some(json!({}))),
        ("POST", format!("tasks/{t}/close"), Some(json!({}))),
        (
            "POST",
            format!("tasks/{t}/notes"),
            Some(json!({"body": "hi"})),
        ),
        (
            "PATCH",
            format!("tasks/{t}"),
            Some(json!({"version": 1, "title": "mine"})),
        ),
        ("GET", format!("tasks/{t}/thread"), None),
    ] {
        let r = call(&app, &outsider, method, &path, body.as_ref());
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text());
        assert_eq!(code(&r), "not_found");
    }
    let r = call(
        &app,
        &outsider,
        "POST",
        "tasks",
        Some(&json!({"title": "x", "department": 1})),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(code(&r), "forbidden");
    let r = call(&app, &outsider, "GET", "tasks?department=1", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(json(&r)["items"].as_array().unwrap().is_empty());

    // In its own department it may create (task.create) but not delete,
    // close, edit or assign.
    let r = call(
        &app,
        &outsider,
        "POST",
        "tasks",
        Some(&json!({"title": "Mine", "department": 2})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let own = id(&json(&r));
    for (method, path, body) in [
        ("DELETE", format!("tasks/{own}"), json!({})),
        ("POST", format!("tasks/{own}/close"), json!({})),
        (
            "PATCH",
            format!("tasks/{own}"),
            json!({"version": 1, "title": "renamed"}),
        ),
        (
            "PATCH",
            format!("tasks/{own}"),
            json!({"version": 1, "assignee": 1}),
        ),
    ] {
        let r = call(&app, &outsider, method, &path, Some(&body));
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
        assert_eq!(code(&r), "forbidden");
    }
    let r = call(
        &app,
        &outsider,
        "POST",
        &format!("tasks/{own}/notes"),
        Some(&json!({"body": "note"})),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    // Nothing was changed by the refusals.
    assert_eq!(stored(&app, &t), task);
    let after = stored(&app, &own);
    assert_eq!(after["title"], "Mine");
    assert_eq!(after["state"], "open");
    assert_eq!(after["version"], 2, "only the note moved it");
}

#[test]
fn bad_input_gets_4xx_with_a_stable_code_and_changes_nothing() {
    let app = TestApp::new();
    let task = create(&app, &json!({"title": "Keep me", "department": 1}));
    let t = id(&task);
    let before = ids(&app, "department=1");

    for (body, status, want) in [
        (
            json!({"title": "  ", "department": 1}),
            400,
            "invalid_field",
        ),
        (
            json!({"title": "x".repeat(256), "department": 1}),
            400,
            "invalid_field",
        ),
        (
            json!({"title": "Nowhere", "department": 99}),
            400,
            "invalid_field",
        ),
        (json!({"title": "No department"}), 400, "invalid_body"),
        (
            json!({"title": "x", "department": 1, "assignee": 999}),
            400,
            "invalid_field",
        ),
        (
            json!({"title": "x", "department": 1, "colour": "red"}),
            400,
            "invalid_body",
        ),
    ] {
        let r = call(&app, &app.token, "POST", "tasks", Some(&body));
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert_eq!(code(&r), want, "{body}");
    }
    for (method, path, body, status, want) in [
        (
            "PATCH",
            format!("tasks/{t}"),
            json!({"version": 7, "title": "Stale"}),
            409,
            "conflict",
        ),
        (
            "PATCH",
            format!("tasks/{t}"),
            json!({"version": 1, "title": ""}),
            400,
            "invalid_field",
        ),
        (
            "PATCH",
            format!("tasks/{t}"),
            json!({"title": "No version"}),
            400,
            "invalid_body",
        ),
        (
            "POST",
            format!("tasks/{t}/close"),
            json!({"version": 3}),
            409,
            "conflict",
        ),
        (
            "POST",
            format!("tasks/{t}/notes"),
            json!({"body": " "}),
            400,
            "invalid_field",
        ),
        (
            "GET",
            "tasks/not-a-task".to_owned(),
            json!({}),
            404,
            "not_found",
        ),
        (
            "GET",
            "tasks?limit=0".to_owned(),
            json!({}),
            400,
            "invalid_field",
        ),
        (
            "GET",
            "tasks?state=archived".to_owned(),
            json!({}),
            400,
            "invalid_query",
        ),
    ] {
        let r = call(&app, &app.token, method, &path, Some(&body));
        assert_eq!(r.status, status, "{method} {path} {body}: {}", r.text());
        assert_eq!(code(&r), want, "{method} {path} {body}");
    }
    assert_eq!(stored(&app, &t), task);
    assert_eq!(ids(&app, "department=1"), before);
    let r = call(&app, &app.token, "GET", &format!("tasks/{t}/thread"), None);
    assert_eq!(
        json(&r)["items"].as_array().unwrap().len(),
        1,
        "only the creation event"
    );
}

#[test]
fn deleting_a_task_with_a_long_thread_removes_every_entry() {
    use taquilla_core::domain::{InstanceId, TaskId};
    use taquilla_core::keys;
    use taquilla_core::store::{ItemStore, Query};

    let app = TestApp::new();
    let task = create(&app, &json!({"title": "Chatty", "department": 1}));
    let t = id(&task);
    for n in 0..120 {
        let r = call(
            &app,
            &app.token,
            "POST",
            &format!("tasks/{t}/notes"),
            Some(&json!({"body": format!("note {n}")})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let partition = keys::task_pk(
        &InstanceId::parse(DEMO).unwrap(),
        &TaskId::parse(&t).unwrap(),
    );
    let count = || {
        app.rt
            .block_on(
                app.store
                    .query(&Query::table(partition.clone()).limit(1000)),
            )
            .unwrap()
            .items
            .len()
    };
    assert_eq!(count(), 122, "the task, its creation event and 120 notes");
    let r = call(&app, &app.token, "DELETE", &format!("tasks/{t}"), None);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(count(), 0, "deleted over two transactions of at most 100");
}

/// A team of the demo instance created through the admin API with
/// `members`; its id.
fn team(app: &TestApp, name: &str, members: &[u32]) -> u32 {
    let r = app.api(
        "POST",
        &format!("{DEMO}/teams"),
        Some(&json!({"name": name, "members": members})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    u32::try_from(json(&r)["id"].as_u64().unwrap()).unwrap()
}

/// The ids of a page of tasks, as `token` lists them.
fn ids_as(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let r = call(app, token, "GET", &format!("tasks?{query}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect()
}

#[test]
fn a_task_given_to_a_team_is_listed_by_the_team_and_seen_by_its_agents() {
    let app = TestApp::new();
    // Agents of department 2 only: one joins the team, one does not.
    let (member_id, member) = agent(&app, "member@demo.example.org", 2, 1);
    let (_, outsider) = agent(&app, "outsider@demo.example.org", 2, 1);
    let field = team(&app, "Field", &[member_id]);
    let desk = team(&app, "Desk", &[]);

    let task = create(
        &app,
        &json!({"title": "Replace the projector", "department": 1, "team": field}),
    );
    let t = id(&task);
    assert_eq!(task["team"], field);
    let plain = create(&app, &json!({"title": "Nobody's", "department": 1}));
    assert!(plain["team"].is_null());

    // The team's list holds it (and only what is the team's); its member
    // sees it and may note it, though department 1 is not one of theirs.
    assert_eq!(ids(&app, &format!("team={field}")), [t.as_str()]);
    assert!(ids(&app, &format!("team={desk}")).is_empty());
    assert_eq!(
        ids_as(&app, &member, &format!("team={field}")),
        [t.as_str()]
    );
    assert!(ids_as(&app, &member, "department=1").contains(&t));
    assert!(!ids_as(&app, &member, "department=1").contains(&id(&plain)));
    let r = call(&app, &member, "GET", &format!("tasks/{t}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call(
        &app,
        &member,
        "POST",
        &format!("tasks/{t}/notes"),
        Some(&json!({"body": "On my way."})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // Seen, but no role in department 1: editing is forbidden, not hidden.
    let r = call(
        &app,
        &member,
        "PATCH",
        &format!("tasks/{t}"),
        Some(&json!({"version": 2, "title": "Mine"})),
    );
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.text()
    );
    // Anyone else of department 2 does not see it at all.
    for path in [format!("tasks/{t}"), format!("tasks/{t}/thread")] {
        let r = call(&app, &outsider, "GET", &path, None);
        assert_eq!(
            (r.status, code(&r).as_str()),
            (404, "not_found"),
            "{}",
            r.text()
        );
    }
    assert!(ids_as(&app, &outsider, &format!("team={field}")).is_empty());

    // Another team: the lists follow, and the member loses sight of it.
    let r = call(
        &app,
        &app.token,
        "PATCH",
        &format!("tasks/{t}"),
        Some(&json!({"version": 2, "team": desk})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["team"], desk);
    assert!(ids(&app, &format!("team={field}")).is_empty());
    assert_eq!(ids(&app, &format!("team={desk}")), [t.as_str()]);
    let r = call(&app, &member, "GET", &format!("tasks/{t}"), None);
    assert_eq!(r.status, 404, "{}", r.text());

    // Closed, it moves to the team's closed list; null takes the team away.
    let r = call(&app, &app.token, "POST", &format!("tasks/{t}/close"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(ids(&app, &format!("team={desk}")).is_empty());
    assert_eq!(
        ids(&app, &format!("team={desk}&state=closed")),
        [t.as_str()]
    );
    let r = call(
        &app,
        &app.token,
        "PATCH",
        &format!("tasks/{t}"),
        Some(&json!({"version": 4, "team": null})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(json(&r)["team"].is_null());
    assert!(ids(&app, &format!("team={desk}&state=closed")).is_empty());

    // The thread records each change of team.
    let r = call(&app, &app.token, "GET", &format!("tasks/{t}/thread"), None);
    let events: Vec<(String, Value)> = json(&r)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| Some((e["event"].as_str()?.to_owned(), e["data"].clone())))
        .collect();
    assert_eq!(
        events,
        [
            ("created".to_owned(), json!({"team": field.to_string()})),
            ("assigned".to_owned(), json!({"team": desk.to_string()})),
            ("closed".to_owned(), json!({})),
            ("released".to_owned(), json!({"team": desk.to_string()})),
        ]
    );
}

#[test]
fn a_team_must_exist_and_giving_one_needs_task_assign() {
    let app = TestApp::new();
    let field = team(&app, "Field", &[]);
    let task = create(&app, &json!({"title": "Keep me", "department": 1}));
    let t = id(&task);
    for (method, path, body) in [
        (
            "POST",
            "tasks".to_owned(),
            json!({"title": "x", "department": 1, "team": 99}),
        ),
        (
            "PATCH",
            format!("tasks/{t}"),
            json!({"version": 1, "team": 99}),
        ),
        ("GET", "tasks?team=x".to_owned(), json!({})),
    ] {
        let r = call(&app, &app.token, method, &path, Some(&body));
        assert_eq!(r.status, 400, "{method} {path} {body}: {}", r.text());
        let want = if method == "GET" {
            "invalid_query"
        } else {
            "invalid_field"
        };
        assert_eq!(code(&r), want, "{method} {path} {body}");
    }
    // Role 2 "Limited access" creates tasks but may not give them a team.
    let (_, limited) = agent(&app, "limited@demo.example.org", 1, 2);
    let r = call(
        &app,
        &limited,
        "POST",
        "tasks",
        Some(&json!({"title": "x", "department": 1, "team": field})),
    );
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.text()
    );
    let r = call(
        &app,
        &limited,
        "PATCH",
        &format!("tasks/{t}"),
        Some(&json!({"version": 1, "team": field})),
    );
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.text()
    );
    assert_eq!(stored(&app, &t), task, "nothing changed");
    assert!(ids(&app, &format!("team={field}")).is_empty());
}

#[test]
fn tasks_are_numbered_one_after_another_in_each_help_desk() {
    let app = TestApp::new();
    let tasks: Vec<Value> = (0..3)
        .map(|n| {
            create(
                &app,
                &json!({"title": format!("Task {n}"), "department": 1}),
            )
        })
        .collect();
    let numbers: Vec<u64> = tasks
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    // The number stays with the task, and another help desk counts apart.
    assert_eq!(stored(&app, &id(&tasks[0]))["number"], 1);
    let other_admin = app.token_for(taquilla_tests::app::OTHER, 1, None);
    let r = app.api_as(
        &other_admin,
        "POST",
        &format!("{}/tasks", taquilla_tests::app::OTHER),
        Some(&json!({"title": "Elsewhere", "department": 1})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(json(&r)["number"], 1);
}
