//! `machine/invalid-name`, `machine/no-configuration`, `machine/unregistered` and
//! `platform/host-platform-mismatch`.

use crate::clan::resolve::{clan_model, ClanModel};
use crate::db::{Db, Workspace};
use crate::diagnostic::Diagnostic;
use crate::index::module_index;
use crate::summary::ContextClass;

/// The machines a role may give configuration of its own: those holding a role with
/// `extraModules` (or ones infra-check cannot read). `None` when that is every machine: a role
/// whose members cannot be known may hold any.
fn configured_by_roles(model: &ClanModel) -> Option<std::collections::HashSet<String>> {
    if !model.instances_complete {
        return None;
    }
    let mut out = std::collections::HashSet::new();
    for i in model.instances.values() {
        if !i.roles_known {
            return None;
        }
        for r in i.roles.values() {
            match model.role_assignments(r) {
                None => return None,
                Some(a) if r.extra_modules != Some(0) => {
                    out.extend(a.into_iter().map(|a| a.machine))
                }
                Some(_) => {}
            }
        }
    }
    Some(out)
}

pub(super) fn check(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    let model = clan_model(db, ws);
    let idx = module_index(db, ws);
    let disk = ws.disk(db);
    let mut out = Vec::new();
    let by_roles = configured_by_roles(model);
    for m in model.machines.values() {
        let loc = m.location();
        if !crate::clan::model::valid_machine_name(&m.name) {
            out.push(Diagnostic::new(
                "machine/invalid-name",
                &loc.file,
                loc.range,
                format!(
                    "`{}` is not a valid clan machine name: clan accepts letters, digits and inner hyphens (`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`), at most 63 characters.",
                    m.name
                ),
            ).for_machines([m.name.as_str()]));
        }
        // clan-core imports these files of the machine's directory when they exist.
        let files = crate::machine_config::loaded_names(m.class.as_deref());
        let has_config = model.machine_configs.contains_key(&m.name)
            || files
                .iter()
                .any(|f| disk.exists(&format!("machines/{}/{f}", m.name)))
            || by_roles.as_ref().is_none_or(|s| s.contains(&m.name));
        if m.in_inventory && !has_config && model.machine_configs_complete && model.present {
            out.push(Diagnostic::new(
                "machine/no-configuration",
                &loc.file,
                loc.range,
                format!(
                    "Machine `{}` is in the inventory but has no configuration: no `clan.machines.{}` entry and no `machines/{}/configuration.nix`. Register its module with `clan.machines.{}.imports = [ … ];`.",
                    m.name,
                    crate::summary::attr_display(&m.name),
                    m.name,
                    crate::summary::attr_display(&m.name)
                ),
            ).for_machines([m.name.as_str()]));
        }
    }
    // Machine modules (`machines/<class>/<name>`) that no `clan.machines` entry imports.
    if model.machine_configs_complete && model.present {
        let in_machines: std::collections::HashSet<(&str, &str)> = idx
            .contexts
            .iter()
            .filter(|c| matches!(c.class, ContextClass::Machine(_)))
            .flat_map(|c| c.items.iter())
            .filter_map(|i| Some((&*i.class, i.name.as_deref()?)))
            .collect();
        let any_name_unknown: std::collections::HashSet<&str> = idx
            .references
            .iter()
            .filter(|r| r.name.is_none())
            .map(|r| &*r.class)
            .collect();
        for ((class, name), defs) in &idx.definitions {
            let Some(machine) = machine_module_name(class, name) else {
                continue;
            };
            let used_by_machine = in_machines.contains(&(class.as_str(), name.as_str()));
            // Referenced by a name we cannot read: it may be registered.
            if used_by_machine
                || idx.escaped.contains(class)
                || idx.all_escaped
                || any_name_unknown.contains(class.as_str())
            {
                continue;
            }
            out.push(Diagnostic::new(
                "machine/unregistered",
                &defs[0].file,
                defs[0].range,
                format!(
                    "The machine module `flake.modules.{class}.\"{name}\"` is not used by any `clan.machines` entry, so machine `{machine}` never gets it. Register it with `clan.machines.{}.imports = [ config.flake.modules.{class}.\"{name}\" ];`.",
                    crate::summary::attr_display(machine)
                ),
            ).for_machines([machine]));
        }
    }
    for hp in &model.host_platforms {
        let class = match &hp.context {
            ContextClass::Known(c) => Some(c.clone()),
            ContextClass::Machine(m) => model.machines.get(m).and_then(|m| m.class.clone()),
            // A role's machines may be of either class.
            ContextClass::Role(_) => None,
        };
        let Some(class) = class else { continue };
        if let ContextClass::Machine(m) = &hp.context {
            if !crate::machine_config::applies_to(&hp.owner, m, Some(&class)) {
                continue;
            }
        }
        let os = if hp.value.ends_with("-darwin") {
            "darwin"
        } else if hp.value.ends_with("-linux") {
            "nixos"
        } else {
            continue;
        };
        if (class == "nixos" || class == "darwin") && class != os {
            let whose = match &hp.context {
                ContextClass::Machine(m) => format!("machine `{m}`"),
                ContextClass::Known(_) | ContextClass::Role(_) => format!(
                    "this {} module",
                    if class == "darwin" {
                        "nix-darwin"
                    } else {
                        "NixOS"
                    }
                ),
            };
            // In a machine's own module, that machine; in a deferred module, the machines the
            // module reaches (decided by where it is).
            let machine = match &hp.context {
                ContextClass::Machine(m) => Some(m.as_str()),
                ContextClass::Known(_) | ContextClass::Role(_) => None,
            };
            out.push(Diagnostic::new(
                "platform/host-platform-mismatch",
                &hp.location.file,
                hp.location.range,
                format!(
                    "`nixpkgs.hostPlatform = \"{}\"` is a {} platform, but {whose} is evaluated as {}; use {}.",
                    hp.value,
                    if os == "darwin" { "Darwin" } else { "Linux" },
                    if class == "darwin" { "nix-darwin (machineClass \"darwin\")" } else { "NixOS" },
                    if class == "darwin" { "\"aarch64-darwin\" or \"x86_64-darwin\"" } else { "\"x86_64-linux\" or \"aarch64-linux\"" }
                ),
            ).affecting(machine.map(|m| crate::attribution::Affects::Machines([m.to_owned()].into()))));
        }
    }
    out
}

/// `machines/<class>/<name>` → `<name>`, the seed repository's naming of machine modules.
fn machine_module_name<'a>(class: &str, name: &'a str) -> Option<&'a str> {
    let rest = name.strip_prefix("machines/")?;
    let (c, m) = rest.split_once('/')?;
    (c == class && !m.is_empty() && !m.contains('/')).then_some(m)
}
