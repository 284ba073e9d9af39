//! Reading: the queue, a ticket, its thread.

use axum::extract::{Json, Path, State};
use serde::Deserialize;
use taquilla_core::domain::{
    AgentId, DepartmentId, Entry, PriorityId, State as TicketState, StatusId, TeamId, Ticket,
    TopicId, UserId,
};
use taquilla_core::services::tickets::{self, QueueFilter, QueueSort};
use taquilla_core::services::{Page, ServiceError};

use super::{Params, TicketView, invalid, page_limit, ticket_by_number};
use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::state::AppState;

/// What the queue is sorted by, as the query names it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    Activity,
    Created,
    Due,
}

/// The order of the queue.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

/// The query of `GET tickets`.
#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    department: Option<u32>,
    state: Option<TicketState>,
    status: Option<u32>,
    assignee: Option<u32>,
    team: Option<u32>,
    topic: Option<u32>,
    priority: Option<u32>,
    overdue: Option<bool>,
    user: Option<String>,
    sort: Option<Sort>,
    order: Option<Order>,
    limit: Option<u32>,
    cursor: Option<String>,
}

impl QueueQuery {
    /// The service's filter; most recent activity first unless asked.
    fn filter(self) -> Result<QueueFilter, ApiError> {
        let user = self
            .user
            .map(|u| UserId::parse(&u).map_err(|_| invalid("user", "not a user id")))
            .transpose()?;
        Ok(QueueFilter {
            department: self.department.map(DepartmentId),
            state: self.state,
            status: self.status.map(StatusId),
            assignee: self.assignee.map(AgentId),
            team: self.team.map(TeamId),
            topic: self.topic.map(TopicId),
            priority: self.priority.map(PriorityId),
            overdue: self.overdue,
            user,
            sort: match self.sort {
                None | Some(Sort::Activity) => QueueSort::Activity,
                Some(Sort::Created) => QueueSort::Created,
                Some(Sort::Due) => QueueSort::Due,
            },
            descending: !matches!(self.order, Some(Order::Asc)),
            cursor: self.cursor,
            limit: page_limit(self.limit)?,
        })
    }
}

/// `GET tickets`: `{"items": [...], "cursor": ...}`.
pub async fn queue(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Params(query): Params<QueueQuery>,
) -> Result<Json<Page<Ticket>>, ApiError> {
    let filter = query.filter()?;
    let page = tickets::queue(&caller.ctx(&state), &caller.actor, &filter).await?;
    Ok(Json(page))
}

/// `GET tickets/{number}`: a merged ticket reads as it was left (closed,
/// `merged_into` naming the target's id) and names the target's number
/// when the caller may see it.
pub async fn ticket(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
) -> Result<Json<TicketView>, ApiError> {
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    let merged_into_number = match &ticket.merged_into {
        Some(target) => match tickets::get(&ctx, &caller.actor, target).await {
            Ok(target) => Some(target.number),
            Err(ServiceError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    Ok(Json(TicketView {
        ticket,
        merged_into_number,
        redirected_from: None,
    }))
}

/// `?cursor&limit` of a list.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// `GET tickets/{number}/thread`: entries oldest first.
pub async fn thread(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Path((_, number)): Path<(String, String)>,
    Params(query): Params<PageQuery>,
) -> Result<Json<Page<Entry>>, ApiError> {
    let limit = page_limit(query.limit)?;
    let ctx = caller.ctx(&state);
    let ticket = ticket_by_number(&ctx, &caller, &number).await?;
    let page = tickets::thread(&ctx, &caller.actor, &ticket.id, query.cursor, limit).await?;
    Ok(Json(page))
}
