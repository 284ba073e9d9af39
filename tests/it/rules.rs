//! Rules over HTTP on the real server: creation rules route mail and web
//! tickets to departments and agents, reject spam quietly or with a
//! notice (writing nothing), disable the auto-response and add
//! collaborators; an update rule reacts to the user's message (and its
//! own change triggers no rule); a replay says what a rule would have
//! done to past tickets and changes nothing; bad rules are refused when
//! saved with their stable codes; creation rules give a web or mail
//! ticket its help topic and SLA plan, with the plan's due times.

use serde_json::{Value, json};
use taquilla_tests::app::{DEMO, TestApp, json};
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

fn save_rule(app: &TestApp, rule: &Value) -> Value {
    let r = app.api("POST", &format!("{DEMO}/rules"), Some(rule));
    assert_eq!(r.status, 201, "{rule}: {}", r.text());
    json(&r)
}

fn mail(from: &str, to: &str, subject: &str, headers: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n{headers}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

fn web_ticket(email: &str, subject: &str, body: &str) -> Value {
    json!({"name": "Someone", "email": email, "subject": subject,
           "body": {"text": body}, "source": "web"})
}

fn open(app: &TestApp, ticket: &Value) -> Value {
    let r = app.open_ticket(DEMO, ticket);
    assert_eq!(r.status, 201, "{}", r.text());
    json(&r)
}

/// The `rule_fired` events of a ticket's thread, as (rule name, actions).
fn fired(app: &TestApp, number: &str) -> Vec<(String, String)> {
    let (_, thread) = app.ticket_and_thread(DEMO, number);
    thread
        .iter()
        .filter(|e| e.event.as_deref() == Some("rule_fired"))
        .map(|e| (e.data["name"].clone(), e.data["actions"].clone()))
        .collect()
}

#[test]
fn rules_route_mail_and_web_tickets_to_departments_and_agents() {
    let app = TestApp::new();
    save_rule(
        &app,
        &json!({
            "name": "Physics to the academic office",
            "moment": {"on": "creation", "sources": ["email"], "mailbox": "support@demo.taquilla.test"},
            "conditions": [{"field": "domain", "op": "ends_with", "value": "physics.uni.example"}],
            "actions": [{"do": "set_department", "department": 2}, {"do": "assign_agent", "agent": 1}],
        }),
    );
    save_rule(
        &app,
        &json!({
            "name": "Grades are urgent",
            "order": 2,
            "moment": {"on": "creation", "sources": ["web"]},
            "matching": "any",
            "conditions": [{"field": "subject", "op": "matches", "value": "(?i)\\bgrades?\\b"},
                           {"field": "body", "op": "contains", "value": "transcript"}],
            "actions": [{"do": "set_department", "department": 2}, {"do": "set_priority", "priority": 1}],
        }),
    );

    let raw = mail(
        "Ana <ana@physics.uni.example>",
        "support@demo.taquilla.test",
        "Lab access",
        "Message-ID: <lab@physics.uni.example>\r\n",
        "My card does not open the lab.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.text().trim().to_owned();
    let (ticket, _) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(
        (ticket.department.0, ticket.assignee.map(|a| a.0)),
        (2, Some(1))
    );
    assert_eq!(
        fired(&app, &number),
        [(
            "Physics to the academic office".to_owned(),
            "set_department 2; assign_agent 1".to_owned()
        )]
    );

    // Another domain, or the same one at another mailbox, is left alone.
    let raw = mail(
        "bo@chemistry.uni.example",
        "support@demo.taquilla.test",
        "Lab access",
        "",
        "Same here.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
    let (ticket, _) = app.ticket_and_thread(DEMO, r.text().trim());
    assert_eq!((ticket.department.0, ticket.assignee), (1, None));
    let raw = mail(
        "eva@physics.uni.example",
        "academic@demo.taquilla.test",
        "Enrolment",
        "",
        "A question.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
    let number = r.text().trim().to_owned();
    assert!(fired(&app, &number).is_empty());

    // Web tickets: the second rule, by subject or body.
    let web = open(
        &app,
        &web_ticket("pau@uni.example", "My grades are missing", "Help"),
    );
    assert_eq!(
        (web["department"].as_u64(), web["priority"].as_u64()),
        (Some(2), Some(1))
    );
    let web = open(
        &app,
        &web_ticket("pau@uni.example", "A question", "About my transcript"),
    );
    assert_eq!(web["priority"].as_u64(), Some(1));
    let plain = open(&app, &web_ticket("pau@uni.example", "Wi-Fi", "Slow"));
    assert_eq!(
        (plain["department"].as_u64(), plain["priority"].as_u64()),
        (Some(1), Some(3))
    );
}

#[test]
fn spam_is_rejected_quietly_or_with_a_notice_and_nothing_is_written() {
    let app = TestApp::new();
    save_rule(
        &app,
        &json!({
            "name": "Spam flag",
            "moment": {"on": "creation"},
            "conditions": [{"field": "header:X-Spam-Flag", "op": "equals", "value": "yes"}],
            "actions": [{"do": "reject"}],
        }),
    );
    save_rule(
        &app,
        &json!({
            "name": "Lottery",
            "order": 1,
            "moment": {"on": "creation"},
            "conditions": [{"field": "subject", "op": "contains", "value": "lottery"}],
            "actions": [{"do": "reject", "notice": "We do not handle prize claims."}, {"do": "close"}],
        }),
    );
    let spam = mail(
        "winner@spam.example",
        "support@demo.taquilla.test",
        "Hello",
        "X-Spam-Flag: YES\r\nMessage-ID: <spam-1@spam.example>\r\n",
        "Click here.",
    );
    // Quietly: the mail is dropped, answered 200 so nobody bounces it.
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &spam);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("dropped (rejected_by_rule)"),
        "{}",
        r.text()
    );
    // With a notice: refused, the notice as the reason.
    let lottery = mail(
        "winner@spam.example",
        "support@demo.taquilla.test",
        "You won the LOTTERY",
        "",
        "Claim it.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &lottery);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.header("x-error-code"), Some("rejected_by_rule"));
    assert!(r.text().contains("prize claims"), "{}", r.text());

    // Over the API: 422 rejected_by_rule, with the notice or without.
    let r = app.open_ticket(DEMO, &web_ticket("x@spam.example", "Lottery!", "Claim"));
    assert_eq!((r.status, code(&r)), (422, "rejected_by_rule".to_owned()));
    assert_eq!(message(&r), "We do not handle prize claims.");
    assert_eq!(app.count_tickets(DEMO), 0);
    // No user was written for the rejected requester.
    let r = app.api("GET", &format!("{DEMO}/users?limit=100"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("spam.example"), "{}", r.text());
}

#[test]
fn a_rule_disables_the_auto_response_and_adds_collaborators_on_creation() {
    let app = TestApp::new();
    save_rule(
        &app,
        &json!({
            "name": "Bulk senders",
            "moment": {"on": "creation"},
            "conditions": [{"field": "subject", "op": "starts_with", "value": "[bulk]"}],
            "actions": [{"do": "disable_auto_response"},
                        {"do": "add_collaborators", "addresses": ["dean@uni.example", "BULK@uni.example"]},
                        {"do": "add_note", "body": "Sent by a bulk sender."}],
        }),
    );
    let plain = open(
        &app,
        &web_ticket("ana@uni.example", "Printer", "Out of toner"),
    );
    let sent = app.send_pending_mail(DEMO);
    let to_ana = |sent: &[taquilla_mail::inbound::ParsedMail]| {
        sent.iter()
            .filter(|m| m.to.iter().any(|t| t.address == "ana@uni.example"))
            .count()
    };
    assert_eq!(to_ana(&sent), 1, "the auto-response of a plain ticket");
    assert!(plain["collaborators"].as_array().unwrap().is_empty());

    let bulk = open(
        &app,
        &web_ticket("ana@uni.example", "[BULK] Newsletter", "Read me"),
    );
    assert_eq!(to_ana(&app.send_pending_mail(DEMO)), 0, "no auto-response");
    assert_eq!(bulk["collaborators"].as_array().unwrap().len(), 2);
    let number = bulk["number"].as_str().unwrap();
    let (_, thread) = app.ticket_and_thread(DEMO, number);
    assert!(
        thread
            .iter()
            .any(|e| e.body_text.contains("Sent by a bulk sender.")
                && e.kind == taquilla_core::domain::EntryKind::Note)
    );
    assert_eq!(fired(&app, number).len(), 1);
}

#[test]
fn an_update_rule_raises_the_priority_when_the_user_writes_and_its_change_fires_nothing_more() {
    let app = TestApp::new();
    save_rule(
        &app,
        &json!({
            "name": "Urgent messages",
            "moment": {"on": "update", "events": ["user_message"]},
            "conditions": [{"field": "body", "op": "contains", "value": "urgent"}],
            "actions": [{"do": "set_priority", "priority": 1},
                        {"do": "add_note", "body": "The user says it is urgent."}],
        }),
    );
    save_rule(
        &app,
        &json!({
            "name": "Priority watcher",
            "moment": {"on": "update", "events": ["priority_changed"]},
            "actions": [{"do": "add_note", "body": "The priority changed."}],
        }),
    );
    let raw = mail(
        "pau@uni.example",
        "support@demo.taquilla.test",
        "Projector",
        "Message-ID: <projector@uni.example>\r\n",
        "The projector is broken.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
    let number = r.text().trim().to_owned();
    assert!(
        fired(&app, &number).is_empty(),
        "update rules wait for updates"
    );

    let reply = mail(
        "pau@uni.example",
        "support@demo.taquilla.test",
        "Re: Projector",
        "In-Reply-To: <projector@uni.example>\r\n",
        "This is URGENT, the exam starts at nine.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &reply);
    assert_eq!(r.status, 200, "{}", r.text());
    let (ticket, thread) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(ticket.priority.0, 1);
    // The rule's own priority change does not run the watcher.
    assert_eq!(
        fired(&app, &number),
        [(
            "Urgent messages".to_owned(),
            "set_priority 1; add_note".to_owned()
        )]
    );
    assert!(
        thread
            .iter()
            .any(|e| e.event.as_deref() == Some("priority_changed"))
    );
    assert!(
        !thread
            .iter()
            .any(|e| e.body_text.contains("The priority changed."))
    );

    // An agent's priority change does run it.
    let (ticket, _) = app.ticket_and_thread(DEMO, &number);
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/tickets/{number}"),
        Some(&json!({"version": ticket.version, "priority": 2})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (_, thread) = app.ticket_and_thread(DEMO, &number);
    assert!(
        thread
            .iter()
            .any(|e| e.body_text.contains("The priority changed."))
    );
}

#[test]
fn a_replay_reports_what_a_rule_would_have_done_and_changes_nothing() {
    let app = TestApp::new();
    for (subject, body) in [
        ("Printer jam", "Paper stuck"),
        ("Wi-Fi", "Slow"),
        ("The printer again", "Still stuck"),
    ] {
        open(&app, &web_ticket("ana@uni.example", subject, body));
    }
    let rule = json!({
        "name": "Printers to the academic office",
        "enabled": false,
        "moment": {"on": "creation"},
        "conditions": [{"field": "subject", "op": "contains", "value": "printer"},
                       {"field": "body", "op": "contains", "value": "stuck"}],
        "actions": [{"do": "set_department", "department": 2}, {"do": "set_priority", "priority": 1}],
    });
    let before = json(&app.list_tickets(DEMO, "state=open"));
    let r = app.api("POST", &format!("{DEMO}/rules/replay?days=7"), Some(&rule));
    assert_eq!(r.status, 200, "{}", r.text());
    let report = json(&r);
    assert_eq!(
        (report["examined"].as_u64(), report["matched"].as_u64()),
        (Some(3), Some(2))
    );
    let tickets = report["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 2);
    for t in tickets {
        assert!(
            t["subject"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("printer")
        );
        assert_eq!(t["actions"], json!(["set_department 2", "set_priority 1"]));
    }
    // A saved (disabled) rule replays the same; nothing changed.
    let saved = save_rule(&app, &rule);
    let r = app.api(
        "POST",
        &format!("{DEMO}/rules/{}/replay?days=1", saved["id"]),
        None,
    );
    assert_eq!(json(&r)["matched"].as_u64(), Some(2), "{}", r.text());
    assert_eq!(json(&app.list_tickets(DEMO, "state=open")), before);
    let r = app.api("POST", &format!("{DEMO}/rules/replay?days=0"), Some(&rule));
    assert_eq!((r.status, code(&r)), (400, "invalid_field".to_owned()));
}

#[test]
fn bad_rules_are_refused_when_saved_with_their_codes() {
    let app = TestApp::new();
    let refused = |rule: Value, wanted: &str| {
        let r = app.api("POST", &format!("{DEMO}/rules"), Some(&rule));
        assert_eq!(
            (r.status, code(&r)),
            (400, "invalid_field".to_owned()),
            "{}",
            r.text()
        );
        assert!(
            message(&r).ends_with(&format!("[{wanted}]")),
            "{}",
            message(&r)
        );
    };
    refused(
        json!({"name": "r", "moment": {"on": "creation"},
               "conditions": [{"field": "subject", "op": "matches", "value": "(unclosed"}],
               "actions": [{"do": "close"}]}),
        "rule_bad_regex",
    );
    refused(
        json!({"name": "r", "moment": {"on": "update", "events": ["user_message"]},
               "actions": [{"do": "reject", "notice": "no"}]}),
        "rule_action_moment",
    );
    refused(
        json!({"name": "r", "moment": {"on": "creation"},
               "actions": [{"do": "set_department", "department": 99}]}),
        "rule_unknown_department",
    );
    refused(
        json!({"name": "r", "moment": {"on": "creation"},
               "actions": [{"do": "assign_agent", "agent": 42}]}),
        "rule_unknown_agent",
    );
    refused(
        json!({"name": "r", "moment": {"on": "time"}, "actions": [{"do": "close"}]}),
        "rule_no_conditions",
    );
    // A field that does not exist does not even parse.
    let r = app.api(
        "POST",
        &format!("{DEMO}/rules"),
        Some(&json!({"name": "r", "moment": {"on": "creation"},
                     "conditions": [{"field": "shoe_size", "op": "equals", "value": "9"}],
                     "actions": [{"do": "close"}]})),
    );
    assert_eq!((r.status, code(&r)), (400, "invalid_body".to_owned()));
    // A good rule saves, lists in running order and changes by version.
    let second = save_rule(
        &app,
        &json!({"name": "b", "order": 2, "moment": {"on": "creation"}, "actions": [{"do": "close"}]}),
    );
    save_rule(
        &app,
        &json!({"name": "a", "order": 1, "moment": {"on": "creation"}, "actions": [{"do": "close"}]}),
    );
    let list = json(&app.api("GET", &format!("{DEMO}/rules"), None));
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/rules/{}", second["id"]),
        Some(&json!({"version": 1, "conditions": [{"field": "subject", "op": "matches", "value": "["}]})),
    );
    assert!(message(&r).ends_with("[rule_bad_regex]"), "{}", r.text());
}

#[test]
fn an_agent_is_assigned_only_tickets_of_a_department_it_works_in() {
    let app = TestApp::new();
    // Marta works in the Academic Office (2) only.
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents"),
        Some(&json!({"name": "Marta", "email": "marta@uni.example", "department": 2, "role": 1})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let marta = json(&r)["agent"]["id"].clone();

    // Refused when saved where the rule fixes the department.
    for rule in [
        json!({"name": "IT to Marta", "moment": {"on": "creation"},
               "actions": [{"do": "set_department", "department": 1}, {"do": "assign_agent", "agent": marta}]}),
        json!({"name": "IT to Marta", "moment": {"on": "update"},
               "conditions": [{"field": "department", "op": "equals", "value": "1"}],
               "actions": [{"do": "assign_agent", "agent": marta}]}),
    ] {
        let r = app.api("POST", &format!("{DEMO}/rules"), Some(&rule));
        assert_eq!(r.status, 400, "{rule}: {}", r.text());
        assert!(
            message(&r).ends_with("[rule_agent_no_access]"),
            "{}",
            r.text()
        );
    }
    // Where it is hers, saved and carried out.
    save_rule(
        &app,
        &json!({"name": "Grades to Marta", "moment": {"on": "creation"},
                "conditions": [{"field": "subject", "op": "contains", "value": "grades"}],
                "actions": [{"do": "set_department", "department": 2}, {"do": "assign_agent", "agent": marta}]}),
    );
    let grades = open(&app, &web_ticket("ana@uni.example", "Grades", "Missing."));
    assert_eq!(
        (grades["department"].clone(), grades["assignee"].clone()),
        (json!(2), marta.clone())
    );

    // Where the rule does not fix it, the ticket's department decides when
    // the rule runs: skipped, and the thread says why.
    save_rule(
        &app,
        &json!({"name": "Labs to Marta", "moment": {"on": "creation"},
                "conditions": [{"field": "subject", "op": "contains", "value": "lab"}],
                "actions": [{"do": "assign_agent", "agent": marta}, {"do": "set_priority", "priority": 2}]}),
    );
    save_rule(
        &app,
        &json!({"name": "Notes to Marta", "moment": {"on": "update", "events": ["note"]},
                "actions": [{"do": "assign_agent", "agent": marta}]}),
    );
    let lab = open(
        &app,
        &web_ticket("pau@uni.example", "Lab access", "My card."),
    );
    let number = lab["number"].as_str().unwrap().to_owned();
    assert_eq!(lab["assignee"], Value::Null);
    assert_eq!(
        lab["priority"], 2,
        "the rule's other actions are carried out"
    );
    let skipped = |app: &TestApp, rule: &str| -> String {
        let (_, thread) = app.ticket_and_thread(DEMO, &number);
        thread
            .iter()
            .find(|e| e.event.as_deref() == Some("rule_fired") && e.data["name"] == rule)
            .and_then(|e| e.data.get("skipped").cloned())
            .unwrap_or_default()
    };
    assert_eq!(
        skipped(&app, "Labs to Marta"),
        format!("assign_agent {marta}: agent {marta} has no access to department 1")
    );
    let r = app.api(
        "POST",
        &format!("{DEMO}/tickets/{number}/notes"),
        Some(&json!({"body": "Checking the card reader."})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let (ticket, _) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(ticket.assignee, None);
    assert!(
        skipped(&app, "Notes to Marta").contains("has no access to department 1"),
        "{}",
        skipped(&app, "Notes to Marta")
    );
}

#[test]
fn a_replay_sees_the_headers_and_the_address_of_the_mail_that_opened_a_ticket() {
    let app = TestApp::new();
    let spam = mail(
        "winner@lottery.example",
        "support@demo.taquilla.test",
        "You won",
        "X-Spam-Flag: YES\r\nX-Spam-Score: 9.1\r\nReceived: from mx.lottery.example\r\n",
        "Claim your prize.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &spam);
    assert_eq!(r.status, 201, "{}", r.text());
    let spam_number = r.text().trim().to_owned();
    let ham = mail(
        "ana@uni.example",
        "academic@demo.taquilla.test",
        "Grades",
        "X-Spam-Flag: NO\r\n",
        "My grades are missing.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &ham);
    assert_eq!(r.status, 201, "{}", r.text());
    open(&app, &web_ticket("pau@uni.example", "Wi-Fi", "Slow."));

    // Agents see what was kept; traces are left out.
    let (ticket, _) = app.ticket_and_thread(DEMO, &spam_number);
    let kept = ticket.opening_mail.expect("kept");
    assert_eq!(
        kept.recipient.as_deref(),
        Some("support@demo.taquilla.test")
    );
    assert!(
        kept.headers
            .contains(&("X-Spam-Flag".to_owned(), "YES".to_owned()))
    );
    assert!(!kept.headers.iter().any(|(n, _)| n == "Received"));

    let replay = |rule: &Value| {
        let r = app.api("POST", &format!("{DEMO}/rules/replay?days=1"), Some(rule));
        assert_eq!(r.status, 200, "{}", r.text());
        let report = json(&r);
        let numbers: Vec<String> = report["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_str().unwrap().to_owned())
            .collect();
        (report["examined"].as_u64(), numbers)
    };
    let flagged = json!({
        "name": "Spam", "moment": {"on": "creation"},
        "conditions": [{"field": "header:x-spam-flag", "op": "equals", "value": "yes"}],
        "actions": [{"do": "reject"}],
    });
    assert_eq!(replay(&flagged), (Some(3), vec![spam_number.clone()]));
    // Every occurrence must pass a negative test; a ticket without the
    // header passes it.
    let not_flagged = json!({
        "name": "Not spam", "moment": {"on": "creation"},
        "conditions": [{"field": "header:X-Spam-Flag", "op": "not_equals", "value": "yes"}],
        "actions": [{"do": "set_priority", "priority": 2}],
    });
    assert_eq!(replay(&not_flagged).1.len(), 2);
    let academic = json!({
        "name": "Academic mailbox", "moment": {"on": "creation"},
        "conditions": [{"field": "recipient", "op": "starts_with", "value": "academic@"}],
        "actions": [{"do": "set_department", "department": 2}],
    });
    let (_, numbers) = replay(&academic);
    assert_eq!(numbers.len(), 1);
    assert_ne!(numbers[0], spam_number);
}

#[test]
fn update_rules_see_the_headers_and_the_receiving_address_of_the_new_message() {
    let app = TestApp::new();
    for rule in [
        json!({"name": "Urgent by header", "moment": {"on": "update", "events": ["user_message"]},
               "conditions": [{"field": "header:X-Priority", "op": "starts_with", "value": "1"}],
               "actions": [{"do": "set_priority", "priority": 1}]}),
        json!({"name": "Auto-replies", "moment": {"on": "update", "events": ["user_message"]},
               "conditions": [{"field": "header:auto-submitted", "op": "starts_with", "value": "auto-"}],
               "actions": [{"do": "add_note", "body": "An automatic reply came in."}]}),
        json!({"name": "Academic mailbox", "moment": {"on": "update", "events": ["user_message"]},
               "conditions": [{"field": "recipient", "op": "equals", "value": "academic@demo.taquilla.test"}],
               "actions": [{"do": "set_department", "department": 2}]}),
        json!({"name": "Status watcher", "moment": {"on": "update", "events": ["status_changed"]},
               "actions": [{"do": "add_note", "body": "The status changed."}]}),
    ] {
        save_rule(&app, &rule);
    }
    // The opening mail says X-Priority 1: creation is not an update, and
    // its headers are not those of the messages that follow.
    let raw = mail(
        "pau@uni.example",
        "support@demo.taquilla.test",
        "Projector",
        "Message-ID: <projector-1@uni.example>\r\nX-Priority: 1 (Highest)\r\n",
        "The projector is broken.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.text().trim().to_owned();
    let reply = |n: u32, to: &str, headers: &str, body: &str| {
        let raw = mail(
            "pau@uni.example",
            to,
            "Re: Projector",
            &format!(
                "Message-ID: <projector-re-{n}@uni.example>\r\n\
                 In-Reply-To: <projector-1@uni.example>\r\n{headers}"
            ),
            body,
        );
        let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains(&number), "threaded: {}", r.text());
    };
    let names = |app: &TestApp| -> Vec<String> {
        fired(app, &number)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    };

    reply(1, "support@demo.taquilla.test", "", "Any news?");
    let (ticket, _) = app.ticket_and_thread(DEMO, &number);
    assert_eq!((ticket.priority.0, ticket.department.0), (3, 1));
    assert!(names(&app).is_empty(), "{:?}", names(&app));

    // A reply carrying the header: its own header decides.
    reply(
        2,
        "support@demo.taquilla.test",
        "X-Priority: 1 (Highest)\r\n",
        "Still broken, the exam is at nine.",
    );
    let (ticket, _) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(ticket.priority.0, 1);
    assert_eq!(names(&app), ["Urgent by header"]);

    // An out-of-office reply: Auto-Submitted of the new message.
    reply(
        3,
        "support@demo.taquilla.test",
        "Auto-Submitted: auto-replied\r\n",
        "I am out of the office until Monday.",
    );
    let (_, thread) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(names(&app), ["Urgent by header", "Auto-replies"]);
    assert!(
        thread
            .iter()
            .any(|e| e.body_text.contains("An automatic reply came in."))
    );

    // Sent to another of our addresses: the receiving address of the
    // reply, not the opening mail's.
    reply(4, "academic@demo.taquilla.test", "", "Adding the office.");
    let (ticket, _) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(ticket.department.0, 2);
    assert_eq!(
        names(&app),
        ["Urgent by header", "Auto-replies", "Academic mailbox"]
    );

    // A response that changes the status, and the user's mail reopening
    // the ticket, are status changes too.
    let r = app.api(
        "POST",
        &format!("{DEMO}/tickets/{number}/responses"),
        Some(&json!({"body": "Fixed, the lamp was replaced.", "status": 2})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(json(&r)["state"], "closed");
    reply(5, "support@demo.taquilla.test", "", "It works, thanks.");
    let (ticket, thread) = app.ticket_and_thread(DEMO, &number);
    assert_eq!(ticket.state, taquilla_core::domain::State::Open);
    assert_eq!(
        thread
            .iter()
            .filter(|e| e.body_text.contains("The status changed."))
            .count(),
        2,
        "{:?}",
        names(&app)
    );
}

/// The names of the rules that fired on a ticket, sorted.
fn fired_names(app: &TestApp, number: &str) -> Vec<String> {
    let mut names: Vec<String> = fired(app, number).into_iter().map(|(n, _)| n).collect();
    names.sort();
    names
}

#[test]
fn every_condition_field_operator_and_source_decides_on_real_tickets() {
    let app = TestApp::new();
    let r = app.api(
        "POST",
        &format!("{DEMO}/organisations"),
        Some(&json!({"name": "Physics Faculty", "domains": ["physics.example.org"]})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let when = |name: &str, conditions: Value| {
        json!({"name": name, "moment": {"on": "creation"}, "conditions": conditions,
               "actions": [{"do": "add_note", "body": name}]})
    };
    let one =
        |field: &str, op: &str, value: &str| json!([{"field": field, "op": op, "value": value}]);
    for rule in [
        when("email", one("email", "equals", "MARIE@physics.example.org")),
        when("name", one("name", "contains", "curie")),
        when(
            "organisation",
            one("organisation", "equals", "physics faculty"),
        ),
        when("subject", one("subject", "not_contains", "printer")),
        when("body", one("body", "not_matches", "(?i)jam+ed")),
        when("source", one("source", "equals", "api")),
        when("topic", one("topic", "equals", "2")),
        when("department", one("department", "not_equals", "1")),
        when("priority", one("priority", "less_than", "3")),
        when("form field", one("field:floor", "greater_than", "4")),
        when(
            "spam score",
            one("header:X-Spam-Score", "greater_than", "5"),
        ),
        when(
            "no spam score",
            one("header:X-Spam-Score", "not_equals", "7.5"),
        ),
        when("status", one("status", "equals", "1")),
        json!({"name": "any", "moment": {"on": "creation"}, "matching": "any",
               "conditions": [{"field": "subject", "op": "ends_with", "value": "SAMPLE"},
                              {"field": "email", "op": "starts_with", "value": "bo@"}],
               "actions": [{"do": "add_note", "body": "any"}]}),
        json!({"name": "from the api", "moment": {"on": "creation", "sources": ["api"]},
               "actions": [{"do": "add_note", "body": "api"}]}),
        json!({"name": "by phone", "moment": {"on": "creation", "sources": ["phone"]},
               "actions": [{"do": "add_note", "body": "phone"}]}),
    ] {
        save_rule(&app, &rule);
    }

    // A web ticket an agent enters for Marie, of the physics faculty.
    let web = open(
        &app,
        &json!({"name": "Marie Curie", "email": "marie@physics.example.org",
                "subject": "Radium sample", "body": {"text": "Please send the sample."},
                "source": "web", "topic": 3, "priority": 2, "fields": {"floor": "5"}}),
    );
    // An integration's ticket.
    let r = app.api_with_key(
        &app.api_key,
        "POST",
        &format!("{DEMO}/tickets"),
        Some(
            &json!({"name": "Bo", "email": "bo@chem.example.org", "subject": "Printer",
                     "body": {"text": "The printer is jammed."}, "topic": 2,
                     "fields": {"floor": "2"}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let api = json(&r);
    // Mail with a spam score.
    let raw = mail(
        "Eve <eve@lottery.example>",
        "support@demo.taquilla.test",
        "Cheap pills",
        "X-Spam-Score: 7.5\r\nMessage-ID: <pills@lottery.example>\r\n",
        "Buy now.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
    assert_eq!(r.status, 201, "{}", r.text());
    let mailed = r.text().trim().to_owned();
    // A phone call an agent writes down.
    let phone = open(
        &app,
        &json!({"name": "Lluís", "email": "lluis@uni.example", "subject": "Phone call",
                "body": {"text": "Called about the Wi-Fi."}, "source": "phone", "topic": 1}),
    );

    let number = |t: &Value| t["number"].as_str().unwrap().to_owned();
    let expect = |names: &[&str]| {
        let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(
        fired_names(&app, &number(&web)),
        expect(&[
            "any",
            "body",
            "department",
            "email",
            "form field",
            "name",
            "no spam score",
            "organisation",
            "priority",
            "status",
            "subject",
        ])
    );
    assert_eq!(
        fired_names(&app, &number(&api)),
        expect(&[
            "any",
            "from the api",
            "no spam score",
            "source",
            "status",
            "topic"
        ])
    );
    assert_eq!(
        fired_names(&app, &mailed),
        expect(&["body", "spam score", "status", "subject"])
    );
    assert_eq!(
        fired_names(&app, &number(&phone)),
        expect(&["body", "by phone", "no spam score", "status", "subject"])
    );
}

#[test]
fn update_rules_react_to_responses_assignments_and_collaborators_and_set_status_topic_and_sla() {
    let app = TestApp::new();
    let waiting = json(&app.api(
        "POST",
        &format!("{DEMO}/statuses"),
        Some(&json!({"name": "Waiting on user", "state": "open"})),
    ));
    let team = json(&app.api(
        "POST",
        &format!("{DEMO}/teams"),
        Some(&json!({"name": "Second line"})),
    ));
    let r = app.api(
        "POST",
        &format!("{DEMO}/sla-plans"),
        Some(&json!({"name": "Two hours", "resolution_minutes": 120})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let plan = json(&r);
    for rule in [
        json!({"name": "Answered", "order": 1, "stop": true,
               "moment": {"on": "update", "events": ["agent_response"]},
               "actions": [{"do": "set_status", "status": waiting["id"]}]}),
        json!({"name": "Never after a stop", "order": 2,
               "moment": {"on": "update", "events": ["agent_response"]},
               "actions": [{"do": "add_note", "body": "Not reached."}]}),
        json!({"name": "Taken by the admin", "moment": {"on": "update", "events": ["assignment_changed"]},
               "conditions": [{"field": "assignee", "op": "equals", "value": "1"}],
               "actions": [{"do": "set_topic", "topic": 2}]}),
        json!({"name": "Given to the team", "moment": {"on": "update", "events": ["assignment_changed"]},
               "conditions": [{"field": "team", "op": "equals", "value": team["id"].to_string()}],
               "actions": [{"do": "set_sla", "sla": plan["id"]}]}),
        json!({"name": "Copied", "moment": {"on": "update", "events": ["collaborator_added"]},
               "actions": [{"do": "add_note", "body": "Someone else follows the ticket."}]}),
    ] {
        save_rule(&app, &rule);
    }
    let ticket = open(
        &app,
        &web_ticket("ana@uni.example", "Printer", "Out of toner."),
    );
    let number = ticket["number"].as_str().unwrap().to_owned();
    let created_at = ticket["created_at"].as_i64().unwrap();
    assert_eq!(ticket["sla"], Value::Null);

    // A response: the status rule fires and stops the chain.
    let r = app.api(
        "POST",
        &format!("{DEMO}/tickets/{number}/responses"),
        Some(&json!({"body": "A new cartridge is on its way."})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(json(&r)["status"], waiting["id"]);
    assert_eq!(fired_names(&app, &number), ["Answered"]);

    // Assigned to the admin (agent 1): the topic rule; then to the team:
    // the plan rule, whose plan sets a due time from the ticket's opening.
    let patch = |changes: Value| {
        let mut body = changes;
        body["version"] = json(&app.get_ticket(DEMO, &number))["version"].clone();
        let r = app.api("PATCH", &format!("{DEMO}/tickets/{number}"), Some(&body));
        assert_eq!(r.status, 200, "{}", r.text());
        json(&r)
    };
    let taken = patch(json!({"assignee": {"agent": 1}}));
    assert_eq!(taken["topic"], 2);
    // Released (neither rule holds), then given to the team (the agent
    // would otherwise stay beside it).
    let released = patch(json!({"assignee": null}));
    assert_eq!(released["sla"], Value::Null);
    let teamed = patch(json!({"assignee": {"team": team["id"]}}));
    assert_eq!(teamed["sla"], plan["id"]);
    assert_eq!(teamed["due_at"], created_at + 2 * 3_600_000);
    let resolution = sla_target(&teamed, "resolution");
    assert_eq!(resolution["state"], "running", "{teamed}");

    // A collaborator copied on the ticket.
    let r = app.api(
        "POST",
        &format!("{DEMO}/tickets/{number}/collaborators"),
        Some(&json!({"text": "bo@uni.example"})),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.text());
    assert_eq!(
        fired_names(&app, &number),
        [
            "Answered",
            "Copied",
            "Given to the team",
            "Taken by the admin"
        ]
    );
    let (_, thread) = app.ticket_and_thread(DEMO, &number);
    assert!(
        thread
            .iter()
            .any(|e| e.body_text.contains("Someone else follows the ticket."))
    );
    assert!(!thread.iter().any(|e| e.body_text.contains("Not reached.")));
}

#[test]
fn creation_rules_set_the_help_topic_and_the_sla_plan_and_the_due_times_follow() {
    let app = TestApp::new();
    let created = |kind: &str, body: Value| {
        let r = app.api("POST", &format!("{DEMO}/{kind}"), Some(&body));
        assert_eq!(r.status, 201, "{kind} {body}: {}", r.text());
        json(&r)
    };
    // IT (department 1) answers in four hours; a lab emergency in half an
    // hour; certificates have a topic whose plan gives eight hours.
    let standard = created(
        "sla-plans",
        json!({"name": "Standard", "first_response_minutes": 240}),
    );
    let emergency = created(
        "sla-plans",
        json!({"name": "Lab emergency", "first_response_minutes": 30, "resolution_minutes": 120}),
    );
    let eight_hours = created(
        "sla-plans",
        json!({"name": "Certificates", "first_response_minutes": 480}),
    );
    let path = format!("{DEMO}/departments/1");
    let version = json(&app.api("GET", &path, None))["version"].clone();
    let r = app.api(
        "PATCH",
        &path,
        Some(&json!({"version": version, "sla": standard["id"]})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let lab = created("topics", json!({"name": "Lab access", "department": 1}));
    let certificates = created(
        "topics",
        json!({"name": "Certificates", "department": 1, "sla": eight_hours["id"]}),
    );
    save_rule(
        &app,
        &json!({
            "name": "Lab emergencies",
            "moment": {"on": "creation", "sources": ["web", "email"]},
            "conditions": [{"field": "subject", "op": "contains", "value": "lab"}],
            "actions": [{"do": "set_topic", "topic": lab["id"]}, {"do": "set_sla", "sla": emergency["id"]}],
        }),
    );
    save_rule(
        &app,
        &json!({
            "name": "Certificates by topic",
            "order": 2,
            "moment": {"on": "creation", "sources": ["web"]},
            "conditions": [{"field": "subject", "op": "contains", "value": "certificate"}],
            "actions": [{"do": "set_topic", "topic": certificates["id"]}],
        }),
    );
    let first_due = |ticket: &Value| sla_target(ticket, "first_response")["due_at"].as_i64();

    // A web ticket: the rule's topic and plan, the plan's due times from
    // the opening, and the thread names the rule and what it did.
    let web = open(
        &app,
        &web_ticket("ana@uni.example", "The lab door is stuck", "Help"),
    );
    let number = web["number"].as_str().unwrap().to_owned();
    let opened = web["created_at"].as_i64().unwrap();
    assert_eq!(
        (web["topic"].clone(), web["sla"].clone()),
        (lab["id"].clone(), emergency["id"].clone()),
        "{web}"
    );
    let ticket = json(&app.get_ticket(DEMO, &number));
    assert_eq!(ticket["due_at"], opened + 30 * 60_000, "{ticket}");
    assert_eq!(first_due(&ticket), Some(opened + 30 * 60_000));
    let resolution = sla_target(&ticket, "resolution");
    assert_eq!(resolution["due_at"], opened + 120 * 60_000, "{ticket}");
    assert_eq!(
        fired(&app, &number),
        [(
            "Lab emergencies".to_owned(),
            format!("set_topic {}; set_sla {}", lab["id"], emergency["id"])
        )]
    );

    // A mail ticket, the same.
    let raw = mail(
        "bo@uni.example",
        "support@demo.taquilla.test",
        "The lab fridge beeps",
        "Message-ID: <fridge@uni.example>\r\n",
        "It beeps.",
    );
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &raw);
    assert_eq!(r.status, 201, "{}", r.text());
    let number = r.text().trim().to_owned();
    let by_mail = json(&app.get_ticket(DEMO, &number));
    assert_eq!(
        (by_mail["topic"].clone(), by_mail["sla"].clone()),
        (lab["id"].clone(), emergency["id"].clone()),
        "{by_mail}"
    );
    let opened = by_mail["created_at"].as_i64().unwrap();
    assert_eq!(first_due(&by_mail), Some(opened + 30 * 60_000));
    assert_eq!(fired(&app, &number).len(), 1);

    // A topic given by a rule brings the topic's plan, over the
    // department's, when no rule sets one.
    let cert = open(
        &app,
        &web_ticket("eva@uni.example", "My certificate", "Please."),
    );
    assert_eq!(
        (cert["topic"].clone(), cert["sla"].clone()),
        (certificates["id"].clone(), eight_hours["id"].clone()),
        "{cert}"
    );
    let opened = cert["created_at"].as_i64().unwrap();
    assert_eq!(cert["due_at"], opened + 8 * 3_600_000);

    // No rule: the department's plan.
    let plain = open(
        &app,
        &web_ticket("pau@uni.example", "Printer", "Out of toner."),
    );
    assert_eq!(
        (plain["topic"].clone(), plain["sla"].clone()),
        (Value::Null, standard["id"].clone())
    );
    let number = plain["number"].as_str().unwrap().to_owned();
    assert!(fired(&app, &number).is_empty());
}

/// The ticket's running SLA target named `name` (`null` when it has none).
fn sla_target(ticket: &Value, name: &str) -> Value {
    ticket["sla_clock"]["targets"]
        .as_array()
        .and_then(|targets| targets.iter().find(|t| t["target"] == name))
        .cloned()
        .unwrap_or_default()
}
