//! The resolved clan: the fragments of every flake-parts module merged the way the module
//! system merges them, plus `inventory.json` and `machines/<name>/` directories; tags expanded
//! to machines. Every "complete" flag says whether a check may treat absence as a fact.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::model::*;
use crate::db::{file_by_path, Db, Workspace};
use crate::diagnostic::{Location, TextRange};
use crate::disk::EntryKind;
use crate::flake::{flake_info, module_files};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClanModel {
    /// Some clan configuration was found at all.
    pub present: bool,
    pub machines: BTreeMap<String, Machine>,
    /// Every source of machine names was read: a name not in `machines` is not a machine.
    pub machines_complete: bool,
    /// Every tag membership was read: a tag with no machine has none.
    pub tags_complete: bool,
    pub instances: BTreeMap<String, Instance>,
    pub instances_complete: bool,
    pub local_services: BTreeMap<String, LocalService>,
    pub local_services_complete: bool,
    /// `clan.machines` keys with where each is written.
    pub machine_configs: BTreeMap<String, Vec<Location>>,
    pub machine_configs_complete: bool,
    pub legacy_services: Vec<Location>,
    pub host_platforms: Vec<ModuleLiteral>,
    pub target_hosts: Vec<ModuleLiteral>,
    /// The clan-core input's `lastModified` from `flake.lock`.
    pub clan_core_last_modified: Option<i64>,
    /// `vars.settings.secretStore` as the clan sets it; `Unset` is clan-core's default, sops.
    pub secret_store: Field<String>,
    pub clan_core_input: Option<String>,
    /// The locked clan-core's services read from its source in the store, when it is there:
    /// they win over the catalog ([`super::services::resolve`]).
    pub clan_core_source: Option<Arc<super::source_services::SourceServices>>,
    pub flake_inputs: BTreeSet<String>,
    pub flake_inputs_complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Machine {
    pub name: String,
    /// Where the machine is written: inventory entries first, then `clan.machines`, then
    /// `machines/<name>/configuration.nix` or `inventory.json`.
    pub locations: Vec<Location>,
    /// `None` when it cannot be known.
    pub class: Option<String>,
    /// The `machineClass` literal, when set.
    pub class_location: Option<Location>,
    /// Tags from the machine entry and `inventory.tags` (not the built-ins).
    pub tags: Vec<Named>,
    pub target_host: Option<String>,
    pub build_host: Option<String>,
    pub in_inventory: bool,
    /// Its `machines/<name>` directory, when there is one.
    pub directory: Option<String>,
}

impl Machine {
    /// Where findings about the machine go: the first place a file names it (see
    /// [`Location::flake_nix`] when none does).
    pub fn location(&self) -> Location {
        self.locations
            .first()
            .cloned()
            .unwrap_or_else(Location::flake_nix)
    }
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t.name == tag)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Instance {
    pub name: String,
    pub locations: Vec<Location>,
    pub module_name: Field<String>,
    pub module_input: Field<Option<String>>,
    pub roles: BTreeMap<String, Role>,
    pub roles_known: bool,
}

impl Instance {
    /// `module.name`, defaulting to the instance name.
    pub fn service_name(&self) -> Option<&str> {
        match &self.module_name {
            Field::Known(n, _) => Some(n),
            Field::Unset => Some(&self.name),
            Field::Unknown => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Role {
    pub name: String,
    pub locations: Vec<Location>,
    pub machines: Vec<Member>,
    pub machines_known: bool,
    /// `machines = [ … ]` written as a list.
    pub machine_lists: Vec<(Location, Vec<Named>)>,
    pub tags: Vec<Member>,
    pub tags_known: bool,
    pub settings: Vec<Setting>,
    pub settings_known: bool,
    /// Modules `extraModules` gives every machine of the role; `None` when not knowable.
    pub extra_modules: Option<usize>,
}

/// A machine a role reaches, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub machine: String,
    /// `None`: named in `roles.<r>.machines`; `Some(tag)`: pulled in by that tag.
    pub via_tag: Option<String>,
    pub location: Location,
}

impl ClanModel {
    /// The built-in tags a machine carries.
    pub fn builtin_tags(&self, m: &Machine) -> Vec<&'static str> {
        let mut t = vec!["all"];
        match m.class.as_deref() {
            Some("darwin") => t.push("darwin"),
            Some("nixos") => t.push("nixos"),
            _ => {}
        }
        t
    }

    /// Machines carrying `tag`, or `None` when that cannot be known.
    pub fn tag_members(&self, tag: &str) -> Option<Vec<&Machine>> {
        if !self.machines_complete {
            return None;
        }
        let builtin = matches!(tag, "all" | "nixos" | "darwin");
        if !builtin && !self.tags_complete {
            return None;
        }
        let mut out = Vec::new();
        for m in self.machines.values() {
            let has = match tag {
                "all" => true,
                "nixos" | "darwin" => match m.class.as_deref() {
                    Some(c) => c == tag || m.has_tag(tag),
                    None => return None,
                },
                _ => m.has_tag(tag),
            };
            if has {
                out.push(m);
            }
        }
        Some(out)
    }

    /// Every machine a role reaches (explicit members, then tag members), or `None` when the
    /// list cannot be known.
    pub fn role_assignments(&self, role: &Role) -> Option<Vec<Assignment>> {
        let (out, complete) = self.known_role_assignments(role);
        complete.then_some(out)
    }

    /// The machines a role is known to reach, and whether that is all of them: the members
    /// named explicitly and those of tags whose machines are known stay known when some other
    /// part of the role cannot be read.
    pub fn known_role_assignments(&self, role: &Role) -> (Vec<Assignment>, bool) {
        let mut complete = role.machines_known && role.tags_known;
        let mut out: Vec<Assignment> = role
            .machines
            .iter()
            .map(|m| Assignment {
                machine: m.name.clone(),
                via_tag: None,
                location: m.location.clone(),
            })
            .collect();
        let mut taken: std::collections::HashSet<&str> =
            role.machines.iter().map(|m| m.name.as_str()).collect();
        for t in &role.tags {
            let Some(members) = self.tag_members(&t.name) else {
                complete = false;
                continue;
            };
            for m in members {
                if taken.insert(m.name.as_str()) {
                    out.push(Assignment {
                        machine: m.name.clone(),
                        via_tag: Some(t.name.clone()),
                        location: t.location.clone(),
                    });
                }
            }
        }
        (out, complete)
    }

    /// Every tag name some machine carries (own, `inventory.tags` and built-in).
    pub fn known_tags(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = ["all".to_owned()].into_iter().collect();
        for m in self.machines.values() {
            out.extend(m.tags.iter().map(|t| t.name.clone()));
            out.extend(self.builtin_tags(m).into_iter().map(String::from));
        }
        out
    }
}

#[salsa::tracked(returns(ref))]
pub fn clan_model(db: &dyn Db, ws: Workspace) -> Arc<ClanModel> {
    let files = module_files(db, ws);
    let info = flake_info(db, ws);
    // Without flake-parts there are no module files to miss: the clan comes from `flake.nix`
    // (`clan-core.lib.clan { … }`) alone.
    let complete = !files.incomplete || (info.roots.is_none() && !info.unreadable);
    let mut model = ClanModel {
        machines_complete: complete,
        tags_complete: complete,
        instances_complete: complete,
        local_services_complete: complete,
        machine_configs_complete: complete,
        flake_inputs: info.inputs.keys().cloned().collect(),
        flake_inputs_complete: info.inputs_complete,
        ..Default::default()
    };
    if let Some((name, input)) = info.clan_core_input() {
        model.clan_core_input = Some(name.to_owned());
        model.clan_core_last_modified = input.last_modified;
        model.clan_core_source = super::source_services::clan_core_source(db, ws).clone();
    }
    let mut open = ClanOpen::default();
    let mut class_unknown: BTreeSet<String> = BTreeSet::new();
    let mut tag_lists: Vec<InvTag> = Vec::new();
    let mut dynamic_tags: Vec<Location> = Vec::new();
    // `flake.nix` itself may call `clan-core.lib.clan { … }`.
    for frag in crate::index::clan_parts(db, ws).iter() {
        if **frag != ClanFragment::default() {
            model.present = true;
        }
        open.merge(frag.open);
        for m in &frag.machines {
            let e = model
                .machines
                .entry(m.name.clone())
                .or_insert_with(|| Machine {
                    name: m.name.clone(),
                    ..Default::default()
                });
            e.in_inventory = true;
            e.locations.push(m.location.clone());
            match &m.class {
                Field::Known(c, l) => {
                    e.class = Some(c.clone());
                    e.class_location = Some(l.clone());
                }
                Field::Unknown => {
                    class_unknown.insert(m.name.clone());
                }
                Field::Unset => {}
            }
            match &m.tags {
                Field::Known(ts, _) => e.tags.extend(ts.iter().cloned()),
                Field::Unknown => model.tags_complete = false,
                Field::Unset => {}
            }
            if let Some(h) = m.target_host.known() {
                e.target_host = Some(h.clone());
            }
            if let Some(h) = m.build_host.known() {
                e.build_host = Some(h.clone());
            }
        }
        for c in &frag.machine_configs {
            model
                .machine_configs
                .entry(c.name.clone())
                .or_default()
                .push(c.location.clone());
        }
        tag_lists.extend(frag.tags.iter().cloned());
        dynamic_tags.extend(frag.dynamic_tags.iter().cloned());
        for i in &frag.instances {
            merge_instance(&mut model.instances, i);
        }
        model
            .legacy_services
            .extend(frag.legacy_services.iter().cloned());
        for s in &frag.local_services {
            model.local_services.insert(s.name.clone(), s.clone());
        }
        model
            .host_platforms
            .extend(frag.host_platforms.iter().cloned());
        model.target_hosts.extend(frag.target_hosts.iter().cloned());
        match (&model.secret_store, &frag.secret_store) {
            (_, Field::Unset) | (Field::Unknown, _) => {}
            (_, f) => model.secret_store = f.clone(),
        }
    }
    // The files clan-core loads from `machines/<m>/` set the machine's platform and target
    // like its modules do; which of them a machine loads depends on its class, so the
    // readers filter them (`machine_config::is_loaded`).
    for (_, file) in crate::machine_config::machine_files(db, ws) {
        let frag = &crate::machine_config::machine_file_summary(db, ws, file).clan;
        model
            .host_platforms
            .extend(frag.host_platforms.iter().cloned());
        model.target_hosts.extend(frag.target_hosts.iter().cloned());
    }
    model.machines_complete &= !open.machines && !open.machine_configs;
    model.tags_complete &= !open.tags && !open.machines;
    model.instances_complete &= !open.instances;
    model.local_services_complete &= !open.modules;
    model.machine_configs_complete &= !open.machine_configs;

    // `clan.machines` keys are machines too.
    for (name, locs) in &model.machine_configs {
        let e = model
            .machines
            .entry(name.clone())
            .or_insert_with(|| Machine {
                name: name.clone(),
                ..Default::default()
            });
        e.locations.extend(locs.iter().cloned());
    }
    // So is every directory under `machines/` — and one that could not be listed may be any.
    let disk = ws.disk(db);
    if disk
        .problems_at_or_under("machines")
        .any(|(p, _)| !p["machines".len()..].trim_start_matches('/').contains('/'))
    {
        model.machines_complete = false;
    }
    for (path, kind) in disk.under("machines") {
        let rest = &path["machines/".len()..];
        if rest.contains('/') || !matches!(kind, EntryKind::Dir) {
            continue;
        }
        if !model.machines.contains_key(rest) {
            model.present = true;
        }
        let e = model
            .machines
            .entry(rest.to_owned())
            .or_insert_with(|| Machine {
                name: rest.to_owned(),
                ..Default::default()
            });
        // The directory itself cannot carry a diagnostic: its configuration can.
        let configuration = format!("{path}/configuration.nix");
        if disk.get(&configuration) == Some(&EntryKind::File) {
            e.locations
                .push(Location::new(&configuration, TextRange::default()));
        }
        e.directory = Some(path.to_owned());
    }
    let mut inventory_unknown = false;
    match &crate::jsondata::inventory_json(db, ws).file {
        crate::jsondata::JsonFile::Absent => {}
        crate::jsondata::JsonFile::Unknown => {
            // It may list any machine, with any class and tags, and any instance.
            model.machines_complete = false;
            model.tags_complete = false;
            model.instances_complete = false;
            inventory_unknown = true;
        }
        crate::jsondata::JsonFile::Known(j) => {
            let text = file_by_path(db, ws, crate::jsondata::INVENTORY_FILE)
                .map(|f| f.text(db).clone())
                .unwrap_or_default();
            read_inventory_json(j, &text, &mut model, &mut class_unknown)
        }
    }
    for t in tag_lists {
        match &t.members {
            Field::Known(members, _) => {
                for m in members {
                    if let Some(machine) = model.machines.get_mut(&m.name) {
                        machine.tags.push(Named {
                            name: t.name.clone(),
                            location: t.location.clone(),
                        });
                    }
                }
            }
            _ => model.tags_complete = false,
        }
    }
    // The default class, `nixos`, holds only when nothing unreadable could have set it.
    for (name, m) in model.machines.iter_mut() {
        if class_unknown.contains(name)
            || (m.class.is_none() && (open.machines || inventory_unknown))
        {
            m.class = None;
            m.class_location = None;
        } else if m.class.is_none() {
            m.class = Some("nixos".to_owned());
        }
    }
    if !super::dynamic_tags::apply(db, ws, &mut model, &dynamic_tags) {
        model.tags_complete = false;
    }
    // The model is kept for the session, and a fleet has thousands of machines: each gives
    // back the room its lists grew into, and the map is built again from its sorted entries,
    // which fills every node (inserting in the inventory's order left them a third empty).
    model.machines = std::mem::take(&mut model.machines)
        .into_iter()
        .map(|(name, mut m)| {
            m.locations.shrink_to_fit();
            m.tags.shrink_to_fit();
            (name, m)
        })
        .collect();
    Arc::new(model)
}

fn merge_instance(all: &mut BTreeMap<String, Instance>, i: &InvInstance) {
    let e = all.entry(i.name.clone()).or_insert_with(|| Instance {
        name: i.name.clone(),
        roles_known: true,
        ..Default::default()
    });
    e.locations.push(i.location.clone());
    match (&e.module_name, &i.module_name) {
        (_, Field::Unset) => {}
        (Field::Unknown, _) => {}
        (_, other) => e.module_name = other.clone(),
    }
    match (&e.module_input, &i.module_input) {
        (_, Field::Unset) => {}
        (Field::Unknown, _) => {}
        (_, other) => e.module_input = other.clone(),
    }
    match &i.roles {
        Field::Known(roles, _) => {
            for r in roles {
                let role = e.roles.entry(r.name.clone()).or_insert_with(|| Role {
                    name: r.name.clone(),
                    machines_known: true,
                    tags_known: true,
                    settings_known: true,
                    extra_modules: Some(0),
                    ..Default::default()
                });
                role.locations.push(r.location.clone());
                match &r.machines {
                    Members::Known(ms) => role.machines.extend(ms.iter().cloned()),
                    Members::List(l, names) => {
                        role.machine_lists.push((l.clone(), names.clone()));
                        role.machines_known = false;
                    }
                    Members::Unknown => role.machines_known = false,
                    Members::Unset => {}
                }
                match &r.tags {
                    Members::Known(ts) => role.tags.extend(ts.iter().cloned()),
                    Members::Unknown | Members::List(..) => role.tags_known = false,
                    Members::Unset => {}
                }
                role.settings.extend(r.settings.entries.iter().cloned());
                role.settings_known &= !r.settings.open;
                role.extra_modules = match (&r.extra_modules, role.extra_modules) {
                    (Field::Known(n, _), Some(m)) => Some(m + n),
                    (Field::Unset, m) => m,
                    _ => None,
                };
            }
        }
        Field::Unknown => e.roles_known = false,
        Field::Unset => {}
    }
}

/// `inventory.json`, written by the clan CLI: machines (with class and tags) and more. Its
/// top-level shape was checked by [`crate::jsondata::inventory_json`].
fn read_inventory_json(
    j: &serde_json::Value,
    text: &str,
    model: &mut ClanModel,
    class_unknown: &mut BTreeSet<String>,
) {
    let Some(machines) = j.get("machines").and_then(|m| m.as_object()) else {
        return;
    };
    model.present = true;
    // Each machine is pointed at where its name is written.
    let top = crate::jsondata::object_keys(text, 0);
    let keys = top
        .get("machines")
        .map(|r| crate::jsondata::object_keys(text, r.end as usize))
        .unwrap_or_default();
    let file = crate::jsondata::INVENTORY_FILE;
    for (name, m) in machines {
        let at = Location::new(file, keys.get(name).copied().unwrap_or_default());
        let e = model
            .machines
            .entry(name.clone())
            .or_insert_with(|| Machine {
                name: name.clone(),
                ..Default::default()
            });
        e.locations.push(at.clone());
        match m.get("machineClass") {
            None => {}
            Some(serde_json::Value::String(c)) => {
                e.class = Some(c.clone());
                e.class_location = None;
            }
            Some(_) => {
                class_unknown.insert(name.clone());
            }
        }
        if !m.is_object() {
            // Reported by the data check; what the entry says is unknown.
            class_unknown.insert(name.clone());
            model.tags_complete = false;
            continue;
        }
        // The clan CLI writes the deployment target here too (`clan machines update
        // --target-host`, the UI); the inventory written in Nix wins when both set it.
        let deploy = m.get("deploy");
        for (key, slot) in [
            ("targetHost", &mut e.target_host),
            ("buildHost", &mut e.build_host),
        ] {
            if let Some(serde_json::Value::String(h)) = deploy.and_then(|d| d.get(key)) {
                slot.get_or_insert_with(|| h.clone());
            }
        }
        if m.get("tags").is_some_and(|t| !t.is_array()) {
            model.tags_complete = false;
        }
        if let Some(tags) = m.get("tags").and_then(|t| t.as_array()) {
            for t in tags {
                match t.as_str() {
                    Some(t) => e.tags.push(Named {
                        name: t.to_owned(),
                        location: at.clone(),
                    }),
                    None => model.tags_complete = false,
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clan::model::Member;

    /// A fleet of `n` machines, each named in one role and carrying the role's tag too.
    pub(crate) fn fleet(n: usize) -> (ClanModel, Role) {
        let at = Location::new("modules/clan.nix", TextRange::default());
        let tag = Named {
            name: "peer".into(),
            location: at.clone(),
        };
        let mut model = ClanModel {
            machines_complete: true,
            tags_complete: true,
            ..Default::default()
        };
        let mut role = Role {
            name: "peer".into(),
            machines_known: true,
            tags_known: true,
            tags: vec![Member {
                name: "peer".into(),
                location: at.clone(),
                settings: Default::default(),
            }],
            ..Default::default()
        };
        for i in 0..n {
            let name = format!("m{i}");
            model.machines.insert(
                name.clone(),
                Machine {
                    name: name.clone(),
                    class: Some("nixos".into()),
                    tags: vec![tag.clone()],
                    ..Default::default()
                },
            );
            role.machines.push(Member {
                name,
                location: at.clone(),
                settings: Default::default(),
            });
        }
        (model, role)
    }

    #[test]
    fn expanding_a_role_is_linear_in_its_members() {
        // Looking each tag member up among the named ones by scanning took 2·10^10 string
        // comparisons here; a deadline of a minute only catches that, not speed.
        let (model, role) = fleet(200_000);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(model.role_assignments(&role).map(|a| a.len()));
        });
        let n = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("expanding the role finishes");
        assert_eq!(n, Some(200_000));
    }
}
