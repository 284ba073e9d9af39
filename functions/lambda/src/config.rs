//! The functions' configuration: `taquilla_core::config`'s settings from
//! the `TAQUILLA_*` environment variables, the master key, and what only
//! a function needs. Everything is read and checked once per cold start;
//! a function with a wrong configuration fails to start, loudly, rather
//! than failing each event.
//!
//! | env | meaning |
//! | --- | --- |
//! | `TAQUILLA_STORE` | `dynamodb://table` (required: a function has no disk) |
//! | `TAQUILLA_BLOBS` | `s3://bucket/prefix` for attachments (required) |
//! | `TAQUILLA_MAIL` | `ses://region` for outbound mail (required) |
//! | `TAQUILLA_PUBLIC_URL` | the portal's address, for links in mail |
//! | `TAQUILLA_MASTER_KEY` | the deployment's master key, hex (required) |
//! | `TAQUILLA_INBOUND_BUCKET` | the bucket SES stores received mail in (`inbound-mail`) |
//! | `TAQUILLA_INBOUND_PREFIX` | the receipt rule's object key prefix, as written there |
//! | `TAQUILLA_LOG` | the log filter (`info` by default; see `init_logging`) |
//!
//! [`DEPLOYED`] lists them: the deployment template (`infra/template.yaml`)
//! sets exactly these, which `tests/it/infra.rs` checks.

use std::sync::Arc;

use taquilla_core::blobs::Blobs;
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::config::{
    self, AwsTarget, BlobsUrl, ConfigError, Layer, MailUrl, Settings, StoreUrl,
};
use taquilla_core::mailer::Mailer;
use taquilla_core::secrets::MasterKey;
use taquilla_core::store::ItemStore;

/// The master key's variable.
pub const MASTER_KEY: &str = "TAQUILLA_MASTER_KEY";
/// The bucket the SES receipt rule stores received mail in.
pub const INBOUND_BUCKET: &str = "TAQUILLA_INBOUND_BUCKET";
/// The receipt rule's object key prefix, used exactly as written there
/// (SES puts the message at prefix + messageId: `inbound/` gives
/// `inbound/<messageId>`).
pub const INBOUND_PREFIX: &str = "TAQUILLA_INBOUND_PREFIX";

/// The log filter `init_logging` reads.
pub const LOG: &str = "TAQUILLA_LOG";

/// Every variable a deployment sets on its functions (the table above).
pub const DEPLOYED: &[&str] = &[
    "TAQUILLA_STORE",
    "TAQUILLA_BLOBS",
    "TAQUILLA_MAIL",
    "TAQUILLA_PUBLIC_URL",
    MASTER_KEY,
    INBOUND_BUCKET,
    INBOUND_PREFIX,
    LOG,
];

/// The variables only the functions read (not keys of the core settings).
const FUNCTION_VARS: &[&str] = &[INBOUND_BUCKET, INBOUND_PREFIX];

/// Where SES leaves received mail: the object of a message is
/// `{prefix}{messageId}` in `bucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSource {
    pub bucket: String,
    pub prefix: String,
}

impl InboundSource {
    /// The object key of the message SES named `message_id`.
    #[must_use]
    pub fn key(&self, message_id: &str) -> String {
        format!("{}{message_id}", self.prefix)
    }
}

/// A function's configuration, validated.
#[derive(Clone)]
pub struct FunctionConfig {
    pub settings: Settings,
    pub master: MasterKey,
    /// Set when `TAQUILLA_INBOUND_BUCKET` is.
    pub inbound: Option<InboundSource>,
    /// `TAQUILLA_*` variables nobody reads (probably misspelt), to warn about.
    pub unknown: Vec<String>,
}

impl std::fmt::Debug for FunctionConfig {
    // The master key never prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionConfig")
            .field("settings", &self.settings)
            .field("inbound", &self.inbound)
            .field("unknown", &self.unknown)
            .finish_non_exhaustive()
    }
}

/// A value of the environment refused: `key` and why.
#[must_use]
pub fn refused(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_owned(),
        origin: "environment".to_owned(),
        message: message.into(),
    }
}

/// Reads the configuration from `vars` (the process's environment in the
/// binaries). The store must be DynamoDB, the blobs S3 and the mail SES.
pub fn from_env(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<FunctionConfig, ConfigError> {
    let vars: Vec<(String, String)> = vars.into_iter().collect();
    let lookup = |name: &str| {
        vars.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    let (layer, unknown) = Layer::from_env(
        vars.iter()
            .filter(|(name, _)| !FUNCTION_VARS.contains(&name.as_str()))
            .cloned(),
    );
    let settings = config::resolve(&[layer])?;
    if !matches!(settings.store, StoreUrl::Dynamo { .. }) {
        return Err(refused(
            "TAQUILLA_STORE",
            "a function has no disk of its own: use dynamodb://TABLE",
        ));
    }
    if !matches!(settings.blobs, BlobsUrl::S3 { .. }) {
        return Err(refused(
            "TAQUILLA_BLOBS",
            "a function has no disk of its own: use s3://BUCKET/PREFIX",
        ));
    }
    if !matches!(settings.mail, MailUrl::Ses { .. }) {
        return Err(refused(
            "TAQUILLA_MAIL",
            "a function has no disk of its own: use ses://REGION",
        ));
    }
    let master = lookup(MASTER_KEY).ok_or_else(|| refused(MASTER_KEY, "is required"))?;
    let master = MasterKey::from_hex(&master).map_err(|e| refused(MASTER_KEY, e.to_string()))?;
    let inbound = lookup(INBOUND_BUCKET)
        .filter(|b| !b.is_empty())
        .map(|bucket| InboundSource {
            bucket,
            prefix: lookup(INBOUND_PREFIX).unwrap_or_default(),
        });
    Ok(FunctionConfig {
        settings,
        master,
        inbound,
        unknown,
    })
}

/// The SDK configuration for an adapter's target: the region and endpoint
/// of its URL, credentials from the function's role.
pub async fn sdk_config(target: &AwsTarget) -> aws_config::SdkConfig {
    taquilla_aws::sdk_config(&taquilla_aws::AwsSettings {
        region: target.region.clone(),
        endpoint_url: target.endpoint_url.clone(),
        static_credentials: None,
    })
    .await
}

/// An S3 client for `config` (path-style, so emulators on an IP resolve).
#[must_use]
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// The ports every function uses, on AWS.
#[derive(Clone)]
pub struct Adapters {
    pub store: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn Blobs>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<dyn Mailer>,
    /// The S3 client of the blobs, for other buckets of the deployment
    /// (the inbound one).
    pub s3: aws_sdk_s3::Client,
}

impl std::fmt::Debug for Adapters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapters").finish_non_exhaustive()
    }
}

/// Builds the store and blob adapters `settings` name.
pub async fn adapters(settings: &Settings) -> Result<Adapters, ConfigError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let StoreUrl::Dynamo { table, aws } = &settings.store else {
        return Err(refused("TAQUILLA_STORE", "use dynamodb://TABLE"));
    };
    let BlobsUrl::S3 {
        bucket,
        prefix,
        aws: blobs_aws,
    } = &settings.blobs
    else {
        return Err(refused("TAQUILLA_BLOBS", "use s3://BUCKET/PREFIX"));
    };
    let store = taquilla_aws::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk_config(aws).await),
        table.clone(),
    )
    .with_clock(clock.clone());
    let MailUrl::Ses { aws: mail_aws } = &settings.mail else {
        return Err(refused("TAQUILLA_MAIL", "use ses://REGION"));
    };
    let s3 = s3_client(&sdk_config(blobs_aws).await);
    let mailer =
        taquilla_aws::SesMailer::new(aws_sdk_sesv2::Client::new(&sdk_config(mail_aws).await));
    let blobs = taquilla_aws::S3Blobs::new(s3.clone(), bucket.clone(), prefix.clone());
    Ok(Adapters {
        store: Arc::new(store),
        blobs: Arc::new(blobs),
        clock,
        mailer: Arc::new(mailer),
        s3,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn aws_vars() -> Vec<(&'static str, &'static str)> {
        vec![
            ("TAQUILLA_STORE", "dynamodb://taquilla"),
            ("TAQUILLA_BLOBS", "s3://taquilla-files/attachments"),
            ("TAQUILLA_MAIL", "ses://eu-west-1"),
            ("TAQUILLA_MASTER_KEY", KEY),
            ("PATH", "/usr/bin"),
        ]
    }

    #[test]
    fn the_inbound_source_comes_from_its_own_variables() {
        let mut pairs = aws_vars();
        pairs.push((INBOUND_BUCKET, "taquilla-inbound"));
        pairs.push((INBOUND_PREFIX, "mail/"));
        pairs.push(("TAQUILLA_STOER", "typo"));
        let config = from_env(vars(&pairs)).unwrap();
        let source = config.inbound.unwrap();
        assert_eq!(source.key("abc"), "mail/abc");
        assert_eq!(source.bucket, "taquilla-inbound");
        assert_eq!(config.unknown, vec!["TAQUILLA_STOER".to_owned()]);
    }

    #[test]
    fn without_a_prefix_the_key_is_the_message_id() {
        let mut pairs = aws_vars();
        pairs.push((INBOUND_BUCKET, "taquilla-inbound"));
        let source = from_env(vars(&pairs)).unwrap().inbound.unwrap();
        assert_eq!(source.key("abc"), "abc");
    }

    #[test]
    fn local_adapters_and_a_missing_master_key_are_refused() {
        let local = from_env(vars(&[("TAQUILLA_MASTER_KEY", KEY)])).unwrap_err();
        assert_eq!(local.key, "TAQUILLA_STORE");
        let mut pairs = aws_vars();
        pairs.retain(|(k, _)| *k != "TAQUILLA_MAIL");
        assert_eq!(from_env(vars(&pairs)).unwrap_err().key, "TAQUILLA_MAIL");
        let mut pairs = aws_vars();
        pairs.retain(|(k, _)| *k != MASTER_KEY);
        assert_eq!(from_env(vars(&pairs)).unwrap_err().key, MASTER_KEY);
        let mut pairs = aws_vars();
        pairs.retain(|(k, _)| *k != MASTER_KEY);
        pairs.push((MASTER_KEY, "not hex"));
        assert_eq!(from_env(vars(&pairs)).unwrap_err().key, MASTER_KEY);
    }

    #[test]
    fn the_master_key_never_prints() {
        let config = from_env(vars(&aws_vars())).unwrap();
        assert!(!format!("{config:?}").contains(KEY));
    }
}
