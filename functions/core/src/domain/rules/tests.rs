use serde_json::json;

use super::*;
use crate::domain::{DepartmentId, Source, State, TicketId};
use crate::domain::{Ticket, UserId};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const T0: i64 = 1_700_000_000_000;

fn rule(value: serde_json::Value) -> Rule {
    serde_json::from_value(value).expect("a rule")
}

fn compiled(rules: Vec<serde_json::Value>) -> Vec<CompiledRule> {
    let (ready, broken) = prepare(
        rules
            .into_iter()
            .enumerate()
            .map(|(n, v)| {
                let mut r = rule(v);
                r.id = RuleId(u32::try_from(n).unwrap() + 1);
                r
            })
            .collect(),
    );
    assert!(broken.is_empty(), "{broken:?}");
    ready
}

/// A ticket read the way stored ones are (fields added later take their
/// defaults).
fn ticket() -> Ticket {
    serde_json::from_value(json!({
        "id": TicketId::generate(), "number": "100001",
        "subject": "Cannot log in to the VPN", "user": UserId::generate(),
        "source": "email", "department": 1, "priority": 3, "status": 1, "state": "open",
        "fields": {"credits": "12"},
        "created_at": T0, "updated_at": T0, "last_message_at": T0, "version": 1
    }))
    .expect("a ticket")
}

const CREATION: Happening<'static> = Happening::Creation {
    source: Source::Email,
    mailbox: Some("it@uni.example"),
};

#[test]
fn creation_rules_route_by_domain_and_header_in_order() {
    let rules = compiled(vec![
        json!({"name": "spam", "order": 1,
               "moment": {"on": "creation"},
               "conditions": [{"field": "header:X-Spam-Flag", "op": "equals", "value": "yes"}],
               "actions": [{"do": "reject"}, {"do": "close"}]}),
        json!({"name": "students", "order": 2,
               "moment": {"on": "creation", "sources": ["email"], "mailbox": "IT@uni.example"},
               "conditions": [{"field": "domain", "op": "ends_with", "value": "students.uni.example"},
                              {"field": "subject", "op": "matches", "value": "(?i)\\bvpn\\b"}],
               "actions": [{"do": "set_department", "department": 4},
                           {"do": "assign_agent", "agent": 7}]}),
        json!({"name": "web only", "order": 3,
               "moment": {"on": "creation", "sources": ["web"]},
               "actions": [{"do": "set_priority", "priority": 1}]}),
    ]);
    let t = ticket();
    let mut view = TicketView::of(&t, "ana@students.uni.example", "Ana", "help", T0);
    let headers = vec![("X-Spam-Flag".to_owned(), "NO".to_owned())];
    view.headers = &headers;
    let outcome = evaluate(&rules, CREATION, &view);
    assert_eq!(outcome.fired.len(), 1);
    assert_eq!(outcome.fired[0].name, "students");
    assert_eq!(
        outcome.fired[0].actions,
        vec![
            Action::SetDepartment {
                department: DepartmentId(4)
            },
            Action::AssignAgent {
                agent: crate::domain::AgentId(7)
            }
        ]
    );
    assert!(outcome.rejection().is_none());

    let spam = vec![("x-spam-flag".to_owned(), "YES".to_owned())];
    view.headers = &spam;
    let outcome = evaluate(&rules, CREATION, &view);
    let (fired, notice) = outcome.rejection().expect("rejected");
    assert_eq!((fired.name.as_str(), notice), ("spam", None));
    // A rejection ends the rule's actions and the chain.
    assert_eq!(outcome.fired.len(), 1);
    assert_eq!(outcome.fired[0].actions.len(), 1);
}

#[test]
fn stop_ends_the_chain_and_disabled_rules_never_run() {
    let rules = compiled(vec![
        json!({"name": "a", "order": 5, "moment": {"on": "creation"}, "stop": true,
               "actions": [{"do": "set_priority", "priority": 2}]}),
        json!({"name": "b", "order": 1, "enabled": false, "moment": {"on": "creation"},
               "actions": [{"do": "set_priority", "priority": 1}]}),
        json!({"name": "c", "order": 9, "moment": {"on": "creation"},
               "actions": [{"do": "close"}]}),
    ]);
    assert_eq!(rules.len(), 2);
    let t = ticket();
    let view = TicketView::of(&t, "a@b.example", "A", "x", T0);
    let outcome = evaluate(&rules, CREATION, &view);
    let names: Vec<&str> = outcome.fired.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a"]);
}

#[test]
fn negative_operators_any_matching_and_numbers() {
    let rules = compiled(vec![
        json!({
            "name": "any", "moment": {"on": "update", "events": ["user_message"]}, "matching": "any",
            "conditions": [{"field": "body", "op": "contains", "value": "URGENT"},
                           {"field": "field:credits", "op": "greater_than", "value": "30"}],
            "actions": [{"do": "set_priority", "priority": 1}]
        }),
        json!({
            "name": "not", "moment": {"on": "update"},
            "conditions": [{"field": "header:X-Mailer", "op": "not_contains", "value": "bot"},
                           {"field": "assignee", "op": "equals", "value": ""},
                           {"field": "email", "op": "not_matches", "value": "^noreply@"}],
            "actions": [{"do": "add_note", "body": "unassigned"}]
        }),
    ]);
    let t = ticket();
    let view = TicketView::of(&t, "ana@uni.example", "Ana", "this is urgent!", T0);
    let fired = evaluate(&rules, Happening::Update(UpdateEvent::UserMessage), &view).fired;
    assert_eq!(fired.len(), 2);
    let fired = evaluate(&rules, Happening::Update(UpdateEvent::Note), &view).fired;
    assert_eq!(
        fired.len(),
        1,
        "the first rule waits for user messages only"
    );
    let calm = TicketView::of(&t, "noreply@uni.example", "Ana", "thanks", T0);
    assert!(
        evaluate(&rules, Happening::Update(UpdateEvent::UserMessage), &calm)
            .fired
            .is_empty()
    );
    // Creation never runs update rules, replay looks at the conditions only.
    assert!(evaluate(&rules, CREATION, &view).fired.is_empty());
    assert_eq!(evaluate(&rules, Happening::Replay, &view).fired.len(), 2);
}

#[test]
fn time_conditions_and_next_moment() {
    let rules = compiled(vec![
        json!({
            "name": "auto-close", "moment": {"on": "time"},
            "conditions": [{"field": "waiting_on_user", "op": "greater_than", "value": "7d"}],
            "actions": [{"do": "add_note", "body": "closing"}, {"do": "close"}]
        }),
        json!({
            "name": "breach soon", "moment": {"on": "time"},
            "conditions": [{"field": "due_in", "op": "less_than", "value": "1h"},
                           {"field": "priority", "op": "not_equals", "value": "1"}],
            "actions": [{"do": "set_priority", "priority": 1}]
        }),
    ]);
    let mut t = ticket();
    t.answered = true;
    t.last_response_at = Some(T0 + HOUR);
    t.due_at = Some(T0 + 10 * HOUR);
    let at = |now| TicketView::of(&t, "a@b.example", "A", "", now);
    assert!(
        evaluate(&rules[..1], Happening::Time, &at(T0 + 2 * DAY))
            .fired
            .is_empty()
    );
    assert_eq!(
        next_moment(&rules[0], &at(T0 + 2 * DAY)),
        Some(T0 + HOUR + 7 * DAY + 1)
    );
    let fired = evaluate(&rules, Happening::Time, &at(T0 + 8 * DAY)).fired;
    let names: Vec<&str> = fired.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["auto-close", "breach soon"]);
    let soon = next_moment(&rules[1], &at(T0)).unwrap();
    assert!(
        (T0 + 9 * HOUR..=T0 + 9 * HOUR + 1_000).contains(&soon),
        "{soon}"
    );
    assert_eq!(
        next_moment(&rules[1], &at(T0 + 9 * HOUR + 5_000)),
        Some(T0 + 9 * HOUR + 5_000)
    );
    // Closed: the clocks stop, nothing will fire.
    let mut closed = t.clone();
    closed.state = State::Closed;
    let view = TicketView::of(&closed, "a@b.example", "A", "", T0);
    assert_eq!(next_moment(&rules[0], &view), None);
}

#[test]
fn business_hours_count_only_open_time() {
    let schedule: crate::domain::Schedule = serde_json::from_value(json!({
        "id": 1, "name": "office", "timezone": "UTC",
        "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"}]
    }))
    .expect("a schedule");
    let calendar = schedule.calendar().expect("a calendar");
    let rules = compiled(vec![json!({
        "name": "unassigned", "moment": {"on": "time"},
        "conditions": [{"field": "unassigned", "op": "greater_than", "value": "2h", "business": true}],
        "actions": [{"do": "assign_team", "team": 2}]
    })]);
    // Friday 2023-11-17 16:00 UTC.
    let friday_4pm = 1_700_236_800_000;
    let mut t = ticket();
    t.created_at = friday_4pm;
    let mut view = TicketView::of(&t, "a@b.example", "A", "", friday_4pm + 20 * HOUR);
    view.calendar = Some(&calendar);
    assert!(evaluate(&rules, Happening::Time, &view).fired.is_empty());
    // One business hour on Friday, the second ends Monday 10:00.
    let monday_10am = friday_4pm + 2 * DAY + 18 * HOUR;
    assert_eq!(next_moment(&rules[0], &view), Some(monday_10am + 1));
    view.now = monday_10am + 60_000;
    assert_eq!(evaluate(&rules, Happening::Time, &view).fired.len(), 1);
}

#[test]
fn bad_rules_are_refused_with_their_codes() {
    let refused = |v: serde_json::Value| rule(v).check().unwrap_err().code();
    let creation = json!({"on": "creation"});
    assert_eq!(
        refused(json!({"name": "r", "moment": creation,
            "conditions": [{"field": "subject", "op": "matches", "value": "(unclosed"}],
            "actions": [{"do": "close"}]})),
        "rule_bad_regex"
    );
    assert_eq!(
        refused(json!({"name": "r", "moment": {"on": "update"},
            "actions": [{"do": "reject", "notice": "no"}]})),
        "rule_action_moment"
    );
    assert_eq!(
        refused(json!({"name": "r", "moment": {"on": "time"},
            "conditions": [{"field": "age", "op": "greater_than", "value": "1d"}],
            "actions": [{"do": "reject"}]})),
        "rule_action_moment"
    );
    assert_eq!(
        refused(json!({"name": "r", "moment": {"on": "time"}, "actions": [{"do": "close"}]})),
        "rule_no_conditions"
    );
    assert_eq!(
        refused(json!({"name": "r", "moment": {"on": "time"},
            "conditions": [{"field": "subject", "op": "contains", "value": "x"}],
            "actions": [{"do": "close"}]})),
        "rule_no_time_condition"
    );
    assert_eq!(
        refused(json!({"name": "r", "moment": creation,
            "conditions": [{"field": "age", "op": "equals", "value": "1d"}],
            "actions": [{"do": "close"}]})),
        "rule_bad_operator"
    );
    assert_eq!(
        refused(json!({"name": "r", "moment": creation,
            "conditions": [{"field": "age", "op": "greater_than", "value": "soon"}],
            "actions": [{"do": "close"}]})),
        "rule_bad_value"
    );
    assert_eq!(
        refused(json!({"name": "r", "moment": creation, "actions": []})),
        "rule_no_actions"
    );
    assert_eq!(
        refused(json!({"name": "r", "moment": creation,
            "actions": [{"do": "add_collaborators", "addresses": ["not an address"]}]})),
        "rule_bad_address"
    );
    assert!(
        serde_json::from_value::<Rule>(json!({"name": "r", "moment": creation,
            "conditions": [{"field": "shoe size", "op": "equals", "value": "9"}],
            "actions": [{"do": "close"}]}))
        .is_err()
    );
}

#[test]
fn a_time_rule_fires_once_per_stretch_and_its_stop_holds() {
    let rules = compiled(vec![
        json!({"name": "waiting", "moment": {"on": "time"}, "stop": true,
               "conditions": [{"field": "waiting_on_user", "op": "greater_than", "value": "2d"}],
               "actions": [{"do": "close"}]}),
        json!({"name": "old", "moment": {"on": "time"},
               "conditions": [{"field": "age", "op": "greater_than", "value": "1d"}],
               "actions": [{"do": "add_note", "body": "old"}]}),
    ]);
    let mut t = ticket();
    t.answered = true;
    t.last_response_at = Some(T0 + HOUR);
    let mut timer = RuleTimer::default();
    let view = TicketView::of(&t, "a@b.example", "A", "", T0 + 2 * HOUR);
    timer.schedule(&rules, &view);
    assert_eq!(timer.next_ms, Some(T0 + DAY + 1), "the age rule first");

    // Three days on both hold; the first stops the chain.
    let view = TicketView::of(&t, "a@b.example", "A", "", T0 + 3 * DAY + HOUR);
    let due: Vec<RuleId> = timer.due(&rules, &view).iter().map(|c| c.rule.id).collect();
    assert_eq!(due, [RuleId(1)]);
    timer.record(&rules[0], &view);
    assert!(timer.due(&rules, &view).is_empty(), "once per stretch");
    timer.schedule(&rules, &view);
    assert_eq!(timer.next_ms, None, "the stop still holds");

    // A new response starts a new stretch.
    t.last_response_at = Some(T0 + 4 * DAY);
    let view = TicketView::of(&t, "a@b.example", "A", "", T0 + 4 * DAY);
    assert_eq!(
        timer
            .due(&rules, &view)
            .iter()
            .map(|c| c.rule.id)
            .collect::<Vec<_>>(),
        [RuleId(2)]
    );
    timer.schedule(&rules, &view);
    assert_eq!(timer.next_ms, Some(T0 + 4 * DAY), "the age rule is due now");
    timer.record(&rules[1], &view);
    timer.schedule(&rules, &view);
    assert_eq!(timer.next_ms, Some(T0 + 6 * DAY + 1));

    // A rule no longer there is forgotten.
    timer.schedule(&rules[1..], &view);
    assert_eq!(timer.fired.len(), 1);
}

#[test]
fn unassigned_counts_from_when_the_assignment_ended() {
    let rules = compiled(vec![json!({
        "name": "unassigned", "moment": {"on": "time"},
        "conditions": [{"field": "unassigned", "op": "greater_than", "value": "2h"}],
        "actions": [{"do": "assign_team", "team": 2}]
    })]);
    let mut t = ticket();
    let view = TicketView::of(&t, "a@b.example", "A", "", T0);
    assert_eq!(next_moment(&rules[0], &view), Some(T0 + 2 * HOUR + 1));
    t.unassigned_since = Some(T0 + 5 * HOUR);
    let view = TicketView::of(&t, "a@b.example", "A", "", T0 + 5 * HOUR);
    assert_eq!(next_moment(&rules[0], &view), Some(T0 + 7 * HOUR + 1));
    t.assignee = Some(crate::domain::AgentId(1));
    let view = TicketView::of(&t, "a@b.example", "A", "", T0 + 5 * HOUR);
    assert_eq!(next_moment(&rules[0], &view), None);
}

#[test]
fn the_department_a_rule_fixes_is_its_last_move_else_a_condition_it_needs() {
    let department = |v: serde_json::Value| rule(v).department();
    assert_eq!(
        department(json!({"name": "r", "moment": {"on": "creation"},
            "conditions": [{"field": "department", "op": "equals", "value": "3"}],
            "actions": [{"do": "set_department", "department": 4}, {"do": "assign_agent", "agent": 1},
                        {"do": "set_department", "department": 5}]})),
        Some(DepartmentId(5))
    );
    assert_eq!(
        department(json!({"name": "r", "moment": {"on": "update"},
            "conditions": [{"field": "subject", "op": "contains", "value": "x"},
                           {"field": "department", "op": "equals", "value": " 3 "}],
            "actions": [{"do": "assign_agent", "agent": 1}]})),
        Some(DepartmentId(3))
    );
    // Any of two conditions, or not an equality: not fixed.
    assert_eq!(
        department(
            json!({"name": "r", "moment": {"on": "update"}, "matching": "any",
            "conditions": [{"field": "subject", "op": "contains", "value": "x"},
                           {"field": "department", "op": "equals", "value": "3"}],
            "actions": [{"do": "assign_agent", "agent": 1}]})
        ),
        None
    );
    assert_eq!(
        department(json!({"name": "r", "moment": {"on": "update"},
            "conditions": [{"field": "department", "op": "not_equals", "value": "3"}],
            "actions": [{"do": "assign_agent", "agent": 1}]})),
        None
    );
}
