//! MIME in: raw RFC 5322 bytes become a [`ParsedMail`], pure functions over
//! bytes with no I/O.
//!
//! - [`parse`]: decode what arrived (headers, charsets, bodies,
//!   attachments), reject what cannot become a ticket ([`ParseError`]);
//! - [`classify`]: auto-replies, bulk mail, bounces and SES verdicts, which
//!   are never answered automatically;
//! - [`split_quoted`], [`split_quoted_html`]: where a reply's quoted
//!   history starts;
//! - [`plus_tag`], [`body_marker`], [`subject_ticket_number`]: the clues
//!   that thread a reply onto its ticket.
//!
//! The pipeline that stores, dedupes and routes what these functions
//! return is a chain of small steps built on top of them.

mod address;
mod attachment;
mod charset;
mod classify;
mod error;
mod hints;
mod mail;
mod parse;
mod quoted;

pub use address::normalise as normalise_address;
pub use attachment::safe_file_name;
pub use classify::{
    Bounce, Classification, FailedRecipient, MailKind, Verdict, classify, delivery_status,
};
pub use error::ParseError;
pub use hints::{body_marker, plus_tag, subject_ticket_number};
pub use mail::{Attachment, Mailbox, ParsedMail};
pub use parse::{parse, text_from_html};
pub use quoted::{split_quoted, split_quoted_html};
