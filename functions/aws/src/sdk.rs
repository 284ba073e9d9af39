//! Shared configuration of the AWS SDK clients (DynamoDB, S3, SES).
//!
//! Every adapter of this crate builds its client from one
//! [`aws_config::SdkConfig`] made by [`sdk_config`]:
//!
//! * an endpoint override for local emulators (moto's server in the tests);
//!   S3 clients built from it must also set `force_path_style(true)`
//!   (`aws_sdk_s3::config::Builder::from(&config).force_path_style(true)`),
//!   because virtual-host addressing does not resolve against `127.0.0.1`;
//! * static credentials when given (emulators), else the default chain
//!   (environment, profile, the Lambda role);
//! * retries in standard mode, [`MAX_ATTEMPTS`] attempts with exponential
//!   backoff, so throttling (`ThrottlingException`,
//!   `ProvisionedThroughputExceededException`, `RequestLimitExceeded`) and
//!   transient network errors are retried before an adapter sees them;
//! * connect, attempt and operation timeouts, so a stalled call ends.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// Attempts per call, the first one included.
pub const MAX_ATTEMPTS: u32 = 8;
/// Backoff before the first retry; it doubles (with jitter) on each retry.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
/// Longest backoff between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where and as whom the AWS clients connect.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// The AWS region, e.g. `eu-west-1`.
    pub region: String,
    /// An endpoint override, e.g. `http://127.0.0.1:5000` for a local emulator.
    pub endpoint_url: Option<String>,
    /// Access key id and secret access key; `None` uses the default chain.
    pub static_credentials: Option<(String, String)>,
}

impl std::fmt::Debug for AwsSettings {
    // The secret access key never prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSettings")
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field(
                "static_credentials",
                &self
                    .static_credentials
                    .as_ref()
                    .map(|(id, _)| (id.as_str(), "<redacted>")),
            )
            .finish()
    }
}

/// The retry configuration every client uses: standard mode,
/// [`MAX_ATTEMPTS`] attempts, exponential backoff from [`INITIAL_BACKOFF`]
/// up to [`MAX_BACKOFF`].
#[must_use]
pub fn retry_config() -> RetryConfig {
    retry_config_with_backoff(INITIAL_BACKOFF, MAX_BACKOFF)
}

/// [`retry_config`] with other backoff bounds (tests use tiny ones).
#[must_use]
pub fn retry_config_with_backoff(initial: Duration, max: Duration) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(initial)
        .with_max_backoff(max)
}

/// The timeouts every client uses: 3 s to connect, 10 s per attempt, 60 s per
/// call including retries.
#[must_use]
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(60))
        .build()
}

/// The SDK configuration for `settings`.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint.clone());
    }
    if let Some((id, secret)) = &settings.static_credentials {
        loader = loader.credentials_provider(Credentials::new(
            id.clone(),
            secret.clone(),
            None,
            None,
            "taquilla-static",
        ));
    }
    loader.load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_config_carries_region_endpoint_and_retries() {
        let settings = AwsSettings {
            region: "eu-west-1".into(),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            static_credentials: Some(("id".into(), "secret".into())),
        };
        let config = sdk_config(&settings).await;
        assert_eq!(config.region().map(Region::as_ref), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:1"));
        let retry = config.retry_config().unwrap();
        assert_eq!(retry.max_attempts(), MAX_ATTEMPTS);
        assert!(config.credentials_provider().is_some());
    }

    #[test]
    fn the_secret_never_prints() {
        let settings = AwsSettings {
            region: "eu-west-1".into(),
            endpoint_url: None,
            static_credentials: Some(("id".into(), "hunter2".into())),
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
