//! Who gets which automatic mail: the instance's policy, replaced for a
//! department's tickets by the department's own when it has one.

use serde_json::json;
use taquilla_tests::app::{DEMO, TestApp, json};

fn mail_from(app: &TestApp, who: &str, to: &str, subject: &str) -> String {
    let mail = format!("From: {who}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nPlease help.\r\n");
    let r = app.osticket_create(Some(DEMO), "email", Some(&app.api_key), &mail);
    assert_eq!(r.status, 201, "{}", r.text());
    r.text().trim().to_owned()
}

/// The mails sent to `address` by the next dispatcher run.
fn sent_to(app: &TestApp, address: &str) -> Vec<String> {
    app.send_pending_mail(DEMO)
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.address == address))
        .map(|m| m.subject)
        .collect()
}

#[test]
fn a_departments_own_policy_replaces_the_instances_for_its_tickets() {
    let app = TestApp::new();
    // Both departments answer new tickets by default.
    let number = mail_from(
        &app,
        "ana@uni.example",
        "support@demo.taquilla.test",
        "Wi-Fi",
    );
    let got = sent_to(&app, "ana@uni.example");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains(&format!("[#{number}]")), "{got:?}");

    // IT Support (1) stops auto-responding; the Academic Office (2) goes on.
    let dept = json(&app.api("GET", "demo/departments/1", None));
    let r = app.api(
        "PATCH",
        "demo/departments/1",
        Some(&json!({
            "version": dept["version"],
            "outbound": {"new_ticket_autoresponse": false},
        })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json(&r)["outbound"]["new_ticket_autoresponse"], false);
    mail_from(
        &app,
        "pau@uni.example",
        "support@demo.taquilla.test",
        "Printer",
    );
    assert_eq!(sent_to(&app, "pau@uni.example"), Vec::<String>::new());
    let other = mail_from(
        &app,
        "pau@uni.example",
        "academic@demo.taquilla.test",
        "Grades",
    );
    let got = sent_to(&app, "pau@uni.example");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains(&format!("[#{other}]")), "{got:?}");

    // Back to the instance's policy.
    let dept = json(&app.api("GET", "demo/departments/1", None));
    let r = app.api(
        "PATCH",
        "demo/departments/1",
        Some(&json!({"version": dept["version"], "outbound": null})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let again = mail_from(&app, "eva@uni.example", "support@demo.taquilla.test", "VPN");
    let got = sent_to(&app, "eva@uni.example");
    assert!(
        got.iter().any(|s| s.contains(&format!("[#{again}]"))),
        "{got:?}"
    );
}
