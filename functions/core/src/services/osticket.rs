//! osTicket's ticket-creation API, parsed: the JSON and XML payloads that
//! osTicket's `api/tickets.json|xml` accept, into one [`OsTicketRequest`].
//!
//! Pure functions, no I/O: the web layer authenticates the key and hands
//! the result to the ticket service. Field names, defaults and value forms
//! follow osTicket (`include/api.tickets.php`): `alert` and `autorespond`
//! default to true, `source` to `API`, the message is plain text or an
//! RFC 2397 data URL, attachments are `{"file name": "data URL"}` objects
//! (XML: `<file name=".." type=".." encoding="base64">`), and every other
//! field is a custom field by its variable name.

mod data_url;
mod xml;

use std::collections::BTreeMap;

use serde_json::Value as Json;

pub use data_url::{DataUrl, parse_data_url};

use super::ServiceError;
use super::tickets::{self, Body, NewAttachment, OpenTicket};
use crate::domain::{PriorityId, Source, TopicId};

/// Longest subject, in characters: the ticket service's limit.
pub const MAX_SUBJECT_CHARS: usize = tickets::open::MAX_SUBJECT_CHARS;
/// Largest message body, in bytes once decoded: the ticket service's limit.
pub const MAX_MESSAGE_BYTES: usize = tickets::open::MAX_BODY_BYTES;
/// Most attachments on one ticket.
pub const MAX_ATTACHMENTS: usize = tickets::attachments::MAX_ATTACHMENTS;
/// Largest attachment, in bytes once decoded.
pub const MAX_ATTACHMENT_BYTES: usize = tickets::attachments::MAX_ATTACHMENT_BYTES;
/// Longest custom field value, in bytes.
pub const MAX_FIELD_BYTES: usize = 8 * 1024;

/// A message body as osTicket receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Text(String),
    /// Unsanitised HTML: the ticket service sanitises it.
    Html(String),
}

/// A file attached to the new ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A ticket-creation request of osTicket's API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsTicketRequest {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    /// Internal notes to add to the new ticket.
    pub notes: Option<String>,
    pub subject: String,
    pub message: Message,
    pub topic_id: Option<u32>,
    pub priority_id: Option<u32>,
    pub source: Source,
    /// The requester's address as the client reports it.
    pub ip: Option<String>,
    pub alert: bool,
    pub autorespond: bool,
    pub attachments: Vec<Attachment>,
    /// Custom fields by variable name.
    pub fields: BTreeMap<String, String>,
}

/// Fields osTicket reads itself; everything else is a custom field.
const KNOWN: &[&str] = &[
    "name",
    "email",
    "phone",
    "notes",
    "subject",
    "message",
    "topicId",
    "priority",
    "priorityId",
    "source",
    "ip",
    "alert",
    "autorespond",
    "attachments",
];

/// Fields osTicket accepts and ignores (its mail-fetching internals).
const IGNORED: &[&str] = &["system_emails", "thread_entry_recipients", "emailId"];

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The fields of a request as strings, before they are interpreted; both
/// payload formats reduce to this.
#[derive(Debug, Default)]
pub(crate) struct RawRequest {
    pub fields: BTreeMap<String, String>,
    /// Message content type from XML's `type` attribute.
    pub message_type: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// Parses an osTicket JSON payload.
pub fn parse_json(body: &[u8]) -> Result<OsTicketRequest, ServiceError> {
    let json: Json = serde_json::from_slice(body)
        .map_err(|e| invalid("payload", format!("not valid JSON: {e}")))?;
    let Json::Object(map) = json else {
        return Err(invalid("payload", "expected a JSON object"));
    };
    let mut raw = RawRequest::default();
    for (name, value) in map {
        if IGNORED.contains(&name.as_str()) {
            continue;
        }
        if name == "attachments" {
            raw.attachments = json_attachments(value)?;
            continue;
        }
        let text = match value {
            Json::Null => continue,
            Json::String(s) => s,
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => n.to_string(),
            Json::Array(_) | Json::Object(_) => {
                return Err(invalid(&name, "expected a string, number or boolean"));
            }
        };
        raw.fields.insert(name, text);
    }
    interpret(raw)
}

/// Parses an osTicket XML payload (`<ticket>...</ticket>`).
pub fn parse_xml(body: &[u8]) -> Result<OsTicketRequest, ServiceError> {
    interpret(xml::parse(body)?)
}

fn json_attachments(value: Json) -> Result<Vec<Attachment>, ServiceError> {
    let list = match value {
        Json::Null => return Ok(Vec::new()),
        Json::Array(list) => list,
        _ => {
            return Err(invalid(
                "attachments",
                "expected a list of {\"file name\": \"data URL\"} objects",
            ));
        }
    };
    let mut out = Vec::new();
    for entry in list {
        let Json::Object(files) = entry else {
            return Err(invalid(
                "attachments",
                "expected a list of {\"file name\": \"data URL\"} objects",
            ));
        };
        for (name, url) in files {
            let Json::String(url) = url else {
                return Err(invalid(
                    "attachments",
                    format!("{name:?}: expected a data URL"),
                ));
            };
            out.push(attachment_from_url(&name, &url)?);
        }
    }
    Ok(out)
}

fn attachment_from_url(name: &str, url: &str) -> Result<Attachment, ServiceError> {
    let data = parse_data_url(url).map_err(|e| invalid("attachments", format!("{name:?}: {e}")))?;
    Ok(Attachment {
        name: name.to_owned(),
        content_type: data.media_type,
        bytes: data.bytes,
    })
}

/// A boolean as osTicket accepts them.
fn boolean(field: &str, text: &str) -> Result<bool, ServiceError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(invalid(field, format!("{text:?} is not a boolean"))),
    }
}

fn number(field: &str, text: &str) -> Result<u32, ServiceError> {
    text.trim()
        .parse()
        .map_err(|_| invalid(field, format!("{text:?} is not a number")))
}

fn source(text: &str) -> Result<Source, ServiceError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "api" | "" => Ok(Source::Api),
        "web" => Ok(Source::Web),
        "email" => Ok(Source::Email),
        "phone" => Ok(Source::Phone),
        "other" => Ok(Source::Other),
        _ => Err(invalid("source", format!("unknown source {text:?}"))),
    }
}

/// Whether `email` looks like a deliverable address: one `@`, a local part,
/// a dotted domain, no spaces or angle brackets, at most 254 characters.
#[must_use]
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && email
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>' | ',' | ';'))
}

fn required(raw: &mut RawRequest, field: &str) -> Result<String, ServiceError> {
    match raw.fields.remove(field) {
        Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => Err(invalid(field, "is required")),
    }
}

fn optional(raw: &mut RawRequest, field: &str) -> Option<String> {
    raw.fields
        .remove(field)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The message: a data URL (`data:text/html,...`) or plain text.
fn message(text: &str, xml_type: Option<&str>) -> Result<Message, ServiceError> {
    let (content_type, body) = if text.trim_start().starts_with("data:") {
        let data = parse_data_url(text.trim()).map_err(|e| invalid("message", e.to_string()))?;
        let body = data.text().map_err(|e| invalid("message", e.to_string()))?;
        (data.media_type, body)
    } else {
        (
            xml_type.unwrap_or("text/plain").trim().to_ascii_lowercase(),
            text.to_owned(),
        )
    };
    if body.trim().is_empty() {
        return Err(invalid("message", "is required"));
    }
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(invalid(
            "message",
            format!("is longer than {MAX_MESSAGE_BYTES} bytes"),
        ));
    }
    Ok(if content_type == "text/html" {
        Message::Html(body)
    } else {
        Message::Text(body)
    })
}

fn interpret(mut raw: RawRequest) -> Result<OsTicketRequest, ServiceError> {
    let name = required(&mut raw, "name")?;
    let email = required(&mut raw, "email")?;
    if !valid_email(&email) {
        return Err(invalid(
            "email",
            format!("{email:?} is not a valid e-mail address"),
        ));
    }
    let subject = required(&mut raw, "subject")?;
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(invalid(
            "subject",
            format!("is longer than {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    let message_text = raw
        .fields
        .remove("message")
        .ok_or_else(|| invalid("message", "is required"))?;
    let message = message(&message_text, raw.message_type.as_deref())?;
    let topic_id = optional(&mut raw, "topicId")
        .map(|t| number("topicId", &t))
        .transpose()?;
    let priority = optional(&mut raw, "priorityId").or_else(|| optional(&mut raw, "priority"));
    raw.fields.remove("priority");
    let priority_id = priority.map(|p| number("priorityId", &p)).transpose()?;
    let source = source(&optional(&mut raw, "source").unwrap_or_default())?;
    let alert = optional(&mut raw, "alert").map_or(Ok(true), |a| boolean("alert", &a))?;
    let autorespond =
        optional(&mut raw, "autorespond").map_or(Ok(true), |a| boolean("autorespond", &a))?;
    let phone = optional(&mut raw, "phone");
    let notes = optional(&mut raw, "notes");
    let ip = optional(&mut raw, "ip");
    if let Some(ip) = &ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        return Err(invalid("ip", format!("{ip:?} is not an IP address")));
    }
    if raw.attachments.len() > MAX_ATTACHMENTS {
        return Err(invalid(
            "attachments",
            format!("at most {MAX_ATTACHMENTS} files"),
        ));
    }
    for a in &raw.attachments {
        if a.name.trim().is_empty() {
            return Err(invalid("attachments", "a file needs a name"));
        }
        if a.bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(invalid(
                "attachments",
                format!("{:?} is larger than {MAX_ATTACHMENT_BYTES} bytes", a.name),
            ));
        }
    }
    let mut fields = BTreeMap::new();
    for (name, value) in raw.fields {
        if KNOWN.contains(&name.as_str()) || IGNORED.contains(&name.as_str()) {
            continue;
        }
        if value.len() > MAX_FIELD_BYTES {
            return Err(invalid(
                &name,
                format!("is longer than {MAX_FIELD_BYTES} bytes"),
            ));
        }
        fields.insert(name, value);
    }
    Ok(OsTicketRequest {
        name,
        email,
        phone,
        notes,
        subject,
        message,
        topic_id,
        priority_id,
        source,
        ip,
        alert,
        autorespond,
        attachments: raw.attachments,
        fields,
    })
}

impl OsTicketRequest {
    /// What the ticket service opens, and the internal notes to add after.
    /// `client_ip` stands in for the payload's `ip` when it gives none.
    #[must_use]
    pub fn into_open_ticket(self, client_ip: Option<String>) -> (OpenTicket, Option<String>) {
        let body = match self.message {
            Message::Text(text) => Body::Text(text),
            Message::Html(html) => Body::Html(html),
        };
        let open = OpenTicket {
            name: self.name,
            email: self.email,
            phone: self.phone,
            subject: self.subject,
            body,
            topic: self.topic_id.map(TopicId),
            department: None,
            priority: self.priority_id.map(PriorityId),
            source: self.source,
            fields: self.fields,
            attachments: self
                .attachments
                .into_iter()
                .map(|a| NewAttachment {
                    name: a.name,
                    content_type: a.content_type,
                    bytes: a.bytes,
                })
                .collect(),
            collaborators: Vec::new(),
            autorespond: self.autorespond,
            alert: self.alert,
            ip: self.ip.or(client_ip),
        };
        (open, self.notes)
    }
}

#[cfg(test)]
mod tests;
