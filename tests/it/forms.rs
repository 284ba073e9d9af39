//! Custom forms and lists over HTTP on the real server: a help topic with a
//! form refuses a ticket whose answers do not fit (saying which field and
//! why, writing nothing) and stores and shows valid ones; bad forms, lists
//! and topics are refused when saved with the rule's stable code; lists
//! round-trip beside the built-in status list; nested topics answer their
//! parents' forms first; users set and read only what is theirs.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use taquilla_core::clock::SystemClock;
use taquilla_core::domain::{InstanceId, Source, TicketId, TopicId, UserId};
use taquilla_core::services::tickets::{self, Body, OpenTicket};
use taquilla_core::services::{Actor, Ctx, ServiceError};
use taquilla_tests::app::{DEMO, TestApp, json};
use taquilla_tests::http::{self, Response};

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

fn post(app: &TestApp, kind: &str, body: &Value) -> Response {
    app.api("POST", &format!("{DEMO}/{kind}"), Some(body))
}

fn created(app: &TestApp, kind: &str, body: &Value) -> Value {
    let r = post(app, kind, body);
    assert_eq!(r.status, 201, "{kind} {body}: {}", r.text());
    json(&r)
}

fn id(object: &Value) -> u64 {
    object["id"].as_u64().unwrap()
}

/// North and South campuses, and an old one no longer offered.
fn campus_list() -> Value {
    json!({
        "name": "Campus",
        "items": [
            {"value": "north", "label": {"en": "North campus", "ca": "Campus nord"}, "properties": {"building_code": 7}},
            {"value": "south", "label": {"en": "South campus"}},
            {"value": "old", "disabled": true},
        ],
    })
}

/// A room request: a required room matching `A-12`, a floor 0 to 9, a
/// campus from `list`, a cost agents fill in, and an information text.
fn room_form(list: u64) -> Value {
    json!({
        "name": "Room request",
        "title": {"en": "About the room", "es": "Sobre la sala"},
        "fields": [
            {"name": "intro", "type": "section", "label": {"en": "Tell us where"}, "help": {"en": "One room per ticket"}},
            {"name": "room", "type": "short_text", "label": {"en": "Room", "ca": "Sala"}, "required": true,
             "validation": {"max_length": 10, "pattern": "[A-Z]-[0-9]+"}},
            {"name": "floor", "type": "number", "label": {"en": "Floor"}, "validation": {"min": 0, "max": 9}},
            {"name": "campus", "type": "choice", "label": {"en": "Campus"}, "list": list},
            {"name": "cost", "type": "number", "label": {"en": "Cost"}, "visible_to": "agents"},
        ],
    })
}

fn topic(name: &str, forms: &[u64], parent: Option<u64>) -> Value {
    json!({"name": name, "department": 1, "forms": forms, "parent": parent})
}

fn ticket(topic: u64, fields: Value) -> Value {
    json!({
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "subject": "The projector does not start",
        "body": {"text": "Nothing happens when I press the button."},
        "topic": topic,
        "fields": fields,
    })
}

/// The (field, code) pairs of a `422 invalid_form`.
fn problems(r: &Response) -> Vec<(String, String)> {
    assert_eq!(
        (r.status, code(r).as_str()),
        (422, "invalid_form"),
        "{}",
        r.text()
    );
    json(r)["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(!p["message"].as_str().unwrap().is_empty());
            (
                p["field"].as_str().unwrap().to_owned(),
                p["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// A form, its list and a topic using it; the topic's id.
fn room_topic(app: &TestApp) -> (u64, u64, u64) {
    let list = id(&created(app, "lists", &campus_list()));
    let form = id(&created(app, "forms", &room_form(list)));
    let topic = id(&created(app, "topics", &topic("Rooms", &[form], None)));
    (list, form, topic)
}

fn ctx<'a>(app: &'a TestApp, instance: &'a InstanceId) -> Ctx<'a> {
    Ctx {
        store: app.store.as_ref(),
        blobs: app.blobs.as_ref(),
        clock: &SystemClock,
        instance,
    }
}

#[test]
fn a_topic_with_a_custom_form_refuses_a_ticket_missing_a_required_field_and_stores_a_valid_one() {
    let app = TestApp::new();
    let (_, _, topic) = room_topic(&app);
    let before = app.count_tickets(DEMO);

    let missing = app.open_ticket(DEMO, &ticket(topic, json!({"floor": 2})));
    assert_eq!(problems(&missing), pairs(&[("room", "required")]));
    assert!(message(&missing).contains("room"), "{}", message(&missing));

    let wrong = app.open_ticket(
        DEMO,
        &ticket(
            topic,
            json!({"room": "b-12", "floor": 10, "campus": "old", "colour": "red", "intro": "hi"}),
        ),
    );
    assert_eq!(
        problems(&wrong),
        pairs(&[
            ("colour", "unknown_field"),
            ("intro", "not_an_input"),
            ("room", "pattern"),
            ("floor", "out_of_range"),
            ("campus", "unknown_choice"),
        ])
    );
    for (fields, field, rule) in [
        (json!({"room": "A-1234567890"}), "room", "too_long"),
        (
            json!({"room": "A-1", "floor": "two"}),
            "floor",
            "not_a_number",
        ),
        (
            json!({"room": "A-1", "campus": "east"}),
            "campus",
            "unknown_choice",
        ),
    ] {
        let r = app.open_ticket(DEMO, &ticket(topic, fields));
        assert_eq!(problems(&r), pairs(&[(field, rule)]));
    }
    assert_eq!(
        app.count_tickets(DEMO),
        before,
        "refused tickets write nothing"
    );

    // Agents (and integrations) answer every field, agent-only ones too.
    let valid = app.open_ticket(
        DEMO,
        &ticket(
            topic,
            json!({"room": " B-12 ", "floor": 3, "campus": "north", "cost": 40}),
        ),
    );
    assert_eq!(valid.status, 201, "{}", valid.text());
    let opened = json(&valid);
    let stored = json!({"room": "B-12", "floor": "3", "campus": "north", "cost": "40"});
    assert_eq!(opened["fields"], stored);
    let number = opened["number"].as_str().unwrap();
    let read = app.get_ticket(DEMO, number);
    assert_eq!(json(&read)["fields"], stored, "agents see every answer");
    let by_key = app.api_with_key(
        &app.api_key,
        "POST",
        &format!("{DEMO}/tickets"),
        Some(&ticket(topic, json!({"room": "C-1"}))),
    );
    assert_eq!(by_key.status, 201, "{}", by_key.text());

    // The ticket's user reads only the answers to fields users see, and
    // may not answer an agent-only field when opening one.
    let instance = InstanceId::parse(DEMO).unwrap();
    let ctx = ctx(&app, &instance);
    let user = Actor::User(UserId::parse(opened["user"].as_str().unwrap()).unwrap());
    let ticket_id = TicketId::parse(opened["id"].as_str().unwrap()).unwrap();
    let as_user = app
        .rt
        .block_on(tickets::get(&ctx, &user, &ticket_id))
        .unwrap();
    let shown: Vec<&str> = as_user.fields.keys().map(String::as_str).collect();
    assert_eq!(shown, ["campus", "floor", "room"]);
    let by_number = app
        .rt
        .block_on(tickets::by_number(&ctx, &user, number))
        .unwrap();
    assert!(!by_number.fields.contains_key("cost"));

    let by_user = |fields: &[(&str, &str)]| {
        let input = OpenTicket {
            name: String::new(),
            email: String::new(),
            phone: None,
            subject: "From the portal".into(),
            body: Body::Text("Please help".into()),
            topic: Some(TopicId(u32::try_from(topic).unwrap())),
            department: None,
            priority: None,
            source: Source::Web,
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            attachments: Vec::new(),
            collaborators: Vec::new(),
            autorespond: false,
            alert: false,
            ip: None,
        };
        app.rt.block_on(tickets::open(&ctx, &user, input))
    };
    match by_user(&[("room", "D-4"), ("cost", "1")]) {
        Err(ServiceError::InvalidForm(problems)) => {
            let found: Vec<(&str, &str)> = problems
                .iter()
                .map(|p| (p.field.as_str(), p.code.as_str()))
                .collect();
            assert_eq!(found, [("cost", "not_editable")]);
        }
        other => panic!("expected invalid_form, got {other:?}"),
    }
    let mine = by_user(&[("room", "D-4")]).unwrap();
    assert_eq!(mine.fields["room"], "D-4");
}

#[test]
fn a_topic_without_forms_keeps_free_fields_and_a_multiple_choice_takes_an_array() {
    let app = TestApp::new();
    let free = app.open_ticket(DEMO, &ticket(1, json!({"anything": "goes", "n": 4})));
    assert_eq!(free.status, 201, "{}", free.text());
    assert_eq!(json(&free)["fields"], json!({"anything": "goes", "n": "4"}));

    let list = id(&created(&app, "lists", &campus_list()));
    let form = created(
        &app,
        "forms",
        &json!({"name": "Where", "fields": [
            {"name": "campuses", "type": "choice", "multiple": true, "list": list, "label": {"en": "Campuses"}, "required": true},
            {"name": "agree", "type": "checkbox", "label": {"en": "I agree"}, "required": true},
        ]}),
    );
    let topic = id(&created(
        &app,
        "topics",
        &topic("Visits", &[id(&form)], None),
    ));
    let unticked = app.open_ticket(
        DEMO,
        &ticket(topic, json!({"campuses": ["north"], "agree": false})),
    );
    assert_eq!(problems(&unticked), pairs(&[("agree", "required")]));
    let r = app.open_ticket(
        DEMO,
        &ticket(
            topic,
            json!({"campuses": ["south", "north"], "agree": true}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        json(&r)["fields"],
        json!({"campuses": "south,north", "agree": "true"})
    );
}

#[test]
fn bad_forms_are_refused_when_saved_with_the_rules_stable_codes() {
    let app = TestApp::new();
    let list = id(&created(&app, "lists", &campus_list()));
    let text = |name: &str| json!({"name": name, "type": "short_text", "label": {"en": name}});
    let with = |mut field: Value, key: &str, value: Value| {
        field[key] = value;
        field
    };
    let cases = [
        (
            json!([text("room"), text("room")]),
            "form_duplicate_variable",
        ),
        (
            json!([text("room"), text("ROOM")]),
            "form_duplicate_variable",
        ),
        (
            json!([with(
                text("room"),
                "validation",
                json!({"pattern": "([A-Z]"})
            )]),
            "form_bad_pattern",
        ),
        (
            json!([with(
                text("room"),
                "validation",
                json!({"pattern": "(a)\\1"})
            )]),
            "form_bad_pattern",
        ),
        (
            json!([{"name": "campus", "type": "choice", "label": {"en": "Campus"}, "list": 999}]),
            "form_unknown_list",
        ),
        (
            json!([{"name": "campus", "type": "choice", "label": {"en": "Campus"}}]),
            "form_choice_without_list",
        ),
        (json!([text("my room")]), "form_bad_variable"),
        (
            json!([with(text("room"), "label", json!({}))]),
            "form_missing_label",
        ),
        (
            json!([with(
                text("room"),
                "validation",
                json!({"min_length": 9, "max_length": 3})
            )]),
            "form_bad_length",
        ),
        (
            json!([{"name": "n", "type": "number", "label": {"en": "N"}, "validation": {"min": 9, "max": 3}}]),
            "form_bad_range",
        ),
        (
            json!([with(text("room"), "validation", json!({"min": 1}))]),
            "form_rule_not_for_type",
        ),
        (
            json!([with(text("room"), "list", json!(list))]),
            "form_rule_not_for_type",
        ),
    ];
    for (fields, rule) in cases {
        let r = post(&app, "forms", &json!({"name": "Bad", "fields": fields}));
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "invalid_field"),
            "{fields}: {}",
            r.text()
        );
        assert!(
            message(&r).ends_with(&format!("[{rule}]")),
            "{fields}: {}",
            message(&r)
        );
    }
    for body in [
        json!({"name": "Bad", "fields": [{"name": "a", "type": "colour", "label": {"en": "A"}}]}),
        json!({"name": "Bad", "fields": [{"name": "a", "type": "short_text", "label": {"fr": "A"}}]}),
        json!({"fields": []}),
    ] {
        let r = post(&app, "forms", &body);
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "invalid_body"),
            "{body}"
        );
    }
    let listed = app.api("GET", &format!("{DEMO}/forms"), None);
    assert_eq!(json(&listed)["items"], json!([]), "nothing was saved");

    // A change that breaks a rule is refused too and changes nothing.
    let form = created(&app, "forms", &room_form(list));
    let path = format!("{DEMO}/forms/{}", id(&form));
    let r = app.api(
        "PATCH",
        &path,
        Some(&json!({"version": 1, "fields": [text("room"), text("room")]})),
    );
    assert!(
        message(&r).ends_with("[form_duplicate_variable]"),
        "{}",
        r.text()
    );
    assert_eq!(json(&app.api("GET", &path, None)), form);
    let renamed = app.api(
        "PATCH",
        &path,
        Some(&json!({"version": 1, "name": "Rooms"})),
    );
    assert_eq!(json(&renamed)["version"], 2);
    assert_eq!(
        json(&renamed)["fields"],
        form["fields"],
        "absent fields stay"
    );
    let taken = post(&app, "forms", &json!({"name": "rooms", "fields": []}));
    assert_eq!(code(&taken), "invalid_field", "names are unique per kind");
}

#[test]
fn topics_must_name_existing_forms_and_what_is_in_use_is_not_deleted() {
    let app = TestApp::new();
    let (list, form, topic_id) = room_topic(&app);

    let missing = post(&app, "topics", &topic("Ghost", &[999], None));
    assert_eq!(
        (missing.status, code(&missing).as_str()),
        (400, "invalid_field")
    );
    assert!(
        message(&missing).contains("form 999"),
        "{}",
        message(&missing)
    );
    let twice = post(&app, "topics", &topic("Twice", &[form, form], None));
    assert_eq!(code(&twice), "invalid_field");
    // Two forms that share a variable name cannot serve one topic.
    let other = id(&created(
        &app,
        "forms",
        &json!({"name": "Other room", "fields": [
            {"name": "room", "type": "long_text", "label": {"en": "Room"}},
        ]}),
    ));
    let clash = post(&app, "topics", &topic("Clash", &[form, other], None));
    assert!(
        message(&clash).ends_with("[form_duplicate_variable]"),
        "{}",
        clash.text()
    );
    let clash_child = post(
        &app,
        "topics",
        &topic("Clash child", &[other], Some(topic_id)),
    );
    assert!(
        message(&clash_child).ends_with("[form_duplicate_variable]"),
        "{}",
        clash_child.text()
    );

    let form_path = format!("{DEMO}/forms/{form}");
    let list_path = format!("{DEMO}/lists/{list}");
    let r = app.api("DELETE", &form_path, None);
    assert_eq!((r.status, code(&r).as_str()), (409, "conflict"));
    assert!(message(&r).contains("Rooms"), "{}", message(&r));
    let r = app.api("DELETE", &list_path, None);
    assert_eq!((r.status, code(&r).as_str()), (409, "conflict"));
    assert!(message(&r).contains("campus"), "{}", message(&r));

    let r = app.api(
        "PATCH",
        &format!("{DEMO}/topics/{topic_id}"),
        Some(&json!({"version": 1, "forms": []})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(app.api("DELETE", &form_path, None).status, 204);
    assert_eq!(app.api("DELETE", &list_path, None).status, 204);
    assert_eq!(app.api("GET", &form_path, None).status, 404);
    assert_eq!(app.api("GET", &list_path, None).status, 404);
}

#[test]
fn a_topic_cycle_is_refused() {
    let app = TestApp::new();
    let a = id(&created(&app, "topics", &topic("A", &[], None)));
    let b = id(&created(&app, "topics", &topic("B", &[], Some(a))));
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/topics/{a}"),
        Some(&json!({"version": 1, "parent": b})),
    );
    assert_eq!((r.status, code(&r).as_str()), (400, "invalid_field"));
    assert!(message(&r).contains("cycle"), "{}", message(&r));
    let error = &json(&r)["error"];
    assert_eq!(
        (error["field"].as_str(), error["rule"].as_str()),
        (Some("parent"), Some("parent_cycle")),
        "{error}"
    );
    // Its own parent, and a parent that does not exist.
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/topics/{a}"),
        Some(&json!({"version": 1, "parent": a})),
    );
    assert_eq!(json(&r)["error"]["rule"], "parent_cycle", "{}", r.text());
    let r = post(&app, "topics", &topic("C", &[], Some(999)));
    assert_eq!(json(&r)["error"]["rule"], "parent_unknown", "{}", r.text());
    let listed = json(&app.api("GET", &format!("{DEMO}/topics/{a}"), None));
    assert_eq!(
        (listed["version"].as_u64(), listed["parent"].as_u64()),
        (Some(1), None),
        "nothing changed"
    );
}

#[test]
fn lists_round_trip_beside_the_built_in_status_list() {
    let app = TestApp::new();
    let all = json(&app.api("GET", &format!("{DEMO}/lists"), None));
    let statuses = &all["items"][0];
    assert_eq!(
        (statuses["id"].as_u64(), statuses["built_in"].as_bool()),
        (Some(0), Some(true))
    );
    let open = &statuses["items"][0];
    assert_eq!(open["value"], "1");
    assert_eq!(open["properties"]["state"], "open");
    assert_eq!(
        json(&app.api("GET", &format!("{DEMO}/lists/0"), None))["built_in"],
        true
    );
    for method in ["PATCH", "DELETE"] {
        let r = app.api(
            method,
            &format!("{DEMO}/lists/0"),
            Some(&json!({"version": 0})),
        );
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "invalid_field"),
            "{method}"
        );
    }

    let list = created(&app, "lists", &campus_list());
    assert_eq!(
        (list["version"].as_u64(), list["built_in"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(list["items"][0]["properties"]["building_code"], 7);
    assert_eq!(list["items"][2]["disabled"], true);
    let path = format!("{DEMO}/lists/{}", id(&list));
    assert_eq!(json(&app.api("GET", &path, None)), list);
    let items = json!([{"value": "west"}, {"value": "north"}]);
    let changed = app.api("PATCH", &path, Some(&json!({"version": 1, "items": items})));
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(json(&changed)["items"], items, "replaced whole, in order");
    let stale = app.api("PATCH", &path, Some(&json!({"version": 1, "name": "Late"})));
    assert_eq!((stale.status, code(&stale).as_str()), (409, "conflict"));
    let listed = json(&app.api("GET", &format!("{DEMO}/lists"), None));
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);

    for (items, rule) in [
        (
            json!([{"value": "a"}, {"value": "a"}]),
            "list_duplicate_value",
        ),
        (json!([{"value": "a,b"}]), "list_bad_value"),
        (json!([{"value": " "}]), "list_bad_value"),
        (
            json!([{"value": "a", "properties": {"ratio": 0.5}}]),
            "list_bad_properties",
        ),
        (
            json!([{"value": "a", "properties": {"deep": {"x": 1}}}]),
            "list_bad_properties",
        ),
    ] {
        let r = post(&app, "lists", &json!({"name": "Bad", "items": items}));
        assert_eq!(
            (r.status, code(&r).as_str()),
            (400, "invalid_field"),
            "{items}"
        );
        assert!(
            message(&r).ends_with(&format!("[{rule}]")),
            "{items}: {}",
            message(&r)
        );
    }

    // A choice field may choose a status from the built-in list.
    let form = created(
        &app,
        "forms",
        &json!({"name": "Follow-up", "fields": [
            {"name": "wanted_status", "type": "choice", "list": 0, "label": {"en": "Status"}},
        ]}),
    );
    let topic = id(&created(
        &app,
        "topics",
        &topic("Follow-up", &[id(&form)], None),
    ));
    let bad = app.open_ticket(DEMO, &ticket(topic, json!({"wanted_status": "99"})));
    assert_eq!(
        problems(&bad),
        pairs(&[("wanted_status", "unknown_choice")])
    );
    let good = app.open_ticket(DEMO, &ticket(topic, json!({"wanted_status": "1"})));
    assert_eq!(good.status, 201, "{}", good.text());
}

#[test]
fn a_nested_topic_answers_its_parents_forms_first_and_the_portal_sees_what_users_see() {
    let app = TestApp::new();
    let (_, room_form_id, parent) = room_topic(&app);
    let contact = id(&created(
        &app,
        "forms",
        &json!({"name": "Contact", "fields": [
            {"name": "phone", "type": "phone", "label": {"en": "Phone"}, "required": true},
            {"name": "notes", "type": "long_text", "label": {"en": "Notes"}, "visible_to": "agents"},
        ]}),
    ));
    let child = id(&created(
        &app,
        "topics",
        &topic("Rooms > Projectors", &[contact], Some(parent)),
    ));

    // Agents see every form and field, parents' first, with the items'
    // properties.
    let full = json(&app.api("GET", &format!("{DEMO}/topics/{child}/form"), None));
    assert_eq!(full["topic"], child);
    let forms: Vec<u64> = full["forms"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(forms, [room_form_id, contact]);
    let names = |form: &Value| -> Vec<String> {
        form["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&full["forms"][0]),
        ["intro", "room", "floor", "campus", "cost"]
    );
    assert_eq!(names(&full["forms"][1]), ["phone", "notes"]);
    let campus = &full["forms"][0]["fields"][3];
    let offered: Vec<&str> = campus["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        offered,
        ["north", "south"],
        "disabled items are not offered"
    );
    assert_eq!(campus["items"][0]["properties"]["building_code"], 7);

    // Without credentials: the fields users see, no properties.
    let url = format!("{}/api/v1/{DEMO}/topics/{child}/form", app.url);
    let public = http::get(&url).unwrap();
    assert_eq!(public.status, 200, "{}", public.text());
    let public = json(&public);
    assert_eq!(
        names(&public["forms"][0]),
        ["intro", "room", "floor", "campus"]
    );
    assert_eq!(names(&public["forms"][1]), ["phone"]);
    assert!(public["forms"][0]["fields"][3]["items"][0]["properties"].is_null());

    // The child's tickets answer both forms.
    let r = app.open_ticket(DEMO, &ticket(child, json!({"room": "A-1"})));
    assert_eq!(problems(&r), pairs(&[("phone", "required")]));
    let r = app.open_ticket(
        DEMO,
        &ticket(
            child,
            json!({"room": "A-1", "phone": "+34 93 581 10 00", "notes": "VIP"}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        json(&r)["fields"],
        json!({"room": "A-1", "phone": "+34 93 581 10 00", "notes": "VIP"})
    );

    // A private topic is not shown to the public; no topic is 404 for all.
    let private = id(&created(
        &app,
        "topics",
        &json!({"name": "Internal", "department": 1, "public": false}),
    ));
    let r = http::get(&format!("{}/api/v1/{DEMO}/topics/{private}/form", app.url)).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (404, "not_found"));
    assert_eq!(
        app.api("GET", &format!("{DEMO}/topics/{private}/form"), None)
            .status,
        200
    );
    let r = http::get(&format!("{}/api/v1/{DEMO}/topics/999/form", app.url)).unwrap();
    assert_eq!(r.status, 404);
    let r = http::get(&format!("{}/api/v1/nowhere/topics/1/form", app.url)).unwrap();
    assert_eq!((r.status, code(&r).as_str()), (404, "instance_not_found"));
    let r = app.api_as("not-a-token", "GET", &format!("{DEMO}/topics/1/form"), None);
    assert_eq!(r.status, 401, "bad credentials are not read as none");
}

#[test]
fn a_topic_two_levels_down_answers_every_ancestors_forms_and_each_type_is_checked() {
    let app = TestApp::new();
    let contact = id(&created(
        &app,
        "forms",
        &json!({"name": "Contact", "fields": [
            {"name": "mail", "type": "email", "required": true,
             "label": {"en": "Home university e-mail", "es": "Correo de la universidad de origen"},
             "help": {"en": "Not your personal address", "ca": "No la personal"}},
            {"name": "birthday", "type": "date", "label": {"en": "Date of birth"}},
        ]}),
    ));
    let visit = id(&created(
        &app,
        "forms",
        &json!({"name": "Visit", "fields": [
            {"name": "arrival", "type": "date_time", "label": {"en": "Arrival"}},
            {"name": "agreement", "type": "file", "label": {"en": "Learning agreement"}},
            {"name": "reviewed", "type": "checkbox", "label": {"en": "Reviewed"}, "user_editable": false},
        ]}),
    ));
    let root = id(&created(
        &app,
        "topics",
        &topic("Exchange", &[contact], None),
    ));
    let middle = id(&created(
        &app,
        "topics",
        &topic("Exchange > Incoming", &[], Some(root)),
    ));
    let leaf = id(&created(
        &app,
        "topics",
        &topic("Exchange > Incoming > Erasmus", &[visit], Some(middle)),
    ));

    // The agents' screen and the portal get the root's form, then the
    // leaf's; the middle topic has none of its own.
    let names = |resolved: &Value| -> Vec<Vec<String>> {
        resolved["forms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                f["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    };
    let full = json(&app.api("GET", &format!("{DEMO}/topics/{leaf}/form"), None));
    let forms: Vec<u64> = full["forms"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(forms, [contact, visit]);
    assert_eq!(
        names(&full),
        [
            vec!["mail", "birthday"],
            vec!["arrival", "agreement", "reviewed"]
        ]
    );
    let mail = &full["forms"][0]["fields"][0];
    assert_eq!(mail["label"]["es"], "Correo de la universidad de origen");
    assert_eq!(mail["help"]["ca"], "No la personal");
    let public = http::get(&format!("{}/api/v1/{DEMO}/topics/{leaf}/form", app.url)).unwrap();
    assert_eq!(public.status, 200, "{}", public.text());
    assert_eq!(names(&json(&public)), names(&full));
    let middle_form = json(&app.api("GET", &format!("{DEMO}/topics/{middle}/form"), None));
    assert_eq!(names(&middle_form), [vec!["mail", "birthday"]]);

    // Every answer that is not of its type is named, at once.
    let wrong = app.open_ticket(
        DEMO,
        &ticket(
            leaf,
            json!({"mail": "ada@", "birthday": "2026-02-30", "arrival": "2026-02-01 9:00",
                   "agreement": "other.pdf"}),
        ),
    );
    let mut found = problems(&wrong);
    found.sort();
    assert_eq!(
        found,
        pairs(&[
            ("agreement", "unknown_file"),
            ("arrival", "not_a_date_time"),
            ("birthday", "not_a_date"),
            ("mail", "not_an_email"),
        ])
    );
    let missing = app.open_ticket(DEMO, &ticket(leaf, json!({"birthday": "2001-05-04"})));
    assert_eq!(problems(&missing), pairs(&[("mail", "required")]));

    // A valid one, the file field naming the file sent with the ticket.
    let mut body = ticket(
        leaf,
        json!({"mail": "ada@uni-a.example", "birthday": "2001-05-04",
               "arrival": "2026-09-01T10:30", "agreement": "agreement.pdf", "reviewed": "yes"}),
    );
    body["attachments"] = json!([{"name": "agreement.pdf", "content_type": "application/pdf",
                                  "data_base64": "JVBERi0xLjQK"}]);
    let r = app.open_ticket(DEMO, &body);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        json(&r)["fields"],
        json!({"mail": "ada@uni-a.example", "birthday": "2001-05-04",
               "arrival": "2026-09-01T10:30", "agreement": "agreement.pdf", "reviewed": "true"})
    );
}
