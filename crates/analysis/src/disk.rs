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
    /// For each vars `secret` file: whether it is sops-encrypted JSON. Only this flag is kept;
    /// the file's content is never stored.
    secrets: BTreeMap<String, bool>,
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
