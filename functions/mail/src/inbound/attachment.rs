//! Attachments, inline images and attached messages, with names safe to
//! show and store.

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::parsers::MessageStream;
use mail_parser::{Encoding, HeaderName, HeaderValue, Message, MessagePart, MimeHeaders, PartType};

use super::charset::windows_1252;

use super::mail::Attachment;

/// Longest file name kept, in characters (extension included).
const MAX_NAME_CHARS: usize = 120;

/// The attachments of `message` in MIME order. `html` is the message's HTML
/// body, whose `cid:` links decide which parts are inline.
pub(crate) fn attachments(message: &Message<'_>, html: Option<&str>) -> Vec<Attachment> {
    let html_lower = html.map(str::to_ascii_lowercase);
    message
        .attachments
        .iter()
        .filter_map(|&id| message.parts.get(id as usize))
        .enumerate()
        .map(|(n, part)| attachment(message, part, n + 1, html_lower.as_deref()))
        .collect()
}

fn attachment(
    message: &Message<'_>,
    part: &MessagePart<'_>,
    n: usize,
    html_lower: Option<&str>,
) -> Attachment {
    let content_type = content_type(part);
    let content_id = part
        .content_id()
        .map(|id| {
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim()
        })
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    let (bytes, subject) = match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => (b.to_vec(), None),
        PartType::Text(t) | PartType::Html(t) => (
            transfer_decoded(message, part).unwrap_or_else(|| t.as_bytes().to_vec()),
            None,
        ),
        PartType::Message(nested) => (
            message_bytes(message, part, nested),
            // A nested message the parser could not fill has no parts.
            (!nested.parts.is_empty())
                .then(|| nested.subject().map(str::to_owned))
                .flatten(),
        ),
        PartType::Multipart(_) => (raw_body(message, part).to_vec(), None),
    };
    let is_message = matches!(part.body, PartType::Message(_))
        || content_type == "message/rfc822"
        || content_type == "message/global";
    let disposition = part
        .content_disposition()
        .map(|d| d.ctype().to_ascii_lowercase());
    let referenced = match (&content_id, html_lower) {
        (Some(id), Some(html)) => html.contains(&format!("cid:{}", id.to_ascii_lowercase())),
        _ => false,
    };
    let shown = content_type.starts_with("image/")
        && (disposition.as_deref() == Some("inline")
            || disposition.is_none() && matches!(part.body, PartType::InlineBinary(_)));
    let inline =
        !is_message && (referenced || shown && disposition.as_deref() != Some("attachment"));
    let given = given_name(message, part);
    let file_name = safe_file_name(
        given.as_deref(),
        &content_type,
        n,
        subject.as_deref(),
        is_message,
    );
    Attachment {
        file_name,
        content_type,
        content_id,
        inline,
        bytes,
    }
}

/// The name the sender gave (RFC 2231 and 2047 decoded by the parser).
/// A name in raw 8-bit bytes comes out of the parser with U+FFFD in it; such
/// names are read again from the raw header as Windows-1252.
fn given_name(message: &Message<'_>, part: &MessagePart<'_>) -> Option<String> {
    let name = part.attachment_name()?;
    if !name.contains(char::REPLACEMENT_CHARACTER) {
        return Some(name.to_owned());
    }
    let reread = [HeaderName::ContentDisposition, HeaderName::ContentType]
        .iter()
        .filter_map(|wanted| part.headers.iter().find(|h| h.name == *wanted))
        .filter_map(|h| {
            let raw = message.raw_message.get(
                h.offset_start as usize..(h.offset_end as usize).max(h.offset_start as usize),
            )?;
            let text = windows_1252(raw);
            match MessageStream::new(text.as_bytes()).parse_content_type() {
                HeaderValue::ContentType(ct) => ct
                    .attribute("filename")
                    .or_else(|| ct.attribute("name"))
                    .map(str::to_owned),
                _ => None,
            }
        })
        .find(|n| !n.contains(char::REPLACEMENT_CHARACTER));
    Some(reread.unwrap_or_else(|| name.to_owned()))
}

/// `type/subtype` in lower case, with the defaults RFC 2045 and 2046 give.
fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) if !ct.ctype().trim().is_empty() => {
            let ctype = ct.ctype().trim().to_ascii_lowercase();
            match ct.subtype().map(str::trim).filter(|s| !s.is_empty()) {
                Some(sub) => format!("{ctype}/{}", sub.to_ascii_lowercase()),
                None if ctype == "text" => "text/plain".to_owned(),
                None => "application/octet-stream".to_owned(),
            }
        }
        _ => match part.body {
            PartType::Message(_) => "message/rfc822",
            PartType::Text(_) => "text/plain",
            PartType::Html(_) => "text/html",
            _ => "application/octet-stream",
        }
        .to_owned(),
    }
}

/// The part's body as it appears in the raw message (still transfer-encoded).
fn raw_body<'a>(message: &'a Message<'_>, part: &MessagePart<'_>) -> &'a [u8] {
    let (start, end) = (part.offset_body as usize, part.offset_end as usize);
    message
        .raw_message
        .get(start..end.max(start))
        .unwrap_or_default()
}

/// The bytes of a text part before charset decoding: a text file attached
/// in ISO-8859-1 stays ISO-8859-1, as its Content-Type says.
pub(crate) fn transfer_decoded(message: &Message<'_>, part: &MessagePart<'_>) -> Option<Vec<u8>> {
    let raw = raw_body(message, part);
    if raw.is_empty() {
        return None;
    }
    match part.encoding {
        Encoding::Base64 => base64_decode(raw),
        Encoding::QuotedPrintable => quoted_printable_decode(raw),
        Encoding::None => Some(raw.to_vec()),
    }
}

/// The raw RFC 5322 bytes of an attached message, ready to save as `.eml`.
fn message_bytes(message: &Message<'_>, part: &MessagePart<'_>, nested: &Message<'_>) -> Vec<u8> {
    match part.encoding {
        // Parsed in place: its bytes are the part's span of the parent.
        Encoding::None => raw_body(message, part).to_vec(),
        // Decoded first: the nested message owns its decoded bytes.
        _ => nested.raw_message.to_vec(),
    }
}

/// A file name that is safe to show and to use as a file: `given` (already
/// RFC 2231/2047 decoded by the parser) without any path, control or
/// reserved characters, leading dots or trailing dots and spaces, at most
/// [`MAX_NAME_CHARS`] characters with its extension kept. Without a usable
/// name, one is made up: the attached message's subject, or
/// `attachment-N` / `message-N`, with an extension from the content type.
/// Attached messages always end in `.eml`.
#[must_use]
pub fn safe_file_name(
    given: Option<&str>,
    content_type: &str,
    n: usize,
    subject: Option<&str>,
    is_message: bool,
) -> String {
    let given = given.map(clean_name).filter(|s| !s.is_empty());
    let from_subject = || {
        subject
            .filter(|_| is_message)
            .map(|s| clean_name(&s.replace(['/', '\\'], "_")))
            .filter(|s| !s.is_empty())
    };
    let named = given.is_some();
    let mut name = given.or_else(from_subject).unwrap_or_else(|| {
        let stem = if is_message { "message" } else { "attachment" };
        format!("{stem}-{n}")
    });
    if is_message {
        if !name.to_ascii_lowercase().ends_with(".eml") {
            name = truncate(&name, MAX_NAME_CHARS - 4);
            name.push_str(".eml");
        }
    } else if !named {
        name.push('.');
        name.push_str(extension(content_type));
    }
    name
}

/// `raw` made safe, see [`safe_file_name`].
fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let replaced: String = base
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            c => c,
        })
        .collect();
    let spaced = replaced.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = spaced
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    truncate(trimmed, MAX_NAME_CHARS)
}

/// At most `max` characters, keeping a short extension.
fn truncate(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_owned();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.chars().count() <= 10 && !e.contains(' '));
    match ext {
        Some(ext) => {
            let keep = max - ext.chars().count() - 1;
            let stem: String = name.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => name
            .chars()
            .take(max)
            .collect::<String>()
            .trim_end()
            .to_owned(),
    }
}

/// A file extension for a content type, `bin` when unknown.
fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" => "bmp",
        "image/tiff" => "tif",
        "image/svg+xml" => "svg",
        "image/heic" => "heic",
        "application/pdf" => "pdf",
        "application/zip" => "zip",
        "application/json" => "json",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.ms-powerpoint" => "ppt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/vnd.oasis.opendocument.spreadsheet" => "ods",
        "application/pgp-signature" => "asc",
        "application/pkcs7-signature" | "application/x-pkcs7-signature" => "p7s",
        "text/html" => "html",
        "text/calendar" => "ics",
        "text/csv" => "csv",
        "text/xml" | "application/xml" => "xml",
        "audio/mpeg" => "mp3",
        "video/mp4" => "mp4",
        t if t.starts_with("text/") || t.starts_with("message/") => "txt",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_names_lose_paths_controls_and_reserved_characters() {
        let name = |given| safe_file_name(Some(given), "application/pdf", 1, None, false);
        assert_eq!(
            name("C:\\Users\\ana\\informe final.pdf"),
            "informe final.pdf"
        );
        assert_eq!(name("../../etc/passwd"), "passwd");
        assert_eq!(name("..hidden"), "hidden");
        assert_eq!(name("a\u{0}b\r\n.pdf"), "ab.pdf");
        assert_eq!(name("what?<x>|\"y\".pdf"), "what__x___y_.pdf");
        assert_eq!(name("notes.txt. . "), "notes.txt");
        assert_eq!(
            name("sol·licitud matrícula.pdf"),
            "sol·licitud matrícula.pdf"
        );
    }

    #[test]
    fn missing_or_empty_names_are_made_up_from_the_content_type() {
        assert_eq!(
            safe_file_name(None, "image/png", 2, None, false),
            "attachment-2.png"
        );
        assert_eq!(
            safe_file_name(Some(" .. "), "application/x-foo", 3, None, false),
            "attachment-3.bin"
        );
        assert_eq!(
            safe_file_name(Some("/"), "text/plain", 1, None, false),
            "attachment-1.txt"
        );
    }

    #[test]
    fn attached_messages_end_in_eml() {
        assert_eq!(
            safe_file_name(None, "message/rfc822", 1, Some("Re: beca / Erasmus?"), true),
            "Re_ beca _ Erasmus_.eml"
        );
        assert_eq!(
            safe_file_name(None, "message/rfc822", 4, None, true),
            "message-4.eml"
        );
        assert_eq!(
            safe_file_name(Some("fwd.EML"), "message/rfc822", 1, None, true),
            "fwd.EML"
        );
        assert_eq!(
            safe_file_name(Some("original"), "message/rfc822", 1, None, true),
            "original.eml"
        );
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let long = format!("{}.docx", "x".repeat(300));
        let name = safe_file_name(Some(&long), "application/octet-stream", 1, None, false);
        assert_eq!(name.chars().count(), MAX_NAME_CHARS);
        assert!(name.ends_with(".docx"));
    }
}
