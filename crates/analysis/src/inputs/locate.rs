//! Whether a locked input's source is in the store: its computed path, looked at without
//! following a link and without reading anything but the directory's own entry and its
//! listing's first entry.

use std::path::{Path, PathBuf};

use super::lock::LockedSource;
use super::store_path::{parse_nar_hash, source_store_path};

/// Where the store is, or that it is not to be looked at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreSetting {
    /// `--no-store`: every input is unknown, as without a store.
    #[default]
    Off,
    /// A canonical store directory ([`super::store_path::canonical_store_dir`]).
    Dir(String),
}

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

/// What named the store directory ([`choose_store`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFrom {
    /// `--no-store`.
    Off,
    /// `--store DIR`.
    Option,
    /// `NIX_STORE_DIR`.
    Environment,
    /// `store` in infra-check.toml.
    Config,
    Default,
}

impl StoreFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreFrom::Off => "off",
            StoreFrom::Option => "option",
            StoreFrom::Environment => "NIX_STORE_DIR",
            StoreFrom::Config => "infra-check.toml",
            StoreFrom::Default => "default",
        }
    }
}

/// Where to look, and what said so, from what the caller read: `--no-store`, then `--store`
/// (absolute already), then `NIX_STORE_DIR` (what Nix on this machine uses), then `store` in
/// infra-check.toml, then `/nix/store`. A relative directory is refused with a sentence saying
/// which setting named it.
pub fn choose_store(
    no_store: bool,
    option: Option<&str>,
    environment: Option<&str>,
    config: Option<&str>,
) -> Result<(StoreSetting, StoreFrom), String> {
    use super::store_path::{canonical_store_dir, DEFAULT_STORE_DIR};
    if no_store {
        return Ok((StoreSetting::Off, StoreFrom::Off));
    }
    let named = [
        (option, StoreFrom::Option),
        (
            environment.filter(|e| !e.is_empty()),
            StoreFrom::Environment,
        ),
        (config, StoreFrom::Config),
    ];
    for (dir, from) in named {
        let Some(dir) = dir else { continue };
        return match canonical_store_dir(dir) {
            Some(d) => Ok((StoreSetting::Dir(d), from)),
            None => Err(match from {
                StoreFrom::Environment => format!(
                    "NIX_STORE_DIR=`{dir}` is not an absolute path, which Nix requires of a store directory. Unset it or set it to the store Nix uses."
                ),
                _ => format!("`{dir}` is not an absolute path, which a Nix store directory must be."),
            }),
        };
    }
    Ok((
        StoreSetting::Dir(DEFAULT_STORE_DIR.into()),
        StoreFrom::Default,
    ))
}

/// [`choose_store`] for the repository at `root`, reading `NIX_STORE_DIR` and `store` in its
/// infra-check.toml (when that is there and readable: the check reports its problems).
pub fn configured_store(
    root: &std::path::Path,
    no_store: bool,
    option: Option<&str>,
) -> Result<(StoreSetting, StoreFrom), String> {
    use crate::config::{Config, CONFIG_FILE};
    let config =
        crate::fsread::read_regular(&root.join(CONFIG_FILE), crate::fsread::MAX_SMALL_TEXT_BYTES)
            .ok()
            .and_then(|bytes| {
                std::str::from_utf8(&bytes)
                    .ok()
                    .map(|text| Config::parse(Some(text)))
            });
    let environment = std::env::var("NIX_STORE_DIR").ok();
    choose_store(
        no_store,
        option,
        environment.as_deref(),
        config.as_ref().and_then(|c| c.store.as_deref()),
    )
}
