//! Which Nix store the locked inputs are looked for in, and what said so: `--no-store`,
//! `--store`, `NIX_STORE_DIR`, `store` in infra-check.toml, or `/nix/store`.

use std::path::Path;

use super::store_path::{canonical_store_dir, DEFAULT_STORE_DIR};
use crate::config::{Config, CONFIG_FILE};

/// Where the store is, or that it is not to be looked at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreSetting {
    /// `--no-store`: every input is unknown, as without a store.
    #[default]
    Off,
    /// A canonical store directory ([`super::store_path::canonical_store_dir`]).
    Dir(String),
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
    root: &Path,
    no_store: bool,
    option: Option<&str>,
) -> Result<(StoreSetting, StoreFrom), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(d: &str) -> StoreSetting {
        StoreSetting::Dir(d.into())
    }

    #[test]
    fn the_first_setting_given_wins_and_a_relative_one_is_refused() {
        let all = (Some("/opt"), Some("/env"), Some("/toml"));
        assert_eq!(
            choose_store(true, all.0, all.1, all.2),
            Ok((StoreSetting::Off, StoreFrom::Off))
        );
        assert_eq!(
            choose_store(false, all.0, all.1, all.2),
            Ok((dir("/opt"), StoreFrom::Option))
        );
        assert_eq!(
            choose_store(false, None, all.1, all.2),
            Ok((dir("/env"), StoreFrom::Environment))
        );
        // An empty NIX_STORE_DIR is unset, as for Nix.
        assert_eq!(
            choose_store(false, None, Some(""), all.2),
            Ok((dir("/toml"), StoreFrom::Config))
        );
        assert_eq!(
            choose_store(false, None, None, None),
            Ok((dir(DEFAULT_STORE_DIR), StoreFrom::Default))
        );
        let refused = choose_store(false, None, Some("store"), all.2).unwrap_err();
        assert!(refused.contains("NIX_STORE_DIR=`store`"), "{refused}");
        assert!(choose_store(false, Some("rel/dir"), None, None).is_err());
    }
}
