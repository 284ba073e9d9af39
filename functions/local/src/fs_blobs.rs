//! `FsBlobs`: the `Blobs` port on a directory, with signed URLs that the
//! local server answers (`GET|PUT {base_url}/blobs/{key}?{signed query}`).
//!
//! # Layout
//!
//! Key `a/b/c.pdf` is the file `{root}/a.d/b.d/c.pdf.blob`: directories end
//! in `.d` and blobs in `.blob`, so a key and the keys under it (`a` and
//! `a/b`) never collide, as in S3. A segment too long for a file name (keys
//! may have segments of up to 512 bytes; file names stop at 255) becomes
//! `{its first 64 bytes}~{its SHA-256}`: `~` never occurs in a key, so such a
//! name never equals another segment's.
//!
//! Each file holds its metadata and its content:
//!
//! ```text
//! taquilla-blob 1\n
//! {"content_type":"application/pdf","size":1234,"sha256":"…"}\n
//! <content bytes>
//! ```
//!
//! A blob is written to a temporary file in the same directory, synced,
//! renamed over its name and the directory synced: readers and crashes see
//! the old blob or the new one whole, never a blob without its metadata.
//! Reads check the size and the SHA-256 and report [`BlobError::Corrupt`]
//! when they differ.

use std::fs::{self, File};
use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use taquilla_core::blobs::signed::UrlSigner;
use taquilla_core::blobs::{
    Blob, BlobError, BlobKey, BlobMeta, Blobs, PresignedRequest, SignedBlobs, UploadSpec,
    sha256_hex, validate_content_type,
};
use taquilla_core::clock::Clock;

/// First line of every blob file.
const MAGIC: &[u8] = b"taquilla-blob 1\n";
/// Longest segment used as is in a file name (255 bytes, less the suffix).
const MAX_PLAIN_SEGMENT: usize = 240;
/// Longest metadata line we read back.
const MAX_META_LINE: u64 = 4096;

/// Blobs as files under a directory; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct FsBlobs {
    root: PathBuf,
    base_url: String,
    signer: UrlSigner,
    clock: Arc<dyn Clock>,
}

/// The metadata line of a blob file.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    content_type: String,
    size: u64,
    sha256: String,
}

impl FsBlobs {
    /// Blobs under `root` (created when the first blob is written), with
    /// URLs under `base_url` (e.g. `http://127.0.0.1:8080`) signed with
    /// `signing_key`, expiring by `clock`.
    #[must_use]
    pub fn new(
        root: PathBuf,
        base_url: String,
        signing_key: Vec<u8>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            root,
            base_url: base_url.trim_end_matches('/').to_owned(),
            signer: UrlSigner::new(signing_key),
            clock,
        }
    }

    /// The file of a key: every segment but the last gets `.d`, the last `.blob`.
    fn path_of(&self, key: &BlobKey) -> PathBuf {
        let mut path = self.root.clone();
        let mut segments = key.as_str().split('/').peekable();
        while let Some(segment) = segments.next() {
            let name = file_name_of(segment);
            if segments.peek().is_some() {
                path.push(format!("{name}.d"));
            } else {
                path.push(format!("{name}.blob"));
            }
        }
        path
    }

    fn url(&self, key: &BlobKey, query: &str) -> String {
        format!("{}/blobs/{key}?{query}", self.base_url)
    }

    fn expires_at(&self, ttl: Duration) -> i64 {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        self.clock.now_secs().saturating_add(ttl)
    }
}

#[async_trait]
impl SignedBlobs for FsBlobs {
    /// Answers `GET /blobs/{key}?{query}`: the blob, if `query` is a valid,
    /// unexpired download signature for `key`.
    async fn serve_get(&self, key: &BlobKey, query: &str) -> Result<Blob, BlobError> {
        self.signer.verify_get(key, query, self.clock.now_secs())?;
        self.get(key).await
    }

    /// Answers `PUT /blobs/{key}?{query}`: stores `body` if `query` is a
    /// valid, unexpired upload signature for `key` and the body and its
    /// content type are exactly what was declared when the URL was signed.
    async fn accept_put(
        &self,
        key: &BlobKey,
        query: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<BlobMeta, BlobError> {
        let spec = self.signer.verify_put(key, query, self.clock.now_secs())?;
        spec.check(content_type, &body)?;
        self.put(key, content_type, body).await
    }
}

#[async_trait]
impl Blobs for FsBlobs {
    async fn put(
        &self,
        key: &BlobKey,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<BlobMeta, BlobError> {
        validate_content_type(content_type)?;
        let meta = BlobMeta::of(key, content_type, &bytes);
        let path = self.path_of(key);
        let header = Header {
            content_type: meta.content_type.clone(),
            size: meta.size,
            sha256: meta.sha256.clone(),
        };
        blocking(move || write_atomically(&path, &header, &bytes)).await?;
        Ok(meta)
    }

    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        let path = self.path_of(key);
        let owned = key.clone();
        blocking(move || read_blob(&path, &owned)).await
    }

    async fn head(&self, key: &BlobKey) -> Result<BlobMeta, BlobError> {
        let path = self.path_of(key);
        let owned = key.clone();
        blocking(move || {
            let mut reader = open(&path, &owned)?;
            let header = read_header(&mut reader, &path)?;
            Ok(meta_of(&owned, header))
        })
        .await
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let path = self.path_of(key);
        blocking(move || match fs::remove_file(&path) {
            Ok(()) => sync_parent(&path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&path, &e)),
        })
        .await
    }

    async fn presign_get(
        &self,
        key: &BlobKey,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        let expires_at = self.expires_at(ttl);
        Ok(PresignedRequest {
            method: "GET".to_owned(),
            url: self.url(key, &self.signer.sign_get(key, expires_at)),
            headers: Vec::new(),
            expires_at,
        })
    }

    async fn presign_put(
        &self,
        key: &BlobKey,
        spec: &UploadSpec,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        spec.validate()?;
        let expires_at = self.expires_at(ttl);
        Ok(PresignedRequest {
            method: "PUT".to_owned(),
            url: self.url(key, &self.signer.sign_put(key, spec, expires_at)),
            headers: vec![("content-type".to_owned(), spec.content_type.clone())],
            expires_at,
        })
    }
}

/// A key segment as a file name: itself, or when too long a prefix and its hash.
fn file_name_of(segment: &str) -> std::borrow::Cow<'_, str> {
    if segment.len() <= MAX_PLAIN_SEGMENT {
        segment.into()
    } else {
        // Key segments are ASCII, so any byte index is a char boundary.
        let prefix = segment.get(..64).unwrap_or_default();
        format!("{prefix}~{}", sha256_hex(segment.as_bytes())).into()
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BlobError::Unavailable(format!("blob I/O task failed: {e}")))?
}

fn io_error(path: &Path, e: &io::Error) -> BlobError {
    BlobError::Unavailable(format!("{}: {e}", path.display()))
}

fn corrupt(path: &Path, why: &str) -> BlobError {
    BlobError::Corrupt(format!("{}: {why}", path.display()))
}

fn meta_of(key: &BlobKey, header: Header) -> BlobMeta {
    BlobMeta {
        key: key.clone(),
        content_type: header.content_type,
        size: header.size,
        sha256: header.sha256,
    }
}

/// Writes header and content to a temporary file beside `path`, syncs it,
/// renames it to `path` and syncs the directory.
fn write_atomically(path: &Path, header: &Header, bytes: &[u8]) -> Result<(), BlobError> {
    let dir = path
        .parent()
        .ok_or_else(|| corrupt(path, "blob path has no directory"))?;
    create_dirs_durably(dir)?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = File::create_new(&tmp)?;
        file.write_all(MAGIC)?;
        serde_json::to_writer(&mut file, header)?;
        file.write_all(b"\n")?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        // Best effort: a leftover temporary file is never read as a blob.
        let _ = fs::remove_file(&tmp);
        return Err(io_error(path, &e));
    }
    sync_parent(path)
}

/// Creates `dir` and any missing ancestors, syncing the parent of each one
/// created so that the new directories survive a crash with the blob.
fn create_dirs_durably(dir: &Path) -> Result<(), BlobError> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.is_dir())
        .collect();
    for created in missing.into_iter().rev() {
        match fs::create_dir(created) {
            Ok(()) => sync_parent(created)?,
            // Another writer made it meanwhile; its writer syncs the parent.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(created, &e)),
        }
    }
    Ok(())
}

/// Syncs the directory holding `path`, so a rename or removal survives a crash.
fn sync_parent(path: &Path) -> Result<(), BlobError> {
    let dir = match path.parent() {
        Some(dir) if dir.as_os_str().is_empty() => Path::new("."),
        Some(dir) => dir,
        None => return Err(corrupt(path, "blob path has no directory")),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, &e))
}

fn open(path: &Path, key: &BlobKey) -> Result<BufReader<File>, BlobError> {
    match File::open(path) {
        Ok(file) => Ok(BufReader::new(file)),
        // A file where a directory of the path should be also means "no such blob".
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Err(BlobError::NotFound(key.to_string()))
        }
        Err(e) => Err(io_error(path, &e)),
    }
}

fn read_header(reader: &mut BufReader<File>, path: &Path) -> Result<Header, BlobError> {
    let mut magic = vec![0; MAGIC.len()];
    reader
        .read_exact(&mut magic)
        .map_err(|_| corrupt(path, "too short for a blob file"))?;
    if magic != MAGIC {
        return Err(corrupt(path, "not a blob file"));
    }
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(MAX_META_LINE)
        .read_until(b'\n', &mut line)
        .map_err(|e| io_error(path, &e))?;
    if line.pop() != Some(b'\n') {
        return Err(corrupt(path, "metadata line missing or too long"));
    }
    serde_json::from_slice(&line).map_err(|e| corrupt(path, &format!("bad metadata: {e}")))
}

fn read_blob(path: &Path, key: &BlobKey) -> Result<Blob, BlobError> {
    let mut reader = open(path, key)?;
    let header = read_header(&mut reader, path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(header.size).unwrap_or(0));
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, &e))?;
    if bytes.len() as u64 != header.size {
        return Err(corrupt(path, "content size differs from the recorded size"));
    }
    if sha256_hex(&bytes) != header.sha256 {
        return Err(corrupt(path, "content differs from the recorded sha256"));
    }
    Ok(Blob {
        meta: meta_of(key, header),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use taquilla_core::clock::ManualClock;

    fn blobs(root: &Path) -> FsBlobs {
        FsBlobs::new(
            root.to_path_buf(),
            "http://127.0.0.1:1/".into(),
            b"k".to_vec(),
            Arc::new(ManualClock::at_ms(1_000_000)),
        )
    }

    #[test]
    fn keys_map_to_paths_that_never_collide() {
        let b = blobs(Path::new("/r"));
        let path = |k: &str| b.path_of(&BlobKey::parse(k).unwrap());
        assert_eq!(path("a/b/c.pdf"), Path::new("/r/a.d/b.d/c.pdf.blob"));
        assert_ne!(path("a"), path("a/b").parent().unwrap());
        let long = "x".repeat(500);
        let long_path = path(&format!("a/{long}"));
        let name = long_path.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= 255 && name.contains('~'), "{name}");
        assert_ne!(long_path, path(&format!("a/{long}y")));
        assert_eq!(path(&"y".repeat(240)).file_name().unwrap().len(), 245);
    }

    #[tokio::test]
    async fn the_file_holds_a_header_then_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let b = blobs(dir.path());
        let key = BlobKey::parse("x/y.txt").unwrap();
        b.put(&key, "text/plain", b"hi".to_vec()).await.unwrap();
        let raw = fs::read(dir.path().join("x.d/y.txt.blob")).unwrap();
        assert!(raw.starts_with(MAGIC));
        assert!(raw.ends_with(b"}\nhi"));
        // Only the blob file remains: no temporary files.
        assert_eq!(fs::read_dir(dir.path().join("x.d")).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn a_relative_root_is_created_durably() {
        let relative = PathBuf::from(format!("fs-blobs-test-{}", uuid::Uuid::new_v4().simple()));
        // A relative root whose parent is the empty path (the working directory).
        let b = blobs(&relative);
        let key = BlobKey::parse("x/y").unwrap();
        let result = b.put(&key, "text/plain", b"z".to_vec()).await;
        let _ = fs::remove_dir_all(&relative);
        result.unwrap();
    }

    #[tokio::test]
    async fn damaged_files_are_reported_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let b = blobs(dir.path());
        let key = BlobKey::parse("y.txt").unwrap();
        b.put(&key, "text/plain", b"hello".to_vec()).await.unwrap();
        let path = dir.path().join("y.txt.blob");
        let mut raw = fs::read(&path).unwrap();
        *raw.last_mut().unwrap() = b'O';
        fs::write(&path, &raw).unwrap();
        assert!(matches!(b.get(&key).await, Err(BlobError::Corrupt(_))));
        fs::write(&path, b"garbage").unwrap();
        assert!(matches!(b.head(&key).await, Err(BlobError::Corrupt(_))));
    }

    #[tokio::test]
    async fn urls_carry_the_base_the_key_and_a_signature() {
        let b = blobs(Path::new("/r"));
        let key = BlobKey::parse("a/b.txt").unwrap();
        let req = b.presign_get(&key, Duration::from_secs(60)).await.unwrap();
        assert!(
            req.url
                .starts_with("http://127.0.0.1:1/blobs/a/b.txt?expires=1060&sig=")
        );
        assert_eq!(req.expires_at, 1_060);
    }
}
