//! What every command that reads a repository shares: finding the root, running the analysis
//! on a thread with a large stack (rnix and the evaluator recurse on deeply nested input), and
//! loading the files with progress on a terminal.

use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};

use infra_check_analysis::{Analysis, Cancelled};

use crate::error::CliError;
use crate::progress::Progress;

/// The nearest directory at or above `path` that holds a flake.nix.
pub fn resolve_root(path: &Path) -> Result<PathBuf, CliError> {
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if let Err(e) = std::fs::metadata(path) {
        return Err(CliError::Usage(
            if e.kind() == std::io::ErrorKind::NotFound {
                format!("The path `{}` does not exist.", shown.display())
            } else {
                format!("The path `{}` could not be read: {e}.", shown.display())
            },
        ));
    }
    let root = infra_check_analysis::find_root(path).ok_or_else(|| {
        CliError::Usage(format!(
            "No flake.nix was found in `{}` or any of its parent directories, so there is no \
repository to check.",
            shown.display()
        ))
    })?;
    // A flake.nix that is not a file is no flake at all, as for Nix; a run that went on would
    // have no file to anchor its findings on. (A link that cannot be followed is left to the
    // check, which reports it on the link.)
    let flake = root.join("flake.nix");
    if let Ok(meta) = std::fs::metadata(&flake) {
        if !meta.is_file() {
            return Err(CliError::Usage(format!(
                "`{}` is {}, not a regular file, so there is no flake to check. Replace it with \
the flake's flake.nix.",
                flake.display(),
                infra_check_analysis::fsread::describe(meta.file_type())
            )));
        }
    }
    Ok(root)
}

/// Runs `f` on the analysis thread and waits for it.
pub fn on_large_stack<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CliError> + Send + 'static,
) -> Result<T, CliError> {
    crate::threads::configure_rayon();
    let handle = std::thread::Builder::new()
        .name("infra-check-analysis".into())
        .stack_size(crate::threads::ANALYSIS_STACK)
        .spawn(|| {
            crate::threads::mark_analysis_thread();
            f()
        })
        .map_err(|e| CliError::Io(format!("The analysis thread could not be started: {e}.")))?;
    handle.join().map_err(|_| {
        CliError::Io(
            "The analysis stopped because of an internal error in infra-check (see the message \
above); please report it."
                .into(),
        )
    })?
}

/// A loaded repository, primed, ready for queries.
pub struct Loaded {
    /// Never dropped unless a command asks for it (`ManuallyDrop::into_inner`): every command
    /// but `deploy` exits once it has its answer, and freeing the database (every syntax tree,
    /// summary and model) would only delay that exit by several percent of the run.
    pub analysis: ManuallyDrop<Analysis>,
    /// Files that exist but could not be read, with the reason.
    pub unreadable: Vec<(String, String)>,
    pub progress: Progress,
}

/// Reads the repository at `root` and does the per-file work, saying `verb` ("Checking",
/// "Analysing") on a terminal.
///
/// `store` says where the Nix store is that holds the locked inputs' sources
/// ([`crate::store::setting`]); a usage error there stops the run before anything is read.
pub fn load(root: &Path, verb: &str, store_args: &crate::StoreArgs) -> Result<Loaded, CliError> {
    let loaded = open(root, verb, store_args)?;
    loaded.analysis.prime().map_err(cancelled)?;
    Ok(loaded)
}

/// [`load`] without the per-file work done ahead: for a command that asks one question whose
/// queries compute only what it needs (`inputs`).
pub fn open(root: &Path, verb: &str, store_args: &crate::StoreArgs) -> Result<Loaded, CliError> {
    let (store, _) = crate::store::setting(store_args, root)?;
    let mut progress = Progress::stderr();
    progress.set(&format!("Reading {}…", root.display()));
    let mut loaded = infra_check_analysis::load(root).map_err(|e| {
        CliError::Io(format!(
            "The repository at `{}` could not be read: {e}.",
            root.display()
        ))
    })?;
    loaded.host.set_store(store);
    loaded.host.set_cache(crate::store::cache_dir(store_args));
    let analysis = loaded.host.snapshot();
    let files = analysis.files().len();
    progress.set(&format!(
        "{verb} {files} file{}…",
        if files == 1 { "" } else { "s" }
    ));
    Ok(Loaded {
        analysis: ManuallyDrop::new(analysis),
        unreadable: loaded.unreadable,
        progress,
    })
}

pub fn cancelled(_: Cancelled) -> CliError {
    // Nothing changes the workspace while the CLI runs, so this cannot happen in practice.
    CliError::Io("The analysis was cancelled before it finished.".into())
}
