//! Handlers, one module per concern.

pub mod accounts;
pub mod admin;
pub mod blobs;
pub mod canned;
pub mod forms;
pub mod health;
pub mod home;
pub mod openapi;
pub mod osticket;
pub mod rules;
pub mod suppressions;
pub mod tasks;
pub mod templates;
pub mod tickets;
