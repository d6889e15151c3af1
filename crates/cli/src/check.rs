//! `infra-check check`: finds the repository root, runs the analysis on a thread with a large
//! stack, renders the report in the chosen format and decides the exit code.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use infra_check_analysis::{Analysis, Diagnostic};

use crate::workspace::cancelled;

use crate::error::CliError;
use crate::report::{fails, Report, Source, Sources};
use crate::{CheckArgs, Format};

pub fn run(args: &CheckArgs) -> Result<ExitCode, CliError> {
    let root = crate::workspace::resolve_root(&args.path)?;
    // A file that could not be read is a finding (`workspace/unreadable`), not a failure of
    // the run.
    let store = args.store.clone();
    let report = &crate::workspace::on_large_stack(move || analyse(&root, &store))?;

    let _render = infra_check_analysis::timings::phase("render the report");
    match args.format {
        Format::Human => crate::output::emit(&crate::render_human::render(report, use_colour()))?,
        Format::Json => crate::output::stream(|out| crate::json::write(report, out))?,
        Format::Sarif => crate::output::stream(|out| crate::sarif::write(report, out))?,
        Format::Github => crate::output::emit(&crate::github::render(
            report,
            github_prefix(&report.root).as_deref(),
        ))?,
    }
    Ok(if fails(&report.diagnostics, args.deny_warnings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn analyse(root: &Path, store: &crate::StoreArgs) -> Result<Report, CliError> {
    let justfile = crate::just_dump::start(root);
    let crate::workspace::Loaded {
        analysis,
        mut progress,
        ..
    } = crate::workspace::load(root, "Checking", store)?;
    let files = analysis.files().len();
    let _p = infra_check_analysis::timings::phase("diagnostics and sources");
    let mut diagnostics: Vec<Diagnostic> = analysis.diagnostics().map_err(cancelled)?.to_vec();
    let mut sources = collect_sources(&analysis, &diagnostics)?;
    diagnostics.extend(crate::justfile_checks::findings(
        &analysis,
        justfile,
        &mut sources,
    )?);
    infra_check_analysis::diagnostic::sort_and_dedup(&mut diagnostics);
    progress.finish();
    Ok(Report {
        root: analysis.root().to_path_buf(),
        files,
        diagnostics,
        sources,
    })
}

/// The texts of every file a diagnostic, related location or fix edit points into.
pub fn collect_sources(
    analysis: &Analysis,
    diagnostics: &[Diagnostic],
) -> Result<Sources, CliError> {
    let mut sources = Sources::default();
    for d in diagnostics {
        let related = d.related.iter().map(|r| &*r.location.file);
        let edits = d
            .fix
            .iter()
            .flat_map(|f| f.edits.iter().map(|e| e.file.as_str()));
        for file in std::iter::once(d.file()).chain(related).chain(edits) {
            if sources.contains(file) {
                continue;
            }
            let Some(text) = analysis.file_text(file) else {
                continue;
            };
            let Some(index) = analysis.line_index(file).map_err(cancelled)? else {
                continue;
            };
            sources.insert(file.to_owned(), Source { text, index });
        }
    }
    Ok(sources)
}

/// Colour only on a terminal, and never when NO_COLOR is set to a non-empty value
/// (<https://no-color.org>).
pub fn use_colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// GitHub resolves annotation paths against the checkout (`GITHUB_WORKSPACE`). When the checked
/// repository is a subdirectory of the checkout, its root-relative paths need that subdirectory
/// in front. `None` outside GitHub Actions or when the root is the checkout itself.
fn github_prefix(root: &Path) -> Option<String> {
    let workspace = std::env::var_os("GITHUB_WORKSPACE")?;
    let workspace = Path::new(&workspace).canonicalize().ok()?;
    let rel = root.strip_prefix(&workspace).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}
