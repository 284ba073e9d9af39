//! The conformance suite of the `Blobs` port, written once and run against
//! every adapter (`it/blobs.rs` instantiates each case per adapter).
//!
//! Presigned URLs are exercised over real HTTP, with curl's semantics: the
//! method and URL as given, every listed header sent as is, the body's
//! length as `Content-Length`. `FsBlobs` URLs are answered by a small axum
//! route around `serve_get`/`accept_put`; `S3Blobs` URLs by the emulator.
//!
//! What the emulator does not enforce is stated where it matters (checked
//! against moto 5 with URLs presigned by the Rust SDK): it ignores the
//! signature and expiry of presigned requests, and stores a presigned PUT
//! whose body, length or content type differ from what was signed (real S3
//! refuses it: `BadDigest` or `SignatureDoesNotMatch`).

use std::sync::Arc;
use std::time::Duration;

use taquilla_core::blobs::{
    BlobError, BlobKey, Blobs, MAX_BLOB_KEY_BYTES, PresignedRequest, UploadSpec, sha256_hex,
};
use taquilla_core::clock::ManualClock;

/// An adapter under test, and how to reach its presigned URLs.
#[derive(Debug, Clone)]
pub struct BlobTarget {
    pub blobs: Arc<dyn Blobs>,
    /// The clock the adapter signs and checks expiry with, when the test
    /// controls it (`FsBlobs`); `None` when the backend uses its own time.
    pub clock: Option<Arc<ManualClock>>,
    /// Whether the backend refuses altered, expired or mismatching
    /// presigned requests (`false` for the emulator: see the module docs).
    pub enforces_signatures: bool,
    pub http: reqwest::Client,
}

/// What a presigned request got back.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Performs a presigned request as curl would: method, URL and headers as
/// given (`Content-Length` comes from the body), with `body`.
pub async fn perform(
    http: &reqwest::Client,
    request: &PresignedRequest,
    body: Vec<u8>,
) -> HttpResponse {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = http.request(method, &request.url);
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("content-length") {
            // The body sets it; a test that lies about the length sends another body.
            continue;
        }
        builder = builder.header(name, value);
    }
    if request.method == "PUT" {
        builder = builder.body(body);
    }
    let response = builder.send().await.unwrap();
    HttpResponse {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

fn key(name: &str) -> BlobKey {
    BlobKey::parse(name).unwrap()
}

fn spec_of(content_type: &str, bytes: &[u8]) -> UploadSpec {
    UploadSpec {
        content_type: content_type.to_owned(),
        size: bytes.len() as u64,
        sha256: sha256_hex(bytes),
    }
}

/// `put` records content type, size and SHA-256; `get` and `head` return them.
pub async fn put_get_head_round_trip(t: &BlobTarget) {
    let k = key("demo/att/01-report.pdf");
    let bytes = b"%PDF-1.7 not really\n\x00\xff".to_vec();
    let meta = t
        .blobs
        .put(&k, "application/pdf", bytes.clone())
        .await
        .unwrap();
    assert_eq!(meta.key, k);
    assert_eq!(meta.content_type, "application/pdf");
    assert_eq!(meta.size, bytes.len() as u64);
    assert_eq!(meta.sha256, sha256_hex(&bytes));

    let blob = t.blobs.get(&k).await.unwrap();
    assert_eq!(blob.meta, meta);
    assert_eq!(blob.bytes, bytes);
    assert_eq!(t.blobs.head(&k).await.unwrap(), meta);
}

/// `add` stores a new blob under a key named after the one asked for (the
/// asked key itself, or it with one more segment), which `get`, `head`, a
/// presigned download and `delete` then take; two adds under the same key
/// are two blobs.
pub async fn added_blobs_are_read_and_deleted_by_the_key_given_back(t: &BlobTarget) {
    let asked = key("demo/tickets/t1/e1/1-scan.png");
    let bytes = b"\x89PNG not really".to_vec();
    let meta = t
        .blobs
        .add(&asked, "image/png", bytes.clone())
        .await
        .unwrap();
    assert!(
        meta.key == asked || meta.key.as_str().starts_with(&format!("{asked}/")),
        "{meta:?}"
    );
    assert_eq!(meta.size, bytes.len() as u64);
    assert_eq!(meta.sha256, sha256_hex(&bytes));
    let blob = t.blobs.get(&meta.key).await.unwrap();
    assert_eq!(
        (blob.meta.clone(), blob.bytes),
        (meta.clone(), bytes.clone())
    );
    assert_eq!(t.blobs.head(&meta.key).await.unwrap(), meta);
    let url = t
        .blobs
        .presign_get(&meta.key, Duration::from_secs(300))
        .await
        .unwrap();
    let got = perform(&t.http, &url, Vec::new()).await;
    assert_eq!((got.status, got.body), (200, bytes));

    let asked2 = key("demo/tickets/t1/e1/2-notes.txt");
    let second = t
        .blobs
        .add(&asked2, "text/plain", b"second".to_vec())
        .await
        .unwrap();
    t.blobs.delete(&meta.key).await.unwrap();
    assert!(matches!(
        t.blobs.get(&meta.key).await,
        Err(BlobError::NotFound(_))
    ));
    t.blobs.delete(&meta.key).await.unwrap();
    assert_eq!(t.blobs.get(&second.key).await.unwrap().bytes, b"second");
    assert!(matches!(
        t.blobs.add(&asked2, "", b"x".to_vec()).await,
        Err(BlobError::InvalidUpload(_))
    ));
}

/// An empty blob is a blob, and a second `put` replaces the first.
pub async fn empty_blobs_and_replacement(t: &BlobTarget) {
    let k = key("demo/empty.txt");
    let meta = t.blobs.put(&k, "text/plain", Vec::new()).await.unwrap();
    assert_eq!(meta.size, 0);
    assert_eq!(t.blobs.get(&k).await.unwrap().bytes, Vec::<u8>::new());

    let meta = t
        .blobs
        .put(&k, "text/plain; charset=utf-8", "¡hola!".into())
        .await
        .unwrap();
    let blob = t.blobs.get(&k).await.unwrap();
    assert_eq!(blob.bytes, "¡hola!".as_bytes());
    assert_eq!(blob.meta, meta);
    assert_eq!(
        t.blobs.head(&k).await.unwrap().content_type,
        "text/plain; charset=utf-8"
    );
}

/// A key nobody wrote is `NotFound` for `get` and `head`.
pub async fn missing_key_is_not_found(t: &BlobTarget) {
    let k = key("demo/never-written.bin");
    assert!(matches!(t.blobs.get(&k).await, Err(BlobError::NotFound(_))));
    assert!(matches!(
        t.blobs.head(&k).await,
        Err(BlobError::NotFound(_))
    ));
}

/// Deleting removes the blob; deleting again (or a missing key) is fine.
pub async fn delete_is_idempotent(t: &BlobTarget) {
    let k = key("demo/gone.txt");
    t.blobs.put(&k, "text/plain", b"x".to_vec()).await.unwrap();
    t.blobs.delete(&k).await.unwrap();
    assert!(matches!(t.blobs.get(&k).await, Err(BlobError::NotFound(_))));
    t.blobs.delete(&k).await.unwrap();
    t.blobs.delete(&key("demo/never.txt")).await.unwrap();
}

/// Keys that are not plain paths never reach an adapter, and keys at the
/// edges of what is allowed work: a key and keys under it, dotted
/// segments, the longest key.
pub async fn keys_are_checked_and_edge_keys_work(t: &BlobTarget) {
    for bad in [
        "", "/a", "a/", "a//b", "a/../b", "./a", "a b", "a\\b", "ñ", "a?b",
    ] {
        assert!(
            matches!(BlobKey::parse(bad), Err(BlobError::InvalidKey(_))),
            "{bad:?} was accepted"
        );
    }
    let long = format!("demo/{}", "x".repeat(MAX_BLOB_KEY_BYTES - 5));
    assert!(BlobKey::parse(format!("{long}y")).is_err());
    let keys = [
        "demo/a",
        "demo/a/b",
        "demo/a.d",
        "demo/a.blob",
        "demo/.hidden",
        long.as_str(),
    ];
    for (i, name) in keys.iter().enumerate() {
        t.blobs
            .put(
                &key(name),
                "text/plain",
                vec![b'0' + u8::try_from(i).unwrap()],
            )
            .await
            .unwrap();
    }
    for (i, name) in keys.iter().enumerate() {
        let blob = t.blobs.get(&key(name)).await.unwrap();
        assert_eq!(blob.bytes, vec![b'0' + u8::try_from(i).unwrap()], "{name}");
    }
}

/// A presigned GET downloads the blob with its content type, and carries
/// its expiry; where the test controls time, it stops working after it.
pub async fn presigned_get_downloads_until_it_expires(t: &BlobTarget) {
    let k = key("demo/att/photo.png");
    let bytes = b"\x89PNG\r\n\x1a\nfake".to_vec();
    t.blobs.put(&k, "image/png", bytes.clone()).await.unwrap();

    let now = now_secs(t);
    let request = t
        .blobs
        .presign_get(&k, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(request.method, "GET");
    assert!(
        (now + 59..=now + 61).contains(&request.expires_at),
        "expires_at {} is not about 60 s after {now}",
        request.expires_at
    );
    let response = perform(&t.http, &request, Vec::new()).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, bytes);
    assert_eq!(response.content_type.as_deref(), Some("image/png"));

    if let Some(clock) = &t.clock {
        clock.advance_ms(61_000);
        let response = perform(&t.http, &request, Vec::new()).await;
        assert_eq!(response.status, 403, "an expired URL still works");
    }
}

/// A presigned PUT of exactly the declared content stores it; the blob then
/// reads back with the declared content type, size and SHA-256.
pub async fn presigned_put_of_declared_content_is_stored(t: &BlobTarget) {
    let k = key("demo/upload/notes.txt");
    let bytes = "línea uno\nlínea dos\n".as_bytes().to_vec();
    let spec = spec_of("text/plain; charset=utf-8", &bytes);
    let request = t
        .blobs
        .presign_put(&k, &spec, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(request.method, "PUT");
    assert!(
        request
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v == &spec.content_type),
        "the upload must be told to send its content type: {:?}",
        request.headers
    );
    let response = perform(&t.http, &request, bytes.clone()).await;
    assert!(
        (200..300).contains(&response.status),
        "upload failed with {}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    let blob = t.blobs.get(&k).await.unwrap();
    assert_eq!(blob.bytes, bytes);
    assert_eq!(blob.meta.content_type, spec.content_type);
    assert_eq!(blob.meta.size, spec.size);
    assert_eq!(blob.meta.sha256, spec.sha256);
    assert_eq!(t.blobs.head(&k).await.unwrap(), blob.meta);
}

/// An upload that differs from its declaration (other bytes of the same
/// size, more bytes, another content type) never reads back as a valid
/// blob: the backend refuses it, or, where the emulator stores other
/// bytes anyway, `get` reports the stored content `Corrupt`.
pub async fn presigned_put_of_other_content_is_refused(t: &BlobTarget) {
    let declared = b"declared content".to_vec();
    let spec = spec_of("text/plain", &declared);
    let attempts: [(&str, Vec<u8>, Option<&str>); 3] = [
        (
            "demo/mismatch/same-size",
            b"DECLARED CONTENT".to_vec(),
            None,
        ),
        (
            "demo/mismatch/longer",
            b"declared content and more".to_vec(),
            None,
        ),
        ("demo/mismatch/type", declared.clone(), Some("text/html")),
    ];
    for (name, body, content_type) in attempts {
        let k = key(name);
        let mut request = t
            .blobs
            .presign_put(&k, &spec, Duration::from_secs(300))
            .await
            .unwrap();
        if let Some(content_type) = content_type {
            for (n, v) in &mut request.headers {
                if n.eq_ignore_ascii_case("content-type") {
                    *v = content_type.to_owned();
                }
            }
        }
        let response = perform(&t.http, &request, body).await;
        let stored = t.blobs.get(&k).await;
        if t.enforces_signatures {
            assert!(
                (400..500).contains(&response.status),
                "{name}: mismatching upload answered {}",
                response.status
            );
            assert!(
                matches!(stored, Err(BlobError::NotFound(_))),
                "{name}: {stored:?}"
            );
        } else if content_type.is_none() {
            // moto stores other bytes; the adapter must not vouch for them.
            assert!(
                matches!(stored, Err(BlobError::Corrupt(_))),
                "{name}: {stored:?}"
            );
        }
    }
}

/// Presigned URLs whose signature, expiry, key or declaration were altered
/// are refused, and so are URLs for another method.
pub async fn tampered_presigned_urls_are_refused(t: &BlobTarget) {
    let k = key("demo/secret.txt");
    t.blobs
        .put(&k, "text/plain", b"secret".to_vec())
        .await
        .unwrap();
    let get = t
        .blobs
        .presign_get(&k, Duration::from_secs(60))
        .await
        .unwrap();
    let bytes = b"upload".to_vec();
    let put = t
        .blobs
        .presign_put(
            &key("demo/up.txt"),
            &spec_of("text/plain", &bytes),
            Duration::from_secs(60),
        )
        .await
        .unwrap();

    let altered = |request: &PresignedRequest, from: &str, to: &str| PresignedRequest {
        url: request.url.replacen(from, to, 1),
        ..request.clone()
    };
    let last_sig_char = get.url.chars().last().unwrap();
    let flipped = if last_sig_char == '0' { "1" } else { "0" };
    let mut bad_sig = get.clone();
    bad_sig.url.pop();
    bad_sig.url.push_str(flipped);
    let later = (get.expires_at + 3_600).to_string();
    let gets = [
        bad_sig,
        altered(&get, &get.expires_at.to_string(), &later),
        altered(&get, "demo/secret.txt", "demo/up.txt"),
        PresignedRequest {
            url: get.url.split('?').next().unwrap().to_owned(),
            ..get.clone()
        },
        PresignedRequest {
            method: "GET".to_owned(),
            ..put.clone()
        },
    ];
    for (i, request) in gets.iter().enumerate() {
        let response = perform(&t.http, request, Vec::new()).await;
        assert_eq!(
            response.status, 403,
            "altered GET {i} answered {}",
            response.status
        );
    }

    let puts = [
        altered(&put, "size=6", "size=7"),
        altered(&put, "demo/up.txt", "demo/secret.txt"),
        PresignedRequest {
            method: "PUT".to_owned(),
            ..get.clone()
        },
    ];
    for (i, request) in puts.iter().enumerate() {
        let response = perform(&t.http, request, bytes.clone()).await;
        assert_eq!(
            response.status, 403,
            "altered PUT {i} answered {}",
            response.status
        );
    }
    assert_eq!(t.blobs.get(&k).await.unwrap().bytes, b"secret");
    assert!(matches!(
        t.blobs.get(&key("demo/up.txt")).await,
        Err(BlobError::NotFound(_))
    ));
}

fn now_secs(t: &BlobTarget) -> i64 {
    use taquilla_core::clock::{Clock as _, SystemClock};
    t.clock
        .as_ref()
        .map_or_else(|| SystemClock.now_secs(), |c| c.now_secs())
}
