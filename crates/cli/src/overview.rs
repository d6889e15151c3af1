//! What `infra-check machines` and `infra-check graph` share: finding the repository root,
//! reading it on a thread with a large stack, and handing back the fleet overview (machines,
//! service instances, roles) together with the files that could not be read.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use infra_check_analysis::clan::overview::Overview;

use crate::error::{CliError, EXIT_ERROR};

/// What the analysis thread hands back.
pub struct Fleet {
    pub overview: Overview,
    /// Files that exist but could not be read, with the reason.
    pub unreadable: Vec<(String, String)>,
}

/// Reads the repository around `path` and returns its fleet overview.
pub fn load(path: &Path) -> Result<Fleet, CliError> {
    let root = crate::workspace::resolve_root(path)?;
    crate::workspace::on_large_stack(move || {
        let mut loaded = crate::workspace::load(&root, "Analysing")?;
        let overview = loaded
            .analysis
            .overview()
            .map_err(crate::workspace::cancelled)?;
        loaded.progress.finish();
        Ok(Fleet {
            overview,
            unreadable: loaded.unreadable,
        })
    })
}

/// Writes `text` to standard output, then reports the files that could not be read. The exit
/// code is 2 when there are any (the listing may be incomplete), 0 otherwise.
pub fn finish(text: &str, unreadable: &[(String, String)]) -> Result<ExitCode, CliError> {
    crate::output::emit(text)?;
    if unreadable.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut stderr = std::io::stderr().lock();
    for (file, reason) in unreadable {
        let _ = writeln!(
            stderr,
            "error: `{file}` could not be read ({reason}), so it was not analysed."
        );
    }
    Ok(ExitCode::from(EXIT_ERROR))
}
