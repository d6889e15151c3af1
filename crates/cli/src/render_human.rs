//! `--format human`: rustc-style messages rendered with `annotate-snippets`, then a summary line.
//!
//! ```text
//! error[syntax/parse-error]: unexpected token
//!  --> modules/bad.nix:1:7
//!   |
//! 1 | { a = ; }
//!   |       ^
//!   |
//!   = help: …
//! ```
//!
//! Related locations in the same file are secondary annotations with their message; those in
//! other files are further snippets, or `= note:` lines when the file's text is not available.
//! Only Nix sources and the repository's `flake.lock`, `inventory.json` and `infra-check.toml`
//! are quoted ([`may_quote`]): a diagnostic in any other file (an option catalog, a vars file,
//! a secret named where a catalog belongs) shows its path, line and column only.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Element, Group, Level, Origin, Renderer, Snippet};
use infra_check_analysis::{Diagnostic, Severity, TextRange};

use crate::report::{may_quote, Report, Source, Sources, Summary};

/// Renders every diagnostic and the summary line; `colour` adds ANSI styling.
pub fn render(report: &Report, colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in &report.diagnostics {
        out.push_str(&renderer.render(&[group(d, &report.sources)]));
        out.push_str("\n\n");
    }
    let summary = Summary::of(report).line();
    if colour {
        out.push_str(&format!("\x1b[1m{summary}\x1b[0m\n"));
    } else {
        out.push_str(&summary);
        out.push('\n');
    }
    out
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
        Severity::Hint => Level::HELP.with_name("hint"),
    }
}

/// A snippet of `file` showing the lines of `related` (and of `primary`, which the caller
/// annotates), each related range labelled with its message.
fn context_snippet<'a>(
    text: &'a str,
    file: &'a str,
    related: &[(TextRange, &'a str)],
    primary: Option<TextRange>,
) -> Snippet<'a, annotate_snippets::Annotation<'a>> {
    let ranges: Vec<TextRange> = primary
        .into_iter()
        .chain(related.iter().map(|(r, _)| *r))
        .collect();
    let mut snippet = Snippet::source(displayed(text, &ranges))
        .path(file)
        .line_start(1);
    for (range, message) in related {
        snippet = snippet.annotation(
            AnnotationKind::Context
                .span(clamp(text, *range))
                .label(*message),
        );
    }
    snippet
}

fn group<'a>(d: &'a Diagnostic, sources: &'a Sources) -> Group<'a> {
    let title = level(d.severity)
        .primary_title(d.message.as_str())
        .id(d.code);
    let mut elements: Vec<Element<'a>> = Vec::new();
    // `= note:` lines for related locations whose file text is not available; they go after
    // every snippet.
    let mut notes: Vec<Element<'a>> = Vec::new();

    // Related locations, grouped by file; those in the primary file join its snippet.
    let mut by_file: BTreeMap<&str, Vec<(TextRange, &str)>> = BTreeMap::new();
    for r in &d.related {
        by_file
            .entry(r.location.file.as_str())
            .or_default()
            .push((r.location.range, r.message.as_str()));
    }
    let same_file = by_file.remove(d.file()).unwrap_or_default();

    match quotable(sources, d.file()) {
        Some(src) => {
            let snippet = context_snippet(&src.text, d.file(), &same_file, Some(d.range()))
                .annotation(AnnotationKind::Primary.span(clamp(&src.text, d.range())));
            elements.push(snippet.into());
        }
        None => {
            let mut origin = Origin::path(d.file());
            if sources.contains(d.file()) {
                let span = sources.span(d.file(), d.range());
                origin = origin
                    .line(span.start.line as usize)
                    .char_column(span.start.column as usize);
            }
            elements.push(origin.into());
            for (range, message) in same_file {
                notes.push(
                    Level::NOTE
                        .message(at(sources, d.file(), range, message))
                        .into(),
                );
            }
        }
    }

    for (file, related) in by_file {
        match quotable(sources, file) {
            Some(src) => {
                elements.push(context_snippet(&src.text, file, &related, None).into());
            }
            None => {
                for (range, message) in related {
                    notes.push(
                        Level::NOTE
                            .message(at(sources, file, range, message))
                            .into(),
                    );
                }
            }
        }
    }

    elements.extend(notes);
    if let Some(fix) = &d.fix {
        elements.push(Level::HELP.message(fix.message.as_str()).into());
        if let Some(command) = &fix.command {
            if !fix.message.contains(command.as_str()) {
                elements.push(Level::HELP.message(format!("run `{command}`")).into());
            }
        }
    }

    Group::with_title(title).elements(elements)
}

/// The text of `file` when its lines may be shown (see [`may_quote`]).
fn quotable<'a>(sources: &'a Sources, file: &str) -> Option<&'a Source> {
    sources.get(file).filter(|_| may_quote(file))
}

/// `file:line:column: message` for a location whose lines are not shown.
fn at(sources: &Sources, file: &str, range: TextRange, message: &str) -> String {
    let span = sources.span(file, range);
    format!(
        "{file}:{}:{}: {message}",
        span.start.line, span.start.column
    )
}

/// The text to show for a file. A range at the very end of a file that ends with a newline sits
/// on the empty last line (that is where the other formats put it too); a space there makes
/// that line exist for the renderer, which would otherwise move the range to the line before.
fn displayed<'a>(text: &'a str, ranges: &[TextRange]) -> Cow<'a, str> {
    let at_end = ranges.iter().any(|r| r.start as usize >= text.len());
    if at_end && text.ends_with('\n') {
        Cow::Owned(format!("{text} "))
    } else {
        Cow::Borrowed(text)
    }
}

/// `range` as a byte range that lies inside `text` and on character boundaries.
fn clamp(text: &str, range: TextRange) -> Range<usize> {
    let fit = |offset: u32| {
        let mut o = (offset as usize).min(text.len());
        while o > 0 && !text.is_char_boundary(o) {
            o -= 1;
        }
        o
    };
    let start = fit(range.start);
    let end = fit(range.end).max(start);
    start..end
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use infra_check_analysis::{Fix, LineIndex};

    use super::*;

    fn source(text: &str) -> Source {
        Source {
            text: Arc::from(text),
            index: Arc::new(LineIndex::new(text)),
        }
    }

    #[test]
    fn related_locations_and_fixes_are_shown() {
        let a = "let\n  x = base;\nin x\n";
        let b = "{\n  flake.modules.nixos.bases = { };\n}\n";
        let mut sources = Sources::default();
        sources.insert("modules/a.nix".into(), source(a));
        sources.insert("modules/b.nix".into(), source(b));
        let d = Diagnostic::new(
            "module/undefined",
            "modules/a.nix",
            TextRange::new(10, 14),
            "`base` is not defined.".into(),
        )
        .with_related("modules/a.nix", TextRange::new(0, 3), "bound here")
        .with_related(
            "modules/b.nix",
            TextRange::new(24, 29),
            "did you mean `bases`?",
        )
        .with_related("hosts/missing.nix", TextRange::new(0, 0), "also used here")
        .with_fix(Fix {
            message: "rename it to `bases`".into(),
            edits: vec![],
            command: Some("just fix".into()),
        });
        let report = Report {
            root: PathBuf::from("/r"),
            files: 2,
            diagnostics: vec![d],
            sources,
        };
        let text = render(&report, false);
        for needle in [
            "error[module/undefined]: `base` is not defined.",
            "--> modules/a.nix:2:7",
            "  x = base;",
            "^^^^",
            "bound here",
            "modules/b.nix:2:23",
            "did you mean `bases`?",
            "= note: hosts/missing.nix:1:1: also used here",
            "= help: rename it to `bases`",
            "= help: run `just fix`",
            "1 error, 0 warnings, 0 infos in 2 files",
        ] {
            assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
        }
    }

    #[test]
    fn colour_only_when_asked() {
        let mut sources = Sources::default();
        sources.insert("a.nix".into(), source("{ a = ; }"));
        let d = Diagnostic::new(
            "syntax/parse-error",
            "a.nix",
            TextRange::new(6, 7),
            "bad".into(),
        );
        let report = Report {
            root: PathBuf::from("/r"),
            files: 1,
            diagnostics: vec![d],
            sources,
        };
        assert!(render(&report, true).contains('\x1b'));
        assert!(!render(&report, false).contains('\x1b'));
    }

    #[test]
    fn only_nix_sources_and_the_repository_data_files_are_quoted() {
        let secret = "vars/shared/g/token/secret";
        let catalog = "infra-check-options-web.json";
        let mut sources = Sources::default();
        sources.insert(secret.into(), source("hunter2\nhunter3\n"));
        sources.insert(catalog.into(), source("{\n  \"format\": \"hunter4\"\n}\n"));
        sources.insert(
            "inventory.json".into(),
            source("{\n  \"machines\": [ ]\n}\n"),
        );
        sources.insert("modules/a.nix".into(), source("{ a = 1; }\n"));
        let diagnostics = vec![
            Diagnostic::new(
                "config/invalid",
                catalog,
                TextRange::new(4, 12),
                "bad catalog".into(),
            )
            .with_related(secret, TextRange::new(8, 15), "named here"),
            Diagnostic::new(
                "vars/plaintext-secret",
                secret,
                TextRange::new(8, 15),
                "plain".into(),
            ),
            Diagnostic::new(
                "config/invalid",
                "inventory.json",
                TextRange::new(16, 19),
                "bad".into(),
            )
            .with_related(catalog, TextRange::new(0, 1), "and here"),
            Diagnostic::new("x/y", "modules/a.nix", TextRange::new(2, 3), "m".into()),
        ];
        let report = Report {
            root: PathBuf::from("/r"),
            files: 4,
            diagnostics,
            sources,
        };
        let text = render(&report, false);
        assert!(!text.contains("hunter"), "{text}");
        for needle in [
            "--> infra-check-options-web.json:2:3",
            "= note: vars/shared/g/token/secret:2:1: named here",
            "--> vars/shared/g/token/secret:2:1",
            "  \"machines\": [ ]",
            "= note: infra-check-options-web.json:1:1: and here",
            "{ a = 1; }",
        ] {
            assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
        }
    }
}
