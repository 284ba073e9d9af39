//! Custom forms: what a help topic asks of whoever opens a ticket, beyond
//! the subject and the message (osTicket's "Forms").
//!
//! A [`Form`] is an ordered set of [`Field`]s. Each has a variable name (the
//! key of its answer in a ticket's `fields`, unique in the form), a type, a
//! label and a help text per language, whether it is required, who sees it
//! (users, or agents only), whether users may fill it in, and validation
//! rules that fit its type (length and pattern for text, a range for
//! numbers). Patterns are compiled by the `regex` crate, whose matching
//! takes linear time whatever the pattern, so an administrator's pattern
//! cannot make a submission hang. [`Form::check`] refuses a form that
//! breaks a rule, with a stable code ([`FormError::code`]).
//!
//! A help topic uses several forms, its parent's first ([`resolve`] gives
//! their fields in order, a variable name taken by an earlier form hiding
//! later ones). [`check_answers`] validates what was submitted against
//! them and says, field by field, what is wrong ([`FieldProblem`]); what it
//! returns is what the ticket stores: trimmed, normalised, empty answers
//! left out.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::list::CustomList;
use super::{FormId, Language, ListId};

/// Most fields of a form (a ticket holds at most 100 answers).
pub const MAX_FIELDS: usize = 100;
/// Longest variable name, in characters.
pub const MAX_VARIABLE_CHARS: usize = 64;
/// Longest label or title, in characters.
pub const MAX_LABEL_CHARS: usize = 255;
/// Longest help text or instructions, in characters.
pub const MAX_HELP_CHARS: usize = 2000;
/// Longest validation pattern, in characters.
pub const MAX_PATTERN_CHARS: usize = 500;
/// Largest `max_length` (a ticket's answers hold up to 16 KiB each).
pub const MAX_LENGTH: u32 = 16 * 1024;
/// Largest compiled pattern, in bytes: bounds the memory a pattern takes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A text in each of the languages Taquilla speaks; any may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub es: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Texts {
    /// `text` in every language.
    #[must_use]
    pub fn uniform(text: &str) -> Self {
        Self {
            ca: Some(text.to_owned()),
            es: Some(text.to_owned()),
            en: Some(text.to_owned()),
        }
    }

    /// The text in `language`, if there is one.
    #[must_use]
    pub fn get(&self, language: Language) -> Option<&str> {
        match language {
            Language::Ca => self.ca.as_deref(),
            Language::Es => self.es.as_deref(),
            Language::En => self.en.as_deref(),
        }
    }

    /// The text in `language`, else in any other (English, Spanish,
    /// Catalan).
    #[must_use]
    pub fn best(&self, language: Language) -> Option<&str> {
        self.get(language)
            .or(self.en.as_deref())
            .or(self.es.as_deref())
            .or(self.ca.as_deref())
    }

    /// Whether there is no text in any language.
    #[must_use]
    pub fn is_blank(&self) -> bool {
        self.ca.is_none() && self.es.is_none() && self.en.is_none()
    }

    /// Trims every text and drops the blank ones; `false` when one is
    /// longer than `max` characters.
    pub(crate) fn trim(&mut self, max: usize) -> bool {
        let mut fits = true;
        for slot in [&mut self.ca, &mut self.es, &mut self.en] {
            *slot = slot
                .take()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty());
            fits &= slot.as_ref().is_none_or(|t| t.chars().count() <= max);
        }
        fits
    }
}

/// What a field asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    ShortText,
    /// Several lines of text.
    LongText,
    /// A decimal number (`-12`, `3.5`).
    Number,
    Email,
    Phone,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339 (`2026-03-01T09:30:00+01:00`) or a wall time
    /// (`2026-03-01T09:30`).
    DateTime,
    /// One item of a list, or several with `multiple`.
    Choice,
    /// `true` or `false`; a required checkbox must be ticked.
    Checkbox,
    /// The name of one of the files sent with the ticket.
    File,
    /// A section break or information text: a label and a help text, no
    /// answer.
    Section,
}

impl FieldKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::ShortText => "short_text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Email => "email",
            FieldKind::Phone => "phone",
            FieldKind::Date => "date",
            FieldKind::DateTime => "date_time",
            FieldKind::Choice => "choice",
            FieldKind::Checkbox => "checkbox",
            FieldKind::File => "file",
            FieldKind::Section => "section",
        }
    }

    /// Whether the kind is typed text, which length and pattern rules fit.
    fn is_text(self) -> bool {
        matches!(
            self,
            FieldKind::ShortText | FieldKind::LongText | FieldKind::Email | FieldKind::Phone
        )
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who sees a field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Users and agents.
    #[default]
    Users,
    /// Agents only: users neither see nor fill it in.
    Agents,
}

/// A field's validation rules; each fits some kinds only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// Fewest characters (text kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Most characters (text kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// A regular expression the whole answer must match (text kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Smallest number (numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Largest number (numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
}

impl Validation {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The variable name: the key of the answer in a ticket's `fields`.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    pub label: Texts,
    #[serde(default, skip_serializing_if = "Texts::is_blank")]
    pub help: Texts,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub visible_to: Visibility,
    /// Users may fill it in (otherwise only agents set it).
    #[serde(default = "yes")]
    pub user_editable: bool,
    /// The list a choice field chooses from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListId>,
    /// A choice field takes several items.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    #[serde(default, skip_serializing_if = "Validation::is_empty")]
    pub validation: Validation,
}

fn yes() -> bool {
    true
}

impl Field {
    /// Whether `who` may give the field an answer.
    #[must_use]
    pub fn settable_by(&self, who: Submitter) -> bool {
        match who {
            Submitter::User => self.visible_to == Visibility::Users && self.user_editable,
            Submitter::Agent | Submitter::System => true,
        }
    }

    /// Whether `who` must give the field an answer.
    fn required_of(&self, who: Submitter) -> bool {
        self.required
            && self.kind != FieldKind::Section
            && match who {
                Submitter::User => self.settable_by(who),
                Submitter::Agent => true,
                Submitter::System => false,
            }
    }
}

/// A custom form of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    pub id: FormId,
    /// What administrators call it (unique in the instance).
    pub name: String,
    /// What the portal shows above it, per language.
    #[serde(default, skip_serializing_if = "Texts::is_blank")]
    pub title: Texts,
    #[serde(default, skip_serializing_if = "Texts::is_blank")]
    pub instructions: Texts,
    /// In the order they are shown.
    #[serde(default)]
    pub fields: Vec<Field>,
}

/// A form that breaks a rule; each has a stable [`code`](FormError::code).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormError {
    #[error("a form has at most {MAX_FIELDS} fields")]
    TooManyFields,
    #[error(
        "variable name {0:?} must be an identifier: a letter or _, then letters, digits or _, at most {MAX_VARIABLE_CHARS} characters"
    )]
    BadVariable(String),
    #[error("variable name {0:?} is used by two fields")]
    DuplicateVariable(String),
    #[error("field {0:?} needs a label in at least one language")]
    MissingLabel(String),
    #[error(
        "{0}: labels and titles have at most {MAX_LABEL_CHARS} characters, help texts {MAX_HELP_CHARS}"
    )]
    TextTooLong(String),
    #[error("field {name:?}: the pattern does not compile: {reason}")]
    BadPattern { name: String, reason: String },
    #[error("field {0:?}: min_length must not exceed max_length, which is 1 to {MAX_LENGTH}")]
    BadLength(String),
    #[error("field {0:?}: min must not exceed max")]
    BadRange(String),
    #[error("field {name:?}: {rule} does not fit a {kind} field")]
    RuleNotForType {
        name: String,
        rule: &'static str,
        kind: FieldKind,
    },
    #[error("field {0:?}: a choice field names the list it chooses from")]
    ChoiceWithoutList(String),
    #[error("field {name:?}: list {list} does not exist")]
    UnknownList { name: String, list: ListId },
}

impl FormError {
    /// The rule's stable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            FormError::TooManyFields => "form_too_many_fields",
            FormError::BadVariable(_) => "form_bad_variable",
            FormError::DuplicateVariable(_) => "form_duplicate_variable",
            FormError::MissingLabel(_) => "form_missing_label",
            FormError::TextTooLong(_) => "form_text_too_long",
            FormError::BadPattern { .. } => "form_bad_pattern",
            FormError::BadLength(_) => "form_bad_length",
            FormError::BadRange(_) => "form_bad_range",
            FormError::RuleNotForType { .. } => "form_rule_not_for_type",
            FormError::ChoiceWithoutList(_) => "form_choice_without_list",
            FormError::UnknownList { .. } => "form_unknown_list",
        }
    }
}

/// `pattern` compiled to match a whole answer.
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(regex::Error::Syntax(format!(
            "a pattern has at most {MAX_PATTERN_CHARS} characters"
        )));
    }
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Whether `name` is an identifier of at most [`MAX_VARIABLE_CHARS`].
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_VARIABLE_CHARS
}

impl Form {
    /// Refuses a form that breaks a rule. Names and texts are trimmed,
    /// blank texts and an empty pattern dropped. Whether the lists of
    /// choice fields exist is the caller's to check ([`Form::lists`]).
    pub fn check(&mut self) -> Result<(), FormError> {
        if self.fields.len() > MAX_FIELDS {
            return Err(FormError::TooManyFields);
        }
        if !self.title.trim(MAX_LABEL_CHARS) {
            return Err(FormError::TextTooLong("title".into()));
        }
        if !self.instructions.trim(MAX_HELP_CHARS) {
            return Err(FormError::TextTooLong("instructions".into()));
        }
        let mut seen = BTreeSet::new();
        for field in &mut self.fields {
            check_field(field)?;
            if !seen.insert(field.name.to_ascii_lowercase()) {
                return Err(FormError::DuplicateVariable(field.name.clone()));
            }
        }
        Ok(())
    }

    /// The lists the form's choice fields name, with the first field
    /// naming each.
    #[must_use]
    pub fn lists(&self) -> Vec<(ListId, &str)> {
        let mut out: Vec<(ListId, &str)> = Vec::new();
        for field in &self.fields {
            if let Some(list) = field.list
                && !out.iter().any(|(l, _)| *l == list)
            {
                out.push((list, &field.name));
            }
        }
        out
    }
}

fn check_field(field: &mut Field) -> Result<(), FormError> {
    field.name = field.name.trim().to_owned();
    let name = field.name.clone();
    if !is_identifier(&name) {
        return Err(FormError::BadVariable(name));
    }
    if !field.label.trim(MAX_LABEL_CHARS) || !field.help.trim(MAX_HELP_CHARS) {
        return Err(FormError::TextTooLong(format!("field {name:?}")));
    }
    if field.label.is_blank() {
        return Err(FormError::MissingLabel(name));
    }
    let kind = field.kind;
    let not_for = |rule| FormError::RuleNotForType {
        name: name.clone(),
        rule,
        kind,
    };
    match (kind, field.list) {
        (FieldKind::Choice, None) => return Err(FormError::ChoiceWithoutList(name)),
        (FieldKind::Choice, Some(_)) => {}
        (_, Some(_)) => return Err(not_for("list")),
        (_, None) if field.multiple => return Err(not_for("multiple")),
        (_, None) => {}
    }
    if kind == FieldKind::Section && field.required {
        return Err(not_for("required"));
    }
    let rules = &mut field.validation;
    if rules.pattern.as_deref().is_some_and(str::is_empty) {
        rules.pattern = None;
    }
    if !kind.is_text() {
        if rules.min_length.is_some() {
            return Err(not_for("min_length"));
        }
        if rules.max_length.is_some() {
            return Err(not_for("max_length"));
        }
        if rules.pattern.is_some() {
            return Err(not_for("pattern"));
        }
    }
    if kind != FieldKind::Number {
        if rules.min.is_some() {
            return Err(not_for("min"));
        }
        if rules.max.is_some() {
            return Err(not_for("max"));
        }
    }
    let max_length = rules.max_length.unwrap_or(MAX_LENGTH);
    if max_length == 0 || max_length > MAX_LENGTH || rules.min_length.unwrap_or(0) > max_length {
        return Err(FormError::BadLength(name));
    }
    if let (Some(min), Some(max)) = (rules.min, rules.max)
        && min > max
    {
        return Err(FormError::BadRange(name));
    }
    if let Some(pattern) = &rules.pattern {
        compile(pattern).map_err(|e| FormError::BadPattern {
            name,
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

/// The fields of `forms` in order. A variable name an earlier form already
/// has (the parent topic's forms come first) hides the later field, so a
/// ticket's answer always belongs to one field.
#[must_use]
pub fn resolve(forms: &[Form]) -> Vec<&Field> {
    let mut seen = BTreeSet::new();
    forms
        .iter()
        .flat_map(|form| &form.fields)
        .filter(|field| seen.insert(field.name.to_ascii_lowercase()))
        .collect()
}

/// A variable name two of `forms` share, if any.
#[must_use]
pub fn shared_variable(forms: &[Form]) -> Option<&str> {
    let mut seen = BTreeSet::new();
    forms
        .iter()
        .flat_map(|form| &form.fields)
        .find(|field| !seen.insert(field.name.to_ascii_lowercase()))
        .map(|field| field.name.as_str())
}

/// Who submits answers, which decides what they may set and must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitter {
    /// A user: only fields visible to users and editable by them; those
    /// required are required.
    User,
    /// An agent (or an integration acting with its permissions): every
    /// field; every required one is required.
    Agent,
    /// Taquilla itself (mail): any field, none required, since a mail
    /// cannot answer a form.
    System,
}

/// Why an answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerCode {
    Required,
    UnknownField,
    NotEditable,
    NotAnInput,
    TooShort,
    TooLong,
    Pattern,
    NotANumber,
    OutOfRange,
    NotAnEmail,
    NotAPhone,
    NotADate,
    NotADateTime,
    UnknownChoice,
    NotACheckbox,
    UnknownFile,
}

impl AnswerCode {
    /// The stable code.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerCode::Required => "required",
            AnswerCode::UnknownField => "unknown_field",
            AnswerCode::NotEditable => "not_editable",
            AnswerCode::NotAnInput => "not_an_input",
            AnswerCode::TooShort => "too_short",
            AnswerCode::TooLong => "too_long",
            AnswerCode::Pattern => "pattern",
            AnswerCode::NotANumber => "not_a_number",
            AnswerCode::OutOfRange => "out_of_range",
            AnswerCode::NotAnEmail => "not_an_email",
            AnswerCode::NotAPhone => "not_a_phone",
            AnswerCode::NotADate => "not_a_date",
            AnswerCode::NotADateTime => "not_a_date_time",
            AnswerCode::UnknownChoice => "unknown_choice",
            AnswerCode::NotACheckbox => "not_a_checkbox",
            AnswerCode::UnknownFile => "unknown_file",
        }
    }
}

/// What is wrong with the answer to one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// The field's variable name.
    pub field: String,
    pub code: AnswerCode,
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} [{}]",
            self.field,
            self.message,
            self.code.as_str()
        )
    }
}

/// Validates `answers` (by variable name) against `fields` ([`resolve`]):
/// the answers to store, or every problem found. `lists` holds the lists
/// choice fields name; `files` the names of the files sent with the
/// answers. A blank answer is no answer.
pub fn check_answers(
    fields: &[&Field],
    lists: &BTreeMap<ListId, CustomList>,
    answers: &BTreeMap<String, String>,
    files: &[&str],
    who: Submitter,
) -> Result<BTreeMap<String, String>, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut out = BTreeMap::new();
    for name in answers.keys() {
        if !fields.iter().any(|f| f.name == *name) {
            problems.push(problem(
                name,
                AnswerCode::UnknownField,
                "is not a field of this help topic's forms",
            ));
        }
    }
    for field in fields {
        let value = answers
            .get(&field.name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty());
        let Some(value) = value else {
            if field.required_of(who) {
                problems.push(problem(&field.name, AnswerCode::Required, "is required"));
            }
            continue;
        };
        if field.kind == FieldKind::Section {
            problems.push(problem(
                &field.name,
                AnswerCode::NotAnInput,
                "is information, not a question",
            ));
            continue;
        }
        if !field.settable_by(who) {
            problems.push(problem(
                &field.name,
                AnswerCode::NotEditable,
                "is set by agents only",
            ));
            continue;
        }
        match answer(field, value, lists, files) {
            // Only separators (`,,`) chose nothing.
            Ok(value) if value.is_empty() => {
                if field.required_of(who) {
                    problems.push(problem(&field.name, AnswerCode::Required, "is required"));
                }
            }
            Ok(value) if field.kind == FieldKind::Checkbox && value == "false" => {
                if field.required_of(who) {
                    problems.push(problem(&field.name, AnswerCode::Required, "must be ticked"));
                } else {
                    out.insert(field.name.clone(), value);
                }
            }
            Ok(value) => {
                out.insert(field.name.clone(), value);
            }
            Err((code, message)) => problems.push(problem(&field.name, code, message)),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn problem(field: &str, code: AnswerCode, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        code,
        message: message.into(),
    }
}

type Refusal = (AnswerCode, String);

/// The answer to store for `value` (trimmed, not empty), or why not.
fn answer(
    field: &Field,
    value: &str,
    lists: &BTreeMap<ListId, CustomList>,
    files: &[&str],
) -> Result<String, Refusal> {
    let refuse = |code, message: &str| Err((code, message.to_owned()));
    match field.kind {
        FieldKind::ShortText | FieldKind::LongText => text(field, value),
        FieldKind::Email => {
            if is_email(value) {
                text(field, value)
            } else {
                refuse(AnswerCode::NotAnEmail, "is not an e-mail address")
            }
        }
        FieldKind::Phone => {
            if is_phone(value) {
                text(field, value)
            } else {
                refuse(AnswerCode::NotAPhone, "is not a phone number")
            }
        }
        FieldKind::Number => number(field, value),
        FieldKind::Date => match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(date) => Ok(date.format("%Y-%m-%d").to_string()),
            Err(_) => refuse(AnswerCode::NotADate, "is not a date (YYYY-MM-DD)"),
        },
        FieldKind::DateTime => {
            let ok = DateTime::parse_from_rfc3339(value).is_ok()
                || NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").is_ok()
                || NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S").is_ok();
            if ok {
                Ok(value.to_owned())
            } else {
                refuse(
                    AnswerCode::NotADateTime,
                    "is not a date and time (YYYY-MM-DDTHH:MM, with seconds and an offset if wanted)",
                )
            }
        }
        FieldKind::Choice => choice(field, value, lists),
        FieldKind::Checkbox => match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok("true".to_owned()),
            "false" | "0" | "no" | "off" => Ok("false".to_owned()),
            _ => refuse(AnswerCode::NotACheckbox, "is not true or false"),
        },
        FieldKind::File => {
            if files.contains(&value) {
                Ok(value.to_owned())
            } else {
                refuse(
                    AnswerCode::UnknownFile,
                    "names no file sent with the ticket",
                )
            }
        }
        FieldKind::Section => refuse(AnswerCode::NotAnInput, "is information, not a question"),
    }
}

/// Typed text within its length and matching its pattern.
fn text(field: &Field, value: &str) -> Result<String, Refusal> {
    let rules = &field.validation;
    let chars = u32::try_from(value.chars().count()).unwrap_or(u32::MAX);
    if let Some(min) = rules.min_length
        && chars < min
    {
        return Err((
            AnswerCode::TooShort,
            format!("must have at least {min} characters"),
        ));
    }
    if let Some(max) = rules.max_length
        && chars > max
    {
        return Err((
            AnswerCode::TooLong,
            format!("must have at most {max} characters"),
        ));
    }
    if let Some(pattern) = &rules.pattern {
        // Checked when the form was saved; a pattern that no longer
        // compiles refuses rather than lets anything through.
        let matches = compile(pattern).is_ok_and(|re| re.is_match(value));
        if !matches {
            return Err((
                AnswerCode::Pattern,
                "does not have the expected form".to_owned(),
            ));
        }
    }
    Ok(value.to_owned())
}

/// A decimal number (`-12`, `3.50`) within the field's range.
fn number(field: &Field, value: &str) -> Result<String, Refusal> {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.ends_with('.'))
        && value.len() <= 40;
    let parsed = value.parse::<f64>().ok().filter(|n| n.is_finite());
    let Some(n) = parsed.filter(|_| well_formed) else {
        return Err((AnswerCode::NotANumber, "is not a number".to_owned()));
    };
    let rules = &field.validation;
    #[allow(clippy::cast_precision_loss)] // Bounds are compared, not stored.
    let (below, above) = (
        rules.min.is_some_and(|min| n < min as f64),
        rules.max.is_some_and(|max| n > max as f64),
    );
    if below || above {
        let range = match (rules.min, rules.max) {
            (Some(min), Some(max)) => format!("from {min} to {max}"),
            (Some(min), None) => format!("at least {min}"),
            (None, Some(max)) => format!("at most {max}"),
            (None, None) => String::new(),
        };
        return Err((AnswerCode::OutOfRange, format!("must be {range}")));
    }
    Ok(value.to_owned())
}

/// One enabled item of the field's list, or several (comma-separated,
/// each once) for a multiple choice.
fn choice(
    field: &Field,
    value: &str,
    lists: &BTreeMap<ListId, CustomList>,
) -> Result<String, Refusal> {
    let Some(list) = field.list.and_then(|id| lists.get(&id)) else {
        return Err((
            AnswerCode::UnknownChoice,
            "chooses from a list that no longer exists".to_owned(),
        ));
    };
    let picked: Vec<&str> = if field.multiple {
        let mut picked: Vec<&str> = Vec::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if !picked.contains(&part) {
                picked.push(part);
            }
        }
        picked
    } else {
        vec![value]
    };
    if let Some(unknown) = picked.iter().find(|v| list.offered(v).is_none()) {
        return Err((
            AnswerCode::UnknownChoice,
            format!("{unknown:?} is not an item of list {:?}", list.name),
        ));
    }
    Ok(picked.join(","))
}

/// A local part, one `@`, a domain with an inner dot, no spaces.
fn is_email(value: &str) -> bool {
    value.len() <= 254
        && !value.chars().any(char::is_whitespace)
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
}

/// Digits with the usual separators (`+34 93 581 10 00`, `(555) 123-4567`,
/// `ext. 12` or `x12` at the end), 3 to 20 digits, at most 40 characters.
fn is_phone(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let number = lower
        .split_once("ext")
        .or_else(|| lower.split_once('x'))
        .map_or(lower.as_str(), |(number, extension)| {
            let extension = extension.trim_start_matches(['.', ' ']);
            if extension.is_empty() || !extension.bytes().all(|b| b.is_ascii_digit()) {
                "!"
            } else {
                number
            }
        });
    let digits = number.bytes().filter(u8::is_ascii_digit).count();
    value.chars().count() <= 40
        && (3..=20).contains(&digits)
        && number
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn form(fields: Value) -> Form {
        serde_json::from_value(json!({"id": 1, "name": "Room", "fields": fields})).unwrap()
    }

    fn field(name: &str, kind: &str) -> Value {
        json!({"name": name, "type": kind, "label": {"en": name}})
    }

    fn with(mut value: Value, key: &str, extra: Value) -> Value {
        value[key] = extra;
        value
    }

    fn campus() -> BTreeMap<ListId, CustomList> {
        let list: CustomList = serde_json::from_value(json!({
            "id": 4, "name": "Campus",
            "items": [{"value": "north"}, {"value": "south"}, {"value": "old", "disabled": true}],
        }))
        .unwrap();
        BTreeMap::from([(ListId(4), list)])
    }

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The codes of the problems of `answers` against `form`, by field.
    fn problems(form: &Form, answers: &BTreeMap<String, String>, who: Submitter) -> Vec<String> {
        let fields = resolve(std::slice::from_ref(form));
        match check_answers(&fields, &campus(), answers, &["cv.pdf"], who) {
            Ok(_) => Vec::new(),
            Err(problems) => problems
                .iter()
                .map(|p| format!("{}:{}", p.field, p.code.as_str()))
                .collect(),
        }
    }

    #[test]
    fn a_form_round_trips_and_checks_clean() {
        let mut f = form(json!([
            with(
                field("room", "short_text"),
                "validation",
                json!({"max_length": 10, "pattern": "[A-Z]-[0-9]+"})
            ),
            with(
                field("floor", "number"),
                "validation",
                json!({"min": 0, "max": 9})
            ),
            with(
                with(field("campus", "choice"), "list", json!(4)),
                "multiple",
                json!(true)
            ),
            field("intro", "section"),
            with(
                field("internal", "long_text"),
                "visible_to",
                json!("agents")
            ),
        ]));
        f.check().unwrap();
        assert_eq!(f.fields[4].visible_to, Visibility::Agents);
        assert!(f.fields[0].user_editable, "editable unless said");
        assert_eq!(f.lists(), [(ListId(4), "campus")]);
        let back: Form = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn bad_forms_are_refused_with_stable_codes() {
        let cases = [
            (
                json!([field("room", "short_text"), field("Room", "number")]),
                "form_duplicate_variable",
            ),
            (json!([field("2room", "short_text")]), "form_bad_variable"),
            (json!([field("room-no", "short_text")]), "form_bad_variable"),
            (json!([field("", "short_text")]), "form_bad_variable"),
            (
                json!([with(
                    field("room", "short_text"),
                    "label",
                    json!({"en": "  "})
                )]),
                "form_missing_label",
            ),
            (
                json!([with(
                    field("room", "short_text"),
                    "validation",
                    json!({"pattern": "(unclosed"})
                )]),
                "form_bad_pattern",
            ),
            (
                json!([with(
                    field("room", "short_text"),
                    "validation",
                    json!({"pattern": "a{1000}{1000}"})
                )]),
                "form_bad_pattern",
            ),
            (
                json!([with(
                    field("room", "short_text"),
                    "validation",
                    json!({"min_length": 5, "max_length": 2})
                )]),
                "form_bad_length",
            ),
            (
                json!([with(
                    field("n", "number"),
                    "validation",
                    json!({"min": 5, "max": 2})
                )]),
                "form_bad_range",
            ),
            (
                json!([with(
                    field("n", "number"),
                    "validation",
                    json!({"pattern": "[0-9]"})
                )]),
                "form_rule_not_for_type",
            ),
            (
                json!([with(
                    field("t", "short_text"),
                    "validation",
                    json!({"max": 3})
                )]),
                "form_rule_not_for_type",
            ),
            (
                json!([with(field("s", "section"), "required", json!(true))]),
                "form_rule_not_for_type",
            ),
            (
                json!([with(field("t", "short_text"), "list", json!(4))]),
                "form_rule_not_for_type",
            ),
            (json!([field("c", "choice")]), "form_choice_without_list"),
            (
                json!([with(
                    field("room", "short_text"),
                    "help",
                    json!({"ca": "x".repeat(2001)})
                )]),
                "form_text_too_long",
            ),
        ];
        for (fields, code) in cases {
            let err = form(fields.clone()).check().unwrap_err();
            assert_eq!(err.code(), code, "{fields}: {err}");
        }
        let many: Vec<Value> = (0..=MAX_FIELDS)
            .map(|n| field(&format!("f{n}"), "short_text"))
            .collect();
        assert_eq!(
            form(Value::Array(many)).check().unwrap_err().code(),
            "form_too_many_fields"
        );
    }

    #[test]
    fn an_unknown_type_or_language_does_not_parse() {
        let bad_type = json!({"id": 1, "name": "x", "fields": [field("a", "colour")]});
        assert!(serde_json::from_value::<Form>(bad_type).is_err());
        let bad_language = json!({"id": 1, "name": "x", "fields": [
            {"name": "a", "type": "short_text", "label": {"fr": "A"}},
        ]});
        assert!(serde_json::from_value::<Form>(bad_language).is_err());
    }

    #[test]
    fn required_fields_are_required_of_whoever_may_set_them() {
        let f = form(json!([
            with(field("room", "short_text"), "required", json!(true)),
            with(
                with(field("cost", "number"), "required", json!(true)),
                "visible_to",
                json!("agents")
            ),
            with(
                with(field("ref", "short_text"), "required", json!(true)),
                "user_editable",
                json!(false)
            ),
        ]));
        let none = answers(&[]);
        assert_eq!(problems(&f, &none, Submitter::User), ["room:required"]);
        assert_eq!(
            problems(&f, &none, Submitter::Agent),
            ["room:required", "cost:required", "ref:required"]
        );
        assert!(problems(&f, &none, Submitter::System).is_empty());
        let blank = answers(&[("room", "   ")]);
        assert_eq!(problems(&f, &blank, Submitter::User), ["room:required"]);
    }

    #[test]
    fn users_may_not_set_agent_only_or_locked_fields_and_agents_may() {
        let f = form(json!([
            with(field("cost", "number"), "visible_to", json!("agents")),
            with(field("ref", "short_text"), "user_editable", json!(false)),
        ]));
        let given = answers(&[("cost", "12"), ("ref", "X")]);
        assert_eq!(
            problems(&f, &given, Submitter::User),
            ["cost:not_editable", "ref:not_editable"]
        );
        assert!(problems(&f, &given, Submitter::Agent).is_empty());
    }

    #[test]
    fn each_type_refuses_what_is_not_of_it() {
        let f = form(json!([
            with(
                field("room", "short_text"),
                "validation",
                json!({"min_length": 2, "max_length": 5, "pattern": "[A-Z]-[0-9]+"})
            ),
            with(
                field("floor", "number"),
                "validation",
                json!({"min": 0, "max": 9})
            ),
            field("mail", "email"),
            field("phone", "phone"),
            field("day", "date"),
            field("at", "date_time"),
            with(field("campus", "choice"), "list", json!(4)),
            with(
                with(field("campuses", "choice"), "list", json!(4)),
                "multiple",
                json!(true)
            ),
            field("agree", "checkbox"),
            field("cv", "file"),
            field("intro", "section"),
        ]));
        let cases = [
            ("room", "A", "too_short"),
            ("room", "A-12345", "too_long"),
            ("room", "a-1", "pattern"),
            ("room", "xA-1", "pattern"),
            ("floor", "ten", "not_a_number"),
            ("floor", "1e3", "not_a_number"),
            ("floor", "NaN", "not_a_number"),
            ("floor", "3.", "not_a_number"),
            ("floor", "10", "out_of_range"),
            ("floor", "-0.5", "out_of_range"),
            ("mail", "ada@", "not_an_email"),
            ("phone", "call me", "not_a_phone"),
            ("phone", "12", "not_a_phone"),
            ("day", "2026-02-30", "not_a_date"),
            ("day", "1/2/2026", "not_a_date"),
            ("at", "2026-02-01 9:00", "not_a_date_time"),
            ("campus", "east", "unknown_choice"),
            ("campus", "old", "unknown_choice"),
            ("campus", "north,south", "unknown_choice"),
            ("campuses", "north,east", "unknown_choice"),
            ("agree", "maybe", "not_a_checkbox"),
            ("cv", "other.pdf", "unknown_file"),
            ("intro", "hello", "not_an_input"),
            ("nope", "x", "unknown_field"),
        ];
        for (name, value, code) in cases {
            assert_eq!(
                problems(&f, &answers(&[(name, value)]), Submitter::Agent),
                [format!("{name}:{code}")],
                "{name} = {value:?}"
            );
        }
    }

    #[test]
    fn valid_answers_are_stored_normalised() {
        let f = form(json!([
            field("room", "short_text"),
            with(
                field("floor", "number"),
                "validation",
                json!({"min": -2, "max": 9})
            ),
            field("mail", "email"),
            field("phone", "phone"),
            field("day", "date"),
            field("at", "date_time"),
            with(
                with(field("campuses", "choice"), "list", json!(4)),
                "multiple",
                json!(true)
            ),
            field("agree", "checkbox"),
            field("cv", "file"),
            field("empty", "short_text"),
        ]));
        let given = answers(&[
            ("room", "  B-12 "),
            ("floor", "-1.5"),
            ("mail", "ada@example.org"),
            ("phone", "+34 93 581 10 00 ext. 12"),
            ("day", "2026-03-01"),
            ("at", "2026-03-29T02:30"),
            ("campuses", "south, north,south"),
            ("agree", "Yes"),
            ("cv", "cv.pdf"),
            ("empty", ""),
        ]);
        let fields = resolve(std::slice::from_ref(&f));
        let stored =
            check_answers(&fields, &campus(), &given, &["cv.pdf"], Submitter::User).unwrap();
        assert_eq!(stored["room"], "B-12");
        assert_eq!(stored["campuses"], "south,north");
        assert_eq!(stored["agree"], "true");
        assert!(!stored.contains_key("empty"), "blank answers are left out");
        assert_eq!(stored.len(), 9);
        let rfc = answers(&[("at", "2026-03-29T02:30:00+01:00")]);
        assert!(check_answers(&fields, &campus(), &rfc, &[], Submitter::User).is_ok());
    }

    #[test]
    fn a_required_checkbox_must_be_ticked() {
        let f = form(json!([with(
            field("agree", "checkbox"),
            "required",
            json!(true)
        )]));
        assert_eq!(
            problems(&f, &answers(&[("agree", "false")]), Submitter::User),
            ["agree:required"]
        );
        assert!(problems(&f, &answers(&[("agree", "on")]), Submitter::User).is_empty());
    }

    #[test]
    fn earlier_forms_win_a_shared_variable_name() {
        let parent = form(json!([field("room", "short_text")]));
        let mut own = form(json!([field("Room", "number"), field("floor", "number")]));
        own.id = FormId(2);
        let forms = [parent, own];
        let fields = resolve(&forms);
        let kinds: Vec<FieldKind> = fields.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [FieldKind::ShortText, FieldKind::Number]);
        assert_eq!(shared_variable(&forms), Some("Room"));
        assert_eq!(shared_variable(&forms[..1]), None);
    }

    /// Odd input of every shape, against every kind: answered or refused
    /// with a code, never a panic, and what is stored is valid again.
    #[test]
    fn odd_answers_never_panic_and_stored_answers_check_again() {
        let kinds = [
            "short_text",
            "long_text",
            "number",
            "email",
            "phone",
            "date",
            "date_time",
            "checkbox",
            "file",
            "section",
        ];
        let mut fields: Vec<Value> = kinds
            .iter()
            .map(|k| {
                let f = field(k, k);
                match *k {
                    "short_text" => {
                        with(f, "validation", json!({"pattern": "\\w+", "max_length": 8}))
                    }
                    "number" => with(f, "validation", json!({"min": -5, "max": 5})),
                    _ => f,
                }
            })
            .collect();
        fields.push(with(
            with(field("pick", "choice"), "list", json!(4)),
            "multiple",
            json!(true),
        ));
        let f = form(Value::Array(fields));
        let resolved = resolve(std::slice::from_ref(&f));
        let odd = [
            "",
            " ",
            "x",
            "0",
            "-0",
            "+5",
            "5.0000",
            "-5.1",
            "٣",
            "１２",
            "ext",
            "x1",
            "+",
            "a@b.c",
            "@",
            "é@ü.es",
            "2026-13-01",
            "9999-12-31",
            "0000-01-01T00:00",
            "2026-03-29T02:30:00Z",
            ",,,",
            "north,",
            ",south",
            "true",
            "OFF",
            "\u{0}",
            "\u{202e}abc",
            "🙂🙂🙂",
            "(((",
            "a\nb",
            "99999999999999999999999999999999999999999",
        ];
        for name in kinds.iter().copied().chain(["pick"]) {
            for value in odd {
                let given = answers(&[(name, value)]);
                for who in [Submitter::User, Submitter::Agent, Submitter::System] {
                    if let Ok(stored) = check_answers(&resolved, &campus(), &given, &["x"], who) {
                        let again = check_answers(&resolved, &campus(), &stored, &["x"], who);
                        assert_eq!(again.as_ref(), Ok(&stored), "{name} = {value:?}");
                    }
                }
            }
        }
    }
}
