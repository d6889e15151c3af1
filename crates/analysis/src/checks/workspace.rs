//! `workspace/unreadable`, `workspace/too-large` and `workspace/invalid-data`: what the loader
//! could not read, and data files (`flake.lock`, `inventory.json`) the flake or clan cannot
//! use. Whatever such a file could have said is treated as unknown by the models; these
//! findings say why the checks that depend on it stay silent.

use std::collections::HashMap;

use crate::db::{Db, Workspace};
use crate::diagnostic::{Diagnostic, Location, TextRange};
use crate::disk::{display_path, DiskTree, Problem};
use crate::loader::human_size;

pub(super) fn check(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    let disk = ws.disk(db);
    let cfg = crate::db::config(db, ws);
    let mut out = Vec::new();
    if disk.problems().next().is_none() {
        return data_problems(db, ws);
    }
    let mut imported = imported_paths(db, ws);
    named_catalogs(db, ws, &mut imported);
    for (path, problem) in disk.problems() {
        if cfg.is_excluded(path) || said_elsewhere(disk, path, problem) {
            continue;
        }
        let code = match problem {
            Problem::TooLarge { .. } => "workspace/too-large",
            _ => "workspace/unreadable",
        };
        let loc = anchor(&imported, path, problem);
        out.push(Diagnostic::new(
            code,
            &loc.file,
            loc.range,
            message(path, problem),
        ));
    }
    out.extend(data_problems(db, ws));
    out
}

fn data_problems(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    crate::flake::flake_info(db, ws)
        .lock_problems
        .iter()
        .chain(&crate::jsondata::inventory_json(db, ws).problems)
        .map(|p| {
            Diagnostic::new(
                "workspace/invalid-data",
                &p.file,
                p.range,
                p.message.clone(),
            )
        })
        .collect()
}

/// The first `imports` entry (in path order of the importing files) naming each path.
fn imported_paths(db: &dyn Db, ws: Workspace) -> HashMap<String, Location> {
    let mut out = HashMap::new();
    for (file_path, &file) in ws.files(db).iter() {
        if !file_path.ends_with(".nix") {
            continue;
        }
        for (_, target, range) in super::imports::import_literals(db, ws, file).iter() {
            out.entry(target.clone())
                .or_insert_with(|| Location::new(file_path, *range));
        }
    }
    out
}

/// A broken link under `vars/` or `sops/` is `vars/dangling-link`'s to report.
fn said_elsewhere(disk: &DiskTree, path: &str, problem: &Problem) -> bool {
    matches!(problem, Problem::DanglingLink)
        && (path.starts_with("vars/") || path.starts_with("sops/"))
        && disk.resolve_link(path).is_some()
}

/// Where to report a path that could not be read: a file too large to read is itself a file an
/// editor can open; anything else (a pipe, a directory, a name that cannot be spelt) is
/// reported at the `imports` entry that names it or a directory above it, else at the top of
/// `flake.nix`.
/// Catalogs are named by `infra-check.toml`: a problem with one is reported where it is named.
fn named_catalogs(db: &dyn Db, ws: Workspace, out: &mut HashMap<String, Location>) {
    let config_file = crate::config::CONFIG_FILE;
    let Some(text) = crate::db::file_by_path(db, ws, config_file).map(|f| f.text(db).clone())
    else {
        return;
    };
    for catalog in &crate::db::config(db, ws).catalogs {
        let Some(rel) = crate::disk::normalize_join("", catalog) else {
            continue;
        };
        let range = text
            .find(catalog.as_str())
            .map_or(TextRange::default(), |i| {
                TextRange::new(i as u32, (i + catalog.len()) as u32)
            });
        out.insert(rel, Location::new(config_file, range));
    }
}

fn anchor(imported: &HashMap<String, Location>, path: &str, problem: &Problem) -> Location {
    if matches!(problem, Problem::TooLarge { .. }) {
        return Location::new(path, TextRange::default());
    }
    let mut p = path;
    loop {
        if let Some(loc) = imported.get(p) {
            return loc.clone();
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return Location::new("flake.nix", TextRange::default()),
        }
    }
}

/// The sentence for a path that could not be read.
fn message(path: &str, problem: &Problem) -> String {
    let shown = display_path(path);
    let consequence = if path == "flake.nix" {
        "so nothing the flake defines could be checked"
    } else if path == ".gitignore" || path.ends_with("/.gitignore") {
        "so the files it would hide from the flake were analysed as if it were empty"
    } else if crate::loader::is_secret_file(path) {
        "so infra-check could not check that it is sops-encrypted"
    } else if problem.is_dir() {
        "so infra-check did not look inside it; what it could define is treated as unknown"
    } else {
        "so infra-check did not read it; what it could define is treated as unknown"
    };
    match problem {
        Problem::TooLarge { size, limit } => format!(
            "`{shown}` is {}, more than the {} infra-check analyses in one file, {consequence}. Split it into smaller files.",
            human_size(*size),
            human_size(*limit)
        ),
        Problem::NotAFile(what) => format!(
            "`{shown}` is {what}, not a regular file, {consequence}. Replace it with a regular file or remove it."
        ),
        Problem::DanglingLink => format!(
            "`{shown}` is a symbolic link whose target does not exist, {consequence}. Restore the target or remove the link."
        ),
        Problem::OutsideRoot => format!(
            "`{shown}` is a symbolic link that leads outside the repository, {consequence}. Replace it with a file inside the repository."
        ),
        Problem::NotReadable(target) if target == path => format!(
            "`{shown}` is a secret, which infra-check never reads as data, {consequence}. Name another file."
        ),
        Problem::NotReadable(target) => format!(
            "`{shown}` is a symbolic link to `{}`, which is not part of what the flake sees (it is ignored by git, lies in a directory such as `.git`, or is a secret), {consequence}. Link to a file the flake contains.",
            display_path(target)
        ),
        Problem::BadName { dir } => format!(
            "The name of the {} `{shown}` is not valid UTF-8 (the undecodable bytes are shown as �), {consequence}. Rename it.",
            if *dir { "directory" } else { "file" }
        ),
        Problem::Io { dir: true, error } => format!(
            "The directory `{shown}` could not be read ({}), {consequence}. Make it readable or remove it.",
            error.to_lowercase()
        ),
        Problem::Io { dir: false, error } => format!(
            "`{shown}` could not be read ({}), {consequence}. Make it readable or remove it.",
            error.to_lowercase()
        ),
    }
}
