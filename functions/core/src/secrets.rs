//! Secrets: one master key per deployment, from which every purpose derives
//! its own key (signing agent tokens, local blob URLs, mail reply tokens), so
//! a leak of one derived key reveals nothing of the others.
//!
//! Locally the master key is generated on first run into the data directory;
//! deployed, it comes from the environment (`TAQUILLA_MASTER_KEY`, filled
//! from a secret store). Secrets never print: their `Debug` is redacted.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

/// Length of the master key and of every derived key, in bytes.
pub const KEY_BYTES: usize = 32;

/// What a derived key is for. Adding a purpose never changes the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Signed URLs of the local blob store.
    BlobUrls,
    /// Agent API tokens (JWT).
    AgentTokens,
    /// Reply tokens in outgoing mail addresses.
    ReplyTokens,
    /// Session cookies and CSRF tokens of the agent portal.
    Sessions,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::BlobUrls => "taquilla/blob-urls/1",
            Purpose::AgentTokens => "taquilla/agent-tokens/1",
            Purpose::ReplyTokens => "taquilla/reply-tokens/1",
            Purpose::Sessions => "taquilla/sessions/1",
        }
    }
}

/// A malformed master key.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("the master key must be {expected} hex digits ({KEY_BYTES} bytes)", expected = KEY_BYTES * 2)]
pub struct BadMasterKey;

/// Key bytes that never print.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_BYTES]);

impl SecretKey {
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// The deployment's master key.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey(SecretKey);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self(SecretKey(bytes)))
    }

    /// A key from its hex form (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, BadMasterKey> {
        let bytes = hex::decode(text.trim()).map_err(|_| BadMasterKey)?;
        let bytes: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| BadMasterKey)?;
        Ok(Self(SecretKey(bytes)))
    }

    /// The hex form, for storing the key; handle with care.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.0)
    }

    /// The key for `purpose`: HMAC-SHA256(master, purpose label).
    #[must_use]
    pub fn derive(&self, purpose: Purpose) -> SecretKey {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(purpose.label().as_bytes());
        SecretKey(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_by_purpose_and_are_stable() {
        let master = MasterKey::from_hex(&"ab".repeat(32)).unwrap();
        let a = master.derive(Purpose::BlobUrls);
        let b = master.derive(Purpose::AgentTokens);
        assert_ne!(a, b);
        assert_eq!(a, master.derive(Purpose::BlobUrls));
    }

    #[test]
    fn keys_round_trip_through_hex_and_never_print() {
        let master = MasterKey::generate().unwrap();
        assert_eq!(MasterKey::from_hex(&master.to_hex()).unwrap(), master);
        assert!(!format!("{master:?}").contains(&master.to_hex()));
        assert_eq!(MasterKey::from_hex("abc"), Err(BadMasterKey));
    }
}
