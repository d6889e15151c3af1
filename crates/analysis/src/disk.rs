//! The on-disk model: which paths exist under the root, of which kind, and which could not be
//! read. Checks such as `module/import-not-found` ask it; it is filled by [`crate::loader`] and
//! never reads contents.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// A symbolic link and its target as written in the link.
    Symlink(String),
}

/// Every path below the root (relative, forward slashes, no leading `./`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskTree {
    entries: BTreeMap<String, EntryKind>,
    /// For each vars `secret` file: whether it is sops-encrypted JSON. Only this flag is kept;
    /// the file's content is never stored.
    secrets: BTreeMap<String, bool>,
    /// Paths that exist but could not be read (a file) or listed (a directory). What lies at or
    /// below them is unknown.
    problems: BTreeMap<String, Problem>,
    /// For each symbolic link to a `.nix` file: the file it leads to once every link is
    /// followed, as the loader found it. Nix evaluates a linked file from where it really is
    /// (its relative paths are relative to that), so the analyzer reads it there too.
    aliases: BTreeMap<String, String>,
}

/// Why a path of the repository could not be read. Plain data; the sentences are the checks'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Larger than the limit for its kind of file, so it was not read.
    TooLarge { size: u64, limit: u64 },
    /// Not a regular file: "a named pipe (FIFO)", "a socket", "a device", "a directory".
    NotAFile(&'static str),
    /// A symbolic link whose target does not exist.
    DanglingLink,
    /// A symbolic link that leads, after every link is followed, outside the repository.
    OutsideRoot,
    /// A symbolic link to a path of the repository that is not read as data: a secret, or a
    /// path the flake does not see (ignored by git, or in `.git` and the like).
    NotReadable(String),
    /// A name that is not valid UTF-8 (the path shows it with U+FFFD).
    BadName { dir: bool },
    /// An I/O error (permission denied, a link loop, …), as the system words it.
    Io { dir: bool, error: String },
}

impl Problem {
    pub fn is_dir(&self) -> bool {
        matches!(
            self,
            Problem::BadName { dir: true } | Problem::Io { dir: true, .. }
        )
    }
}

impl DiskTree {
    /// The tree of a walk's entries, given in any order (of two entries for one path, the
    /// later is kept, as by [`DiskTree::insert`]).
    pub fn from_entries(entries: Vec<(String, EntryKind)>) -> DiskTree {
        // Collected at once (sorted, then built in one pass) rather than entry by entry.
        let mut tree = DiskTree {
            entries: entries.into_iter().collect(),
            ..DiskTree::default()
        };
        // A walk lists every directory it enters, so this finds none; the rule of `insert`
        // holds all the same.
        let orphans: Vec<String> = tree
            .entries
            .keys()
            .filter(|k| {
                let parent = parent_dir(k);
                !parent.is_empty() && !tree.entries.contains_key(parent)
            })
            .cloned()
            .collect();
        for path in orphans {
            let kind = tree.entries[&path].clone();
            tree.insert(path, kind);
        }
        tree
    }

    pub fn insert(&mut self, path: String, kind: EntryKind) {
        // Every ancestor of a path is a directory, even when the walk did not report it. Once
        // one is known, so are all above it (every path entered through here).
        let mut p = path.as_str();
        while let Some(i) = p.rfind('/') {
            p = &p[..i];
            if self.entries.contains_key(p) {
                break;
            }
            self.entries.insert(p.to_owned(), EntryKind::Dir);
        }
        self.entries.insert(path, kind);
    }

    /// Records whether a `secret` file is sops-encrypted (see [`is_sops_encrypted`]).
    pub fn set_secret_encrypted(&mut self, path: String, encrypted: bool) {
        self.secrets.insert(path, encrypted);
    }

    /// `Some(false)` for a `secret` file that is not sops-encrypted JSON.
    pub fn secret_encrypted(&self, path: &str) -> Option<bool> {
        self.secrets.get(path).copied()
    }

    pub fn secrets(&self) -> impl Iterator<Item = (&str, bool)> {
        self.secrets.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Records that the link `path` leads to the regular file `target`.
    pub fn set_alias(&mut self, path: String, target: String) {
        self.aliases.insert(path, target);
    }

    /// The file the link `path` leads to, when it is a `.nix` file the loader read.
    pub fn alias(&self, path: &str) -> Option<&str> {
        self.aliases.get(path).map(String::as_str)
    }

    /// Records that `path` could not be read or listed.
    pub fn set_problem(&mut self, path: String, problem: Problem) {
        self.problems.insert(path, problem);
    }

    pub fn problem(&self, path: &str) -> Option<&Problem> {
        self.problems.get(path)
    }

    /// Every path that could not be read, in path order.
    pub fn problems(&self) -> impl Iterator<Item = (&str, &Problem)> {
        self.problems.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Problems at `dir` or strictly below it.
    pub fn problems_at_or_under<'a>(
        &'a self,
        dir: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Problem)> + 'a {
        let exact = self
            .problems
            .get_key_value(dir)
            .map(|(k, v)| (k.as_str(), v));
        exact.into_iter().chain(below(&self.problems, dir))
    }

    /// Whether nothing can be said about `path`: it, or a directory above it, could not be
    /// read.
    pub fn is_unknown(&self, path: &str) -> bool {
        if self.problems.is_empty() {
            return false;
        }
        let mut p = path;
        loop {
            if self.problems.contains_key(p) {
                return true;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return false,
            }
        }
    }

    /// Every entry, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &EntryKind)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Names directly below `dir`.
    pub fn children<'a>(
        &'a self,
        dir: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a EntryKind)> + 'a {
        let skip = if dir.is_empty() { 0 } else { dir.len() + 1 };
        self.under(dir).filter_map(move |(p, k)| {
            let rest = &p[skip..];
            (!rest.contains('/')).then_some((rest, k))
        })
    }

    pub fn get(&self, path: &str) -> Option<&EntryKind> {
        if path.is_empty() {
            return Some(&EntryKind::Dir);
        }
        self.entries.get(path)
    }

    /// Whether `path` exists — or may exist: below a directory that could not be listed nothing
    /// is known, so a check that would report a missing path stays silent there.
    pub fn exists(&self, path: &str) -> bool {
        self.get(path).is_some() || self.is_unknown(path)
    }

    pub fn is_dir(&self, path: &str) -> bool {
        match self.get(path) {
            Some(EntryKind::Dir) => true,
            Some(EntryKind::Symlink(_)) => {
                let target = self.resolve_link(path);
                target.is_some_and(|t| matches!(self.get(&t), Some(EntryKind::Dir)))
            }
            _ => false,
        }
    }

    /// The root-relative path a symlink points to, when it stays inside the root.
    pub fn resolve_link(&self, path: &str) -> Option<String> {
        let Some(EntryKind::Symlink(target)) = self.get(path) else {
            return None;
        };
        let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        normalize_join(parent, target)
    }

    /// Paths strictly below `dir`, in order.
    pub fn under<'a>(
        &'a self,
        dir: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a EntryKind)> + 'a {
        below(&self.entries, dir)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The keys of `map` strictly below the directory `dir`, in order.
fn below<'a, V>(
    map: &'a BTreeMap<String, V>,
    dir: &str,
) -> impl Iterator<Item = (&'a str, &'a V)> + 'a {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    map.range(prefix.clone()..)
        .take_while(move |(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| (k.as_str(), v))
}

/// Whether the bytes of a `secret` file are sops-encrypted JSON: an object with a `sops` key.
/// The bytes are only parsed for that; nothing of them is kept.
pub fn is_sops_encrypted(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .is_some_and(|v| v.get("sops").is_some_and(|s| s.is_object()))
}

/// Joins a relative path onto a root-relative directory, resolving `.` and `..`.
/// Returns `None` when the result would leave the root or the path is absolute.
pub fn normalize_join(base_dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = base_dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// A path for a message: control characters (a file name may hold a terminal escape) are
/// written as escapes instead of being passed to the terminal.
pub fn display_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_resolves_dots_and_refuses_to_escape() {
        assert_eq!(
            normalize_join("a/b", "./c.nix").as_deref(),
            Some("a/b/c.nix")
        );
        assert_eq!(normalize_join("a/b", "../../c").as_deref(), Some("c"));
        assert_eq!(normalize_join("a", "../../c"), None);
        assert_eq!(normalize_join("", "/etc"), None);
    }

    #[test]
    fn a_tree_built_at_once_equals_one_built_entry_by_entry() {
        let entries = vec![
            ("b/c/d.nix".to_owned(), EntryKind::File),
            ("a".to_owned(), EntryKind::Dir),
            ("a/x".to_owned(), EntryKind::Symlink("../b".into())),
            ("b".to_owned(), EntryKind::Dir),
            ("a/x".to_owned(), EntryKind::File),
        ];
        let mut one_by_one = DiskTree::default();
        for (p, k) in entries.clone() {
            one_by_one.insert(p, k);
        }
        let at_once = DiskTree::from_entries(entries);
        assert_eq!(at_once, one_by_one);
        assert!(at_once.is_dir("b/c"));
        assert_eq!(
            at_once.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            vec!["a", "a/x", "b", "b/c", "b/c/d.nix"]
        );
    }

    #[test]
    fn ancestors_are_directories() {
        let mut t = DiskTree::default();
        t.insert("a/b/c.nix".into(), EntryKind::File);
        assert!(t.is_dir("a/b"));
        assert!(t.is_dir(""));
        assert_eq!(t.under("a").count(), 2);
    }
}
