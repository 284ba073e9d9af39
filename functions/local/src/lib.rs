//! The embedded default adapters of Taquilla's ports: file-system blobs
//! ([`FsBlobs`]) and an outbox mailer ([`OutboxMailer`]).

pub mod fs_blobs;
pub mod outbox;

pub use fs_blobs::FsBlobs;
pub use outbox::OutboxMailer;
