//! Agents' accounts: signing in with e-mail and password, and the
//! single-use links with which an agent chooses a password.
//!
//! - [`session`]: `sign_in` checks an e-mail and password (Argon2id, with a
//!   decoy hash for unknown addresses so both cost the same) and issues an
//!   agent token; a wrong e-mail, a wrong password and an inactive agent
//!   are one answer, `invalid_credentials`.
//! - [`links`]: an agent has at most one password link at a time. A new
//!   agent gets one with the welcome mail, written in the same transaction
//!   as the agent; `forgot` issues one for a reset (silently doing nothing
//!   for an unknown or inactive address, or past the rate limit), and an
//!   administrator may issue one that also revokes the current password.
//!   The link's secret is random, made when its mail is sent and stored
//!   only as its SHA-256; `set_password` claims it with a conditional
//!   write in the same transaction as the new password, so it works once.
//!   A used, expired, replaced or unknown link is one answer,
//!   `invalid_link`.
//! - [`strength`]: what a chosen password must be (`weak_password`).

pub mod links;
pub mod session;
pub mod strength;

pub use links::{forgot, set_password};
pub use session::{Session, sign_in};
