//! Business-hours schedules and SLA plans through the configuration API of
//! the real server: they round-trip with versions, bad ones are refused
//! with the rule's stable code, references must exist (a plan's schedule, a
//! department's or topic's plan), what is in use is not deleted, and an
//! instance sees only its own. On tickets: due times across weekends,
//! holidays, closures and DST, pauses, targets met, the escalation tick,
//! and an agent giving a ticket another plan (or none), refused for an
//! unknown plan and for agents who may not edit the ticket.

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
fn refusals_carry_the_rules_own_stable_code_and_field() {
    let app = TestApp::new();
    let mut overlapping = office();
    overlapping["hours"] = json!([
        {"days": ["mon"], "from": "08:00", "to": "14:00"},
        {"days": ["mon"], "from": "13:00", "to": "15:00"},
    ]);
    for (kind, body, field, rule) in [
        (
            "schedules",
            overlapping,
            "hours",
            "schedule_overlapping_intervals",
        ),
        (
            "sla-plans",
            json!({"name": "Nothing"}),
            "first_response_minutes",
            "sla_no_target",
        ),
        (
            "sla-plans",
            json!({"name": "Late", "resolution_minutes": 60, "warning_percent": 100}),
            "warning_percent",
            "sla_bad_warning",
        ),
    ] {
        let r = post(&app, kind, &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let error = &json(&r)["error"];
        assert_eq!(error["code"], "invalid_field", "{error}");
        assert_eq!(error["rule"], rule, "{error}");
        assert_eq!(error["field"], field, "{error}");
    }
    // A plan naming a schedule that does not exist.
    let r = post(
        &app,
        "sla-plans",
        &json!({"name": "Ghost", "resolution_minutes": 60, "schedule": 9}),
    );
    let error = &json(&r)["error"];
    assert_eq!(
        (error["field"].as_str(), error["rule"].as_str()),
        (Some("schedule"), Some("sla_unknown_schedule")),
        "{error}"
    );
    // A refusal without a rule of its own names only the field.
    let r = post(
        &app,
        "sla-plans",
        &json!({"name": "Ghost", "resolution_minutes": 60, "pause_statuses": [99]}),
    );
    let error = &json(&r)["error"];
    assert_eq!(
        (error["field"].as_str(), error.get("rule")),
        (Some("pause_statuses"), None)
    );
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
    // Agents change a ticket's plan with the ticket's other fields.
    let sla = &schemas["TicketChanges"]["properties"]["sla"];
    assert_eq!(
        (&sla["type"], &sla["nullable"]),
        (&json!("integer"), &json!(true))
    );
    assert!(
        sla["description"]
            .as_str()
            .unwrap()
            .contains("sla_unknown_plan")
    );
}

// ---------------------------------------------------------------------------
// Plans at work on tickets, and the escalation tick
// ---------------------------------------------------------------------------

mod on_tickets {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use serde_json::{Value, json};
    use taquilla_core::clock::ManualClock;
    use taquilla_core::domain::{AgentId, Author, InstanceId};
    use taquilla_core::services::Ctx;
    use taquilla_core::services::sla::tick::{self, TickReport};
    use taquilla_core::store::ItemStore;
    use taquilla_tests::app::{DEMO, TestApp, json};
    use taquilla_tests::counting::CountingStore;
    use taquilla_tests::http::Response;

    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    /// Friday 23 October 2026, 15:00 in Madrid (CEST, UTC+2).
    const FRI_23_OCT_15H: i64 = 1_792_760_400_000;
    /// Tuesday 27 October 2026 in Madrid (CET, UTC+1 since Sunday 25).
    const TUE_27_OCT_10H12: i64 = 1_793_092_320_000;
    const TUE_27_OCT_11H: i64 = 1_793_095_200_000;
    const TUE_27_OCT_15H: i64 = 1_793_109_600_000;
    /// Monday 2 November 2026, 11:00 in Madrid (CET).
    const MON_2_NOV_11H: i64 = 1_793_613_600_000;
    /// Monday 19 October 2026 in Madrid.
    const MON_19_OCT_9H: i64 = 1_792_393_200_000;
    const MON_19_OCT_13H: i64 = 1_792_407_600_000;
    const MON_19_OCT_15H: i64 = 1_792_414_800_000;

    struct Desk {
        app: TestApp,
        clock: Arc<ManualClock>,
    }

    impl Desk {
        fn at(ms: i64) -> Self {
            let clock = Arc::new(ManualClock::at_ms(ms));
            let app = TestApp::with_clock(clock.clone());
            Self { app, clock }
        }

        fn created(&self, kind: &str, body: &Value) -> Value {
            let r = self.app.api("POST", &format!("{DEMO}/{kind}"), Some(body));
            assert_eq!(r.status, 201, "{kind} {body}: {}", r.text());
            json(&r)
        }

        /// Gives department 1 (where tickets without a topic go) `plan`.
        fn department_plan(&self, plan: &Value) {
            let path = format!("{DEMO}/departments/1");
            let version = json(&self.app.api("GET", &path, None))["version"].clone();
            let r = self.app.api(
                "PATCH",
                &path,
                Some(&json!({"version": version, "sla": plan["id"]})),
            );
            assert_eq!(r.status, 200, "{}", r.text());
        }

        fn open(&self, subject: &str) -> String {
            let r = self.app.open_ticket(
                DEMO,
                &json!({"name": "Ada", "email": "ada@example.org", "subject": subject,
                        "body": {"text": "My enrolment certificate, please."}}),
            );
            assert_eq!(r.status, 201, "{}", r.text());
            json(&r)["number"].as_str().unwrap().to_owned()
        }

        fn ticket(&self, number: &str) -> Value {
            let r = self.app.get_ticket(DEMO, number);
            assert_eq!(r.status, 200, "{}", r.text());
            json(&r)
        }

        fn patch(&self, number: &str, changes: Value) -> Value {
            let mut body = changes;
            body["version"] = self.ticket(number)["version"].clone();
            let r = self
                .app
                .api("PATCH", &format!("{DEMO}/tickets/{number}"), Some(&body));
            assert_eq!(r.status, 200, "{}", r.text());
            json(&r)
        }

        /// The target `name` of the ticket as an agent reads it.
        fn target(&self, number: &str, name: &str) -> Value {
            let ticket = self.ticket(number);
            ticket["sla_clock"]["targets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["target"] == name)
                .cloned()
                .unwrap_or_else(|| panic!("no {name} target: {ticket}"))
        }

        fn tick(&self) -> TickReport {
            tick_on(&self.app, self.app.store.as_ref())
        }

        fn events(&self, number: &str, name: &str) -> usize {
            let (_, thread) = self.app.ticket_and_thread(DEMO, number);
            thread
                .iter()
                .filter(|e| e.event.as_deref() == Some(name))
                .count()
        }
    }

    fn tick_on(app: &TestApp, store: &dyn ItemStore) -> TickReport {
        let instance = InstanceId::parse(DEMO).unwrap();
        let ctx = Ctx {
            store,
            blobs: app.blobs.as_ref(),
            clock: app.clock.as_ref(),
            instance: &instance,
        };
        app.rt.block_on(tick::tick(&ctx)).unwrap()
    }

    /// Mon–Fri 09:00–17:00 in Madrid, Monday 26 October 2026 closed.
    fn office(desk: &Desk) -> Value {
        desk.created(
            "schedules",
            &json!({
                "name": "Office",
                "timezone": "Europe/Madrid",
                "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"}],
                "holidays": [{"date": "2026-10-26", "name": "Bridge day"}],
            }),
        )
    }

    #[test]
    fn a_ticket_is_due_in_business_hours_across_a_weekend_a_holiday_and_a_dst_change() {
        let desk = Desk::at(FRI_23_OCT_15H);
        let schedule = office(&desk);
        let plan = desk.created(
            "sla-plans",
            &json!({"name": "Standard", "first_response_minutes": 240,
                    "resolution_minutes": 480, "schedule": schedule["id"]}),
        );
        desk.department_plan(&plan);
        let n = desk.open("Certificate");
        let ticket = desk.ticket(&n);
        assert_eq!(ticket["sla"], plan["id"]);
        // 4 business hours: 2 on Friday; the weekend (when clocks go back
        // an hour) and Monday's holiday closed; 2 on Tuesday, in CET.
        assert_eq!(ticket["due_at"], TUE_27_OCT_11H, "{ticket}");
        let first = desk.target(&n, "first_response");
        assert_eq!(first["state"], "running");
        assert_eq!(first["due_at"], TUE_27_OCT_11H);
        assert_eq!(
            first["warn_at"], TUE_27_OCT_10H12,
            "80 % of 4 h: 3 h 12 min"
        );
        let resolution = desk.target(&n, "resolution");
        assert_eq!(
            resolution["due_at"], TUE_27_OCT_15H,
            "8 h: 2 Friday, 6 Tuesday"
        );
        assert_eq!(ticket["overdue"], false);

        // Read after the due time: breached, before any tick.
        desk.clock.set_ms(TUE_27_OCT_11H + MINUTE);
        assert_eq!(desk.target(&n, "first_response")["state"], "breached");
        // Users see none of the clock.
        let mine = json(&desk.app.api_with_key(
            &desk.app.api_key,
            "GET",
            &format!("{DEMO}/tickets/{n}"),
            None,
        ));
        assert!(
            mine["sla_clock"]["targets"].is_array(),
            "API keys act for agents"
        );
    }

    #[test]
    fn a_closure_of_several_days_holds_the_clock_and_one_ending_before_it_starts_is_refused() {
        let desk = Desk::at(FRI_23_OCT_15H);
        let closure = |from: &str, until: &str| {
            json!({"name": "Autumn", "timezone": "Europe/Madrid",
                   "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"}],
                   "holidays": [{"date": from, "until": until, "name": "Autumn closure"}]})
        };
        let r = desk.app.api(
            "POST",
            &format!("{DEMO}/schedules"),
            Some(&closure("2026-10-30", "2026-10-26")),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        let error = &json(&r)["error"];
        assert_eq!(
            (error["field"].as_str(), error["rule"].as_str()),
            (Some("holidays"), Some("schedule_inverted_closure")),
            "{error}"
        );
        let schedule = desk.created("schedules", &closure("2026-10-26", "2026-10-30"));
        assert_eq!(schedule["holidays"][0]["until"], "2026-10-30");
        let plan = desk.created(
            "sla-plans",
            &json!({"name": "Standard", "first_response_minutes": 240, "schedule": schedule["id"]}),
        );
        desk.department_plan(&plan);
        // Two hours on Friday; the weekend and the week of the closure
        // closed; two more on Monday 2 November (CET).
        let n = desk.open("Certificate");
        assert_eq!(desk.ticket(&n)["due_at"], MON_2_NOV_11H);
    }

    #[test]
    fn a_pausing_status_stops_the_clock_and_shifts_the_due_times() {
        let desk = Desk::at(MON_19_OCT_9H);
        let schedule = office(&desk);
        let waiting = desk.created(
            "statuses",
            &json!({"name": "Waiting on user", "state": "open"}),
        );
        let plan = desk.created(
            "sla-plans",
            &json!({"name": "Standard", "first_response_minutes": 240,
                    "schedule": schedule["id"], "pause_statuses": [waiting["id"]]}),
        );
        desk.department_plan(&plan);
        let n = desk.open("Certificate");
        assert_eq!(desk.ticket(&n)["due_at"], MON_19_OCT_13H);

        desk.clock.set_ms(MON_19_OCT_9H + HOUR);
        let paused = desk.patch(&n, json!({"status": waiting["id"]}));
        assert_eq!(paused["due_at"], Value::Null, "no due time while paused");
        let first = desk.target(&n, "first_response");
        assert_eq!(first["state"], "paused");
        assert_eq!(first["left_ms"], 3 * HOUR);

        desk.clock.set_ms(MON_19_OCT_9H + 3 * HOUR);
        let resumed = desk.patch(&n, json!({"status": 1}));
        // Two business hours paused: 13:00 becomes 15:00.
        assert_eq!(resumed["due_at"], MON_19_OCT_15H);
        assert_eq!(desk.target(&n, "first_response")["state"], "running");
    }

    #[test]
    fn the_first_response_meets_the_first_response_target() {
        let desk = Desk::at(MON_19_OCT_9H);
        let schedule = office(&desk);
        let plan = desk.created(
            "sla-plans",
            &json!({"name": "Standard", "first_response_minutes": 240,
                    "next_response_minutes": 120, "resolution_minutes": 960,
                    "schedule": schedule["id"]}),
        );
        desk.department_plan(&plan);
        let n = desk.open("Certificate");
        desk.clock.set_ms(MON_19_OCT_9H + HOUR);
        let r = desk.app.api(
            "POST",
            &format!("{DEMO}/tickets/{n}/responses"),
            Some(&json!({"body": "Here it is."})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let first = desk.target(&n, "first_response");
        assert_eq!(
            (first["state"].as_str(), first["met_at"].as_i64()),
            (Some("met"), Some(MON_19_OCT_9H + HOUR))
        );
        assert_eq!(desk.target(&n, "next_response")["state"], "met");
        // The resolution is what is due now: 16 business hours, Tuesday 17:00.
        let ticket = desk.ticket(&n);
        assert_eq!(ticket["due_at"], desk.target(&n, "resolution")["due_at"]);

        // Closing clears every due time; the tick has nothing to do.
        let closed = desk.patch(&n, json!({"status": 3}));
        assert_eq!(closed["due_at"], Value::Null);
        desk.clock.set_ms(MON_19_OCT_9H + 30 * 24 * HOUR);
        assert_eq!(desk.tick().due, 0);
        assert_eq!(desk.ticket(&n)["overdue"], false);
    }

    #[test]
    fn a_users_new_message_starts_the_next_response_target() {
        let desk = Desk::at(MON_19_OCT_9H);
        let plan = desk.created(
            "sla-plans",
            &json!({"name": "Chat", "first_response_minutes": 60, "next_response_minutes": 30}),
        );
        desk.department_plan(&plan);
        let n = desk.open("Certificate");
        assert_eq!(desk.ticket(&n)["due_at"], MON_19_OCT_9H + HOUR);
        let post = |path: &str, body: Value| {
            let r = desk
                .app
                .api("POST", &format!("{DEMO}/tickets/{n}/{path}"), Some(&body));
            assert_eq!(r.status, 201, "{}", r.text());
        };
        desk.clock.set_ms(MON_19_OCT_9H + 10 * MINUTE);
        post("responses", json!({"body": "Which year?"}));
        assert_eq!(desk.ticket(&n)["due_at"], Value::Null, "nothing owed");

        // The user answers: the next response is due 30 minutes later.
        desk.clock.set_ms(MON_19_OCT_9H + 20 * MINUTE);
        post("messages", json!({"body": "2025, please."}));
        let next = desk.target(&n, "next_response");
        assert_eq!(
            (next["state"].as_str(), next["due_at"].as_i64()),
            (Some("running"), Some(MON_19_OCT_9H + 50 * MINUTE))
        );
        assert_eq!(desk.ticket(&n)["due_at"], MON_19_OCT_9H + 50 * MINUTE);
        assert_eq!(desk.target(&n, "first_response")["state"], "met");

        desk.clock.set_ms(MON_19_OCT_9H + 40 * MINUTE);
        post("responses", json!({"body": "Attached."}));
        assert_eq!(desk.target(&n, "next_response")["state"], "met");
        assert_eq!(desk.ticket(&n)["due_at"], Value::Null);
    }

    /// A 24x7 plan: first response in an hour, warned at half.
    fn quick_desk() -> Desk {
        let desk = Desk::at(MON_19_OCT_9H);
        let plan = desk.created(
            "sla-plans",
            &json!({"name": "Quick", "first_response_minutes": 60, "warning_percent": 50}),
        );
        desk.department_plan(&plan);
        desk
    }

    fn subjects(mails: &[taquilla_mail::inbound::ParsedMail], part: &str) -> usize {
        mails.iter().filter(|m| m.subject.contains(part)).count()
    }

    #[test]
    fn the_tick_marks_exactly_the_due_tickets_overdue_alerts_once_and_then_does_nothing() {
        let desk = quick_desk();
        let early = desk.open("Early");
        desk.clock.set_ms(MON_19_OCT_9H + 40 * MINUTE);
        let later = desk.open("Later");
        desk.app.send_pending_mail(DEMO);

        // 61 minutes in: the early ticket's hour is up (its warning is
        // moot); the later one's warning comes at 70.
        desk.clock.set_ms(MON_19_OCT_9H + 61 * MINUTE);
        let report = desk.tick();
        assert_eq!(
            (report.due, report.breaches, report.warnings, report.written),
            (1, 1, 0, 1),
            "{report:?}"
        );
        assert_eq!(desk.ticket(&early)["overdue"], true);
        assert_eq!(desk.ticket(&later)["overdue"], false);
        assert_eq!(desk.events(&early, tick::event::BREACHED), 1);
        assert_eq!(desk.events(&early, tick::event::WARNING), 0);
        let mails = desk.app.send_pending_mail(DEMO);
        assert!(subjects(&mails, "Overdue") >= 1, "{:?}", mails.len());
        assert_eq!(subjects(&mails, "Overdue"), mails.len());
        assert!(
            mails
                .iter()
                .all(|m| { m.subject.contains(&format!("[#{early}]")) })
        );

        // Again at the same moment: nothing is due, nothing written or sent.
        let again = desk.tick();
        assert_eq!(again, TickReport::default());
        assert!(desk.app.send_pending_mail(DEMO).is_empty());
        assert_eq!(desk.events(&early, tick::event::BREACHED), 1);

        // At 70 the later ticket's warning; at 100 its breach.
        desk.clock.set_ms(MON_19_OCT_9H + 70 * MINUTE);
        let report = desk.tick();
        assert_eq!((report.warnings, report.breaches), (1, 0));
        let mails = desk.app.send_pending_mail(DEMO);
        assert_eq!(subjects(&mails, "Due soon"), mails.len());
        assert!(!mails.is_empty());
        desk.clock.set_ms(MON_19_OCT_9H + 100 * MINUTE);
        assert_eq!(desk.tick().breaches, 1);
        assert_eq!(desk.ticket(&later)["overdue"], true);
        assert_eq!(desk.tick(), TickReport::default());
        // The overdue queue lists both, by due time, though neither owes
        // anything more.
        let r = desk
            .app
            .list_tickets(DEMO, "sort=due&order=asc&overdue=true");
        let listed: Vec<String> = json(&r)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, vec![early.clone(), later.clone()]);

        // A response clears the overdue flag with the target it met.
        let r = desk.app.api(
            "POST",
            &format!("{DEMO}/tickets/{early}/responses"),
            Some(&json!({"body": "Sorry for the wait."})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(desk.ticket(&early)["overdue"], false);
    }

    #[test]
    fn due_times_follow_the_department_and_topic_and_only_a_transient_plan_is_replaced() {
        let desk = Desk::at(MON_19_OCT_9H);
        let schedule = office(&desk);
        // IT (department 1) promises an answer in 4 business hours, as a
        // transient plan; the Academic Office (2) in 1 hour, 24x7, and
        // keeps its plan wherever the ticket goes.
        let standard = desk.created(
            "sla-plans",
            &json!({"name": "Standard", "first_response_minutes": 240,
                    "schedule": schedule["id"], "transient": true}),
        );
        let urgent = desk.created(
            "sla-plans",
            &json!({"name": "Urgent", "first_response_minutes": 60}),
        );
        let certificates = desk.created(
            "sla-plans",
            &json!({"name": "Certificates", "first_response_minutes": 480}),
        );
        desk.department_plan(&standard);
        let path = format!("{DEMO}/departments/2");
        let version = json(&desk.app.api("GET", &path, None))["version"].clone();
        let r = desk.app.api(
            "PATCH",
            &path,
            Some(&json!({"version": version, "sla": urgent["id"]})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let topic = desk.created(
            "topics",
            &json!({"name": "Certificates", "department": 2, "sla": certificates["id"]}),
        );

        // Set on creation, from the department.
        let n = desk.open("Certificate");
        let opened = desk.ticket(&n);
        assert_eq!(opened["sla"], standard["id"]);
        assert_eq!(opened["due_at"], MON_19_OCT_13H);

        // Moved to the Academic Office: the transient plan gives way to
        // the new department's, and the due time is recomputed from the
        // opening.
        desk.clock.set_ms(MON_19_OCT_9H + 20 * MINUTE);
        let moved = desk.patch(&n, json!({"department": 2}));
        assert_eq!(moved["sla"], urgent["id"]);
        assert_eq!(moved["due_at"], MON_19_OCT_9H + HOUR);
        let first = desk.target(&n, "first_response");
        assert_eq!(
            (first["state"].as_str(), first["due_at"].as_i64()),
            (Some("running"), Some(MON_19_OCT_9H + HOUR))
        );

        // A topic with a plan of its own does not replace a plan that is
        // not transient.
        let kept = desk.patch(&n, json!({"topic": topic["id"]}));
        assert_eq!(
            (kept["sla"].clone(), kept["due_at"].clone()),
            (urgent["id"].clone(), json!(MON_19_OCT_9H + HOUR))
        );

        // A new ticket of that topic counts in the topic's plan.
        let r = desk.app.open_ticket(
            DEMO,
            &json!({"name": "Ada", "email": "ada@example.org", "subject": "Transcript",
                    "body": {"text": "Please."}, "topic": topic["id"]}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let by_topic = json(&r);
        assert_eq!(by_topic["sla"], certificates["id"]);
        assert_eq!(by_topic["due_at"], MON_19_OCT_9H + 20 * MINUTE + 8 * HOUR);
    }

    #[test]
    fn overdue_alerts_off_marks_the_ticket_but_sends_nothing() {
        let desk = Desk::at(MON_19_OCT_9H);
        let plan = desk.created(
            "sla-plans",
            &json!({"name": "Silent", "first_response_minutes": 60, "overdue_alerts": false}),
        );
        desk.department_plan(&plan);
        let n = desk.open("Quiet");
        desk.app.send_pending_mail(DEMO);
        desk.clock.set_ms(MON_19_OCT_9H + 2 * HOUR);
        assert_eq!(desk.tick().breaches, 1);
        assert_eq!(desk.ticket(&n)["overdue"], true);
        assert_eq!(desk.events(&n, tick::event::BREACHED), 1);
        assert!(desk.app.send_pending_mail(DEMO).is_empty());
    }

    #[test]
    fn two_ticks_at_once_alert_once() {
        let desk = quick_desk();
        let numbers: Vec<String> = (0..5).map(|i| desk.open(&format!("Race {i}"))).collect();
        desk.app.send_pending_mail(DEMO);
        desk.clock.set_ms(MON_19_OCT_9H + 2 * HOUR);
        let instance = InstanceId::parse(DEMO).unwrap();
        let ctx = Ctx {
            store: desk.app.store.as_ref(),
            blobs: desk.app.blobs.as_ref(),
            clock: desk.app.clock.as_ref(),
            instance: &instance,
        };
        let (a, b) = desk
            .app
            .rt
            .block_on(async { tokio::join!(tick::tick(&ctx), tick::tick(&ctx)) });
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.breaches + b.breaches, 5, "{a:?} {b:?}");
        for n in &numbers {
            assert_eq!(desk.events(n, tick::event::BREACHED), 1, "{n}");
        }
        let mails = desk.app.send_pending_mail(DEMO);
        let mut per_ticket: BTreeMap<String, usize> = BTreeMap::new();
        for m in &mails {
            let subject = m.subject.clone();
            assert!(subject.contains("Overdue"), "{subject}");
            *per_ticket.entry(subject).or_default() += 1;
        }
        assert_eq!(per_ticket.len(), 5);
        let per_alert: Vec<usize> = per_ticket.values().copied().collect();
        assert!(
            per_alert.iter().all(|n| *n == per_alert[0]),
            "each ticket alerted once to the same agents: {per_ticket:?}"
        );
        assert_eq!(desk.tick(), TickReport::default());
    }

    #[test]
    fn a_ticks_store_operations_grow_with_the_due_tickets_not_the_open_ones() {
        let desk = quick_desk();
        let counting = CountingStore::new(desk.app.store.clone());
        let cost = |due_now: usize| {
            let before = counting.counts();
            let report = tick_on(&desk.app, &counting);
            let after = counting.counts();
            assert_eq!(report.breaches, due_now, "{report:?}");
            (
                after.query - before.query,
                after.get - before.get,
                after.transact - before.transact,
                after.items_read - before.items_read,
            )
        };
        // 5 due among 5 + 40 open.
        for i in 0..5 {
            desk.open(&format!("Due {i}"));
        }
        desk.clock.set_ms(MON_19_OCT_9H + 2 * HOUR);
        for i in 0..40 {
            desk.open(&format!("Not yet {i}"));
        }
        let (queries, gets, transacts, read) = cost(5);
        assert_eq!(queries, 2, "one page of the due index, and the rules");
        assert!(gets <= 2, "the plan (and its schedule) once: {gets}");
        assert_eq!(transacts, 5, "one write per due ticket");
        assert_eq!(read, 5, "only the due tickets are read");

        // Ten times as many open tickets, as many due: the same cost.
        desk.clock.set_ms(MON_19_OCT_9H + 3 * HOUR - 5 * MINUTE);
        for i in 0..400 {
            desk.open(&format!("More {i}"));
        }
        desk.clock.set_ms(MON_19_OCT_9H + 3 * HOUR + 5 * MINUTE);
        let (queries, gets, transacts, read) = cost(40);
        assert_eq!((queries, transacts, read), (2, 40, 40));
        assert!(gets <= 2);
    }

    /// An agent of the demo created through the admin API with `role` in
    /// `department`; a token for it.
    fn agent(desk: &Desk, email: &str, department: u32, role: u32) -> String {
        let r = desk.app.api(
            "POST",
            &format!("{DEMO}/agents"),
            Some(&json!({"name": email, "email": email, "department": department, "role": role})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let id = u32::try_from(json(&r)["agent"]["id"].as_u64().unwrap()).unwrap();
        desk.app.token_for(DEMO, id, None)
    }

    #[test]
    fn an_agent_gives_a_ticket_another_plan_and_its_due_times_follow() {
        let desk = Desk::at(FRI_23_OCT_15H);
        let schedule = office(&desk);
        let standard = desk.created(
            "sla-plans",
            &json!({"name": "Standard", "first_response_minutes": 240,
                    "resolution_minutes": 480, "schedule": schedule["id"]}),
        );
        let urgent = desk.created(
            "sla-plans",
            &json!({"name": "Urgent", "first_response_minutes": 60}),
        );
        desk.department_plan(&standard);
        let n = desk.open("Certificate");
        assert_eq!(desk.ticket(&n)["due_at"], TUE_27_OCT_11H);

        // Half an hour later an agent finds it urgent: an hour, 24x7, from
        // the opening; the resolution target is gone with the old plan.
        desk.clock.set_ms(FRI_23_OCT_15H + 30 * MINUTE);
        let changed = desk.patch(&n, json!({"sla": urgent["id"]}));
        assert_eq!(changed["sla"], urgent["id"]);
        assert_eq!(changed["due_at"], FRI_23_OCT_15H + HOUR, "{changed}");
        let first = desk.target(&n, "first_response");
        assert_eq!(
            (first["state"].as_str(), first["due_at"].as_i64()),
            (Some("running"), Some(FRI_23_OCT_15H + HOUR))
        );
        let targets = desk.ticket(&n)["sla_clock"]["targets"].clone();
        assert!(
            !targets
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["target"] == "resolution"),
            "{targets}"
        );
        // The thread says who changed it, from which plan to which.
        let (_, thread) = desk.app.ticket_and_thread(DEMO, &n);
        let events: Vec<_> = thread
            .iter()
            .filter(|e| e.event.as_deref() == Some("sla_changed"))
            .collect();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].author, Author::Agent(AgentId(1)));
        assert_eq!(
            (
                events[0].data["from"].as_str(),
                events[0].data["to"].as_str()
            ),
            (
                standard["id"].to_string().as_str(),
                urgent["id"].to_string().as_str()
            )
        );
        // The same plan again changes and writes nothing.
        let again = desk.patch(&n, json!({"sla": urgent["id"]}));
        assert_eq!(again["version"], changed["version"]);
        assert_eq!(desk.events(&n, "sla_changed"), 1);

        // The tick marks the new target's breach.
        desk.clock.set_ms(FRI_23_OCT_15H + HOUR + MINUTE);
        assert_eq!(desk.tick().breaches, 1);
        assert_eq!(desk.ticket(&n)["overdue"], true);

        // No plan: no due time, no target, and nothing overdue.
        let none = desk.patch(&n, json!({"sla": null}));
        assert_eq!(
            (
                none["sla"].clone(),
                none["due_at"].clone(),
                none["overdue"].clone()
            ),
            (Value::Null, Value::Null, json!(false)),
            "{none}"
        );
        assert_eq!(desk.events(&n, "sla_changed"), 2);
        // A plan given by an agent is a plan like any other: the standard
        // one back, counted from the opening in business hours.
        let back = desk.patch(&n, json!({"sla": standard["id"]}));
        assert_eq!(back["due_at"], TUE_27_OCT_11H);
    }

    #[test]
    fn changing_the_plan_is_refused_for_an_unknown_plan_and_for_agents_who_may_not() {
        let desk = Desk::at(FRI_23_OCT_15H);
        let standard = desk.created(
            "sla-plans",
            &json!({"name": "Standard", "first_response_minutes": 240}),
        );
        desk.department_plan(&standard);
        let urgent = desk.created(
            "sla-plans",
            &json!({"name": "Urgent", "first_response_minutes": 60}),
        );
        let n = desk.open("Certificate");
        let before = desk.ticket(&n);
        let path = format!("{DEMO}/tickets/{n}");
        let version = before["version"].clone();
        let error = |r: &Response| json(r)["error"].clone();

        // A plan that does not exist.
        let r = desk.app.api(
            "PATCH",
            &path,
            Some(&json!({"version": version, "sla": 999})),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        let e = error(&r);
        assert_eq!(
            (e["code"].as_str(), e["field"].as_str(), e["rule"].as_str()),
            (Some("invalid_field"), Some("sla"), Some("sla_unknown_plan")),
            "{e}"
        );
        // Not a plan id at all.
        let r = desk.app.api(
            "PATCH",
            &path,
            Some(&json!({"version": version, "sla": "urgent"})),
        );
        assert_eq!(
            (r.status, error(&r)["code"].as_str().map(str::to_owned)),
            (400, Some("invalid_body".to_owned())),
            "{}",
            r.text()
        );

        // "Limited access" in the ticket's department: sees it, may not edit it.
        let limited = agent(&desk, "lia@uni.example", 1, 2);
        let r = desk.app.api_as(
            &limited,
            "PATCH",
            &path,
            Some(&json!({"version": version, "sla": urgent["id"]})),
        );
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(error(&r)["code"], "forbidden");
        assert!(
            error(&r)["message"]
                .as_str()
                .unwrap()
                .contains("ticket.edit"),
            "{}",
            r.text()
        );
        // "All access" in another department: the ticket is not there for it.
        let elsewhere = agent(&desk, "bo@uni.example", 2, 1);
        let r = desk.app.api_as(
            &elsewhere,
            "PATCH",
            &path,
            Some(&json!({"version": version, "sla": urgent["id"]})),
        );
        assert_eq!(r.status, 404, "{}", r.text());
        assert_eq!(error(&r)["code"], "not_found");
        // A stale version.
        let r = desk.app.api(
            "PATCH",
            &path,
            Some(&json!({"version": 0, "sla": urgent["id"]})),
        );
        assert_eq!(r.status, 409, "{}", r.text());

        // Nothing changed, nothing recorded.
        let after = desk.ticket(&n);
        assert_eq!(
            (
                after["version"].clone(),
                after["sla"].clone(),
                after["due_at"].clone()
            ),
            (version, standard["id"].clone(), before["due_at"].clone())
        );
        assert_eq!(desk.events(&n, "sla_changed"), 0);

        // An agent of the department with "All access" may.
        let all = agent(&desk, "ana@uni.example", 1, 1);
        let r = desk.app.api_as(
            &all,
            "PATCH",
            &path,
            Some(&json!({"version": after["version"], "sla": urgent["id"]})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(json(&r)["due_at"], FRI_23_OCT_15H + HOUR);
    }
}
