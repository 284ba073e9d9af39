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
//!
//! The same event delivered twice changes nothing the second time: a
//! request that changes something is claimed by API Gateway's request id
//! in the instance its path names, and answered again from the claim when
//! it comes back (`services::replays`; an answer served again carries
//! `x-taquilla-replayed: true`). A repeat that arrives while the first is
//! still being served gets `409 conflict`; a first delivery that failed on
//! our side (5xx) gives its claim up, so a retry is served.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use lambda_http::request::RequestContext;
use lambda_http::tower::ServiceExt as _;
use lambda_http::{RequestExt as _, Service, service_fn};
use taquilla_core::clock::Clock;
use taquilla_core::config::ConfigError;
use taquilla_core::domain::InstanceId;
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_core::services::ServiceError;
use taquilla_core::services::replays::{self, Answer, Claimed};
use taquilla_core::store::ItemStore;
use taquilla_web::{ApiError, AppState, Pages};
use tracing::Instrument as _;

use crate::config::Adapters;

/// The HTTP request `lambda_http` builds from an API Gateway event.
pub use lambda_http::Request;
/// The API Gateway event, as the Lambda runtime delivers it.
pub use lambda_http::request::LambdaRequest;

const REQUEST_ID: &str = "x-request-id";
/// Marks an answer served again from a claim.
const REPLAYED: &str = "x-taquilla-replayed";

/// What the function serves with: the router, and the store and clock of
/// the claims of requests (see the module docs).
#[derive(Debug, Clone)]
pub struct Api {
    router: Router,
    store: Arc<dyn ItemStore>,
    clock: Arc<dyn Clock>,
}

impl Api {
    /// The router on `state`, claiming requests in `state`'s store.
    #[must_use]
    pub fn new(state: AppState) -> Self {
        Self {
            store: state.store.clone(),
            clock: state.clock.clone(),
            router: taquilla_web::router(state),
        }
    }
}

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

/// Serves one request with the router; see the module docs for what is
/// added to it first and how a request delivered again is answered. Never
/// fails: errors are HTTP responses. Its log lines carry the instance and
/// ticket its path names.
pub async fn handle(api: Api, mut request: Request) -> Result<Response, Infallible> {
    let span = tracing::info_span!(
        "api",
        instance = tracing::field::Empty,
        ticket = tracing::field::Empty
    );
    let (instance, ticket) = path_subjects(request.uri().path());
    let claim_in = instance.and_then(|i| InstanceId::parse(i).ok());
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
    let gateway_id = gateway_request_id(&request).filter(|id| !id.is_empty());
    if !request.headers().contains_key(REQUEST_ID)
        && let Some(id) = &gateway_id
        && let Ok(value) = HeaderValue::from_str(id)
    {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let claimed = gateway_id
        .filter(|_| replays::changes(request.method().as_str()))
        .zip(claim_in);
    let Some((id, instance)) = claimed else {
        return api.router.oneshot(request).instrument(span).await;
    };
    async move {
        let now = api.clock.now_ms();
        match replays::claim(api.store.as_ref(), &instance, &id, now).await {
            Ok(Claimed::First) => {}
            Ok(Claimed::Answered(answer)) => {
                tracing::info!(
                    request = id,
                    "request delivered again: its answer given again"
                );
                return Ok(replayed(answer));
            }
            Ok(Claimed::Pending) => {
                let error = ServiceError::Conflict(format!(
                    "request {id} is being served (or was, with an answer too long to keep)"
                ));
                return Ok(ApiError::from(error).into_response());
            }
            Err(error) => return Ok(ApiError::from(error).into_response()),
        }
        let response = api.router.clone().oneshot(request).await?;
        Ok(keep_answer(&api, &instance, &id, response).await)
    }
    .instrument(span)
    .await
}

/// Keeps the answer to a claimed request with its claim (or gives the
/// claim up when serving it failed on our side), and returns it.
async fn keep_answer(api: &Api, instance: &InstanceId, id: &str, response: Response) -> Response {
    if response.status().is_server_error() {
        if let Err(error) = replays::give_up(api.store.as_ref(), instance, id).await {
            tracing::warn!(request = id, %error, "claim of a failed request not given up");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    // The whole body, whatever its length: the request has been served,
    // and its answer goes back as it is; only a short one is kept.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(request = id, %error, "answer not kept: its body could not be read");
            return ApiError::Internal(format!("reading the answer: {error}")).into_response();
        }
    };
    let text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    match std::str::from_utf8(&bytes) {
        Ok(body) => {
            let answer = Answer {
                status: parts.status.as_u16(),
                content_type: text(header::CONTENT_TYPE),
                location: text(header::LOCATION),
                body: body.to_owned(),
            };
            let now = api.clock.now_ms();
            if let Err(error) =
                replays::answered(api.store.as_ref(), instance, id, now, answer).await
            {
                // The claim stays pending: a repeat gets a 409, never a
                // second ticket.
                tracing::warn!(request = id, %error, "answer not kept with its claim");
            }
        }
        Err(_) => tracing::warn!(request = id, "answer not kept: its body is not text"),
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A kept answer, given again.
fn replayed(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, answer.content_type),
        (header::LOCATION, answer.location),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        } else if name == header::CONTENT_TYPE {
            headers.remove(name);
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// The service `lambda_http::run` drives: [`handle`] with `api`.
pub fn service(
    api: Api,
) -> impl Service<
    Request,
    Response = Response,
    Error = Infallible,
    Future = impl Future<Output = Result<Response, Infallible>> + Send,
> + Clone {
    service_fn(move |request: Request| handle(api.clone(), request))
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
