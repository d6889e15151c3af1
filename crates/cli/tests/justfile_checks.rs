//! The justfile checks of `infra-check check`, with the real `just` reading the justfile
//! (skipped when `just` is not installed; a failure when INFRA_CHECK_REQUIRE_TOOLS=1).

mod common;

use std::path::Path;

use common::{code, fleet_copy, fleet_src, have_just, stderr, write};

/// Two NixOS machines and one nix-darwin machine.
const FLAKE: &str = fleetgen::FLAKE_NIX;
const CLAN: &str = r#"{ lib, ... }:
{
  clan.inventory.machines = {
    argon = { };
    krypton = { };
    cobalt = { machineClass = "darwin"; };
  };
  clan.machines = lib.genAttrs [ "argon" "krypton" "cobalt" ] (_: { });
}
"#;

const JUSTFILE: &str = r#"servers := "argon neon"

# Build one machine that does not exist
build-one:
    nix build '.#nixosConfigurations.kryptn.config.system.build.toplevel'

deploy-servers:
    clan machines update --build-host local {{servers}}

# Builds two of the three machines
build-all:
    nix build --no-link \
      .#nixosConfigurations.argon.config.system.build.toplevel \
      .#darwinConfigurations.cobalt.system

[group('build')]
build-both:
    nix build .#nixosConfigurations.argon.config.system.build.toplevel .#nixosConfigurations.krypton.config.system.build.toplevel

build-machine machine:
    nix build .#nixosConfigurations.{{machine}}.config.system.build.toplevel
    clan machines update "$1" {{machine}}
"#;

fn clan_repo(justfile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "flake.nix", FLAKE);
    write(dir.path(), "modules/clan.nix", CLAN);
    write(dir.path(), "justfile", justfile);
    dir
}

/// `(code, file, line, message)` of every finding, from the JSON output, and the exit code.
fn findings(root: &Path, path: Option<&str>) -> (i32, Vec<Finding>) {
    let mut cmd = common::command();
    cmd.args(["check", "--format", "json"]).arg(root);
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    let out = cmd.output().unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let list = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["file"].as_str().unwrap().to_owned(),
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (code(&out), list)
}

type Finding = (String, String, u64, String);

/// `(code, file, line)` of each finding.
fn short(found: &[Finding]) -> Vec<(&str, &str, u64)> {
    found
        .iter()
        .map(|(c, f, l, _)| (c.as_str(), f.as_str(), *l))
        .collect()
}

#[test]
fn missing_machines_and_a_partial_listing_are_reported_at_their_recipes() {
    if !have_just("missing_machines_and_a_partial_listing_are_reported_at_their_recipes") {
        return;
    }
    let repo = clan_repo(JUSTFILE);
    let (exit, found) = findings(repo.path(), None);
    // Warnings and infos do not fail the check.
    assert_eq!(exit, 0, "{found:#?}");
    assert_eq!(
        short(&found),
        [
            ("just/unknown-machine", "justfile", 4),
            ("just/unknown-machine", "justfile", 7),
            ("just/incomplete-coverage", "justfile", 11),
        ],
        "{found:#?}"
    );
    assert!(
        found[0]
            .3
            .contains("`kryptn` is not a machine of this clan")
            && found[0].3.contains("Did you mean `krypton`?"),
        "{found:#?}"
    );
    assert!(
        found[1].3.contains("runs `clan machines update neon`"),
        "{found:#?}"
    );
    assert_eq!(
        found[2].3,
        "Recipe `build-all` lists 1 of the clan's 2 NixOS machines and leaves out `krypton`."
    );
}

#[test]
fn every_format_carries_them_and_the_human_one_does_not_quote_the_justfile() {
    if !have_just("every_format_carries_them_and_the_human_one_does_not_quote_the_justfile") {
        return;
    }
    let repo = clan_repo(JUSTFILE);
    let root = repo.path().to_str().unwrap();
    let human = common::run(&["check", root]);
    let text = common::stdout(&human);
    assert!(text.contains("warning[just/unknown-machine]"), "{text}");
    assert!(text.contains("--> justfile:4:1"), "{text}");
    assert!(
        !text.contains("nix build"),
        "the justfile is pointed at, not quoted: {text}"
    );
    let denied = common::run(&["check", root, "--deny-warnings"]);
    assert_eq!(code(&denied), 1);
    let sarif = common::stdout(&common::run(&["check", root, "--format", "sarif"]));
    assert!(
        sarif.contains("just/incomplete-coverage") && sarif.contains("\"justfile\""),
        "{sarif}"
    );
    let github = common::stdout(&common::run(&["check", root, "--format", "github"]));
    assert!(
        github.contains("::warning file=justfile,line=4"),
        "{github}"
    );
}

#[test]
fn the_example_fleet_is_clean_including_its_justfile() {
    if !have_just("the_example_fleet_is_clean_including_its_justfile") {
        return;
    }
    let (exit, found) = findings(&fleet_src(), None);
    assert_eq!((exit, found), (0, vec![]));
    // Its build-all lists all eight machines: one left out is caught.
    let copy = fleet_copy();
    let justfile = std::fs::read_to_string(copy.path().join("justfile")).unwrap();
    let broken = justfile
        .replace("      .#darwinConfigurations.bismuth.system\n", "")
        .replace(
            ".#darwinConfigurations.gallium.system \\",
            ".#darwinConfigurations.gallium.system",
        );
    assert_ne!(broken, justfile);
    std::fs::write(copy.path().join("justfile"), broken).unwrap();
    let (_, found) = findings(copy.path(), None);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].3,
        "Recipe `build-all` lists 3 of the clan's 4 nix-darwin machines and leaves out `bismuth`."
    );
}

#[test]
fn computed_names_are_silent() {
    if !have_just("computed_names_are_silent") {
        return;
    }
    let repo = clan_repo(
        r#"hosts := `echo neon`
deploy machine:
    clan machines update {{machine}}
deploy-hosts:
    clan machines update {{hosts}}
build *names:
    for n in {{names}}; do nix build ".#nixosConfigurations.$n.config.system.build.toplevel"; done
build-env:
    nix build .#nixosConfigurations.{{env('HOST', 'neon')}}.config.system.build.toplevel
"#,
    );
    assert_eq!(findings(repo.path(), None), (0, vec![]));
}

#[test]
fn without_just_nothing_is_said() {
    if !have_just("without_just_nothing_is_said") {
        return;
    }
    let repo = clan_repo(JUSTFILE);
    // A PATH with no `just` on it (an empty directory).
    let empty = tempfile::tempdir().unwrap();
    let (exit, found) = findings(repo.path(), Some(empty.path().to_str().unwrap()));
    assert_eq!((exit, found), (0, vec![]));
}

#[test]
fn a_justfile_just_rejects_is_named_in_one_warning() {
    if !have_just("a_justfile_just_rejects_is_named_in_one_warning") {
        return;
    }
    let repo =
        clan_repo("build-all:\n    nix build .#nixosConfigurations.neon\n  bad indentation {{\n");
    let out = common::run(&["check", repo.path().to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: just rejected `justfile` (run `just --list` to see why), so its recipes were not checked."),
        "{err}"
    );
    // Nothing of the justfile is quoted.
    assert!(
        !err.contains("nixosConfigurations") && !err.contains("bad indentation"),
        "{err}"
    );
}

#[test]
fn recipes_of_modules_are_checked_in_their_own_file() {
    if !have_just("recipes_of_modules_are_checked_in_their_own_file") {
        return;
    }
    let repo = clan_repo("mod ops\n");
    write(
        repo.path(),
        "ops.just",
        "# Deploy\n\ndeploy-all:\n    clan machines update argon krypton cobalt neon\n",
    );
    let (_, found) = findings(repo.path(), None);
    assert_eq!(
        short(&found),
        [("just/unknown-machine", "ops.just", 3)],
        "{found:#?}"
    );
    assert!(found[0]
        .3
        .starts_with("Recipe `ops::deploy-all` runs `clan machines update neon`"));
}
