//! Custom forms and lists under `/api/v1/{instance}`, and the resolved
//! forms of a help topic.
//!
//! - `/forms` and `/lists`: list, create, read, update and delete, as the
//!   other named kinds ([`objects`]): administrators write, agents read.
//!   A form or list that breaks a rule is `400 invalid_field` whose message
//!   ends with the rule's stable code in brackets (`[form_bad_pattern]`,
//!   `[form_duplicate_variable]`, `[form_unknown_list]`,
//!   `[list_duplicate_value]`); deleting one in use is `409 conflict`.
//!   Listing and reading lists shows the ticket statuses as the built-in
//!   list 0 (`built_in: true`), which is changed through `/statuses`.
//! - `GET /topics/{id}/form`: the forms a ticket of the topic answers (its
//!   parents' first), with the items of their lists, for the portal and the
//!   agents' "new ticket" screen. Without credentials it answers for public
//!   topics with the fields users see; with an agent token or an API key,
//!   every topic and field.
//!
//! Every route is one row of [`ROUTES`], which registers it ([`router`]) and
//! describes it in the OpenAPI document ([`schemas`]).

use axum::Router;
use axum::extract::{FromRequestParts, Json, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete as delete_route, get, patch, post};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use taquilla_core::domain::{CustomList, Form, FormId, ListId, TopicId};
use taquilla_core::services::admin::lists::{self, ListChanges, ListView};
use taquilla_core::services::admin::objects::{self, Record};
use taquilla_core::services::admin::{Versioned, forms::FormChanges};
use taquilla_core::services::tickets::fields::{self, TopicForm};
use taquilla_core::services::{Ctx, ServiceError};

use super::tickets::{ApiRoute, Body};
use crate::auth::{self, AgentAuth, ApiAuth, Caller};
use crate::error::ApiError;
use crate::state::AppState;

/// Every route of this module.
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/forms",
        summary: "Custom forms",
        query: &[],
        body: None,
        answer: (200, Some("FormList")),
        handler: || get(form_list),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/forms",
        summary: "Create a custom form (checked when saved: variable names, patterns, lists)",
        query: &[],
        body: Some("NewForm"),
        answer: (201, Some("Form")),
        handler: || post(form_create),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/forms/{id}",
        summary: "A custom form",
        query: &[],
        body: None,
        answer: (200, Some("Form")),
        handler: || get(form_read),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/forms/{id}",
        summary: "Change a custom form (fields are replaced whole)",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("Form")),
        handler: || patch(form_update),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/forms/{id}",
        summary: "Delete a custom form no help topic uses",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(form_delete),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/lists",
        summary: "Lists: the built-in ticket status list (id 0), then the custom ones",
        query: &[],
        body: None,
        answer: (200, Some("ListList")),
        handler: || get(list_list),
    },
    ApiRoute {
        method: "POST",
        path: "/api/v1/{instance}/lists",
        summary: "Create a custom list",
        query: &[],
        body: Some("NewList"),
        answer: (201, Some("List")),
        handler: || post(list_create),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/lists/{id}",
        summary: "A list (0 is the built-in ticket status list)",
        query: &[],
        body: None,
        answer: (200, Some("List")),
        handler: || get(list_read),
    },
    ApiRoute {
        method: "PATCH",
        path: "/api/v1/{instance}/lists/{id}",
        summary: "Change a custom list (items are replaced whole)",
        query: &[],
        body: Some("Changes"),
        answer: (200, Some("List")),
        handler: || patch(list_update),
    },
    ApiRoute {
        method: "DELETE",
        path: "/api/v1/{instance}/lists/{id}",
        summary: "Delete a custom list no form's choice field uses",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete_route(list_delete),
    },
    ApiRoute {
        method: "GET",
        path: "/api/v1/{instance}/topics/{id}/form",
        summary: "The forms of a help topic, its parents' first, with their lists' items: without credentials a public topic's fields users see; with an agent token or API key, every field",
        query: &[],
        body: None,
        answer: (200, Some("TopicForm")),
        handler: || get(topic_form),
    },
];

/// The routes of this module, registered from [`ROUTES`].
pub fn router() -> Router<AppState> {
    super::tickets::register(Router::new(), ROUTES)
}

/// `{"items": [...]}`.
#[derive(Debug, Serialize)]
struct Items<T> {
    items: Vec<T>,
}

/// A create body: the record's fields without its id, which the service
/// assigns (an `id` sent anyway is ignored).
#[derive(Debug)]
struct New<K>(K);

impl<'de, K: Record> Deserialize<'de> for New<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        fields.insert("id".into(), Value::from(0));
        K::deserialize(Value::Object(fields))
            .map(New)
            .map_err(de::Error::custom)
    }
}

/// The number in the path; one that is not a number names no object.
fn number(id: &str, what: &str) -> Result<u32, ApiError> {
    id.parse()
        .map_err(|_| ServiceError::NotFound(format!("{what} {id}")).into())
}

async fn form_list(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
) -> Result<Json<Items<Versioned<Form>>>, ApiError> {
    let items = objects::list(caller.ctx(&state), &caller.actor).await?;
    Ok(Json(Items { items }))
}

async fn form_create(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Body(New(form)): Body<New<Form>>,
) -> Result<(StatusCode, Json<Versioned<Form>>), ApiError> {
    let created = objects::create(caller.ctx(&state), &caller.actor, form).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn form_read(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Versioned<Form>>, ApiError> {
    let id = FormId(number(&id, "form")?);
    Ok(Json(
        objects::get(caller.ctx(&state), &caller.actor, id).await?,
    ))
}

async fn form_update(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
    Body(changes): Body<FormChanges>,
) -> Result<Json<Versioned<Form>>, ApiError> {
    let id = FormId(number(&id, "form")?);
    Ok(Json(
        objects::update(caller.ctx(&state), &caller.actor, id, changes).await?,
    ))
}

async fn form_delete(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = FormId(number(&id, "form")?);
    objects::delete(caller.ctx(&state), &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_list(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
) -> Result<Json<Items<ListView>>, ApiError> {
    let items = lists::list(caller.ctx(&state), &caller.actor).await?;
    Ok(Json(Items { items }))
}

async fn list_create(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Body(New(list)): Body<New<CustomList>>,
) -> Result<(StatusCode, Json<ListView>), ApiError> {
    let list = objects::create(caller.ctx(&state), &caller.actor, list).await?;
    Ok((
        StatusCode::CREATED,
        Json(ListView {
            list,
            built_in: false,
        }),
    ))
}

async fn list_read(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<ListView>, ApiError> {
    let id = ListId(number(&id, "list")?);
    Ok(Json(
        lists::get(caller.ctx(&state), &caller.actor, id).await?,
    ))
}

async fn list_update(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
    Body(changes): Body<ListChanges>,
) -> Result<Json<ListView>, ApiError> {
    let id = ListId(number(&id, "list")?);
    lists::refuse_built_in(id)?;
    let list = objects::update(caller.ctx(&state), &caller.actor, id, changes).await?;
    Ok(Json(ListView {
        list,
        built_in: false,
    }))
}

async fn list_delete(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = ListId(number(&id, "list")?);
    lists::refuse_built_in(id)?;
    objects::delete(caller.ctx(&state), &caller.actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whoever reads a topic's forms: a caller with credentials, or anyone
/// (the instance in the path must exist either way).
#[derive(Debug)]
enum Reader {
    Caller(Caller),
    Anyone(taquilla_core::domain::InstanceId),
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credentials = parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
            || auth::api_key(&parts.headers).is_some();
        if credentials {
            let ApiAuth(caller) = ApiAuth::from_request_parts(parts, state).await?;
            return Ok(Reader::Caller(caller));
        }
        let Path((instance, _)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("no such route".into()))?;
        Ok(Reader::Anyone(
            auth::existing_instance(state, &instance).await?,
        ))
    }
}

async fn topic_form(
    State(state): State<AppState>,
    reader: Reader,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<TopicForm>, ApiError> {
    let id = TopicId(number(&id, "help topic")?);
    let form = match &reader {
        Reader::Caller(caller) => {
            fields::topic_form(&caller.ctx(&state), Some(&caller.actor), id).await?
        }
        Reader::Anyone(instance) => {
            let ctx = Ctx {
                store: state.store.as_ref(),
                blobs: state.blobs.as_ref(),
                clock: state.clock.as_ref(),
                instance,
            };
            fields::topic_form(&ctx, None, id).await?
        }
    };
    Ok(Json(form))
}

/// The schemas of this module's bodies and answers.
#[must_use]
pub fn schemas() -> Map<String, Value> {
    let int = json!({"type": "integer"});
    let string = json!({"type": "string"});
    let texts = json!({
        "type": "object",
        "description": "A text per language; any may be missing",
        "properties": {"ca": string, "es": string, "en": string},
        "additionalProperties": false,
    });
    let name = json!({"type": "string", "minLength": 1, "maxLength": 120, "description": "Unique in the kind, ignoring case and runs of white space"});
    let field = json!({
        "type": "object",
        "required": ["name", "type", "label"],
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$", "description": "The variable name: the key of the answer in the ticket's fields, unique in the form"},
            "type": {"type": "string", "enum": ["short_text", "long_text", "number", "email", "phone", "date", "date_time", "choice", "checkbox", "file", "section"]},
            "label": texts, "help": texts,
            "required": {"type": "boolean", "default": false},
            "visible_to": {"type": "string", "enum": ["users", "agents"], "default": "users"},
            "user_editable": {"type": "boolean", "default": true},
            "list": {"type": "integer", "description": "choice: the list it chooses from (0: the ticket statuses)"},
            "multiple": {"type": "boolean", "default": false, "description": "choice: several items (stored joined by commas)"},
            "validation": {"type": "object", "properties": {
                "min_length": int, "max_length": int,
                "pattern": {"type": "string", "description": "A regular expression (linear-time syntax, no look-around or back-references) the whole answer matches; text types"},
                "min": int, "max": int,
            }},
        },
    });
    let form = json!({
        "name": name, "title": texts, "instructions": texts,
        "fields": {"type": "array", "maxItems": 100, "items": field},
    });
    let item = json!({
        "type": "object",
        "required": ["value"],
        "properties": {
            "value": {"type": "string", "minLength": 1, "maxLength": 120, "description": "Unique in the list, no commas"},
            "label": texts,
            "properties": {"type": "object", "maxProperties": 20, "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}},
            "disabled": {"type": "boolean", "default": false},
        },
    });
    let list = json!({"name": name, "items": {"type": "array", "maxItems": 500, "items": item}});
    let record = |fields: &Value, extra: &[(&str, Value)]| {
        let mut fields = fields.clone();
        fields["id"] = int.clone();
        fields["version"] = int.clone();
        for (key, value) in extra {
            fields[*key] = value.clone();
        }
        fields
    };
    let object = |required: &[&str], properties: Value| json!({"type": "object", "required": required, "properties": properties});
    let items_of = |name: &str| {
        object(
            &["items"],
            json!({"items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}")}}}),
        )
    };
    let mut view_field = field.clone();
    view_field["properties"]["items"] =
        json!({"type": "array", "items": item, "description": "choice: the items offered"});
    let built_in = json!({"type": "boolean", "description": "The ticket status list, changed through /statuses"});
    let mut out = Map::new();
    for (name, schema) in [
        ("NewForm", object(&["name"], form.clone())),
        (
            "Form",
            object(&["id", "name", "fields", "version"], record(&form, &[])),
        ),
        ("FormList", items_of("Form")),
        ("NewList", object(&["name"], list.clone())),
        (
            "List",
            object(
                &["id", "name", "items", "version", "built_in"],
                record(&list, &[("built_in", built_in)]),
            ),
        ),
        ("ListList", items_of("List")),
        (
            "TopicForm",
            object(
                &["topic", "forms"],
                json!({
                    "topic": int,
                    "forms": {"type": "array", "items": object(&["id", "name", "fields"], json!({
                        "id": int, "name": string, "title": texts, "instructions": texts,
                        "fields": {"type": "array", "items": view_field},
                    }))},
                }),
            ),
        ),
    ] {
        out.insert(name.to_owned(), schema);
    }
    out
}
