//! The `mail-feedback` Lambda function: SES bounce and complaint
//! notifications through SNS in, suppressed addresses and ticket events
//! out (see `taquilla_lambda::mail_feedback`). Only wiring lives here.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use taquilla_core::config::MailUrl;
use taquilla_lambda::config::refused;
use taquilla_lambda::mail_feedback::{self, FeedbackDeps, SnsEvent};
use taquilla_lambda::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = startup::start("mail-feedback", |config, adapters| {
        let MailUrl::Ses { aws } = &config.settings.mail else {
            return Err(refused("TAQUILLA_MAIL", "must be ses://REGION"));
        };
        Ok(FeedbackDeps {
            store: adapters.store,
            blobs: adapters.blobs,
            clock: adapters.clock,
            region: aws.region.clone(),
        })
    })
    .await?;
    let deps = Arc::new(deps);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| {
        let deps = deps.clone();
        async move { mail_feedback::handle(&deps, event.payload).await }
    }))
    .await
}
