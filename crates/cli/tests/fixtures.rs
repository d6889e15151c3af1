//! The fixture-repository harness: every directory under `tests/fixtures/` at the workspace
//! root is a small repository about one defect. Its `expected.txt` lists the diagnostics
//! `infra-check check --format json` must report, one `code file:line` per line (`#` comments
//! and blank lines are ignored; an empty file means the fixture must be clean). The comparison
//! is of multisets, so order does not matter but counts do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

/// `(code, file, line)`, counted.
type Entries = BTreeMap<(String, String, u64), usize>;

fn parse_expected(path: &Path) -> Result<Entries, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{} could not be read: {e}", path.display()))?;
    let mut entries = Entries::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "{}:{}: `{raw}` is not of the form `code file:line`",
                path.display(),
                n + 1
            )
        };
        let (code, location) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
        let (file, line_no) = location.trim().rsplit_once(':').ok_or_else(bad)?;
        let line_no: u64 = line_no.parse().map_err(|_| bad())?;
        *entries
            .entry((code.to_owned(), file.to_owned(), line_no))
            .or_default() += 1;
    }
    Ok(entries)
}

fn actual(dir: &Path) -> Result<Entries, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_infra-check"))
        .args(["check", "--format", "json"])
        .arg(dir)
        .env_remove("GITHUB_WORKSPACE")
        .output()
        .map_err(|e| format!("infra-check could not be run: {e}"))?;
    let status = out.status.code();
    if !matches!(status, Some(0 | 1)) {
        return Err(format!(
            "infra-check exited with {status:?}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("the output is not JSON ({e})"))?;
    let mut entries = Entries::new();
    for d in doc["diagnostics"].as_array().into_iter().flatten() {
        let code = d["code"].as_str().unwrap_or_default().to_owned();
        let file = d["file"].as_str().unwrap_or_default().to_owned();
        let line = d["range"]["start"]["line"].as_u64().unwrap_or_default();
        *entries.entry((code, file, line)).or_default() += 1;
    }
    Ok(entries)
}

/// Entries of `a` not matched in `b`, as `code file:line` lines (repeated per missing count).
fn difference(a: &Entries, b: &Entries) -> Vec<String> {
    let mut out = Vec::new();
    for ((code, file, line), &n) in a {
        let have = b
            .get(&(code.clone(), file.clone(), *line))
            .copied()
            .unwrap_or(0);
        for _ in have..n {
            out.push(format!("{code} {file}:{line}"));
        }
    }
    out
}

fn fixture_dirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(FIXTURES) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn fixtures_report_exactly_the_expected_diagnostics() {
    let dirs = fixture_dirs();
    assert!(
        !dirs.is_empty(),
        "no fixture repositories found under {FIXTURES}"
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let result = parse_expected(&dir.join("expected.txt")).and_then(|expected| {
            let actual = actual(dir)?;
            let missing = difference(&expected, &actual);
            let unexpected = difference(&actual, &expected);
            if missing.is_empty() && unexpected.is_empty() {
                return Ok(());
            }
            let mut report = String::new();
            for m in missing {
                report.push_str(&format!("  - missing:    {m}\n"));
            }
            for u in unexpected {
                report.push_str(&format!("  + unexpected: {u}\n"));
            }
            Err(report)
        });
        match result {
            Ok(()) => eprintln!("fixture {name}: ok"),
            Err(report) => failures.push(format!("fixture `{name}`:\n{report}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ from their expected.txt:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

#[test]
fn expected_files_parse() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("expected.txt");
    std::fs::write(
        &path,
        "# comment\n\nsyntax/parse-error modules/a.nix:3\nsyntax/parse-error modules/a.nix:3\n",
    )
    .unwrap();
    let entries = parse_expected(&path).unwrap();
    assert_eq!(
        entries.get(&("syntax/parse-error".into(), "modules/a.nix".into(), 3)),
        Some(&2)
    );
    std::fs::write(&path, "syntax/parse-error modules/a.nix\n").unwrap();
    assert!(parse_expected(&path).is_err());
}
