//! Raw bytes to [`ParsedMail`]: mail-parser does the MIME work, this module
//! decides what a help desk keeps and what it rejects.

use std::borrow::Cow;
use std::panic::{self, AssertUnwindSafe};

use mail_parser::parsers::MessageStream;
use mail_parser::{
    HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};
use sha2::{Digest, Sha256};
use taquilla_core::sanitize::{clean_html, html_to_text};

use super::address::{envelope_addresses, mailboxes};
use super::attachment::{attachments, transfer_decoded};
use super::charset::{claims_utf8, utf8_or_windows_1252, windows_1252};
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
    // A header section cut short before its last line end loses that field
    // in the parser; give it its line end back. Hashes and sizes below are
    // of the bytes as they came.
    let ended;
    let bytes = if raw.ends_with(b"\n") || raw.windows(2).any(|w| w == b"\n\n") {
        raw
    } else {
        ended = [raw, b"\r\n"].concat();
        &ended
    };
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| ParseError::Unparseable("no header section".to_owned()))?;
    let headers = header_fields(&message);
    if headers.is_empty() {
        return Err(ParseError::Unparseable("no header fields".to_owned()));
    }

    // A field given twice counts as first written (mail-parser's own
    // accessors return the last), and a From without a usable address
    // gives way to the next one.
    let reply_to = all_mailboxes(&message, &HeaderName::ReplyTo);
    let sender = all_mailboxes(&message, &HeaderName::Sender)
        .into_iter()
        .next();
    let from = all_mailboxes(&message, &HeaderName::From)
        .into_iter()
        .next()
        .or_else(|| sender.clone())
        .or_else(|| reply_to.first().cloned())
        .ok_or(ParseError::NoSender)?;

    let message_id = ids(first(&message, HeaderName::MessageId))
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

    let date = first(&message, HeaderName::Date)
        .and_then(HeaderValue::as_datetime)
        .filter(|d| d.is_valid())
        .and_then(|d| d.to_timestamp().checked_mul(1000));

    let (text, html) = bodies(&message);
    let attachments = attachments(&message, html.as_deref());

    Ok(ParsedMail {
        message_id,
        dedupe_key,
        in_reply_to: ids(first(&message, HeaderName::InReplyTo)),
        references: ids(first(&message, HeaderName::References)),
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

/// The value of the first field named `name`.
fn first<'a>(message: &'a Message<'_>, name: HeaderName<'_>) -> Option<&'a HeaderValue<'a>> {
    message
        .parts
        .first()?
        .headers
        .iter()
        .find(|h| h.name == name)
        .map(|h| &h.value)
}

/// Every usable address of every field named `name`, in order, without
/// repeats (some senders repeat To).
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
/// are not UTF-8 are first taken as they are (they may sit inside an
/// encoded word that names their charset), then, if that leaves U+FFFD, as
/// Windows-1252.
fn decode_unstructured(bytes: &[u8]) -> String {
    let decode = |bytes: &[u8]| match MessageStream::new(bytes).parse_unstructured() {
        HeaderValue::Text(text) => text.trim().to_owned(),
        _ => String::new(),
    };
    let direct = decode(bytes);
    if !direct.contains(char::REPLACEMENT_CHARACTER) || std::str::from_utf8(bytes).is_ok() {
        return direct;
    }
    let repaired = decode(windows_1252(bytes).as_bytes());
    let count = |s: &str| s.matches(char::REPLACEMENT_CHARACTER).count();
    if count(&repaired) < count(&direct) {
        repaired
    } else {
        direct
    }
}

/// The plain-text and HTML bodies. Several body parts of one kind (text
/// between inline images) are joined in order.
fn bodies(message: &Message<'_>) -> (String, Option<String>) {
    let part_text = |ids: &[u32], html: bool| -> Vec<Cow<'_, str>> {
        ids.iter()
            .filter_map(|&id| message.parts.get(id as usize))
            .filter_map(|p| match (&p.body, html) {
                (PartType::Text(t), false) | (PartType::Html(t), true) => {
                    Some(repaired(message, p, t))
                }
                _ => None,
            })
            .collect()
    };
    let texts = part_text(&message.text_body, false);
    let htmls = part_text(&message.html_body, true);
    let html = (!htmls.is_empty()).then(|| htmls.join("\n"));
    // Some clients send an empty text alternative beside a full HTML one.
    let text = normalise_text(&texts.join("\n"));
    let text = match &html {
        Some(html) if text.trim().is_empty() => text_from_html(html),
        _ => text,
    };
    (text, html)
}

/// A body part's text, read again as Windows-1252 when it claimed UTF-8 or
/// ASCII (or nothing) but its bytes are not UTF-8.
fn repaired<'a>(message: &Message<'_>, part: &MessagePart<'_>, text: &'a str) -> Cow<'a, str> {
    if !text.contains(char::REPLACEMENT_CHARACTER) {
        return Cow::Borrowed(text);
    }
    let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
    if !claims_utf8(charset) {
        return Cow::Borrowed(text);
    }
    match transfer_decoded(message, part) {
        Some(bytes) if std::str::from_utf8(&bytes).is_err() => {
            Cow::Owned(utf8_or_windows_1252(&bytes))
        }
        _ => Cow::Borrowed(text),
    }
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
