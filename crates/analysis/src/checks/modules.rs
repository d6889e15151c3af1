use crate::db::{Db, Workspace};
use crate::diagnostic::Diagnostic;
pub(super) fn check(_db: &dyn Db, _ws: Workspace) -> Vec<Diagnostic> { Vec::new() }
