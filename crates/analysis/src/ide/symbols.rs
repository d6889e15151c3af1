//! Document and workspace symbols: modules, machines, instances, generators, options; for
//! documents also as a tree.

use std::collections::BTreeMap;

use super::nav::label;
use super::occurrences::{all_occurrences, Subject};
use super::{Symbol, SymbolKind};
use crate::clan::resolve::clan_model;
use crate::db::{file_by_path, Db, Workspace};
use crate::diagnostic::{Location, TextRange};
use crate::summary::{attr_display, file_summary};

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
        .filter(|o| o.definition && &*o.location.file == file)
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

/// A document symbol with what it contains: the modules of a class, the roles of an instance
/// and their machines, the files of a generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolTree {
    pub name: String,
    pub kind: SymbolKind,
    /// What it spans: its own name, or for a group everything in it.
    pub range: TextRange,
    /// The name to highlight (inside `range`).
    pub selection: TextRange,
    pub detail: Option<String>,
    pub children: Vec<SymbolTree>,
}

impl SymbolTree {
    fn leaf(name: String, kind: SymbolKind, range: TextRange, detail: Option<String>) -> Self {
        SymbolTree {
            name,
            kind,
            range,
            selection: range,
            detail,
            children: Vec::new(),
        }
    }

    /// A node whose range covers its own name and every child.
    fn group(mut self, mut children: Vec<SymbolTree>) -> Self {
        children.sort_by_key(|c| (c.range.start, c.range.end));
        for c in &children {
            self.range = TextRange::new(
                self.range.start.min(c.range.start),
                self.range.end.max(c.range.end),
            );
        }
        self.children = children;
        self
    }
}

/// The symbols of one file as a tree: modules by class, instances → roles → machines,
/// machines, generators → files, options and services.
pub fn document_symbol_tree(db: &dyn Db, ws: Workspace, file: &str) -> Vec<SymbolTree> {
    let here = |l: &Location| &*l.file == file && l.range != TextRange::default();
    let mut out = Vec::new();
    let mut classes: BTreeMap<&str, Vec<SymbolTree>> = BTreeMap::new();
    let occurrences = all_occurrences(db, ws);
    for o in occurrences
        .iter()
        .filter(|o| o.definition && here(&o.location))
    {
        let r = o.location.range;
        match &o.subject {
            Subject::Module { class, name } => {
                classes.entry(class).or_default().push(SymbolTree::leaf(
                    attr_display(name),
                    SymbolKind::Module,
                    r,
                    Some(label(&o.subject)),
                ))
            }
            Subject::Machine(m) => out.push(SymbolTree::leaf(
                m.clone(),
                SymbolKind::Machine,
                r,
                Some("machine".into()),
            )),
            Subject::Option(_) | Subject::Service(_) => {
                if let Some(s) = symbol(o) {
                    out.push(SymbolTree::leaf(s.name, s.kind, r, None));
                }
            }
            _ => {}
        }
    }
    for (class, modules) in classes {
        let first = modules.iter().map(|m| m.range).min().unwrap_or_default();
        out.push(
            SymbolTree::leaf(
                class.to_owned(),
                SymbolKind::Class,
                first,
                Some("module class".into()),
            )
            .group(modules),
        );
    }
    let clan = clan_model(db, ws);
    for inst in clan.instances.values() {
        let Some(at) = inst.locations.iter().find(|l| here(l)) else {
            continue;
        };
        let roles = inst
            .roles
            .values()
            .filter_map(|role| {
                let machines: Vec<SymbolTree> = role
                    .machines
                    .iter()
                    .filter(|m| here(&m.location))
                    .map(|m| {
                        SymbolTree::leaf(
                            m.name.clone(),
                            SymbolKind::Machine,
                            m.location.range,
                            Some("member".into()),
                        )
                    })
                    .collect();
                let at = role.locations.iter().find(|l| here(l))?;
                Some(
                    SymbolTree::leaf(
                        role.name.clone(),
                        SymbolKind::Role,
                        at.range,
                        Some(format!("role of {}", inst.name)),
                    )
                    .group(machines),
                )
            })
            .collect();
        out.push(
            SymbolTree::leaf(
                inst.name.clone(),
                SymbolKind::Instance,
                at.range,
                inst.service_name().map(|s| format!("instance of {s}")),
            )
            .group(roles),
        );
    }
    if let Some(f) = file_by_path(db, ws, file) {
        for g in &file_summary(db, ws, f).vars.generators {
            if !here(&g.location) {
                continue;
            }
            let files = g
                .files
                .iter()
                .flatten()
                .filter(|x| here(&x.location))
                .map(|x| {
                    SymbolTree::leaf(
                        x.name.clone(),
                        SymbolKind::File,
                        x.location.range,
                        Some(format!("file of {}", g.name)),
                    )
                })
                .collect();
            out.push(
                SymbolTree::leaf(
                    g.name.clone(),
                    SymbolKind::Generator,
                    g.location.range,
                    Some("vars generator".into()),
                )
                .group(files),
            );
        }
    }
    out.sort_by_key(|s| (s.range.start, s.range.end));
    out.dedup();
    out
}
