//! The `Mailer` port: sends one complete MIME message.
//!
//! Composing the message (headers, bodies, threading) is the mail crate's
//! work; a `Mailer` only delivers the bytes it is given and reports the
//! Message-ID under which recipients will see the message. That id may differ
//! from the one the message carried: Amazon SES replaces it with its own.
//! Adapters: `OutboxMailer` (one `.eml` file per message) locally,
//! `SesMailer` (SES v2 `SendEmail` with raw content) on AWS.

use async_trait::async_trait;
use thiserror::Error;

/// A message ready to send: the envelope and the complete RFC 5322 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Envelope sender (bounce address).
    pub from: String,
    /// Envelope recipients, Bcc included.
    pub recipients: Vec<String>,
    /// The whole message: headers, blank line, body.
    pub raw: Vec<u8>,
}

/// What the mailer knows once a message is accepted for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    /// The Message-ID header value recipients see, with angle brackets.
    pub message_id: String,
    /// The provider's own id of the message (SES's `MessageId`, the outbox file name).
    pub provider_id: String,
}

/// What can go wrong when sending. Each variant has a stable [`code`](MailError::code).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MailError {
    /// The message or its envelope is malformed; sending it again will not help.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// The provider refused the message for good (e.g. a suppressed address).
    #[error("message rejected: {0}")]
    Rejected(String),
    /// The provider cannot be reached now; the message should be retried.
    #[error("mail unavailable: {0}")]
    Unavailable(String),
}

impl MailError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            MailError::InvalidMessage(_) => "invalid_message",
            MailError::Rejected(_) => "message_rejected",
            MailError::Unavailable(_) => "mail_unavailable",
        }
    }

    /// Whether sending the same message later may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, MailError::Unavailable(_))
    }
}

/// The outbound mail port.
///
/// Every adapter first calls [`validate`], so all refuse the same malformed
/// messages with [`MailError::InvalidMessage`].
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Hands the message to the provider; on success it will be delivered.
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError>;
}

/// Checks what every mailer needs before sending: a plausible envelope
/// (addresses with an `@` and no spaces, control characters, `<`, `>` or
/// `,`), at least one recipient, and bytes that are a message: a header
/// section of well-formed fields with a `From` field, then an empty line.
pub fn validate(mail: &OutgoingMail) -> Result<(), MailError> {
    validate_address("envelope sender", &mail.from)?;
    if mail.recipients.is_empty() {
        return Err(invalid("no recipients"));
    }
    for recipient in &mail.recipients {
        validate_address("recipient", recipient)?;
    }
    let header = header_section(&mail.raw)
        .ok_or_else(|| invalid("no empty line between header and body"))?;
    let fields = fields(header).ok_or_else(|| invalid("malformed header field"))?;
    if !fields
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("From"))
    {
        return Err(invalid("no From header field"));
    }
    Ok(())
}

/// The unfolded value of the first header field called `name` (any case),
/// trimmed; `None` if the message has no such field or no header section.
#[must_use]
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    fields(header_section(raw)?)?
        .into_iter()
        .find(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Whether the message ends its lines with CRLF (as it should) rather than LF.
#[must_use]
pub fn uses_crlf(raw: &[u8]) -> bool {
    raw.iter()
        .position(|&b| b == b'\n')
        .is_none_or(|i| i > 0 && raw[i - 1] == b'\r')
}

fn invalid(why: &str) -> MailError {
    MailError::InvalidMessage(why.to_owned())
}

fn validate_address(role: &str, address: &str) -> Result<(), MailError> {
    let plausible = address.len() <= 320
        && address
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && address
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b','));
    if plausible {
        Ok(())
    } else {
        Err(MailError::InvalidMessage(format!(
            "{role} {address:?} is not an address"
        )))
    }
}

/// The header section (without the empty line), if the message has one.
fn header_section(raw: &[u8]) -> Option<&[u8]> {
    let mut start = 0;
    while start < raw.len() {
        let end = raw[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| start + i);
        let line = &raw[start..end];
        if line.is_empty() || line == b"\r" {
            return (end < raw.len() && start > 0).then(|| &raw[..start]);
        }
        start = end + 1;
    }
    None
}

/// The fields of a header section, unfolded; `None` if a line is neither a
/// field (`name: value`, printable name) nor a continuation.
fn fields(header: &[u8]) -> Option<Vec<(String, String)>> {
    let text = String::from_utf8_lossy(header);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let (_, value) = fields.last_mut()?;
            value.push_str(line);
            continue;
        }
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        fields.push((name.to_owned(), value.to_owned()));
    }
    Some(
        fields
            .into_iter()
            .map(|(name, value)| (name, value.trim().to_owned()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(raw: &str) -> OutgoingMail {
        OutgoingMail {
            from: "bounces@example.org".into(),
            recipients: vec!["ana@example.net".into()],
            raw: raw.as_bytes().to_vec(),
        }
    }

    const GOOD: &str = "From: Help <help@example.org>\r\nTo: ana@example.net\r\n\
                        Message-ID:\r\n <1@example.org>\r\nSubject: hi\r\n\r\nbody\r\n";

    #[test]
    fn a_complete_message_is_valid() {
        assert_eq!(validate(&mail(GOOD)), Ok(()));
        assert_eq!(validate(&mail("From: a@b\n\n")), Ok(()));
    }

    #[test]
    fn headers_are_found_unfolded_in_any_case() {
        assert_eq!(
            header(GOOD.as_bytes(), "message-id").as_deref(),
            Some("<1@example.org>")
        );
        assert_eq!(header(GOOD.as_bytes(), "Cc"), None);
        assert_eq!(header(b"body only", "From"), None);
        assert!(uses_crlf(GOOD.as_bytes()));
        assert!(!uses_crlf(b"From: a@b\n\n"));
    }

    #[test]
    fn what_is_not_a_message_is_refused() {
        let mut no_recipients = mail(GOOD);
        no_recipients.recipients.clear();
        let mut bad_from = mail(GOOD);
        bad_from.from = "help@example.org\r\nBcc: x@y".into();
        let mut bad_rcpt = mail(GOOD);
        bad_rcpt.recipients.push("not an address".into());
        let cases = [
            mail(""),
            mail("From: a@b\r\nSubject: no body separator"),
            mail("\r\nbody without header"),
            mail("Subject: no from\r\n\r\nbody"),
            mail("From: a@b\r\nnot a field\r\n\r\nbody"),
            mail(" continuation first\r\nFrom: a@b\r\n\r\n"),
            no_recipients,
            bad_from,
            bad_rcpt,
        ];
        for (i, case) in cases.iter().enumerate() {
            assert!(
                matches!(validate(case), Err(MailError::InvalidMessage(_))),
                "case {i} was accepted"
            );
        }
    }
}
