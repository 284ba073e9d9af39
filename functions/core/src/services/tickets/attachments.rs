//! Attachments of new entries: checked before anything is written, then
//! put to `Blobs` under `{instance}/tickets/{ticket}/{entry}/{n}-{safe name}`.

use crate::blobs::{BlobError, BlobKey, validate_content_type};
use crate::domain::{Attachment, EntryId, TicketId};
use crate::services::{Ctx, ServiceError};
use crate::store::StoreError;

/// Most attachments on one entry.
pub const MAX_ATTACHMENTS: usize = 20;
/// Largest attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 25 * 1024 * 1024;
/// Longest file-name part of a blob key.
const MAX_SAFE_NAME: usize = 100;

/// A file attached to a new message, response or note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn invalid(message: String) -> ServiceError {
    ServiceError::Invalid {
        field: "attachments".into(),
        message,
    }
}

/// Refuses too many, too large, unnamed or badly typed attachments.
pub(crate) fn check(attachments: &[NewAttachment]) -> Result<(), ServiceError> {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(invalid(format!("at most {MAX_ATTACHMENTS} files")));
    }
    for file in attachments {
        if file.name.trim().is_empty() || file.name.chars().count() > 255 {
            return Err(invalid(
                "every file needs a name of 1 to 255 characters".into(),
            ));
        }
        if file.bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(invalid(format!("{} is larger than 25 MiB", file.name)));
        }
        validate_content_type(&file.content_type)
            .map_err(|e| invalid(format!("{}: {e}", file.name)))?;
    }
    Ok(())
}

/// `name` reduced to what a blob key allows: letters, digits, `.`, `_` and
/// `-`, anything else as `_`, no leading dot, at most 100 characters.
#[must_use]
pub fn safe_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed: String = mapped
        .trim_start_matches('.')
        .chars()
        .rev()
        .take(MAX_SAFE_NAME)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if trimmed.is_empty() || trimmed == ".." {
        "file".into()
    } else {
        trimmed
    }
}

fn blob_error(error: BlobError) -> ServiceError {
    match error {
        BlobError::InvalidKey(m) | BlobError::InvalidUpload(m) => invalid(m),
        BlobError::Unavailable(m) => StoreError::Unavailable(format!("blobs: {m}")).into(),
        other => StoreError::Corrupt(format!("blobs: {other}")).into(),
    }
}

/// Puts each file to blob storage and returns the references to record.
/// The files are put concurrently; those put stay if another one fails
/// (their keys are never referenced; the ids in them are fresh).
pub(crate) async fn put_all(
    ctx: &Ctx<'_>,
    ticket: &TicketId,
    entry: &EntryId,
    files: Vec<NewAttachment>,
) -> Result<Vec<Attachment>, ServiceError> {
    // Each put waits for its own durable write (fsyncs locally, a request
    // to S3): a mail with four attachments waits for the slowest, not the sum.
    let puts = files.into_iter().enumerate().map(|(n, file)| async move {
        let key = BlobKey::parse(format!(
            "{}/tickets/{ticket}/{entry}/{}-{}",
            ctx.instance,
            n + 1,
            safe_name(&file.name)
        ))
        .map_err(blob_error)?;
        // Added, not put: an attachment is never replaced, and the key to
        // keep is the one the store answers with.
        let meta = ctx
            .blobs
            .add(&key, &file.content_type, file.bytes)
            .await
            .map_err(blob_error)?;
        Ok::<_, ServiceError>(Attachment {
            blob: meta.key,
            name: file.name,
            content_type: meta.content_type,
            size: meta.size,
        })
    });
    futures_util::future::try_join_all(puts).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_key_safe() {
        assert_eq!(
            safe_name("Informe final (v2).pdf"),
            "Informe_final__v2_.pdf"
        );
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("..."), "file");
        assert_eq!(safe_name(""), "file");
        assert_eq!(safe_name(&"a".repeat(300)).len(), 100);
        assert!(BlobKey::parse(format!("demo/t/{}", safe_name("ñandú.png"))).is_ok());
    }

    #[test]
    fn bad_attachments_are_refused() {
        let file = |name: &str, ct: &str| NewAttachment {
            name: name.into(),
            content_type: ct.into(),
            bytes: vec![1],
        };
        assert!(check(&[file("a.txt", "text/plain")]).is_ok());
        assert!(check(&[file("", "text/plain")]).is_err());
        assert!(check(&[file("a", "not a type\n")]).is_err());
        assert!(check(&vec![file("a", "text/plain"); 21]).is_err());
    }
}
