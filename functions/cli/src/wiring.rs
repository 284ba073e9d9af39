//! Adapters chosen by the configuration's URL schemes, wired into the ports.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use taquilla_core::blobs::{Blobs, SignedBlobs};
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::config::{BlobsUrl, MailUrl, Settings, StoreUrl};
use taquilla_core::mailer::Mailer;
use taquilla_core::secrets::{MasterKey, Purpose, SecretKey};
use taquilla_core::store::ItemStore;
use taquilla_local::{FsBlobs, OutboxMailer, SqliteStore};
use taquilla_web::{AppState, Pages};

/// The ports of one process, connected.
pub struct Runtime {
    pub settings: Settings,
    pub store: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn Blobs>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    signed_blobs: Option<Arc<dyn SignedBlobs>>,
    preparers: Vec<Preparer>,
    /// The agent-token key (`master.derive(Purpose::AgentTokens)`).
    pub token_key: Arc<SecretKey>,
    /// The reply-token key (`master.derive(Purpose::ReplyTokens)`).
    pub reply_key: Arc<SecretKey>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("store", &self.settings.store)
            .field("blobs", &self.settings.blobs)
            .field("mail", &self.settings.mail)
            .finish_non_exhaustive()
    }
}

/// Something `prepare` must create if missing (a table, a bucket, a folder).
enum Preparer {
    Dir(std::path::PathBuf),
    #[cfg(feature = "aws")]
    Table(taquilla_aws::DynamoStore),
    #[cfg(feature = "aws")]
    Bucket(taquilla_aws::S3Blobs),
}

fn create_dir(path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))
}

#[cfg(feature = "aws")]
async fn aws_config(target: &taquilla_core::config::AwsTarget) -> aws_config::SdkConfig {
    taquilla_aws::sdk_config(&taquilla_aws::AwsSettings {
        region: target.region.clone(),
        endpoint_url: target.endpoint_url.clone(),
        static_credentials: None,
    })
    .await
}

#[cfg(not(feature = "aws"))]
fn no_aws(what: &str) -> anyhow::Error {
    anyhow::anyhow!("{what} needs AWS support, which this build of taquilla leaves out")
}

impl Runtime {
    /// Connects every port as the settings say; creates nothing but local folders.
    pub async fn connect(settings: Settings, master: &MasterKey) -> anyhow::Result<Self> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mut preparers = Vec::new();

        let store: Arc<dyn ItemStore> = match &settings.store {
            StoreUrl::Sqlite { path } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    create_dir(dir)?;
                }
                Arc::new(
                    SqliteStore::open_with_clock(path, clock.clone())
                        .with_context(|| format!("opening {}", path.display()))?,
                )
            }
            #[cfg(feature = "aws")]
            StoreUrl::Dynamo { table, aws } => {
                let config = aws_config(aws).await;
                let store = taquilla_aws::DynamoStore::new(
                    aws_sdk_dynamodb::Client::new(&config),
                    table.clone(),
                )
                .with_clock(clock.clone());
                preparers.push(Preparer::Table(store.clone()));
                Arc::new(store)
            }
            #[cfg(not(feature = "aws"))]
            StoreUrl::Dynamo { .. } => return Err(no_aws("a DynamoDB store")),
        };

        let mut signed_blobs: Option<Arc<dyn SignedBlobs>> = None;
        let blobs: Arc<dyn Blobs> = match &settings.blobs {
            BlobsUrl::File { path } => {
                preparers.push(Preparer::Dir(path.clone()));
                let blobs = FsBlobs::new(
                    path.clone(),
                    settings.public_url.clone(),
                    master.derive(Purpose::BlobUrls).expose().to_vec(),
                    clock.clone(),
                );
                let blobs = Arc::new(blobs);
                signed_blobs = Some(blobs.clone());
                blobs
            }
            #[cfg(feature = "aws")]
            BlobsUrl::S3 {
                bucket,
                prefix,
                aws,
            } => {
                let config = aws_config(aws).await;
                let client = aws_sdk_s3::Client::from_conf(
                    aws_sdk_s3::config::Builder::from(&config)
                        .force_path_style(true)
                        .build(),
                );
                let blobs = taquilla_aws::S3Blobs::new(client, bucket.clone(), prefix.clone());
                preparers.push(Preparer::Bucket(blobs.clone()));
                Arc::new(blobs)
            }
            #[cfg(not(feature = "aws"))]
            BlobsUrl::S3 { .. } => return Err(no_aws("S3 blob storage")),
        };

        let mailer: Arc<dyn Mailer> = match &settings.mail {
            MailUrl::File { path } => {
                preparers.push(Preparer::Dir(path.clone()));
                Arc::new(OutboxMailer::new(path.clone()))
            }
            #[cfg(feature = "aws")]
            MailUrl::Ses { aws } => {
                let config = aws_config(aws).await;
                Arc::new(taquilla_aws::SesMailer::new(aws_sdk_sesv2::Client::new(
                    &config,
                )))
            }
            #[cfg(not(feature = "aws"))]
            MailUrl::Ses { .. } => return Err(no_aws("SES mail")),
        };

        Ok(Self {
            settings,
            store,
            blobs,
            mailer,
            clock,
            signed_blobs,
            preparers,
            token_key: Arc::new(master.derive(Purpose::AgentTokens)),
            reply_key: Arc::new(master.derive(Purpose::ReplyTokens)),
        })
    }

    /// Creates what is missing: the table, the bucket, the folders. Idempotent.
    pub async fn prepare(&self) -> anyhow::Result<()> {
        for preparer in &self.preparers {
            match preparer {
                Preparer::Dir(path) => create_dir(path)?,
                #[cfg(feature = "aws")]
                Preparer::Table(store) => store
                    .ensure_table()
                    .await
                    .with_context(|| format!("creating the DynamoDB table {}", store.table()))?,
                #[cfg(feature = "aws")]
                Preparer::Bucket(blobs) => blobs
                    .ensure_bucket()
                    .await
                    .context("creating the S3 bucket")?,
            }
        }
        Ok(())
    }

    /// The state the router's handlers share.
    pub fn app_state(&self) -> anyhow::Result<AppState> {
        Ok(AppState {
            store: self.store.clone(),
            blobs: self.blobs.clone(),
            mailer: self.mailer.clone(),
            clock: self.clock.clone(),
            signed_blobs: self.signed_blobs.clone(),
            pages: Arc::new(Pages::embedded().context("compiling the page templates")?),
            token_key: self.token_key.clone(),
            reply_key: self.reply_key.clone(),
        })
    }
}
