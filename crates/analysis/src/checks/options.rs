//! `option/type-mismatch`, `option/unknown`, `option/conflict` and
//! `platform/option-unavailable`, per configuration: each clan machine (the modules its
//! configuration reaches) and the flake-parts configuration itself.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::attribution::Affects;
use crate::db::{Db, Workspace};
use crate::diagnostic::{Diagnostic, Location};
use crate::options::configs::{workspace_configurations, Configuration};
use crate::options::merge::merge_all;
use crate::options::model::{DeclaredIn, Definition, OptionRead, FLAKE_PARTS};
use crate::options::types::OptType;
use crate::summary::ContextClass;

use super::inventory::Suggester;

/// Top-level option names of NixOS, nix-darwin, home-manager, flake-parts and common
/// third-party modules. A repository's own namespace is one whose first name is not here:
/// only there is every declaration known, so only there can an option be "unknown".
const FOREIGN_TOP_LEVEL: &[&str] = &[
    "_module",
    "age",
    "appstream",
    "assertions",
    "boot",
    "catppuccin",
    "clan",
    "console",
    "containers",
    "disko",
    "documentation",
    "environment",
    "facter",
    "fileSystems",
    "flake",
    "fonts",
    "gtk",
    "hardware",
    "home",
    "home-manager",
    "homebrew",
    "i18n",
    "ids",
    "isContainer",
    "jobs",
    "krb5",
    "launchd",
    "lib",
    "location",
    "manual",
    "meta",
    "networking",
    "news",
    "nix",
    "nix-homebrew",
    "nixpkgs",
    "perSystem",
    "power",
    "powerManagement",
    "programs",
    "qt",
    "security",
    "services",
    "sops",
    "sound",
    "specialisation",
    "srvos",
    "stylix",
    "swapDevices",
    "system",
    "systemd",
    "systems",
    "targets",
    "time",
    "transposition",
    "users",
    "virtualisation",
    "warnings",
    "xdg",
    "xsession",
    "zramSwap",
];

/// Whether `first` is in [`FOREIGN_TOP_LEVEL`] (which is sorted).
fn is_foreign(first: &str) -> bool {
    FOREIGN_TOP_LEVEL.binary_search(&first).is_ok()
}

struct Config<'a> {
    /// `machine `m`` or `the flake-parts configuration`.
    name: String,
    class: String,
    /// The declarations this configuration's modules make (and its catalog's).
    decls: Vec<&'a DeclaredIn>,
    /// Every declaration in the repository that could be part of this configuration, by path:
    /// declarations of one option merge, and one made by a module infra-check does not see
    /// reaching the configuration is still merged in, so a definition is never judged
    /// against less than the module system may see.
    merge_with: &'a FxHashMap<&'a [String], Vec<&'a DeclaredIn>>,
    defs: Vec<&'a Definition>,
    /// `config.<path>` reads in its modules.
    reads: Vec<&'a OptionRead>,
    /// A catalog of every option of this configuration is loaded: any namespace can be judged.
    complete: bool,
    /// The configuration's modules, for an option declared where it does not reach.
    model: Option<&'a Configuration>,
    /// Every declaration of the repository this class of configuration may see.
    repo: Option<&'a DeclIndex<'a>>,
}

/// Whether a declaration or definition made in a module of class `c` takes part in a
/// configuration of `class`.
fn fits(class: &str, c: &ContextClass) -> bool {
    match c {
        ContextClass::Known(k) => k == class || k == "generic",
        ContextClass::Machine(_) | ContextClass::Role(_) => class != "homeManager",
    }
}

pub(super) fn check(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    // With those of the files clan-core loads from `machines/<m>/`. A machine with one that
    // cannot be read or evaluated in full is not judged.
    let fragments = crate::options::configs::options_fragments(db, ws);
    let decls: Vec<&DeclaredIn> = fragments.iter().flat_map(|o| o.decls.iter()).collect();
    let defs: Vec<&Definition> = fragments.iter().flat_map(|o| o.defs.iter()).collect();
    let (catalogs, problems) = &**crate::options::catalog::catalogs(db, ws);
    let mut out: Vec<Diagnostic> = problems
        .iter()
        .map(|(file, range, message)| {
            Diagnostic::new("config/invalid", file, *range, message.clone())
        })
        .collect();
    if decls.is_empty() && defs.is_empty() {
        return out;
    }
    // Catalog options as declarations (located at the catalog file).
    let catalog_decls: Vec<(&crate::options::catalog::Catalog, Vec<DeclaredIn>)> = catalogs
        .iter()
        .map(|c| {
            let ds = c
                .options
                .values()
                .map(|o| DeclaredIn {
                    decl: crate::options::read::OptionDecl {
                        path: o.path.clone(),
                        spec: o.spec.clone(),
                        default: None,
                        description: o.description.clone(),
                        location: Location::new(&c.file, Default::default()),
                    },
                    owner: format!("catalog {}", c.file).into(),
                    class: ContextClass::Known(c.class.clone()),
                })
                .collect();
            (c, ds)
        })
        .collect();
    let mut flake_by_path: FxHashMap<&[String], Vec<&DeclaredIn>> = FxHashMap::default();
    let mut module_by_path: FxHashMap<&[String], Vec<&DeclaredIn>> = FxHashMap::default();
    for d in &decls {
        let m = if *d.owner == *FLAKE_PARTS {
            &mut flake_by_path
        } else {
            &mut module_by_path
        };
        m.entry(d.decl.path.as_slice()).or_default().push(d);
    }
    let mut configs = vec![Config {
        name: "the flake-parts configuration".into(),
        class: "flake".into(),
        merge_with: &flake_by_path,
        decls: decls
            .iter()
            .copied()
            .filter(|d| *d.owner == *FLAKE_PARTS)
            .collect(),
        defs: defs
            .iter()
            .copied()
            .filter(|d| *d.owner == *FLAKE_PARTS)
            .collect(),
        reads: Vec::new(),
        complete: false,
        model: None,
        repo: None,
    }];
    // Declarations and definitions by the module that makes them, so each configuration's
    // view is built from its own modules instead of scanning all of them.
    let mut decls_by_owner: FxHashMap<&str, Vec<&DeclaredIn>> = Default::default();
    for d in &decls {
        decls_by_owner.entry(d.owner.as_ref()).or_default().push(d);
    }
    let mut defs_by_owner: FxHashMap<&str, Vec<&Definition>> = Default::default();
    for d in &defs {
        defs_by_owner.entry(d.owner.as_ref()).or_default().push(d);
    }
    let mut reads_by_owner: FxHashMap<&str, Vec<&OptionRead>> = Default::default();
    for o in &fragments {
        for r in &o.reads {
            reads_by_owner.entry(r.owner.as_ref()).or_default().push(r);
        }
    }
    let modules_readable = !crate::flake::module_files(db, ws).unreadable;
    let model = workspace_configurations(db, ws);
    // The repository's declarations each class of configuration may see, for options
    // declared somewhere that does not reach a configuration.
    let repo: FxHashMap<&str, DeclIndex> = ["nixos", "darwin", "homeManager"]
        .into_iter()
        .map(|class| {
            let ds: Vec<&DeclaredIn> = decls
                .iter()
                .copied()
                .filter(|d| *d.owner != *FLAKE_PARTS && fits(class, &d.class))
                .collect();
            (class, DeclIndex::new(&ds))
        })
        .collect();
    for m in model.iter() {
        let class = m.class.as_str();
        let mut config_decls: Vec<&DeclaredIn> = Vec::new();
        let mut config_defs: Vec<&Definition> = Vec::new();
        let mut config_reads: Vec<&OptionRead> = Vec::new();
        for o in m.owners.iter().chain(&m.service_owners) {
            config_decls.extend(
                decls_by_owner
                    .get(o.as_ref())
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|d| fits(class, &d.class)),
            );
        }
        for o in &m.owners {
            config_defs.extend(
                defs_by_owner
                    .get(o.as_ref())
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|d| fits(class, &d.class)),
            );
            config_reads.extend(
                reads_by_owner
                    .get(o.as_ref())
                    .into_iter()
                    .flatten()
                    .copied(),
            );
        }
        // A catalog describes the machine it was dumped from (or every machine of its class
        // when it names none).
        let mut complete = false;
        for (c, ds) in &catalog_decls {
            if c.class == class
                && c.machine
                    .as_ref()
                    .is_none_or(|x| Some(x) == m.machine.as_ref())
            {
                config_decls.extend(ds.iter());
                complete = true;
            }
        }
        if config_defs.is_empty() && config_reads.is_empty() {
            continue;
        }
        configs.push(Config {
            complete,
            merge_with: &module_by_path,
            name: m.name.clone(),
            class: m.class.clone(),
            decls: config_decls,
            defs: config_defs,
            reads: config_reads,
            model: Some(m),
            repo: repo.get(class),
        });
    }
    let sole = SoleDeclarer::new(db, ws, &fragments, modules_readable);
    let mut seen = Seen::default();
    let mut platform: BTreeMap<
        Location,
        (
            Vec<String>,
            &Definition,
            &'static crate::options::platform::PlatformOnly,
            Affects,
        ),
    > = BTreeMap::new();
    let mut suggester = Suggester::new();
    let mut unreached = BTreeMap::new();
    for c in &configs {
        types_and_unknown(
            c,
            &sole,
            &mut seen,
            &mut suggester,
            &mut unreached,
            &mut out,
        );
        conflicts(c, &mut seen, &mut out);
        if c.class == "nixos" || c.class == "darwin" {
            for d in &c.defs {
                let path: Vec<&str> = d.path.iter().map(String::as_str).collect();
                if let Some(p) = crate::options::platform::platform_only(&path) {
                    if p.only != c.class {
                        let e = platform
                            .entry(d.location.clone())
                            .or_insert_with(|| (Vec::new(), d, p, Affects::none()));
                        e.0.push(c.name.clone());
                        e.3 = std::mem::replace(&mut e.3, Affects::All).union(c.affects());
                    }
                }
            }
        }
    }
    report_unreached(unreached, &mut out);
    for (loc, (machines, d, p, affects)) in platform {
        let other = if p.only == "darwin" {
            "nix-darwin"
        } else {
            "NixOS"
        };
        let this = if p.only == "darwin" {
            "NixOS"
        } else {
            "nix-darwin"
        };
        out.push(Diagnostic::new(
            "platform/option-unavailable",
            &loc.file,
            loc.range,
            format!(
                "`{}` exists only on {other} (`{}` is a {other} option; source: {}), but this module reaches {}, evaluated as {this}.",
                d.path.join("."),
                p.path.join("."),
                p.source,
                machines.join(", ")
            ),
        ).affecting(Some(affects)));
    }
    out
}

/// The option findings already made, by code and place: a definition wrong in several
/// configurations is reported once, as breaking all of them.
#[derive(Default)]
struct Seen(FxHashMap<(&'static str, Location), usize>);

impl Seen {
    /// Whether the finding `code` at `at` is new; if it was made already, the configuration
    /// `c` is added to those it breaks.
    fn first(
        &mut self,
        code: &'static str,
        at: &Location,
        c: &Config,
        out: &mut [Diagnostic],
    ) -> bool {
        match self.0.get(&(code, at.clone())) {
            Some(&i) => {
                let d = &mut out[i];
                d.machines = Some(match d.machines.take() {
                    Some(a) => a.union(c.affects()),
                    None => c.affects(),
                });
                false
            }
            None => {
                self.0.insert((code, at.clone()), out.len());
                true
            }
        }
    }
}

/// The option covering a definition path: the longest declared path that is a prefix, with
/// the type every declaration of that option gives it together.
struct Covering<'a> {
    /// One declaration of it (the first written), to point at.
    decl: &'a DeclaredIn,
    ty: OptType,
}

impl<'a> Config<'a> {
    /// The machines a finding in this configuration breaks: the machine it is (or whose user
    /// it is), none for a standalone home configuration, every one for the flake-parts
    /// configuration.
    fn affects(&self) -> Affects {
        match self.model {
            Some(m) => Affects::Machines(m.machine.iter().cloned().collect()),
            None => Affects::All,
        }
    }

    /// Whether a declaration elsewhere in the repository may take part in this configuration.
    fn admits(&self, d: &DeclaredIn) -> bool {
        match &d.class {
            ContextClass::Known(k) => self.class == "flake" || k == &self.class,
            ContextClass::Machine(_) | ContextClass::Role(_) => true,
        }
    }

    /// The repository's declaration of the option `path` belongs to, made in a module that
    /// does not reach this configuration, when this configuration's modules are all known
    /// (so none of them declares it). Only declarations the platform cannot also make count:
    /// one with a description or a default and a type that is not a submodule (declaring the
    /// same option twice fails, unless it is a bare submodule extended by several modules).
    fn declared_elsewhere(&self, path: &[String]) -> Option<&'a DeclaredIn> {
        let m = self.model?;
        if !m.complete {
            return None;
        }
        let d = self.repo?.covering(path)?;
        let first = d.decl.path.first()?;
        if m.input_namespaces
            .binary_search_by(|n| (**n).cmp(first.as_str()))
            .is_ok()
        {
            return None;
        }
        distinctive(d).then_some(d)
    }

    fn covering(&self, index: &DeclIndex<'a>, path: &[String]) -> Option<Covering<'a>> {
        let option = index.covering(path)?.decl.path.as_slice();
        let mut all: Vec<&'a DeclaredIn> = index.by_path.get(option).cloned().unwrap_or_default();
        for d in self.merge_with.get(option).into_iter().flatten() {
            if self.admits(d) && !all.iter().any(|x| x.decl.location == d.decl.location) {
                all.push(d);
            }
        }
        all.sort_by(|a, b| {
            (&a.decl.location.file, a.decl.location.range.start)
                .cmp(&(&b.decl.location.file, b.decl.location.range.start))
        });
        Some(Covering {
            decl: all[0],
            ty: merge_all(all.iter().map(|d| &d.decl.spec.ty)),
        })
    }
}

/// A declaration no other module (the platform's) can also make: declaring an option twice
/// fails unless neither declaration has a description or default and their types merge, as
/// bare submodules extending another module's option do (nixpkgs' `mergeOptionDecls`).
fn distinctive(d: &DeclaredIn) -> bool {
    (d.decl.description.is_some() || !d.decl.spec.required) && plain_type(&d.decl.spec.ty)
}

/// A type no module can extend: no submodule and nothing unknown in it.
fn plain_type(t: &OptType) -> bool {
    match t {
        OptType::Submodule(_) | OptType::Unknown => false,
        OptType::ListOf(e) | OptType::AttrsOf(e) | OptType::NullOr(e) => plain_type(e),
        OptType::Either(ts) => ts.iter().all(plain_type),
        _ => true,
    }
}

/// An option set or read where the module declaring it does not reach: reported once per
/// place, naming every configuration it is missing from.
struct Unreached<'a> {
    path: &'a [String],
    read: bool,
    decl: &'a DeclaredIn,
    /// The configurations, and where the declaring module would have to be imported.
    configs: Vec<(String, String)>,
    /// The machines those configurations are.
    affects: Affects,
}

/// A configuration's declarations by path, so that each definition costs lookups along its
/// own path instead of a scan of every declaration.
struct DeclIndex<'a> {
    /// The declarations of each path, in order.
    by_path: FxHashMap<&'a [String], Vec<&'a DeclaredIn>>,
    /// Every proper prefix of a declared path (an option group).
    groups: FxHashSet<&'a [String]>,
}

impl<'a> DeclIndex<'a> {
    fn new(decls: &[&'a DeclaredIn]) -> Self {
        let mut by_path: FxHashMap<&[String], Vec<&DeclaredIn>> = FxHashMap::default();
        let mut groups = FxHashSet::default();
        for d in decls {
            let path = d.decl.path.as_slice();
            by_path.entry(path).or_default().push(d);
            for n in 0..path.len() {
                groups.insert(&path[..n]);
            }
        }
        DeclIndex { by_path, groups }
    }

    /// The declaration covering a definition path: the longest declared path that is a
    /// prefix (the last declared, when several modules declare it).
    fn covering(&self, path: &[String]) -> Option<&'a DeclaredIn> {
        (0..=path.len()).rev().find_map(|n| {
            self.by_path
                .get(&path[..n])
                .and_then(|ds| ds.last().copied())
        })
    }

    /// The first declaration of exactly `path`.
    fn at(&self, path: &[String]) -> Option<&'a DeclaredIn> {
        self.by_path.get(path).and_then(|ds| ds.first().copied())
    }

    /// Some option is declared below `path`.
    fn is_group(&self, path: &[String]) -> bool {
        self.groups.contains(path)
    }
}

/// Whether "nothing in this repository declares it" can be said of an option under a namespace
/// the repository declares into: every module file was read, no module imports a flake
/// input's module whose declarations are not known (such a module may declare into the same
/// namespace, as `inputs.preservation.nixosModules.preservation` does under `preservation`),
/// no known one declares that namespace, and no `.nix` file infra-check did not read as a
/// module mentions `options` and the namespace. (Imports it cannot follow, such as
/// `"${modulesPath}/profiles/qemu-guest.nix"`, are taken to be the platform's own.)
struct SoleDeclarer {
    possible: bool,
    from_inputs: BTreeSet<Arc<str>>,
    unread: Vec<Arc<str>>,
    cache: std::cell::RefCell<FxHashMap<String, bool>>,
}

impl SoleDeclarer {
    fn new(
        db: &dyn Db,
        ws: Workspace,
        fragments: &[&crate::options::model::OptionsFragment],
        modules_readable: bool,
    ) -> Self {
        let (inputs_known, from_inputs) = crate::options::configs::input_declarations(db, ws);
        let possible = modules_readable && inputs_known;
        let mut read: FxHashSet<&str> = FxHashSet::default();
        for o in fragments {
            for d in &o.decls {
                read.insert(&*d.decl.location.file);
            }
            for d in &o.defs {
                read.insert(&*d.location.file);
            }
        }
        let modules = crate::flake::module_files(db, ws);
        read.extend(modules.files.iter().map(String::as_str));
        let loaded = crate::machine_config::loaded_files(db, ws);
        read.extend(loaded.by_machine.values().flatten().map(String::as_str));
        let unread = if possible {
            ws.files(db)
                .iter()
                .filter(|(p, _)| p.ends_with(".nix") && !read.contains(p.as_str()))
                .map(|(_, f)| f.text(db).clone())
                .filter(|t| t.contains("options"))
                .collect()
        } else {
            Vec::new()
        };
        SoleDeclarer {
            possible,
            from_inputs,
            unread,
            cache: Default::default(),
        }
    }

    fn holds_for(&self, namespace: &str) -> bool {
        if !self.possible || self.from_inputs.contains(namespace) {
            return false;
        }
        *self
            .cache
            .borrow_mut()
            .entry(namespace.to_owned())
            .or_insert_with(|| !self.unread.iter().any(|t| t.contains(namespace)))
    }
}

fn types_and_unknown<'a>(
    c: &Config<'a>,
    sole: &SoleDeclarer,
    seen: &mut Seen,
    suggester: &mut Suggester,
    unreached: &mut BTreeMap<Location, Unreached<'a>>,
    out: &mut Vec<Diagnostic>,
) {
    let owned: BTreeSet<&str> = c
        .decls
        .iter()
        .filter_map(|d| d.decl.path.first().map(String::as_str))
        .filter(|f| !is_foreign(f))
        .collect();
    let index = DeclIndex::new(&c.decls);
    let mut names: Option<Vec<String>> = None;
    for d in &c.defs {
        match c.covering(&index, &d.path) {
            Some(Covering { decl, ty }) => {
                let Some(v) = &d.value else { continue };
                // The platform may declare the same option, and its type merges with this one.
                if !decl.owner.starts_with("catalog ")
                    && decl.decl.path.first().is_some_and(|f| is_foreign(f))
                    && !distinctive(decl)
                {
                    continue;
                }
                let rest = &d.path[decl.decl.path.len()..];
                if let Err(why) = ty.check_at_path(rest, v) {
                    let loc = d
                        .value_location
                        .clone()
                        .unwrap_or_else(|| d.location.clone());
                    if !seen.first("option/type-mismatch", &loc, c, out) {
                        continue;
                    }
                    out.push(
                        Diagnostic::new(
                            "option/type-mismatch",
                            &loc.file,
                            loc.range,
                            format!("`{}` has the wrong type: {why}.", d.path.join(".")),
                        )
                        .with_related(
                            &decl.decl.location.file,
                            decl.decl.location.range,
                            format!(
                                "`{}` is declared here as {}",
                                decl.decl.path.join("."),
                                ty.describe()
                            ),
                        )
                        .affecting(Some(c.affects())),
                    );
                }
            }
            None => {
                let Some(first) = d.path.first() else {
                    continue;
                };
                if let Some(decl) = c.declared_elsewhere(&d.path) {
                    note_unreached(c, &d.path, false, decl, &d.location, unreached);
                    continue;
                }
                let own = owned.contains(first.as_str()) && sole.holds_for(first);
                if !(own || (c.complete && first != "_module")) {
                    continue;
                }
                // A definition of a whole group (`fleet = { };`) is not an unknown option.
                if index.is_group(&d.path) || index.at(&d.path).is_some() {
                    continue;
                }
                if !seen.first("option/unknown", &d.location, c, out) {
                    continue;
                }
                let dotted = d.path.join(".");
                let names = names
                    .get_or_insert_with(|| c.decls.iter().map(|x| x.decl.path.join(".")).collect());
                let mut message = if own {
                    format!("`{dotted}` is not an option: nothing in this repository declares it, and `{first}` is this repository's own namespace")
                } else {
                    format!("`{dotted}` is not an option of {}: the option catalog loaded for it does not have it", c.name)
                };
                let best = suggester.suggest(&dotted, names.iter().map(String::as_str));
                match best {
                    Some(best) => message.push_str(&format!("; did you mean `{best}`?")),
                    None => message.push('.'),
                }
                let mut diag = Diagnostic::new(
                    "option/unknown",
                    &d.location.file,
                    d.location.range,
                    message,
                )
                .affecting(Some(c.affects()));
                // At most `Suggester::MAX` times: one more pass over the names.
                let declared = best.and_then(|b| names.iter().position(|n| n == b));
                if let (Some(best), Some(i)) = (best, declared) {
                    let x = c.decls[i];
                    diag = diag.with_related(
                        &x.decl.location.file,
                        x.decl.location.range,
                        format!("`{best}` is declared here"),
                    );
                }
                out.push(diag);
            }
        }
    }
    for r in &c.reads {
        if index.covering(&r.path).is_some() || index.is_group(&r.path) {
            continue;
        }
        if let Some(decl) = c.declared_elsewhere(&r.path) {
            note_unreached(c, &r.path, true, decl, &r.location, unreached);
        }
    }
}

fn note_unreached<'a>(
    c: &Config<'a>,
    path: &'a [String],
    read: bool,
    decl: &'a DeclaredIn,
    at: &Location,
    unreached: &mut BTreeMap<Location, Unreached<'a>>,
) {
    let Some(m) = c.model else { return };
    let u = unreached.entry(at.clone()).or_insert_with(|| Unreached {
        path,
        read,
        decl,
        configs: Vec::new(),
        affects: Affects::none(),
    });
    if !u.configs.iter().any(|(n, _)| *n == m.name) {
        u.configs.push((m.name.clone(), m.import_into.clone()));
    }
    u.affects = std::mem::replace(&mut u.affects, Affects::All).union(c.affects());
}

/// `option/unknown` for options declared where they do not reach.
fn report_unreached(unreached: BTreeMap<Location, Unreached>, out: &mut Vec<Diagnostic>) {
    for (at, u) in unreached {
        let dotted = u.path.join(".");
        let option = u.decl.decl.path.join(".");
        let names: Vec<&str> = u.configs.iter().map(|(n, _)| n.as_str()).collect();
        let into: Vec<&str> = u.configs.iter().map(|(_, i)| i.as_str()).collect();
        let what = if u.read {
            format!("`config.{dotted}` is read here")
        } else {
            format!("`{dotted}` is set here")
        };
        let message = format!(
            "{what}, but no module of {} declares `{option}`: it is declared in `{}`, which does not reach {}. Import that module into {}.",
            and_list(&names),
            u.decl.owner,
            if names.len() == 1 { "it" } else { "them" },
            and_list(&into),
        );
        out.push(
            Diagnostic::new("option/unknown", &at.file, at.range, message)
                .with_related(
                    &u.decl.decl.location.file,
                    u.decl.decl.location.range,
                    format!("`{option}` is declared here, in `{}`", u.decl.owner),
                )
                .affecting(Some(u.affects)),
        );
    }
}

pub(crate) fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn conflicts(c: &Config, seen: &mut Seen, out: &mut Vec<Diagnostic>) {
    let mut by_path: BTreeMap<&[String], Vec<&Definition>> = BTreeMap::new();
    for d in &c.defs {
        if !d.conditional && d.value.is_some() {
            by_path.entry(d.path.as_slice()).or_default().push(d);
        }
    }
    let index = DeclIndex::new(&c.decls);
    for (path, defs) in by_path {
        let Some(Covering { decl, ty }) = c.covering(&index, path) else {
            continue;
        };
        if decl.decl.path != path || ty.mergeable() || defs.len() < 2 {
            continue;
        }
        let best = defs.iter().map(|d| d.priority).min().unwrap_or(100);
        let mut winners: Vec<&Definition> =
            defs.into_iter().filter(|d| d.priority == best).collect();
        winners.sort_by(|a, b| {
            (&a.location.file, a.location.range.start)
                .cmp(&(&b.location.file, b.location.range.start))
        });
        let first = winners[0];
        for other in &winners[1..] {
            if other.value == first.value || !seen.first("option/conflict", &other.location, c, out)
            {
                continue;
            }
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref().map(|v| v.to_string()).unwrap_or_default()
            };
            out.push(
                Diagnostic::new(
                    "option/conflict",
                    &other.location.file,
                    other.location.range,
                    format!(
                        "`{}` is defined as {} here and as {} elsewhere, at the same priority, for {}; a {} option cannot merge two values. Remove one, or give one `lib.mkDefault` or `lib.mkForce`.",
                        path.join("."),
                        show(&other.value),
                        show(&first.value),
                        c.name,
                        ty.describe()
                    ),
                )
                .with_related(&first.location.file, first.location.range, format!("`{}` is also defined here", path.join(".")))
                .with_related(&decl.decl.location.file, decl.decl.location.range, "declared here")
                .affecting(Some(c.affects())),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_foreign_names_are_sorted_for_the_binary_search() {
        assert!(FOREIGN_TOP_LEVEL.windows(2).all(|w| w[0] < w[1]));
        assert!(is_foreign("services") && is_foreign("_module") && is_foreign("zramSwap"));
        assert!(!is_foreign("fleet") && !is_foreign(""));
    }
    use crate::options::read::OptionDecl;
    use crate::options::types::{OptType, OptionSpec};

    #[test]
    fn each_definition_costs_lookups_along_its_path_not_a_scan() {
        // 100,000 options, each defined twice with different values, and as many definitions
        // of undeclared options in a foreign namespace: scanning every declaration per
        // definition took 3·10^10 comparisons here; the deadline only catches that.
        let n = 100_000;
        let at = Location::new("modules/fleet.nix", Default::default());
        let class = ContextClass::Known("nixos".into());
        let decls: Vec<DeclaredIn> = (0..n)
            .map(|i| DeclaredIn {
                decl: OptionDecl {
                    path: vec!["fleet".into(), format!("o{i}")],
                    spec: OptionSpec {
                        ty: OptType::Str,
                        required: false,
                    },
                    default: None,
                    description: None,
                    location: at.clone(),
                },
                owner: "flake.modules.nixos.fleet".into(),
                class: class.clone(),
            })
            .collect();
        let defs: Vec<Definition> = (0..3 * n)
            .map(|i| Definition {
                path: if i < 2 * n {
                    vec!["fleet".into(), format!("o{}", i % n)]
                } else {
                    vec!["services".into(), format!("x{i}")]
                },
                value: Some(serde_json::json!(i.to_string())),
                priority: 100,
                conditional: false,
                location: Location::new(
                    "modules/user.nix",
                    crate::diagnostic::TextRange::new(i as u32, i as u32 + 1),
                ),
                value_location: None,
                owner: "flake.modules.nixos.user".into(),
                class: class.clone(),
            })
            .collect();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let merge_with = FxHashMap::default();
            let c = Config {
                name: "machine `m`".into(),
                class: "nixos".into(),
                decls: decls.iter().collect(),
                merge_with: &merge_with,
                defs: defs.iter().collect(),
                reads: Vec::new(),
                complete: false,
                model: None,
                repo: None,
            };
            let (mut seen, mut out) = (Seen::default(), Vec::new());
            let mut unreached = BTreeMap::new();
            let sole = SoleDeclarer {
                possible: true,
                from_inputs: BTreeSet::new(),
                unread: Vec::new(),
                cache: Default::default(),
            };
            types_and_unknown(
                &c,
                &sole,
                &mut seen,
                &mut Suggester::new(),
                &mut unreached,
                &mut out,
            );
            conflicts(&c, &mut seen, &mut out);
            let _ = tx.send(out.iter().map(|d| d.code).collect::<Vec<_>>());
        });
        let codes = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("checking the definitions finishes");
        let count = |code: &str| codes.iter().filter(|c| **c == code).count();
        assert_eq!(count("option/conflict"), n);
        assert_eq!(
            codes.len(),
            n,
            "nothing is said about the foreign namespace"
        );
    }
}
