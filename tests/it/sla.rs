//! Business-hours schedules and SLA plans through the configuration API of
//! the real server: they round-trip with versions, bad ones are refused
//! with the rule's stable code, references must exist (a plan's schedule, a
//! department's or topic's plan), what is in use is not deleted, and an
//! instance sees only its own.

use serde_json::{Value, json};
use taquilla_tests::app::{DEMO, OTHER, TestApp, json};
use taquilla_tests::http::Response;

fn code(r: &Response) -> String {
    json(r)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn message(r: &Response) -> String {
    json(r)["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Mon–Fri 08:00–14:00 and 15:00–17:30 in Madrid, the Diada closed and
/// Christmas Eve open in the morning.
fn office() -> Value {
    json!({
        "name": "Registry office",
        "timezone": "Europe/Madrid",
        "hours": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "14:00"},
            {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "15:00", "to": "17:30"},
        ],
        "holidays": [
            {"date": "2026-09-11", "name": "Diada"},
            {"date": "2026-12-24", "name": "Nit de Nadal", "hours": [{"from": "09:00", "to": "13:00"}]},
        ],
    })
}

fn post(app: &TestApp, kind: &str, body: &Value) -> Response {
    app.api("POST", &format!("{DEMO}/{kind}"), Some(body))
}

fn created(app: &TestApp, kind: &str, body: &Value) -> Value {
    let r = post(app, kind, body);
    assert_eq!(r.status, 201, "{kind} {body}: {}", r.text());
    json(&r)
}

fn count(app: &TestApp, instance: &str, token: &str, kind: &str) -> usize {
    let r = app.api_as(token, "GET", &format!("{instance}/{kind}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)["items"].as_array().unwrap().len()
}

#[test]
fn a_schedule_round_trips_with_versions() {
    let app = TestApp::new();
    let schedule = created(&app, "schedules", &office());
    assert_eq!(schedule["version"], 1);
    assert_eq!(schedule["always_open"], false);
    assert_eq!(schedule["holidays"][1]["hours"][0]["to"], "13:00");
    let path = format!("{DEMO}/schedules/{}", schedule["id"]);
    assert_eq!(json(&app.api("GET", &path, None)), schedule);
    assert_eq!(count(&app, DEMO, &app.token, "schedules"), 1);

    let changed = app.api(
        "PATCH",
        &path,
        Some(&json!({
            "version": 1,
            "name": "Registry (summer)",
            "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "15:00"}],
        })),
    );
    assert_eq!(changed.status, 200, "{}", changed.text());
    let changed = json(&changed);
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["name"], "Registry (summer)");
    assert_eq!(changed["hours"].as_array().unwrap().len(), 1);
    assert_eq!(
        changed["holidays"], schedule["holidays"],
        "absent fields stay"
    );

    let stale = app.api("PATCH", &path, Some(&json!({"version": 1, "name": "Late"})));
    assert_eq!((stale.status, code(&stale).as_str()), (409, "conflict"));
    assert_eq!(json(&app.api("GET", &path, None)), changed);

    // 24x7 is a schedule too, and takes no hours.
    let always = created(
        &app,
        "schedules",
        &json!({"name": "Always", "timezone": "UTC", "always_open": true}),
    );
    assert_eq!(always["hours"], json!([]));
}

#[test]
fn bad_schedules_are_refused_with_the_rules_stable_codes_and_change_nothing() {
    let app = TestApp::new();
    let with = |field: &str, value: Value| {
        let mut body = office();
        body[field] = value;
        body
    };
    let weekdays = json!(["mon", "tue", "wed", "thu", "fri"]);
    for (body, field, rule) in [
        (
            with("timezone", json!("Europe/Atlantis")),
            "timezone",
            "schedule_unknown_zone",
        ),
        (
            with(
                "hours",
                json!([
                    {"days": weekdays, "from": "08:00", "to": "14:00"},
                    {"days": ["wed"], "from": "13:00", "to": "15:00"},
                ]),
            ),
            "hours",
            "schedule_overlapping_intervals",
        ),
        (
            with(
                "hours",
                json!([{"days": weekdays, "from": "17:00", "to": "09:00"}]),
            ),
            "hours",
            "schedule_inverted_interval",
        ),
        (
            with(
                "hours",
                json!([{"days": weekdays, "from": "08:00", "to": "25:00"}]),
            ),
            "hours",
            "schedule_bad_time",
        ),
        (with("hours", json!([])), "hours", "schedule_never_open"),
        (
            with("always_open", json!(true)),
            "hours",
            "schedule_hours_with_24x7",
        ),
        (
            with("holidays", json!([{"date": "2026-02-30"}])),
            "holidays",
            "schedule_bad_date",
        ),
        (
            with(
                "holidays",
                json!([{"date": "2026-09-11"}, {"date": "2026-09-11", "name": "Again"}]),
            ),
            "holidays",
            "schedule_duplicate_holiday",
        ),
        (
            with(
                "holidays",
                json!([{"date": "2026-12-24", "hours": [{"from": "12:00", "to": "10:00"}]}]),
            ),
            "holidays",
            "schedule_inverted_interval",
        ),
    ] {
        let r = post(&app, "schedules", &body);
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "invalid_field"),
            "{rule}: {}",
            r.text()
        );
        let text = message(&r);
        assert!(
            text.starts_with(&format!("invalid {field}:")) && text.ends_with(&format!("[{rule}]")),
            "{rule}: {text}"
        );
    }
    // A day that is not one is a body that does not parse.
    let r = post(
        &app,
        "schedules",
        &with(
            "hours",
            json!([{"days": ["someday"], "from": "08:00", "to": "09:00"}]),
        ),
    );
    assert_eq!((r.status, code(&r).as_str()), (400, "invalid_body"));
    assert_eq!(count(&app, DEMO, &app.token, "schedules"), 0);

    // An update into a bad schedule changes nothing either.
    let schedule = created(&app, "schedules", &office());
    let path = format!("{DEMO}/schedules/{}", schedule["id"]);
    let r = app.api(
        "PATCH",
        &path,
        Some(&json!({"version": 1, "timezone": "Mars/Olympus"})),
    );
    assert_eq!((r.status, code(&r).as_str()), (400, "invalid_field"));
    assert!(message(&r).ends_with("[schedule_unknown_zone]"));
    assert_eq!(json(&app.api("GET", &path, None)), schedule);
}

#[test]
fn an_sla_plan_round_trips_and_names_an_existing_schedule() {
    let app = TestApp::new();
    let missing = post(
        &app,
        "sla-plans",
        &json!({"name": "Standard", "first_response_minutes": 240, "schedule": 9}),
    );
    assert_eq!(
        (missing.status, code(&missing).as_str()),
        (400, "invalid_field")
    );
    assert!(message(&missing).contains("schedule 9 does not exist"));
    assert_eq!(count(&app, DEMO, &app.token, "sla-plans"), 0);

    let schedule = created(&app, "schedules", &office());
    let waiting = created(
        &app,
        "statuses",
        &json!({"name": "Waiting on user", "state": "open"}),
    );
    let plan = created(
        &app,
        "sla-plans",
        &json!({
            "name": "Standard",
            "first_response_minutes": 240,
            "resolution_minutes": 2400,
            "schedule": schedule["id"],
            "pause_statuses": [waiting["id"], waiting["id"]],
        }),
    );
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["warning_percent"], 80, "the default warning");
    assert_eq!(plan["overdue_alerts"], true);
    assert_eq!(plan["transient"], false);
    assert_eq!(plan["next_response_minutes"], Value::Null);
    assert_eq!(
        plan["pause_statuses"],
        json!([waiting["id"]]),
        "listed once"
    );

    let path = format!("{DEMO}/sla-plans/{}", plan["id"]);
    assert_eq!(json(&app.api("GET", &path, None)), plan);
    let changed = app.api(
        "PATCH",
        &path,
        Some(&json!({"version": 1, "schedule": null, "next_response_minutes": 480, "warning_percent": null})),
    );
    assert_eq!(changed.status, 200, "{}", changed.text());
    let changed = json(&changed);
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["schedule"], Value::Null, "24x7");
    assert_eq!(changed["next_response_minutes"], 480);
    assert_eq!(changed["warning_percent"], Value::Null);
    let stale = app.api(
        "PATCH",
        &path,
        Some(&json!({"version": 1, "transient": true})),
    );
    assert_eq!((stale.status, code(&stale).as_str()), (409, "conflict"));

    for (body, field, rule) in [
        (
            json!({"name": "Nothing"}),
            "first_response_minutes",
            "[sla_no_target]",
        ),
        (
            json!({"name": "Zero", "resolution_minutes": 0}),
            "resolution_minutes",
            "[sla_bad_target]",
        ),
        (
            json!({"name": "Late warning", "resolution_minutes": 60, "warning_percent": 100}),
            "warning_percent",
            "[sla_bad_warning]",
        ),
        // Status 2 ("Resolved") is a closed one; 99 does not exist.
        (
            json!({"name": "Closed pause", "resolution_minutes": 60, "pause_statuses": [2]}),
            "pause_statuses",
            "is not an open one",
        ),
        (
            json!({"name": "Ghost pause", "resolution_minutes": 60, "pause_statuses": [99]}),
            "pause_statuses",
            "status 99 does not exist",
        ),
    ] {
        let r = post(&app, "sla-plans", &body);
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "invalid_field"),
            "{body}: {}",
            r.text()
        );
        let text = message(&r);
        assert!(
            text.starts_with(&format!("invalid {field}:")) && text.contains(rule),
            "{body}: {text}"
        );
    }
    assert_eq!(count(&app, DEMO, &app.token, "sla-plans"), 1);
}

#[test]
fn departments_and_topics_must_name_an_existing_plan() {
    let app = TestApp::new();
    for (kind, body) in [
        ("departments", json!({"name": "Labs", "sla": 7})),
        ("topics", json!({"name": "Labs", "department": 1, "sla": 7})),
    ] {
        let r = post(&app, kind, &body);
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "invalid_field"),
            "{kind}: {}",
            r.text()
        );
        assert!(message(&r).contains("SLA plan 7 does not exist"), "{kind}");
    }
    let plan = created(
        &app,
        "sla-plans",
        &json!({"name": "Quick", "first_response_minutes": 30}),
    );
    let department = created(
        &app,
        "departments",
        &json!({"name": "Labs", "sla": plan["id"]}),
    );
    assert_eq!(department["sla"], plan["id"]);
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/topics/1"),
        Some(&json!({"version": json(&app.api("GET", &format!("{DEMO}/topics/1"), None))["version"], "sla": 42})),
    );
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "invalid_field"),
        "{}",
        r.text()
    );
}

#[test]
fn what_is_in_use_is_not_deleted() {
    let app = TestApp::new();
    let schedule = created(&app, "schedules", &office());
    let schedule_path = format!("{DEMO}/schedules/{}", schedule["id"]);
    let plan = created(
        &app,
        "sla-plans",
        &json!({"name": "Standard", "resolution_minutes": 2400, "schedule": schedule["id"]}),
    );
    let plan_path = format!("{DEMO}/sla-plans/{}", plan["id"]);
    let topic = created(
        &app,
        "topics",
        &json!({"name": "Certificates", "department": 1, "sla": plan["id"]}),
    );
    let topic_path = format!("{DEMO}/topics/{}", topic["id"]);

    let r = app.api("DELETE", &schedule_path, None);
    assert_eq!((r.status, code(&r).as_str()), (409, "conflict"));
    assert!(
        message(&r).contains("SLA plan \"Standard\""),
        "{}",
        r.text()
    );
    let r = app.api("DELETE", &plan_path, None);
    assert_eq!((r.status, code(&r).as_str()), (409, "conflict"));
    assert!(
        message(&r).contains("help topic \"Certificates\""),
        "{}",
        r.text()
    );

    // Let go in order: the topic's plan, then the plan's schedule.
    let r = app.api(
        "PATCH",
        &topic_path,
        Some(&json!({"version": 1, "sla": null})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(app.api("DELETE", &plan_path, None).status, 204);
    assert_eq!(app.api("GET", &plan_path, None).status, 404);
    assert_eq!(app.api("DELETE", &schedule_path, None).status, 204);
    assert_eq!(app.api("GET", &schedule_path, None).status, 404);
    let r = app.api("DELETE", &schedule_path, None);
    assert_eq!((r.status, code(&r).as_str()), (404, "not_found"));
    // Their names are free again.
    created(&app, "schedules", &office());
}

#[test]
fn another_instance_cannot_see_them() {
    let app = TestApp::new();
    let schedule = created(&app, "schedules", &office());
    let plan = created(
        &app,
        "sla-plans",
        &json!({"name": "Standard", "first_response_minutes": 240, "schedule": schedule["id"]}),
    );
    let other = app.token_for(OTHER, 1, None);
    for kind in ["schedules", "sla-plans"] {
        assert_eq!(count(&app, OTHER, &other, kind), 0, "{kind}");
        let r = app.api_as(&other, "GET", &format!("{OTHER}/{kind}/1"), None);
        assert_eq!((r.status, code(&r).as_str()), (404, "not_found"), "{kind}");
        let r = app.api_as(&other, "GET", &format!("{DEMO}/{kind}"), None);
        assert!(matches!(r.status, 401 | 403), "{kind}: {}", r.status);
    }
    // Nor name the demo's schedule from its own plans.
    let r = app.api_as(
        &other,
        "POST",
        &format!("{OTHER}/sla-plans"),
        Some(
            &json!({"name": "Borrowed", "first_response_minutes": 60, "schedule": schedule["id"]}),
        ),
    );
    assert_eq!((r.status, code(&r).as_str()), (400, "invalid_field"));
    // The same names are free there.
    let r = app.api_as(
        &other,
        "POST",
        &format!("{OTHER}/schedules"),
        Some(&office()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(plan["name"], "Standard");
}

#[test]
fn the_document_describes_schedules_and_plans() {
    let app = TestApp::new();
    let document = json(&app.openapi());
    for path in [
        "/api/v1/{instance}/schedules",
        "/api/v1/{instance}/schedules/{id}",
        "/api/v1/{instance}/sla-plans",
        "/api/v1/{instance}/sla-plans/{id}",
    ] {
        assert!(document["paths"][path].is_object(), "{path}");
    }
    let schemas = &document["components"]["schemas"];
    assert!(schemas["NewSchedule"]["properties"]["holidays"].is_object());
    assert_eq!(
        schemas["NewSlaPlan"]["properties"]["warning_percent"]["default"],
        80
    );
}
