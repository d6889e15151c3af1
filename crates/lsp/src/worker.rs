//! The worker and the publisher.
//!
//! The **worker** is one thread that owns the [`AnalysisHost`]. Protocol handlers send it
//! [`Msg`]s over one channel, synchronously, before their first `.await`, so changes reach the
//! host in the order the client sent them even though tower-lsp-server runs several handlers at
//! once. The worker applies every message that is waiting (a burst of edits becomes one
//! revision), then starts a check: it takes a snapshot and runs the diagnostics on the blocking
//! pool. Setting an input on the host cancels that check (salsa unwinds it with `Cancelled`,
//! and it is dropped: the check started after the change will publish instead) and waits for
//! its snapshot to drop, which is why the host lives on its own thread and not on the runtime.
//!
//! The **publisher** is one task that sends results to the client. Every check carries a
//! generation number; a result older than one already published is dropped, so the last
//! published state always belongs to the newest text. It remembers what each file was last
//! published with, skips identical re-publishes, and publishes an empty list for a file that
//! had diagnostics and no longer has any. Open documents are re-published whenever their
//! version moved on (with that version), so a client can tell that an edit was checked even
//! when its diagnostics did not change.
//!
//! **Requests** (definition, hover, …) ask the worker for a [`Snapshot`] over the same channel,
//! so the snapshot reflects every change the client sent before the request; they then run on
//! the blocking pool (see [`crate::features`]).
//!
//! **Changes on disk** arrive as [`Msg::Watched`], from the client's notification or, for a
//! client that does not watch files, from the worker's own [`DiskWatch`] of the root (see
//! [`crate::watch`]); a change to a file whose text is read re-reads it, anything else rescans
//! the tree, and so does every save. Open documents keep the editor's text throughout.
//!
//! While the initial load and check run, the worker reports `$/progress` through the
//! publisher (which creates the token, when the client supports it).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use infra_check_analysis::{
    find_root, load, Analysis, AnalysisHost, Cancellable, Cancelled, LineIndex, Loaded,
};
use tokio::runtime::Handle;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::ls_types::{FileChangeType, MessageType, Uri};
use tower_lsp_server::Client;

use crate::convert::{self, is_analyzed, relative_path, FileLines, UriMap};
use crate::watch::DiskWatch;

/// What the protocol handlers tell the worker. Paths are the client's, as absolute local paths.
#[derive(Debug)]
pub enum Msg {
    /// `initialize`: candidate workspace roots, best first.
    Init {
        roots: Vec<PathBuf>,
    },
    Open {
        path: PathBuf,
        uri: Uri,
        version: i32,
        text: String,
    },
    Change {
        path: PathBuf,
        version: i32,
        changes: Vec<lsp::TextDocumentContentChangeEvent>,
    },
    Close {
        path: PathBuf,
    },
    Save {
        path: PathBuf,
    },
    Watched {
        changes: Vec<(PathBuf, FileChangeType)>,
    },
    /// The client does not watch files: watch the workspace root on disk, reporting changes
    /// through this sender (to this worker), from now on and whenever the root changes.
    WatchDisk(Sender<Msg>),
    /// Something changed on disk but what is unknown (events were lost): rescan it.
    DiskChanged,
    /// The disk watch begun on `root` (see [`Worker::begin_disk_watch`]) is in place, or could
    /// not be.
    WatchStarted {
        root: PathBuf,
        result: Result<DiskWatch, String>,
    },
    /// A rescan of `root` begun by [`Worker::reload`] has ended; `since` is the count of texts
    /// set from the disk when it began (see [`Worker::disk_sets`]).
    Scanned {
        root: PathBuf,
        since: u64,
        scan: Rescan,
    },
    /// A request wants to read the current revision: answered after every change sent before
    /// it has been applied (`None` while there is no workspace yet).
    Snapshot {
        reply: oneshot::Sender<Option<Snapshot>>,
    },
    /// The check of this generation has ended (sent by the check itself, to this worker).
    Checked {
        generation: u64,
    },
    Shutdown,
}

/// One revision of the workspace, for a request to read on the blocking pool. Holding it keeps
/// the worker from applying the next change (it waits for the query to be cancelled), so drop
/// it as soon as the query is done.
pub struct Snapshot {
    pub analysis: Analysis,
    pub uris: Arc<UriMap>,
    /// Counts the snapshots alive (see [`Worker::handed_out`]).
    _alive: Arc<()>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("root", &self.analysis.root())
            .finish_non_exhaustive()
    }
}

/// A step of the work-done progress of the initial load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Begin { title: String, message: String },
    Report { message: String },
    End { message: String },
}

/// What the worker (and its checks) tell the publisher.
#[derive(Debug)]
pub enum Out {
    Log(MessageType, String),
    /// A document was (re)opened: the client may have dropped what was published for it, so
    /// the next result is published for it even when unchanged.
    Reopened(Uri),
    Publish {
        generation: u64,
        files: Vec<(Uri, Vec<lsp::Diagnostic>)>,
        /// The open documents and the version the check saw.
        versions: Vec<(Uri, i32)>,
    },
    Progress(Progress),
}

/// Starts the worker thread. It runs until it receives [`Msg::Shutdown`] or every sender is
/// dropped. Checks run on `rt`'s blocking pool.
/// `me` sends to `rx`: the checks say through it when they end.
pub fn spawn(
    rx: Receiver<Msg>,
    me: Sender<Msg>,
    out: UnboundedSender<Out>,
    rt: Handle,
) -> io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("infra-check-worker".into())
        .stack_size(infra_check_analysis::stack::MIN_STACK)
        .spawn(move || {
            infra_check_analysis::stack::assume_min_stack();
            Worker::new(me, out, rt).run(rx)
        })
}

/// Directories whose churn never matters: file events under them are ignored.
use infra_check_analysis::loader::is_skipped_dir as is_ignored_dir;
use infra_check_analysis::summary::FileSummary;

struct Doc {
    version: i32,
    text: String,
}

/// What a rescan read ([`Msg::Scanned`]); shown by its size, not its texts.
pub struct Rescan(io::Result<infra_check_analysis::loader::Scan>);

impl std::fmt::Debug for Rescan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Ok(scan) => write!(f, "Rescan({} files)", scan.texts.len()),
            Err(e) => write!(f, "Rescan({e})"),
        }
    }
}

#[derive(Default)]
struct Effects {
    check: bool,
    reload: bool,
    /// The latest check has ended: an idle moment (see [`AnalysisHost::collect_garbage`]).
    checked: bool,
    snapshots: Vec<oneshot::Sender<Option<Snapshot>>>,
}

struct Worker {
    /// Sends to this worker.
    me: Sender<Msg>,
    /// One more strong count per [`Snapshot`] a request holds.
    handed_out: Arc<()>,
    out: UnboundedSender<Out>,
    rt: Handle,
    host: Option<AnalysisHost>,
    /// Canonical root of `host`.
    root: Option<PathBuf>,
    /// Whether the host mirrors a directory on disk (a flake root), or holds only open
    /// documents (no flake found).
    disk_backed: bool,
    /// Analysed files that existed on disk at the last load; a file outside this set appearing
    /// on disk changes the disk tree, which only a reload refreshes.
    on_disk: HashSet<String>,
    /// Open documents by root-relative path.
    docs: HashMap<String, Doc>,
    /// The client's path of each open document → its root-relative path.
    paths: HashMap<PathBuf, String>,
    uris: Arc<UriMap>,
    generation: u64,
    /// Whether the next check is the first on a freshly loaded host: it primes the per-file
    /// work in parallel before the (serial) workspace phases.
    cold: bool,
    /// Set by [`Msg::WatchDisk`]: where the disk watcher reports.
    watch_to: Option<Sender<Msg>>,
    disk_watch: Option<DiskWatch>,
    /// The root a disk watch is being started on, on another thread (see
    /// [`Worker::begin_disk_watch`]), and the check generation when it began.
    starting_watch: Option<(PathBuf, u64)>,
    /// The root a disk watch failed to start on (reported once, not retried).
    watch_failed: Option<PathBuf>,
    /// Files whose text was set since the last check began.
    touched: Vec<String>,
    /// The generation of the last check that ended.
    checked: u64,
    /// A rescan is due once the check in flight has ended (see [`Worker::watch_started`]).
    rescan_after_check: bool,
    /// The summary each touched file had when it was last checked (see [`cross_file_change`]).
    summaries: Arc<Mutex<HashMap<String, Arc<FileSummary>>>>,
    /// A rescan is running on a thread of its own (see [`Worker::reload`]).
    scanning: bool,
    /// Something asked for a rescan while one was running: another runs when it ends.
    rescan_queued: bool,
    /// How many texts were set from the disk outside rescans. A rescan during which one was
    /// set may hold an older text of that file, so its result is not applied; another runs.
    disk_sets: u64,
}

impl Worker {
    fn new(me: Sender<Msg>, out: UnboundedSender<Out>, rt: Handle) -> Self {
        Worker {
            me,
            handed_out: Arc::new(()),
            out,
            rt,
            host: None,
            root: None,
            disk_backed: false,
            on_disk: HashSet::new(),
            docs: HashMap::new(),
            paths: HashMap::new(),
            uris: Arc::new(UriMap::new(PathBuf::new())),
            generation: 0,
            cold: false,
            watch_to: None,
            disk_watch: None,
            starting_watch: None,
            watch_failed: None,
            touched: Vec::new(),
            checked: 0,
            rescan_after_check: false,
            summaries: Default::default(),
            scanning: false,
            rescan_queued: false,
            disk_sets: 0,
        }
    }

    fn log(&self, typ: MessageType, message: impl Into<String>) {
        let _ = self.out.send(Out::Log(typ, message.into()));
    }

    fn run(mut self, rx: Receiver<Msg>) {
        while let Ok(first) = rx.recv() {
            let mut effects = Effects::default();
            for msg in std::iter::once(first).chain(rx.try_iter()) {
                if let Msg::Shutdown = msg {
                    return;
                }
                self.handle(msg, &mut effects);
            }
            // Begun before the check; a check that ends before the watch is in place is
            // followed by a rescan (see `watch_started`).
            self.ensure_disk_watch();
            if effects.reload && self.reload() {
                effects.check = true;
            }
            if effects.check {
                self.start_check();
            } else if effects.checked
                && effects.snapshots.is_empty()
                && Arc::strong_count(&self.handed_out) == 1
            {
                // Nothing is waiting and no request is reading (collecting would cancel it):
                // free what the last change replaced now rather than when the next keystroke
                // is applied.
                if let Some(host) = &mut self.host {
                    let _phase = infra_check_analysis::timings::phase("lsp: collect garbage");
                    host.collect_garbage();
                }
            }
            // After the changes before them (and a reload) are applied.
            for reply in effects.snapshots {
                let snapshot = self.host.as_ref().map(|host| Snapshot {
                    analysis: host.snapshot(),
                    uris: Arc::clone(&self.uris),
                    _alive: Arc::clone(&self.handed_out),
                });
                let _ = reply.send(snapshot);
            }
        }
    }

    fn handle(&mut self, msg: Msg, effects: &mut Effects) {
        match msg {
            Msg::Init { roots } => {
                effects.check = true;
                for start in &roots {
                    if let Some(root) = find_root(start) {
                        self.progress(Progress::Begin {
                            title: "infra-check".into(),
                            message: format!("loading {}", root.display()),
                        });
                        self.begin_disk_watch(&root);
                        self.load_root(root);
                        return;
                    }
                }
                let shown: Vec<_> = roots.iter().map(|r| r.display().to_string()).collect();
                self.log(
                    MessageType::INFO,
                    format!(
                        "no flake.nix at or above the workspace ({}); the root is taken from the first opened document",
                        shown.join(", ")
                    ),
                );
            }
            Msg::Open {
                path,
                uri,
                version,
                text,
            } => {
                if self.host.is_none() {
                    self.root_from_document(&path);
                }
                let Some(rel) = self.relative(&path) else {
                    self.log(
                        MessageType::INFO,
                        format!(
                            "ignoring {}: outside the workspace root {}",
                            path.display(),
                            self.root_display()
                        ),
                    );
                    return;
                };
                if !is_analyzed(&rel) {
                    self.log(
                        MessageType::LOG,
                        format!("ignoring {rel}: not a file infra-check reads"),
                    );
                    return;
                }
                let _ = self.out.send(Out::Reopened(uri.clone()));
                Arc::make_mut(&mut self.uris).remember(&rel, uri);
                self.set_text(&rel, Some(text.as_str().into()));
                self.docs.insert(rel.clone(), Doc { version, text });
                self.paths.insert(path, rel);
                effects.check = true;
            }
            Msg::Change {
                path,
                version,
                changes,
            } => {
                let Some(rel) = self.paths.get(&path).cloned() else {
                    return; // not open, or ignored when it was opened
                };
                let Some(doc) = self.docs.get_mut(&rel) else {
                    return;
                };
                if version <= doc.version {
                    let current = doc.version;
                    self.log(
                        MessageType::WARNING,
                        format!(
                            "ignoring stale change to {rel}: version {version} after {current}"
                        ),
                    );
                    return;
                }
                for change in changes {
                    apply_change(&mut doc.text, change);
                }
                doc.version = version;
                let text: Arc<str> = doc.text.as_str().into();
                self.set_text(&rel, Some(text));
                effects.check = true;
            }
            Msg::Close { path } => {
                let Some(rel) = self.paths.remove(&path) else {
                    return;
                };
                if self.paths.values().any(|r| *r == rel) {
                    return; // still open under another path
                }
                self.docs.remove(&rel);
                let text = self.disk_text(&rel);
                self.disk_sets += 1;
                if self.disk_backed && text.is_some() != self.on_disk.contains(&rel) {
                    effects.reload = true;
                }
                self.set_text(&rel, text);
                effects.check = true;
            }
            Msg::Save { .. } | Msg::DiskChanged => {
                // A save is a moment the user expects the disk to be seen: a formatter, a
                // `clan vars generate` in a terminal or a checkout may have changed more than
                // this file, and a client may not watch files. The rescan keeps what did not
                // change, and open documents keep their text.
                if self.disk_backed {
                    effects.reload = true;
                }
            }
            Msg::Watched { changes } => {
                if !self.disk_backed {
                    return;
                }
                for (path, typ) in changes {
                    // The path itself, not where a link at it points (a vars link's target
                    // may lie outside the root, and a dangling one resolves nowhere).
                    let lexical = self
                        .root
                        .as_deref()
                        .and_then(|root| lexical_relative(root, &path));
                    let Some(rel) = lexical.or_else(|| self.relative(&path)) else {
                        continue;
                    };
                    if rel.split('/').any(is_ignored_dir) {
                        continue;
                    }
                    if typ == FileChangeType::CHANGED {
                        if is_secret(&rel) {
                            // Whether a secret is sops-encrypted is read at load time.
                            effects.reload = true;
                            continue;
                        }
                        if !is_analyzed(&rel) {
                            if self.on_disk.contains(&rel) {
                                // A data file named in infra-check.toml (an option catalog).
                                effects.reload = true;
                            }
                            continue;
                        }
                        if self.docs.contains_key(&rel) {
                            continue; // open documents keep their in-memory text
                        }
                        match self.disk_text(&rel) {
                            Some(text) if self.on_disk.contains(&rel) => {
                                self.disk_sets += 1;
                                self.set_text(&rel, Some(text));
                                effects.check = true;
                            }
                            _ => effects.reload = true,
                        }
                    } else {
                        // Created or deleted: the disk tree changed.
                        effects.reload = true;
                    }
                }
            }
            Msg::WatchDisk(to) => self.watch_to = Some(to),
            Msg::WatchStarted { root, result } => self.watch_started(root, result, effects),
            Msg::Scanned { root, since, scan } => self.scanned(root, since, scan, effects),
            Msg::Snapshot { reply } => effects.snapshots.push(reply),
            Msg::Checked { generation } => {
                self.checked = self.checked.max(generation);
                effects.checked = generation == self.generation;
                if effects.checked && std::mem::take(&mut self.rescan_after_check) {
                    effects.reload = true;
                }
            }
            Msg::Shutdown => {}
        }
    }

    /// Watches the root on disk when asked to and the host mirrors a directory; a root that
    /// cannot be watched is reported once (saving a file still refreshes from disk).
    fn ensure_disk_watch(&mut self) {
        let (Some(root), true) = (self.root.clone(), self.disk_backed) else {
            return;
        };
        let watching = self.disk_watch.as_ref().map(DiskWatch::root);
        if watching == Some(root.as_path())
            || self.watch_failed.as_ref() == Some(&root)
            || self
                .starting_watch
                .as_ref()
                .is_some_and(|(on, _)| *on == root)
        {
            return;
        }
        self.disk_watch = None;
        self.begin_disk_watch(&root);
    }

    /// Starts watching `root` on a thread of its own at the lowest priority, when the disk is
    /// to be watched. On a large tree registering every directory costs as much as loading it
    /// (55,000 directories: ~400 ms of the kernel's time), so it runs beside the load and the
    /// first check, on what they leave of the cores, instead of before them; begun before the
    /// load, it also sees what changes while the load reads. [`Msg::WatchStarted`] hands it
    /// over.
    fn begin_disk_watch(&mut self, root: &Path) {
        let Some(to) = &self.watch_to else { return };
        let Ok(root) = root.canonicalize() else {
            return;
        };
        if self
            .starting_watch
            .as_ref()
            .is_some_and(|(on, _)| *on == root)
        {
            return;
        }
        let (to, out, me, on) = (to.clone(), self.out.clone(), self.me.clone(), root.clone());
        let thread = in_background("infra-check disk watch", move || {
            let result = DiskWatch::start(&on, to, out);
            let _ = me.send(Msg::WatchStarted { root: on, result });
        });
        match thread {
            Ok(_) => self.starting_watch = Some((root, self.generation)),
            Err(e) => {
                self.watch_failed = Some(root.clone());
                self.log(
                    MessageType::WARNING,
                    format!("cannot watch {} for changes on disk: no thread to start the watch on ({e}); changes made outside the editor are seen when a file is saved", root.display()),
                );
            }
        }
    }

    /// A disk watch begun by [`Worker::begin_disk_watch`] is in place (or failed to start).
    fn watch_started(
        &mut self,
        root: PathBuf,
        result: Result<DiskWatch, String>,
        effects: &mut Effects,
    ) {
        let Some((on, began_at)) = self.starting_watch.take_if(|(on, _)| *on == root) else {
            return; // superseded: dropping the watch stops it
        };
        if self.root.as_ref() != Some(&on) || !self.disk_backed {
            return;
        }
        match result {
            Ok(watch) => {
                self.log(
                    MessageType::LOG,
                    format!("watching {} for changes on disk", on.display()),
                );
                self.disk_watch = Some(watch);
                if self.generation > began_at {
                    // A check ran before the watch was in place: what changed on disk
                    // meanwhile would go unseen, so the disk is looked at once more (a
                    // rescan keeps whatever did not change) — after the check in flight,
                    // so as not to slow the first results down.
                    if self.checked == self.generation {
                        effects.reload = true;
                    } else {
                        self.rescan_after_check = true;
                    }
                }
            }
            Err(message) => {
                self.watch_failed = Some(on);
                self.log(MessageType::WARNING, message);
            }
        }
    }

    fn progress(&self, step: Progress) {
        let _ = self.out.send(Out::Progress(step));
    }

    fn root_display(&self) -> String {
        match &self.root {
            Some(r) => r.display().to_string(),
            None => "(none)".into(),
        }
    }

    fn relative(&self, path: &Path) -> Option<String> {
        relative_path(self.root.as_deref()?, path)
    }

    fn set_text(&mut self, rel: &str, text: Option<Arc<str>>) {
        let _phase = infra_check_analysis::timings::phase("lsp: set text");
        if let Some(host) = &mut self.host {
            host.set_file_text(rel, text);
            self.touched.push(rel.to_owned());
        }
    }

    /// The text on disk of an analysed file, when the host mirrors the disk.
    fn disk_text(&self, rel: &str) -> Option<Arc<str>> {
        if !self.disk_backed || !is_analyzed(rel) {
            return None;
        }
        let root = self.root.clone()?;
        // The loader's rules: a regular file inside the root, under the size limit. Anything
        // else comes back as `None`, and the rescan that follows reports it.
        match infra_check_analysis::loader::read_analyzed(&root, rel) {
            Ok(text) => text,
            Err(problem) => {
                self.log(
                    MessageType::WARNING,
                    format!(
                        "cannot read {rel}: {}",
                        infra_check_analysis::loader::describe(&problem)
                    ),
                );
                None
            }
        }
    }

    /// No workspace root was found at `initialize`: the first opened document decides. Its
    /// flake root if it has one, else its directory, holding open documents only.
    fn root_from_document(&mut self, path: &Path) {
        let dir = path.parent().unwrap_or(path);
        if let Some(root) = find_root(dir) {
            self.load_root(root);
            return;
        }
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        self.log(
            MessageType::INFO,
            format!(
                "no flake.nix above {}: checking open documents only, rooted at {}",
                path.display(),
                dir.display()
            ),
        );
        self.set_root(dir.clone(), AnalysisHost::new(dir), false);
    }

    fn load_root(&mut self, root: PathBuf) {
        match load(&root) {
            Ok(Loaded {
                mut host,
                unreadable,
            }) => {
                for (file, err) in unreadable {
                    self.log(MessageType::WARNING, format!("cannot read {file}: {err}"));
                }
                let root = host.root().to_path_buf();
                // The locked inputs' sources are read from the store Nix uses here; a store
                // directory that is not absolute is named once and the store left unread.
                match infra_check_analysis::inputs::configured_store(&root, false, None) {
                    Ok((store, _)) => host.set_store(store),
                    Err(e) => self.log(MessageType::WARNING, e),
                }
                host.set_cache(infra_check_analysis::inputs::cache::user_cache_dir());
                let snapshot = host.snapshot();
                self.on_disk = snapshot.files().into_iter().collect();
                drop(snapshot); // before any input is set on this host
                if self.root.as_ref() == Some(&root) {
                    // A reload: open documents keep their in-memory text.
                    for (rel, doc) in &self.docs {
                        host.set_file_text(rel, Some(doc.text.as_str().into()));
                    }
                }
                self.log(
                    MessageType::INFO,
                    format!(
                        "loaded {} files from {}",
                        self.on_disk.len(),
                        root.display()
                    ),
                );
                self.progress(Progress::Report {
                    message: format!("checking {} files", self.on_disk.len()),
                });
                self.set_root(root, host, true);
                self.cold = true;
            }
            Err(e) => {
                self.log(
                    MessageType::ERROR,
                    format!(
                        "cannot read the workspace {}: {e}; checking open documents only",
                        root.display()
                    ),
                );
                self.on_disk.clear();
                self.set_root(root.clone(), AnalysisHost::new(root), false);
            }
        }
    }

    fn set_root(&mut self, root: PathBuf, host: AnalysisHost, disk_backed: bool) {
        if self.root.as_ref() != Some(&root) {
            self.uris = Arc::new(UriMap::new(root.clone()));
            self.docs.clear();
            self.paths.clear();
        }
        self.root = Some(root);
        self.host = Some(host);
        self.disk_backed = disk_backed;
    }

    /// Looks at the disk again. The first load of a root happens here and now; a rescan of a
    /// loaded one is walked and read on a thread of its own ([`Msg::Scanned`] brings it back),
    /// so edits go on being checked meanwhile: on 55,000 directories the walk alone takes
    /// ~400 ms, and a save, a created file or the disk watch coming into place would otherwise
    /// hold the next keystroke's diagnostics back that long. Returns whether the host changed
    /// now.
    fn reload(&mut self) -> bool {
        let (Some(root), true) = (self.root.clone(), self.disk_backed) else {
            return false;
        };
        if self.host.is_none() {
            self.load_root(root);
            return true;
        }
        if self.scanning {
            self.rescan_queued = true;
            return false;
        }
        let (me, on, since) = (self.me.clone(), root.clone(), self.disk_sets);
        let thread = in_background("infra-check rescan", move || {
            let scan = Rescan(infra_check_analysis::scan(&on));
            let _ = me.send(Msg::Scanned {
                root: on,
                since,
                scan,
            });
        });
        match thread {
            Ok(_) => {
                self.scanning = true;
                false
            }
            // No thread to spare: the rescan is done here.
            Err(_) => {
                let scan = infra_check_analysis::scan(&root);
                self.apply_scan(root, scan);
                true
            }
        }
    }

    /// A rescan begun by [`Worker::reload`] has ended.
    fn scanned(&mut self, root: PathBuf, since: u64, Rescan(scan): Rescan, effects: &mut Effects) {
        self.scanning = false;
        let queued = std::mem::take(&mut self.rescan_queued);
        // Not applied when another root was loaded meanwhile, nor when a text was set from
        // the disk meanwhile (then the disk is looked at again).
        let again = if self.root.as_ref() != Some(&root) || !self.disk_backed {
            queued
        } else if since == self.disk_sets {
            self.apply_scan(root, scan);
            effects.check = true;
            queued
        } else {
            true
        };
        if again && self.reload() {
            effects.check = true;
        }
    }

    /// Brings the host in line with `scan` of `root`, or loads the root afresh when it could
    /// not be scanned.
    fn apply_scan(&mut self, root: PathBuf, scan: io::Result<infra_check_analysis::loader::Scan>) {
        // Refresh the existing host in place, so salsa keeps everything the change did not
        // touch; a new host would make the next check a cold one.
        match (scan, self.host.is_some()) {
            (Ok(mut scan), true) => {
                for (file, err) in &scan.unreadable {
                    self.log(MessageType::WARNING, format!("cannot read {file}: {err}"));
                }
                let host = self.host.as_mut().expect("checked above");
                self.on_disk = scan.texts.iter().map(|(p, _)| p.clone()).collect();
                // Open documents keep their in-memory text: given to the refresh as if read,
                // an edited document is not set to its disk text and back, which would cancel
                // every request in flight and redo its work for nothing.
                for (rel, text) in &mut scan.texts {
                    if let Some(doc) = self.docs.get(rel.as_str()) {
                        *text = doc.text.as_str().into();
                    }
                }
                host.refresh(scan);
                // Nix may have fetched locked inputs since (a `nix develop` in a terminal).
                let fetched = host.refresh_store();
                // Open documents that are not on disk (or were not read) are added.
                for (rel, doc) in &self.docs {
                    host.set_file_text(rel, Some(doc.text.as_str().into()));
                }
                if fetched {
                    self.log(
                        MessageType::INFO,
                        "the Nix store holds other sources of the locked inputs than before: they are read from now on",
                    );
                }
            }
            _ => self.load_root(root),
        }
    }

    fn start_check(&mut self) {
        let Some(host) = &self.host else {
            return;
        };
        self.generation += 1;
        let generation = self.generation;
        let prime = std::mem::take(&mut self.cold);
        let snapshot = host.snapshot();
        let uris = Arc::clone(&self.uris);
        let versions: Vec<(Uri, i32)> = self
            .docs
            .iter()
            .filter_map(|(rel, doc)| Some((uris.uri(rel)?, doc.version)))
            .collect();
        let out = self.out.clone();
        let me = self.me.clone();
        let touched = std::mem::take(&mut self.touched);
        let summaries = Arc::clone(&self.summaries);
        self.rt.spawn_blocking(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                // Priming only spreads the work over the cores; a cancelled prime is fine.
                if prime {
                    let _ = snapshot.prime();
                } else if cross_file_change(&snapshot, &touched, &summaries) {
                    let _ = snapshot.prime_workspace();
                }
                let _phase = infra_check_analysis::timings::phase("lsp: check and collect");
                collect(&snapshot, &uris)
            }));
            drop(snapshot); // promptly: the host waits for it before applying the next change
            let _ = me.send(Msg::Checked { generation });
            match result {
                Ok(Ok(files)) => {
                    let _ = out.send(Out::Publish {
                        generation,
                        files,
                        versions,
                    });
                }
                Ok(Err(_cancelled)) => {
                    // The host moved on; the check started after that change publishes.
                }
                Err(payload) => {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    let _ = out.send(Out::Log(
                        MessageType::ERROR,
                        format!("internal error while checking: {message}"),
                    ));
                    let _ = out.send(Out::Progress(Progress::End {
                        message: "failed".into(),
                    }));
                }
            }
        });
    }
}

/// Whether a file set since the last check now contributes something else to the workspace
/// than when it was last checked: then every machine's part may have to be recomputed, and
/// that is worth sharing out over the cores; otherwise checking in order costs less. A `.nix`
/// file seen for the first time (just opened) is only remembered; any other file the analysis
/// reads (`inventory.json`, `flake.lock`) is data of the workspace's models and counts. Records
/// what each `.nix` file contributes now.
fn cross_file_change(
    snapshot: &Analysis,
    touched: &[String],
    summaries: &Mutex<HashMap<String, Arc<FileSummary>>>,
) -> bool {
    let mut changed = false;
    let mut known = summaries.lock().unwrap_or_else(|e| e.into_inner());
    for rel in touched {
        if !rel.ends_with(".nix") {
            changed = true;
            continue;
        }
        let Ok(now) = snapshot.file_summary(rel) else {
            return false; // cancelled: the next check decides
        };
        match now {
            Some(now) => {
                if let Some(old) = known.insert(rel.clone(), now.clone()) {
                    changed |= old != now;
                }
            }
            None => changed |= known.remove(rel).is_some(),
        }
    }
    changed
}

/// Runs `job` on a thread of its own named `name`, at the lowest scheduling priority (on Linux
/// the nice value is a thread's own), so what it does competes with nothing the user waits
/// for. Fails only when no thread can be started.
fn in_background(name: &str, job: impl FnOnce() + Send + 'static) -> io::Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            // A failure leaves the thread at the priority it had: only slower.
            #[cfg(target_os = "linux")]
            let _ = rustix::process::setpriority_process(None, 19);
            job()
        })
        .map(drop)
}

/// The root-relative path of `path` when it is spelt below `root`, without resolving links.
fn lexical_relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts = rel
        .components()
        .map(|c| match c {
            std::path::Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A vars or sops secret: its text is never read, only whether it is sops-encrypted.
fn is_secret(rel: &str) -> bool {
    (rel.starts_with("vars/") || rel.starts_with("sops/secrets/")) && rel.ends_with("/secret")
}

/// Applies one content change to a document's text; a change with a range is located with
/// UTF-16 positions (the protocol's default encoding), clamped to the text (see
/// [`FileLines`]).
fn apply_change(text: &mut String, change: lsp::TextDocumentContentChangeEvent) {
    let Some(range) = change.range else {
        *text = change.text;
        return;
    };
    let index = LineIndex::new(text);
    let r = FileLines {
        text,
        index: &index,
    }
    .text_range(range);
    text.replace_range(r.start as usize..r.end as usize, &change.text);
}

/// Runs the workspace diagnostics on a snapshot and converts them, grouped by file.
fn collect(snapshot: &Analysis, uris: &UriMap) -> Cancellable<Vec<(Uri, Vec<lsp::Diagnostic>)>> {
    Cancelled::catch(AssertUnwindSafe(|| collect_inner(snapshot, uris)))?
}

/// A file's text and line index, from one snapshot.
type FileText = (Arc<str>, Arc<LineIndex>);

fn collect_inner(
    snapshot: &Analysis,
    uris: &UriMap,
) -> Cancellable<Vec<(Uri, Vec<lsp::Diagnostic>)>> {
    let diagnostics = snapshot.diagnostics()?;
    let mut texts: HashMap<&str, Option<FileText>> = HashMap::new();
    for d in diagnostics.iter() {
        let files =
            std::iter::once(&d.location.file).chain(d.related.iter().map(|r| &r.location.file));
        for file in files {
            if texts.contains_key(&**file) {
                continue;
            }
            let entry = match snapshot.file_text(file) {
                Some(text) => snapshot.line_index(file)?.map(|index| (text, index)),
                None => None,
            };
            texts.insert(file, entry);
        }
    }
    let texts = &texts;
    let mut lines = move |file: &str| {
        texts
            .get(file)
            .and_then(|e| e.as_ref())
            .map(|(text, index)| FileLines { text, index })
    };
    let mut by_file: BTreeMap<&str, Vec<lsp::Diagnostic>> = BTreeMap::new();
    for d in diagnostics.iter() {
        by_file
            .entry(&d.location.file)
            .or_default()
            .push(convert::diagnostic(d, uris, &mut lines));
    }
    Ok(by_file
        .into_iter()
        .filter_map(|(file, diags)| Some((uris.uri(file)?, diags)))
        .collect())
}

/// What a URI was last published with.
struct Published {
    uri: Uri,
    /// `None` forces the next publish.
    diagnostics: Option<Vec<lsp::Diagnostic>>,
    version: Option<i32>,
}

/// How long the publisher waits for the client to create a progress token.
const PROGRESS_CREATE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The work-done progress the publisher reports, if the client supports it.
struct ProgressState {
    supported: bool,
    /// The token of the progress that has begun and not ended.
    active: Option<lsp::ProgressToken>,
    next_id: u32,
}

impl ProgressState {
    async fn step(&mut self, client: &Client, step: Progress) {
        use lsp::{
            WorkDoneProgress as W, WorkDoneProgressBegin, WorkDoneProgressEnd,
            WorkDoneProgressReport,
        };
        let (token, value) = match step {
            Progress::Begin { title, message } => {
                if !self.supported {
                    return;
                }
                if let Some(token) = self.active.take() {
                    end_progress(client, token, None).await;
                }
                self.next_id += 1;
                let token =
                    lsp::ProgressToken::String(format!("infra-check/load/{}", self.next_id));
                let created = tokio::time::timeout(
                    PROGRESS_CREATE_TIMEOUT,
                    client.create_work_done_progress(token.clone()),
                )
                .await;
                if !matches!(created, Ok(Ok(()))) {
                    return; // the client refused or did not answer: no progress this time
                }
                self.active = Some(token.clone());
                (
                    token,
                    W::Begin(WorkDoneProgressBegin {
                        title,
                        cancellable: Some(false),
                        message: Some(message),
                        percentage: None,
                    }),
                )
            }
            Progress::Report { message } => {
                let Some(token) = self.active.clone() else {
                    return;
                };
                (
                    token,
                    W::Report(WorkDoneProgressReport {
                        cancellable: Some(false),
                        message: Some(message),
                        percentage: None,
                    }),
                )
            }
            Progress::End { message } => {
                let Some(token) = self.active.take() else {
                    return;
                };
                (
                    token,
                    W::End(WorkDoneProgressEnd {
                        message: Some(message),
                    }),
                )
            }
        };
        send_progress(client, token, value).await;
    }
}

async fn send_progress(client: &Client, token: lsp::ProgressToken, value: lsp::WorkDoneProgress) {
    client
        .send_notification::<lsp::notification::Progress>(lsp::ProgressParams {
            token,
            value: lsp::ProgressParamsValue::WorkDone(value),
        })
        .await;
}

async fn end_progress(client: &Client, token: lsp::ProgressToken, message: Option<String>) {
    let end = lsp::WorkDoneProgress::End(lsp::WorkDoneProgressEnd { message });
    send_progress(client, token, end).await;
}

/// Sends what the worker produces to the client, in order, dropping stale results. Reports
/// `$/progress` when `progress_supported` (the client's `window.workDoneProgress`).
pub async fn publish(client: Client, mut rx: UnboundedReceiver<Out>, progress_supported: bool) {
    let mut last_generation = 0;
    let mut published: HashMap<String, Published> = HashMap::new();
    let mut progress = ProgressState {
        supported: progress_supported,
        active: None,
        next_id: 0,
    };
    while let Some(msg) = rx.recv().await {
        match msg {
            Out::Log(typ, message) => client.log_message(typ, message).await,
            Out::Progress(step) => progress.step(&client, step).await,
            Out::Reopened(uri) => {
                let key = uri.as_str().to_owned();
                published.insert(
                    key,
                    Published {
                        uri,
                        diagnostics: None,
                        version: None,
                    },
                );
            }
            Out::Publish {
                generation,
                files,
                versions,
            } => {
                if generation <= last_generation {
                    continue;
                }
                last_generation = generation;
                let versions: HashMap<String, (Uri, i32)> = versions
                    .into_iter()
                    .map(|(uri, v)| (uri.as_str().to_owned(), (uri, v)))
                    .collect();
                let mut next: HashMap<String, Published> = HashMap::with_capacity(files.len());
                // Files with diagnostics, then open documents without any (re-published when
                // their version moved on, so the client knows the edit was checked).
                let clean = versions
                    .iter()
                    .map(|(key, (uri, _))| (key.clone(), uri.clone(), Vec::new()));
                let with_diagnostics = files
                    .into_iter()
                    .map(|(uri, diags)| (uri.as_str().to_owned(), uri, diags))
                    .collect::<Vec<_>>();
                let mut seen: HashSet<String> = HashSet::new();
                for (key, uri, diags) in with_diagnostics.into_iter().chain(clean) {
                    if !seen.insert(key.clone()) {
                        continue;
                    }
                    let version = versions.get(&key).map(|(_, v)| *v);
                    let unchanged = matches!(
                        published.get(&key),
                        Some(Published { diagnostics: Some(old), version: v, .. })
                            if *old == diags && *v == version
                    );
                    if !unchanged {
                        client
                            .publish_diagnostics(uri.clone(), diags.clone(), version)
                            .await;
                    }
                    next.insert(
                        key,
                        Published {
                            uri,
                            diagnostics: Some(diags),
                            version,
                        },
                    );
                }
                for (key, old) in published {
                    // Gone from the result: clear it, unless it was already published empty.
                    if !next.contains_key(&key) && old.diagnostics.is_none_or(|d| !d.is_empty()) {
                        client.publish_diagnostics(old.uri, Vec::new(), None).await;
                    }
                }
                published = next;
                progress
                    .step(
                        &client,
                        Progress::End {
                            message: "done".into(),
                        },
                    )
                    .await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_changed_summary_counts_as_a_cross_file_change() {
        let mut host = AnalysisHost::new(PathBuf::from("/nowhere"));
        let known = Mutex::new(HashMap::new());
        let file = "modules/a.nix".to_owned();
        let set = |host: &mut AnalysisHost, text: &str| {
            host.set_file_text(&file, Some(text.into()));
            cross_file_change(&host.snapshot(), std::slice::from_ref(&file), &known)
        };
        let module = "{ flake.modules.nixos.a = { }; }\n";
        assert!(
            !set(&mut host, module),
            "seen for the first time: only remembered"
        );
        assert!(
            !set(&mut host, &format!("{module}# a comment\n")),
            "the same summary"
        );
        assert!(
            set(&mut host, "{ flake.modules.nixos.b = { }; }\n"),
            "another module"
        );
        let inventory = "inventory.json".to_owned();
        host.set_file_text(&inventory, Some("{ }".into()));
        assert!(
            cross_file_change(&host.snapshot(), &[inventory], &known),
            "data the clan model reads"
        );
        assert!(
            !known.lock().unwrap().contains_key("inventory.json"),
            "no summary is made of it"
        );
    }

    /// A worker on a loaded `root` whose disk watch is being started, with what it sends out.
    fn starting(root: &Path) -> (Worker, tokio::runtime::Runtime, Receiver<Msg>) {
        let (mut w, rt, rx) = loaded(root);
        w.watch_to = Some(w.me.clone());
        w.begin_disk_watch(root);
        (w, rt, rx)
    }

    fn watch_started(w: &mut Worker, rx: &Receiver<Msg>) -> Effects {
        let mut effects = Effects::default();
        loop {
            match rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap() {
                Msg::WatchStarted { root, result } => {
                    w.watch_started(root, result, &mut effects);
                    return effects;
                }
                _ => continue,
            }
        }
    }

    #[test]
    fn a_watch_in_place_after_a_check_began_rescans_the_disk_when_it_ends_and_one_before_does_not()
    {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flake.nix"), "{ outputs = _: { }; }").unwrap();
        let root = dir.path().canonicalize().unwrap();

        let (mut w, _rt, rx) = starting(&root);
        let effects = watch_started(&mut w, &rx);
        assert!(w.disk_watch.is_some() && !effects.reload);

        let (mut w, _rt, rx) = starting(&root);
        w.generation += 1; // a check began while the watch was starting, and ended
        w.checked = w.generation;
        let effects = watch_started(&mut w, &rx);
        assert!(w.disk_watch.is_some() && effects.reload);

        let (mut w, _rt, rx) = starting(&root);
        w.generation += 1; // a check began while the watch was starting, and is running
        let effects = watch_started(&mut w, &rx);
        assert!(
            w.disk_watch.is_some() && !effects.reload,
            "not while it runs"
        );
        let mut effects = Effects::default();
        let generation = w.generation;
        w.handle(Msg::Checked { generation }, &mut effects);
        assert!(effects.reload, "once it has ended");
    }

    /// A worker on a loaded `root`, with its own inbox.
    fn loaded(root: &Path) -> (Worker, tokio::runtime::Runtime, Receiver<Msg>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (me, rx) = std::sync::mpsc::channel();
        let (out, _) = tokio::sync::mpsc::unbounded_channel();
        let mut w = Worker::new(me, out, rt.handle().clone());
        w.load_root(root.to_path_buf());
        (w, rt, rx)
    }

    /// Handles what arrives until a rescan's result has been handled.
    fn until_scanned(w: &mut Worker, rx: &Receiver<Msg>) -> Effects {
        let mut effects = Effects::default();
        loop {
            let msg = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
            let scanned = matches!(msg, Msg::Scanned { .. });
            w.handle(msg, &mut effects);
            if scanned {
                return effects;
            }
        }
    }

    fn text_of(w: &Worker, rel: &str) -> Option<String> {
        let snapshot = w.host.as_ref().unwrap().snapshot();
        snapshot.file_text(rel).map(|t| t.to_string())
    }

    #[test]
    fn a_rescan_is_read_off_the_worker_and_applied_when_it_arrives() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flake.nix"), "{ outputs = _: { }; }").unwrap();
        let root = dir.path().canonicalize().unwrap();
        let (mut w, _rt, rx) = loaded(&root);
        std::fs::write(root.join("a.nix"), "{ }").unwrap();

        assert!(
            !w.reload(),
            "the host is not changed on the worker's thread"
        );
        assert!(w.scanning && text_of(&w, "a.nix").is_none());
        // Asked for again while it runs: once more after it.
        assert!(!w.reload());
        assert!(w.rescan_queued);

        let effects = until_scanned(&mut w, &rx);
        assert!(effects.check, "a check follows the rescan");
        assert_eq!(text_of(&w, "a.nix").as_deref(), Some("{ }"));
        assert!(w.scanning && !w.rescan_queued, "the queued rescan runs");
        until_scanned(&mut w, &rx);
        assert!(!w.scanning);
    }

    #[test]
    fn a_rescan_during_which_a_file_was_read_from_the_disk_is_not_applied_but_run_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("flake.nix"), "{ outputs = _: { }; }").unwrap();
        std::fs::write(dir.path().join("a.nix"), "{ a = 1; }").unwrap();
        let root = dir.path().canonicalize().unwrap();
        let (mut w, _rt, rx) = loaded(&root);

        assert!(!w.reload());
        // The scan may have read the old text; the watcher reports the new one.
        std::fs::write(root.join("a.nix"), "{ a = 2; }").unwrap();
        let mut effects = Effects::default();
        w.handle(
            Msg::Watched {
                changes: vec![(root.join("a.nix"), FileChangeType::CHANGED)],
            },
            &mut effects,
        );
        assert_eq!(text_of(&w, "a.nix").as_deref(), Some("{ a = 2; }"));
        std::fs::write(root.join("b.nix"), "{ }").unwrap();

        let effects = until_scanned(&mut w, &rx);
        assert!(!effects.check, "not applied");
        assert!(text_of(&w, "b.nix").is_none());
        assert!(w.scanning, "run again");
        let effects = until_scanned(&mut w, &rx);
        assert!(effects.check && !w.scanning);
        assert_eq!(text_of(&w, "a.nix").as_deref(), Some("{ a = 2; }"));
        assert_eq!(text_of(&w, "b.nix").as_deref(), Some("{ }"));
    }

    fn change(
        range: Option<((u32, u32), (u32, u32))>,
        text: &str,
    ) -> lsp::TextDocumentContentChangeEvent {
        lsp::TextDocumentContentChangeEvent {
            range: range.map(|((l1, c1), (l2, c2))| {
                lsp::Range::new(lsp::Position::new(l1, c1), lsp::Position::new(l2, c2))
            }),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn applies_full_and_ranged_changes() {
        let mut text = String::from("old");
        apply_change(&mut text, change(None, "{\n  a = \"😀\";\n}\n"));
        assert_eq!(text, "{\n  a = \"😀\";\n}\n");
        // Replace the emoji (two UTF-16 units, columns 7..9 on line 1).
        apply_change(&mut text, change(Some(((1, 7), (1, 9))), "x"));
        assert_eq!(text, "{\n  a = \"x\";\n}\n");
        // Insert at the very end, and across lines.
        apply_change(&mut text, change(Some(((3, 0), (3, 0))), "# end\n"));
        apply_change(&mut text, change(Some(((0, 1), (2, 0))), " "));
        assert_eq!(text, "{ }\n# end\n");
    }

    /// What a client holds after replacing UTF-16 columns `[a, b)` of line `line` (clamped
    /// to the line's text) with `new`; columns inside a surrogate pair mean its start.
    fn by_units(text: &str, line: usize, a: u32, b: u32, new: &str) -> String {
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let l = &lines[line];
        let (content, cr) = match l.strip_suffix('\r') {
            Some(c) => (c.to_owned(), "\r"),
            None => (l.clone(), ""),
        };
        let units: Vec<u16> = content.encode_utf16().collect();
        let boundary = |c: u32| {
            let mut c = (c as usize).min(units.len());
            while c > 0 && c < units.len() && (0xDC00..0xE000).contains(&units[c]) {
                c -= 1;
            }
            c
        };
        let (a, b) = (boundary(a), boundary(b));
        lines[line] = format!(
            "{}{new}{}{cr}",
            String::from_utf16(&units[..a]).unwrap(),
            String::from_utf16(&units[b..]).unwrap()
        );
        lines.join("\n")
    }

    #[test]
    fn ranged_changes_at_every_column_of_non_ascii_and_crlf_lines() {
        let text = "{\r\n  a = \"é😀中\"; # 中文 😀\r\n  b = 1;\n  c = \"😀😀\";\n}";
        let lines: Vec<&str> = text.split('\n').collect();
        for (line, l) in lines.iter().enumerate() {
            let width = l.trim_end_matches('\r').encode_utf16().count() as u32;
            for a in 0..=width + 2 {
                for b in [a, a + 1, a + 2, a + 5] {
                    for new in ["", "ü😀"] {
                        let mut edited = text.to_owned();
                        apply_change(
                            &mut edited,
                            change(Some(((line as u32, a), (line as u32, b))), new),
                        );
                        assert_eq!(
                            edited,
                            by_units(text, line, a, b, new),
                            "line {line}, {a}..{b}, {new:?}"
                        );
                        // Reversed ends are the same range.
                        let mut reversed = text.to_owned();
                        apply_change(
                            &mut reversed,
                            change(Some(((line as u32, b), (line as u32, a))), new),
                        );
                        assert_eq!(reversed, edited);
                    }
                }
            }
        }
        // Past the last line: appended at the end; a range across lines joins them.
        let mut edited = text.to_owned();
        apply_change(&mut edited, change(Some(((9, 0), (12, 4))), "!"));
        assert_eq!(edited, format!("{text}!"));
        let mut edited = text.to_owned();
        apply_change(&mut edited, change(Some(((0, 1), (1, 2))), ""));
        assert!(edited.starts_with("{a = "), "{edited:?}");
    }
}
