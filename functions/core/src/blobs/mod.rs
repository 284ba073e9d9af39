//! The `Blobs` port: attachments and other files, with their content type,
//! size and SHA-256 recorded.
//!
//! Adapters: `FsBlobs` (files under the data directory, with signed URLs the
//! local server answers) and `S3Blobs` (S3, with presigned URLs).

pub mod signed;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use thiserror::Error;

/// Longest blob key, in bytes.
pub const MAX_BLOB_KEY_BYTES: usize = 512;

/// The name of a blob: `/`-separated segments of ASCII letters, digits, `.`,
/// `_` and `-`; no empty, `.` or `..` segment. Safe as a file path and as an
/// S3 key, so no adapter has to escape it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobKey(String);

impl BlobKey {
    pub fn parse(key: impl Into<String>) -> Result<Self, BlobError> {
        let key = key.into();
        let bad = |why: &str| Err(BlobError::InvalidKey(format!("{key:?}: {why}")));
        if key.is_empty() {
            return bad("empty");
        }
        if key.len() > MAX_BLOB_KEY_BYTES {
            return bad("too long");
        }
        for segment in key.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return bad("empty, '.' or '..' segment");
            }
            if !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                return bad("only letters, digits, '.', '_', '-' and '/' are allowed");
            }
        }
        Ok(Self(key))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BlobKey {
    type Error = BlobError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<BlobKey> for String {
    fn from(key: BlobKey) -> Self {
        key.0
    }
}

/// What is recorded of a stored blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMeta {
    pub key: BlobKey,
    pub content_type: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
}

impl BlobMeta {
    /// What a store records of `bytes` stored under `key` as `content_type`.
    #[must_use]
    pub fn of(key: &BlobKey, content_type: &str, bytes: &[u8]) -> Self {
        Self {
            key: key.clone(),
            content_type: content_type.to_owned(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }
}

/// Lower-case hex SHA-256 of `bytes`, as recorded in [`BlobMeta::sha256`].
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Longest content type, in bytes.
pub const MAX_CONTENT_TYPE_BYTES: usize = 255;

/// Checks that a content type can travel in an HTTP header and a signed URL:
/// non-empty, at most [`MAX_CONTENT_TYPE_BYTES`], printable ASCII and spaces only.
pub fn validate_content_type(content_type: &str) -> Result<(), BlobError> {
    if content_type.is_empty()
        || content_type.len() > MAX_CONTENT_TYPE_BYTES
        || !content_type
            .bytes()
            .all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return Err(BlobError::InvalidUpload(format!(
            "content type {content_type:?} is empty, too long or not printable ASCII"
        )));
    }
    Ok(())
}

/// A blob with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub meta: BlobMeta,
    pub bytes: Vec<u8>,
}

/// What an uploader declares before it gets an upload URL; the store refuses
/// an upload that does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSpec {
    pub content_type: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the content to upload.
    pub sha256: String,
}

impl UploadSpec {
    /// Checks the declaration itself: a valid content type and a 64-digit
    /// lower-case hex SHA-256.
    pub fn validate(&self) -> Result<(), BlobError> {
        validate_content_type(&self.content_type)?;
        if self.sha256.len() != 64
            || !self
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(BlobError::InvalidUpload(format!(
                "sha256 {:?} is not 64 lower-case hex digits",
                self.sha256
            )));
        }
        Ok(())
    }

    /// Checks that an upload is exactly what was declared.
    pub fn check(&self, content_type: &str, bytes: &[u8]) -> Result<(), BlobError> {
        if content_type != self.content_type {
            return Err(BlobError::InvalidUpload(format!(
                "content type {content_type:?} differs from the declared {:?}",
                self.content_type
            )));
        }
        if bytes.len() as u64 != self.size {
            return Err(BlobError::InvalidUpload(format!(
                "{} bytes uploaded, {} declared",
                bytes.len(),
                self.size
            )));
        }
        if sha256_hex(bytes) != self.sha256 {
            return Err(BlobError::InvalidUpload(
                "content does not match the declared sha256".to_owned(),
            ));
        }
        Ok(())
    }
}

/// A request a client can make without credentials until it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignedRequest {
    /// `GET` or `PUT`.
    pub method: String,
    pub url: String,
    /// Headers the client must send exactly as given.
    pub headers: Vec<(String, String)>,
    /// Epoch seconds after which the URL no longer works.
    pub expires_at: i64,
}

/// What can go wrong with blobs. Each variant has a stable [`code`](BlobError::code).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BlobError {
    #[error("no blob with key {0}")]
    NotFound(String),
    #[error("invalid blob key {0}")]
    InvalidKey(String),
    /// An upload or its declaration is inconsistent (size, checksum, content type).
    #[error("invalid upload: {0}")]
    InvalidUpload(String),
    /// A signed URL is malformed, forged or expired.
    #[error("invalid or expired signature")]
    InvalidSignature,
    /// The backend cannot be reached now; retrying may succeed.
    #[error("blob storage unavailable: {0}")]
    Unavailable(String),
    /// What is stored cannot be read back.
    #[error("blob storage corrupt: {0}")]
    Corrupt(String),
}

impl BlobError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::NotFound(_) => "blob_not_found",
            BlobError::InvalidKey(_) => "invalid_blob_key",
            BlobError::InvalidUpload(_) => "invalid_upload",
            BlobError::InvalidSignature => "invalid_signature",
            BlobError::Unavailable(_) => "blobs_unavailable",
            BlobError::Corrupt(_) => "blobs_corrupt",
        }
    }

    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, BlobError::Unavailable(_))
    }
}

/// Blob storage that answers its own signed URLs: the local `FsBlobs`,
/// whose URLs the local server's `/blobs/{key}` route serves. (S3 answers
/// its presigned URLs itself, so `S3Blobs` has no need of this.)
#[async_trait]
pub trait SignedBlobs: Send + Sync + std::fmt::Debug {
    /// The blob, if `query` is a valid, unexpired download signature for `key`.
    async fn serve_get(&self, key: &BlobKey, query: &str) -> Result<Blob, BlobError>;

    /// Stores `body`, if `query` is a valid, unexpired upload signature for
    /// `key` and the body and its content type are exactly what was declared
    /// when the URL was signed.
    async fn accept_put(
        &self,
        key: &BlobKey,
        query: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<BlobMeta, BlobError>;
}

/// The attachments port.
#[async_trait]
pub trait Blobs: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` under `key`, replacing any blob there, and returns what was recorded.
    async fn put(
        &self,
        key: &BlobKey,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<BlobMeta, BlobError>;

    /// Stores `bytes` as a new blob that is never replaced (a message's
    /// attachment, say), named after `key`, and returns what was recorded:
    /// **the key to keep is `meta.key`**, which is `key` or `key` with one
    /// more segment saying where the blob lies. Stores that keep such blobs
    /// more cheaply than a put (the local folder packs them into a few
    /// files) do so; the others put it under `key`.
    async fn add(
        &self,
        key: &BlobKey,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<BlobMeta, BlobError> {
        self.put(key, content_type, bytes).await
    }

    /// The blob and its content.
    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError>;

    /// What is recorded of the blob, without its content.
    async fn head(&self, key: &BlobKey) -> Result<BlobMeta, BlobError>;

    /// Deletes the blob; deleting a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;

    /// A URL from which anyone holding it can download the blob until it expires.
    async fn presign_get(
        &self,
        key: &BlobKey,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError>;

    /// A URL to which anyone holding it can upload exactly the declared content until it expires.
    async fn presign_put(
        &self,
        key: &BlobKey,
        spec: &UploadSpec,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_keys_are_plain_paths() {
        assert!(BlobKey::parse("demo/att/01J0-abc.pdf").is_ok());
        for bad in ["", "/a", "a/", "a//b", "a/../b", "./a", "a b", "a\\b", "ñ"] {
            assert!(BlobKey::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn upload_spec_checks_type_size_and_digest() {
        let spec = UploadSpec {
            content_type: "text/plain".into(),
            size: 5,
            sha256: sha256_hex(b"hello"),
        };
        assert_eq!(spec.validate(), Ok(()));
        assert_eq!(spec.check("text/plain", b"hello"), Ok(()));
        for (ct, body) in [
            ("text/html", &b"hello"[..]),
            ("text/plain", b"hell"),
            ("text/plain", b"jello"),
        ] {
            assert!(matches!(
                spec.check(ct, body),
                Err(BlobError::InvalidUpload(_))
            ));
        }
        let bad_digest = UploadSpec {
            sha256: "ABC".into(),
            ..spec.clone()
        };
        assert!(bad_digest.validate().is_err());
        assert!(validate_content_type("text/plain\r\nX: y").is_err());
        assert!(validate_content_type("").is_err());
    }
}
