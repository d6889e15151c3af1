//! `--format json`: one JSON document in a versioned schema, for scripts and other tools.
//!
//! # Schema, version 1
//!
//! ```text
//! {
//!   "version": 1,
//!   "root": "/abs/path/to/repository",          // the directory holding flake.nix
//!   "diagnostics": [
//!     {
//!       "code": "module/undefined",              // see `infra-check explain --list`
//!       "severity": "error",                     // "error" | "warning" | "info" | "hint"
//!       "message": "…",
//!       "file": "modules/x.nix",                 // relative to root, forward slashes
//!       "range": {
//!         "start": { "line": 1, "column": 1 },
//!         "end":   { "line": 1, "column": 5 }
//!       },
//!       "related": [
//!         { "file": "…", "range": { … }, "message": "…" }
//!       ],
//!       "fix": null | {
//!         "message": "…",
//!         "edits": [ { "file": "…", "range": { … }, "newText": "…" } ],
//!         "command": null | "…"                  // a shell command that fixes it
//!       }
//!     }
//!   ],
//!   "summary": { "error": 0, "warning": 0, "info": 0, "hint": 0, "files": 0 }
//! }
//! ```
//!
//! - Lines and columns are 1-based; columns count characters (Unicode scalar values), not bytes
//!   or UTF-16 units. `end` is the position just after the last character of the range, so an
//!   empty range has `start == end`.
//! - Positions in a file whose text infra-check does not read (for example a path a fix would
//!   create) are `1:1`.
//! - `diagnostics` is sorted by file and position. Every key is always present.
//! - `summary.files` is the number of files analysed.
//! - Keys may be added in later releases without changing `version`; a change to existing keys
//!   or their meaning increments it.

use infra_check_analysis::{Diagnostic, Severity};
use serde::Serialize;

use crate::report::{Report, Sources, Span, Summary};

/// The version of the schema above.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    root: String,
    diagnostics: Diagnostics<'a>,
    summary: Summary,
}

/// The diagnostics, converted one at a time as they are written.
struct Diagnostics<'a>(&'a Report);

impl Serialize for Diagnostics<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        serializer.collect_seq(
            report
                .diagnostics
                .iter()
                .map(|d| diagnostic(d, &report.sources)),
        )
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    range: Span,
    related: Vec<JsonRelated<'a>>,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    file: &'a str,
    range: Span,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    message: &'a str,
    edits: Vec<JsonEdit<'a>>,
    command: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonEdit<'a> {
    file: &'a str,
    range: Span,
    new_text: &'a str,
}

/// Writes the JSON document for `report`, pretty-printed, with a trailing newline.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let doc = Document {
        version: SCHEMA_VERSION,
        root: report.root.to_string_lossy().into_owned(),
        diagnostics: Diagnostics(report),
        summary: Summary::of(report),
    };
    crate::output::write_json(out, &doc)
}

/// The JSON document for `report` as a string (see [`write`]).
#[cfg(test)]
pub fn render(report: &Report) -> String {
    crate::output::to_string(|out| write(report, out))
}

fn diagnostic<'a>(d: &'a Diagnostic, sources: &Sources) -> JsonDiagnostic<'a> {
    JsonDiagnostic {
        code: d.code,
        severity: d.severity,
        message: &d.message,
        file: d.file(),
        range: sources.span(d.file(), d.range()),
        related: d
            .related
            .iter()
            .map(|r| JsonRelated {
                file: &r.location.file,
                range: sources.span(&r.location.file, r.location.range),
                message: &r.message,
            })
            .collect(),
        fix: d.fix.as_ref().map(|f| JsonFix {
            message: &f.message,
            edits: f
                .edits
                .iter()
                .map(|e| JsonEdit {
                    file: &e.file,
                    range: sources.span(&e.file, e.range),
                    new_text: &e.new_text,
                })
                .collect(),
            command: f.command.as_deref(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use infra_check_analysis::{Fix, LineIndex, TextEdit, TextRange};

    use super::*;
    use crate::report::Source;

    #[test]
    fn related_and_fix_use_the_documented_keys() {
        let text = "{\n  x = bsae;\n}\n";
        let mut sources = Sources::default();
        sources.insert(
            "a.nix".into(),
            Source {
                text: Arc::from(text),
                index: Arc::new(LineIndex::new(text)),
            },
        );
        let d = Diagnostic::new(
            "module/undefined",
            "a.nix",
            TextRange::new(8, 12),
            "m".into(),
        )
        .with_related("a.nix", TextRange::new(0, 1), "here")
        .with_fix(Fix {
            message: "fix it".into(),
            edits: vec![TextEdit {
                file: "a.nix".into(),
                range: TextRange::new(8, 12),
                new_text: "base".into(),
            }],
            command: None,
        });
        let report = Report {
            root: PathBuf::from("/r"),
            files: 1,
            diagnostics: vec![d],
            sources,
        };
        let doc: serde_json::Value = serde_json::from_str(&render(&report)).unwrap();
        let d = &doc["diagnostics"][0];
        assert_eq!(
            d["range"]["start"],
            serde_json::json!({"line": 2, "column": 7})
        );
        assert_eq!(
            d["range"]["end"],
            serde_json::json!({"line": 2, "column": 11})
        );
        assert_eq!(
            d["related"][0],
            serde_json::json!({"file": "a.nix", "message": "here",
                "range": {"start": {"line": 1, "column": 1}, "end": {"line": 1, "column": 2}}})
        );
        assert_eq!(d["fix"]["message"], "fix it");
        assert_eq!(d["fix"]["command"], serde_json::Value::Null);
        assert_eq!(d["fix"]["edits"][0]["newText"], "base");
        assert_eq!(d["fix"]["edits"][0]["range"]["start"]["column"], 7);
    }
}
