//! Every input `flake.lock` locks, the root's and theirs, with what Nix needs to find its
//! source: the fetcher type, the locked reference, the `narHash`, the subdirectory (`?dir=`).
//! Read leniently: `flake::flake_info` reports a lock Nix would refuse, and what cannot be read
//! here is simply left out.

use std::collections::{BTreeSet, VecDeque};

use serde_json::{Map, Value};

/// The lock's inputs, breadth first from the root: the root's own inputs first, each input's
/// inputs under its path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lock {
    pub inputs: Vec<LockedInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedInput {
    /// The input's path from the root flake: `clan-core`, `clan-core/nixpkgs`.
    pub path: String,
    /// When the lock says the input `follows` another: that input's path (empty for the root
    /// flake itself, `inputs.x.follows = ""`).
    pub follows: Option<String>,
    /// The node of `flake.lock` holding its source (for a follows, the one it resolves to);
    /// `None` when the lock names a node it does not have or a follows leads nowhere.
    pub node: Option<String>,
    /// The locked source, when the node has one (the root node has none).
    pub source: Option<LockedSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockedSource {
    /// The fetcher: `github`, `gitlab`, `sourcehut`, `git`, `tarball`, `file`, `path`, …
    pub kind: Option<String>,
    /// The locked reference in Nix's URL-like words (`github:clan/clan-core/<rev>`).
    pub reference: Option<String>,
    pub rev: Option<String>,
    pub last_modified: Option<i64>,
    pub nar_hash: Option<String>,
    /// The subdirectory of the source that holds the flake (`?dir=`).
    pub dir: Option<String>,
    /// `flake = false`: the source is not a flake, only files.
    pub flake: bool,
}

/// How far a `follows` chain is followed before it counts as leading nowhere (Nix refuses a
/// cycle; a longer real chain has not been seen).
const MAX_FOLLOWS: usize = 64;

impl Lock {
    /// The inputs of a parsed `flake.lock`. Each node's own inputs are listed once, under the
    /// first path that reaches it, so a lock of any shape lists each node at most once per
    /// input edge.
    pub fn from_json(lock: &Value) -> Lock {
        let mut out = Lock::default();
        let Some(nodes) = lock.get("nodes").and_then(Value::as_object) else {
            return out;
        };
        let root = lock.get("root").and_then(Value::as_str).unwrap_or("root");
        let mut expanded = BTreeSet::from([root.to_owned()]);
        let mut queue = VecDeque::from([(String::new(), root.to_owned())]);
        while let Some((prefix, node_name)) = queue.pop_front() {
            let Some(inputs) = nodes
                .get(&node_name)
                .and_then(|n| n.get("inputs"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (name, edge) in inputs {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                let (follows, node) = match edge {
                    Value::String(n) => (None, nodes.contains_key(n).then(|| n.clone())),
                    Value::Array(steps) => {
                        let steps: Option<Vec<&str>> = steps.iter().map(Value::as_str).collect();
                        match steps {
                            Some(steps) => (
                                Some(steps.join("/")),
                                resolve_follows(nodes, root, &steps, 0),
                            ),
                            None => continue,
                        }
                    }
                    _ => continue,
                };
                let source = node
                    .as_deref()
                    .filter(|n| *n != root)
                    .and_then(|n| nodes.get(n))
                    .and_then(read_source);
                if follows.is_none() {
                    if let Some(n) = &node {
                        if expanded.insert(n.clone()) {
                            queue.push_back((path.clone(), n.clone()));
                        }
                    }
                }
                out.inputs.push(LockedInput {
                    path,
                    follows,
                    node,
                    source,
                });
            }
        }
        out
    }

    /// The root flake's own input called `name`.
    pub fn root_input(&self, name: &str) -> Option<&LockedInput> {
        self.inputs.iter().find(|i| i.path == name)
    }
}

/// The node a `follows` path names: input by input from the root, each step itself possibly a
/// follows.
fn resolve_follows(
    nodes: &Map<String, Value>,
    root: &str,
    steps: &[&str],
    depth: usize,
) -> Option<String> {
    if depth > MAX_FOLLOWS {
        return None;
    }
    let mut current = root.to_owned();
    for step in steps {
        let edge = nodes.get(&current)?.get("inputs")?.get(*step)?;
        current = match edge {
            Value::String(n) => n.clone(),
            Value::Array(more) => {
                let more: Vec<&str> = more.iter().map(Value::as_str).collect::<Option<_>>()?;
                resolve_follows(nodes, root, &more, depth + 1)?
            }
            _ => return None,
        };
    }
    nodes.contains_key(&current).then_some(current)
}

fn read_source(node: &Value) -> Option<LockedSource> {
    let locked = node.get("locked")?.as_object()?;
    let text = |key: &str| locked.get(key).and_then(Value::as_str).map(String::from);
    let kind = text("type");
    Some(LockedSource {
        reference: reference(kind.as_deref(), locked),
        rev: text("rev"),
        last_modified: locked.get("lastModified").and_then(Value::as_i64),
        nar_hash: text("narHash"),
        dir: text("dir").filter(|d| !d.is_empty()),
        flake: node.get("flake").and_then(Value::as_bool).unwrap_or(true),
        kind,
    })
}

/// The locked reference as Nix prints it, as far as the lock's attributes say.
fn reference(kind: Option<&str>, locked: &Map<String, Value>) -> Option<String> {
    let text = |key: &str| locked.get(key).and_then(Value::as_str);
    match kind? {
        forge @ ("github" | "gitlab" | "sourcehut") => {
            let mut r = format!("{forge}:{}/{}", text("owner")?, text("repo")?);
            if let Some(rev) = text("rev") {
                r.push('/');
                r.push_str(rev);
            }
            Some(r)
        }
        "git" | "hg" => {
            let url = text("url")?;
            let scheme = if kind == Some("git") { "git+" } else { "hg+" };
            let mut r = format!("{scheme}{url}");
            if let Some(rev) = text("rev") {
                r.push_str(if r.contains('?') { "&rev=" } else { "?rev=" });
                r.push_str(rev);
            }
            Some(r)
        }
        "path" => text("path").map(|p| format!("path:{p}")),
        _ => text("url").map(String::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(text: &str) -> Lock {
        Lock::from_json(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn inputs_are_listed_from_the_root_with_their_follows_resolved() {
        let l = lock(
            r#"{ "version": 7, "root": "root", "nodes": {
              "root": { "inputs": { "clan-core": "clan-core", "nixpkgs": "nixpkgs",
                                    "pkgs": ["clan-core", "nixpkgs"], "self-ref": [] } },
              "clan-core": { "inputs": { "nixpkgs": ["nixpkgs"], "treefmt": "treefmt" },
                "locked": { "type": "github", "owner": "clan", "repo": "clan-core",
                            "rev": "abc", "lastModified": 5, "narHash": "sha256-x", "dir": "sub" } },
              "treefmt": { "locked": { "type": "tarball", "url": "https://t/x.tar.gz", "narHash": "sha256-y" },
                           "flake": false },
              "nixpkgs": { "locked": { "type": "git", "url": "https://n", "rev": "def", "narHash": "sha256-z" } }
            } }"#,
        );
        let rows: Vec<_> = l
            .inputs
            .iter()
            .map(|i| {
                (
                    i.path.as_str(),
                    i.follows.as_deref(),
                    i.node.as_deref(),
                    i.source.as_ref().and_then(|s| s.reference.as_deref()),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "clan-core",
                    None,
                    Some("clan-core"),
                    Some("github:clan/clan-core/abc")
                ),
                (
                    "nixpkgs",
                    None,
                    Some("nixpkgs"),
                    Some("git+https://n?rev=def")
                ),
                // A follows through a follows: clan-core's nixpkgs follows the root's.
                (
                    "pkgs",
                    Some("clan-core/nixpkgs"),
                    Some("nixpkgs"),
                    Some("git+https://n?rev=def")
                ),
                ("self-ref", Some(""), Some("root"), None),
                (
                    "clan-core/nixpkgs",
                    Some("nixpkgs"),
                    Some("nixpkgs"),
                    Some("git+https://n?rev=def")
                ),
                (
                    "clan-core/treefmt",
                    None,
                    Some("treefmt"),
                    Some("https://t/x.tar.gz")
                ),
            ]
        );
        let clan = l.root_input("clan-core").unwrap().source.as_ref().unwrap();
        assert_eq!(clan.dir.as_deref(), Some("sub"));
        assert_eq!(clan.last_modified, Some(5));
        assert!(clan.flake);
        assert!(!l.inputs[5].source.as_ref().unwrap().flake);
    }

    #[test]
    fn a_broken_or_cyclic_lock_lists_what_it_can() {
        for text in [
            "null",
            r#"{ "nodes": 3 }"#,
            r#"{ "root": "r", "nodes": { "root": { "inputs": { "a": "a" } } } }"#,
        ] {
            assert_eq!(lock(text), Lock::default(), "{text}");
        }
        let l = lock(
            r#"{ "root": "root", "nodes": {
              "root": { "inputs": { "a": ["b"], "b": ["a"], "c": "missing", "d": 4, "e": ["a", 1] } } } }"#,
        );
        let rows: Vec<_> = l
            .inputs
            .iter()
            .map(|i| (i.path.as_str(), i.node.as_deref()))
            .collect();
        assert_eq!(rows, [("a", None), ("b", None), ("c", None)]);
        // Two nodes that are each other's input are expanded once each.
        let l = lock(
            r#"{ "root": "root", "nodes": {
              "root": { "inputs": { "a": "a" } },
              "a": { "inputs": { "b": "b" } }, "b": { "inputs": { "a": "a" } } } }"#,
        );
        let paths: Vec<_> = l.inputs.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["a", "a/b", "a/b/a"]);
    }
}
