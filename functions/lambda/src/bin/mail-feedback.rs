//! The `mail-feedback` Lambda function: SES bounce and complaint
//! notifications through SNS in, suppressed addresses and ticket events
//! out (see `taquilla_lambda::mail_feedback`). Only wiring lives here.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use taquilla_core::config::MailUrl;
use taquilla_lambda::config;
use taquilla_lambda::mail_feedback::{self, FeedbackDeps, SnsEvent};

/// The handler's dependencies, from the environment (once per cold start).
async fn deps() -> Result<FeedbackDeps, Error> {
    let config = config::from_env(std::env::vars())?;
    for name in &config.unknown {
        tracing::warn!(%name, "unknown TAQUILLA_* variable ignored");
    }
    let adapters = config::adapters(&config.settings).await?;
    let MailUrl::Ses { aws } = &config.settings.mail else {
        return Err("TAQUILLA_MAIL must be ses://REGION".into());
    };
    Ok(FeedbackDeps {
        store: adapters.store,
        blobs: adapters.blobs,
        clock: adapters.clock,
        region: aws.region.clone(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    taquilla_lambda::init_logging();
    let deps = Arc::new(deps().await.inspect_err(|error| {
        tracing::error!(%error, "mail-feedback cannot start");
    })?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| {
        let deps = deps.clone();
        async move { mail_feedback::handle(&deps, event.payload).await }
    }))
    .await
}
