//! The files clan-core imports into every machine's configuration by itself. clan-core's
//! `nixosModules/machineModules/forName.nix` adds, for each machine of the clan, those of
//! `${directory}/machines/<m>/configuration.nix` (NixOS and nix-darwin) and
//! `…/hardware-configuration.nix`, `…/disko.nix` (NixOS only) that exist
//! (`builtins.filter builtins.pathExists`). They are modules of that machine, read like a
//! `clan.machines.<m>` body, with the arguments clan gives machine modules: `specialArgs` of
//! `modules/clan/module.nix` is `{ clan-core; } // config.specialArgs`, whose default is
//! `self = config.self` (the flake); `inputs` only when the clan's `specialArgs` adds it.
//! (`facter.json` beside them is data `hardware.facter.reportPath` points at, not a module.)

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::db::{parse, Db, SourceFile, Workspace};
use crate::eval::{Evaluator, SpecialArgs};
use crate::summary::{DbFiles, FileSummary};

/// The files clan-core loads from `machines/<m>/` for a machine of this class (`None`: not
/// known, so every one that may be loaded).
pub fn loaded_names(class: Option<&str>) -> &'static [&'static str] {
    match class {
        Some("darwin") => &["configuration.nix"],
        _ => &[
            "configuration.nix",
            "hardware-configuration.nix",
            "disko.nix",
        ],
    }
}

/// The machine whose directory holds `path`, when `path` is one of the files clan-core may
/// load from it, with the file's name.
pub fn machine_of(path: &str) -> Option<(&str, &str)> {
    let (machine, name) = path.strip_prefix("machines/")?.split_once('/')?;
    (!machine.is_empty() && loaded_names(None).contains(&name)).then_some((machine, name))
}

/// Whether a literal set by module `owner` applies to `machine` of class `class`: always for
/// a module, for a file of `machines/<m>/` only when clan-core loads it into that machine.
pub fn applies_to(owner: &str, machine: &str, class: Option<&str>) -> bool {
    match machine_of(owner) {
        Some(_) => is_loaded(owner, class) == Some(machine),
        None => true,
    }
}

/// Whether clan-core loads `path` into a machine of class `class`.
pub fn is_loaded<'a>(path: &'a str, class: Option<&str>) -> Option<&'a str> {
    let (machine, name) = machine_of(path)?;
    loaded_names(class).contains(&name).then_some(machine)
}

/// The flake-level arguments every machine's modules get, from the clan's `specialArgs` as
/// the flake-parts modules and `flake.nix` set it.
#[salsa::tracked]
pub fn machine_special_args(db: &dyn Db, ws: Workspace) -> SpecialArgs {
    let mut set: HashMap<String, Vec<bool>> = HashMap::new();
    let mut unreadable = false;
    for s in crate::index::module_and_flake_summaries(db, ws) {
        for entry in &s.special_args {
            match entry {
                Some((k, flake_level)) => set.entry(k.clone()).or_default().push(*flake_level),
                None => unreadable = true,
            }
        }
    }
    let only_flake_level = |k: &str| set.get(k).map(|v| v.iter().all(|b| *b));
    SpecialArgs {
        // clan-core's default; an unreadable `specialArgs` could override it.
        self_flake: !unreadable && only_flake_level("self").unwrap_or(true),
        inputs: !unreadable && only_flake_level("inputs") == Some(true),
    }
}

/// A file clan-core imports into the configuration of the machine its directory names, read
/// as that machine's module (owned by its path).
#[salsa::tracked(returns(ref))]
pub fn machine_file_summary(db: &dyn Db, ws: Workspace, file: SourceFile) -> Arc<FileSummary> {
    let path = file.path(db);
    let Some((machine, _)) = machine_of(path) else {
        return Arc::new(FileSummary::default());
    };
    if crate::db::too_complex(db, file).is_some() {
        return Arc::new(FileSummary {
            incomplete: true,
            ..Default::default()
        });
    }
    let kinds = crate::flake::input_kinds(db, ws).iter();
    let files = DbFiles { db, ws };
    let ev = Evaluator::new(&files)
        .recording()
        .with_input_kinds(kinds.map(|(n, k)| (n.as_str(), *k)));
    let special = *machine_special_args(db, ws);
    Arc::new(crate::summary::summarize_machine_module(
        &ev,
        path,
        parse(db, file),
        machine,
        special,
    ))
}

/// The machine files of the workspace that were read, with their machine.
pub fn machine_files(db: &dyn Db, ws: Workspace) -> Vec<(&str, SourceFile)> {
    ws.files(db)
        .iter()
        .filter_map(|(p, f)| machine_of(p).map(|(m, _)| (m, *f)))
        .collect()
}

/// The files clan-core loads into the machines of the clan, each by the machine's class.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LoadedFiles {
    /// Machine → the paths of the files loaded into it, which own what they define.
    pub by_machine: BTreeMap<String, Vec<String>>,
    /// Their summaries.
    pub summaries: Vec<Arc<FileSummary>>,
    /// Machines with a file loaded into them that could not be read or evaluated in full:
    /// what it declares is unknown.
    pub opaque: BTreeSet<String>,
}

/// Which of the files of `machines/<m>/` clan-core loads into each machine of the clan
/// (consumers that the clan model itself feeds, like `clan::resolve`, cannot use this and
/// filter by class as they read).
#[salsa::tracked(returns(ref))]
pub fn loaded_files(db: &dyn Db, ws: Workspace) -> Arc<LoadedFiles> {
    let clan = crate::clan::resolve::clan_model(db, ws);
    let mut out = LoadedFiles::default();
    for (machine, file) in machine_files(db, ws) {
        let class = clan.machines.get(machine).and_then(|m| m.class.as_deref());
        let path = file.path(db);
        if is_loaded(path, class).is_none() {
            continue;
        }
        let summary = machine_file_summary(db, ws, file);
        if summary.incomplete {
            out.opaque.insert(machine.to_owned());
        }
        out.by_machine
            .entry(machine.to_owned())
            .or_default()
            .push(path.clone());
        out.summaries.push(summary.clone());
    }
    for (name, m) in &clan.machines {
        if unread_files(db, ws, name, m.class.as_deref()) {
            out.opaque.insert(name.clone());
        }
    }
    Arc::new(out)
}

/// The files clan-core loads into `machine` (of class `class`) that exist but could not be
/// read: what they declare is unknown.
fn unread_files(db: &dyn Db, ws: Workspace, machine: &str, class: Option<&str>) -> bool {
    let disk = ws.disk(db);
    loaded_names(class).iter().any(|name| {
        let p = format!("machines/{machine}/{name}");
        disk.exists(&p) && crate::db::file_by_path(db, ws, &p).is_none()
    })
}
