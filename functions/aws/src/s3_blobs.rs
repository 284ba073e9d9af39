//! `S3Blobs`: the `Blobs` port on an S3 bucket, under a key prefix.
//!
//! Each object carries its content type as `Content-Type` and its SHA-256 as
//! user metadata `x-amz-meta-sha256` (lower-case hex, what [`BlobMeta`]
//! records); uploads also send `x-amz-checksum-sha256`, so S3 checks the
//! content on arrival. Presigned uploads sign `Content-Type`,
//! `Content-Length`, `x-amz-checksum-sha256` and `x-amz-meta-sha256`: the
//! client must send them exactly as listed in [`PresignedRequest::headers`],
//! and S3 refuses an upload whose body does not match them.
//!
//! Errors: a missing object is [`BlobError::NotFound`]; everything else S3
//! or the network reports (throttling, 5xx, timeouts, a missing bucket or
//! access denied) is [`BlobError::Unavailable`], after the SDK's retries.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use taquilla_core::blobs::{
    Blob, BlobError, BlobKey, BlobMeta, Blobs, PresignedRequest, UploadSpec, validate_content_type,
};
use taquilla_core::report::error_chain as chain;

/// User metadata field holding the lower-case hex SHA-256 of the content.
pub const SHA256_METADATA: &str = "sha256";

/// Blobs in one S3 bucket; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
    prefix: String,
}

impl S3Blobs {
    /// Blobs in `bucket`, every key under `prefix` (`""` for none; a `/` is
    /// added unless it ends with one). For emulators, build the client with
    /// `force_path_style(true)`.
    #[must_use]
    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        let mut prefix = prefix.into();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Self {
            client,
            bucket: bucket.into(),
            prefix,
        }
    }

    /// The bucket's name.
    #[must_use]
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket in the client's region unless it exists (for
    /// `taquilla init` and the tests; a deployment's template creates it).
    pub async fn ensure_bucket(&self) -> Result<(), BlobError> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => return Ok(()),
            Err(e) if status(&e) != Some(404) => return Err(unavailable(&e)),
            Err(_) => {}
        }
        let mut create = self.client.create_bucket().bucket(&self.bucket);
        let region = self.client.config().region().map(ToString::to_string);
        if let Some(region) = region.filter(|r| r != "us-east-1") {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(e) => Err(unavailable(&e)),
        }
    }

    fn object_key(&self, key: &BlobKey) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(
        &self,
        key: &BlobKey,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<BlobMeta, BlobError> {
        validate_content_type(content_type)?;
        let meta = BlobMeta::of(key, content_type, &bytes);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .content_type(content_type)
            .checksum_sha256(hex_to_base64(&meta.sha256)?)
            .metadata(SHA256_METADATA, &meta.sha256)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(meta)
    }

    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
            .map_err(|e| not_found_or_unavailable(key, &e))?;
        let content_type = out.content_type().unwrap_or_default().to_owned();
        let recorded = out.metadata().and_then(|m| m.get(SHA256_METADATA)).cloned();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Unavailable(format!("reading {key}: {}", chain(&e))))?
            .to_vec();
        let meta = BlobMeta::of(key, &content_type, &bytes);
        // An object written by another tool may lack the metadata; if present it must agree.
        if recorded.is_some_and(|sha| sha != meta.sha256) {
            return Err(BlobError::Corrupt(format!(
                "{key}: content differs from the recorded sha256"
            )));
        }
        Ok(Blob { meta, bytes })
    }

    async fn head(&self, key: &BlobKey) -> Result<BlobMeta, BlobError> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
            .map_err(|e| not_found_or_unavailable(key, &e))?;
        let sha256 = out
            .metadata()
            .and_then(|m| m.get(SHA256_METADATA))
            .cloned()
            .ok_or_else(|| BlobError::Corrupt(format!("{key}: no sha256 metadata")))?;
        Ok(BlobMeta {
            key: key.clone(),
            content_type: out.content_type().unwrap_or_default().to_owned(),
            size: out
                .content_length()
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or_default(),
            sha256,
        })
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }

    async fn presign_get(
        &self,
        key: &BlobKey,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        let (config, expires_at) = presigning(ttl)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .presigned(config)
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(to_request(&request, expires_at))
    }

    async fn presign_put(
        &self,
        key: &BlobKey,
        spec: &UploadSpec,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        spec.validate()?;
        let size = i64::try_from(spec.size)
            .map_err(|_| BlobError::InvalidUpload(format!("size {} too large", spec.size)))?;
        let (config, expires_at) = presigning(ttl)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .content_type(&spec.content_type)
            .content_length(size)
            .checksum_sha256(hex_to_base64(&spec.sha256)?)
            .metadata(SHA256_METADATA, &spec.sha256)
            .presigned(config)
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(to_request(&request, expires_at))
    }
}

/// The presigning configuration for `ttl` from now, and its expiry in epoch seconds.
fn presigning(ttl: Duration) -> Result<(PresigningConfig, i64), BlobError> {
    let now = SystemTime::now();
    let config = PresigningConfig::builder()
        .start_time(now)
        .expires_in(ttl)
        .build()
        .map_err(|e| BlobError::InvalidUpload(format!("presigned URL lifetime: {e}")))?;
    let expires_at = (now + ttl)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Ok((config, expires_at))
}

fn to_request(
    request: &aws_sdk_s3::presigning::PresignedRequest,
    expires_at: i64,
) -> PresignedRequest {
    PresignedRequest {
        method: request.method().to_owned(),
        url: request.uri().to_owned(),
        headers: request
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        expires_at,
    }
}

/// S3's checksum header wants base64 of the digest; we record lower-case hex.
fn hex_to_base64(sha256: &str) -> Result<String, BlobError> {
    let digest = hex::decode(sha256)
        .map_err(|_| BlobError::InvalidUpload(format!("sha256 {sha256:?} is not hex")))?;
    Ok(BASE64.encode(digest))
}

fn status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

fn not_found_or_unavailable<E>(key: &BlobKey, e: &SdkError<E, HttpResponse>) -> BlobError
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    classify(key, status(e), e.code(), chain(e))
}

/// `NotFound` for a missing object (`NoSuchKey`, or a bare 404 as `HEAD`
/// answers) but not for a missing bucket; `Unavailable` for the rest.
fn classify(key: &BlobKey, status: Option<u16>, code: Option<&str>, text: String) -> BlobError {
    let missing_object =
        code == Some("NoSuchKey") || (status == Some(404) && !matches!(code, Some("NoSuchBucket")));
    if missing_object {
        BlobError::NotFound(key.to_string())
    } else {
        BlobError::Unavailable(text)
    }
}

fn unavailable<E: StdError + 'static>(e: &SdkError<E, HttpResponse>) -> BlobError {
    BlobError::Unavailable(chain(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use taquilla_core::blobs::sha256_hex;

    #[test]
    fn checksums_travel_as_base64_of_the_digest() {
        let hex = sha256_hex(b"hello");
        assert_eq!(
            hex_to_base64(&hex).unwrap(),
            "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
        );
        assert!(hex_to_base64("zz").is_err());
    }

    #[test]
    fn only_a_missing_object_is_not_found() {
        let key = BlobKey::parse("a/b").unwrap();
        let not_found = [
            (Some(404), Some("NoSuchKey")),
            (Some(404), None),
            (None, Some("NoSuchKey")),
        ];
        for (status, code) in not_found {
            let err = classify(&key, status, code, String::new());
            assert_eq!(
                err,
                BlobError::NotFound("a/b".into()),
                "{status:?} {code:?}"
            );
        }
        let unavailable = [
            (Some(404), Some("NoSuchBucket")),
            (Some(503), Some("SlowDown")),
            (Some(500), Some("InternalError")),
            (Some(403), Some("AccessDenied")),
            (None, None),
        ];
        for (status, code) in unavailable {
            let err = classify(&key, status, code, String::new());
            assert!(err.is_retryable(), "{status:?} {code:?}: {err:?}");
        }
    }
}
