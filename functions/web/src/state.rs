//! What every handler can reach: the ports, and the templates.

use std::sync::Arc;

use async_trait::async_trait;
use taquilla_core::blobs::{Blob, BlobError, BlobKey, BlobMeta, Blobs};
use taquilla_core::clock::Clock;
use taquilla_core::mailer::Mailer;
use taquilla_core::store::ItemStore;

use crate::pages::Pages;

/// Blob storage that answers its own signed URLs (the local `FsBlobs`). On
/// AWS, S3 answers presigned URLs itself and this is absent.
#[async_trait]
pub trait SignedBlobs: Send + Sync + std::fmt::Debug {
    /// The blob, if `query` is a valid, unexpired download signature for `key`.
    async fn serve_get(&self, key: &BlobKey, query: &str) -> Result<Blob, BlobError>;

    /// Stores `body`, if `query` is a valid upload signature for `key` and the
    /// body matches what was declared when the URL was signed.
    async fn accept_put(
        &self,
        key: &BlobKey,
        query: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<BlobMeta, BlobError>;
}

/// The ports and shared read-only state, cheap to clone into every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn Blobs>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    /// Present when blobs are served by this server (the embedded default).
    pub signed_blobs: Option<Arc<dyn SignedBlobs>>,
    pub pages: Arc<Pages>,
}
