//! Users (requesters) and organisations.
//!
//! Reading them needs only an agent token or an API key of the instance;
//! creating or changing a user needs `user.manage`, an organisation
//! `org.manage` (in the agent's primary department; an API key needs the
//! permission itself).

use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use taquilla_core::domain::{Language, OrgId, Organisation, Permission, User, UserId};
use taquilla_core::services::organisations::{self, NewOrganisation, OrganisationPatch};
use taquilla_core::services::users::{self, UserPatch};
use taquilla_core::services::{Actor, Page, ServiceError};

use super::read::PageQuery;
use super::{Body, Params, nullable, page_limit};
use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::state::AppState;

/// `Ok` if the actor holds `permission` instance-wide: an agent in its
/// primary department, an API key among its permissions.
fn require_instance_wide(actor: &Actor, permission: Permission) -> Result<(), ServiceError> {
    match actor {
        Actor::Agent(access) => actor.require(permission, access.agent.department),
        Actor::ApiKey { permissions, .. } if permissions.contains(&permission) => Ok(()),
        Actor::System(_) => Ok(()),
        Actor::ApiKey { .. } | Actor::User(_) => {
            Err(ServiceError::Forbidden(permission.as_str().into()))
        }
    }
}

fn user_id(id: &str) -> Result<UserId, ApiError> {
    UserId::parse(id).map_err(|_| ApiError::NotFound(format!("user {id}")))
}

/// `GET users`.
pub async fn users(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Params(query): Params<PageQuery>,
) -> Result<Json<Page<User>>, ApiError> {
    let limit = page_limit(query.limit)?;
    Ok(Json(
        users::list(&caller.ctx(&state), query.cursor, limit).await?,
    ))
}

/// `GET users/{id}`.
pub async fn user(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<User>, ApiError> {
    let id = user_id(&id)?;
    Ok(Json(users::get(&caller.ctx(&state), &id).await?))
}

/// `{"email": ..., "name"?: ...}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    email: String,
    #[serde(default)]
    name: String,
}

/// `POST users`: the user holding the address, created if there is none.
pub async fn user_find_or_create(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Body(new): Body<NewUser>,
) -> Result<Json<User>, ApiError> {
    require_instance_wide(&caller.actor, Permission::UserManage)?;
    let user = users::find_or_create(&caller.ctx(&state), &new.name, &new.email).await?;
    Ok(Json(user))
}

/// The body of `PATCH users/{id}`; `null` clears phone, language and
/// organisation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    language: Option<Option<Language>>,
    #[serde(default, deserialize_with = "nullable")]
    organisation: Option<Option<u32>>,
}

/// `PATCH users/{id}`.
pub async fn user_update(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, String)>,
    Body(changes): Body<UserChanges>,
) -> Result<Json<User>, ApiError> {
    let id = user_id(&id)?;
    let patch = UserPatch {
        name: changes.name,
        phone: changes.phone,
        language: changes.language,
        organisation: changes.organisation.map(|o| o.map(OrgId)),
    };
    let user = users::update(&caller.ctx(&state), &caller.actor, &id, patch).await?;
    Ok(Json(user))
}

/// `GET organisations`.
pub async fn organisations(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Params(query): Params<PageQuery>,
) -> Result<Json<Page<Organisation>>, ApiError> {
    let limit = page_limit(query.limit)?;
    Ok(Json(
        organisations::list(&caller.ctx(&state), query.cursor, limit).await?,
    ))
}

/// `GET organisations/{id}`.
pub async fn organisation(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, u32)>,
) -> Result<Json<Organisation>, ApiError> {
    Ok(Json(
        organisations::get(&caller.ctx(&state), OrgId(id)).await?,
    ))
}

/// The body of `POST organisations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationJson {
    name: String,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    managers: Vec<UserId>,
    #[serde(default)]
    default_collaborators: Vec<String>,
}

/// `POST organisations`: 201 with the organisation.
pub async fn organisation_create(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Body(new): Body<OrganisationJson>,
) -> Result<(StatusCode, Json<Organisation>), ApiError> {
    let new = NewOrganisation {
        name: new.name,
        domains: new.domains,
        managers: new.managers,
        default_collaborators: new.default_collaborators,
    };
    let org = organisations::create(&caller.ctx(&state), &caller.actor, new).await?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// The body of `PATCH organisations/{id}`; absent fields stay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationChanges {
    name: Option<String>,
    domains: Option<Vec<String>>,
    managers: Option<Vec<UserId>>,
    default_collaborators: Option<Vec<String>>,
}

/// `PATCH organisations/{id}`.
pub async fn organisation_update(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, id)): Path<(String, u32)>,
    Body(changes): Body<OrganisationChanges>,
) -> Result<Json<Organisation>, ApiError> {
    let patch = OrganisationPatch {
        name: changes.name,
        domains: changes.domains,
        managers: changes.managers,
        default_collaborators: changes.default_collaborators,
    };
    let org = organisations::update(&caller.ctx(&state), &caller.actor, OrgId(id), patch).await?;
    Ok(Json(org))
}
