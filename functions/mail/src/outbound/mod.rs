//! MIME out: templates and composition.
//!
//! Sending a mail is two pure steps; a service then hands the result to the
//! core's `Mailer` port:
//!
//! 1. [`render`] a [`TemplateKind`] in a [`Language`] with [`Variables`]:
//!    the instance's own texts ([`TemplateTexts`]) where it has them, the
//!    built-in templates (`templates/mail/`, compiled in) elsewhere. The
//!    result is a subject, an HTML document and a plain text.
//! 2. [`compose`] an [`Outgoing`] (addresses, threading headers, the
//!    rendered texts, attachments) into an
//!    [`OutgoingMail`](taquilla_core::mailer::OutgoingMail): RFC 5322 bytes
//!    and the envelope.
//!
//! Which variables each kind may use is one table, the [`registry`]; an
//! instance's own texts are checked against it with [`validate_template`]
//! when they are saved.
//!
//! ```
//! use taquilla_core::domain::instance::Language;
//! use taquilla_mail::outbound::*;
//!
//! let variables = Variables {
//!     instance: InstanceVars { name: "Servei d'Idiomes".into(), url: "https://example.edu/".into() },
//!     recipient: PersonVars::new("Pau Soler", "pau@example.net"),
//!     ticket: Some(TicketVars { number: "ID-42".into(), subject: "Certificat".into(), ..Default::default() }),
//!     ..Default::default()
//! };
//! let rendered = render(TemplateKind::TicketClosed, Language::Ca, &TemplateTexts::default(), &variables)?;
//! let mail = compose(&Outgoing {
//!     from: Mailbox::new("Servei d'Idiomes", "idiomes@example.edu"),
//!     to: vec![Mailbox::new("Pau Soler", "pau@example.net")],
//!     date: 1_767_225_600,
//!     auto_submitted: TemplateKind::TicketClosed.auto_submitted(),
//!     language: Some(Language::Ca),
//!     ..Outgoing::default()
//! }.with_rendered(&rendered))?;
//! assert_eq!(mail.recipients, ["pau@example.net"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Language`]: taquilla_core::domain::instance::Language

mod builtin;
mod compose;
mod kind;
pub mod registry;
mod render;
mod validate;
mod variables;

pub use builtin::builtin_text;
pub use compose::{
    Attachment, AutoSubmitted, ComposeError, INSTANCE_HEADER, InlineImage, LoopTag, MAX_REFERENCES,
    Mailbox, Outgoing, TICKET_HEADER, compose, new_message_id,
};
pub use kind::{Audience, Part, TemplateKind, UnknownTemplateKind, language_tag};
pub use render::{Rendered, render, render_part};
pub use validate::{
    MAX_BODY_BYTES, MAX_SUBJECT_BYTES, TemplateError, TemplateTexts, validate_in, validate_template,
};
pub use variables::{
    AccountVars, AttachmentVars, EntryVars, InstanceVars, LimitVars, PersonVars, RuleVars,
    SafeHtml, TaskVars, TeamVars, TicketVars, TransferVars, UserVars, Variables,
};
