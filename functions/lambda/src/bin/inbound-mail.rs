//! The `inbound-mail` Lambda function: SES receipt events in, tickets out
//! (see `taquilla_lambda::inbound_mail`). Only wiring lives here.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use taquilla_core::secrets::Purpose;
use taquilla_lambda::config::{self, INBOUND_BUCKET};
use taquilla_lambda::inbound_mail::{self, InboundDeps, Outbound, SimpleEmailEvent};
use taquilla_mail::reply_token::ReplyTokens;

/// The handler's dependencies, from the environment (once per cold start).
async fn deps() -> Result<InboundDeps, Error> {
    let config = config::from_env(std::env::vars())?;
    for name in &config.unknown {
        tracing::warn!(%name, "unknown TAQUILLA_* variable ignored");
    }
    let source = (config.inbound.clone()).ok_or(format!("{INBOUND_BUCKET} is required"))?;
    let adapters = config::adapters(&config.settings).await?;
    Ok(InboundDeps {
        store: adapters.store,
        blobs: adapters.blobs,
        clock: adapters.clock,
        s3: adapters.s3,
        source,
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
        tracing::error!(%error, "inbound-mail cannot start");
    })?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SimpleEmailEvent>| {
        let deps = deps.clone();
        async move { inbound_mail::handle(&deps, event.payload).await }
    }))
    .await
}
