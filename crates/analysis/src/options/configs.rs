//! The configurations options are checked in and the modules each is made of: every clan
//! machine, every home-manager user of every machine, every standalone
//! `homeConfigurations.<name>`. (The flake-parts configuration is every flake-parts module.)
//!
//! Which home-manager modules reach a user follows home-manager's `nixos/common.nix`:
//! `home-manager.users` is `attrsOf hmModule`, so every module of the machine that sets
//! `home-manager.users.<u>` adds to that one user, and `hmModule` imports
//! `cfg.sharedModules`, the machine's whole `home-manager.sharedModules` list, into each user
//! (and nothing else: `extraSpecialArgs` passes arguments, not modules). A standalone
//! configuration (`lib/eval-config.nix`) gets only its `modules`.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::clan::held::{held_roles, instance_services, machine_key, MachineKey};
use crate::clan::resolve::clan_model;
use crate::clan::services::{Origin, Resolution};
use crate::db::{Db, Workspace};
use crate::index::ModuleIndex;
use crate::options::model::{HmScope, InputImport, OptionsFragment};
use crate::summary::attr_display;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// How a message names it: ``machine `argon` ``, ``home-manager user `ada` of machine
    /// `argon` ``, ``home configuration `ada` ``.
    pub name: String,
    /// `nixos`, `darwin` or `homeManager`.
    pub class: String,
    /// The machine it is (or whose user it is), for catalogs.
    pub machine: Option<String>,
    /// Every module (by owner) it is made of.
    pub owners: Vec<Arc<str>>,
    /// Modules service roles give it: their declarations count, their definitions are not
    /// judged here.
    pub service_owners: Vec<Arc<str>>,
    /// Every module it is made of is read, or is a flake input's module whose options are
    /// known by name: then an option none of them declares is not an option of it.
    pub complete: bool,
    /// Top-level option names the flake inputs' modules it imports declare, sorted (a set of a
    /// few names, kept for every machine).
    pub input_namespaces: Vec<Arc<str>>,
    /// Where a module would have to be imported to reach it, as the fix says.
    pub import_into: String,
}

/// Modules of other flakes whose declarations are known:
///
/// - home-manager `nixosModules`/`darwinModules` (`.home-manager`, `.default`: `./nixos`,
///   `./nix-darwin`, which import `nixos/common.nix`): `options.home-manager` only
///   (nix-community/home-manager @ ec1a8fdf74ed).
/// - srvos: `options.srvos.*` and `options.roles.nix-remote-builder` (nix-community/srvos @
///   e49ccb0d84ed); it sets nothing under `home-manager`.
struct KnownInputModule {
    /// A word of the input's URL.
    url: &'static str,
    /// `nixosModules`, `darwinModules`, …
    sets: &'static [&'static str],
    /// The module names in those sets (empty: every one).
    names: &'static [&'static str],
    /// Every top-level option name it declares.
    declares: &'static [&'static str],
}

const KNOWN_INPUT_MODULES: &[KnownInputModule] = &[
    KnownInputModule {
        url: "home-manager",
        sets: &["nixosModules", "darwinModules"],
        names: &["home-manager", "default"],
        declares: &["home-manager"],
    },
    KnownInputModule {
        url: "srvos",
        sets: &["nixosModules", "darwinModules"],
        names: &[],
        declares: &["srvos", "roles"],
    },
];

/// The top-level names a flake input's module declares, when known.
pub(crate) fn known_input_module(
    url: Option<&str>,
    i: &InputImport,
) -> Option<&'static [&'static str]> {
    let url = url.unwrap_or(&i.input).to_ascii_lowercase();
    let [set, name] = i.path.as_slice() else {
        return None;
    };
    KNOWN_INPUT_MODULES
        .iter()
        .find(|k| {
            url.contains(k.url)
                && k.sets.contains(&set.as_str())
                && (k.names.is_empty() || k.names.contains(&name.as_str()))
        })
        .map(|k| k.declares)
}

/// The top-level option names a flake input's module declares, when known: read from its
/// source in the store when Nix has it and every declaration was read, else from the table
/// of [`KNOWN_INPUT_MODULES`].
fn input_module_declares(
    db: &dyn Db,
    ws: Workspace,
    url: Option<&str>,
    i: &InputImport,
) -> Option<Vec<Arc<str>>> {
    match crate::inputs::modules::input_module(db, ws, &i.input, &i.path) {
        Some(m) if m.options_complete => {
            Some(m.declares.iter().map(|n| Arc::from(n.as_str())).collect())
        }
        _ => known_input_module(url, i).map(|d| d.iter().map(|n| Arc::from(*n)).collect()),
    }
}

/// What the modules of flake inputs imported anywhere declare: whether every one is known, and
/// the top-level option names the known ones declare.
pub(crate) fn input_declarations(db: &dyn Db, ws: Workspace) -> (bool, BTreeSet<Arc<str>>) {
    let cx = context(db, ws);
    let known = cx.declares.values().all(|d| d.known);
    let names = cx
        .declares
        .values()
        .flat_map(|d| d.names.iter().cloned())
        .collect();
    (known, names)
}

/// What the summaries say about modules, by owner.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Owners {
    open: FxHashSet<Arc<str>>,
    inputs: FxHashMap<Arc<str>, Vec<Arc<InputImport>>>,
    scopes: FxHashMap<Arc<str>, Vec<HmScope>>,
    homes: Vec<(String, Arc<str>)>,
}

impl Owners {
    pub fn new<'a>(fragments: impl Iterator<Item = &'a OptionsFragment>) -> Self {
        let mut o = Owners::default();
        for f in fragments {
            o.open.extend(f.open_owners.iter().cloned());
            for i in &f.input_imports {
                o.inputs.entry(i.owner.clone()).or_default().push(i.clone());
            }
            for s in &f.hm_scopes {
                o.scopes
                    .entry(s.parent.clone())
                    .or_default()
                    .push(s.clone());
            }
            o.homes.extend(
                f.home_configurations
                    .iter()
                    .map(|(n, owner, _)| (n.clone(), owner.clone())),
            );
        }
        o
    }
}

/// Every owner reached from `start` through deferred-module imports.
fn closure(idx: &ModuleIndex, start: Vec<Arc<str>>) -> Vec<Arc<str>> {
    let mut seen: FxHashSet<Arc<str>> = start.iter().cloned().collect();
    let mut out = start.clone();
    let mut queue = start;
    while let Some(o) = queue.pop() {
        for owner in idx.imports_of(&o) {
            if seen.insert(owner.clone()) {
                out.push(owner.clone());
                queue.push(owner.clone());
            }
        }
    }
    out
}

/// Whether every module of `owners` is read or known, and what the known ones declare.
fn completeness(
    o: &Owners,
    declares: &InputDeclares,
    owners: &[Arc<str>],
) -> (bool, Vec<Arc<str>>) {
    let mut complete = true;
    let mut names = Vec::new();
    for owner in owners {
        complete &= !o.open.contains(&**owner);
        if let Some(d) = declares.get(&**owner) {
            complete &= d.known;
            names.extend(d.names.iter().cloned());
        }
    }
    names.sort_unstable();
    names.dedup();
    names.shrink_to_fit();
    (complete, names)
}

/// What the flake inputs' modules an owner imports declare, by owner.
type InputDeclares = FxHashMap<Arc<str>, OwnerInputs>;

#[derive(Debug, Default, PartialEq, Eq)]
struct OwnerInputs {
    /// Every one of them is read, or known from the table.
    known: bool,
    /// The top-level option names the known ones declare.
    names: Vec<Arc<str>>,
}

/// What every configuration is judged by, gathered once.
#[derive(Debug, PartialEq, Eq)]
struct Context {
    owners: Owners,
    /// What the imported modules of flake inputs declare, by importing owner.
    declares: InputDeclares,
    /// Every module file was read and every module definition followed.
    global: bool,
}

#[salsa::tracked(returns(ref))]
fn context(db: &dyn Db, ws: Workspace) -> Arc<Context> {
    let info = crate::flake::flake_info(db, ws);
    let owners = Owners::new(options_fragments(db, ws).into_iter());
    let mut declares = InputDeclares::default();
    for (owner, imports) in &owners.inputs {
        let mut d = OwnerInputs {
            known: true,
            names: Vec::new(),
        };
        for i in imports {
            let url = info.inputs.get(&i.input).and_then(|x| x.url.as_deref());
            match input_module_declares(db, ws, url, i) {
                Some(ns) => d.names.extend(ns),
                None => d.known = false,
            }
        }
        declares.insert(owner.clone(), d);
    }
    Arc::new(Context {
        owners,
        declares,
        global: !crate::flake::module_files(db, ws).unreadable
            && *crate::vars::resolve::machines_closed(db, ws),
    })
}

/// The configurations of one machine: its home-manager users (by name), then the machine
/// itself; none for a machine whose class is not known. Memoised per machine.
pub fn machine_configurations<'db>(
    db: &'db dyn Db,
    ws: Workspace,
    name: &str,
) -> &'db Arc<Vec<Arc<Configuration>>> {
    configurations_of(db, machine_key(db, ws, name))
}

#[salsa::tracked(returns(ref))]
fn configurations_of<'db>(db: &'db dyn Db, key: MachineKey<'db>) -> Arc<Vec<Arc<Configuration>>> {
    let (ws, name) = (*key.ws(db), key.name(db).clone());
    let clan = clan_model(db, ws);
    let mut out = Vec::new();
    let Some(class) = clan.machines.get(&name).and_then(|m| m.class.clone()) else {
        return Arc::new(out);
    };
    let cx = context(db, ws);
    let o = &cx.owners;
    let held = held_roles(db, ws);
    let modules = crate::vars::resolve::machine_modules(db, ws, &name);
    // The modules service roles add to the machine, and whether those are all known.
    let mut service_owners: Vec<Arc<str>> = Vec::new();
    let mut role_open = false;
    let services = instance_services(db, ws);
    for h in held.of(&name) {
        let (Some((_, role)), Some(service)) = (h.resolve(clan), services.get(&h.instance)) else {
            // A role held but not found: the modules it adds are not known.
            role_open = true;
            continue;
        };
        if role.extra_modules != Some(0) {
            role_open = true;
        }
        match &service.resolution {
            Resolution::Service(v) if v.origin == Origin::Local => {
                for s in [
                    format!("service {}/{}", v.name, role.name),
                    format!("service {}/*", v.name),
                ] {
                    if !service_owners.iter().any(|o| **o == *s) {
                        service_owners.push(s.into());
                    }
                }
            }
            // clan-core's own services declare clan-core's options.
            Resolution::Service(_) => {}
            _ => role_open = true,
        }
    }
    // The files clan-core loads from `machines/<m>/` are owned by their path.
    let owners = modules.owners.clone();
    let all: Vec<Arc<str>> = owners.iter().chain(&service_owners).cloned().collect();
    let (mut complete, names) = completeness(o, &cx.declares, &all);
    complete &= cx.global && !held.unknown && !role_open && !modules.opaque;
    // The home-manager users of the machine: every body any of its modules sets.
    let scopes: Vec<&HmScope> = all
        .iter()
        .flat_map(|p| o.scopes.get(&**p).into_iter().flatten())
        .collect();
    let shared: Vec<Arc<str>> = scopes
        .iter()
        .filter(|s| s.user.is_none())
        .map(|s| s.owner.clone())
        .collect();
    let users: BTreeSet<&str> = scopes.iter().filter_map(|s| s.user.as_deref()).collect();
    for user in users {
        let mut start: Vec<Arc<str>> = scopes
            .iter()
            .filter(|s| s.user.as_deref() == Some(user))
            .map(|s| s.owner.clone())
            .collect();
        start.extend(shared.iter().cloned());
        let hm_owners = closure(crate::index::module_index(db, ws), start);
        let (hm_complete, hm_names) = completeness(o, &cx.declares, &hm_owners);
        out.push(Arc::new(Configuration {
            name: format!(
                "home-manager user `{}` of machine `{name}`",
                attr_display(user)
            ),
            class: "homeManager".into(),
            machine: Some(name.clone()),
            owners: hm_owners,
            service_owners: Vec::new(),
            // The machine's unread modules could add users or shared modules.
            complete: complete && hm_complete,
            input_namespaces: hm_names,
            import_into: format!(
                "`home-manager.users.{}.imports` of machine `{name}` (or its `home-manager.sharedModules`)",
                attr_display(user)
            ),
        }));
    }
    out.push(Arc::new(Configuration {
        name: format!("machine `{name}`"),
        class,
        machine: Some(name.clone()),
        owners,
        service_owners,
        complete,
        input_namespaces: names,
        import_into: format!("the imports of machine `{name}`"),
    }));
    Arc::new(out)
}

/// Every configuration of the workspace, from the flake-parts module files and the files
/// clan-core loads from `machines/<m>/` (what the option checks judge, and what
/// `attribution` reads to know which machines a module reaches): every machine's (see
/// [`machine_configurations`]), then every standalone home configuration.
#[salsa::tracked(returns(ref))]
pub fn workspace_configurations(db: &dyn Db, ws: Workspace) -> Arc<Vec<Arc<Configuration>>> {
    let clan = clan_model(db, ws);
    let mut out = Vec::new();
    for name in clan.machines.keys() {
        out.extend(machine_configurations(db, ws, name).iter().cloned());
    }
    let cx = context(db, ws);
    if !cx.owners.homes.is_empty() {
        let idx = crate::index::module_index(db, ws);
        for (name, owner) in &cx.owners.homes {
            let owners = closure(idx, vec![owner.clone()]);
            let (complete, names) = completeness(&cx.owners, &cx.declares, &owners);
            out.push(Arc::new(Configuration {
                name: format!("home configuration `{}`", attr_display(name)),
                class: "homeManager".into(),
                machine: None,
                owners,
                service_owners: Vec::new(),
                complete: complete && cx.global,
                input_namespaces: names,
                import_into: format!(
                    "the `modules` of `homeConfigurations.{}` (`home-manager.sharedModules` do not reach a standalone configuration)",
                    attr_display(name)
                ),
            }));
        }
    }
    Arc::new(out)
}

/// The owners whose body or imports could not be read completely (they may import anything).
pub fn open_owners(db: &dyn crate::db::Db, ws: crate::db::Workspace) -> HashSet<Arc<str>> {
    options_fragments(db, ws)
        .into_iter()
        .flat_map(|o| o.open_owners.iter().cloned())
        .collect()
}

/// What the modules say of options: the options parts of the module files' summaries, then
/// those of the files clan-core loads from `machines/<m>/` (modules of that machine, owned by
/// their path, which the module index counts among the machine's modules).
pub(crate) fn options_fragments(
    db: &dyn crate::db::Db,
    ws: crate::db::Workspace,
) -> Vec<&crate::options::model::OptionsFragment> {
    let parts = crate::index::options_parts(db, ws);
    let loaded = crate::machine_config::loaded_files(db, ws);
    parts
        .iter()
        .map(|p| &**p)
        .chain(loaded.summaries.iter().map(|s| &*s.options))
        .collect()
}
