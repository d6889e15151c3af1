//! Running the repository's Node projects (editors/vscode, tests/tools) from Rust tests: skip
//! with a message when node or npm is missing, fail when INFRA_CHECK_REQUIRE_TOOLS=1, install
//! their pinned dependencies with `npm ci` only when `node_modules` is older than the lock file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

pub fn repo() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .canonicalize()
        .expect("the repository root")
}

fn required() -> bool {
    std::env::var("INFRA_CHECK_REQUIRE_TOOLS").as_deref() == Ok("1")
}

/// Whether the tests can go on; `false` after printing why they are skipped.
pub fn available(why: &str) -> bool {
    for tool in ["node", "npm"] {
        if Command::new(tool).arg("--version").output().is_err() {
            assert!(!required(), "{tool} is required ({why})");
            eprintln!("skipped: {tool} (Node.js 20 or newer with npm) is not installed, so {why} cannot run");
            return false;
        }
    }
    true
}

/// Installs the project's locked dependencies unless they are already there; `false` (after
/// printing why) when they cannot be installed and the tools are not required.
pub fn install(project: &Path) -> bool {
    let lock = project.join("package-lock.json");
    let installed = project.join("node_modules/.package-lock.json");
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    if let (Some(lock), Some(installed)) = (modified(&lock), modified(&installed)) {
        if installed >= lock {
            return true;
        }
    }
    let out = run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(project));
    if out.status.success() {
        return true;
    }
    let message = format!(
        "`npm ci` failed in {}: {}",
        project.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!required(), "{message}");
    eprintln!("skipped: {message}");
    false
}

/// Runs a command, printing how long it took (the npm steps are the slow part of the suite).
pub fn run(command: &mut Command) -> Output {
    let start = Instant::now();
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    eprintln!("{command:?}: {:.1?}", start.elapsed());
    out
}

/// Runs `npm run <script>` in the project and fails the test with its output if it fails.
pub fn script(project: &Path, script: &str, env: &[(&str, &Path)]) -> String {
    let mut command = Command::new("npm");
    command
        .args(["run", "--silent", script])
        .current_dir(project);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = run(&mut command);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`npm run {script}` failed in {}:\n{stdout}\n{}",
        project.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// node --test's TAP summary: at least one test passed and none failed (a runner that found
/// no test file prints `# tests 0`).
pub fn assert_passed(tap: &str, what: &str) {
    let count = |key: &str| {
        tap.lines()
            .find_map(|l| l.strip_prefix(&format!("# {key} ")))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no `# {key}` line in the {what}' output:\n{tap}"))
    };
    assert!(count("pass") > 0, "no {what} ran:\n{tap}");
    assert_eq!(count("fail"), 0, "{what} failed:\n{tap}");
}
