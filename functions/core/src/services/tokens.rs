//! Agent API tokens: bearer JWTs (HS256) an agent presents to the JSON API.
//!
//! Each instance signs with its own key, HMAC-SHA256 of the deployment's
//! agent-token key ([`Purpose::AgentTokens`](crate::secrets::Purpose)) and
//! the instance slug, so a token issued for one instance never verifies in
//! another, even with its `inst` claim rewritten. A token may carry a
//! `scope`: the permissions it is limited to (at most those of its agent).
//!
//! Pure functions: the caller supplies the key and the current time.

use std::collections::BTreeSet;

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::ServiceError;
use crate::domain::{AgentId, InstanceId, Permission};
use crate::secrets::SecretKey;

/// Longest lifetime a token may be issued for: one year.
pub const MAX_TTL_SECS: i64 = 366 * 24 * 3600;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The agent's id, in decimal.
    pub sub: String,
    /// The instance the token is for.
    pub inst: String,
    /// Issued at, epoch seconds.
    pub iat: i64,
    /// Expires at, epoch seconds.
    pub exp: i64,
    /// The permissions the token is limited to; absent: the agent's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<BTreeSet<Permission>>,
    /// The token's unique id.
    pub jti: String,
}

impl Claims {
    /// The agent the token speaks for.
    pub fn agent(&self) -> Result<AgentId, ServiceError> {
        self.sub
            .parse()
            .map(AgentId)
            .map_err(|_| invalid("the token names no agent"))
    }
}

/// A token, verified: who it is for and what it limits them to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub agent: AgentId,
    pub scope: Option<BTreeSet<Permission>>,
    pub claims: Claims,
}

fn invalid(message: &str) -> ServiceError {
    ServiceError::Unauthorized {
        code: "invalid_token",
        message: message.to_owned(),
    }
}

/// The signing key of one instance: HMAC-SHA256(agent-token key, slug).
fn instance_key(tokens_key: &SecretKey, instance: &InstanceId) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(tokens_key.expose())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(b"instance:");
    mac.update(instance.as_str().as_bytes());
    mac.finalize().into_bytes().into()
}

/// Issues a token for `agent` of `instance`, valid `ttl_secs` from `now_secs`.
///
/// `tokens_key` is `master.derive(Purpose::AgentTokens)`.
pub fn issue(
    tokens_key: &SecretKey,
    instance: &InstanceId,
    agent: AgentId,
    scope: Option<BTreeSet<Permission>>,
    now_secs: i64,
    ttl_secs: i64,
) -> Result<String, ServiceError> {
    if !(1..=MAX_TTL_SECS).contains(&ttl_secs) {
        return Err(ServiceError::Invalid {
            field: "ttl".into(),
            message: format!(
                "must be between 1 second and {} days",
                MAX_TTL_SECS / 86_400
            ),
        });
    }
    let claims = Claims {
        sub: agent.0.to_string(),
        inst: instance.to_string(),
        iat: now_secs,
        exp: now_secs.saturating_add(ttl_secs),
        scope,
        jti: uuid::Uuid::new_v4().simple().to_string(),
    };
    let key = EncodingKey::from_secret(&instance_key(tokens_key, instance)).map_err(|e| {
        ServiceError::Invalid {
            field: "token".into(),
            message: format!("cannot make the signing key: {e}"),
        }
    })?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(|e| {
        ServiceError::Invalid {
            field: "token".into(),
            message: format!("cannot sign: {e}"),
        }
    })
}

/// Verifies `token` for `instance` at `now_secs`: signature (with the
/// instance's key, HS256 only), instance claim and expiry.
///
/// Every refusal is [`ServiceError::Unauthorized`], code `invalid_token` or
/// `token_expired`; the token itself is never part of the message.
pub fn verify(
    tokens_key: &SecretKey,
    instance: &InstanceId,
    token: &str,
    now_secs: i64,
) -> Result<Verified, ServiceError> {
    let key = DecodingKey::from_secret(&instance_key(tokens_key, instance))
        .map_err(|_| invalid("the token cannot be checked"))?;
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked below against the caller's clock, not the system's.
    validation.validate_exp = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub", "iat"]);
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|_| invalid("the token is not valid for this instance"))?;
    let claims = data.claims;
    if claims.inst != instance.as_str() {
        return Err(invalid("the token is not valid for this instance"));
    }
    if now_secs >= claims.exp {
        return Err(ServiceError::Unauthorized {
            code: "token_expired",
            message: "the token has expired".into(),
        });
    }
    Ok(Verified {
        agent: claims.agent()?,
        scope: claims.scope.clone(),
        claims,
    })
}

/// A lifetime such as `30d`, `12h`, `90m`, `45s` (or plain seconds), in seconds.
pub fn parse_ttl(text: &str) -> Result<i64, ServiceError> {
    let bad = || ServiceError::Invalid {
        field: "ttl".into(),
        message: format!("{text:?} is not a lifetime such as 30d, 12h, 90m or 3600"),
    };
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(factor).filter(|s| *s > 0).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{MasterKey, Purpose};

    fn key() -> SecretKey {
        MasterKey::from_hex(&"42".repeat(32))
            .unwrap()
            .derive(Purpose::AgentTokens)
    }

    fn inst(slug: &str) -> InstanceId {
        InstanceId::parse(slug).unwrap()
    }

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn a_token_verifies_for_its_instance_and_names_its_agent() {
        let token = issue(&key(), &inst("demo"), AgentId(7), None, NOW, 3600).unwrap();
        let verified = verify(&key(), &inst("demo"), &token, NOW + 10).unwrap();
        assert_eq!(verified.agent, AgentId(7));
        assert_eq!(verified.claims.inst, "demo");
        assert_eq!(verified.claims.exp, NOW + 3600);
        assert_eq!(verified.claims.jti.len(), 32);
        assert!(verified.scope.is_none());
    }

    #[test]
    fn a_token_of_one_instance_never_verifies_in_another() {
        let token = issue(&key(), &inst("alpha"), AgentId(1), None, NOW, 3600).unwrap();
        let err = verify(&key(), &inst("beta"), &token, NOW).unwrap_err();
        assert_eq!(err.code(), "invalid_token");
    }

    #[test]
    fn a_token_of_another_deployment_does_not_verify() {
        let other = MasterKey::from_hex(&"43".repeat(32))
            .unwrap()
            .derive(Purpose::AgentTokens);
        let token = issue(&other, &inst("demo"), AgentId(1), None, NOW, 3600).unwrap();
        assert!(verify(&key(), &inst("demo"), &token, NOW).is_err());
    }

    #[test]
    fn an_expired_token_is_refused_with_its_own_code() {
        let token = issue(&key(), &inst("demo"), AgentId(1), None, NOW, 60).unwrap();
        assert!(verify(&key(), &inst("demo"), &token, NOW + 59).is_ok());
        let err = verify(&key(), &inst("demo"), &token, NOW + 60).unwrap_err();
        assert_eq!(err.code(), "token_expired");
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let token = issue(&key(), &inst("demo"), AgentId(1), None, NOW, 60).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(verify(&key(), &inst("demo"), &parts.join("."), NOW).is_err());
        assert!(verify(&key(), &inst("demo"), "not-a-token", NOW).is_err());
        assert!(verify(&key(), &inst("demo"), "", NOW).is_err());
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        // alg "none" with the same claims.
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = b64.encode(
            format!(
                r#"{{"sub":"1","inst":"demo","iat":{NOW},"exp":{},"jti":"x"}}"#,
                NOW + 60
            )
            .as_bytes(),
        );
        assert!(verify(&key(), &inst("demo"), &format!("{header}.{claims}."), NOW).is_err());
    }

    #[test]
    fn the_scope_travels_in_the_token() {
        let scope: BTreeSet<_> = [Permission::TicketNote].into_iter().collect();
        let token = issue(
            &key(),
            &inst("demo"),
            AgentId(2),
            Some(scope.clone()),
            NOW,
            60,
        )
        .unwrap();
        let verified = verify(&key(), &inst("demo"), &token, NOW).unwrap();
        assert_eq!(verified.scope, Some(scope));
    }

    #[test]
    fn lifetimes_parse_with_units_and_out_of_range_ones_are_refused() {
        assert_eq!(parse_ttl("30d").unwrap(), 30 * 86_400);
        assert_eq!(parse_ttl("12h").unwrap(), 12 * 3600);
        assert_eq!(parse_ttl("90m").unwrap(), 5400);
        assert_eq!(parse_ttl("3600").unwrap(), 3600);
        for bad in ["", "d", "0", "-5m", "3y", "ten"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
        assert!(issue(&key(), &inst("demo"), AgentId(1), None, NOW, 0).is_err());
        assert!(
            issue(
                &key(),
                &inst("demo"),
                AgentId(1),
                None,
                NOW,
                MAX_TTL_SECS + 1
            )
            .is_err()
        );
    }
}
