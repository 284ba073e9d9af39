//! Tickets: opening them, reading them and their thread, queues, and the
//! messages, responses and notes that make up the conversation.
//!
//! [`store`] is the one place a ticket becomes an item: every other module
//! (and the ticket actions of part 2: assign, transfer, status, merge,
//! locks) loads with `store::load` and writes with `store::save`.

pub mod actions;
pub mod locks;
pub mod merge;

// Part of the ticket use cases land in later commits; until then some of
// the store functions have no caller yet.
#[allow(dead_code)]
pub(crate) mod store;
