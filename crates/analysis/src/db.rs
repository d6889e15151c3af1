//! The salsa database, its inputs, and the `AnalysisHost` / `Analysis` pair: the host owns the
//! database and applies changes; an `Analysis` is a cheap snapshot that answers queries on
//! another thread and reports `Cancelled` when the host moves on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use salsa::Setter;

use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::disk::DiskTree;
use crate::line_index::LineIndex;
use crate::syntax::Parsed;

/// One text file of the workspace (every `.nix` file, plus the few data files the analyzer
/// reads such as `flake.lock` and `infra-check.toml`).
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: Arc<str>,
    /// The file's summary as the host last settled it, for a document being edited (see
    /// [`SETTLED`]); `None` for the others, whose summary is computed where it is read.
    #[returns(ref)]
    #[default]
    pub settled: Option<Arc<crate::summary::FileSummary>>,
}

/// The whole workspace: which files exist and what is on disk.
#[salsa::input(debug)]
pub struct Workspace {
    #[returns(ref)]
    pub files: Arc<BTreeMap<String, SourceFile>>,
    #[returns(ref)]
    pub disk: Arc<DiskTree>,
    /// Where the Nix store is, for the sources of the locked inputs (`Off` unless the host is
    /// told: the analysis reads no environment).
    #[returns(ref)]
    #[default]
    pub store: crate::inputs::StoreSetting,
    /// Counts the times the host found the store holding other sources of the locked inputs
    /// than before ([`AnalysisHost::refresh_store`]): Nix fetched some while it ran.
    #[default]
    pub store_epoch: u64,
    /// The directory that keeps what was read from the store between runs
    /// (`inputs::cache`); `None`: nothing is kept.
    #[returns(ref)]
    #[default]
    pub cache: Option<std::path::PathBuf>,
}

#[salsa::db]
#[derive(Clone, Default)]
pub struct RootDatabase {
    storage: salsa::Storage<Self>,
}

#[salsa::db]
impl salsa::Database for RootDatabase {}

#[cfg(test)]
impl RootDatabase {
    /// A database that hands every salsa event to `callback`.
    pub(crate) fn with_events(callback: impl Fn(salsa::Event) + Send + Sync + 'static) -> Self {
        RootDatabase {
            storage: salsa::Storage::new(Some(Box::new(callback))),
        }
    }
}

pub use salsa::Database as Db;

/// The file's syntax tree; a file rnix cannot parse in linear time and bounded stack (see
/// [`too_complex`]) is left unparsed, as an empty tree.
///
/// Trees are ~15× their source. The cold start's per-file work does not keep them (see
/// [`crate::file_pass`]); what asks for a tree here (a file `import` evaluates, a finding's
/// surroundings, an editor's request) keeps only the 256 used last once a revision begins, and
/// parses again if asked for more.
#[salsa::tracked(returns(ref), no_eq, lru = 256)]
pub fn parse(db: &dyn Db, file: SourceFile) -> Arc<Parsed> {
    crate::file_pass::recent(db, file).unwrap_or_else(|| Arc::new(parse_file(db, file)))
}

/// [`parse`] without keeping the tree (see [`crate::file_pass`]).
pub(crate) fn parse_file(db: &dyn Db, file: SourceFile) -> Parsed {
    if too_complex(db, file).is_some() {
        // No expression and no parse error: `syntax/too-complex` says what happened.
        let root = rowan::SyntaxKind(rnix::SyntaxKind::NODE_ROOT as u16);
        return Parsed {
            green: rowan::GreenNode::new(root, std::iter::empty()),
            errors: Vec::new(),
        };
    }
    crate::syntax::parse_text(file.text(db))
}

/// Why a file is too complex to parse, if it is.
#[salsa::tracked]
pub fn too_complex(db: &dyn Db, file: SourceFile) -> Option<crate::complexity::TooComplex> {
    if !file.path(db).ends_with(".nix") {
        return None;
    }
    crate::complexity::check(file.text(db)).err()
}

#[salsa::tracked(returns(ref))]
pub fn line_index(db: &dyn Db, file: SourceFile) -> Arc<LineIndex> {
    Arc::new(LineIndex::new(file.text(db)))
}

/// Looks up a workspace file by root-relative path.
pub fn file_by_path(db: &dyn Db, ws: Workspace, path: &str) -> Option<SourceFile> {
    files_by_path(db, ws).get(path).copied()
}

/// The workspace's files hashed by path, for [`file_by_path`]: the workspace models look up
/// every module file after each edit that changes a summary, and a search of the ordered map
/// compares a dozen paths that share long prefixes (`modules/machines/nixos/m1234/…`) for
/// each. Built again only when the set of files changes.
#[salsa::tracked(returns(ref), no_eq)]
fn files_by_path(db: &dyn Db, ws: Workspace) -> rustc_hash::FxHashMap<Box<str>, SourceFile> {
    ws.files(db)
        .iter()
        .map(|(p, f)| (p.as_str().into(), *f))
        .collect()
}

#[salsa::tracked(returns(ref))]
pub fn config(db: &dyn Db, ws: Workspace) -> Arc<Config> {
    let text = file_by_path(db, ws, crate::config::CONFIG_FILE).map(|f| f.text(db).clone());
    Arc::new(Config::parse(text.as_deref()))
}

pub use salsa::Cancelled;
pub type Cancellable<T> = Result<T, Cancelled>;

/// How often an input is expected to change, so salsa can skip re-checking what depends only on
/// inputs that did not (see salsa's durability). What was read from disk (file texts, the file
/// map, the disk tree) rarely changes in an editor session; a document being edited changes on
/// every keystroke. With the edited document `LOW` and the rest `HIGH`, an edit re-verifies
/// the per-file results of the other files in one step each instead of walking each one's
/// dependencies down to its inputs: on 12,000 files that is the difference between ~1 ms
/// and ~130 ms per edit.
const DISK: salsa::Durability = salsa::Durability::HIGH;
const EDITED: salsa::Durability = salsa::Durability::LOW;
/// The durability of an edited document's settled summary ([`SourceFile::settled`]). The
/// workspace models read summaries, not texts; were they to read an edited document's summary
/// as computed from its text, they would be `EDITED` too, and every keystroke would have salsa
/// walk all of them (on 10,000 machines some 40,000 per-machine results, ~15 ms) to find that
/// nothing they read changed. The host instead computes the document's summary after each
/// change and sets it here only when it differs: a keystroke that keeps the summary then
/// leaves everything that reads summaries valid in one step, and one that changes it is
/// below `DISK`, so the per-file results of files read from disk still need no walk.
const SETTLED: salsa::Durability = salsa::Durability::MEDIUM;

pub struct AnalysisHost {
    db: RootDatabase,
    ws: Workspace,
    root: PathBuf,
    /// Files whose text was last set as edited ([`EDITED`]) rather than read from disk.
    edited: rustc_hash::FxHashSet<String>,
    /// Files whose summary the host settles after every change ([`SourceFile::settled`]):
    /// those ever edited, as long as they exist. Only these have a settled summary.
    settled: rustc_hash::FxHashSet<String>,
}

impl AnalysisHost {
    /// An empty workspace rooted at `root`; nothing is read from disk.
    pub fn new(root: PathBuf) -> Self {
        Self::with_database(root, RootDatabase::default())
    }

    /// An empty workspace in `db` (for tests: a database that reports salsa's events).
    pub(crate) fn with_database(root: PathBuf, db: RootDatabase) -> Self {
        let ws = Workspace::builder(Arc::new(BTreeMap::new()), Arc::new(DiskTree::default()))
            .durability(DISK)
            .new(&db);
        AnalysisHost {
            db,
            ws,
            root,
            edited: Default::default(),
            settled: Default::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where to look for the locked inputs' sources ([`crate::inputs`]). What is found there
    /// is read when a query needs it; it is looked for again when `flake.lock` changes.
    pub fn set_store(&mut self, store: crate::inputs::StoreSetting) {
        if *self.ws.store(&self.db) != store {
            self.ws
                .set_store(&mut self.db)
                .with_durability(DISK)
                .to(store);
        }
    }

    /// Looks again at which locked inputs' sources the store holds: a `nix build`, `nix
    /// develop` or `nix flake archive` since may have fetched some, which are read from then on
    /// (a source never changes, so only where each one is, or whether it is there, matters).
    /// Returns whether any of that changed. Cheap: one look per root input.
    pub fn refresh_store(&mut self) -> bool {
        let before = crate::inputs::roots::input_roots(&self.db, self.ws).clone();
        let info = crate::flake::flake_info(&self.db, self.ws).clone();
        let now = crate::inputs::roots::locate_roots(self.ws.store(&self.db), &info.lock);
        let changed = *before != now;
        if changed {
            let epoch = *self.ws.store_epoch(&self.db);
            self.ws
                .set_store_epoch(&mut self.db)
                .with_durability(DISK)
                .to(epoch + 1);
        }
        changed
    }

    /// Sets the directory that keeps what was read from the store between runs (the user's
    /// cache directory; `None` keeps nothing).
    pub fn set_cache(&mut self, cache: Option<std::path::PathBuf>) {
        if *self.ws.cache(&self.db) != cache {
            self.ws
                .set_cache(&mut self.db)
                .with_durability(DISK)
                .to(cache);
        }
    }

    /// Sets, replaces or (with `None`) removes a file's text as edited (see [`EDITED`]). `path`
    /// is root-relative with forward slashes. Unchanged text is not written, so salsa keeps its
    /// results, except the first time: a file read from disk becomes edited then. The file's
    /// summary is computed here, on the caller's thread (see [`SETTLED`]).
    pub fn set_file_text(&mut self, path: &str, text: Option<Arc<str>>) {
        self.write_file_text(path, text);
        self.settle();
    }

    fn write_file_text(&mut self, path: &str, text: Option<Arc<str>>) {
        let files = self.ws.files(&self.db).clone();
        match (files.get(path).copied(), text) {
            (Some(f), Some(t)) => {
                // Salsa never backdates a result whose inputs became less durable, so the
                // first edit of a file read from disk would recompute everything downstream
                // of it, however small. Marking it edited when the editor opens it (the same
                // text) moves that cost off the first keystroke.
                let first = self.edited.insert(path.to_owned());
                self.settled.insert(path.to_owned());
                if first || **f.text(&self.db) != *t {
                    f.set_text(&mut self.db).with_durability(EDITED).to(t);
                }
            }
            (None, Some(t)) => {
                self.edited.insert(path.to_owned());
                self.settled.insert(path.to_owned());
                let f = SourceFile::builder(path.to_owned(), t)
                    .durability(EDITED)
                    .new(&self.db);
                let mut m = (*files).clone();
                m.insert(path.to_owned(), f);
                self.ws
                    .set_files(&mut self.db)
                    .with_durability(DISK)
                    .to(Arc::new(m));
            }
            (Some(_), None) => {
                self.edited.remove(path);
                self.settled.remove(path);
                let mut m = (*files).clone();
                m.remove(path);
                self.ws
                    .set_files(&mut self.db)
                    .with_durability(DISK)
                    .to(Arc::new(m));
            }
            (None, None) => {}
        }
    }

    /// Replaces many files at once (one new file map instead of one per file), as read from
    /// disk.
    pub fn set_files(&mut self, texts: Vec<(String, Arc<str>)>) {
        self.write_files(texts);
        self.settle();
    }

    fn write_files(&mut self, texts: Vec<(String, Arc<str>)>) {
        let mut m = (**self.ws.files(&self.db)).clone();
        let mut added = false;
        for (path, text) in texts {
            match m.get(&path).copied() {
                Some(f) => {
                    if **f.text(&self.db) != *text {
                        self.edited.remove(&path);
                        f.set_text(&mut self.db).with_durability(DISK).to(text);
                    }
                }
                None => {
                    let f = SourceFile::builder(path.clone(), text)
                        .durability(DISK)
                        .new(&self.db);
                    m.insert(path, f);
                    added = true;
                }
            }
        }
        if added {
            self.ws
                .set_files(&mut self.db)
                .with_durability(DISK)
                .to(Arc::new(m));
        }
    }

    /// Brings the host in line with a fresh scan of the disk: changed texts are replaced, new
    /// files added, vanished ones removed, and the disk tree swapped — so salsa keeps whatever
    /// did not change (unlike building a new host).
    pub fn refresh(&mut self, scan: crate::loader::Scan) {
        let present: std::collections::BTreeSet<String> =
            scan.texts.iter().map(|(p, _)| p.clone()).collect();
        let gone: Vec<String> = self
            .ws
            .files(&self.db)
            .keys()
            .filter(|p| !present.contains(*p))
            .cloned()
            .collect();
        for p in gone {
            self.write_file_text(&p, None);
        }
        self.write_files(scan.texts);
        self.write_disk(scan.disk);
        self.settle();
    }

    pub fn set_disk(&mut self, disk: DiskTree) {
        self.write_disk(disk);
        self.settle();
    }

    fn write_disk(&mut self, disk: DiskTree) {
        if **self.ws.disk(&self.db) != disk {
            self.ws
                .set_disk(&mut self.db)
                .with_durability(DISK)
                .to(Arc::new(disk));
        }
    }

    /// Brings the settled summary of every file in [`AnalysisHost::settled`] in line with the
    /// inputs as they are now, so that no reader ever sees one that is out of date: called
    /// after every change of an input. A summary equal to the one settled is not written.
    fn settle(&mut self) {
        if self.settled.is_empty() {
            return;
        }
        let (db, ws) = (&self.db, self.ws);
        let files = ws.files(db);
        let changed: Vec<(SourceFile, Option<Arc<crate::summary::FileSummary>>)> = self
            .settled
            .iter()
            .filter_map(|path| files.get(path).copied())
            .filter_map(|f| {
                // A summary that cannot be computed (a bug) is left unsettled: the check
                // that reads it computes it again, where such a failure is caught and
                // reported.
                let now = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    crate::summary::computed_summary(db, ws, f).clone()
                }))
                .ok();
                let same = match (f.settled(db), &now) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
                    (None, None) => true,
                    _ => false,
                };
                (!same).then_some((f, now))
            })
            .collect();
        for (f, now) in changed {
            f.set_settled(&mut self.db).with_durability(SETTLED).to(now);
        }
    }

    /// Frees the results the last change replaced. Salsa keeps them until the next revision
    /// begins, so without this they are freed when the next change is applied — on a large
    /// workspace tens of milliseconds of an edit's latency. A language server calls this when
    /// it is idle; it changes no input, and the next query re-verifies only what depends on
    /// edited documents (see [`EDITED`]).
    pub fn collect_garbage(&mut self) {
        use salsa::Database as _;
        self.db.synthetic_write(EDITED);
    }

    pub fn snapshot(&self) -> Analysis {
        Analysis {
            db: self.db.clone(),
            ws: self.ws,
            root: self.root.clone(),
        }
    }
}

/// A read-only view of one revision. Queries return `Err(Cancelled)` once the host has applied
/// a newer change; the caller should drop the snapshot and ask again.
#[derive(Clone)]
pub struct Analysis {
    db: RootDatabase,
    ws: Workspace,
    root: PathBuf,
}

impl Analysis {
    /// Runs a query on a thread with the stack the analyzer's limits are sized for.
    fn with<T: Send>(&self, f: impl FnOnce(&RootDatabase) -> T + Send) -> Cancellable<T> {
        let db = self.db.clone();
        crate::stack::run(move || Cancelled::catch(std::panic::AssertUnwindSafe(|| f(&db))))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every diagnostic in the workspace, sorted by file and position, with suppression
    /// comments and `infra-check.toml` applied.
    pub fn diagnostics(&self) -> Cancellable<Arc<Vec<Diagnostic>>> {
        let ws = self.ws;
        self.with(|db| crate::checks::workspace_diagnostics(db, ws).clone())
    }

    /// Parallel to [`Analysis::diagnostics`]: element `i` says which machines diagnostic `i`
    /// affects (see [`crate::attribution`]).
    pub fn affected_machines(&self) -> Cancellable<Arc<Vec<crate::attribution::Affects>>> {
        let ws = self.ws;
        self.with(|db| crate::attribution::affected_machines(db, ws).clone())
    }

    /// The diagnostics of one file (the workspace result filtered, so cross-file findings that
    /// point into this file are included).
    pub fn file_diagnostics(&self, path: &str) -> Cancellable<Vec<Diagnostic>> {
        Ok(self
            .diagnostics()?
            .iter()
            .filter(|d| &*d.location.file == path)
            .cloned()
            .collect())
    }

    pub fn files(&self) -> Vec<String> {
        self.ws.files(&self.db).keys().cloned().collect()
    }

    pub fn file_text(&self, path: &str) -> Option<Arc<str>> {
        file_by_path(&self.db, self.ws, path).map(|f| f.text(&self.db).clone())
    }

    pub fn line_index(&self, path: &str) -> Cancellable<Option<Arc<LineIndex>>> {
        let ws = self.ws;
        self.with(|db| file_by_path(db, ws, path).map(|f| line_index(db, f).clone()))
    }

    /// `infra-check.toml` as read (its problems are among the diagnostics).
    pub fn config(&self) -> Cancellable<Arc<crate::config::Config>> {
        let ws = self.ws;
        self.with(|db| config(db, ws).clone())
    }

    /// The findings about the repository's justfile, from its recipes as the CLI read them
    /// with `just` (the analyzer runs no program), sorted, with `infra-check.toml` applied.
    pub fn justfile_diagnostics(
        &self,
        recipes: &[crate::checks::justfile::JustRecipe],
    ) -> Cancellable<Vec<Diagnostic>> {
        let ws = self.ws;
        self.with(|db| crate::checks::justfile_diagnostics(db, ws, recipes))
    }

    /// Machines and service instances, for `infra-check machines` and `graph`.
    pub fn overview(&self) -> Cancellable<crate::clan::overview::Overview> {
        let ws = self.ws;
        self.with(|db| crate::clan::overview::overview(db, ws))
    }

    /// The batches machines are deployed in: those holding roles others depend on first.
    pub fn deploy_order(&self) -> Cancellable<crate::clan::deploy_order::DeployOrder> {
        let ws = self.ws;
        self.with(|db| (**crate::clan::deploy_order::deploy_order(db, ws)).clone())
    }

    /// Where the thing at `offset` of `file` is defined.
    pub fn definition(&self, file: &str, offset: u32) -> Cancellable<Vec<crate::ide::NavTarget>> {
        let ws = self.ws;
        self.with(|db| crate::ide::nav::definition(db, ws, file, offset))
    }

    /// Every use of the thing at `offset` (and its definitions with `include_declaration`).
    pub fn references(
        &self,
        file: &str,
        offset: u32,
        include_declaration: bool,
    ) -> Cancellable<Vec<crate::ide::NavTarget>> {
        let ws = self.ws;
        self.with(|db| crate::ide::nav::references(db, ws, file, offset, include_declaration))
    }

    pub fn hover(&self, file: &str, offset: u32) -> Cancellable<Option<crate::ide::Hover>> {
        let ws = self.ws;
        self.with(|db| crate::ide::hover::hover(db, ws, file, offset))
    }

    pub fn completions(&self, file: &str, offset: u32) -> Cancellable<Vec<crate::ide::Completion>> {
        let ws = self.ws;
        self.with(|db| crate::ide::complete::completions(db, ws, file, offset))
    }

    /// The name at `offset` a rename would change, or why it cannot be renamed.
    pub fn prepare_rename(
        &self,
        file: &str,
        offset: u32,
    ) -> Cancellable<
        Result<Option<crate::ide::rename::RenameTarget>, crate::ide::rename::RenameRefusal>,
    > {
        let ws = self.ws;
        self.with(|db| crate::ide::rename::prepare(db, ws, file, offset))
    }

    /// The edit renaming what is at `offset`; `resource_ops`: the client can rename files.
    pub fn rename(
        &self,
        file: &str,
        offset: u32,
        new_name: &str,
        resource_ops: bool,
    ) -> Cancellable<Result<crate::ide::rename::RenameEdit, crate::ide::rename::RenameRefusal>>
    {
        let ws = self.ws;
        self.with(|db| crate::ide::rename::rename(db, ws, file, offset, new_name, resource_ops))
    }

    /// The symbols of a file as a tree (see [`crate::ide::symbols::document_symbol_tree`]).
    pub fn document_symbol_tree(
        &self,
        file: &str,
    ) -> Cancellable<Vec<crate::ide::symbols::SymbolTree>> {
        let ws = self.ws;
        self.with(|db| crate::ide::symbols::document_symbol_tree(db, ws, file))
    }

    pub fn document_symbols(&self, file: &str) -> Cancellable<Vec<crate::ide::Symbol>> {
        let ws = self.ws;
        self.with(|db| crate::ide::symbols::document_symbols(db, ws, file))
    }

    pub fn workspace_symbols(&self, query: &str) -> Cancellable<Vec<crate::ide::Symbol>> {
        let ws = self.ws;
        self.with(|db| crate::ide::symbols::workspace_symbols(db, ws, query))
    }

    /// Hover data for an option (dotted path): type, default, description, declaration.
    pub fn option_info(&self, path: &str) -> Cancellable<Vec<crate::options::OptionInfo>> {
        let ws = self.ws;
        self.with(|db| crate::options::option_info(db, ws, path))
    }

    /// Every module of a flake input the repository imports, and what was read of it from
    /// the store, for `infra-check inputs`.
    pub fn input_modules(&self) -> Cancellable<Vec<crate::inputs::modules::ImportedModule>> {
        let ws = self.ws;
        self.with(|db| crate::inputs::modules::imported_modules(db, ws))
    }

    /// The state of every generator each machine needs, for `infra-check vars`.
    pub fn vars_status(&self) -> Cancellable<Vec<crate::vars::status::MachineStatus>> {
        let ws = self.ws;
        self.with(|db| crate::vars::status::statuses(db, ws))
    }

    /// Runs `f` on the analyzer's own pool, whose workers have [`crate::stack::MIN_STACK`]
    /// (serially on the calling thread's stack when there is no pool).
    fn on_pool(&self, f: impl FnOnce(&RootDatabase) + Send) -> Cancellable<()> {
        let db = self.db.clone();
        let work = move || Cancelled::catch(std::panic::AssertUnwindSafe(|| f(&db)));
        match crate::stack::pool() {
            Some(pool) => pool.install(work),
            None => crate::stack::run(work),
        }
    }

    /// Does the per-file work (parsing, summaries, file-local checks) for every file, then the
    /// per-machine models and the families of cross-file checks, in parallel, so the serial
    /// workspace phase finds them done. Optional: every query computes what it needs on
    /// demand; this only spreads the cold start over the cores.
    pub fn prime(&self) -> Cancellable<()> {
        use rayon::prelude::*;
        let ws = self.ws;
        let files: Vec<SourceFile> = self
            .ws
            .files(&self.db)
            .iter()
            .filter(|(p, _)| p.ends_with(".nix"))
            .map(|(_, f)| *f)
            .collect();
        self.on_pool(move |db| {
            let parse_phase = crate::timings::phase("parse and summarise");
            crate::flake::flake_info(db, ws);
            files.par_iter().for_each_with(db.clone(), |db, f| {
                let start = std::time::Instant::now();
                // Everything later phases read from the file's tree, from one parse.
                crate::file_pass::file_pass(db, ws, *f);
                if crate::timings::per_file() {
                    crate::timings::file(f.path(db), start);
                }
            });
            if crate::timings::per_file() {
                crate::timings::print_slowest(15);
            }
            drop(parse_phase);
            crate::checks::prime_workspace(db, ws);
        })
    }

    /// The workspace part of [`Analysis::prime`] alone: every machine's part, then the check
    /// families, on the analysis pool. After an edit that changed what a file contributes to
    /// the workspace ([`Analysis::file_summary`]) the per-file work is one file's, while the
    /// machines' parts are thousands of independent queries to recompute.
    pub fn prime_workspace(&self) -> Cancellable<()> {
        let ws = self.ws;
        self.on_pool(move |db| crate::checks::prime_workspace(db, ws))
    }

    /// What a `.nix` file of the workspace contributes to the workspace's models (its
    /// summary); `None` for any other path.
    pub fn file_summary(
        &self,
        path: &str,
    ) -> Cancellable<Option<Arc<crate::summary::FileSummary>>> {
        let ws = self.ws;
        self.with(|db| {
            file_by_path(db, ws, path)
                .filter(|_| path.ends_with(".nix"))
                .map(|f| crate::summary::file_summary(db, ws, f).clone())
        })
    }

    #[cfg(test)]
    pub(crate) fn db_for_tests(&self) -> &RootDatabase {
        &self.db
    }

    #[cfg(test)]
    pub(crate) fn workspace_for_tests(&self) -> Workspace {
        self.ws
    }
}
