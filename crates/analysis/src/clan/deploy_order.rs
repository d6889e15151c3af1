//! The order machines are deployed in: a machine holding a role that other machines of the
//! same instance depend on (the zerotier controller, a wireguard controller, an ncps server)
//! goes before them, in an earlier batch. Which roles go first is a fact of the service, kept
//! in the catalog (`deploy_order`); local services have none, so they order nothing.
//!
//! Each instance's fact is a gate between the machines of the first role and those of the
//! waiting roles (so a role of a thousand machines costs a thousand edges, not a million).
//! A machine's rank is 0 when nothing waits for it, else one more than the highest rank of
//! the machines waiting for it; batches run from the highest rank down. Machines that wait for
//! each other through different instances form a cycle and share a batch.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::catalog::catalog;
use super::resolve::clan_model;
use super::services::{resolve, Origin, Resolution};
use crate::db::{Db, Workspace};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeployOrder {
    /// Batches in the order they run; every clan machine appears in exactly one batch (sorted
    /// by name within a batch).
    pub batches: Vec<Vec<String>>,
    /// For a machine that others wait for: why, as a sentence fragment such as
    /// "holds zerotier/controller, which zerotier/peer (krypton, radon, xenon) waits for".
    pub reasons: BTreeMap<String, Vec<String>>,
    /// For each machine, the machines it waits for (earlier batches).
    pub waits_for: BTreeMap<String, BTreeSet<String>>,
}

/// One fact of one instance: the machines of `first` go before those of `then`.
struct Gate {
    /// `zerotier/controller`, or `zerotier/controller of instance `home``.
    first_role: String,
    first: Vec<usize>,
    /// Each waiting role (named as `first_role`) with its machines.
    then: Vec<(String, Vec<usize>)>,
    why: String,
}

#[salsa::tracked(returns(ref))]
pub fn deploy_order(db: &dyn Db, ws: Workspace) -> Arc<DeployOrder> {
    let clan = clan_model(db, ws);
    let names: Vec<&str> = clan.machines.keys().map(String::as_str).collect();
    let index = |m: &str| names.binary_search(&m).ok();
    let view = catalog().at(clan.clan_core_last_modified);
    let mut gates = Vec::new();
    for inst in clan.instances.values() {
        let Resolution::Service(service) = resolve(clan, inst) else {
            continue;
        };
        if service.origin != Origin::ClanCore {
            continue;
        }
        let Some(spec) = view.service(&service.name) else {
            continue;
        };
        // The machines of a role, when they can all be known (a role whose members cannot be
        // known gives no order rather than a wrong one).
        let members = |role: &str| -> Option<Vec<usize>> {
            let a = clan.role_assignments(inst.roles.get(role)?)?;
            let mut ms: Vec<usize> = a.iter().filter_map(|a| index(&a.machine)).collect();
            ms.sort_unstable();
            ms.dedup();
            Some(ms)
        };
        let named = |role: &str| {
            if inst.name == service.name {
                format!("{}/{role}", service.name)
            } else {
                format!("{}/{role} of instance `{}`", service.name, inst.name)
            }
        };
        for fact in &spec.deploy_order {
            let Some(first) = members(&fact.first) else {
                continue;
            };
            let then: Vec<(String, Vec<usize>)> = fact
                .then
                .iter()
                .filter_map(|r| Some((named(r), members(r)?)))
                .collect();
            if !first.is_empty() && then.iter().any(|(_, ms)| !ms.is_empty()) {
                gates.push(Gate {
                    first_role: named(&fact.first),
                    first,
                    then,
                    why: fact.why.clone(),
                });
            }
        }
    }
    Arc::new(order(&names, &gates))
}

fn order(names: &[&str], gates: &[Gate]) -> DeployOrder {
    let rank = ranks(names.len(), gates);
    let mut by_rank: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        by_rank.entry(rank[i]).or_default().push(name.to_string());
    }
    let mut out = DeployOrder {
        batches: by_rank.into_values().rev().collect(),
        ..Default::default()
    };
    for g in gates {
        for (role, waiting) in &g.then {
            for &f in &g.first {
                // Only machines of later batches wait: one holding both roles, or in a cycle
                // with the first, goes with it.
                let later: Vec<usize> = waiting
                    .iter()
                    .copied()
                    .filter(|&t| rank[t] < rank[f])
                    .collect();
                if later.is_empty() {
                    continue;
                }
                for &t in &later {
                    out.waits_for
                        .entry(names[t].to_owned())
                        .or_default()
                        .insert(names[f].to_owned());
                }
                out.reasons
                    .entry(names[f].to_owned())
                    .or_default()
                    .push(format!(
                        "holds {}, which {role} ({}) waits for: {}",
                        g.first_role,
                        listed(later.iter().map(|&t| names[t])),
                        g.why
                    ));
            }
        }
    }
    out
}

/// At most ten names, then how many more.
fn listed<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    const SHOWN: usize = 10;
    let n = names.len();
    let mut out = names.take(SHOWN).collect::<Vec<_>>().join(", ");
    if n > SHOWN {
        out.push_str(&format!(" and {} more", n - SHOWN));
    }
    out
}

/// Each machine's rank. The graph has a node per machine and one per gate: a first machine
/// points at its gate (weight 0), the gate at each waiting machine (weight 1), and a node's
/// rank is the highest weight plus rank among what it points at. Strongly connected parts
/// (cycles) are one node, whose inner edges count for nothing.
fn ranks(machines: usize, gates: &[Gate]) -> Vec<usize> {
    let nodes = machines + gates.len();
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nodes];
    for (g, gate) in gates.iter().enumerate() {
        let node = machines + g;
        for &f in &gate.first {
            edges[f].push((node, 0));
        }
        for (_, waiting) in &gate.then {
            edges[node].extend(waiting.iter().map(|&t| (t, 1)));
        }
    }
    let (component, count) = components(&edges);
    // Tarjan numbers components so that every edge between two goes from a higher number to
    // a lower one: ranking in increasing order finds every target ranked.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (n, &c) in component.iter().enumerate() {
        members[c].push(n);
    }
    let mut rank = vec![0usize; count];
    for c in 0..count {
        let mut r = 0;
        for &n in &members[c] {
            for &(to, w) in &edges[n] {
                if component[to] != c {
                    r = r.max(w + rank[component[to]]);
                }
            }
        }
        rank[c] = r;
    }
    (0..machines).map(|m| rank[component[m]]).collect()
}

/// Tarjan's strongly connected components, without recursion: each node's component, and how
/// many there are. A component is numbered after every component it reaches.
fn components(edges: &[Vec<(usize, usize)>]) -> (Vec<usize>, usize) {
    const NONE: usize = usize::MAX;
    let n = edges.len();
    let mut index = vec![NONE; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![NONE; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut count = 0;
    for root in 0..n {
        if index[root] != NONE {
            continue;
        }
        // (node, next edge to look at)
        let mut work = vec![(root, 0usize)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut e)) = work.last_mut() {
            if let Some(&(w, _)) = edges[v].get(*e) {
                *e += 1;
                if index[w] == NONE {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = count;
                    if w == v {
                        break;
                    }
                }
                count += 1;
            }
        }
    }
    (component, count)
}

#[cfg(test)]
mod tests {
    use super::DeployOrder;
    use crate::tests::host_from_fixture;

    fn order_of(fixture: &str) -> DeployOrder {
        host_from_fixture(fixture)
            .snapshot()
            .deploy_order()
            .expect("not cancelled")
    }

    /// A clan of the given inventory instances (Nix attribute set bodies) and machines.
    fn clan(machines: &[&str], instances: &str) -> String {
        let machines: String = machines.iter().map(|m| format!("{m} = {{ }}; ")).collect();
        format!(
            r#"#- /flake.nix
{{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = inputs@{{ flake-parts, ... }}:
    flake-parts.lib.mkFlake {{ inherit inputs; }} (inputs.import-tree ./modules);
}}
#- /modules/clan.nix
{{ inputs, ... }}: {{
  clan.inventory.machines = {{ {machines}}};
  clan.inventory.instances = {{ {instances} }};
}}
"#
        )
    }

    fn batches(o: &DeployOrder) -> Vec<Vec<&str>> {
        o.batches
            .iter()
            .map(|b| b.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn the_fleet_deploys_its_zerotier_controller_first() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet");
        let loaded = crate::load(&root).expect("examples/fleet loads");
        let o = loaded
            .host
            .snapshot()
            .deploy_order()
            .expect("not cancelled");
        assert_eq!(
            batches(&o),
            vec![
                vec!["argon"],
                vec!["bismuth", "cobalt", "gallium", "indium", "krypton", "radon", "xenon"]
            ]
        );
        let reasons = &o.reasons["argon"];
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(
            reasons[0].starts_with("holds zerotier/controller, which zerotier/peer (")
                && reasons[0].contains("waits for: "),
            "{reasons:?}"
        );
        let peers: Vec<&String> = o.waits_for.keys().collect();
        assert!(!peers.is_empty() && !o.waits_for.contains_key("argon"));
        assert!(o
            .waits_for
            .values()
            .all(|w| w.len() == 1 && w.contains("argon")));
    }

    #[test]
    fn servers_go_before_their_clients_and_controllers_before_peers() {
        let o = order_of(&clan(
            &["cache", "gw", "laptop", "desk"],
            r#"ncps = { roles.server.machines.cache = { }; roles.client.machines = { laptop = { }; gw = { }; }; };
               wg = { module.name = "wireguard"; roles.controller.machines.gw = { }; roles.peer.machines.desk = { }; roles.peer.machines.laptop = { }; };"#,
        ));
        // gw is a client of cache and a controller for desk and laptop.
        assert_eq!(
            batches(&o),
            vec![vec!["cache"], vec!["gw"], vec!["desk", "laptop"]]
        );
        assert_eq!(
            o.reasons["gw"],
            vec!["holds wireguard/controller of instance `wg`, which wireguard/peer of instance `wg` (desk, laptop) waits for: peers connect to every controller and route through them, with addresses in the subnet each controller allocates"]
        );
        assert_eq!(
            o.waits_for["laptop"].iter().collect::<Vec<_>>(),
            vec!["cache", "gw"]
        );
    }

    #[test]
    fn services_without_order_give_one_batch() {
        let o = order_of(&clan(
            &["a", "b"],
            r#"admin = { roles.default.tags.all = { }; };"#,
        ));
        assert_eq!(batches(&o), vec![vec!["a", "b"]]);
        assert!(o.reasons.is_empty() && o.waits_for.is_empty());
        // No clan at all: no machine, no batch.
        assert_eq!(
            order_of("#- /flake.nix\n{ outputs = _: { }; }\n")
                .batches
                .len(),
            0
        );
    }

    #[test]
    fn roles_whose_members_cannot_be_known_give_no_order() {
        let o = order_of(&clan(
            &["a", "b"],
            r#"zerotier = { roles.controller.machines.a = { }; roles.peer.machines = inputs.other.peers; };"#,
        ));
        assert_eq!(batches(&o), vec![vec!["a", "b"]]);
    }

    #[test]
    fn a_machine_holding_both_roles_does_not_wait_for_itself() {
        let o = order_of(&clan(
            &["a", "b"],
            r#"zerotier = { roles.controller.machines.a = { }; roles.peer.machines = { a = { }; b = { }; }; };"#,
        ));
        assert_eq!(batches(&o), vec![vec!["a"], vec!["b"]]);
        assert!(!o.waits_for.contains_key("a"));
    }

    #[test]
    fn machines_waiting_for_each_other_share_a_batch() {
        // a controls z1 where b is a peer; b controls z2 where a is a peer; c is a peer of both.
        let o = order_of(&clan(
            &["a", "b", "c"],
            r#"z1 = { module.name = "zerotier"; roles.controller.machines.a = { }; roles.peer.machines = { b = { }; c = { }; }; };
               z2 = { module.name = "zerotier"; roles.controller.machines.b = { }; roles.peer.machines = { a = { }; c = { }; }; };"#,
        ));
        assert_eq!(batches(&o), vec![vec!["a", "b"], vec!["c"]]);
        assert!(!o.waits_for.contains_key("a") && !o.waits_for.contains_key("b"));
        assert_eq!(o.waits_for["c"].len(), 2);
    }

    #[test]
    fn a_long_chain_is_ranked_without_recursion() {
        // m0 serves m1, m1 serves m2, …: one batch each, and no stack overflow on the way.
        let n = 3000;
        let names: Vec<String> = (0..n).map(|i| format!("m{i:05}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let instances: String = (1..n)
            .map(|i| {
                format!(
                    "c{i} = {{ module.name = \"ncps\"; roles.server.machines.{} = {{ }}; roles.client.machines.{} = {{ }}; }}; ",
                    names[i - 1], names[i]
                )
            })
            .collect();
        let o = order_of(&clan(&refs, &instances));
        assert_eq!(o.batches.len(), n);
        assert_eq!(o.batches[0], vec![names[0].clone()]);
    }
}
