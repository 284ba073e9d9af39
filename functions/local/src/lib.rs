//! The embedded default adapters of Taquilla's ports: [`SqliteStore`] (the
//! `ItemStore` on a SQLite file), and file-system blobs and an outbox mailer.

pub mod sqlite_store;

pub use sqlite_store::SqliteStore;
