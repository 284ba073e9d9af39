//! Throttling is retried by the SDK configuration, and still-failing
//! throttling ends in `StoreError::Unavailable`.
//!
//! Neither DynamoDB Local nor moto can be made to throttle, so these tests
//! talk to a stand-in: a tiny plain-HTTP/1.1 server on a loopback port that
//! answers DynamoDB's JSON protocol with HTTP 400
//! `com.amazonaws.dynamodb.v20120810#ThrottlingException` (exactly what
//! DynamoDB sends when it throttles) a given number of times, and then a
//! valid `GetItem` response.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use taquilla_aws::sdk::{MAX_ATTEMPTS, retry_config_with_backoff};
use taquilla_aws::{AwsSettings, DynamoStore, sdk_config};
use taquilla_core::store::{ItemStore, Key, StoreError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#;
const ITEM: &str = r#"{"Item":{"pk":{"S":"p"},"sk":{"S":"s"},"n":{"N":"7"}}}"#;

/// A fake DynamoDB that throttles the first `throttle` requests.
struct FakeDynamo {
    endpoint: String,
    requests: Arc<AtomicUsize>,
}

impl FakeDynamo {
    async fn start(throttle: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&counter), throttle));
            }
        });
        Self { endpoint, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Answers every request on one (keep-alive) connection.
async fn serve(stream: TcpStream, requests: Arc<AtomicUsize>, throttle: usize) {
    let mut stream = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let seen = requests.fetch_add(1, Ordering::SeqCst);
        let (status, reply) = if seen < throttle {
            ("400 Bad Request", THROTTLED)
        } else {
            ("200 OK", ITEM)
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\n\
             x-amzn-requestid: fake\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if stream
            .get_mut()
            .write_all(response.as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

async fn store(endpoint: &str) -> DynamoStore {
    let config = sdk_config(&AwsSettings {
        region: "eu-west-1".into(),
        endpoint_url: Some(endpoint.to_owned()),
        static_credentials: Some(("testing".into(), "testing".into())),
    })
    .await;
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), "table").with_retry(
        retry_config_with_backoff(Duration::from_millis(1), Duration::from_millis(5)),
    )
}

#[tokio::test]
async fn a_throttled_call_succeeds_after_retries() {
    let fake = FakeDynamo::start(2).await;
    let store = store(&fake.endpoint).await;
    let item = store.get(&Key::new("p", "s")).await.unwrap().unwrap();
    assert_eq!(item.get_i64("n"), Some(7));
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn throttling_that_never_ends_is_unavailable() {
    let fake = FakeDynamo::start(usize::MAX).await;
    let store = store(&fake.endpoint).await;
    let err = store.get(&Key::new("p", "s")).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("ThrottlingException"), "{err}");
    assert_eq!(fake.requests(), MAX_ATTEMPTS as usize);
}
