//! What the end-to-end editor tests share: the shipped set-up files, a copy of the example
//! fleet outside any git checkout, an `infra-check` on a private PATH the way `cargo install`
//! puts it on a user's, and running an editor in batch mode with a deadline.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const SERVER: &str = env!("CARGO_BIN_EXE_infra-check-lsp-test-server");

/// The repository's `editors/<rel>`, the file a user is told to load.
pub fn shipped(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../editors")
        .join(rel)
        .canonicalize()
        .unwrap_or_else(|e| panic!("editors/{rel} is missing: {e}"))
}

/// The path of `tool` on `PATH`. When it is missing the test is skipped with a message, or
/// fails when `INFRA_CHECK_REQUIRE_TOOLS=1` (set by CI, which installs the tools).
pub fn require_tool(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("INFRA_CHECK_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "`{tool}` is not installed, and INFRA_CHECK_REQUIRE_TOOLS=1 requires it"
        );
        eprintln!("skipped: `{tool}` is not installed");
    }
    found
}

/// A copy of `examples/fleet` in a fresh temporary directory, which is not inside a git
/// checkout (so editors cannot take the project root from version control).
pub fn fleet_copy() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let root = dir.path().canonicalize().unwrap().join("fleet");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet"),
        &root,
    );
    (dir, root)
}

/// Copies a directory tree, keeping symbolic links as links (the vars tree is made of them).
fn copy_dir(from: &Path, to: &Path) {
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

/// The machine modules of the fleet that import the `monitoring` module.
pub const MONITORING_IMPORTERS: [&str; 4] = [
    "modules/machines/nixos/argon/default.nix",
    "modules/machines/nixos/krypton/default.nix",
    "modules/machines/nixos/radon/default.nix",
    "modules/machines/nixos/xenon/default.nix",
];

/// Asserts that the file names in `result[key]` include every `rels` under `root`.
pub fn assert_lists(result: &serde_json::Value, key: &str, root: &Path, rels: &[&str]) {
    let listed = result[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}: {result}"));
    for rel in rels {
        let path = root.join(rel);
        assert!(
            listed.iter().any(|f| f == path.to_str().unwrap()),
            "{key} lacks {rel}: {result}"
        );
    }
}

/// Replaces the one occurrence of `from` in the file `rel` under `root`.
pub fn edit_file(root: &Path, rel: &str, from: &str, to: &str) {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from:?} in {rel}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// A directory holding an executable `infra-check`, to put first on the editor's PATH. It runs
/// the language server of this build (the test server is `infra-check lsp` without the CLI)
/// and refuses any arguments but `lsp`, so a set-up that runs the wrong command fails.
/// `INFRA_CHECK_EDITOR_BIN` names another binary to run instead (e.g. `target/debug/infra-check`).
pub fn path_with_server(work: &Path) -> std::ffi::OsString {
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("infra-check");
    let script = match std::env::var("INFRA_CHECK_EDITOR_BIN") {
        Ok(real) => format!("#!/bin/sh\nexec '{real}' \"$@\"\n"),
        Err(_) => format!(
            "#!/bin/sh\n\
             if [ \"$#\" -ne 1 ] || [ \"$1\" != lsp ]; then\n  \
               echo \"expected 'infra-check lsp', got: infra-check $*\" >&2\n  exit 2\n\
             fi\n\
             exec '{SERVER}'\n"
        ),
    };
    std::fs::write(&exe, script).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

/// Runs `command` (an editor in batch mode) with its home and XDG directories inside `work`,
/// waits at most three minutes, and returns the JSON it wrote to `out`.
pub fn run_editor(mut command: Command, work: &Path, out: &Path) -> serde_json::Value {
    let home = work.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut child = command
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("PATH", path_with_server(work))
        .env("INFRA_CHECK_OUT", out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the editor");
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the editor did not finish within three minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let text = std::fs::read_to_string(out)
        .unwrap_or_else(|e| panic!("the editor wrote no result ({e}); stderr: {stderr}"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the editor wrote no JSON ({e}): {text}; stderr: {stderr}"))
}
