//! The `Blobs` conformance suite against every adapter: `FsBlobs` (its
//! signed URLs answered by the real router on port 0) and `S3Blobs` (on
//! the emulator, a fresh bucket per test).

use std::sync::Arc;

use taquilla_tests::blob_suite::BlobTarget;

/// One `#[tokio::test]` per case, each on a fresh target from `$setup`.
macro_rules! blob_cases {
    ($setup:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let (target, _guard) = $setup().await;
                taquilla_tests::blob_suite::$case(&target).await;
            }
        )+
    };
}

mod fs {
    use super::*;
    use taquilla_core::blobs::BlobKey;
    use taquilla_core::clock::{Clock, ManualClock};
    use taquilla_local::{FsBlobs, OutboxMailer, SqliteStore};

    /// A fresh data directory behind the real router on a loopback port:
    /// the signed URLs `FsBlobs` hands out are answered by the local server's
    /// own `/blobs/{key}` route.
    pub async fn setup() -> (BlobTarget, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let clock = Arc::new(ManualClock::at_ms(1_800_000_000_000));
        let blobs = Arc::new(FsBlobs::new(
            dir.path().join("blobs"),
            base_url,
            b"test signing key".to_vec(),
            clock.clone(),
        ));
        let state = taquilla_web::AppState {
            store: Arc::new(
                SqliteStore::open_with_clock(&dir.path().join("t.db"), clock.clone()).unwrap(),
            ),
            blobs: blobs.clone(),
            mailer: Arc::new(OutboxMailer::new(dir.path().join("outbox"))),
            clock: clock.clone() as Arc<dyn Clock>,
            signed_blobs: Some(blobs.clone()),
            pages: Arc::new(taquilla_web::Pages::embedded().unwrap()),
            token_key: Arc::new(
                taquilla_core::secrets::MasterKey::from_hex(&"00".repeat(32))
                    .unwrap()
                    .derive(taquilla_core::secrets::Purpose::AgentTokens),
            ),
            reply_key: Arc::new(
                taquilla_core::secrets::MasterKey::from_hex(&"00".repeat(32))
                    .unwrap()
                    .derive(taquilla_core::secrets::Purpose::ReplyTokens),
            ),
        };
        let app = taquilla_web::router(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        let target = BlobTarget {
            blobs,
            clock: Some(clock),
            enforces_signatures: true,
            http: reqwest::Client::new(),
        };
        (target, dir)
    }

    blob_cases!(setup;
        put_get_head_round_trip,
        added_blobs_are_read_and_deleted_by_the_key_given_back,
        empty_blobs_and_replacement,
        missing_key_is_not_found,
        delete_is_idempotent,
        keys_are_checked_and_edge_keys_work,
        presigned_get_downloads_until_it_expires,
        presigned_put_of_declared_content_is_stored,
        presigned_put_of_other_content_is_refused,
        tampered_presigned_urls_are_refused,
    );

    #[tokio::test]
    async fn a_path_that_is_not_a_key_is_refused_by_the_route() {
        let (target, _dir) = setup().await;
        let request = target
            .blobs
            .presign_get(
                &BlobKey::parse("a/b").unwrap(),
                std::time::Duration::from_secs(9),
            )
            .await
            .unwrap();
        let url = request.url.replace("/blobs/a/b", "/blobs/a/%2Fb");
        let response = target.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 400);
    }
}

/// Crash safety of the blob folder: a writer killed mid-burst leaves every
/// acknowledged blob whole under its key, and no blob half-written; blobs
/// added to a pack stay whole across the later writers that take the pack
/// over after its torn end.
mod fs_crash {
    use std::collections::BTreeMap;
    use std::io::{BufRead as _, BufReader};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::sync::Arc;

    use taquilla_core::blobs::{BlobError, BlobKey, Blobs as _};
    use taquilla_core::clock::SystemClock;
    use taquilla_local::FsBlobs;

    /// Runs `blob-writer` on `root`, kills it (SIGKILL) after `acks`
    /// acknowledged puts, and returns every line it printed.
    fn run_writer_and_kill(root: &Path, acks: usize) -> Vec<String> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_blob-writer"))
            .arg(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed = Vec::new();
        let mut acked = 0;
        while acked < acks {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("the writer ended after {acked} puts"))
                .unwrap();
            acked += usize::from(line.starts_with("put ") || line.starts_with("add "));
            printed.push(line);
        }
        child.kill().unwrap();
        assert!(!child.wait().unwrap().success(), "the writer was killed");
        printed.extend(lines.map(Result::unwrap));
        printed
    }

    /// Every acknowledged key holds its last acknowledged content or one
    /// tried after it; a key only tried holds nothing or a whole content;
    /// every added blob reads back whole at the key it was given.
    async fn assert_whole(root: &Path, printed: &[String]) {
        let blobs = FsBlobs::new(
            root.to_path_buf(),
            "http://127.0.0.1:1".into(),
            b"blob-writer".to_vec(),
            Arc::new(SystemClock),
        );
        // Per key: the contents in the order tried, and how many of them
        // (counted from the first) were acknowledged.
        let mut keys: BTreeMap<String, (Vec<String>, usize)> = BTreeMap::new();
        let mut added = Vec::new();
        for line in printed {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["try", key, sha] => keys
                    .entry((*key).to_owned())
                    .or_default()
                    .0
                    .push((*sha).to_owned()),
                ["put", key, sha] => {
                    let (tried, acked) = keys.get_mut(*key).expect("tried before put");
                    let at = tried.iter().rposition(|s| s == sha).expect("a tried sha");
                    *acked = (*acked).max(at + 1);
                }
                ["add", key, sha, located] => {
                    assert!(keys.remove(*key).is_some(), "{key} tried before added");
                    added.push(((*located).to_owned(), (*sha).to_owned()));
                }
                _ => panic!("unexpected line from the writer: {line:?}"),
            }
        }
        let (mut acked_keys, mut unacked_keys) = (0, 0);
        for (key, (tried, acked)) in &keys {
            let found = blobs.get(&BlobKey::parse(key.as_str()).unwrap()).await;
            match found {
                Ok(blob) => {
                    // Possible contents: the last acknowledged one and later tries.
                    let possible = &tried[acked.saturating_sub(1)..];
                    assert!(
                        possible.contains(&blob.meta.sha256),
                        "{key} holds content never promised"
                    );
                }
                Err(BlobError::NotFound(_)) => {
                    assert_eq!(*acked, 0, "acknowledged blob {key} is lost");
                }
                Err(other) => panic!("{key}: {other}"),
            }
            if *acked > 0 {
                acked_keys += 1;
            } else {
                unacked_keys += 1;
            }
        }
        for (located, sha) in &added {
            let blob = blobs.get(&BlobKey::parse(located.as_str()).unwrap()).await;
            let blob = blob.unwrap_or_else(|e| panic!("added blob {located}: {e}"));
            assert_eq!(&blob.meta.sha256, sha, "{located}");
        }
        assert!(!added.is_empty(), "nothing was added");
        assert!(acked_keys > 0, "nothing was acknowledged");
        println!(
            "{acked_keys} acknowledged keys whole, {unacked_keys} interrupted ones absent or \
             whole, {} added blobs whole",
            added.len()
        );
    }

    #[tokio::test]
    async fn acknowledged_blobs_survive_sigkill_of_the_writer_and_none_is_half_written() {
        let dir = tempfile::tempdir().unwrap();
        // Each run's output is checked again after the later runs: they
        // take over the packs the killed ones left with a torn end.
        let mut printed = Vec::new();
        for acks in [300, 50, 600] {
            printed.extend(run_writer_and_kill(dir.path(), acks));
            assert_whole(dir.path(), &printed).await;
        }
    }
}

mod s3 {
    use super::*;
    use std::time::Duration;
    use taquilla_aws::S3Blobs;
    use taquilla_tests::moto;

    /// An `S3Blobs` on a fresh bucket of the emulator, under a prefix.
    pub async fn setup() -> (BlobTarget, ()) {
        let blobs = s3_blobs(&moto::unique_name("blobs"), "att").await;
        blobs.ensure_bucket().await.unwrap();
        let target = BlobTarget {
            blobs: Arc::new(blobs),
            clock: None,
            enforces_signatures: false,
            http: reqwest::Client::new(),
        };
        (target, ())
    }

    async fn s3_blobs(bucket: &str, prefix: &str) -> S3Blobs {
        s3_blobs_at(&moto::moto().endpoint, bucket, prefix).await
    }

    /// An `S3Blobs` on the S3 at `endpoint`, retrying quickly.
    async fn s3_blobs_at(endpoint: &str, bucket: &str, prefix: &str) -> S3Blobs {
        let settings = taquilla_aws::AwsSettings {
            region: moto::REGION.to_owned(),
            endpoint_url: Some(endpoint.to_owned()),
            static_credentials: Some((
                moto::ACCESS_KEY_ID.to_owned(),
                moto::SECRET_ACCESS_KEY.to_owned(),
            )),
        };
        let config = taquilla_aws::sdk_config(&settings).await;
        let client = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .retry_config(taquilla_aws::sdk::retry_config_with_backoff(
                    Duration::from_millis(1),
                    Duration::from_millis(5),
                ))
                .build(),
        );
        S3Blobs::new(client, bucket, prefix)
    }

    blob_cases!(setup;
        put_get_head_round_trip,
        added_blobs_are_read_and_deleted_by_the_key_given_back,
        empty_blobs_and_replacement,
        missing_key_is_not_found,
        delete_is_idempotent,
        keys_are_checked_and_edge_keys_work,
        presigned_get_downloads_until_it_expires,
        presigned_put_of_declared_content_is_stored,
        presigned_put_of_other_content_is_refused,
    );

    #[tokio::test]
    async fn a_presigned_put_binds_type_length_and_checksum() {
        let (target, ()) = setup().await;
        let spec = taquilla_core::blobs::UploadSpec {
            content_type: "text/plain".into(),
            size: 5,
            sha256: taquilla_core::blobs::sha256_hex(b"hello"),
        };
        let key = taquilla_core::blobs::BlobKey::parse("x.txt").unwrap();
        let request = target
            .blobs
            .presign_put(&key, &spec, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        let mut names: Vec<String> = request
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "content-length",
                "content-type",
                "x-amz-checksum-sha256",
                "x-amz-meta-sha256"
            ]
        );
        let signed = request
            .url
            .split("X-Amz-SignedHeaders=")
            .nth(1)
            .unwrap_or_default();
        for name in names {
            assert!(signed.contains(&name), "{name} is not signed: {signed}");
        }
        assert!(request.url.contains("X-Amz-Expires=60"));
    }

    #[tokio::test]
    async fn ensure_bucket_is_idempotent_and_a_missing_bucket_is_unavailable() {
        let blobs = s3_blobs(&moto::unique_name("blobs"), "").await;
        blobs.ensure_bucket().await.unwrap();
        blobs.ensure_bucket().await.unwrap();
        let missing = s3_blobs(&moto::unique_name("missing"), "").await;
        let key = taquilla_core::blobs::BlobKey::parse("a").unwrap();
        use taquilla_core::blobs::{BlobError, Blobs as _};
        assert!(matches!(
            missing.get(&key).await,
            Err(BlobError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn an_unreachable_s3_is_unavailable() {
        use taquilla_core::blobs::{BlobError, Blobs as _};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let blobs = s3_blobs_at(&format!("http://127.0.0.1:{port}"), "nowhere", "").await;
        let key = taquilla_core::blobs::BlobKey::parse("a").unwrap();
        let put = blobs.put(&key, "text/plain", b"x".to_vec()).await;
        assert!(
            matches!(&put, Err(e @ BlobError::Unavailable(_)) if e.is_retryable()),
            "{put:?}"
        );
        assert!(matches!(
            blobs.get(&key).await,
            Err(BlobError::Unavailable(_))
        ));
        assert!(matches!(
            blobs.head(&key).await,
            Err(BlobError::Unavailable(_))
        ));
    }
}
