//! The result of a check as plain data, shared by every output format: the diagnostics, the
//! texts of the files they point into, 1-based positions, and the summary counts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use infra_check_analysis::{Diagnostic, LineIndex, Severity, TextRange};
use serde::Serialize;

use crate::text::plural;

/// Everything a renderer needs; no renderer talks to the analyzer.
pub struct Report {
    /// The absolute repository root (the directory holding flake.nix).
    pub root: PathBuf,
    /// How many files were analysed.
    pub files: usize,
    /// Sorted by file and position, as the analyzer returns them.
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
}

/// The text and line table of one file.
pub struct Source {
    pub text: Arc<str>,
    pub index: Arc<LineIndex>,
}

/// The files that diagnostics, related locations and fixes point into, by root-relative path.
#[derive(Default)]
pub struct Sources {
    map: HashMap<String, Source>,
}

/// A 1-based line and a 1-based column counted in characters (Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// A range of 1-based positions; `end` is the position just after the last character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

impl Sources {
    pub fn insert(&mut self, file: String, source: Source) {
        self.map.insert(file, source);
    }

    pub fn contains(&self, file: &str) -> bool {
        self.map.contains_key(file)
    }

    pub fn get(&self, file: &str) -> Option<&Source> {
        self.map.get(file)
    }

    /// The 1-based span of `range` in `file`. A file whose text the analyzer does not hold (a
    /// path that does not exist yet, a data file it does not read) has every position at 1:1.
    pub fn span(&self, file: &str, range: TextRange) -> Span {
        match self.map.get(file) {
            Some(src) => {
                let (start, end) = src.index.range_chars(&src.text, range);
                Span {
                    start: Position {
                        line: start.line + 1,
                        column: start.col + 1,
                    },
                    end: Position {
                        line: end.line + 1,
                        column: end.col + 1,
                    },
                }
            }
            None => {
                let origin = Position { line: 1, column: 1 };
                Span {
                    start: origin,
                    end: origin,
                }
            }
        }
    }
}

/// Whether the human format may show the lines of `file`: Nix sources outside `vars/` and
/// `sops/`. Any other file the analyzer holds the text of (`flake.lock`, `inventory.json`,
/// `infra-check.toml`, an option catalog, a `.validation-hash`, and above all a `secret` named
/// as a catalog) is pointed at by line and column, never quoted: no message quotes a file that
/// is not Nix source.
pub fn may_quote(file: &str) -> bool {
    let in_secrets = file.starts_with("vars/") || file.starts_with("sops/");
    !in_secrets && file.ends_with(".nix")
}

/// Counts of diagnostics by severity, and of analysed files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    pub hint: usize,
    pub files: usize,
}

impl Summary {
    pub fn of(report: &Report) -> Summary {
        let mut s = Summary {
            files: report.files,
            ..Summary::default()
        };
        for d in &report.diagnostics {
            match d.severity {
                Severity::Error => s.error += 1,
                Severity::Warning => s.warning += 1,
                Severity::Info => s.info += 1,
                Severity::Hint => s.hint += 1,
            }
        }
        s
    }

    /// `2 errors, 1 warning, 0 infos in 37 files` (hints only when there are some), or
    /// `No problems found in 37 files.`
    pub fn line(&self) -> String {
        let files = plural(self.files, "file", "files");
        if self.error + self.warning + self.info + self.hint == 0 {
            return format!("No problems found in {files}.");
        }
        let mut parts = vec![
            plural(self.error, "error", "errors"),
            plural(self.warning, "warning", "warnings"),
            plural(self.info, "info", "infos"),
        ];
        if self.hint > 0 {
            parts.push(plural(self.hint, "hint", "hints"));
        }
        format!("{} in {files}", parts.join(", "))
    }
}

/// Whether the findings fail the check: any error, or any warning when `deny_warnings`.
/// Infos and hints never fail.
pub fn fails(diagnostics: &[Diagnostic], deny_warnings: bool) -> bool {
    let threshold = if deny_warnings {
        Severity::Warning
    } else {
        Severity::Error
    };
    diagnostics
        .iter()
        .any(|d| d.severity.rank() >= threshold.rank())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let mut s = Summary {
            files: 37,
            ..Summary::default()
        };
        assert_eq!(s.line(), "No problems found in 37 files.");
        s.error = 2;
        s.warning = 1;
        assert_eq!(s.line(), "2 errors, 1 warning, 0 infos in 37 files");
        s.hint = 1;
        s.files = 1;
        assert_eq!(s.line(), "2 errors, 1 warning, 0 infos, 1 hint in 1 file");
    }
}
