//! What was read from a source in the Nix store, kept on disk between runs. A store path never
//! changes, so an entry can only be stale if the reading changed: entries live under a
//! directory named by infra-check's version and a digest of this build's reading code
//! (`build.rs`), and another build never reads them. The directory is the caller's (the CLI and
//! the language server pass the user's cache directory; the analysis reads no environment).
//!
//! The cache is only ever an optimisation: an entry that cannot be read or parsed is read from
//! the source again, and one that cannot be written is not kept.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The directory a host keeps entries in: `infra-check` in the user's cache directory
/// (`$XDG_CACHE_HOME`, else `~/.cache`, on Linux and macOS alike); `None` when there is no home
/// directory. Called by the hosts (the CLI, the language server), never by the analysis.
pub fn user_cache_dir() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    Some(
        etcetera::choose_base_strategy()
            .ok()?
            .cache_dir()
            .join("infra-check"),
    )
}

/// The subdirectory of the cache directory for this build's entries.
pub fn build_dir(cache: &Path) -> PathBuf {
    cache.join(format!(
        "{}-{}",
        env!("CARGO_PKG_VERSION"),
        env!("INFRA_CHECK_READER")
    ))
}

/// How large an entry may be: a clan-core's services are some hundreds of kilobytes.
const MAX_ENTRY_BYTES: u64 = 64 << 20;

/// The file of the entry `what` (`services`, `module nixosModules.server`) read from the source
/// at `root`.
fn entry(cache: &Path, root: &Path, what: &str) -> PathBuf {
    let mut h = Sha256::new();
    h.update(root.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(what.as_bytes());
    let digest: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    build_dir(cache).join(format!("{digest}.json"))
}

/// Whether `what` of the source at `root` is in the cache.
pub fn has(cache: &Path, root: &Path, what: &str) -> bool {
    entry(cache, root, what).is_file()
}

/// `what` of the source at `root`: from the cache when it holds it, else `read()`, which is
/// then kept. Without a cache directory, `read()`.
pub fn cached<T: Serialize + DeserializeOwned>(
    cache: Option<&Path>,
    root: &Path,
    what: &str,
    read: impl FnOnce() -> Option<T>,
) -> Option<T> {
    let Some(cache) = cache else {
        return read();
    };
    let file = entry(cache, root, what);
    if let Ok(bytes) = crate::fsread::read_regular(&file, MAX_ENTRY_BYTES) {
        if let Ok(Entry { value }) = serde_json::from_slice::<Entry<T>>(&bytes) {
            return value;
        }
    }
    let value = read();
    // Kept only if written whole: a reader in another process sees the old file or the new.
    let _ = write(
        &file,
        &Entry {
            value: value.as_ref(),
        },
    );
    value
}

#[derive(Serialize, serde::Deserialize)]
struct Entry<T> {
    /// `None`: the source has none (kept too, so it is not read again either).
    value: Option<T>,
}

/// How long the directory of another build may go without a new entry before the first entry
/// of a new build removes it: each build of infra-check has a directory of its own, and without
/// this they would pile up.
const STALE_BUILD: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 60 * 60);

fn write<T: Serialize>(file: &Path, entry: &T) -> std::io::Result<()> {
    let dir = file
        .parent()
        .expect("an entry is inside the build directory");
    if !dir.is_dir() {
        if let Some(cache) = dir.parent() {
            remove_stale_builds(cache, dir);
        }
    }
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(std::io::BufWriter::new(tmp.as_file_mut()), entry)?;
    tmp.as_file_mut().flush()?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

/// Removes the directories of other builds in `cache` that got no entry for [`STALE_BUILD`].
/// Only directories named as [`build_dir`] names them are touched.
fn remove_stale_builds(cache: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for e in entries.flatten() {
        let path = e.path();
        let named_as_build = e
            .file_name()
            .to_str()
            .and_then(|n| n.rsplit_once('-'))
            .is_some_and(|(_, digest)| {
                digest.len() == 16 && digest.bytes().all(|b| b.is_ascii_hexdigit())
            });
        let stale = e
            .metadata()
            .ok()
            .filter(|m| m.is_dir())
            .and_then(|m| m.modified().ok())
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE_BUILD);
        if path != keep && named_as_build && stale {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_read_once_then_kept_and_a_broken_one_is_read_again() {
        let cache = tempfile::tempdir().unwrap();
        let root = Path::new("/nix/store/x-source");
        let reads = std::cell::Cell::new(0);
        let read = || {
            reads.set(reads.get() + 1);
            Some(vec!["a".to_owned()])
        };
        for _ in 0..3 {
            let got = cached(Some(cache.path()), root, "services", read);
            assert_eq!(got, Some(vec!["a".to_owned()]));
        }
        assert_eq!(reads.get(), 1);
        assert!(has(cache.path(), root, "services"));
        // Another entry, another root: read apart.
        assert!(!has(cache.path(), root, "module nixosModules.x"));
        assert!(!has(
            cache.path(),
            Path::new("/nix/store/y-source"),
            "services"
        ));
        // Nothing is kept as nothing.
        let none: Option<Vec<String>> = cached(Some(cache.path()), root, "none", || None);
        assert_eq!(none, None);
        assert!(has(cache.path(), root, "none"));
        // A broken entry is read again and replaced.
        std::fs::write(entry(cache.path(), root, "services"), "{ not json").unwrap();
        assert_eq!(
            cached(Some(cache.path()), root, "services", read),
            Some(vec!["a".to_owned()])
        );
        assert_eq!(reads.get(), 2);
        assert_eq!(
            cached(Some(cache.path()), root, "services", read),
            Some(vec!["a".to_owned()])
        );
        assert_eq!(reads.get(), 2);
        // A cache that cannot be written to still answers.
        let file = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(
            cached(Some(file.path()), root, "services", read),
            Some(vec!["a".to_owned()])
        );
        assert_eq!(reads.get(), 3);
        // Without a cache, every call reads.
        assert_eq!(
            cached(None, root, "services", read),
            Some(vec!["a".to_owned()])
        );
        assert_eq!(reads.get(), 4);
    }

    #[test]
    fn a_new_build_removes_the_directories_of_builds_unused_for_a_month() {
        let cache = tempfile::tempdir().unwrap();
        let dir = |name: &str, days: u64| {
            let d = cache.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("x.json"), "{}").unwrap();
            let t = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400);
            std::fs::File::open(&d).unwrap().set_modified(t).unwrap();
            d
        };
        let old = dir("0.0.9-0123456789abcdef", 40);
        let recent = dir("0.0.9-fedcba9876543210", 3);
        let other = dir("notes", 400);
        cached(
            Some(cache.path()),
            Path::new("/nix/store/x-source"),
            "e",
            || Some(1),
        );
        assert!(!old.exists() && recent.exists() && other.exists());
        assert!(build_dir(cache.path()).is_dir());
    }
}
