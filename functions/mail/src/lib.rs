//! Taquilla's mail channel.
//!
//! - [`inbound`]: raw RFC 5322 bytes become a [`inbound::ParsedMail`]
//!   (parse, classify auto-replies and bounces, split quoted history).
//! - [`outbound`]: templates rendered per instance and language, composed
//!   into MIME with the headers that make mail clients thread.
//! - [`canned`]: canned responses' bodies checked when saved and expanded
//!   for a ticket with the response mail's variables.
//! - [`dispatch`]: the outbox's pending items rendered, composed and sent
//!   through the core's `Mailer`, with retries and loop guards.
//!
//! Nothing here performs I/O: the pipeline that stores what arrives and
//! the queue that sends what leaves go through the core's ports.

pub mod canned;
pub mod dispatch;
pub mod inbound;
pub mod no_reply;
pub mod outbound;
pub mod pipeline;
pub mod reply_token;
pub mod rules;
pub mod templates;
