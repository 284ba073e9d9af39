//! Why a message could not become a [`ParsedMail`](super::ParsedMail).
//!
//! A help desk accepts almost anything: a message without Message-ID gets
//! a content hash, one without Subject an empty subject, one without body
//! an empty body. What it cannot accept is a message nobody can be answered
//! on, or bytes that are not a message at all. Those are rejected with a
//! stable [`code`](ParseError::code) so the pipeline can record the
//! rejection next to the raw bytes it keeps.

use thiserror::Error;

/// What can make a message unusable. Each variant has a stable
/// [`code`](ParseError::code).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// No bytes, or only whitespace.
    #[error("the message is empty")]
    Empty,
    /// The bytes do not start with a header section (no `Name: value`
    /// field before the body), so they are not a message.
    #[error("the message cannot be parsed: {0}")]
    Unparseable(String),
    /// The MIME structure is so broken that the parser gave up midway
    /// (a panic inside the parser, contained at the parse boundary).
    #[error("the message structure is malformed: {0}")]
    Malformed(String),
    /// Neither From, Sender nor Reply-To holds an address (`local@domain`):
    /// there is nobody to open a ticket for or to answer.
    #[error("the message has no usable sender address")]
    NoSender,
}

impl ParseError {
    /// A stable snake_case code for logs, rejection records and APIs.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Empty => "mail_empty",
            ParseError::Unparseable(_) => "mail_unparseable",
            ParseError::Malformed(_) => "mail_malformed",
            ParseError::NoSender => "mail_no_sender",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            ParseError::Empty,
            ParseError::Unparseable(String::new()),
            ParseError::Malformed(String::new()),
            ParseError::NoSender,
        ];
        let codes: Vec<&str> = all.iter().map(ParseError::code).collect();
        assert_eq!(
            codes,
            [
                "mail_empty",
                "mail_unparseable",
                "mail_malformed",
                "mail_no_sender"
            ]
        );
    }
}
