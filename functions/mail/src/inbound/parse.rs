//! Raw bytes to [`ParsedMail`]: mail-parser does the MIME work, this module
//! decides what a help desk keeps and what it rejects.

use std::borrow::Cow;
use std::panic::{self, AssertUnwindSafe};

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderName, HeaderValue, Message, MessageParser, PartType};
use sha2::{Digest, Sha256};
use taquilla_core::sanitize::{clean_html, html_to_text};

use super::address::{envelope_addresses, mailboxes};
use super::attachment::attachments;
use super::error::ParseError;
use super::mail::{Mailbox, ParsedMail};

/// Header fields that record the envelope recipient a server delivered to.
const ENVELOPE_HEADERS: &[&str] = &[
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
];

/// Parses a raw RFC 5322 message.
///
/// Never panics: mail-parser has `debug_assert!`s (and debug-build
/// arithmetic checks) that fire on some broken structures, e.g. a malformed
/// `multipart/digest`; such a panic is caught here and reported as
/// [`ParseError::Malformed`]. Release builds compile those checks out and
/// recover what they can.
///
/// Accepts messages without Message-ID ([`ParsedMail::dedupe_key`] is then
/// a content hash), without Subject and without body. Rejects empty input
/// ([`ParseError::Empty`]), bytes without a header section
/// ([`ParseError::Unparseable`]) and messages with no usable sender
/// ([`ParseError::NoSender`]).
pub fn parse(raw: &[u8]) -> Result<ParsedMail, ParseError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    // Only `raw` crosses the boundary, and it is only read.
    match panic::catch_unwind(AssertUnwindSafe(|| parse_unguarded(raw))) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the parser stopped".to_owned());
            tracing::warn!(size = raw.len(), reason = %what, "mail parser panicked, message rejected");
            Err(ParseError::Malformed(what))
        }
    }
}

fn parse_unguarded(raw: &[u8]) -> Result<ParsedMail, ParseError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| ParseError::Unparseable("no header section".to_owned()))?;
    let headers = header_fields(&message);
    if headers.is_empty() {
        return Err(ParseError::Unparseable("no header fields".to_owned()));
    }

    let reply_to = mailboxes(message.reply_to());
    let sender = mailboxes(message.sender()).into_iter().next();
    let from = mailboxes(message.from())
        .into_iter()
        .next()
        .or_else(|| sender.clone())
        .or_else(|| reply_to.first().cloned())
        .ok_or(ParseError::NoSender)?;

    let message_id = ids(message.header(HeaderName::MessageId))
        .into_iter()
        .next();
    let dedupe_key = message_id
        .clone()
        .unwrap_or_else(|| hex::encode(Sha256::digest(raw)));

    let mut delivered_to: Vec<String> = Vec::new();
    for (_, value) in headers
        .iter()
        .filter(|(n, _)| ENVELOPE_HEADERS.iter().any(|e| n.eq_ignore_ascii_case(e)))
    {
        for address in envelope_addresses(value) {
            if !delivered_to.contains(&address) {
                delivered_to.push(address);
            }
        }
    }

    let subject = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Subject"))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();

    let date = message
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| d.to_timestamp().checked_mul(1000));

    let (text, html) = bodies(&message);
    let attachments = attachments(&message, html.as_deref());

    Ok(ParsedMail {
        message_id,
        dedupe_key,
        in_reply_to: ids(message.header(HeaderName::InReplyTo)),
        references: ids(message.header(HeaderName::References)),
        from,
        reply_to,
        sender,
        to: all_mailboxes(&message, &HeaderName::To),
        cc: all_mailboxes(&message, &HeaderName::Cc),
        delivered_to,
        subject,
        date,
        text,
        html,
        attachments,
        headers,
        raw_size: raw.len(),
    })
}

/// Every address of every field named `name` (some senders repeat To).
fn all_mailboxes(message: &Message<'_>, name: &HeaderName<'_>) -> Vec<Mailbox> {
    let mut out: Vec<Mailbox> = Vec::new();
    for value in message.header_values(name.clone()) {
        for m in mailboxes(value.as_address()) {
            if !out.iter().any(|o| o.address == m.address) {
                out.push(m);
            }
        }
    }
    out
}

/// Message ids of an id header, without angle brackets or blanks.
fn ids(value: Option<&HeaderValue<'_>>) -> Vec<String> {
    let clean = |id: &Cow<'_, str>| {
        let id = id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim();
        (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_owned())
    };
    match value {
        Some(HeaderValue::Text(id)) => clean(id).into_iter().collect(),
        Some(HeaderValue::TextList(list)) => list.iter().filter_map(clean).collect(),
        _ => Vec::new(),
    }
}

/// The top-level header fields as decoded `(name, value)` pairs, in order.
fn header_fields(message: &Message<'_>) -> Vec<(String, String)> {
    let raw = message.raw_message.as_ref();
    message
        .headers()
        .iter()
        .map(|h| {
            let start = h.offset_start as usize;
            let end = (h.offset_end as usize).max(start);
            let value = raw
                .get(start..end)
                .map(decode_unstructured)
                .unwrap_or_default();
            (h.name.as_str().to_owned(), value)
        })
        .collect()
}

/// A header value unfolded, RFC 2047 words decoded. Raw 8-bit bytes that
/// are not UTF-8 are read as Windows-1252, what such senders mean most.
fn decode_unstructured(bytes: &[u8]) -> String {
    let owned;
    let bytes = if std::str::from_utf8(bytes).is_ok() {
        bytes
    } else {
        owned = charset_decoder(b"windows-1252").map_or_else(
            || String::from_utf8_lossy(bytes).into_owned(),
            |decode| decode(bytes),
        );
        owned.as_bytes()
    };
    match MessageStream::new(bytes).parse_unstructured() {
        HeaderValue::Text(text) => text.trim().to_owned(),
        _ => String::new(),
    }
}

/// The plain-text and HTML bodies. Several body parts of one kind (text
/// between inline images) are joined in order.
fn bodies(message: &Message<'_>) -> (String, Option<String>) {
    let part_text = |ids: &[u32], html: bool| -> Vec<&str> {
        ids.iter()
            .filter_map(|&id| message.parts.get(id as usize))
            .filter_map(|p| match (&p.body, html) {
                (PartType::Text(t), false) | (PartType::Html(t), true) => Some(t.as_ref()),
                _ => None,
            })
            .collect()
    };
    let texts = part_text(&message.text_body, false);
    let htmls = part_text(&message.html_body, true);
    let html = (!htmls.is_empty()).then(|| htmls.join("\n"));
    let text = if !texts.is_empty() {
        normalise_text(&texts.join("\n"))
    } else if let Some(html) = &html {
        text_from_html(html)
    } else {
        String::new()
    };
    (text, html)
}

/// `\n` line ends, no byte-order mark, no trailing blank lines.
fn normalise_text(text: &str) -> String {
    let text = text.trim_start_matches('\u{feff}');
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.trim_end().to_owned()
}

/// The text of an HTML body: its `<head>` (title, styles) dropped, then
/// cleaned and converted the way the core converts every HTML body.
#[must_use]
pub fn text_from_html(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let head = lower
        .match_indices("<head")
        .map(|(i, _)| i)
        .find(|&i| lower[i + 5..].starts_with(|c: char| c == '>' || c.is_ascii_whitespace()));
    let body = match (head, lower.find("</head>")) {
        (Some(start), Some(end)) if start < end => {
            Cow::Owned(format!("{}{}", &html[..start], &html[end + 7..]))
        }
        _ => Cow::Borrowed(html),
    };
    html_to_text(&clean_html(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_latin1_in_headers_is_read_as_windows_1252() {
        assert_eq!(
            decode_unstructured(b" Matr\xedcula \x80 50\r\n"),
            "Matrícula € 50"
        );
        assert_eq!(
            decode_unstructured(b" =?utf-8?q?Sol=C2=B7licitud?=\r\n"),
            "Sol·licitud"
        );
    }

    #[test]
    fn html_only_bodies_give_text_without_head_or_styles() {
        let text = text_from_html(
            "<html><head><title>T</title><style>p{color:red}</style></head>\
             <body><p>Hola,</p><p>tinc un problema &amp; una pregunta</p></body></html>",
        );
        assert_eq!(text, "Hola,\n\ntinc un problema & una pregunta");
    }

    #[test]
    fn text_bodies_get_unix_line_ends() {
        assert_eq!(normalise_text("\u{feff}a\r\nb\rc\r\n\r\n"), "a\nb\nc");
    }
}
