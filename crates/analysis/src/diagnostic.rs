//! Diagnostics as plain data. The CLI renders them and the language server translates them;
//! neither needs to know how they were found.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A byte range into a file's text (the text the analyzer was given, after lossy UTF-8
/// decoding). Plain offsets keep this type free of rowan so other crates need not depend on it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
pub struct TextRange {
    pub start: u32,
    pub end: u32,
}

impl TextRange {
    pub fn new(start: u32, end: u32) -> Self {
        TextRange {
            start,
            end: end.max(start),
        }
    }
    pub fn empty(at: u32) -> Self {
        TextRange { start: at, end: at }
    }
    pub fn len(&self) -> u32 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    pub fn contains(&self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }
}

impl From<rowan::TextRange> for TextRange {
    fn from(r: rowan::TextRange) -> Self {
        TextRange::new(r.start().into(), r.end().into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "error" => Severity::Error,
            "warning" | "warn" => Severity::Warning,
            "info" => Severity::Info,
            "hint" => Severity::Hint,
            _ => return None,
        })
    }
    /// Higher is more severe; used for `--deny-warnings` style thresholds.
    pub fn rank(self) -> u8 {
        match self {
            Severity::Error => 3,
            Severity::Warning => 2,
            Severity::Info => 1,
            Severity::Hint => 0,
        }
    }
}

/// A place in the workspace: a root-relative path with forward slashes and a byte range.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Shared by the locations of one file: a summary holds thousands of them.
    pub file: Arc<str>,
    pub range: TextRange,
}

impl Location {
    pub fn new(file: &str, range: TextRange) -> Self {
        Location {
            file: file.into(),
            range,
        }
    }

    /// Where a finding goes when no line of the repository declares or names what it is about
    /// (a directory of vars nothing uses, a machine known only from its directory): the top of
    /// the flake's `flake.nix`, with the path in the message. Editors cannot show a diagnostic
    /// on a directory, so one is never anchored there.
    pub fn flake_nix() -> Location {
        Location::new("flake.nix", TextRange::default())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TextEdit {
    pub file: String,
    pub range: TextRange,
    pub new_text: String,
}

/// A suggested repair: text edits the editor can apply, and/or a command the user can run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Fix {
    pub message: String,
    pub edits: Vec<TextEdit>,
    pub command: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// A stable code from [`crate::codes`], such as `module/undefined`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    pub related: Vec<Related>,
    pub fix: Option<Fix>,
    /// The machines whose configuration the finding breaks, when the check knows them
    /// (`None`: [`crate::attribution`] decides from where the finding is). Not rendered: the
    /// deploy driver reads it through `Analysis::affected_machines`.
    #[serde(skip)]
    pub machines: Option<crate::attribution::Affects>,
}

impl Diagnostic {
    pub fn new(code: &'static str, file: &str, range: TextRange, message: String) -> Self {
        Diagnostic {
            code,
            severity: crate::codes::default_severity(code),
            message,
            location: Location {
                file: file.into(),
                range,
            },
            related: Vec::new(),
            fix: None,
            machines: None,
        }
    }
    pub fn with_related(
        mut self,
        file: &str,
        range: TextRange,
        message: impl Into<String>,
    ) -> Self {
        self.related.push(Related {
            location: Location {
                file: file.into(),
                range,
            },
            message: message.into(),
        });
        self
    }
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
    /// Says which machines the finding breaks (added to those already named; an empty list
    /// says it breaks none).
    pub fn for_machines<S: Into<String>>(mut self, machines: impl IntoIterator<Item = S>) -> Self {
        let named =
            crate::attribution::Affects::Machines(machines.into_iter().map(Into::into).collect());
        self.machines = Some(match self.machines.take() {
            Some(a) => a.union(named),
            None => named,
        });
        self
    }
    /// Says the finding breaks every machine of the clan (or that which ones cannot be known).
    pub fn for_all_machines(mut self) -> Self {
        self.machines = Some(crate::attribution::Affects::All);
        self
    }
    /// Says the finding breaks what `affects` says (`None`: decided by where the finding is).
    pub fn affecting(mut self, affects: Option<crate::attribution::Affects>) -> Self {
        self.machines = affects;
        self
    }
    /// The same finding, whichever machines each copy names.
    pub fn same_finding(&self, other: &Diagnostic) -> bool {
        (
            self.code,
            self.severity,
            &self.message,
            &self.location,
            &self.related,
            &self.fix,
        ) == (
            other.code,
            other.severity,
            &other.message,
            &other.location,
            &other.related,
            &other.fix,
        )
    }
    pub fn file(&self) -> &str {
        &self.location.file
    }
    pub fn range(&self) -> TextRange {
        self.location.range
    }
}

/// Sorts findings by file, position, code and message (the order every output shows), and
/// shows a finding reached along several paths (a module in two machines) once: it breaks every
/// machine any copy names, and a copy that names none leaves the decision to where it is.
pub fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (&a.location.file, a.location.range.start, a.code, &a.message).cmp(&(
            &b.location.file,
            b.location.range.start,
            b.code,
            &b.message,
        ))
    });
    diagnostics.dedup_by(|later, kept| {
        if !later.same_finding(kept) {
            return false;
        }
        kept.machines = match (kept.machines.take(), later.machines.take()) {
            (Some(k), Some(l)) => Some(k.union(l)),
            _ => None,
        };
        true
    });
}
