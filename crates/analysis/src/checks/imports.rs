use crate::db::{Db, SourceFile, Workspace};
use crate::diagnostic::Diagnostic;
pub(super) fn check(_db: &dyn Db, _ws: Workspace, _file: SourceFile) -> Vec<Diagnostic> { Vec::new() }
