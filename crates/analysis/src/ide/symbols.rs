//! Document and workspace symbols: modules, machines, instances, generators, options.

use super::nav::label;
use super::occurrences::{all_occurrences, Subject};
use super::{Symbol, SymbolKind};
use crate::db::{Db, Workspace};

fn symbol(o: &super::Occurrence) -> Option<Symbol> {
    let (kind, container) = match &o.subject {
        Subject::Module { class, .. } => (SymbolKind::Module, Some(class.clone())),
        Subject::Machine(_) => (SymbolKind::Machine, None),
        Subject::Instance(_) => (SymbolKind::Instance, None),
        Subject::Generator(_) => (SymbolKind::Generator, None),
        Subject::Option(_) => (SymbolKind::Option, None),
        Subject::Service(_) => (SymbolKind::Service, None),
        _ => return None,
    };
    Some(Symbol {
        name: label(&o.subject),
        kind,
        location: o.location.clone(),
        container,
    })
}

/// The definitions in one file.
pub fn document_symbols(db: &dyn Db, ws: Workspace, file: &str) -> Vec<Symbol> {
    all_occurrences(db, ws)
        .iter()
        .filter(|o| o.definition && o.location.file == file)
        .filter_map(symbol)
        .collect()
}

/// Definitions anywhere whose name contains `query` (case-insensitive; empty matches all).
pub fn workspace_symbols(db: &dyn Db, ws: Workspace, query: &str) -> Vec<Symbol> {
    let q = query.to_lowercase();
    let mut out: Vec<Symbol> = all_occurrences(db, ws)
        .iter()
        .filter(|o| o.definition)
        .filter_map(symbol)
        .filter(|s| s.name.to_lowercase().contains(&q))
        .collect();
    out.dedup_by(|a, b| a.name == b.name && a.location == b.location);
    out.truncate(500);
    out
}
