//! Mail that no person wrote: auto-replies, bulk and list mail, delivery
//! status notifications, and what SES's scanners flagged.
//!
//! The pipeline asks [`classify`] before it answers anything: answering an
//! auto-reply or a bounce starts a mail loop, answering a list spams it.
//! Only headers and the DSN's machine-readable part count; a subject alone
//! ("Out of office") never classifies a message, because people write such
//! subjects too.

use serde::Serialize;

use super::mail::ParsedMail;

/// What kind of mail a message is, the most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A delivery status notification (bounce or delay report).
    Bounce,
    /// Written by a program on someone's behalf: vacation notices,
    /// auto-responders, read receipts, notifications (RFC 3834).
    AutoReply,
    /// Sent to many: mailing lists, newsletters, marketing.
    Bulk,
    /// None of the above: presumably a person.
    Regular,
}

/// A verdict from one of the scanners SES runs on received mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing found.
    Pass,
    /// Spam, or a virus.
    Fail,
    /// Could not tell.
    Gray,
    /// The scan failed.
    ProcessingFailed,
    /// Scanning is off for the receipt rule.
    Disabled,
    /// A value SES does not document, as written.
    Other(String),
}

impl Verdict {
    /// A verdict as SES writes it (`PASS`, `FAIL`, `GRAY`, ...), in any case.
    #[must_use]
    pub fn parse(value: &str) -> Verdict {
        match value.trim().to_ascii_uppercase().as_str() {
            "PASS" => Verdict::Pass,
            "FAIL" => Verdict::Fail,
            "GRAY" | "GREY" => Verdict::Gray,
            "PROCESSING_FAILED" => Verdict::ProcessingFailed,
            "DISABLED" => Verdict::Disabled,
            _ => Verdict::Other(value.trim().to_owned()),
        }
    }
}

/// One recipient a delivery status notification reports on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedRecipient {
    /// Final-Recipient (or Original-Recipient), without its address type,
    /// lower case.
    pub address: String,
    /// Action: `failed`, `delayed`, `delivered`, `relayed` or `expanded`.
    pub action: Option<String>,
    /// The enhanced status code (RFC 3463), e.g. `5.1.1`.
    pub status: Option<String>,
    /// Diagnostic-Code without its type, e.g. `550 5.1.1 user unknown`.
    pub diagnostic: Option<String>,
}

impl FailedRecipient {
    /// Whether delivery to this recipient failed for good (action `failed`
    /// or a 5.x.x status), as opposed to a delay that may still resolve.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        self.action.as_deref() == Some("failed")
            || self.status.as_deref().is_some_and(|s| s.starts_with('5'))
    }
}

/// What a bounce says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bounce {
    /// Reporting-MTA, without its type.
    pub reporting_mta: Option<String>,
    /// The recipients reported on: from the `message/delivery-status` part,
    /// or from Exim's X-Failed-Recipients.
    pub recipients: Vec<FailedRecipient>,
}

impl Bounce {
    /// Whether any recipient failed for good.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        self.recipients.iter().any(FailedRecipient::is_permanent)
    }
}

/// What [`classify`] found, with every signal that led there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// The most specific kind found.
    pub kind: MailKind,
    /// A program wrote it (see [`MailKind::AutoReply`]).
    pub auto_reply: bool,
    /// It went to many (see [`MailKind::Bulk`]).
    pub bulk: bool,
    /// The delivery report, when it is a bounce.
    pub bounce: Option<Bounce>,
    /// The sender asked for no automatic answers (Exchange's
    /// X-Auto-Response-Suppress); the mail itself may be a person's.
    pub suppress_auto_response: bool,
    /// SES's spam verdict (X-SES-Spam-Verdict); FAIL wins over any other.
    pub spam: Option<Verdict>,
    /// SES's virus verdict (X-SES-Virus-Verdict); FAIL wins over any other.
    pub virus: Option<Verdict>,
    /// Why, as `header: value` lines, for logs and for agents.
    pub signals: Vec<String>,
}

impl Classification {
    /// Whether SES judged it spam.
    #[must_use]
    pub fn is_spam(&self) -> bool {
        self.spam == Some(Verdict::Fail)
    }

    /// Whether SES found a virus.
    #[must_use]
    pub fn has_virus(&self) -> bool {
        self.virus == Some(Verdict::Fail)
    }

    /// Whether an automatic answer (auto-response, alert to the user) may
    /// be sent: only to regular mail that asked for none of it and that
    /// SES did not flag.
    #[must_use]
    pub fn may_auto_respond(&self) -> bool {
        self.kind == MailKind::Regular
            && !self.suppress_auto_response
            && !self.is_spam()
            && !self.has_virus()
    }
}

/// Subject openings of vacation and auto-reply notices, lower case, in the
/// languages our users write. Used only when a header backs them.
const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "away from",
    "vacation",
    "respuesta automática",
    "respuesta automatica",
    "fuera de la oficina",
    "fuera de oficina",
    "ausente",
    "ausencia",
    "resposta automàtica",
    "resposta automatica",
    "fora de l'oficina",
    "fora de l’oficina",
    "absent",
    "absència",
    "réponse automatique",
    "abwesenheit",
    "automatische antwort",
];

/// Classifies `mail`; see [`Classification`].
#[must_use]
pub fn classify(mail: &ParsedMail) -> Classification {
    let mut signals = Vec::new();
    let mut signal = |name: &str, value: &str| signals.push(format!("{name}: {value}"));

    // Auto-replies and other program-written mail.
    let mut auto_reply = false;
    for value in mail.header_values("Auto-Submitted") {
        let kind = value.split(';').next().unwrap_or_default().trim();
        if !kind.is_empty() && !kind.eq_ignore_ascii_case("no") {
            auto_reply = true;
            signal("Auto-Submitted", value);
        }
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autogenerated"] {
        for value in mail.header_values(name) {
            let v = value.trim();
            if !(v.eq_ignore_ascii_case("no") || v.eq_ignore_ascii_case("false")) {
                auto_reply = true;
                signal(name, value);
            }
        }
    }
    let precedence: Vec<String> = mail
        .header_values("Precedence")
        .map(|v| v.trim().to_ascii_lowercase())
        .collect();
    if precedence.iter().any(|p| p == "auto_reply") {
        auto_reply = true;
        signal("Precedence", "auto_reply");
    }
    let suppress: Vec<&str> = mail
        .header_values("X-Auto-Response-Suppress")
        .filter(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("none"))
        .collect();
    let suppress_auto_response = !suppress.is_empty();
    if let Some(value) = suppress.first() {
        signal("X-Auto-Response-Suppress", value);
    }
    let null_return_path = mail
        .header_values("Return-Path")
        .any(|v| matches!(v.trim(), "" | "<>"));
    let subject = mail.subject.to_lowercase();
    let vacation_subject = AUTO_REPLY_SUBJECTS.iter().any(|s| subject.starts_with(s));
    if vacation_subject && (suppress_auto_response || null_return_path || !precedence.is_empty()) {
        auto_reply = true;
        signal("Subject", &mail.subject);
    }

    // Reports: delivery status (bounces) and others (read receipts...).
    let content_type = mail
        .header("Content-Type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let report_type = (content_type.trim_start().starts_with("multipart/report"))
        .then(|| parameter(&content_type, "report-type"))
        .flatten();
    let dsn_part = mail.attachments.iter().find(|a| {
        a.content_type == "message/delivery-status"
            || a.content_type == "message/global-delivery-status"
    });
    let mut bounce = None;
    if report_type.as_deref() == Some("delivery-status") || dsn_part.is_some() {
        signal(
            "Content-Type",
            "multipart/report; report-type=delivery-status",
        );
        bounce = Some(dsn_part.map_or_else(Bounce::default, |p| {
            delivery_status(&String::from_utf8_lossy(&p.bytes))
        }));
    } else if let Some(other) = report_type {
        auto_reply = true;
        signal(
            "Content-Type",
            &format!("multipart/report; report-type={other}"),
        );
    }
    let local = mail.from.address.split('@').next().unwrap_or_default();
    if local == "mailer-daemon" || local == "postmaster" {
        signal("From", &mail.from.address);
        bounce.get_or_insert_with(Bounce::default);
    }
    let failed: Vec<String> = mail
        .header_values("X-Failed-Recipients")
        .flat_map(super::address::envelope_addresses)
        .collect();
    if !failed.is_empty() {
        signal("X-Failed-Recipients", &failed.join(", "));
        let report = bounce.get_or_insert_with(Bounce::default);
        for address in failed {
            if !report.recipients.iter().any(|r| r.address == address) {
                report.recipients.push(FailedRecipient {
                    address,
                    action: Some("failed".to_owned()),
                    status: None,
                    diagnostic: None,
                });
            }
        }
    }

    // Lists and bulk senders.
    let mut bulk = false;
    if let Some(p) = precedence
        .iter()
        .find(|p| matches!(p.as_str(), "bulk" | "junk" | "list"))
    {
        bulk = true;
        signal("Precedence", p);
    }
    for name in ["List-Id", "List-Unsubscribe"] {
        if let Some(value) = mail.header(name) {
            bulk = true;
            signal(name, value);
        }
    }

    // SES's scanners. A sender can add these headers too, so FAIL wins:
    // a sender can only make its own mail look worse.
    let verdict = |name: &str| {
        let all: Vec<Verdict> = mail.header_values(name).map(Verdict::parse).collect();
        if all.contains(&Verdict::Fail) {
            Some(Verdict::Fail)
        } else {
            all.into_iter().next()
        }
    };
    let spam = verdict("X-SES-Spam-Verdict");
    let virus = verdict("X-SES-Virus-Verdict");
    if spam == Some(Verdict::Fail) {
        signal("X-SES-Spam-Verdict", "FAIL");
    }
    if virus == Some(Verdict::Fail) {
        signal("X-SES-Virus-Verdict", "FAIL");
    }

    let kind = if bounce.is_some() {
        MailKind::Bounce
    } else if auto_reply {
        MailKind::AutoReply
    } else if bulk {
        MailKind::Bulk
    } else {
        MailKind::Regular
    };
    Classification {
        kind,
        auto_reply,
        bulk,
        bounce,
        suppress_auto_response,
        spam,
        virus,
        signals,
    }
}

/// The value of parameter `name` in a lower-cased Content-Type value.
fn parameter(content_type: &str, name: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (n, v) = p.split_once('=')?;
        (n.trim() == name).then(|| v.trim().trim_matches('"').trim().to_owned())
    })
}

/// Reads a `message/delivery-status` body (RFC 3464): a block of
/// per-message fields, then one block per recipient, blocks separated by
/// blank lines, fields folded like header fields.
#[must_use]
pub fn delivery_status(body: &str) -> Bounce {
    let mut bounce = Bounce::default();
    let body = body.replace("\r\n", "\n");
    for block in body.split("\n\n") {
        let fields = unfold(block);
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        // "rfc822; ana@example.org" -> "ana@example.org"
        let untyped = |v: &str| {
            let v = v.split_once(';').map_or(v, |(_, rest)| rest).trim();
            (!v.is_empty()).then(|| v.to_owned())
        };
        if let Some(mta) = get("Reporting-MTA").and_then(untyped) {
            bounce.reporting_mta.get_or_insert(mta);
        }
        let Some(address) = get("Final-Recipient")
            .or_else(|| get("Original-Recipient"))
            .and_then(untyped)
        else {
            continue;
        };
        let address = super::address::normalise(&address).unwrap_or_else(|| address.to_lowercase());
        bounce.recipients.push(FailedRecipient {
            address,
            action: get("Action")
                .map(|a| a.trim().to_ascii_lowercase())
                .filter(|a| !a.is_empty()),
            status: get("Status")
                .and_then(|s| s.split_whitespace().next())
                .map(str::to_owned),
            diagnostic: get("Diagnostic-Code").and_then(untyped),
        });
    }
    bounce
}

/// The `(name, value)` fields of one block, continuation lines joined.
fn unfold(block: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_status_blocks_give_one_recipient_each() {
        let report = delivery_status(
            "Reporting-MTA: dns; mx.example.org\r\n\
             Arrival-Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\
             \r\n\
             Final-Recipient: rfc822; Nobody@Example.ORG\r\n\
             Action: failed\r\n\
             Status: 5.1.1\r\n\
             Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>:\r\n\
             \x20 user unknown\r\n\
             \r\n\
             Original-Recipient: rfc822;slow@example.net\r\n\
             Final-Recipient: rfc822;slow@example.net\r\n\
             Action: delayed\r\n\
             Status: 4.4.7 (delivery time expired)\r\n",
        );
        assert_eq!(report.reporting_mta.as_deref(), Some("mx.example.org"));
        assert_eq!(report.recipients.len(), 2);
        let first = &report.recipients[0];
        assert_eq!(first.address, "nobody@example.org");
        assert_eq!(first.status.as_deref(), Some("5.1.1"));
        assert_eq!(
            first.diagnostic.as_deref(),
            Some("550 5.1.1 <nobody@example.org>: user unknown")
        );
        assert!(first.is_permanent());
        let second = &report.recipients[1];
        assert_eq!(
            (second.action.as_deref(), second.status.as_deref()),
            (Some("delayed"), Some("4.4.7"))
        );
        assert!(!second.is_permanent());
        assert!(report.is_permanent());
    }

    #[test]
    fn content_type_parameters_are_read_quoted_or_not() {
        let ct = "multipart/report; report-type=\"delivery-status\"; boundary=x";
        assert_eq!(
            parameter(ct, "report-type").as_deref(),
            Some("delivery-status")
        );
        assert_eq!(
            parameter(
                "multipart/report;report-type=disposition-notification",
                "report-type"
            )
            .as_deref(),
            Some("disposition-notification")
        );
        assert_eq!(parameter("text/plain", "report-type"), None);
    }

    #[test]
    fn verdicts_parse_whatever_the_case() {
        assert_eq!(Verdict::parse(" fail "), Verdict::Fail);
        assert_eq!(
            Verdict::parse("PROCESSING_FAILED"),
            Verdict::ProcessingFailed
        );
        assert_eq!(Verdict::parse("maybe"), Verdict::Other("maybe".to_owned()));
    }
}
