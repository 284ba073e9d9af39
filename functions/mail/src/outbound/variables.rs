//! The typed values a mail is rendered with. Callers fill what the
//! occasion has; the rendering context holds exactly the registry's
//! variables for the template kind, with empty values for whatever the
//! caller left out.

use serde::Serialize;
use serde_json::{Map, Value};
use taquilla_core::sanitize::{self, Body};

use super::kind::TemplateKind;
use super::registry::{self, Vocabulary, get_path};

/// HTML that went through Taquilla's sanitiser. It can only be made by
/// cleaning HTML or escaping text, which is what lets templates insert it
/// with `| safe`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SafeHtml(String);

impl SafeHtml {
    /// `html` with scripts, event handlers and dangerous URLs removed.
    /// Cleaning HTML that was already clean leaves it as it was, so stored
    /// bodies may pass through here again.
    #[must_use]
    pub fn clean(html: &str) -> Self {
        Self(sanitize::clean_html(html))
    }

    /// Plain text as escaped HTML paragraphs with line breaks kept.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        Self(sanitize::text_to_html(text))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The instance the mail speaks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InstanceVars {
    pub name: String,
    /// The portal's address for users.
    pub url: String,
}

/// A person: a user, an agent, a recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonVars {
    pub name: String,
    pub email: String,
}

impl PersonVars {
    #[must_use]
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            email: email.into(),
        }
    }
}

/// The user who opened the ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserVars {
    pub name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

/// The ticket, its values already formatted for the reader (status and
/// priority in the mail's language, dates in the instance's time zone).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TicketVars {
    pub number: String,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub department: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    pub created: String,
    /// The user's magic link; only user mail receives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The agent portal's page; only agent mail receives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

/// A file attached to an entry, as a template lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttachmentVars {
    pub name: String,
    /// Bytes.
    pub size: u64,
}

/// A thread entry: a user's message, an agent's response, an internal note
/// (or the comment left with an assignment or a transfer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EntryVars {
    pub author: String,
    /// Notes only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub body_html: SafeHtml,
    pub body_text: String,
    pub attachments: Vec<AttachmentVars>,
}

impl EntryVars {
    /// An entry whose body is cleaned and turned into text the way the
    /// thread stores bodies.
    #[must_use]
    pub fn new(author: impl Into<String>, body: &Body) -> Self {
        let (html, text) = body.render();
        Self {
            author: author.into(),
            title: None,
            body_html: SafeHtml::clean(&html),
            body_text: text,
            attachments: Vec::new(),
        }
    }

    /// An entry from the two forms a stored entry already has; the HTML is
    /// cleaned again (harmless when it is already clean).
    #[must_use]
    pub fn stored(
        author: impl Into<String>,
        body_html: &str,
        body_text: impl Into<String>,
    ) -> Self {
        Self {
            author: author.into(),
            title: None,
            body_html: SafeHtml::clean(body_html),
            body_text: body_text.into(),
            attachments: Vec::new(),
        }
    }

    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    #[must_use]
    pub fn with_attachments(mut self, attachments: Vec<AttachmentVars>) -> Self {
        self.attachments = attachments;
        self
    }
}

/// A transfer between departments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TransferVars {
    pub from_department: String,
}

/// A task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TaskVars {
    pub number: String,
    pub title: String,
    pub department: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_number: Option<String>,
    pub agent_link: String,
    pub description_html: SafeHtml,
    pub description_text: String,
}

/// Why a message was refused: too many open tickets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LimitVars {
    pub open_tickets: u32,
    pub max_open_tickets: u32,
    /// Subject of the refused message.
    pub subject: String,
}

/// An agent's account, for the welcome and password-reset mails.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountVars {
    pub username: String,
    /// Single-use link to choose a password.
    pub link: String,
    /// When the link expires, formatted for the reader.
    pub expires: String,
}

/// Everything a mail may be rendered with. Fill what the occasion has;
/// [`render`](super::render) keeps only what the template kind may use
/// (see [`registry`](super::registry)) and renders the rest as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Variables {
    pub instance: InstanceVars,
    pub recipient: PersonVars,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketVars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserVars>,
    /// The agent who acted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<PersonVars>,
    /// The agent something was just assigned to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<PersonVars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamVars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<EntryVars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<EntryVars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<EntryVars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferVars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskVars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitVars>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountVars>,
    /// Plain text; templates also get it as `signature_html`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleVars>,
}

/// A team.
/// The mail a rule sends: the rule's name and its own subject and text,
/// expanded for the ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleVars {
    pub name: String,
    pub subject: String,
    pub body_html: SafeHtml,
    pub body_text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TeamVars {
    pub name: String,
}

impl Variables {
    /// The rendering context for `kind`: each of the kind's registry
    /// variables, set from these values or empty. Nothing else is in it.
    #[must_use]
    pub fn context(&self, kind: TemplateKind) -> Map<String, Value> {
        self.context_in(Vocabulary::of(kind))
    }

    /// The rendering context of a text with `vocabulary`, as [`context`](Self::context).
    #[must_use]
    pub fn context_in(&self, vocabulary: Vocabulary) -> Map<String, Value> {
        let mut all = serde_json::to_value(self).unwrap_or(Value::Null);
        if let (Value::Object(map), Some(signature)) = (&mut all, &self.signature) {
            map.insert(
                "signature_html".to_owned(),
                Value::String(SafeHtml::from_text(signature).0),
            );
        }
        registry::context_in(vocabulary, |variable| {
            get_path(&all, variable.name)
                .filter(|value| !value.is_null())
                .cloned()
                .unwrap_or_else(|| registry::empty_value(variable.kind))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_html_is_cleaned_or_escaped() {
        let dirty = SafeHtml::clean("<p onclick=\"x()\">hi<script>alert(1)</script></p>");
        assert_eq!(dirty.as_str(), "<p>hi</p>");
        let text = SafeHtml::from_text("a < b\nc");
        assert_eq!(text.as_str(), "<p>a &lt; b<br>c</p>");
    }

    #[test]
    fn the_context_holds_the_kinds_variables_and_nothing_else() {
        let vars = Variables {
            instance: InstanceVars {
                name: "Secretaria".into(),
                url: "https://example.edu/".into(),
            },
            ticket: Some(TicketVars {
                number: "A-1".into(),
                link: Some("https://example.edu/t/A-1?k=key".into()),
                agent_link: Some("https://example.edu/agents/t/1".into()),
                ..TicketVars::default()
            }),
            signature: Some("Line one\nLine <two>".into()),
            ..Variables::default()
        };
        let user = Value::Object(vars.context(TemplateKind::Response));
        assert_eq!(user["ticket"]["number"], "A-1");
        assert_eq!(user["ticket"]["link"], "https://example.edu/t/A-1?k=key");
        assert!(user["ticket"].get("agent_link").is_none());
        assert_eq!(user["ticket"]["topic"], "", "missing values are empty");
        assert_eq!(user["response"]["attachments"], Value::Array(vec![]));
        assert_eq!(
            user["signature_html"],
            "<p>Line one<br>Line &lt;two&gt;</p>"
        );

        let agent = Value::Object(vars.context(TemplateKind::AlertNewTicket));
        assert!(agent["ticket"].get("link").is_none());
        assert_eq!(
            agent["ticket"]["agent_link"],
            "https://example.edu/agents/t/1"
        );
        assert!(agent.get("signature").is_none());
    }
}
