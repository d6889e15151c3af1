//! Whether a locked input's source is in the store: its computed path, looked at without
//! following a link and without reading anything but the directory's own entry and its
//! listing's first entry.

use std::path::{Path, PathBuf};

use super::lock::LockedSource;
use super::setting::StoreSetting;
use super::store_path::{parse_nar_hash, source_store_path};

/// What became of looking for one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreState {
    /// The source is there: a directory, readable (and so is the flake's subdirectory).
    Found,
    /// Not in the store: Nix has not fetched it here (or it was garbage-collected).
    Absent,
    /// Something is at the path, but not a directory infra-check reads.
    Unusable(String),
    /// The lock does not say where the source is: no `narHash`, a hash that is not SHA-256,
    /// or an input stored by another hash than its NAR's.
    NotLocatable(String),
    /// Looking was turned off.
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The computed store path, when the lock gives one.
    pub store_path: Option<String>,
    /// Where the input's flake is: the store path, or its `dir` below it.
    pub root: Option<PathBuf>,
    pub state: StoreState,
}

/// Looks for `source` in the store.
pub fn locate(store: &StoreSetting, source: &LockedSource) -> Located {
    let not = |state| Located {
        store_path: None,
        root: None,
        state,
    };
    let dir = match store {
        StoreSetting::Off => return not(StoreState::Off),
        StoreSetting::Dir(d) => d,
    };
    // A `file` input is added to the store flat, by the hash of its bytes, which the lock does
    // not record: its path cannot be computed from the NAR hash.
    if source.kind.as_deref() == Some("file") {
        return not(StoreState::NotLocatable(
            "a `file` input is stored under the hash of its bytes, which flake.lock does not record".into(),
        ));
    }
    let Some(text) = source.nar_hash.as_deref() else {
        return not(StoreState::NotLocatable(
            "flake.lock records no `narHash` for it".into(),
        ));
    };
    let Some(hash) = parse_nar_hash(text) else {
        return not(StoreState::NotLocatable(format!(
            "its `narHash` `{text}` is not a SHA-256 digest infra-check can read"
        )));
    };
    let store_path = source_store_path(dir, &hash);
    let mut root = PathBuf::from(&store_path);
    let state = match look(&root) {
        Some(problem) => problem,
        None => match source.dir.as_deref() {
            Some(sub) => match subdirectory(&root, sub) {
                Ok(path) => {
                    root = path;
                    look(&root).unwrap_or(StoreState::Found)
                }
                Err(problem) => problem,
            },
            None => StoreState::Found,
        },
    };
    Located {
        root: (state == StoreState::Found).then_some(root),
        store_path: Some(store_path),
        state,
    }
}

/// `None` when `path` is a readable directory; else what it is.
fn look(path: &Path) -> Option<StoreState> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(StoreState::Absent),
        Err(e) => {
            return Some(StoreState::Unusable(format!(
                "it could not be looked at: {}",
                crate::fsread::io_words(&e)
            )))
        }
    };
    if !meta.is_dir() {
        return Some(StoreState::Unusable(format!(
            "it is {}, not a directory",
            crate::fsread::describe(meta.file_type())
        )));
    }
    match std::fs::read_dir(path) {
        Ok(mut entries) => match entries.next() {
            Some(Err(e)) => Some(StoreState::Unusable(format!(
                "its listing could not be read: {}",
                crate::fsread::io_words(&e)
            ))),
            _ => None,
        },
        Err(e) => Some(StoreState::Unusable(format!(
            "it could not be listed: {}",
            crate::fsread::io_words(&e)
        ))),
    }
}

/// The flake's subdirectory, kept inside the source: a `dir` that climbs out (`..`) or is
/// absolute is refused, as Nix refuses it.
fn subdirectory(root: &Path, sub: &str) -> Result<PathBuf, StoreState> {
    let mut path = root.to_path_buf();
    for part in sub.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(StoreState::Unusable(format!(
                    "its `dir` `{sub}` leaves the source"
                )))
            }
            p => path.push(p),
        }
    }
    if sub.starts_with('/') {
        return Err(StoreState::Unusable(format!(
            "its `dir` `{sub}` is absolute"
        )));
    }
    match look(&path) {
        Some(StoreState::Absent) => Err(StoreState::Unusable(format!(
            "the source has no subdirectory `{sub}`"
        ))),
        Some(problem) => Err(problem),
        None => Ok(path),
    }
}
