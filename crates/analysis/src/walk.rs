//! Lists the repository the way the flake sees it: every path below the root except build
//! outputs, VCS state and what `.gitignore` files hide. Links are listed, never followed, so a
//! link loop cannot trap the walk; and the `.gitignore` files are read through
//! [`crate::fsread`], so one that is a named pipe or a link to `/dev/zero` cannot stall it.
//! What cannot be listed or named is recorded as a [`Problem`] instead of being skipped
//! silently.
//!
//! The `vars/` and `sops/` trees of a fleet hold tens of thousands of entries, so the walk asks
//! the system for no more than it needs: a directory's listing gives each entry's kind (nothing
//! is looked up per entry), a link's target is read only for a link, and the files the caller
//! wants ([`Reads`]) are read by name while their directory is open. Directories are listed in
//! parallel; at most one is held open per thread.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::disk::{EntryKind, Problem};

/// What the walk found, in no particular order.
#[derive(Debug)]
pub struct Walked<T> {
    pub entries: Vec<(String, EntryKind)>,
    pub problems: Vec<(String, Problem)>,
    /// What [`Reads::keep`] made of each file the walk read.
    pub read: Vec<(String, T)>,
}

impl<T> Default for Walked<T> {
    fn default() -> Self {
        Walked {
            entries: Vec::new(),
            problems: Vec::new(),
            read: Vec::new(),
        }
    }
}

impl<T> Walked<T> {
    fn append(&mut self, mut other: Walked<T>) {
        self.entries.append(&mut other.entries);
        self.problems.append(&mut other.problems);
        self.read.append(&mut other.read);
    }
}

/// Which files the walk reads as it lists them, and what is kept of their bytes: reading them
/// there costs one open by name in a directory already open, instead of a lookup of the whole
/// path later.
pub trait Reads: Sync {
    type Kept: Send;
    /// The most bytes to read of the file `rel`, when the walk is to read it.
    fn limit(&self, rel: &str) -> Option<u64>;
    /// What to keep of the bytes of `rel`, or of why it could not be read.
    fn keep(&self, rel: &str, read: Result<Vec<u8>, Problem>) -> Self::Kept;
}

/// Reads no file.
pub struct NoReads;

impl Reads for NoReads {
    type Kept = ();
    fn limit(&self, _: &str) -> Option<u64> {
        None
    }
    fn keep(&self, _: &str, _: Result<Vec<u8>, Problem>) {}
}

/// An entry's kind, as its directory's listing gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink,
    /// A named pipe, a socket or a device, in words for a message.
    Special(&'static str),
}

/// One listed directory: its entries, and the directory kept open to read its links and files
/// by name.
pub struct Listing {
    pub entries: Vec<(OsString, Kind)>,
    dir: sys::Dir,
}

impl Listing {
    /// The target of the link `name`, as written in the link.
    pub fn read_link(&self, name: &OsStr) -> io::Result<OsString> {
        self.dir.read_link(name)
    }

    /// The bytes of the entry `name`, listed as `kind`, when it is a regular file (see
    /// [`crate::fsread::read_regular`]); anything else is refused as what it is.
    pub fn read_file(&self, name: &OsStr, kind: Kind, limit: u64) -> Result<Vec<u8>, Problem> {
        match kind {
            Kind::File => self.dir.read_file(name, limit),
            Kind::Dir => Err(Problem::NotAFile(crate::fsread::DIRECTORY)),
            Kind::Symlink => Err(Problem::NotAFile(crate::fsread::SYMLINK)),
            Kind::Special(what) => Err(Problem::NotAFile(what)),
        }
    }
}

/// How the walk lists directories; a seam for tests that need a directory to fail the way
/// `chmod 000` makes it fail for a user who is not root.
pub trait Lister: Sync {
    fn read_dir(&self, dir: &Path) -> io::Result<Listing>;
}

/// The real file system.
pub struct Disk;

impl Lister for Disk {
    fn read_dir(&self, dir: &Path) -> io::Result<Listing> {
        sys::list(dir)
    }
}

#[cfg(unix)]
mod sys {
    use std::cell::RefCell;
    use std::ffi::{OsStr, OsString};
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::path::Path;

    use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir, CWD};

    use super::{Kind, Listing};
    use crate::disk::Problem;

    pub struct Dir(OwnedFd);

    thread_local! {
        /// The buffer `getdents` fills; one per thread, reused for every directory.
        static BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(32 << 10));
    }

    pub fn list(path: &Path) -> io::Result<Listing> {
        // Not following a link: the walk only descends into what its parent listed as a
        // directory, and one swapped for a link since is refused instead of followed.
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(CWD, path, flags, Mode::empty())?;
        let mut entries = Vec::new();
        BUF.with_borrow_mut(|buf| -> io::Result<()> {
            let mut names = RawDir::new(fd.as_fd(), buf.spare_capacity_mut());
            while let Some(entry) = names.next() {
                let entry = entry?;
                let name = entry.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                let mut ft = entry.file_type();
                if ft == FileType::Unknown {
                    // A file system that does not say in its listing: ask the entry itself.
                    let st = rustix::fs::statat(&fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW)?;
                    ft = FileType::from_raw_mode(st.st_mode);
                }
                let kind = match ft {
                    FileType::Directory => Kind::Dir,
                    FileType::RegularFile => Kind::File,
                    FileType::Symlink => Kind::Symlink,
                    other => Kind::Special(crate::fsread::describe_listed(other)),
                };
                entries.push((OsString::from_vec(name.to_vec()), kind));
            }
            Ok(())
        })?;
        Ok(Listing {
            entries,
            dir: Dir(fd),
        })
    }

    impl Dir {
        pub fn read_link(&self, name: &OsStr) -> io::Result<OsString> {
            let target = rustix::fs::readlinkat(&self.0, name, Vec::new())?;
            Ok(OsString::from_vec(target.into_bytes()))
        }

        pub fn read_file(&self, name: &OsStr, limit: u64) -> Result<Vec<u8>, Problem> {
            debug_assert!(!name.as_bytes().contains(&b'/'));
            crate::fsread::read_listed_at(self.0.as_fd(), name, limit)
        }
    }
}

#[cfg(not(unix))]
mod sys {
    use std::ffi::{OsStr, OsString};
    use std::io;
    use std::path::{Path, PathBuf};

    use super::{Kind, Listing};
    use crate::disk::Problem;

    pub struct Dir(PathBuf);

    pub fn list(path: &Path) -> io::Result<Listing> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let ft = entry.file_type()?;
            let kind = if ft.is_symlink() {
                Kind::Symlink
            } else if ft.is_dir() {
                Kind::Dir
            } else if ft.is_file() {
                Kind::File
            } else {
                Kind::Special(crate::fsread::describe(ft))
            };
            entries.push((entry.file_name(), kind));
        }
        Ok(Listing {
            entries,
            dir: Dir(path.to_path_buf()),
        })
    }

    impl Dir {
        pub fn read_link(&self, name: &OsStr) -> io::Result<OsString> {
            Ok(std::fs::read_link(self.0.join(name))?.into_os_string())
        }

        pub fn read_file(&self, name: &OsStr, limit: u64) -> Result<Vec<u8>, Problem> {
            crate::fsread::read_regular(&self.0.join(name), limit)
        }
    }
}

/// Walks `root` (canonical), reading the files `reads` asks for as it goes. Fails only when the
/// root itself cannot be listed.
pub fn walk<R: Reads>(root: &Path, lister: &dyn Lister, reads: &R) -> io::Result<Walked<R::Kept>> {
    let listing = lister.read_dir(root)?;
    let out = Mutex::new(Walked::default());
    let ctx = Ctx {
        lister,
        reads,
        out: &out,
    };
    // Each directory is a task of its own: a deep tree cannot overflow a thread's stack.
    rayon::scope(|scope| {
        visit(
            scope,
            &ctx,
            Dir {
                abs: root.to_path_buf(),
                rel: String::new(),
                ignores: Vec::new(),
            },
            listing,
        )
    });
    Ok(out.into_inner().unwrap_or_else(|e| e.into_inner()))
}

struct Ctx<'a, R: Reads> {
    lister: &'a dyn Lister,
    reads: &'a R,
    out: &'a Mutex<Walked<R::Kept>>,
}

/// A directory to walk, with the `.gitignore` files that apply to it (the deepest last).
struct Dir {
    abs: PathBuf,
    rel: String,
    ignores: Vec<Arc<Gitignore>>,
}

fn descend<'s, R: Reads>(scope: &rayon::Scope<'s>, ctx: &'s Ctx<'s, R>, dir: Dir) {
    match ctx.lister.read_dir(&dir.abs) {
        Ok(listing) => visit(scope, ctx, dir, listing),
        Err(e) => {
            let problem = Problem::Io {
                dir: true,
                error: crate::fsread::io_words(&e),
            };
            lock(ctx.out).problems.push((dir.rel, problem));
        }
    }
}

/// Records a listed directory's entries, reads the files asked for, and queues its
/// subdirectories.
fn visit<'s, R: Reads>(scope: &rayon::Scope<'s>, ctx: &'s Ctx<'s, R>, dir: Dir, listing: Listing) {
    let Dir {
        abs,
        rel,
        mut ignores,
    } = dir;
    let mut found = Walked::default();
    let mut subdirs = Vec::new();
    if let Some(gi) = gitignore(&abs, &rel, &listing, &mut found.problems) {
        ignores.push(Arc::new(gi));
    }
    for (name, kind) in &listing.entries {
        let is_dir = *kind == Kind::Dir;
        let Some(name_str) = name.to_str() else {
            record_bad_name(&rel, name, is_dir, &mut found.problems);
            continue;
        };
        if is_dir && crate::loader::is_skipped_dir(name_str) {
            continue;
        }
        if !ignores.is_empty() && ignored(&ignores, &abs.join(name), is_dir) {
            continue;
        }
        let child_rel = if rel.is_empty() {
            name_str.to_owned()
        } else {
            format!("{rel}/{name_str}")
        };
        let entry = match *kind {
            Kind::Symlink => {
                let target = listing
                    .read_link(name)
                    .map(|t| t.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                EntryKind::Symlink(target)
            }
            Kind::Dir => {
                subdirs.push(Dir {
                    abs: abs.join(name),
                    rel: child_rel.clone(),
                    ignores: ignores.clone(),
                });
                EntryKind::Dir
            }
            // Pipes, sockets and devices too: they exist, and reading them is refused.
            Kind::File | Kind::Special(_) => {
                if let Some(limit) = ctx.reads.limit(&child_rel) {
                    let bytes = listing.read_file(name, *kind, limit);
                    found
                        .read
                        .push((child_rel.clone(), ctx.reads.keep(&child_rel, bytes)));
                }
                EntryKind::File
            }
        };
        found.entries.push((child_rel, entry));
    }
    // Closed before its subdirectories are opened: one directory open per thread at most.
    drop(listing);
    // What a directory found is recorded before anything below it, as a serial walk would: a
    // path both found here and failing below (a `.gitignore` that is an unlistable directory)
    // keeps the later problem.
    lock(ctx.out).append(found);
    for child in subdirs {
        scope.spawn(move |scope| descend(scope, ctx, child));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
    abs: &Path,
    rel: &str,
    listing: &Listing,
    problems: &mut Vec<(String, Problem)>,
) -> Option<Gitignore> {
    let (name, kind) = listing.entries.iter().find(|(n, _)| n == ".gitignore")?;
    if *kind == Kind::Symlink {
        return None;
    }
    let bytes = match listing.read_file(name, *kind, crate::fsread::MAX_SMALL_TEXT_BYTES) {
        Ok(b) => b,
        Err(p) => {
            let path = if rel.is_empty() {
                ".gitignore".to_owned()
            } else {
                format!("{rel}/.gitignore")
            };
            problems.push((path, p));
            return None;
        }
    };
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

    fn sorted<T>(w: &Walked<T>) -> Vec<String> {
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
        let w = walk(&root, &Disk, &NoReads).unwrap();
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
        let w = walk(&root, &Disk, &NoReads).unwrap();
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
        let w = walk(&root, &Disk, &NoReads).unwrap();
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
            fn read_dir(&self, dir: &Path) -> std::io::Result<Listing> {
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
        let w = walk(&root, &Refuses, &NoReads).unwrap();
        assert_eq!(sorted(&w), vec!["modules", "modules/private"]);
        assert!(
            matches!(
                &w.problems[..],
                [(p, Problem::Io { dir: true, error })] if p == "modules/private" && error == "permission denied"
            ),
            "{:?}",
            w.problems
        );
        assert!(walk(&root.join("missing"), &Disk, &NoReads).is_err());
    }

    #[test]
    fn a_deep_tree_is_walked_to_the_bottom() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let mut rel = String::from("d");
        for i in 0..300 {
            rel.push_str(&format!("/{}", i % 10));
        }
        std::fs::create_dir_all(root.join(&rel)).unwrap();
        std::fs::write(root.join(&rel).join("bottom.nix"), "{ }").unwrap();
        // On a stack far too small for 300 nested directory visits: each directory is a task
        // of its own, never a call inside its parent's.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .stack_size(64 << 10)
            .build()
            .unwrap();
        let w = pool.install(|| walk(&root, &Disk, &NoReads)).unwrap();
        assert_eq!(w.entries.len(), 302);
        assert!(sorted(&w).contains(&format!("{rel}/bottom.nix")));
        assert!(w.problems.is_empty(), "{:?}", w.problems);
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_replaced_by_a_link_is_not_listed_through_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::fs::write(dir.path().join("real/a.nix"), "{ }").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        assert_eq!(
            Disk.read_dir(&dir.path().join("real"))
                .unwrap()
                .entries
                .len(),
            1
        );
        // Refused (the system says "not a directory"), rather than followed.
        assert!(Disk.read_dir(&dir.path().join("link")).is_err());
    }

    #[test]
    fn files_are_read_as_they_are_listed_and_only_those_asked_for() {
        struct Nix;
        impl Reads for Nix {
            type Kept = Result<Vec<u8>, Problem>;
            fn limit(&self, rel: &str) -> Option<u64> {
                rel.ends_with(".nix").then_some(8)
            }
            fn keep(&self, _: &str, read: Result<Vec<u8>, Problem>) -> Self::Kept {
                read
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("m/n")).unwrap();
        std::fs::write(root.join("m/a.nix"), "{ }").unwrap();
        std::fs::write(root.join("m/n/big.nix"), "{ a = 1; }").unwrap();
        std::fs::write(root.join("m/n/data.json"), "{}").unwrap();
        #[cfg(unix)]
        crate::tests::mkfifo(&root.join("m/pipe.nix"));
        let mut read = walk(&root, &Disk, &Nix).unwrap().read;
        read.sort_by(|a, b| a.0.cmp(&b.0));
        let mut expected = vec![
            ("m/a.nix".to_owned(), Ok(b"{ }".to_vec())),
            (
                "m/n/big.nix".to_owned(),
                Err(Problem::TooLarge { size: 10, limit: 8 }),
            ),
        ];
        #[cfg(unix)]
        expected.push((
            "m/pipe.nix".to_owned(),
            Err(Problem::NotAFile("a named pipe (FIFO)")),
        ));
        assert_eq!(read, expected);
    }
}
