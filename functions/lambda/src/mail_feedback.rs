//! The `mail-feedback` function: SES reports bounces and complaints of the
//! mail we send to an SNS topic (the configuration set's event
//! destination), and the topic invokes us with each report wrapped in an
//! SNS notification.
//!
//! For each record the SES notification is read ([`SesNotification`]:
//! AWS's documented format, `notificationType` or, from a configuration
//! set's event publishing, `eventType`), its help desk found by the
//! address the mail was sent from (our mailbox, [`directory::
//! instance_for_address`]; else the `X-Taquilla-Instance` header we put on
//! every mail), and [`suppressions::record_feedback`] does the rest:
//! recipients of a permanent bounce or a complaint are suppressed, a
//! transient bounce is only recorded, and the ticket the mail was sent from
//! (found by the Message-ID SES gave it, which the dispatcher recorded when
//! sending) gets an event saying why its mail did not arrive. The same
//! notification delivered again changes nothing.
//!
//! Lambda retries a failed asynchronous invocation, so the handler fails
//! only when a retry can help (the store was unavailable). A notification
//! that can never be handled (unreadable, of no help desk, naming no
//! recipient) is logged and reported in the [`Summary`] with a stable
//! code, and the invocation succeeds.

use std::sync::Arc;

/// The SNS event the function is invoked with.
pub use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sns::SnsRecord;
use serde::{Deserialize, Serialize};
use taquilla_core::blobs::Blobs;
use taquilla_core::clock::Clock;
use taquilla_core::domain::InstanceId;
use taquilla_core::services::suppressions::{
    self, Feedback, FeedbackKind, FeedbackOutcome, FeedbackRecipient,
};
use taquilla_core::services::{Ctx, ServiceError, directory};
use taquilla_core::store::ItemStore;
use thiserror::Error;
use tracing::Instrument as _;

use crate::inbound_mail::Failure;

/// The header naming the instance a mail came from (`taquilla_mail`'s
/// `INSTANCE_HEADER`).
const INSTANCE_HEADER: &str = "X-Taquilla-Instance";

/// What the handler works with, built once per cold start.
#[derive(Clone)]
pub struct FeedbackDeps {
    pub store: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn Blobs>,
    pub clock: Arc<dyn Clock>,
    /// The region mail is sent from (`TAQUILLA_MAIL`'s), for the
    /// Message-IDs SES gives when a notification names no region.
    pub region: String,
}

impl std::fmt::Debug for FeedbackDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackDeps")
            .field("store", &self.store)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// An SES bounce or complaint notification (the `Message` of the SNS
/// notification). Fields SES may add later are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesNotification {
    /// `Bounce`, `Complaint` or `Delivery` (`eventType` when published by
    /// a configuration set).
    #[serde(alias = "eventType")]
    pub notification_type: String,
    pub mail: SesMail,
    #[serde(default)]
    pub bounce: Option<SesBounce>,
    #[serde(default)]
    pub complaint: Option<SesComplaint>,
}

/// The mail a notification is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesMail {
    /// The envelope sender: our mailbox.
    #[serde(default)]
    pub source: String,
    /// `arn:aws:ses:{region}:{account}:identity/{domain}`.
    #[serde(default)]
    pub source_arn: Option<String>,
    /// SES's id of the mail; recipients saw `<{messageId}@{region}.amazonses.com>`.
    #[serde(default)]
    pub message_id: String,
    #[serde(default)]
    pub destination: Vec<String>,
    /// The original header fields, when SES includes them.
    #[serde(default)]
    pub headers: Vec<SesHeader>,
    #[serde(default)]
    pub common_headers: Option<SesCommonHeaders>,
}

/// One original header field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SesHeader {
    pub name: String,
    pub value: String,
}

/// The headers SES always reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesCommonHeaders {
    #[serde(default)]
    pub from: Vec<String>,
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
}

/// A bounce.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesBounce {
    /// `Permanent`, `Transient` or `Undetermined`.
    pub bounce_type: String,
    #[serde(default)]
    pub bounce_sub_type: String,
    pub bounced_recipients: Vec<SesBouncedRecipient>,
    pub feedback_id: String,
    #[serde(default)]
    pub timestamp: String,
}

/// A recipient of a bounce.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesBouncedRecipient {
    pub email_address: String,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub diagnostic_code: Option<String>,
}

/// A complaint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesComplaint {
    pub complained_recipients: Vec<SesComplainedRecipient>,
    #[serde(default)]
    pub complaint_feedback_type: Option<String>,
    pub feedback_id: String,
    #[serde(default)]
    pub timestamp: String,
}

/// A recipient of a complaint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesComplainedRecipient {
    pub email_address: String,
}

/// What became of the event's notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub notifications: Vec<NotificationReport>,
}

/// What became of one notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NotificationReport {
    /// SNS's id of the notification.
    pub sns_message_id: String,
    /// What it reported (`permanent`, `transient`, `undetermined`,
    /// `complaint`), once read.
    pub kind: Option<&'static str>,
    pub instance: Option<String>,
    pub outcome: Option<FeedbackOutcome>,
    /// Why it could never be handled.
    pub failure: Option<Failure>,
}

/// A failure that a retry may cure: the handler returns it so Lambda
/// invokes again. What was done is not done twice.
#[derive(Debug, Error)]
pub enum FeedbackError {
    #[error("notification {sns_message_id}: {source}")]
    Store {
        sns_message_id: String,
        #[source]
        source: ServiceError,
    },
}

impl FeedbackError {
    /// A stable code (Lambda's `errorType`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            FeedbackError::Store { source, .. } => source.code(),
        }
    }
}

impl From<FeedbackError> for lambda_runtime::Diagnostic {
    fn from(error: FeedbackError) -> Self {
        Self {
            error_type: error.code().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Handles every record of an SNS event; see the module docs.
pub async fn handle(deps: &FeedbackDeps, event: SnsEvent) -> Result<Summary, FeedbackError> {
    let mut summary = Summary::default();
    for record in &event.records {
        let span = tracing::info_span!(
            "notification",
            instance = tracing::field::Empty,
            ticket = tracing::field::Empty
        );
        let report = notification(deps, record).instrument(span).await?;
        summary.notifications.push(report);
    }
    Ok(summary)
}

fn failure(code: &'static str, reason: impl Into<String>) -> Option<Failure> {
    Some(Failure {
        code,
        reason: reason.into(),
    })
}

async fn notification(
    deps: &FeedbackDeps,
    record: &SnsRecord,
) -> Result<NotificationReport, FeedbackError> {
    let sns_message_id = record.sns.message_id.clone();
    let mut report = NotificationReport {
        sns_message_id: sns_message_id.clone(),
        ..NotificationReport::default()
    };
    let notification: SesNotification = match serde_json::from_str(&record.sns.message) {
        Ok(notification) => notification,
        Err(error) => {
            tracing::error!(%sns_message_id, %error, "not an SES notification");
            report.failure = failure("feedback_unreadable", error.to_string());
            return Ok(report);
        }
    };
    let feedback = match feedback(&notification, &deps.region) {
        Ok(feedback) => feedback,
        Err(failed) => {
            tracing::warn!(%sns_message_id, code = failed.code, reason = %failed.reason, "notification not handled");
            report.failure = Some(failed);
            return Ok(report);
        }
    };
    report.kind = Some(feedback.kind.as_str());
    let store_error = |source| FeedbackError::Store {
        sns_message_id: sns_message_id.clone(),
        source,
    };
    let Some(instance) = instance_of(deps, &notification.mail)
        .await
        .map_err(store_error)?
    else {
        tracing::warn!(%sns_message_id, source = %notification.mail.source, "the mail was sent by no help desk; notification not handled");
        report.failure = failure(
            "feedback_no_instance",
            format!("no help desk sends as {}", notification.mail.source),
        );
        return Ok(report);
    };
    tracing::Span::current().record("instance", instance.as_str());
    report.instance = Some(instance.to_string());
    let ctx = Ctx {
        store: deps.store.as_ref(),
        blobs: deps.blobs.as_ref(),
        clock: deps.clock.as_ref(),
        instance: &instance,
    };
    match suppressions::record_feedback(&ctx, &feedback).await {
        Ok(outcome) => {
            if let Some(number) = &outcome.ticket {
                tracing::Span::current().record("ticket", number.as_str());
            }
            tracing::info!(%sns_message_id, kind = feedback.kind.as_str(), duplicate = outcome.duplicate, suppressed = outcome.suppressed.len(), "mail feedback handled");
            report.outcome = Some(outcome);
            Ok(report)
        }
        Err(ServiceError::Invalid { field, message }) => {
            tracing::warn!(%sns_message_id, %field, %message, "notification not handled");
            report.failure = failure("feedback_invalid", format!("{field}: {message}"));
            Ok(report)
        }
        Err(other) => Err(store_error(other)),
    }
}

/// The [`Feedback`] a notification reports; a [`Failure`] for one that is
/// neither a bounce nor a complaint, or lacks what it needs.
pub fn feedback(notification: &SesNotification, region: &str) -> Result<Feedback, Failure> {
    let missing = |what: &str| Failure {
        code: "feedback_invalid",
        reason: format!(
            "a {} notification without {what}",
            notification.notification_type
        ),
    };
    let (id, kind, detail, recipients) = match notification.notification_type.as_str() {
        "Bounce" => {
            let bounce = notification
                .bounce
                .as_ref()
                .ok_or_else(|| missing("bounce"))?;
            let kind = match bounce.bounce_type.as_str() {
                "Permanent" => FeedbackKind::PermanentBounce,
                "Transient" => FeedbackKind::TransientBounce,
                _ => FeedbackKind::UndeterminedBounce,
            };
            let recipients = bounce
                .bounced_recipients
                .iter()
                .map(|r| FeedbackRecipient {
                    address: r.email_address.clone(),
                    status: r.status.clone(),
                    diagnostic: r.diagnostic_code.clone(),
                })
                .collect();
            (
                bounce.feedback_id.clone(),
                kind,
                bounce.bounce_sub_type.clone(),
                recipients,
            )
        }
        "Complaint" => {
            let complaint = notification
                .complaint
                .as_ref()
                .ok_or_else(|| missing("complaint"))?;
            let recipients = complaint
                .complained_recipients
                .iter()
                .map(|r| FeedbackRecipient {
                    address: r.email_address.clone(),
                    ..FeedbackRecipient::default()
                })
                .collect();
            (
                complaint.feedback_id.clone(),
                FeedbackKind::Complaint,
                complaint
                    .complaint_feedback_type
                    .clone()
                    .unwrap_or_default(),
                recipients,
            )
        }
        other => {
            return Err(Failure {
                code: "feedback_ignored",
                reason: format!("a {other} notification is neither a bounce nor a complaint"),
            });
        }
    };
    Ok(Feedback {
        id,
        kind,
        detail,
        recipients,
        message_ids: message_ids(&notification.mail, region),
    })
}

/// The Message-IDs the mail may have been recorded under when sent: the
/// one SES gave it (in the region of its sending identity), then the
/// headers' own.
#[must_use]
pub fn message_ids(mail: &SesMail, region: &str) -> Vec<String> {
    let mut ids = Vec::new();
    if !mail.message_id.trim().is_empty() {
        let region = mail
            .source_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(3))
            .filter(|r| !r.is_empty())
            .unwrap_or(region);
        ids.push(format!(
            "<{}@{}>",
            mail.message_id.trim(),
            taquilla_aws::ses_mailer::message_id_domain(region)
        ));
    }
    let headers = mail
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Message-ID"))
        .map(|h| h.value.clone());
    for id in mail
        .common_headers
        .iter()
        .filter_map(|c| c.message_id.clone())
        .chain(headers)
    {
        if !id.trim().is_empty() && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The help desk that sent the mail: the one whose mailbox is its
/// envelope sender or From address, else the one its instance header
/// names (if it exists).
async fn instance_of(
    deps: &FeedbackDeps,
    mail: &SesMail,
) -> Result<Option<InstanceId>, ServiceError> {
    let froms = mail
        .common_headers
        .iter()
        .flat_map(|c| c.from.iter())
        .map(|from| address_in(from));
    for address in std::iter::once(mail.source.clone()).chain(froms) {
        if address.trim().is_empty() {
            continue;
        }
        if let Some(instance) =
            directory::instance_for_address(deps.store.as_ref(), &address).await?
        {
            return Ok(Some(instance));
        }
    }
    let named = mail
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(INSTANCE_HEADER))
        .and_then(|h| InstanceId::parse(h.value.trim()).ok());
    match named {
        Some(instance) => match directory::instance(deps.store.as_ref(), &instance).await {
            Ok(_) => Ok(Some(instance)),
            Err(ServiceError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        },
        None => Ok(None),
    }
}

/// The address in `Name <address>`, or the text itself.
fn address_in(mailbox: &str) -> String {
    match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(start), Some(end)) if start < end => mailbox[start + 1..end].trim().to_owned(),
        _ => mailbox.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> SnsEvent {
        let path = format!(
            "{}/../../tests/fixtures/sns/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn notification(name: &str) -> SesNotification {
        let event = fixture(name);
        assert_eq!(event.records.len(), 1);
        assert_eq!(event.records[0].sns.sns_message_type, "Notification");
        serde_json::from_str(&event.records[0].sns.message).unwrap()
    }

    #[test]
    fn the_fixtures_round_trip() {
        for name in [
            "ses-bounce-permanent",
            "ses-bounce-transient",
            "ses-complaint",
        ] {
            let event = fixture(name);
            let again: SnsEvent =
                serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
            assert_eq!(again, event, "{name}");
        }
    }

    #[test]
    fn a_permanent_bounce_reads_as_one() {
        let n = notification("ses-bounce-permanent");
        let feedback = feedback(&n, "us-east-1").unwrap();
        assert_eq!(feedback.kind, FeedbackKind::PermanentBounce);
        assert_eq!(feedback.detail, "General");
        assert_eq!(feedback.recipients.len(), 1);
        assert_eq!(feedback.recipients[0].status.as_deref(), Some("5.1.1"));
        assert!(!feedback.id.is_empty());
        // SES's id in the identity's region, before the headers' own.
        assert_eq!(
            feedback.message_ids[0],
            format!("<{}@eu-west-1.amazonses.com>", n.mail.message_id)
        );
        assert_eq!(n.mail.source, "support@demo.taquilla.test");
    }

    #[test]
    fn a_transient_bounce_and_a_complaint_read_as_such() {
        let transient = feedback(&notification("ses-bounce-transient"), "eu-west-1").unwrap();
        assert_eq!(transient.kind, FeedbackKind::TransientBounce);
        assert_eq!(transient.detail, "MailboxFull");
        let complaint = feedback(&notification("ses-complaint"), "eu-west-1").unwrap();
        assert_eq!(complaint.kind, FeedbackKind::Complaint);
        assert_eq!(complaint.detail, "abuse");
        assert_eq!(complaint.recipients.len(), 1);
    }

    #[test]
    fn event_publishing_names_the_type_event_type() {
        let event = fixture("ses-bounce-permanent");
        let mut json: serde_json::Value =
            serde_json::from_str(&event.records[0].sns.message).unwrap();
        let kind = json["notificationType"].take();
        json.as_object_mut().unwrap().remove("notificationType");
        json["eventType"] = kind;
        let n: SesNotification = serde_json::from_value(json).unwrap();
        assert_eq!(
            feedback(&n, "eu-west-1").unwrap().kind,
            FeedbackKind::PermanentBounce
        );
    }

    #[test]
    fn deliveries_and_incomplete_notifications_are_refused_with_codes() {
        let mut n = notification("ses-bounce-permanent");
        n.notification_type = "Delivery".into();
        assert_eq!(
            feedback(&n, "eu-west-1").unwrap_err().code,
            "feedback_ignored"
        );
        let mut n = notification("ses-bounce-permanent");
        n.bounce = None;
        assert_eq!(
            feedback(&n, "eu-west-1").unwrap_err().code,
            "feedback_invalid"
        );
    }

    #[test]
    fn without_a_source_arn_the_functions_region_names_the_id() {
        let mail = SesMail {
            message_id: "abc".into(),
            ..SesMail::default()
        };
        assert_eq!(
            message_ids(&mail, "us-east-1"),
            ["<abc@email.amazonses.com>"]
        );
        assert!(message_ids(&SesMail::default(), "eu-west-1").is_empty());
    }

    #[test]
    fn mailboxes_give_their_address() {
        assert_eq!(
            address_in("Demo <support@demo.taquilla.test>"),
            "support@demo.taquilla.test"
        );
        assert_eq!(address_in(" a@b.c "), "a@b.c");
    }

    #[test]
    fn errors_carry_stable_codes_to_lambda() {
        let error = FeedbackError::Store {
            sns_message_id: "m".into(),
            source: ServiceError::Store(taquilla_core::store::StoreError::Unavailable(
                "throttled".into(),
            )),
        };
        let diagnostic = lambda_runtime::Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "store_unavailable");
        assert!(diagnostic.error_message.contains("throttled"));
    }
}
