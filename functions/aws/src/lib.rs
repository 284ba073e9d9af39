//! Adapters for a deployment on AWS: [`DynamoStore`] (the `ItemStore` port
//! on DynamoDB), [`S3Blobs`] (the `Blobs` port on S3), [`SesMailer`] (the
//! `Mailer` port on SES v2), and the shared SDK configuration
//! ([`sdk_config`]).

pub mod dynamo_store;
pub mod s3_blobs;
pub mod sdk;
pub mod ses_mailer;

pub use dynamo_store::{DynamoStore, table_definition};
pub use s3_blobs::S3Blobs;
pub use sdk::{AwsSettings, sdk_config};
pub use ses_mailer::SesMailer;
