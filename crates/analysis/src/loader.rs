//! Reads a workspace from disk into an [`AnalysisHost`]: the root, every `.nix` file's text and
//! the tree of paths. Secret files are never kept: only `.nix` files and the few named data
//! files below are read, each through [`crate::fsread`] (regular files only, under a size
//! limit) and only when it resolves to a file of the repository the flake sees. What cannot be
//! read is recorded in the [`DiskTree`] and reported by the checks; it never stops the load.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::db::AnalysisHost;
use crate::disk::{DiskTree, EntryKind, Problem};
use crate::fsread;

/// Data files whose text the analyzer reads, by root-relative path.
pub const DATA_FILES: &[&str] = &["flake.lock", crate::config::CONFIG_FILE, "inventory.json"];

/// Directories that never belong to the flake's sources.
const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules", ".direnv", "result"];

/// Whether the analyzer reads the text of this root-relative path: `.nix` files, the data
/// files above, and the public `.validation-hash` files of vars.
pub fn is_analyzed(rel: &str) -> bool {
    rel.ends_with(".nix")
        || DATA_FILES.contains(&rel)
        || (rel.starts_with("vars/") && rel.ends_with("/.validation-hash"))
}

/// A vars `secret` file: opened only to see whether it is sops-encrypted.
pub fn is_secret_file(rel: &str) -> bool {
    (rel.starts_with("vars/") || rel.starts_with("sops/secrets/")) && rel.ends_with("/secret")
}

/// Whether a directory of this name is skipped (build outputs, VCS and tool state).
pub fn is_skipped_dir(name: &str) -> bool {
    SKIP_DIRS.contains(&name) || name.starts_with("result-")
}

/// The nearest ancestor of `start` (or `start` itself) that holds a `flake.nix`. Any kind of
/// entry of that name marks the root — one that is a directory or a named pipe is reported
/// (by the CLI as no flake, by the check as unreadable) rather than sending the search to a
/// repository further up.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    let mut dir = if start.is_dir() {
        start
    } else {
        start.parent()?.to_path_buf()
    };
    loop {
        if std::fs::symlink_metadata(dir.join("flake.nix")).is_ok() {
            return Some(dir);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// Decodes file bytes; invalid UTF-8 is replaced rather than rejected so every file is checked.
pub fn decode(bytes: Vec<u8>) -> Arc<str> {
    match String::from_utf8(bytes) {
        Ok(s) => s.into(),
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned().into(),
    }
}

pub struct Loaded {
    pub host: AnalysisHost,
    /// Paths that exist but could not be read, with the reason in words (also in the host's
    /// disk tree, where the checks report them).
    pub unreadable: Vec<(String, String)>,
}

/// Walks `root`, honouring `.gitignore` (a flake does not see ignored files), and loads the
/// texts the analyzer needs. Reading is done in parallel.
pub fn load(root: &Path) -> io::Result<Loaded> {
    let scan = scan(root)?;
    let mut host = AnalysisHost::new(scan.root);
    host.set_files(scan.texts);
    host.set_disk(scan.disk);
    Ok(Loaded {
        host,
        unreadable: scan.unreadable,
    })
}

/// What is on disk under a root: the texts the analyzer reads and the tree of paths.
pub struct Scan {
    pub root: PathBuf,
    pub texts: Vec<(String, Arc<str>)>,
    pub disk: DiskTree,
    /// Paths that could not be read, with the reason in words.
    pub unreadable: Vec<(String, String)>,
}

/// Reads a workspace from disk without building a host (see [`AnalysisHost::refresh`]). Fails
/// only when the root itself cannot be listed.
pub fn scan(root: &Path) -> io::Result<Scan> {
    scan_with(root, &crate::walk::Disk)
}

/// [`scan`] with another way of listing directories (tests make one fail).
pub fn scan_with(root: &Path, lister: &dyn crate::walk::Lister) -> io::Result<Scan> {
    use rayon::prelude::*;
    let root = root.canonicalize()?;
    let walk_phase = crate::timings::phase("walk");
    // Regular files are read as the walk lists them; links need the whole tree first.
    let walked = crate::walk::walk(&root, lister, &WalkReads)?;
    drop(walk_phase);
    let _read_phase = crate::timings::phase("read");
    let mut disk = DiskTree::from_entries(walked.entries);
    for (rel, problem) in walked.problems {
        disk.set_problem(rel, problem);
    }
    let mut texts = Vec::with_capacity(walked.read.len());
    for (rel, kept) in walked.read {
        match kept {
            Kept::Text(Ok(text)) => texts.push((rel, text)),
            Kept::Secret(Ok(encrypted)) => disk.set_secret_encrypted(rel, encrypted),
            Kept::Text(Err(p)) | Kept::Secret(Err(p)) => disk.set_problem(rel, p),
        }
    }
    let to_read: Vec<String> = disk
        .iter()
        .filter(|(rel, kind)| match kind {
            EntryKind::Symlink(_) => is_analyzed(rel),
            // A directory where the flake or clan expects one of their files.
            EntryKind::Dir => *rel == "flake.nix" || DATA_FILES.contains(rel),
            EntryKind::File => false,
        })
        .map(|(rel, _)| rel.to_owned())
        .collect();
    let results: Vec<(String, Result<Read, Problem>)> = to_read
        .into_par_iter()
        .map(|rel| {
            let read = match disk.get(&rel) {
                // A linked module is read where it really is (see `DiskTree::alias`).
                Some(EntryKind::Symlink(_)) if rel.ends_with(".nix") => resolve(&root, &disk, &rel)
                    .and_then(|target| {
                        if target.ends_with(".nix") {
                            Ok(Read::Alias(target))
                        } else {
                            Err(Problem::NotReadable(target))
                        }
                    }),
                _ => read_entry(&root, &disk, &rel, limit_for(&rel)).map(Read::Text),
            };
            (rel, read)
        })
        .collect();
    for (rel, bytes) in results {
        match bytes {
            Ok(Read::Text(b)) => texts.push((rel, decode(b))),
            Ok(Read::Alias(target)) => disk.set_alias(rel, target),
            Err(p) => disk.set_problem(rel, p),
        }
    }
    // In path order, as the host has always been given them.
    texts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // Option catalogs named in infra-check.toml are data files too; one that does not exist is
    // the catalog check's to report.
    let config_text = texts
        .iter()
        .find(|(p, _)| p == crate::config::CONFIG_FILE)
        .map(|(_, t)| t.clone());
    if let Some(cfg) = config_text {
        for catalog in crate::config::Config::parse(Some(&cfg)).catalogs {
            let Some(rel) = crate::disk::normalize_join("", &catalog) else {
                continue;
            };
            // A secret is never read as data; the catalog check says so.
            if rel.is_empty()
                || is_secret_file(&rel)
                || texts.iter().any(|(p, _)| *p == rel)
                || disk.is_unknown(&rel)
            {
                continue;
            }
            let read = if disk.get(&rel).is_some() {
                read_entry(&root, &disk, &rel, fsread::MAX_CATALOG_BYTES)
            } else {
                // Named by the configuration, so it may be one git ignores (a catalog kept
                // local); it must still be a regular file inside the repository.
                match read_unlisted(&root, &rel, fsread::MAX_CATALOG_BYTES) {
                    Ok(None) => continue,
                    Ok(Some(b)) => Ok(b),
                    Err(p) => Err(p),
                }
            };
            match read {
                Ok(b) => texts.push((rel, decode(b))),
                Err(p) => disk.set_problem(rel, p),
            }
        }
    }
    let unreadable = disk
        .problems()
        .map(|(p, why)| (p.to_owned(), describe(why)))
        .collect();
    Ok(Scan {
        root,
        texts,
        disk,
        unreadable,
    })
}

/// What the walk reads: every analysed file, and the vars secrets (only to see whether each is
/// sops-encrypted: their bytes are dropped at once, in the walk).
struct WalkReads;

enum Kept {
    Text(Result<Arc<str>, Problem>),
    Secret(Result<bool, Problem>),
}

impl crate::walk::Reads for WalkReads {
    type Kept = Kept;

    fn limit(&self, rel: &str) -> Option<u64> {
        if is_analyzed(rel) {
            Some(limit_for(rel))
        } else if is_secret_file(rel) {
            Some(fsread::MAX_SECRET_BYTES)
        } else {
            None
        }
    }

    fn keep(&self, rel: &str, read: Result<Vec<u8>, Problem>) -> Kept {
        if is_secret_file(rel) {
            Kept::Secret(read.map(|bytes| crate::disk::is_sops_encrypted(&bytes)))
        } else {
            Kept::Text(read.map(decode))
        }
    }
}

/// What reading one analysed path gave.
enum Read {
    Text(Vec<u8>),
    /// A link to the `.nix` file at this path, which is read under its own name.
    Alias(String),
}

/// The size limit for a file the analyzer reads, by its root-relative path.
fn limit_for(rel: &str) -> u64 {
    if rel.ends_with(".nix") {
        fsread::MAX_NIX_BYTES
    } else if rel == crate::config::CONFIG_FILE {
        fsread::MAX_SMALL_TEXT_BYTES
    } else if rel.ends_with("/.validation-hash") {
        fsread::MAX_HASH_BYTES
    } else {
        fsread::MAX_DATA_BYTES
    }
}

/// The bytes of the walked entry `rel`. A symbolic link is followed only to a regular file the
/// walk listed (inside the root, not ignored by git, not in `.git`), and never to a secret
/// (secrets are looked at only as the walk lists them, see `WalkReads`).
fn read_entry(root: &Path, disk: &DiskTree, rel: &str, limit: u64) -> Result<Vec<u8>, Problem> {
    let target = match disk.get(rel) {
        Some(EntryKind::File) => rel.to_owned(),
        Some(EntryKind::Symlink(_)) => resolve(root, disk, rel)?,
        Some(EntryKind::Dir) => return Err(Problem::NotAFile(fsread::DIRECTORY)),
        None => {
            return Err(Problem::Io {
                dir: false,
                error: "not found".into(),
            })
        }
    };
    if is_secret_file(&target) {
        return Err(Problem::NotReadable(target));
    }
    let mut path = root.to_path_buf();
    path.extend(target.split('/'));
    fsread::read_regular(&path, limit)
}

/// Where the link `rel` leads, as a root-relative path of a file the walk listed.
fn resolve(root: &Path, disk: &DiskTree, rel: &str) -> Result<String, Problem> {
    let target = real_path_inside(root, rel)?;
    match disk.get(&target) {
        Some(EntryKind::File) => Ok(target),
        Some(EntryKind::Dir) => Err(Problem::NotAFile("a link to a directory")),
        _ => Err(Problem::NotReadable(target)),
    }
}

/// The bytes of `rel`, a path the walk did not list (git ignores it, or the walk is not at
/// hand), read by the same rules as a listed file: it must resolve to a regular file inside the
/// root, outside `.git` and the like, and not to a secret. `None` when nothing is there.
fn read_unlisted(root: &Path, rel: &str, limit: u64) -> Result<Option<Vec<u8>>, Problem> {
    let mut path = root.to_path_buf();
    path.extend(rel.split('/'));
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    let target = real_path_inside(root, rel)?;
    if is_secret_file(&target) || target.split('/').any(is_skipped_dir) {
        return Err(Problem::NotReadable(target));
    }
    let mut real = root.to_path_buf();
    real.extend(target.split('/'));
    fsread::read_regular(&real, limit).map(Some)
}

/// The root-relative path `rel` names once every link is followed, when that is inside the
/// root.
fn real_path_inside(root: &Path, rel: &str) -> Result<String, Problem> {
    let mut path = root.to_path_buf();
    path.extend(rel.split('/'));
    let real = match path.canonicalize() {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Problem::DanglingLink),
        Err(e) => {
            return Err(Problem::Io {
                dir: false,
                error: fsread::io_words(&e),
            })
        }
    };
    let Ok(inside) = real.strip_prefix(root) else {
        return Err(Problem::OutsideRoot);
    };
    inside
        .to_str()
        .map(|t| t.replace('\\', "/"))
        .ok_or(Problem::BadName { dir: false })
}

/// A problem in words, for a log line: "a named pipe (FIFO)", "larger than 8 MiB", ….
pub fn describe(p: &Problem) -> String {
    match p {
        Problem::TooLarge { size, limit } => {
            format!(
                "{} is over the limit of {}",
                human_size(*size),
                human_size(*limit)
            )
        }
        Problem::NotAFile(what) => format!("{what}, not a regular file"),
        Problem::DanglingLink => "a symbolic link whose target does not exist".into(),
        Problem::OutsideRoot => "a symbolic link that leads outside the repository".into(),
        Problem::NotReadable(t) => format!("a symbolic link to `{t}`, which is not read as data"),
        Problem::BadName { .. } => "a name that is not valid UTF-8".into(),
        Problem::Io { error, .. } => error.clone(),
    }
}

/// `512 bytes`, `12.5 KiB`, `8 MiB`.
pub fn human_size(n: u64) -> String {
    const UNITS: &[&str] = &["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The text of an analysed file as it is on disk now, read by the rules of [`scan`] (for a
/// language server that refreshes one file): `None` when it does not exist.
pub fn read_analyzed(root: &Path, rel: &str) -> Result<Option<Arc<str>>, Problem> {
    Ok(read_unlisted(root, rel, limit_for(rel))?.map(decode))
}

#[cfg(all(test, unix))]
#[path = "loader_tests.rs"]
mod tests;
