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

fn write<T: Serialize>(file: &Path, entry: &T) -> std::io::Result<()> {
    let dir = file
        .parent()
        .expect("an entry is inside the build directory");
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(std::io::BufWriter::new(tmp.as_file_mut()), entry)?;
    tmp.as_file_mut().flush()?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
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
}
