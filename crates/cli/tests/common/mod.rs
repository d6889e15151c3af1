//! Helpers shared by the integration tests: temporary repositories and running the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub mod fleet;

/// `flake.nix` of every test repository: its outputs read every file below `modules/` (so a
/// mistake there is an error).
pub const FLAKE: &str = "{ outputs = _: { modules = builtins.readDir ./modules; }; }\n";
/// A module with a syntax error on line 2: the `;` after `a =` is at character column 17
/// (the `ü` before it is one character but two bytes).
pub const BROKEN: &str = "{\n  b = \"ü\";  a = ; }\n";
pub const BROKEN_LINE: &str = "  b = \"ü\";  a = ; }";

/// A temporary repository with `flake.nix` plus `files` (root-relative path, text).
pub fn repo(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    write(dir.path(), "flake.nix", FLAKE);
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    dir
}

/// A repository whose `modules/broken.nix` does not parse.
pub fn broken_repo() -> TempDir {
    repo(&[("modules/broken.nix", BROKEN)])
}

pub fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).expect("create directories");
    }
    std::fs::write(full, text).expect("write a file");
}

/// The binary with a clean environment for output that depends on it.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_infra-check"));
    cmd.env_remove("GITHUB_WORKSPACE").env_remove("NO_COLOR");
    cmd
}

pub fn run(args: &[&str]) -> Output {
    command().args(args).output().expect("run infra-check")
}

pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    command()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run infra-check")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// The embedded example fleet, `examples/fleet`.
pub fn fleet_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet")
}

/// A fresh copy of the example fleet, for tests that break it.
pub fn fleet_copy() -> TempDir {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    copy_dir(&fleet_src(), dir.path());
    dir
}

/// Copies a directory tree, keeping symbolic links as links (the vars tree is made of them).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directories");
    for entry in std::fs::read_dir(from).expect("read a directory") {
        let entry = entry.expect("read a directory entry");
        let target = to.join(entry.file_name());
        let ft = entry.file_type().expect("read a file type");
        if ft.is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("read a link");
            std::os::unix::fs::symlink(link, &target).expect("create a link");
        } else if ft.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Is `tool` on PATH? When it is not, the caller skips (saying so), or fails when
/// `INFRA_CHECK_REQUIRE_TOOLS=1` (set by CI, which installs the tools).
pub fn have_tool(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()));
    if !found {
        assert!(
            std::env::var("INFRA_CHECK_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "`{tool}` is not on PATH, and INFRA_CHECK_REQUIRE_TOOLS=1 requires it"
        );
        eprintln!("skipped: `{tool}` is not installed");
    }
    found
}

/// Is `just` on PATH (see [`have_tool`])?
pub fn have_just(test: &str) -> bool {
    let found = have_tool("just");
    if !found {
        eprintln!("skipped: {test} needs just (pip install rust-just)");
    }
    found
}
