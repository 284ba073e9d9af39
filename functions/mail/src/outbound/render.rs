//! Rendering a template: an instance's own texts where it has them, the
//! built-in ones elsewhere, with the values the registry allows.

use std::sync::OnceLock;

use serde_json::{Map, Value};
use taquilla_core::domain::instance::Language;
use tera::{Context, Tera};

use super::builtin::{BUILTIN, LANGUAGES, LAYOUT};
use super::kind::{Part, TemplateKind, language_tag};
use super::registry::Vocabulary;
use super::validate::{self, TemplateError, TemplateTexts, error_chain};
use super::variables::Variables;

/// A rendered mail, ready for [`compose`](super::compose).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line, whitespace collapsed.
    pub subject: String,
    /// A whole HTML document: the layout around the template's body.
    pub html: String,
    /// Plain text, `\n` line ends, ending with one line break.
    pub text: String,
    /// An instance's own parts that could not be used (they no longer pass
    /// the checks or failed to render); the built-in part was used instead,
    /// so the mail still goes out. Callers should tell an administrator.
    pub refused: Vec<TemplateError>,
}

/// Renders `kind` in `language`.
///
/// Each part comes from `overrides` when it has one and from the built-in
/// template otherwise. Values missing from `variables` render as empty.
/// An own part that fails is replaced by the built-in one and reported in
/// [`Rendered::refused`]; an error is returned only if a built-in template
/// fails, which the crate's tests rule out.
pub fn render(
    kind: TemplateKind,
    language: Language,
    overrides: &TemplateTexts,
    variables: &Variables,
) -> Result<Rendered, TemplateError> {
    let values = variables.context(kind);
    let context = context(values, Part::Html)?;
    let mut refused = Vec::new();
    let mut part_text = |part: Part| -> Result<String, TemplateError> {
        if let Some(own) = overrides.get(part) {
            match validate::check(kind, part, own)
                .and_then(|()| validate::render_text(kind, part, own, &context))
            {
                Ok(rendered) => return Ok(rendered),
                Err(error) => {
                    tracing::warn!(
                        template = %kind,
                        %part,
                        code = error.code(),
                        %error,
                        "instance template refused; the built-in one is used"
                    );
                    refused.push(error);
                }
            }
        }
        render_builtin(kind, language, part, &context)
    };
    let subject = one_line(&part_text(Part::Subject)?);
    let body = part_text(Part::Html)?;
    let text = tidy_text(&part_text(Part::Text)?);
    let html = layout(language, &subject, &body, variables)?;
    Ok(Rendered {
        subject,
        html,
        text,
        refused,
    })
}

/// Renders one part of a text that may name the variables of `vocabulary`
/// (a canned response's body), checked first as it was when saved. HTML is
/// escaped in the HTML part; no layout is added.
pub fn render_part(
    vocabulary: Vocabulary,
    part: Part,
    text: &str,
    variables: &Variables,
) -> Result<String, TemplateError> {
    validate::check_in(vocabulary, part, text)?;
    let context = context(variables.context_in(vocabulary), part)?;
    validate::render_text(vocabulary.kind, part, text, &context)
}

fn context(values: Map<String, Value>, part: Part) -> Result<Context, TemplateError> {
    Context::from_value(Value::Object(values)).map_err(|e| TemplateError::Render {
        part,
        message: error_chain(&e),
    })
}

/// The built-in templates, compiled once.
fn builtin_tera() -> Result<&'static Tera, TemplateError> {
    static TERA: OnceLock<Result<Tera, String>> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html"]);
        let mut templates = vec![("layout.html".to_owned(), LAYOUT)];
        for (kind, _, texts) in BUILTIN {
            for (language, texts) in LANGUAGES.iter().zip(texts) {
                for part in Part::ALL {
                    templates.push((builtin_name(*kind, *language, part), texts.get(part)));
                }
            }
        }
        tera.add_raw_templates(templates)
            .map(|()| tera)
            .map_err(|e| error_chain(&e))
    })
    .as_ref()
    .map_err(|message| TemplateError::Syntax {
        part: Part::Html,
        message: message.clone(),
    })
}

fn builtin_name(kind: TemplateKind, language: Language, part: Part) -> String {
    format!("{}/{kind}.{}", language_tag(language), part.extension())
}

fn render_builtin(
    kind: TemplateKind,
    language: Language,
    part: Part,
    context: &Context,
) -> Result<String, TemplateError> {
    builtin_tera()?
        .render(&builtin_name(kind, language, part), context)
        .map_err(|e| TemplateError::Render {
            part,
            message: error_chain(&e),
        })
}

/// The layout around an HTML body; it only needs the language, the
/// subject (as the document's title) and the instance's name.
fn layout(
    language: Language,
    subject: &str,
    body: &str,
    variables: &Variables,
) -> Result<String, TemplateError> {
    let mut context = Context::new();
    context.insert("lang", language_tag(language));
    context.insert("subject", subject);
    context.insert("instance_name", &variables.instance.name);
    context.insert("body", body.trim());
    builtin_tera()?
        .render("layout.html", &context)
        .map_err(|e| TemplateError::Render {
            part: Part::Html,
            message: error_chain(&e),
        })
}

/// A subject on one line: line breaks and runs of whitespace become one
/// space (a value with a line break must not break the header).
fn one_line(subject: &str) -> String {
    subject.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Plain text with `\n` line ends, no trailing spaces, at most one blank
/// line in a row (conditionals leave some), ending with one line break.
fn tidy_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::variables::{InstanceVars, PersonVars, TicketVars};
    use super::*;

    fn vars() -> Variables {
        Variables {
            instance: InstanceVars {
                name: "Servei d'Informàtica".into(),
                url: "https://example.edu/si/".into(),
            },
            recipient: PersonVars::new("Ana <Admin>", "ana@example.edu"),
            ticket: Some(TicketVars {
                number: "SI-1".into(),
                subject: "Wi-Fi\r\nBcc: evil@example.com".into(),
                ..TicketVars::default()
            }),
            ..Variables::default()
        }
    }

    #[test]
    fn subjects_are_one_line_and_html_escapes_user_values() {
        let rendered = render(
            TemplateKind::TicketClosed,
            Language::En,
            &TemplateTexts::default(),
            &vars(),
        )
        .unwrap();
        assert!(
            !rendered.subject.contains(['\r', '\n']),
            "{}",
            rendered.subject
        );
        assert!(rendered.subject.contains("Wi-Fi Bcc: evil@example.com"));
        assert!(rendered.html.contains("Ana &lt;Admin&gt;"));
        assert!(!rendered.html.contains("Ana <Admin>"));
        assert!(rendered.text.contains("Ana <Admin>"));
        assert!(rendered.html.starts_with("<!DOCTYPE html>"));
        assert!(rendered.html.contains("lang=\"en\""));
        assert!(rendered.refused.is_empty());
    }

    #[test]
    fn own_parts_replace_builtin_ones_and_broken_ones_fall_back() {
        let overrides = TemplateTexts {
            subject: Some("[{{ ticket.number }}] Tancat".into()),
            html: Some("<p>{{ ticket.secret }}</p>".into()),
            text: None,
        };
        let rendered = render(
            TemplateKind::TicketClosed,
            Language::Ca,
            &overrides,
            &vars(),
        )
        .unwrap();
        assert_eq!(rendered.subject, "[SI-1] Tancat");
        assert_eq!(rendered.refused.len(), 1);
        assert_eq!(rendered.refused[0].code(), "unknown_variable");
        let subject_only = TemplateTexts {
            html: None,
            ..overrides
        };
        let builtin_body = render(
            TemplateKind::TicketClosed,
            Language::Ca,
            &subject_only,
            &vars(),
        )
        .unwrap();
        assert!(builtin_body.refused.is_empty());
        assert_eq!(rendered.html, builtin_body.html);
        assert!(rendered.html.contains("s'ha tancat"));
    }

    #[test]
    fn text_is_tidied() {
        assert_eq!(tidy_text("\n\na  \r\n\r\n\r\n\nb\n\n"), "a\n\nb\n");
        assert_eq!(one_line("  a\n b\t c "), "a b c");
    }
}
