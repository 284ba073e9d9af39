//! osTicket's XML payload:
//!
//! ```xml
//! <ticket alert="true" autorespond="true" source="API">
//!   <name>Angry User</name>
//!   <email>api@example.org</email>
//!   <subject>Testing API</subject>
//!   <message type="text/plain"><![CDATA[Message content here]]></message>
//!   <attachments>
//!     <file name="file.txt" type="text/plain"><![CDATA[content]]></file>
//!     <file name="image.gif" type="image/gif" encoding="base64">R0lGOD...</file>
//!   </attachments>
//! </ticket>
//! ```
//!
//! Attributes of `<ticket>` and its child elements are the same fields;
//! any other child element is a custom field. No DTDs: a document with a
//! `<!DOCTYPE>` is refused, so no entity can expand.

use base64::Engine as _;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{Attachment, RawRequest, invalid};
use crate::services::ServiceError;

/// Deepest nesting accepted (`ticket/attachments/file` is 3).
const MAX_DEPTH: usize = 8;

/// An element: name, attributes, text, children.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn malformed(e: impl std::fmt::Display) -> ServiceError {
    invalid("payload", format!("not valid XML: {e}"))
}

fn start(e: &BytesStart<'_>) -> Result<Element, ServiceError> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(malformed)?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr.unescape_value().map_err(malformed)?.into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        ..Element::default()
    })
}

/// The document's root element.
fn tree(body: &[u8]) -> Result<Element, ServiceError> {
    let text = std::str::from_utf8(body).map_err(|_| malformed("not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed("nested too deeply"));
                }
                if root.is_some() {
                    return Err(malformed("content after the root element"));
                }
                stack.push(start(&e)?);
            }
            Event::Empty(e) => {
                let element = start(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err(malformed("content after the root element")),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                let decoded = t.xml_content().map_err(malformed)?;
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&decoded),
                    None if decoded.trim().is_empty() => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::CData(t) => {
                let decoded = t.decode().map_err(malformed)?;
                let current = stack
                    .last_mut()
                    .ok_or_else(|| malformed("CDATA outside the root element"))?;
                current.text.push_str(&decoded);
            }
            Event::GeneralRef(r) => {
                let current = stack
                    .last_mut()
                    .ok_or_else(|| malformed("a reference outside the root element"))?;
                if r.is_char_ref() {
                    let c = r
                        .resolve_char_ref()
                        .map_err(malformed)?
                        .ok_or_else(|| malformed("bad character reference"))?;
                    current.text.push(c);
                } else {
                    let name = r.decode().map_err(malformed)?;
                    let reference = format!("&{name};");
                    let resolved = quick_xml::escape::unescape(&reference)
                        .map_err(|_| malformed(format!("unknown entity {reference}")))?;
                    current.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err(malformed("DOCTYPE is not accepted")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed("unclosed element"));
    }
    root.ok_or_else(|| malformed("no root element"))
}

fn file(element: &Element) -> Result<Attachment, ServiceError> {
    let name = element
        .attr("name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("attachments", "a <file> needs a name attribute"))?
        .to_owned();
    let content_type = element
        .attr("type")
        .map_or("application/octet-stream", str::trim)
        .to_ascii_lowercase();
    let bytes = match element.attr("encoding").map(str::trim) {
        Some(e) if e.eq_ignore_ascii_case("base64") => {
            let compact: String = element
                .text
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| invalid("attachments", format!("{name:?}: bad base64")))?
        }
        None | Some("") => element.text.trim().as_bytes().to_vec(),
        Some(other) => {
            return Err(invalid(
                "attachments",
                format!("{name:?}: unsupported encoding {other:?}"),
            ));
        }
    };
    Ok(Attachment {
        name,
        content_type,
        bytes,
    })
}

/// Parses the document into the fields of a request.
pub(super) fn parse(body: &[u8]) -> Result<RawRequest, ServiceError> {
    let root = tree(body)?;
    if root.name != "ticket" {
        return Err(invalid("payload", "the root element must be <ticket>"));
    }
    let mut raw = RawRequest::default();
    for (name, value) in &root.attrs {
        raw.fields.insert(name.clone(), value.clone());
    }
    for child in root.children {
        match child.name.as_str() {
            "attachments" => {
                for f in &child.children {
                    if f.name != "file" {
                        return Err(invalid("attachments", "expected <file> elements"));
                    }
                    raw.attachments.push(file(f)?);
                }
            }
            "message" => {
                raw.message_type = child.attr("type").map(str::to_owned);
                raw.fields.insert(child.name, child.text);
            }
            _ if !child.children.is_empty() => {
                return Err(invalid(&child.name, "expected text, not elements"));
            }
            _ => {
                raw.fields.insert(child.name, child.text.trim().to_owned());
            }
        }
    }
    Ok(raw)
}
