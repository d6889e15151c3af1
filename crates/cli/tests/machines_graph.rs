//! `infra-check machines` and `infra-check graph` on the embedded example fleet, on a
//! repository without a clan, and on a clan whose role members cannot all be known.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{code, path_str, repo, run, stderr, stdout};
use serde_json::{json, Value};

fn fleet() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet")
}

fn fleet_str() -> String {
    path_str(&fleet()).to_owned()
}

const NIXOS: [&str; 4] = ["argon", "krypton", "radon", "xenon"];
const DARWIN: [&str; 4] = ["bismuth", "cobalt", "gallium", "indium"];
const INSTANCES: [&str; 6] = [
    "binary-cache",
    "emergency-access",
    "sshd",
    "user-ada",
    "user-rowan",
    "zerotier",
];

/// `machines --format json` of `dir`, with exit code 0, as a name -> machine map.
fn machines_json(dir: &str) -> (Value, BTreeMap<String, Value>) {
    let out = run(&["machines", dir, "--format", "json"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", stdout(&out)));
    let machines = doc["machines"]
        .as_array()
        .expect("machines is an array")
        .iter()
        .map(|m| (m["name"].as_str().unwrap().to_owned(), m.clone()))
        .collect();
    (doc, machines)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// `instance/role` of every role of `m`.
fn roles(m: &Value) -> BTreeSet<String> {
    role_list(m).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn machines_json_describes_the_example_fleet() {
    let (doc, machines) = machines_json(&fleet_str());
    assert_eq!(doc["version"], 1);
    assert_eq!(
        doc.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["machines", "version"]
    );
    let names: BTreeSet<&str> = machines.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = NIXOS.iter().chain(&DARWIN).copied().collect();
    assert_eq!(names, expected);
    assert_eq!(
        doc["machines"].as_array().unwrap().len(),
        8,
        "no duplicates"
    );

    // Own tags from modules/clan/inventory/machines.nix, plus `all` and the class.
    let own_tags: [(&str, &[&str]); 8] = [
        ("argon", &["server", "hetzner"]),
        ("krypton", &["server", "hetzner", "zt-peer", "backup"]),
        ("xenon", &["server", "gcp", "zt-peer", "builder"]),
        ("radon", &["server", "gcp", "gpu", "zt-peer"]),
        ("cobalt", &["workstation", "laptop"]),
        ("indium", &["workstation", "desktop"]),
        ("gallium", &["workstation", "laptop"]),
        ("bismuth", &["workstation", "laptop"]),
    ];
    for (name, own) in own_tags {
        let m = &machines[name];
        let darwin = DARWIN.contains(&name);
        let (class, system) = if darwin {
            ("darwin", "aarch64-darwin")
        } else {
            ("nixos", "x86_64-linux")
        };
        let keys: BTreeSet<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "name",
                "class",
                "system",
                "tags",
                "roles",
                "rolesComplete",
                "targetHost",
                "buildHost",
                "modules"
            ]),
            "{name}"
        );
        assert_eq!(m["rolesComplete"], true, "{name}");
        assert_eq!(m["class"], class, "{name}");
        assert_eq!(m["system"], system, "{name}");
        let mut tags: Vec<String> = own.iter().map(|t| t.to_string()).collect();
        tags.extend(["all".to_owned(), class.to_owned()]);
        tags.sort();
        assert_eq!(strings(&m["tags"]), tags, "tags of {name} (sorted)");
        // Its machine module (modules/clan/machines.nix) and what that imports in turn.
        let modules = strings(&m["modules"]);
        for expected in [
            format!("{class}.\"machines/{class}/{name}\""),
            format!("{class}.base"),
            "generic.ssh-known-hosts".to_owned(),
        ] {
            assert!(
                modules.contains(&expected),
                "{name}: {expected} not in {modules:?}"
            );
        }
        assert!(
            modules
                .iter()
                .all(|m| m.starts_with(class) || m.starts_with("generic.")),
            "{name}: {modules:?}"
        );
        assert_eq!(m["buildHost"], Value::Null, "{name}");
        // NixOS machines from the inventory; darwin ones from their machine module.
        let user = match name {
            "gallium" | "bismuth" => "rowan",
            "cobalt" | "indium" => "ada",
            _ => "root",
        };
        assert_eq!(
            m["targetHost"],
            format!("{user}@{name}.periodic.example.org"),
            "{name}"
        );
    }

    // Roles, from modules/clan/inventory/services/*.nix.
    let base = [
        "emergency-access/default",
        "sshd/client",
        "sshd/server",
        "user-ada/default",
    ];
    let with = |extra: &[&str]| -> BTreeSet<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    assert_eq!(roles(&machines["argon"]), with(&["zerotier/controller"]));
    assert_eq!(roles(&machines["krypton"]), with(&["zerotier/peer"]));
    assert_eq!(
        roles(&machines["radon"]),
        with(&["zerotier/peer", "user-rowan/default"])
    );
    assert_eq!(
        roles(&machines["xenon"]),
        with(&[
            "zerotier/peer",
            "user-rowan/default",
            "binary-cache/default"
        ])
    );
    for name in DARWIN {
        assert_eq!(
            roles(&machines[name]),
            BTreeSet::new(),
            "{name}: every service of the fleet is NixOS-only"
        );
    }
    let argon_roles = machines["argon"]["roles"].as_array().unwrap();
    assert!(argon_roles
        .contains(&json!({"instance": "zerotier", "service": "zerotier", "role": "controller"})));
    assert!(argon_roles
        .contains(&json!({"instance": "user-ada", "service": "users", "role": "default"})));
}

#[test]
fn machines_table_has_a_header_a_row_per_machine_and_a_summary() {
    let out = run(&["machines", &fleet_str()]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10, "{text}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "CLASS", "SYSTEM", "TAGS", "ROLES", "TARGET"]
    );
    assert_eq!(lines[9], "8 machines (4 nixos, 4 darwin)");
    // Aligned: every column starts at the same character in every row.
    let starts = |line: &str| -> Vec<usize> {
        let chars: Vec<char> = line.chars().collect();
        (0..chars.len())
            .filter(|&i| chars[i] != ' ' && (i == 0 || chars[i - 1] == ' '))
            .collect()
    };
    let columns = starts(lines[0]);
    let mut seen = BTreeSet::new();
    for row in &lines[1..9] {
        assert_eq!(starts(row), columns, "misaligned row: {row}");
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells.len(), 6, "{row}");
        let name = cells[0];
        seen.insert(name);
        if NIXOS.contains(&name) {
            assert_eq!(cells[1], "nixos");
            assert_eq!(cells[2], "x86_64-linux");
            assert!(cells[3].split(',').any(|t| t == "all"), "{row}");
            assert!(cells[4].split(',').any(|r| r == "sshd/server"), "{row}");
            assert_eq!(cells[5], format!("root@{name}.periodic.example.org"));
        } else {
            assert!(DARWIN.contains(&name), "unexpected row: {row}");
            assert_eq!(cells[1], "darwin");
            assert_eq!(cells[2], "aarch64-darwin");
            assert_eq!(cells[4], "-", "darwin machines hold no role: {row}");
        }
    }
    assert_eq!(seen.len(), 8);
    let argon = lines.iter().find(|l| l.starts_with("argon ")).unwrap();
    assert!(argon.contains("zerotier/controller"), "{argon}");
}

/// Node ids defined by a Mermaid flowchart line (`id["…"]`, `id(["…"])`, …), if it defines one.
fn mermaid_node(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    let end = line.find(['[', '(', '{'])?;
    let (id, rest) = line.split_at(end);
    if id.starts_with("subgraph") || id.contains(' ') {
        return None;
    }
    Some((id, rest))
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[test]
fn mermaid_graph_of_the_example_fleet() {
    let out = run(&["graph", &fleet_str()]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("flowchart LR\n"), "{text}");
    assert!(text.ends_with('\n'));

    let mut nodes: BTreeMap<String, String> = BTreeMap::new();
    let mut edges: Vec<(String, String, String)> = Vec::new();
    let mut depth = 0i32;
    for line in text.lines().skip(1) {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("subgraph ") {
            let id = &rest[..rest.find('[').unwrap()];
            assert!(is_id(id), "subgraph id `{id}`");
            depth += 1;
        } else if t == "end" {
            depth -= 1;
        } else if t.contains("-->") || t.contains("-.->") {
            let (from, rest) = t.split_once(' ').unwrap();
            let (arrow_label, to) = rest.rsplit_once(' ').unwrap();
            assert!(is_id(from) && is_id(to), "edge `{t}`");
            edges.push((from.into(), arrow_label.into(), to.into()));
        } else {
            let (id, label) = mermaid_node(t).unwrap_or_else(|| panic!("unexpected line `{t}`"));
            assert!(is_id(id), "node id `{id}`");
            assert!(
                nodes.insert(id.into(), label.into()).is_none(),
                "node `{id}` defined twice"
            );
        }
    }
    assert_eq!(depth, 0, "every subgraph is closed");
    for (from, _, to) in &edges {
        assert!(
            nodes.contains_key(from) && nodes.contains_key(to),
            "{from} -> {to}"
        );
    }

    // Every machine and instance exactly once as a node.
    for name in NIXOS.iter().chain(&DARWIN) {
        let defs: Vec<_> = nodes
            .iter()
            .filter(|(id, _)| id.starts_with("m_"))
            .filter(|(_, label)| label.contains(&format!("\"{name}<br/>")))
            .collect();
        assert_eq!(defs.len(), 1, "machine {name}: {defs:?}");
        let system = if NIXOS.contains(name) {
            "x86_64-linux"
        } else {
            "aarch64-darwin"
        };
        assert_eq!(defs[0].0, &format!("m_{name}"));
        assert!(defs[0].1.contains(system), "{:?}", defs[0]);
    }
    for inst in INSTANCES {
        let defs: Vec<_> = nodes
            .iter()
            .filter(|(id, _)| id.starts_with("i_"))
            .filter(|(_, label)| label.contains(&format!("\"{inst} (")))
            .collect();
        assert_eq!(defs.len(), 1, "instance {inst}: {defs:?}");
    }
    assert_eq!(nodes.keys().filter(|id| id.starts_with("m_")).count(), 8);
    assert_eq!(nodes.keys().filter(|id| id.starts_with("i_")).count(), 6);
    assert_eq!(nodes["i_user_ada"], "([\"user-ada (users)\"])");
    // Module labels keep their quotes, escaped for Mermaid.
    assert_eq!(
        nodes["mod_nixos_machines_nixos_argon"],
        "[[\"nixos.#quot;machines/nixos/argon#quot;\"]]"
    );
    assert!(!text.contains("\"machines/"), "raw quotes in a label");

    let edge = |from: &str, label: &str, to: &str| {
        edges.contains(&(from.into(), format!("-->|\"{label}\"|"), to.into()))
    };
    assert!(edge("i_zerotier", "controller", "m_argon"));
    assert!(edge("i_zerotier", "peer", "m_krypton"));
    assert!(edge("i_sshd", "client, server", "m_argon"));
    assert!(edge("i_binary_cache", "default", "m_xenon"));
    for name in DARWIN {
        assert!(
            !edges
                .iter()
                .any(|(from, _, to)| from.starts_with("i_") && to == &format!("m_{name}")),
            "no instance gives {name} a role"
        );
        assert!(edges.contains(&(
            format!("m_{name}"),
            "-->".into(),
            format!("mod_darwin_machines_darwin_{name}")
        )));
    }
    assert!(
        !edges.iter().any(|(_, arrow, _)| arrow.starts_with("-.->")),
        "every role's members are known in the example"
    );
}

/// Braces outside double-quoted strings (with `\` escapes) balance and never go negative.
fn assert_balanced(text: &str) {
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                assert!(depth >= 0, "unbalanced braces:\n{text}");
            }
            _ => {}
        }
    }
    assert!(!in_string, "unterminated string:\n{text}");
    assert_eq!(depth, 0, "unbalanced braces:\n{text}");
}

/// Renders `dot` source with Graphviz, if it is installed.
fn render_with_graphviz(source: &str) {
    if !common::have_tool("dot") {
        return;
    }
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dot");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(source.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("run dot");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "dot failed: {}\n{source}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
}

#[test]
fn dot_graph_of_the_example_fleet() {
    let out = run(&["graph", &fleet_str(), "--format", "dot"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("digraph fleet {\n  rankdir=LR;\n"),
        "{text}"
    );
    assert!(text.ends_with("}\n"));
    assert_balanced(&text);
    for c in [
        "cluster_class_nixos",
        "cluster_class_darwin",
        "cluster_modules",
    ] {
        assert!(text.contains(&format!("subgraph {c} {{")), "{c}");
    }
    for name in NIXOS.iter().chain(&DARWIN) {
        assert_eq!(
            text.matches(&format!("  m_{name} [label=")).count(),
            1,
            "{name}"
        );
    }
    assert!(text.contains("i_zerotier -> m_argon [label=\"controller\"];"));
    assert!(text.contains("[label=\"nixos.\\\"machines/nixos/argon\\\"\", shape=note];"));
    render_with_graphviz(&text);
}

#[test]
fn a_repository_without_a_clan_has_no_machines() {
    // A flake-parts flake with deferred modules, but no clan.
    let dir = repo(&[
        ("modules/dev-shell.nix", "{ perSystem = { }; }\n"),
        (
            "modules/base.nix",
            "{ flake.modules.nixos.base = { services.openssh.enable = true; }; }\n",
        ),
    ]);
    common::write(dir.path(), "flake.nix", CLAN_FLAKE);
    let dir = path_str(dir.path()).to_owned();

    let out = run(&["machines", &dir]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "CLASS", "SYSTEM", "TAGS", "ROLES", "TARGET"]
    );
    assert_eq!(lines[1..], ["0 machines"]);

    let (doc, _) = machines_json(&dir);
    assert_eq!(doc, json!({"version": 1, "machines": []}));

    let out = run(&["graph", &dir]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "flowchart LR\n");

    let out = run(&["graph", &dir, "--format", "dot"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_balanced(&stdout(&out));
    render_with_graphviz(&stdout(&out));
}

/// A flake-parts flake that imports every file under ./modules, like the example.
const CLAN_FLAKE: &str = r#"{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    flake-parts.url = "github:hercules-ci/flake-parts";
    import-tree.url = "github:vic/import-tree";
    clan-core.url = "github:clan-lol/clan-core";
  };
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
"#;

#[test]
fn unknown_role_members_get_a_dashed_edge_to_a_question_mark() {
    let dir = repo(&[(
        "modules/clan.nix",
        r#"{ inputs, ... }:
{
  clan.inventory.machines.web-1 = { tags = [ "server" ]; };
  clan.inventory.machines.mac = { machineClass = "darwin"; };
  clan.inventory.instances.users = {
    module.name = "users";
    roles.default.machines = inputs.self.lib.userMachines;
  };
  clan.inventory.instances.zerotier = {
    roles.controller.machines.web-1 = { };
    roles.peer.machines.ghost = { };
  };
}
"#,
    )]);
    common::write(dir.path(), "flake.nix", CLAN_FLAKE);
    let dir = path_str(dir.path()).to_owned();

    let out = run(&["graph", &dir]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("  m_web_1[\"web-1<br/>?\"]\n"), "{text}");
    assert!(text.contains("  q_users((\"?\"))\n"), "{text}");
    assert!(
        text.contains("  i_users -.->|\"default\"| q_users\n"),
        "{text}"
    );
    assert!(
        text.contains("  i_zerotier -->|\"controller\"| m_web_1\n"),
        "{text}"
    );
    // A member that is not a machine still shows up, as such.
    assert!(
        text.contains("  u_ghost{{\"ghost (unknown machine)\"}}\n"),
        "{text}"
    );

    let out = run(&["graph", &dir, "--format", "dot"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("  i_users -> q_users [label=\"default\", style=dashed];"));
    assert_balanced(&text);
    render_with_graphviz(&text);

    let (_, machines) = machines_json(&dir);
    assert_eq!(machines["web-1"]["system"], Value::Null);
    assert_eq!(machines["web-1"]["class"], "nixos");
    assert_eq!(roles(&machines["web-1"]), set(&["zerotier/controller"]));
}

/// The roles of `m` as `instance/role`, in order, duplicates kept.
fn role_list(m: &Value) -> Vec<String> {
    m["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["instance"].as_str().unwrap(),
                r["role"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_machine_named_and_tagged_in_a_role_holds_it_once() {
    let dir = repo(&[(
        "modules/clan.nix",
        r#"{
  clan.inventory.machines.web-1 = { tags = [ "server" ]; };
  clan.inventory.machines.web-2 = { tags = [ "server" ]; };
  clan.inventory.instances.sshd = {
    roles.server.machines.web-1 = { };
    roles.server.tags.server = { };
    roles.server.tags.all = { };
  };
}
"#,
    )]);
    common::write(dir.path(), "flake.nix", CLAN_FLAKE);
    let dir = path_str(dir.path()).to_owned();
    let (_, machines) = machines_json(&dir);
    assert_eq!(role_list(&machines["web-1"]), ["sshd/server"]);
    assert_eq!(role_list(&machines["web-2"]), ["sshd/server"]);
    let out = run(&["graph", &dir]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    for m in ["m_web_1", "m_web_2"] {
        let edges = text
            .lines()
            .filter(|l| l.starts_with("  i_sshd -") && l.ends_with(m))
            .count();
        assert_eq!(edges, 1, "{m}: {text}");
    }
}

#[test]
fn usage_errors_exit_2_with_the_sentences_of_check() {
    let dir = tempfile::tempdir().unwrap();
    let dir = path_str(dir.path()).to_owned();
    let check = run(&["check", &dir]);
    assert_eq!(code(&check), 2);
    for args in [
        vec!["machines", dir.as_str()],
        vec!["machines", dir.as_str(), "--format", "json"],
        vec!["graph", dir.as_str()],
        vec!["graph", dir.as_str(), "--format", "dot"],
    ] {
        let out = run(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert_eq!(stderr(&out), stderr(&check), "{args:?}");
        assert_eq!(stdout(&out), "", "{args:?}");
    }

    let missing = format!("{dir}/does-not-exist");
    let out = run(&["machines", &missing]);
    assert_eq!(code(&out), 2);
    assert_eq!(stderr(&out), stderr(&run(&["check", &missing])));

    let out = run(&["graph", &dir, "--format", "png"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("mermaid"), "{}", stderr(&out));
}

#[test]
fn help_explains_the_formats() {
    let out = run(&["machines", "--help"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(text.contains("table") && text.contains("json"), "{text}");
    let out = run(&["graph", "--help"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(
        text.contains("mermaid") && text.contains("dot -Tsvg"),
        "{text}"
    );
    let out = run(&["--help"]);
    let text = stdout(&out);
    assert!(
        text.contains("machines") && text.contains("graph"),
        "{text}"
    );
}

#[test]
fn an_unreadable_file_prints_the_fleet_and_a_warning() {
    // A socket is listed like a file but cannot be read, even by root. It is a problem of the
    // repository, not of the command: the listing is printed, with a warning, and exits 0.
    let dir = repo(&[("modules/base.nix", "{ flake.modules.nixos.base = { }; }\n")]);
    common::write(dir.path(), "flake.nix", CLAN_FLAKE);
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("modules/sock.nix"))
        .expect("create a socket");
    let dir = path_str(dir.path()).to_owned();
    for (args, expected) in [
        (["machines", "--format", "json"], "\"machines\": []"),
        (["graph", "--format", "mermaid"], "flowchart LR"),
    ] {
        let out = run(&[args[0], &dir, args[1], args[2]]);
        assert_eq!(code(&out), 0, "{args:?}");
        assert!(stdout(&out).contains(expected), "{}", stdout(&out));
        assert!(
            stderr(&out).contains("warning: `modules/sock.nix` could not be read (a socket"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_role_partly_unknown_keeps_its_named_members_and_says_so() {
    // The peer role names two machines and takes a tag computed by another flake's function;
    // the backup client role has only that tag. Named members stay known; nobody is shown as
    // holding no role when some role may still hold them.
    let dir = repo(&[(
        "modules/clan.nix",
        r#"{ inputs, ... }:
{
  clan.inventory.tags = { config, ... }: {
    peers = inputs.shared.lib.peersOf config.nixos;
  };
  clan.inventory.machines.hub = { };
  clan.inventory.machines.laptop = { };
  clan.inventory.machines.mac = { machineClass = "darwin"; };
  clan.inventory.instances.wireguard = {
    roles.controller.machines.hub = { };
    roles.peer.machines.laptop = { };
    roles.peer.machines.mac = { };
    roles.peer.tags.peers = { };
  };
  clan.inventory.instances.borgbackup = {
    roles.server.machines.hub = { };
    roles.client.tags.peers = { };
  };
}
"#,
    )]);
    common::write(dir.path(), "flake.nix", CLAN_FLAKE);
    // The clan CLI keeps deployment targets in `inventory.json` too.
    common::write(
        dir.path(),
        "inventory.json",
        r#"{ "machines": { "mac": { "deploy": { "targetHost": "admin@mac.lan" } } } }"#,
    );
    let dir = path_str(dir.path()).to_owned();
    let (_, machines) = machines_json(&dir);
    assert_eq!(
        roles(&machines["laptop"]),
        set(&["wireguard/peer"]),
        "{machines:?}"
    );
    assert_eq!(roles(&machines["mac"]), set(&["wireguard/peer"]));
    assert_eq!(
        roles(&machines["hub"]),
        set(&["borgbackup/server", "wireguard/controller"])
    );
    // Any of them may be a backup client through `peers`.
    for m in ["laptop", "mac", "hub"] {
        assert_eq!(machines[m]["rolesComplete"], false, "{m}");
    }
    assert_eq!(machines["mac"]["targetHost"], "admin@mac.lan");

    let out = run(&["machines", &dir]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("mac ") && l.contains(" wireguard/peer,? ")),
        "{text}"
    );

    let out = run(&["graph", &dir, "--format", "dot"]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  i_wireguard -> m_mac [label=\"peer\"];"),
        "{text}"
    );
    assert!(
        text.contains("  i_wireguard -> q_wireguard [label=\"peer\", style=dashed];"),
        "{text}"
    );
    assert!(
        text.contains("  i_borgbackup -> q_borgbackup [label=\"client\", style=dashed];"),
        "{text}"
    );
    assert_balanced(&text);
}

#[test]
fn roles_read_in_full_are_complete() {
    let dir = repo(&[(
        "modules/clan.nix",
        r#"{
  clan.inventory.machines.hub = { tags = [ "peer" ]; };
  clan.inventory.machines.mac = { machineClass = "darwin"; };
  clan.inventory.instances.wireguard = {
    roles.controller.machines.hub = { };
    roles.peer.tags.peer = { };
  };
}
"#,
    )]);
    common::write(dir.path(), "flake.nix", CLAN_FLAKE);
    let dir = path_str(dir.path()).to_owned();
    let (_, machines) = machines_json(&dir);
    assert_eq!(
        roles(&machines["hub"]),
        set(&["wireguard/controller", "wireguard/peer"])
    );
    assert_eq!(roles(&machines["mac"]), set(&[]));
    for m in ["hub", "mac"] {
        assert_eq!(machines[m]["rolesComplete"], true, "{m}");
    }
    let out = run(&["machines", &dir]);
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("mac ") && l.contains(" -  ")),
        "{text}"
    );
    assert!(!text.contains(",?"), "{text}");
}

#[test]
fn tags_computed_from_the_machines_give_their_roles() {
    // clan-core applies an `inventory.tags` function to the built-in tags (`config.nixos`, …)
    // and the machines; so does infra-check when that is all it reads.
    let dir = repo(&[(
        "modules/clan.nix",
        r#"{
  clan.inventory.tags = { config, machines, ... }: {
    peers = builtins.filter (name: name != "hub") config.nixos;
    macs = builtins.filter (name: machines.${name}.machineClass == "darwin") config.all;
  };
  clan.inventory.machines.hub = { };
  clan.inventory.machines.laptop = { };
  clan.inventory.machines.mac = { machineClass = "darwin"; };
  clan.inventory.instances.wireguard = {
    roles.controller.machines.hub = { };
    roles.peer.tags.peers = { };
    roles.peer.tags.macs = { };
  };
}
"#,
    )]);
    common::write(dir.path(), "flake.nix", CLAN_FLAKE);
    let dir = path_str(dir.path()).to_owned();
    let (_, machines) = machines_json(&dir);
    assert_eq!(roles(&machines["hub"]), set(&["wireguard/controller"]));
    assert_eq!(roles(&machines["laptop"]), set(&["wireguard/peer"]));
    assert_eq!(roles(&machines["mac"]), set(&["wireguard/peer"]));
    assert!(strings(&machines["laptop"]["tags"]).contains(&"peers".to_owned()));
    assert!(strings(&machines["mac"]["tags"]).contains(&"macs".to_owned()));
    for m in ["hub", "laptop", "mac"] {
        assert_eq!(machines[m]["rolesComplete"], true, "{m}");
    }
}

#[test]
fn a_machine_s_own_configuration_file_gives_its_system_and_target() {
    // clan-core loads `configuration.nix` into every machine and `hardware-configuration.nix`
    // into NixOS machines only: the darwin machine's stray Linux one does not count.
    let dir = repo(&[
        (
            "modules/clan.nix",
            "{ clan.inventory.machines = { web = { }; mac.machineClass = \"darwin\"; }; }\n",
        ),
        (
            "machines/mac/configuration.nix",
            "{ nixpkgs.hostPlatform = \"aarch64-darwin\"; clan.core.networking.targetHost = \"root@mac\"; }\n",
        ),
        (
            "machines/mac/hardware-configuration.nix",
            "{ nixpkgs.hostPlatform = \"x86_64-linux\"; }\n",
        ),
        (
            "machines/web/hardware-configuration.nix",
            "{ nixpkgs.hostPlatform = \"x86_64-linux\"; }\n",
        ),
    ]);
    common::write(dir.path(), "flake.nix", CLAN_FLAKE);
    let (_, machines) = machines_json(path_str(dir.path()));
    assert_eq!(machines["mac"]["system"], "aarch64-darwin", "{machines:?}");
    assert_eq!(machines["mac"]["targetHost"], "root@mac", "{machines:?}");
    assert_eq!(machines["web"]["system"], "x86_64-linux", "{machines:?}");
}
