//! Reads a workspace from disk into an [`AnalysisHost`]: the root, every `.nix` file's text and
//! the tree of paths. Secret files are never opened here: only `.nix` files and the few named
//! data files below are read.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::db::AnalysisHost;
use crate::disk::{DiskTree, EntryKind};

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

/// The nearest ancestor of `start` (or `start` itself) that holds a `flake.nix`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    let mut dir = if start.is_file() {
        start.parent()?.to_path_buf()
    } else {
        start
    };
    loop {
        if dir.join("flake.nix").is_file() {
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
    /// Files that exist but could not be read, with the reason.
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
    pub unreadable: Vec<(String, String)>,
}

/// Reads a workspace from disk without building a host (see [`AnalysisHost::refresh`]).
pub fn scan(root: &Path) -> io::Result<Scan> {
    use rayon::prelude::*;
    let root = root.canonicalize()?;
    let mut disk = DiskTree::default();
    let mut to_read = Vec::new();
    let mut secrets = Vec::new();
    let walker = ignore::WalkBuilder::new(&root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .parents(false)
        .follow_links(false)
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            !(e.depth() > 0 && e.file_type().is_some_and(|t| t.is_dir()) && is_skipped_dir(&name))
        })
        .build();
    for entry in walker {
        let Ok(entry) = entry else { continue };
        if entry.depth() == 0 {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&root) else {
            continue;
        };
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let Some(ft) = entry.file_type() else {
            continue;
        };
        let kind = if ft.is_symlink() {
            let target = std::fs::read_link(entry.path())
                .map(|t| t.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            EntryKind::Symlink(target)
        } else if ft.is_dir() {
            EntryKind::Dir
        } else {
            EntryKind::File
        };
        if kind == EntryKind::File && is_analyzed(&rel) {
            to_read.push(rel.clone());
        }
        if kind == EntryKind::File && is_secret_file(&rel) {
            secrets.push(rel.clone());
        }
        disk.insert(rel, kind);
    }
    // Secrets: decide "sops-encrypted or not" and drop the bytes at once.
    let secret_status: Vec<(String, bool)> = secrets
        .into_par_iter()
        .map(|rel| {
            let encrypted = std::fs::read(root.join(&rel))
                .map(|bytes| crate::disk::is_sops_encrypted(&bytes))
                .unwrap_or(true);
            (rel, encrypted)
        })
        .collect();
    for (rel, encrypted) in secret_status {
        disk.set_secret_encrypted(rel, encrypted);
    }
    let results: Vec<(String, io::Result<Vec<u8>>)> = to_read
        .into_par_iter()
        .map(|rel| {
            let bytes = std::fs::read(root.join(&rel));
            (rel, bytes)
        })
        .collect();
    let mut texts = Vec::with_capacity(results.len());
    let mut unreadable = Vec::new();
    for (rel, bytes) in results {
        match bytes {
            Ok(b) => texts.push((rel, decode(b))),
            Err(e) => unreadable.push((rel, e.to_string())),
        }
    }
    // Option catalogs named in infra-check.toml are data files too.
    let config_text = texts
        .iter()
        .find(|(p, _)| p == crate::config::CONFIG_FILE)
        .map(|(_, t)| t.clone());
    if let Some(cfg) = config_text {
        for catalog in crate::config::Config::parse(Some(&cfg)).catalogs {
            let Some(rel) = crate::disk::normalize_join("", &catalog) else {
                continue;
            };
            match std::fs::read(root.join(&rel)) {
                Ok(b) => texts.push((rel, decode(b))),
                Err(e) if disk.exists(&rel) => unreadable.push((rel, e.to_string())),
                Err(_) => {}
            }
        }
    }
    Ok(Scan {
        root,
        texts,
        disk,
        unreadable,
    })
}
