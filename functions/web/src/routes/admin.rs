//! The configuration API under `/api/v1/{instance}`: the instance's settings
//! and its departments, help topics, agents, teams, roles, statuses and
//! priorities (list, create, read, update and, where it makes sense, delete).
//!
//! Every handler authenticates an agent of the path's instance
//! ([`AgentAuth`]); the services check that it is an administrator (or, for
//! the read-only lists, any agent). Updates carry the `version` they were
//! made from; a stale one is `409 conflict`.

use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use taquilla_core::domain::{AgentId, DepartmentId, PriorityId, RoleId, StatusId, TeamId, TopicId};
use taquilla_core::services::admin::{
    Versioned, agents, departments, instances, priorities, roles, statuses, teams, topics,
};

use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::state::AppState;

/// The routes of this module, to merge into the application's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/{instance}",
            get(instance_get).patch(instance_update),
        )
        .route(
            "/api/v1/{instance}/departments",
            get(departments_api::list).post(departments_api::create),
        )
        .route(
            "/api/v1/{instance}/departments/{id}",
            get(departments_api::get)
                .patch(departments_api::update)
                .delete(departments_api::delete),
        )
        .route(
            "/api/v1/{instance}/topics",
            get(topics_api::list).post(topics_api::create),
        )
        .route(
            "/api/v1/{instance}/topics/{id}",
            get(topics_api::get)
                .patch(topics_api::update)
                .delete(topics_api::delete),
        )
        .route(
            "/api/v1/{instance}/teams",
            get(teams_api::list).post(teams_api::create),
        )
        .route(
            "/api/v1/{instance}/teams/{id}",
            get(teams_api::get)
                .patch(teams_api::update)
                .delete(teams_api::delete),
        )
        .route(
            "/api/v1/{instance}/roles",
            get(roles_api::list).post(roles_api::create),
        )
        .route(
            "/api/v1/{instance}/roles/{id}",
            get(roles_api::get)
                .patch(roles_api::update)
                .delete(roles_api::delete),
        )
        .route(
            "/api/v1/{instance}/priorities",
            get(priorities_api::list).post(priorities_api::create),
        )
        .route(
            "/api/v1/{instance}/priorities/{id}",
            get(priorities_api::get)
                .patch(priorities_api::update)
                .delete(priorities_api::delete),
        )
        .route(
            "/api/v1/{instance}/statuses",
            get(statuses_api::list).post(statuses_api::create),
        )
        .route(
            "/api/v1/{instance}/statuses/{id}",
            get(statuses_api::get).patch(statuses_api::update),
        )
        .route(
            "/api/v1/{instance}/agents",
            get(agent_list).post(agent_create),
        )
        .route(
            "/api/v1/{instance}/agents/{id}",
            get(agent_get).patch(agent_update),
        )
        .route(
            "/api/v1/{instance}/agents/{id}/reset-password",
            post(agent_reset_password),
        )
}

/// `{"items": [...]}`: configuration lists are short and come whole.
#[derive(Debug, serde::Serialize)]
struct List<T> {
    items: Vec<T>,
}

/// Handlers of one kind whose service has list, get, create, update and
/// (optionally) delete with the usual signatures.
macro_rules! kind_api {
    ($api:ident, $service:ident, $id:ident, $record:ty, $new:ty, $changes:ty $(, $delete:ident)?) => {
        mod $api {
            use super::*;

            pub async fn list(
                State(state): State<AppState>,
                AgentAuth(caller): AgentAuth,
            ) -> Result<Json<List<Versioned<$record>>>, ApiError> {
                let items = $service::list(caller.ctx(&state), &caller.actor).await?;
                Ok(Json(List { items }))
            }

            pub async fn get(
                State(state): State<AppState>,
                AgentAuth(caller): AgentAuth,
                Path((_, id)): Path<(String, u32)>,
            ) -> Result<Json<Versioned<$record>>, ApiError> {
                Ok(Json($service::get(caller.ctx(&state), &caller.actor, $id(id)).await?))
            }

            pub async fn create(
                State(state): State<AppState>,
                AgentAuth(caller): AgentAuth,
                Json(new): Json<$new>,
            ) -> Result<(StatusCode, Json<Versioned<$record>>), ApiError> {
                let created = $service::create(caller.ctx(&state), &caller.actor, new).await?;
                Ok((StatusCode::CREATED, Json(created)))
            }

            pub async fn update(
                State(state): State<AppState>,
                AgentAuth(caller): AgentAuth,
                Path((_, id)): Path<(String, u32)>,
                Json(changes): Json<$changes>,
            ) -> Result<Json<Versioned<$record>>, ApiError> {
                let updated =
                    $service::update(caller.ctx(&state), &caller.actor, $id(id), changes).await?;
                Ok(Json(updated))
            }

            $(
            pub async fn $delete(
                State(state): State<AppState>,
                AgentAuth(caller): AgentAuth,
                Path((_, id)): Path<(String, u32)>,
            ) -> Result<StatusCode, ApiError> {
                $service::delete(caller.ctx(&state), &caller.actor, $id(id)).await?;
                Ok(StatusCode::NO_CONTENT)
            }
            )?
        }
    };
}

kind_api!(
    departments_api,
    departments,
    DepartmentId,
    taquilla_core::domain::Department,
    departments::NewDepartment,
    departments::DepartmentChanges,
    delete
);
kind_api!(
    topics_api,
    topics,
    TopicId,
    taquilla_core::domain::HelpTopic,
    topics::NewTopic,
    topics::TopicChanges,
    delete
);
kind_api!(
    teams_api,
    teams,
    TeamId,
    taquilla_core::domain::Team,
    teams::NewTeam,
    teams::TeamChanges,
    delete
);
kind_api!(
    roles_api,
    roles,
    RoleId,
    taquilla_core::domain::Role,
    roles::NewRole,
    roles::RoleChanges,
    delete
);
kind_api!(
    priorities_api,
    priorities,
    PriorityId,
    taquilla_core::domain::Priority,
    priorities::NewPriority,
    priorities::PriorityChanges,
    delete
);
kind_api!(
    statuses_api,
    statuses,
    StatusId,
    taquilla_core::domain::Status,
    statuses::NewStatus,
    statuses::StatusChanges
);

/// `GET /api/v1/{instance}`: the instance's settings.
async fn instance_get(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
) -> Result<Json<Versioned<taquilla_core::domain::Instance>>, ApiError> {
    Ok(Json(
        instances::get(caller.ctx(&state), &caller.actor).await?,
    ))
}

/// `PATCH /api/v1/{instance}`: name, language, time zone, number format, online.
async fn instance_update(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Json(changes): Json<instances::InstanceChanges>,
) -> Result<Json<Versioned<taquilla_core::domain::Instance>>, ApiError> {
    Ok(Json(
        instances::update(caller.ctx(&state), &caller.actor, changes).await?,
    ))
}

async fn agent_list(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
) -> Result<Json<List<Versioned<agents::AgentView>>>, ApiError> {
    let items = agents::list(caller.ctx(&state), &caller.actor).await?;
    Ok(Json(List { items }))
}

async fn agent_get(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, u32)>,
) -> Result<Json<Versioned<agents::AgentView>>, ApiError> {
    Ok(Json(
        agents::get(caller.ctx(&state), &caller.actor, AgentId(id)).await?,
    ))
}

/// `POST /api/v1/{instance}/agents`: the answer holds the generated
/// password, the only time it is shown.
async fn agent_create(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Json(new): Json<agents::NewAgent>,
) -> Result<(StatusCode, Json<agents::WithPassword>), ApiError> {
    let created = agents::create(caller.ctx(&state), &caller.actor, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PATCH /api/v1/{instance}/agents/{id}`: also activates, deactivates and
/// sends on vacation (`active`, `on_vacation`).
async fn agent_update(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, u32)>,
    Json(changes): Json<agents::AgentChanges>,
) -> Result<Json<Versioned<agents::AgentView>>, ApiError> {
    Ok(Json(
        agents::update(caller.ctx(&state), &caller.actor, AgentId(id), changes).await?,
    ))
}

/// `POST /api/v1/{instance}/agents/{id}/reset-password`: a new generated
/// password, shown once.
async fn agent_reset_password(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, u32)>,
) -> Result<Json<agents::WithPassword>, ApiError> {
    Ok(Json(
        agents::reset_password(caller.ctx(&state), &caller.actor, AgentId(id)).await?,
    ))
}
