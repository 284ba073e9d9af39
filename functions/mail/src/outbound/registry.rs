//! The variable registry: every variable a mail template may name, what it
//! holds, and which template kinds may use it. This is the one list; the
//! typed [`Variables`](super::Variables) fill it, [`validate_template`]
//! refuses templates that step outside it, and the admin pages can show it
//! to whoever edits a template.
//!
//! Why per kind: a user's mail must never carry the agent portal's link,
//! and an agent's alert must never carry the user's magic link (it is the
//! user's key to the ticket). A variable absent from a kind's list is
//! absent from its rendering context too, so not even an unchecked template
//! could reach it.
//!
//! [`validate_template`]: super::validate_template

use serde_json::{Map, Value};

use super::kind::TemplateKind;

/// What a variable holds, which decides how a template may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    /// Plain text from people or configuration: escaped in HTML.
    Text,
    /// An absolute URL (`https://…`): escaped in HTML, fit for `href`.
    Url,
    /// A whole number.
    Number,
    /// HTML already sanitised by Taquilla: the only values a template may
    /// insert with `| safe`, and only into the HTML part.
    Html,
    /// A list of records with these fields, for `{% for … in … %}`.
    List(&'static [Field]),
}

/// One field of the records in a [`VarKind::List`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    /// `Text` or `Number`.
    pub kind: VarKind,
    pub description: &'static str,
    pub example: &'static str,
}

/// One variable a template may name, e.g. `ticket.number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// Dotted path, as written in templates.
    pub name: &'static str,
    pub kind: VarKind,
    /// What it holds, for whoever writes a template.
    pub description: &'static str,
    /// A plausible value, used to preview and trial-render templates.
    pub example: &'static str,
}

const ATTACHMENT_FIELDS: &[Field] = &[
    Field {
        name: "name",
        kind: VarKind::Text,
        description: "File name",
        example: "matrícula-2025.pdf",
    },
    Field {
        name: "size",
        kind: VarKind::Number,
        description: "Size in bytes (`| filesizeformat` makes it readable)",
        example: "48213",
    },
];

const fn text(name: &'static str, description: &'static str, example: &'static str) -> Variable {
    Variable {
        name,
        kind: VarKind::Text,
        description,
        example,
    }
}

const fn url(name: &'static str, description: &'static str, example: &'static str) -> Variable {
    Variable {
        name,
        kind: VarKind::Url,
        description,
        example,
    }
}

const fn html(name: &'static str, description: &'static str, example: &'static str) -> Variable {
    Variable {
        name,
        kind: VarKind::Html,
        description,
        example,
    }
}

const fn number(name: &'static str, description: &'static str, example: &'static str) -> Variable {
    Variable {
        name,
        kind: VarKind::Number,
        description,
        example,
    }
}

const fn attachments(name: &'static str, description: &'static str) -> Variable {
    Variable {
        name,
        kind: VarKind::List(ATTACHMENT_FIELDS),
        description,
        example: "",
    }
}

/// Every variable, once. Dates arrive formatted in the instance's time zone
/// and the mail's language; names arrive as people wrote them.
pub const VARIABLES: &[Variable] = &[
    // The instance and whoever receives this copy of the mail.
    text(
        "instance.name",
        "The help desk's name",
        "Servei de Gestió Acadèmica",
    ),
    url(
        "instance.url",
        "The help desk's portal (home page for users)",
        "https://tiquets.example.edu/academica/",
    ),
    text(
        "recipient.name",
        "Name of the person this copy is addressed to",
        "Núria Puig i Ferrer",
    ),
    text(
        "recipient.email",
        "Address this copy is sent to",
        "nuria.puig@example.edu",
    ),
    // The ticket.
    text(
        "ticket.number",
        "The ticket's number as users see it",
        "AC-004815",
    ),
    text(
        "ticket.subject",
        "The ticket's subject",
        "Canvi de grup de pràctiques",
    ),
    text("ticket.status", "Current status", "Obert"),
    text("ticket.priority", "Current priority", "Normal"),
    text(
        "ticket.department",
        "Department that owns the ticket",
        "Secretaria de l'Escola",
    ),
    text(
        "ticket.topic",
        "Help topic chosen when the ticket was opened",
        "Matrícula",
    ),
    text(
        "ticket.due",
        "Due date and time, if the ticket has one",
        "12/03/2026 14:00",
    ),
    text(
        "ticket.created",
        "When the ticket was opened",
        "10/03/2026 09:41",
    ),
    url(
        "ticket.link",
        "The user's magic link to the ticket (user mail only: it is their key)",
        "https://tiquets.example.edu/academica/t/AC-004815?k=Wm9vbQ",
    ),
    url(
        "ticket.agent_link",
        "The ticket in the agent portal (agent mail only)",
        "https://tiquets.example.edu/agents/academica/tickets/4815",
    ),
    text(
        "ticket.assignee",
        "Agent the ticket is assigned to, if any",
        "Jordi Serra",
    ),
    text(
        "ticket.team",
        "Team the ticket is assigned to, if any",
        "Primer cicle",
    ),
    // People.
    text(
        "user.name",
        "The user who opened the ticket",
        "Núria Puig i Ferrer",
    ),
    text("user.email", "The user's address", "nuria.puig@example.edu"),
    text(
        "user.organisation",
        "The user's organisation, if any",
        "Facultat de Ciències",
    ),
    text(
        "agent.name",
        "The agent who acted (answered, wrote the note, assigned, transferred, created)",
        "Jordi Serra",
    ),
    text(
        "agent.email",
        "That agent's address (agent mail only)",
        "jordi.serra@example.edu",
    ),
    text(
        "assignee.name",
        "The agent a ticket or task was just assigned to",
        "Marta Vidal",
    ),
    text("team.name", "The team concerned", "Primer cicle"),
    // Thread entries.
    text(
        "message.author",
        "Who wrote the user's message",
        "Núria Puig i Ferrer",
    ),
    html(
        "message.body_html",
        "The user's message as sanitised HTML",
        "<p>Bon dia,<br>voldria canviar de grup de pràctiques.</p>",
    ),
    text(
        "message.body_text",
        "The user's message as plain text",
        "Bon dia,\nvoldria canviar de grup de pràctiques.",
    ),
    attachments(
        "message.attachments",
        "Files attached to the user's message",
    ),
    text("response.author", "The agent who answered", "Jordi Serra"),
    html(
        "response.body_html",
        "The agent's response as sanitised HTML",
        "<p>Hola Núria,<br>ja t'hem canviat al grup B.</p>",
    ),
    text(
        "response.body_text",
        "The agent's response as plain text",
        "Hola Núria,\nja t'hem canviat al grup B.",
    ),
    attachments("response.attachments", "Files attached to the response"),
    text("note.author", "Who wrote the internal note", "Jordi Serra"),
    text(
        "note.title",
        "The note's title, if it has one",
        "Cal el vistiplau de la coordinació",
    ),
    html(
        "note.body_html",
        "The internal note (or the comment left with an assignment or transfer) as sanitised HTML",
        "<p>Parlo amb la coordinadora i us dic alguna cosa.</p>",
    ),
    text(
        "note.body_text",
        "The same note as plain text",
        "Parlo amb la coordinadora i us dic alguna cosa.",
    ),
    attachments("note.attachments", "Files attached to the note"),
    text(
        "transfer.from_department",
        "The department the ticket came from (ticket.department is the new one)",
        "Registre General",
    ),
    // Tasks.
    text(
        "task.number",
        "The task's number in the help desk (its id for tasks older than numbers)",
        "312",
    ),
    text(
        "task.title",
        "The task's title",
        "Demanar el certificat a la coordinació",
    ),
    text(
        "task.department",
        "Department the task belongs to",
        "Secretaria de l'Escola",
    ),
    text(
        "task.due",
        "Due date and time, if the task has one",
        "14/03/2026 12:00",
    ),
    text(
        "task.ticket_number",
        "Number of the ticket the task belongs to, if any",
        "AC-004815",
    ),
    url(
        "task.agent_link",
        "The task in the agent portal",
        "https://tiquets.example.edu/agents/academica/tasks/312",
    ),
    html(
        "task.description_html",
        "The task's description as sanitised HTML",
        "<p>Cal demanar-lo abans de divendres.</p>",
    ),
    text(
        "task.description_text",
        "The same description as plain text",
        "Cal demanar-lo abans de divendres.",
    ),
    // Refused messages.
    number(
        "limit.open_tickets",
        "How many tickets the user has open",
        "5",
    ),
    number(
        "limit.max_open_tickets",
        "How many open tickets a user may have",
        "5",
    ),
    text(
        "limit.subject",
        "Subject of the refused message",
        "Una altra consulta",
    ),
    // Accounts.
    text("account.username", "The agent's user name", "jserra"),
    url(
        "account.link",
        "Single-use link to choose a password",
        "https://tiquets.example.edu/agents/password?t=c2VjcmV0",
    ),
    text(
        "account.expires",
        "When that link stops working",
        "11/03/2026 09:41",
    ),
    // A rule's mail.
    text(
        "rule.name",
        "The rule that sends the mail",
        "Beques urgents",
    ),
    text(
        "rule.subject",
        "The subject the rule gives, expanded for the ticket",
        "Beca pendent: AC-004815",
    ),
    html(
        "rule.body_html",
        "The text the rule gives, expanded for the ticket, as HTML",
        "<p>Aquesta sol·licitud de beca espera resposta.</p>",
    ),
    text(
        "rule.body_text",
        "The same text as plain text",
        "Aquesta sol·licitud de beca espera resposta.",
    ),
    // Signatures.
    text(
        "signature",
        "The department's or agent's signature as plain text",
        "Secretaria de l'Escola\nEdifici C, planta 1",
    ),
    html(
        "signature_html",
        "The same signature as HTML (escaped, line breaks kept)",
        "<p>Secretaria de l'Escola<br>Edifici C, planta 1</p>",
    ),
];

// Groups of variable names, combined per kind below.
const BASE: &[&str] = &[
    "instance.name",
    "instance.url",
    "recipient.name",
    "recipient.email",
];
const TICKET: &[&str] = &[
    "ticket.number",
    "ticket.subject",
    "ticket.status",
    "ticket.priority",
    "ticket.department",
    "ticket.topic",
    "ticket.due",
    "ticket.created",
];
const TICKET_USER: &[&str] = &["ticket.link"];
const TICKET_AGENT: &[&str] = &["ticket.agent_link", "ticket.assignee", "ticket.team"];
const USER: &[&str] = &["user.name", "user.email", "user.organisation"];
const AGENT_NAME: &[&str] = &["agent.name"];
const AGENT: &[&str] = &["agent.name", "agent.email"];
const ASSIGNEE: &[&str] = &["assignee.name"];
const TEAM: &[&str] = &["team.name"];
const MESSAGE: &[&str] = &[
    "message.author",
    "message.body_html",
    "message.body_text",
    "message.attachments",
];
const RESPONSE: &[&str] = &[
    "response.author",
    "response.body_html",
    "response.body_text",
    "response.attachments",
];
const NOTE: &[&str] = &[
    "note.author",
    "note.title",
    "note.body_html",
    "note.body_text",
    "note.attachments",
];
const TRANSFER: &[&str] = &["transfer.from_department"];
const TASK: &[&str] = &[
    "task.number",
    "task.title",
    "task.department",
    "task.due",
    "task.ticket_number",
    "task.agent_link",
    "task.description_html",
    "task.description_text",
];
const LIMIT: &[&str] = &[
    "limit.open_tickets",
    "limit.max_open_tickets",
    "limit.subject",
];
const ACCOUNT: &[&str] = &["account.username", "account.link", "account.expires"];
const SIGNATURE: &[&str] = &["signature", "signature_html"];
const RULE: &[&str] = &[
    "rule.name",
    "rule.subject",
    "rule.body_html",
    "rule.body_text",
];

/// The groups of variables each kind may use.
fn groups(kind: TemplateKind) -> &'static [&'static [&'static str]] {
    use TemplateKind as K;
    match kind {
        K::NewTicketAutoresponse | K::NewMessageAutoresponse => {
            &[BASE, TICKET, TICKET_USER, USER, MESSAGE, SIGNATURE]
        }
        K::OverLimitNotice => &[BASE, USER, LIMIT, SIGNATURE],
        K::Response => &[
            BASE,
            TICKET,
            TICKET_USER,
            USER,
            AGENT_NAME,
            RESPONSE,
            SIGNATURE,
        ],
        K::TicketClosed => &[BASE, TICKET, TICKET_USER, USER, AGENT_NAME, SIGNATURE],
        K::AlertNewTicket | K::AlertNewMessage => &[BASE, TICKET, TICKET_AGENT, USER, MESSAGE],
        K::AlertInternalNote => &[BASE, TICKET, TICKET_AGENT, USER, AGENT, NOTE],
        K::AlertAssignedAgent => &[BASE, TICKET, TICKET_AGENT, USER, AGENT, ASSIGNEE, NOTE],
        K::AlertAssignedTeam => &[BASE, TICKET, TICKET_AGENT, USER, AGENT, TEAM, NOTE],
        K::AlertTransfer => &[BASE, TICKET, TICKET_AGENT, USER, AGENT, TRANSFER, NOTE],
        K::AlertOverdue | K::AlertSlaWarning => &[BASE, TICKET, TICKET_AGENT, USER],
        K::TaskAlertNew => &[BASE, TASK, AGENT, ASSIGNEE, TEAM],
        K::TaskAlertAssigned => &[BASE, TASK, AGENT, ASSIGNEE, TEAM, NOTE],
        K::AgentWelcome => &[BASE, ACCOUNT, AGENT_NAME],
        K::PasswordReset => &[BASE, ACCOUNT],
        K::RuleMail => &[BASE, TICKET, TICKET_AGENT, USER, RULE],
    }
}

/// The variables a text may name: a template kind's, less some. A mail
/// template has its kind's whole set ([`Vocabulary::of`]); a canned
/// response has the response's, less what differs from one copy of the
/// mail to another or does not exist yet (`crate::canned::VOCABULARY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vocabulary {
    pub kind: TemplateKind,
    /// Names of the kind's variables the text may not use.
    pub except: &'static [&'static str],
}

impl Vocabulary {
    /// Every variable of `kind`.
    #[must_use]
    pub const fn of(kind: TemplateKind) -> Self {
        Self { kind, except: &[] }
    }

    /// The variable `name` if the text may use it.
    #[must_use]
    pub fn lookup(self, name: &str) -> Option<&'static Variable> {
        lookup(self.kind, name).filter(|v| !self.except.contains(&v.name))
    }

    /// The variables the text may use, in registry order.
    #[must_use]
    pub fn variables(self) -> Vec<&'static Variable> {
        variables(self.kind)
            .into_iter()
            .filter(|v| !self.except.contains(&v.name))
            .collect()
    }

    /// Whether `prefix` (e.g. `ticket`) names a record holding some of the
    /// variables, as in `{% if ticket %}`.
    #[must_use]
    pub fn is_record(self, prefix: &str) -> bool {
        self.variables().iter().any(|v| {
            v.name
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

/// The variable called `name`, whatever the kind.
#[must_use]
pub fn variable(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.name == name)
}

/// The variables `kind` may use, in registry order.
#[must_use]
pub fn variables(kind: TemplateKind) -> Vec<&'static Variable> {
    let groups = groups(kind);
    VARIABLES
        .iter()
        .filter(|v| groups.iter().any(|group| group.contains(&v.name)))
        .collect()
}

/// The variable `name` if `kind` may use it.
#[must_use]
pub fn lookup(kind: TemplateKind, name: &str) -> Option<&'static Variable> {
    groups(kind)
        .iter()
        .any(|group| group.contains(&name))
        .then(|| variable(name))
        .flatten()
}

/// Whether `prefix` (e.g. `ticket`) names a record holding some of
/// `kind`'s variables, as in `{% if ticket %}`.
#[must_use]
pub fn is_record(kind: TemplateKind, prefix: &str) -> bool {
    groups(kind).iter().any(|group| {
        group.iter().any(|name| {
            name.strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.'))
        })
    })
}

/// The value a variable takes when the mail has nothing for it: empty text
/// or an empty list, so templates render without it rather than fail.
#[must_use]
pub fn empty_value(kind: VarKind) -> Value {
    match kind {
        VarKind::List(_) => Value::Array(Vec::new()),
        _ => Value::String(String::new()),
    }
}

/// A variable's example as a value of its kind.
#[must_use]
pub fn example_value(variable: &Variable) -> Value {
    match variable.kind {
        VarKind::List(fields) => {
            let item: Map<String, Value> = fields
                .iter()
                .map(|field| (field.name.to_owned(), scalar(field.kind, field.example)))
                .collect();
            Value::Array(vec![Value::Object(item)])
        }
        kind => scalar(kind, variable.example),
    }
}

fn scalar(kind: VarKind, example: &str) -> Value {
    match kind {
        VarKind::Number => example
            .parse::<u64>()
            .map_or_else(|_| Value::String(example.to_owned()), Value::from),
        _ => Value::String(example.to_owned()),
    }
}

/// Sets `path` (dotted) in `root` to `value`, creating records on the way.
pub(crate) fn insert_path(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut segments = path.split('.').peekable();
    let mut map = root;
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            map.insert(segment.to_owned(), value);
            return;
        }
        let entry = map
            .entry(segment.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        map = next;
    }
}

/// The value at `path` (dotted) in `root`, if any.
pub(crate) fn get_path<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(root, |value, segment| value.get(segment))
}

/// A context holding the vocabulary's variables (`Vocabulary::of(kind)`:
/// a template kind's), each set by `value`.
pub(crate) fn context_in(
    vocabulary: Vocabulary,
    mut value: impl FnMut(&Variable) -> Value,
) -> Map<String, Value> {
    let mut root = Map::new();
    for variable in vocabulary.variables() {
        insert_path(&mut root, variable.name, value(variable));
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_grouped_name_is_a_registered_variable_and_every_variable_is_used() {
        let mut used = HashSet::new();
        for kind in TemplateKind::ALL {
            for group in groups(kind) {
                for name in *group {
                    assert!(variable(name).is_some(), "{name} is not in VARIABLES");
                    used.insert(*name);
                }
            }
        }
        for v in VARIABLES {
            assert!(used.contains(v.name), "{} is used by no kind", v.name);
        }
        let names: HashSet<_> = VARIABLES.iter().map(|v| v.name).collect();
        assert_eq!(names.len(), VARIABLES.len(), "a variable is listed twice");
    }

    #[test]
    fn html_variables_are_exactly_those_named_html() {
        for v in VARIABLES {
            assert_eq!(
                v.kind == VarKind::Html,
                v.name.ends_with("_html"),
                "{}",
                v.name
            );
            assert!(!v.description.is_empty(), "{} has no description", v.name);
        }
    }

    #[test]
    fn magic_links_stay_with_their_audience() {
        use super::super::kind::Audience;
        for kind in TemplateKind::ALL {
            let user_link = lookup(kind, "ticket.link").is_some();
            let agent_link = lookup(kind, "ticket.agent_link").is_some()
                || lookup(kind, "task.agent_link").is_some();
            match kind.audience() {
                Audience::User => assert!(!agent_link, "{kind} carries an agent link"),
                Audience::Agent => assert!(!user_link, "{kind} carries a user's magic link"),
            }
        }
        assert!(lookup(TemplateKind::Response, "ticket.link").is_some());
        assert!(lookup(TemplateKind::Response, "agent.email").is_none());
    }

    #[test]
    fn records_and_paths() {
        assert!(is_record(TemplateKind::Response, "ticket"));
        assert!(!is_record(TemplateKind::Response, "tick"));
        assert!(!is_record(TemplateKind::PasswordReset, "ticket"));
        let mut root = Map::new();
        insert_path(&mut root, "a.b.c", Value::from(1));
        insert_path(&mut root, "a.d", Value::from(2));
        let root = Value::Object(root);
        assert_eq!(get_path(&root, "a.b.c"), Some(&Value::from(1)));
        assert_eq!(get_path(&root, "a.d"), Some(&Value::from(2)));
        assert_eq!(get_path(&root, "a.x"), None);
    }
}
