//! The per-file summary: everything the workspace checks need from one flake-parts module,
//! with locations. It is computed by evaluating the file with the partial evaluator and walking
//! the result the way the module system would: `flake.modules.<class>.<name>` definitions,
//! the `imports` of each deferred module with the class it is evaluated in, `clan.machines`
//! and the inventory's machine classes, and every module reference met on the way.

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use crate::db::{file_by_path, parse, Db, SourceFile, Workspace};
use crate::diagnostic::{Location, TextRange};
use crate::eval::{Evaluator, FileSource, ModuleArgsKind, Span, SpecialArgs, Sym, Thunk, Value};
use crate::syntax::Parsed;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileSummary {
    pub definitions: Vec<ModuleDef>,
    /// Classes whose set of names this file extends in a way that cannot be read
    /// (`None`: possibly any class).
    pub open_classes: Vec<Option<String>>,
    pub references: Vec<Arc<ModuleReference>>,
    /// Some reference is written in another file (one this file's modules `import`), so
    /// another file's summary may hold the same one.
    pub references_elsewhere: bool,
    /// Classes whose module set escapes into code that cannot be followed.
    pub escaped: Vec<Option<String>>,
    pub contexts: Vec<Arc<ImportContext>>,
    /// Paths in the top-level `imports` of this flake-parts module (root-relative).
    pub flake_imports: Vec<String>,
    /// import-tree calls in those `imports`: every file they load is a flake-parts module too.
    pub flake_import_trees: Vec<crate::eval::ImportTreeSpec>,
    /// What this file contributes to the clan configuration.
    pub clan: crate::lean::Lean<crate::clan::model::ClanFragment>,
    /// Vars generators declared and read in this file's modules.
    pub vars: crate::lean::Lean<crate::vars::model::VarsFragment>,
    /// Options declared and defined in this file's modules.
    pub options: crate::lean::Lean<crate::options::model::OptionsFragment>,
    /// The keys of the clan's `specialArgs` this file sets, each with whether its value is the
    /// flake-level value of that name (`self`, `inputs`); `None`: a set that cannot be read.
    pub special_args: Vec<Option<(String, bool)>>,
    /// `config.flake…` read in a NixOS, nix-darwin or home-manager module through that
    /// module's own `config` argument.
    pub shadowed_configs: Vec<ShadowedConfig>,
    /// What the file's own module looks like when flake-parts loads it.
    pub top_module: TopModule,
    /// Paths imported by path (`./hardware.nix`) into a NixOS, nix-darwin or home-manager
    /// module walked here, with the class of that module and its owner.
    pub system_path_imports: Vec<(String, ContextClass, Arc<str>)>,
    /// The file could not be read completely (it is too complex to parse, or reading it ran
    /// out of the evaluator's budget): it may define and declare more than is listed here.
    pub incomplete: bool,
}

impl FileSummary {
    /// Gives back the room the lists grew into while the file was read: a summary is kept
    /// for every file for the whole session, and most of its lists hold one or two entries
    /// in room for four.
    fn shrink(&mut self) {
        self.definitions.shrink_to_fit();
        self.open_classes.shrink_to_fit();
        self.references.shrink_to_fit();
        self.escaped.shrink_to_fit();
        self.contexts.shrink_to_fit();
        self.flake_imports.shrink_to_fit();
        self.flake_import_trees.shrink_to_fit();
        self.special_args.shrink_to_fit();
        self.shadowed_configs.shrink_to_fit();
        self.system_path_imports.shrink_to_fit();
        self.clan.settle(crate::clan::model::ClanFragment::shrink);
        self.vars.settle(crate::vars::model::VarsFragment::shrink);
        self.options
            .settle(crate::options::model::OptionsFragment::shrink);
    }

    /// A summary that lists only what was read: any module, machine, generator or option
    /// may be defined besides, and the modules the file imports are unknown.
    fn mark_incomplete(&mut self) {
        self.incomplete = true;
        self.open_classes.push(None);
        self.escaped.push(None);
        self.clan.open = crate::clan::model::ClanOpen::all();
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModuleDef {
    pub class: String,
    pub name: String,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleReference {
    pub class: Arc<str>,
    /// `None` when the name is computed from something Unknown.
    pub name: Option<Arc<str>>,
    pub location: Location,
    /// Written with an `or` default: a missing module is not an error.
    pub optional: bool,
    /// Met only on a branch or turn the evaluator does not know is taken: a use of the module,
    /// but not known to be evaluated, so never reported as undefined.
    pub hypothetical: bool,
}

/// The file's top-level module as flake-parts would load it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopModule {
    /// `_class = "<class>"`, when a known string, with where the string is written.
    pub class: Option<(String, Location)>,
    /// The configuration keys it sets at the top (`boot`, `flake`, `perSystem`, …).
    pub keys: Vec<(String, Location)>,
    /// Every top-level key could be read.
    pub keys_complete: bool,
}

/// `config.flake…` where `config` is the module's own argument: the configuration of `class`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowedConfig {
    /// The module whose argument `config` is, as in import contexts.
    pub owner: Arc<str>,
    /// Every class that module is walked in.
    pub classes: Vec<ContextClass>,
    /// From `config` to `flake`.
    pub location: Location,
    /// The path written after `config` (`flake.modules.nixos.base`), when static.
    pub path: Option<String>,
}

/// Where an `imports` list is evaluated, and what it imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportContext {
    pub class: ContextClass,
    /// How a user would name the importing module, e.g. `flake.modules.nixos.base` or
    /// `home-manager.users.alice`.
    pub owner: Arc<str>,
    pub items: Vec<ModuleReference>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextClass {
    /// A module evaluated with this class (`nixos`, `darwin`, `homeManager`, `flake`, …).
    Known(String),
    /// The configuration of a clan machine; its class comes from the inventory.
    Machine(String),
    /// The `extraModules` of a service role (named by their owner,
    /// `clan::extra_modules_owner`): evaluated in the class of each machine of the role.
    Role(Arc<str>),
}

/// Gives the evaluator the workspace's files.
pub(crate) struct DbFiles<'a> {
    pub db: &'a dyn Db,
    pub ws: Workspace,
}

impl FileSource for DbFiles<'_> {
    fn parse_nix(&self, path: &str) -> Option<Arc<Parsed>> {
        if !path.ends_with(".nix") {
            return None;
        }
        let f = file_by_path(self.db, self.ws, path)?;
        Some(parse(self.db, f).clone())
    }
    fn read_text(&self, path: &str) -> Option<Arc<str>> {
        let f = file_by_path(self.db, self.ws, path)?;
        Some(f.text(self.db).clone())
    }
}

/// What `file` contributes to the workspace: the summary the host settled for it when it has
/// one (an edited document's, see [`crate::db::SourceFile::settled`]), else the one computed
/// from its text. Everything that reads summaries reads them here.
pub fn file_summary(db: &dyn Db, ws: Workspace, file: SourceFile) -> &Arc<FileSummary> {
    match file.settled(db) {
        Some(settled) => settled,
        None => computed_summary(db, ws, file),
    }
}

/// What `file` contributes to the workspace, from its text (from [`crate::file_pass`]).
#[salsa::tracked(returns(ref))]
pub(crate) fn computed_summary(db: &dyn Db, ws: Workspace, file: SourceFile) -> Arc<FileSummary> {
    crate::file_pass::file_pass(db, ws, file).summary.clone()
}

/// The [`file_summary`] of `parsed`, the tree of `file`.
pub(crate) fn summarize_file(
    db: &dyn Db,
    ws: Workspace,
    file: SourceFile,
    parsed: &Parsed,
) -> FileSummary {
    if crate::db::too_complex(db, file).is_some() {
        let mut s = FileSummary::default();
        s.mark_incomplete();
        return s;
    }
    let files = DbFiles { db, ws };
    let kinds = crate::flake::input_kinds(db, ws).iter();
    let ev = Evaluator::new(&files)
        .recording()
        .with_input_kinds(kinds.map(|(n, k)| (n.as_str(), *k)));
    summarize(&ev, file.path(db), parsed)
}

pub(crate) fn summarize(ev: &Evaluator, path: &str, parsed: &Parsed) -> FileSummary {
    let mut w = Walker::new(ev, SpecialArgs::default());
    ev.grant_for_source(usize::from(parsed.green.text_len()));
    let mut explored_all = true;
    if let Some(expr) = parsed.root_expr() {
        let env = ev.root_env(path);
        let t = Thunk::value(ev.eval(&expr, &env));
        w.flake_module(&t, parsed.errors.is_empty());
        if path == "flake.nix" {
            // `outputs` gets the inputs, so a `clan-core.lib.clan { … }` call in it is seen.
            if let Value::Attrs(a) = ev.force(&t) {
                if let Some(o) = a.get("outputs") {
                    let f = ev.force(&o.value);
                    let inputs = Thunk::value(Value::Sym(Rc::new(Sym::Inputs)));
                    // Searching every output for the call is exploration: cut short, it
                    // leaves the clan unknown rather than starving the rest of the reading.
                    let (result, cut) = ev.phase(|| {
                        let r = Thunk::value(ev.apply(f, inputs));
                        ev.deep_force(&r);
                        r
                    });
                    if cut {
                        w.out.clan.open = crate::clan::model::ClanOpen::all();
                    }
                    // The module handed to `mkFlake` is a flake-parts module like any file
                    // under the import-tree: what it defines inline (`clan`, `flake.modules`)
                    // and what its `imports` bring in count as much.
                    if let Value::Sym(s) = ev.force(&result) {
                        if let Sym::FlakeParts(module) = &*s {
                            w.flake_root = true;
                            w.flake_root_module(module, parsed.errors.is_empty(), 0);
                            w.flake_root = false;
                        }
                    }
                }
            }
        }
        let mut seen_calls = 0;
        w.clan_calls(path, &mut seen_calls);
        // Code the result does not reach is explored for references only, on an allowance
        // of its own: cutting it short (recursive helpers applied to Unknown unroll until the
        // fuel runs out) loses references, never definitions.
        let ((), explore_cut) = ev.phase(|| ev.force_all());
        explored_all = !explore_cut;
        // `lib.clan` calls met while exploring are clan configuration again.
        let ((), calls_cut) = ev.phase(|| w.clan_calls(path, &mut seen_calls));
        w.cut |= calls_cut;
    }
    finish(ev, w, explored_all, path)
}

/// A file clan-core imports into a machine's configuration (`machines/<m>/configuration.nix`
/// and its siblings), read as a module of that machine owned by `owner`, with the arguments
/// `special` the machine's configuration gets.
pub(crate) fn summarize_machine_module(
    ev: &Evaluator,
    path: &str,
    parsed: &Parsed,
    machine: &str,
    special: SpecialArgs,
) -> FileSummary {
    let mut w = Walker::new(ev, special);
    ev.grant_for_source(usize::from(parsed.green.text_len()));
    let mut explored_all = true;
    if let Some(expr) = parsed.root_expr() {
        let env = ev.root_env(path);
        let t = Thunk::value(ev.eval(&expr, &env));
        w.module_body(&t, ContextClass::Machine(machine.to_owned()), path.into());
        if !parsed.errors.is_empty() {
            w.cut = true;
        }
        let ((), explore_cut) = ev.phase(|| ev.force_all());
        explored_all = !explore_cut;
    }
    finish(ev, w, explored_all, path)
}

/// The owner of the flake's own module output `<set>.<name>` (`flake.nixosModules.web`).
pub fn output_module_owner(set: &str, name: &str) -> String {
    format!("flake.{set}.{}", attr_display(name))
}

/// A module of a flake input (`inputs.<x>.nixosModules.<y>`, already selected from the
/// input's outputs by the evaluator `ev` over its source), walked as a module of `class`
/// owned by `owner`. Nothing in it is reported on: the caller keeps what it declares.
pub(crate) fn summarize_input_module(
    ev: &Evaluator,
    module: &Thunk,
    class: &str,
    owner: &str,
) -> FileSummary {
    let mut w = Walker::new(ev, SpecialArgs::default());
    w.module_body(module, ContextClass::Known(class.into()), owner.into());
    finish(ev, w, true, owner)
}

/// The recorded references, var reads and escapes of a walk, added to its summary.
fn finish(ev: &Evaluator, mut w: Walker, explored_all: bool, path: &str) -> FileSummary {
    let rec = ev.take_recorder();
    for r in &rec.var_refs {
        let var_ref = crate::vars::model::VarRef {
            owner: crate::eval::shared_str(&r.owner),
            generator: r.generator.as_ref().map(|g| g.to_string()),
            file: r.file.as_ref().map(|f| f.to_string()),
            location: r.span.location(),
            generator_location: r.generator_span.as_ref().map(Span::location),
            hypothetical: r.hypothetical,
        };
        if !w.out.vars.var_refs.contains(&var_ref) {
            w.out.vars.var_refs.push(var_ref);
        }
    }
    let mut reads = std::collections::HashSet::new();
    let guarded = rec.option_tests;
    // Reads and `config.flake` selections only ever produce findings: those that may not
    // happen are left out.
    for r in rec
        .option_reads
        .iter()
        .filter(|r| !guarded && !r.hypothetical)
    {
        let read = crate::options::model::OptionRead {
            owner: crate::eval::shared_str(&r.owner),
            path: r.path.iter().map(|p| p.to_string()).collect(),
            location: r.span.location(),
        };
        if reads.insert(read.clone()) {
            w.out.options.reads.push(read);
        }
    }
    for r in rec.shadowed_configs.iter().filter(|r| !r.hypothetical) {
        let owner = crate::eval::shared_str(&r.owner);
        let classes = w.owner_classes.get(&owner).cloned().unwrap_or_default();
        w.out.shadowed_configs.push(ShadowedConfig {
            owner,
            classes,
            location: r.span.location(),
            path: r.path.clone(),
        });
    }
    let mut seen = BTreeSet::new();
    for r in rec.refs {
        let reference = ModuleReference {
            class: crate::eval::shared_text(&r.class),
            name: r.name.map(|n| crate::eval::shared_text(&n)),
            location: r.span.location(),
            optional: r.optional,
            hypothetical: r.hypothetical,
        };
        if seen.insert(reference.clone()) {
            w.out.references_elsewhere |= *reference.location.file != *path;
            w.out.references.push(Arc::new(reference));
        }
    }
    let mut escaped: Vec<Option<String>> = rec
        .escaped
        .into_iter()
        .map(|c| c.map(|c| c.to_string()))
        .collect();
    if !explored_all {
        // A module set may have escaped in the code left unexplored.
        escaped.push(None);
    }
    escaped.sort();
    escaped.dedup();
    w.out.escaped = escaped;
    if w.cut || ev.exhausted() {
        w.out.mark_incomplete();
    }
    w.out.shrink();
    w.out
}

const MAX_MODULE_DEPTH: u32 = 24;

struct Walker<'e, 'a> {
    ev: &'e Evaluator<'a>,
    out: FileSummary,
    depth: u32,
    /// The walk stopped short somewhere (a limit of depth or fuel): the summary is incomplete.
    cut: bool,
    /// What the system modules walked get as flake-level arguments.
    special: SpecialArgs,
    /// The classes each system-module owner was walked in.
    owner_classes: HashMap<Arc<str>, Vec<ContextClass>>,
    /// Walking the module `flake.nix` hands to `mkFlake`, whose import-trees and paths are
    /// the flake's module roots (read by [`crate::flake::module_files`]), not unknown modules.
    flake_root: bool,
}

/// The parts of a module: its `imports` and its configuration, resolving the module system's
/// `_type` wrappers (`mkIf`, `mkMerge`, `mkDefault`, …) and the explicit `config = …` form.
struct ModuleParts {
    imports: Vec<Thunk>,
    config: Vec<Thunk>,
    /// `options = { … }` of the explicit module form.
    options: Vec<crate::eval::Attr>,
    /// The module itself could not be read (it is Unknown, or has keys that are).
    opaque: bool,
    /// `_class`, when a known string, and where it is written.
    class: Option<(String, Option<Span>)>,
}

impl<'e, 'a> Walker<'e, 'a> {
    fn new(ev: &'e Evaluator<'a>, special: SpecialArgs) -> Self {
        Walker {
            ev,
            out: FileSummary::default(),
            depth: 0,
            cut: false,
            special,
            owner_classes: HashMap::new(),
            flake_root: false,
        }
    }
}

impl<'e> Walker<'e, '_> {
    fn force(&self, t: &Thunk) -> Value {
        self.ev.force(t)
    }

    /// Walks the clan modules handed to `clan-core.lib.clan` since the first `seen`; reading
    /// them may record more calls, which are walked too.
    fn clan_calls(&mut self, path: &str, seen: &mut usize) {
        loop {
            let calls = self.ev.recorder_clan_calls(*seen);
            if calls.is_empty() {
                return;
            }
            *seen += calls.len();
            for c in calls {
                if !self.tick() {
                    return;
                }
                self.clan_value(&c, Location::new(path, TextRange::default()));
            }
        }
    }

    /// Pays for one step of the walk; false (and the summary is incomplete) when the fuel is
    /// gone.
    fn tick(&mut self) -> bool {
        if self.ev.charge(1) {
            return true;
        }
        self.cut = true;
        false
    }

    /// Enters one level of the walk; `None` (and the summary is incomplete) at the limit.
    fn level(&mut self) -> Option<crate::eval::limits::Level<'e>> {
        let ev: &'e Evaluator = self.ev;
        let l = ev.enter();
        if l.is_none() {
            self.cut = true;
        }
        l
    }

    fn module_parts(&self, t: &Thunk, args: Sym) -> ModuleParts {
        let mut parts = ModuleParts {
            imports: Vec::new(),
            config: Vec::new(),
            options: Vec::new(),
            opaque: false,
            class: None,
        };
        let mut v = self.force(t);
        if matches!(v, Value::Lambda(_) | Value::Builtin(_)) {
            v = self.ev.apply(v, Thunk::value(Value::Sym(Rc::new(args))));
        }
        match v {
            Value::Attrs(a) => {
                // An unreadable `imports` (say `[ … ] ++ inputs.x.modules`) hides only imports.
                if let Some(Value::List(l)) = a.get("imports").map(|i| self.force(&i.value)) {
                    parts.imports.extend(l.iter().cloned());
                }
                if a.get("config").is_some() || a.get("options").is_some() {
                    if let Some(c) = a.get("config") {
                        parts.config.push(c.value.clone());
                    }
                    if let Some(o) = a.get("options") {
                        parts.options.push(o.clone());
                    }
                } else {
                    parts.config.push(Thunk::value(Value::Attrs(a.clone())));
                }
                if a.partial {
                    parts.opaque = true;
                }
                if let Some(c) = a.get("_class") {
                    if let Value::Str(s) = self.force(&c.value) {
                        parts.class = Some((s.to_string(), c.value_span.clone()));
                    }
                }
            }
            Value::Path(_) => {}
            _ => parts.opaque = true,
        }
        parts
    }

    fn config_sets(&self, t: &Thunk, out: &mut Vec<Rc<crate::eval::Attrs>>, depth: u32) -> bool {
        crate::eval::read::config_sets(self.ev, t, out, depth)
    }

    fn config_attr(&self, sets: &[Rc<crate::eval::Attrs>], name: &str) -> Vec<Thunk> {
        crate::eval::read::attr_values(sets, name)
    }

    /// The argument of `mkFlake` in `flake.nix`: an import-tree, a path, a list of them, or a
    /// module. Paths and import-trees are module files of their own (and an unreadable root
    /// leaves the module set incomplete already, see [`crate::flake::module_files`]); only
    /// inline modules are read here.
    fn flake_root_module(&mut self, t: &Thunk, well_formed: bool, depth: u32) {
        if depth > 16 || !self.tick() {
            self.cut = true;
            return;
        }
        match self.force(t) {
            Value::List(l) => {
                for x in l.iter() {
                    self.flake_root_module(x, well_formed, depth + 1);
                }
            }
            Value::Attrs(_) | Value::Lambda(_) => self.flake_module(t, well_formed),
            _ => {}
        }
    }

    /// A top-level flake-parts module (a file under the import-tree roots).
    fn flake_module(&mut self, t: &Thunk, well_formed: bool) {
        let Some(_level) = self.level() else { return };
        let parts = self.module_parts(t, Sym::ModuleArgs(ModuleArgsKind::FlakeParts));
        if parts.opaque || !well_formed {
            // Its definitions cannot be read completely: it may define any module.
            self.out.open_classes.push(None);
        }
        for i in &parts.imports {
            if !self.tick() {
                return;
            }
            match self.force(i) {
                Value::Path(p) => self.out.flake_imports.push(p.to_string()),
                Value::Sym(s) if matches!(&*s, Sym::ModuleRef { .. }) => {
                    if let Sym::ModuleRef { class, name, span } = &*s {
                        self.out.contexts.push(Arc::new(ImportContext {
                            class: ContextClass::Known("flake".into()),
                            owner: "this flake-parts module".into(),
                            items: vec![ModuleReference {
                                class: crate::eval::shared_text(class),
                                name: Some(crate::eval::shared_text(name)),
                                location: span.location(),
                                optional: false,
                                hypothetical: false,
                            }],
                        }));
                    }
                }
                Value::Sym(s) if self.ev.is_inert_flake_module(&s) => {}
                Value::Sym(s) if matches!(&*s, Sym::ImportTree(_)) => {
                    // The roots' import-trees are read with the flake's module roots.
                    if let (Sym::ImportTree(spec), false) = (&*s, self.flake_root) {
                        self.out.flake_import_trees.push(spec.clone());
                    }
                }
                Value::Attrs(_) | Value::Lambda(_) if self.depth < MAX_MODULE_DEPTH => {
                    self.depth += 1;
                    self.flake_module(i, well_formed);
                    self.depth -= 1;
                }
                Value::Attrs(_) | Value::Lambda(_) => self.cut = true,
                // A flake module infra-check cannot read (another flake's, a nested
                // import-tree, a computed one) may define any module and any part of the clan.
                _ => {
                    self.out.open_classes.push(None);
                    self.out.clan.open = crate::clan::model::ClanOpen::all();
                }
            }
        }
        if self.depth == 0 {
            self.top_module(&parts);
        }
        let flake = ContextClass::Known("flake".into());
        let owner: Arc<str> = crate::options::model::FLAKE_PARTS.into();
        self.option_decls(&parts.options, &flake, &owner);
        for c in &parts.config {
            self.definitions(c, &flake, &owner);
        }
        for c in &parts.config {
            let mut sets = Vec::new();
            let readable = self.config_sets(c, &mut sets, 0);
            for f in self.config_attr(&sets, "flake") {
                if !self.tick() {
                    return;
                }
                self.flake_attr(&f);
            }
            for cl in crate::eval::read::attrs_named(&sets, "clan") {
                self.clan(cl);
            }
            if !readable && sets.is_empty() {
                // The whole configuration is unreadable: it may define any module.
                self.out.open_classes.push(None);
                self.out.clan.open = crate::clan::model::ClanOpen::all();
            }
        }
    }

    fn top_module(&mut self, parts: &ModuleParts) {
        let top = &mut self.out.top_module;
        top.class = parts
            .class
            .as_ref()
            .and_then(|(c, span)| Some((c.clone(), span.as_ref()?.location())));
        top.keys_complete = !parts.opaque;
        for c in &parts.config {
            let mut sets = Vec::new();
            top.keys_complete &= crate::eval::read::config_sets(self.ev, c, &mut sets, 0);
            for set in &sets {
                top.keys_complete &= !set.partial;
                for (k, a) in &set.map {
                    match &a.key_span {
                        Some(span) => top.keys.push((k.to_string(), span.location())),
                        None => top.keys_complete = false,
                    }
                }
            }
        }
    }

    fn flake_attr(&mut self, t: &Thunk) {
        let mut sets = Vec::new();
        if !self.config_sets(t, &mut sets, 0) && sets.is_empty() {
            self.out.open_classes.push(None);
            self.out.clan.open = crate::clan::model::ClanOpen::all();
            self.out.vars.open_output_sets = true;
            return;
        }
        for m in self.config_attr(&sets, "modules") {
            self.modules_attr(&m);
        }
        for cl in crate::eval::read::attrs_named(&sets, "clan") {
            self.clan(cl);
        }
        for h in self.config_attr(&sets, "homeConfigurations") {
            self.home_configurations(&h);
        }
        for (set, class) in [("nixosModules", "nixos"), ("darwinModules", "darwin")] {
            for m in self.config_attr(&sets, set) {
                self.output_modules(&m, set, class);
            }
        }
        self.exported_module_sets(&sets);
        if sets.iter().any(|s| s.partial) {
            self.out.open_classes.push(None);
            self.out.vars.open_output_sets = true;
        }
    }

    /// `flake.nixosModules` / `flake.darwinModules`: each module is walked as one of `class`,
    /// owned by its output name, for the machines that import it by that name.
    fn output_modules(&mut self, t: &Thunk, set: &str, class: &str) {
        let mut sets = Vec::new();
        if !self.config_sets(t, &mut sets, 0) || sets.iter().any(|s| s.partial) {
            self.out.vars.open_output_sets = true;
        }
        for s in sets {
            for (name, def) in &s.map {
                if !self.tick() {
                    self.out.vars.open_output_sets = true;
                    return;
                }
                let owner: Arc<str> = crate::eval::shared_text(&output_module_owner(set, name));
                self.out.vars.output_modules.push(owner.clone());
                self.module_body(&def.value, ContextClass::Known(class.into()), owner);
            }
        }
    }

    /// A whole class of deferred modules handed to a flake output (`flake.nixosModules =
    /// config.flake.modules.nixos;`, `flake.homeModules = …homeManager`, `flake = { inherit
    /// (config.flake.modules) darwin; }`): other flakes may import any of them, so each counts
    /// as used. (One exported by name is a reference already.)
    fn exported_module_sets(&mut self, sets: &[Rc<crate::eval::Attrs>]) {
        for set in sets {
            for (key, a) in &set.map {
                if matches!(&**key, "modules" | "clan") || !self.tick() {
                    continue;
                }
                let v = self.force(&a.value);
                if matches!(&v, Value::Sym(s) if matches!(&**s, Sym::ModuleSet(_))) {
                    self.ev.escape_value(&v);
                }
            }
        }
    }

    fn modules_attr(&mut self, t: &Thunk) {
        let mut sets = Vec::new();
        let ok = self.config_sets(t, &mut sets, 0);
        if !ok {
            self.out.open_classes.push(None);
        }
        for set in sets {
            for (class, v) in &set.map {
                let mut by_class = Vec::new();
                if !self.config_sets(&v.value, &mut by_class, 0) {
                    self.out.open_classes.push(Some(class.to_string()));
                }
                for names in by_class {
                    for (name, def) in &names.map {
                        if !self.tick() {
                            return;
                        }
                        // Names computed by a function (`lib.genAttrs`) point at the class key.
                        if let Some(span) = def.key_span.as_ref().or(v.key_span.as_ref()) {
                            self.out.definitions.push(ModuleDef {
                                class: class.to_string(),
                                name: name.to_string(),
                                location: span.location(),
                            });
                        }
                        let owner = format!("flake.modules.{}.{}", class, attr_display(name));
                        self.module_body(
                            &def.value,
                            ContextClass::Known(class.to_string()),
                            owner.into(),
                        );
                    }
                }
            }
        }
    }

    fn clan(&mut self, a: &crate::eval::Attr) {
        let fallback = a
            .key_span
            .as_ref()
            .map(Span::location)
            .unwrap_or_else(|| Location::new("", TextRange::default()));
        self.clan_value(&a.value, fallback);
    }

    /// A clan module (the value of `clan`, `flake.clan` or a `lib.clan` argument).
    fn clan_value(&mut self, t: &Thunk, fallback: Location) {
        let mut reader = crate::clan::extract::ClanReader::new(self.ev, &mut self.out.clan);
        reader.clan_module(t, &fallback);
        let extra = reader.extra_modules.into_inner();
        // clan-core imports a role's `extraModules` into every machine of the role, in the
        // machine's class.
        for (instance, role, list) in extra {
            if !self.tick() {
                return;
            }
            let owner: Arc<str> = crate::clan::extra_modules_owner(&instance, &role).into();
            let module = Value::Attrs(Rc::new(crate::eval::Attrs::with_imports(list)));
            self.module_body(
                &Thunk::value(module),
                ContextClass::Role(owner.clone()),
                owner,
            );
        }
        // Each machine's configuration is a module evaluated in the machine's class.
        let mut sets = Vec::new();
        self.config_sets(t, &mut sets, 0);
        for services in self.config_attr(&sets, "modules") {
            self.service_modules(&services);
        }
        for args in self.config_attr(&sets, "specialArgs") {
            self.special_args(&args);
        }
        for machines in self.config_attr(&sets, "machines") {
            let mut ms = Vec::new();
            self.config_sets(&machines, &mut ms, 0);
            for set in ms {
                for (name, m) in &set.map {
                    if !self.tick() {
                        return;
                    }
                    self.module_body(
                        &m.value,
                        ContextClass::Machine(name.to_string()),
                        format!("clan.machines.{}", attr_display(name)).into(),
                    );
                }
            }
        }
    }

    /// A NixOS, nix-darwin or home-manager module evaluated in `class`: records what its
    /// `imports` import, then follows inline imports and home-manager users.
    fn module_body(&mut self, t: &Thunk, class: ContextClass, owner: Arc<str>) {
        if self.depth >= MAX_MODULE_DEPTH {
            self.cut = true;
            return;
        }
        let Some(_level) = self.level() else { return };
        self.depth += 1;
        let classes = self.owner_classes.entry(owner.clone()).or_default();
        if !classes.contains(&class) {
            classes.push(class.clone());
        }
        // A flake-parts deferred module (`flake.modules.flake.*`) gets flake-parts' own
        // arguments: its `config.flake.modules` is the flake's.
        let args = if matches!(&class, ContextClass::Known(c) if c == "flake") {
            Sym::ModuleArgs(ModuleArgsKind::FlakeParts)
        } else {
            Sym::SystemArgs {
                owner: crate::eval::shared_rc(&owner),
                special: self.special,
            }
        };
        let parts = self.module_parts(t, args);
        let mut items = Vec::new();
        let mut opaque_imports = false;
        // What may declare options besides what is read: the module itself unreadable, or an
        // import that is neither read nor a named module of a flake input.
        let mut open = parts.opaque;
        for i in &parts.imports {
            if !self.tick() {
                opaque_imports = true;
                open = true;
                break;
            }
            match self.force(i) {
                // A plain module file (`./hardware.nix`, `../_shared.nix`): part of this module.
                Value::Path(p) => {
                    if matches!(&class, ContextClass::Known(c) if c != "flake")
                        || matches!(&class, ContextClass::Machine(_) | ContextClass::Role(_))
                    {
                        self.out.system_path_imports.push((
                            p.to_string(),
                            class.clone(),
                            owner.clone(),
                        ));
                    }
                    let v = self.ev.import(&p);
                    if v.is_unknown() {
                        opaque_imports = true;
                        open = true;
                    } else {
                        self.module_body(&Thunk::value(v), class.clone(), owner.clone());
                    }
                }
                Value::Sym(s) => match &*s {
                    Sym::ModuleRef {
                        class: c,
                        name,
                        span,
                    } => items.push(ModuleReference {
                        class: crate::eval::shared_text(c),
                        name: Some(crate::eval::shared_text(name)),
                        location: span.location(),
                        optional: false,
                        hypothetical: false,
                    }),
                    // Another flake's module: read from its source when Nix has it
                    // (`inputs::modules`), else opaque to the vars and options models.
                    Sym::Input { name, path } => {
                        let import = Arc::new(crate::options::model::InputImport {
                            owner: owner.clone(),
                            input: name.to_string(),
                            path: path.iter().map(|p| p.to_string()).collect(),
                        });
                        self.out.vars.input_imports.push(import.clone());
                        self.out.options.input_imports.push(import);
                    }
                    // The platform's own module: no clan vars; its options are the
                    // platform's (`checks::options` knows them only from a catalog).
                    Sym::ModulesPath => open = true,
                    // One of the flake's own module outputs: the machines importing it
                    // get what its definitions declare (`vars::resolve`).
                    Sym::OutputModule {
                        set,
                        name: Some(name),
                    } => self.out.vars.output_imports.push((
                        owner.clone(),
                        crate::eval::shared_text(&output_module_owner(set, name)),
                    )),
                    // Anything else (an import-tree of system modules, a whole module set)
                    // may bring in modules that are not read.
                    _ => {
                        opaque_imports = true;
                        open = true;
                    }
                },
                Value::Attrs(_) | Value::Lambda(_) => {
                    self.module_body(i, class.clone(), owner.clone());
                }
                _ => {
                    opaque_imports = true;
                    open = true;
                }
            }
        }
        if opaque_imports && !self.out.vars.opaque_import_owners.contains(&owner) {
            self.out.vars.opaque_import_owners.push(owner.clone());
        }
        if open {
            self.open_options(&owner);
        }
        if !matches!(&class, ContextClass::Known(c) if c == "homeManager") {
            for c in &parts.config {
                self.generators(c, &class, &owner);
            }
        }
        self.option_decls(&parts.options, &class, &owner);
        for c in &parts.config {
            self.definitions(c, &class, &owner);
        }
        if !items.is_empty() {
            // Kept for the whole session: without the room it grew into (a machine importing
            // five modules held eight).
            items.shrink_to_fit();
            self.out.contexts.push(Arc::new(ImportContext {
                class: class.clone(),
                owner: owner.clone(),
                items,
            }));
        }
        for c in &parts.config {
            let mut sets = Vec::new();
            self.config_sets(c, &mut sets, 0);
            for hm in self.config_attr(&sets, "home-manager") {
                self.home_manager(&hm, &owner);
            }
            self.secret_stores(&sets, &owner);
            for (path, into_target) in [
                (&["nixpkgs", "hostPlatform"][..], false),
                (&["clan", "core", "networking", "targetHost"][..], true),
            ] {
                for (v, span) in self.literal_strings(&sets, path) {
                    let lit = crate::clan::model::ModuleLiteral {
                        value: v,
                        location: span.location(),
                        context: class.clone(),
                        owner: owner.clone(),
                    };
                    if into_target {
                        self.out.clan.target_hosts.push(lit);
                    } else {
                        self.out.clan.host_platforms.push(lit);
                    }
                }
            }
        }
        self.depth -= 1;
    }

    fn option_decls(
        &mut self,
        options: &[crate::eval::Attr],
        class: &ContextClass,
        owner: &Arc<str>,
    ) {
        for o in options {
            let Some(span) = &o.key_span else {
                self.open_options(owner);
                continue;
            };
            let mut decls = Vec::new();
            if !crate::options::read::declarations(
                self.ev,
                &o.value,
                &[],
                &span.location(),
                &mut decls,
            ) {
                // It may declare more than is read.
                self.open_options(owner);
            }
            for decl in decls {
                self.out
                    .options
                    .decls
                    .push(crate::options::model::DeclaredIn {
                        decl,
                        owner: owner.clone(),
                        class: class.clone(),
                    });
            }
        }
    }

    /// Every leaf a module's configuration defines, with its value when known and its
    /// priority. Module values (`flake.modules.*`), the clan and functions are not descended.
    fn definitions(&mut self, config: &Thunk, class: &ContextClass, owner: &Arc<str>) {
        const SKIP: &[&str] = &[
            "imports",
            "options",
            "_class",
            "_file",
            "key",
            "disabledModules",
            "freeformType",
            "clan",
            "perSystem",
        ];
        let mut sets = Vec::new();
        crate::eval::read::config_sets_cond(self.ev, config, false, &mut sets, 0);
        for (set, cond) in sets {
            for (key, a) in &set.map {
                if !self.tick() {
                    return;
                }
                if SKIP.contains(&&**key) {
                    continue;
                }
                let path = vec![key.to_string()];
                self.definition(&path, a, 100, cond, class, owner, 0);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn definition(
        &mut self,
        path: &[String],
        a: &crate::eval::Attr,
        priority: i64,
        cond: bool,
        class: &ContextClass,
        owner: &Arc<str>,
        depth: u32,
    ) {
        if depth > 10 || path.len() > 12 || self.out.options.defs.len() > 20_000 {
            return;
        }
        let Some(_level) = self.level() else { return };
        if !self.tick() {
            return;
        }
        // `flake.modules.<class>.<name>` are modules, not option values.
        if path == ["flake", "modules"] || path == ["flake", "clan"] {
            return;
        }
        let Some(key_span) = a.key_span.as_ref() else {
            return;
        };
        let v = self.ev.force(&a.value);
        let leaf = |w: &mut Self, value: Option<serde_json::Value>, priority: i64, cond: bool| {
            w.out.options.defs.push(crate::options::model::Definition {
                path: path.to_vec(),
                value,
                priority,
                conditional: cond,
                location: key_span.location(),
                value_location: a.value_span.as_ref().map(Span::location),
                owner: owner.clone(),
                class: class.clone(),
            });
        };
        match &v {
            Value::Attrs(set) => {
                let ty = set.get("_type").map(|t| self.ev.force(&t.value));
                match ty.as_ref().and_then(|t| t.as_str()) {
                    Some("override") | Some("order") => {
                        let p = if ty.as_ref().and_then(|t| t.as_str()) == Some("override") {
                            match set.get("priority").map(|p| self.ev.force(&p.value)) {
                                Some(Value::Int(p)) => p,
                                _ => return leaf(self, None, priority, true),
                            }
                        } else {
                            priority
                        };
                        if let Some(c) = set.get("content") {
                            let inner = crate::eval::Attr {
                                value: c.value.clone(),
                                key_span: a.key_span.clone(),
                                value_span: a.value_span.clone(),
                            };
                            self.definition(path, &inner, p, cond, class, owner, depth + 1);
                        }
                    }
                    Some("if") => {
                        let c = set.get("condition").map(|c| self.ev.force(&c.value));
                        let cond = match c {
                            Some(Value::Bool(false)) => return,
                            Some(Value::Bool(true)) => cond,
                            _ => true,
                        };
                        if let Some(content) = set.get("content") {
                            let inner = crate::eval::Attr {
                                value: content.value.clone(),
                                key_span: a.key_span.clone(),
                                value_span: a.value_span.clone(),
                            };
                            self.definition(path, &inner, priority, cond, class, owner, depth + 1);
                        }
                    }
                    Some("merge") => {
                        if let Some(Value::List(items)) =
                            set.get("contents").map(|c| self.ev.force(&c.value))
                        {
                            for item in items.iter() {
                                let inner = crate::eval::Attr {
                                    value: item.clone(),
                                    key_span: a.key_span.clone(),
                                    value_span: None,
                                };
                                self.definition(
                                    path,
                                    &inner,
                                    priority,
                                    cond,
                                    class,
                                    owner,
                                    depth + 1,
                                );
                            }
                        }
                    }
                    Some(_) => leaf(self, None, priority, cond),
                    None if set.partial || set.map.is_empty() => {
                        let value = (!set.partial).then(|| serde_json::json!({}));
                        leaf(self, value, priority, cond)
                    }
                    None => {
                        for (k, child) in &set.map {
                            let mut p = path.to_vec();
                            p.push(k.to_string());
                            self.definition(&p, child, priority, cond, class, owner, depth + 1);
                        }
                    }
                }
            }
            _ => {
                let value = crate::eval::read::known_json(self.ev, &Thunk::value(v.clone()));
                leaf(self, value, priority, cond)
            }
        }
    }

    /// The NixOS and darwin modules a local service gives its members (`perInstance` per role,
    /// `perMachine` for all), walked as modules owned by `service <name>/<role>` (`/*`).
    fn service_modules(&mut self, services: &Thunk) {
        let system_args =
            || Thunk::value(Value::Sym(Rc::new(Sym::ModuleArgs(ModuleArgsKind::System))));
        let mut sets = Vec::new();
        self.config_sets(services, &mut sets, 0);
        for set in sets {
            for (svc, m) in &set.map {
                if !self.tick() {
                    return;
                }
                let body = match self.force(&m.value) {
                    v @ (Value::Lambda(_) | Value::Builtin(_)) => {
                        Thunk::value(self.ev.apply(v, system_args()))
                    }
                    Value::Path(p) => Thunk::value(self.ev.import(&p)),
                    _ => m.value.clone(),
                };
                let mut service = Vec::new();
                self.config_sets(&body, &mut service, 0);
                let mut per: Vec<(Arc<str>, Thunk)> = self
                    .config_attr(&service, "perMachine")
                    .into_iter()
                    .map(|f| (format!("service {svc}/*").into(), f))
                    .collect();
                for roles in self.config_attr(&service, "roles") {
                    let mut rs = Vec::new();
                    self.config_sets(&roles, &mut rs, 0);
                    for rset in rs {
                        for (role, r) in &rset.map {
                            let mut rb = Vec::new();
                            self.config_sets(&r.value, &mut rb, 0);
                            for f in self.config_attr(&rb, "perInstance") {
                                per.push((format!("service {svc}/{role}").into(), f));
                            }
                        }
                    }
                }
                for (owner, f) in per {
                    let out = match self.force(&f) {
                        v @ (Value::Lambda(_) | Value::Builtin(_)) => {
                            Thunk::value(self.ev.apply(v, system_args()))
                        }
                        _ => f.clone(),
                    };
                    let mut os = Vec::new();
                    self.config_sets(&out, &mut os, 0);
                    for (key, class) in [("nixosModule", "nixos"), ("darwinModule", "darwin")] {
                        for module in self.config_attr(&os, key) {
                            self.module_body(
                                &module,
                                ContextClass::Known(class.into()),
                                owner.clone(),
                            );
                        }
                    }
                }
            }
        }
    }

    /// The clan's `specialArgs` (what every machine's modules get as arguments besides clan's
    /// own): which keys it sets, and whether `self` and `inputs` are the flake's.
    fn special_args(&mut self, t: &Thunk) {
        let mut sets = Vec::new();
        if !self.config_sets(t, &mut sets, 0) || sets.iter().any(|s| s.partial) {
            self.out.special_args.push(None);
        }
        for set in sets {
            for (key, a) in &set.map {
                let v = crate::eval::read::strip_priority(self.ev, self.force(&a.value));
                let flake_level = match (&**key, &v) {
                    ("self", Value::Sym(s)) => matches!(&**s, Sym::SelfFlake(p) if p.is_empty()),
                    ("inputs", Value::Sym(s)) => matches!(&**s, Sym::Inputs),
                    _ => false,
                };
                self.out
                    .special_args
                    .push(Some((key.to_string(), flake_level)));
            }
        }
    }

    /// `clan.core.vars.generators.*` in one module's configuration.
    fn generators(&mut self, config: &Thunk, class: &ContextClass, owner: &Arc<str>) {
        use crate::eval::read::config_sets_cond;
        use crate::vars::model::{FileDecl, GeneratorDecl, NeededFor, Validation};
        let ev = self.ev;
        // Descends `clan.core.vars.generators`, keeping whether a level was conditional.
        let mut level: Vec<(Rc<crate::eval::Attrs>, bool)> = Vec::new();
        let mut readable = config_sets_cond(ev, config, false, &mut level, 0);
        for key in ["clan", "core", "vars", "generators"] {
            let mut next = Vec::new();
            for (set, cond) in &level {
                if let Some(a) = set.get(key) {
                    readable &= config_sets_cond(ev, &a.value, *cond, &mut next, 0);
                }
            }
            level = next;
        }
        if !readable && !level.is_empty() {
            self.out.vars.open_owners.push(owner.clone());
        }
        let bool_field = |sets: &[(Rc<crate::eval::Attrs>, bool)], name: &str, default: bool| {
            let mut v = Some(default);
            for (s, _) in sets {
                if let Some(a) = s.get(name) {
                    v = match crate::eval::read::strip_priority(ev, ev.force(&a.value)) {
                        Value::Bool(b) => Some(b),
                        _ => None,
                    };
                }
            }
            v
        };
        let needed_for_field = |sets: &[(Rc<crate::eval::Attrs>, bool)]| {
            let mut v = Some(NeededFor::default());
            for (s, _) in sets {
                if let Some(a) = s.get("neededFor") {
                    v = match crate::eval::read::strip_priority(ev, ev.force(&a.value)) {
                        Value::Str(s) => NeededFor::parse(&s),
                        _ => None,
                    };
                }
            }
            v
        };
        for (set, cond) in &level {
            for (name, g) in &set.map {
                if !self.tick() {
                    return;
                }
                let Some(span) = &g.key_span else {
                    self.out.vars.open_owners.push(owner.clone());
                    continue;
                };
                let mut body = Vec::new();
                let body_ok = config_sets_cond(ev, &g.value, *cond, &mut body, 0);
                let conditional =
                    body.iter().all(|(_, c)| *c) && !body.is_empty() || (*cond && body.is_empty());
                let mut files: Option<Vec<FileDecl>> = body_ok.then(Vec::new);
                for (s, c) in &body {
                    let Some(fa) = s.get("files") else { continue };
                    let mut fsets = Vec::new();
                    if !config_sets_cond(ev, &fa.value, *c, &mut fsets, 0) {
                        files = None;
                    }
                    for (fs, fc) in &fsets {
                        for (fname, f) in &fs.map {
                            self.ev.charge(1);
                            let mut fb = Vec::new();
                            config_sets_cond(ev, &f.value, *fc, &mut fb, 0);
                            if let Some(list) = files.as_mut() {
                                list.push(FileDecl {
                                    name: fname.to_string(),
                                    location: f
                                        .key_span
                                        .as_ref()
                                        .map(Span::location)
                                        .unwrap_or_else(|| span.location()),
                                    secret: bool_field(&fb, "secret", true),
                                    deploy: bool_field(&fb, "deploy", true),
                                    needed_for: needed_for_field(&fb),
                                    conditional: *fc,
                                });
                            }
                        }
                    }
                }
                // A persisted prompt is a secret file of the generator too.
                for (s, c) in &body {
                    let Some(pa) = s.get("prompts") else { continue };
                    let mut psets = Vec::new();
                    config_sets_cond(ev, &pa.value, *c, &mut psets, 0);
                    for (ps, pc) in &psets {
                        for (pname, p) in &ps.map {
                            self.ev.charge(1);
                            let mut pb = Vec::new();
                            config_sets_cond(ev, &p.value, *pc, &mut pb, 0);
                            match bool_field(&pb, "persist", false) {
                                Some(false) => {}
                                Some(true) => {
                                    if let Some(list) = files.as_mut() {
                                        if !list.iter().any(|f| f.name == **pname) {
                                            list.push(FileDecl {
                                                name: pname.to_string(),
                                                location: p
                                                    .key_span
                                                    .as_ref()
                                                    .map(Span::location)
                                                    .unwrap_or_else(|| span.location()),
                                                secret: Some(true),
                                                deploy: Some(true),
                                                needed_for: Some(NeededFor::default()),
                                                conditional: *pc,
                                            });
                                        }
                                    }
                                }
                                None => files = None,
                            }
                        }
                    }
                }
                let validation = {
                    let vals: Vec<&crate::eval::Attr> = body
                        .iter()
                        .filter_map(|(s, _)| s.get("validation"))
                        .collect();
                    match vals.last() {
                        None => Validation::Unset,
                        Some(a) => match crate::eval::read::known_json(ev, &a.value) {
                            Some(serde_json::Value::Null) => Validation::Unset,
                            Some(j) => Validation::Known(j),
                            None => Validation::Unknown,
                        },
                    }
                };
                self.out.vars.generators.push(GeneratorDecl {
                    name: name.to_string(),
                    location: span.location(),
                    owner: owner.clone(),
                    class: class.clone(),
                    conditional,
                    share: bool_field(&body, "share", false),
                    files,
                    validation,
                });
            }
        }
    }

    /// String literals set at `path` in these configuration sets (through priorities).
    /// `clan.core.vars.settings.secretStore` set in a machine module (clan's older spelling of
    /// the clan-wide `vars.settings.secretStore`), with the value when it is a known string.
    fn secret_stores(&mut self, sets: &[Rc<crate::eval::Attrs>], owner: &Arc<str>) {
        let mut level: Vec<Rc<crate::eval::Attrs>> = sets.to_vec();
        for p in ["clan", "core", "vars", "settings"] {
            let mut next = Vec::new();
            for t in self.config_attr(&level, p) {
                self.config_sets(&t, &mut next, 0);
            }
            level = next;
        }
        for a in crate::eval::read::attrs_named(&level, "secretStore") {
            let value = match crate::eval::read::strip_priority(self.ev, self.ev.force(&a.value)) {
                Value::Str(s) => Some(s.to_string()),
                _ => None,
            };
            self.out.vars.secret_stores.push((owner.clone(), value));
        }
    }

    fn literal_strings(
        &self,
        sets: &[Rc<crate::eval::Attrs>],
        path: &[&str],
    ) -> Vec<(String, Span)> {
        let Some((last, parents)) = path.split_last() else {
            return Vec::new();
        };
        let mut level: Vec<Rc<crate::eval::Attrs>> = sets.to_vec();
        for p in parents {
            let mut next = Vec::new();
            for t in self.config_attr(&level, p) {
                self.config_sets(&t, &mut next, 0);
            }
            level = next;
        }
        let mut out = Vec::new();
        for a in crate::eval::read::attrs_named(&level, last) {
            let v = crate::eval::read::strip_priority(self.ev, self.ev.force(&a.value));
            if let (Value::Str(s), Some(span)) = (v, a.value_span.as_ref()) {
                out.push((s.to_string(), span.clone()));
            }
        }
        out
    }

    /// `home-manager = { users.<u> = …; sharedModules = …; }` set by the module `parent`. Each
    /// body is owned by `home-manager.users.<u> (in <parent>)`: the same user of two machines
    /// is two configurations.
    fn home_manager(&mut self, t: &Thunk, parent: &Arc<str>) {
        let Some(_level) = self.level() else { return };
        let mut sets = Vec::new();
        if !self.config_sets(t, &mut sets, 0) {
            self.hm_scope(
                parent,
                None,
                format!("home-manager (in {parent})").into(),
                true,
            );
        }
        let hm = || ContextClass::Known("homeManager".into());
        for users in self.config_attr(&sets, "users") {
            let mut us = Vec::new();
            if !self.config_sets(&users, &mut us, 0) {
                self.hm_scope(
                    parent,
                    None,
                    format!("home-manager.users (in {parent})").into(),
                    true,
                );
            }
            for set in us {
                for (user, m) in &set.map {
                    if !self.tick() {
                        return;
                    }
                    let owner: Arc<str> =
                        format!("home-manager.users.{} (in {parent})", attr_display(user)).into();
                    self.hm_scope(parent, Some(user.to_string()), owner.clone(), false);
                    // `users.<u> = ./home.nix;`: the file is the module.
                    let body = match self.force(&m.value) {
                        Value::Path(p) => Thunk::value(self.ev.import(&p)),
                        _ => m.value.clone(),
                    };
                    self.module_body(&body, hm(), owner);
                }
            }
        }
        for shared in self.config_attr(&sets, "sharedModules") {
            let owner: Arc<str> = format!("home-manager.sharedModules (in {parent})").into();
            let list = crate::eval::read::strip_priority(self.ev, self.force(&shared));
            self.hm_scope(parent, None, owner.clone(), !matches!(list, Value::List(_)));
            if let Value::List(l) = list {
                self.module_body(&imports_module(l), hm(), owner);
            }
        }
    }

    /// `flake.homeConfigurations.<name> = home-manager.lib.homeManagerConfiguration { modules
    /// = [ … ]; }`: a standalone home-manager configuration, its modules owned by
    /// `homeConfigurations.<name>` (home-manager's lib/eval-config.nix: `modules` and
    /// home-manager's own, nothing else).
    fn home_configurations(&mut self, t: &Thunk) {
        let mut sets = Vec::new();
        self.config_sets(t, &mut sets, 0);
        for set in sets {
            for (name, a) in &set.map {
                if !self.tick() {
                    return;
                }
                let Some(span) = a.key_span.as_ref() else {
                    continue;
                };
                let Value::Sym(sym) = self.force(&a.value) else {
                    continue;
                };
                let Sym::HomeConfiguration(arg) = &*sym else {
                    continue;
                };
                let owner: Arc<str> = format!("homeConfigurations.{}", attr_display(name)).into();
                let mut args = Vec::new();
                let readable = self.config_sets(arg, &mut args, 0);
                let modules = self.config_attr(&args, "modules");
                let list = match modules.as_slice() {
                    [m] => match self.force(m) {
                        Value::List(l) => Some(l),
                        _ => None,
                    },
                    _ => None,
                };
                if !readable || list.is_none() || args.iter().any(|a| a.partial) {
                    self.open_options(&owner);
                }
                self.out.options.home_configurations.push((
                    name.to_string(),
                    owner.clone(),
                    span.location(),
                ));
                if let Some(l) = list {
                    let hm = ContextClass::Known("homeManager".into());
                    self.module_body(&imports_module(l), hm, owner);
                }
            }
        }
    }

    fn open_options(&mut self, owner: &Arc<str>) {
        if !self.out.options.open_owners.contains(owner) {
            self.out.options.open_owners.push(owner.clone());
        }
    }

    fn hm_scope(&mut self, parent: &Arc<str>, user: Option<String>, owner: Arc<str>, open: bool) {
        if open {
            self.open_options(&owner);
        }
        let scope = crate::options::model::HmScope {
            parent: parent.clone(),
            user,
            owner,
        };
        if !self.out.options.hm_scopes.contains(&scope) {
            self.out.options.hm_scopes.push(scope);
        }
    }
}

/// `{ imports = <list>; }`: a list of modules walked as one module.
fn imports_module(list: Rc<Vec<Thunk>>) -> Thunk {
    Thunk::value(Value::Attrs(Rc::new(crate::eval::Attrs {
        map: [(
            Rc::from("imports"),
            crate::eval::Attr {
                value: Thunk::value(Value::List(list)),
                key_span: None,
                value_span: None,
            },
        )]
        .into_iter()
        .collect(),
        partial: false,
    })))
}

/// An attribute name as it would be written in Nix: bare when it is an identifier.
pub fn attr_display(name: &str) -> String {
    let mut out = String::new();
    push_attr_display(&mut out, name);
    out
}

/// [`attr_display`] appended to `out`, for the loops that name thousands of modules and keep
/// one buffer for it.
pub fn push_attr_display(out: &mut String, name: &str) {
    let ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''));
    if ident
        && !matches!(
            name,
            "if" | "then" | "else" | "let" | "in" | "with" | "rec" | "inherit" | "assert" | "or"
        )
    {
        out.push_str(name);
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{name:?}");
    }
}
