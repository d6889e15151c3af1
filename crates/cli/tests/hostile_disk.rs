//! What the binary does with a repository whose disk is hostile or broken: named pipes where
//! files should be, devices behind links, files too large to analyse, names that are not UTF-8,
//! directories it may not list, links out of the repository, broken data files. It must finish
//! (every run here is bounded by a timeout, so a hang fails instead of blocking the suite),
//! exit 0 or 1 — a broken file is a finding, not a failure of the run — report the problem,
//! stay silent about what the unreadable part could have defined, and never print what it read
//! from outside the repository.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{path_str, write};

/// A clan fleet in the dendritic style: machine `a` imports `flake.modules.nixos.base`, which
/// `modules/base.nix` defines. Clean as it is.
const FLAKE: &str = fleetgen::FLAKE_NIX;
const CLAN: &str = r#"{ config, ... }:
{
  clan.inventory.machines.a = { };
  clan.machines.a.imports = [ config.flake.modules.nixos.base ];
}
"#;
const BASE: &str = "{ flake.modules.nixos.base = { }; }\n";

fn fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    write(dir.path(), "flake.nix", FLAKE);
    write(dir.path(), "modules/clan.nix", CLAN);
    write(dir.path(), "modules/base.nix", BASE);
    dir
}

/// What a bounded run gives back.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// `(code, file, message)` of every diagnostic of a `--format json` run.
    fn diagnostics(&self) -> Vec<(String, String, String)> {
        self.json()["diagnostics"]
            .as_array()
            .expect("a diagnostics list")
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap_or_default().to_owned(),
                    d["file"].as_str().unwrap_or_default().to_owned(),
                    d["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    fn codes(&self) -> Vec<String> {
        self.diagnostics().into_iter().map(|(c, _, _)| c).collect()
    }
}

/// Runs `cmd` on a repository and kills it when it has not finished within the bound, failing
/// the test; a repository's problems are findings, so it must exit with 0 or 1.
fn bounded(cmd: Command) -> Run {
    let run = bounded_any_exit(cmd);
    assert!(
        matches!(run.code, 0 | 1),
        "exit {} (only 0 and 1 are allowed for a repository)\n{}",
        run.code,
        run.stderr
    );
    run
}

/// Runs `cmd` and kills it when it has not finished within the bound, failing the test.
fn bounded_any_exit(mut cmd: Command) -> Run {
    let out = tempfile::tempdir().expect("create a temporary directory");
    let stdout = out.path().join("stdout");
    let stderr = out.path().join("stderr");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("run infra-check");
    // Generous: a debug build on a shared machine; this catches hangs, it measures nothing.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for infra-check") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "infra-check did not finish within the bound: {cmd:?}\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run {
        code: status.code().expect("exited normally, not by a signal"),
        stdout: String::from_utf8_lossy(&std::fs::read(&stdout).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&stderr).unwrap()).into_owned(),
    };
    run
}

fn check(root: &Path, format: &str) -> Run {
    let mut cmd = common::command();
    cmd.args(["check", "--format", format]).arg(root);
    bounded(cmd)
}

fn mkfifo(path: &Path) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn link(target: &str, at: &Path) {
    if let Some(parent) = at.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::os::unix::fs::symlink(target, at).expect("create a link");
}

#[test]
fn a_pipe_at_any_path_infra_check_reads_is_reported_instead_of_waited_on() {
    for rel in [
        "modules/x.nix",
        "flake.lock",
        "inventory.json",
        "infra-check.toml",
        "vars/per-machine/a/gen/file/secret",
        "vars/per-machine/a/gen/.validation-hash",
        "machines/a/configuration.nix",
        "catalog.json",
        ".gitignore",
        "modules/.gitignore",
    ] {
        let dir = fleet();
        if rel == "catalog.json" {
            write(
                dir.path(),
                "infra-check.toml",
                "catalogs = [\"catalog.json\"]\n",
            );
        }
        mkfifo(&dir.path().join(rel));
        let run = check(dir.path(), "json");
        let diags = run.diagnostics();
        assert!(
            diags
                .iter()
                .any(|(code, _, message)| code == "workspace/unreadable"
                    && message.starts_with(&format!("`{rel}` is a named pipe (FIFO)"))),
            "{rel}: {diags:?}"
        );
        // Nothing is made up about what the pipe could have held.
        assert!(
            !diags.iter().any(|(c, _, _)| c == "module/undefined"),
            "{rel}: {diags:?}"
        );
    }
}

#[test]
fn devices_and_files_outside_the_repository_are_not_read_through_links() {
    let dir = fleet();
    link("/dev/zero", &dir.path().join("modules/zero.nix"));
    link("/dev/zero", &dir.path().join("flake.lock"));
    link("/dev/zero", &dir.path().join("zero.json"));
    write(
        dir.path(),
        "infra-check.toml",
        "catalogs = [\"zero.json\"]\n",
    );
    let run = check(dir.path(), "json");
    let diags = run.diagnostics();
    for rel in ["modules/zero.nix", "flake.lock", "zero.json"] {
        assert!(
            diags
                .iter()
                .any(|(code, _, message)| code == "workspace/unreadable"
                    && message.starts_with(&format!(
                        "`{rel}` is a symbolic link that leads outside the repository"
                    ))),
            "{rel}: {diags:?}"
        );
    }
    // The catalog is reported where infra-check.toml names it.
    assert!(
        diags
            .iter()
            .any(|(_, file, message)| file == "infra-check.toml" && message.contains("zero.json")),
        "{diags:?}"
    );
}

#[test]
fn nothing_read_from_outside_the_repository_or_from_a_secret_is_ever_printed() {
    let outside = tempfile::tempdir().unwrap();
    let marker = format!("INFRA-CHECK-LEAK-CANARY-{}", std::process::id());
    let leaked = outside.path().join("passwd");
    std::fs::write(&leaked, format!("{marker}:x:0:0:{marker}:/root:/bin/sh\n")).unwrap();
    let dir = fleet();
    let target = path_str(&leaked);
    for rel in ["outside.json", "inventory.json", "modules/outside.nix"] {
        link(target, &dir.path().join(rel));
    }
    // A plaintext secret inside the repository, named as a catalog and linked to as one.
    write(dir.path(), "vars/shared/g/f/secret", &format!("{marker}\n"));
    link(
        "vars/shared/g/f/secret",
        &dir.path().join("secret-link.json"),
    );
    // A catalog of the wrong shape whose values are the marker: serde would quote them.
    write(
        dir.path(),
        "shape.json",
        &format!("{{\"format\": \"{marker}\", \"class\": \"{marker}\", \"options\": {{}}}}\n"),
    );
    write(
        dir.path(),
        "infra-check.toml",
        "catalogs = [\"outside.json\", \"vars/shared/g/f/secret\", \"secret-link.json\", \"shape.json\"]\n",
    );
    for format in ["human", "json", "sarif", "github"] {
        let run = check(dir.path(), format);
        assert!(
            !run.stdout.contains(&marker) && !run.stderr.contains(&marker),
            "{format} printed what it read:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    let diags = check(dir.path(), "json").diagnostics();
    for (rel, says) in [
        (
            "outside.json",
            "is a symbolic link that leads outside the repository",
        ),
        (
            "inventory.json",
            "is a symbolic link that leads outside the repository",
        ),
        (
            "modules/outside.nix",
            "is a symbolic link that leads outside the repository",
        ),
        (
            "secret-link.json",
            "is a symbolic link to `vars/shared/g/f/secret`",
        ),
    ] {
        assert!(
            diags
                .iter()
                .any(|(code, _, m)| code == "workspace/unreadable"
                    && m.starts_with(&format!("`{rel}` {says}"))),
            "{rel}: {diags:?}"
        );
    }
    assert!(
        diags.iter().any(|(code, file, m)| code == "config/invalid"
            && file == "infra-check.toml"
            && m.contains("`vars/shared/g/f/secret` named in infra-check.toml is a vars secret")),
        "{diags:?}"
    );
    assert!(
        diags.iter().any(|(code, file, m)| code == "config/invalid"
            && file == "shape.json"
            && m.contains("has a value of the wrong type or shape (line 1, column")),
        "{diags:?}"
    );
    // The human format gives a data file's line and column, not its lines.
    let human = check(dir.path(), "human").stdout;
    assert!(human.contains("--> shape.json:1:"), "{human}");
    assert!(!human.contains("\"format\""), "{human}");
}

#[test]
fn a_module_linked_from_inside_the_repository_is_read() {
    let dir = fleet();
    std::fs::remove_file(dir.path().join("modules/base.nix")).unwrap();
    // Nix evaluates a linked file where it really is: `./part.nix` is `shared/part.nix`.
    write(
        dir.path(),
        "shared/base.nix",
        "{ imports = [ ./part.nix ]; flake.modules.nixos.base = { }; }\n",
    );
    write(dir.path(), "shared/part.nix", "{ }\n");
    link(
        "../../shared/base.nix",
        &dir.path().join("modules/deep/base.nix"),
    );
    let run = check(dir.path(), "json");
    assert_eq!(run.codes(), Vec::<String>::new(), "{}", run.stdout);
    assert_eq!(run.code, 0);
}

#[test]
fn a_file_too_large_to_analyse_is_reported_and_what_it_defines_is_unknown() {
    let dir = fleet();
    std::fs::remove_file(dir.path().join("modules/base.nix")).unwrap();
    // Sparse: 9 MiB on paper, nothing on disk.
    let huge = std::fs::File::create(dir.path().join("modules/base.nix")).unwrap();
    huge.set_len(9 << 20).unwrap();
    let run = check(dir.path(), "json");
    assert_eq!(
        run.diagnostics(),
        vec![(
            "workspace/too-large".to_owned(),
            "modules/base.nix".to_owned(),
            "`modules/base.nix` is 9 MiB, more than the 8 MiB infra-check analyses in one file, so infra-check did not read it; what it could define is treated as unknown. Split it into smaller files.".to_owned()
        )]
    );
    assert_eq!(run.code, 0, "a warning does not fail the run");
}

#[test]
fn a_file_name_that_is_not_utf8_is_reported_and_the_rest_is_analysed() {
    use std::os::unix::ffi::OsStrExt;
    let dir = fleet();
    std::fs::remove_file(dir.path().join("modules/base.nix")).unwrap();
    std::fs::write(
        dir.path()
            .join(std::ffi::OsStr::from_bytes(b"modules/b\xe4se.nix")),
        BASE,
    )
    .unwrap();
    write(dir.path(), "modules/broken.nix", "{ a = ; }\n");
    let run = check(dir.path(), "json");
    let diags = run.diagnostics();
    assert!(
        diags
            .iter()
            .any(|(code, file, m)| code == "workspace/unreadable"
                && file == "flake.nix"
                && m.starts_with(
                    "The name of the file `modules/b\u{fffd}se.nix` is not valid UTF-8"
                )),
        "{diags:?}"
    );
    // The rest is checked; the module the odd name may define is not reported missing.
    assert!(
        diags.iter().any(|(c, _, _)| c == "syntax/parse-error"),
        "{diags:?}"
    );
    assert!(
        !diags.iter().any(|(c, _, _)| c == "module/undefined"),
        "{diags:?}"
    );
    assert_eq!(run.code, 1);
}

/// Runs the check as a user for whom file permissions hold: as root they do not, so the run is
/// made as `nobody` through `setpriv`. `None` when that is not possible here.
fn check_as_unprivileged(root: &Path) -> Option<Run> {
    let mut cmd = if is_root() {
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
            .into_iter()
            .find(|p| Path::new(p).exists())?;
        // The temporary directory is private to root; nobody must be able to enter it.
        let mut p = root.to_path_buf();
        while p.pop() {
            if p.starts_with(std::env::temp_dir()) && p != std::env::temp_dir() {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755));
            }
        }
        let mut cmd = Command::new(setpriv);
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_infra-check"));
        cmd
    } else {
        common::command()
    };
    cmd.args(["check", "--format", "json"]).arg(root);
    Some(bounded(cmd))
}

/// Says why a test of `what` permissions was skipped (failing when tools are required).
fn skip_permissions(what: &str) {
    let message =
        format!("skipped: running as root without setpriv, so {what} permissions cannot be tested");
    assert!(
        std::env::var("INFRA_CHECK_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "{message}, and INFRA_CHECK_REQUIRE_TOOLS=1 requires it"
    );
    eprintln!("{message}");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn a_directory_that_cannot_be_listed_is_reported_and_its_modules_are_unknown() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fleet();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_file(dir.path().join("modules/base.nix")).unwrap();
    write(dir.path(), "modules/private/base.nix", BASE);
    let private = dir.path().join("modules/private");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000)).unwrap();
    let run = check_as_unprivileged(dir.path());
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755)).unwrap();
    let Some(run) = run else {
        return skip_permissions("directory");
    };
    let diags = run.diagnostics();
    assert_eq!(
        diags,
        vec![(
            "workspace/unreadable".to_owned(),
            "flake.nix".to_owned(),
            "The directory `modules/private` could not be read (permission denied), so infra-check did not look inside it; what it could define is treated as unknown. Make it readable or remove it.".to_owned()
        )]
    );
}

/// Files are read as the walk lists them, with no look at each before the open; one that cannot
/// be opened is still reported as a look would have found it: too large before unreadable.
#[test]
fn a_file_that_cannot_be_opened_is_reported_as_unreadable_or_too_large() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fleet();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let base = dir.path().join("modules/base.nix");
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o000)).unwrap();
    let huge = dir.path().join("modules/huge.nix");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(9 << 20)
        .unwrap();
    std::fs::set_permissions(&huge, std::fs::Permissions::from_mode(0o000)).unwrap();
    let run = check_as_unprivileged(dir.path());
    for p in [&base, &huge] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let Some(run) = run else {
        return skip_permissions("file");
    };
    let diags = run.diagnostics();
    assert!(
        diags
            .iter()
            .any(|(code, file, message)| code == "workspace/unreadable"
                && file == "flake.nix"
                && message.starts_with("`modules/base.nix` could not be read (permission denied)")),
        "{diags:?}"
    );
    assert!(
        diags
            .iter()
            .any(|(code, file, message)| code == "workspace/too-large"
                && file == "modules/huge.nix"
                && message.starts_with("`modules/huge.nix` is 9 MiB")),
        "{diags:?}"
    );
}

#[test]
fn a_broken_inventory_json_or_flake_lock_is_a_finding() {
    for (rel, text) in [
        ("inventory.json", "null\n"),
        ("flake.lock", "{ \"nodes\": \n"),
    ] {
        let dir = fleet();
        write(dir.path(), rel, text);
        let run = check(dir.path(), "json");
        let diags = run.diagnostics();
        assert!(
            diags
                .iter()
                .any(|(code, file, _)| code == "workspace/invalid-data" && file == rel),
            "{rel}: {diags:?}"
        );
        assert_eq!(run.code, 1, "{rel}");
    }
}

#[test]
fn odd_trees_never_crash_or_hang() {
    let dir = fleet();
    let root = dir.path();
    // Directory link loops under modules/ and vars/, and dangling links.
    link(".", &root.join("modules/self"));
    link("../loop-b", &root.join("modules/loop-a"));
    link("../loop-a", &root.join("modules/loop-b"));
    link("../../..", &root.join("vars/per-machine/a/up"));
    link("missing", &root.join("vars/per-machine/a/gone"));
    link("nowhere.nix", &root.join("modules/dangling.nix"));
    // A directory named like a module: import-tree descends into it.
    write(
        root,
        "modules/dir.nix/default.nix",
        "{ flake.modules.nixos.dir = { }; }\n",
    );
    // NUL bytes, invalid UTF-8 and CRLF line ends.
    std::fs::write(root.join("modules/nul.nix"), b"{ a = \"\0\"; }\0\n").unwrap();
    std::fs::write(root.join("modules/latin1.nix"), b"{ b = \"caf\xe9\"; }\n").unwrap();
    std::fs::write(
        root.join("modules/crlf.nix"),
        "{ config, ... }:\r\n{\r\n  flake.modules.nixos.crlf.imports = [\r\n    config.flake.modules.nixos.dir\r\n  ];\r\n}\r\n",
    )
    .unwrap();
    let run = check(root, "json");
    let diags = run.diagnostics();
    assert!(
        !diags.iter().any(|(c, _, _)| c == "module/undefined"),
        "{diags:?}"
    );
    assert!(
        diags.iter().any(|(c, _, m)| c == "workspace/unreadable"
            && m.starts_with(
                "`modules/dangling.nix` is a symbolic link whose target does not exist"
            )),
        "{diags:?}"
    );
    for format in ["human", "sarif", "github"] {
        check(root, format);
    }
    // The root given as a file inside it.
    for file in ["flake.nix", "modules/clan.nix"] {
        let mut cmd = common::command();
        cmd.args(["check", "--format", "json"]).arg(root.join(file));
        let run = bounded(cmd);
        assert_eq!(
            run.json()["root"],
            root.canonicalize().unwrap().to_str().unwrap()
        );
    }
}

#[test]
fn a_flake_nix_that_is_a_directory_or_a_pipe_is_no_flake() {
    for (make, what) in [
        (
            (|p: &Path| std::fs::create_dir(p).unwrap()) as fn(&Path),
            "a directory",
        ),
        (|p: &Path| mkfifo(p), "a named pipe (FIFO)"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "modules/a.nix",
            "{ x = config.flake.modules.nixos.nope; }\n",
        );
        make(&dir.path().join("flake.nix"));
        let mut cmd = common::command();
        cmd.args(["check", "--format", "json"]).arg(dir.path());
        let run = bounded_any_exit(cmd);
        assert_eq!(run.code, 2, "{what}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{what}: {}", run.stdout);
        assert!(
            run.stderr.contains(&format!(
                "flake.nix` is {what}, not a regular file, so there is no flake to check"
            )),
            "{}",
            run.stderr
        );
        // The search for the root stops there rather than going on to a flake further up.
        assert!(
            !run.stderr.contains("No flake.nix was found"),
            "{}",
            run.stderr
        );
    }
}
