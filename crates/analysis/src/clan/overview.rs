//! The fleet at a glance, for `infra-check machines` and `infra-check graph`: each machine with
//! its class, platform, tags, roles and target, and each instance with its role members.

use crate::clan::resolve::{clan_model, ClanModel};
use crate::clan::services::{resolve, Resolution};
use crate::db::{Db, Workspace};
use crate::diagnostic::Location;
use crate::index::module_index;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub machines: Vec<MachineInfo>,
    pub instances: Vec<InstanceInfo>,
    /// `machines` is every machine of the clan (the inventory and `clan.machines` could be
    /// read in full), so a name not among them is not a machine.
    pub machines_complete: bool,
    /// Every machine's `tags` is complete.
    pub tags_complete: bool,
    /// The flake has a clan-core input (or its inputs cannot all be read): `clan` can deploy
    /// its machines. Without one, `machines/<name>/` directories are only directories.
    pub clan_core: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineInfo {
    pub name: String,
    /// `nixos` or `darwin`; `None` when it cannot be known.
    pub class: Option<String>,
    /// `nixpkgs.hostPlatform` when a module of the machine sets it literally.
    pub system: Option<String>,
    /// Own tags, `inventory.tags` and the built-ins, sorted.
    pub tags: Vec<String>,
    pub roles: Vec<RoleRef>,
    /// `roles` is every role the machine holds. False when some role's members (or some
    /// instance's roles) cannot be read and the machine is not already listed in it.
    pub roles_complete: bool,
    pub target_host: Option<String>,
    pub build_host: Option<String>,
    /// Deferred modules the machine's configuration imports, directly or through other
    /// modules, as `class.name`.
    pub modules: Vec<String>,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RoleRef {
    pub instance: String,
    /// `module.name`, when known.
    pub service: Option<String>,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    pub name: String,
    pub service: Option<String>,
    /// Each role with the machines it is known to reach.
    pub roles: Vec<RoleMembers>,
    /// `roles` is every role of the instance (they could all be read).
    pub roles_complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMembers {
    pub role: String,
    pub machines: Vec<String>,
    /// `machines` is all of them; false when some member or tag could not be read.
    pub complete: bool,
}

pub fn overview(db: &dyn Db, ws: Workspace) -> Overview {
    let model: &ClanModel = clan_model(db, ws);
    let idx = module_index(db, ws);
    let mut instances = Vec::new();
    let mut roles_of: std::collections::BTreeMap<&str, Vec<RoleRef>> = Default::default();
    // Some instance may have roles that could not be read: any machine may hold them.
    let mut roles_unknown = !model.instances_complete;
    // The known members of each role whose members are not all known: a machine not among
    // them may still hold it.
    let mut partial_roles: Vec<std::collections::HashSet<String>> = Vec::new();
    for inst in model.instances.values() {
        let service = match resolve(model, inst) {
            Resolution::Service(v) => Some(v.name),
            _ => inst.service_name().map(String::from),
        };
        roles_unknown |= !inst.roles_known;
        let mut roles = Vec::new();
        for role in inst.roles.values() {
            let (assignments, complete) = model.known_role_assignments(role);
            let members: Vec<String> = assignments.into_iter().map(|a| a.machine).collect();
            if !complete {
                partial_roles.push(members.iter().cloned().collect());
            }
            for m in &members {
                if let Some(machine) = model.machines.get_key_value(m.as_str()) {
                    roles_of
                        .entry(machine.0.as_str())
                        .or_default()
                        .push(RoleRef {
                            instance: inst.name.clone(),
                            service: service.clone(),
                            role: role.name.clone(),
                        });
                }
            }
            roles.push(RoleMembers {
                role: role.name.clone(),
                machines: members,
                complete,
            });
        }
        instances.push(InstanceInfo {
            name: inst.name.clone(),
            service,
            roles,
            roles_complete: inst.roles_known,
        });
    }
    let mut machines = Vec::new();
    for m in model.machines.values() {
        let mut tags: Vec<String> = m.tags.iter().map(|t| t.name.clone()).collect();
        tags.extend(model.builtin_tags(m).into_iter().map(String::from));
        tags.sort();
        tags.dedup();
        // Every deferred module the machine reaches, following the imports of imports.
        let owners = crate::vars::resolve::machine_owners(idx, &m.name);
        let mut modules: Vec<String> = owners
            .iter()
            .filter_map(|o| o.strip_prefix("flake.modules."))
            .map(String::from)
            .collect();
        modules.sort();
        let own = |h: &&crate::clan::model::ModuleLiteral| {
            owners.contains(&h.owner)
                || crate::machine_config::is_loaded(&h.owner, m.class.as_deref()) == Some(&m.name)
        };
        let system = model
            .host_platforms
            .iter()
            .find(own)
            .map(|h| h.value.clone());
        // Darwin machines set their target in a module, not in the inventory.
        let module_target = model.target_hosts.iter().find(own).map(|h| h.value.clone());
        let mut roles = roles_of.remove(m.name.as_str()).unwrap_or_default();
        roles.sort();
        let roles_complete = !roles_unknown && partial_roles.iter().all(|r| r.contains(&m.name));
        machines.push(MachineInfo {
            name: m.name.clone(),
            class: m.class.clone(),
            system,
            tags,
            roles,
            roles_complete,
            target_host: m.target_host.clone().or(module_target),
            build_host: m.build_host.clone(),
            modules,
            location: m.location(),
        });
    }
    Overview {
        machines,
        instances,
        machines_complete: model.machines_complete,
        tags_complete: model.tags_complete,
        clan_core: model.clan_core_input.is_some() || !model.flake_inputs_complete,
    }
}
