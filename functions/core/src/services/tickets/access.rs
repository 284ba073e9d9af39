//! Who sees a ticket. A ticket an actor may not see is reported as not
//! found, so its existence is not revealed.

use crate::domain::{Ticket, TicketId};
use crate::services::{Actor, Ctx, ServiceError};

use super::store;

/// Whether `actor` may see `ticket`:
///
/// - an active agent with any role in the ticket's department, or to whom
///   (or to one of whose teams) it is assigned; administrators always;
/// - an API key with any ticket permission;
/// - a user: its own tickets and those it collaborates on;
/// - the system: always.
#[must_use]
pub(crate) fn can_see(actor: &Actor, ticket: &Ticket) -> bool {
    match actor {
        Actor::Agent(access) => {
            let agent = &access.agent;
            agent.active
                && (agent.admin
                    || agent.role_in(ticket.department).is_some()
                    || ticket.assignee == Some(agent.id)
                    || ticket.team.is_some_and(|team| agent.teams.contains(&team)))
        }
        Actor::ApiKey { permissions, .. } => permissions.iter().any(|p| p.is_ticket()),
        Actor::User(user) => {
            ticket.user == *user || ticket.collaborators.iter().any(|c| c.user == *user)
        }
        Actor::System(_) => true,
    }
}

/// The ticket, if it exists and `actor` may see it; `NotFound` otherwise.
pub(crate) async fn load_visible(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &TicketId,
) -> Result<Ticket, ServiceError> {
    let ticket = store::load(ctx, id).await?;
    if can_see(actor, &ticket) {
        Ok(ticket)
    } else {
        Err(ServiceError::NotFound(format!("ticket {id}")))
    }
}
