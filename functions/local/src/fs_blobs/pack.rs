//! Packs: blobs written once, appended to a few large files.
//!
//! A file per blob costs a new inode, a file sync and a directory sync;
//! on this kind of disk creating the inode is the largest part of storing
//! a small attachment. Blobs that are never replaced (a message's
//! attachments, kept mail) are instead appended to the instance's current
//! pack, `{root}/{instance}.d/packs/{id}.pack`, and their key says where:
//! `{key}/.pack-{id}-{offset}` ([`Locator`]). Concurrent appends to a pack
//! share one `fdatasync` ([`super::group_sync`]), and a pack is created
//! only once it is full ([`DEFAULT_LIMIT`]).
//!
//! A record is what a blob file holds (magic line, metadata line, content)
//! with the blob's key in its metadata, so a read checks that the record at
//! the offset is the blob asked for, and its size and SHA-256.
//!
//! # Processes
//!
//! A process appends only to a pack it holds an exclusive advisory lock on
//! (`flock`), from the pack's length when it took the lock: two processes
//! (the server and a `taquilla pipe`) never append to the same pack at
//! once, and a pack left by a killed process is taken over by the next
//! one. Readers and deleters need no lock: records never move.
//!
//! # Crashes
//!
//! A put returns once its record's bytes are synced. A crash mid-append
//! leaves a torn record at the end of the pack that no key points to (its
//! put never returned); the next owner appends after it.
//!
//! # Deletes
//!
//! A delete punches a hole over the record (`fallocate`), which frees its
//! blocks and reads back as zeros, "no such blob"; on a file system without
//! holes the record's first bytes are zeroed instead.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rustix::fs::FallocateFlags;
use taquilla_core::blobs::{Blob, BlobError, BlobKey, BlobMeta, MAX_BLOB_KEY_BYTES, sha256_hex};

use super::group_sync::GroupSyncs;
use super::{Header, MAGIC, MAX_META_LINE, corrupt, create_dirs_durably, io_error, sync_dir};

/// A pack takes no more appends once this long (bytes).
pub(super) const DEFAULT_LIMIT: u64 = 256 * 1024 * 1024;
/// What a locator segment starts with; refused as the last segment of a
/// key put under its own name.
const SEGMENT_PREFIX: &str = ".pack-";
/// The directory of an instance's packs, beside its buckets.
const PACKS_DIR: &str = "packs";
/// How many of the newest packs a process tries before starting a new one.
const TRIES: usize = 4;
/// Longest record head read at once (magic, metadata line with the key).
const HEAD_BYTES: usize = MAGIC.len() + MAX_META_LINE as usize + MAX_BLOB_KEY_BYTES;

/// Where a packed blob is, as its key says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Locator<'a> {
    /// The key the blob was added under.
    pub key: &'a str,
    pub pack: u32,
    pub offset: u64,
}

impl<'a> Locator<'a> {
    /// The locator a key carries, if its last segment is one.
    pub(super) fn of(key: &'a BlobKey) -> Option<Self> {
        let (key, last) = key.as_str().rsplit_once('/')?;
        let (pack, offset) = last.strip_prefix(SEGMENT_PREFIX)?.split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(pack) || !digits(offset) {
            return None;
        }
        Some(Self {
            key,
            pack: pack.parse().ok()?,
            offset: offset.parse().ok()?,
        })
    }

    /// `key` with a locator; `None` when the result would be too long a key.
    fn key_for(key: &BlobKey, pack: u32, offset: u64) -> Option<BlobKey> {
        BlobKey::parse(format!("{key}/{SEGMENT_PREFIX}{pack}-{offset}")).ok()
    }
}

/// Whether `key` names a packed blob's place rather than a blob of its own:
/// such keys are only ever handed out by [`Packs::append`].
pub(super) fn is_reserved(key: &BlobKey) -> bool {
    key.as_str()
        .rsplit('/')
        .next()
        .is_some_and(|last| last.starts_with(SEGMENT_PREFIX))
}

/// The packs a store appends to, one open pack per instance directory.
#[derive(Debug)]
pub(super) struct Packs {
    root: PathBuf,
    limit: u64,
    open: Mutex<HashMap<PathBuf, Arc<Pack>>>,
    syncs: Arc<GroupSyncs>,
}

/// A pack this process holds the lock of.
#[derive(Debug)]
struct Pack {
    id: u32,
    path: PathBuf,
    /// Locked (exclusive `flock`) for as long as it is open here.
    file: File,
    /// Where the next record goes.
    end: Mutex<u64>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Packs {
    pub(super) fn new(root: PathBuf, limit: u64, syncs: Arc<GroupSyncs>) -> Self {
        Self {
            root,
            limit,
            open: Mutex::default(),
            syncs,
        }
    }

    /// The directory of the packs of `key`'s instance (its first segment);
    /// `None` for a key of one segment.
    fn dir_of(&self, key: &str) -> Option<PathBuf> {
        let (first, _) = key.split_once('/')?;
        Some(super::layout::first_dir(&self.root, first).join(PACKS_DIR))
    }

    fn path(dir: &Path, id: u32) -> PathBuf {
        dir.join(format!("{id:08}.pack"))
    }

    /// Appends a record of `bytes` under `key` and returns its locator key
    /// once it is synced; `Ok(None)` when `key` cannot carry a locator (one
    /// segment, or too long), for the caller to store it as a file.
    /// Blocks: call it on a blocking thread.
    pub(super) fn append(
        &self,
        key: &BlobKey,
        header: &Header,
        bytes: &[u8],
    ) -> Result<Option<BlobKey>, BlobError> {
        let Some(dir) = self.dir_of(key.as_str()) else {
            return Ok(None);
        };
        // The longest locator a pack of this store can produce must fit.
        if Locator::key_for(key, u32::MAX, u64::MAX).is_none() {
            return Ok(None);
        }
        let mut head = MAGIC.to_vec();
        serde_json::to_writer(&mut head, header)
            .map_err(|e| BlobError::Unavailable(format!("blob metadata: {e}")))?;
        head.push(b'\n');
        let len = (head.len() + bytes.len()) as u64;
        let (pack, offset) = self.reserve(&dir, len)?;
        let write = pack
            .file
            .write_all_at(&head, offset)
            .and_then(|()| pack.file.write_all_at(bytes, offset + head.len() as u64));
        write.map_err(|e| io_error(&pack.path, &e))?;
        self.syncs
            .after_change(&pack.path, |_| pack.file.sync_data())
            .map_err(|e| io_error(&pack.path, &e))?;
        Ok(Locator::key_for(key, pack.id, offset))
    }

    /// Space for `len` bytes in the open pack of `dir`, opening (or
    /// starting) another when there is none or it is full.
    fn reserve(&self, dir: &Path, len: u64) -> Result<(Arc<Pack>, u64), BlobError> {
        let mut open = lock(&self.open);
        if let Some(pack) = open.get(dir) {
            let mut end = lock(&pack.end);
            if *end < self.limit {
                let offset = *end;
                *end += len;
                return Ok((Arc::clone(pack), offset));
            }
        }
        let pack = Arc::new(self.take(dir)?);
        let offset = {
            let mut end = lock(&pack.end);
            let offset = *end;
            *end += len;
            offset
        };
        open.insert(dir.to_path_buf(), Arc::clone(&pack));
        Ok((pack, offset))
    }

    /// A pack of `dir` to append to: one of the newest that no other
    /// process holds and is not full, or a new one.
    fn take(&self, dir: &Path) -> Result<Pack, BlobError> {
        create_dirs_durably(dir)?;
        let mut ids: Vec<u32> = fs::read_dir(dir)
            .map_err(|e| io_error(dir, &e))?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name();
                name.to_str()?.strip_suffix(".pack")?.parse().ok()
            })
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        for &id in ids.iter().take(TRIES) {
            let path = Self::path(dir, id);
            let file = match OpenOptions::new().read(true).write(true).open(&path) {
                Ok(file) => file,
                Err(e) => return Err(io_error(&path, &e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => continue,
                Err(TryLockError::Error(e)) => return Err(io_error(&path, &e)),
            }
            let end = file.metadata().map_err(|e| io_error(&path, &e))?.len();
            if end < self.limit {
                return Ok(Pack {
                    id,
                    path,
                    file,
                    end: Mutex::new(end),
                });
            }
        }
        let mut id = ids.first().map_or(1, |newest| newest.saturating_add(1));
        loop {
            let path = Self::path(dir, id);
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    // Nobody else can hold a file this process just made,
                    // unless another took it in between: then try the next.
                    if file.try_lock().is_ok() {
                        self.syncs
                            .after_change(dir, sync_dir)
                            .map_err(|e| io_error(dir, &e))?;
                        return Ok(Pack {
                            id,
                            path,
                            file,
                            end: Mutex::new(0),
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error(&path, &e)),
            }
            id = id
                .checked_add(1)
                .ok_or_else(|| corrupt(dir, "no pack number left"))?;
        }
    }

    /// The file of a locator's pack.
    fn file_of(&self, locator: &Locator<'_>) -> Option<PathBuf> {
        Some(Self::path(&self.dir_of(locator.key)?, locator.pack))
    }

    /// The record head at a locator: its metadata and where its content
    /// starts. `NotFound` when nothing (or a deleted record) is there.
    fn head(
        &self,
        key: &BlobKey,
        locator: &Locator<'_>,
        write: bool,
    ) -> Result<(File, PathBuf, Header, u64), BlobError> {
        let missing = || BlobError::NotFound(key.to_string());
        let path = self.file_of(locator).ok_or_else(missing)?;
        let file = match OpenOptions::new().read(true).write(write).open(&path) {
            Ok(file) => file,
            Err(e) if super::is_missing(&e) => return Err(missing()),
            Err(e) => return Err(io_error(&path, &e)),
        };
        let mut buf = vec![0; HEAD_BYTES];
        let read =
            read_at_most(&file, &mut buf, locator.offset).map_err(|e| io_error(&path, &e))?;
        let buf = &buf[..read];
        if buf.iter().take(MAGIC.len()).all(|&b| b == 0) {
            // Past the end, or a punched hole: a deleted record (what
            // follows it may be the next record).
            return Err(missing());
        }
        let meta_line = buf
            .strip_prefix(MAGIC)
            .ok_or_else(|| corrupt(&path, "no blob record at this offset"))?;
        let end = meta_line
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| corrupt(&path, "record metadata line missing or too long"))?;
        let header: Header = serde_json::from_slice(&meta_line[..end])
            .map_err(|e| corrupt(&path, &format!("bad record metadata: {e}")))?;
        if header.key.as_deref() != Some(locator.key) {
            return Err(corrupt(
                &path,
                "the record at this offset is another blob's",
            ));
        }
        let content_at = locator.offset + (MAGIC.len() + end + 1) as u64;
        Ok((file, path, header, content_at))
    }

    /// The metadata of the packed blob `key` locates.
    pub(super) fn read_meta(
        &self,
        key: &BlobKey,
        locator: &Locator<'_>,
    ) -> Result<BlobMeta, BlobError> {
        let (_, _, header, _) = self.head(key, locator, false)?;
        Ok(super::meta_of(key, header))
    }

    /// The packed blob `key` locates, checked against its size and SHA-256.
    pub(super) fn read(&self, key: &BlobKey, locator: &Locator<'_>) -> Result<Blob, BlobError> {
        let (file, path, header, content_at) = self.head(key, locator, false)?;
        let len = file.metadata().map_err(|e| io_error(&path, &e))?.len();
        if content_at.saturating_add(header.size) > len {
            return Err(corrupt(&path, "content shorter than the recorded size"));
        }
        let size = usize::try_from(header.size)
            .map_err(|_| corrupt(&path, "recorded size does not fit in memory"))?;
        let mut bytes = vec![0; size];
        file.read_exact_at(&mut bytes, content_at).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                corrupt(&path, "content shorter than the recorded size")
            } else {
                io_error(&path, &e)
            }
        })?;
        if sha256_hex(&bytes) != header.sha256 {
            return Err(corrupt(&path, "content differs from the recorded sha256"));
        }
        Ok(Blob {
            meta: super::meta_of(key, header),
            bytes,
        })
    }

    /// Frees the record `key` locates; nothing to do when it is gone.
    pub(super) fn delete(&self, key: &BlobKey, locator: &Locator<'_>) -> Result<(), BlobError> {
        let (file, path, header, content_at) = match self.head(key, locator, true) {
            Ok(found) => found,
            Err(BlobError::NotFound(_)) => return Ok(()),
            Err(other) => return Err(other),
        };
        let len = content_at - locator.offset + header.size;
        let punched = rustix::fs::fallocate(
            &file,
            FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
            locator.offset,
            len,
        );
        if punched.is_err() {
            // No holes here: zero the head, which reads as "deleted".
            let zeros = vec![0; usize::try_from(content_at - locator.offset).unwrap_or(0)];
            file.write_all_at(&zeros, locator.offset)
                .map_err(|e| io_error(&path, &e))?;
        }
        file.sync_data().map_err(|e| io_error(&path, &e))
    }
}

/// Reads into `buf` from `offset` until it is full or the file ends.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut read = 0;
    while read < buf.len() {
        match file.read_at(&mut buf[read..], offset + read as u64) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FsBlobs;
    use std::os::unix::fs::MetadataExt as _;
    use taquilla_core::blobs::Blobs as _;
    use taquilla_core::clock::ManualClock;

    fn key(k: &str) -> BlobKey {
        BlobKey::parse(k).unwrap()
    }

    fn store(root: &Path) -> FsBlobs {
        FsBlobs::new(
            root.to_path_buf(),
            "http://127.0.0.1:1".into(),
            b"k".to_vec(),
            Arc::new(ManualClock::at_ms(1_000_000)),
        )
    }

    fn packs_of(root: &Path) -> Vec<PathBuf> {
        let mut packs: Vec<PathBuf> = fs::read_dir(root.join("demo.d").join(PACKS_DIR))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        packs.sort();
        packs
    }

    fn content(n: usize) -> Vec<u8> {
        (0..(n * 37) % 3000 + 1)
            .map(|i| (i * 7 + n) as u8)
            .collect()
    }

    #[tokio::test]
    async fn added_blobs_share_one_pack_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let b = store(dir.path());
        let adds: Vec<_> = (0..60)
            .map(|n| {
                let b = b.clone();
                tokio::spawn(async move {
                    let asked = key(&format!("demo/tickets/t{}/e1/{}-a.bin", n / 3, n % 3));
                    let meta = b.add(&asked, "application/pdf", content(n)).await.unwrap();
                    (n, asked, meta)
                })
            })
            .collect();
        let mut added = Vec::new();
        for add in adds {
            added.push(add.await.unwrap());
        }
        for (n, asked, meta) in &added {
            let located = Locator::of(&meta.key).expect("a packed key");
            assert_eq!(located.key, asked.as_str());
            let blob = b.get(&meta.key).await.unwrap();
            assert_eq!(blob.bytes, content(*n));
            assert_eq!(blob.meta, *meta);
            assert_eq!(b.head(&meta.key).await.unwrap(), *meta);
        }
        // One file for all of them, and no bucket directory.
        assert_eq!(packs_of(dir.path()).len(), 1);
        let instance: Vec<_> = fs::read_dir(dir.path().join("demo.d")).unwrap().collect();
        assert_eq!(instance.len(), 1, "only the packs directory");
    }

    #[tokio::test]
    async fn two_processes_append_to_packs_of_their_own_and_read_each_others() {
        let dir = tempfile::tempdir().unwrap();
        // Two stores hold their locks apart, as two processes do.
        let (one, two) = (store(dir.path()), store(dir.path()));
        let a = one
            .add(&key("demo/t/e/1-a"), "text/plain", b"from one".to_vec())
            .await
            .unwrap();
        let b = two
            .add(&key("demo/t/e/2-b"), "text/plain", b"from two".to_vec())
            .await
            .unwrap();
        assert_ne!(
            Locator::of(&a.key).unwrap().pack,
            Locator::of(&b.key).unwrap().pack
        );
        assert_eq!(two.get(&a.key).await.unwrap().bytes, b"from one");
        assert_eq!(one.get(&b.key).await.unwrap().bytes, b"from two");
        // Once the first is gone, a new one takes over its pack.
        let first_pack = Locator::of(&a.key).unwrap().pack;
        drop(one);
        let three = store(dir.path());
        let c = three
            .add(&key("demo/t/e/3-c"), "text/plain", b"from three".to_vec())
            .await
            .unwrap();
        let located = Locator::of(&c.key).unwrap();
        assert!(
            located.pack == first_pack || located.pack > Locator::of(&b.key).unwrap().pack,
            "{c:?}"
        );
        assert_eq!(packs_of(dir.path()).len(), 2, "{c:?}");
    }

    #[tokio::test]
    async fn a_full_pack_is_left_for_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let b = store(dir.path()).with_pack_limit(1000);
        let mut keys = Vec::new();
        for n in 0..12 {
            let meta = b
                .add(
                    &key(&format!("demo/t/e{n}/1-a")),
                    "text/plain",
                    vec![b'x'; 300],
                )
                .await
                .unwrap();
            keys.push(meta.key);
        }
        let packs = packs_of(dir.path());
        assert!(packs.len() >= 3, "{packs:?}");
        for pack in &packs {
            // A record starts below the limit; the one that crosses it is the last.
            assert!(fs::metadata(pack).unwrap().len() < 1000 + 500, "{pack:?}");
        }
        for key in &keys {
            assert_eq!(b.get(key).await.unwrap().bytes, vec![b'x'; 300]);
        }
    }

    #[tokio::test]
    async fn a_torn_record_left_by_a_crash_is_skipped_by_the_next_writer() {
        let dir = tempfile::tempdir().unwrap();
        let first = store(dir.path());
        let kept = first
            .add(&key("demo/t/e/1-a"), "text/plain", b"kept".to_vec())
            .await
            .unwrap();
        drop(first);
        // A killed writer's half record at the end of the pack.
        let pack = packs_of(dir.path()).remove(0);
        let torn_at = fs::metadata(&pack).unwrap().len();
        let mut torn = MAGIC.to_vec();
        torn.extend_from_slice(br#"{"key":"demo/t/e/2-b","content_type":"te"#);
        OpenOptions::new()
            .append(true)
            .open(&pack)
            .unwrap()
            .write_all_at(&torn, torn_at)
            .unwrap();
        let next = store(dir.path());
        let added = next
            .add(&key("demo/t/e/3-c"), "text/plain", b"after".to_vec())
            .await
            .unwrap();
        let located = Locator::of(&added.key).unwrap();
        assert!(located.offset >= torn_at + torn.len() as u64, "{added:?}");
        assert_eq!(next.get(&kept.key).await.unwrap().bytes, b"kept");
        assert_eq!(next.get(&added.key).await.unwrap().bytes, b"after");
        // The torn record is no blob.
        let torn_key = key(&format!("demo/t/e/2-b/.pack-{}-{torn_at}", located.pack));
        assert!(matches!(
            next.get(&torn_key).await,
            Err(BlobError::Corrupt(_))
        ));
    }

    #[tokio::test]
    async fn a_delete_frees_the_record_and_leaves_its_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let b = store(dir.path());
        let before = b
            .add(&key("demo/t/e/1-a"), "text/plain", b"before".to_vec())
            .await
            .unwrap();
        let big = b
            .add(&key("demo/t/e/2-b"), "application/pdf", vec![7; 256 * 1024])
            .await
            .unwrap();
        let after = b
            .add(&key("demo/t/e/3-c"), "text/plain", b"after".to_vec())
            .await
            .unwrap();
        // The first record, whose hole is followed by the others.
        b.delete(&before.key).await.unwrap();
        assert!(matches!(
            b.get(&before.key).await,
            Err(BlobError::NotFound(_))
        ));
        let pack = packs_of(dir.path()).remove(0);
        let (len, blocks) = {
            let m = fs::metadata(&pack).unwrap();
            (m.len(), m.blocks())
        };
        b.delete(&big.key).await.unwrap();
        assert!(matches!(b.get(&big.key).await, Err(BlobError::NotFound(_))));
        assert!(matches!(
            b.head(&big.key).await,
            Err(BlobError::NotFound(_))
        ));
        b.delete(&big.key).await.unwrap();
        assert_eq!(b.get(&after.key).await.unwrap().bytes, b"after");
        let m = fs::metadata(&pack).unwrap();
        assert_eq!(m.len(), len, "records never move");
        // 512-byte blocks: most of the 256 KiB were given back.
        assert!(m.blocks() + 400 < blocks, "{} -> {}", blocks, m.blocks());
    }

    #[tokio::test]
    async fn a_locator_to_the_wrong_place_finds_no_other_blob() {
        let dir = tempfile::tempdir().unwrap();
        let b = store(dir.path());
        let a = b
            .add(&key("demo/t/e/1-a"), "text/plain", b"secret a".to_vec())
            .await
            .unwrap();
        let other = b
            .add(&key("demo/t/e/2-b"), "text/plain", b"secret b".to_vec())
            .await
            .unwrap();
        let at = Locator::of(&other.key).unwrap();
        let forged = |pack: u32, offset: u64| key(&format!("demo/t/e/1-a/.pack-{pack}-{offset}"));
        // Another blob's record, the middle of a record, past the end, no such pack.
        assert!(matches!(
            b.get(&forged(at.pack, at.offset)).await,
            Err(BlobError::Corrupt(_))
        ));
        assert!(matches!(
            b.get(&forged(at.pack, at.offset + 3)).await,
            Err(BlobError::Corrupt(_))
        ));
        assert!(matches!(
            b.get(&forged(at.pack, 1 << 40)).await,
            Err(BlobError::NotFound(_))
        ));
        assert!(matches!(
            b.get(&forged(at.pack + 9, 0)).await,
            Err(BlobError::NotFound(_))
        ));
        // Deleting through a wrong locator deletes nothing.
        assert!(b.delete(&forged(at.pack, at.offset)).await.is_err());
        assert_eq!(b.get(&a.key).await.unwrap().bytes, b"secret a");
        assert_eq!(b.get(&other.key).await.unwrap().bytes, b"secret b");
    }

    #[tokio::test]
    async fn a_record_claiming_more_than_its_pack_holds_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let b = store(dir.path());
        b.add(&key("demo/t/e/0-first"), "text/plain", b"0".to_vec())
            .await
            .unwrap();
        let pack = packs_of(dir.path()).remove(0);
        let at = fs::metadata(&pack).unwrap().len();
        let mut forged = MAGIC.to_vec();
        forged.extend_from_slice(
            br#"{"key":"demo/t/e/1-a","content_type":"text/plain","size":1099511627776,"sha256":"00"}"#,
        );
        forged.extend_from_slice(b"\nshort");
        OpenOptions::new()
            .write(true)
            .open(&pack)
            .unwrap()
            .write_all_at(&forged, at)
            .unwrap();
        let claimed = key(&format!("demo/t/e/1-a/.pack-1-{at}"));
        assert!(matches!(b.get(&claimed).await, Err(BlobError::Corrupt(_))));
    }

    #[tokio::test]
    async fn a_damaged_record_is_reported_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let b = store(dir.path());
        let a = b
            .add(&key("demo/t/e/1-a"), "text/plain", b"hello".to_vec())
            .await
            .unwrap();
        let pack = packs_of(dir.path()).remove(0);
        let mut raw = fs::read(&pack).unwrap();
        *raw.last_mut().unwrap() = b'O';
        fs::write(&pack, &raw).unwrap();
        assert!(matches!(b.get(&a.key).await, Err(BlobError::Corrupt(_))));
        // The metadata still reads.
        assert_eq!(b.head(&a.key).await.unwrap().size, 5);
    }

    #[tokio::test]
    async fn keys_that_cannot_carry_a_locator_are_files_and_locators_cannot_be_put() {
        let dir = tempfile::tempdir().unwrap();
        let b = store(dir.path());
        let single = b
            .add(&key("alone.txt"), "text/plain", b"1".to_vec())
            .await
            .unwrap();
        assert_eq!(single.key.as_str(), "alone.txt");
        let long = key(&format!("demo/{}", "x".repeat(MAX_BLOB_KEY_BYTES - 10)));
        let meta = b.add(&long, "text/plain", b"2".to_vec()).await.unwrap();
        assert_eq!(meta.key, long);
        assert_eq!(b.get(&long).await.unwrap().bytes, b"2");
        let refused = b
            .put(&key("demo/t/e/1-a/.pack-1-0"), "text/plain", b"3".to_vec())
            .await;
        assert!(
            matches!(refused, Err(BlobError::InvalidKey(_))),
            "{refused:?}"
        );
        assert!(matches!(
            b.add(&key("demo/t/e/1-a"), "", b"4".to_vec()).await,
            Err(BlobError::InvalidUpload(_))
        ));
    }

    #[test]
    fn a_locator_is_the_last_segment_and_nothing_else_is_one() {
        let located = key("demo/tickets/t/e/1-a.pdf/.pack-12-4096");
        assert_eq!(
            Locator::of(&located),
            Some(Locator {
                key: "demo/tickets/t/e/1-a.pdf",
                pack: 12,
                offset: 4096
            })
        );
        for plain in [
            "demo/tickets/t/e/1-a.pdf",
            "demo/.pack-1",
            "demo/.pack--1",
            "demo/.pack-1-",
            "demo/.pack-x-1",
            "demo/.pack-1-2-3",
            ".pack-1-2",
        ] {
            assert_eq!(Locator::of(&key(plain)), None, "{plain}");
        }
        assert!(is_reserved(&key("demo/a/.pack-anything")));
        assert!(!is_reserved(&key("demo/a/1-.pack-1-2")));
        let made = Locator::key_for(&key("demo/a.pdf"), 3, 77).unwrap();
        assert_eq!(made.as_str(), "demo/a.pdf/.pack-3-77");
        assert_eq!(Locator::of(&made).unwrap().key, "demo/a.pdf");
    }

    #[test]
    fn a_key_too_long_for_a_locator_has_none() {
        let long = key(&format!("demo/{}", "x".repeat(MAX_BLOB_KEY_BYTES - 10)));
        assert!(Locator::key_for(&long, 1, 1).is_none());
    }
}
