//! The justfile checks of `infra-check check`: the CLI has `just` read the repository's
//! justfile (the analyzer runs no program) and hands the recipes to the analyzer as plain
//! data. Silent when `just` is not installed or there is no justfile; a justfile `just`
//! rejects is named in one warning on stderr and skipped.

use std::path::Path;
use std::sync::Arc;

use infra_check_analysis::{Analysis, Diagnostic, JustRecipe, LineIndex, TextRange};

use crate::error::CliError;
use crate::just_dump::{self, DumpError, Dumped, Pending};
use crate::report::{Source, Sources};
use crate::workspace::cancelled;

/// The largest justfile (or module file) read to find where its recipes are declared.
const MAX_TEXT: u64 = 4 << 20;

/// The findings about the justfile whose dump `pending` holds, and the texts of the files they
/// point into (added to `sources` so every format gives their lines).
pub fn findings(
    analysis: &Analysis,
    pending: Pending,
    sources: &mut Sources,
) -> Result<Vec<Diagnostic>, CliError> {
    let Some(Dumped { root, path, result }) = pending.wait() else {
        return Ok(Vec::new());
    };
    let root = &root;
    let shown = relative(root, &path).unwrap_or_else(|| path.display().to_string());
    let justfile = match result {
        Ok(j) => j,
        Err(DumpError::NoJust) => return Ok(Vec::new()),
        Err(e) => {
            eprintln!(
                "warning: {}, so its recipes were not checked.",
                e.clause(&shown)
            );
            return Ok(Vec::new());
        }
    };
    let mut texts: std::collections::HashMap<String, Option<Arc<str>>> = Default::default();
    let mut recipes = Vec::new();
    for r in &justfile.recipes {
        let source = r.source.canonicalize().unwrap_or_else(|_| r.source.clone());
        let Some(file) = relative(root, &source) else {
            // A module outside the repository: nothing to point at.
            continue;
        };
        let text = texts
            .entry(file.clone())
            .or_insert_with(|| read_text(&source))
            .clone();
        let range = text
            .as_deref()
            .and_then(|t| declaration(t, &r.name))
            .unwrap_or_default();
        recipes.push(JustRecipe {
            namepath: r.namepath.clone(),
            runs_elsewhere: r.changes_directory || source.parent() != Some(root.as_path()),
            file,
            range,
            lines: r.lines.clone(),
        });
    }
    let found = analysis.justfile_diagnostics(&recipes).map_err(cancelled)?;
    for d in &found {
        if let Some(Some(text)) = texts.get(d.file()) {
            if !sources.contains(d.file()) {
                let index = Arc::new(LineIndex::new(text));
                sources.insert(
                    d.file().to_owned(),
                    Source {
                        text: text.clone(),
                        index,
                    },
                );
            }
        }
    }
    Ok(found)
}

/// `path` relative to `root`, with forward slashes, when it is inside it.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

fn read_text(path: &Path) -> Option<Arc<str>> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_TEXT).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into())
}

/// The recipe's name on the line that declares it.
fn declaration(text: &str, name: &str) -> Option<TextRange> {
    let line = just_dump::recipe_line(text, name)?;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let at = start + text[start..].find(name)?;
    Some(TextRange::new(at as u32, (at + name.len()) as u32))
}
