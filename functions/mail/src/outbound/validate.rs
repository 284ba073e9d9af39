//! Checking a template before it is saved: it must parse, name only the
//! registry's variables for its kind, use `| safe` only on sanitised HTML,
//! call no functions and render with every variable set and with every
//! variable empty. A template that passes cannot fail at send time.
//!
//! The check walks tera 1.x's public AST (`tera::ast`), so variables inside
//! `if` and `for` blocks, filter arguments, tests and `set` values are all
//! seen; loop variables, `loop.*` and names set by `{% set %}` are allowed
//! where they are in scope.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tera::ast::{Expr, ExprVal, Node};
use tera::{Context, Tera};
use thiserror::Error;

use super::kind::{Part, TemplateKind};
use super::registry::{self, Field, VarKind, Vocabulary};

/// Longest subject template, in bytes.
pub const MAX_SUBJECT_BYTES: usize = 1_000;
/// Longest body template (HTML or text), in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An instance's own texts for a template: each part replaces the built-in
/// one; `None` (or only whitespace) keeps the built-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateTexts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl TemplateTexts {
    /// The text given for `part`, unless it is missing or blank.
    #[must_use]
    pub fn get(&self, part: Part) -> Option<&str> {
        match part {
            Part::Subject => self.subject.as_deref(),
            Part::Html => self.html.as_deref(),
            Part::Text => self.text.as_deref(),
        }
        .filter(|text| !text.trim().is_empty())
    }
}

/// Why a template was refused. Each variant has a stable [`code`](TemplateError::code).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// The text is not a tera template.
    #[error("{part}: syntax error: {message}")]
    Syntax { part: Part, message: String },
    /// The template names a variable this kind does not have.
    #[error("{part}: unknown variable `{name}` for this template")]
    UnknownVariable { part: Part, name: String },
    /// `| safe` on something that is not sanitised HTML.
    #[error("{part}: `{name}` is not sanitised HTML and cannot be marked safe")]
    UnsafeHtml { part: Part, name: String },
    /// An HTML variable in the subject or the plain-text body.
    #[error("{part}: `{name}` is HTML; use its plain-text form here")]
    HtmlInPlainPart { part: Part, name: String },
    /// `extends`, `include`, `import`, `macro`, `block` or `super()`:
    /// a mail template stands alone.
    #[error("{part}: `{tag}` is not available in mail templates")]
    UnsupportedTag { part: Part, tag: String },
    /// A function call (`now()`, `get_env()`, …): templates only format
    /// the values they are given.
    #[error("{part}: function `{name}` is not available in mail templates")]
    FunctionNotAllowed { part: Part, name: String },
    /// A filter tera does not have.
    #[error("{part}: unknown filter `{name}`")]
    UnknownFilter { part: Part, name: String },
    /// A test (`is …`) tera does not have.
    #[error("{part}: unknown test `{name}`")]
    UnknownTest { part: Part, name: String },
    /// The part is longer than its limit.
    #[error("{part}: longer than {max} bytes")]
    TooLong { part: Part, max: usize },
    /// The template fails when rendered (e.g. arithmetic on an empty value).
    #[error("{part}: cannot be rendered: {message}")]
    Render { part: Part, message: String },
}

impl TemplateError {
    /// Stable snake_case code for APIs and logs.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            TemplateError::Syntax { .. } => "template_syntax",
            TemplateError::UnknownVariable { .. } => "unknown_variable",
            TemplateError::UnsafeHtml { .. } => "unsafe_html",
            TemplateError::HtmlInPlainPart { .. } => "html_in_plain_part",
            TemplateError::UnsupportedTag { .. } => "unsupported_tag",
            TemplateError::FunctionNotAllowed { .. } => "function_not_allowed",
            TemplateError::UnknownFilter { .. } => "unknown_filter",
            TemplateError::UnknownTest { .. } => "unknown_test",
            TemplateError::TooLong { .. } => "template_too_long",
            TemplateError::Render { .. } => "template_render",
        }
    }

    /// The part the error is in.
    #[must_use]
    pub fn part(&self) -> Part {
        match self {
            TemplateError::Syntax { part, .. }
            | TemplateError::UnknownVariable { part, .. }
            | TemplateError::UnsafeHtml { part, .. }
            | TemplateError::HtmlInPlainPart { part, .. }
            | TemplateError::UnsupportedTag { part, .. }
            | TemplateError::FunctionNotAllowed { part, .. }
            | TemplateError::UnknownFilter { part, .. }
            | TemplateError::UnknownTest { part, .. }
            | TemplateError::TooLong { part, .. }
            | TemplateError::Render { part, .. } => *part,
        }
    }
}

/// Checks an instance's texts for `kind` before they are saved; every part
/// given is checked (see the module docs), the first problem is returned.
pub fn validate_template(kind: TemplateKind, parts: &TemplateTexts) -> Result<(), TemplateError> {
    validate_in(Vocabulary::of(kind), parts)
}

/// Checks texts that may name the variables of `vocabulary` (a template
/// kind's, or a canned response's), as [`validate_template`] does.
pub fn validate_in(vocabulary: Vocabulary, parts: &TemplateTexts) -> Result<(), TemplateError> {
    for part in Part::ALL {
        if let Some(text) = parts.get(part) {
            check_in(vocabulary, part, text)?;
            trial_render(vocabulary, part, text)?;
        }
    }
    Ok(())
}

/// The static checks (no rendering): size, syntax, variables, tags,
/// functions, filters, tests.
pub(crate) fn check(kind: TemplateKind, part: Part, text: &str) -> Result<(), TemplateError> {
    check_in(Vocabulary::of(kind), part, text)
}

/// [`check`] for the variables of `vocabulary`.
pub(crate) fn check_in(
    vocabulary: Vocabulary,
    part: Part,
    text: &str,
) -> Result<(), TemplateError> {
    let kind = vocabulary.kind;
    let max = match part {
        Part::Subject => MAX_SUBJECT_BYTES,
        Part::Html | Part::Text => MAX_BODY_BYTES,
    };
    if text.len() > max {
        return Err(TemplateError::TooLong { part, max });
    }
    let template = tera::Template::new(&template_name(kind, part), None, text).map_err(|e| {
        TemplateError::Syntax {
            part,
            message: error_chain(&e),
        }
    })?;
    let tera = Tera::default();
    let mut walker = Walker {
        vocabulary,
        part,
        tera: &tera,
        scopes: vec![HashMap::new()],
    };
    walker.nodes(&template.ast)
}

/// Renders `text` once with every variable set to its example and once with
/// every variable empty, so a template that would fail at send time (an
/// unknown filter argument, arithmetic on an empty value) fails now.
fn trial_render(vocabulary: Vocabulary, part: Part, text: &str) -> Result<(), TemplateError> {
    let kind = vocabulary.kind;
    let examples = registry::context_in(vocabulary, registry::example_value);
    let empties = registry::context_in(vocabulary, |v| registry::empty_value(v.kind));
    for values in [examples, empties] {
        let context =
            Context::from_value(Value::Object(values)).map_err(|e| TemplateError::Render {
                part,
                message: error_chain(&e),
            })?;
        render_text(kind, part, text, &context)?;
    }
    Ok(())
}

/// Renders one part given as text (an instance's own), with HTML escaping
/// for the HTML part.
pub(crate) fn render_text(
    kind: TemplateKind,
    part: Part,
    text: &str,
    context: &Context,
) -> Result<String, TemplateError> {
    let name = template_name(kind, part);
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html"]);
    tera.add_raw_template(&name, text)
        .map_err(|e| TemplateError::Syntax {
            part,
            message: error_chain(&e),
        })?;
    tera.render(&name, context)
        .map_err(|e| TemplateError::Render {
            part,
            message: error_chain(&e),
        })
}

/// The name a part is compiled under; its extension decides escaping.
pub(crate) fn template_name(kind: TemplateKind, part: Part) -> String {
    format!("{kind}.{}", part.extension())
}

/// A tera error with its causes, which hold the useful part (line, name).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A name a template introduced itself.
#[derive(Debug, Clone, Copy)]
enum Local {
    /// `{% set %}` or a loop over something that is not a registry list.
    Any,
    /// A loop over a registry list: a record with these fields.
    Record(&'static [Field]),
    /// `loop` inside a `for`.
    LoopMeta,
}

/// One step of a variable reference: `.name`, `[0]`, `["name"]` or
/// `[other.variable]`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    Index,
    Dynamic,
}

struct Walker<'a> {
    vocabulary: Vocabulary,
    part: Part,
    tera: &'a Tera,
    scopes: Vec<HashMap<String, Local>>,
}

impl Walker<'_> {
    fn nodes(&mut self, nodes: &[Node]) -> Result<(), TemplateError> {
        nodes.iter().try_for_each(|node| self.node(node))
    }

    fn node(&mut self, node: &Node) -> Result<(), TemplateError> {
        match node {
            Node::Text(_)
            | Node::Raw(..)
            | Node::Comment(..)
            | Node::Break(_)
            | Node::Continue(_) => Ok(()),
            Node::VariableBlock(_, expr) => self.expr(expr),
            Node::Set(_, set) => {
                self.expr(&set.value)?;
                let scope = if set.global {
                    self.scopes.first_mut()
                } else {
                    self.scopes.last_mut()
                };
                if let Some(scope) = scope {
                    scope.insert(set.key.clone(), Local::Any);
                }
                Ok(())
            }
            Node::FilterSection(_, section, _) => {
                self.filter(&section.filter)?;
                self.nodes(&section.body)
            }
            Node::Forloop(_, forloop, _) => {
                self.expr(&forloop.container)?;
                let item = match &forloop.container.val {
                    ExprVal::Ident(ident) if forloop.container.filters.is_empty() => {
                        match self.vocabulary.lookup(ident).map(|v| v.kind) {
                            Some(VarKind::List(fields)) => Local::Record(fields),
                            _ => Local::Any,
                        }
                    }
                    _ => Local::Any,
                };
                let mut scope = HashMap::new();
                scope.insert("loop".to_owned(), Local::LoopMeta);
                if let Some(key) = &forloop.key {
                    scope.insert(key.clone(), Local::Any);
                }
                scope.insert(forloop.value.clone(), item);
                self.scopes.push(scope);
                let body = self.nodes(&forloop.body);
                self.scopes.pop();
                body?;
                if let Some(empty) = &forloop.empty_body {
                    self.nodes(empty)?;
                }
                Ok(())
            }
            Node::If(branches, _) => {
                for (_, condition, body) in &branches.conditions {
                    self.expr(condition)?;
                    self.nodes(body)?;
                }
                if let Some((_, body)) = &branches.otherwise {
                    self.nodes(body)?;
                }
                Ok(())
            }
            Node::Super => self.unsupported("super"),
            Node::MacroDefinition(..) => self.unsupported("macro"),
            Node::Extends(..) => self.unsupported("extends"),
            Node::Include(..) => self.unsupported("include"),
            Node::ImportMacro(..) => self.unsupported("import"),
            Node::Block(..) => self.unsupported("block"),
        }
    }

    fn unsupported(&self, tag: &str) -> Result<(), TemplateError> {
        Err(TemplateError::UnsupportedTag {
            part: self.part,
            tag: tag.to_owned(),
        })
    }

    fn expr(&self, expr: &Expr) -> Result<(), TemplateError> {
        self.value(&expr.val)?;
        for filter in &expr.filters {
            self.filter(filter)?;
        }
        if expr.filters.iter().any(|f| f.name == "safe") {
            self.check_safe(expr)?;
        }
        Ok(())
    }

    /// `| safe` is allowed on a sanitised HTML variable of the kind, in the
    /// HTML part, when no filter on the way takes a variable (which could
    /// splice unescaped text into it).
    fn check_safe(&self, expr: &Expr) -> Result<(), TemplateError> {
        let name = match &expr.val {
            ExprVal::Ident(ident) => ident.clone(),
            _ => "expression".to_owned(),
        };
        let unsafe_html = || TemplateError::UnsafeHtml {
            part: self.part,
            name: name.clone(),
        };
        let is_html = self
            .vocabulary
            .lookup(&name)
            .is_some_and(|v| v.kind == VarKind::Html)
            && !self.is_local(&name);
        let literal_arguments = expr
            .filters
            .iter()
            .flat_map(|f| f.args.values())
            .all(|arg| is_literal(&arg.val) && arg.filters.is_empty());
        if is_html && self.part == Part::Html && literal_arguments {
            Ok(())
        } else {
            Err(unsafe_html())
        }
    }

    fn filter(&self, filter: &tera::ast::FunctionCall) -> Result<(), TemplateError> {
        let known = matches!(filter.name.as_str(), "safe" | "default")
            || self.tera.get_filter(&filter.name).is_ok();
        if !known {
            return Err(TemplateError::UnknownFilter {
                part: self.part,
                name: filter.name.clone(),
            });
        }
        filter.args.values().try_for_each(|arg| self.expr(arg))
    }

    fn value(&self, value: &ExprVal) -> Result<(), TemplateError> {
        match value {
            ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => Ok(()),
            ExprVal::Ident(ident) => self.ident(ident),
            ExprVal::Math(math) => {
                self.expr(&math.lhs)?;
                self.expr(&math.rhs)
            }
            ExprVal::Logic(logic) => {
                self.expr(&logic.lhs)?;
                self.expr(&logic.rhs)
            }
            ExprVal::In(contains) => {
                self.expr(&contains.lhs)?;
                self.expr(&contains.rhs)
            }
            ExprVal::Test(test) => {
                self.ident(&test.ident)?;
                if self.tera.get_tester(&test.name).is_err() {
                    return Err(TemplateError::UnknownTest {
                        part: self.part,
                        name: test.name.clone(),
                    });
                }
                test.args.iter().try_for_each(|arg| self.expr(arg))
            }
            ExprVal::Array(items) => items.iter().try_for_each(|item| self.expr(item)),
            ExprVal::StringConcat(concat) => {
                concat.values.iter().try_for_each(|value| self.value(value))
            }
            ExprVal::MacroCall(_) => self.unsupported("macro"),
            ExprVal::FunctionCall(call) => Err(TemplateError::FunctionNotAllowed {
                part: self.part,
                name: call.name.clone(),
            }),
        }
    }

    fn is_local(&self, name: &str) -> bool {
        let base = name.split(['.', '[']).next().unwrap_or(name);
        self.local(base).is_some()
    }

    fn local(&self, name: &str) -> Option<Local> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).copied())
    }

    /// Checks a variable reference such as `ticket.number`,
    /// `message.attachments[0].name`, `item.size` or `loop.index`.
    fn ident(&self, ident: &str) -> Result<(), TemplateError> {
        let part = self.part;
        let unknown = || TemplateError::UnknownVariable {
            part,
            name: ident.to_owned(),
        };
        let (segments, nested) = split_ident(ident).ok_or_else(unknown)?;
        for inner in &nested {
            self.ident(inner)?;
        }
        let Some(Segment::Name(base)) = segments.first() else {
            return Err(unknown());
        };
        let rest = &segments[1..];
        if let Some(local) = self.local(base) {
            let fine = match local {
                Local::Any => true,
                Local::LoopMeta => match rest {
                    [] => true,
                    [Segment::Name(field)] => {
                        matches!(field.as_str(), "index" | "index0" | "first" | "last")
                    }
                    _ => false,
                },
                Local::Record(fields) => record_access(fields, rest),
            };
            return if fine { Ok(()) } else { Err(unknown()) };
        }
        // The longest run of plain names that is a registry variable.
        let mut path = String::new();
        for (i, segment) in segments.iter().enumerate() {
            let Segment::Name(name) = segment else {
                return Err(unknown());
            };
            if i > 0 {
                path.push('.');
            }
            path.push_str(name);
            if let Some(variable) = self.vocabulary.lookup(&path) {
                let rest = &segments[i + 1..];
                let fine = match variable.kind {
                    VarKind::List(fields) => match rest {
                        [] => true,
                        [Segment::Index | Segment::Dynamic, tail @ ..] => {
                            tail.is_empty() || record_access(fields, tail)
                        }
                        _ => false,
                    },
                    _ => rest.is_empty(),
                };
                if !fine {
                    return Err(unknown());
                }
                if variable.kind == VarKind::Html && self.part != Part::Html {
                    return Err(TemplateError::HtmlInPlainPart {
                        part: self.part,
                        name: ident.to_owned(),
                    });
                }
                return Ok(());
            }
        }
        if self.vocabulary.is_record(&path) {
            Ok(())
        } else {
            Err(unknown())
        }
    }
}

/// `fields` accessed as `.field` (or `["field"]`), or as the whole record.
fn record_access(fields: &[Field], rest: &[Segment]) -> bool {
    match rest {
        [] => true,
        [Segment::Name(name)] => fields.iter().any(|f| f.name == name),
        _ => false,
    }
}

fn is_literal(value: &ExprVal) -> bool {
    matches!(
        value,
        ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_)
    )
}

/// Splits a tera identifier into segments, with the identifiers used inside
/// brackets listed apart; `None` if it is malformed.
fn split_ident(ident: &str) -> Option<(Vec<Segment>, Vec<String>)> {
    let mut segments = Vec::new();
    let mut nested = Vec::new();
    let mut chars = ident.chars().peekable();
    let mut current = String::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                push_name(&mut segments, &mut current)?;
            }
            '[' => {
                if !current.is_empty() {
                    push_name(&mut segments, &mut current)?;
                }
                let mut inner = String::new();
                let mut depth = 1;
                for c in chars.by_ref() {
                    match c {
                        '[' => depth += 1,
                        ']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    inner.push(c);
                }
                if depth != 0 {
                    return None;
                }
                let inner = inner.trim();
                let quoted = inner.len() >= 2
                    && ['"', '\'', '`']
                        .iter()
                        .any(|q| inner.starts_with(*q) && inner.ends_with(*q));
                if quoted {
                    segments.push(Segment::Name(inner[1..inner.len() - 1].to_owned()));
                } else if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                    segments.push(Segment::Index);
                } else if inner.is_empty() {
                    return None;
                } else {
                    nested.push(inner.to_owned());
                    segments.push(Segment::Dynamic);
                }
                if chars.peek() == Some(&'.') {
                    chars.next();
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        push_name(&mut segments, &mut current)?;
    }
    Some((segments, nested))
}

fn push_name(segments: &mut Vec<Segment>, current: &mut String) -> Option<()> {
    if current.is_empty() {
        return None;
    }
    let name = std::mem::take(current);
    if name.bytes().all(|b| b.is_ascii_digit()) {
        segments.push(Segment::Index);
    } else {
        segments.push(Segment::Name(name));
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(text: &str) -> TemplateTexts {
        TemplateTexts {
            html: Some(text.to_owned()),
            ..TemplateTexts::default()
        }
    }

    fn subject(text: &str) -> TemplateTexts {
        TemplateTexts {
            subject: Some(text.to_owned()),
            ..TemplateTexts::default()
        }
    }

    fn code(kind: TemplateKind, parts: &TemplateTexts) -> Option<&'static str> {
        validate_template(kind, parts).err().map(|e| e.code())
    }

    #[test]
    fn identifiers_split_into_segments() {
        let (segments, nested) = split_ident("a.b[0].c").unwrap();
        assert_eq!(
            segments,
            [
                Segment::Name("a".into()),
                Segment::Name("b".into()),
                Segment::Index,
                Segment::Name("c".into())
            ]
        );
        assert!(nested.is_empty());
        let (segments, nested) = split_ident("a[\"b\"][c.d]").unwrap();
        assert_eq!(
            segments,
            [
                Segment::Name("a".into()),
                Segment::Name("b".into()),
                Segment::Dynamic
            ]
        );
        assert_eq!(nested, ["c.d"]);
        assert!(split_ident("a[").is_none());
        assert!(split_ident("a..b").is_none());
    }

    #[test]
    fn known_variables_anywhere_are_accepted() {
        let k = TemplateKind::Response;
        let good = [
            "{{ ticket.number }} {{ user.name | upper }}",
            "{% if ticket.due %}{{ ticket.due }}{% else %}-{% endif %}",
            "{% if ticket %}{{ ticket[\"subject\"] }}{% endif %}",
            "{% for a in response.attachments %}{{ loop.index }} {{ a.name }} {{ a.size | filesizeformat }}{% endfor %}",
            "{{ response.attachments[0].name | default(value=\"\") }}",
            "{% set who = agent.name %}{{ who }}",
            "{{ response.body_html | safe }}",
            "{{ ticket.subject | truncate(length=20) }} {{ 'x' ~ ticket.number }}",
            "{% if ticket.priority is starting_with(\"U\") %}!{% endif %}",
            "{% for x in [1, 2] %}{{ x }}{% endfor %}",
            "{% filter upper %}{{ user.name }}{% endfilter %}",
            "{% raw %}{{ not_a_variable }}{% endraw %}",
        ];
        for text in good {
            assert_eq!(validate_template(k, &html(text)), Ok(()), "{text}");
        }
    }

    #[test]
    fn unknown_variables_are_refused_wherever_they_hide() {
        let k = TemplateKind::Response;
        let bad = [
            "{{ ticket.secret }}",
            "{{ ticket.number.more }}",
            "{% if nobody %}x{% endif %}",
            "{% for a in response.attachments %}{{ a.path }}{% endfor %}",
            "{% for a in response.attachments %}{% endfor %}{{ a }}",
            "{{ ticket.subject | replace(from=\"a\", to=secret) }}",
            "{{ ticket.agent_link }}",
            "{{ ticket[key] }}",
            "{{ loop.index }}",
            "{{ __tera_context }}",
            "{% if user.name is containing(hidden) %}{% endif %}",
        ];
        for text in bad {
            assert_eq!(
                code(k, &html(text)),
                Some("unknown_variable"),
                "{text} was not refused as unknown"
            );
        }
        let err = validate_template(k, &subject("Re: {{ ticket.nmber }}")).unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownVariable {
                part: Part::Subject,
                name: "ticket.nmber".into()
            }
        );
    }

    #[test]
    fn safe_is_only_for_sanitised_html_in_the_html_part() {
        let k = TemplateKind::Response;
        for text in [
            "{{ user.name | safe }}",
            "{{ response.body_text | safe }}",
            "{{ response.body_html | replace(from=\"a\", to=user.name) | safe }}",
            "{% set x = user.name %}{{ x | safe }}",
        ] {
            assert_eq!(code(k, &html(text)), Some("unsafe_html"), "{text}");
        }
        let text_part = TemplateTexts {
            text: Some("{{ response.body_html }}".into()),
            ..TemplateTexts::default()
        };
        assert_eq!(code(k, &text_part), Some("html_in_plain_part"));
    }

    #[test]
    fn tags_functions_and_unknown_filters_are_refused() {
        let k = TemplateKind::Response;
        let cases = [
            ("{% extends \"base.html\" %}", "unsupported_tag"),
            ("{% include \"x\" %}", "unsupported_tag"),
            ("{% macro m() %}x{% endmacro %}", "unsupported_tag"),
            ("{% block b %}x{% endblock %}", "unsupported_tag"),
            (
                "{{ get_env(name=\"TAQUILLA_MASTER_KEY\") }}",
                "function_not_allowed",
            ),
            ("{{ now() }}", "function_not_allowed"),
            ("{{ user.name | shout }}", "unknown_filter"),
            ("{% if user.name is loud %}{% endif %}", "unknown_test"),
            ("{{ user.name ", "template_syntax"),
            ("{{ limit.open_tickets + 1 }}", "unknown_variable"),
        ];
        for (text, expected) in cases {
            assert_eq!(code(k, &html(text)), Some(expected), "{text}");
        }
        let long = "x".repeat(MAX_SUBJECT_BYTES + 1);
        assert_eq!(code(k, &subject(&long)), Some("template_too_long"));
    }

    #[test]
    fn what_would_fail_at_send_time_fails_now() {
        // Fine with the example (a number) but not when the value is missing.
        let k = TemplateKind::OverLimitNotice;
        let err = validate_template(k, &html("{{ limit.open_tickets + 1 }}")).unwrap_err();
        assert_eq!(err.code(), "template_render");
        assert_eq!(err.part(), Part::Html);
        assert_eq!(
            validate_template(
                k,
                &html("{{ limit.open_tickets }} / {{ limit.max_open_tickets }}")
            ),
            Ok(())
        );
    }

    #[test]
    fn blank_parts_keep_the_builtin_and_are_not_checked() {
        let parts = TemplateTexts {
            subject: Some("  ".into()),
            html: None,
            text: Some(String::new()),
        };
        assert_eq!(parts.get(Part::Subject), None);
        assert_eq!(validate_template(TemplateKind::Response, &parts), Ok(()));
    }
}
