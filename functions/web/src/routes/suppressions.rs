//! The instance's suppressed addresses under
//! `/api/v1/{instance}/suppressions` (administrators): where no mail goes
//! any more because it bounced for good or its owner complained (see
//! `taquilla_core::services::suppressions`), listed by address a page at a
//! time, and removed once the address works again (`DELETE
//! .../suppressions/{address}`; `404 not_found` when it is not
//! suppressed). Other agents are `403 forbidden`.

use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::Deserialize;
use taquilla_core::services::suppressions::{self, Suppression};
use taquilla_core::services::{Page, ServiceError};

use super::tickets::{ApiRoute, Params};
use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::state::AppState;

const LIST: &str = "/api/v1/{instance}/suppressions";
const ONE: &str = "/api/v1/{instance}/suppressions/{address}";

/// The routes of this module.
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "GET",
        path: LIST,
        summary: "Addresses no mail goes to (bounced for good, or their owners complained), by address (administrators)",
        query: &["cursor", "limit"],
        body: None,
        answer: (200, Some("SuppressionList")),
        handler: || get(list),
    },
    ApiRoute {
        method: "DELETE",
        path: ONE,
        summary: "Let mail go to a suppressed address again (administrators)",
        query: &[],
        body: None,
        answer: (204, None),
        handler: || delete(remove),
    },
];

/// The routes of this module, registered from [`ROUTES`].
pub fn router() -> Router<AppState> {
    super::tickets::register(Router::new(), ROUTES)
}

/// `?cursor&limit`.
#[derive(Debug, Deserialize)]
struct PageQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Params(query): Params<PageQuery>,
) -> Result<Json<Page<Suppression>>, ApiError> {
    let limit = match query.limit {
        None => 50,
        Some(n @ 1..=100) => n,
        Some(_) => {
            return Err(ServiceError::Invalid {
                field: "limit".into(),
                message: "must be between 1 and 100".into(),
            }
            .into());
        }
    };
    let page = suppressions::list(&caller.ctx(&state), &caller.actor, query.cursor, limit).await?;
    Ok(Json(page))
}

async fn remove(
    State(state): State<AppState>,
    AgentAuth(caller): AgentAuth,
    Path((_, address)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    suppressions::remove(&caller.ctx(&state), &caller.actor, &address).await?;
    Ok(StatusCode::NO_CONTENT)
}
