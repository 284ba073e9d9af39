//! Tickets: opening them, reading them and their thread, queues, and the
//! messages, responses and notes that make up the conversation.
//!
//! [`store`] is the one place a ticket becomes an item: every other module
//! (and the ticket actions of part 2: assign, transfer, status, merge,
//! locks) loads with `store::load` and writes with `store::save`.

pub mod actions;
pub mod collaborators;
pub mod locks;
pub mod merge;

pub(crate) mod access;
pub mod attachments;
pub(crate) mod config;
pub mod conversation;
mod numbers;
pub mod open;
pub mod queue;
pub mod read;
pub mod round_robin;
pub(crate) mod store;

pub use crate::sanitize::Body;
pub use attachments::NewAttachment;
pub use conversation::{NewMessage, NewNote, NewResponse, note, reply, respond};
pub use open::{OpenTicket, open};
pub use queue::{QueueFilter, QueueSort, queue};
pub use read::{by_number, get, thread};
