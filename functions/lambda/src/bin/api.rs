//! The `api` Lambda function: API Gateway's HTTP API in front of the one
//! router (see `taquilla_lambda::api`). Only wiring lives here.

use lambda_http::Error;
use taquilla_lambda::{api, startup};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let router = startup::start("api", |config, adapters| {
        let state = api::app_state(&adapters, &config.master)?;
        Ok(taquilla_web::router(state))
    })
    .await?;
    lambda_http::run(api::service(router)).await
}
