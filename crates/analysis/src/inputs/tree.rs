//! The files of an input's source in the store, for the evaluator: read on demand, bounded in
//! size, and only from inside the source (a link that leads out of it is not followed), so an
//! input can make infra-check read nothing but its own files. Store paths never change, so
//! what is read once stays true.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::eval::FileSource;
use crate::syntax::Parsed;

/// How many files one reader reads at most: a service and what it imports are a handful, and
/// an input that makes the evaluator import without end gets Unknown past this.
const MAX_FILES: usize = 4096;

pub struct InputTree {
    root: PathBuf,
    /// The canonical root, against which every resolved path is checked.
    canonical: PathBuf,
    parsed: RefCell<FxHashMap<String, Option<Arc<Parsed>>>>,
    read: Cell<usize>,
}

impl InputTree {
    /// `None` when `root` cannot be resolved (it vanished since it was located).
    pub fn new(root: &Path) -> Option<InputTree> {
        Some(InputTree {
            root: root.to_path_buf(),
            canonical: root.canonicalize().ok()?,
            parsed: RefCell::default(),
            read: Cell::new(0),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The regular file at the root-relative `rel`, resolved inside the source, else `None`.
    fn resolve(&self, rel: &str) -> Option<PathBuf> {
        if rel.split('/').any(|p| p == "..") || rel.starts_with('/') {
            return None;
        }
        let full = self.root.join(rel).canonicalize().ok()?;
        full.starts_with(&self.canonical).then_some(full)
    }

    /// The text of the root-relative file `rel`, at most `limit` bytes of valid UTF-8.
    pub fn text(&self, rel: &str, limit: u64) -> Option<Arc<str>> {
        if self.read.get() >= MAX_FILES {
            return None;
        }
        self.read.set(self.read.get() + 1);
        let bytes = crate::fsread::read_regular(&self.resolve(rel)?, limit).ok()?;
        String::from_utf8(bytes).ok().map(Arc::from)
    }

    /// The names of the subdirectories of the root-relative directory `rel` (links are not
    /// followed), sorted; `None` when it cannot be listed.
    pub fn subdirectories(&self, rel: &str) -> Option<Vec<String>> {
        let dir = self.resolve(rel)?;
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).ok()? {
            let entry = entry.ok()?;
            if entry.file_type().ok()?.is_dir() {
                names.push(entry.file_name().into_string().ok()?);
            }
        }
        names.sort();
        Some(names)
    }

    /// Whether the root-relative `rel` is a regular file inside the source.
    pub fn is_file(&self, rel: &str) -> bool {
        self.resolve(rel)
            .and_then(|p| std::fs::symlink_metadata(p).ok())
            .is_some_and(|m| m.is_file())
    }
}

impl FileSource for InputTree {
    fn parse_nix(&self, path: &str) -> Option<Arc<Parsed>> {
        if !path.ends_with(".nix") {
            return None;
        }
        if let Some(p) = self.parsed.borrow().get(path) {
            return p.clone();
        }
        let parsed = self
            .text(path, crate::fsread::MAX_NIX_BYTES)
            .and_then(|t| crate::eval::parse_checked(&t))
            .map(Arc::new);
        self.parsed
            .borrow_mut()
            .insert(path.to_owned(), parsed.clone());
        parsed
    }

    fn read_text(&self, path: &str) -> Option<Arc<str>> {
        self.text(path, crate::fsread::MAX_DATA_BYTES)
    }

    fn absolute_path(&self, path: &str) -> Option<String> {
        let root = self.root.to_str()?.trim_end_matches('/');
        Some(match path {
            "" => root.to_owned(),
            p => format!("{root}/{p}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_source_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("source");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/x.nix"), "{ x = 1; }").unwrap();
        std::fs::write(dir.path().join("outside.nix"), "{ secret = 1; }").unwrap();
        std::os::unix::fs::symlink("../outside.nix", root.join("out.nix")).unwrap();
        std::os::unix::fs::symlink("a/x.nix", root.join("in.nix")).unwrap();
        std::os::unix::fs::symlink("loop.nix", root.join("loop.nix")).unwrap();
        std::os::unix::fs::symlink("/", root.join("slash")).unwrap();
        let tree = InputTree::new(&root).unwrap();
        assert!(tree.parse_nix("a/x.nix").is_some());
        assert!(tree.parse_nix("in.nix").is_some());
        for rel in [
            "out.nix",
            "loop.nix",
            "../outside.nix",
            "/etc/passwd",
            "slash/etc/passwd",
            "a/b",
        ] {
            assert_eq!(tree.read_text(rel), None, "{rel}");
        }
        assert_eq!(tree.subdirectories("").unwrap(), ["a"]);
        assert_eq!(tree.subdirectories("slash"), None);
        assert!(tree.is_file("a/x.nix") && !tree.is_file("a/b") && !tree.is_file("out.nix"));
    }
}
