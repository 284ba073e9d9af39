//! Ticket queues: served only by key-range queries on the queue indexes
//! (see [`crate::keys`]), never by a scan.
//!
//! The index is chosen from the most selective filter: an assignee (`gsi2`),
//! a team (`gsi4`), a user (`gsi3`), else the department queues (`gsi1`);
//! sorting by due time reads the due index (`gsi5`). An agent without a
//! department filter sees its departments' queues merged in sort order.
//! Each partition is read from just after the last ticket a page consumed
//! from it, so the page's opaque cursor records one sort key per
//! partition. Remaining filters are applied while paging; a page examines
//! at most [`MAX_EXAMINED`] tickets, so a very selective filter may give a
//! short (even empty) page that still carries a cursor.

use std::collections::{BTreeMap, VecDeque};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::access::can_see;
use super::config;
use crate::domain::{
    AgentId, Department, DepartmentId, PriorityId, State, Status, StatusId, TeamId, Ticket,
    TopicId, UserId,
};
use crate::keys;
use crate::services::{Actor, Ctx, Page, ServiceError};
use crate::store::{Index, MAX_QUERY_LIMIT, Query, SkCondition, StoreError, codec};

/// Most tickets one queue page reads before it returns what it has.
pub const MAX_EXAMINED: usize = 5_000;

/// What a queue is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    /// Last activity (the ticket's `updated_at`).
    #[default]
    Activity,
    /// Creation; served by the user index, so it needs a `user` filter.
    Created,
    /// SLA due time; open tickets with a due time only.
    Due,
}

/// Which tickets, in what order, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFilter {
    pub department: Option<DepartmentId>,
    /// Defaults to the state of `status`, else open.
    pub state: Option<State>,
    pub status: Option<StatusId>,
    pub assignee: Option<AgentId>,
    pub team: Option<TeamId>,
    pub topic: Option<TopicId>,
    pub priority: Option<PriorityId>,
    pub overdue: Option<bool>,
    pub user: Option<UserId>,
    pub sort: QueueSort,
    pub descending: bool,
    pub cursor: Option<String>,
    /// 1 to 1000.
    pub limit: u32,
}

impl Default for QueueFilter {
    /// The open queue, most recent activity first, 50 a page.
    fn default() -> Self {
        Self {
            department: None,
            state: None,
            status: None,
            assignee: None,
            team: None,
            topic: None,
            priority: None,
            overdue: None,
            user: None,
            sort: QueueSort::Activity,
            descending: true,
            cursor: None,
            limit: 50,
        }
    }
}

fn invalid(field: &str, message: &str) -> ServiceError {
    ServiceError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// The partitions to read and which filters they already guarantee.
struct Plan {
    index: Index,
    partitions: Vec<String>,
    /// The partitions hold only tickets of `state`.
    by_state: bool,
    /// The partitions hold only tickets of the filtered department(s).
    by_department: bool,
}

/// The departments `actor` may list without naming one.
async fn departments_of(ctx: &Ctx<'_>, actor: &Actor) -> Result<Vec<DepartmentId>, ServiceError> {
    match actor {
        Actor::Agent(access) if !access.agent.admin => Ok(access.agent.departments().collect()),
        _ => Ok(config::all::<Department>(ctx, DepartmentId::KIND)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect()),
    }
}

async fn plan(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &QueueFilter,
    state: State,
) -> Result<Plan, ServiceError> {
    let instance = ctx.instance;
    let user = match actor {
        Actor::User(me) => {
            if filter.user.as_ref().is_some_and(|u| u != me) {
                return Err(ServiceError::Forbidden("another user's tickets".into()));
            }
            Some(me.clone())
        }
        _ => filter.user.clone(),
    };
    if filter.sort == QueueSort::Due {
        if state != State::Open {
            return Err(invalid("sort", "due order lists open tickets only"));
        }
        return Ok(Plan {
            index: Index::Gsi5,
            partitions: vec![keys::queue::due(instance), keys::queue::late(instance)],
            by_state: true,
            by_department: false,
        });
    }
    if filter.sort == QueueSort::Created && user.is_none() {
        return Err(invalid("sort", "creation order needs a user filter"));
    }
    if filter.sort == QueueSort::Activity {
        if let Some(agent) = filter.assignee {
            return Ok(Plan {
                index: Index::Gsi2,
                partitions: vec![keys::queue::assignee(instance, agent, state)],
                by_state: true,
                by_department: false,
            });
        }
        if let Some(team) = filter.team {
            return Ok(Plan {
                index: Index::Gsi4,
                partitions: vec![keys::queue::team(instance, team, state)],
                by_state: true,
                by_department: false,
            });
        }
    }
    if let Some(user) = user {
        return Ok(Plan {
            index: Index::Gsi3,
            partitions: vec![keys::queue::user(instance, &user)],
            by_state: false,
            by_department: false,
        });
    }
    let departments = match filter.department {
        Some(department) => vec![department],
        None => departments_of(ctx, actor).await?,
    };
    Ok(Plan {
        index: Index::Gsi1,
        partitions: departments
            .into_iter()
            .map(|d| keys::queue::department(instance, d, state))
            .collect(),
        by_state: true,
        by_department: true,
    })
}

/// Whether `ticket` passes the filters its partition does not guarantee.
fn matches(
    ticket: &Ticket,
    filter: &QueueFilter,
    state: State,
    plan: &Plan,
    actor: &Actor,
) -> bool {
    (plan.by_state || ticket.state == state)
        && (plan.by_department || filter.department.is_none_or(|d| ticket.department == d))
        && filter.status.is_none_or(|s| ticket.status == s)
        && filter.assignee.is_none_or(|a| ticket.assignee == Some(a))
        && filter.team.is_none_or(|t| ticket.team == Some(t))
        && filter.topic.is_none_or(|t| ticket.topic == Some(t))
        && filter.priority.is_none_or(|p| ticket.priority == p)
        && filter.overdue.is_none_or(|o| ticket.overdue == o)
        && filter.user.as_ref().is_none_or(|u| ticket.user == *u)
        && can_see(actor, ticket)
}

/// The opaque cursor: per partition, the sort key of the last ticket consumed.
#[derive(Debug, Default, Serialize, Deserialize)]
struct QueueCursor {
    after: BTreeMap<String, String>,
}

fn encode_cursor(cursor: &QueueCursor) -> Result<String, ServiceError> {
    let json = serde_json::to_vec(cursor)
        .map_err(|e| StoreError::InvalidRequest(format!("cursor: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

fn decode_cursor(text: &str, plan: &Plan) -> Result<QueueCursor, ServiceError> {
    let cursor: QueueCursor = URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(StoreError::InvalidCursor)?;
    if cursor.after.keys().any(|pk| !plan.partitions.contains(pk)) {
        return Err(StoreError::InvalidCursor.into());
    }
    Ok(cursor)
}

/// One partition being read in order.
struct Stream {
    pk: String,
    /// Sort key of the last ticket consumed (what the cursor records).
    consumed: Option<String>,
    /// Sort key of the last ticket fetched.
    fetched: Option<String>,
    buffer: VecDeque<(String, Ticket)>,
    exhausted: bool,
}

impl Stream {
    async fn fill(
        &mut self,
        ctx: &Ctx<'_>,
        index: Index,
        descending: bool,
        batch: u32,
    ) -> Result<(), ServiceError> {
        if !self.buffer.is_empty() || self.exhausted {
            return Ok(());
        }
        let mut query = Query::index(index, self.pk.clone()).limit(batch);
        if let Some(after) = &self.fetched {
            query = query.sk(if descending {
                SkCondition::Lt(after.clone())
            } else {
                SkCondition::Gt(after.clone())
            });
        }
        if descending {
            query = query.descending();
        }
        let page = ctx.store.query(&query).await?;
        self.exhausted = page.cursor.is_none();
        let sk_attr = index.def().sk;
        for item in &page.items {
            let sk = item
                .get_str(sk_attr)
                .ok_or_else(|| StoreError::Corrupt(format!("queue item without {sk_attr}")))?
                .to_owned();
            self.fetched = Some(sk.clone());
            self.buffer.push_back((sk, codec::decode(item)?));
        }
        Ok(())
    }
}

/// One page of the queue `filter` describes, as `actor` may see it.
pub async fn queue(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &QueueFilter,
) -> Result<Page<Ticket>, ServiceError> {
    let limit = filter.limit.clamp(1, MAX_QUERY_LIMIT);
    let status: Option<Status> = match filter.status {
        Some(id) => Some(config::existing(ctx, StatusId::KIND, id.0, "status").await?),
        None => None,
    };
    let state = match (filter.state, &status) {
        (Some(state), Some(status)) if status.state != state => {
            return Err(invalid(
                "status",
                "the status is not in the state asked for",
            ));
        }
        (Some(state), _) => state,
        (None, Some(status)) => status.state,
        (None, None) => State::Open,
    };
    if let (Actor::Agent(access), Some(department)) = (actor, filter.department)
        && !access.agent.admin
        && access.agent.role_in(department).is_none()
        && filter.assignee != Some(access.agent.id)
        && filter.team.is_none_or(|t| !access.agent.teams.contains(&t))
    {
        return Err(ServiceError::Forbidden(format!(
            "no access to department {department}"
        )));
    }
    let plan = plan(ctx, actor, filter, state).await?;
    let cursor = match &filter.cursor {
        Some(text) => decode_cursor(text, &plan)?,
        None => QueueCursor::default(),
    };
    let mut streams: Vec<Stream> = plan
        .partitions
        .iter()
        .map(|pk| {
            let after = cursor.after.get(pk).cloned();
            Stream {
                pk: pk.clone(),
                consumed: after.clone(),
                fetched: after,
                buffer: VecDeque::new(),
                exhausted: false,
            }
        })
        .collect();

    let mut items = Vec::new();
    let mut examined = 0usize;
    while items.len() < limit as usize && examined < MAX_EXAMINED {
        for stream in &mut streams {
            stream
                .fill(ctx, plan.index, filter.descending, limit)
                .await?;
        }
        // The stream whose next ticket comes first in the order asked.
        let next = streams
            .iter()
            .enumerate()
            .filter_map(|(n, s)| s.buffer.front().map(|(sk, _)| (n, sk)))
            .reduce(|best, candidate| {
                let better = if filter.descending {
                    candidate.1 > best.1
                } else {
                    candidate.1 < best.1
                };
                if better { candidate } else { best }
            })
            .map(|(n, _)| n);
        let Some(n) = next else { break };
        let Some((sk, ticket)) = streams[n].buffer.pop_front() else {
            break;
        };
        streams[n].consumed = Some(sk);
        examined += 1;
        if matches(&ticket, filter, state, &plan, actor) {
            items.push(ticket);
        }
    }
    let more = streams.iter().any(|s| !s.buffer.is_empty() || !s.exhausted);
    let cursor = if more {
        let after = streams
            .into_iter()
            .filter_map(|s| s.consumed.map(|sk| (s.pk, sk)))
            .collect();
        Some(encode_cursor(&QueueCursor { after })?)
    } else {
        None
    };
    Ok(Page { items, cursor })
}
