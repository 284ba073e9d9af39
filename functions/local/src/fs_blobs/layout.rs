//! Where a key's file is: the layout of the blob folder.
//!
//! Key `demo/tickets/T/E/1-a.pdf` is the file
//! `{root}/demo.d/{bb}/tickets,T,E,1-a.pdf.blob`:
//!
//! - the first segment (the instance, by the core's key design) is a
//!   directory, so an instance's blobs stay under one folder;
//! - `{bb}` is one of 256 bucket directories, two hex digits of the SHA-256
//!   of the key's parent (`demo/tickets/T/E`): every key with the same
//!   parent (a ticket entry's files, say) lands in the same bucket, so their
//!   concurrent writes share a directory sync ([`super::group_sync`]), and a
//!   bucket, once created, serves every later key that hashes to it: a new
//!   ticket no longer creates (and syncs) directories of its own;
//! - the other segments are joined with `,` into the file name, which ends
//!   in `.blob`; a name too long for a file name (keys reach 512 bytes, file
//!   names stop at 255) becomes `{its first 64 bytes}~{its SHA-256}`.
//!
//! `,` and `~` never occur in a key, so two keys never share a file, and a
//! bucket name (two hex digits, no dot) is never a file's name. A key of
//! one segment is `{root}/{segment}.blob`.
//!
//! Folders written before the buckets kept every segment but the last as a
//! directory of its own (`{root}/demo.d/tickets.d/T.d/E.d/1-a.pdf.blob`,
//! [`legacy_path`]); such files are still read and deleted where the
//! bucketed file does not exist. Neither layout's names can be the other's:
//! old directories end in `.d`, buckets never do.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use taquilla_core::blobs::{BlobKey, sha256_hex};

/// Longest segment used as is in a file name (255 bytes, less the suffix).
const MAX_PLAIN_NAME: usize = 240;
/// What joins the segments of a key below its bucket; never in a key.
const JOIN: char = ',';

/// The file of `key` under `root`; see the [module docs](self).
pub(super) fn path(root: &Path, key: &BlobKey) -> PathBuf {
    let key = key.as_str();
    let Some((first, rest)) = key.split_once('/') else {
        return root.join(format!("{}.blob", file_name(key)));
    };
    let parent = key.rsplit_once('/').map_or(key, |(parent, _)| parent);
    let digest = Sha256::digest(parent.as_bytes());
    let mut path = first_dir(root, first);
    path.push(format!("{:02x}", digest[0]));
    let joined = rest.replace('/', &JOIN.to_string());
    path.push(format!("{}.blob", file_name(&joined)));
    path
}

/// The directory of the keys whose first segment is `first` (an
/// instance's): its buckets, and its packs.
pub(super) fn first_dir(root: &Path, first: &str) -> PathBuf {
    root.join(format!("{}.d", file_name(first)))
}

/// The file of `key` in the layout before buckets: every segment but the
/// last a directory ending in `.d`, the last a file ending in `.blob`.
pub(super) fn legacy_path(root: &Path, key: &BlobKey) -> PathBuf {
    let mut path = root.to_path_buf();
    let mut segments = key.as_str().split('/').peekable();
    while let Some(segment) = segments.next() {
        let name = file_name(segment);
        if segments.peek().is_some() {
            path.push(format!("{name}.d"));
        } else {
            path.push(format!("{name}.blob"));
        }
    }
    path
}

/// A name as a file name: itself, or when too long a prefix and its hash.
fn file_name(name: &str) -> Cow<'_, str> {
    if name.len() <= MAX_PLAIN_NAME {
        name.into()
    } else {
        // Key characters are ASCII, so any byte index is a char boundary.
        let prefix = name.get(..64).unwrap_or_default();
        format!("{prefix}~{}", sha256_hex(name.as_bytes())).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> BlobKey {
        BlobKey::parse(k).unwrap()
    }

    #[test]
    fn keys_map_to_a_bucket_of_their_first_segment() {
        let root = Path::new("/r");
        let p = path(root, &key("demo/tickets/t1/e1/1-a.pdf"));
        let bucket = p.parent().unwrap();
        assert_eq!(bucket.parent().unwrap(), Path::new("/r/demo.d"));
        let bucket_name = bucket.file_name().unwrap().to_str().unwrap();
        assert!(
            bucket_name.len() == 2 && bucket_name.bytes().all(|b| b.is_ascii_hexdigit()),
            "{bucket_name}"
        );
        assert_eq!(p.file_name().unwrap(), "tickets,t1,e1,1-a.pdf.blob");
        assert_eq!(path(root, &key("a.pdf")), Path::new("/r/a.pdf.blob"));
    }

    #[test]
    fn siblings_share_a_bucket() {
        let root = Path::new("/r");
        let dir = |k: &str| path(root, &key(k)).parent().unwrap().to_path_buf();
        assert_eq!(dir("demo/t/e/1-a.pdf"), dir("demo/t/e/2-b.png"));
        // 256 buckets: entries of many tickets spread over them.
        let buckets: std::collections::BTreeSet<PathBuf> =
            (0..2000).map(|n| dir(&format!("demo/t/{n}/1-a"))).collect();
        assert_eq!(buckets.len(), 256);
    }

    #[test]
    fn keys_never_share_a_file() {
        let root = Path::new("/r");
        let keys = [
            "a", "a/b", "a/b/c", "a/b.c", "a/bc", "b/a", "a/a/b", "a.d/b", "a/b.blob", "a/b,c",
        ];
        // `,` is not a key character: the last one is refused, as any key
        // that could be confused with a joined name.
        assert!(BlobKey::parse("a/b,c").is_err());
        let paths: std::collections::BTreeSet<PathBuf> = keys
            .iter()
            .filter_map(|k| BlobKey::parse(*k).ok())
            .map(|k| path(root, &k))
            .collect();
        assert_eq!(paths.len(), keys.len() - 1);
    }

    #[test]
    fn long_names_are_hashed_into_a_file_name() {
        let root = Path::new("/r");
        let long = "x".repeat(500);
        let p = path(root, &key(&format!("demo/{long}")));
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= 255 && name.contains('~'), "{name}");
        assert_ne!(p, path(root, &key(&format!("demo/{long}y"))));
        let plain = path(root, &key(&"y".repeat(240)));
        assert_eq!(plain.file_name().unwrap().len(), 245);
    }

    #[test]
    fn the_legacy_layout_is_one_directory_per_segment() {
        let root = Path::new("/r");
        assert_eq!(
            legacy_path(root, &key("a/b/c.pdf")),
            Path::new("/r/a.d/b.d/c.pdf.blob")
        );
        assert_eq!(legacy_path(root, &key("a")), path(root, &key("a")));
        // A bucket is never an old directory, nor an old file.
        let bucketed = path(root, &key("a/b/c.pdf"));
        let bucket = bucketed.parent().unwrap().file_name().unwrap();
        assert!(!bucket.to_str().unwrap().contains('.'));
    }
}
