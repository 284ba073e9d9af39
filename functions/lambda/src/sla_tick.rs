//! The `sla-tick` function: an EventBridge schedule invokes it every
//! minute with a scheduled event, and it runs the escalation tick
//! ([`taquilla_core::services::sla::tick`]) in every instance of the
//! deployment, as `taquilla serve`'s ticker does locally.
//!
//! The event carries nothing the tick needs: the tick reads the due index
//! up to its clock's now, so a late, repeated or doubled invocation finds
//! what is due at the time it runs and handles each warning and breach once
//! (the tick's writes are conditional on the version it read). A second
//! delivery of the same event changes nothing.
//!
//! With an [`Outbound`] configured, each instance's pending mail is sent
//! after its tick: the alerts the tick wrote, and whatever the `api`
//! function left in the outbox (it answers requests without waiting for
//! mail), so nothing waits more than a minute. A failure to send is logged
//! and left pending, like in `inbound-mail`.
//!
//! One instance failing does not stop the others; the invocation then
//! fails with [`TickError`] (after the others ran) so the function's error
//! alarm sees it. Lambda's retries of it are harmless for the same reason
//! a second delivery is.

use std::sync::Arc;

/// The scheduled event an EventBridge rule sends.
pub use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::Serialize;
use taquilla_core::blobs::Blobs;
use taquilla_core::clock::Clock;
use taquilla_core::domain::InstanceId;
use taquilla_core::services::sla::tick::{self, TickReport};
use taquilla_core::services::{Ctx, ServiceError, directory};
use taquilla_core::store::ItemStore;
use taquilla_mail::dispatch::{self, Dispatcher, Due, Report, RetryPolicy};
use taquilla_mail::reply_token::ReplyTokens;
use thiserror::Error;
use tracing::Instrument as _;

use crate::inbound_mail::Outbound;

/// What the handler works with, built once per cold start.
#[derive(Clone)]
pub struct TickDeps {
    pub store: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn Blobs>,
    pub clock: Arc<dyn Clock>,
    pub tokens: ReplyTokens,
    /// Sends pending mail after each tick; `None` leaves it in the outbox.
    pub outbound: Option<Outbound>,
}

impl std::fmt::Debug for TickDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TickDeps")
            .field("store", &self.store)
            .field("outbound", &self.outbound)
            .finish_non_exhaustive()
    }
}

/// What one invocation did, instance by instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub instances: Vec<InstanceTick>,
}

impl Summary {
    /// Tickets written across instances.
    #[must_use]
    pub fn written(&self) -> usize {
        self.instances.iter().map(|i| i.written).sum()
    }
}

/// The tick of one instance (`taquilla_core`'s [`TickReport`]) and the
/// mail sent after it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InstanceTick {
    pub instance: String,
    pub due: usize,
    pub warnings: usize,
    pub breaches: usize,
    pub written: usize,
    pub skipped: usize,
    /// Time rules fired (one per rule and ticket).
    pub rules_fired: usize,
    /// Open tickets moved in the due index by a time rule's sweep.
    pub swept: usize,
    /// `None` without an [`Outbound`] or when sending failed.
    pub mail: Option<Report>,
}

impl InstanceTick {
    fn new(instance: &InstanceId, report: TickReport) -> Self {
        Self {
            instance: instance.to_string(),
            due: report.due,
            warnings: report.warnings,
            breaches: report.breaches,
            written: report.written,
            skipped: report.skipped,
            rules_fired: report.rules_fired,
            swept: report.swept,
            mail: None,
        }
    }
}

/// Why an invocation failed (the store was unavailable); what was done
/// stays done, and the next tick does the rest.
#[derive(Debug, Error)]
pub enum TickError {
    /// The list of instances could not be read.
    #[error("listing the instances: {0}")]
    Instances(#[source] ServiceError),
    /// Some instances' ticks failed (the others ran).
    #[error("the SLA tick failed in {}: {}", .failed.join(", "), .first)]
    Ticks {
        failed: Vec<String>,
        #[source]
        first: ServiceError,
        /// What the other instances did.
        done: Summary,
    },
}

impl TickError {
    /// A stable code, the `errorType` Lambda records.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Instances(_) => "sla_tick_instances",
            Self::Ticks { .. } => "sla_tick_failed",
        }
    }
}

impl From<TickError> for lambda_runtime::Diagnostic {
    fn from(error: TickError) -> Self {
        Self {
            error_type: error.code().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Runs the tick in every instance; see the module docs.
pub async fn handle(deps: &TickDeps, event: EventBridgeEvent) -> Result<Summary, TickError> {
    tracing::debug!(
        id = event.id.as_deref().unwrap_or_default(),
        detail_type = %event.detail_type,
        "scheduled event"
    );
    let instances = directory::list_instances(deps.store.as_ref())
        .await
        .map_err(TickError::Instances)?;
    let mut summary = Summary::default();
    let mut failed = Vec::new();
    let mut first = None;
    for instance in instances {
        let ctx = Ctx {
            store: deps.store.as_ref(),
            blobs: deps.blobs.as_ref(),
            clock: deps.clock.as_ref(),
            instance: &instance.id,
        };
        let span = tracing::info_span!("instance", instance = %instance.id);
        match tick::tick(&ctx).instrument(span.clone()).await {
            Ok(report) => {
                let mut done = InstanceTick::new(&instance.id, report);
                if let Some(outbound) = &deps.outbound {
                    done.mail = send_pending(deps, outbound, &ctx).instrument(span).await;
                }
                summary.instances.push(done);
            }
            Err(error) => {
                tracing::error!(instance = %instance.id, code = error.code(), %error, "sla tick failed");
                failed.push(instance.id.to_string());
                first.get_or_insert(error);
            }
        }
    }
    match first {
        None => Ok(summary),
        Some(first) => Err(TickError::Ticks {
            failed,
            first,
            done: summary,
        }),
    }
}

/// Sends the instance's pending mail; a failure is logged, not returned.
async fn send_pending(deps: &TickDeps, outbound: &Outbound, ctx: &Ctx<'_>) -> Option<Report> {
    let dispatcher = Dispatcher {
        mailer: outbound.mailer.as_ref(),
        tokens: &deps.tokens,
        public_url: &outbound.public_url,
        retry: RetryPolicy::default(),
    };
    match dispatch::send_pending(ctx, &dispatcher, Due::Now).await {
        Ok(report) => {
            if report.deferred > 0 || report.failed > 0 {
                tracing::warn!(instance = %ctx.instance, ?report, "some mail not sent");
            }
            Some(report)
        }
        Err(error) => {
            tracing::warn!(instance = %ctx.instance, code = error.code(), %error, "pending mail not sent");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/eventbridge/scheduled.json"
    ));

    #[test]
    fn the_scheduled_event_fixture_round_trips() {
        let event: EventBridgeEvent = serde_json::from_str(FIXTURE).unwrap();
        assert_eq!(event.detail_type, "Scheduled Event");
        assert_eq!(event.source, "aws.events");
        let again: EventBridgeEvent =
            serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
        assert_eq!(again, event);
    }
}
