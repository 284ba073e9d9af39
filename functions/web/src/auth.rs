//! Who is calling the API: extractors that authenticate a request and
//! resolve its instance.
//!
//! - [`AgentAuth`]: `Authorization: Bearer <agent token>`, verified with the
//!   key of the instance in the path, so a token of another instance fails;
//! - [`ApiKeyAuth`]: `X-API-Key: <key>` from an allowed source address (the
//!   peer address of the connection);
//! - [`ApiAuth`]: one or the other.
//!
//! Routes under `/api/v1/{instance}/...` first check that the instance
//! exists (404 `instance_not_found`). Credentials are never logged.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use taquilla_core::domain::InstanceId;
use taquilla_core::services::{
    Actor, Ctx, ServiceError, agents_access, apikeys, directory, tokens,
};

use crate::error::ApiError;
use crate::state::AppState;

/// Header carrying an integration API key (as osTicket's).
pub const API_KEY_HEADER: &str = "x-api-key";

/// An authenticated caller: the instance it acts in and who it is.
#[derive(Debug, Clone)]
pub struct Caller {
    pub instance: InstanceId,
    pub actor: Actor,
}

impl Caller {
    /// The services' context for this caller's instance.
    #[must_use]
    pub fn ctx<'a>(&'a self, state: &'a AppState) -> Ctx<'a> {
        Ctx {
            store: state.store.as_ref(),
            blobs: state.blobs.as_ref(),
            clock: state.clock.as_ref(),
            instance: &self.instance,
        }
    }
}

/// A caller authenticated by an agent token.
#[derive(Debug, Clone)]
pub struct AgentAuth(pub Caller);

/// A caller authenticated by an API key.
#[derive(Debug, Clone)]
pub struct ApiKeyAuth(pub Caller);

/// A caller authenticated by an agent token or an API key.
#[derive(Debug, Clone)]
pub struct ApiAuth(pub Caller);

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::Service(ServiceError::Unauthorized {
        code,
        message: message.to_owned(),
    })
}

/// The `{instance}` of the path, which must name an existing instance.
async fn path_instance(parts: &mut Parts, state: &AppState) -> Result<InstanceId, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::NotFound("no such route".into()))?;
    let slug = params
        .iter()
        .find(|(name, _)| *name == "instance")
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| ApiError::Internal("route without {instance}".into()))?;
    existing_instance(state, &slug).await
}

/// The instance `slug`, if it exists.
pub async fn existing_instance(state: &AppState, slug: &str) -> Result<InstanceId, ApiError> {
    let id = InstanceId::parse(slug).map_err(|_| ApiError::InstanceNotFound(slug.to_owned()))?;
    if directory::exists(state.store.as_ref(), &id).await? {
        Ok(id)
    } else {
        Err(ApiError::InstanceNotFound(slug.to_owned()))
    }
}

/// The bearer token of the request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<Result<&str, ApiError>> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?;
    let parsed = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            unauthorized(
                "invalid_token",
                "the Authorization header must be \"Bearer <token>\"",
            )
        });
    Some(parsed)
}

/// The API key header's value, if present.
#[must_use]
pub fn api_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(API_KEY_HEADER)
        .map(|v| v.to_str().unwrap_or_default())
}

/// The client's address: the peer of the connection, when the server was
/// started with connect info (the local server is).
#[must_use]
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The client's address as an extractor (`None` when the server was
/// started without connect info).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// Verifies an agent token for `instance` and resolves the agent's access.
pub async fn agent_caller(
    state: &AppState,
    instance: InstanceId,
    token: &str,
) -> Result<Caller, ApiError> {
    let verified = tokens::verify(&state.token_key, &instance, token, state.clock.now_secs())?;
    let ctx = Ctx {
        store: state.store.as_ref(),
        blobs: state.blobs.as_ref(),
        clock: state.clock.as_ref(),
        instance: &instance,
    };
    let access = match agents_access::load_agent_access(&ctx, verified.agent).await {
        Ok(access) => access,
        Err(ServiceError::NotFound(_)) => {
            return Err(unauthorized(
                "invalid_token",
                "the token's agent does not exist",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    if !access.agent.active {
        return Err(unauthorized(
            "agent_inactive",
            "the token's agent is inactive",
        ));
    }
    let access = match &verified.scope {
        Some(scope) => agents_access::scoped(&ctx, access, scope).await?,
        None => access,
    };
    Ok(Caller {
        instance,
        actor: Actor::Agent(access),
    })
}

/// Authenticates an API key from `ip`; with `instance`, the key must be of it.
pub async fn key_caller(
    state: &AppState,
    instance: Option<&InstanceId>,
    key: &str,
    ip: Option<IpAddr>,
) -> Result<Caller, ApiError> {
    let access = apikeys::authenticate(state.store.as_ref(), state.clock.as_ref(), key, ip).await?;
    if let Some(instance) = instance
        && *instance != access.instance
    {
        return Err(unauthorized(
            "api_key_wrong_instance",
            "the API key is not valid for this instance",
        ));
    }
    Ok(Caller {
        actor: access.actor(),
        instance: access.instance,
    })
}

impl FromRequestParts<AppState> for AgentAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let instance = path_instance(parts, state).await?;
        let token = bearer(&parts.headers)
            .unwrap_or_else(|| {
                Err(unauthorized(
                    "missing_credentials",
                    "an agent token is required",
                ))
            })?
            .to_owned();
        agent_caller(state, instance, &token).await.map(AgentAuth)
    }
}

impl FromRequestParts<AppState> for ApiKeyAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let instance = path_instance(parts, state).await?;
        let key = api_key(&parts.headers).unwrap_or_default().to_owned();
        key_caller(state, Some(&instance), &key, client_ip(parts))
            .await
            .map(ApiKeyAuth)
    }
}

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let instance = path_instance(parts, state).await?;
        if let Some(token) = bearer(&parts.headers) {
            let token = token?.to_owned();
            return agent_caller(state, instance, &token).await.map(ApiAuth);
        }
        match api_key(&parts.headers) {
            Some(key) => {
                let key = key.to_owned();
                key_caller(state, Some(&instance), &key, client_ip(parts))
                    .await
                    .map(ApiAuth)
            }
            None => Err(unauthorized(
                "missing_credentials",
                "an agent token (Authorization: Bearer) or an API key (X-API-Key) is required",
            )),
        }
    }
}
