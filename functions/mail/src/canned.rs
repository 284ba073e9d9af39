//! Canned responses in the mail channel: which variables their bodies may
//! name, the check when one is saved, and the expansion for a ticket.
//!
//! A canned response's body is a template over the variables of the
//! response mail ([`TemplateKind::Response`], the registry's one list),
//! less those that cannot have one value for the stored body: it is kept in
//! the thread and mailed to the user and to every collaborator, so it may
//! not name whoever receives a copy (`recipient.*`) nor the user's magic
//! link (`ticket.link`, their key to the ticket); it *is* the response, so
//! `response.*` does not exist yet; and the portal's address and the
//! signature are the mail's, added around it ([`VOCABULARY`]).
//!
//! Saving ([`create`], [`update`]) cleans the body with the core's
//! sanitiser and checks the result as an instance's own template is
//! checked ([`validate_in`]: `unknown_variable`, `template_syntax`, ...),
//! then stores it through the core (`services::admin::canned`).
//! Expanding ([`expand`]) renders it with the values the response mail
//! would get for that ticket (`dispatch::variables` over the core's
//! `outbox::subject_for`), HTML escaped, then cleaned again.

use taquilla_core::domain::{Author, CannedId, CannedResponse, Entry, EntryId, EntryKind, Ticket};
use taquilla_core::sanitize::{self, Body};
use taquilla_core::services::admin::Versioned;
use taquilla_core::services::admin::canned::{self as store, CannedChanges, NewCanned};
use taquilla_core::services::tickets::NewAttachment;
use taquilla_core::services::{Actor, Ctx, ServiceError, directory, outbox};

use crate::dispatch;
use crate::outbound::registry::Vocabulary;
use crate::outbound::{Part, PersonVars, TemplateKind, TemplateTexts, render_part, validate_in};
use crate::templates::SaveError;

/// The variables a canned response may name (see the module docs).
pub const VOCABULARY: Vocabulary = Vocabulary {
    kind: TemplateKind::Response,
    except: &[
        "recipient.name",
        "recipient.email",
        "ticket.link",
        "response.author",
        "response.body_html",
        "response.body_text",
        "response.attachments",
        "instance.url",
        "signature",
        "signature_html",
    ],
};

/// A body as it is stored: cleaned by the core's sanitiser, in HTML and
/// plain text, each checked as a template over [`VOCABULARY`].
pub fn checked_body(body: &Body) -> Result<(String, String), SaveError> {
    let (mut html, text) = body.render();
    if matches!(body, Body::Text(_)) {
        html = quotes_in_tags(&html);
    }
    validate_in(
        VOCABULARY,
        &TemplateTexts {
            subject: None,
            html: Some(html.clone()),
            text: Some(text.clone()),
        },
    )?;
    Ok((html, text))
}

/// Plain text made HTML has its quotes escaped, also inside template tags
/// (`default(value='x')`), where tera needs them: they are put back there.
/// The HTML made from text is paragraphs and line breaks, without
/// attributes, so a quote cannot end one.
fn quotes_in_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('{') {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let close = match from.get(..2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            _ => {
                out.push('{');
                rest = &from[1..];
                continue;
            }
        };
        match from.find(close) {
            Some(end) => {
                let tag = &from[..end + close.len()];
                out.push_str(&tag.replace("&#39;", "'").replace("&quot;", "\""));
                rest = &from[end + close.len()..];
            }
            None => {
                out.push_str(from);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Creates a canned response whose body is `body`, once checked.
pub async fn create(
    ctx: Ctx<'_>,
    actor: &Actor,
    mut new: NewCanned,
    body: &Body,
) -> Result<Versioned<CannedResponse>, SaveError> {
    new.body = checked_body(body)?;
    Ok(store::create(ctx, actor, new).await?)
}

/// Changes canned response `id`; a new `body` is checked first, `files`
/// replace the attachments.
pub async fn update(
    ctx: Ctx<'_>,
    actor: &Actor,
    id: CannedId,
    mut changes: CannedChanges,
    body: Option<&Body>,
    files: Option<Vec<NewAttachment>>,
) -> Result<Versioned<CannedResponse>, SaveError> {
    if let Some(body) = body {
        changes.body = Some(checked_body(body)?);
    }
    Ok(store::update(ctx, actor, id, changes, files).await?)
}

/// A canned response expanded for a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub canned: CannedResponse,
    /// Sanitised HTML.
    pub html: String,
    pub text: String,
}

impl Expanded {
    /// The canned response's files, read from `Blobs`, for a response.
    pub async fn files(&self, ctx: &Ctx<'_>) -> Result<Vec<NewAttachment>, ServiceError> {
        store::files(ctx, &self.canned).await
    }
}

/// Canned response `id` expanded for `ticket` (as `actor` sees it): the
/// actor must see the canned response, which must be active and of the
/// ticket's department or of all (else `NotFound`).
pub async fn expand(
    ctx: Ctx<'_>,
    actor: &Actor,
    ticket: &Ticket,
    id: CannedId,
) -> Result<Expanded, SaveError> {
    let canned = store::usable(ctx, actor, id, ticket.department).await?;
    let instance = directory::instance(ctx.store, ctx.instance).await?;
    // The response about to be written, by whoever writes it.
    let author = match actor {
        Actor::Agent(access) => Author::Agent(access.agent.id),
        _ => Author::System(instance.name.clone()),
    };
    let entry = Entry {
        id: EntryId::generate(),
        kind: EntryKind::Response,
        author,
        body_html: String::new(),
        body_text: String::new(),
        attachments: Vec::new(),
        event: None,
        data: std::collections::BTreeMap::new(),
        created_at: ctx.clock.now_ms(),
    };
    let subject = outbox::subject_for(&ctx, instance, ticket.clone(), entry).await?;
    let recipient = PersonVars::new(
        subject.user.name.clone(),
        subject.user.primary_email().unwrap_or_default(),
    );
    // `instance.url` is not in the vocabulary: no portal address is needed.
    let variables = dispatch::variables(&subject, TemplateKind::Response, recipient, "");
    let rendered = render_part(VOCABULARY, Part::Html, &canned.body_html, &variables)?;
    let html = sanitize::clean_html(&rendered);
    let text = sanitize::html_to_text(&html);
    Ok(Expanded { canned, html, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &Body) -> Option<&'static str> {
        match checked_body(body) {
            Ok(_) => None,
            Err(SaveError::Template(e)) => Some(e.code()),
            Err(SaveError::Service(e)) => Some(e.code()),
        }
    }

    #[test]
    fn the_response_s_variables_are_allowed_but_those_of_one_copy() {
        for fine in [
            "<p>Hello {{ user.name }}, ticket {{ ticket.number }}</p>",
            "{% if ticket.topic %}{{ ticket.topic }}{% endif %} {{ agent.name }}",
            "Dear {{ user.name | default(value='user') }},\n\n{{ instance.name }}",
        ] {
            let body = if fine.starts_with('<') {
                Body::Html(fine.into())
            } else {
                Body::Text(fine.into())
            };
            assert_eq!(code(&body), None, "{fine}");
        }
        for (refused, expected) in [
            ("{{ ticket.link }}", "unknown_variable"),
            ("{{ recipient.name }}", "unknown_variable"),
            ("{{ response.body_text }}", "unknown_variable"),
            ("{{ nobody.knows }}", "unknown_variable"),
            ("{{ now() }}", "function_not_allowed"),
            ("{{ user.name ", "template_syntax"),
        ] {
            assert_eq!(
                code(&Body::Html(format!("<p>{refused}</p>"))),
                Some(expected),
                "{refused}"
            );
        }
    }

    #[test]
    fn quotes_come_back_inside_tags_only() {
        assert_eq!(
            quotes_in_tags(
                "<p>&#39;a&#39; {{ x | default(value=&#39;y&#39;) }} {% if &quot;{% %}</p>"
            ),
            "<p>&#39;a&#39; {{ x | default(value='y') }} {% if \"{% %}</p>"
        );
        assert_eq!(quotes_in_tags("{ {{ &#39;"), "{ {{ &#39;");
    }

    #[test]
    fn bodies_are_stored_clean() {
        let (html, text) = checked_body(&Body::Html(
            "<p onclick=\"x()\">Hi {{ user.name }}<script>1</script></p>".into(),
        ))
        .map_err(|e| e.to_string())
        .unwrap_or_default();
        assert_eq!(html, "<p>Hi {{ user.name }}</p>");
        assert_eq!(text, "Hi {{ user.name }}");
    }
}
