//! `syntax/parse-error`.

use crate::db::{parse, Db, SourceFile};
use crate::diagnostic::Diagnostic;

pub(super) fn check(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let parsed = parse(db, file);
    // One error is enough to act on; rnix reports follow-on errors for the same mistake.
    parsed
        .errors
        .iter()
        .take(1)
        .map(|e| {
            Diagnostic::new(
                "syntax/parse-error",
                file.path(db),
                e.range,
                format!("Syntax error: {}.", e.message),
            )
        })
        .collect()
}
