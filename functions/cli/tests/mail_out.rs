//! Mail going out, end to end on the real binary: `taquilla pipe` opens and
//! threads tickets and sends what they owe into the outbox folder, whose
//! messages are parsed back as real MIME; `taquilla mail send-pending`
//! sends what is left. Every test works on a fresh demo data directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{demo, demo_id, number_in, pipe_with, run, taquilla, ticket_id, ticket_json, tokens};
use taquilla_mail::inbound::{self, ParsedMail};

const SUPPORT: &str = "support@demo.taquilla.test";
const ADMIN: &str = "admin@demo.taquilla.test";

/// `pipe` accepted `raw`: the line it printed.
fn pipe(data: &Path, raw: &[u8]) -> String {
    let piped = pipe_with(data, &["--instance", "demo", "--send"], raw);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    piped.stdout
}

/// The thread's event entries named `name`.
fn events(data: &Path, number: &str, name: &str) -> Vec<serde_json::Value> {
    ticket_json(data, number)["thread"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == name)
        .cloned()
        .collect()
}

/// One message of the outbox folder, parsed back.
struct Sent {
    mail: ParsedMail,
    /// The envelope recipients the outbox recorded (Bcc included).
    envelope: Vec<String>,
}

impl Sent {
    fn header(&self, name: &str) -> Option<&str> {
        self.mail
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    fn to(&self) -> Vec<&str> {
        self.mail.to.iter().map(|m| m.address.as_str()).collect()
    }
}

fn outbox_dir(data: &Path) -> PathBuf {
    data.join("outbox")
}

/// Every message in the outbox, oldest first.
fn outbox(data: &Path) -> Vec<Sent> {
    let mut names: Vec<PathBuf> = match std::fs::read_dir(outbox_dir(data)) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => return Vec::new(),
    };
    names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    names.sort();
    names
        .iter()
        .map(|path| {
            let raw = std::fs::read(path).unwrap();
            let mail = inbound::parse(&raw).unwrap();
            let envelope = mail
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("X-Taquilla-Envelope-To"))
                .map(|(_, v)| v.trim().to_owned())
                .collect();
            Sent { mail, envelope }
        })
        .collect()
}

/// The outbox messages addressed to `address`.
fn sent_to(data: &Path, address: &str) -> Vec<Sent> {
    outbox(data)
        .into_iter()
        .filter(|s| s.envelope.iter().any(|e| e == address))
        .collect()
}

fn mail(from: &str, to: &str, subject: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra_headers}\
         Date: Sat, 28 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Ana opens a ticket by mail to support@; its number.
fn ana_opens(data: &Path, extra_headers: &str) -> String {
    let line = pipe(
        data,
        &mail(
            "Ana Puig <ana@uni.example>",
            SUPPORT,
            "Wi-Fi down in the library",
            &format!("Message-ID: <first@uni.example>\r\n{extra_headers}"),
            "The eduroam network does not connect.",
        ),
    );
    assert!(line.starts_with("opened ticket"), "{line}");
    number_in(&line)
}

#[test]
fn a_mail_to_support_opens_a_ticket_and_the_user_gets_a_signed_auto_response() {
    let data = demo();
    let number = ana_opens(data.path(), "");
    let id = ticket_id(data.path(), &number);

    let to_ana = sent_to(data.path(), "ana@uni.example");
    assert_eq!(to_ana.len(), 1, "one auto-response");
    let reply = &to_ana[0];
    assert_eq!(reply.to(), ["ana@uni.example"]);
    assert_eq!(reply.mail.from.address, SUPPORT);
    let signed = tokens(data.path()).address(SUPPORT, &demo_id(), &id, "ana@uni.example");
    assert_eq!(reply.mail.reply_to[0].address, signed);
    assert!(
        reply.mail.subject.contains(&format!("[#{number}]")),
        "{}",
        reply.mail.subject
    );
    assert_eq!(reply.header("Auto-Submitted"), Some("auto-replied"));
    assert_eq!(reply.mail.in_reply_to, ["first@uni.example"]);
    let token = tokens(data.path()).token(&demo_id(), &id, "ana@uni.example");
    assert_eq!(
        inbound::body_marker(&reply.mail.text),
        Some(token.to_lowercase())
    );

    // The department's agents are alerted, by auto-generated mail.
    let alerts = sent_to(data.path(), ADMIN);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].header("Auto-Submitted"), Some("auto-generated"));
    assert!(alerts[0].mail.subject.contains("New ticket"));

    // The thread records both deliveries with the Message-ID sent.
    let sent = events(data.path(), &number, "mail_sent");
    assert_eq!(sent.len(), 2, "{sent:?}");
    let user_sent = sent
        .iter()
        .find(|e| e["data"]["audience"] == "user")
        .unwrap();
    assert_eq!(
        user_sent["data"]["message_id"].as_str().unwrap(),
        format!("<{}>", reply.mail.message_id.as_deref().unwrap())
    );
    assert_eq!(user_sent["data"]["template"], "new_ticket_autoresponse");
    // Nothing is left pending.
    let out = run(
        data.path(),
        &["mail", "send-pending", "--instance", "demo", "--all"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sent 0"));
}

#[test]
fn replying_to_the_auto_response_threads_into_the_ticket() {
    let data = demo();
    let number = ana_opens(data.path(), "");
    let auto = sent_to(data.path(), "ana@uni.example").remove(0);
    let reply_to = auto.mail.reply_to[0].address.clone();
    let their_id = auto.mail.message_id.clone().unwrap();

    // A reply to the Reply-To address, subject without the number.
    let line = pipe(
        data.path(),
        &mail(
            "ana@uni.example",
            &reply_to,
            "Re: the wifi",
            "Message-ID: <second@uni.example>\r\n",
            "It works on the second floor.",
        ),
    );
    assert_eq!(
        line,
        format!("added a message to ticket {number} (matched by token)")
    );
    // A reply naming only our Message-ID threads too.
    let line = pipe(
        data.path(),
        &mail(
            "ana@uni.example",
            SUPPORT,
            "Another thing",
            &format!("Message-ID: <third@uni.example>\r\nIn-Reply-To: <{their_id}>\r\n"),
            "And the printer.",
        ),
    );
    assert_eq!(
        line,
        format!("added a message to ticket {number} (matched by header)")
    );
    // Each person's message is acknowledged, threaded onto what came before.
    let to_ana = sent_to(data.path(), "ana@uni.example");
    assert_eq!(to_ana.len(), 3);
    assert!(to_ana[1].mail.subject.contains("Message received"));
    assert_eq!(to_ana[1].mail.in_reply_to, ["second@uni.example"]);
    assert!(to_ana[1].mail.references.contains(&their_id));
}

#[test]
fn an_auto_responder_answering_our_auto_response_stops_after_the_first() {
    let data = demo();
    let number = ana_opens(data.path(), "");
    for round in 1..=4 {
        let ours = sent_to(data.path(), "ana@uni.example");
        let last = ours.last().unwrap();
        let vacation = mail(
            "ana@uni.example",
            &last.mail.reply_to[0].address.clone(),
            &format!("Out of office: {}", last.mail.subject),
            &format!(
                "Message-ID: <away-{round}@uni.example>\r\nIn-Reply-To: <{}>\r\n\
                 Auto-Submitted: auto-replied\r\n",
                last.mail.message_id.as_deref().unwrap()
            ),
            "I am away until Monday.",
        );
        let line = pipe(data.path(), &vacation);
        assert!(line.contains(&format!("ticket {number}")), "{line}");
    }
    let to_ana = sent_to(data.path(), "ana@uni.example");
    assert_eq!(
        to_ana.len(),
        1,
        "only the new-ticket auto-response: {:?}",
        to_ana.iter().map(|s| &s.mail.subject).collect::<Vec<_>>()
    );
    let messages = ticket_json(data.path(), &number)["thread"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "message")
        .count();
    assert_eq!(messages, 5, "every auto-reply is kept in the thread");
}

#[test]
fn an_agent_response_by_mail_goes_to_the_user_and_the_collaborators() {
    let data = demo();
    let line = pipe(
        data.path(),
        &mail(
            "Ana Puig <ana@uni.example>",
            SUPPORT,
            "Certificate",
            "Cc: Biel <biel@uni.example>\r\nMessage-ID: <cert@uni.example>\r\n",
            "I need my certificate.",
        ),
    );
    let number = number_in(&line);
    let alert = sent_to(data.path(), ADMIN).remove(0);
    let agent_reply_to = alert.mail.reply_to[0].address.clone();
    let line = pipe(
        data.path(),
        &mail(
            ADMIN,
            &agent_reply_to,
            &alert.mail.subject,
            "Message-ID: <agent-1@demo.taquilla.test>\r\n",
            "It is ready at the front desk.",
        ),
    );
    assert!(line.contains("response"), "{line}");
    let responses: Vec<Sent> = outbox(data.path())
        .into_iter()
        .filter(|s| s.mail.text.contains("It is ready at the front desk."))
        .collect();
    assert_eq!(responses.len(), 1);
    let response = &responses[0];
    assert_eq!(response.to(), ["ana@uni.example"]);
    let cc: Vec<&str> = response
        .mail
        .cc
        .iter()
        .map(|m| m.address.as_str())
        .collect();
    assert_eq!(cc, ["biel@uni.example"]);
    assert_eq!(response.envelope, ["ana@uni.example", "biel@uni.example"]);
    assert_eq!(
        response.header("Auto-Submitted"),
        None,
        "written by a person"
    );
    assert!(response.mail.subject.contains(&format!("[#{number}]")));
    // The agent who answered gets no alert about their own response.
    assert_eq!(sent_to(data.path(), ADMIN).len(), 1);
}

#[test]
fn a_mailer_failure_keeps_the_ticket_and_the_mail_until_a_later_run_sends_it() {
    let data = demo();
    // The outbox folder cannot be written: a file stands where it should be.
    let dir = outbox_dir(data.path());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::write(&dir, b"not a folder").unwrap();

    let number = ana_opens(data.path(), "");
    let shown = ticket_json(data.path(), &number);
    assert_eq!(shown["ticket"]["subject"], "Wi-Fi down in the library");
    let deferred = events(data.path(), &number, "mail_deferred");
    assert!(!deferred.is_empty(), "the failure is in the thread");
    assert!(
        deferred[0]["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("mail_unavailable")
    );
    assert!(events(data.path(), &number, "mail_sent").is_empty());

    // Still failing: the operator's run says so.
    let out = taquilla(data.path())
        .args(["mail", "send-pending", "--instance", "demo", "--all"])
        .output()
        .unwrap();
    assert!(!out.status.success());

    // Fixed: a later run sends everything that was owed.
    std::fs::remove_file(&dir).unwrap();
    run(
        data.path(),
        &["mail", "send-pending", "--instance", "demo", "--all"],
    );
    let to_ana = sent_to(data.path(), "ana@uni.example");
    assert_eq!(to_ana.len(), 1);
    assert!(to_ana[0].mail.subject.contains(&format!("[#{number}]")));
    assert_eq!(sent_to(data.path(), ADMIN).len(), 1);
    assert_eq!(events(data.path(), &number, "mail_sent").len(), 2);
    // Nothing is sent twice.
    run(
        data.path(),
        &["mail", "send-pending", "--instance", "demo", "--all"],
    );
    assert_eq!(outbox(data.path()).len(), 2);
}

#[test]
fn a_bounce_is_never_answered() {
    let data = demo();
    let number = ana_opens(data.path(), "");
    let id = ticket_id(data.path(), &number);
    let before = outbox(data.path()).len();
    let token = tokens(data.path()).token(&demo_id(), &id, "ana@uni.example");
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.uni.example>\r\n\
         To: support+{token}@demo.taquilla.test\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <bounce-1@mx.uni.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.uni.example\r\n\r\n\
         Final-Recipient: rfc822; ana@uni.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         --B--\r\n"
    );
    let line = pipe(data.path(), dsn.as_bytes());
    assert!(line.starts_with("delivery failure"), "{line}");
    let after = outbox(data.path());
    assert!(
        after.iter().all(|s| !s
            .envelope
            .iter()
            .any(|e| e.to_lowercase().contains("mailer-daemon"))),
        "nothing goes to the bounce's sender"
    );
    assert_eq!(sent_to(data.path(), "ana@uni.example").len(), 1);
    // The agents hear of it (the note alert), the user does not.
    assert!(after.len() <= before + 1);
}
