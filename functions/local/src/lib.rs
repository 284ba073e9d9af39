//! The embedded default adapters of Taquilla's ports: [`SqliteStore`] (the
//! `ItemStore` on a SQLite file), and file-system blobs and an outbox mailer.

pub mod fs_blobs;
pub mod outbox;
pub mod sqlite_store;

pub use fs_blobs::FsBlobs;
pub use outbox::OutboxMailer;
pub use sqlite_store::SqliteStore;
