//! The master key: from `TAQUILLA_MASTER_KEY`, or generated on first use
//! into `{data_dir}/secrets/master.key` (mode 0600), never into the repository.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use taquilla_core::secrets::MasterKey;

/// The environment variable that carries the master key in deployments.
pub const ENV: &str = "TAQUILLA_MASTER_KEY";

fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("secrets").join("master.key")
}

/// The master key, and whether it was generated just now.
pub fn master_key(data_dir: &Path) -> anyhow::Result<(MasterKey, bool)> {
    if let Ok(hex) = std::env::var(ENV) {
        let key = MasterKey::from_hex(&hex).with_context(|| format!("reading {ENV}"))?;
        return Ok((key, false));
    }
    let path = key_file(data_dir);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let key = MasterKey::from_hex(&text)
                .with_context(|| format!("reading the master key in {}", path.display()))?;
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => generate(&path),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn generate(path: &Path) -> anyhow::Result<(MasterKey, bool)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key =
        MasterKey::generate().map_err(|e| anyhow::anyhow!("generating the master key: {e}"))?;
    // Written under a temporary name and renamed, so a crash never leaves a
    // half-written key; `create_new` so two first runs cannot both win.
    let tmp = dir.join(format!(".master.key.{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(key.to_hex().as_bytes())?;
    file.sync_all()?;
    drop(file);
    if path.exists() {
        // Another process generated it first: use theirs.
        fs::remove_file(&tmp).ok();
        return master_key_file(path).map(|k| (k, false));
    }
    fs::rename(&tmp, path).with_context(|| format!("creating {}", path.display()))?;
    Ok((key, true))
}

fn master_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = fs::read_to_string(path)?;
    Ok(MasterKey::from_hex(&text)?)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn the_key_is_generated_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = master_key(dir.path()).unwrap();
        assert!(created);
        let (again, created) = master_key(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(first, again);
        let mode = fs::metadata(key_file(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
