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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::clan::resolve::ClanModel;
use crate::clan::services::{resolve, Origin, Resolution};
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
    pub owners: Vec<String>,
    /// Modules service roles give it: their declarations count, their definitions are not
    /// judged here.
    pub service_owners: Vec<String>,
    /// Every module it is made of is read, or is a flake input's module whose options are
    /// known by name: then an option none of them declares is not an option of it.
    pub complete: bool,
    /// Top-level option names the flake inputs' modules it imports declare.
    pub input_namespaces: BTreeSet<&'static str>,
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

/// What the summaries say about modules, by owner.
pub struct Owners<'a> {
    open: HashSet<&'a str>,
    inputs: HashMap<&'a str, Vec<&'a InputImport>>,
    scopes: HashMap<&'a str, Vec<&'a HmScope>>,
    homes: Vec<(&'a str, &'a str)>,
}

impl<'a> Owners<'a> {
    pub fn new(fragments: impl Iterator<Item = &'a OptionsFragment>) -> Self {
        let mut o = Owners {
            open: HashSet::new(),
            inputs: HashMap::new(),
            scopes: HashMap::new(),
            homes: Vec::new(),
        };
        for f in fragments {
            o.open.extend(f.open_owners.iter().map(String::as_str));
            for i in &f.input_imports {
                o.inputs.entry(i.owner.as_str()).or_default().push(i);
            }
            for s in &f.hm_scopes {
                o.scopes.entry(s.parent.as_str()).or_default().push(s);
            }
            o.homes.extend(
                f.home_configurations
                    .iter()
                    .map(|(n, owner, _)| (n.as_str(), owner.as_str())),
            );
        }
        o
    }
}

/// Every owner reached from `start` through deferred-module imports.
fn closure(idx: &ModuleIndex, start: Vec<String>) -> Vec<String> {
    let mut seen: HashSet<String> = start.iter().cloned().collect();
    let mut out = start.clone();
    let mut queue = start;
    while let Some(o) = queue.pop() {
        for &c in idx.contexts_by_owner.get(&o).into_iter().flatten() {
            for i in &idx.contexts[c].items {
                let Some(n) = &i.name else { continue };
                let owner = format!("flake.modules.{}.{}", i.class, attr_display(n));
                if seen.insert(owner.clone()) {
                    out.push(owner.clone());
                    queue.push(owner);
                }
            }
        }
    }
    out
}

/// Whether every module of `owners` is read or known, and what the known ones declare.
fn completeness<'a>(
    o: &Owners<'a>,
    urls: &BTreeMap<&str, Option<&str>>,
    owners: &[String],
) -> (bool, BTreeSet<&'static str>) {
    let mut complete = true;
    let mut names = BTreeSet::new();
    for owner in owners {
        complete &= !o.open.contains(owner.as_str());
        for i in o.inputs.get(owner.as_str()).into_iter().flatten() {
            let url = urls.get(i.input.as_str()).copied().flatten();
            match known_input_module(url, i) {
                Some(ns) => names.extend(ns.iter().copied()),
                None => complete = false,
            }
        }
    }
    (complete, names)
}

pub struct Inputs<'a> {
    pub index: &'a ModuleIndex,
    pub clan: &'a ClanModel,
    /// Input name → URL.
    pub urls: BTreeMap<&'a str, Option<&'a str>>,
    /// Every module file was read.
    pub readable: bool,
    /// Machines with a file clan-core loads from `machines/<m>/` that could not be read or
    /// evaluated in full.
    pub opaque_machines: &'a BTreeSet<String>,
    /// The files clan-core loads from `machines/<m>/` into each machine, by path.
    pub machine_files: &'a BTreeMap<String, Vec<String>>,
}

/// Every machine, home-manager user and standalone home configuration.
pub fn configurations(inp: &Inputs, o: &Owners) -> Vec<Configuration> {
    let idx = inp.index;
    let clan = inp.clan;
    let global = inp.readable && idx.is_complete_for_machines();
    let mut out = Vec::new();
    // The modules service roles add to their members, and whether those are all known.
    let mut roles_known = clan.instances_complete;
    let mut role_owners: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut role_open: BTreeSet<&str> = BTreeSet::new();
    for inst in clan.instances.values() {
        roles_known &= inst.roles_known;
        let resolution = resolve(clan, inst);
        for role in inst.roles.values() {
            let Some(members) = clan.role_assignments(role) else {
                roles_known = false;
                continue;
            };
            for a in members {
                let m = clan
                    .machines
                    .get_key_value(&a.machine)
                    .map(|(k, _)| k.as_str());
                let Some(m) = m else { continue };
                if role.extra_modules != Some(0) {
                    role_open.insert(m);
                }
                match &resolution {
                    Resolution::Service(v) if v.origin == Origin::Local => {
                        let e = role_owners.entry(m).or_default();
                        e.push(format!("service {}/{}", v.name, role.name));
                        e.push(format!("service {}/*", v.name));
                    }
                    // clan-core's own services declare clan-core's options.
                    Resolution::Service(_) => {}
                    _ => {
                        role_open.insert(m);
                    }
                }
            }
        }
    }
    for (name, machine) in &clan.machines {
        let Some(class) = machine.class.clone() else {
            continue;
        };
        let mut owners = crate::vars::resolve::machine_owners(idx, name);
        // The files clan-core loads from `machines/<m>/` are owned by their path.
        owners.extend(
            inp.machine_files
                .get(name.as_str())
                .into_iter()
                .flatten()
                .cloned(),
        );
        let mut service_owners: Vec<String> = Vec::new();
        for s in role_owners.get(name.as_str()).into_iter().flatten() {
            if !service_owners.contains(s) {
                service_owners.push(s.clone());
            }
        }
        let all: Vec<String> = owners.iter().chain(&service_owners).cloned().collect();
        let (mut complete, names) = completeness(o, &inp.urls, &all);
        complete &= global
            && roles_known
            && !role_open.contains(name.as_str())
            && !inp.opaque_machines.contains(name.as_str());
        // The home-manager users of the machine: every body any of its modules sets.
        let scopes: Vec<&HmScope> = all
            .iter()
            .flat_map(|p| o.scopes.get(p.as_str()).into_iter().flatten().copied())
            .collect();
        let shared: Vec<String> = scopes
            .iter()
            .filter(|s| s.user.is_none())
            .map(|s| s.owner.clone())
            .collect();
        let users: BTreeSet<&str> = scopes.iter().filter_map(|s| s.user.as_deref()).collect();
        for user in users {
            let mut start: Vec<String> = scopes
                .iter()
                .filter(|s| s.user.as_deref() == Some(user))
                .map(|s| s.owner.clone())
                .collect();
            start.extend(shared.iter().cloned());
            let hm_owners = closure(idx, start);
            let (hm_complete, hm_names) = completeness(o, &inp.urls, &hm_owners);
            out.push(Configuration {
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
            });
        }
        out.push(Configuration {
            name: format!("machine `{name}`"),
            class,
            machine: Some(name.clone()),
            owners,
            service_owners,
            complete,
            input_namespaces: names,
            import_into: format!("the imports of machine `{name}`"),
        });
    }
    for (name, owner) in &o.homes {
        let owners = closure(idx, vec![owner.to_string()]);
        let (complete, names) = completeness(o, &inp.urls, &owners);
        out.push(Configuration {
            name: format!("home configuration `{}`", attr_display(name)),
            class: "homeManager".into(),
            machine: None,
            owners,
            service_owners: Vec::new(),
            complete: complete && global,
            input_namespaces: names,
            import_into: format!(
                "the `modules` of `homeConfigurations.{}` (`home-manager.sharedModules` do not reach a standalone configuration)",
                attr_display(name)
            ),
        });
    }
    out
}

/// Every configuration of the workspace, from the flake-parts module files and the files
/// clan-core loads from `machines/<m>/` (what the option checks judge, and what
/// `attribution` reads to know which machines a module reaches).
#[salsa::tracked(returns(ref))]
pub fn workspace_configurations(
    db: &dyn crate::db::Db,
    ws: crate::db::Workspace,
) -> std::sync::Arc<Vec<Configuration>> {
    let mut summaries = crate::summary::module_summaries(db, ws);
    let loaded = crate::machine_config::loaded_files(db, ws);
    summaries.extend(loaded.summaries.iter());
    let info = crate::flake::flake_info(db, ws);
    let owners = Owners::new(summaries.iter().map(|s| &s.options));
    std::sync::Arc::new(configurations(
        &Inputs {
            index: crate::index::module_index(db, ws),
            clan: crate::clan::resolve::clan_model(db, ws),
            urls: info
                .inputs
                .iter()
                .map(|(n, i)| (n.as_str(), i.url.as_deref()))
                .collect(),
            readable: !crate::flake::module_files(db, ws).unreadable,
            opaque_machines: &loaded.opaque,
            machine_files: &loaded.by_machine,
        },
        &owners,
    ))
}

/// The owners whose body or imports could not be read completely (they may import anything).
pub fn open_owners(db: &dyn crate::db::Db, ws: crate::db::Workspace) -> HashSet<String> {
    let mut summaries = crate::summary::module_summaries(db, ws);
    summaries.extend(crate::machine_config::loaded_files(db, ws).summaries.iter());
    summaries
        .iter()
        .flat_map(|s| s.options.open_owners.iter().cloned())
        .collect()
}
