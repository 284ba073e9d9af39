//! Agents' accounts end to end over HTTP: the welcome mail's link sets a
//! password exactly once; a forgotten password is reset by mail without
//! telling whether an address is an agent's; signing in with e-mail and
//! password gives a token; every refusal has its stable code.

use serde_json::{Value, json};
use taquilla_core::domain::{AgentId, InstanceId};
use taquilla_core::keys;
use taquilla_core::services::accounts::links::MAX_PER_HOUR;
use taquilla_core::store::{ItemStore, Update};
use taquilla_mail::inbound::ParsedMail;
use taquilla_tests::app::{DEMO, TestApp, json};
use taquilla_tests::http::{self, Response};

const NEW_PASSWORD: &str = "violet kettle 42";

/// A request to `/api/v1/{path}` with no credentials.
fn public(app: &TestApp, path: &str, body: &str) -> Response {
    http::request(
        "POST",
        &format!("{}/api/v1/{path}", app.url),
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .unwrap()
}

fn code(r: &Response) -> String {
    json(r)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn sign_in(app: &TestApp, email: &str, password: &str) -> Response {
    public(
        app,
        &format!("{DEMO}/session"),
        &json!({"email": email, "password": password}).to_string(),
    )
}

fn choose(app: &TestApp, token: &str, password: &str) -> Response {
    public(
        app,
        &format!("{DEMO}/password"),
        &json!({"token": token, "password": password}).to_string(),
    )
}

fn forgot(app: &TestApp, email: &str) -> Response {
    public(
        app,
        &format!("{DEMO}/password/forgot"),
        &json!({"email": email}).to_string(),
    )
}

/// Creates an agent in IT Support; its id and generated password.
fn create_agent(app: &TestApp, name: &str, email: &str) -> (u32, String) {
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents"),
        Some(&json!({"name": name, "email": email, "department": 1, "role": 2})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let body = json(&r);
    (
        u32::try_from(body["agent"]["id"].as_u64().unwrap()).unwrap(),
        body["password"].as_str().unwrap().to_owned(),
    )
}

/// The mails of the next dispatcher run sent to `address`.
fn mails_to(app: &TestApp, address: &str) -> Vec<ParsedMail> {
    app.send_pending_mail(DEMO)
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.address == address))
        .collect()
}

/// The token of the password link in a mail's text (and the same link in
/// its HTML).
fn link_token(mail: &ParsedMail) -> String {
    let prefix = "http://127.0.0.1/demo/agents/password?token=";
    let start = mail
        .text
        .find(prefix)
        .unwrap_or_else(|| panic!("no link in {}", mail.text))
        + prefix.len();
    let token: String = mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    // Tera escapes `/` in HTML (`&#x2F;`), which browsers read back.
    let html = mail.html.as_deref().unwrap().replace("&#x2F;", "/");
    assert!(
        html.contains(&format!("href=\"{prefix}{token}\"")),
        "the HTML has the same link: {html}"
    );
    token
}

/// Changes a stored attribute of an agent's password link (the clock of
/// the real store is the system's: time is moved by moving the link).
fn age_link(app: &TestApp, agent: u32, attr: &str, value: i64) {
    let demo = InstanceId::parse(DEMO).unwrap();
    let key = keys::account::password_link(&demo, AgentId(agent));
    let store: &dyn ItemStore = app.store.as_ref();
    app.rt
        .block_on(store.update(Update::new(key).set(attr, value)))
        .unwrap();
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[test]
fn a_new_agent_is_welcomed_with_a_link_that_sets_its_password_exactly_once() {
    let app = TestApp::new();
    let (id, generated) = create_agent(&app, "Joan Serra", "jserra@demo.example.org");
    let welcome = mails_to(&app, "jserra@demo.example.org");
    assert_eq!(welcome.len(), 1);
    let mail = &welcome[0];
    assert_eq!(mail.subject, "Demo University: your agent account");
    assert_eq!(mail.header("Auto-Submitted"), Some("auto-generated"));
    assert!(mail.text.contains("Hello Joan Serra,"), "{}", mail.text);
    assert!(
        mail.text
            .contains("Demo Admin has created an agent account for you"),
        "{}",
        mail.text
    );
    assert!(
        mail.text
            .contains("Your user name is jserra@demo.example.org")
    );
    assert!(mail.text.contains("expires on "), "{}", mail.text);
    let token = link_token(mail);
    assert!(token.starts_with(&format!("{id}.")), "{token}");
    // Sent once.
    assert!(mails_to(&app, "jserra@demo.example.org").is_empty());

    let r = choose(&app, &token, NEW_PASSWORD);
    assert_eq!(r.status, 204, "{}", r.text());
    let again = choose(&app, &token, "another good passphrase");
    assert_eq!(again.status, 400, "{}", again.text());
    assert_eq!(code(&again), "invalid_link");

    // The chosen password signs in; the generated one no longer does.
    let session = sign_in(&app, "JSerra@demo.example.org", NEW_PASSWORD);
    assert_eq!(session.status, 200, "{}", session.text());
    let session = json(&session);
    assert_eq!(session["agent"], id);
    let bearer = session["token"].as_str().unwrap();
    let r = app.api_as(bearer, "GET", &format!("{DEMO}/tasks"), None);
    assert_eq!(r.status, 200, "the token works: {}", r.text());
    let old = sign_in(&app, "jserra@demo.example.org", &generated);
    assert_eq!(old.status, 401);
    assert_eq!(code(&old), "invalid_credentials");
}

#[test]
fn an_expired_link_is_refused_and_leaves_the_password_alone() {
    let app = TestApp::new();
    let (id, generated) = create_agent(&app, "Pau Roca", "pau@demo.example.org");
    let token = link_token(&mails_to(&app, "pau@demo.example.org")[0]);
    age_link(&app, id, "expires_at", now_ms() - 1);
    let r = choose(&app, &token, NEW_PASSWORD);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(code(&r), "invalid_link");
    assert_eq!(
        sign_in(&app, "pau@demo.example.org", &generated).status,
        200
    );
    assert_eq!(
        sign_in(&app, "pau@demo.example.org", NEW_PASSWORD).status,
        401
    );
}

#[test]
fn a_weak_password_is_refused_and_the_link_still_works() {
    let app = TestApp::new();
    let (_, _) = create_agent(&app, "Marta Soler", "msoler@demo.example.org");
    let token = link_token(&mails_to(&app, "msoler@demo.example.org")[0]);
    for weak in [
        "short",
        "aaaaaaaaaaaaaaa",
        "password123",
        "msoler-is-me-2026",
        "I am Marta, hello",
        &"x1y2z".repeat(26),
    ] {
        let r = choose(&app, &token, weak);
        assert_eq!(r.status, 400, "{weak}: {}", r.text());
        assert_eq!(code(&r), "weak_password", "{weak}");
    }
    assert_eq!(choose(&app, &token, NEW_PASSWORD).status, 204);
}

#[test]
fn malformed_unknown_and_foreign_tokens_are_one_invalid_link() {
    let app = TestApp::new();
    let (id, _) = create_agent(&app, "Nil Vives", "nil@demo.example.org");
    let token = link_token(&mails_to(&app, "nil@demo.example.org")[0]);
    let (_, secret) = token.split_once('.').unwrap();
    let forged = format!("{id}.{}", "0".repeat(secret.len()));
    let other_agent = format!("1.{secret}");
    for bad in [
        "",
        "nonsense",
        "7.",
        &forged,
        &other_agent,
        &format!("{token}00"),
    ] {
        let r = choose(&app, bad, NEW_PASSWORD);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(code(&r), "invalid_link", "{bad}");
    }
    // The same token in another instance is nothing there.
    let r = public(
        &app,
        "other/password",
        &json!({"token": token, "password": NEW_PASSWORD}).to_string(),
    );
    assert_eq!(code(&r), "invalid_link");
    assert_eq!(choose(&app, &token, NEW_PASSWORD).status, 204);
}

#[test]
fn forgot_password_answers_alike_for_any_address_and_mails_only_an_active_agent() {
    let app = TestApp::new();
    let (id, _) = create_agent(&app, "Laia Mas", "laia@demo.example.org");
    let welcome = link_token(&mails_to(&app, "laia@demo.example.org")[0]);

    let unknown = forgot(&app, "nobody@demo.example.org");
    let known = forgot(&app, "Laia@demo.example.org");
    assert_eq!(unknown.status, 202);
    assert_eq!(known.status, 202);
    assert_eq!(unknown.body, known.body);
    assert_eq!(unknown.header("content-type"), known.header("content-type"));
    let sent = app.send_pending_mail(DEMO);
    assert_eq!(sent.len(), 1, "only the agent gets mail");
    assert_eq!(sent[0].to[0].address, "laia@demo.example.org");
    assert_eq!(sent[0].subject, "Demo University: reset your password");
    assert!(sent[0].text.contains("agent account laia@demo.example.org"));
    let reset = link_token(&sent[0]);

    // The reset replaced the welcome link: one pending link at a time.
    assert_eq!(code(&choose(&app, &welcome, NEW_PASSWORD)), "invalid_link");
    assert_eq!(choose(&app, &reset, NEW_PASSWORD).status, 204);
    assert_eq!(
        sign_in(&app, "laia@demo.example.org", NEW_PASSWORD).status,
        200
    );

    // An inactive agent is sent nothing, and told nothing either.
    let agent = json(&app.api("GET", &format!("{DEMO}/agents/{id}"), None));
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/agents/{id}"),
        Some(&json!({"version": agent["version"], "active": false})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let inactive = forgot(&app, "laia@demo.example.org");
    assert_eq!(inactive.status, 202);
    assert_eq!(inactive.body, unknown.body);
    assert!(app.send_pending_mail(DEMO).is_empty());
    let r = sign_in(&app, "laia@demo.example.org", NEW_PASSWORD);
    assert_eq!(r.status, 401);
    assert_eq!(code(&r), "invalid_credentials");
}

#[test]
fn reset_links_are_rate_limited_per_agent() {
    let app = TestApp::new();
    let (id, _) = create_agent(&app, "Quim Font", "quim@demo.example.org");
    mails_to(&app, "quim@demo.example.org");
    // A double click sends one mail.
    assert_eq!(forgot(&app, "quim@demo.example.org").status, 202);
    assert_eq!(forgot(&app, "quim@demo.example.org").status, 202);
    assert_eq!(mails_to(&app, "quim@demo.example.org").len(), 1);
    // Spaced out, at most MAX_PER_HOUR links an hour (the welcome counts).
    let mut sent = 1;
    for _ in 0..MAX_PER_HOUR + 2 {
        age_link(&app, id, "issued_at", now_ms() - 120_000);
        assert_eq!(forgot(&app, "quim@demo.example.org").status, 202);
        sent += mails_to(&app, "quim@demo.example.org").len();
    }
    assert_eq!(sent, MAX_PER_HOUR - 1);
}

#[test]
fn signing_in_refuses_wrong_passwords_unknown_addresses_and_bad_bodies() {
    let app = TestApp::new();
    let (_, generated) = create_agent(&app, "Rut Gil", "rut@demo.example.org");
    assert_eq!(
        sign_in(&app, "rut@demo.example.org", &generated).status,
        200
    );
    for (email, password) in [
        ("rut@demo.example.org", "wrong password"),
        ("nobody@demo.example.org", generated.as_str()),
        ("rut@demo.example.org", ""),
        ("", ""),
        ("rut@demo.example.org", &"x".repeat(2000)),
    ] {
        let r = sign_in(&app, email, password);
        assert_eq!(r.status, 401, "{email}");
        assert_eq!(code(&r), "invalid_credentials");
        assert_eq!(json(&r)["error"]["message"], "wrong e-mail or password");
    }
    // The agent's token of one instance is not another's.
    let r = public(
        &app,
        "other/session",
        &json!({"email": "rut@demo.example.org", "password": generated}).to_string(),
    );
    assert_eq!(code(&r), "invalid_credentials");
    for body in [
        "",
        "{",
        r#"{"email": "rut@demo.example.org"}"#,
        r#"{"email": 1, "password": 2}"#,
    ] {
        let r = public(&app, &format!("{DEMO}/session"), body);
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(code(&r), "invalid_body", "{body}");
    }
    let r = public(
        &app,
        "nowhere/session",
        r#"{"email": "a@b.c", "password": "x"}"#,
    );
    assert_eq!(r.status, 404);
    assert_eq!(code(&r), "instance_not_found");
}

#[test]
fn password_routes_refuse_bad_bodies_with_stable_codes() {
    let app = TestApp::new();
    for (path, body) in [
        ("password", ""),
        ("password", r#"{"token": "x"}"#),
        ("password", r#"{"password": "violet kettle 42"}"#),
        (
            "password",
            r#"{"token": "x", "password": "violet kettle 42", "extra": 1}"#,
        ),
        ("password/forgot", ""),
        ("password/forgot", "[]"),
        ("password/forgot", r#"{"email": null}"#),
    ] {
        let r = public(&app, &format!("{DEMO}/{path}"), body);
        assert_eq!(r.status, 400, "{path} {body}: {}", r.text());
        assert_eq!(code(&r), "invalid_body", "{path} {body}");
    }
    for malformed in ["not an address", "a@b", "@demo.example.org"] {
        let r = forgot(&app, malformed);
        assert_eq!(r.status, 400, "{malformed}");
        assert_eq!(code(&r), "invalid_field");
    }
    let r = public(
        &app,
        "nowhere/password/forgot",
        r#"{"email": "a@b.example"}"#,
    );
    assert_eq!(code(&r), "instance_not_found");
    assert!(app.send_pending_mail(DEMO).is_empty());
}

#[test]
fn an_administrators_reset_by_link_revokes_the_password_and_mails_the_agent() {
    let app = TestApp::new();
    let (id, generated) = create_agent(&app, "Sergi Bosch", "sergi@demo.example.org");
    mails_to(&app, "sergi@demo.example.org");
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents/{id}/reset-password"),
        Some(&json!({"send_link": true})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let body = json(&r);
    assert!(body.get("password").is_none(), "{body}");
    assert!(body["link_expires_at"].as_i64().unwrap() > now_ms());
    assert_eq!(body["agent"]["id"], id);
    // Nobody knows the password now: the old one is gone.
    assert_eq!(
        sign_in(&app, "sergi@demo.example.org", &generated).status,
        401
    );
    let sent = mails_to(&app, "sergi@demo.example.org");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, "Demo University: reset your password");
    assert_eq!(
        choose(&app, &link_token(&sent[0]), NEW_PASSWORD).status,
        204
    );
    assert_eq!(
        sign_in(&app, "sergi@demo.example.org", NEW_PASSWORD).status,
        200
    );

    // Without a body the answer is a generated password, as before.
    let r = app.api("POST", &format!("{DEMO}/agents/{id}/reset-password"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let password = json(&r)["password"].as_str().unwrap().to_owned();
    assert_eq!(
        sign_in(&app, "sergi@demo.example.org", &password).status,
        200
    );
    assert!(mails_to(&app, "sergi@demo.example.org").is_empty());

    // Only administrators reset; a bad body is refused.
    let token = json(&sign_in(&app, "sergi@demo.example.org", &password))["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.api_as(
        &token,
        "POST",
        &format!("{DEMO}/agents/1/reset-password"),
        Some(&json!({"send_link": true})),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents/{id}/reset-password"),
        Some(&json!({"send_link": "yes"})),
    );
    assert_eq!(code(&r), "invalid_body");
    let r = app.api(
        "POST",
        &format!("{DEMO}/agents/999/reset-password"),
        Some(&json!({"send_link": true})),
    );
    assert_eq!(r.status, 404);
    assert!(app.send_pending_mail(DEMO).is_empty());
}

#[test]
fn a_welcome_to_an_agent_deactivated_before_it_went_out_is_not_sent() {
    let app = TestApp::new();
    let (id, _) = create_agent(&app, "Tina Ruiz", "tina@demo.example.org");
    let agent: Value = json(&app.api("GET", &format!("{DEMO}/agents/{id}"), None));
    let r = app.api(
        "PATCH",
        &format!("{DEMO}/agents/{id}"),
        Some(&json!({"version": agent["version"], "active": false})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(app.send_pending_mail(DEMO).is_empty());
}

/// A reply to `mail` from its recipient, sent where its Reply-To says,
/// quoting it (the password link with it).
fn reply_quoting(mail: &ParsedMail, id: &str) -> String {
    let quoted: String = mail.text.lines().map(|l| format!("> {l}\r\n")).collect();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Re: {subject}\r\nMessage-ID: <{id}@demo.example.org>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Thanks! Which department am I in?\r\n\r\n{quoted}",
        from = mail.to[0].address,
        to = mail.reply_to[0].address,
        subject = mail.subject,
    )
}

/// Sets the instance's administrator address through the settings API.
fn set_admin_address(app: &TestApp, address: &str) {
    let r = app.api("GET", DEMO, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let current = json(&r);
    let mut mail = current["mail"].clone();
    mail["outbound"]["admin_address"] = json!(address);
    let body = json!({"version": current["version"], "mail": mail});
    let r = app.api("PATCH", DEMO, Some(&body));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn replies_to_account_mail_never_reach_a_queue_they_go_to_the_administrator_or_bounce() {
    let app = TestApp::new();
    create_agent(&app, "Joan Serra", "jserra@demo.example.org");
    let welcome = mails_to(&app, "jserra@demo.example.org");
    // No administrator address: Reply-To the mailbox's no-reply address.
    let mail = &welcome[0];
    assert_eq!(mail.reply_to.len(), 1);
    assert_eq!(
        mail.reply_to[0].address,
        "support+noreply@demo.taquilla.test"
    );
    assert_eq!(mail.from.address, "support@demo.taquilla.test");
    // The reply, quoting the link, is refused whole: no ticket holds it.
    let r = app.osticket_create(
        Some(DEMO),
        "email",
        Some(&app.api_key),
        &reply_quoting(mail, "joan-1"),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.header("x-error-code"), Some("mail_no_reply"));
    assert_eq!(app.count_tickets(DEMO), 0);

    // With an administrator address, replies go to that person.
    set_admin_address(&app, "it-admin@demo.example.org");
    assert_eq!(forgot(&app, "jserra@demo.example.org").status, 202);
    let reset = mails_to(&app, "jserra@demo.example.org");
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0].reply_to[0].address, "it-admin@demo.example.org");
}
