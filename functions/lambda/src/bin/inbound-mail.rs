//! The `inbound-mail` Lambda function: SES receipt events in, tickets out
//! (see `taquilla_lambda::inbound_mail`). Only wiring lives here.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use taquilla_core::secrets::Purpose;
use taquilla_lambda::config::{INBOUND_BUCKET, refused};
use taquilla_lambda::inbound_mail::{self, InboundDeps, Outbound, SimpleEmailEvent};
use taquilla_lambda::startup;
use taquilla_mail::reply_token::ReplyTokens;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = startup::start("inbound-mail", |config, adapters| {
        let source =
            (config.inbound.clone()).ok_or_else(|| refused(INBOUND_BUCKET, "is required"))?;
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
    })
    .await?;
    let deps = Arc::new(deps);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SimpleEmailEvent>| {
        let deps = deps.clone();
        async move { inbound_mail::handle(&deps, event.payload).await }
    }))
    .await
}
