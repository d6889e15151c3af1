//! `# infra-check: ignore[code, …]` comments: a comment on the line before a diagnostic (or at
//! the end of its line) silences those codes there. Unknown codes are reported.

use std::sync::Arc;

use crate::db::{config, file_by_path, line_index, parse, Db, SourceFile, Workspace};
use crate::diagnostic::{Diagnostic, TextRange};

const MARKER: &str = "infra-check: ignore[";

/// A file's ignore comments, located in bytes rather than lines, so that the workspace's
/// findings can be matched against them without the file's text or line index: an edit that
/// moves no comment then leaves this result, and everything that reads it, as it was.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Suppressions {
    silenced: Vec<Silenced>,
    unknown: Vec<(TextRange, String)>,
}

/// The codes one comment silences, for findings starting on its line or the next: from the
/// start of the comment's line to the start of the line after the next (`u32::MAX` when that
/// is the end of the file, so a finding located past the end counts as on the last line).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Silenced {
    from: u32,
    to: u32,
    codes: Vec<String>,
}

impl Suppressions {
    fn silences(&self, offset: u32, code: &str) -> bool {
        self.silenced
            .iter()
            .any(|s| (s.from..s.to).contains(&offset) && s.codes.iter().any(|c| c == code))
    }
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
            .line as usize;
        let mut silenced = Silenced {
            from: idx.line_start(line).unwrap_or(0),
            to: idx.line_start(line + 2).unwrap_or(u32::MAX),
            codes: Vec::new(),
        };
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
            silenced.codes.push(trimmed.to_owned());
        }
        if !silenced.codes.is_empty() {
            s.silenced.push(silenced);
        }
    }
    Arc::new(s)
}

pub(super) fn apply(db: &dyn Db, ws: Workspace, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut out = Vec::with_capacity(diags.len());
    for d in diags {
        if let Some(file) = file_by_path(db, ws, &d.location.file) {
            if d.location.file.ends_with(".nix")
                && suppressions(db, file).silences(d.location.range.start, d.code)
            {
                continue;
            }
        }
        out.push(d);
    }
    // These findings are made after `infra-check.toml` was applied to the others, so it is
    // applied here: an excluded file's comments are not read, and the code's severity holds.
    let cfg = config(db, ws);
    for chunk in crate::chunks::nix_chunks(db, ws, |p| !cfg.is_excluded(p)) {
        for d in unknown_codes(db, chunk).iter() {
            let Some(severity) = cfg.severity_for(d.code, d.severity) else {
                continue;
            };
            let mut d = d.clone();
            d.severity = severity;
            out.push(d);
        }
    }
    out
}

/// The codes of a group of files' ignore comments (see [`crate::chunks`]) that name no
/// diagnostic, each a finding at its default severity.
#[salsa::tracked(returns(ref))]
fn unknown_codes<'db>(
    db: &'db dyn Db,
    chunk: crate::chunks::FileChunk<'db>,
) -> Arc<Vec<Diagnostic>> {
    let mut out = Vec::new();
    for &file in chunk.files(db) {
        for (range, code) in &suppressions(db, file).unknown {
            out.push(Diagnostic::new(
                "config/unknown-code",
                file.path(db),
                *range,
                format!(
                    "`{code}` is not an infra-check diagnostic code, so this ignore comment has no effect; `infra-check explain --list` lists the codes."
                ),
            ));
        }
    }
    Arc::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each comment of `text` reaches, as the offsets of `probes` it silences `code` at.
    fn silenced_at(text: &str, probes: &[u32]) -> Vec<u32> {
        let mut host = crate::AnalysisHost::new("/t".into());
        host.set_file_text("a.nix", Some(text.into()));
        let analysis = host.snapshot();
        let (db, ws) = (analysis.db_for_tests(), analysis.workspace_for_tests());
        let s = suppressions(db, file_by_path(db, ws, "a.nix").unwrap());
        probes
            .iter()
            .copied()
            .filter(|&o| s.silences(o, "module/unused"))
            .collect()
    }

    /// At every offset (and past the end), a comment silences exactly the findings whose line,
    /// as the line index counts it, is the comment's or the next: for LF, CRLF and bare CR
    /// endings, with and without a final newline, with multi-byte characters before the
    /// offset.
    #[test]
    fn a_comment_reaches_its_line_and_the_next_with_any_line_ending() {
        for eol in ["\n", "\r\n", "\r"] {
            for last in ["", eol] {
                let text = [
                    "{",
                    "  é = 1; # infra-check: ignore[module/unused]",
                    "  a = \"ü\";",
                    "  b = 1;",
                    "}",
                ]
                .join(eol)
                    + last;
                let idx = crate::line_index::LineIndex::new(&text);
                let comment_line = 1;
                let probes: Vec<u32> = (0..text.len() as u32 + 3).collect();
                let expected: Vec<u32> = probes
                    .iter()
                    .copied()
                    .filter(|&o| {
                        let line = idx.line_col_chars(&text, o).line;
                        line == comment_line || line == comment_line + 1
                    })
                    .collect();
                assert!(!expected.is_empty());
                assert_eq!(silenced_at(&text, &probes), expected, "{text:?}");
            }
        }
    }

    /// A finding located past the end of the text counts as on the last line (the line index
    /// clamps it there), so a comment on the last line or the one before reaches it.
    #[test]
    fn a_finding_past_the_end_counts_as_on_the_last_line() {
        let text = "{ }\n# infra-check: ignore[module/unused]\nx";
        assert_eq!(silenced_at(text, &[0, 4, 41, 1000]), [4, 41, 1000]);
        let text = "{ }\n# infra-check: ignore[module/unused]\nx\ny\n";
        assert_eq!(silenced_at(text, &[42, 43, 1000]), [42]);
    }

    /// Only the codes a comment names are silenced.
    #[test]
    fn other_codes_are_not_silenced() {
        let mut host = crate::AnalysisHost::new("/t".into());
        host.set_file_text(
            "a.nix",
            Some("# infra-check: ignore[module/unused, vars/orphan]\n".into()),
        );
        let analysis = host.snapshot();
        let (db, ws) = (analysis.db_for_tests(), analysis.workspace_for_tests());
        let s = suppressions(db, file_by_path(db, ws, "a.nix").unwrap());
        assert!(s.silences(0, "vars/orphan"));
        assert!(!s.silences(0, "module/import-not-found"));
    }
}
