//! Addresses as a help desk needs them: usable (`local@domain`), trimmed,
//! lower case.

use super::mail::Mailbox;

/// `raw` as a lower-case `local@domain`, or `None` when it is not one.
///
/// Accepts what headers really carry: surrounding angle brackets, a
/// `mailto:` prefix, spaces around. Refuses anything without a local part
/// and a domain, or with spaces, controls or brackets inside: such an
/// address cannot be answered, so it cannot identify a user.
#[must_use]
pub fn normalise(raw: &str) -> Option<String> {
    let mut addr = raw.trim();
    if let Some(inner) = addr.strip_prefix('<').and_then(|a| a.strip_suffix('>')) {
        addr = inner.trim();
    }
    if addr
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        addr = addr[7..].trim();
    }
    let (local, domain) = addr.rsplit_once('@')?;
    let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | '"');
    if local.is_empty()
        || domain.is_empty()
        || addr.chars().any(bad)
        || domain.contains(['@', '(', ')', '[', ']']) && !is_literal(domain)
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return None;
    }
    Some(addr.to_lowercase())
}

/// A domain literal such as `[192.0.2.1]`.
fn is_literal(domain: &str) -> bool {
    domain.starts_with('[') && domain.ends_with(']') && !domain[1..].contains('[')
}

/// A [`Mailbox`] from a display name and an address, if the address is
/// usable.
pub(crate) fn mailbox(name: Option<&str>, address: Option<&str>) -> Option<Mailbox> {
    let address = normalise(address?)?;
    let name = name
        .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|n| !n.is_empty());
    Some(Mailbox { name, address })
}

/// Every usable address of a mail-parser address header, groups flattened.
pub(crate) fn mailboxes(value: Option<&mail_parser::Address<'_>>) -> Vec<Mailbox> {
    value
        .map(|a| {
            a.iter()
                .filter_map(|m| mailbox(m.name(), m.address()))
                .collect()
        })
        .unwrap_or_default()
}

/// The addresses of an envelope header such as Delivered-To, which holds a
/// bare address (sometimes several, comma-separated, sometimes bracketed).
pub(crate) fn envelope_addresses(value: &str) -> Vec<String> {
    value
        .split([',', ';'])
        .filter_map(|piece| {
            let piece = piece.trim();
            match (piece.find('<'), piece.rfind('>')) {
                (Some(lt), Some(gt)) if lt < gt => normalise(&piece[lt + 1..gt]),
                _ => normalise(piece),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_unbracketed_and_lower_cased() {
        assert_eq!(
            normalise(" <Ana.Pons@UAB.Cat> ").as_deref(),
            Some("ana.pons@uab.cat")
        );
        assert_eq!(
            normalise("mailto:Help@Example.org").as_deref(),
            Some("help@example.org")
        );
        assert_eq!(
            normalise("root@localhost").as_deref(),
            Some("root@localhost")
        );
        assert_eq!(normalise("a@[192.0.2.1]").as_deref(), Some("a@[192.0.2.1]"));
    }

    #[test]
    fn unusable_addresses_are_refused() {
        for bad in [
            "",
            "Moderator-Address",
            "@example.org",
            "ana@",
            "ana pons@example.org",
            "ana@exa mple.org",
            "ana@.example.org",
            "ana@example.org.",
            "<>",
            "a\u{0}b@example.org",
        ] {
            assert_eq!(normalise(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn envelope_headers_may_hold_several_addresses() {
        assert_eq!(
            envelope_addresses("Support@Example.org, <it+abc@example.org>; nobody"),
            ["support@example.org", "it+abc@example.org"]
        );
    }

    #[test]
    fn blank_display_names_become_none() {
        let m = mailbox(Some("  "), Some("A@B.c")).map(|m| (m.name, m.address));
        assert_eq!(m, Some((None, "a@b.c".to_owned())));
        let m = mailbox(Some(" Ana \t Pons "), Some("a@b.c")).and_then(|m| m.name);
        assert_eq!(m.as_deref(), Some("Ana Pons"));
    }
}
