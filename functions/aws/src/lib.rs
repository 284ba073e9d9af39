//! Adapters for a deployment on AWS: [`DynamoStore`] (the `ItemStore` port
//! on DynamoDB), and the shared SDK configuration ([`sdk_config`]).

pub mod dynamo_store;
pub mod sdk;

pub use dynamo_store::{DynamoStore, table_definition};
pub use sdk::{AwsSettings, sdk_config};
