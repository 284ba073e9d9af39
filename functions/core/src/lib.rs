//! Taquilla's core: the help desk's domain, its use cases (services) and the
//! ports through which they reach the world. Nothing in this crate performs
//! I/O; adapters in other crates implement the ports.
//!
//! # Glossary
//!
//! One word for one thing, in code, API, pages and docs:
//!
//! - **instance**: one independent help desk (one per service unit); every
//!   key in the store starts with it, and nothing crosses instances.
//! - **department**: a unit inside an instance that owns tickets.
//! - **help topic**: what a user picks when opening a ticket; routes it.
//! - **ticket**: one request, with its **thread** of **entries**: messages
//!   (from the user or a collaborator), responses (from an agent), internal
//!   notes and events.
//! - **agent**: staff member working tickets; **team**: a group of agents;
//!   **role**: a named set of permissions an agent holds in a department.
//! - **user**: a person who asks; **organisation**: users grouped by domain;
//!   **collaborator**: a user copied on a ticket.
//! - **filter**: a rule applied to tickets; **SLA plan**: response and
//!   resolution targets, counted on a **schedule** of business hours;
//!   **canned response**: a reusable reply; **template**: a mail template;
//!   **FAQ**: a published answer, filed in a **category**; **task**: work
//!   with its own thread, optionally linked to a ticket.
//!
//! # Ports
//!
//! [`store::ItemStore`] (data), [`blobs::Blobs`] (attachments),
//! [`mailer::Mailer`] (outbound mail), [`clock::Clock`] (time).

pub mod blobs;
pub mod clock;
pub mod config;
pub mod domain;
pub mod keys;
pub mod mailer;
pub mod password;
pub mod report;
pub mod sanitize;
pub mod secrets;
pub mod services;
pub mod store;
