//! The `inbound-mail` function: SES received a message for the
//! deployment, a receipt rule stored it in S3 (the object key being the
//! prefix and SES's messageId) and invoked us with the receipt event.
//!
//! For each record: the recipients are resolved to help desks
//! ([`directory::instance_for_address`]; a recipient of none is logged and
//! skipped), the raw message is read from the inbound bucket once, and it
//! goes through [`pipeline::ingest`] once per help desk with the
//! recipients of that desk as its envelope and SES's spam and virus
//! verdicts beside it.
//!
//! Lambda retries an asynchronous invocation that fails, so the handler
//! fails only when trying again can help: the store or the bucket was
//! unavailable, or the pipeline answered [`Temporary`]. Nothing is lost by
//! a retry, as the pipeline is idempotent on the message (a help desk that
//! took it already answers `duplicate`). What can never succeed (the
//! object is gone, the message is refused) is logged and reported in the
//! [`Summary`], and the invocation succeeds.
//!
//! What a message owes (the auto-response, alerts) was written to the
//! instance's outbox with the ticket; with an [`Outbound`] configured it
//! is sent right after, as `taquilla pipe` does. A failure there does not
//! fail the invocation: the message is safe, and what was not sent stays
//! pending in the outbox (with its own retries) for the next run.

use std::sync::Arc;

/// The SES receipt event the function is invoked with.
pub use aws_lambda_events::event::ses::SimpleEmailEvent;
use aws_lambda_events::event::ses::{SimpleEmailService, SimpleEmailVerdict};
use aws_sdk_s3::error::SdkError;
use serde::Serialize;
use taquilla_core::blobs::Blobs;
use taquilla_core::clock::Clock;
use taquilla_core::domain::InstanceId;
use taquilla_core::mailer::Mailer;
use taquilla_core::services::{Ctx, ServiceError, directory};
use taquilla_core::store::ItemStore;
use taquilla_mail::dispatch::{self, Dispatcher, Due, Report, RetryPolicy};
use taquilla_mail::inbound::Verdict;
use taquilla_mail::pipeline::{self, Envelope, Outcome, Temporary, Verdicts};
use taquilla_mail::reply_token::ReplyTokens;
use thiserror::Error;
use tracing::Instrument as _;

use crate::config::InboundSource;

/// Largest message read from the bucket: 40 MiB (SES accepts 40 MB).
pub const MAX_MESSAGE_BYTES: u64 = 40 * 1024 * 1024;

/// What the handler works with, built once per cold start.
#[derive(Clone)]
pub struct InboundDeps {
    pub store: Arc<dyn ItemStore>,
    /// Where tickets' attachments go.
    pub blobs: Arc<dyn Blobs>,
    pub clock: Arc<dyn Clock>,
    /// The client that reads the inbound bucket.
    pub s3: aws_sdk_s3::Client,
    pub source: InboundSource,
    pub tokens: ReplyTokens,
    /// Sends what the message owes; `None` leaves it in the outbox.
    pub outbound: Option<Outbound>,
}

/// How mail leaves.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub mailer: Arc<dyn Mailer>,
    /// The portal's address, for links in mail (`TAQUILLA_PUBLIC_URL`).
    pub public_url: String,
}

impl std::fmt::Debug for InboundDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundDeps")
            .field("store", &self.store)
            .field("source", &self.source)
            .field("outbound", &self.outbound)
            .finish_non_exhaustive()
    }
}

/// What became of the event's messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub messages: Vec<MessageReport>,
}

/// What became of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageReport {
    /// SES's messageId (the object key without the prefix).
    pub message_id: String,
    /// The outcome at each help desk it was sent to, in recipient order.
    pub deliveries: Vec<Delivery>,
    /// Recipients that are no help desk's mailbox.
    pub skipped: Vec<String>,
    /// Why the message could not be processed at all, for good.
    pub failure: Option<Failure>,
}

/// The pipeline's outcome at one help desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub instance: String,
    pub recipients: Vec<String>,
    pub outcome: Outcome,
    /// What the run of the instance's outbox after it did; `None` when
    /// none ran (no [`Outbound`], a refused message) or it failed.
    pub mail: Option<Report>,
}

/// A permanent failure of a whole message, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub code: &'static str,
    pub reason: String,
}

/// A failure that a retry may cure: the handler returns it so Lambda
/// invokes again. Nothing was lost; what was done is not done twice.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// The inbound bucket could not be read (throttled, unreachable,
    /// denied: a configuration being fixed is worth retrying too).
    #[error("reading message {message_id} from the inbound bucket: {message}")]
    Inbound { message_id: String, message: String },
    /// The directory could not be read.
    #[error("finding the help desks of message {message_id}: {source}")]
    Store {
        message_id: String,
        #[source]
        source: ServiceError,
    },
    /// The pipeline did not process the message.
    #[error("message {message_id} for {instance}: {source}")]
    Pipeline {
        message_id: String,
        instance: String,
        #[source]
        source: Temporary,
    },
}

impl HandlerError {
    /// A stable code (Lambda's `errorType`).
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            HandlerError::Inbound { .. } => "inbound_unavailable",
            HandlerError::Store { source, .. } => source.code(),
            HandlerError::Pipeline { source, .. } => &source.code,
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.code().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Processes every record of an SES receipt event; see the module docs.
pub async fn handle(deps: &InboundDeps, event: SimpleEmailEvent) -> Result<Summary, HandlerError> {
    let mut summary = Summary::default();
    for record in &event.records {
        summary.messages.push(message(deps, &record.ses).await?);
    }
    Ok(summary)
}

async fn message(
    deps: &InboundDeps,
    ses: &SimpleEmailService,
) -> Result<MessageReport, HandlerError> {
    let message_id = ses.mail.message_id.clone().unwrap_or_default();
    let mut report = MessageReport {
        message_id: message_id.clone(),
        ..MessageReport::default()
    };
    if message_id.trim().is_empty() || message_id.contains('/') {
        tracing::error!(%message_id, "SES event without a usable messageId");
        report.failure = Some(Failure {
            code: "ses_no_message_id",
            reason: "the event names no stored message".to_owned(),
        });
        return Ok(report);
    }

    let mut desks: Vec<(InstanceId, Vec<String>)> = Vec::new();
    for recipient in &ses.receipt.recipients {
        let found = directory::instance_for_address(deps.store.as_ref(), recipient)
            .await
            .map_err(|source| HandlerError::Store {
                message_id: message_id.clone(),
                source,
            })?;
        match found {
            Some(instance) => match desks.iter_mut().find(|(id, _)| *id == instance) {
                Some((_, recipients)) => recipients.push(recipient.clone()),
                None => desks.push((instance, vec![recipient.clone()])),
            },
            None => {
                tracing::warn!(%message_id, %recipient, "no help desk has this mailbox; skipped");
                report.skipped.push(recipient.clone());
            }
        }
    }
    if desks.is_empty() {
        return Ok(report);
    }

    let raw = match fetch(deps, &message_id).await? {
        Ok(raw) => raw,
        Err(failure) => {
            tracing::error!(%message_id, code = failure.code, reason = %failure.reason, "message not processed");
            report.failure = Some(failure);
            return Ok(report);
        }
    };
    let verdicts = Verdicts {
        spam: verdict(&ses.receipt.spam_verdict),
        virus: verdict(&ses.receipt.virus_verdict),
    };
    for (instance, recipients) in desks {
        let ctx = Ctx {
            store: deps.store.as_ref(),
            blobs: deps.blobs.as_ref(),
            clock: deps.clock.as_ref(),
            instance: &instance,
        };
        let envelope = Envelope {
            recipients: recipients.clone(),
            verdicts: verdicts.clone(),
        };
        // Every line about this help desk names it, and the ticket once known.
        let span = tracing::info_span!(
            "desk",
            instance = %instance,
            ticket = tracing::field::Empty
        );
        let outcome = pipeline::ingest(&ctx, &deps.tokens, &raw, &envelope)
            .instrument(span.clone())
            .await
            .map_err(|source| HandlerError::Pipeline {
                message_id: message_id.clone(),
                instance: instance.to_string(),
                source,
            })?;
        if let Some(number) = ticket_of(&outcome) {
            span.record("ticket", number);
        }
        span.in_scope(|| match &outcome {
            Outcome::Rejected { code, reason } => {
                tracing::warn!(%message_id, code, %reason, "message refused");
            }
            Outcome::Kept { .. } => {
                tracing::warn!(%message_id, summary = %outcome.summary(), "message kept for review");
            }
            _ => {
                tracing::info!(%message_id, summary = %outcome.summary(), "message received");
            }
        });
        let mail = match (&deps.outbound, &outcome) {
            (Some(outbound), outcome) if !matches!(outcome, Outcome::Rejected { .. }) => {
                send_pending(deps, outbound, &ctx, &message_id)
                    .instrument(span.clone())
                    .await
            }
            _ => None,
        };
        report.deliveries.push(Delivery {
            instance: instance.to_string(),
            recipients,
            outcome,
            mail,
        });
    }
    Ok(report)
}

/// The number of the ticket the message went to, if any.
fn ticket_of(outcome: &Outcome) -> Option<&str> {
    match outcome {
        Outcome::Opened { number, .. } | Outcome::Threaded { number, .. } => Some(number),
        Outcome::Duplicate { ticket } => Some(ticket),
        Outcome::Bounce { number, .. } => number.as_deref(),
        _ => None,
    }
}

/// Sends the instance's pending mail; a failure is logged, not returned
/// (see the module docs).
async fn send_pending(
    deps: &InboundDeps,
    outbound: &Outbound,
    ctx: &Ctx<'_>,
    message_id: &str,
) -> Option<Report> {
    let dispatcher = Dispatcher {
        mailer: outbound.mailer.as_ref(),
        tokens: &deps.tokens,
        public_url: &outbound.public_url,
        retry: RetryPolicy::default(),
    };
    match dispatch::send_pending(ctx, &dispatcher, Due::Now).await {
        Ok(report) => {
            if report.deferred > 0 || report.failed > 0 {
                tracing::warn!(%message_id, instance = %ctx.instance, ?report, "some mail not sent");
            }
            Some(report)
        }
        Err(error) => {
            tracing::warn!(%message_id, instance = %ctx.instance, code = error.code(), %error, "pending mail not sent");
            None
        }
    }
}

/// The raw message SES stored: `Ok(Err(..))` when it can never be read
/// (gone, too large), `Err` when a retry may read it.
async fn fetch(
    deps: &InboundDeps,
    message_id: &str,
) -> Result<Result<Vec<u8>, Failure>, HandlerError> {
    let key = deps.source.key(message_id);
    let unavailable = |message: String| HandlerError::Inbound {
        message_id: message_id.to_owned(),
        message,
    };
    let object = match deps
        .s3
        .get_object()
        .bucket(&deps.source.bucket)
        .key(&key)
        .send()
        .await
    {
        Ok(object) => object,
        Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => {
            return Ok(Err(Failure {
                code: "mail_object_missing",
                reason: format!("no object {key} in bucket {}", deps.source.bucket),
            }));
        }
        Err(e) => {
            let e = aws_sdk_s3::Error::from(e);
            return Err(unavailable(e.to_string()));
        }
    };
    let size = object.content_length().unwrap_or(0);
    if u64::try_from(size).unwrap_or(0) > MAX_MESSAGE_BYTES {
        return Ok(Err(Failure {
            code: "mail_too_large",
            reason: format!("{key} is {size} bytes, over the limit of {MAX_MESSAGE_BYTES}"),
        }));
    }
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    Ok(Ok(bytes.into_bytes().to_vec()))
}

/// A verdict of the receipt, when SES gave one.
fn verdict(verdict: &SimpleEmailVerdict) -> Option<Verdict> {
    verdict
        .status
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(Verdict::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed fixture, shaped as AWS documents the Lambda action's event.
    fn fixture() -> SimpleEmailEvent {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/ses/receipt.json"
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn the_receipt_fixture_deserialises() {
        let event = fixture();
        assert_eq!(event.records.len(), 1);
        let ses = &event.records[0].ses;
        assert_eq!(
            ses.mail.message_id.as_deref(),
            Some("o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1")
        );
        assert_eq!(ses.receipt.recipients, vec!["support@demo.taquilla.test"]);
        assert_eq!(verdict(&ses.receipt.spam_verdict), Some(Verdict::Pass));
        assert_eq!(verdict(&ses.receipt.virus_verdict), Some(Verdict::Pass));
        assert_eq!(ses.receipt.action.type_.as_deref(), Some("Lambda"));
        assert_eq!(ses.receipt.action.invocation_type.as_deref(), Some("Event"));
        assert_eq!(
            ses.mail.common_headers.subject.as_deref(),
            Some("Cannot log in to the virtual campus")
        );
    }

    #[test]
    fn the_fixture_round_trips() {
        let event = fixture();
        let again: SimpleEmailEvent =
            serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
        assert_eq!(again, event);
    }

    #[test]
    fn verdicts_read_as_ses_writes_them() {
        let v = |s: &str| {
            let json = serde_json::json!({ "status": s });
            verdict(&serde_json::from_value(json).unwrap())
        };
        assert_eq!(v("FAIL"), Some(Verdict::Fail));
        assert_eq!(v("GRAY"), Some(Verdict::Gray));
        assert_eq!(v("PROCESSING_FAILED"), Some(Verdict::ProcessingFailed));
        assert_eq!(v(""), None);
    }

    #[test]
    fn errors_carry_stable_codes_to_lambda() {
        let error = HandlerError::Pipeline {
            message_id: "m".into(),
            instance: "demo".into(),
            source: Temporary {
                code: "store_unavailable".into(),
                message: "throttled".into(),
            },
        };
        let diagnostic = lambda_runtime::Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "store_unavailable");
        assert!(diagnostic.error_message.contains("throttled"));
    }
}
