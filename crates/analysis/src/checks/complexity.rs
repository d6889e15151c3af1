//! `syntax/too-complex`: a file the analyzer refused to parse (see [`crate::complexity`]).

use crate::db::{too_complex, Db, SourceFile};
use crate::diagnostic::{Diagnostic, TextRange};

pub(super) fn check(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let Some(why) = too_complex(db, file) else {
        return Vec::new();
    };
    let at = why.offset();
    vec![Diagnostic::new(
        "syntax/too-complex",
        file.path(db),
        TextRange {
            start: at,
            end: at.saturating_add(1).min(file.text(db).len() as u32),
        },
        format!(
            "`{}` is too complex to analyse: {}. infra-check skipped the file, so nothing in it \
             is checked and whatever it defines is treated as unknown; split the expression up \
             (into `let` bindings, functions or separate files) to have it checked.",
            file.path(db),
            why.reason()
        ),
    )]
}
