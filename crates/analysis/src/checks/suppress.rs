//! `# infra-check: ignore[code, …]` comments: a comment on the line before a diagnostic (or at
//! the end of its line) silences those codes there. Unknown codes are reported.

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::{config, file_by_path, line_index, parse, Db, SourceFile, Workspace};
use crate::diagnostic::{Diagnostic, TextRange};

const MARKER: &str = "infra-check: ignore[";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Suppressions {
    /// Zero-based line of the comment → codes it names.
    by_line: HashMap<u32, Vec<String>>,
    unknown: Vec<(TextRange, String)>,
}

#[salsa::tracked(returns(ref))]
pub(crate) fn suppressions(db: &dyn Db, file: SourceFile) -> Arc<Suppressions> {
    let text = file.text(db);
    let mut s = Suppressions::default();
    if !text.contains(MARKER) {
        return Arc::new(s);
    }
    let parsed = parse(db, file);
    let idx = line_index(db, file);
    for tok in parsed.syntax().descendants_with_tokens() {
        let Some(tok) = tok.into_token() else {
            continue;
        };
        if tok.kind() != rnix::SyntaxKind::TOKEN_COMMENT {
            continue;
        }
        let t = tok.text();
        let Some(at) = t.find(MARKER) else { continue };
        let rest = &t[at + MARKER.len()..];
        let Some(end) = rest.find(']') else { continue };
        let start: u32 = u32::from(tok.text_range().start()) + (at + MARKER.len()) as u32;
        let line = idx
            .line_col_chars(text, tok.text_range().start().into())
            .line;
        let mut offset = 0usize;
        for code in rest[..end].split(',') {
            let trimmed = code.trim();
            let lead = code.len() - code.trim_start().len();
            let begin = start + (offset + lead) as u32;
            offset += code.len() + 1;
            if trimmed.is_empty() {
                continue;
            }
            if crate::codes::lookup(trimmed).is_none() {
                s.unknown.push((
                    TextRange::new(begin, begin + trimmed.len() as u32),
                    trimmed.to_owned(),
                ));
            }
            s.by_line.entry(line).or_default().push(trimmed.to_owned());
        }
    }
    Arc::new(s)
}

pub(super) fn apply(db: &dyn Db, ws: Workspace, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut out = Vec::with_capacity(diags.len());
    for d in diags {
        if let Some(file) = file_by_path(db, ws, &d.location.file) {
            if d.location.file.ends_with(".nix") {
                let s = suppressions(db, file);
                let line = line_index(db, file)
                    .line_col_chars(file.text(db), d.location.range.start)
                    .line;
                let silenced = [Some(line), line.checked_sub(1)]
                    .into_iter()
                    .flatten()
                    .filter_map(|l| s.by_line.get(&l))
                    .any(|codes| codes.iter().any(|c| c == d.code));
                if silenced {
                    continue;
                }
            }
        }
        out.push(d);
    }
    // These findings are made after `infra-check.toml` was applied to the others, so it is
    // applied here: an excluded file's comments are not read, and the code's severity holds.
    let cfg = config(db, ws);
    for (path, &file) in ws.files(db).iter() {
        if !path.ends_with(".nix") || cfg.is_excluded(path) {
            continue;
        }
        for (range, code) in &suppressions(db, file).unknown {
            let mut d = Diagnostic::new(
                "config/unknown-code",
                path,
                *range,
                format!(
                    "`{code}` is not an infra-check diagnostic code, so this ignore comment has no effect; `infra-check explain --list` lists the codes."
                ),
            );
            let Some(severity) = cfg.severity_for(d.code, d.severity) else {
                continue;
            };
            d.severity = severity;
            out.push(d);
        }
    }
    out
}
