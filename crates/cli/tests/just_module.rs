//! `infra-check just`: the module it prints is the one examples/fleet commits, real `just`
//! accepts it as `mod infra`, and its recipes run infra-check with every argument as one word.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{code, fleet_copy, fleet_src, have_just, run, stderr, stdout};

/// `just` in `dir` with the debug binary's directory first on PATH.
fn just(dir: &Path, args: &[&str]) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_infra-check"))
        .parent()
        .unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    Command::new("just")
        .current_dir(dir)
        .args(args)
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env_remove("NO_COLOR")
        .output()
        .expect("run just")
}

#[test]
fn the_example_fleet_commits_the_module_infra_check_prints() {
    let out = run(&["just"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let committed = std::fs::read_to_string(fleet_src().join("infra.just")).unwrap();
    assert_eq!(
        stdout(&out),
        committed,
        "examples/fleet/infra.just is out of date: run `infra-check just --output examples/fleet/infra.just`"
    );
    let justfile = std::fs::read_to_string(fleet_src().join("justfile")).unwrap();
    assert!(justfile.lines().any(|l| l == "mod infra"), "{justfile}");
}

#[test]
fn just_lists_the_module_recipes_under_infra() {
    if !have_just("just_lists_the_module_recipes_under_infra") {
        return;
    }
    let fleet = fleet_copy();
    let out = just(fleet.path(), &["--list", "--list-submodules"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let listing = stdout(&out);
    let infra = listing
        .split("infra:")
        .nth(1)
        .unwrap_or_else(|| panic!("no infra module: {listing}"));
    for recipe in [
        "check *args",
        "plan *args",
        "deploy *machines",
        "build *machines",
        "rollback machine",
    ] {
        assert!(infra.contains(recipe), "`{recipe}` missing: {listing}");
    }
    // The module's recipes are `infra::…`; the fleet's own `deploy` stays top-level.
    let dump = just(fleet.path(), &["--dump", "--dump-format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&dump.stdout).unwrap();
    assert_eq!(
        json["modules"]["infra"]["recipes"]["deploy"]["namepath"],
        "infra::deploy"
    );
    assert!(json["recipes"]["deploy"].is_object());
}

#[test]
fn just_infra_check_runs_infra_check_in_the_root() {
    if !have_just("just_infra_check_runs_infra_check_in_the_root") {
        return;
    }
    let fleet = fleet_copy();
    let out = just(fleet.path(), &["infra", "check"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("No problems found in"),
        "{}",
        stdout(&out)
    );
    // From a subdirectory too: the recipes change to the repository root.
    let out = just(
        &fleet.path().join("modules"),
        &["infra", "check", "--deny-warnings"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Arguments are passed through: a finding fails the check.
    common::write(
        fleet.path(),
        "modules/broken.nix",
        "{ flake.modules.nixos.x = { imports = [ ./missing.nix ]; }; }\n",
    );
    let out = just(fleet.path(), &["infra", "check", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["diagnostics"]
        .as_array()
        .is_some_and(|d| !d.is_empty()));
}

#[test]
fn arguments_reach_infra_check_as_one_word_and_no_shell_runs_them() {
    if !have_just("arguments_reach_infra_check_as_one_word_and_no_shell_runs_them") {
        return;
    }
    let fleet = fleet_copy();
    for arg in [
        "a;b",
        "a;touch pwned",
        "$(touch pwned)",
        "`touch pwned`",
        "a b",
        "x\ntouch pwned",
    ] {
        let out = just(fleet.path(), &["infra", "check", arg]);
        assert_eq!(code(&out), 2, "{arg}: {}", stderr(&out));
        let err = stderr(&out);
        let expected = format!(
            "The path `{}` does not exist.",
            fleet.path().canonicalize().unwrap().join(arg).display()
        );
        assert!(err.contains(&expected), "{arg}: {err}");
        assert!(!fleet.path().join("pwned").exists(), "{arg} ran in a shell");
    }
}

#[test]
fn output_writes_the_module_and_never_over_a_file_of_someone_else() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("infra.just");
    let file_arg = file.to_str().unwrap();
    let printed = stdout(&run(&["just"]));

    let out = run(&["just", "--output", file_arg]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), printed);
    // Its own file (the header first) is replaced.
    std::fs::write(
        &file,
        format!("{}\nold recipes\n", printed.lines().next().unwrap()),
    )
    .unwrap();
    let out = run(&["just", "--output", file_arg]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), printed);

    // Someone else's is left alone.
    std::fs::write(&file, "deploy:\n    echo mine\n").unwrap();
    let out = run(&["just", "--output", file_arg]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("exists and was not written by `infra-check just`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "deploy:\n    echo mine\n"
    );
    // So is a directory.
    let out = run(&["just", "--output", dir.path().to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["infra.just"]);
}
