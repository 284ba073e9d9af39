//! Time rules over HTTP on the real server (SQLite), run by the escalation
//! tick on a clock the tests move: a ticket left waiting on its user is
//! closed once, with the thread naming the rule, and one whose user
//! answered meanwhile is left alone; an unassigned ticket goes to a team
//! with a higher priority after two business hours, counted from when it
//! became unassigned; a rule mails the addresses it names once; a rule
//! saved after the tickets reaches them through the tick's sweep; two
//! ticks at once fire each rule once; the tick reads only what is due; a
//! ticket left without activity for four business hours is escalated,
//! and one an agent worked on meanwhile only four business hours after
//! that work.

use std::sync::Arc;

use serde_json::{Value, json};
use taquilla_core::clock::ManualClock;
use taquilla_core::domain::InstanceId;
use taquilla_core::services::Ctx;
use taquilla_core::services::sla::tick::{self, TickReport};
use taquilla_core::store::ItemStore;
use taquilla_tests::app::{DEMO, TestApp, json};
use taquilla_tests::counting::CountingStore;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Monday 19 October 2026, 09:00 in Madrid.
const MON_19_OCT_9H: i64 = 1_792_393_200_000;
/// Friday 23 October 2026, 16:00 in Madrid (CEST).
const FRI_23_OCT_16H: i64 = 1_792_764_000_000;
const FRI_23_OCT_23H: i64 = 1_792_789_200_000;
/// Monday 26 October 2026 in Madrid (CET since Sunday).
const MON_26_OCT_9H30: i64 = 1_793_003_400_000;
const MON_26_OCT_10H: i64 = 1_793_005_200_000;
const MON_26_OCT_11H30: i64 = 1_793_010_600_000;
const MON_26_OCT_12H: i64 = 1_793_012_400_000;
const MON_26_OCT_13H30: i64 = 1_793_017_800_000;
/// Tuesday 27 October 2026, 10:00 in Madrid.
const TUE_27_OCT_10H: i64 = 1_793_091_600_000;

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

    /// Department 1's tickets counted in office hours (Madrid, weekdays
    /// 9 to 17): a plan on that schedule, far from breaching, as its SLA.
    fn office_hours_in_department_1(&self) {
        let schedule = self.created(
            "schedules",
            &json!({
                "name": "Office",
                "timezone": "Europe/Madrid",
                "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"}],
            }),
        );
        let plan = self.created(
            "sla-plans",
            &json!({"name": "Office hours", "resolution_minutes": 60_000, "schedule": schedule["id"]}),
        );
        let path = format!("{DEMO}/departments/1");
        let version = json(&self.app.api("GET", &path, None))["version"].clone();
        let r = self.app.api(
            "PATCH",
            &path,
            Some(&json!({"version": version, "sla": plan["id"]})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }

    fn created(&self, kind: &str, body: &Value) -> Value {
        let r = self.app.api("POST", &format!("{DEMO}/{kind}"), Some(body));
        assert_eq!(r.status, 201, "{kind} {body}: {}", r.text());
        json(&r)
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let r = self.app.api("POST", &format!("{DEMO}/{path}"), Some(body));
        assert!(r.status == 200 || r.status == 201, "{path}: {}", r.text());
        json(&r)
    }

    /// A ticket opened by mail from `from`, with Message-ID `<{id}@uni.example>`.
    fn mail_ticket(&self, from: &str, id: &str, subject: &str) -> String {
        let raw = format!(
            "From: {from}\r\nTo: support@demo.taquilla.test\r\nSubject: {subject}\r\n\
             Message-ID: <{id}@uni.example>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nPlease help.\r\n"
        );
        let r = self
            .app
            .osticket_create(Some(DEMO), "email", Some(&self.app.api_key), &raw);
        assert_eq!(r.status, 201, "{}", r.text());
        r.text().trim().to_owned()
    }

    /// The user of a ticket opened by [`mail_ticket`] answers by mail.
    fn user_answers(&self, from: &str, id: &str) {
        let raw = format!(
            "From: {from}\r\nTo: support@demo.taquilla.test\r\nSubject: Re: help\r\n\
             In-Reply-To: <{id}@uni.example>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nHere is what you asked for.\r\n"
        );
        let r = self
            .app
            .osticket_create(Some(DEMO), "email", Some(&self.app.api_key), &raw);
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

    fn tick(&self) -> TickReport {
        tick_on(&self.app, self.app.store.as_ref())
    }

    /// The `rule_fired` events of a ticket's thread, as (rule name, actions).
    fn fired(&self, number: &str) -> Vec<(String, String)> {
        let (_, thread) = self.app.ticket_and_thread(DEMO, number);
        thread
            .iter()
            .filter(|e| e.event.as_deref() == Some("rule_fired"))
            .map(|e| (e.data["name"].clone(), e.data["actions"].clone()))
            .collect()
    }

    fn rule(&self, rule: &Value) -> Value {
        self.created("rules", rule)
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

/// A "Waiting on user" status (open) and the rule closing tickets left in
/// it for a week since the last response.
fn auto_close(desk: &Desk) -> Value {
    let waiting = desk.created(
        "statuses",
        &json!({"name": "Waiting on user", "state": "open"}),
    );
    desk.rule(&json!({
        "name": "Auto-close unanswered",
        "moment": {"on": "time"},
        "conditions": [
            {"field": "status", "op": "equals", "value": waiting["id"].to_string()},
            {"field": "waiting_on_user", "op": "greater_than", "value": "7d"},
        ],
        "actions": [
            {"do": "add_note", "body": "Closed after a week without an answer from the user."},
            {"do": "close"},
        ],
    }));
    waiting
}

#[test]
fn a_ticket_left_waiting_on_its_user_is_closed_by_the_tick_once() {
    let desk = Desk::at(MON_19_OCT_9H);
    let waiting = auto_close(&desk);
    let quiet = desk.mail_ticket("pau@uni.example", "quiet", "Transcript");
    let answered = desk.mail_ticket("rita@uni.example", "answered", "Grades");
    let untouched = desk.mail_ticket("joan@uni.example", "untouched", "Timetable");
    // Nothing is waiting on anyone yet: no ticket is in the due index.
    assert_eq!(desk.ticket(&quiet)["rule_timer"]["next_ms"], Value::Null);

    desk.clock.set_ms(MON_19_OCT_9H + HOUR);
    for n in [&quiet, &answered] {
        desk.post(
            &format!("tickets/{n}/responses"),
            &json!({"body": "Please send us your passport number.", "status": waiting["id"]}),
        );
    }
    // The rule could fire a week after the response.
    let due = MON_19_OCT_9H + HOUR + 7 * DAY + 1;
    assert_eq!(desk.ticket(&quiet)["rule_timer"]["next_ms"], due);

    // Three days later the tick has nothing to do; one user answers.
    desk.clock.set_ms(MON_19_OCT_9H + 3 * DAY);
    assert_eq!(desk.tick(), TickReport::default());
    desk.user_answers("rita@uni.example", "answered");
    let reopened = desk.ticket(&answered);
    assert_eq!(reopened["answered"], false);
    assert_eq!(reopened["rule_timer"]["next_ms"], Value::Null);

    // A week and a minute after the response: only the quiet one closes.
    desk.clock.set_ms(due + MINUTE);
    let report = desk.tick();
    assert_eq!((report.due, report.rules_fired), (1, 1), "{report:?}");
    let closed = desk.ticket(&quiet);
    assert_eq!(closed["state"], "closed", "{closed}");
    assert_eq!(
        desk.fired(&quiet),
        [(
            "Auto-close unanswered".to_owned(),
            "add_note; close".to_owned()
        )]
    );
    let (_, thread) = desk.app.ticket_and_thread(DEMO, &quiet);
    assert!(
        thread.iter().any(
            |e| e.body_text.contains("a week without an answer") && e.data.contains_key("rule")
        )
    );
    assert!(
        thread
            .iter()
            .any(|e| e.event.as_deref() == Some("status_changed"))
    );
    for n in [&answered, &untouched] {
        assert_eq!(desk.ticket(n)["state"], "open", "{n}");
        assert!(desk.fired(n).is_empty(), "{n}");
    }
    // The user gets the closed notice, as for any close.
    let mails = desk.app.send_pending_mail(DEMO);
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains(&format!("[#{quiet}]"))),
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );

    // A second tick changes nothing, now or later.
    assert_eq!(desk.tick(), TickReport::default());
    desk.clock.set_ms(due + 30 * DAY);
    assert_eq!(desk.tick(), TickReport::default());
    assert_eq!(desk.fired(&quiet).len(), 1);
    assert_eq!(desk.ticket(&answered)["state"], "open");
}

#[test]
fn two_ticks_at_once_fire_each_rule_once() {
    let desk = Desk::at(MON_19_OCT_9H);
    let waiting = auto_close(&desk);
    let numbers: Vec<String> = (0..4)
        .map(|i| desk.mail_ticket("pau@uni.example", &format!("race{i}"), "Race"))
        .collect();
    for n in &numbers {
        desk.post(
            &format!("tickets/{n}/responses"),
            &json!({"body": "Which course?", "status": waiting["id"]}),
        );
    }
    desk.clock.set_ms(MON_19_OCT_9H + 8 * DAY);
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
    assert_eq!(a.rules_fired + b.rules_fired, 4, "{a:?} {b:?}");
    for n in &numbers {
        assert_eq!(desk.ticket(n)["state"], "closed", "{n}");
        assert_eq!(desk.fired(n).len(), 1, "{n}");
    }
    assert_eq!(desk.tick(), TickReport::default());
}

#[test]
fn an_unassigned_ticket_goes_to_a_team_after_two_business_hours_since_it_became_unassigned() {
    let desk = Desk::at(FRI_23_OCT_16H);
    desk.office_hours_in_department_1();
    let team = desk.created("teams", &json!({"name": "Second line"}));
    desk.rule(&json!({
        "name": "Nobody took it",
        "moment": {"on": "time"},
        "conditions": [{"field": "unassigned", "op": "greater_than", "value": "2h", "business": true}],
        "actions": [{"do": "set_priority", "priority": 2}, {"do": "assign_team", "team": team["id"]}],
    }));

    // Opened on Friday at four: one business hour that day, the second
    // ends on Monday at ten (across the change to winter time).
    let lonely = desk.open("Nobody's");
    assert_eq!(
        desk.ticket(&lonely)["rule_timer"]["next_ms"],
        MON_26_OCT_10H + 1
    );
    // Taken at once, and given back on Monday at half past nine.
    let taken = desk.open("Taken");
    desk.post(&format!("tickets/{taken}/claim"), &json!({}));
    assert_eq!(desk.ticket(&taken)["rule_timer"]["next_ms"], Value::Null);

    desk.clock.set_ms(FRI_23_OCT_23H);
    assert_eq!(desk.tick().rules_fired, 0);

    desk.clock.set_ms(MON_26_OCT_9H30);
    let released = desk.post(&format!("tickets/{taken}/release"), &json!({}));
    assert_eq!(released["unassigned_since"], MON_26_OCT_9H30);
    assert_eq!(released["rule_timer"]["next_ms"], MON_26_OCT_11H30 + 1);

    desk.clock.set_ms(MON_26_OCT_10H + MINUTE);
    let report = desk.tick();
    assert_eq!((report.due, report.rules_fired), (1, 1), "{report:?}");
    let moved = desk.ticket(&lonely);
    assert_eq!(
        (moved["team"].clone(), moved["priority"].clone()),
        (team["id"].clone(), json!(2))
    );
    assert_eq!(
        desk.fired(&lonely),
        [(
            "Nobody took it".to_owned(),
            format!("set_priority 2; assign_team {}", team["id"])
        )]
    );
    assert_eq!(desk.ticket(&taken)["team"], Value::Null);
    assert_eq!(desk.tick(), TickReport::default());

    desk.clock.set_ms(MON_26_OCT_11H30 + MINUTE);
    assert_eq!(desk.tick().rules_fired, 1);
    assert_eq!(desk.ticket(&taken)["team"], team["id"]);
    assert_eq!(desk.fired(&taken).len(), 1);
    assert_eq!(desk.fired(&lonely).len(), 1);
    assert_eq!(desk.tick(), TickReport::default());
}

#[test]
fn a_tick_reads_only_the_tickets_a_time_rule_is_due_on() {
    let desk = Desk::at(MON_19_OCT_9H);
    desk.rule(&json!({
        "name": "Old and open",
        "moment": {"on": "time"},
        "conditions": [{"field": "age", "op": "greater_than", "value": "1d"}],
        "actions": [{"do": "add_note", "body": "Open for a day."}],
    }));
    for i in 0..3 {
        desk.open(&format!("Early {i}"));
    }
    desk.clock.set_ms(MON_19_OCT_9H + 12 * HOUR);
    for i in 0..30 {
        desk.open(&format!("Later {i}"));
    }
    // The sweep that follows saving a time rule finds nothing to move.
    assert_eq!(desk.tick(), TickReport::default());
    desk.clock.set_ms(MON_19_OCT_9H + DAY + MINUTE);
    let counting = CountingStore::new(desk.app.store.clone());
    let before = counting.counts();
    let report = tick_on(&desk.app, &counting);
    let after = counting.counts();
    assert_eq!((report.due, report.rules_fired), (3, 3), "{report:?}");
    assert_eq!(after.query - before.query, 2, "the due index and the rules");
    assert_eq!(after.get - before.get, 1, "no sweep pending");
    assert_eq!(
        after.transact - before.transact,
        3,
        "one write per due ticket"
    );
    assert_eq!(
        after.items_read - before.items_read,
        4,
        "the due tickets and the rule"
    );
    assert_eq!(tick_on(&desk.app, &counting), TickReport::default());
}

#[test]
fn a_time_rule_saved_after_the_tickets_reaches_them_through_the_ticks_sweep() {
    let desk = Desk::at(MON_19_OCT_9H);
    let waiting = desk.created(
        "statuses",
        &json!({"name": "Waiting on user", "state": "open"}),
    );
    let first = desk.open("Certificate");
    let second = desk.open("Transcript");
    let other = desk.open("Grades");
    let path = format!("{DEMO}/tickets/{other}");
    let version = desk.ticket(&other)["version"].clone();
    let r = desk.app.api(
        "PATCH",
        &path,
        Some(&json!({"version": version, "department": 2})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for n in [&first, &second, &other] {
        desk.post(
            &format!("tickets/{n}/responses"),
            &json!({"body": "Your passport number, please.", "status": waiting["id"]}),
        );
    }
    desk.clock.set_ms(MON_19_OCT_9H + DAY);
    let rule = desk.rule(&json!({
        "name": "Auto-close unanswered",
        "moment": {"on": "time"},
        "conditions": [
            {"field": "status", "op": "equals", "value": waiting["id"].to_string()},
            {"field": "waiting_on_user", "op": "greater_than", "value": "7d"},
        ],
        "actions": [{"do": "close"}],
    }));
    assert_eq!(desk.ticket(&first)["rule_timer"]["next_ms"], Value::Null);

    // The next tick gives every open ticket, in both departments, its moment.
    let report = desk.tick();
    assert_eq!((report.swept, report.rules_fired), (3, 0), "{report:?}");
    let due = MON_19_OCT_9H + 7 * DAY + 1;
    for n in [&first, &second, &other] {
        assert_eq!(desk.ticket(n)["rule_timer"]["next_ms"], due, "{n}");
    }
    assert_eq!(desk.tick(), TickReport::default(), "the sweep is done");

    // A change of the rule sweeps again: a day more.
    let r = desk.app.api(
        "PATCH",
        &format!("{DEMO}/rules/{}", rule["id"]),
        Some(&json!({"version": rule["version"], "conditions": [
            {"field": "status", "op": "equals", "value": waiting["id"].to_string()},
            {"field": "waiting_on_user", "op": "greater_than", "value": "8d"},
        ]})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(desk.tick().swept, 3);
    assert_eq!(desk.ticket(&first)["rule_timer"]["next_ms"], due + DAY);

    desk.clock.set_ms(due + DAY + MINUTE);
    let report = desk.tick();
    assert_eq!(report.rules_fired, 3, "{report:?}");
    for n in [&first, &second, &other] {
        assert_eq!(desk.ticket(n)["state"], "closed", "{n}");
    }
}

#[test]
fn a_time_rule_mails_the_addresses_it_names_once() {
    let desk = Desk::at(MON_19_OCT_9H);
    desk.rule(&json!({
        "name": "Unanswered for an hour",
        "moment": {"on": "time"},
        "conditions": [{"field": "unanswered", "op": "greater_than", "value": "1h"}],
        "actions": [{"do": "send_mail", "to": ["head@uni.example"],
                     "subject": "{{ ticket.number }} waits",
                     "body": "{{ user.name }} has waited an hour for an answer."}],
    }));
    let n = desk.open("Certificate");
    desk.app.send_pending_mail(DEMO);
    desk.clock.set_ms(MON_19_OCT_9H + HOUR + MINUTE);
    assert_eq!(desk.tick().rules_fired, 1);
    assert_eq!(desk.tick(), TickReport::default());
    let mails = desk.app.send_pending_mail(DEMO);
    let to_head: Vec<_> = mails
        .iter()
        .filter(|m| m.to.iter().any(|t| t.address == "head@uni.example"))
        .collect();
    assert_eq!(
        to_head.len(),
        1,
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert!(
        to_head[0].subject.contains(&format!("{n} waits")),
        "{}",
        to_head[0].subject
    );
    assert!(
        to_head[0]
            .text
            .contains("Ada has waited an hour for an answer.")
    );
    assert!(desk.app.send_pending_mail(DEMO).is_empty());
}

#[test]
fn an_sla_breach_an_hour_away_escalates_the_ticket_before_it_happens() {
    let desk = Desk::at(MON_19_OCT_9H);
    let plan = desk.created(
        "sla-plans",
        &json!({"name": "Four hours", "first_response_minutes": 240}),
    );
    let path = format!("{DEMO}/departments/1");
    let version = json(&desk.app.api("GET", &path, None))["version"].clone();
    let r = desk.app.api(
        "PATCH",
        &path,
        Some(&json!({"version": version, "sla": plan["id"]})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let team = desk.created("teams", &json!({"name": "Escalations"}));
    desk.rule(&json!({
        "name": "Breach within the hour",
        "moment": {"on": "time"},
        "conditions": [{"field": "due_in", "op": "less_than", "value": "1h"}],
        "actions": [{"do": "set_priority", "priority": 1},
                    {"do": "assign_team", "team": team["id"]},
                    {"do": "send_mail", "to": ["manager@uni.example"],
                     "subject": "{{ ticket.number }} is about to breach",
                     "body": "Due within the hour."}],
    }));
    let n = desk.open("Certificate");
    let ticket = desk.ticket(&n);
    assert_eq!(ticket["due_at"], MON_19_OCT_9H + 4 * HOUR);
    // The moment the time left falls under an hour, to the second.
    let next = ticket["rule_timer"]["next_ms"].as_i64().unwrap();
    assert!(
        (MON_19_OCT_9H + 3 * HOUR..=MON_19_OCT_9H + 3 * HOUR + 1_000).contains(&next),
        "{next}"
    );
    desk.app.send_pending_mail(DEMO);

    desk.clock.set_ms(MON_19_OCT_9H + 3 * HOUR - MINUTE);
    assert_eq!(desk.tick().rules_fired, 0);
    assert!(desk.fired(&n).is_empty());

    desk.clock.set_ms(MON_19_OCT_9H + 3 * HOUR + MINUTE);
    assert_eq!(desk.tick().rules_fired, 1);
    let escalated = desk.ticket(&n);
    assert_eq!(
        (escalated["priority"].clone(), escalated["team"].clone()),
        (json!(1), team["id"].clone())
    );
    assert_eq!(escalated["overdue"], false, "before the breach");
    assert_eq!(desk.fired(&n).len(), 1);
    let mails = desk.app.send_pending_mail(DEMO);
    let to_manager: Vec<_> = mails
        .iter()
        .filter(|m| m.to.iter().any(|t| t.address == "manager@uni.example"))
        .collect();
    assert_eq!(to_manager.len(), 1);
    assert!(
        to_manager[0]
            .subject
            .contains(&format!("{n} is about to breach")),
        "{}",
        to_manager[0].subject
    );

    // Once for this stretch: later ticks fire it no more.
    desk.clock.set_ms(MON_19_OCT_9H + 3 * HOUR + 30 * MINUTE);
    assert_eq!(desk.tick().rules_fired, 0);
    assert_eq!(desk.fired(&n).len(), 1);
}

#[test]
fn a_ticket_without_activity_for_four_business_hours_is_escalated_and_one_worked_on_is_not() {
    let desk = Desk::at(FRI_23_OCT_16H);
    desk.office_hours_in_department_1();
    desk.rule(&json!({
        "name": "Gone quiet",
        "moment": {"on": "time"},
        "conditions": [{"field": "idle", "op": "greater_than", "value": "4h", "business": true}],
        "actions": [
            {"do": "set_priority", "priority": 2},
            {"do": "add_note", "body": "Nothing has happened on this ticket for half a day."},
        ],
    }));

    // Both opened on Friday at four: one business hour that day, three on
    // Monday (after the change to winter time), so idle at noon.
    let quiet = desk.open("Nobody looks");
    let worked = desk.open("Someone looks");
    for n in [&quiet, &worked] {
        assert_eq!(
            desk.ticket(n)["rule_timer"]["next_ms"],
            MON_26_OCT_12H + 1,
            "{n}"
        );
    }
    desk.clock.set_ms(FRI_23_OCT_23H);
    assert_eq!(desk.tick().rules_fired, 0);

    // On Monday at half past nine an agent works on one: its idle clock
    // starts again, four business hours from then.
    desk.clock.set_ms(MON_26_OCT_9H30);
    let noted = desk.post(
        &format!("tickets/{worked}/notes"),
        &json!({"body": "Asked the registry for the file."}),
    );
    assert_eq!(noted["updated_at"], MON_26_OCT_9H30);
    assert_eq!(
        desk.ticket(&worked)["rule_timer"]["next_ms"],
        MON_26_OCT_13H30 + 1
    );

    // Just after noon only the quiet one is escalated.
    desk.clock.set_ms(MON_26_OCT_12H + MINUTE);
    let report = desk.tick();
    assert_eq!((report.due, report.rules_fired), (1, 1), "{report:?}");
    assert_eq!(desk.ticket(&quiet)["priority"], 2);
    assert_eq!(
        desk.fired(&quiet),
        [(
            "Gone quiet".to_owned(),
            "set_priority 2; add_note".to_owned()
        )]
    );
    let (_, thread) = desk.app.ticket_and_thread(DEMO, &quiet);
    assert!(
        thread
            .iter()
            .any(|e| e.body_text.contains("for half a day") && e.data.contains_key("rule"))
    );
    assert_eq!(desk.ticket(&worked)["priority"], 3);
    assert!(desk.fired(&worked).is_empty());
    assert_eq!(desk.tick(), TickReport::default());

    // Four business hours after the note, the worked one has gone quiet too.
    desk.clock.set_ms(MON_26_OCT_13H30 + MINUTE);
    assert_eq!(desk.tick().rules_fired, 1);
    assert_eq!(desk.ticket(&worked)["priority"], 2);
    assert_eq!(desk.fired(&worked).len(), 1);

    // The rule's own change restarts no idle clock: a day later nothing
    // fires again on either.
    desk.clock.set_ms(TUE_27_OCT_10H + DAY);
    assert_eq!(desk.tick(), TickReport::default());
    assert_eq!(desk.fired(&quiet).len(), 1);
    assert_eq!(desk.fired(&worked).len(), 1);
}
