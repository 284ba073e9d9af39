//! `SesMailer`: the `Mailer` port on Amazon SES v2 `SendEmail` with raw
//! content: the message goes out as given, to the envelope recipients, from
//! the envelope sender.
//!
//! SES replaces the message's `Message-ID` with its own,
//! `<{MessageId}@{region}.amazonses.com>` (`email.amazonses.com` in
//! us-east-1); that is the id [`send`](Mailer::send) returns, so replies
//! referring to it can be threaded.
//!
//! Errors: `MessageRejected`, `MailFromDomainNotVerified` and a bad request
//! are [`MailError::Rejected`] (this message will not go as it is);
//! `AccountSuspended`, `SendingPaused`, throttling, limits, 5xx and network
//! failures are [`MailError::Unavailable`] (the same message may go later).

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{ProvideErrorMetadata as _, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use taquilla_core::mailer::{self, MailError, Mailer, OutgoingMail, SentMail};
use taquilla_core::report::error_chain as chain;

/// Sends through SES v2; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    /// Domain of the Message-IDs SES assigns in the client's region.
    message_id_domain: String,
}

impl SesMailer {
    /// A mailer on `client`, whose region decides the Message-ID domain.
    #[must_use]
    pub fn new(client: Client) -> Self {
        let region = client
            .config()
            .region()
            .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
        Self {
            client,
            message_id_domain: message_id_domain(&region),
        }
    }
}

/// The domain of SES's Message-IDs in `region`.
#[must_use]
pub fn message_id_domain(region: &str) -> String {
    if region == "us-east-1" {
        "email.amazonses.com".to_owned()
    } else {
        format!("{region}.amazonses.com")
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError> {
        mailer::validate(mail)?;
        let raw = RawMessage::builder()
            .data(Blob::new(mail.raw.clone()))
            .build()
            .map_err(|e| MailError::InvalidMessage(e.to_string()))?;
        let out = self
            .client
            .send_email()
            .from_email_address(&mail.from)
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(mail.recipients.clone()))
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let id = out
            .message_id()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| MailError::Unavailable("SES returned no MessageId".to_owned()))?;
        Ok(SentMail {
            message_id: format!("<{id}@{}>", self.message_id_domain),
            provider_id: id.to_owned(),
        })
    }
}

fn classify<R: std::fmt::Debug + 'static>(e: &SdkError<SendEmailError, R>) -> MailError {
    classify_code(e.code(), chain(e))
}

/// SES error codes after which the same message will never go.
const PERMANENT: [&str; 3] = [
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "BadRequestException",
];

/// `Rejected` for the [`PERMANENT`] codes; `Unavailable` for everything else:
/// account suspended or sending paused (an operator can fix it and the
/// message can go then), throttling, limits, 5xx and network failures (no
/// code).
fn classify_code(code: Option<&str>, text: String) -> MailError {
    if code.is_some_and(|code| PERMANENT.contains(&code)) {
        MailError::Rejected(text)
    } else {
        MailError::Unavailable(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_name_the_region() {
        assert_eq!(message_id_domain("eu-west-1"), "eu-west-1.amazonses.com");
        assert_eq!(message_id_domain("us-east-1"), "email.amazonses.com");
    }

    #[test]
    fn rejections_are_final_and_the_rest_is_retryable() {
        for code in PERMANENT {
            let err = classify_code(Some(code), code.to_owned());
            assert!(matches!(err, MailError::Rejected(_)), "{code}: {err:?}");
        }
        for code in [
            Some("AccountSuspendedException"),
            Some("SendingPausedException"),
            Some("TooManyRequestsException"),
            Some("LimitExceededException"),
            Some("InternalFailure"),
            None,
        ] {
            let err = classify_code(code, String::new());
            assert!(err.is_retryable(), "{code:?}: {err:?}");
        }
    }
}
