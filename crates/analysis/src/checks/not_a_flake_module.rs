//! `module/not-a-flake-module`: a file import-tree hands to flake-parts that is certainly no
//! flake-parts module.
//!
//! import-tree lists every `.nix` file below its roots whose path relative to the root has no
//! `/_` (its `nixFilter`), and flake-parts evaluates them with `lib.evalModules { class =
//! "flake"; }`. There a module with another `_class` throws ("The module … was imported into
//! flake instead of …", nixpkgs `lib/modules.nix` `checkModule`), and a definition of an option
//! nothing declares throws "The option `boot' does not exist" (flake-parts' top level has no
//! `freeformType`).

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::db::{file_by_path, Db, Workspace};
use crate::diagnostic::{Diagnostic, Location};
use crate::flake::{flake_info, module_file_for, module_files, root_import_tree_files};
use crate::index::module_summaries;
use crate::options::model::FLAKE_PARTS;
use crate::summary::{file_summary, ContextClass};

/// Top-level option names that only NixOS, nix-darwin or home-manager declare. No flake-parts
/// module known to infra-check declares them; a repository that does is seen below.
const SYSTEM_ONLY: &[(&str, &str)] = &[
    ("boot", "NixOS"),
    ("fileSystems", "NixOS"),
    ("swapDevices", "NixOS"),
    ("systemd", "NixOS"),
    ("networking", "NixOS or nix-darwin"),
    ("services", "NixOS, nix-darwin or home-manager"),
    ("environment", "NixOS or nix-darwin"),
    ("hardware", "NixOS"),
    ("security", "NixOS or nix-darwin"),
    ("virtualisation", "NixOS"),
    ("powerManagement", "NixOS"),
    ("i18n", "NixOS"),
    ("console", "NixOS"),
    ("fonts", "NixOS or nix-darwin"),
    ("homebrew", "nix-darwin"),
    ("launchd", "nix-darwin"),
    ("home", "home-manager"),
    ("xdg", "NixOS or home-manager"),
];

fn class_display(class: &str) -> String {
    match class {
        "nixos" => "a NixOS module".into(),
        "darwin" => "a nix-darwin module".into(),
        "homeManager" => "a home-manager module".into(),
        "clan.service" => "a clan service module".into(),
        other => format!("a module of class `{other}`"),
    }
}

fn context_display(class: &ContextClass) -> &str {
    match class {
        ContextClass::Known(c) => match c.as_str() {
            "nixos" => "a NixOS module",
            "darwin" => "a nix-darwin module",
            "homeManager" => "a home-manager module",
            _ => "a system module",
        },
        ContextClass::Machine(_) => "a machine's configuration",
        ContextClass::Role(_) => "a service role's `extraModules`",
    }
}

pub(super) fn check(db: &dyn Db, ws: Workspace, out: &mut Vec<Diagnostic>) {
    let info = flake_info(db, ws);
    let Some(roots) = &info.roots else { return };
    let disk = ws.disk(db);
    let modules = module_files(db, ws);
    // Files import-tree loads, with the roots that load them.
    let mut collected: Vec<(&str, &str)> = Vec::new();
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let expanded = root_import_tree_files(db, ws);
    for (spec, files) in roots.import_trees.iter().zip(expanded.iter()) {
        if spec.opaque_filter {
            continue;
        }
        for f in files {
            let root = spec
                .roots
                .iter()
                .find(|r| f.starts_with(r.as_str()))
                .map(String::as_str)
                .unwrap_or("");
            if seen.insert(f) {
                collected.push((f, root));
            }
        }
    }
    if collected.is_empty() {
        return;
    }
    let summaries = module_summaries(db, ws);
    // Which system modules import each file by path.
    let mut imported_by: FxHashMap<String, (&ContextClass, &str)> = FxHashMap::default();
    for s in &summaries {
        for (p, class, owner) in &s.system_path_imports {
            if let Some(f) = module_file_for(p, disk) {
                imported_by.entry(f).or_insert((class, owner.as_ref()));
            }
        }
    }
    // Top-level options flake-parts modules of this flake declare; when some flake module
    // cannot be read, any may be declared.
    let declared: BTreeSet<&str> = summaries
        .iter()
        .flat_map(|s| s.options.decls.iter())
        .filter(|d| *d.owner == *FLAKE_PARTS)
        .filter_map(|d| d.decl.path.first().map(String::as_str))
        .collect();
    let options_known = !modules.incomplete
        && summaries
            .iter()
            .all(|s| !s.incomplete && !s.open_classes.contains(&None));
    for (file, root) in &collected {
        let Some(f) = file_by_path(db, ws, file) else {
            continue;
        };
        let top = &file_summary(db, ws, f).top_module;
        let by = imported_by.get(*file);
        let imported = by
            .map(|(class, owner)| {
                format!(
                    " (it is imported by path into {} `{owner}`)",
                    context_display(class)
                )
            })
            .unwrap_or_default();
        let (location, what, failure) = match &top.class {
            Some((class, loc)) if class != "flake" && *loc.file == **file => (
                loc.clone(),
                format!("{}, `_class = \"{class}\"`{imported}", class_display(class)),
                format!("\"The module … was imported into flake instead of {class}\""),
            ),
            Some(_) => continue,
            None => {
                if !options_known {
                    continue;
                }
                let hit = top.keys.iter().find_map(|(k, loc)| {
                    let (_, owner) = SYSTEM_ONLY.iter().find(|(n, _)| n == k)?;
                    (!declared.contains(k.as_str()) && *loc.file == **file)
                        .then_some((k, loc, *owner))
                });
                let Some((key, loc, owner)) = hit else {
                    continue;
                };
                let kind = match by {
                    Some((class, _)) => context_display(class).to_owned(),
                    None => format!("a {owner} module"),
                };
                (
                    loc.clone(),
                    format!(
                        "{kind}{imported} that sets `{key}`, an option of {owner} that flake-parts does not declare"
                    ),
                    format!("\"The option `{key}' does not exist\""),
                )
            }
        };
        out.push(not_a_flake_module(file, root, location, &what, &failure));
    }
}

fn not_a_flake_module(
    file: &str,
    root: &str,
    location: Location,
    what: &str,
    failure: &str,
) -> Diagnostic {
    let (dir, name) = match file.rsplit_once('/') {
        Some((d, n)) => (format!("{d}/"), n),
        None => (String::new(), file),
    };
    let root_shown = if root.is_empty() { "." } else { root };
    Diagnostic::new(
        "module/not-a-flake-module",
        file,
        location.range,
        format!(
            "import-tree loads every `.nix` file below `{root_shown}/` whose path has no `/_` as a flake-parts module, and so loads `{file}`, but it is {what}: flake-parts fails with {failure}. Rename it to `{dir}_{name}` (or move it under a `_`-prefixed directory, or out of `{root_shown}/`) so import-tree skips it, and import it by its new path where it is used."
        ),
    )
    // flake-parts evaluates every module file for every output.
    .for_all_machines()
}
