//! Mail kept for review: a message that could not be processed (it does
//! not parse, or processing it hit a bug) is kept whole in `Blobs` (S3 in
//! the deployment, the data folder locally), listed for administrators,
//! and processed again with `taquilla mail replay` once the cause is fixed.

use serde::{Deserialize, Serialize};
use taquilla_core::blobs::BlobKey;
use taquilla_core::domain::InstanceId;
use taquilla_core::keys;
use taquilla_core::services::{Ctx, Page, ServiceError};
use taquilla_core::store::{Query, codec};

/// One kept message, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptMail {
    pub id: String,
    pub received_at: i64,
    /// The stable code of what went wrong, e.g. `mail_unparseable`.
    pub code: String,
    pub reason: String,
    pub size: usize,
    /// Whatever could be read of the sender and subject.
    pub from: Option<String>,
    pub subject: Option<String>,
    pub blob: BlobKey,
}

/// Where the raw bytes of kept message `id` of `instance` go.
fn blob_key(instance: &InstanceId, id: &str) -> Result<BlobKey, ServiceError> {
    BlobKey::parse(format!("{instance}/mail/kept/{id}.eml")).map_err(|e| ServiceError::Invalid {
        field: "kept mail".into(),
        message: e.to_string(),
    })
}

/// What is known of a message when it is kept.
#[derive(Debug, Clone, Default)]
pub struct KeepReason {
    pub code: String,
    pub reason: String,
    pub from: Option<String>,
    pub subject: Option<String>,
}

/// Keeps `raw` for review; returns its record.
pub async fn keep(ctx: &Ctx<'_>, raw: &[u8], why: KeepReason) -> Result<KeptMail, ServiceError> {
    let received_at = ctx.clock.now_ms();
    let id = uuid::Uuid::now_v7().simple().to_string();
    let blob = blob_key(ctx.instance, &id)?;
    let blob = ctx
        .blobs
        .add(&blob, "message/rfc822", raw.to_vec())
        .await
        .map_err(|e| ServiceError::Invalid {
            field: "kept mail".into(),
            message: e.to_string(),
        })?
        .key;
    let record = KeptMail {
        id: id.clone(),
        received_at,
        code: why.code,
        reason: why.reason,
        size: raw.len(),
        from: why.from,
        subject: why.subject.map(|s| s.chars().take(200).collect()),
        blob,
    };
    let item = codec::encode(keys::mail::kept(ctx.instance, received_at, &id), &record)?;
    ctx.store.put(item, None).await?;
    tracing::warn!(instance = %ctx.instance, id, code = record.code, reason = record.reason, "mail kept for review");
    Ok(record)
}

/// One page of the kept messages, oldest first.
pub async fn list(
    ctx: &Ctx<'_>,
    cursor: Option<String>,
    limit: u32,
) -> Result<Page<KeptMail>, ServiceError> {
    let query = Query::table(keys::mail::kept_pk(ctx.instance))
        .limit(limit.clamp(1, taquilla_core::store::MAX_QUERY_LIMIT))
        .after(cursor);
    Ok(Page::decode(ctx.store.query(&query).await?)?)
}

/// The raw bytes of a kept message.
pub async fn raw(ctx: &Ctx<'_>, kept: &KeptMail) -> Result<Vec<u8>, ServiceError> {
    let blob = ctx
        .blobs
        .get(&kept.blob)
        .await
        .map_err(|e| ServiceError::NotFound(format!("kept mail {}: {e}", kept.id)))?;
    Ok(blob.bytes)
}

/// Forgets a kept message (after it was processed again).
pub async fn forget(ctx: &Ctx<'_>, kept: &KeptMail) -> Result<(), ServiceError> {
    ctx.store
        .delete(
            &keys::mail::kept(ctx.instance, kept.received_at, &kept.id),
            None,
        )
        .await?;
    // The record is what lists it; a blob left behind is only storage.
    if let Err(error) = ctx.blobs.delete(&kept.blob).await {
        tracing::warn!(id = kept.id, %error, "kept mail's bytes not deleted");
    }
    Ok(())
}
