//! Which machines each diagnostic affects, for a deploy that refuses the machines a finding
//! breaks and lets the others through. A check that knows the machines says so on the
//! diagnostic (`Diagnostic::machines`); every other finding is attributed by where it is: a
//! file clan-core loads into one machine, a module and the machines whose configuration
//! reaches it, a file imported by path into such a module. Wherever the reach cannot be
//! known the answer is every machine: attributing too many refuses a deploy, too few lets a
//! broken machine through.

use std::collections::BTreeSet;

/// The machines a diagnostic affects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Affects {
    /// Every machine of the clan (the flake itself fails to evaluate, or the reach is unknown).
    All,
    /// Exactly these machines (may be empty: the finding breaks no machine's configuration,
    /// e.g. an info about a file nothing evaluates, or a vars orphan for a machine that no
    /// longer exists).
    Machines(BTreeSet<String>),
}

impl Affects {
    pub fn none() -> Affects {
        Affects::Machines(BTreeSet::new())
    }

    /// The machines either affects.
    pub fn union(self, other: Affects) -> Affects {
        match (self, other) {
            (Affects::Machines(mut a), Affects::Machines(b)) => {
                a.extend(b);
                Affects::Machines(a)
            }
            _ => Affects::All,
        }
    }

    pub fn contains(&self, machine: &str) -> bool {
        match self {
            Affects::All => true,
            Affects::Machines(ms) => ms.contains(machine),
        }
    }
}

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rnix::SyntaxKind::{NODE_ATTRPATH_VALUE, NODE_LET_IN, NODE_PATH_REL};
use rowan::ast::AstNode;

use crate::clan::resolve::{clan_model, ClanModel};
use crate::db::{file_by_path, parse, Db, SourceFile, Workspace};
use crate::diagnostic::{Diagnostic, Location};
use crate::summary::attr_display;

/// Element `i` says which machines `workspace_diagnostics()[i]` affects.
#[salsa::tracked(returns(ref))]
pub fn affected_machines(db: &dyn Db, ws: Workspace) -> Arc<Vec<Affects>> {
    let diagnostics = crate::checks::workspace_diagnostics(db, ws);
    let clan = clan_model(db, ws);
    let reach = Reach::new(db, ws);
    let mut by_place = Places {
        db,
        ws,
        clan,
        reach: &reach,
        modules: &crate::flake::module_files(db, ws).files,
        reached: crate::reach::reached(db, ws),
        cache: HashMap::new(),
    };
    let out = diagnostics
        .iter()
        .map(|d| {
            let affects = match &d.machines {
                Some(a) => a.clone(),
                None => by_place.of(d),
            };
            match affects {
                // Only machines of the clan can be deployed.
                Affects::Machines(ms) => Affects::Machines(
                    ms.into_iter()
                        .filter(|m| clan.machines.contains_key(m))
                        .collect(),
                ),
                Affects::All => Affects::All,
            }
        })
        .collect();
    Arc::new(out)
}

/// Which machines' configurations each module (by owner) is part of.
struct Reach {
    by_owner: HashMap<String, BTreeSet<String>>,
    /// Machines that import something infra-check cannot read: they are counted as reaching
    /// every module that unread code may reach (see `loose`).
    anywhere: BTreeSet<String>,
    /// The class of each machine whose class is known: a NixOS machine never imports a
    /// nix-darwin module (the module system refuses a module of another `_class`), whatever
    /// else it imports.
    classes: HashMap<String, String>,
    /// Modules code outside every import list names (`(class, name)`), and classes whose
    /// modules unread code may pick by a computed name or get as a whole set: only these can
    /// be what an unread import is. (Another flake's module cannot name this flake's modules.)
    loose: HashSet<(String, String)>,
    loose_classes: HashSet<String>,
    loose_all: bool,
    /// Some machine's modules cannot be found at all (a module file or `clan.machines` entry
    /// infra-check cannot read): any module may reach any machine.
    unknown: bool,
    /// Classes whose module names cannot all be read (a definition there may be named
    /// otherwise than infra-check reads it), or whose whole module set is handed to code
    /// infra-check does not follow (which machine gets what from it is not known).
    open_classes: BTreeSet<String>,
    open_all: bool,
}

impl Reach {
    fn new(db: &dyn Db, ws: Workspace) -> Reach {
        let clan = clan_model(db, ws);
        let idx = crate::index::module_index(db, ws);
        let loaded = crate::machine_config::loaded_files(db, ws);
        let open = crate::options::configs::open_owners(db, ws);
        let imported: HashSet<&Location> = idx
            .contexts
            .iter()
            .flat_map(|c| c.items.iter().map(|i| &i.location))
            .collect();
        let outside = crate::index::outside_uses(db, ws);
        let mut loose_classes: HashSet<String> = idx.escaped.iter().cloned().collect();
        loose_classes.extend(outside.any_name.iter().cloned());
        let mut loose: HashSet<(String, String)> = outside.names.iter().cloned().collect();
        for reference in &idx.references {
            match &reference.name {
                None => {
                    loose_classes.insert(reference.class.to_string());
                }
                Some(n) if !imported.contains(&reference.location) => {
                    loose.insert((reference.class.to_string(), n.to_string()));
                }
                Some(_) => {}
            }
        }
        let mut r = Reach {
            by_owner: HashMap::new(),
            anywhere: loaded.opaque.clone(),
            classes: clan
                .machines
                .iter()
                .filter_map(|(n, m)| Some((n.clone(), m.class.clone()?)))
                .collect(),
            loose,
            loose_classes,
            loose_all: idx.all_escaped || outside.all,
            unknown: crate::flake::module_files(db, ws).incomplete
                || !clan.machine_configs_complete,
            open_classes: idx.open_classes.union(&idx.escaped).cloned().collect(),
            open_all: idx.all_open || idx.all_escaped,
        };
        let add = |r: &mut Reach, owner: &str, machine: &str| {
            if open.contains(owner) {
                r.anywhere.insert(machine.to_owned());
            }
            r.by_owner
                .entry(owner.to_owned())
                .or_default()
                .insert(machine.to_owned());
        };
        // Every machine, whatever its class (the configurations below only cover machines
        // whose class is known).
        for m in clan.machines.keys() {
            for owner in &crate::vars::resolve::machine_modules(db, ws, m).owners {
                add(&mut r, owner, m);
            }
        }
        // Their home-manager users, and the modules local service roles give them.
        for c in crate::options::configs::workspace_configurations(db, ws).iter() {
            let Some(m) = &c.machine else { continue };
            for owner in c.owners.iter().chain(&c.service_owners) {
                add(&mut r, owner, m);
            }
        }
        r
    }

    /// Whether a module of `class` can be part of `machine`'s configuration: the module system
    /// refuses a NixOS module in a nix-darwin configuration and the other way round.
    fn fits(&self, machine: &str, class: &str) -> bool {
        !matches!(class, "nixos" | "darwin") || self.classes.get(machine).is_none_or(|c| c == class)
    }

    /// The machines whose configuration module `owner` (`name` of `class`) is part of.
    fn of(&self, class: &str, name: &str, owner: &str) -> Affects {
        // A flake-parts module is part of every output's evaluation.
        if self.unknown || class == "flake" || self.open_all || self.open_classes.contains(class) {
            return Affects::All;
        }
        let mut ms: BTreeSet<String> = self.by_owner.get(owner).cloned().unwrap_or_default();
        let loose = self.loose_all
            || self.loose_classes.contains(class)
            || self.loose.contains(&(class.to_owned(), name.to_owned()));
        // A machine module (`clan.machines.<m>`, `machines/<m>/…`) is only ever that machine's.
        if loose || !owner.starts_with("flake.modules.") {
            ms.extend(
                self.anywhere
                    .iter()
                    .filter(|m| self.fits(m, class))
                    .cloned(),
            );
        }
        Affects::Machines(ms)
    }
}

/// Attribution by where a finding is.
struct Places<'a> {
    db: &'a dyn Db,
    ws: Workspace,
    clan: &'a ClanModel,
    reach: &'a Reach,
    modules: &'a BTreeSet<String>,
    reached: &'a crate::reach::Reached,
    /// Files imported by path: the machines their importers reach.
    cache: HashMap<String, Affects>,
}

/// Files clan and flake-parts read for every machine.
const WHOLE_FLAKE: &[&str] = &[
    "flake.nix",
    "flake.lock",
    "inventory.json",
    crate::config::CONFIG_FILE,
];

impl Places<'_> {
    fn of(&mut self, d: &Diagnostic) -> Affects {
        let file = &*d.location.file;
        if matches!(d.code, "syntax/parse-error" | "module/import-not-found")
            && !self.reached.contains(file)
        {
            // Shown as information: nothing evaluates the file.
            return Affects::none();
        }
        if WHOLE_FLAKE.contains(&file) {
            return Affects::All;
        }
        if let Some(a) = self.machine_directory(file) {
            return a;
        }
        if !file.ends_with(".nix") {
            return Affects::All;
        }
        if self.modules.contains(file) {
            // flake-parts imports every module file, so one it cannot read fails everything.
            if d.code.starts_with("syntax/") || d.code.starts_with("workspace/") {
                return Affects::All;
            }
            return self.at(&d.location);
        }
        if !self.reached.contains(file) {
            return Affects::none();
        }
        self.imported(file, &mut HashSet::new())
    }

    /// A path below a machine's own directories: that machine (none when it is not one).
    fn machine_directory(&self, file: &str) -> Option<Affects> {
        let machine = if let Some((m, _)) = crate::machine_config::machine_of(file) {
            // A file clan-core does not load for the machine's class is read like any other.
            let class = self.clan.machines.get(m).and_then(|x| x.class.as_deref());
            if self.clan.machines.contains_key(m)
                && crate::machine_config::is_loaded(file, class).is_none()
            {
                return None;
            }
            m
        } else {
            let rest = file
                .strip_prefix("vars/per-machine/")
                .or_else(|| file.strip_prefix("sops/machines/"))?;
            rest.split('/').next().filter(|m| !m.is_empty())?
        };
        Some(if self.clan.machines.contains_key(machine) {
            Affects::Machines([machine.to_owned()].into())
        } else if self.clan.machines_complete {
            Affects::none()
        } else {
            Affects::All
        })
    }

    /// The machines reaching the module that `loc` (in a flake-parts module file or
    /// `flake.nix`) is inside.
    fn at(&self, loc: &Location) -> Affects {
        let Some(f) = file_by_path(self.db, self.ws, &loc.file) else {
            return Affects::All;
        };
        let defs = self.definitions(f);
        match enclosing(self.db, f, loc.range, &defs) {
            Enclosing::Owner(i) => self.reach.of(&defs[i].class, &defs[i].name, &defs[i].owner),
            // A `let` binding of a file that only defines modules is used by those modules.
            // (Where the file sets anything else, flake-level code may use it too.)
            Enclosing::LetBound if !defs.is_empty() && only_modules(self.db, self.ws, f) => {
                defs.iter().fold(Affects::none(), |a, d| {
                    a.union(self.reach.of(&d.class, &d.name, &d.owner))
                })
            }
            // Flake-level code (`imports`, `perSystem`, the clan): every output.
            _ => Affects::All,
        }
    }

    /// The modules a file defines: class, owner and where the definition's name is written.
    fn definitions(&self, f: SourceFile) -> Vec<Def> {
        let path = f.path(self.db);
        let mut out: Vec<_> = crate::summary::file_summary(self.db, self.ws, f)
            .definitions
            .iter()
            .filter(|d| *d.location.file == **path)
            .map(|d| Def {
                class: d.class.clone(),
                name: d.name.clone(),
                owner: format!("flake.modules.{}.{}", d.class, attr_display(&d.name)),
                at: d.location.range,
            })
            .collect();
        for (m, locs) in &self.clan.machine_configs {
            let class = self
                .clan
                .machines
                .get(m)
                .and_then(|x| x.class.clone())
                .unwrap_or_default();
            for l in locs.iter().filter(|l| *l.file == **path) {
                out.push(Def {
                    class: class.clone(),
                    name: m.clone(),
                    owner: format!("clan.machines.{}", attr_display(m)),
                    at: l.range,
                });
            }
        }
        out
    }

    /// A file that is no flake-parts module: the machines reaching the places that import
    /// it by path (transitively), or every machine when it is reached otherwise.
    fn imported(&mut self, file: &str, visiting: &mut HashSet<String>) -> Affects {
        if let Some(a) = self.cache.get(file) {
            return a.clone();
        }
        if !visiting.insert(file.to_owned()) {
            // A cycle of imports adds nothing the first visit does not.
            return Affects::none();
        }
        let mut out = Affects::none();
        let mut found = false;
        let files: Vec<(String, SourceFile)> = self
            .ws
            .files(self.db)
            .iter()
            .filter(|(p, _)| p.ends_with(".nix"))
            .map(|(p, f)| (p.clone(), *f))
            .collect();
        for (path, f) in files {
            if out == Affects::All {
                break;
            }
            let named = crate::reach::named_paths(self.db, self.ws, f);
            let names = |p: &String| p == file || format!("{p}/default.nix") == file;
            let below = |p: &String| p.is_empty() || file.starts_with(&format!("{p}/"));
            // import-tree skips paths with `/_` below its root.
            let in_tree = |t: &String| below(t) && !file[t.len()..].contains("/_");
            if named.prefixes.iter().any(below) || named.trees.iter().any(in_tree) {
                // Code picks files below a directory: where it puts them is not known.
                return self.remember(file, Affects::All);
            }
            if !named.paths.iter().any(names) {
                continue;
            }
            for at in path_literals(self.db, f, file) {
                found = true;
                let loc = Location::new(&path, at);
                let a = if path == "flake.nix" || self.modules.contains(&path) {
                    self.at(&loc)
                } else if let Some(a) = self.machine_directory(&path) {
                    a
                } else if self.reached.contains(&path) {
                    self.imported(&path, visiting)
                } else {
                    Affects::none()
                };
                out = out.union(a);
            }
        }
        if !found {
            // Reached, but not by a path literal infra-check can place.
            out = Affects::All;
        }
        self.remember(file, out)
    }

    fn remember(&mut self, file: &str, a: Affects) -> Affects {
        self.cache.insert(file.to_owned(), a.clone());
        a
    }
}

/// A module a file defines: its class and name, its owner, where its name is written.
struct Def {
    class: String,
    name: String,
    owner: String,
    at: crate::diagnostic::TextRange,
}

/// Whether a flake-parts module file sets nothing at its top but `flake` (its modules).
fn only_modules(db: &dyn Db, ws: Workspace, f: SourceFile) -> bool {
    let top = &crate::summary::file_summary(db, ws, f).top_module;
    top.keys_complete && top.keys.iter().all(|(k, _)| k == "flake")
}

enum Enclosing {
    /// Inside the definition at this index.
    Owner(usize),
    /// Inside a `let` binding (outside every definition).
    LetBound,
    Outside,
}

/// The innermost module definition whose `name = …` binding holds `range`.
fn enclosing(
    db: &dyn Db,
    f: SourceFile,
    range: crate::diagnostic::TextRange,
    defs: &[Def],
) -> Enclosing {
    let root = parse(db, f).syntax();
    let len: u32 = root.text_range().end().into();
    let r = rowan::TextRange::new(range.start.min(len).into(), range.end.min(len).into());
    let start = match root.covering_element(r) {
        rowan::NodeOrToken::Node(n) => Some(n),
        rowan::NodeOrToken::Token(t) => t.parent(),
    };
    let mut let_bound = false;
    for node in start.into_iter().flat_map(|n| n.ancestors()) {
        if node.kind() != NODE_ATTRPATH_VALUE {
            continue;
        }
        if let Some(path) = rnix::ast::AttrpathValue::cast(node.clone()).and_then(|a| a.attrpath())
        {
            let key = path.syntax().text_range();
            let inside = |d: &crate::diagnostic::TextRange| {
                key.start() <= d.start.into() && rowan::TextSize::from(d.end) <= key.end()
            };
            if let Some(i) = defs.iter().position(|d| inside(&d.at)) {
                return Enclosing::Owner(i);
            }
        }
        let_bound |= node.parent().is_some_and(|p| p.kind() == NODE_LET_IN);
    }
    if let_bound {
        Enclosing::LetBound
    } else {
        Enclosing::Outside
    }
}

/// Where `importer` names `target` with a path literal.
fn path_literals(
    db: &dyn Db,
    importer: SourceFile,
    target: &str,
) -> Vec<crate::diagnostic::TextRange> {
    let dir = crate::disk::parent_dir(importer.path(db));
    parse(db, importer)
        .syntax()
        .descendants()
        .filter(|n| n.kind() == NODE_PATH_REL)
        .filter(|n| {
            crate::reach::literal_target(dir, n)
                .is_some_and(|p| p == target || format!("{p}/default.nix") == target)
        })
        .map(|n| n.text_range().into())
        .collect()
}
