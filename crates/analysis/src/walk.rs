//! Lists the repository the way the flake sees it: every path below the root except build
//! outputs, VCS state and what `.gitignore` files hide. Links are listed, never followed, so a
//! link loop cannot trap the walk; and the `.gitignore` files are read through
//! [`crate::fsread`], so one that is a named pipe or a link to `/dev/zero` cannot stall it.
//! What cannot be listed or named is recorded as a [`Problem`] instead of being skipped
//! silently.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::disk::{EntryKind, Problem};

/// What the walk found.
#[derive(Debug, Default)]
pub struct Walked {
    pub entries: Vec<(String, EntryKind)>,
    pub problems: Vec<(String, Problem)>,
}

/// How the walk reads directories; a seam for tests that need a directory to fail the way
/// `chmod 000` makes it fail for a user who is not root.
pub trait Lister {
    fn read_dir(&self, dir: &Path)
        -> std::io::Result<Vec<(std::ffi::OsString, std::fs::FileType)>>;
}

/// The real file system.
pub struct Disk;

impl Lister for Disk {
    fn read_dir(
        &self,
        dir: &Path,
    ) -> std::io::Result<Vec<(std::ffi::OsString, std::fs::FileType)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            out.push((entry.file_name(), entry.file_type()?));
        }
        Ok(out)
    }
}

/// Walks `root` (canonical). Fails only when the root itself cannot be listed.
pub fn walk(root: &Path, lister: &dyn Lister) -> std::io::Result<Walked> {
    let mut out = Walked::default();
    // Depth-first with an explicit stack: a deep tree cannot overflow the thread's stack.
    let mut stack: Vec<(PathBuf, String, Vec<Arc<Gitignore>>)> =
        vec![(root.to_path_buf(), String::new(), Vec::new())];
    while let Some((abs, rel, mut ignores)) = stack.pop() {
        let listing = match lister.read_dir(&abs) {
            Ok(l) => l,
            Err(e) if rel.is_empty() => return Err(e),
            Err(e) => {
                out.problems.push((
                    rel,
                    Problem::Io {
                        dir: true,
                        error: crate::fsread::io_words(&e),
                    },
                ));
                continue;
            }
        };
        if let Some(gi) = gitignore(root, &abs, &rel, &listing, &mut out.problems) {
            ignores.push(Arc::new(gi));
        }
        for (name, ft) in listing {
            let child_abs = abs.join(&name);
            let Some(name) = name.to_str() else {
                record_bad_name(&rel, &name, ft.is_dir(), &mut out.problems);
                continue;
            };
            let child_rel = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            if ft.is_dir() && crate::loader::is_skipped_dir(name) {
                continue;
            }
            if ignored(&ignores, &child_abs, ft.is_dir()) {
                continue;
            }
            let kind = if ft.is_symlink() {
                let target = std::fs::read_link(&child_abs)
                    .map(|t| t.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                EntryKind::Symlink(target)
            } else if ft.is_dir() {
                EntryKind::Dir
            } else {
                // Pipes, sockets and devices too: they exist, and reading them is refused later.
                EntryKind::File
            };
            if kind == EntryKind::Dir {
                stack.push((child_abs, child_rel.clone(), ignores.clone()));
            }
            out.entries.push((child_rel, kind));
        }
    }
    Ok(out)
}

/// A name that is not UTF-8 cannot be a key of the analyzer's string paths. It is reported
/// (under its lossy spelling) when it is a directory or a file the analyzer would read.
fn record_bad_name(rel: &str, name: &OsStr, dir: bool, problems: &mut Vec<(String, Problem)>) {
    let lossy = name.to_string_lossy();
    let path = if rel.is_empty() {
        lossy.into_owned()
    } else {
        format!("{rel}/{lossy}")
    };
    if dir || crate::loader::is_analyzed(&path) || crate::loader::is_secret_file(&path) {
        problems.push((path, Problem::BadName { dir }));
    }
}

/// The directory's `.gitignore`, when it has a readable one. Git does not follow a
/// `.gitignore` that is a symbolic link, so neither does this.
fn gitignore(
    root: &Path,
    abs: &Path,
    rel: &str,
    listing: &[(std::ffi::OsString, std::fs::FileType)],
    problems: &mut Vec<(String, Problem)>,
) -> Option<Gitignore> {
    let (_, ft) = listing.iter().find(|(n, _)| n == ".gitignore")?;
    if ft.is_symlink() {
        return None;
    }
    let path = if rel.is_empty() {
        ".gitignore".to_owned()
    } else {
        format!("{rel}/.gitignore")
    };
    let bytes = match crate::fsread::read_regular(
        &abs.join(".gitignore"),
        crate::fsread::MAX_SMALL_TEXT_BYTES,
    ) {
        Ok(b) => b,
        Err(p) => {
            problems.push((path, p));
            return None;
        }
    };
    debug_assert!(abs.starts_with(root));
    let mut builder = GitignoreBuilder::new(abs);
    for line in String::from_utf8_lossy(&bytes).lines() {
        // Git skips a pattern it cannot parse; so does this.
        let _ = builder.add_line(None, line);
    }
    builder.build().ok()
}

/// Git's rule: the deepest `.gitignore` with a matching pattern decides.
fn ignored(ignores: &[Arc<Gitignore>], path: &Path, is_dir: bool) -> bool {
    for gi in ignores.iter().rev() {
        let m = gi.matched(path, is_dir);
        if m.is_ignore() {
            return true;
        }
        if m.is_whitelist() {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(w: &Walked) -> Vec<String> {
        let mut v: Vec<String> = w.entries.iter().map(|(p, _)| p.clone()).collect();
        v.sort();
        v
    }

    #[test]
    fn honours_nested_gitignores_and_skips_build_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for (p, t) in [
            (".gitignore", "*.log\n/build/\n"),
            ("a.nix", "{ }"),
            ("x.log", ""),
            ("build/b.nix", "{ }"),
            ("sub/.gitignore", "!keep.log\nlocal.nix\n"),
            ("sub/keep.log", ""),
            ("sub/local.nix", "{ }"),
            ("sub/c.nix", "{ }"),
            ("result-1/d.nix", "{ }"),
            (".git/config", ""),
        ] {
            let full = root.join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, t).unwrap();
        }
        let w = walk(&root, &Disk).unwrap();
        assert_eq!(
            sorted(&w),
            vec![
                ".gitignore",
                "a.nix",
                "sub",
                "sub/.gitignore",
                "sub/c.nix",
                "sub/keep.log"
            ]
        );
        assert!(w.problems.is_empty(), "{:?}", w.problems);
    }

    #[cfg(unix)]
    #[test]
    fn a_gitignore_that_is_a_pipe_is_reported_and_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        crate::tests::mkfifo(&root.join(".gitignore"));
        std::fs::write(root.join("a.nix"), "{ }").unwrap();
        let w = walk(&root, &Disk).unwrap();
        assert!(sorted(&w).contains(&"a.nix".to_owned()));
        assert_eq!(
            w.problems,
            vec![(
                ".gitignore".to_owned(),
                Problem::NotAFile("a named pipe (FIFO)")
            )]
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_are_listed_not_followed_and_bad_names_are_recorded() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("modules/loop")).unwrap();
        std::os::unix::fs::symlink("..", root.join("modules/loop/up")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", root.join("modules/dangling.nix")).unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"modules/caf\xe9.nix")), "{ }").unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"modules/caf\xe9.png")), "").unwrap();
        std::fs::create_dir(root.join(OsStr::from_bytes(b"modules/d\xff"))).unwrap();
        let w = walk(&root, &Disk).unwrap();
        assert_eq!(
            sorted(&w),
            vec![
                "modules",
                "modules/dangling.nix",
                "modules/loop",
                "modules/loop/up"
            ]
        );
        let mut problems = w.problems.clone();
        problems.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            problems,
            vec![
                (
                    "modules/caf\u{fffd}.nix".to_owned(),
                    Problem::BadName { dir: false }
                ),
                (
                    "modules/d\u{fffd}".to_owned(),
                    Problem::BadName { dir: true }
                ),
            ]
        );
    }

    #[test]
    fn a_directory_that_cannot_be_listed_is_a_problem_not_a_silence() {
        struct Refuses;
        impl Lister for Refuses {
            fn read_dir(
                &self,
                dir: &Path,
            ) -> std::io::Result<Vec<(std::ffi::OsString, std::fs::FileType)>> {
                if dir.ends_with("modules/private") {
                    return Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
                }
                Disk.read_dir(dir)
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("modules/private")).unwrap();
        std::fs::write(root.join("modules/private/a.nix"), "{ }").unwrap();
        let w = walk(&root, &Refuses).unwrap();
        assert_eq!(sorted(&w), vec!["modules", "modules/private"]);
        assert!(
            matches!(
                &w.problems[..],
                [(p, Problem::Io { dir: true, error })] if p == "modules/private" && error == "permission denied"
            ),
            "{:?}",
            w.problems
        );
        assert!(walk(&root.join("missing"), &Disk).is_err());
    }
}
