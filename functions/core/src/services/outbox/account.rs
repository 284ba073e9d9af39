//! Mail about an agent's account: the welcome of a new agent and the
//! password reset, each carrying a single-use link to choose a password.
//!
//! The item names the agent and the issue of its password link
//! ([`accounts::links`]); the link's secret is only made when the mail is
//! sent ([`accounts::links::mint`]), so the outbox never holds one. An
//! item whose link was used, expired or replaced by a newer one owes no
//! mail any more: [`account_subject`] answers `NotFound` and the
//! dispatcher drops it.

use serde::{Deserialize, Serialize};

use super::{About, put_op};
use crate::domain::{Agent, AgentId, Instance};
use crate::services::accounts::links::{self, PasswordLink};
use crate::services::tickets::config;
use crate::services::{Ctx, ServiceError, directory};
use crate::store::WriteOp;

/// Why mail about an account is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountOccasion {
    /// An agent was created: the welcome, with a link to choose a password.
    AgentWelcome,
    /// An agent (or an administrator for them) asked for a new password.
    PasswordReset,
}

/// Mail about an agent's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMail {
    pub agent: AgentId,
    /// The issue of the agent's password link this mail carries.
    pub link: String,
    pub occasion: AccountOccasion,
    /// The administrator who caused it, if one did.
    #[serde(default)]
    pub by: Option<AgentId>,
}

/// The outbox item mailing the password link `issue` of `agent`.
pub(crate) fn account_item_op(
    ctx: &Ctx<'_>,
    agent: AgentId,
    issue: &str,
    occasion: AccountOccasion,
    by: Option<AgentId>,
) -> Result<WriteOp, ServiceError> {
    put_op(
        ctx,
        About::Account(AccountMail {
            agent,
            link: issue.to_owned(),
            occasion,
            by,
        }),
    )
}

/// Everything a dispatcher needs to write a mail about an account.
#[derive(Debug, Clone)]
pub struct AccountSubject {
    pub instance: Instance,
    pub agent: Agent,
    /// The link as stored when the subject was loaded.
    pub link: PasswordLink,
    /// The administrator who caused the mail, if one did.
    pub by: Option<Agent>,
}

/// Loads the [`AccountSubject`] of `item`; `NotFound` when the mail is no
/// longer owed: the agent is gone or inactive, or its link was used,
/// expired or replaced by a newer one.
pub async fn account_subject(
    ctx: &Ctx<'_>,
    item: &AccountMail,
) -> Result<AccountSubject, ServiceError> {
    let gone = |what: &str| ServiceError::NotFound(format!("{what} of agent {}", item.agent));
    let agent: Agent = config::object::<Agent>(ctx, AgentId::KIND, item.agent.0)
        .await?
        .filter(|a| a.active)
        .ok_or_else(|| gone("active account"))?;
    let link = links::load(ctx, item.agent)
        .await?
        .filter(|link| link.issue == item.link && link.pending(ctx.clock.now_ms()))
        .ok_or_else(|| gone("pending password link"))?;
    let by = match item.by {
        Some(id) => config::object(ctx, AgentId::KIND, id.0).await?,
        None => None,
    };
    Ok(AccountSubject {
        instance: directory::instance(ctx.store, ctx.instance).await?,
        agent,
        link,
        by,
    })
}
