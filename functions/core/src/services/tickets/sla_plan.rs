//! An agent gives a ticket another SLA plan, or none, as osTicket lets its
//! agents do; the due times are recomputed in the new plan.
//!
//! Departments and help topics give their tickets a plan, and rules may set
//! one; this is the agent's own say on a ticket at hand (a request that
//! turned out urgent, a plan given by mistake). It is an edit of the
//! ticket like its priority or topic, so it needs `ticket.edit` in the
//! ticket's department, and it is recorded in the thread as an
//! `sla_changed` event naming the plan it replaced and the new one.
//!
//! The plan's clock starts over from the ticket's own history (its
//! creation, its last user message, its responses): a target the ticket
//! has already missed under the new plan is breached at once, as it would
//! have been had the ticket had the plan from the start. A plan given by
//! an agent is kept or replaced on a later department or topic change by
//! the plan's own `transient` flag, as any plan is.

use super::actions::{commit, load_at};
use super::config::object;
use crate::domain::change::Change;
use crate::domain::{Permission, SlaPlan, SlaPlanId, Ticket, TicketId};
use crate::services::{Actor, Ctx, ServiceError};

/// The stable code, in brackets at the end of the message, of a plan that
/// does not exist.
pub const UNKNOWN_PLAN: &str = "sla_unknown_plan";

/// Gives the ticket the SLA plan `sla` (which must exist), or none.
/// Needs `ticket.edit`. A ticket the actor may not see is `NotFound`;
/// an unknown plan is `Invalid` on the field `sla` with the code
/// [`UNKNOWN_PLAN`]. The same plan again changes and writes nothing.
pub async fn set_sla(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    sla: Option<SlaPlanId>,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    actor.require(Permission::TicketEdit, current.department)?;
    if let Some(id) = sla
        && object::<SlaPlan>(ctx, SlaPlanId::KIND, id.0)
            .await?
            .is_none()
    {
        return Err(ServiceError::Invalid {
            field: "sla".into(),
            message: format!("SLA plan {id} does not exist [{UNKNOWN_PLAN}]"),
        });
    }
    let change = Change::SetSla(sla.map(|id| id.0));
    commit(ctx, actor, current, vec![change]).await
}
