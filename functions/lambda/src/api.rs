//! The `api` function: API Gateway (HTTP API, payload 2.0) in front of the
//! one router of Taquilla (`taquilla_web::router`), the same router
//! `taquilla serve` runs with `axum::serve`.
//!
//! `lambda_http` turns the API Gateway event into an HTTP request and the
//! router's response back into API Gateway's response. The one thing it
//! leaves out is the client's address, which the local server takes from
//! the connection (`ConnectInfo`) and API keys are checked against: here it
//! is API Gateway's `requestContext.http.sourceIp`, the peer of the TCP
//! connection API Gateway accepted (not `X-Forwarded-For`, which the client
//! writes), given to the router the same way. API Gateway's request id
//! becomes the request's `x-request-id` when the client sent none, so the
//! router's logs and the response carry the id API Gateway logs.
//!
//! Blobs are S3 objects reached through presigned URLs, so the router
//! serves none itself (`signed_blobs` is `None`).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::HeaderValue;
use axum::response::Response;
use lambda_http::request::RequestContext;
use lambda_http::tower::ServiceExt as _;
use lambda_http::{RequestExt as _, Service, service_fn};
use taquilla_core::config::ConfigError;
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_web::{AppState, Pages};
use tracing::Instrument as _;

use crate::config::Adapters;

/// The HTTP request `lambda_http` builds from an API Gateway event.
pub use lambda_http::Request;
/// The API Gateway event, as the Lambda runtime delivers it.
pub use lambda_http::request::LambdaRequest;

const REQUEST_ID: &str = "x-request-id";

/// The router's state on AWS: the adapters, the embedded page templates and
/// the keys derived from the master key.
pub fn app_state(adapters: &Adapters, master: &MasterKey) -> Result<AppState, ConfigError> {
    let pages = Pages::embedded().map_err(|e| ConfigError {
        key: "templates".to_owned(),
        origin: "embedded".to_owned(),
        message: e.to_string(),
    })?;
    Ok(AppState {
        store: adapters.store.clone(),
        blobs: adapters.blobs.clone(),
        mailer: adapters.mailer.clone(),
        clock: adapters.clock.clone(),
        signed_blobs: None,
        pages: Arc::new(pages),
        token_key: Arc::new(master.derive(Purpose::AgentTokens)),
        reply_key: Arc::new(master.derive(Purpose::ReplyTokens)),
    })
}

/// The client's address API Gateway saw.
#[must_use]
pub fn source_ip(request: &Request) -> Option<IpAddr> {
    let ip = match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref(),
        #[allow(unreachable_patterns)]
        _ => None,
    }?;
    ip.parse().ok()
}

/// API Gateway's id of the request.
fn gateway_request_id(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The instance and ticket number a request's path names:
/// `/api/v1/{instance}/...` (`.../tickets/{number}/...`) or osTicket's
/// `/{instance}/api/...`.
#[must_use]
pub fn path_subjects(path: &str) -> (Option<&str>, Option<&str>) {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["api", "v1", "openapi.json", ..] => (None, None),
        ["api", "v1", instance, "tickets", number, ..] if !number.is_empty() => {
            (Some(instance), Some(number))
        }
        ["api", "v1", instance, ..] if !instance.is_empty() => (Some(instance), None),
        [instance, "api", _, ..] if !instance.is_empty() => (Some(instance), None),
        _ => (None, None),
    }
}

/// Serves one request with `router`; see the module docs for what is added
/// to it first. Never fails: errors are HTTP responses. Its log lines
/// carry the instance and ticket its path names.
pub async fn handle(router: Router, mut request: Request) -> Result<Response, Infallible> {
    let span = tracing::info_span!(
        "api",
        instance = tracing::field::Empty,
        ticket = tracing::field::Empty
    );
    let (instance, ticket) = path_subjects(request.uri().path());
    if let Some(instance) = instance {
        span.record("instance", instance);
    }
    if let Some(ticket) = ticket {
        span.record("ticket", ticket);
    }
    if let Some(ip) = source_ip(&request) {
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, 0)));
    }
    if !request.headers().contains_key(REQUEST_ID)
        && let Some(id) = gateway_request_id(&request).filter(|id| !id.is_empty())
        && let Ok(value) = HeaderValue::from_str(&id)
    {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    router.oneshot(request).instrument(span).await
}

/// The service `lambda_http::run` drives: [`handle`] with `router`.
pub fn service(
    router: Router,
) -> impl Service<
    Request,
    Response = Response,
    Error = Infallible,
    Future = impl Future<Output = Result<Response, Infallible>> + Send,
> + Clone {
    service_fn(move |request: Request| handle(router.clone(), request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_names_the_instance_and_ticket_logs_carry() {
        assert_eq!(
            path_subjects("/api/v1/demo/tickets/100042/responses"),
            (Some("demo"), Some("100042"))
        );
        assert_eq!(path_subjects("/api/v1/demo/tickets"), (Some("demo"), None));
        assert_eq!(path_subjects("/api/v1/demo"), (Some("demo"), None));
        assert_eq!(
            path_subjects("/demo/api/tickets.json"),
            (Some("demo"), None)
        );
        assert_eq!(path_subjects("/api/v1/openapi.json"), (None, None));
        assert_eq!(path_subjects("/api/tickets.json"), (None, None));
        assert_eq!(path_subjects("/healthz"), (None, None));
        assert_eq!(path_subjects("/"), (None, None));
    }
}
