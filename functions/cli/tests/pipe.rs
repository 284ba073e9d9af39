//! `taquilla pipe` as a mail server runs it: one process per message, the
//! message on standard input, the exit status read by the server. Every
//! test works on a fresh data directory with the demo instance.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Piped, demo, number_in, pipe_with, run, taquilla, ticket_json, tokens};
use taquilla_core::domain::{InstanceId, TicketId};

fn pipe_to(data: &Path, instance: &str, raw: &[u8]) -> Piped {
    pipe_with(data, &["--instance", instance], raw)
}

fn pipe(data: &Path, raw: &[u8]) -> Piped {
    pipe_to(data, "demo", raw)
}

/// `pipe` accepted the message: the line it printed.
fn accepted(data: &Path, raw: &[u8]) -> String {
    let piped = pipe(data, raw);
    assert_eq!(piped.code, 0, "{} {}", piped.stdout, piped.stderr);
    piped.stdout
}

/// The entries of `kind` (message, response, note, event) of a shown ticket.
fn entries_of(shown: &serde_json::Value, kind: &str) -> Vec<serde_json::Value> {
    shown["thread"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

fn open_tickets(data: &Path) -> Vec<serde_json::Value> {
    let out = run(data, &["ticket", "list", "--instance", "demo", "--json"]);
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    page["items"].as_array().unwrap().clone()
}

/// A plain message.
fn mail(from: &str, to: &str, subject: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n{extra_headers}\
         Date: Sat, 28 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mail-corpus");
    assert!(
        dir.is_dir(),
        "the mail corpus is missing: {} (tests/fixtures/mail-corpus)",
        dir.display()
    );
    dir
}

#[test]
fn the_whole_corpus_goes_through_pipe_without_a_failure() {
    let data = demo();
    let mut files: Vec<PathBuf> = Vec::new();
    for folder in ["rfc", "legacy", "thirdparty", "malformed"] {
        for entry in std::fs::read_dir(corpus().join(folder)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    assert!(files.len() >= 100, "{} files", files.len());
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut opened = 0;
    for file in &files {
        let raw = std::fs::read(file).unwrap();
        let piped = pipe(data.path(), &raw);
        let kind = match piped.code {
            0 => piped
                .stdout
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned(),
            65 => {
                // Refused for good, with its reason's code.
                let code = piped
                    .stderr
                    .split(['(', ')'])
                    .nth(1)
                    .unwrap_or("?")
                    .to_owned();
                format!("rejected:{code}")
            }
            other => panic!(
                "{}: exit {other}: {} {}",
                file.display(),
                piped.stdout,
                piped.stderr
            ),
        };
        if kind == "opened" {
            opened += 1;
        }
        *counts.entry(kind).or_default() += 1;
    }
    println!(
        "corpus through taquilla pipe ({} messages): {counts:?}",
        files.len()
    );
    // Every message became a ticket, joined one, or was refused for
    // having no sender; none was lost or crashed the process.
    for kind in counts.keys() {
        assert!(
            [
                "opened",
                "added",
                "already",
                "delivery",
                "kept",
                "rejected:mail_no_sender"
            ]
            .contains(&kind.as_str()),
            "unexpected outcome {kind}: {counts:?}"
        );
    }
    assert!(opened >= 60, "{counts:?}");
    assert_eq!(open_tickets(data.path()).len(), opened);

    // A message with a RFC 2047 subject and a Latin-1 body.
    let raw = std::fs::read(corpus().join("rfc/000.eml")).ok();
    if let Some(raw) = raw {
        let again = pipe(data.path(), &raw);
        assert!(
            again.stdout.starts_with("already received"),
            "{}",
            again.stdout
        );
    }
}

#[test]
fn a_new_message_opens_a_ticket_in_its_mailboxs_department_with_its_copies() {
    let data = demo();
    let raw = mail(
        "Laia Puig <laia@uni.example>",
        "academic@demo.taquilla.test",
        "=?ISO-8859-1?Q?Certificat_acad=E8mic?=",
        "Cc: Joan <joan@uni.example>, support@demo.taquilla.test\r\nMessage-ID: <first@uni.example>\r\n",
        "Necessito un certificat.",
    );
    let line = accepted(data.path(), &raw);
    assert!(line.starts_with("opened ticket "), "{line}");
    let shown = ticket_json(data.path(), &number_in(&line));
    let ticket = &shown["ticket"];
    assert_eq!(ticket["subject"], "Certificat acadèmic");
    assert_eq!(ticket["source"], "email");
    assert_eq!(ticket["department"], 2, "routed by the academic mailbox");
    // Joan is copied; our own mailbox is not a collaborator.
    assert_eq!(ticket["collaborators"].as_array().unwrap().len(), 1);
    let first = &shown["thread"][0];
    assert_eq!(first["body_text"], "Necessito un certificat.");
    assert_eq!(first["data"]["message_id"], "first@uni.example");
}

#[test]
fn the_same_message_delivered_twice_creates_one_ticket() {
    let data = demo();
    let raw = mail(
        "ana@uni.example",
        "support@demo.taquilla.test",
        "Wi-Fi",
        "Message-ID: <twice@uni.example>\r\n",
        "No connection.",
    );
    let first = accepted(data.path(), &raw);
    let second = accepted(data.path(), &raw);
    assert!(first.starts_with("opened ticket"), "{first}");
    assert_eq!(
        second,
        format!("already received (ticket {})", number_in(&first))
    );
    // Without a Message-ID, the content hash dedupes.
    let bare = mail(
        "ana@uni.example",
        "support@demo.taquilla.test",
        "No id",
        "",
        "x",
    );
    accepted(data.path(), &bare);
    assert!(accepted(data.path(), &bare).starts_with("already received"));
    assert_eq!(open_tickets(data.path()).len(), 2);
}

#[test]
fn replies_thread_by_token_header_marker_and_subject() {
    let data = demo();
    let opened = accepted(
        data.path(),
        &mail(
            "ana@uni.example",
            "support@demo.taquilla.test",
            "Printer",
            "Message-ID: <root@uni.example>\r\n",
            "It jams.",
        ),
    );
    let number = number_in(&opened);
    let shown = ticket_json(data.path(), &number);
    let id = TicketId::parse(shown["ticket"]["id"].as_str().unwrap()).unwrap();
    let demo_id = InstanceId::parse("demo").unwrap();
    let token = tokens(data.path()).token(&demo_id, &id, "ana@uni.example");

    // 1. The signed token in the address.
    let by_token = accepted(
        data.path(),
        &mail(
            "ana@uni.example",
            &format!("support+{token}@demo.taquilla.test"),
            "Re: your answer",
            "",
            "Still jams.",
        ),
    );
    assert_eq!(
        by_token,
        format!("added a message to ticket {number} (matched by token)")
    );
    // 2. In-Reply-To naming the first message.
    let by_header = accepted(
        data.path(),
        &mail(
            "ana@uni.example",
            "support@demo.taquilla.test",
            "Re: Printer",
            "In-Reply-To: <root@uni.example>\r\n",
            "Any news?",
        ),
    );
    assert_eq!(
        by_header,
        format!("added a message to ticket {number} (matched by header)")
    );
    // 3. The marker in the body (quoted by the user's client).
    let by_marker = accepted(
        data.path(),
        &mail(
            "ana@uni.example",
            "support@demo.taquilla.test",
            "Printer again",
            "",
            &format!("Hello?\r\n\r\n> Your request\r\n> [ref:{token}]"),
        ),
    );
    assert_eq!(
        by_marker,
        format!("added a message to ticket {number} (matched by marker)")
    );
    // 4. The number in the subject, from the ticket's user.
    let by_subject = accepted(
        data.path(),
        &mail(
            "ana@uni.example",
            "support@demo.taquilla.test",
            &format!("RE: [#{number}] Printer"),
            "",
            "Thanks!",
        ),
    );
    assert_eq!(
        by_subject,
        format!("added a message to ticket {number} (matched by subject)")
    );
    assert_eq!(
        entries_of(&ticket_json(data.path(), &number), "message").len(),
        5
    );

    // Someone else using the token, the header or the number opens a new
    // ticket linked to this one, never joins it.
    for (to, subject, headers) in [
        (
            format!("support+{token}@demo.taquilla.test"),
            "Re: x".to_owned(),
            "",
        ),
        (
            "support@demo.taquilla.test".into(),
            "Re: x".into(),
            "In-Reply-To: <root@uni.example>\r\n",
        ),
        (
            "support@demo.taquilla.test".into(),
            format!("[#{number}]"),
            "",
        ),
    ] {
        let line = accepted(
            data.path(),
            &mail(
                "eve@elsewhere.example",
                &to,
                &subject,
                headers,
                "Let me in.",
            ),
        );
        assert!(
            line.starts_with("opened ticket ")
                && line.ends_with(&format!("(possibly related to {number})")),
            "{line}"
        );
        let other = ticket_json(data.path(), &number_in(&line));
        assert_eq!(other["ticket"]["links"][0], id.as_str(), "{other}");
    }
    let messages = entries_of(&ticket_json(data.path(), &number), "message").len();
    assert_eq!(messages, 5, "no stranger's message joined the thread");
}

#[test]
fn an_agents_mail_reply_is_a_response_or_with_the_prefix_a_note() {
    let data = demo();
    let opened = accepted(
        data.path(),
        &mail(
            "ana@uni.example",
            "support@demo.taquilla.test",
            "VPN",
            "Message-ID: <vpn@uni.example>\r\n",
            "VPN down.",
        ),
    );
    let number = number_in(&opened);
    let response = accepted(
        data.path(),
        &mail(
            "Demo Admin <admin@demo.taquilla.test>",
            "support@demo.taquilla.test",
            "Re: VPN",
            "In-Reply-To: <vpn@uni.example>\r\n",
            "Restarted it, try now.",
        ),
    );
    assert_eq!(
        response,
        format!("added a response to ticket {number} (matched by header)")
    );
    let note = accepted(
        data.path(),
        &mail(
            "admin@demo.taquilla.test",
            "support@demo.taquilla.test",
            &format!("Re: [#{number}] VPN"),
            "",
            "#note the gateway needs a new certificate",
        ),
    );
    assert_eq!(
        note,
        format!("added a note to ticket {number} (matched by subject)")
    );
    let shown = ticket_json(data.path(), &number);
    let kinds: Vec<&str> = shown["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|kind| *kind != "event")
        .collect();
    assert_eq!(kinds, ["message", "response", "note"]);
    assert_eq!(shown["ticket"]["answered"], true);
}

#[test]
fn a_bounce_is_noted_in_its_ticket_and_never_answered() {
    let data = demo();
    let opened = accepted(
        data.path(),
        &mail(
            "ana@uni.example",
            "support@demo.taquilla.test",
            "Locker",
            "",
            "Lost key.",
        ),
    );
    let number = number_in(&opened);
    let id = TicketId::parse(
        ticket_json(data.path(), &number)["ticket"]["id"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let token =
        tokens(data.path()).token(&InstanceId::parse("demo").unwrap(), &id, "ana@uni.example");
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.uni.example>\r\n\
         To: support+{token}@demo.taquilla.test\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.uni.example\r\n\r\n\
         Final-Recipient: rfc822; ana@uni.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\
         --B--\r\n"
    );
    let line = accepted(data.path(), dsn.as_bytes());
    assert_eq!(
        line,
        format!("delivery failure for ana@uni.example recorded in ticket {number}")
    );
    let shown = ticket_json(data.path(), &number);
    let notes = entries_of(&shown, "note");
    assert_eq!(notes.len(), 1, "{shown}");
    let last = notes[0].clone();
    let text = last["body_text"].as_str().unwrap();
    assert!(
        text.contains("ana@uni.example") && text.contains("5.1.1"),
        "{text}"
    );
    // The same report again changes nothing.
    assert!(accepted(data.path(), dsn.as_bytes()).starts_with("already received"));
}

#[test]
fn attachments_over_the_limit_are_refused_and_noted() {
    let data = demo();
    let mut body = String::from(
        "From: ana@uni.example\r\nTo: support@demo.taquilla.test\r\nSubject: Photos\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"X\"\r\n\r\n\
         --X\r\nContent-Type: text/plain\r\n\r\nHere they are.\r\n",
    );
    for n in 1..=21 {
        body.push_str(&format!(
            "--X\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"p{n}.png\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        ));
    }
    body.push_str("--X--\r\n");
    let line = accepted(data.path(), body.as_bytes());
    let shown = ticket_json(data.path(), &number_in(&line));
    let thread = shown["thread"].as_array().unwrap();
    assert_eq!(thread[0]["attachments"].as_array().unwrap().len(), 20);
    let note = thread.iter().find(|e| e["kind"] == "note").expect("a note");
    let text = note["body_text"].as_str().unwrap();
    assert!(text.contains("p21.png (more than 20 files)"), "{text}");
}

#[test]
fn exit_statuses_tell_the_mail_server_what_to_do() {
    let data = demo();
    // No such instance: 67, the server bounces.
    let piped = pipe_to(
        data.path(),
        "nowhere",
        &mail("a@b.example", "x@y.example", "s", "", "b"),
    );
    assert_eq!(piped.code, 67, "{}", piped.stderr);
    // No sender: 65, refused for good.
    let piped = pipe(data.path(), b"Subject: who?\r\n\r\nbody\r\n");
    assert_eq!(piped.code, 65, "{}", piped.stderr);
    assert!(piped.stderr.contains("mail_no_sender"), "{}", piped.stderr);
    // Nothing at all: 65.
    assert_eq!(pipe(data.path(), b"").code, 65);
    // Our own mail coming back: refused, it would loop.
    let own = mail(
        "support@demo.taquilla.test",
        "support@demo.taquilla.test",
        "Loop",
        "",
        "x",
    );
    let piped = pipe(data.path(), &own);
    assert_eq!(piped.code, 65);
    assert!(piped.stderr.contains("mail_loop"), "{}", piped.stderr);
    assert!(open_tickets(data.path()).is_empty());

    // The store cannot be opened: 75, the server keeps the message and retries.
    let broken = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(broken.path().join("taquilla.db")).unwrap();
    let piped = pipe(
        broken.path(),
        &mail("a@b.example", "x@y.example", "s", "", "b"),
    );
    assert_eq!(piped.code, 75, "{} {}", piped.stdout, piped.stderr);
}

#[test]
fn a_message_that_cannot_be_processed_is_kept_listed_and_replayed() {
    let data = demo();
    // This shape trips a debug assertion inside the MIME parser (test
    // builds); release builds parse it.
    let raw = b"From: Llista <llista@example.org>\r\n\
Subject: Resum diari\r\n\
Content-Type: multipart/digest; boundary=1\r\n\
\r\n\
--1\r\n\
\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
\r\n\
--1--";
    let piped = pipe(data.path(), raw);
    if !cfg!(debug_assertions) {
        return;
    }
    assert_eq!(piped.code, 0, "kept is safe with us: {}", piped.stderr);
    assert!(
        piped.stdout.starts_with("kept for review as "),
        "{}",
        piped.stdout
    );
    let listed =
        String::from_utf8(run(data.path(), &["mail", "kept", "--instance", "demo"]).stdout)
            .unwrap();
    assert!(listed.contains("mail_malformed"), "{listed}");
    let id = listed.split('\t').next().unwrap().to_owned();
    // Still failing: the replay says so and keeps it again.
    let out = taquilla(data.path())
        .args(["mail", "replay", "--instance", "demo", &id])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let listed = String::from_utf8(
        run(
            data.path(),
            &["mail", "kept", "--instance", "demo", "--json"],
        )
        .stdout,
    )
    .unwrap();
    let kept: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        kept.as_array().unwrap().len(),
        1,
        "kept once, under a new id"
    );
    assert_ne!(kept[0]["id"], id.as_str());
}

#[test]
fn quoted_history_is_stored_whole_and_folded_away_in_display() {
    let data = demo();
    let opened = accepted(
        data.path(),
        &mail(
            "ana@uni.example",
            "support@demo.taquilla.test",
            "Moodle",
            "Message-ID: <moodle@uni.example>\r\n",
            "I cannot log in to Moodle.",
        ),
    );
    let number = number_in(&opened);
    let reply = mail(
        "ana@uni.example",
        "support@demo.taquilla.test",
        "Re: Moodle",
        "In-Reply-To: <moodle@uni.example>\r\n",
        "It works again, thanks.\r\n\r\nEl dv., 27 de nov. 2026, a les 10:00, Suport <support@demo.taquilla.test> va escriure:\r\n> Please try now.\r\n> Regards",
    );
    accepted(data.path(), &reply);
    let shown = ticket_json(data.path(), &number);
    let entry = entries_of(&shown, "message").last().unwrap().clone();
    let html = entry["body_html"].as_str().unwrap();
    let (shown_part, folded) = html.split_once("<details>").expect("the history is folded");
    assert!(shown_part.contains("It works again, thanks."), "{html}");
    assert!(!shown_part.contains("Please try now"), "{html}");
    assert!(
        folded.contains("Please try now") && folded.contains("va escriure"),
        "{html}"
    );
    let text = entry["body_text"].as_str().unwrap();
    assert!(
        text.contains("It works again") && text.contains("Please try now"),
        "{text}"
    );
}
