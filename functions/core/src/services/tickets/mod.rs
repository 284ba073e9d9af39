//! Tickets: opening them, reading them and their thread, queues, and the
//! messages, responses and notes that make up the conversation.
//!
//! [`store`] is the one place a ticket becomes an item: every other module
//! writes with `store::save`, and loads on behalf of an actor through
//! `access::load_visible`, so a ticket the actor may not see is `NotFound`
//! for every read and every action alike (its existence is not revealed);
//! `Forbidden` is only ever the answer about a ticket the actor sees.
//!
//! A ticket merged into another keeps its number and can still be read;
//! messages, responses and notes addressed to it land in the ticket it was
//! merged into (see [`merge::destination`]).

pub mod actions;
pub mod collaborators;
pub mod locks;
pub mod merge;

pub(crate) mod access;
pub mod attachments;
pub(crate) mod config;
pub mod conversation;
pub mod fields;
mod numbers;
pub mod open;
pub mod queue;
pub mod read;
pub mod round_robin;
mod routing;
pub mod sla_plan;
pub(crate) mod store;

pub use crate::sanitize::Body;
pub use attachments::NewAttachment;
pub use conversation::{
    MailEntry, NewMessage, NewNote, NewResponse, from_mail, note, reply, respond, respond_by_rule,
};
pub use open::{OpenTicket, open, open_from_mail};
pub use queue::{QueueFilter, QueueSort, queue};
pub use read::{by_number, get, thread};
