//! A deployment of the Lambda functions on the local AWS emulator
//! ([`crate::moto`]), as the functions' tests and the cold-start bench set
//! it up: a fresh DynamoDB table with the demo instance, an attachments
//! bucket and an inbound bucket of its own, the demo instance's mail
//! domain as an SES identity (so its mailboxes may send), and the
//! environment a function binary runs with there ([`Emulated::env`]).
//!
//! The test and the binary it starts ([`Emulated::start`], under the local
//! Runtime API of [`crate::runtime_api`]) share the table and buckets: the
//! test prepares what the event is about through the same adapters and
//! reads back what the function did. [`sent_to`] reads what the
//! emulator's SES recorded as sent.

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;
use taquilla_aws::{DynamoStore, S3Blobs, SesMailer};
use taquilla_core::clock::{Clock, SystemClock};
use taquilla_core::domain::{InstanceId, Ticket};
use taquilla_core::secrets::{MasterKey, Purpose};
use taquilla_core::services::tickets::{self, QueueFilter};
use taquilla_core::services::{Actor, Ctx, provision};
use taquilla_mail::reply_token::ReplyTokens;

use crate::moto;
use crate::runtime_api::{Function, lambda_binary};

/// The deployment's master key (`TAQUILLA_MASTER_KEY`).
pub const MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// The portal's address, for links in mail (`TAQUILLA_PUBLIC_URL`).
pub const PUBLIC_URL: &str = "https://help.example.edu";
/// The receipt rule's object key prefix (`TAQUILLA_INBOUND_PREFIX`).
pub const INBOUND_PREFIX: &str = "inbound/";
/// The demo instance's mail domain, an SES identity of the emulator.
pub const MAIL_DOMAIN: &str = "demo.taquilla.test";
/// The attachments' key prefix in the files bucket.
const ATTACHMENTS: &str = "attachments";

/// One deployment on the emulator; see the module docs.
pub struct Emulated {
    /// The emulator's address (`TAQUILLA_AWS_ENDPOINT_URL`).
    pub endpoint: String,
    pub table: String,
    /// The attachments bucket (`TAQUILLA_BLOBS`).
    pub files_bucket: String,
    /// The bucket SES stores received mail in (`TAQUILLA_INBOUND_BUCKET`).
    pub inbound_bucket: String,
    pub store: Arc<DynamoStore>,
    pub blobs: Arc<S3Blobs>,
    pub clock: Arc<dyn Clock>,
    pub s3: aws_sdk_s3::Client,
    pub ses: aws_sdk_sesv2::Client,
    pub demo: InstanceId,
}

impl std::fmt::Debug for Emulated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulated")
            .field("endpoint", &self.endpoint)
            .field("table", &self.table)
            .field("files_bucket", &self.files_bucket)
            .field("inbound_bucket", &self.inbound_bucket)
            .finish_non_exhaustive()
    }
}

impl Emulated {
    /// A fresh deployment whose table and buckets are named after `name`
    /// (and unique in the test process).
    pub async fn new(name: &str) -> Self {
        let endpoint = moto::moto().endpoint.clone();
        let sdk = taquilla_aws::sdk_config(&taquilla_aws::AwsSettings {
            region: moto::REGION.to_owned(),
            endpoint_url: Some(endpoint.clone()),
            static_credentials: Some((
                moto::ACCESS_KEY_ID.to_owned(),
                moto::SECRET_ACCESS_KEY.to_owned(),
            )),
        })
        .await;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let table = moto::unique_name(name);
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table.clone())
            .with_clock(clock.clone());
        store.ensure_table().await.expect("create the table");
        provision::ensure_demo(&store, clock.as_ref())
            .await
            .expect("provision the demo instance");
        // Path-style, as the functions' own client: the emulator is an IP.
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        let files_bucket = moto::unique_name("files");
        let blobs = S3Blobs::new(s3.clone(), files_bucket.clone(), format!("{ATTACHMENTS}/"));
        blobs
            .ensure_bucket()
            .await
            .expect("create the files bucket");
        let inbound_bucket = moto::unique_name("inbound");
        S3Blobs::new(s3.clone(), inbound_bucket.clone(), "")
            .ensure_bucket()
            .await
            .expect("create the inbound bucket");
        // moto keeps identities for the life of the process: a second
        // creation is refused, harmlessly.
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        let _ = ses
            .create_email_identity()
            .email_identity(MAIL_DOMAIN)
            .send()
            .await;
        Self {
            endpoint,
            table,
            files_bucket,
            inbound_bucket,
            store: Arc::new(store),
            blobs: Arc::new(blobs),
            clock,
            s3,
            ses,
            demo: InstanceId::parse("demo").expect("the demo instance's id"),
        }
    }

    /// The demo instance, on the system clock.
    #[must_use]
    pub fn ctx(&self) -> Ctx<'_> {
        self.ctx_at(self.clock.as_ref())
    }

    /// The demo instance, on `clock` (to write as if at another time).
    #[must_use]
    pub fn ctx_at<'a>(&'a self, clock: &'a dyn Clock) -> Ctx<'a> {
        Ctx {
            store: self.store.as_ref(),
            blobs: self.blobs.as_ref(),
            clock,
            instance: &self.demo,
        }
    }

    /// The master key the functions run with.
    #[must_use]
    pub fn master(&self) -> MasterKey {
        MasterKey::from_hex(MASTER_KEY).expect("a valid master key")
    }

    /// The reply tokens the functions sign with.
    #[must_use]
    pub fn reply_tokens(&self) -> ReplyTokens {
        ReplyTokens::new(self.master().derive(Purpose::ReplyTokens))
    }

    /// Mail through the emulator's SES, as the functions send it.
    #[must_use]
    pub fn mailer(&self) -> SesMailer {
        SesMailer::new(self.ses.clone())
    }

    /// The environment a function binary runs with on this deployment: the
    /// `TAQUILLA_*` variables the template sets, the emulator's endpoint,
    /// and the region and credentials Lambda gives a function.
    #[must_use]
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("TAQUILLA_STORE", format!("dynamodb://{}", self.table)),
            (
                "TAQUILLA_BLOBS",
                format!("s3://{}/{ATTACHMENTS}", self.files_bucket),
            ),
            ("TAQUILLA_MAIL", format!("ses://{}", moto::REGION)),
            ("TAQUILLA_PUBLIC_URL", PUBLIC_URL.to_owned()),
            ("TAQUILLA_MASTER_KEY", MASTER_KEY.to_owned()),
            ("TAQUILLA_INBOUND_BUCKET", self.inbound_bucket.clone()),
            ("TAQUILLA_INBOUND_PREFIX", INBOUND_PREFIX.to_owned()),
            ("TAQUILLA_LOG", "info".to_owned()),
            ("TAQUILLA_AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", moto::REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", moto::SECRET_ACCESS_KEY.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The function binary `name` of `taquilla-lambda`, started on this
    /// deployment with [`Emulated::env`].
    pub async fn start(&self, name: &str) -> Function {
        self.start_with(name, &self.env()).await
    }

    /// The function binary `name`, started with `env` (e.g. [`Emulated::env`]
    /// changed by [`set_var`]).
    pub async fn start_with(&self, name: &str, env: &[(String, String)]) -> Function {
        Function::start(&lambda_binary(name), env).await
    }

    /// Stores `raw` in the inbound bucket as SES does for `message_id`.
    pub async fn receive(&self, message_id: &str, raw: &[u8]) {
        self.s3
            .put_object()
            .bucket(&self.inbound_bucket)
            .key(format!("{INBOUND_PREFIX}{message_id}"))
            .body(ByteStream::from(raw.to_vec()))
            .send()
            .await
            .expect("store the received message");
    }

    /// The demo instance's open tickets, newest first.
    pub async fn open_tickets(&self) -> Vec<Ticket> {
        tickets::queue(&self.ctx(), &system(), &QueueFilter::default())
            .await
            .expect("the demo instance's queue")
            .items
    }
}

/// The actor tests read and write as.
#[must_use]
pub fn system() -> Actor {
    Actor::System("test".into())
}

/// Sets `key` to `value` in `env`, or removes it (`None`).
pub fn set_var(env: &mut Vec<(String, String)>, key: &str, value: Option<&str>) {
    env.retain(|(k, _)| k != key);
    if let Some(value) = value {
        env.push((key.to_owned(), value.to_owned()));
    }
}

/// The raw messages (MIME text) the emulator's SES recorded as sent to
/// `address`, oldest first.
pub async fn sent_to(address: &str) -> Vec<String> {
    let url = format!("{}/moto-api/data.json", moto::moto().endpoint);
    let body = reqwest::get(url)
        .await
        .expect("the emulator's data")
        .bytes()
        .await
        .expect("the emulator's data");
    let data: Value = serde_json::from_slice(&body).expect("the emulator's data as JSON");
    data["ses"]["RawMessage"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m["destinations"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d == address))
        })
        .filter_map(|m| m["raw_data"].as_str().map(str::to_owned))
        .collect()
}
