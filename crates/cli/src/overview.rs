//! What `infra-check machines` and `infra-check graph` share: finding the repository root,
//! reading it on a thread with a large stack, and handing back the fleet overview (machines,
//! service instances, roles) together with the files that could not be read.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use infra_check_analysis::clan::overview::Overview;

use crate::error::CliError;

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
        let mut loaded = crate::workspace::load(&root, "Analysing", &crate::StoreArgs::default())?;
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

/// Writes `text` to standard output, then warns about the paths that could not be read (the
/// listing may miss what they define). A broken file in the repository is not a failure of the
/// command: `infra-check check` reports it as a finding.
pub fn finish(text: &str, unreadable: &[(String, String)]) -> Result<ExitCode, CliError> {
    crate::output::emit(text)?;
    let mut stderr = std::io::stderr().lock();
    for (file, reason) in unreadable {
        let _ = writeln!(
            stderr,
            "warning: `{}` could not be read ({reason}), so what it defines is unknown here.",
            infra_check_analysis::disk::display_path(file)
        );
    }
    Ok(ExitCode::SUCCESS)
}
