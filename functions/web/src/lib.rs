//! The one router of Taquilla, served by `axum::serve` in the local binary
//! and by `lambda_http::run` in the Lambda functions.
//!
//! Handlers live in [`routes`], one module per concern; every error leaves
//! through [`error::ApiError`], the one place errors become HTTP.

pub mod auth;
pub mod error;
pub mod pages;
pub mod routes;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::{get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::ApiError;
pub use pages::Pages;
pub use state::AppState;

/// Largest blob accepted through a signed upload URL.
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The application: every route, request ids and request logging.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(routes::home::home))
        .route("/healthz", get(routes::health::healthz))
        .route(
            "/blobs/{*key}",
            get(routes::blobs::get)
                .put(routes::blobs::put)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route(
            "/{instance}/api/{file}",
            post(routes::osticket::create_in_instance)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route(
            "/api/{file}",
            post(routes::osticket::create_by_key).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .merge(routes::admin::router())
        .merge(routes::canned::router())
        .merge(routes::tickets::router())
        .merge(routes::tasks::router())
        .merge(routes::templates::router())
        .merge(routes::accounts::router())
        .merge(routes::forms::router())
        .merge(routes::rules::router())
        .merge(routes::suppressions::router())
        .fallback(not_found)
        .with_state(state)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = request
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}
