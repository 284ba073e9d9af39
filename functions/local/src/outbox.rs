//! `OutboxMailer`: the `Mailer` port as a directory of `.eml` files, one per
//! message, for running without a mail provider (and for tests and tools).
//!
//! # File format
//!
//! The envelope goes first, as header fields a mail client shows as unknown
//! headers, then the message exactly as it was given:
//!
//! ```text
//! X-Taquilla-Envelope-From: bounces@example.org\r\n
//! X-Taquilla-Envelope-To: ana@example.net\r\n
//! X-Taquilla-Envelope-To: luis@example.net\r\n
//! From: Help <help@example.org>\r\n
//! ...
//! ```
//!
//! One `X-Taquilla-Envelope-To` per recipient, so no address needs quoting.
//! A header rather than a sidecar file keeps each message one file, written
//! atomically (temporary file, sync, rename, directory sync), and still
//! openable by any mail client. A message without a `Message-ID` gets one,
//! `<{uuid}@taquilla.local>`, as its first field after the envelope.
//!
//! File names are `{uuid v7}.eml`: unique, and sorted by sending time.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use taquilla_core::mailer::{self, MailError, Mailer, OutgoingMail, SentMail};

/// Field carrying the envelope sender.
pub const ENVELOPE_FROM: &str = "X-Taquilla-Envelope-From";
/// Field carrying one envelope recipient; repeated for each.
pub const ENVELOPE_TO: &str = "X-Taquilla-Envelope-To";
/// Domain of the Message-IDs the outbox adds.
pub const MESSAGE_ID_DOMAIN: &str = "taquilla.local";

/// One `.eml` file per message in a directory; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
}

/// A message read back from the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The file name, e.g. `0196….eml`; the `provider_id` `send` returned.
    pub file_name: String,
    /// The Message-ID header value, with angle brackets.
    pub message_id: String,
    /// The envelope and the message as sent (with the Message-ID the outbox
    /// added, if it added one), without the envelope fields.
    pub mail: OutgoingMail,
}

impl OutboxMailer {
    /// An outbox in `dir`, created when the first message is written.
    #[must_use]
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The directory holding the messages.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file names of the messages, oldest first; empty if nothing was sent.
    pub async fn list(&self) -> Result<Vec<String>, MailError> {
        let dir = self.dir.clone();
        blocking(move || {
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(io_error(&dir, &e)),
            };
            let mut names = Vec::new();
            for entry in entries {
                let name = entry.map_err(|e| io_error(&dir, &e))?.file_name();
                if let Some(name) = name.to_str().filter(|n| is_message_file(n)) {
                    names.push(name.to_owned());
                }
            }
            names.sort();
            Ok(names)
        })
        .await
    }

    /// The message in file `file_name` (as returned by [`list`](Self::list)).
    pub async fn read(&self, file_name: &str) -> Result<OutboxMessage, MailError> {
        if !is_message_file(file_name) {
            return Err(MailError::InvalidMessage(format!(
                "{file_name:?} is not an outbox file name"
            )));
        }
        let path = self.dir.join(file_name);
        let bytes = blocking(move || fs::read(&path).map_err(|e| io_error(&path, &e))).await?;
        parse_file(file_name, &bytes)
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<SentMail, MailError> {
        mailer::validate(mail)?;
        let eol: &[u8] = if mailer::uses_crlf(&mail.raw) {
            b"\r\n"
        } else {
            b"\n"
        };
        let mut file = Vec::with_capacity(mail.raw.len() + 256);
        push_field(&mut file, ENVELOPE_FROM, &mail.from, eol);
        for recipient in &mail.recipients {
            push_field(&mut file, ENVELOPE_TO, recipient, eol);
        }
        let message_id = match mailer::header(&mail.raw, "Message-ID") {
            Some(id) if !id.is_empty() => id,
            _ => {
                let id = format!("<{}@{MESSAGE_ID_DOMAIN}>", uuid::Uuid::new_v4());
                push_field(&mut file, "Message-ID", &id, eol);
                id
            }
        };
        file.extend_from_slice(&mail.raw);
        let file_name = format!("{}.eml", uuid::Uuid::now_v7());
        let dir = self.dir.clone();
        let name = file_name.clone();
        blocking(move || write_atomically(&dir, &name, &file)).await?;
        Ok(SentMail {
            message_id,
            provider_id: file_name,
        })
    }
}

fn is_message_file(name: &str) -> bool {
    name.strip_suffix(".eml")
        .is_some_and(|stem| uuid::Uuid::try_parse(stem).is_ok())
}

fn push_field(out: &mut Vec<u8>, name: &str, value: &str, eol: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(eol);
}

/// Splits a file into its envelope fields and the message after them.
fn parse_file(file_name: &str, bytes: &[u8]) -> Result<OutboxMessage, MailError> {
    let mut from = None;
    let mut recipients = Vec::new();
    let mut rest = bytes;
    loop {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = String::from_utf8_lossy(&rest[..end]);
        let Some((name, value)) = line.split_once(':') else {
            break;
        };
        let value = value.trim().to_owned();
        if name.eq_ignore_ascii_case(ENVELOPE_FROM) {
            from = Some(value);
        } else if name.eq_ignore_ascii_case(ENVELOPE_TO) {
            recipients.push(value);
        } else {
            break;
        }
        rest = &rest[end..];
    }
    let corrupt = |why: &str| MailError::InvalidMessage(format!("outbox file {file_name}: {why}"));
    let from = from.ok_or_else(|| corrupt("no envelope sender"))?;
    let message_id = mailer::header(rest, "Message-ID").ok_or_else(|| corrupt("no Message-ID"))?;
    Ok(OutboxMessage {
        file_name: file_name.to_owned(),
        message_id,
        mail: OutgoingMail {
            from,
            recipients,
            raw: rest.to_vec(),
        },
    })
}

/// Writes `bytes` to `dir/name` through a synced temporary file and a rename.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), MailError> {
    if !dir.is_dir() {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
        // Make the new directory's entry durable too.
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|p| p.sync_all())
            .map_err(|e| io_error(parent, &e))?;
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = (|| {
        let mut file = File::create_new(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, dir.join(name))?;
        File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        // Best effort: a temporary file is never listed as a message.
        let _ = fs::remove_file(&tmp);
        return Err(io_error(dir, &e));
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, MailError> + Send + 'static,
) -> Result<T, MailError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| MailError::Unavailable(format!("outbox I/O task failed: {e}")))?
}

fn io_error(path: &Path, e: &io::Error) -> MailError {
    MailError::Unavailable(format!("outbox {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_is_the_envelope_then_the_message() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = OutboxMailer::new(dir.path().join("outbox"));
        let raw = b"From: a@example.org\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n".to_vec();
        let mail = OutgoingMail {
            from: "b@example.org".into(),
            recipients: vec!["c@example.net".into(), "d@example.net".into()],
            raw: raw.clone(),
        };
        let sent = outbox.send(&mail).await.unwrap();
        assert_eq!(sent.message_id, "<1@x>");
        let file = fs::read(dir.path().join("outbox").join(&sent.provider_id)).unwrap();
        let envelope = "X-Taquilla-Envelope-From: b@example.org\r\n\
                        X-Taquilla-Envelope-To: c@example.net\r\n\
                        X-Taquilla-Envelope-To: d@example.net\r\n";
        assert_eq!(file, [envelope.as_bytes(), &raw].concat());
        let back = outbox.read(&sent.provider_id).await.unwrap();
        assert_eq!(back.mail, mail);
        assert_eq!(outbox.list().await.unwrap(), vec![sent.provider_id]);
    }

    #[tokio::test]
    async fn read_refuses_names_outside_the_outbox() {
        let outbox = OutboxMailer::new(PathBuf::from("/nonexistent"));
        assert!(outbox.read("../etc/passwd").await.is_err());
        assert_eq!(outbox.list().await.unwrap(), Vec::<String>::new());
    }
}
