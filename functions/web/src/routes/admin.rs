//! The configuration API under `/api/v1/{instance}`: the instance's settings
//! and its departments, help topics, teams, roles, statuses, priorities and
//! agents (list, create, read, update and, where it makes sense, delete).
//! Business-hours schedules (`/schedules`) and SLA plans (`/sla-plans`) are
//! named kinds with the same five routes; a schedule that makes no calendar
//! or a plan that breaks its rules is `400 invalid_field` whose message ends
//! with the rule's stable code in brackets (`[schedule_overlapping_intervals]`).
//!
//! Every route is one row of [`ROUTES`], which registers it ([`router`]) and
//! describes it in the OpenAPI document (`routes::openapi`), so the two
//! cannot drift apart. The named kinds share one set of handlers, generic
//! over the kind ([`objects`]). Every handler authenticates an agent of the
//! path's instance ([`AgentAuth`]); the services check that it is an
//! administrator (or, for the read-only lists, any agent). Updates carry the
//! `version` they were made from; a stale one is `409 conflict`. A body that
//! does not parse is `400 invalid_body`; a name another object of the kind
//! has is `400 invalid_field` (`name`).

use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete as delete_route, get, patch, post};
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use taquilla_core::domain::{
    AgentId, Department, HelpTopic, Instance, Priority, Role, Status, Team,
};
use taquilla_core::domain::{Schedule, SlaPlan};
use taquilla_core::services::ServiceError;
use taquilla_core::services::admin::objects::{self, Deletable, Object, ObjectId, Record};
use taquilla_core::services::admin::{Versioned, agents, instances};

use super::tickets::{ApiRoute, Body};
use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::state::AppState;

/// Every route of this module. The named kinds each have the same five
/// (statuses are never deleted, so four).
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}",
        summary: "The instance's settings",
        query: &[],
        body: None,
        answer: (200, Some("Instance")),
        handler: || get(instance_get),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}",
        summary: "Change the instance's settings (administrators)",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Instance")),
        handler: || patch(instance_update),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/departments",
        summary: "Departments",
        query: &[],
        body: None,
        answer: (200, Some("DepartmentList")),
        handler: || get(list::<Department>),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/departments",
        summary: "Create a department",
        query: &[],
        body: Some("NewDepartment"),
        answer: (201, Some("Department")),
        handler: || post(create::<Department>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/departments/{id}",
        summary: "A department",
        query: &[],
        body: None,
        answer: (200, Some("Department")),
        handler: || get(read::<Department>),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/departments/{id}",
        summary: "Change a department",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Department")),
        handler: || patch(update::<Department>),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/departments/{id}",
        summary: "Delete a department nothing refers to",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(delete::<Department>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/topics",
        summary: "Help topics",
        query: &[],
        body: None,
        answer: (200, Some("HelpTopicList")),
        handler: || get(list::<HelpTopic>),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/topics",
        summary: "Create a help topic",
        query: &[],
        body: Some("NewHelpTopic"),
        answer: (201, Some("HelpTopic")),
        handler: || post(create::<HelpTopic>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/topics/{id}",
        summary: "A help topic",
        query: &[],
        body: None,
        answer: (200, Some("HelpTopic")),
        handler: || get(read::<HelpTopic>),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/topics/{id}",
        summary: "Change a help topic",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("HelpTopic")),
        handler: || patch(update::<HelpTopic>),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/topics/{id}",
        summary: "Delete a help topic that is no other's parent",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(delete::<HelpTopic>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/teams",
        summary: "Teams",
        query: &[],
        body: None,
        answer: (200, Some("TeamList")),
        handler: || get(list::<Team>),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/teams",
        summary: "Create a team (its members see it in their teams)",
        query: &[],
        body: Some("NewTeam"),
        answer: (201, Some("Team")),
        handler: || post(create::<Team>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/teams/{id}",
        summary: "A team",
        query: &[],
        body: None,
        answer: (200, Some("Team")),
        handler: || get(read::<Team>),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/teams/{id}",
        summary: "Change a team",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Team")),
        handler: || patch(update::<Team>),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/teams/{id}",
        summary: "Delete a team no help topic assigns to",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(delete::<Team>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/roles",
        summary: "Roles (administrators)",
        query: &[],
        body: None,
        answer: (200, Some("RoleList")),
        handler: || get(list::<Role>),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/roles",
        summary: "Create a role",
        query: &[],
        body: Some("NewRole"),
        answer: (201, Some("Role")),
        handler: || post(create::<Role>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/roles/{id}",
        summary: "A role (administrators)",
        query: &[],
        body: None,
        answer: (200, Some("Role")),
        handler: || get(read::<Role>),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/roles/{id}",
        summary: "Change a role",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Role")),
        handler: || patch(update::<Role>),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/roles/{id}",
        summary: "Delete a role no agent holds",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(delete::<Role>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/priorities",
        summary: "Priorities",
        query: &[],
        body: None,
        answer: (200, Some("PriorityList")),
        handler: || get(list::<Priority>),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/priorities",
        summary: "Create a priority",
        query: &[],
        body: Some("NewPriority"),
        answer: (201, Some("Priority")),
        handler: || post(create::<Priority>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/priorities/{id}",
        summary: "A priority",
        query: &[],
        body: None,
        answer: (200, Some("Priority")),
        handler: || get(read::<Priority>),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/priorities/{id}",
        summary: "Change a priority",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Priority")),
        handler: || patch(update::<Priority>),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/priorities/{id}",
        summary: "Delete a priority no help topic uses",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(delete::<Priority>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/statuses",
        summary: "Ticket statuses",
        query: &[],
        body: None,
        answer: (200, Some("StatusList")),
        handler: || get(list::<Status>),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/statuses",
        summary: "Create a status",
        query: &[],
        body: Some("NewStatus"),
        answer: (201, Some("Status")),
        handler: || post(create::<Status>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/statuses/{id}",
        summary: "A status",
        query: &[],
        body: None,
        answer: (200, Some("Status")),
        handler: || get(read::<Status>),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/statuses/{id}",
        summary: "Rename a status",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Status")),
        handler: || patch(update::<Status>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/schedules",
        summary: "Business-hours schedules",
        query: &[],
        body: None,
        answer: (200, Some("ScheduleList")),
        handler: || get(list::<Schedule>),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/schedules",
        summary: "Create a business-hours schedule",
        query: &[],
        body: Some("NewSchedule"),
        answer: (201, Some("Schedule")),
        handler: || post(create::<Schedule>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/schedules/{id}",
        summary: "A business-hours schedule",
        query: &[],
        body: None,
        answer: (200, Some("Schedule")),
        handler: || get(read::<Schedule>),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/schedules/{id}",
        summary: "Change a business-hours schedule",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Schedule")),
        handler: || patch(update::<Schedule>),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/schedules/{id}",
        summary: "Delete a schedule no SLA plan counts in",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(delete::<Schedule>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/sla-plans",
        summary: "SLA plans",
        query: &[],
        body: None,
        answer: (200, Some("SlaPlanList")),
        handler: || get(list::<SlaPlan>),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/sla-plans",
        summary: "Create a SLA plan",
        query: &[],
        body: Some("NewSlaPlan"),
        answer: (201, Some("SlaPlan")),
        handler: || post(create::<SlaPlan>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/sla-plans/{id}",
        summary: "A SLA plan",
        query: &[],
        body: None,
        answer: (200, Some("SlaPlan")),
        handler: || get(read::<SlaPlan>),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/sla-plans/{id}",
        summary: "Change a SLA plan",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("SlaPlan")),
        handler: || patch(update::<SlaPlan>),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/sla-plans/{id}",
        summary: "Delete an SLA plan no department or help topic gives",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(delete::<SlaPlan>),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/agents",
        summary: "Agents (administrators)",
        query: &[],
        body: None,
        answer: (200, Some("AgentList")),
        handler: || get(agent_list),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/agents",
        summary: "Create an agent; answers its password once",
        query: &[],
        body: Some("NewAgent"),
        answer: (201, Some("AgentWithPassword")),
        handler: || post(agent_create),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/agents/{id}",
        summary: "An agent (administrators)",
        query: &[],
        body: None,
        answer: (200, Some("Agent")),
        handler: || get(agent_get),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/agents/{id}",
        summary: "Change, (de)activate or send an agent on vacation",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Agent")),
        handler: || patch(agent_update),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/agents/{id}/reset-password",
        summary: "A new generated password, shown once; or, with send_link, revoke the password and mail the agent a reset link",
        query: &[],
        body: Some("ResetPassword"),
        answer: (200, Some("AgentPasswordReset")),
        handler: || post(agent_reset_password),
    },
];

/// The routes of this module, registered from [`ROUTES`] (rows sharing a
/// path add their method to it).
pub fn router() -> Router<AppState> {
    super::tickets::register(Router::new(), ROUTES)
}

/// `{"items": [...]}`: configuration lists are short and come whole.
#[derive(Debug, Serialize)]
struct List<T> {
    items: Vec<T>,
}

/// A create body: the record's fields without its id, which the service
/// assigns (an `id` sent anyway is ignored).
#[derive(Debug)]
struct New<K>(K);

impl<'de, K: Record> Deserialize<'de> for New<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        fields.insert("id".into(), Value::from(0));
        K::deserialize(Value::Object(fields))
            .map(New)
            .map_err(de::Error::custom)
    }
}

/// The object id in the path; one that is not a number names no object.
fn object_id<I: ObjectId>(id: &str) -> Result<I, ApiError> {
    id.parse()
        .map(I::from_number)
        .map_err(|_| ServiceError::NotFound(format!("{} {id}", <I::Record as Record>::WHAT)).into())
}

/// `GET .../{kind}`: every object of the kind.
async fn list<K: Record>(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
) -> Result<Json<List<Versioned<K>>>, ApiError> {
    let items = objects::list(caller.ctx(&state), &caller.actor).await?;
    Ok(Json(List { items }))
}

/// `GET .../{kind}/{id}`.
async fn read<K: Record>(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Versioned<K>>, ApiError> {
    let id: K::Id = object_id(&id)?;
    Ok(Json(
        objects::get(caller.ctx(&state), &caller.actor, id).await?,
    ))
}

/// `POST .../{kind}`: `201` with the object at version 1.
async fn create<K: Object>(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Body(New(object)): Body<New<K>>,
) -> Result<(StatusCode, Json<Versioned<K>>), ApiError> {
    let created = objects::create(caller.ctx(&state), &caller.actor, object).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PATCH .../{kind}/{id}`: the kind's changes and the version they were
/// made from.
async fn update<K: Object>(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
    Body(changes): Body<K::Changes>,
) -> Result<Json<Versioned<K>>, ApiError>
where
    K::Changes: DeserializeOwned,
{
    let id: K::Id = object_id(&id)?;
    Ok(Json(
        objects::update(caller.ctx(&state), &caller.actor, id, changes).await?,
    ))
}

/// `DELETE .../{kind}/{id}`: `204`, or `409 conflict` naming what still
/// refers to the object.
async fn delete<K: Deletable>(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id: K::Id = object_id(&id)?;
    objects::delete(caller.ctx(&state), &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/{instance}`: the instance's settings.
async fn instance_get(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
) -> Result<Json<Versioned<Instance>>, ApiError> {
    Ok(Json(
        instances::get(caller.ctx(&state), &caller.actor).await?,
    ))
}

/// `PATCH /api/v1/{instance}`: name, language, time zone, number format,
/// online, lock duration.
async fn instance_update(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Body(changes): Body<instances::InstanceChanges>,
) -> Result<Json<Versioned<Instance>>, ApiError> {
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
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Versioned<agents::AgentView>>, ApiError> {
    let id = agent_id(&id)?;
    Ok(Json(
        agents::get(caller.ctx(&state), &caller.actor, id).await?,
    ))
}

/// `POST /api/v1/{instance}/agents`: the answer holds the generated
/// password, the only time it is shown.
async fn agent_create(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Body(new): Body<agents::NewAgent>,
) -> Result<(StatusCode, Json<agents::WithPassword>), ApiError> {
    let created = agents::create(caller.ctx(&state), &caller.actor, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PATCH /api/v1/{instance}/agents/{id}`: also activates, deactivates and
/// sends on vacation (`active`, `on_vacation`).
async fn agent_update(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
    Body(changes): Body<agents::AgentChanges>,
) -> Result<Json<Versioned<agents::AgentView>>, ApiError> {
    let id = agent_id(&id)?;
    Ok(Json(
        agents::update(caller.ctx(&state), &caller.actor, id, changes).await?,
    ))
}

/// What an administrator's reset asks for.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetPassword {
    /// Revoke the password and mail the agent a reset link, instead of
    /// answering a generated password.
    #[serde(default)]
    send_link: bool,
}

/// What an administrator's reset answers: the generated password, or when
/// the mailed link expires.
#[derive(Debug, Serialize)]
struct PasswordReset {
    agent: Versioned<agents::AgentView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link_expires_at: Option<i64>,
}

/// `POST /api/v1/{instance}/agents/{id}/reset-password`: a new generated
/// password, shown once; or with `{"send_link": true}` (what a help desk
/// should do: nobody but the agent learns its password) the password is
/// revoked and the agent is mailed a reset link.
async fn agent_reset_password(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
    Body(how): Body<ResetPassword>,
) -> Result<Json<PasswordReset>, ApiError> {
    let id = agent_id(&id)?;
    let ctx = caller.ctx(&state);
    Ok(Json(if how.send_link {
        let sent = agents::send_reset_link(ctx, &caller.actor, id).await?;
        PasswordReset {
            agent: sent.agent,
            password: None,
            link_expires_at: Some(sent.link_expires_at),
        }
    } else {
        let reset = agents::reset_password(ctx, &caller.actor, id).await?;
        PasswordReset {
            agent: reset.agent,
            password: Some(reset.password),
            link_expires_at: None,
        }
    }))
}

/// The agent id in the path; one that is not a number names no agent.
fn agent_id(id: &str) -> Result<AgentId, ApiError> {
    id.parse()
        .map(AgentId)
        .map_err(|_| ServiceError::NotFound(format!("agent {id}")).into())
}
