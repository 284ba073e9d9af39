//! Clues that tie a message to an existing ticket.
//!
//! The pipeline tries them in order: the signed reply token in the plus
//! tag of the address it was sent to ([`plus_tag`]), then In-Reply-To and
//! References, then a marker in the body ([`body_marker`]), then the ticket
//! number in the subject ([`subject_ticket_number`]) from a known
//! participant. These functions only find the clues; checking them
//! (signature, participant) is the pipeline's job.

use taquilla_core::sanitize::decode_entities;

/// Longest ticket number the core renders.
const MAX_NUMBER_CHARS: usize = 40;

/// Shortest and longest token a body marker may carry.
const MARKER_TOKEN_CHARS: std::ops::RangeInclusive<usize> = 4..=64;

/// The ticket number tagged in a subject as `[#NUMBER]`, wherever it is, so
/// reply and forward prefixes (`Re:`, `RE:`, `Fwd:`, `AW:`, `RV:`, `RE: RE:`)
/// do not matter. A number is what the core's number formats render: ASCII
/// letters, digits, `-`, `_` and `.`, with at least one digit, at most 40
/// characters. The first tag wins.
#[must_use]
pub fn subject_ticket_number(subject: &str) -> Option<String> {
    subject.match_indices("[#").find_map(|(i, _)| {
        let rest = &subject[i + 2..];
        let end = rest.find(']')?;
        let number = rest[..end].trim();
        let valid = !number.is_empty()
            && number.len() <= MAX_NUMBER_CHARS
            && number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && number.chars().any(|c| c.is_ascii_digit());
        valid.then(|| number.to_owned())
    })
}

/// Splits a plus-address (`support+TOKEN@domain`) into its mailbox's local
/// part and the tag: `("support", "TOKEN")`. The tag is everything after
/// the first `+` of the local part, as written. `None` without a `+`, with
/// an empty local part or tag, or without a domain.
#[must_use]
pub fn plus_tag(address: &str) -> Option<(String, String)> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, domain) = address.rsplit_once('@')?;
    let (base, tag) = local.split_once('+')?;
    (!base.is_empty() && !tag.is_empty() && !domain.is_empty())
        .then(|| (base.to_owned(), tag.to_owned()))
}

/// The token of a `[ref:TOKEN]` marker in a body, plain text or HTML,
/// lower case.
///
/// Mail clients mangle what they quote, so the marker is found through
/// tags (`[ref:<span>ab12</span>cd34]`), character references
/// (`&#91;ref:...&#93;`), line breaks and `>` quote prefixes inside it
/// (a client that re-wrapped a quoted line), and any letter case. The
/// token is letters, digits, `-` and `_`, 4 to 64 of them; the first valid
/// marker wins.
#[must_use]
pub fn body_marker(body: &str) -> Option<String> {
    let text = decode_entities(&strip_tags(body));
    // Drop what may have been inserted inside the marker.
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '>' | '\u{200b}' | '\u{feff}' | '\u{ad}'))
        .flat_map(char::to_lowercase)
        .collect();
    compact.match_indices("[ref:").find_map(|(i, _)| {
        let rest = &compact[i + 5..];
        let end = rest.find(']')?;
        let token = &rest[..end];
        let valid = MARKER_TOKEN_CHARS.contains(&token.chars().count())
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        valid.then(|| token.to_owned())
    })
}

/// `html` without its tags (anything from `<` followed by a letter, `/` or
/// `!` up to the next `>`). Plain text passes through, `a < b` included.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        let is_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
        match after.find('>') {
            Some(gt) if is_tag => rest = &after[gt + 1..],
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_are_found_behind_any_prefix() {
        for subject in [
            "[#123456] Printer",
            "Re: [#123456] Printer",
            "RE: RE: [#123456] Printer",
            "Fwd: Re: [#123456] Printer",
            "AW: [#123456]",
            "RV: Printer [#123456]",
            "Re:[#123456]Printer",
        ] {
            assert_eq!(
                subject_ticket_number(subject).as_deref(),
                Some("123456"),
                "{subject}"
            );
        }
        assert_eq!(
            subject_ticket_number("[#IT-000042] VPN").as_deref(),
            Some("IT-000042")
        );
    }

    #[test]
    fn things_that_are_not_ticket_numbers_are_ignored() {
        for subject in [
            "Printer",
            "[#] x",
            "[#abc] x",
            "[# 12 34] x",
            "[#123 x",
            "#123456",
            "[123456]",
        ] {
            assert_eq!(subject_ticket_number(subject), None, "{subject}");
        }
        let long = format!("[#{}]", "1".repeat(41));
        assert_eq!(subject_ticket_number(&long), None);
        assert_eq!(
            subject_ticket_number("[#x] Re: [#77]").as_deref(),
            Some("77")
        );
    }

    #[test]
    fn plus_tags_split_the_local_part() {
        assert_eq!(
            plus_tag("support+abc123@unit.example.edu"),
            Some(("support".to_owned(), "abc123".to_owned()))
        );
        assert_eq!(
            plus_tag("<support+a+b@x.org>"),
            Some(("support".to_owned(), "a+b".to_owned()))
        );
        assert_eq!(plus_tag("support@x.org"), None);
        assert_eq!(plus_tag("support+@x.org"), None);
        assert_eq!(plus_tag("+tag@x.org"), None);
        assert_eq!(plus_tag("support+tag"), None);
    }

    #[test]
    fn body_markers_survive_quoting_wrapping_and_markup() {
        assert_eq!(
            body_marker("Thanks\n[ref:ab12CD34]").as_deref(),
            Some("ab12cd34")
        );
        assert_eq!(
            body_marker("> > [REF:AB12CD34]").as_deref(),
            Some("ab12cd34")
        );
        assert_eq!(
            body_marker("> [ref:ab12\n> cd34]").as_deref(),
            Some("ab12cd34")
        );
        assert_eq!(
            body_marker("<p style=\"color:#999\">[ref:<span>ab12</span>cd34]</p>").as_deref(),
            Some("ab12cd34")
        );
        assert_eq!(
            body_marker("&#91;ref:ab12cd34&#93;").as_deref(),
            Some("ab12cd34")
        );
    }

    #[test]
    fn malformed_markers_are_ignored() {
        for body in [
            "[ref:]",
            "[ref:ab]",
            "[ref:ab12 cd34",
            "[ref:ab!12cd34]",
            "ref:ab12cd34",
            "",
        ] {
            assert_eq!(body_marker(body), None, "{body}");
        }
        assert_eq!(
            body_marker("[ref:x!] [ref:good1234]").as_deref(),
            Some("good1234")
        );
    }
}
