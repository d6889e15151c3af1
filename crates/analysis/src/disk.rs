//! The on-disk model: which paths exist under the root, of which kind. Checks such as
//! `module/import-not-found` ask it; it is filled by [`crate::loader`] and never reads contents.

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
}

impl DiskTree {
    pub fn insert(&mut self, path: String, kind: EntryKind) {
        // Every ancestor of a path is a directory, even when the walk did not report it.
        let mut p = path.as_str();
        while let Some(i) = p.rfind('/') {
            p = &p[..i];
            self.entries.entry(p.to_owned()).or_insert(EntryKind::Dir);
        }
        self.entries.insert(path, kind);
    }

    pub fn get(&self, path: &str) -> Option<&EntryKind> {
        if path.is_empty() {
            return Some(&EntryKind::Dir);
        }
        self.entries.get(path)
    }

    pub fn exists(&self, path: &str) -> bool {
        self.get(path).is_some()
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
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.entries
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
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
    fn ancestors_are_directories() {
        let mut t = DiskTree::default();
        t.insert("a/b/c.nix".into(), EntryKind::File);
        assert!(t.is_dir("a/b"));
        assert!(t.is_dir(""));
        assert_eq!(t.under("a").count(), 2);
    }
}
