//! The per-file pass: everything later phases read from one file's syntax tree, derived from
//! one parse whose tree is dropped when the pass ends.
//!
//! A green tree is ~15× its source. Were the tree memoised for each of these results, a cold
//! start would hold every file's tree at once (80 MiB on 12,000 files) and free them all in one
//! go, on one thread, whenever salsa drops them. Parsed here, each tree lives only as long as
//! its file's pass, on the worker thread that parsed it. Each result is still memoised on its
//! own through a projection query ([`crate::summary::file_summary`],
//! [`crate::checks::file_local_diagnostics`], [`crate::reach::named_paths`], the import
//! literals), so an edit that keeps one of them equal stops there. Whoever needs the tree
//! itself (a finding's surroundings, the editor's features) asks [`crate::db::parse`].

use std::sync::Arc;

use crate::checks::imports::ImportLiterals;
use crate::db::{Db, SourceFile, Workspace};
use crate::diagnostic::Diagnostic;
use crate::reach::Named;
use crate::summary::FileSummary;

#[derive(Debug, PartialEq, Eq)]
pub struct FilePass {
    pub summary: Arc<FileSummary>,
    pub local: Arc<Vec<Diagnostic>>,
    pub named: Arc<Named>,
    pub imports: Arc<ImportLiterals>,
}

#[salsa::tracked(returns(ref))]
pub fn file_pass(db: &dyn Db, ws: Workspace, file: SourceFile) -> Arc<FilePass> {
    let parsed = crate::db::parse_file(db, file);
    let imports = crate::checks::imports::literals_in(db, file, &parsed);
    let local = crate::checks::local_diagnostics_in(db, ws, file, &parsed, &imports);
    Arc::new(FilePass {
        summary: Arc::new(crate::summary::summarize_file(db, ws, file, &parsed)),
        local: Arc::new(local),
        named: Arc::new(crate::reach::named_in(db, file, &parsed)),
        imports: Arc::new(imports),
    })
}
