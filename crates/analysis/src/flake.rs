//! Workspace discovery: the flake's inputs (from `flake.nix` and `flake.lock`) and which files
//! are flake-parts modules — those under the `import-tree` roots handed to `mkFlake` (skipping
//! paths with `/_`, as import-tree does) plus whatever those modules `imports` by path.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use crate::db::{file_by_path, parse, Db, SourceFile, Workspace};
use crate::diagnostic::TextRange;
use crate::disk::{DiskTree, EntryKind};
use crate::eval::{Evaluator, ImportTreeSpec, PathFilter, Sym, Thunk, Value};
use crate::summary::{file_summary, DbFiles};

/// The input kind of projects whose flake modules (`inputs.<x>.flakeModules.*`) only declare
/// options and per-system outputs: importing one defines no deferred module and no part of a
/// clan. flake-parts' and clan-core's own flake modules are such too. A flake module of any
/// other input may define anything, so importing it leaves the module and clan sets open.
pub const INERT_FLAKE_MODULES: &str = "inert-flake-modules";

/// URL fragments (lower case) of those projects.
const INERT_FLAKE_MODULE_SOURCES: &[&str] = &[
    "nix-community/home-manager",
    "numtide/treefmt-nix",
    "numtide/devshell",
    "cachix/git-hooks.nix",
    "cachix/pre-commit-hooks.nix",
    "terranix/terranix",
    "drupol/pkgs-by-name-for-flake-parts",
    "platonic-systems/process-compose-flake",
    "platonic-systems/mission-control",
    "srid/flake-root",
    "srid/haskell-flake",
    "juspay/just-flake",
    "hercules-ci/hercules-ci-effects",
    "nix-community/nix-unit",
    "vic/flake-file",
    "aciceri/agenix-shell",
    "nicknovitski/make-shell",
    "oddlama/nix-topology",
    "mightyiam/files",
    // Read at their heads: `perSystem` options and per-system outputs only.
    "srid/landrun-nix",
    "yusdacra/nix-cargo-integration",
    "90-008/nix-cargo-integration",
    "nixops4/nix-bindings-rust",
];

/// Whether an input of this kind has flake modules that define nothing the analyzer models.
pub fn has_inert_flake_modules(kind: Option<&str>) -> bool {
    matches!(
        kind,
        Some("flake-parts" | "clan-core" | INERT_FLAKE_MODULES)
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlakeInfo {
    pub inputs: BTreeMap<String, FlakeInput>,
    /// Every input of `flake.nix` was read (so a name that is not among them is not an input).
    pub inputs_complete: bool,
    /// How `outputs` hands modules to flake-parts, when it could be read.
    pub roots: Option<ModuleRoots>,
    /// `flake.nix` exists but could not be read: nothing about the flake is known.
    pub unreadable: bool,
    /// What is wrong with `flake.lock`, when something is.
    pub lock_problems: Vec<crate::jsondata::DataProblem>,
    /// Every input `flake.lock` locks, as far as it can be read.
    pub lock: crate::inputs::Lock,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlakeInput {
    pub url: Option<String>,
    /// From `flake.lock`: the locked revision and its commit time (unix seconds).
    pub rev: Option<String>,
    pub last_modified: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleRoots {
    pub import_trees: Vec<ImportTreeSpec>,
    /// Files (or directories with `default.nix`) imported explicitly.
    pub files: Vec<String>,
    /// Some module list could not be read: which files are modules is incomplete.
    pub incomplete: bool,
}

impl FlakeInfo {
    /// The input that is clan-core: the one whose URL names it, else the one named `clan-core`.
    pub fn clan_core_input(&self) -> Option<(&str, &FlakeInput)> {
        self.inputs
            .iter()
            .find(|(_, i)| i.url.as_deref().is_some_and(|u| u.contains("clan-core")))
            .or_else(|| self.inputs.iter().find(|(n, _)| n.as_str() == "clan-core"))
            .map(|(n, i)| (n.as_str(), i))
    }

    /// What each input is, recognised by its URL (or, failing that, its name).
    pub fn input_kinds(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.inputs.iter().filter_map(|(name, i)| {
            let url = i.url.as_deref().unwrap_or(name);
            let lowercase = url.to_ascii_lowercase();
            let kind = if url.contains("import-tree") {
                "import-tree"
            } else if url.contains("flake-parts") {
                "flake-parts"
            } else if url.contains("clan-core") {
                "clan-core"
            } else if url.contains("nixpkgs") || url.contains("channels.nixos.org") {
                "nixpkgs"
            } else if INERT_FLAKE_MODULE_SOURCES
                .iter()
                .any(|s| lowercase.contains(s))
            {
                INERT_FLAKE_MODULES
            } else {
                return None;
            };
            Some((name.as_str(), kind))
        })
    }
}

/// [`FlakeInfo::input_kinds`] of the workspace's flake, recognised once for every file the
/// evaluator reads.
#[salsa::tracked(returns(ref))]
pub fn input_kinds(db: &dyn Db, ws: Workspace) -> Arc<Vec<(String, &'static str)>> {
    let kinds = flake_info(db, ws).input_kinds();
    Arc::new(kinds.map(|(n, k)| (n.to_owned(), k)).collect())
}

#[salsa::tracked(returns(ref))]
pub fn flake_info(db: &dyn Db, ws: Workspace) -> Arc<FlakeInfo> {
    let mut info = FlakeInfo::default();
    let Some(flake) = file_by_path(db, ws, "flake.nix") else {
        info.unreadable = ws.disk(db).exists("flake.nix");
        return Arc::new(info);
    };
    let parsed = parse(db, flake);
    let files = DbFiles { db, ws };
    let ev = Evaluator::new(&files);
    let Some(expr) = parsed.root_expr() else {
        return Arc::new(info);
    };
    let root = ev.eval(&expr, &ev.root_env("flake.nix"));
    let Value::Attrs(top) = root else {
        return Arc::new(info);
    };
    if let Some(Value::Attrs(inputs)) = top.get("inputs").map(|i| ev.force(&i.value)) {
        info.inputs_complete = !inputs.partial;
        for (name, v) in &inputs.map {
            let url = match ev.force(&v.value) {
                Value::Attrs(a) => a
                    .get("url")
                    .and_then(|u| ev.force(&u.value).as_str().map(String::from)),
                Value::Str(s) => Some(s.to_string()),
                _ => None,
            };
            info.inputs.insert(
                name.to_string(),
                FlakeInput {
                    url,
                    ..Default::default()
                },
            );
        }
    }
    if let Some(lock) = file_by_path(db, ws, "flake.lock") {
        read_lock(lock.text(db), &mut info);
    }
    let ev = ev.with_input_kinds(info.input_kinds());
    if let Some(outputs) = top.get("outputs") {
        let f = ev.force(&outputs.value);
        let result = ev.apply(f, Thunk::value(Value::Sym(Rc::new(Sym::Inputs))));
        if let Value::Sym(s) = &result {
            if let Sym::FlakeParts(module) = &**s {
                let mut roots = ModuleRoots::default();
                collect_roots(&ev, module, &mut roots, 0);
                info.roots = Some(roots);
            }
        }
    }
    Arc::new(info)
}

/// Reads the locked revision of each input. A lock Nix would refuse is reported; what it would
/// have said stays unknown (no revision, no date).
fn read_lock(text: &str, info: &mut FlakeInfo) {
    use crate::jsondata::{key_range, kind, DataProblem};
    use serde_json::Value;
    let mut problem = |range: TextRange, what: String| {
        info.lock_problems.push(DataProblem {
            file: "flake.lock".into(),
            range,
            message: format!(
                "`flake.lock` {what}, so Nix refuses to use it and infra-check treats the locked revisions as unknown. Write it again with `nix flake lock`."
            ),
        })
    };
    let lock = match crate::jsondata::parse("flake.lock", text) {
        Ok(v) => v,
        Err(p) => return problem(p.range, p.message),
    };
    info.lock = crate::inputs::Lock::from_json(&lock);
    let Some(top) = lock.as_object() else {
        return problem(
            TextRange::default(),
            format!("holds {} where Nix expects an object", kind(&lock)),
        );
    };
    let nodes = match top.get("nodes") {
        Some(Value::Object(n)) => n,
        Some(other) => {
            return problem(
                key_range(text, "nodes", 0),
                format!(
                    "has {} under `nodes`, where Nix expects an object",
                    kind(other)
                ),
            )
        }
        None => return problem(TextRange::default(), "has no `nodes`".into()),
    };
    let root = match top.get("root") {
        None => "root",
        Some(Value::String(r)) => r.as_str(),
        Some(other) => {
            return problem(
                key_range(text, "root", 0),
                format!(
                    "has {} under `root`, where Nix expects a node name",
                    kind(other)
                ),
            )
        }
    };
    let Some(root_node) = nodes.get(root) else {
        return problem(
            key_range(text, "root", 0),
            "names a root node that `nodes` does not have".into(),
        );
    };
    let root_inputs = match root_node.get("inputs") {
        // A flake without inputs.
        None => return,
        Some(Value::Object(i)) => i,
        Some(other) => {
            return problem(
                key_range(text, "inputs", 0),
                format!(
                    "has {} as the root node's `inputs`, where Nix expects an object",
                    kind(other)
                ),
            )
        }
    };
    for (name, node_ref) in root_inputs {
        let node_name = match node_ref {
            Value::String(n) => n,
            // `follows` another input's input: its revision is that input's.
            Value::Array(_) => continue,
            other => {
                problem(
                    key_range(text, name, 0),
                    format!(
                        "has {} for an input of the root node (at the marked key), where Nix expects a node name or a `follows` path",
                        kind(other)
                    ),
                );
                continue;
            }
        };
        let Some(node) = nodes.get(node_name) else {
            problem(
                key_range(text, name, 0),
                "names a node for an input of the root node (at the marked key) that `nodes` does not have".into(),
            );
            continue;
        };
        let locked = &node["locked"];
        let entry = info.inputs.entry(name.clone()).or_default();
        entry.rev = locked["rev"].as_str().map(String::from);
        entry.last_modified = locked["lastModified"].as_i64();
    }
}

/// Reads the module handed to `mkFlake`: an import-tree, a path, a list, or an inline module
/// with `imports`.
fn collect_roots(ev: &Evaluator, t: &Thunk, roots: &mut ModuleRoots, depth: u32) {
    if depth > 16 {
        roots.incomplete = true;
        return;
    }
    match ev.force(t) {
        Value::Sym(s) => match &*s {
            Sym::ImportTree(spec) => roots.import_trees.push(spec.clone()),
            // `inputs.flake-parts.flakeModules.modules`, `inputs.clan-core.flakeModules.default`:
            // they bring no module files of this flake.
            s if ev.is_inert_flake_module(s) => {}
            _ => roots.incomplete = true,
        },
        Value::Path(p) => roots.files.push(p.to_string()),
        Value::List(l) => {
            for x in l.iter() {
                collect_roots(ev, x, roots, depth + 1);
            }
        }
        Value::Attrs(a) => {
            if let Some(i) = a.get("imports") {
                collect_roots(ev, &i.value, roots, depth + 1);
            }
        }
        Value::Lambda(_) => {
            let v = ev.apply(
                ev.force(t),
                Thunk::value(Value::Sym(Rc::new(Sym::ModuleArgs(
                    crate::eval::ModuleArgsKind::FlakeParts,
                )))),
            );
            collect_roots(ev, &Thunk::value(v), roots, depth + 1);
        }
        _ => roots.incomplete = true,
    }
}

/// What each import-tree of the module handed to `mkFlake` loads ([`expand_import_tree`] of
/// each of [`flake_info`]'s `roots.import_trees`, in their order), memoised: it depends on
/// `flake.nix` and the disk tree alone, and listing a tree of 12,000 module files again was a
/// sixth of the work of every edit that changes a summary on 10,000 machines.
#[salsa::tracked(returns(ref))]
pub fn root_import_tree_files(db: &dyn Db, ws: Workspace) -> Arc<Vec<Vec<String>>> {
    let disk = ws.disk(db);
    Arc::new(match &flake_info(db, ws).roots {
        Some(roots) => roots
            .import_trees
            .iter()
            .map(|s| expand_import_tree(s, disk))
            .collect(),
        None => Vec::new(),
    })
}

/// The files an import-tree call loads, in the order it would list them.
pub fn expand_import_tree(spec: &ImportTreeSpec, disk: &DiskTree) -> Vec<String> {
    let mut out = Vec::new();
    for root in &spec.roots {
        match disk.get(root) {
            Some(EntryKind::File) => out.push(root.to_string()),
            Some(EntryKind::Symlink(_)) => out.extend(disk.alias(root).map(String::from)),
            Some(EntryKind::Dir) => {
                for (path, kind) in disk.under(root) {
                    if !matches!(kind, EntryKind::File | EntryKind::Symlink(_))
                        || !path.ends_with(".nix")
                    {
                        continue;
                    }
                    let rel = &path[root.len()..];
                    let rel = if rel.starts_with('/') {
                        rel.to_owned()
                    } else {
                        format!("/{rel}")
                    };
                    if rel.contains("/_") {
                        continue;
                    }
                    let keep = spec.filters.iter().all(|f| match f {
                        PathFilter::Keep(t) => t.test(&rel),
                        PathFilter::Drop(t) => !t.test(&rel),
                    });
                    if keep {
                        out.push(disk.alias(path).unwrap_or(path).to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Resolves an imported path to the `.nix` file the module system loads (a linked file where
/// it really is).
pub fn module_file_for(path: &str, disk: &DiskTree) -> Option<String> {
    if let Some(target) = disk.alias(path) {
        return Some(target.to_owned());
    }
    if disk.is_dir(path) {
        let d = if path.is_empty() {
            "default.nix".to_owned()
        } else {
            format!("{path}/default.nix")
        };
        return disk.exists(&d).then_some(d);
    }
    disk.exists(path).then(|| path.to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleFiles {
    pub files: BTreeSet<String>,
    /// The flake's module list could not be read completely.
    pub incomplete: bool,
    /// Some module file (or a directory that may hold some) could not be read: anything may be
    /// defined, declared or used there.
    pub unreadable: bool,
}

/// Every flake-parts module file of the workspace.
#[salsa::tracked(returns(ref))]
pub fn module_files(db: &dyn Db, ws: Workspace) -> Arc<ModuleFiles> {
    let info = flake_info(db, ws);
    let disk = ws.disk(db);
    let mut out = ModuleFiles::default();
    let Some(roots) = &info.roots else {
        out.incomplete = file_by_path(db, ws, "flake.nix").is_some() || info.unreadable;
        out.unreadable = info.unreadable;
        return Arc::new(out);
    };
    out.incomplete = roots.incomplete || roots.import_trees.iter().any(|s| s.opaque_filter);
    out.unreadable = roots
        .import_trees
        .iter()
        .any(|s| import_tree_hides_something(s, disk));
    let mut queue: Vec<String> = root_import_tree_files(db, ws)
        .iter()
        .flatten()
        .cloned()
        .collect();
    queue.extend(roots.files.iter().filter_map(|p| module_file_for(p, disk)));
    while let Some(path) = queue.pop() {
        if !out.files.insert(path.clone()) {
            continue;
        }
        let Some(file) = file_by_path(db, ws, &path) else {
            out.unreadable |= disk.is_unknown(&path);
            continue;
        };
        let Some(links) = module_links(db, ws, file) else {
            continue;
        };
        for p in &links.flake_imports {
            if let Some(f) = module_file_for(p, disk) {
                queue.push(f);
            }
        }
        // `imports = [ (inputs.import-tree ../../modules) ]` in a module file.
        for spec in &links.flake_import_trees {
            out.incomplete |= spec.opaque_filter;
            out.unreadable |= import_tree_hides_something(spec, disk);
            queue.extend(expand_import_tree(spec, disk));
        }
    }
    out.incomplete |= out.unreadable;
    Arc::new(out)
}

/// What a module file adds to the flake's module list: the paths and import-trees in its
/// top-level `imports` (`None` when it names none, as most do).
#[derive(Debug, PartialEq, Eq)]
struct ModuleLinks {
    flake_imports: Vec<String>,
    flake_import_trees: Vec<ImportTreeSpec>,
}

/// [`ModuleLinks`] of one file, memoised apart from its summary: [`module_files`] reads them
/// of every module file, and an edit that changes a summary seldom changes what it imports,
/// so the module list is not gathered again from thousands of files after each such edit.
#[salsa::tracked(returns(ref))]
fn module_links(db: &dyn Db, ws: Workspace, file: SourceFile) -> Option<Arc<ModuleLinks>> {
    let s = file_summary(db, ws, file);
    (!s.flake_imports.is_empty() || !s.flake_import_trees.is_empty()).then(|| {
        Arc::new(ModuleLinks {
            flake_imports: s.flake_imports.clone(),
            flake_import_trees: s.flake_import_trees.clone(),
        })
    })
}

/// Whether something an import-tree would load could not be read: a directory below one of its
/// roots that could not be listed, or a `.nix` file there with a name that is not UTF-8.
/// (Unreadable files that were listed are found when the module set is read.)
fn import_tree_hides_something(spec: &ImportTreeSpec, disk: &DiskTree) -> bool {
    spec.roots.iter().any(|root| {
        disk.is_unknown(root)
            || disk.problems_at_or_under(root).any(|(path, p)| {
                let rel = &path[root.len()..];
                !rel.contains("/_") && (p.is_dir() || path.ends_with(".nix"))
            })
    })
}

#[cfg(test)]
mod tests {
    use crate::tests::host_from_fixture;

    #[test]
    fn reads_inputs_lock_and_module_roots() {
        let host = host_from_fixture(
            r#"#- /flake.nix
{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    parts = { url = "github:hercules-ci/flake-parts"; inputs.nixpkgs-lib.follows = "nixpkgs"; };
    tree.url = "github:vic/import-tree";
    clan-core.url = "github:clan-lol/clan-core";
  };
  outputs = inputs@{ parts, tree, ... }:
    parts.lib.mkFlake { inherit inputs; } {
      imports = [ (tree [ ./modules ./more ]) ./single.nix ];
    };
}
#- /flake.lock
{"nodes":{"root":{"inputs":{"clan-core":"clan-core","nixpkgs":"nixpkgs"}},
 "clan-core":{"locked":{"type":"github","rev":"abc123","lastModified":1783862144}},
 "nixpkgs":{"locked":{"type":"github","rev":"def456","lastModified":1700000000}}},
 "root":"root","version":7}
#- /modules/a.nix
{ }
#- /modules/_skip/b.nix
{ }
#- /more/c.nix
{ }
#- /single.nix
{ imports = [ ./extra ]; }
#- /extra/default.nix
{ }
"#,
        );
        let a = host.snapshot();
        let (db, ws) = (a.db_for_tests(), a.workspace_for_tests());
        let info = super::flake_info(db, ws);
        assert_eq!(info.inputs.len(), 4);
        assert_eq!(info.inputs["clan-core"].rev.as_deref(), Some("abc123"));
        assert_eq!(info.inputs["clan-core"].last_modified, Some(1783862144));
        let kinds: Vec<_> = info.input_kinds().collect();
        assert!(kinds.contains(&("tree", "import-tree")), "{kinds:?}");
        assert!(kinds.contains(&("parts", "flake-parts")), "{kinds:?}");
        let files = super::module_files(db, ws);
        let list: Vec<&str> = files.files.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            list,
            vec![
                "extra/default.nix",
                "modules/a.nix",
                "more/c.nix",
                "single.nix"
            ]
        );
        assert!(!files.incomplete);
    }

    #[test]
    fn an_import_tree_in_a_module_file_loads_its_files_as_modules() {
        let host = host_from_fixture(
            r#"#- /flake.nix
{
  inputs = {
    flake-parts.url = "github:hercules-ci/flake-parts";
    import-tree.url = "github:vic/import-tree";
  };
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } { imports = [ ./parts/core.nix ]; };
}
#- /parts/core.nix
{ inputs, ... }: { imports = [ (inputs.import-tree ../modules) ]; }
#- /modules/a.nix
{ }
#- /modules/_skip/b.nix
{ }
#- /other/c.nix
{ }
"#,
        );
        let a = host.snapshot();
        let files = super::module_files(a.db_for_tests(), a.workspace_for_tests());
        let list: Vec<&str> = files.files.iter().map(|s| s.as_str()).collect();
        assert_eq!(list, vec!["modules/a.nix", "parts/core.nix"]);
        assert!(!files.incomplete);
    }

    #[test]
    fn unreadable_outputs_mean_no_module_files_and_an_incomplete_set() {
        let host = host_from_fixture(
            "#- /flake.nix\n{ outputs = inputs: inputs.other.lib.mkFlake ./modules; }\n#- /modules/a.nix\n{ }\n",
        );
        let a = host.snapshot();
        let files = super::module_files(a.db_for_tests(), a.workspace_for_tests());
        assert!(files.files.is_empty());
        assert!(files.incomplete);
    }

    /// An edit that changes a module file's summary but not what it imports leaves the module
    /// list as it was (not gathered again); one that adds an import gathers it again.
    #[test]
    fn the_module_list_is_gathered_again_only_when_an_import_changes() {
        use std::sync::Arc;
        let a_with = |body: &str| format!("{{\n  {body}\n}}\n");
        let mut host = host_from_fixture(&crate::tests::with_clan_flake(&format!(
            "#- /modules/a.nix\n{}#- /lib/extra.nix\n{{ flake.modules.nixos.extra = {{ }}; }}\n",
            a_with("flake.modules.nixos.a = { };")
        )));
        host.set_file_text(
            "modules/a.nix",
            Some(a_with("flake.modules.nixos.a = { };").into()),
        );
        let files = |host: &crate::AnalysisHost| {
            let a = host.snapshot();
            let (db, ws) = (a.db_for_tests(), a.workspace_for_tests());
            super::module_files(db, ws).clone()
        };
        let before = files(&host);
        assert!(before.files.contains("modules/a.nix") && !before.files.contains("lib/extra.nix"));

        host.set_file_text(
            "modules/a.nix",
            Some(a_with("flake.modules.nixos.b = { };").into()),
        );
        let renamed = files(&host);
        assert!(
            Arc::ptr_eq(&before, &renamed),
            "gathered again: {renamed:?}"
        );
        let a = host.snapshot();
        let (db, ws) = (a.db_for_tests(), a.workspace_for_tests());
        assert!(crate::index::module_index(db, ws).is_defined("nixos", "b"));
        drop(a);

        host.set_file_text(
            "modules/a.nix",
            Some(a_with("imports = [ ../lib/extra.nix ];").into()),
        );
        let imported = files(&host);
        assert!(imported.files.contains("lib/extra.nix"), "{imported:?}");
    }
}
