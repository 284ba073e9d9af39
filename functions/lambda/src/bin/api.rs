//! The `api` Lambda function: API Gateway's HTTP API in front of the one
//! router (see `taquilla_lambda::api`). Only wiring lives here.

use lambda_http::Error;
use taquilla_lambda::{api, config};

/// The router, from the environment (once per cold start).
async fn router() -> Result<axum::Router, Error> {
    let config = config::from_env(std::env::vars())?;
    for name in &config.unknown {
        tracing::warn!(%name, "unknown TAQUILLA_* variable ignored");
    }
    let adapters = config::adapters(&config.settings).await?;
    let state = api::app_state(&adapters, &config.master)?;
    Ok(taquilla_web::router(state))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    taquilla_lambda::init_logging();
    let router = router().await.inspect_err(|error| {
        tracing::error!(%error, "api cannot start");
    })?;
    lambda_http::run(api::service(router)).await
}
