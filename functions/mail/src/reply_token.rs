//! Signed reply addresses: `support+TOKEN@unit.example.edu`.
//!
//! Amazon SES replaces the Message-ID of every message it sends, so
//! threading on headers alone breaks there. Every message Taquilla sends
//! about a ticket therefore carries a reply address whose plus tag names the
//! ticket and is signed for the one recipient it was sent to:
//!
//! ```text
//! token = base32( ticket id (16 bytes) ‖ HMAC-SHA256(key, instance, ticket, recipient)[..8] )
//! ```
//!
//! 39 lower-case characters, which keeps even a long mailbox's local part
//! within the 64 octets RFC 5321 allows. The key is the master key's
//! [`Purpose::ReplyTokens`](taquilla_core::secrets::Purpose::ReplyTokens)
//! key. A token cannot be forged for a ticket without it, and it only
//! *verifies* for the address it was sent to: a reply from anyone else
//! still names the ticket ([`ReplyTokens::read`]) but fails
//! [`ReplyTokens::verify`], so the pipeline can open a "possibly related"
//! ticket instead of joining the thread silently.
//!
//! # Task tokens
//!
//! Task alerts carry a reply address of the same scheme, of another kind:
//!
//! ```text
//! token = base32( 't' ‖ task id (16 bytes) ‖ HMAC-SHA256(task key, instance, task, recipient)[..8] )
//! ```
//!
//! 40 characters. The kind byte makes it 25 bytes where a ticket token is
//! 24, so neither reads as the other ([`ReplyTokens::read`] and
//! [`ReplyTokens::read_task`] each refuse the other's), and its MAC is keyed
//! with a key of its own (`HMAC(key, "task reply tokens")`), so no ticket
//! token's signature is ever a task token's, whatever the ids.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use taquilla_core::domain::{InstanceId, TaskId, TicketId};
use taquilla_core::secrets::SecretKey;

const ID_BYTES: usize = 16;
const MAC_BYTES: usize = 8;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// The first byte of a task token.
const TASK_KIND: u8 = b't';
/// What the task tokens' key is derived with.
const TASK_KEY_LABEL: &[u8] = b"task reply tokens";

/// Length of a ticket token in characters.
pub const TOKEN_CHARS: usize = (ID_BYTES + MAC_BYTES) * 8 / 5 + 1;
/// Length of a task token in characters.
pub const TASK_TOKEN_CHARS: usize = (1 + ID_BYTES + MAC_BYTES) * 8 / 5;

/// Signs and checks reply tokens with one key.
#[derive(Clone)]
pub struct ReplyTokens {
    key: SecretKey,
    /// The key of task tokens, derived from `key`.
    task_key: [u8; 32],
}

impl std::fmt::Debug for ReplyTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyTokens(..)")
    }
}

/// A token read from an address: the ticket it names and the signature to
/// check against a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadToken {
    pub ticket: TicketId,
    mac: [u8; MAC_BYTES],
}

/// A task token read from an address: the task it names and the signature
/// to check against a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadTaskToken {
    pub task: TaskId,
    mac: [u8; MAC_BYTES],
}

impl ReplyTokens {
    /// `key` is `master.derive(Purpose::ReplyTokens)`.
    #[must_use]
    pub fn new(key: SecretKey) -> Self {
        let mut derive = hmac_of(key.expose());
        derive.update(TASK_KEY_LABEL);
        let task_key = derive.finalize().into_bytes().into();
        Self { key, task_key }
    }

    /// The token for mail about `ticket` of `instance` sent to `recipient`.
    #[must_use]
    pub fn token(&self, instance: &InstanceId, ticket: &TicketId, recipient: &str) -> String {
        let mut bytes = Vec::with_capacity(ID_BYTES + MAC_BYTES);
        bytes.extend_from_slice(&id_bytes(ticket));
        bytes.extend_from_slice(&self.mac(instance, ticket, recipient));
        base32(&bytes)
    }

    /// `mailbox` (`local@domain`) with the token as its plus tag.
    #[must_use]
    pub fn address(
        &self,
        mailbox: &str,
        instance: &InstanceId,
        ticket: &TicketId,
        recipient: &str,
    ) -> String {
        with_tag(mailbox, &self.token(instance, ticket, recipient))
    }

    /// The ticket a token names, if `token` is well formed. Says nothing
    /// about who may use it: see [`ReplyTokens::verify`].
    #[must_use]
    pub fn read(token: &str) -> Option<ReadToken> {
        let bytes = unbase32(token)?;
        if bytes.len() != ID_BYTES + MAC_BYTES {
            return None;
        }
        let (id, mac) = bytes.split_at(ID_BYTES);
        let ticket = TicketId::parse(&hex::encode(id)).ok()?;
        let mac = mac.try_into().ok()?;
        Some(ReadToken { ticket, mac })
    }

    /// Whether `token` was issued by this key for `instance` and `sender`.
    #[must_use]
    pub fn verify(&self, instance: &InstanceId, token: &ReadToken, sender: &str) -> bool {
        let expected = self.mac(instance, &token.ticket, sender);
        expected.ct_eq(&token.mac).into()
    }

    fn mac(&self, instance: &InstanceId, ticket: &TicketId, recipient: &str) -> [u8; MAC_BYTES] {
        signature(self.key.expose(), instance, ticket.as_str(), recipient)
    }

    /// The token for an alert about `task` of `instance` sent to `recipient`.
    #[must_use]
    pub fn task_token(&self, instance: &InstanceId, task: &TaskId, recipient: &str) -> String {
        let mut bytes = Vec::with_capacity(1 + ID_BYTES + MAC_BYTES);
        bytes.push(TASK_KIND);
        bytes.extend_from_slice(&hex_id_bytes(task.as_str()));
        bytes.extend_from_slice(&signature(
            &self.task_key,
            instance,
            task.as_str(),
            recipient,
        ));
        base32(&bytes)
    }

    /// `mailbox` (`local@domain`) with the task token as its plus tag.
    #[must_use]
    pub fn task_address(
        &self,
        mailbox: &str,
        instance: &InstanceId,
        task: &TaskId,
        recipient: &str,
    ) -> String {
        with_tag(mailbox, &self.task_token(instance, task, recipient))
    }

    /// The task a task token names, if `token` is one. A ticket token is
    /// not: see the [module docs](self).
    #[must_use]
    pub fn read_task(token: &str) -> Option<ReadTaskToken> {
        let bytes = unbase32(token)?;
        let (&kind, rest) = bytes.split_first()?;
        if kind != TASK_KIND || rest.len() != ID_BYTES + MAC_BYTES {
            return None;
        }
        let (id, mac) = rest.split_at(ID_BYTES);
        let task = TaskId::parse(&hex::encode(id)).ok()?;
        let mac = mac.try_into().ok()?;
        Some(ReadTaskToken { task, mac })
    }

    /// Whether the task `token` was issued by this key for `instance` and
    /// `sender`.
    #[must_use]
    pub fn verify_task(&self, instance: &InstanceId, token: &ReadTaskToken, sender: &str) -> bool {
        let expected = signature(&self.task_key, instance, token.task.as_str(), sender);
        expected.ct_eq(&token.mac).into()
    }
}

/// HMAC-SHA256 keyed with `key`.
fn hmac_of(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// The first bytes of the HMAC over instance, id and recipient, each part
/// preceded by its length.
fn signature(key: &[u8], instance: &InstanceId, id: &str, recipient: &str) -> [u8; MAC_BYTES] {
    let mut mac = hmac_of(key);
    for part in [instance.as_str(), id, &recipient.trim().to_lowercase()] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    let digest = mac.finalize().into_bytes();
    let mut out = [0; MAC_BYTES];
    out.copy_from_slice(&digest[..MAC_BYTES]);
    out
}

/// `mailbox` with `tag` as its plus tag, replacing any it had.
pub(crate) fn with_tag(mailbox: &str, tag: &str) -> String {
    match mailbox.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{local}+{tag}@{domain}")
        }
        None => format!("{mailbox}+{tag}"),
    }
}

fn id_bytes(ticket: &TicketId) -> [u8; ID_BYTES] {
    hex_id_bytes(ticket.as_str())
}

/// The 16 bytes of an opaque id (32 hex digits by construction).
fn hex_id_bytes(id: &str) -> [u8; ID_BYTES] {
    let mut out = [0; ID_BYTES];
    if hex::decode_to_slice(id, &mut out).is_err() {
        unreachable!("opaque ids are 32 hex digits");
    }
    out
}

/// RFC 4648 base32, lower case, without padding.
fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
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

/// The bytes of lower- or upper-case unpadded base32, or `None` for any
/// other character or a length no encoding produces.
fn unbase32(text: &str) -> Option<Vec<u8>> {
    if text.len() % 8 == 1 || text.len() % 8 == 3 || text.len() % 8 == 6 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let value = match c.to_ascii_lowercase() {
            c @ b'a'..=b'z' => c - b'a',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    // Leftover bits must be zero padding, or the text was not an encoding.
    if buffer & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use taquilla_core::secrets::{MasterKey, Purpose};

    use super::*;

    fn tokens(seed: &str) -> ReplyTokens {
        let master = MasterKey::from_hex(&seed.repeat(64 / seed.len())).unwrap();
        ReplyTokens::new(master.derive(Purpose::ReplyTokens))
    }

    fn demo() -> InstanceId {
        InstanceId::parse("demo").unwrap()
    }

    #[test]
    fn base32_round_trips_every_length() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = base32(&bytes);
            assert_eq!(unbase32(&text), Some(bytes.clone()), "length {len}");
            assert_eq!(unbase32(&text.to_uppercase()), Some(bytes));
        }
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn a_token_verifies_for_its_recipient_only() {
        let keys = tokens("ab");
        let ticket = TicketId::generate();
        let token = keys.token(&demo(), &ticket, "Ana@Uni.example");
        assert_eq!(token.len(), TOKEN_CHARS);
        let read = ReplyTokens::read(&token).unwrap();
        assert_eq!(read.ticket, ticket);
        assert!(keys.verify(&demo(), &read, "ana@uni.example"));
        assert!(!keys.verify(&demo(), &read, "eve@uni.example"));
        let other = InstanceId::parse("labs").unwrap();
        assert!(!keys.verify(&other, &read, "ana@uni.example"));
        assert!(!tokens("cd").verify(&demo(), &read, "ana@uni.example"));
    }

    #[test]
    fn a_tampered_token_names_another_ticket_or_fails() {
        let keys = tokens("ab");
        let ticket = TicketId::generate();
        let token = keys.token(&demo(), &ticket, "ana@uni.example");
        let mut chars: Vec<char> = token.chars().collect();
        chars[3] = if chars[3] == 'a' { 'b' } else { 'a' };
        let tampered: String = chars.into_iter().collect();
        let read = ReplyTokens::read(&tampered).unwrap();
        assert_ne!(read.ticket, ticket);
        assert!(!keys.verify(&demo(), &read, "ana@uni.example"));
        assert_eq!(ReplyTokens::read("not-a-token"), None);
        assert_eq!(ReplyTokens::read(&token[..20]), None);
    }

    #[test]
    fn a_task_token_verifies_for_its_recipient_only() {
        let keys = tokens("ab");
        let task = TaskId::generate();
        let token = keys.task_token(&demo(), &task, "Ana@Uni.example");
        assert_eq!(token.len(), TASK_TOKEN_CHARS);
        let read = ReplyTokens::read_task(&token).unwrap();
        assert_eq!(read.task, task);
        assert!(keys.verify_task(&demo(), &read, "ana@uni.example"));
        assert!(!keys.verify_task(&demo(), &read, "eve@uni.example"));
        let other = InstanceId::parse("labs").unwrap();
        assert!(!keys.verify_task(&other, &read, "ana@uni.example"));
        assert!(!tokens("cd").verify_task(&demo(), &read, "ana@uni.example"));
        assert_eq!(
            keys.task_address(
                "support+x@it.uni.example",
                &demo(),
                &task,
                "ana@uni.example"
            ),
            format!("support+{token}@it.uni.example")
        );
    }

    #[test]
    fn ticket_and_task_tokens_are_never_read_as_each_other() {
        let keys = tokens("ab");
        // The same 32 hex digits as a ticket id and as a task id.
        let id = TicketId::generate();
        let task = TaskId::parse(id.as_str()).unwrap();
        let ticket_token = keys.token(&demo(), &id, "ana@uni.example");
        let task_token = keys.task_token(&demo(), &task, "ana@uni.example");
        assert_eq!(ReplyTokens::read_task(&ticket_token), None);
        assert_eq!(ReplyTokens::read(&task_token), None);
        // Nor is a ticket token's signature a task token's.
        let ticket_mac = &unbase32(&ticket_token).unwrap()[ID_BYTES..];
        let task_mac = &unbase32(&task_token).unwrap()[1 + ID_BYTES..];
        assert_ne!(ticket_mac, task_mac);
        // A forged task token made of a valid ticket token's parts fails.
        let mut forged = vec![TASK_KIND];
        forged.extend_from_slice(&unbase32(&ticket_token).unwrap());
        let read = ReplyTokens::read_task(&base32(&forged)).unwrap();
        assert!(!keys.verify_task(&demo(), &read, "ana@uni.example"));
    }

    #[test]
    fn the_address_replaces_any_plus_tag_of_the_mailbox() {
        let keys = tokens("ab");
        let ticket = TicketId::generate();
        let token = keys.token(&demo(), &ticket, "ana@uni.example");
        assert_eq!(
            keys.address(
                "support+old@it.uni.example",
                &demo(),
                &ticket,
                "ana@uni.example"
            ),
            format!("support+{token}@it.uni.example")
        );
        let long = "international-relations@uni.example";
        let address = keys.address(long, &demo(), &ticket, "ana@uni.example");
        assert!(address.split('@').next().unwrap().len() <= 64, "{address}");
    }
}
