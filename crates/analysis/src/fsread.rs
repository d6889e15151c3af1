//! Reading one file of the repository without trusting it: only a regular file is opened, the
//! open cannot block (a named pipe swapped in after the walk opens non-blocking and is then
//! refused), and no more than a limit is read, whatever the file claims its size is.
//!
//! Following links and deciding whether a path is inside the repository is the loader's job;
//! this module reads one path that must not itself be a link.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::disk::Problem;

/// `.nix` files. The largest hand-written module in the corpus is about 60 KB; generated Nix
/// (lists of packages, maintainer tables) rarely passes 1 MiB. Beyond this a file is data the
/// analyzer has no use for, and its parse and evaluation would dominate the run.
pub const MAX_NIX_BYTES: u64 = 8 << 20;
/// `flake.lock` and `inventory.json`: machine-written JSON. A lock of a large flake is about
/// 60 KB, an inventory of a few hundred machines well under 1 MiB.
pub const MAX_DATA_BYTES: u64 = 8 << 20;
/// Option catalogs from `infra-check options dump`: every option of a NixOS machine, with
/// descriptions, is some 10–20 MiB.
pub const MAX_CATALOG_BYTES: u64 = 64 << 20;
/// `infra-check.toml` and `.gitignore` files: a few lines written by hand.
pub const MAX_SMALL_TEXT_BYTES: u64 = 1 << 20;
/// A vars `secret`: sops-encrypted JSON of one value. It is parsed only to see that it is
/// encrypted; a larger one is left unchecked rather than held in memory.
pub const MAX_SECRET_BYTES: u64 = 16 << 20;
/// `.validation-hash`: one hex digest (64 bytes).
pub const MAX_HASH_BYTES: u64 = 4 << 10;

const FIFO: &str = "a named pipe (FIFO)";
const SOCKET: &str = "a socket";
const DEVICE: &str = "a device";
pub(crate) const DIRECTORY: &str = "a directory";
pub(crate) const SYMLINK: &str = "a symbolic link";
const OTHER: &str = "not a regular file";

/// What kind of thing a non-regular file is, in words for a message.
pub fn describe(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return FIFO;
        }
        if ft.is_socket() {
            return SOCKET;
        }
        if ft.is_block_device() || ft.is_char_device() {
            return DEVICE;
        }
    }
    if ft.is_dir() {
        DIRECTORY
    } else if ft.is_symlink() {
        SYMLINK
    } else {
        OTHER
    }
}

/// [`describe`] for a kind as a directory listing gives it.
#[cfg(unix)]
pub fn describe_listed(ft: rustix::fs::FileType) -> &'static str {
    use rustix::fs::FileType as T;
    match ft {
        T::Fifo => FIFO,
        T::Socket => SOCKET,
        T::BlockDevice | T::CharacterDevice => DEVICE,
        T::Directory => DIRECTORY,
        T::Symlink => SYMLINK,
        _ => OTHER,
    }
}

/// The bytes of the regular file at `path`, at most `limit` of them. `path` must not be a
/// symbolic link (the caller resolved it); one that became a link since is refused.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, Problem> {
    // Look before opening: opening a device can have effects of its own.
    let meta = std::fs::symlink_metadata(path).map_err(|e| io_problem(&e))?;
    if !meta.file_type().is_file() {
        return Err(Problem::NotAFile(describe(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(Problem::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let file = open_nonblocking(path).map_err(|e| io_problem(&e))?;
    // The path may have been replaced between the look and the open: ask the handle itself.
    read_opened(file, limit)
}

/// The bytes of the entry `name` of the open directory `dir`, which its listing gave as a
/// regular file, at most `limit` of them. The listing already looked (so nothing else is asked
/// of the path), the open refuses a link and cannot block, and the handle tells what was
/// opened: an entry replaced since the listing is refused like one found so.
#[cfg(unix)]
pub fn read_listed_at(
    dir: std::os::fd::BorrowedFd<'_>,
    name: &std::ffi::OsStr,
    limit: u64,
) -> Result<Vec<u8>, Problem> {
    use rustix::fs::{Mode, OFlags};
    let flags =
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => read_opened(File::from(fd), limit),
        // A file that cannot be opened (no read permission) is reported as a look before the
        // open would have found it: too large, or not a regular file, before unreadable.
        Err(e) => {
            use rustix::fs::{AtFlags, FileType};
            if let Ok(st) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                let ft = FileType::from_raw_mode(st.st_mode);
                if ft != FileType::RegularFile {
                    return Err(Problem::NotAFile(describe_listed(ft)));
                }
                let size = st.st_size as u64;
                if size > limit {
                    return Err(Problem::TooLarge { size, limit });
                }
            }
            Err(io_problem(&e.into()))
        }
    }
}

/// Reads an opened file after asking the handle what it is and how large.
fn read_opened(file: File, limit: u64) -> Result<Vec<u8>, Problem> {
    let meta = file.metadata().map_err(|e| io_problem(&e))?;
    if !meta.file_type().is_file() {
        return Err(Problem::NotAFile(describe(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(Problem::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    // One byte past the limit tells a file that grew while being read from one that fits.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_problem(&e))?;
    if bytes.len() as u64 > limit {
        return Err(Problem::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

fn io_problem(e: &io::Error) -> Problem {
    Problem::Io {
        dir: false,
        error: io_words(e),
    }
}

/// The system's words for an error, without Rust's "(os error 13)" suffix.
pub fn io_words(e: &io::Error) -> String {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return "a symbolic link loop".into();
    }
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_within_the_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.nix");
        std::fs::write(&p, "{ }\n").unwrap();
        assert_eq!(read_regular(&p, 100).unwrap(), b"{ }\n");
        assert_eq!(
            read_regular(&p, 3),
            Err(Problem::TooLarge { size: 4, limit: 3 })
        );
        assert_eq!(
            read_regular(dir.path(), 100),
            Err(Problem::NotAFile("a directory"))
        );
        assert!(matches!(
            read_regular(&dir.path().join("missing"), 100),
            Err(Problem::Io { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_pipes_devices_and_links_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.nix");
        crate::tests::mkfifo(&fifo);
        assert_eq!(
            read_regular(&fifo, 100),
            Err(Problem::NotAFile("a named pipe (FIFO)"))
        );
        assert_eq!(
            read_regular(Path::new("/dev/zero"), 100),
            Err(Problem::NotAFile("a device"))
        );
        let link = dir.path().join("link.nix");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert_eq!(
            read_regular(&link, 100),
            Err(Problem::NotAFile("a symbolic link"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_listed_file_is_refused_for_the_reasons_a_look_first_would_give() {
        use std::ffi::OsStr;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.nix"), "{ }\n").unwrap();
        crate::tests::mkfifo(&dir.path().join("pipe.nix"));
        std::os::unix::fs::symlink("a.nix", dir.path().join("link.nix")).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let fd = std::fs::File::open(dir.path()).unwrap();
        let at = |name: &str, limit| {
            read_listed_at(std::os::fd::AsFd::as_fd(&fd), OsStr::new(name), limit)
        };
        assert_eq!(at("a.nix", 100).unwrap(), b"{ }\n");
        assert_eq!(at("a.nix", 3), Err(Problem::TooLarge { size: 4, limit: 3 }));
        // Each as `read_regular` words it.
        for name in ["pipe.nix", "link.nix", "sub", "missing"] {
            assert_eq!(
                at(name, 100),
                read_regular(&dir.path().join(name), 100),
                "{name}"
            );
        }
    }
}
