//! The trees the benchmark runs on: the corpus of real repositories (unpacked from their
//! archives the way `../shared/corpus/run` does) and synthetic fleets written by `fleetgen`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One directory to benchmark.
pub struct Tree {
    pub name: String,
    pub root: PathBuf,
    /// Keeps a generated fleet on disk until the tree is dropped.
    _generated: Option<tempfile::TempDir>,
}

impl Tree {
    pub fn at(name: String, root: PathBuf) -> Tree {
        Tree {
            name,
            root,
            _generated: None,
        }
    }
}

/// Where a tree comes from.
pub enum Source {
    /// A corpus tree, by name.
    Corpus(String),
    /// A fleetgen fleet of this many machines.
    Fleet(usize),
    /// A directory given on the command line.
    Dir(PathBuf),
}

impl Source {
    /// The tree's name in the table, in `--only` and in saved outputs.
    pub fn name(&self) -> String {
        match self {
            Source::Corpus(name) => name.clone(),
            Source::Fleet(m) => fleet_name(*m),
            Source::Dir(root) => root
                .canonicalize()
                .ok()
                .and_then(|r| r.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| root.display().to_string()),
        }
    }

    /// Unpacks or generates the tree when needed.
    pub fn make(&self, archives: &Path, dest: &Path) -> Result<Tree, String> {
        match self {
            Source::Corpus(name) => corpus_tree(name, archives, dest),
            Source::Fleet(m) => fleet(*m),
            Source::Dir(root) => Ok(Tree::at(self.name(), root.clone())),
        }
    }
}

/// The name a fleet of `machines` machines has in the table and in `--only`.
pub fn fleet_name(machines: usize) -> String {
    format!("fleetgen-{machines}")
}

/// Writes a fleet of `machines` machines into a fresh temporary directory, with one shared
/// module per class for every five machines and at most 1,000: the shapes of the fleets in
/// issue 13's table (1,403 files for 1,000 machines, 12,003 for 10,000).
pub fn fleet(machines: usize) -> Result<Tree, String> {
    let dir = tempfile::Builder::new()
        .prefix("infra-check-bench-")
        .tempdir()
        .map_err(|e| format!("A temporary directory for the fleet could not be made: {e}."))?;
    let spec = fleetgen::Spec {
        machines,
        shared: (machines / 5).clamp(1, 1000),
    };
    fleetgen::write_fleet(dir.path(), spec).map_err(|e| {
        format!(
            "The fleet of {machines} machines could not be written to `{}`: {e}.",
            dir.path().display()
        )
    })?;
    Ok(Tree {
        name: fleet_name(machines),
        root: dir.path().to_owned(),
        _generated: Some(dir),
    })
}

/// The names of the corpus trees: one per `NAME.tar.gz` in `archives`, or, when there are no
/// archives, one per directory already unpacked in `dest`. Sorted.
pub fn corpus_names(archives: &Path, dest: &Path) -> Vec<String> {
    let mut names: Vec<String> = list(archives)
        .into_iter()
        .filter_map(|f| f.strip_suffix(".tar.gz").map(str::to_owned))
        .collect();
    if names.is_empty() {
        names = list(dest)
            .into_iter()
            .filter(|n| !n.starts_with('.') && dest.join(n).is_dir())
            .collect();
    }
    names.sort();
    names
}

fn list(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

/// The corpus tree `name` under `dest`, unpacked from `archives/NAME.tar.gz` unless the stamp
/// beside it says this archive is already there (the same stamp `../shared/corpus/run` writes,
/// so the two never unpack twice).
pub fn corpus_tree(name: &str, archives: &Path, dest: &Path) -> Result<Tree, String> {
    let root = dest.join(name);
    let tgz = archives.join(format!("{name}.tar.gz"));
    let Ok(meta) = std::fs::metadata(&tgz) else {
        // No archive: use what is unpacked.
        return if root.is_dir() {
            Ok(Tree::at(name.to_owned(), root))
        } else {
            Err(format!(
                "The corpus tree `{name}` is neither unpacked in `{}` nor archived in `{}`.",
                dest.display(),
                archives.display()
            ))
        };
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let mark = format!("{}:{mtime}", meta.len());
    let stamp = dest.join(format!(".{name}.stamp"));
    let fresh = root.is_dir() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == mark);
    if !fresh {
        let cannot = |e: &dyn std::fmt::Display| {
            format!(
                "The corpus archive `{}` could not be unpacked into `{}`: {e}.",
                tgz.display(),
                dest.display()
            )
        };
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|e| cannot(&e))?;
        }
        std::fs::create_dir_all(dest).map_err(|e| cannot(&e))?;
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(&tgz)
            .arg("-C")
            .arg(dest)
            .status()
            .map_err(|e| cannot(&format!("`tar` could not be run ({e})")))?;
        if !status.success() {
            return Err(cannot(&format!("`tar` failed ({status})")));
        }
        std::fs::write(&stamp, mark).map_err(|e| cannot(&e))?;
    }
    Ok(Tree::at(name.to_owned(), root))
}
