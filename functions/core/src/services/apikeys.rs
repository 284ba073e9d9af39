//! Integration API keys, as osTicket's: each belongs to one instance, is
//! limited to source networks and to permissions, and can be deactivated.
//!
//! The clear key (`tq_{instance}_{32 base32}`) is shown once, at creation;
//! only its SHA-256 is stored, as the key of a deployment-wide lookup item
//! ([`keys::api_key`]), so a request finds its key (and instance) with one
//! read. An entry in the instance partition ([`keys::instance_api_key`])
//! lists the instance's keys.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::{Actor, ServiceError};
use crate::clock::Clock;
use crate::domain::{InstanceId, Permission};
use crate::keys;
use crate::store::{Condition, Item, ItemStore, Query, StoreError, Update, WriteOp, codec};

/// Prefix of every key.
pub const KEY_PREFIX: &str = "tq_";
/// Random characters after the instance.
const RANDOM_CHARS: usize = 32;
/// How stale `last_used_at` may get before a request refreshes it; bounds
/// the writes a busy key causes to one a minute.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

/// A stored API key (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub instance: InstanceId,
    /// SHA-256 of the clear key, hex.
    pub hash: String,
    /// Source networks requests may come from (CIDR).
    pub networks: Vec<String>,
    pub permissions: BTreeSet<Permission>,
    pub active: bool,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: i64,
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

/// What a new key is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// CIDR networks (or single addresses), IPv4 or IPv6; at least one.
    pub networks: Vec<String>,
    /// Empty: `ticket.create` only, as osTicket's keys.
    pub permissions: BTreeSet<Permission>,
    pub description: Option<String>,
}

/// A key just created: the clear key, shown once, and what was stored.
#[derive(Debug, Clone)]
pub struct Created {
    pub key: String,
    pub record: ApiKey,
}

/// An authenticated key: its instance and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyAccess {
    pub key_id: String,
    pub instance: InstanceId,
    pub permissions: BTreeSet<Permission>,
}

impl ApiKeyAccess {
    /// The key as an actor of services.
    #[must_use]
    pub fn actor(&self) -> Actor {
        Actor::ApiKey {
            key_id: self.key_id.clone(),
            permissions: self.permissions.clone(),
        }
    }
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Unauthorized {
        code,
        message: message.into(),
    }
}

/// SHA-256 of a clear key, hex.
#[must_use]
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Lower-case RFC 4648 base32 without padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// A fresh clear key for `instance`.
fn generate_key(instance: &InstanceId) -> Result<String, ServiceError> {
    let mut random = [0u8; RANDOM_CHARS * 5 / 8];
    getrandom::fill(&mut random)
        .map_err(|e| ServiceError::Store(StoreError::Unavailable(format!("randomness: {e}"))))?;
    Ok(format!("{KEY_PREFIX}{instance}_{}", base32(&random)))
}

/// A network in CIDR form (`10.0.0.0/8`, `2001:db8::/32`) or a single
/// address (`192.0.2.7`, meaning `/32` or `/128`), normalised.
pub fn parse_network(text: &str) -> Result<IpNet, ServiceError> {
    let text = text.trim();
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => text
            .parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| ServiceError::Invalid {
                field: "ip".into(),
                message: format!("{text:?} is not an IPv4 or IPv6 network (CIDR) or address"),
            })?,
    };
    Ok(net.trunc())
}

/// Whether `ip` is inside one of `networks` (IPv4-mapped IPv6 counts as IPv4).
#[must_use]
pub fn allowed(networks: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    networks.iter().any(|n| n.contains(&ip))
}

/// A permission by its name (`ticket.create`).
pub fn parse_permission(name: &str) -> Result<Permission, ServiceError> {
    Permission::ALL
        .into_iter()
        .find(|p| p.as_str() == name.trim())
        .ok_or_else(|| ServiceError::Invalid {
            field: "permission".into(),
            message: format!("unknown permission {name:?}"),
        })
}

/// Creates a key for `instance`; the clear key is in the result and nowhere else.
pub async fn create(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    instance: &InstanceId,
    new: NewApiKey,
) -> Result<Created, ServiceError> {
    if store.get(&keys::instance_config(instance)).await?.is_none() {
        return Err(ServiceError::NotFound(format!("instance {instance}")));
    }
    if new.networks.is_empty() {
        return Err(ServiceError::Invalid {
            field: "ip".into(),
            message: "a key needs at least one allowed network".into(),
        });
    }
    let networks = new
        .networks
        .iter()
        .map(|n| parse_network(n).map(|n| n.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let permissions = if new.permissions.is_empty() {
        BTreeSet::from([Permission::TicketCreate])
    } else {
        new.permissions
    };
    let key = generate_key(instance)?;
    let record = ApiKey {
        id: uuid::Uuid::now_v7().simple().to_string(),
        instance: instance.clone(),
        hash: hash_key(&key),
        networks,
        permissions,
        active: true,
        description: new.description,
        created_at: clock.now_ms(),
        last_used_at: None,
    };
    store
        .transact(vec![
            WriteOp::Put {
                item: codec::encode(keys::api_key(&record.hash), &record)?,
                condition: Some(Condition::Absent),
            },
            WriteOp::Put {
                item: Item::new(keys::instance_api_key(instance, &record.id))
                    .with("hash", record.hash.clone()),
                condition: Some(Condition::Absent),
            },
        ])
        .await?;
    Ok(Created { key, record })
}

/// Every key of `instance`, oldest first.
pub async fn list(
    store: &dyn ItemStore,
    instance: &InstanceId,
) -> Result<Vec<ApiKey>, ServiceError> {
    let mut hashes = Vec::new();
    let mut query = Query::table(keys::instance_pk(instance))
        .sk(keys::instance_api_keys())
        .limit(1000);
    loop {
        let page = store.query(&query).await?;
        hashes.extend(
            page.items
                .iter()
                .filter_map(|i| i.get_str("hash").map(str::to_owned)),
        );
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    let mut out = Vec::with_capacity(hashes.len());
    for chunk in hashes.chunks(crate::store::MAX_BATCH_GET_KEYS) {
        let lookups: Vec<_> = chunk.iter().map(|h| keys::api_key(h)).collect();
        for item in store.batch_get(&lookups).await?.into_iter().flatten() {
            out.push(codec::decode::<ApiKey>(&item)?);
        }
    }
    Ok(out)
}

/// Deactivates the key `key_id` of `instance`: it authenticates no more.
pub async fn deactivate(
    store: &dyn ItemStore,
    instance: &InstanceId,
    key_id: &str,
) -> Result<(), ServiceError> {
    let missing = || ServiceError::NotFound(format!("API key {key_id}"));
    let entry = store
        .get(&keys::instance_api_key(instance, key_id))
        .await?
        .ok_or_else(missing)?;
    let hash = entry.get_str("hash").ok_or_else(missing)?;
    store
        .update(
            Update::new(keys::api_key(hash))
                .set("active", false)
                .when(Condition::Exists),
        )
        .await
        .map_err(|e| match e {
            StoreError::ConditionFailed => missing(),
            other => other.into(),
        })?;
    Ok(())
}

/// The key `key` presented from `ip`: its instance and permissions.
///
/// Refusals are [`ServiceError::Unauthorized`] with the codes
/// `missing_api_key`, `unknown_api_key`, `api_key_inactive` and
/// `ip_not_allowed` (osTicket answers the second with 400, the others 401).
pub async fn authenticate(
    store: &dyn ItemStore,
    clock: &dyn Clock,
    key: &str,
    ip: Option<IpAddr>,
) -> Result<ApiKeyAccess, ServiceError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(unauthorized("missing_api_key", "an API key is required"));
    }
    let unknown = || unauthorized("unknown_api_key", "unknown API key");
    if !key.starts_with(KEY_PREFIX) || key.len() > 200 {
        return Err(unknown());
    }
    let hash = hash_key(key);
    let item = store
        .get(&keys::api_key(&hash))
        .await?
        .ok_or_else(unknown)?;
    let record: ApiKey = codec::decode(&item)?;
    // The lookup was by hash already; compare again in constant time so a
    // store that matched loosely could never let a different key through.
    if !bool::from(record.hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(unknown());
    }
    if !record.active {
        return Err(unauthorized("api_key_inactive", "the API key is inactive"));
    }
    let networks: Vec<IpNet> = record
        .networks
        .iter()
        .filter_map(|n| parse_network(n).ok())
        .collect();
    match ip {
        Some(ip) if allowed(&networks, ip) => {}
        Some(ip) => {
            return Err(unauthorized(
                "ip_not_allowed",
                format!("the API key is not allowed from {ip}"),
            ));
        }
        None => {
            return Err(unauthorized(
                "ip_not_allowed",
                "the client address is unknown",
            ));
        }
    }
    let now = clock.now_ms();
    if record
        .last_used_at
        .is_none_or(|t| now - t >= LAST_USED_GRANULARITY_MS)
    {
        let touch = Update::new(keys::api_key(&hash))
            .set("last_used_at", now)
            .when(Condition::Exists);
        if let Err(e) = store.update(touch).await {
            tracing::warn!(key_id = %record.id, error = %e, "could not record the API key's last use");
        }
    }
    Ok(ApiKeyAccess {
        key_id: record.id,
        instance: record.instance,
        permissions: record.permissions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_follows_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32(&[0u8; 20]).len(), 32);
    }

    #[test]
    fn keys_name_their_instance_and_carry_32_random_characters() {
        let demo = InstanceId::parse("it-support").unwrap();
        let key = generate_key(&demo).unwrap();
        let random = key.strip_prefix("tq_it-support_").unwrap();
        assert_eq!(random.len(), 32);
        assert!(
            random
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
        assert_ne!(key, generate_key(&demo).unwrap());
        assert_eq!(hash_key(&key).len(), 64);
        assert_ne!(hash_key(&key), key);
    }

    #[test]
    fn networks_parse_as_cidr_or_single_addresses_in_both_families() {
        let nets: Vec<IpNet> = [
            "10.0.0.0/8",
            "192.0.2.7",
            "2001:db8::/32",
            "::1",
            "10.1.2.3/16",
        ]
        .into_iter()
        .map(|n| parse_network(n).unwrap())
        .collect();
        assert_eq!(nets[1].to_string(), "192.0.2.7/32");
        assert_eq!(nets[3].to_string(), "::1/128");
        assert_eq!(nets[4].to_string(), "10.1.0.0/16");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(allowed(&nets, ip("10.200.3.4")));
        assert!(allowed(&nets, ip("192.0.2.7")));
        assert!(!allowed(&nets, ip("192.0.2.8")));
        assert!(allowed(&nets, ip("2001:db8:ffff::1")));
        assert!(!allowed(&nets, ip("2001:db9::1")));
        assert!(allowed(&nets, ip("::1")));
        assert!(
            allowed(&nets, ip("::ffff:10.0.0.1")),
            "IPv4-mapped IPv6 is IPv4"
        );
        for bad in [
            "",
            "10.0.0.0/33",
            "300.1.1.1",
            "::/129",
            "example.org",
            "10.0.0.0/",
        ] {
            assert!(parse_network(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn permissions_parse_by_name() {
        assert_eq!(
            parse_permission("ticket.note").unwrap(),
            Permission::TicketNote
        );
        assert!(parse_permission("ticket.fly").is_err());
    }
}
