//! Running the binary on a copy of `examples/fleet` and moving its files aside and back: the
//! end-to-end tests that break the fleet on purpose.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::copy_dir;

/// `(code, file, line)` of every diagnostic, from the JSON output.
pub fn findings(root: &Path) -> (i32, Vec<(String, String, u64)>) {
    let out = Command::new(env!("CARGO_BIN_EXE_infra-check"))
        .args(["check", "--format", "json"])
        .arg(root)
        .output()
        .expect("run infra-check");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let list = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["file"].as_str().unwrap().to_owned(),
                d["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), list)
}

/// The diagnostics of a run as `(code, file, severity, message)`.
pub fn diagnostics(root: &Path) -> Vec<(String, String, String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_infra-check"))
        .args(["check", "--format", "json"])
        .arg(root)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["file"].as_str().unwrap().to_owned(),
                d["severity"].as_str().unwrap().to_owned(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Moves `rel` (a file or a directory) aside into `tmp` and returns where it went.
pub fn backup(root: &Path, rel: &str, tmp: &Path) -> PathBuf {
    let saved = tmp.join(rel.replace('/', "_"));
    let src = root.join(rel);
    if std::fs::symlink_metadata(&src).unwrap().is_dir() {
        copy_dir(&src, &saved);
        std::fs::remove_dir_all(&src).unwrap();
    } else {
        std::fs::rename(&src, &saved).unwrap();
    }
    saved
}

/// Puts back what [`backup`] moved aside.
pub fn restore(root: &Path, rel: &str, saved: &Path) {
    let dst = root.join(rel);
    if std::fs::symlink_metadata(saved).unwrap().is_dir() {
        copy_dir(saved, &dst);
    } else {
        std::fs::rename(saved, &dst).unwrap();
    }
}

/// Replaces the first `find` in `root/file` by `replace` and returns the text before.
pub fn edit(root: &Path, file: &str, find: &str, replace: &str) -> String {
    let path = root.join(file);
    let original = std::fs::read_to_string(&path).unwrap();
    assert!(
        original.contains(find),
        "{file} no longer contains {find:?}"
    );
    std::fs::write(&path, original.replacen(find, replace, 1)).unwrap();
    original
}

/// [`edit`] for each `(find, replace)` in turn.
pub fn edit_all(root: &Path, file: &str, changes: &[(&str, &str)]) {
    for (find, replace) in changes {
        edit(root, file, find, replace);
    }
}

/// The 1-based line of `root/file` holding `marker`.
pub fn line_of(root: &Path, file: &str, marker: &str) -> u64 {
    let text = std::fs::read_to_string(root.join(file)).unwrap();
    let i = text
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{file} has no line with {marker:?}"));
    i as u64 + 1
}

/// The fleet has no finding at all, and exits 0.
pub fn assert_clean(root: &Path, after: &str) {
    let (code, list) = findings(root);
    assert_eq!(list, vec![], "after {after}");
    assert_eq!(code, 0, "after {after}");
}
