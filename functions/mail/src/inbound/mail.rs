//! What a parsed message holds: owned, decoded, ready for the pipeline.

use serde::Serialize;

/// One address: an optional display name and the address itself, trimmed
/// and lower-cased so that `Ana@Example.EDU` and `ana@example.edu` are one
/// user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    /// The display name, RFC 2047 decoded; `None` when absent or blank.
    pub name: Option<String>,
    /// `local@domain`, lower case.
    pub address: String,
}

/// A file carried by the message: an attachment, an inline image or an
/// attached message.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// A name safe to show and to store: RFC 2231 and RFC 2047 decoded, no
    /// path, no control or reserved characters, never empty (a name is made
    /// up from the content type when the sender gave none). Attached
    /// messages always end in `.eml`.
    pub file_name: String,
    /// `type/subtype`, lower case (`application/octet-stream` when absent).
    pub content_type: String,
    /// The Content-ID without angle brackets: what `cid:` links in the HTML
    /// body point at.
    pub content_id: Option<String>,
    /// Whether the sender meant it to be shown in the body (an image of the
    /// HTML body) rather than offered as a download.
    pub inline: bool,
    /// The decoded content: the file as the sender attached it (a text file
    /// keeps its own charset; an attached message is its raw RFC 5322 bytes).
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("content_id", &self.content_id)
            .field("inline", &self.inline)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A message as the pipeline sees it. Built by [`parse`](super::parse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedMail {
    /// The Message-ID without angle brackets, if the message has one.
    pub message_id: Option<String>,
    /// What makes a delivery of this message recognisable when it comes
    /// again: the Message-ID, or the SHA-256 (hex) of the raw bytes when
    /// there is none. SES and Lambda deliver at least once, so the pipeline
    /// records this key before it acts.
    pub dedupe_key: String,
    /// The ids of In-Reply-To, without angle brackets.
    pub in_reply_to: Vec<String>,
    /// The ids of References, oldest first, without angle brackets.
    pub references: Vec<String>,
    /// The author: the first usable address of From, or of Sender, or of
    /// Reply-To when From has none.
    pub from: Mailbox,
    /// Where the author asks answers to go (Reply-To).
    pub reply_to: Vec<Mailbox>,
    /// Who sent on the author's behalf (Sender), e.g. a list or an assistant.
    pub sender: Option<Mailbox>,
    /// To, every group flattened.
    pub to: Vec<Mailbox>,
    /// Cc, every group flattened.
    pub cc: Vec<Mailbox>,
    /// The envelope recipients receiving servers recorded (Delivered-To,
    /// X-Original-To, Envelope-To, X-Envelope-To), lower case, in header
    /// order, without repeats. Mail that reached a mailbox by Bcc or through
    /// a forward shows its real destination only here.
    pub delivered_to: Vec<String>,
    /// The subject, RFC 2047 decoded and trimmed; empty when missing.
    pub subject: String,
    /// The Date header as milliseconds since the Unix epoch, when it parses.
    pub date: Option<i64>,
    /// The plain-text body in UTF-8 with `\n` line ends, decoded from its
    /// charset. Made from the HTML body when the message has only HTML (or
    /// an empty text alternative); empty when the message has no body.
    pub text: String,
    /// The HTML body in UTF-8, as sent: not sanitised (the core cleans it
    /// before display) and with its `cid:` references intact.
    pub html: Option<String>,
    /// Attachments, inline images and attached messages, in MIME order.
    pub attachments: Vec<Attachment>,
    /// Every header field of the message, in order, as decoded
    /// `(name, value)` pairs: folding undone and RFC 2047 words decoded.
    /// Names are spelled as the parser knows them (`Message-ID`) or as
    /// written for unknown fields; compare them case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The size of the raw message in bytes.
    pub raw_size: usize,
}

impl ParsedMail {
    /// The first value of the header field `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the header field `name` (case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The addresses an answer goes to: Reply-To when given, else the
    /// author.
    #[must_use]
    pub fn reply_addresses(&self) -> Vec<&Mailbox> {
        if self.reply_to.is_empty() {
            vec![&self.from]
        } else {
            self.reply_to.iter().collect()
        }
    }
}
