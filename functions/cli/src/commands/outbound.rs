//! Sending what the outbox holds: `taquilla mail send-pending`, the
//! server's ticker, and the run `taquilla pipe` makes after a message
//! (so mail goes out without a server).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use taquilla_core::domain::InstanceId;
use taquilla_core::services::{Ctx, directory};
use taquilla_mail::dispatch::{self, Dispatcher, Due, Report, RetryPolicy};
use taquilla_mail::reply_token::ReplyTokens;

use crate::wiring::Runtime;

/// How often the server's ticker looks at the outboxes.
pub const TICK: Duration = Duration::from_secs(1);

/// Sends the pending mail of `instances` (every instance when `None`).
pub async fn send(
    runtime: &Runtime,
    instances: Option<Vec<InstanceId>>,
    due: Due,
) -> anyhow::Result<Vec<(InstanceId, Report)>> {
    let instances = match instances {
        Some(chosen) => chosen,
        None => directory::list_instances(runtime.store.as_ref())
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect(),
    };
    let tokens = ReplyTokens::new((*runtime.reply_key).clone());
    let dispatcher = Dispatcher {
        mailer: runtime.mailer.as_ref(),
        tokens: &tokens,
        public_url: &runtime.settings.public_url,
        retry: RetryPolicy::default(),
    };
    let mut out = Vec::new();
    for instance in instances {
        let ctx = Ctx {
            store: runtime.store.as_ref(),
            blobs: runtime.blobs.as_ref(),
            clock: runtime.clock.as_ref(),
            instance: &instance,
        };
        let report = dispatch::send_pending(&ctx, &dispatcher, due)
            .await
            .with_context(|| format!("sending the pending mail of {instance}"))?;
        out.push((instance, report));
    }
    Ok(out)
}

/// Runs [`send`] over every instance every [`TICK`] until the process ends;
/// failures are logged and the next tick tries again.
pub fn spawn_ticker(runtime: Arc<Runtime>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match send(&runtime, None, Due::Now).await {
                Ok(reports) => {
                    for (instance, report) in reports {
                        if report != Report::default() {
                            tracing::info!(%instance, ?report, "outbox");
                        }
                    }
                }
                Err(error) => tracing::warn!(error = %format!("{error:#}"), "outbox tick failed"),
            }
        }
    })
}

/// `taquilla mail send-pending [--instance I] [--all]`.
pub async fn run_send_pending(
    runtime: &Runtime,
    instance: Option<&str>,
    all: bool,
) -> anyhow::Result<()> {
    let instances = match instance {
        Some(id) => Some(vec![InstanceId::parse(id).context("--instance")?]),
        None => None,
    };
    let due = if all { Due::All } else { Due::Now };
    let mut failed = 0;
    for (instance, report) in send(runtime, instances, due).await? {
        println!(
            "{instance}\tsent {}\tdeferred {}\tfailed {}",
            report.sent, report.deferred, report.failed
        );
        failed += report.deferred + report.failed;
    }
    anyhow::ensure!(failed == 0, "{failed} mail(s) could not be sent");
    Ok(())
}
