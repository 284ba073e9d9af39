//! The `api` Lambda function: API Gateway's HTTP API in front of the one
//! router (see `taquilla_lambda::api`). Only wiring lives here.

use lambda_http::Error;
use taquilla_lambda::{api, startup};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let api = startup::start("api", |config, adapters| {
        Ok(api::Api::new(api::app_state(&adapters, &config.master)?))
    })
    .await?;
    lambda_http::run(api::service(api)).await
}
