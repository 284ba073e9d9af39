//! The `sla-tick` Lambda function: EventBridge's scheduled event, every
//! minute, runs the escalation tick in every instance (see
//! `taquilla_lambda::sla_tick`). Only wiring lives here.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use taquilla_core::secrets::Purpose;
use taquilla_lambda::inbound_mail::Outbound;
use taquilla_lambda::sla_tick::{self, EventBridgeEvent, TickDeps};
use taquilla_lambda::startup;
use taquilla_mail::reply_token::ReplyTokens;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = startup::start("sla-tick", |config, adapters| {
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
    })
    .await?;
    let deps = Arc::new(deps);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| {
        let deps = deps.clone();
        async move { sla_tick::handle(&deps, event.payload).await }
    }))
    .await
}
