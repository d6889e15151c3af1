//! Mutations as concrete, printable actions on a tree. A mutation is chosen once (with the
//! case's random generator, see `choose.rs`) and then only applied, so the list printed for a
//! failing case is exactly what produces its tree.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::choose::Kind;
use crate::generated::Gen;
use crate::tree;

/// Bytes to write: literal or generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Bytes(Vec<u8>),
    Gen(Gen),
    /// A generated expression inside literal text (`{ x = <gen>; }`).
    Wrapped {
        before: String,
        gen: Gen,
        after: String,
    },
}

impl Payload {
    pub fn text(s: impl Into<String>) -> Payload {
        Payload::Bytes(s.into().into_bytes())
    }

    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Payload::Bytes(b) => b.clone(),
            Payload::Gen(g) => g.text().into_bytes(),
            Payload::Wrapped { before, gen, after } => {
                format!("{before}{}{after}", gen.text()).into_bytes()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Cut a file to its first `len` bytes.
    Truncate {
        file: String,
        len: usize,
    },
    /// Replace `remove` bytes at byte offset `at` of a file with `insert`.
    Splice {
        file: String,
        at: usize,
        remove: usize,
        insert: Payload,
    },
    /// Rename the identifier token `from` to `to` (every occurrence, or only the `nth`).
    RenameIdent {
        file: String,
        from: String,
        to: String,
        nth: Option<usize>,
    },
    /// Create or replace (whatever is there) a regular file.
    Write {
        file: String,
        payload: Payload,
    },
    /// Create a file whose name (in `dir`) is not UTF-8.
    WriteRawName {
        dir: String,
        name: Vec<u8>,
        payload: Payload,
    },
    /// Turn every `\n` into `\r\n` (or into a lone `\r`).
    LineEndings {
        file: String,
        lone_cr: bool,
    },
    /// Create or replace a symbolic link.
    Symlink {
        link: String,
        target: String,
    },
    Chmod {
        path: String,
        mode: u32,
    },
    /// Create or replace a FIFO (a named pipe).
    Fifo {
        path: String,
    },
    /// Create or replace a directory.
    MakeDir {
        path: String,
    },
    Remove {
        path: String,
    },
}

impl Action {
    pub fn apply(&self, root: &Path) -> io::Result<()> {
        match self {
            Action::Truncate { file, len } => {
                let mut bytes = read(root, file)?;
                bytes.truncate(*len);
                fs::write(root.join(file), bytes)
            }
            Action::Splice {
                file,
                at,
                remove,
                insert,
            } => {
                let mut bytes = read(root, file)?;
                let at = (*at).min(bytes.len());
                let end = (at + remove).min(bytes.len());
                bytes.splice(at..end, insert.bytes());
                fs::write(root.join(file), bytes)
            }
            Action::RenameIdent {
                file,
                from,
                to,
                nth,
            } => {
                let text = String::from_utf8(read(root, file)?)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                if !crate::choose::cheap_to_tokenize(&text) {
                    return Err(io::Error::other(format!("{file} is too slow to tokenize")));
                }
                let mut out = String::with_capacity(text.len());
                let mut seen = 0;
                for (kind, tok) in rnix::tokenize(&text) {
                    if kind == rnix::SyntaxKind::TOKEN_IDENT && tok == from {
                        let hit = nth.is_none_or(|n| n == seen);
                        seen += 1;
                        out.push_str(if hit { to } else { tok });
                    } else {
                        out.push_str(tok);
                    }
                }
                fs::write(root.join(file), out)
            }
            Action::Write { file, payload } => {
                let path = root.join(file);
                prepare(&path)?;
                fs::write(path, payload.bytes())
            }
            Action::WriteRawName { dir, name, payload } => {
                let path = root.join(dir).join(std::ffi::OsStr::from_bytes(name));
                prepare(&path)?;
                fs::write(path, payload.bytes())
            }
            Action::LineEndings { file, lone_cr } => {
                let bytes = read(root, file)?;
                let mut out = Vec::with_capacity(bytes.len() * 2);
                for b in bytes {
                    if b == b'\n' {
                        out.push(b'\r');
                        if !lone_cr {
                            out.push(b'\n');
                        }
                    } else {
                        out.push(b);
                    }
                }
                fs::write(root.join(file), out)
            }
            Action::Symlink { link, target } => {
                let path = root.join(link);
                prepare(&path)?;
                std::os::unix::fs::symlink(target, path)
            }
            Action::Chmod { path, mode } => {
                fs::set_permissions(root.join(path), fs::Permissions::from_mode(*mode))
            }
            Action::Fifo { path } => {
                let path = root.join(path);
                prepare(&path)?;
                rustix::fs::mkfifoat(
                    rustix::fs::CWD,
                    &path,
                    rustix::fs::Mode::from_raw_mode(0o644),
                )
                .map_err(io::Error::from)
            }
            Action::MakeDir { path } => {
                let path = root.join(path);
                prepare(&path)?;
                fs::create_dir(path)
            }
            Action::Remove { path } => tree::remove(&root.join(path)),
        }
    }

    /// The root-relative paths this action needs or creates (kept when a reproducer's tree is
    /// pruned).
    pub fn paths(&self) -> Vec<&str> {
        match self {
            Action::Truncate { file, .. }
            | Action::Splice { file, .. }
            | Action::RenameIdent { file, .. }
            | Action::Write { file, .. }
            | Action::LineEndings { file, .. } => vec![file],
            Action::WriteRawName { dir, .. } => vec![dir],
            Action::Symlink { link, .. } => vec![link],
            Action::Chmod { path, .. }
            | Action::Fifo { path }
            | Action::MakeDir { path }
            | Action::Remove { path } => vec![path],
        }
    }
}

/// Reads a regular file of the tree (never a FIFO or device: that would block or never end).
fn read(root: &Path, rel: &str) -> io::Result<Vec<u8>> {
    let path = root.join(rel);
    if !fs::symlink_metadata(&path)?.is_file() {
        return Err(io::Error::other(format!("{rel} is not a regular file")));
    }
    fs::read(path)
}

/// Makes room for a new entry at `path`: its parent exists, nothing is at the path.
fn prepare(path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    tree::clear(path)
}

/// One mutation: its kind, what it does in words, and the actions that do it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    pub kind: Kind,
    pub what: String,
    pub actions: Vec<Action>,
}

impl Mutation {
    pub fn new(kind: Kind, what: impl Into<String>, actions: Vec<Action>) -> Mutation {
        Mutation {
            kind,
            what: what.into(),
            actions,
        }
    }

    pub fn apply(&self, root: &Path) -> io::Result<()> {
        self.actions.iter().try_for_each(|a| a.apply(root))
    }
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.kind.name(), self.what)
    }
}

/// Shows at most `max` characters of `bytes`, escaped.
pub fn show_bytes(bytes: &[u8], max: usize) -> String {
    let escaped = bytes.escape_ascii().to_string();
    if escaped.chars().count() <= max {
        format!("\"{escaped}\"")
    } else {
        let head: String = escaped.chars().take(max).collect();
        format!("\"{head}…\" ({} bytes)", bytes.len())
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Bytes(b) => f.write_str(&show_bytes(b, 60)),
            Payload::Gen(g) => write!(f, "{g}"),
            Payload::Wrapped { before, gen, after } => write!(f, "`{before}<{gen}>{after}`"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Truncate { file, len } => write!(f, "truncate {file} to {len} bytes"),
            Action::Splice {
                file,
                at,
                remove,
                insert,
            } => write!(
                f,
                "in {file} at byte {at}, replace {remove} bytes with {insert}"
            ),
            Action::RenameIdent {
                file,
                from,
                to,
                nth,
            } => match nth {
                Some(n) => write!(f, "in {file}, rename occurrence {n} of `{from}` to `{to}`"),
                None => write!(f, "in {file}, rename every `{from}` to `{to}`"),
            },
            Action::Write { file, payload } => write!(f, "write {file}: {payload}"),
            Action::WriteRawName { dir, name, payload } => write!(
                f,
                "write {}: {payload}",
                tree::join(dir, &show_bytes(name, 80))
            ),
            Action::LineEndings { file, lone_cr } => write!(
                f,
                "turn the line feeds of {file} into {}",
                if *lone_cr { "lone CRs" } else { "CRLF" }
            ),
            Action::Symlink { link, target } => write!(f, "symlink {link} -> {target}"),
            Action::Chmod { path, mode } => write!(f, "chmod {mode:03o} {path}"),
            Action::Fifo { path } => write!(f, "make a FIFO at {path}"),
            Action::MakeDir { path } => write!(f, "make a directory at {path}"),
            Action::Remove { path } => write!(f, "remove {path}"),
        }
    }
}
