//! The mutated repository on disk: copying a source tree, listing what is in it (without
//! following links or opening anything that is not a regular file), and undoing a case's
//! permission changes so the tree can be copied or deleted by a user who is not root.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Files of a fixture directory that describe the test rather than the repository.
const NOT_REPOSITORY: &[&str] = &["expected.txt"];

/// Copies `from` to `to`, keeping symbolic links as links and leaving out the root-relative
/// paths in `skip` (and everything below them).
pub fn copy_source(from: &Path, to: &Path, skip: &BTreeSet<String>) -> io::Result<()> {
    fs::create_dir_all(to)?;
    copy_dir(from, to, "", skip)
}

fn copy_dir(from: &Path, to: &Path, rel: &str, skip: &BTreeSet<String>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let child_rel = join(rel, &name);
        if skip.contains(&child_rel) || (rel.is_empty() && NOT_REPOSITORY.contains(&&*name)) {
            continue;
        }
        let target = to.join(entry.file_name());
        let ft = entry.file_type()?;
        if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
        } else if ft.is_dir() {
            fs::create_dir(&target)?;
            copy_dir(&entry.path(), &target, &child_rel, skip)?;
        } else if ft.is_file() {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// `dir/name`, or `name` at the root.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The directory part of a root-relative path (`""` at the root).
pub fn parent(rel: &str) -> &str {
    rel.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A FIFO, socket or device.
    Special,
}

/// Every entry below a root whose name is UTF-8, by root-relative path, in path order.
#[derive(Debug, Default)]
pub struct Listing {
    pub entries: BTreeMap<String, EntryKind>,
}

impl Listing {
    pub fn of(root: &Path) -> Listing {
        let mut listing = Listing::default();
        listing.walk(root, "");
        listing
    }

    fn walk(&mut self, dir: &Path, rel: &str) {
        let Ok(read) = fs::read_dir(dir) else { return };
        let mut names: Vec<_> = read.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        names.sort();
        for name in names {
            let Some(name) = name.to_str() else { continue };
            let path = dir.join(name);
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let ft = meta.file_type();
            let child = join(rel, name);
            let kind = if ft.is_symlink() {
                EntryKind::Symlink
            } else if ft.is_dir() {
                EntryKind::Dir
            } else if ft.is_file() {
                EntryKind::File
            } else {
                EntryKind::Special
            };
            self.entries.insert(child.clone(), kind);
            if kind == EntryKind::Dir {
                self.walk(&path, &child);
            }
        }
    }

    pub fn kind(&self, rel: &str) -> Option<EntryKind> {
        self.entries.get(rel).copied()
    }

    pub fn of_kind(&self, kind: EntryKind) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(move |(_, k)| **k == kind)
            .map(|(p, _)| p.as_str())
    }

    pub fn files(&self) -> Vec<&str> {
        self.of_kind(EntryKind::File).collect()
    }

    /// Directories at or below `top` (a root-level directory such as `modules`).
    pub fn dirs_under(&self, top: &str) -> Vec<&str> {
        self.of_kind(EntryKind::Dir)
            .filter(|d| *d == top || d.starts_with(&format!("{top}/")))
            .collect()
    }

    pub fn nix_files(&self) -> Vec<&str> {
        self.of_kind(EntryKind::File)
            .filter(|p| p.ends_with(".nix"))
            .collect()
    }

    /// Regular files named `secret`: their content must never be printed.
    pub fn secrets(&self) -> Vec<&str> {
        self.of_kind(EntryKind::File)
            .filter(|p| is_secret(p))
            .collect()
    }

    /// Machine names the repository mentions in the places clan keeps per-machine state.
    pub fn machines(&self) -> Vec<String> {
        let mut names = BTreeSet::new();
        for (path, kind) in &self.entries {
            for prefix in ["vars/per-machine/", "sops/machines/", "machines/"] {
                if let Some(rest) = path.strip_prefix(prefix) {
                    if *kind == EntryKind::Dir && !rest.contains('/') {
                        names.insert(rest.to_owned());
                    }
                }
            }
        }
        names.into_iter().collect()
    }

    pub fn contains(&self, rel: &str) -> bool {
        self.entries.contains_key(rel)
    }
}

pub fn is_secret(rel: &str) -> bool {
    rel == "secret" || rel.ends_with("/secret")
}

/// Total size of the regular files below `root`, not following links.
pub fn size(root: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.flatten() {
            let Ok(meta) = fs::symlink_metadata(entry.path()) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() {
                total += meta.len();
            }
        }
    }
    total
}

/// Gives every directory and regular file below `root` its owner's permissions back, so the
/// tree can be read, copied and deleted.
pub fn restore_permissions(root: &Path) {
    let Ok(meta) = fs::symlink_metadata(root) else {
        return;
    };
    if meta.is_dir() {
        let _ = fs::set_permissions(root, fs::Permissions::from_mode(0o755));
        if let Ok(read) = fs::read_dir(root) {
            for entry in read.flatten() {
                restore_permissions(&entry.path());
            }
        }
    } else if meta.is_file() && meta.permissions().mode() & 0o600 != 0o600 {
        let _ = fs::set_permissions(root, fs::Permissions::from_mode(0o644));
    }
}

/// Removes `path` whatever it is (a directory tree, a file, a link, a FIFO).
pub fn remove(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        restore_permissions(path);
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Removes `path` if anything is there.
pub fn clear(path: &Path) -> io::Result<()> {
    match remove(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Where case trees go: `INFRA_CHECK_FUZZ_TMPDIR`, else `/dev/shm` when it is a writable
/// directory (a case writes and deletes a whole repository; in memory that is many times
/// faster than on a disk), else the system's temporary directory.
fn scratch() -> PathBuf {
    static SCRATCH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SCRATCH.get_or_init(find_scratch).clone()
}

fn find_scratch() -> PathBuf {
    if let Some(dir) = std::env::var_os("INFRA_CHECK_FUZZ_TMPDIR") {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    let writable = fs::metadata(shm).is_ok_and(|m| m.is_dir() && !m.permissions().readonly())
        && tempfile::tempdir_in(shm).is_ok();
    if writable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// A temporary directory that holds one case's tree and cleans up after it even when the case
/// made parts of it unreadable.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix("infra-check-fuzz-")
            .tempdir_in(scratch())
            .expect("create a temporary directory");
        Workdir { dir }
    }

    /// The repository root inside the work directory (a `repo` subdirectory, so that a case
    /// that removes `flake.nix` finds no root in a parent it controls).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        restore_permissions(self.dir.path());
    }
}
