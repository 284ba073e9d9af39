//! `taquilla sla tick [--instance I]` and the server's escalation ticker:
//! the SLA tick ([`taquilla_core::services::sla::tick`]) over one instance
//! or every one.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use taquilla_core::config::Settings;
use taquilla_core::domain::InstanceId;
use taquilla_core::services::sla::tick::{self, TickReport};
use taquilla_core::services::{Ctx, directory};

use crate::args::{SlaArgs, SlaCommand};
use crate::secrets;
use crate::wiring::Runtime;

/// How often the server's ticker runs the escalation tick.
pub const TICK: Duration = Duration::from_secs(60);

/// Runs the tick in `instances` (every instance when `None`).
pub async fn run_tick(
    runtime: &Runtime,
    instances: Option<Vec<InstanceId>>,
) -> anyhow::Result<Vec<(InstanceId, TickReport)>> {
    let instances = match instances {
        Some(chosen) => chosen,
        None => directory::list_instances(runtime.store.as_ref())
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect(),
    };
    let mut out = Vec::new();
    for instance in instances {
        let ctx = Ctx {
            store: runtime.store.as_ref(),
            blobs: runtime.blobs.as_ref(),
            clock: runtime.clock.as_ref(),
            instance: &instance,
        };
        let report = tick::tick(&ctx)
            .await
            .with_context(|| format!("the SLA tick of {instance}"))?;
        out.push((instance, report));
    }
    Ok(out)
}

/// Runs [`run_tick`] over every instance every [`TICK`] until the process
/// ends; a failure is logged and the next tick tries again (what a tick
/// left undone is still in the due index).
pub fn spawn_ticker(runtime: Arc<Runtime>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = run_tick(&runtime, None).await {
                tracing::warn!(error = %format!("{error:#}"), "sla tick failed");
            }
        }
    })
}

/// `taquilla sla ...`.
pub async fn run(settings: Settings, args: SlaArgs) -> anyhow::Result<()> {
    let (master, _) = secrets::master_key(&settings.data_dir)?;
    let runtime = Runtime::connect(settings, &master).await?;
    match args.command {
        SlaCommand::Tick { instance } => {
            let instances = match instance {
                Some(id) => Some(vec![InstanceId::parse(&id).context("--instance")?]),
                None => None,
            };
            for (instance, report) in run_tick(&runtime, instances).await? {
                println!(
                    "{instance}\tdue {}\twarnings {}\tbreaches {}\twritten {}\tskipped {}\trules_fired {}\tswept {}",
                    report.due,
                    report.warnings,
                    report.breaches,
                    report.written,
                    report.skipped,
                    report.rules_fired,
                    report.swept
                );
            }
            Ok(())
        }
    }
}
