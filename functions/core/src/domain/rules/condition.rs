//! What a rule looks at: a [`Field`] of the ticket (or of the message that
//! brought it), an [`Op`]erator and a value.
//!
//! Text comparisons ignore case, as osTicket's filters do; regular
//! expressions are the `regex` crate's (linear time whatever the pattern)
//! and say `(?i)` themselves if they want to ignore case. Time fields are
//! durations (`"7d"`, `"2h"`, `"90m"`, `"1h30m"`) compared with
//! `greater_than` and `less_than` only.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::RuleError;

/// Longest header or form field name a condition may name.
const MAX_NAME_BYTES: usize = 64;
/// Longest value a condition compares with.
pub const MAX_VALUE_BYTES: usize = 1024;

/// A duration or moment a time condition measures, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Clock {
    /// Open, answered by an agent, and the user has not written since:
    /// time since the last response.
    WaitingOnUser,
    /// Open and the user's last message has no answer: time since it.
    Unanswered,
    /// Open with no agent and no team: time since it became so (its
    /// opening, or the moment its assignment was cleared).
    Unassigned,
    /// Open: time since the last change.
    Idle,
    /// Time since the ticket was opened.
    Age,
    /// Open with a due time: time left until it (negative once passed).
    DueIn,
}

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// The requester's e-mail address.
    Email,
    /// The requester's name.
    Name,
    /// The domain of the requester's address.
    Domain,
    /// The name of the requester's organisation.
    Organisation,
    Subject,
    /// The text of the message (the first one at creation, the new one on
    /// an update).
    Body,
    /// A header of the mail that brought the message (`header:X-Spam-Flag`);
    /// every occurrence is tried.
    Header(String),
    /// The address the mail was received at.
    Recipient,
    /// Where the ticket came from (`web`, `email`, `api`, `phone`, `other`).
    Source,
    /// Ids, as text: `topic`, `department`, `status`, `priority`,
    /// `assignee`, `team` (empty when there is none).
    Topic,
    Department,
    Status,
    Priority,
    Assignee,
    Team,
    /// A custom form field by variable name (`field:student_id`).
    Form(String),
    /// A time condition.
    Time(Clock),
}

impl Field {
    /// Whether the field is a duration measured at evaluation time.
    #[must_use]
    pub fn is_time(&self) -> bool {
        matches!(self, Field::Time(_))
    }
}

const CLOCKS: [(&str, Clock); 6] = [
    ("waiting_on_user", Clock::WaitingOnUser),
    ("unanswered", Clock::Unanswered),
    ("unassigned", Clock::Unassigned),
    ("idle", Clock::Idle),
    ("age", Clock::Age),
    ("due_in", Clock::DueIn),
];

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = match self {
            Field::Email => "email",
            Field::Name => "name",
            Field::Domain => "domain",
            Field::Organisation => "organisation",
            Field::Subject => "subject",
            Field::Body => "body",
            Field::Recipient => "recipient",
            Field::Source => "source",
            Field::Topic => "topic",
            Field::Department => "department",
            Field::Status => "status",
            Field::Priority => "priority",
            Field::Assignee => "assignee",
            Field::Team => "team",
            Field::Header(name) => return write!(f, "header:{name}"),
            Field::Form(name) => return write!(f, "field:{name}"),
            Field::Time(clock) => {
                let name = CLOCKS.iter().find(|(_, c)| c == clock).map(|(n, _)| *n);
                return f.write_str(name.unwrap_or("age"));
            }
        };
        f.write_str(plain)
    }
}

impl FromStr for Field {
    type Err = RuleError;

    fn from_str(text: &str) -> Result<Self, RuleError> {
        let named = |name: &str| {
            let name = name.trim();
            if name.is_empty()
                || name.len() > MAX_NAME_BYTES
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                Err(RuleError::BadField(text.to_owned()))
            } else {
                Ok(name.to_owned())
            }
        };
        if let Some(name) = text.strip_prefix("header:") {
            return named(name).map(Field::Header);
        }
        if let Some(name) = text.strip_prefix("field:") {
            return named(name).map(Field::Form);
        }
        if let Some((_, clock)) = CLOCKS.iter().find(|(n, _)| *n == text) {
            return Ok(Field::Time(*clock));
        }
        Ok(match text {
            "email" => Field::Email,
            "name" => Field::Name,
            "domain" => Field::Domain,
            "organisation" => Field::Organisation,
            "subject" => Field::Subject,
            "body" => Field::Body,
            "recipient" => Field::Recipient,
            "source" => Field::Source,
            "topic" => Field::Topic,
            "department" => Field::Department,
            "status" => Field::Status,
            "priority" => Field::Priority,
            "assignee" => Field::Assignee,
            "team" => Field::Team,
            _ => return Err(RuleError::BadField(text.to_owned())),
        })
    }
}

impl Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Equals,
    NotEquals,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    /// A regular expression finds a match anywhere in the value.
    Matches,
    NotMatches,
    /// Numbers (form fields) and durations (time fields).
    GreaterThan,
    LessThan,
}

impl Op {
    fn is_order(self) -> bool {
        matches!(self, Op::GreaterThan | Op::LessThan)
    }

    fn is_regex(self) -> bool {
        matches!(self, Op::Matches | Op::NotMatches)
    }
}

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    #[serde(default)]
    pub value: String,
    /// For time fields: count only the business hours of the ticket's
    /// schedule (real time when the ticket has none).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub business: bool,
}

/// A condition ready to evaluate: its regex compiled, its value parsed.
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    /// Lower-cased text.
    Text(String),
    Regex(regex::Regex),
    Number(f64),
    /// Milliseconds.
    Duration(i64),
}

impl Condition {
    /// Checks the condition and makes what evaluating it needs.
    pub(crate) fn compile(&self) -> Result<Operand, RuleError> {
        let field = self.field.to_string();
        if self.value.len() > MAX_VALUE_BYTES {
            return Err(RuleError::BadValue {
                field,
                message: format!("at most {MAX_VALUE_BYTES} bytes"),
            });
        }
        if self.field.is_time() {
            if !self.op.is_order() {
                return Err(RuleError::BadOperator { field, op: self.op });
            }
            return parse_duration(&self.value)
                .map(Operand::Duration)
                .ok_or_else(|| RuleError::BadValue {
                    field,
                    message: format!("{:?} is not a duration like 7d, 2h or 90m", self.value),
                });
        }
        if self.business {
            return Err(RuleError::BadValue {
                field,
                message: "business hours apply to time fields only".into(),
            });
        }
        if self.op.is_order() {
            return self
                .value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Operand::Number)
                .ok_or_else(|| RuleError::BadValue {
                    field,
                    message: format!("{:?} is not a number", self.value),
                });
        }
        if self.op.is_regex() {
            return regex::RegexBuilder::new(&self.value)
                .size_limit(1 << 20)
                .build()
                .map(Operand::Regex)
                .map_err(|e| RuleError::BadRegex {
                    pattern: self.value.clone(),
                    message: e.to_string(),
                });
        }
        Ok(Operand::Text(self.value.trim().to_lowercase()))
    }
}

/// Whether `value` passes `op` against `operand` (a text field).
pub(crate) fn test_text(op: Op, operand: &Operand, value: &str) -> bool {
    match operand {
        Operand::Text(wanted) => {
            let value = value.trim().to_lowercase();
            match op {
                Op::Equals => value == *wanted,
                Op::NotEquals => value != *wanted,
                Op::Contains => value.contains(wanted.as_str()),
                Op::NotContains => !value.contains(wanted.as_str()),
                Op::StartsWith => value.starts_with(wanted.as_str()),
                Op::EndsWith => value.ends_with(wanted.as_str()),
                _ => false,
            }
        }
        Operand::Regex(re) => (op == Op::Matches) == re.is_match(value),
        Operand::Number(n) => value.trim().parse::<f64>().is_ok_and(|v| match op {
            Op::GreaterThan => v > *n,
            Op::LessThan => v < *n,
            _ => false,
        }),
        Operand::Duration(_) => false,
    }
}

/// Milliseconds of a duration: `<n><unit>` pieces (`w`, `d`, `h`, `m`)
/// or a plain number of minutes; `None` for anything else.
#[must_use]
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(minutes) = text.parse::<i64>() {
        return (0..=10_000_000)
            .contains(&minutes)
            .then(|| minutes * 60_000);
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: i64 = match c {
            'w' => 7 * 86_400_000,
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' => 60_000,
            _ => return None,
        };
        let n: i64 = digits.parse().ok().filter(|n| *n <= 1_000_000)?;
        digits.clear();
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    digits.is_empty().then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_and_print_the_same() {
        for text in [
            "email",
            "header:X-Spam-Flag",
            "field:student_id",
            "waiting_on_user",
            "due_in",
            "assignee",
        ] {
            let field: Field = text.parse().unwrap();
            assert_eq!(field.to_string(), text);
        }
        assert!("header:".parse::<Field>().is_err());
        assert!("header:a b".parse::<Field>().is_err());
        assert!("colour".parse::<Field>().is_err());
    }

    #[test]
    fn durations_have_units_or_are_minutes() {
        assert_eq!(parse_duration("90"), Some(90 * 60_000));
        assert_eq!(parse_duration("2h"), Some(2 * 3_600_000));
        assert_eq!(parse_duration("1h30m"), Some(90 * 60_000));
        assert_eq!(parse_duration("7d"), Some(7 * 86_400_000));
        assert_eq!(parse_duration("1w"), Some(7 * 86_400_000));
        for bad in ["", "h", "2x", "2h3", "-5", "99999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
