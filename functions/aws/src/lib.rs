//! Adapters for a deployment on AWS: [`S3Blobs`] (the `Blobs` port on S3)
//! and [`SesMailer`] (the `Mailer` port on SES v2).

pub mod s3_blobs;
pub mod ses_mailer;

pub use s3_blobs::S3Blobs;
pub use ses_mailer::SesMailer;
