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

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use taquilla_core::domain::{InstanceId, TicketId};
use taquilla_core::secrets::SecretKey;

const ID_BYTES: usize = 16;
const MAC_BYTES: usize = 8;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Length of a token in characters.
pub const TOKEN_CHARS: usize = (ID_BYTES + MAC_BYTES) * 8 / 5 + 1;

/// Signs and checks reply tokens with one key.
#[derive(Clone)]
pub struct ReplyTokens {
    key: SecretKey,
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

impl ReplyTokens {
    /// `key` is `master.derive(Purpose::ReplyTokens)`.
    #[must_use]
    pub fn new(key: SecretKey) -> Self {
        Self { key }
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
        let token = self.token(instance, ticket, recipient);
        match mailbox.rsplit_once('@') {
            Some((local, domain)) => {
                let local = local.split_once('+').map_or(local, |(base, _)| base);
                format!("{local}+{token}@{domain}")
            }
            None => format!("{mailbox}+{token}"),
        }
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
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        for part in [
            instance.as_str(),
            ticket.as_str(),
            &recipient.trim().to_lowercase(),
        ] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        let digest = mac.finalize().into_bytes();
        let mut out = [0; MAC_BYTES];
        out.copy_from_slice(&digest[..MAC_BYTES]);
        out
    }
}

fn id_bytes(ticket: &TicketId) -> [u8; ID_BYTES] {
    let mut out = [0; ID_BYTES];
    // A TicketId is 32 hex digits by construction.
    if hex::decode_to_slice(ticket.as_str(), &mut out).is_err() {
        unreachable!("ticket ids are 32 hex digits");
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
