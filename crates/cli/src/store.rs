//! Where the Nix store is, for every command that reads the locked inputs' sources: from the
//! command line, the environment and `infra-check.toml`
//! ([`infra_check_analysis::inputs::configured_store`]).

use std::path::Path;

use infra_check_analysis::inputs::{configured_store, StoreFrom, StoreSetting};

use crate::error::CliError;
use crate::StoreArgs;

/// Where what was read from the store is kept between runs: `None` with `--no-cache` or
/// without a home directory.
pub fn cache_dir(args: &StoreArgs) -> Option<std::path::PathBuf> {
    if args.no_cache {
        return None;
    }
    infra_check_analysis::inputs::cache::user_cache_dir()
}

/// The store setting for the repository at `root`.
pub fn setting(args: &StoreArgs, root: &Path) -> Result<(StoreSetting, StoreFrom), CliError> {
    let option = args
        .store
        .as_ref()
        .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone()));
    let option = match &option {
        Some(p) => Some(p.to_str().ok_or_else(|| {
            CliError::Usage(format!(
                "`--store {}` is not a directory name infra-check can use as a Nix store.",
                p.display()
            ))
        })?),
        None => None,
    };
    configured_store(root, args.no_store, option).map_err(CliError::Usage)
}
