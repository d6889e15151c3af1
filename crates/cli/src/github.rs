//! `--format github`: GitHub Actions workflow commands, which GitHub turns into annotations on
//! the changed files of a pull request.
//!
//! One line per diagnostic, then a plain summary line:
//!
//! ```text
//! ::error file=modules/x.nix,line=3,col=5,endLine=3,endColumn=9,title=module/undefined::message
//! ```
//!
//! Errors become `::error`, warnings `::warning`, infos and hints `::notice`. Lines and columns
//! are 1-based, columns in characters; `endColumn` is the column just after the range.

use infra_check_analysis::Severity;

use crate::report::{Report, Summary};

/// Renders `report`. `prefix` (the repository's directory inside the GitHub checkout, if it is
/// not the checkout itself) is put in front of every file path.
pub fn render(report: &Report, prefix: Option<&str>) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Hint => "notice",
        };
        let file = match prefix {
            Some(p) => format!("{p}/{}", d.file()),
            None => d.file().to_owned(),
        };
        let span = report.sources.span(d.file(), d.range());
        out.push_str(&format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(&file),
            span.start.line,
            span.start.column,
            span.end.line,
            span.end.column,
            escape_property(d.code),
            escape_data(&d.message),
        ));
    }
    out.push_str(&Summary::of(report).line());
    out.push('\n');
    out
}

/// Escapes the message part of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command (`file=…`, `title=…`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_actions_toolkit() {
        assert_eq!(escape_data("50%\r\nnext: a,b"), "50%25%0D%0Anext: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
