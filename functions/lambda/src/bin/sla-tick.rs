//! The `sla-tick` Lambda function: EventBridge's scheduled event, every
//! minute, runs the escalation tick in every instance (see
//! `taquilla_lambda::sla_tick`). Only wiring lives here.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use taquilla_core::secrets::Purpose;
use taquilla_lambda::config;
use taquilla_lambda::inbound_mail::Outbound;
use taquilla_lambda::sla_tick::{self, EventBridgeEvent, TickDeps};
use taquilla_mail::reply_token::ReplyTokens;

/// The handler's dependencies, from the environment (once per cold start).
async fn deps() -> Result<TickDeps, Error> {
    let config = config::from_env(std::env::vars())?;
    for name in &config.unknown {
        tracing::warn!(%name, "unknown TAQUILLA_* variable ignored");
    }
    let adapters = config::adapters(&config.settings).await?;
    Ok(TickDeps {
        store: adapters.store,
        blobs: adapters.blobs,
        clock: adapters.clock,
        tokens: ReplyTokens::new(config.master.derive(Purpose::ReplyTokens)),
        outbound: Some(Outbound {
            mailer: adapters.mailer,
            public_url: config.settings.public_url.clone(),
        }),
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    taquilla_lambda::init_logging();
    let deps = Arc::new(deps().await.inspect_err(|error| {
        tracing::error!(%error, "sla-tick cannot start");
    })?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| {
        let deps = deps.clone();
        async move { sla_tick::handle(&deps, event.payload).await }
    }))
    .await
}
