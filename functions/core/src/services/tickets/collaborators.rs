//! Collaborators: users copied (CC or BCC) on a ticket's mail.
//!
//! An agent pastes a list — separated by commas, semicolons or new lines,
//! each `Name <addr>`, `"Name" <addr>` or a bare address — and every entry
//! is accounted for in a [`CollaboratorReport`]: added (becoming a user if
//! new), already there (the ticket's own user, an existing collaborator, a
//! repeat within the paste), or invalid with the reason. Nothing is silently
//! dropped.

use super::actions::{commit, load_at};
use crate::domain::change::Change;
use crate::domain::{Collaborator, CopyKind, Permission, Ticket, TicketId, UserId};
use crate::services::{Actor, Ctx, ServiceError, users};

/// Most collaborators one paste may add (each is one event in the ticket's
/// transaction); the rest are reported invalid.
pub const MAX_PER_PASTE: usize = 50;

/// Longest address accepted (RFC 5321's path limit).
const MAX_ADDRESS_LEN: usize = 254;

/// What became of each entry of a pasted list.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CollaboratorReport {
    /// Users now copied on the ticket, in the order pasted.
    pub added: Vec<UserId>,
    /// Addresses skipped: the ticket's user, existing collaborators, repeats.
    pub already: Vec<String>,
    /// Entries that are not addresses: the text as pasted, and why.
    pub invalid: Vec<(String, String)>,
}

/// One parsed entry: an optional display name and a lower-case address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub email: String,
}

/// Copies every address of `text` on the ticket as `kind`, creating users
/// for new addresses. Needs `ticket.edit`. The ticket is saved once, with
/// one `collaborator_added` event per added user.
pub async fn add_collaborators(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    text: &str,
    kind: CopyKind,
    expected_version: Option<i64>,
) -> Result<CollaboratorReport, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    actor.require(Permission::TicketEdit, current.department)?;
    let mut report = CollaboratorReport::default();
    let mut changes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for parsed in parse_list(text) {
        let mailbox = match parsed {
            Ok(mailbox) => mailbox,
            Err(invalid) => {
                report.invalid.push(invalid);
                continue;
            }
        };
        if !seen.insert(mailbox.email.clone()) {
            report.already.push(mailbox.email);
            continue;
        }
        if changes.len() == MAX_PER_PASTE {
            report.invalid.push((
                mailbox.email,
                format!("more than {MAX_PER_PASTE} addresses in one paste"),
            ));
            continue;
        }
        let name = mailbox.name.as_deref().unwrap_or_default();
        let user = match users::find_or_create(ctx, name, &mailbox.email).await {
            Ok(user) => user,
            // An address the user directory refuses is reported, not fatal.
            Err(ServiceError::Invalid { message, .. }) => {
                report.invalid.push((mailbox.email, message));
                continue;
            }
            Err(e) => return Err(e),
        };
        let known = user.id == current.user
            || report.added.contains(&user.id)
            || current.collaborators.iter().any(|c| c.user == user.id);
        if known {
            report.already.push(mailbox.email);
            continue;
        }
        report.added.push(user.id.clone());
        changes.push(Change::AddCollaborator(Collaborator {
            user: user.id,
            kind,
        }));
    }
    commit(ctx, actor, current, changes).await?;
    Ok(report)
}

/// Stops copying `user` on the ticket. Needs `ticket.edit`; a user who is
/// not a collaborator is `NotFound`.
pub async fn remove_collaborator(
    ctx: &Ctx<'_>,
    actor: &Actor,
    ticket: &TicketId,
    user: &UserId,
    expected_version: Option<i64>,
) -> Result<Ticket, ServiceError> {
    let current = load_at(ctx, actor, ticket, expected_version).await?;
    actor.require(Permission::TicketEdit, current.department)?;
    if !current.collaborators.iter().any(|c| &c.user == user) {
        return Err(ServiceError::NotFound(format!(
            "collaborator {user} on ticket {}",
            current.number
        )));
    }
    commit(
        ctx,
        actor,
        current,
        vec![Change::RemoveCollaborator(user.clone())],
    )
    .await
}

// ---------------------------------------------------------------------------
// Parsing a pasted list
// ---------------------------------------------------------------------------

/// Every non-blank entry of `text`, parsed: a mailbox, or the entry as
/// pasted with the reason it is not one.
#[must_use]
pub fn parse_list(text: &str) -> Vec<Result<Mailbox, (String, String)>> {
    split_entries(text)
        .into_iter()
        .map(|entry| parse_entry(&entry).map_err(|why| (entry, why)))
        .collect()
}

/// Splits at commas, semicolons and line breaks that are outside quotes and
/// angle brackets (`"Doe, Ann" <ann@x.org>` is one entry); trims each entry
/// and drops blank ones.
fn split_entries(text: &str) -> Vec<String> {
    let mut entries = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angle, mut escaped) = (false, false, false);
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' && !angle {
            quoted = !quoted;
        } else if !quoted && c == '<' {
            angle = true;
        } else if !quoted && c == '>' {
            angle = false;
        } else if !quoted && !angle && matches!(c, ',' | ';' | '\n' | '\r') {
            entries.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
    }
    entries.push(current);
    entries
        .into_iter()
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .collect()
}

/// One entry: `Name <addr>`, `"Name" <addr>`, `<addr>` or `addr`.
fn parse_entry(entry: &str) -> Result<Mailbox, String> {
    let (name, address) = match entry.rfind('<') {
        Some(open) => {
            let rest = &entry[open + 1..];
            let close = rest
                .find('>')
                .ok_or_else(|| "'<' without a closing '>'".to_owned())?;
            if !rest[close + 1..].trim().is_empty() {
                return Err("text after the address".into());
            }
            (display_name(&entry[..open])?, rest[..close].trim())
        }
        None if entry.contains('>') => return Err("'>' without an opening '<'".into()),
        None => (None, entry),
    };
    check_address(address)?;
    Ok(Mailbox {
        name,
        email: address.to_lowercase(),
    })
}

/// The display name before `<`: unquoted, or quoted with `\"` escapes.
fn display_name(raw: &str) -> Result<Option<String>, String> {
    let raw = raw.trim();
    let name = if let Some(inner) = raw.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or_else(|| "unbalanced quotes in the name".to_owned())?;
        unescape(inner)
    } else if raw.contains('"') {
        return Err("unbalanced quotes in the name".into());
    } else {
        raw.to_owned()
    };
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok((!name.is_empty()).then_some(name))
}

/// A quoted string's content with `\x` escapes resolved.
fn unescape(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            other => out.push(other),
        }
    }
    out
}

/// `Ok` for an address Taquilla can mail: `local@domain`, no spaces or
/// specials, a domain of dot-separated labels with a letter-only top level.
fn check_address(address: &str) -> Result<(), String> {
    if address.is_empty() {
        return Err("empty address".into());
    }
    if address.len() > MAX_ADDRESS_LEN {
        return Err(format!("longer than {MAX_ADDRESS_LEN} characters"));
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err("no '@'".into());
    };
    check_local(local)?;
    check_domain(domain)
}

fn check_local(local: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c);
    if local.is_empty() {
        Err("nothing before the '@'".into())
    } else if local.len() > 64 {
        Err("more than 64 characters before the '@'".into())
    } else if !local.chars().all(allowed) {
        Err("a character that is not allowed before the '@'".into())
    } else if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        Err("misplaced dots before the '@'".into())
    } else {
        Ok(())
    }
}

fn check_domain(domain: &str) -> Result<(), String> {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.is_empty() {
        Err("nothing after the '@'".into())
    } else if labels.len() < 2 {
        Err(format!("the domain {domain:?} has no dot"))
    } else if !labels.iter().all(label_ok) {
        Err(format!("the domain {domain:?} is not a valid host name"))
    } else if !labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
    {
        Err(format!("the domain {domain:?} has no valid top level"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<Mailbox> {
        parse_list(text).into_iter().map(Result::unwrap).collect()
    }

    fn mailbox(name: Option<&str>, email: &str) -> Mailbox {
        Mailbox {
            name: name.map(str::to_owned),
            email: email.into(),
        }
    }

    #[test]
    fn every_separator_and_form_is_understood() {
        let text =
            "Ann Lee <ann@uni.edu>, \"Bo Ruiz\" <BO@Uni.Edu>; carl@uni.edu\n<dana@uni.edu>\r\n\n";
        assert_eq!(
            ok(text),
            vec![
                mailbox(Some("Ann Lee"), "ann@uni.edu"),
                mailbox(Some("Bo Ruiz"), "bo@uni.edu"),
                mailbox(None, "carl@uni.edu"),
                mailbox(None, "dana@uni.edu"),
            ]
        );
    }

    #[test]
    fn separators_inside_quotes_belong_to_the_name() {
        assert_eq!(
            ok(r#""Lee, Ann; PhD" <ann@uni.edu>, "Say \"hi\"" <h@uni.edu>"#),
            vec![
                mailbox(Some("Lee, Ann; PhD"), "ann@uni.edu"),
                mailbox(Some("Say \"hi\""), "h@uni.edu"),
            ]
        );
    }

    #[test]
    fn blank_entries_are_not_entries() {
        assert!(parse_list(" , ;\n\n ,").is_empty());
        assert!(parse_list("").is_empty());
    }

    #[test]
    fn invalid_entries_are_reported_with_the_text_and_why() {
        let cases = [
            "not an address",
            "@uni.edu",
            "ann@",
            "ann@localhost",
            "ann@uni..edu",
            "ann@-uni.edu",
            "ann@uni.e1",
            "an n@uni.edu",
            "ann..lee@uni.edu",
            "Ann <ann@uni.edu",
            "Ann ann@uni.edu>",
            "Ann <ann@uni.edu> trailing",
            "\"Ann <ann@uni.edu>",
            "Ann <>",
        ];
        for case in cases {
            let parsed = parse_list(case);
            assert_eq!(parsed.len(), 1, "{case}: {parsed:?}");
            let (text, why) = parsed[0].clone().unwrap_err();
            assert_eq!(text, case.trim());
            assert!(!why.is_empty());
        }
    }

    #[test]
    fn good_and_bad_entries_are_reported_in_order() {
        let parsed = parse_list("ann@uni.edu, nope, bo@uni.edu");
        assert!(parsed[0].is_ok());
        assert_eq!(parsed[1].clone().unwrap_err().0, "nope");
        assert!(parsed[2].is_ok());
    }

    #[test]
    fn overlong_addresses_are_refused() {
        let long = format!("{}@uni.edu", "a".repeat(65));
        assert!(parse_entry(&long).is_err());
        let long_domain = format!("a@{}.edu", "b".repeat(250));
        assert!(parse_entry(&long_domain).is_err());
    }
}
