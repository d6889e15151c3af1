//! What every run must satisfy, whatever the input: it ends by itself within its bounds, with
//! exit code 0, 1 or 2 and no panic; its JSON parses; no diagnostic points at a directory or
//! past the end of its file; and nothing secret (or read from outside the repository) is
//! printed.

use std::collections::HashMap;
use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use serde_json::Value;

use crate::case::{Invocation, Output};
use crate::run::{Ended, Outcome};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Timeout,
    Memory,
    StackOverflow,
    /// A panic, at its source location.
    Panic(String),
    Signal(i32),
    ExitCode(i32),
    InvalidOutput,
    BadPath,
    DirectoryAnchor,
    RangeOutsideFile,
    SecretLeak,
    ForeignContent,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Class::Timeout => f.write_str("hang (killed after the time bound)"),
            Class::Memory => f.write_str("runaway memory (killed above the memory bound)"),
            Class::StackOverflow => f.write_str("stack overflow"),
            Class::Panic(at) => write!(f, "panic at {at}"),
            Class::Signal(n) => write!(f, "killed by signal {n}"),
            Class::ExitCode(n) => write!(f, "exit code {n}"),
            Class::InvalidOutput => f.write_str("invalid output"),
            Class::BadPath => f.write_str("diagnostic path not relative to the root"),
            Class::DirectoryAnchor => f.write_str("diagnostic anchored on a directory"),
            Class::RangeOutsideFile => f.write_str("diagnostic range outside its file"),
            Class::SecretLeak => f.write_str("secret printed"),
            Class::ForeignContent => {
                f.write_str("content of a file outside the repository printed")
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub class: Class,
    pub detail: String,
}

fn fail(class: Class, detail: impl Into<String>) -> Option<Failure> {
    Some(Failure {
        class,
        detail: detail.into(),
    })
}

/// Strings that must never appear in any output.
pub struct Forbidden {
    /// The planted secret.
    pub canary: String,
    /// The first line of `/etc/passwd`, which mutations link into the repository.
    pub foreign: Option<String>,
}

impl Forbidden {
    pub fn new(canary: &str) -> Forbidden {
        let foreign = std::fs::read_to_string("/etc/passwd")
            .ok()
            .and_then(|t| t.lines().next().map(str::to_owned))
            .filter(|l| l.len() >= 8);
        Forbidden {
            canary: canary.to_owned(),
            foreign,
        }
    }
}

/// The first failure of a run, or `None` when it behaved.
pub fn judge(
    outcome: &Outcome,
    invocation: &Invocation,
    root: &Path,
    forbidden: &Forbidden,
) -> Option<Failure> {
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    let status = match &outcome.ended {
        Ended::TimedOut => {
            return fail(
                Class::Timeout,
                format!("still running after {:.1} s", outcome.elapsed.as_secs_f64()),
            )
        }
        Ended::OutOfMemory(rss) => {
            return fail(Class::Memory, format!("{} MiB resident", rss >> 20));
        }
        Ended::Exited(status) => status,
    };
    if stderr.contains("has overflowed its stack") || stderr.contains("stack overflow") {
        return fail(Class::StackOverflow, tail(&stderr));
    }
    if let Some(at) = panic_location(&stderr) {
        return fail(Class::Panic(at), tail(&stderr));
    }
    if stderr.contains("memory allocation of") {
        return fail(Class::Memory, tail(&stderr));
    }
    if let Some(sig) = status.signal() {
        return fail(Class::Signal(sig), tail(&stderr));
    }
    let code = status.code().unwrap_or(-1);
    if !(0..=2).contains(&code) {
        return fail(Class::ExitCode(code), tail(&stderr));
    }
    for (stream, bytes) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        if contains_part(&text, &forbidden.canary) {
            return fail(Class::SecretLeak, format!("the canary is on {stream}"));
        }
        if let Some(line) = &forbidden.foreign {
            if text.contains(line.as_str()) {
                return fail(
                    Class::ForeignContent,
                    format!("the first line of /etc/passwd is on {stream}"),
                );
            }
        }
    }
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    // Exit 2 is an I/O or usage error: what was printed before it may be anything or nothing.
    // Output too large to keep whole is only searched for secrets.
    let complete = code != 2;
    if outcome.truncated {
        return None;
    }
    match invocation.output {
        Output::CheckJson | Output::Json if complete || !stdout.trim().is_empty() => {
            let doc: Value = match serde_json::from_str(&stdout) {
                Ok(doc) => doc,
                Err(e) => {
                    return fail(
                        Class::InvalidOutput,
                        format!("stdout is not JSON ({e}): {}", head(&stdout)),
                    )
                }
            };
            if invocation.output == Output::CheckJson {
                return check_diagnostics(&doc, root);
            }
            None
        }
        Output::Github if complete => check_github(&stdout),
        _ => None,
    }
}

/// Whether `text` holds the canary or a long enough piece of it to identify it.
fn contains_part(text: &str, canary: &str) -> bool {
    let hex = canary.rsplit('-').next().unwrap_or(canary);
    text.contains(canary) || (hex.len() >= 12 && text.contains(&hex[2..hex.len() - 2]))
}

/// `file:line` of the first panic message on stderr.
fn panic_location(stderr: &str) -> Option<String> {
    let rest = &stderr[stderr.find("panicked at ")? + "panicked at ".len()..];
    let loc = rest.split(['\n', ' ']).next()?.trim_end_matches(':');
    // Keep file and line; the column only splits one bug into several classes.
    let mut parts = loc.rsplitn(3, ':');
    let (_col, line, file) = (parts.next(), parts.next(), parts.next());
    Some(match (file, line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        _ => loc.to_owned(),
    })
}

fn check_diagnostics(doc: &Value, root: &Path) -> Option<Failure> {
    let Some(diagnostics) = doc.get("diagnostics").and_then(Value::as_array) else {
        return fail(Class::InvalidOutput, "no `diagnostics` array");
    };
    // Line lengths of each file read so far: thousands of findings may share one file.
    let mut files = HashMap::new();
    for d in diagnostics {
        let mut anchors = vec![(d.get("file"), d.get("range"))];
        for r in d
            .get("related")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            anchors.push((r.get("file"), r.get("range")));
        }
        let code = d.get("code").and_then(Value::as_str).unwrap_or("?");
        for (file, range) in anchors {
            let (Some(file), Some(range)) = (file.and_then(Value::as_str), range) else {
                return fail(Class::InvalidOutput, format!("{code}: no file or range"));
            };
            if let Some(f) = check_anchor(code, file, range, root, &mut files) {
                return Some(f);
            }
        }
    }
    None
}

/// The length in characters of each line of a regular file (`None`: not one, or unreadable).
type LineLengths = Option<Vec<usize>>;

fn line_lengths(path: &Path) -> LineLengths {
    // Only regular files the analyzer reads have positions past 1:1.
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    // Lines end where the analyzer ends them (and the protocol does): `\r\n`, `\n` or `\r`.
    let text = text.replace("\r\n", "\n");
    Some(
        text.split(['\n', '\r'])
            .map(|l| l.chars().count())
            .collect(),
    )
}

fn check_anchor(
    code: &str,
    file: &str,
    range: &Value,
    root: &Path,
    files: &mut HashMap<String, LineLengths>,
) -> Option<Failure> {
    if file.is_empty()
        || file.starts_with('/')
        || file
            .split('/')
            .any(|s| s == ".." || s == "." || s.is_empty())
    {
        return fail(Class::BadPath, format!("{code} at `{file}`"));
    }
    let path = root.join(file);
    // A link the analyzer refused to follow is itself what a `workspace/*` finding is about, so
    // it may be anchored on the link even when the link leads to a directory.
    let refused_link = code.starts_with("workspace/")
        && std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
    if !refused_link && std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
        return fail(Class::DirectoryAnchor, format!("{code} at `{file}`"));
    }
    let pos = |end: &str, key: &str| {
        range
            .get(end)
            .and_then(|p| p.get(key))
            .and_then(Value::as_u64)
    };
    let (Some(sl), Some(sc), Some(el), Some(ec)) = (
        pos("start", "line"),
        pos("start", "column"),
        pos("end", "line"),
        pos("end", "column"),
    ) else {
        return fail(
            Class::InvalidOutput,
            format!("{code} at `{file}`: bad range"),
        );
    };
    if sl == 0 || sc == 0 || (sl, sc) > (el, ec) {
        return fail(
            Class::InvalidOutput,
            format!("{code} at `{file}`: range {sl}:{sc}–{el}:{ec}"),
        );
    }
    let lines = files
        .entry(file.to_owned())
        .or_insert_with(|| line_lengths(&path))
        .as_ref()?;
    for (line, column) in [(sl, sc), (el, ec)] {
        let ok = lines
            .get(line as usize - 1)
            .is_some_and(|&len| column as usize <= len + 1);
        if !ok {
            return fail(
                Class::RangeOutsideFile,
                format!(
                    "{code} at `{file}` {line}:{column}, but the file has {} lines",
                    lines.len()
                ),
            );
        }
    }
    None
}

/// Every line but the last is one workflow command; a file name or message that broke out of
/// its line would start a line of its own.
fn check_github(stdout: &str) -> Option<Failure> {
    let lines: Vec<&str> = stdout.lines().collect();
    let Some((summary, commands)) = lines.split_last() else {
        return fail(Class::InvalidOutput, "no output");
    };
    for line in commands {
        let ok = ["::error file=", "::warning file=", "::notice file="]
            .iter()
            .any(|p| line.starts_with(p));
        if !ok {
            return fail(
                Class::InvalidOutput,
                format!("a line that is not a workflow command: {}", head(line)),
            );
        }
    }
    if summary.starts_with("::") {
        return fail(Class::InvalidOutput, "no summary line");
    }
    None
}

fn head(s: &str) -> String {
    s.chars().take(300).collect()
}

/// The end of stderr, where the panic message and the error are.
pub fn tail(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars[chars.len().saturating_sub(1500)..].iter().collect()
}
