//! How an instance receives mail: its mailboxes (receiving addresses, each
//! routed to a department and optionally a help topic and priority), the
//! prefix that makes an agent's mail reply an internal note, attachment
//! limits, and what to do with mail SES judged spam or infected.

use serde::{Deserialize, Serialize};

use super::outbound_settings::OutboundSettings;
use super::{DepartmentId, PriorityId, TopicId};

/// Default largest attachment accepted from mail: 10 MiB.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;
/// Default most attachments accepted from one message.
pub const DEFAULT_MAX_ATTACHMENTS: u32 = 20;
/// Default prefix of an agent's mail reply that makes it an internal note.
pub const DEFAULT_NOTE_PREFIX: &str = "#note";
/// Longest note prefix.
pub const MAX_NOTE_PREFIX_CHARS: usize = 32;

/// An instance's mail settings; every field has a sensible default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    pub mailboxes: Vec<Mailbox>,
    /// An agent's mail reply whose text starts with this becomes a note.
    pub note_prefix: String,
    pub attachments: AttachmentLimits,
    /// Mail SES judged spam.
    pub spam: VerdictPolicy,
    /// Mail SES found a virus in.
    pub virus: VerdictPolicy,
    /// What the instance sends on its own: auto-responses and alerts.
    pub outbound: OutboundSettings,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            mailboxes: Vec::new(),
            note_prefix: DEFAULT_NOTE_PREFIX.to_owned(),
            attachments: AttachmentLimits::default(),
            spam: VerdictPolicy::Flag,
            virus: VerdictPolicy::Reject,
            outbound: OutboundSettings::default(),
        }
    }
}

/// A receiving address and where its mail goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// `local@domain`, lower case; mail to `local+anything@domain` counts.
    pub address: String,
    pub department: DepartmentId,
    #[serde(default)]
    pub topic: Option<TopicId>,
    #[serde(default)]
    pub priority: Option<PriorityId>,
}

/// What a message's attachments may be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachmentLimits {
    pub max_bytes: u64,
    pub max_count: u32,
    /// Allowed content types (`application/pdf`, `image/*`); empty allows all.
    pub allowed_types: Vec<String>,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
            max_count: DEFAULT_MAX_ATTACHMENTS,
            allowed_types: Vec::new(),
        }
    }
}

impl AttachmentLimits {
    /// Whether `content_type` is allowed (patterns `type/*` match a whole type).
    #[must_use]
    pub fn allows_type(&self, content_type: &str) -> bool {
        let content_type = content_type.trim().to_ascii_lowercase();
        self.allowed_types.is_empty()
            || self.allowed_types.iter().any(|pattern| {
                let pattern = pattern.trim().to_ascii_lowercase();
                match pattern.strip_suffix("/*") {
                    Some(main) => content_type
                        .split_once('/')
                        .is_some_and(|(kind, _)| kind == main),
                    None => pattern == content_type,
                }
            })
    }
}

/// What to do with mail SES flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictPolicy {
    /// Refuse it: no ticket, no entry.
    Reject,
    /// Accept it, marked, and never answer it automatically.
    Flag,
}

impl MailSettings {
    /// The mailbox `address` is delivered to, ignoring any plus tag and case.
    #[must_use]
    pub fn mailbox_for(&self, address: &str) -> Option<&Mailbox> {
        let base = base_address(address)?;
        self.mailboxes
            .iter()
            .find(|m| base_address(&m.address).is_some_and(|own| own == base))
    }

    /// Whether `address` is one of the instance's own (a mailbox, with any
    /// plus tag): mail from there is our own coming back.
    #[must_use]
    pub fn is_own(&self, address: &str) -> bool {
        self.mailbox_for(address).is_some()
    }

    /// The settings as stored, or the field that is wrong and why:
    /// mailbox addresses are `local@domain` (stored lower case, without a
    /// plus tag) and each appears once; the note prefix has at most
    /// [`MAX_NOTE_PREFIX_CHARS`] characters; attachment limits are positive.
    pub fn checked(mut self) -> Result<Self, (&'static str, String)> {
        let mut seen: Vec<String> = Vec::new();
        for mailbox in &mut self.mailboxes {
            let address = mailbox.address.trim().to_lowercase();
            let well_formed = address.rsplit_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !local.contains('+')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && address
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "@.-_".contains(c))
            });
            if !well_formed {
                return Err((
                    "mail.mailboxes",
                    format!(
                        "{:?} is not a mailbox address such as support@unit.example.edu (no plus tag)",
                        mailbox.address
                    ),
                ));
            }
            if seen.contains(&address) {
                return Err(("mail.mailboxes", format!("{address} is listed twice")));
            }
            seen.push(address.clone());
            mailbox.address = address;
        }
        if self.note_prefix.trim().chars().count() > MAX_NOTE_PREFIX_CHARS {
            return Err((
                "mail.note_prefix",
                format!("at most {MAX_NOTE_PREFIX_CHARS} characters"),
            ));
        }
        self.note_prefix = self.note_prefix.trim().to_owned();
        if self.attachments.max_bytes == 0 || self.attachments.max_count == 0 {
            return Err((
                "mail.attachments",
                "max_bytes and max_count must be positive".into(),
            ));
        }
        Ok(self)
    }
}

/// `local@domain` lower case without a plus tag, if `address` has an `@`.
#[must_use]
pub fn base_address(address: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, domain) = address.rsplit_once('@')?;
    let local = local.split_once('+').map_or(local, |(base, _)| base);
    Some(format!("{local}@{domain}").to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MailSettings {
        MailSettings {
            mailboxes: vec![Mailbox {
                address: "Support@IT.uni.example".into(),
                department: DepartmentId(1),
                topic: None,
                priority: None,
            }],
            ..MailSettings::default()
        }
    }

    #[test]
    fn mailboxes_match_with_any_plus_tag_and_case() {
        let s = settings();
        assert!(s.mailbox_for("support@it.uni.example").is_some());
        assert!(s.mailbox_for("SUPPORT+abc123@it.uni.example").is_some());
        assert!(s.mailbox_for("<support@it.uni.example>").is_some());
        assert!(s.mailbox_for("support@labs.uni.example").is_none());
        assert!(s.mailbox_for("nobody").is_none());
        assert!(s.is_own("support+x@it.uni.example"));
    }

    #[test]
    fn attachment_types_match_exactly_or_by_main_type() {
        let limits = AttachmentLimits {
            allowed_types: vec!["application/pdf".into(), "image/*".into()],
            ..AttachmentLimits::default()
        };
        assert!(limits.allows_type("application/pdf"));
        assert!(limits.allows_type("IMAGE/PNG"));
        assert!(!limits.allows_type("application/x-msdownload"));
        assert!(!limits.allows_type("imagery/png"));
        assert!(AttachmentLimits::default().allows_type("anything/at-all"));
    }

    #[test]
    fn settings_are_checked_and_addresses_normalised() {
        let ok = settings().checked().unwrap();
        assert_eq!(ok.mailboxes[0].address, "support@it.uni.example");
        for bad in [
            "support",
            "sup+port@uni.example",
            "a@b",
            "a b@uni.example",
            "@uni.example",
        ] {
            let mut s = settings();
            s.mailboxes[0].address = bad.into();
            assert_eq!(s.checked().unwrap_err().0, "mail.mailboxes", "{bad}");
        }
        let mut twice = settings();
        twice.mailboxes.push(Mailbox {
            address: "SUPPORT@it.uni.example".into(),
            ..twice.mailboxes[0].clone()
        });
        assert!(twice.checked().unwrap_err().1.contains("twice"));
        let mut long = settings();
        long.note_prefix = "#".repeat(33);
        assert_eq!(long.checked().unwrap_err().0, "mail.note_prefix");
        let mut none = settings();
        none.attachments.max_count = 0;
        assert_eq!(none.checked().unwrap_err().0, "mail.attachments");
    }

    #[test]
    fn missing_fields_take_their_defaults() {
        let parsed: MailSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, MailSettings::default());
        assert_eq!(parsed.virus, VerdictPolicy::Reject);
    }
}
