//! The service roles each machine holds, expanded once for the whole clan (tags make the
//! expansion the expensive part) so that what is computed per machine looks its roles up
//! instead of scanning every role.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::clan::catalog::{catalog, ServiceSpec};
use crate::clan::resolve::{clan_model, ClanModel, Instance, Role};
use crate::clan::services::{resolve, Origin, Resolution};
use crate::db::{Db, Workspace};

/// A machine of a workspace, as the key of the queries computed per machine (one interned
/// name shared by all of them).
#[salsa::interned(debug)]
pub struct MachineKey<'db> {
    pub ws: Workspace,
    #[returns(ref)]
    pub name: String,
}

/// The key of machine `name` of `ws`.
pub fn machine_key<'db>(db: &'db dyn Db, ws: Workspace, name: &str) -> MachineKey<'db> {
    MachineKey::new(db, ws, name)
}

/// One role a machine holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRole {
    pub instance: String,
    pub role: String,
    /// The machine's own entries in `roles.<r>.machines`, in order (indices into
    /// [`Role::machines`]).
    pub entries: Vec<usize>,
}

impl HeldRole {
    /// The instance and role in the clan model the roles were read from.
    pub fn resolve<'a>(&self, clan: &'a ClanModel) -> Option<(&'a Instance, &'a Role)> {
        let inst = clan.instances.get(&self.instance)?;
        Some((inst, inst.roles.get(&self.role)?))
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct HeldRoles {
    /// Some instance or role's machines cannot be known: any machine may hold more roles.
    pub unknown: bool,
    /// Machine → the roles it holds, in instance and role order, each once.
    pub by_machine: FxHashMap<String, Vec<HeldRole>>,
}

impl HeldRoles {
    pub fn of(&self, machine: &str) -> &[HeldRole] {
        self.by_machine.get(machine).map_or(&[], Vec::as_slice)
    }
}

/// What an instance's `module` resolves to, with the catalog's description of the service when
/// it is clan-core's, worked out once for all the machines holding the instance's roles.
pub struct InstanceService {
    pub resolution: Resolution,
    pub spec: Option<ServiceSpec>,
}

/// [`InstanceService`] of every instance, by name. (Not compared when recomputed: it changes
/// only with the clan model, which everything reading it reads too.)
#[salsa::tracked(returns(ref), no_eq)]
pub fn instance_services(db: &dyn Db, ws: Workspace) -> Arc<FxHashMap<String, InstanceService>> {
    let clan = clan_model(db, ws);
    let cat = catalog().at(clan.clan_core_last_modified);
    let services = clan
        .instances
        .iter()
        .map(|(name, inst)| {
            let resolution = resolve(clan, inst);
            let spec = match &resolution {
                Resolution::Service(v) if v.origin == Origin::ClanCore => cat.service(&v.name),
                _ => None,
            };
            (name.clone(), InstanceService { resolution, spec })
        })
        .collect();
    Arc::new(services)
}

#[salsa::tracked(returns(ref))]
pub fn held_roles(db: &dyn Db, ws: Workspace) -> Arc<HeldRoles> {
    Arc::new(held_in(clan_model(db, ws)))
}

fn held_in(clan: &ClanModel) -> HeldRoles {
    let mut out = HeldRoles {
        unknown: !clan.instances_complete,
        ..Default::default()
    };
    for inst in clan.instances.values() {
        out.unknown |= !inst.roles_known;
        for role in inst.roles.values() {
            let Some(members) = clan.role_assignments(role) else {
                // A role whose members cannot be known may include any machine.
                out.unknown = true;
                continue;
            };
            let mut entries: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
            for (i, m) in role.machines.iter().enumerate() {
                entries.entry(m.name.as_str()).or_default().push(i);
            }
            for a in members {
                let entries = entries.get(a.machine.as_str()).cloned().unwrap_or_default();
                let held = out.by_machine.entry(a.machine).or_default();
                // A machine named twice in `roles.<r>.machines` holds the role once.
                if held
                    .last()
                    .is_some_and(|h| h.instance == inst.name && h.role == role.name)
                {
                    continue;
                }
                held.push(HeldRole {
                    instance: inst.name.clone(),
                    role: role.name.clone(),
                    entries,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_s_entries_cost_a_lookup_not_a_scan() {
        // Finding each machine's own entries by scanning the role took 2·10^10 comparisons
        // here; the deadline only catches that.
        let (mut model, mut role) = crate::clan::resolve::tests::fleet(200_000);
        model.instances_complete = true;
        // m7 is named a second time, at the end.
        let again = role.machines.len();
        let m7 = role
            .machines
            .iter()
            .find(|m| m.name == "m7")
            .unwrap()
            .clone();
        role.machines.push(m7);
        let mut inst = Instance {
            name: "mesh".into(),
            roles_known: true,
            ..Default::default()
        };
        inst.roles.insert(role.name.clone(), role);
        model.instances.insert(inst.name.clone(), inst);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(held_in(&model));
        });
        let held = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("expanding the roles finishes");
        assert!(!held.unknown);
        assert_eq!(held.by_machine.len(), 200_000);
        let m7 = held.of("m7");
        assert_eq!(
            m7.len(),
            1,
            "named twice and tagged, the machine holds the role once"
        );
        assert_eq!(
            (m7[0].instance.as_str(), m7[0].role.as_str()),
            ("mesh", "peer")
        );
        assert_eq!(m7[0].entries, vec![7, again]);
        assert!(held.of("m200000").is_empty());
    }
}
