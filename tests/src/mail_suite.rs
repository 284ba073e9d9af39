//! The conformance suite of the `Mailer` port, written once and run against
//! every adapter (`it/mailer.rs` instantiates each case per adapter).
//!
//! Each adapter comes with a way to read back what it delivered: the outbox
//! files, or what the emulator recorded of SES `SendEmail` calls.

use std::sync::Arc;

use async_trait::async_trait;
use taquilla_core::mailer::{self, MailError, Mailer, OutgoingMail, SentMail};

/// Reads back what an adapter delivered.
#[async_trait]
pub trait Delivered: Send + Sync + std::fmt::Debug {
    /// The envelope and bytes recorded for the message `send` reported as `sent`.
    async fn recorded(&self, sent: &SentMail) -> OutgoingMail;
    /// How many messages the target has delivered so far.
    async fn count(&self) -> usize;
}

/// Which Message-ID recipients see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageIds {
    /// The message's own (the outbox adds `<…@taquilla.local>` if it has none).
    Kept,
    /// The provider's: `<{provider_id}@{domain}>` (SES).
    Replaced { domain: String },
}

/// An adapter under test.
#[derive(Debug, Clone)]
pub struct MailTarget {
    pub mailer: Arc<dyn Mailer>,
    pub delivered: Arc<dyn Delivered>,
    /// An address the adapter may send from (SES: in a verified domain).
    pub sender: String,
    pub message_ids: MessageIds,
}

/// Line ending of every message this suite builds.
const CRLF: &str = "\r\n";

/// A real multipart message: a UTF-8 subject as an RFC 2047 encoded word,
/// a quoted-printable text part and a base64 PDF attachment.
#[must_use]
pub fn multipart_message(from: &str, to: &str, message_id: Option<&str>) -> Vec<u8> {
    let id_field = message_id.map_or_else(String::new, |id| format!("Message-ID: {id}{CRLF}"));
    let lines = [
        &format!("From: =?UTF-8?Q?Oficina_de_Relaciones_Internacionales?= <{from}>"),
        &format!("To: Ana =?UTF-8?Q?Mu=C3=B1oz?= <{to}>"),
        "Subject: =?UTF-8?Q?Se=C3=B1al_recibida_=E2=9C=93_=5B=2342=5D?=",
        "Date: Sat, 28 Nov 2026 22:48:00 +0000",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"=_taquilla_b1\"",
        "",
        "This is a multi-part message in MIME format.",
        "",
        "--=_taquilla_b1",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Hola Ana, hemos recibido tu solicitud (n=C2=BA 42).",
        "Un saludo.",
        "",
        "--=_taquilla_b1",
        "Content-Type: application/pdf; name=\"resumen.pdf\"",
        "Content-Disposition: attachment; filename=\"resumen.pdf\"",
        "Content-Transfer-Encoding: base64",
        "",
        "JVBERi0xLjcKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWls",
        "ZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==",
        "--=_taquilla_b1--",
        "",
    ];
    let mut raw = id_field;
    raw.push_str(&lines.join(CRLF));
    raw.into_bytes()
}

fn mail(t: &MailTarget, raw: Vec<u8>) -> OutgoingMail {
    OutgoingMail {
        from: t.sender.clone(),
        recipients: vec![
            "ana@example.net".to_owned(),
            "archive@example.org".to_owned(),
        ],
        raw,
    }
}

fn check_message_id(t: &MailTarget, sent: &SentMail, own: Option<&str>) {
    assert!(!sent.provider_id.is_empty());
    match (&t.message_ids, own) {
        (MessageIds::Kept, Some(own)) => assert_eq!(sent.message_id, own),
        (MessageIds::Kept, None) => {
            assert!(
                sent.message_id.starts_with('<') && sent.message_id.ends_with("@taquilla.local>"),
                "{}",
                sent.message_id
            );
        }
        (MessageIds::Replaced { domain }, _) => {
            assert_eq!(sent.message_id, format!("<{}@{domain}>", sent.provider_id));
        }
    }
}

/// A multipart message goes out byte for byte, to the envelope, and the
/// Message-ID recipients will see is reported.
pub async fn multipart_message_is_delivered_byte_for_byte(t: &MailTarget) {
    let own_id = "<ticket-42.r1@help.example.org>";
    let raw = multipart_message(&t.sender, "ana@example.net", Some(own_id));
    let outgoing = mail(t, raw.clone());
    let sent = t.mailer.send(&outgoing).await.unwrap();
    check_message_id(t, &sent, Some(own_id));

    let recorded = t.delivered.recorded(&sent).await;
    assert_eq!(
        recorded.raw, raw,
        "the delivered bytes differ from what was sent"
    );
    assert_eq!(recorded.from, outgoing.from);
    for recipient in &outgoing.recipients {
        assert!(
            recorded.recipients.contains(recipient),
            "{recipient} missing from {:?}",
            recorded.recipients
        );
    }
}

/// A message without a Message-ID still gets one, and is otherwise
/// delivered as given.
pub async fn a_message_without_message_id_gets_one(t: &MailTarget) {
    let raw = multipart_message(&t.sender, "ana@example.net", None);
    let sent = t.mailer.send(&mail(t, raw.clone())).await.unwrap();
    check_message_id(t, &sent, None);
    let recorded = t.delivered.recorded(&sent).await;
    assert!(recorded.raw.ends_with(&raw));
    if t.message_ids == MessageIds::Kept {
        assert_eq!(
            mailer::header(&recorded.raw, "Message-ID").as_deref(),
            Some(sent.message_id.as_str())
        );
    }
}

/// Each message gets its own provider id and Message-ID.
pub async fn each_message_gets_its_own_ids(t: &MailTarget) {
    let raw = multipart_message(&t.sender, "ana@example.net", None);
    let first = t.mailer.send(&mail(t, raw.clone())).await.unwrap();
    let second = t.mailer.send(&mail(t, raw)).await.unwrap();
    assert_ne!(first.provider_id, second.provider_id);
    assert_ne!(first.message_id, second.message_id);
}

/// What is not a message, or has no usable envelope, is refused with
/// `InvalidMessage` before anything is sent.
pub async fn invalid_messages_are_refused_and_not_sent(t: &MailTarget) {
    let good = multipart_message(&t.sender, "ana@example.net", Some("<x@y>"));
    let with_raw = |raw: &[u8]| mail(t, raw.to_vec());
    let mut no_recipients = with_raw(&good);
    no_recipients.recipients.clear();
    let mut injected_sender = with_raw(&good);
    injected_sender.from = format!("{}\r\nBcc: victim@example.net", t.sender);
    let mut bad_recipient = with_raw(&good);
    bad_recipient.recipients = vec!["ana at example.net".to_owned()];
    let cases = [
        ("empty", with_raw(b"")),
        (
            "no separator",
            with_raw(b"From: a@example.org\r\nSubject: hi"),
        ),
        ("body only", with_raw(b"hello, is this a message?\r\n")),
        (
            "no From",
            with_raw(b"To: ana@example.net\r\nSubject: hi\r\n\r\nbody\r\n"),
        ),
        (
            "garbage field",
            with_raw(b"From: a@example.org\r\n\x01\x02 nonsense\r\n\r\nbody"),
        ),
        ("no recipients", no_recipients),
        ("injected sender", injected_sender),
        ("bad recipient", bad_recipient),
    ];
    let before = t.delivered.count().await;
    for (name, case) in cases {
        let result = t.mailer.send(&case).await;
        assert!(
            matches!(result, Err(MailError::InvalidMessage(_))),
            "{name}: {result:?}"
        );
    }
    assert_eq!(
        t.delivered.count().await,
        before,
        "a refused message was delivered"
    );
}
