//! The mail that opened a ticket, as rules look at it after the opening:
//! its receiving address and its header fields, kept on the ticket so a
//! replay and the time rules evaluate `header:NAME` and `recipient`
//! conditions as creation rules did, without reading anything more.
//!
//! What is kept is bounded: signatures and transport traces (which rules
//! have no use for and which make most of a header's size) are left out,
//! each value is cut at [`MAX_VALUE_BYTES`] (the longest value a condition
//! compares with), and fields are kept in order up to [`MAX_FIELDS`] and
//! [`MAX_BYTES`] in all.

use serde::{Deserialize, Serialize};

use super::condition::MAX_VALUE_BYTES;

/// Most header fields kept.
pub const MAX_FIELDS: usize = 64;
/// Most bytes of names and values kept in all.
pub const MAX_BYTES: usize = 4 * 1024;

/// Fields never kept (lower case): signatures and traces.
const LEFT_OUT: [&str; 9] = [
    "received",
    "x-received",
    "dkim-signature",
    "x-google-dkim-signature",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "x-gm-message-state",
    "x-google-smtp-source",
];

/// The opening mail's receiving address and header fields, as kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningMail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// Name and value of each field kept, in the mail's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl OpeningMail {
    /// What is kept of a mail with `headers` received at `recipient`
    /// (see the module docs); `None` when nothing is.
    #[must_use]
    pub fn keep(headers: &[(String, String)], recipient: Option<&str>) -> Option<Self> {
        let mut kept = Vec::new();
        let mut bytes = 0;
        for (name, value) in headers {
            if kept.len() == MAX_FIELDS {
                break;
            }
            if LEFT_OUT.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            let value = cut(value.trim(), MAX_VALUE_BYTES);
            let size = name.len() + value.len();
            if bytes + size > MAX_BYTES {
                continue;
            }
            bytes += size;
            kept.push((name.clone(), value.to_owned()));
        }
        let recipient = recipient.map(|r| cut(r, 254).to_owned());
        (recipient.is_some() || !kept.is_empty()).then_some(Self {
            recipient,
            headers: kept,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn traces_are_left_out_and_the_rest_is_bounded() {
        let long = "é".repeat(MAX_VALUE_BYTES);
        let mut headers = vec![
            field("Received", "from mx.example by us"),
            field("DKIM-Signature", "v=1; a=rsa-sha256"),
            field("X-Spam-Flag", " YES "),
            field("Subject", &long),
        ];
        for n in 0..200 {
            headers.push(field(&format!("X-Filler-{n}"), "0123456789"));
        }
        let kept = OpeningMail::keep(&headers, Some("help@uni.example")).unwrap();
        assert_eq!(kept.recipient.as_deref(), Some("help@uni.example"));
        assert_eq!(kept.headers[0], field("X-Spam-Flag", "YES"));
        assert_eq!(kept.headers[1].0, "Subject");
        assert!(kept.headers[1].1.len() <= MAX_VALUE_BYTES);
        assert!(kept.headers[1].1.chars().all(|c| c == 'é'));
        assert!(kept.headers.len() <= MAX_FIELDS);
        let total: usize = kept.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        assert!(total <= MAX_BYTES, "{total}");
        assert!(
            !kept
                .headers
                .iter()
                .any(|(n, _)| n == "Received" || n == "DKIM-Signature")
        );
        assert_eq!(OpeningMail::keep(&[], None), None);
    }
}
