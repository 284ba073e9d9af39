//! Signing in: an agent's e-mail and password for a bearer token
//! (`services::tokens`).

use std::sync::LazyLock;

use serde::Serialize;

use crate::domain::{Agent, AgentId};
use crate::password;
use crate::secrets::SecretKey;
use crate::services::tickets::config;
use crate::services::{Ctx, ServiceError, admin, tokens};

/// How long a token from signing in lasts: a working day and some.
pub const SESSION_TTL_SECS: i64 = 12 * 3600;

/// Longest password accepted for checking, in bytes (longer ones are no
/// one's: they are refused without hashing).
const MAX_PASSWORD_BYTES: usize = 1024;

/// A hash no password matches in practice, checked against for unknown
/// addresses so that they cost as much time as known ones.
static DECOY: LazyLock<Option<String>> = LazyLock::new(|| {
    password::generate(32)
        .ok()
        .and_then(|p| password::hash(&p).ok())
});

/// What signing in gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The bearer token for `Authorization: Bearer ...`.
    pub token: String,
    pub agent: AgentId,
    /// When the token expires, epoch seconds.
    pub expires_at: i64,
}

/// The one answer for a wrong address, a wrong password or an inactive agent.
fn invalid_credentials() -> ServiceError {
    ServiceError::Unauthorized {
        code: "invalid_credentials",
        message: "wrong e-mail or password".into(),
    }
}

/// Checks `email` and `password` (Argon2id, constant time) and issues a
/// token for the agent. A wrong address, a wrong password and an inactive
/// agent are the same `invalid_credentials`, and an unknown address costs
/// a hash check too, so neither the answer nor its time tells which.
pub async fn sign_in(
    ctx: &Ctx<'_>,
    tokens_key: &SecretKey,
    email: &str,
    password_given: &str,
) -> Result<Session, ServiceError> {
    if password_given.len() > MAX_PASSWORD_BYTES {
        return Err(invalid_credentials());
    }
    let email = email.trim().to_lowercase();
    let agent: Option<Agent> = match admin::agents::claimant(ctx, &email).await? {
        Some(id) => config::object(ctx, AgentId::KIND, id).await?,
        None => None,
    };
    let Some(agent) = agent else {
        if let Some(decoy) = DECOY.as_deref() {
            let _ = password::verify(password_given, decoy);
        }
        return Err(invalid_credentials());
    };
    if !password::verify(password_given, &agent.password_hash) || !agent.active {
        tracing::info!(instance = %ctx.instance, agent = %agent.id, "sign-in refused");
        return Err(invalid_credentials());
    }
    let now = ctx.clock.now_secs();
    let token = tokens::issue(
        tokens_key,
        ctx.instance,
        agent.id,
        None,
        now,
        SESSION_TTL_SECS,
    )?;
    tracing::info!(instance = %ctx.instance, agent = %agent.id, "agent signed in");
    Ok(Session {
        token,
        agent: agent.id,
        expires_at: now + SESSION_TTL_SECS,
    })
}
