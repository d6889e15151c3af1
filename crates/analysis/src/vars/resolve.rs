//! Which machines need which generators: a machine gets the generators of every module its
//! configuration reaches (through `clan.machines.<m>` and deferred-module imports) and of the
//! service roles it holds (built-in ones from the catalog, local ones from their
//! `perInstance`/`perMachine` modules), and of the files clan-core loads from
//! `machines/<m>/` (`machine_config`). Where that cannot be known, the machine is marked
//! incomplete and the checks that need the whole picture stay silent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::model::{GeneratorDecl, NeededFor, Validation, VarRef};
use crate::clan::catalog::catalog;
use crate::clan::held::{held_roles, instance_services, machine_key, MachineKey};
use crate::clan::model::Field;
use crate::clan::resolve::{clan_model, ClanModel, Instance, Role};
use crate::clan::services::{Origin, Resolution};
use crate::db::{Db, Workspace};
use crate::diagnostic::Location;
use crate::index::{module_index, ModuleIndex};
use crate::machine_config::loaded_files;
use crate::summary::{attr_display, ContextClass};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VarsModel {
    pub machines: BTreeMap<String, Arc<MachineVars>>,
    pub var_refs: Vec<VarRef>,
    /// The modules each machine's configuration reaches.
    pub owners: BTreeMap<String, Arc<MachineModules>>,
    /// Every generator name some module infra-check reads declares (for any machine or none).
    pub declared: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MachineVars {
    pub needed: Vec<Needed>,
    /// Generators the machine may get (under an unknown condition, or in some clan-core
    /// versions): never reported missing, never orphans.
    pub maybe: BTreeSet<Arc<str>>,
    /// Every generator the machine gets is known.
    pub complete: bool,
}

impl MachineVars {
    pub fn knows(&self, generator: &str) -> bool {
        self.maybe.contains(generator) || self.needed.iter().any(|n| &*n.name == generator)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    /// Shared by the machines that need it (`eval::shared_text`), as are its files' names.
    pub name: Arc<str>,
    pub share: Option<bool>,
    /// `None` when the files are not all known.
    pub files: Option<Vec<NeededFile>>,
    pub validation: Validation,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeededFile {
    pub name: Arc<str>,
    pub secret: Option<bool>,
    pub deploy: Option<bool>,
    /// `None` when not knowable.
    pub needed_for: Option<NeededFor>,
    /// Certain to exist (not under an unknown condition).
    pub certain: bool,
    /// Where the file is declared, when a module declares it.
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Declared in a module (its `clan.core.vars.generators.<g>` key).
    Module { owner: Arc<str>, location: Location },
    /// Created by a built-in service role the machine holds.
    Service {
        // Shared by every machine the role reaches (`eval::shared_text`).
        instance: Arc<str>,
        role: Arc<str>,
        service: Arc<str>,
        location: Location,
    },
}

impl Source {
    pub fn location(&self) -> &Location {
        match self {
            Source::Module { location, .. } | Source::Service { location, .. } => location,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Source::Module { owner, .. } => format!("declared in `{owner}`"),
            Source::Service {
                instance,
                role,
                service,
                ..
            } => format!("created by role `{role}` of instance `{instance}` (service `{service}`)"),
        }
    }
}

/// The owners of every module a machine's configuration reaches through deferred-module
/// imports.
pub fn machine_owners(idx: &ModuleIndex, machine: &str) -> Vec<Arc<str>> {
    let own = idx.owner_name(&format!("clan.machines.{}", attr_display(machine)));
    let mut owners = vec![own];
    reach_from(
        idx,
        None,
        idx.imports_of_machine(machine).to_vec(),
        &mut owners,
    );
    owners
}

/// Adds to `owners` every owner reached from `queue` that it does not hold yet, through
/// deferred-module imports and, with `outputs`, imports of the flake's own module outputs.
fn reach_from(
    idx: &ModuleIndex,
    outputs: Option<&OutputModules>,
    mut queue: Vec<Arc<str>>,
    owners: &mut Vec<Arc<str>>,
) {
    let mut seen: FxHashSet<Arc<str>> = owners.iter().cloned().collect();
    while let Some(owner) = queue.pop() {
        if !seen.insert(owner.clone()) {
            continue;
        }
        queue.extend(imports_of(idx, outputs, &owner));
        owners.push(owner);
    }
}

/// What `owner` imports: deferred modules, and with `outputs` the flake's own module outputs.
fn imports_of<'a>(
    idx: &'a ModuleIndex,
    outputs: Option<&'a OutputModules>,
    owner: &'a str,
) -> impl Iterator<Item = Arc<str>> + 'a {
    let by_name = outputs.into_iter().flat_map(move |x| x.imports_of(owner));
    idx.imports_of(owner).iter().cloned().chain(by_name)
}

/// The flake's own module outputs (`flake.nixosModules.<n>`, `flake.darwinModules.<n>`): which
/// module imports which by name, and which are defined where infra-check reads them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OutputModules {
    imports: FxHashMap<Arc<str>, Vec<Arc<str>>>,
    defined: FxHashSet<Arc<str>>,
    /// Some file may define outputs infra-check cannot name: none is known to be whole.
    open: bool,
}

impl OutputModules {
    fn imports_of(&self, owner: &str) -> impl Iterator<Item = Arc<str>> + '_ {
        self.imports.get(owner).into_iter().flatten().cloned()
    }

    /// Whether every definition of the output `owner` was read.
    fn known(&self, owner: &str) -> bool {
        !self.open && self.defined.contains(owner)
    }
}

/// The vars part of every summary, then those of the files clan-core loads from
/// `machines/<m>/` (owned by their path, see `machine_config`).
pub(crate) fn all_vars_parts(
    db: &dyn Db,
    ws: Workspace,
) -> impl Iterator<Item = &super::model::VarsFragment> {
    let loaded = loaded_files(db, ws);
    crate::index::vars_parts(db, ws)
        .iter()
        .map(|p| &**p)
        .chain(loaded.summaries.iter().map(|s| &*s.vars))
}

#[salsa::tracked(returns(ref))]
fn output_modules(db: &dyn Db, ws: Workspace) -> Arc<OutputModules> {
    let mut out = OutputModules::default();
    for vars in all_vars_parts(db, ws) {
        out.open |= vars.open_output_sets;
        out.defined.extend(vars.output_modules.iter().cloned());
        for (owner, target) in &vars.output_imports {
            let targets = out.imports.entry(owner.clone()).or_default();
            if !targets.contains(target) {
                targets.push(target.clone());
            }
        }
    }
    Arc::new(out)
}

/// The modules of one machine's configuration, by owner: those its configuration reaches
/// through `clan.machines.<m>` and deferred-module imports ([`machine_owners`]), the
/// `extraModules` of the service roles it holds and what they import, then the files clan-core
/// loads from `machines/<m>/` (owned by their path).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MachineModules {
    pub owners: Vec<Arc<str>>,
    /// A file clan-core loads into the machine could not be read or evaluated in full.
    pub opaque: bool,
}

/// [`MachineModules`] of a machine, memoised per machine: it stays equal through an edit that
/// leaves the machine's modules alone, so nothing computed from it for that machine is
/// computed again.
pub fn machine_modules<'db>(
    db: &'db dyn Db,
    ws: Workspace,
    machine: &str,
) -> &'db Arc<MachineModules> {
    machine_modules_of(db, machine_key(db, ws, machine))
}

#[salsa::tracked(returns(ref))]
fn machine_modules_of<'db>(db: &'db dyn Db, key: MachineKey<'db>) -> Arc<MachineModules> {
    let (ws, machine) = (*key.ws(db), key.name(db));
    let loaded = loaded_files(db, ws);
    let idx = module_index(db, ws);
    let outputs = output_modules(db, ws);
    let mut owners = machine_owners(idx, machine);
    let clan = clan_model(db, ws);
    for h in held_roles(db, ws).of(machine) {
        let Some((inst, role)) = h.resolve(clan) else {
            continue;
        };
        if role.extra_modules.is_some_and(|n| n > 0) {
            let extra = idx.owner_name(&crate::clan::extra_modules_owner(&inst.name, &role.name));
            if !owners.contains(&extra) {
                owners.push(extra);
            }
        }
    }
    owners.extend(
        loaded
            .by_machine
            .get(machine)
            .into_iter()
            .flatten()
            .map(|path| Arc::from(path.as_str())),
    );
    // What the extra modules, the files clan-core loads and the flake's own module outputs
    // import in turn.
    let queue = owners
        .iter()
        .flat_map(|o| imports_of(idx, Some(outputs), o))
        .collect();
    reach_from(idx, Some(outputs), queue, &mut owners);
    // An output imported by name that is not defined where infra-check reads it, or whose
    // definitions may not all be read.
    let outputs_unknown = owners
        .iter()
        .flat_map(|o| outputs.imports_of(o))
        .any(|t| !outputs.known(&t));
    Arc::new(MachineModules {
        owners,
        opaque: loaded.opaque.contains(machine) || outputs_unknown,
    })
}

/// Whether every module file was found and every module definition read (see
/// [`ModuleIndex::is_complete_for_machines`]), apart from the index so that per-machine
/// results do not depend on all of it.
#[salsa::tracked]
pub fn machines_closed(db: &dyn Db, ws: Workspace) -> bool {
    module_index(db, ws).is_complete_for_machines()
}

/// What the modules infra-check reads declare about vars, by owner, gathered once for every
/// machine.
#[derive(Debug, Default, PartialEq, Eq)]
struct Declarations {
    decls: FxHashMap<Arc<str>, Vec<GeneratorDecl>>,
    /// Owners whose generators cannot all be read.
    open: FxHashSet<Arc<str>>,
    /// Owners that import what infra-check cannot follow.
    opaque: FxHashSet<Arc<str>>,
    /// Generators the flake inputs' modules an owner imports may declare (read from their
    /// sources in the store, see `inputs::modules`).
    from_inputs: FxHashMap<Arc<str>, BTreeSet<String>>,
    /// Machine-level `clan.core.vars.settings.secretStore` settings, by module.
    store_defs: FxHashMap<Arc<str>, Vec<Option<String>>>,
    declared: BTreeSet<String>,
    var_refs: Vec<VarRef>,
}

#[salsa::tracked(returns(ref))]
fn declarations(db: &dyn Db, ws: Workspace) -> Arc<Declarations> {
    let mut out = Declarations::default();
    for vars in all_vars_parts(db, ws) {
        for (owner, value) in &vars.secret_stores {
            out.store_defs
                .entry(owner.clone())
                .or_default()
                .push(value.clone());
        }
        for d in &vars.generators {
            out.decls
                .entry(d.owner.clone())
                .or_default()
                .push(d.clone());
            out.declared.insert(d.name.clone());
        }
        out.open.extend(vars.open_owners.iter().cloned());
        out.opaque.extend(vars.opaque_import_owners.iter().cloned());
        out.var_refs.extend(vars.var_refs.iter().cloned());
        for i in &vars.input_imports {
            match crate::inputs::modules::input_module(db, ws, &i.input, &i.path) {
                Some(m) if m.vars_complete => out
                    .from_inputs
                    .entry(i.owner.clone())
                    .or_default()
                    .extend(m.generators.iter().cloned()),
                // Another flake's module infra-check cannot read may declare any generator.
                _ => {
                    out.opaque.insert(i.owner.clone());
                }
            }
        }
    }
    Arc::new(out)
}

#[salsa::tracked(returns(ref))]
pub fn vars_model(db: &dyn Db, ws: Workspace) -> Arc<VarsModel> {
    let clan = clan_model(db, ws);
    let d = declarations(db, ws);
    let mut model = VarsModel {
        var_refs: d.var_refs.clone(),
        declared: d.declared.clone(),
        ..Default::default()
    };
    for name in clan.machines.keys() {
        if let Some(mv) = machine_vars(db, ws, name) {
            model
                .owners
                .insert(name.clone(), machine_modules(db, ws, name).clone());
            model.machines.insert(name.clone(), mv.clone());
        }
    }
    Arc::new(model)
}

/// The generators one machine gets (`None` for a machine whose class is not known).
pub fn machine_vars<'db>(
    db: &'db dyn Db,
    ws: Workspace,
    machine: &str,
) -> &'db Option<Arc<MachineVars>> {
    machine_vars_of(db, machine_key(db, ws, machine))
}

#[salsa::tracked(returns(ref))]
fn machine_vars_of<'db>(db: &'db dyn Db, key: MachineKey<'db>) -> Option<Arc<MachineVars>> {
    let (ws, name) = (*key.ws(db), key.name(db));
    let clan = clan_model(db, ws);
    let machine = clan.machines.get(name)?;
    let class = machine.class.clone()?;
    let d = declarations(db, ws);
    let held = held_roles(db, ws);
    let modules = machine_modules(db, ws, name);
    let clan_uses_sops = match &clan.secret_store {
        Field::Unset => true,
        Field::Known(s, _) => s == "sops",
        Field::Unknown => false,
    };
    let builtin_view = catalog().at(clan.clan_core_last_modified);
    let mut mv = MachineVars {
        complete: !held.unknown && *machines_closed(db, ws) && !modules.opaque,
        ..Default::default()
    };
    mv.maybe.extend(
        builtin_view
            .machine_generators(&class)
            .into_iter()
            .map(crate::eval::shared_text),
    );
    for owner in &modules.owners {
        if d.open.contains(owner.as_ref()) || d.opaque.contains(owner.as_ref()) {
            mv.complete = false;
        }
        for decl in d.decls.get(owner.as_ref()).into_iter().flatten() {
            add_decl(&mut mv, decl, &class);
        }
        for name in d.from_inputs.get(owner.as_ref()).into_iter().flatten() {
            mv.maybe.insert(crate::eval::shared_text(name));
        }
    }
    let services = instance_services(db, ws);
    for h in held.of(name) {
        let (Some((inst, role)), Some(service)) = (h.resolve(clan), services.get(&h.instance))
        else {
            // A role held but not found: what it gives the machine is not known.
            mv.complete = false;
            continue;
        };
        let rm = RoleMembers {
            inst,
            role,
            named: h.entries.iter().map(|&i| &role.machines[i]).collect(),
            resolution: &service.resolution,
            spec: service.spec.as_ref(),
        };
        service_generators(clan, &rm, name, &class, &d.decls, &d.open, &mut mv);
    }
    let machine_uses_sops = modules
        .owners
        .iter()
        .flat_map(|o| d.store_defs.get(o.as_ref()).into_iter().flatten())
        .all(|v| v.as_deref() == Some("sops"));
    if !(clan_uses_sops && machine_uses_sops) {
        secrets_kept_elsewhere(&mut mv);
    }
    // Kept for every machine: without the room the list grew into.
    mv.needed.shrink_to_fit();
    Some(Arc::new(mv))
}

/// With a secret store other than sops (`password-store`, `age`, `custom`), or one that cannot
/// be known, secret files do not live under `vars/…/secret`: only public files can be checked
/// on disk, and a generator without a known public file may exist without a directory at all.
fn secrets_kept_elsewhere(mv: &mut MachineVars) {
    let mut kept = Vec::new();
    for mut n in std::mem::take(&mut mv.needed) {
        let Some(files) = n.files.as_mut() else {
            mv.maybe.insert(n.name);
            continue;
        };
        // Still declared (reads of them are fine), but nothing on disk to look for.
        for f in files.iter_mut().filter(|f| f.secret != Some(false)) {
            f.certain = false;
        }
        if files.iter().any(|f| f.certain) {
            kept.push(n);
        } else {
            mv.maybe.insert(n.name);
        }
    }
    mv.needed = kept;
}

fn add_decl(mv: &mut MachineVars, d: &GeneratorDecl, class: &str) {
    // A generator in a module of the other class never reaches this machine.
    if let ContextClass::Known(c) = &d.class {
        if c != class {
            return;
        }
    }
    if d.conditional {
        mv.maybe.insert(crate::eval::shared_text(&d.name));
        return;
    }
    let files = d.files.as_ref().map(|fs| {
        fs.iter()
            .map(|f| NeededFile {
                name: crate::eval::shared_text(&f.name),
                secret: f.secret,
                deploy: f.deploy,
                needed_for: f.needed_for,
                certain: !f.conditional,
                location: Some(f.location.clone()),
            })
            .collect()
    });
    mv.needed.push(Needed {
        name: crate::eval::shared_text(&d.name),
        share: d.share,
        files,
        validation: d.validation.clone(),
        source: Source::Module {
            owner: d.owner.clone(),
            location: d.location.clone(),
        },
    });
}

/// A generator of the catalog whose condition cannot be decided for this machine: it may get
/// it, under the names it has when the condition holds; when a name cannot be known either,
/// the machine's generators are not all known.
fn may_get(
    mv: &mut MachineVars,
    g: &crate::clan::catalog::GeneratorSpec,
    machine: &str,
    instance: &str,
    settings: &serde_json::Value,
) {
    match g.names_if_held(machine, instance, settings) {
        Some(names) => mv
            .maybe
            .extend(names.iter().map(|n| crate::eval::shared_text(n))),
        None => mv.complete = false,
    }
}

/// One role of one instance one machine holds.
struct RoleMembers<'a> {
    inst: &'a Instance,
    role: &'a Role,
    /// The machine's own entries in `roles.<r>.machines`, in order.
    named: Vec<&'a crate::clan::model::Member>,
    resolution: &'a Resolution,
    /// The catalog's service, for one of clan-core's.
    spec: Option<&'a crate::clan::catalog::ServiceSpec>,
}

/// The settings a machine's role gets, as JSON for the catalog's templates; values that cannot
/// be known are `{"$unknown": true}`.
fn role_settings(clan: &ClanModel, rm: &RoleMembers, machine: &str) -> serde_json::Value {
    let role = rm.role;
    let mut m = serde_json::Map::new();
    let unknown = || serde_json::json!({ "$unknown": true });
    let mut put = |entries: &[crate::clan::model::Setting]| {
        for s in entries {
            m.insert(s.key.clone(), s.value.clone().unwrap_or_else(unknown));
        }
    };
    put(&role.settings);
    let machine_tags: Vec<&str> = clan
        .machines
        .get(machine)
        .map(|mm| mm.tags.iter().map(|t| t.name.as_str()).collect())
        .unwrap_or_default();
    for t in &role.tags {
        if machine_tags.contains(&t.name.as_str())
            || matches!(t.name.as_str(), "all" | "nixos" | "darwin")
        {
            put(&t.settings.entries);
        }
    }
    for mem in &rm.named {
        put(&mem.settings.entries);
    }
    serde_json::Value::Object(m)
}

#[allow(clippy::too_many_arguments)]
fn service_generators(
    clan: &ClanModel,
    rm: &RoleMembers,
    machine: &str,
    class: &str,
    decls: &FxHashMap<Arc<str>, Vec<GeneratorDecl>>,
    open: &FxHashSet<Arc<str>>,
    mv: &mut MachineVars,
) {
    let (inst, role) = (rm.inst, rm.role);
    // `extraModules` infra-check could not count: they may declare any generator. Those it
    // counted are the machine's modules (`machine_modules`), read as any other.
    if role.extra_modules.is_none() {
        mv.complete = false;
    }
    let view = match rm.resolution {
        Resolution::Service(v) => v,
        Resolution::Unknowable => {
            mv.complete = false;
            return;
        }
        _ => return,
    };
    match view.origin {
        Origin::Local => {
            for owner in [
                format!("service {}/{}", view.name, role.name),
                format!("service {}/*", view.name),
            ] {
                if open.contains(owner.as_str()) {
                    mv.complete = false;
                }
                for d in decls.get(owner.as_str()).into_iter().flatten() {
                    add_decl(mv, d, class);
                }
            }
        }
        Origin::ClanCore => {
            let cat = catalog().at(clan.clan_core_last_modified);
            // The catalog's generators: a service it does not know (read from a newer
            // clan-core's source) may declare any.
            let Some(spec) = rm.spec else {
                mv.complete = false;
                return;
            };
            if class == "darwin" {
                // Read from the locked clan-core's source, the role itself says whether it
                // gives darwin machines a module; else the catalog says it of the service.
                let darwin = match &clan.clan_core_source {
                    Some(_) => view
                        .roles
                        .as_ref()
                        .and_then(|r| r.get(&role.name))
                        .and_then(|r| r.darwin),
                    None => spec.darwin,
                };
                match (darwin, spec.darwin) {
                    // No module for the class: the machine gets nothing from the role.
                    (Some(false), _) => return,
                    // The catalog's generators are its darwin module's only when it knows that
                    // module; one only the source knows of may declare others.
                    (None, _) | (Some(true), None | Some(false)) => {
                        mv.complete = false;
                        return;
                    }
                    (Some(true), Some(true)) => {}
                }
            }
            let Some(rs) = spec.roles.get(&role.name) else {
                mv.complete = false;
                return;
            };
            let settings = role_settings(clan, rm, machine);
            let location = rm
                .named
                .first()
                .map(|m| m.location.clone())
                .or_else(|| role.tags.first().map(|t| t.location.clone()))
                .unwrap_or_else(|| role.locations[0].clone());
            // A clan-core newer than the catalog may have renamed them (zerotier did once).
            let certain = !cat.beyond_newest();
            if !certain {
                mv.complete = false;
            }
            for g in &rs.generators {
                match g.expand(machine, &inst.name, &settings) {
                    Some(list) if !certain => mv
                        .maybe
                        .extend(list.into_iter().map(|c| crate::eval::shared_text(&c.name))),
                    Some(list) => {
                        for c in list {
                            mv.needed.push(Needed {
                                name: crate::eval::shared_text(&c.name),
                                share: Some(c.share),
                                files: c.files_complete.then(|| {
                                    c.files
                                        .iter()
                                        .map(|f| NeededFile {
                                            name: crate::eval::shared_text(&f.name),
                                            secret: Some(f.secret),
                                            deploy: Some(f.deploy),
                                            needed_for: Some(f.needed_for),
                                            certain: true,
                                            location: None,
                                        })
                                        .collect()
                                }),
                                validation: Validation::Unknown,
                                source: Source::Service {
                                    instance: crate::eval::shared_text(&inst.name),
                                    role: crate::eval::shared_text(&role.name),
                                    service: crate::eval::shared_text(&view.display),
                                    location: location.clone(),
                                },
                            });
                        }
                    }
                    None => may_get(mv, g, machine, &inst.name, &settings),
                }
            }
            for g in &rs.possible_generators {
                match g.expand(machine, &inst.name, &settings) {
                    Some(list) => mv
                        .maybe
                        .extend(list.into_iter().map(|c| crate::eval::shared_text(&c.name))),
                    None => may_get(mv, g, machine, &inst.name, &settings),
                }
            }
            // The pinned clan-core's own source, when read, says the role exists in this
            // version, whatever the catalog's era boundaries leave uncertain.
            let in_source = clan.clan_core_source.is_some()
                && view
                    .roles
                    .as_ref()
                    .is_some_and(|r| r.contains_key(&role.name));
            if !(rs.certain && spec.roles_complete || in_source) {
                mv.complete = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::{host_from_fixture, with_clan_flake};

    /// Machines that import one module name it with one shared owner name, whether the module
    /// imports something (a key of the index's contexts) or nothing (a defined module).
    #[test]
    fn machines_share_the_owner_names_of_the_modules_they_import() {
        let host = host_from_fixture(&with_clan_flake(
            "#- /modules/m.nix\n{ config, ... }: {\n  flake.modules.nixos.leaf = { };\n  flake.modules.nixos.base.imports = [ config.flake.modules.nixos.leaf ];\n  clan.inventory.machines.web = { };\n  clan.inventory.machines.db = { };\n  clan.machines.web.imports = [ config.flake.modules.nixos.base ];\n  clan.machines.db.imports = [ config.flake.modules.nixos.base ];\n}\n",
        ));
        let analysis = host.snapshot();
        let (db, ws) = (analysis.db_for_tests(), analysis.workspace_for_tests());
        let owners = |m: &str| super::machine_modules(db, ws, m).owners.clone();
        let (web, dbm) = (owners("web"), owners("db"));
        for name in ["flake.modules.nixos.base", "flake.modules.nixos.leaf"] {
            let a = web.iter().find(|o| ***o == *name).expect(name);
            let b = dbm.iter().find(|o| ***o == *name).expect(name);
            assert!(std::sync::Arc::ptr_eq(a, b), "{name}");
        }
    }
}
