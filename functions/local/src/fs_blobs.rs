//! `FsBlobs`: the `Blobs` port on a directory, with signed URLs that the
//! local server answers (`GET|PUT {base_url}/blobs/{key}?{signed query}`).
//!
//! # Layout
//!
//! Key `demo/tickets/T/E/1-a.pdf` is the file
//! `{root}/demo.d/{bb}/tickets,T,E,1-a.pdf.blob`: the first segment is a
//! directory, `{bb}` one of its 256 bucket directories (chosen by the key's
//! parent, so a ticket entry's files share one), the rest of the key the
//! file name. No key creates directories of its own: once an instance's
//! buckets exist, a put creates only its file. See [`layout`], which also
//! reads files of the older one-directory-per-segment layout.
//!
//! Blobs written once ([`Blobs::add`]: attachments, kept mail) are not
//! files of their own: they are appended to the instance's current pack
//! (`{root}/demo.d/packs/{id}.pack`) and their key gains a last segment
//! saying where (`demo/tickets/T/E/1-a.pdf/.pack-{id}-{offset}`); see
//! [`pack`]. `put` is for blobs that keep their name and may be replaced.
//!
//! Each file holds its metadata and its content:
//!
//! ```text
//! taquilla-blob 1\n
//! {"content_type":"application/pdf","size":1234,"sha256":"…"}\n
//! <content bytes>
//! ```
//!
//! # Durability and atomicity
//!
//! A put returns only once its blob is on disk under its name, and no
//! crash leaves a blob visible partly written:
//!
//! 1. the header and content go to a temporary file (`.{random}.tmp`, a
//!    name no key maps to) in the key's bucket, which is synced;
//! 2. the file is renamed over the key's name: readers and crashes see the
//!    old blob or the new one whole, never one without its metadata;
//! 3. the bucket directory is synced so the rename survives a crash. Puts
//!    whose renames happened while another put's directory sync ran share
//!    the next one ([`group_sync`]): a message's attachments, which share a
//!    bucket, cost one directory sync between them instead of one each.
//!
//! A directory created on the way (an instance's, a bucket) is synced in
//! its parent before it is used. Reads check the size and the SHA-256 and
//! report [`BlobError::Corrupt`] when they differ; a leftover temporary
//! file is never read as a blob.

mod group_sync;
mod layout;
mod pack;

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

use group_sync::GroupSyncs;
use pack::{Locator, Packs};

/// First line of every blob file.
const MAGIC: &[u8] = b"taquilla-blob 1\n";
/// Longest metadata line we read back.
const MAX_META_LINE: u64 = 4096;

/// Blobs as files under a directory; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct FsBlobs {
    root: PathBuf,
    base_url: String,
    signer: UrlSigner,
    clock: Arc<dyn Clock>,
    syncs: Arc<GroupSyncs>,
    packs: Arc<Packs>,
}

/// The metadata line of a blob file.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    /// The key a packed record was added under (absent in blob files,
    /// whose name is their key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
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
        let syncs = Arc::<GroupSyncs>::default();
        Self {
            packs: Arc::new(Packs::new(
                root.clone(),
                pack::DEFAULT_LIMIT,
                Arc::clone(&syncs),
            )),
            root,
            base_url: base_url.trim_end_matches('/').to_owned(),
            signer: UrlSigner::new(signing_key),
            clock,
            syncs,
        }
    }

    /// The same store, starting a new pack once one is `limit` bytes long
    /// (256 MiB by default).
    #[must_use]
    pub fn with_pack_limit(mut self, limit: u64) -> Self {
        self.packs = Arc::new(Packs::new(
            self.root.clone(),
            limit,
            Arc::clone(&self.syncs),
        ));
        self
    }

    /// The file of a key, and where it was in the older layout when that
    /// differs.
    fn paths_of(&self, key: &BlobKey) -> (PathBuf, Option<PathBuf>) {
        let path = layout::path(&self.root, key);
        let legacy = layout::legacy_path(&self.root, key);
        let legacy = (legacy != path).then_some(legacy);
        (path, legacy)
    }

    /// Reads `key` where it lies: its record in a pack, or its file (or
    /// its file in the older layout).
    async fn read_with<T: Send + 'static>(
        &self,
        key: &BlobKey,
        packed: fn(&Packs, &BlobKey, &Locator<'_>) -> Result<T, BlobError>,
        file: fn(&Path, &BlobKey) -> Result<T, BlobError>,
    ) -> Result<T, BlobError> {
        let owned = key.clone();
        if Locator::of(key).is_some() {
            let packs = Arc::clone(&self.packs);
            return blocking(move || match Locator::of(&owned) {
                Some(locator) => packed(&packs, &owned, &locator),
                None => Err(BlobError::NotFound(owned.to_string())),
            })
            .await;
        }
        let (path, legacy) = self.paths_of(key);
        blocking(move || match (file(&path, &owned), legacy) {
            (Err(BlobError::NotFound(_)), Some(legacy)) => file(&legacy, &owned),
            (result, _) => result,
        })
        .await
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
        if pack::is_reserved(key) {
            return Err(BlobError::InvalidKey(format!(
                "{key}: a last segment starting with '.pack-' is reserved for packed blobs"
            )));
        }
        let meta = BlobMeta::of(key, content_type, &bytes);
        let (path, _) = self.paths_of(key);
        let header = Header {
            key: None,
            content_type: meta.content_type.clone(),
            size: meta.size,
            sha256: meta.sha256.clone(),
        };
        let syncs = Arc::clone(&self.syncs);
        blocking(move || write_atomically(&syncs, &path, &header, &bytes)).await?;
        Ok(meta)
    }

    /// Appends the blob to the instance's pack ([`pack`]); a key that
    /// cannot carry a locator is put as a file.
    async fn add(
        &self,
        key: &BlobKey,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<BlobMeta, BlobError> {
        validate_content_type(content_type)?;
        if pack::is_reserved(key) {
            return self.put(key, content_type, bytes).await;
        }
        let meta = BlobMeta::of(key, content_type, &bytes);
        let header = Header {
            key: Some(key.to_string()),
            content_type: meta.content_type.clone(),
            size: meta.size,
            sha256: meta.sha256.clone(),
        };
        let (packs, owned) = (Arc::clone(&self.packs), key.clone());
        let (located, bytes) =
            blocking(move || Ok((packs.append(&owned, &header, &bytes)?, bytes))).await?;
        match located {
            Some(located) => Ok(BlobMeta {
                key: located,
                ..meta
            }),
            None => self.put(key, content_type, bytes).await,
        }
    }

    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        self.read_with(key, Packs::read, read_blob).await
    }

    async fn head(&self, key: &BlobKey) -> Result<BlobMeta, BlobError> {
        self.read_with(key, Packs::read_meta, read_meta).await
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        if Locator::of(key).is_some() {
            let (packs, owned) = (Arc::clone(&self.packs), key.clone());
            return blocking(move || match Locator::of(&owned) {
                Some(locator) => packs.delete(&owned, &locator),
                None => Ok(()),
            })
            .await;
        }
        let (path, legacy) = self.paths_of(key);
        let syncs = Arc::clone(&self.syncs);
        blocking(move || {
            for path in std::iter::once(path).chain(legacy) {
                match fs::remove_file(&path) {
                    Ok(()) => sync_dir_of(&syncs, &path)?,
                    Err(e) if is_missing(&e) => {}
                    Err(e) => return Err(io_error(&path, &e)),
                }
            }
            Ok(())
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
/// renames it to `path` and syncs the directory (with any other put that
/// renamed into it meanwhile); see the [module docs](self).
fn write_atomically(
    syncs: &GroupSyncs,
    path: &Path,
    header: &Header,
    bytes: &[u8],
) -> Result<(), BlobError> {
    let dir = path
        .parent()
        .ok_or_else(|| corrupt(path, "blob path has no directory"))?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut file = match File::create_new(&tmp) {
        Ok(file) => file,
        // The bucket does not exist yet: the first put into it makes it.
        Err(e) if is_missing(&e) => {
            create_dirs_durably(dir)?;
            File::create_new(&tmp).map_err(|e| io_error(&tmp, &e))?
        }
        Err(e) => return Err(io_error(&tmp, &e)),
    };
    let result = (|| {
        file.write_all(MAGIC)?;
        serde_json::to_writer(&mut file, header)?;
        file.write_all(b"\n")?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        // Best effort: a leftover temporary file is never read as a blob.
        let _ = fs::remove_file(&tmp);
        return Err(io_error(path, &e));
    }
    sync_dir_of(syncs, path)
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
            Ok(()) => sync_dir(parent_of(created)?).map_err(|e| io_error(created, &e))?,
            // Another writer made it meanwhile; its writer syncs the parent.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(created, &e)),
        }
    }
    Ok(())
}

/// Makes a change to the directory holding `path` (a rename, a removal)
/// durable, sharing the sync with concurrent changes to it.
fn sync_dir_of(syncs: &GroupSyncs, path: &Path) -> Result<(), BlobError> {
    let dir = parent_of(path)?;
    syncs
        .after_change(dir, sync_dir)
        .map_err(|e| io_error(dir, &e))
}

/// The directory holding `path` (`.` for a bare name).
fn parent_of(path: &Path) -> Result<&Path, BlobError> {
    match path.parent() {
        Some(dir) if dir.as_os_str().is_empty() => Ok(Path::new(".")),
        Some(dir) => Ok(dir),
        None => Err(corrupt(path, "blob path has no directory")),
    }
}

/// Syncs a directory, so the entries it holds now survive a crash.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// "No such file", also when a directory of the path is a file.
fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn open(path: &Path, key: &BlobKey) -> Result<BufReader<File>, BlobError> {
    match File::open(path) {
        Ok(file) => Ok(BufReader::new(file)),
        // A file where a directory of the path should be also means "no such blob".
        Err(e) if is_missing(&e) => Err(BlobError::NotFound(key.to_string())),
        Err(e) => Err(io_error(path, &e)),
    }
}

fn read_meta(path: &Path, key: &BlobKey) -> Result<BlobMeta, BlobError> {
    let mut reader = open(path, key)?;
    let header = read_header(&mut reader, path)?;
    Ok(meta_of(key, header))
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

    #[tokio::test]
    async fn the_file_holds_a_header_then_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let b = blobs(dir.path());
        let key = BlobKey::parse("x/y.txt").unwrap();
        b.put(&key, "text/plain", b"hi".to_vec()).await.unwrap();
        let path = layout::path(dir.path(), &key);
        let raw = fs::read(&path).unwrap();
        assert!(raw.starts_with(MAGIC));
        assert!(raw.ends_with(b"}\nhi"));
        // Only the blob file remains: no temporary files.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn a_ticket_creates_no_directories_once_its_bucket_exists() {
        let dir = tempfile::tempdir().unwrap();
        let b = blobs(dir.path());
        let key = |entry: &str, n: u32| {
            BlobKey::parse(format!("demo/tickets/t1/{entry}/{n}-a.pdf")).unwrap()
        };
        b.put(&key("e1", 1), "application/pdf", b"1".to_vec())
            .await
            .unwrap();
        let bucket = layout::path(dir.path(), &key("e1", 1))
            .parent()
            .unwrap()
            .to_path_buf();
        // The entry's other files go beside the first: no new directory.
        b.put(&key("e1", 2), "application/pdf", b"2".to_vec())
            .await
            .unwrap();
        assert_eq!(
            layout::path(dir.path(), &key("e1", 2)).parent().unwrap(),
            bucket
        );
        let dirs = |root: &Path| {
            let mut count = 0;
            let mut stack = vec![root.to_path_buf()];
            while let Some(d) = stack.pop() {
                for entry in fs::read_dir(d).unwrap() {
                    let entry = entry.unwrap();
                    if entry.file_type().unwrap().is_dir() {
                        count += 1;
                        stack.push(entry.path());
                    }
                }
            }
            count
        };
        assert_eq!(dirs(dir.path()), 2, "the instance and one bucket");
    }

    #[tokio::test]
    async fn concurrent_puts_of_siblings_are_all_stored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let b = blobs(dir.path());
        let puts = (0..24).map(|n| {
            let b = b.clone();
            tokio::spawn(async move {
                let key = BlobKey::parse(format!("demo/tickets/t/e/{n}-f.bin")).unwrap();
                let bytes = vec![u8::try_from(n).unwrap(); 1000 + n * 100];
                b.put(&key, "application/octet-stream", bytes.clone())
                    .await
                    .unwrap();
                (key, bytes)
            })
        });
        for put in puts.collect::<Vec<_>>() {
            let (key, bytes) = put.await.unwrap();
            assert_eq!(b.get(&key).await.unwrap().bytes, bytes);
        }
        let bucket = layout::path(
            dir.path(),
            &BlobKey::parse("demo/tickets/t/e/0-f.bin").unwrap(),
        );
        let names: Vec<String> = fs::read_dir(bucket.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 24);
        assert!(names.iter().all(|n| n.ends_with(".blob")), "{names:?}");
    }

    #[tokio::test]
    async fn blobs_of_the_older_layout_are_read_replaced_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let b = blobs(dir.path());
        let key = BlobKey::parse("demo/tickets/t/e/1-a.txt").unwrap();
        // A blob written before the buckets: its file moved to the old place.
        b.put(&key, "text/plain", b"old".to_vec()).await.unwrap();
        let legacy = layout::legacy_path(dir.path(), &key);
        fs::create_dir_all(legacy.parent().unwrap()).unwrap();
        fs::rename(layout::path(dir.path(), &key), &legacy).unwrap();
        assert_eq!(b.get(&key).await.unwrap().bytes, b"old");
        assert_eq!(b.head(&key).await.unwrap().size, 3);
        // A new put wins over the old file; a delete removes both.
        b.put(&key, "text/plain", b"new!".to_vec()).await.unwrap();
        assert_eq!(b.get(&key).await.unwrap().bytes, b"new!");
        b.delete(&key).await.unwrap();
        assert!(matches!(b.get(&key).await, Err(BlobError::NotFound(_))));
        assert!(!legacy.exists());
    }

    #[tokio::test]
    async fn a_leftover_temporary_file_is_never_a_blob() {
        let dir = tempfile::tempdir().unwrap();
        let b = blobs(dir.path());
        let key = BlobKey::parse("demo/x/a.txt").unwrap();
        b.put(&key, "text/plain", b"whole".to_vec()).await.unwrap();
        // What a crash between the write and the rename leaves: a partial
        // temporary file beside the blob.
        let bucket = layout::path(dir.path(), &key)
            .parent()
            .unwrap()
            .to_path_buf();
        fs::write(bucket.join(".0123.tmp"), &MAGIC[..4]).unwrap();
        assert_eq!(b.get(&key).await.unwrap().bytes, b"whole");
        b.put(&key, "text/plain", b"again".to_vec()).await.unwrap();
        assert_eq!(b.get(&key).await.unwrap().bytes, b"again");
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
        let path = layout::path(dir.path(), &key);
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
