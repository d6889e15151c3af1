//! Translation between the protocol and plain analysis data: URIs ↔ root-relative paths,
//! byte ranges → UTF-16 positions, analysis diagnostics → protocol diagnostics.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use infra_check_analysis::{Diagnostic, LineCol, LineIndex, Severity, TextRange};
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::ls_types::Uri;

/// The `source` of every diagnostic this server publishes.
pub const SOURCE: &str = "infra-check";

/// Whether the analyzer reads the text of this root-relative path (so an open document with
/// this path is worth handing to it).
pub use infra_check_analysis::loader::is_analyzed;

/// The local path of a `file:` URI; `None` for other schemes.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    if !uri.scheme().as_str().eq_ignore_ascii_case("file") {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

/// `path` with symbolic links resolved in the part of it that exists (the rest is appended
/// as written), so that a file that does not exist yet still maps into the root.
fn canonicalize_lenient(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut out = canonical;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// The root-relative path (forward slashes) of `path`, when it lies strictly inside `root`.
/// `root` must be canonical.
pub fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let path = canonicalize_lenient(path);
    let rel = path.strip_prefix(root).ok()?;
    let mut parts = Vec::new();
    for component in rel.components() {
        match component {
            Component::Normal(s) => parts.push(s.to_str()?),
            _ => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// Maps root-relative paths to the URIs the client knows them by: the URI a document was
/// opened with, else the `file:` URI of `root/<path>`.
#[derive(Debug, Clone)]
pub struct UriMap {
    root: PathBuf,
    opened: HashMap<String, Uri>,
}

impl UriMap {
    pub fn new(root: PathBuf) -> Self {
        UriMap {
            root,
            opened: HashMap::new(),
        }
    }

    pub fn remember(&mut self, rel: &str, uri: Uri) {
        self.opened.insert(rel.to_owned(), uri);
    }

    pub fn uri(&self, rel: &str) -> Option<Uri> {
        if let Some(uri) = self.opened.get(rel) {
            return Some(uri.clone());
        }
        let mut path = self.root.clone();
        path.extend(rel.split('/'));
        Uri::from_file_path(path)
    }
}

pub fn severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}

/// A file's text and line index, as the analysis saw it: every conversion between protocol
/// positions (UTF-16 columns) and byte offsets goes through here, and so through
/// [`LineIndex`], which clamps what does not exist instead of failing.
pub struct FileLines<'a> {
    pub text: &'a str,
    pub index: &'a LineIndex,
}

impl FileLines<'_> {
    pub fn position(&self, offset: u32) -> lsp::Position {
        let at = self.index.line_col_utf16(self.text, offset);
        lsp::Position::new(at.line, at.col)
    }

    pub fn range(&self, r: TextRange) -> lsp::Range {
        lsp::Range::new(self.position(r.start), self.position(r.end))
    }

    /// The byte offset of a position; always a character boundary of the text.
    pub fn offset(&self, pos: lsp::Position) -> u32 {
        self.index.offset_utf16(self.text, line_col(pos))
    }

    /// The byte range of a protocol range, in order.
    pub fn text_range(&self, r: lsp::Range) -> TextRange {
        self.index
            .range_utf16(self.text, line_col(r.start), line_col(r.end))
    }
}

fn line_col(pos: lsp::Position) -> LineCol {
    LineCol {
        line: pos.line,
        col: pos.character,
    }
}

/// Converts one diagnostic. `lines` gives the text and line index of a root-relative file
/// (`None` when the analysis has no text for it: the range then becomes 0:0).
pub fn diagnostic<'a>(
    d: &Diagnostic,
    uris: &UriMap,
    lines: &mut dyn FnMut(&str) -> Option<FileLines<'a>>,
) -> lsp::Diagnostic {
    let mut range_in = |file: &str, r: TextRange| match lines(file) {
        Some(l) => l.range(r),
        None => lsp::Range::default(),
    };
    let range = range_in(&d.location.file, d.location.range);
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(
                    uris.uri(&r.location.file)?,
                    range_in(&r.location.file, r.location.range),
                ),
                message: r.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range,
        severity: Some(severity(d.severity)),
        code: Some(lsp::NumberOrString::String(d.code.to_owned())),
        source: Some(SOURCE.to_owned()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        ..lsp::Diagnostic::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_ranges_in_utf16_and_related_locations() {
        let a = "x = 1;\ny = \"é😀\" + ;\n";
        let b = "{\n  z = 2;\n}\n";
        let ia = LineIndex::new(a);
        let ib = LineIndex::new(b);
        let semi = a.rfind(';').unwrap() as u32;
        let z = b.find('z').unwrap() as u32;
        let d = Diagnostic::new(
            "syntax/parse-error",
            "modules/a.nix",
            TextRange::new(semi, semi + 1),
            "unexpected `;`".into(),
        )
        .with_related("b.nix", TextRange::new(z, z + 1), "defined here");
        let mut d = d;
        d.severity = Severity::Warning;
        let root = PathBuf::from("/srv/fleet");
        let uris = UriMap::new(root.clone());
        let mut lines = |f: &str| match f {
            "modules/a.nix" => Some(FileLines {
                text: a,
                index: &ia,
            }),
            "b.nix" => Some(FileLines {
                text: b,
                index: &ib,
            }),
            _ => None,
        };
        let out = diagnostic(&d, &uris, &mut lines);
        // `y = "é😀" + ;`: é is one UTF-16 unit, 😀 two, so `;` is at column 12.
        assert_eq!(
            out.range,
            lsp::Range::new(lsp::Position::new(1, 12), lsp::Position::new(1, 13))
        );
        assert_eq!(out.severity, Some(lsp::DiagnosticSeverity::WARNING));
        assert_eq!(
            out.code,
            Some(lsp::NumberOrString::String("syntax/parse-error".into()))
        );
        assert_eq!(out.source.as_deref(), Some("infra-check"));
        assert_eq!(out.message, "unexpected `;`");
        let related = out.related_information.unwrap();
        assert_eq!(related.len(), 1);
        assert_eq!(related[0].message, "defined here");
        assert_eq!(
            related[0].location.uri,
            Uri::from_file_path("/srv/fleet/b.nix").unwrap()
        );
        assert_eq!(
            related[0].location.range,
            lsp::Range::new(lsp::Position::new(1, 2), lsp::Position::new(1, 3))
        );
    }

    #[test]
    fn opened_uris_win_over_root_paths() {
        let mut uris = UriMap::new(PathBuf::from("/srv/fleet"));
        let opened: Uri = "file:///home/me/fleet/a.nix".parse().unwrap();
        uris.remember("a.nix", opened.clone());
        assert_eq!(uris.uri("a.nix"), Some(opened));
        assert_eq!(
            uris.uri("dir/b c.nix").unwrap().as_str(),
            "file:///srv/fleet/dir/b%20c.nix"
        );
    }

    #[test]
    fn relative_paths_stay_inside_the_root() {
        let tmp = std::env::temp_dir().canonicalize().unwrap();
        assert_eq!(
            relative_path(&tmp, &tmp.join("not-yet/created.nix")).as_deref(),
            Some("not-yet/created.nix")
        );
        assert_eq!(relative_path(&tmp, &tmp), None);
        assert_eq!(
            relative_path(&tmp.join("sub"), Path::new("/elsewhere/x.nix")),
            None
        );
        assert!(is_analyzed("modules/a.nix"));
        assert!(is_analyzed("flake.lock"));
        assert!(!is_analyzed("README.md"));
    }

    #[test]
    fn only_file_uris_map_to_paths() {
        let file: Uri = "file:///srv/fleet/a%20b.nix".parse().unwrap();
        assert_eq!(
            uri_to_path(&file),
            Some(PathBuf::from("/srv/fleet/a b.nix"))
        );
        let untitled: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(uri_to_path(&untitled), None);
    }
}
