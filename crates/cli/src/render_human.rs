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
    let mut out = render_diagnostics(&report.diagnostics, &report.sources, colour);
    let summary = Summary::of(report).line();
    if colour {
        out.push_str(&format!("\x1b[1m{summary}\x1b[0m\n"));
    } else {
        out.push_str(&summary);
        out.push('\n');
    }
    out
}

/// Renders `diagnostics` (each followed by a blank line), without a summary.
pub fn render_diagnostics(diagnostics: &[Diagnostic], sources: &Sources, colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&renderer.render(&[group(d, sources)]));
        out.push_str("\n\n");
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

/// Snippets of `file` showing the lines of `related` and of `primary`, each related range
/// labelled with its message and `primary` as the primary annotation. Ranges within a few
/// lines of each other share a snippet; ranges far apart get one each, so a snippet never
/// holds more than the lines around what it shows.
fn context_snippets<'a>(
    src: &'a Source,
    file: &'a str,
    related: &[(TextRange, &'a str)],
    primary: Option<TextRange>,
) -> Vec<Element<'a>> {
    const NEAR: u32 = 3;
    /// Ranges a few lines apart at most: one snippet.
    struct Cluster<'a> {
        last_line: u32,
        primary: bool,
        related: Vec<(TextRange, &'a str)>,
    }
    let line = |r: TextRange| src.index.line_col_chars(&src.text, r.start).line;
    // Every range with its line (`None`: the primary), in line order.
    let mut items: Vec<(u32, Option<(TextRange, &'a str)>)> = related
        .iter()
        .map(|&(r, m)| (line(r), Some((r, m))))
        .collect();
    if let Some(p) = primary {
        items.push((line(p), None));
    }
    items.sort_by_key(|(l, _)| *l);
    let mut clusters: Vec<Cluster<'a>> = Vec::new();
    for (l, item) in items {
        match clusters.last_mut() {
            Some(c) if l <= c.last_line + NEAR => c.last_line = l,
            _ => clusters.push(Cluster {
                last_line: l,
                primary: false,
                related: Vec::new(),
            }),
        }
        let c = clusters.last_mut().expect("just pushed");
        match item {
            Some(r) => c.related.push(r),
            None => c.primary = true,
        }
    }
    // The primary's snippet comes first: the `-->` line names the primary location.
    clusters.sort_by_key(|c| !c.primary);
    clusters
        .into_iter()
        .map(|c| context_snippet(src, file, &c.related, primary.filter(|_| c.primary)).into())
        .collect()
}

/// One snippet of `file` showing the lines of `related` and of `primary`.
fn context_snippet<'a>(
    src: &'a Source,
    file: &'a str,
    related: &[(TextRange, &'a str)],
    primary: Option<TextRange>,
) -> Snippet<'a, annotate_snippets::Annotation<'a>> {
    let ranges: Vec<TextRange> = primary
        .into_iter()
        .chain(related.iter().map(|(r, _)| *r))
        .collect();
    let (first_line, offset, text) = excerpt(src, &ranges);
    let local = |r: TextRange| {
        let r = clamp(&src.text, r);
        let len = text.len();
        (r.start - offset).min(len)..(r.end - offset).min(len)
    };
    let shifted: Vec<TextRange> = ranges
        .iter()
        .map(|r| {
            let l = local(*r);
            TextRange::new(l.start as u32, l.end as u32)
        })
        .collect();
    let mut snippet = Snippet::source(displayed(text, &shifted))
        .path(file)
        .line_start(first_line);
    if let Some(p) = primary {
        snippet = snippet.annotation(AnnotationKind::Primary.span(local(p)));
    }
    for (range, message) in related {
        snippet = snippet.annotation(AnnotationKind::Context.span(local(*range)).label(*message));
    }
    snippet
}

/// The whole lines of the source that `ranges` touch: the 1-based number of the first, its
/// byte offset, and the text. Only these go to the renderer, so a diagnostic costs the lines
/// it shows, not the size of its file (a big `inventory.json` holds thousands of them).
fn excerpt<'a>(src: &'a Source, ranges: &[TextRange]) -> (usize, usize, &'a str) {
    let text: &str = &src.text;
    let start = ranges
        .iter()
        .map(|r| clamp(text, *r).start)
        .min()
        .unwrap_or(0);
    let end = ranges
        .iter()
        .map(|r| clamp(text, *r).end)
        .max()
        .unwrap_or(0);
    let line_of = |offset: usize| src.index.line_col_chars(text, offset as u32).line;
    let (first, last) = (line_of(start), line_of(end));
    let line_start = |line: u32| {
        let l = src.index.line_text(text, line);
        l.as_ptr() as usize - text.as_ptr() as usize
    };
    let from = line_start(first).min(start);
    let last_text = src.index.line_text(text, last);
    let mut to = line_start(last) + last_text.len();
    // Keep the line terminator, as the whole text had it.
    for t in ["\r\n", "\n"] {
        if text[to..].starts_with(t) {
            to += t.len();
            break;
        }
    }
    (first as usize + 1, from, &text[from..to.max(end)])
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
            .entry(&*r.location.file)
            .or_default()
            .push((r.location.range, r.message.as_str()));
    }
    let same_file = by_file.remove(d.file()).unwrap_or_default();

    match quotable(sources, d.file()) {
        Some(src) => {
            elements.extend(context_snippets(src, d.file(), &same_file, Some(d.range())));
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
                elements.extend(context_snippets(src, file, &related, None));
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
    if at_end && (text.ends_with('\n') || text.is_empty()) {
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
    fn a_snippet_is_only_the_lines_it_shows() {
        // 20,000 lines, annotated on two lines far apart: the renderer gets those two.
        let text: String = (0..20_000).map(|i| format!("  m{i} = {{ }};\n")).collect();
        let src = source(&text);
        let at = |line: usize| {
            let start = text.match_indices('\n').nth(line - 1).unwrap().0 as u32 + 3;
            TextRange::new(start, start + 3)
        };
        let (first, offset, shown) = excerpt(&src, &[at(10_000)]);
        assert_eq!((first, shown), (10_001, "  m10000 = { };\n"));
        assert_eq!(&text[offset..offset + shown.len()], shown);
        let two = context_snippets(&src, "big.nix", &[(at(19_000), "also here")], Some(at(5)));
        assert_eq!(two.len(), 2, "ranges far apart get a snippet each");
        let d = Diagnostic::new("module/unused", "big.nix", at(5), "unused".into()).with_related(
            "big.nix",
            at(19_000),
            "also here",
        );
        let mut sources = Sources::default();
        sources.insert("big.nix".into(), src);
        let report = Report {
            root: PathBuf::from("/r"),
            files: 1,
            diagnostics: vec![d],
            sources,
        };
        let out = render(&report, false);
        let primary = out.find("--> big.nix:6:3").expect(&out);
        let related = out
            .find("::: big.nix:19001:3")
            .expect("the related line is shown");
        assert!(primary < related, "{out}");
        assert!(
            out.contains("19001 |   m19000 = { };") && out.contains("also here"),
            "{out}"
        );
        assert!(
            !out.contains("m7 ="),
            "only the annotated lines are shown: {out}"
        );
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
    fn only_nix_sources_are_quoted() {
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
        assert!(!text.contains("\"machines\""), "{text}");
        for needle in [
            "--> infra-check-options-web.json:2:3",
            "= note: vars/shared/g/token/secret:2:1: named here",
            "--> vars/shared/g/token/secret:2:1",
            "--> inventory.json:2:15",
            "= note: infra-check-options-web.json:1:1: and here",
            "{ a = 1; }",
        ] {
            assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
        }
    }
}
