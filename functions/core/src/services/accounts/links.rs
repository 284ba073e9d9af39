//! Password links: single-use, expiring links with which an agent chooses
//! a password, after being created (the welcome) or to replace a forgotten
//! one (the reset).
//!
//! An agent has one link item ([`keys::account::password_link`]); issuing
//! a link replaces the previous one, so at most one is pending. The item
//! holds the issue's id (named by the outbox item that mails it), its
//! expiry, the SHA-256 of the secret last mailed (never the secret), when
//! it was used, and when links were issued in the last hour. Every write
//! is conditional on the item's `rev`, so of two writers only one wins.
//!
//! The secret is made by [`mint`] when the mail is sent: the outbox never
//! holds one, and a retried mail carries a fresh secret (the earlier one
//! stops working). The link's token is `{agent}.{secret in hex}`.
//! [`set_password`] checks the token against the stored hash in constant
//! time and claims the link in the same transaction as the new password.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::strength;
use crate::domain::{Agent, AgentId, EntryId};
use crate::keys;
use crate::password::{self, PasswordError};
use crate::services::outbox::account::{AccountOccasion, account_item_op};
use crate::services::tickets::config;
use crate::services::{Ctx, ServiceError, admin};
use crate::store::{Condition, StoreError, Update, WriteOp, codec};

/// How long a new agent's welcome link works: three days, so an agent
/// created on a Friday can still start on Monday.
pub const WELCOME_TTL_MS: i64 = 72 * 3_600_000;
/// How long a reset link works: one hour.
pub const RESET_TTL_MS: i64 = 3_600_000;
/// Most reset links `forgot` issues for one agent in an hour.
pub const MAX_PER_HOUR: usize = 3;
/// A reset is not issued again while the last one is pending and younger
/// than this: a double click sends one mail.
pub const RESEND_AFTER_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const SECRET_BYTES: usize = 32;
const REV_ATTR: &str = "rev";

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    Welcome,
    Reset,
}

impl LinkPurpose {
    fn ttl_ms(self) -> i64 {
        match self {
            LinkPurpose::Welcome => WELCOME_TTL_MS,
            LinkPurpose::Reset => RESET_TTL_MS,
        }
    }

    fn occasion(self) -> AccountOccasion {
        match self {
            LinkPurpose::Welcome => AccountOccasion::AgentWelcome,
            LinkPurpose::Reset => AccountOccasion::PasswordReset,
        }
    }
}

/// An agent's password link, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordLink {
    pub agent: AgentId,
    pub purpose: LinkPurpose,
    /// This issue's id, named by the outbox item that mails it.
    pub issue: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// SHA-256 (hex) of the secret last mailed; none before the mail.
    #[serde(default)]
    pub secret_hash: Option<String>,
    #[serde(default)]
    pub used_at: Option<i64>,
    /// When links were issued within the last hour (the rate limit).
    #[serde(default)]
    pub recent: Vec<i64>,
    /// Raised by every write; the condition of the next one.
    #[serde(default)]
    pub rev: i64,
}

impl PasswordLink {
    /// Neither used nor expired at `now`.
    #[must_use]
    pub fn pending(&self, now: i64) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

/// The one answer for a link that does not work, whatever the reason.
fn invalid_link() -> ServiceError {
    ServiceError::Rejected {
        code: "invalid_link",
        message: "this password link does not work: it was used, has expired or was replaced; \
                  ask for a new one"
            .into(),
    }
}

fn hash_hex(secret: &[u8]) -> String {
    hex::encode(Sha256::digest(secret))
}

/// The stored link of `agent`, if it has one.
pub async fn load(ctx: &Ctx<'_>, agent: AgentId) -> Result<Option<PasswordLink>, ServiceError> {
    match ctx
        .store
        .get(&keys::account::password_link(ctx.instance, agent))
        .await?
    {
        Some(item) => Ok(Some(codec::decode(&item)?)),
        None => Ok(None),
    }
}

/// Writes `link` as the successor of `previous` (or as the first link).
fn put_op(
    ctx: &Ctx<'_>,
    link: &PasswordLink,
    previous: Option<i64>,
) -> Result<WriteOp, ServiceError> {
    Ok(WriteOp::Put {
        item: codec::encode(keys::account::password_link(ctx.instance, link.agent), link)?,
        condition: Some(match previous {
            Some(rev) => Condition::equals(REV_ATTR, rev),
            None => Condition::Absent,
        }),
    })
}

/// The operations issuing a new link for `agent` in place of `previous`:
/// the link and the outbox item that mails it.
fn issue_ops(
    ctx: &Ctx<'_>,
    agent: AgentId,
    purpose: LinkPurpose,
    previous: Option<&PasswordLink>,
    by: Option<AgentId>,
) -> Result<(PasswordLink, Vec<WriteOp>), ServiceError> {
    let now = ctx.clock.now_ms();
    let mut recent: Vec<i64> = previous
        .map(|p| {
            p.recent
                .iter()
                .copied()
                .filter(|t| *t > now - HOUR_MS)
                .collect()
        })
        .unwrap_or_default();
    recent.push(now);
    let link = PasswordLink {
        agent,
        purpose,
        issue: EntryId::generate().to_string(),
        issued_at: now,
        expires_at: now.saturating_add(purpose.ttl_ms()),
        secret_hash: None,
        used_at: None,
        recent,
        rev: previous.map_or(1, |p| p.rev + 1),
    };
    let ops = vec![
        put_op(ctx, &link, previous.map(|p| p.rev))?,
        account_item_op(ctx, agent, &link.issue, purpose.occasion(), by)?,
    ];
    Ok((link, ops))
}

/// The operations giving a new agent its welcome link and mail, to write
/// in the transaction that creates the agent.
pub(crate) fn welcome_ops(
    ctx: &Ctx<'_>,
    agent: AgentId,
    by: Option<AgentId>,
) -> Result<Vec<WriteOp>, ServiceError> {
    Ok(issue_ops(ctx, agent, LinkPurpose::Welcome, None, by)?.1)
}

/// The operations of an administrator's reset: a reset link and its mail
/// (no rate limit: an administrator acts on purpose), with the expiry.
pub(crate) async fn admin_reset_ops(
    ctx: &Ctx<'_>,
    agent: AgentId,
    by: Option<AgentId>,
) -> Result<(i64, Vec<WriteOp>), ServiceError> {
    let previous = load(ctx, agent).await?;
    let (link, ops) = issue_ops(ctx, agent, LinkPurpose::Reset, previous.as_ref(), by)?;
    Ok((link.expires_at, ops))
}

/// Whether a self-service reset may be issued now after `previous`: fewer
/// than [`MAX_PER_HOUR`] links in the last hour (a welcome counts), and no
/// pending reset younger than [`RESEND_AFTER_MS`].
fn may_issue(previous: Option<&PasswordLink>, now: i64) -> bool {
    let Some(previous) = previous else {
        return true;
    };
    let in_hour = previous
        .recent
        .iter()
        .filter(|t| **t > now - HOUR_MS)
        .count();
    let fresh = previous.purpose == LinkPurpose::Reset
        && previous.pending(now)
        && now - previous.issued_at < RESEND_AFTER_MS;
    in_hour < MAX_PER_HOUR && !fresh
}

/// "I forgot my password": mails a reset link to the active agent whose
/// address `email` is, within the rate limit. Whether such an agent
/// exists, is active or was rate-limited is never told: every well-formed
/// address gets the same `Ok(())`. Only a malformed address is `Invalid`.
pub async fn forgot(ctx: &Ctx<'_>, email: &str) -> Result<(), ServiceError> {
    let email = admin::agents::checked_email("email", email)?;
    let Some(id) = admin::agents::claimant(ctx, &email).await? else {
        tracing::info!(instance = %ctx.instance, "password reset asked for an unknown address");
        return Ok(());
    };
    let agent = AgentId(id);
    match config::object::<Agent>(ctx, AgentId::KIND, id).await? {
        Some(found) if found.active => {}
        _ => {
            tracing::info!(instance = %ctx.instance, %agent, "password reset asked for an inactive agent");
            return Ok(());
        }
    }
    let previous = load(ctx, agent).await?;
    if !may_issue(previous.as_ref(), ctx.clock.now_ms()) {
        tracing::info!(instance = %ctx.instance, %agent, "password reset not issued: rate limit");
        return Ok(());
    }
    let (_, ops) = issue_ops(ctx, agent, LinkPurpose::Reset, previous.as_ref(), None)?;
    match ctx.store.transact(ops).await {
        // Another request issued one at the same moment: that one stands.
        Ok(()) | Err(StoreError::TransactionCanceled { .. }) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

/// Makes the secret of the link `issue` of `agent` for the mail that is
/// about to carry it, storing its hash: the token to put in the link.
/// `None` when the link was used, expired or replaced meanwhile (the mail
/// is no longer owed). A secret made before (an earlier attempt at the
/// same mail) stops working.
pub async fn mint(
    ctx: &Ctx<'_>,
    agent: AgentId,
    issue: &str,
) -> Result<Option<String>, ServiceError> {
    let now = ctx.clock.now_ms();
    let Some(link) = load(ctx, agent)
        .await?
        .filter(|l| l.issue == issue && l.pending(now))
    else {
        return Ok(None);
    };
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut secret)
        .map_err(|e| ServiceError::Password(PasswordError::Random(e.to_string())))?;
    let mut next = link.clone();
    next.secret_hash = Some(hash_hex(&secret));
    next.rev = link.rev + 1;
    match ctx
        .store
        .transact(vec![put_op(ctx, &next, Some(link.rev))?])
        .await
    {
        Ok(()) => Ok(Some(format!("{agent}.{}", hex::encode(secret)))),
        Err(StoreError::TransactionCanceled { .. }) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// The agent and secret a token names, if it has the shape of one.
fn parse_token(token: &str) -> Option<(AgentId, [u8; SECRET_BYTES])> {
    let (agent, secret) = token.trim().split_once('.')?;
    let agent = agent.parse().ok().map(AgentId)?;
    let secret: [u8; SECRET_BYTES] = hex::decode(secret).ok()?.try_into().ok()?;
    Some((agent, secret))
}

/// Sets the password of the agent a password link names, and uses the
/// link up, in one transaction: the link's `rev` and the agent's being
/// active are its conditions, so a link works exactly once, and never for
/// an agent deactivated meanwhile.
///
/// A weak password is `weak_password` and leaves the link as it was (the
/// agent tries another); a link that is unknown, malformed, used, expired
/// or replaced is `invalid_link`, one answer for all.
pub async fn set_password(
    ctx: &Ctx<'_>,
    token: &str,
    new_password: &str,
) -> Result<AgentId, ServiceError> {
    // The rules that need no account first: they tell nothing of the link.
    strength::check(new_password).map_err(strength::weak)?;
    let (agent_id, secret) = parse_token(token).ok_or_else(invalid_link)?;
    let now = ctx.clock.now_ms();
    let link = load(ctx, agent_id).await?.ok_or_else(invalid_link)?;
    let presented = hash_hex(&secret);
    let matches = link
        .secret_hash
        .as_deref()
        .is_some_and(|stored| bool::from(stored.as_bytes().ct_eq(presented.as_bytes())));
    if !matches || !link.pending(now) {
        return Err(invalid_link());
    }
    let agent: Agent = config::object(ctx, AgentId::KIND, agent_id.0)
        .await?
        .filter(|a: &Agent| a.active)
        .ok_or_else(invalid_link)?;
    strength::check_for(new_password, &agent.email, &agent.name).map_err(strength::weak)?;
    let hash = password::hash(new_password)?;
    let mut used = link.clone();
    used.used_at = Some(now);
    used.secret_hash = None;
    used.rev = link.rev + 1;
    let set = Update::new(keys::object(ctx.instance, AgentId::KIND, agent_id.0))
        .set("password_hash", hash)
        .add(admin::records::VERSION_ATTR, 1)
        .when(Condition::equals("active", true));
    match ctx
        .store
        .transact(vec![
            put_op(ctx, &used, Some(link.rev))?,
            WriteOp::Update(set),
        ])
        .await
    {
        Ok(()) => {
            tracing::info!(instance = %ctx.instance, agent = %agent_id, "password chosen through a password link");
            Ok(agent_id)
        }
        Err(StoreError::TransactionCanceled { .. }) => Err(invalid_link()),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(issued_at: i64, recent: &[i64]) -> PasswordLink {
        PasswordLink {
            agent: AgentId(2),
            purpose: LinkPurpose::Reset,
            issue: "x".into(),
            issued_at,
            expires_at: issued_at + RESET_TTL_MS,
            secret_hash: None,
            used_at: None,
            recent: recent.to_vec(),
            rev: 1,
        }
    }

    #[test]
    fn resets_are_limited_per_hour_and_a_fresh_pending_one_is_not_repeated() {
        let now = 10 * HOUR_MS;
        assert!(may_issue(None, now));
        let fresh = link(now - 1_000, &[now - 1_000]);
        assert!(
            !may_issue(Some(&fresh), now),
            "a double click sends one mail"
        );
        let older = link(now - RESEND_AFTER_MS, &[now - RESEND_AFTER_MS]);
        assert!(may_issue(Some(&older), now));
        let three = [now - 3_000_000, now - 2_000_000, now - RESEND_AFTER_MS];
        assert!(!may_issue(Some(&link(now - RESEND_AFTER_MS, &three)), now));
        let an_hour_ago = [now - HOUR_MS, now - 2_000_000, now - RESEND_AFTER_MS];
        assert!(may_issue(
            Some(&link(now - RESEND_AFTER_MS, &an_hour_ago)),
            now
        ));
        let mut used = fresh.clone();
        used.used_at = Some(now - 500);
        assert!(may_issue(Some(&used), now), "a used link is not pending");
        let mut welcome = fresh.clone();
        welcome.purpose = LinkPurpose::Welcome;
        assert!(
            may_issue(Some(&welcome), now),
            "a new agent may reset at once"
        );
    }

    #[test]
    fn tokens_name_an_agent_and_a_secret_of_the_right_length() {
        let secret = "ab".repeat(SECRET_BYTES);
        assert_eq!(
            parse_token(&format!("7.{secret}")),
            Some((AgentId(7), [0xab; SECRET_BYTES]))
        );
        for bad in [
            "",
            "7",
            "7.",
            ".abab",
            &format!("x.{secret}"),
            &format!("7.{}", "ab".repeat(SECRET_BYTES - 1)),
            &format!("7.{}zz", "ab".repeat(SECRET_BYTES - 1)),
            &format!("-1.{secret}"),
        ] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
    }
}
