//! Who may configure an instance: its administrators; who may read its
//! configuration: its agents.
//!
//! An [`Actor::Agent`] carries the agent as it was resolved by whoever
//! authenticated it, and agent ids are numbered per instance, so the check
//! re-reads the agent *in the call's instance* and requires the same agent
//! (id and e-mail), active, and for writes an administrator there. An admin
//! of one instance is nobody in another.

use crate::domain::{Agent, AgentId};
use crate::keys;
use crate::services::{Actor, Ctx, ServiceError};
use crate::store::codec;

/// `Ok` for an administrator of the call's instance (or Taquilla itself).
pub async fn require_admin(ctx: &Ctx<'_>, actor: &Actor) -> Result<(), ServiceError> {
    if !actor.is_admin() {
        return Err(forbidden(ctx, "administrator"));
    }
    match actor {
        Actor::System(_) => require_instance(ctx).await,
        Actor::Agent(access) => {
            let agent = same_agent(ctx, &access.agent).await?;
            if agent.admin {
                Ok(())
            } else {
                Err(forbidden(ctx, "administrator"))
            }
        }
        Actor::User(_) | Actor::ApiKey { .. } => Err(forbidden(ctx, "administrator")),
    }
}

/// `Ok` for any active agent of the call's instance (or Taquilla itself).
pub async fn require_member(ctx: &Ctx<'_>, actor: &Actor) -> Result<(), ServiceError> {
    match actor {
        Actor::System(_) => require_instance(ctx).await,
        Actor::Agent(access) => same_agent(ctx, &access.agent).await.map(|_| ()),
        Actor::User(_) | Actor::ApiKey { .. } => Err(forbidden(ctx, "agent")),
    }
}

/// The stored agent of the call's instance that `agent` is, if active.
async fn same_agent(ctx: &Ctx<'_>, agent: &Agent) -> Result<Agent, ServiceError> {
    let key = keys::object(ctx.instance, AgentId::KIND, agent.id.0);
    let stored: Option<Agent> = match ctx.store.get(&key).await? {
        Some(item) => Some(codec::decode(&item)?),
        None => None,
    };
    match stored {
        Some(stored) if stored.email == agent.email && stored.active => Ok(stored),
        _ => Err(forbidden(ctx, "agent")),
    }
}

async fn require_instance(ctx: &Ctx<'_>) -> Result<(), ServiceError> {
    match ctx.store.get(&keys::instance_config(ctx.instance)).await? {
        Some(_) => Ok(()),
        None => Err(ServiceError::NotFound(format!("instance {}", ctx.instance))),
    }
}

fn forbidden(ctx: &Ctx<'_>, role: &str) -> ServiceError {
    ServiceError::Forbidden(format!(
        "this needs an active {role} of instance {}",
        ctx.instance
    ))
}
