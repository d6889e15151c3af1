//! `infra-check graph`: the fleet as a diagram. Machines grouped by class, service instances
//! with an edge to every machine holding one of their roles (labelled with the roles), and the
//! deferred modules each machine imports. Written as a Mermaid flowchart (for Markdown, such as
//! a GitHub ```` ```mermaid ```` block) or as a Graphviz digraph (for `dot -Tsvg`).
//!
//! - Node ids contain only `[A-Za-z0-9_]` and are unique: `m_` machines, `i_` instances, `mod_`
//!   deferred modules, `q_` the unknown members of an instance, `u_` names used as role
//!   members that are not machines of the clan. Each run of characters outside that set becomes
//!   one `_` (none at the end), and a numeric suffix keeps ids apart that would otherwise be
//!   equal.
//! - A role whose members cannot all be known statically gets a dashed edge to the instance's
//!   `?` node (besides its edges to the members that are known); so does an instance whose
//!   roles cannot all be read (labelled `other roles`).
//! - Every node and edge is written in a stable order (machines, instances and modules sorted
//!   by name), so the output diffs well.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::process::ExitCode;

use infra_check_analysis::clan::overview::Overview;

use crate::error::CliError;
use crate::{GraphArgs, GraphFormat};

pub fn run(args: &GraphArgs) -> Result<ExitCode, CliError> {
    let fleet = crate::overview::load(&args.path)?;
    let graph = Graph::of(&fleet.overview);
    let text = match args.format {
        GraphFormat::Mermaid => render_mermaid(&graph),
        GraphFormat::Dot => render_dot(&graph),
    };
    crate::overview::finish(&text, &fleet.unreadable)
}

/// What a node stands for; decides its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Machine,
    Instance,
    Module,
    /// The unknown members of an instance's roles.
    Unknown,
    /// A role member that is not a machine of the clan.
    Stray,
}

#[derive(Debug)]
struct Node {
    id: String,
    /// Label lines, unescaped.
    lines: Vec<String>,
    kind: Kind,
}

#[derive(Debug)]
struct Cluster {
    id: String,
    title: String,
    nodes: Vec<Node>,
}

#[derive(Debug)]
struct Edge {
    from: String,
    to: String,
    label: Option<String>,
    dashed: bool,
}

/// The diagram, independent of the output format.
#[derive(Debug)]
struct Graph {
    /// One per machine class: NixOS, darwin, any other class, unknown class; none empty.
    classes: Vec<Cluster>,
    /// Instances, their `?` nodes and stray members, outside any cluster.
    loose: Vec<Node>,
    /// The deferred modules machines import; `None` when no machine imports any.
    modules: Option<Cluster>,
    edges: Vec<Edge>,
}

/// Hands out sanitized ids, never the same one twice.
#[derive(Default)]
struct Ids {
    used: HashSet<String>,
}

impl Ids {
    fn fresh(&mut self, prefix: &str, name: &str) -> String {
        // A run of other characters becomes one `_`, dropped at the end: `nixos."a/b"` is
        // `nixos_a_b`.
        let mut base = String::from(prefix);
        let mut replaced = false;
        for c in name.chars() {
            if c.is_ascii_alphanumeric() || c == '_' {
                base.push(c);
                replaced = false;
            } else if !replaced {
                base.push('_');
                replaced = true;
            }
        }
        if replaced {
            base.pop();
        }
        let mut id = base.clone();
        let mut n = 2;
        while !self.used.insert(id.clone()) {
            id = format!("{base}_{n}");
            n += 1;
        }
        id
    }
}

impl Graph {
    fn of(overview: &Overview) -> Graph {
        let mut ids = Ids::default();

        let mut machines: Vec<_> = overview.machines.iter().collect();
        machines.sort_by(|a, b| a.name.cmp(&b.name));
        let mut machine_ids: BTreeMap<&str, String> = BTreeMap::new();
        // (order, title, key) of each class, then its machines.
        let mut by_class: BTreeMap<(u8, String), Vec<Node>> = BTreeMap::new();
        for m in &machines {
            let id = ids.fresh("m_", &m.name);
            machine_ids.insert(&m.name, id.clone());
            let key = match m.class.as_deref() {
                Some("nixos") => (0, "nixos".to_owned()),
                Some("darwin") => (1, "darwin".to_owned()),
                Some(other) => (2, other.to_owned()),
                None => (3, String::new()),
            };
            by_class.entry(key).or_default().push(Node {
                id,
                lines: vec![
                    m.name.clone(),
                    m.system.clone().unwrap_or_else(|| "?".into()),
                ],
                kind: Kind::Machine,
            });
        }
        let classes = by_class
            .into_iter()
            .map(|((order, class), nodes)| {
                let (id, title) = match order {
                    0 => (ids.fresh("class_", "nixos"), "NixOS machines".to_owned()),
                    1 => (ids.fresh("class_", "darwin"), "darwin machines".to_owned()),
                    2 => (ids.fresh("class_", &class), format!("{class} machines")),
                    _ => (ids.fresh("class_", "unknown"), "unknown class".to_owned()),
                };
                Cluster { id, title, nodes }
            })
            .collect();

        let mut instances: Vec<_> = overview.instances.iter().collect();
        instances.sort_by(|a, b| a.name.cmp(&b.name));
        let mut loose = Vec::new();
        let mut edges = Vec::new();
        let mut stray_ids: BTreeMap<String, String> = BTreeMap::new();
        let mut stray_nodes = Vec::new();
        for inst in instances {
            let id = ids.fresh("i_", &inst.name);
            loose.push(Node {
                id: id.clone(),
                lines: vec![format!(
                    "{} ({})",
                    inst.name,
                    inst.service.as_deref().unwrap_or("?")
                )],
                kind: Kind::Instance,
            });
            // Machine -> the roles it holds in this instance; roles with unknown members.
            let mut held: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            let mut unknown: Vec<&str> = Vec::new();
            for r in &inst.roles {
                for m in &r.machines {
                    let roles = held.entry(m).or_default();
                    if !roles.contains(&r.role.as_str()) {
                        roles.push(&r.role);
                    }
                }
                if !r.complete {
                    unknown.push(&r.role);
                }
            }
            if !inst.roles_complete {
                unknown.push("other roles");
            }
            for (machine, roles) in held {
                let to = match machine_ids.get(machine) {
                    Some(to) => to.clone(),
                    None => stray_ids
                        .entry(machine.to_owned())
                        .or_insert_with(|| {
                            let id = ids.fresh("u_", machine);
                            stray_nodes.push(Node {
                                id: id.clone(),
                                lines: vec![format!("{machine} (unknown machine)")],
                                kind: Kind::Stray,
                            });
                            id
                        })
                        .clone(),
                };
                edges.push(Edge {
                    from: id.clone(),
                    to,
                    label: Some(roles.join(", ")),
                    dashed: false,
                });
            }
            if !unknown.is_empty() {
                let q = ids.fresh("q_", &inst.name);
                loose.push(Node {
                    id: q.clone(),
                    lines: vec!["?".into()],
                    kind: Kind::Unknown,
                });
                edges.push(Edge {
                    from: id,
                    to: q,
                    label: Some(unknown.join(", ")),
                    dashed: true,
                });
            }
        }
        loose.extend(stray_nodes);

        let all_modules: BTreeSet<&str> = machines
            .iter()
            .flat_map(|m| m.modules.iter().map(String::as_str))
            .collect();
        let mut module_ids: BTreeMap<&str, String> = BTreeMap::new();
        let mut module_nodes = Vec::new();
        for module in all_modules {
            let id = ids.fresh("mod_", module);
            module_ids.insert(module, id.clone());
            module_nodes.push(Node {
                id,
                lines: vec![module.to_owned()],
                kind: Kind::Module,
            });
        }
        for m in &machines {
            let from = &machine_ids[m.name.as_str()];
            let mut seen = BTreeSet::new();
            for module in &m.modules {
                if seen.insert(module.as_str()) {
                    edges.push(Edge {
                        from: from.clone(),
                        to: module_ids[module.as_str()].clone(),
                        label: None,
                        dashed: false,
                    });
                }
            }
        }
        let modules = (!module_nodes.is_empty()).then(|| Cluster {
            id: ids.fresh("", "modules"),
            title: "deferred modules".into(),
            nodes: module_nodes,
        });

        Graph {
            classes,
            loose,
            modules,
            edges,
        }
    }
}

/// A Mermaid `flowchart LR`, ending with a newline.
fn render_mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    let node = |out: &mut String, indent: &str, n: &Node| {
        let label = n
            .lines
            .iter()
            .map(|l| mermaid_escape(l))
            .collect::<Vec<_>>()
            .join("<br/>");
        let (open, close) = match n.kind {
            Kind::Machine => ("[", "]"),
            Kind::Instance => ("([", "])"),
            Kind::Module => ("[[", "]]"),
            Kind::Unknown => ("((", "))"),
            Kind::Stray => ("{{", "}}"),
        };
        let _ = writeln!(out, "{indent}{}{open}\"{label}\"{close}", n.id);
    };
    let clusters = graph.classes.iter().chain(graph.modules.as_ref());
    for c in clusters {
        let _ = writeln!(out, "  subgraph {}[\"{}\"]", c.id, mermaid_escape(&c.title));
        for n in &c.nodes {
            node(&mut out, "    ", n);
        }
        out.push_str("  end\n");
    }
    for n in &graph.loose {
        node(&mut out, "  ", n);
    }
    for e in &graph.edges {
        let arrow = if e.dashed { "-.->" } else { "-->" };
        match &e.label {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "  {} {arrow}|\"{}\"| {}",
                    e.from,
                    mermaid_escape(l),
                    e.to
                );
            }
            None => {
                let _ = writeln!(out, "  {} {arrow} {}", e.from, e.to);
            }
        }
    }
    out
}

/// Text for inside a double-quoted Mermaid label. Mermaid decodes `#name;` and `#123;` entity
/// codes in labels and renders them as HTML, so `"`, `#`, `&`, `<`, `>` and backticks are
/// written as entity codes; line breaks become spaces.
fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Graphviz `digraph fleet`, ending with a newline.
fn render_dot(graph: &Graph) -> String {
    let mut out = String::from("digraph fleet {\n  rankdir=LR;\n  node [shape=box];\n");
    let node = |out: &mut String, indent: &str, n: &Node| {
        let label = n
            .lines
            .iter()
            .map(|l| dot_escape(l))
            .collect::<Vec<_>>()
            .join("\\n");
        let shape = match n.kind {
            Kind::Machine => "",
            Kind::Instance => ", shape=ellipse",
            Kind::Module => ", shape=note",
            Kind::Unknown => ", shape=circle",
            Kind::Stray => ", shape=hexagon",
        };
        let _ = writeln!(out, "{indent}{} [label=\"{label}\"{shape}];", n.id);
    };
    let clusters = graph.classes.iter().chain(graph.modules.as_ref());
    for c in clusters {
        let _ = writeln!(out, "  subgraph cluster_{} {{", c.id);
        let _ = writeln!(out, "    label=\"{}\";", dot_escape(&c.title));
        for n in &c.nodes {
            node(&mut out, "    ", n);
        }
        out.push_str("  }\n");
    }
    for n in &graph.loose {
        node(&mut out, "  ", n);
    }
    for e in &graph.edges {
        let mut attrs = Vec::new();
        if let Some(l) = &e.label {
            attrs.push(format!("label=\"{}\"", dot_escape(l)));
        }
        if e.dashed {
            attrs.push("style=dashed".into());
        }
        if attrs.is_empty() {
            let _ = writeln!(out, "  {} -> {};", e.from, e.to);
        } else {
            let _ = writeln!(out, "  {} -> {} [{}];", e.from, e.to, attrs.join(", "));
        }
    }
    out.push_str("}\n");
    out
}

/// Text for inside a double-quoted Graphviz string: `\` and `"` are escaped (so no label can
/// contain an escape such as `\N`), and line breaks become `\n`.
fn dot_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use infra_check_analysis::clan::overview::{InstanceInfo, MachineInfo, RoleMembers};
    use infra_check_analysis::{Location, TextRange};

    use super::*;

    fn machine(name: &str, class: Option<&str>, modules: &[&str]) -> MachineInfo {
        MachineInfo {
            name: name.into(),
            class: class.map(String::from),
            system: Some("x86_64-linux".into()),
            tags: vec![],
            roles: vec![],
            roles_complete: true,
            target_host: None,
            build_host: None,
            modules: modules.iter().map(|m| m.to_string()).collect(),
            location: Location {
                file: "m.nix".into(),
                range: TextRange::new(0, 0),
            },
        }
    }

    fn members(role: &str, machines: &[&str], complete: bool) -> RoleMembers {
        RoleMembers {
            role: role.into(),
            machines: machines.iter().map(|m| m.to_string()).collect(),
            complete,
        }
    }

    fn overview() -> Overview {
        Overview {
            machines_complete: true,
            tags_complete: true,
            clan_core: true,
            machines: vec![
                machine("a-b", Some("nixos"), &["nixos.base", "nixos.\"x/y\""]),
                machine("a_b", None, &["nixos.base"]),
            ],
            instances: vec![InstanceInfo {
                name: "vpn".into(),
                service: Some("zero\"tier".into()),
                roles: vec![
                    members("server", &["a-b", "ghost"], true),
                    members("client", &["a-b"], true),
                    members("peer", &[], false),
                ],
                roles_complete: true,
            }],
        }
    }

    #[test]
    fn ids_are_sanitized_and_unique() {
        let g = Graph::of(&overview());
        let machine_ids: Vec<&str> = g
            .classes
            .iter()
            .flat_map(|c| c.nodes.iter().map(|n| n.id.as_str()))
            .collect();
        assert_eq!(machine_ids, ["m_a_b", "m_a_b_2"]);
        let modules: Vec<&str> = g
            .modules
            .as_ref()
            .unwrap()
            .nodes
            .iter()
            .map(|n| n.id.as_str())
            .collect();
        assert_eq!(modules, ["mod_nixos_x_y", "mod_nixos_base"]);
    }

    #[test]
    fn mermaid_shares_modules_and_escapes_labels() {
        let text = render_mermaid(&Graph::of(&overview()));
        assert_eq!(
            text,
            "flowchart LR\n\
             \x20 subgraph class_nixos[\"NixOS machines\"]\n\
             \x20   m_a_b[\"a-b<br/>x86_64-linux\"]\n\
             \x20 end\n\
             \x20 subgraph class_unknown[\"unknown class\"]\n\
             \x20   m_a_b_2[\"a_b<br/>x86_64-linux\"]\n\
             \x20 end\n\
             \x20 subgraph modules[\"deferred modules\"]\n\
             \x20   mod_nixos_x_y[[\"nixos.#quot;x/y#quot;\"]]\n\
             \x20   mod_nixos_base[[\"nixos.base\"]]\n\
             \x20 end\n\
             \x20 i_vpn([\"vpn (zero#quot;tier)\"])\n\
             \x20 q_vpn((\"?\"))\n\
             \x20 u_ghost{{\"ghost (unknown machine)\"}}\n\
             \x20 i_vpn -->|\"server, client\"| m_a_b\n\
             \x20 i_vpn -->|\"server\"| u_ghost\n\
             \x20 i_vpn -.->|\"peer\"| q_vpn\n\
             \x20 m_a_b --> mod_nixos_base\n\
             \x20 m_a_b --> mod_nixos_x_y\n\
             \x20 m_a_b_2 --> mod_nixos_base\n"
        );
    }

    #[test]
    fn dot_escapes_quotes_and_backslashes() {
        assert_eq!(dot_escape(r#"a"b\N"#), r#"a\"b\\N"#);
        let text = render_dot(&Graph::of(&overview()));
        assert!(text.starts_with("digraph fleet {\n  rankdir=LR;\n"));
        assert!(text.ends_with("}\n"));
        assert!(text.contains("subgraph cluster_class_nixos {"));
        assert!(text.contains("mod_nixos_x_y [label=\"nixos.\\\"x/y\\\"\", shape=note];"));
        assert!(text.contains("i_vpn -> q_vpn [label=\"peer\", style=dashed];"));
    }

    #[test]
    fn an_empty_fleet_is_an_empty_diagram() {
        let empty = Overview {
            machines_complete: true,
            tags_complete: true,
            clan_core: true,
            machines: vec![],
            instances: vec![],
        };
        assert_eq!(render_mermaid(&Graph::of(&empty)), "flowchart LR\n");
        assert_eq!(
            render_dot(&Graph::of(&empty)),
            "digraph fleet {\n  rankdir=LR;\n  node [shape=box];\n}\n"
        );
    }
}
