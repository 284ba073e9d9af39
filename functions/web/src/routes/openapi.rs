//! The OpenAPI 3 document of the JSON API, served at
//! `GET /api/v1/openapi.json`.
//!
//! The ticket, task and configuration routes are described from
//! [`tickets::ROUTES`], [`tasks::ROUTES`] and [`admin::ROUTES`], the tables
//! that also register them, so they cannot drift apart; the document itself
//! is listed in [`OTHER_ROUTES`]. A test (`tests/it/api_v1.rs`) sends every
//! method to every documented path of the real server and checks that
//! exactly the documented ones are routed, and that the router has no
//! `/api/v1` path the document lacks.

mod schemas;

use std::sync::LazyLock;

use axum::Json;
use serde_json::{Map, Value, json};

use super::accounts;
use super::canned;
use super::suppressions;
use super::tickets::{self, ApiRoute};
use super::{admin, forms, rules, tasks, templates};

/// A documented route: what [`ApiRoute`] says, without the handler.
#[derive(Debug, Clone, Copy)]
pub struct DocRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub query: &'static [&'static str],
    pub body: Option<&'static str>,
    pub answer: (u16, Option<&'static str>),
}

impl From<&ApiRoute> for DocRoute {
    fn from(r: &ApiRoute) -> Self {
        Self {
            method: r.method,
            path: r.path,
            summary: r.summary,
            query: r.query,
            body: r.body,
            answer: r.answer,
        }
    }
}

/// Shorthand for the rows of [`OTHER_ROUTES`].
const fn doc(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    answer: (u16, Option<&'static str>),
) -> DocRoute {
    DocRoute {
        method,
        path,
        summary,
        query: &[],
        body,
        answer,
    }
}

/// The path of the document itself.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// The named configuration kinds of [`admin::ROUTES`]: (path segment, schema
/// name of the record; its create body is `New{name}`).
const KINDS: &[(&str, &str)] = &[
    ("departments", "Department"),
    ("topics", "HelpTopic"),
    ("teams", "Team"),
    ("roles", "Role"),
    ("priorities", "Priority"),
    ("statuses", "Status"),
];

/// Every `/api/v1` route that is in none of the routing tables.
pub const OTHER_ROUTES: &[DocRoute] =
    &[doc("GET", OPENAPI_PATH, "This document", None, (200, None))];

/// Every documented route: the routing tables' and the others.
#[must_use]
pub fn routes() -> Vec<DocRoute> {
    tickets::ROUTES
        .iter()
        .chain(tasks::ROUTES)
        .chain(admin::ROUTES)
        .chain(canned::ROUTES)
        .chain(templates::ROUTES)
        .chain(accounts::ROUTES)
        .chain(forms::ROUTES)
        .chain(rules::ROUTES)
        .chain(suppressions::ROUTES)
        .map(DocRoute::from)
        .chain(OTHER_ROUTES.iter().copied())
        .collect()
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<Value> {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(build);
    Json(DOCUMENT.clone())
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The names of the `{...}` segments of `path`.
fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

fn parameter(name: &str, place: &str) -> Value {
    let (schema, description) = match name {
        "instance" => (json!({"type": "string"}), "The instance's slug"),
        "number" | "other" => (json!({"type": "string"}), "A ticket number"),
        "user" => (json!({"type": "string"}), "A user id"),
        "address" => (json!({"type": "string"}), "An e-mail address"),
        "id" => (json!({"type": "string"}), "The object's id"),
        "state" => (
            json!({"type": "string", "enum": ["open", "closed", "archived", "deleted"]}),
            "Tickets in this state (default: the status's, else open)",
        ),
        "sort" => (
            json!({"type": "string", "enum": ["activity", "created", "due"]}),
            "Order by last activity (default), creation (needs user) or due date",
        ),
        "order" => (
            json!({"type": "string", "enum": ["asc", "desc"]}),
            "Default desc",
        ),
        "limit" => (
            json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
            "Page size",
        ),
        "cursor" => (json!({"type": "string"}), "The cursor of the previous page"),
        "overdue" => (json!({"type": "boolean"}), "Only (not) overdue tickets"),
        "department" | "status" | "assignee" | "team" | "topic" | "priority" => {
            (json!({"type": "integer"}), "Filter by this id")
        }
        _ => (json!({"type": "string"}), ""),
    };
    json!({
        "name": name,
        "in": place,
        "required": place == "path",
        "description": description,
        "schema": schema,
    })
}

fn operation(route: &DocRoute) -> Value {
    let mut parameters: Vec<Value> = path_params(route.path)
        .map(|p| parameter(p, "path"))
        .collect();
    parameters.extend(route.query.iter().map(|q| parameter(q, "query")));
    let (status, answer) = route.answer;
    let success = match answer {
        Some(schema) => json!({
            "description": "Success",
            "content": {"application/json": {"schema": schema_ref(schema)}},
        }),
        None => json!({"description": "Success"}),
    };
    let mut responses = Map::new();
    responses.insert(status.to_string(), success);
    responses.insert(
        "default".into(),
        json!({
            "description": "An error with a stable code",
            "content": {"application/json": {"schema": schema_ref("Error")}},
        }),
    );
    let mut op = json!({
        "summary": route.summary,
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = route.body {
        op["requestBody"] = json!({
            "required": !matches!(body, "VersionBody" | "LockBody" | "ResetPassword"),
            "content": {"application/json": {"schema": schema_ref(body)}},
        });
    }
    if route.path == OPENAPI_PATH || accounts::is_public(route.path) {
        op["security"] = json!([]);
    }
    if route.path.ends_with("/topics/{id}/form") {
        op["security"] = json!([{}, {"agentToken": []}, {"apiKey": []}]);
    }
    op
}

/// The schemas of the ticket and configuration routes, and of the tasks'.
fn all_schemas() -> Value {
    let mut all = schemas::schemas(KINDS);
    if let Value::Object(map) = &mut all {
        map.extend(canned::schemas());
        map.extend(tasks::schemas());
        map.extend(templates::schemas());
        map.extend(accounts::schemas());
        map.extend(forms::schemas());
        map.extend(rules::schemas());
    }
    all
}

fn build() -> Value {
    let mut paths = Map::new();
    for route in routes() {
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = operation(&route);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Taquilla JSON API",
            "version": "1",
            "description": "Every error is {\"error\": {\"code\", \"message\"}} with a stable snake_case code. Tickets are addressed by number. Configuration routes need an administrator's agent token; ticket routes take an agent token or an API key (acting with its permissions).",
        },
        "security": [{"agentToken": []}, {"apiKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "agentToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "schemas": all_schemas(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in `value`.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_names_a_schema_of_the_document() {
        let document = build();
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(!found.is_empty());
        for target in found {
            let name = target.trim_start_matches("#/components/schemas/");
            assert!(
                document["components"]["schemas"].get(name).is_some(),
                "{target} is not defined"
            );
        }
    }

    #[test]
    fn every_route_is_documented_once_with_its_path_parameters() {
        let document = build();
        let routes = routes();
        let mut seen = std::collections::BTreeSet::new();
        for route in &routes {
            assert!(
                seen.insert((route.method, route.path)),
                "{} {} twice",
                route.method,
                route.path
            );
            let op = &document["paths"][route.path][route.method.to_ascii_lowercase()];
            assert!(op.is_object(), "{} {} missing", route.method, route.path);
            let params = op["parameters"].as_array().map_or(0, Vec::len);
            assert_eq!(params, path_params(route.path).count() + route.query.len());
        }
        let documented: usize = document["paths"].as_object().map_or(0, |paths| {
            paths
                .values()
                .map(|p| p.as_object().map_or(0, Map::len))
                .sum()
        });
        assert_eq!(documented, routes.len());
    }
}
