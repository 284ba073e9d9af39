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
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Hands the message to the provider; on success it will be delivered.
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError>;
}
