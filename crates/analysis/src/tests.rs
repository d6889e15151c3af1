//! Multi-file fixtures in one string, nil-style: each file starts with a `#- /path` header.
//! Every path in the fixture exists on the fictional disk; a header ending in `/` makes an
//! empty directory and `#- /path -> target` a symbolic link. A file named `secret` counts as
//! sops-encrypted when its text is sops JSON, as the loader decides. `#- /path !unreadable`
//! (a directory when `path` ends in `/`) and `#- /path !fifo` stand for what the loader records
//! when it cannot read a path, so checks can be tested on them without a real disk.

use std::sync::Arc;

use crate::disk::{DiskTree, EntryKind};
use crate::AnalysisHost;

pub(crate) fn host_from_fixture(fixture: &str) -> AnalysisHost {
    fixture_into(AnalysisHost::new("/fixture".into()), fixture)
}

/// [`host_from_fixture`] into a given (empty) host.
pub(crate) fn fixture_into(mut host: AnalysisHost, fixture: &str) -> AnalysisHost {
    let mut disk = DiskTree::default();
    let mut files = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in fixture.lines() {
        if let Some(path) = line.strip_prefix("#- /") {
            if let Some(f) = current.take() {
                files.push(f);
            }
            let path = path.trim().to_owned();
            if let Some((path, what)) = path.split_once(" !") {
                let problem = match (what, path.ends_with('/')) {
                    ("unreadable", dir) => crate::disk::Problem::Io {
                        dir,
                        error: "Permission denied".into(),
                    },
                    ("fifo", false) => crate::disk::Problem::NotAFile("a named pipe (FIFO)"),
                    _ => panic!("unknown fixture problem `{what}` for {path}"),
                };
                let path = path.trim_end_matches('/').to_owned();
                let kind = if problem.is_dir() {
                    EntryKind::Dir
                } else {
                    EntryKind::File
                };
                disk.insert(path.clone(), kind);
                disk.set_problem(path, problem);
            } else if let Some((link, target)) = path.split_once(" -> ") {
                disk.insert(
                    link.trim().to_owned(),
                    EntryKind::Symlink(target.trim().to_owned()),
                );
            } else if let Some(dir) = path.strip_suffix('/') {
                disk.insert(dir.to_owned(), EntryKind::Dir);
            } else {
                current = Some((path, String::new()));
            }
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    files.extend(current);
    for (path, text) in &files {
        disk.insert(path.clone(), EntryKind::File);
        if path.ends_with("/secret") {
            disk.set_secret_encrypted(
                path.clone(),
                crate::disk::is_sops_encrypted(text.as_bytes()),
            );
        }
    }
    // Secrets are not analyzer input: only their existence and encryption flag are.
    files.retain(|(p, _)| !p.ends_with("/secret"));
    host.set_files(
        files
            .into_iter()
            .map(|(p, t)| (p, Arc::from(t.as_str())))
            .collect(),
    );
    host.set_disk(disk);
    host
}

/// Makes a named pipe at `path` (with the system's `mkfifo`, to keep the crate free of
/// `unsafe`).
#[cfg(unix)]
pub(crate) fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Diagnostics rendered one per line: `code file:line:col: message`.
pub(crate) fn check(fixture: &str) -> String {
    let host = host_from_fixture(fixture);
    let a = host.snapshot();
    let diags = a.diagnostics().expect("not cancelled");
    let mut out = String::new();
    for d in diags.iter() {
        let text = a.file_text(&d.location.file).unwrap_or_default();
        let idx = crate::LineIndex::new(&text);
        let lc = idx.line_col_chars(&text, d.location.range.start);
        out.push_str(&format!(
            "{} {}:{}:{}: {}\n",
            d.code,
            d.location.file,
            lc.line + 1,
            lc.col + 1,
            d.message
        ));
        for r in &d.related {
            let rt = a.file_text(&r.location.file).unwrap_or_default();
            let ri = crate::LineIndex::new(&rt);
            let rlc = ri.line_col_chars(&rt, r.location.range.start);
            out.push_str(&format!(
                "  note {}:{}:{}: {}\n",
                r.location.file,
                rlc.line + 1,
                rlc.col + 1,
                r.message
            ));
        }
        if let Some(fix) = &d.fix {
            for e in &fix.edits {
                out.push_str(&format!("  fix: {:?}\n", e.new_text));
            }
        }
    }
    out
}

pub(crate) const FLAKE: &str = r#"#- /flake.nix
{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
"#;

/// `rest` after a `flake.nix` like [`FLAKE`]'s with clan-core among its inputs.
pub(crate) fn with_clan_flake(rest: &str) -> String {
    format!("#- /flake.nix\n{}{rest}", fleetgen::FLAKE_NIX)
}

pub(crate) fn with_flake(rest: &str) -> String {
    format!("{FLAKE}{rest}")
}

/// A fixture `flake.lock` whose clan-core input is locked at `last_modified` (unix seconds).
pub(crate) fn clan_core_lock(last_modified: i64) -> String {
    format!(
        "#- /flake.lock\n{{ \"nodes\": {{ \"root\": {{ \"inputs\": {{ \"clan-core\": \"clan-core\" }} }}, \
         \"clan-core\": {{ \"locked\": {{ \"type\": \"github\", \"owner\": \"clan-lol\", \"repo\": \"clan-core\", \
         \"rev\": \"4444444444444444444444444444444444444444\", \"lastModified\": {last_modified} }} }} }}, \
         \"root\": \"root\", \"version\": 7 }}\n"
    )
}
