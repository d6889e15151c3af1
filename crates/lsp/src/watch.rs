//! Watching the workspace on disk for a client that does not watch files itself (one without
//! dynamic registration of `workspace/didChangeWatchedFiles`, such as Neovim 0.7).
//!
//! The `notify` watcher reports raw events on its own thread; they are handed over a channel
//! to a batching thread, which waits until the disk has been quiet for [`QUIET`] (so a
//! `git checkout` of hundreds of files is one batch), and then hands the batch to the worker as
//! one [`Msg::Watched`] — the same message the client's notification becomes, so a change on
//! disk is applied exactly as a watching client's would be. Neither thread ever waits for the
//! worker: its channel is unbounded, and a batch holds one entry per path.
//!
//! `notify` batchers were not used: `notify-debouncer-mini` drops the kind of each event (a
//! created link and a changed file must be told apart), and `notify-debouncer-full` emits
//! events as each one ages rather than once a burst is over.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use infra_check_analysis::loader::is_skipped_dir;
use notify::event::{AccessKind, CreateKind, EventKind, MetadataKind, ModifyKind, RenameMode};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;
use tower_lsp_server::ls_types::{FileChangeType, MessageType};

use crate::worker::{Msg, Out};

/// How long the disk must be quiet before a batch is handed over.
pub const QUIET: Duration = Duration::from_millis(150);
/// A disk that is never quiet (a build writing next to the sources) is still refreshed this
/// often.
pub const MAX_DELAY: Duration = Duration::from_secs(1);

enum Raw {
    Event(notify::Result<Event>),
    Stop,
}

/// A running watch of one root; dropping it stops the watch.
pub struct DiskWatch {
    root: PathBuf,
    stop: Sender<Raw>,
}

impl std::fmt::Debug for DiskWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskWatch")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl DiskWatch {
    /// Starts watching `root` (canonical): every directory below it except the skipped ones
    /// (`.git`, `target`, `result*`, …), with links reported as links, never followed. Changes
    /// go to `worker`; problems after the start are logged through `out`, once. When this
    /// returns, the watches are in place. Fails when even the root cannot be watched.
    pub fn start(
        root: &Path,
        worker: Sender<Msg>,
        out: UnboundedSender<Out>,
    ) -> Result<DiskWatch, String> {
        let (tx, rx) = mpsc::channel();
        let handler_tx = tx.clone();
        // Opens and reads are not changes, and on Linux every directory the recursive watch
        // lists (and every file the analysis reads) would be an "opened" event: on a tree of
        // tens of thousands of directories (most of them under `vars/`) those overflow the
        // kernel's queue before they are read, and the overflow forces a rescan of the whole
        // repository right after it was loaded. Only changes are asked for.
        let config = notify::Config::default()
            .with_follow_symlinks(false)
            .with_event_kinds(notify::EventKindMask::CORE | notify::EventKindMask::ACCESS_CLOSE);
        let handler = move |event: notify::Result<Event>| {
            let _ = handler_tx.send(Raw::Event(event));
        };
        let mut watcher =
            RecommendedWatcher::new(handler, config).map_err(|e| cannot_watch(root, &e))?;
        // The root alone, then each of its directories that is not skipped: a recursive watch
        // of the root would also watch `.git` and build outputs, which can be most of the
        // directories (and of the system's watch limit).
        watcher
            .watch(root, RecursiveMode::NonRecursive)
            .map_err(|e| cannot_watch(root, &e))?;
        let mut batcher = Batcher {
            root: root.to_path_buf(),
            watcher,
            worker,
            out,
            reported: false,
        };
        let entries = std::fs::read_dir(root).map_err(|e| {
            format!(
                "cannot watch {} for changes on disk: {e}; changes made outside the editor are seen when a file is saved",
                root.display()
            )
        })?;
        for entry in entries.flatten() {
            batcher.watch_top_level(&entry.path());
        }
        std::thread::Builder::new()
            .name("infra-check-watch".into())
            .spawn(move || batcher.run(rx))
            .map_err(|e| format!("cannot start the thread that watches the disk: {e}"))?;
        Ok(DiskWatch {
            root: root.to_path_buf(),
            stop: tx,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for DiskWatch {
    fn drop(&mut self) {
        let _ = self.stop.send(Raw::Stop);
    }
}

/// Why watching failed, as a sentence a user can act on.
fn cannot_watch(path: &Path, e: &notify::Error) -> String {
    let why = match &e.kind {
        notify::ErrorKind::MaxFilesWatch => "the system's limit on watched directories is reached (on Linux, raise `fs.inotify.max_user_watches` and `fs.inotify.max_user_instances`)".to_owned(),
        _ => e.to_string(),
    };
    format!(
        "cannot watch {} for changes on disk: {why}; changes made outside the editor are seen when a file is saved",
        path.display()
    )
}

/// Owns the watcher and turns its events into batches for the worker.
struct Batcher {
    root: PathBuf,
    watcher: RecommendedWatcher,
    worker: Sender<Msg>,
    out: UnboundedSender<Out>,
    /// Whether a problem was already logged: one message, not one per directory.
    reported: bool,
}

/// The changes of one batch, one entry per path. A creation or deletion is kept over a change
/// of the same path: it is what makes the worker rescan the tree.
#[derive(Default)]
struct Batch {
    changes: BTreeMap<PathBuf, FileChangeType>,
    rescan: bool,
}

impl Batch {
    fn add(&mut self, path: PathBuf, typ: FileChangeType) {
        let entry = self.changes.entry(path).or_insert(typ);
        if *entry == FileChangeType::CHANGED {
            *entry = typ;
        }
    }

    fn is_empty(&self) -> bool {
        self.changes.is_empty() && !self.rescan
    }
}

impl Batcher {
    fn run(mut self, rx: Receiver<Raw>) {
        loop {
            let mut batch = Batch::default();
            // Wait for the first event that matters.
            while batch.is_empty() {
                match rx.recv() {
                    Ok(Raw::Event(event)) => self.add(&mut batch, event),
                    Ok(Raw::Stop) | Err(_) => return,
                }
            }
            let started = Instant::now();
            let mut last = started;
            loop {
                let deadline = (last + QUIET).min(started + MAX_DELAY);
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match rx.recv_timeout(left) {
                    Ok(Raw::Event(event)) => {
                        let before = (batch.changes.len(), batch.rescan);
                        self.add(&mut batch, event);
                        if (batch.changes.len(), batch.rescan) != before {
                            last = Instant::now();
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                    Ok(Raw::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            let msg = if batch.rescan {
                Msg::DiskChanged
            } else {
                Msg::Watched {
                    changes: batch.changes.into_iter().collect(),
                }
            };
            if self.worker.send(msg).is_err() {
                return; // the worker has stopped
            }
        }
    }

    fn add(&mut self, batch: &mut Batch, event: notify::Result<Event>) {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                // Events may have been lost (a new directory that could not be watched).
                let path = e
                    .paths
                    .first()
                    .cloned()
                    .unwrap_or_else(|| self.root.clone());
                self.report(cannot_watch(&path, &e));
                batch.rescan = true;
                return;
            }
        };
        if event.need_rescan() {
            batch.rescan = true; // the kernel's queue overflowed: events were lost
            return;
        }
        for (path, typ) in changes(&event) {
            if !matters(&self.root, &path) {
                continue;
            }
            if typ == FileChangeType::CREATED && path.parent() == Some(self.root.as_path()) {
                self.watch_top_level(&path);
            }
            batch.add(path, typ);
        }
    }

    /// Watches a directory just below the root, recursively, unless it is skipped or a link.
    fn watch_top_level(&mut self, path: &Path) {
        let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
        let skipped = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(is_skipped_dir);
        if !is_dir || skipped {
            return;
        }
        match self.watcher.watch(path, RecursiveMode::Recursive) {
            Ok(()) => {}
            // Gone again before it could be watched: its deletion is in the batch.
            Err(notify::Error {
                kind: notify::ErrorKind::PathNotFound,
                ..
            }) => {}
            Err(e) => self.report(cannot_watch(path, &e)),
        }
    }

    fn report(&mut self, message: String) {
        if !std::mem::replace(&mut self.reported, true) {
            let _ = self.out.send(Out::Log(MessageType::WARNING, message));
        }
    }
}

/// The protocol's changes for one event. Reads and opens are not changes (the worker's own
/// reads would otherwise trigger refreshes); access-time updates neither.
fn changes(event: &Event) -> Vec<(PathBuf, FileChangeType)> {
    use FileChangeType as T;
    let typ = match event.kind {
        EventKind::Access(AccessKind::Close(notify::event::AccessMode::Write)) => T::CHANGED,
        EventKind::Access(_) => return Vec::new(),
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => return Vec::new(),
        EventKind::Create(CreateKind::Any | CreateKind::File | CreateKind::Folder)
        | EventKind::Create(CreateKind::Other) => T::CREATED,
        EventKind::Remove(_) => T::DELETED,
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            // From the first path to the second.
            let mut out = Vec::new();
            if let Some(from) = event.paths.first() {
                out.push((from.clone(), T::DELETED));
            }
            if let Some(to) = event.paths.get(1) {
                out.push((to.clone(), T::CREATED));
            }
            return out;
        }
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) => T::DELETED,
        // Renamed to, or renamed without saying which end: it may be new.
        EventKind::Modify(ModifyKind::Name(_)) => T::CREATED,
        EventKind::Modify(_) | EventKind::Any | EventKind::Other => T::CHANGED,
    };
    event.paths.iter().map(|p| (p.clone(), typ)).collect()
}

/// Whether a path below `root` can matter to the analysis. The disk tree holds every path
/// (imports of paths, machine directories, unreadable files), so only what certainly does not
/// matter is dropped: skipped directories (`.git`, `target`, `result*`, …) and editors' own
/// temporary files.
fn matters(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let mut names = Vec::new();
    for component in rel.components() {
        match component {
            Component::Normal(name) => match name.to_str() {
                Some(name) => names.push(name),
                None => return true, // not UTF-8: the loader reports it
            },
            _ => return false,
        }
    }
    let Some((file, dirs)) = names.split_last() else {
        return false; // the root itself
    };
    !dirs.iter().any(|d| is_skipped_dir(d)) && !is_skipped_dir(file) && !is_editor_temp(file)
}

/// Files editors write beside the ones they edit: Vim's swap files and its `4913` probe,
/// Emacs's lock links, auto-save and backup files.
fn is_editor_temp(name: &str) -> bool {
    name == "4913"
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#') && name.len() > 1)
        || (name.starts_with('.')
            && [".swp", ".swo", ".swx"]
                .iter()
                .any(|ext| name.ends_with(ext)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_directories_and_editor_files_do_not_matter() {
        let root = Path::new("/repo");
        for rel in [
            "modules/a.nix",
            "vars/per-machine/m/g/f/value",
            "vars/shared/g/f/machines/m",
            "sops/machines/m",
            "flake.lock",
            "inventory.json",
            "infra-check.toml",
            "catalogs/web.json",
            "machines/m",
        ] {
            assert!(matters(root, &root.join(rel)), "{rel}");
        }
        for rel in [
            "",
            ".git/index",
            "sub/.git/HEAD",
            "target/debug/x",
            "result",
            "result-1",
            "pkgs/node_modules/x/index.js",
            ".direnv/flake-profile",
            "modules/.a.nix.swp",
            "modules/4913",
            "modules/a.nix~",
            "modules/.#a.nix",
            "modules/#a.nix#",
        ] {
            assert!(!matters(root, &root.join(rel)), "{rel}");
        }
        assert!(!matters(root, Path::new("/elsewhere/a.nix")));
    }

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        let mut event = Event::new(kind);
        for p in paths {
            event = event.add_path(PathBuf::from(p));
        }
        event
    }

    #[test]
    fn events_become_protocol_changes_and_reads_are_not_changes() {
        use notify::event::{AccessMode, DataChange, RemoveKind};
        use FileChangeType as T;
        let one = |kind| changes(&event(kind, &["/r/a"]));
        assert_eq!(
            one(EventKind::Create(CreateKind::File)),
            [("/r/a".into(), T::CREATED)]
        );
        assert_eq!(
            one(EventKind::Remove(RemoveKind::Any)),
            [("/r/a".into(), T::DELETED)]
        );
        assert_eq!(
            one(EventKind::Modify(ModifyKind::Data(DataChange::Content))),
            [("/r/a".into(), T::CHANGED)]
        );
        assert_eq!(
            one(EventKind::Modify(ModifyKind::Name(RenameMode::To))),
            [("/r/a".into(), T::CREATED)]
        );
        assert!(one(EventKind::Access(AccessKind::Open(AccessMode::Any))).is_empty());
        assert!(one(EventKind::Access(AccessKind::Close(AccessMode::Read))).is_empty());
        assert!(one(EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::AccessTime
        )))
        .is_empty());
        let both = changes(&event(
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            &["/r/a", "/r/b"],
        ));
        assert_eq!(
            both,
            [("/r/a".into(), T::DELETED), ("/r/b".into(), T::CREATED)]
        );
    }

    #[test]
    fn a_batch_keeps_one_entry_per_path_and_creation_over_change() {
        use FileChangeType as T;
        let mut batch = Batch::default();
        assert!(batch.is_empty());
        batch.add("/r/a".into(), T::CREATED);
        batch.add("/r/a".into(), T::CHANGED);
        batch.add("/r/b".into(), T::CHANGED);
        batch.add("/r/b".into(), T::CHANGED);
        let got: Vec<_> = batch.changes.into_iter().collect();
        assert_eq!(
            got,
            [("/r/a".into(), T::CREATED), ("/r/b".into(), T::CHANGED)]
        );
    }

    #[test]
    fn a_root_that_cannot_be_watched_is_an_error_naming_it() {
        let (tx, _rx) = mpsc::channel();
        let (out, _out_rx) = tokio::sync::mpsc::unbounded_channel();
        let missing = Path::new("/nonexistent/infra-check-watch-test");
        let err = DiskWatch::start(missing, tx, out).unwrap_err();
        assert!(
            err.contains("cannot watch /nonexistent/infra-check-watch-test"),
            "{err}"
        );
        assert!(err.ends_with("seen when a file is saved"), "{err}");
    }

    #[test]
    fn a_burst_on_disk_is_one_batch() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("modules")).unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        let (tx, rx) = mpsc::channel();
        let (out, _out_rx) = tokio::sync::mpsc::unbounded_channel();
        let watch = DiskWatch::start(&root, tx, out).unwrap();
        assert_eq!(watch.root(), root);
        for i in 0..200 {
            std::fs::write(root.join(format!("modules/m{i}.nix")), "{ }\n").unwrap();
        }
        std::fs::write(root.join(".git/index"), "x").unwrap();
        // A new top-level directory is watched too.
        std::fs::create_dir(root.join("vars")).unwrap();
        let wait = Duration::from_secs(20);
        let mut seen = std::collections::BTreeSet::new();
        let mut vars = false;
        let mut batches = 0;
        while seen.len() < 200 || !vars {
            match rx.recv_timeout(wait).expect("a batch") {
                Msg::Watched { changes } => {
                    batches += 1;
                    for (path, typ) in changes {
                        assert!(!path.starts_with(root.join(".git")), "{path:?}");
                        if path.extension().is_some_and(|e| e == "nix") {
                            seen.insert(path);
                        } else if path == root.join("vars") {
                            assert_eq!(typ, FileChangeType::CREATED);
                            vars = true;
                        }
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(batches < 20, "{batches} batches");
        // Once its creation is handed over, the new directory is watched.
        std::fs::write(root.join("vars/new"), "x").unwrap();
        let found = loop {
            match rx.recv_timeout(wait).expect("a batch") {
                Msg::Watched { changes } => {
                    if changes.iter().any(|(p, _)| *p == root.join("vars/new")) {
                        break true;
                    }
                }
                other => panic!("{other:?}"),
            }
        };
        assert!(found);
        drop(watch);
    }

    /// Starting the watch on a tree of many directories is not itself a burst of events: the
    /// first thing handed over is the change made after the start, not a rescan forced by a
    /// queue that overflowed while the watches were added.
    #[test]
    fn starting_on_many_directories_forces_no_rescan() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for m in 0..4000 {
            for g in 0..5 {
                std::fs::create_dir_all(root.join(format!("vars/per-machine/m{m}/g{g}"))).unwrap();
            }
        }
        let (tx, rx) = mpsc::channel();
        let (out, _out_rx) = tokio::sync::mpsc::unbounded_channel();
        let watch = DiskWatch::start(&root, tx, out).unwrap();
        let changed = root.join("vars/per-machine/m3999/g4/value");
        std::fs::write(&changed, "x").unwrap();
        match rx.recv_timeout(Duration::from_secs(20)).expect("a batch") {
            Msg::Watched { changes } => {
                assert!(changes.iter().any(|(p, _)| *p == changed), "{changes:?}")
            }
            other => panic!("{other:?}"),
        }
        drop(watch);
        // The watcher stops on its own thread; removing the tree while its watches are still
        // in place would have it follow tens of thousands of deletions.
        std::thread::sleep(Duration::from_millis(500));
        drop(dir);
    }
}
