//! The workspace index: the union of the per-file summaries of every flake-parts module.
//! When an edit leaves a file's summary unchanged, salsa does not recompute this.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::db::{file_by_path, Db, Workspace};
use crate::diagnostic::Location;
use crate::flake::module_files;
use crate::summary::{file_summary, FileSummary, ImportContext, ModuleReference};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleIndex {
    /// `(class, name)` → every place that defines it.
    pub definitions: BTreeMap<(String, String), Vec<Location>>,
    /// Classes whose names cannot all be known; `all_open` means any class.
    pub open_classes: BTreeSet<String>,
    pub all_open: bool,
    /// Every reference to a deferred module, once each, in the order of the files.
    pub references: Vec<Arc<ModuleReference>>,
    pub escaped: BTreeSet<String>,
    pub all_escaped: bool,
    pub contexts: Vec<Arc<ImportContext>>,
    /// The owners the import contexts of each owner import, in order (a module imported twice
    /// is named twice), as [`ModuleIndex::owner_name`] names them; and those the contexts of
    /// each machine's configuration import. Computed once per index rather than for every
    /// machine that reaches a module: on a fleet, every machine reaches the shared modules.
    imports_by_owner: rustc_hash::FxHashMap<Arc<str>, Vec<Arc<str>>>,
    imports_by_machine: rustc_hash::FxHashMap<String, Vec<Arc<str>>>,
    /// The owner names of defined modules that import nothing (those that do are the keys of
    /// `imports_by_owner`): every machine that imports one names it with the same `Arc`.
    owner_names: rustc_hash::FxHashSet<Arc<str>>,
    /// The names of `definitions` by class, hashed: the checks ask whether each of tens of
    /// thousands of references is defined after every edit that changes a summary, and a
    /// search of the ordered map compares strings a dozen times for each.
    defined: rustc_hash::FxHashMap<String, rustc_hash::FxHashSet<String>>,
}

impl ModuleIndex {
    /// `owner` as the name the index holds for it (shared with the import contexts that name
    /// it), or a new one for a module that is not defined.
    pub fn owner_name(&self, owner: &str) -> Arc<str> {
        match self.imports_by_owner.get_key_value(owner) {
            Some((name, _)) => name.clone(),
            None => match self.owner_names.get(owner) {
                Some(name) => name.clone(),
                None => owner.into(),
            },
        }
    }

    /// The owners the import contexts of `owner` import (see `imports_by_owner`).
    pub fn imports_of(&self, owner: &str) -> &[Arc<str>] {
        self.imports_by_owner.get(owner).map_or(&[], Vec::as_slice)
    }

    /// The owners the contexts of machine `machine`'s configuration import.
    pub fn imports_of_machine(&self, machine: &str) -> &[Arc<str>] {
        self.imports_by_machine
            .get(machine)
            .map_or(&[], Vec::as_slice)
    }

    pub fn is_defined(&self, class: &str, name: &str) -> bool {
        self.defined
            .get(class)
            .is_some_and(|names| names.contains(name))
    }
    pub fn names_of<'a>(&'a self, class: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.definitions
            .keys()
            .filter(move |(c, _)| c == class)
            .map(|(_, n)| n.as_str())
    }
    pub fn is_open(&self, class: &str) -> bool {
        self.all_open || self.open_classes.contains(class)
    }

    /// Every module file was found and every module definition read, so a machine's module
    /// closure is fully known.
    pub fn is_complete_for_machines(&self) -> bool {
        !self.all_open && self.open_classes.is_empty()
    }
}

/// The summaries of every flake-parts module file, memoised: the workspace checks read every
/// module's summary several times, and each read of a file's summary is a database lookup.
#[salsa::tracked(returns(ref))]
pub fn module_file_summaries(db: &dyn Db, ws: Workspace) -> Arc<Vec<Arc<FileSummary>>> {
    Arc::new(
        crate::flake::module_files(db, ws)
            .files
            .iter()
            .filter_map(|p| file_by_path(db, ws, p))
            .map(|f| file_summary(db, ws, f).clone())
            .collect(),
    )
}

/// The memoised summaries of every flake-parts module file (see [`module_file_summaries`]).
pub fn module_summaries(db: &dyn Db, ws: Workspace) -> Vec<&Arc<FileSummary>> {
    module_file_summaries(db, ws).iter().collect()
}

/// The summaries of every flake-parts module file, then that of `flake.nix` when it is not one
/// of them (the module it hands to `mkFlake` may define modules, clan settings, … inline).
pub fn module_and_flake_summaries(
    db: &dyn Db,
    ws: Workspace,
) -> impl Iterator<Item = &Arc<FileSummary>> {
    let flake_nix = (!module_files(db, ws).files.contains("flake.nix"))
        .then(|| file_by_path(db, ws, "flake.nix"))
        .flatten()
        .map(|f| file_summary(db, ws, f));
    module_file_summaries(db, ws).iter().chain(flake_nix)
}

/// One kind of part of every summary in `summaries` that holds one, in order: the parts
/// themselves, shared with the summaries.
fn parts_of<'a, T: crate::lean::Empty + Clone + 'a>(
    summaries: impl Iterator<Item = &'a Arc<FileSummary>>,
    part: fn(&FileSummary) -> &crate::lean::Lean<T>,
) -> Arc<Vec<Arc<T>>> {
    Arc::new(
        summaries
            .filter_map(|s| part(s).shared().cloned())
            .collect(),
    )
}

// The models that read one kind of part of every module's summary read it through these lists,
// not through the summaries. Most edits change a summary without changing all its parts (an
// edit of a module's options says nothing new of the clan); the list of the parts left alone
// stays equal, and comparing it is comparing pointers, so what is built from it is not built
// again.

/// The clan parts of the module files' summaries, then `flake.nix`'s (which may call
/// `clan-core.lib.clan { … }`), as [`module_and_flake_summaries`] orders them.
#[salsa::tracked(returns(ref))]
pub fn clan_parts(db: &dyn Db, ws: Workspace) -> Arc<Vec<Arc<crate::clan::model::ClanFragment>>> {
    parts_of(module_and_flake_summaries(db, ws), |s| &s.clan)
}

/// The vars parts of the module files' summaries, then `flake.nix`'s.
#[salsa::tracked(returns(ref))]
pub fn vars_parts(db: &dyn Db, ws: Workspace) -> Arc<Vec<Arc<crate::vars::model::VarsFragment>>> {
    parts_of(module_and_flake_summaries(db, ws), |s| &s.vars)
}

/// The options parts of the module files' summaries.
#[salsa::tracked(returns(ref))]
pub fn options_parts(
    db: &dyn Db,
    ws: Workspace,
) -> Arc<Vec<Arc<crate::options::model::OptionsFragment>>> {
    parts_of(module_file_summaries(db, ws).iter(), |s| &s.options)
}

#[salsa::tracked(returns(ref))]
pub fn module_index(db: &dyn Db, ws: Workspace) -> Arc<ModuleIndex> {
    let files = module_files(db, ws);
    let mut idx = ModuleIndex {
        all_open: files.incomplete,
        // A module file that could not be read may use any module.
        all_escaped: files.unreadable,
        ..Default::default()
    };
    // `flake.nix` is read too: the module it hands to `mkFlake` may define modules inline.
    for s in module_and_flake_summaries(db, ws) {
        for d in &s.definitions {
            idx.definitions
                .entry((d.class.clone(), d.name.clone()))
                .or_default()
                .push(d.location.clone());
        }
        for c in &s.open_classes {
            match c {
                Some(c) => {
                    idx.open_classes.insert(c.clone());
                }
                None => idx.all_open = true,
            }
        }
        for c in &s.escaped {
            match c {
                Some(c) => {
                    idx.escaped.insert(c.clone());
                }
                None => idx.all_escaped = true,
            }
        }
        idx.references.extend(s.references.iter().cloned());
        idx.contexts.extend(s.contexts.iter().cloned());
    }
    // What the files clan-core loads from `machines/<m>/` import is part of that machine's
    // configuration (their references are counted as uses by `outside_uses`).
    for s in &crate::machine_config::loaded_files(db, ws).summaries {
        idx.contexts.extend(s.contexts.iter().cloned());
    }
    for c in &idx.contexts {
        idx.imports_by_owner.entry(c.owner.clone()).or_default();
    }
    let mut owner = String::new();
    for (class, name) in idx.definitions.keys() {
        idx.defined
            .entry(class.clone())
            .or_default()
            .insert(name.clone());
        module_owner(&mut owner, class, name);
        if !idx.imports_by_owner.contains_key(owner.as_str()) {
            idx.owner_names.insert(owner.as_str().into());
        }
    }
    for c in &idx.contexts {
        let names: Vec<Arc<str>> = c
            .items
            .iter()
            .filter_map(|i| {
                module_owner(&mut owner, &i.class, i.name.as_deref()?);
                Some(idx.owner_name(&owner))
            })
            .collect();
        if let crate::summary::ContextClass::Machine(m) = &c.class {
            idx.imports_by_machine
                .entry(m.clone())
                .or_default()
                .extend(names.iter().cloned());
        }
        if let Some(list) = idx.imports_by_owner.get_mut(&*c.owner) {
            list.extend(names);
        }
    }
    // A reference written in a file that several modules import is in each of their
    // summaries: it is kept once, where it comes first. Two summaries can only share a
    // reference written in a file other than one of theirs, so only the references written in
    // the files such references name are compared. The order is the files' (which is fixed),
    // not a sorted one: sorting tens of thousands of references on every edit that changes a
    // summary took most of this query's time, and none of their readers needs it.
    let shared: rustc_hash::FxHashSet<&str> = module_and_flake_summaries(db, ws)
        .filter(|s| s.references_elsewhere)
        .flat_map(|s| s.references.iter().map(|r| &*r.location.file))
        .collect();
    if !shared.is_empty() {
        let mut seen = rustc_hash::FxHashSet::default();
        idx.references
            .retain(|r| !shared.contains(&*r.location.file) || seen.insert(Arc::clone(r)));
    }
    Arc::new(idx)
}

/// `flake.modules.<class>.<name>` into `out`, as an owner is named.
fn module_owner(out: &mut String, class: &str, name: &str) {
    out.clear();
    out.push_str("flake.modules.");
    out.push_str(class);
    out.push('.');
    crate::summary::push_attr_display(out, name);
}

/// Deferred modules named by `.nix` files that are neither flake-parts modules nor `flake.nix`
/// (which the index reads): a file handed to `extraModules` by path, a NixOS configuration
/// imported by path, …. They are not checked for being defined — where and whether such a file
/// is evaluated is not known — but a module they name is used.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutsideUses {
    pub names: BTreeSet<(String, String)>,
    /// Classes some such file selects by a name infra-check cannot know, or hands on whole.
    pub any_name: BTreeSet<String>,
    pub all: bool,
}

#[salsa::tracked(returns(ref))]
pub fn outside_uses(db: &dyn Db, ws: Workspace) -> Arc<OutsideUses> {
    let modules = module_files(db, ws);
    let mut out = OutsideUses::default();
    for (path, file) in ws.files(db).iter() {
        if !path.ends_with(".nix") || path == "flake.nix" || modules.files.contains(path) {
            continue;
        }
        let s = file_summary(db, ws, *file);
        for r in &s.references {
            match &r.name {
                Some(n) => {
                    out.names.insert((r.class.to_string(), n.to_string()));
                }
                None => {
                    out.any_name.insert(r.class.to_string());
                }
            }
        }
        for c in &s.escaped {
            match c {
                Some(c) => {
                    out.any_name.insert(c.clone());
                }
                None => out.all = true,
            }
        }
    }
    Arc::new(out)
}

#[cfg(test)]
mod tests {
    use crate::tests::{host_from_fixture, with_clan_flake};

    /// A reference written in a file two modules import is in both their summaries and in the
    /// index once; references written in the modules' own files are all kept.
    #[test]
    fn a_reference_two_summaries_hold_is_indexed_once() {
        let host = host_from_fixture(&with_clan_flake(
            "#- /modules/a.nix\n{ config, ... }: {\n  flake.modules.nixos.base = { };\n  flake.modules.nixos.a = import ../lib/common.nix { inherit config; };\n  flake.modules.nixos.own-a.imports = [ config.flake.modules.nixos.base ];\n}\n\
             #- /modules/b.nix\n{ config, ... }: {\n  flake.modules.nixos.b = import ../lib/common.nix { inherit config; };\n  flake.modules.nixos.own-b.imports = [ config.flake.modules.nixos.base ];\n}\n\
             #- /modules/c.nix\n{ config, ... }: {\n  flake.modules.nixos.own-c.imports = [ config.flake.modules.nixos.base ];\n}\n\
             #- /lib/common.nix\n{ config }: { imports = [ config.flake.modules.nixos.base ]; }\n",
        ));
        let analysis = host.snapshot();
        let (db, ws) = (analysis.db_for_tests(), analysis.workspace_for_tests());
        let summary = |p: &str| analysis.file_summary(p).unwrap().unwrap();
        for p in ["modules/a.nix", "modules/b.nix"] {
            let s = summary(p);
            assert!(s.references_elsewhere, "{p}: {:?}", s.references);
            assert!(s
                .references
                .iter()
                .any(|r| &*r.location.file == "lib/common.nix"));
        }
        // A module whose references are all written in its own file shares none.
        assert!(!summary("modules/c.nix").references_elsewhere);
        let idx = super::module_index(db, ws);
        let at = |file: &str| {
            idx.references
                .iter()
                .filter(|r| &*r.location.file == file && r.name.as_deref() == Some("base"))
                .count()
        };
        assert_eq!(at("lib/common.nix"), 1, "{:#?}", idx.references);
        assert_eq!(
            at("modules/a.nix") + at("modules/b.nix") + at("modules/c.nix"),
            3
        );
    }
}
