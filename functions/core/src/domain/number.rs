//! Ticket-number formats: a tiny language, pure and tested.
//!
//! A format is a string of
//!
//! - `#`: one random digit (osTicket's `######` is six random digits);
//! - `{seq}` or `{seq:N}`: the instance's (or topic's) next sequential
//!   number, zero-padded to `N` digits (at most 20), e.g. `IT-{seq:6}` gives
//!   `IT-000042`;
//! - anything else among ASCII letters, digits, `-`, `_` and `.`: kept as is.
//!
//! A format needs at least one random digit or a sequence, and at most one
//! sequence; rendered numbers are at most [`MAX_NUMBER_LEN`] characters.
//! Numbers with random digits may collide: whoever renders them claims the
//! number and retries with fresh digits.

use std::fmt;

use thiserror::Error;

/// Longest rendered ticket number.
pub const MAX_NUMBER_LEN: usize = 40;
/// Widest zero-padding of a sequence.
const MAX_SEQ_WIDTH: usize = 20;

/// One piece of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(char),
    Random,
    Seq { width: usize },
}

/// A parsed ticket-number format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberFormat {
    parts: Vec<Part>,
    source: String,
}

/// A format that breaks the rules, with the reason.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("invalid ticket-number format {format:?}: {reason}")]
pub struct BadNumberFormat {
    pub format: String,
    pub reason: String,
}

impl NumberFormat {
    /// Parses `format`; see the module docs for the language.
    pub fn parse(format: &str) -> Result<Self, BadNumberFormat> {
        let bad = |reason: &str| BadNumberFormat {
            format: format.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = Vec::new();
        let mut rest = format;
        while let Some(c) = rest.chars().next() {
            match c {
                '#' => {
                    parts.push(Part::Random);
                    rest = &rest[1..];
                }
                '{' => {
                    let end = rest.find('}').ok_or_else(|| bad("unclosed '{'"))?;
                    let width = match &rest[1..end] {
                        "seq" => 1,
                        spec => spec
                            .strip_prefix("seq:")
                            .and_then(|w| w.parse::<usize>().ok())
                            .filter(|w| (1..=MAX_SEQ_WIDTH).contains(w))
                            .ok_or_else(|| bad("use {seq} or {seq:N} with N from 1 to 20"))?,
                    };
                    parts.push(Part::Seq { width });
                    rest = &rest[end + 1..];
                }
                c if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') => {
                    parts.push(Part::Literal(c));
                    rest = &rest[1..];
                }
                _ => {
                    return Err(bad(
                        "only letters, digits, '-', '_', '.', '#' and {seq} are allowed",
                    ));
                }
            }
        }
        let seqs = parts
            .iter()
            .filter(|p| matches!(p, Part::Seq { .. }))
            .count();
        if seqs > 1 {
            return Err(bad("at most one {seq}"));
        }
        if seqs == 0 && !parts.contains(&Part::Random) {
            return Err(bad("needs a '#' (random digit) or a {seq}"));
        }
        let longest: usize = parts
            .iter()
            .map(|p| match p {
                Part::Seq { width } => (*width).max(MAX_SEQ_WIDTH),
                _ => 1,
            })
            .sum();
        if longest > MAX_NUMBER_LEN {
            return Err(bad("numbers would be too long"));
        }
        Ok(Self {
            parts,
            source: format.to_owned(),
        })
    }

    /// Whether numbers take the next value of a sequence.
    #[must_use]
    pub fn is_sequential(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Seq { .. }))
    }

    /// Whether numbers contain random digits (and so may collide).
    #[must_use]
    pub fn is_random(&self) -> bool {
        self.parts.contains(&Part::Random)
    }

    /// The number for sequence value `seq` (ignored unless sequential),
    /// with random digits drawn from `digit` (each call: one digit 0-9).
    pub fn render(&self, seq: u64, mut digit: impl FnMut() -> u8) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(c) => out.push(*c),
                Part::Random => out.push(char::from(b'0' + digit() % 10)),
                Part::Seq { width } => out.push_str(&format!("{seq:0width$}")),
            }
        }
        out
    }
}

impl fmt::Display for NumberFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(seq: &[u8]) -> impl FnMut() -> u8 + '_ {
        let mut it = seq.iter().cycle();
        move || *it.next().unwrap()
    }

    #[test]
    fn hashes_are_random_digits() {
        let f = NumberFormat::parse("######").unwrap();
        assert!(f.is_random() && !f.is_sequential());
        assert_eq!(f.render(0, digits(&[1, 2, 3, 4, 5, 16])), "123456");
    }

    #[test]
    fn sequences_are_zero_padded_with_literals_kept() {
        let f = NumberFormat::parse("IT-{seq:6}").unwrap();
        assert!(f.is_sequential() && !f.is_random());
        assert_eq!(f.render(42, digits(&[9])), "IT-000042");
        assert_eq!(f.render(1_234_567, digits(&[9])), "IT-1234567");
        assert_eq!(NumberFormat::parse("{seq}").unwrap().render(7, || 0), "7");
    }

    #[test]
    fn random_and_sequence_mix() {
        let f = NumberFormat::parse("A{seq:3}-##").unwrap();
        assert_eq!(f.render(5, digits(&[4, 2])), "A005-42");
        assert_eq!(f.to_string(), "A{seq:3}-##");
    }

    #[test]
    fn bad_formats_are_refused_with_a_reason() {
        for bad in [
            "",
            "ABC",
            "{seq",
            "{sequence}",
            "{seq:0}",
            "{seq:99}",
            "{seq}{seq}",
            "IT #",
            "IT/##",
            "ñ##",
            "##########################################",
        ] {
            let err = NumberFormat::parse(bad).unwrap_err();
            assert!(!err.reason.is_empty(), "{bad:?}");
        }
    }
}
