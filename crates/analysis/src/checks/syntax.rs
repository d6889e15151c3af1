//! `syntax/parse-error`.

use crate::db::{Db, SourceFile};
use crate::diagnostic::Diagnostic;
use crate::syntax::Parsed;

/// The finding about `parsed`, the tree of `file`.
pub(super) fn check(db: &dyn Db, file: SourceFile, parsed: &Parsed) -> Vec<Diagnostic> {
    // Some repositories commit `.nix` files encrypted with sops and decrypt them before they
    // deploy: such a file is a secret, not broken Nix.
    if is_sops_encrypted_text(file.text(db)) {
        return Vec::new();
    }
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

/// Whether a file's text is a sops-encrypted JSON document (cheaply ruled out for Nix source).
fn is_sops_encrypted_text(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && text.contains("\"sops\"")
        && crate::disk::is_sops_encrypted(text.as_bytes())
}
