//! `workspace/invalid-data`: data files (`flake.lock`, `inventory.json`) the flake or clan
//! cannot use. Whatever such a file could have said is treated as unknown by the models; these
//! findings say why the checks that depend on it stay silent.

use crate::db::{Db, Workspace};
use crate::diagnostic::Diagnostic;

pub(super) fn check(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    data_problems(db, ws)
}

fn data_problems(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    crate::flake::flake_info(db, ws)
        .lock_problems
        .iter()
        .chain(&crate::jsondata::inventory_json(db, ws).problems)
        .map(|p| {
            Diagnostic::new(
                "workspace/invalid-data",
                &p.file,
                p.range,
                p.message.clone(),
            )
        })
        .collect()
}
