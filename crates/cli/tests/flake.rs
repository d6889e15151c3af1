//! The root flake: its outputs have the shape `nix profile install`, `nix run`, `nix develop`
//! and `nix flake check` expect, and `flakeModules.default` is nix/flake-module.nix. Nixpkgs
//! cannot be fetched offline, so `flake/outputs.nix` evaluates the flake's `outputs` function
//! with the real Nix against stand-ins for nixpkgs' `lib` and `callPackage`, `mkShell`,
//! `runCommand`. And the repository checks clean, as the flake's `repository` check runs it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .canonicalize()
        .expect("the repository root exists")
}

/// Is `nix-instantiate` (Debian nix-bin) installed? Skips (or, with
/// INFRA_CHECK_REQUIRE_TOOLS=1, fails).
fn have_nix_instantiate(test: &str) -> bool {
    let found = common::have_tool("nix-instantiate");
    if !found {
        eprintln!("skipped: {test} needs nix-instantiate (Debian package nix-bin)");
    }
    found
}

/// The flake's outputs and the flake-parts module, as data (see `flake/outputs.nix`).
fn flake_outputs() -> Value {
    let out = Command::new("nix-instantiate")
        // Nothing is built or copied: `--readonly-mode` only computes store paths.
        .args(["--readonly-mode", "--eval", "--strict", "--json"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/flake/outputs.nix"))
        .arg("--argstr")
        .arg("repo")
        .arg(repo())
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the flake's outputs do not evaluate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("nix-instantiate --json prints JSON")
}

fn workspace_version() -> String {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&manifest).unwrap();
    manifest["workspace"]["package"]["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

const SYSTEMS: [&str; 4] = [
    "x86_64-linux",
    "aarch64-linux",
    "x86_64-darwin",
    "aarch64-darwin",
];

#[test]
fn the_flake_has_a_package_app_shell_and_checks_for_every_system() {
    let test = "the_flake_has_a_package_app_shell_and_checks_for_every_system";
    if !have_nix_instantiate(test) {
        return;
    }
    let flake = flake_outputs();
    assert_eq!(
        flake["inputs"],
        json!({ "nixpkgs": "github:NixOS/nixpkgs/nixos-unstable" })
    );
    assert_eq!(
        flake["outputs"],
        json!(["apps", "checks", "devShells", "flakeModules", "packages"])
    );
    let version = workspace_version();
    for system in SYSTEMS {
        let package = &flake["packages"][system]["default"];
        assert_eq!(package["pname"], "infra-check", "{system}: {package}");
        assert_eq!(package["version"], version.as_str(), "{system}");
        assert_eq!(package["mainProgram"], "infra-check", "{system}");
        // The binary's crate, built from this checkout with its lock file.
        assert_eq!(
            package["cargoBuildFlags"],
            json!(["--package", "infra-check"])
        );
        assert_eq!(package["srcIsRepo"], true, "{system}");
        assert_eq!(package["cargoLockIsRepos"], true, "{system}");
        assert_eq!(flake["packages"][system]["infra-check"], *package);

        let app = &flake["apps"][system]["default"];
        assert_eq!(app["type"], "app", "{system}");
        let program = format!("{}/bin/infra-check", package["out"].as_str().unwrap());
        assert_eq!(app["program"], program.as_str(), "{system}");

        let shell: Vec<&str> = flake["devShells"][system]["default"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        // The toolchain, and every tool the test suite drives.
        for tool in [
            "cargo",
            "rustc",
            "clippy",
            "rustfmt",
            "nix",
            "neovim",
            "emacs-nox",
            "graphviz",
            "direnv",
            "just",
            "nodejs",
        ] {
            assert!(
                shell.contains(&tool),
                "{system}: the dev shell lacks {tool}"
            );
        }

        let checks = &flake["checks"][system];
        assert_eq!(checks["package"]["name"], format!("infra-check-{version}"));
        let fleet = checks["example-fleet"]["script"].as_str().unwrap();
        assert!(
            fleet.starts_with(&format!("{program} check /nix/store/"))
                && fleet.contains("-fleet --deny-warnings\n"),
            "{system}: {fleet}"
        );
        let own = checks["repository"]["script"].as_str().unwrap();
        let expected = format!("{program} check {} --deny-warnings\n", repo().display());
        assert!(own.starts_with(&expected), "{system}: {own}");
    }
}

#[test]
fn the_flake_re_exports_the_flake_parts_module() {
    if !have_nix_instantiate("the_flake_re_exports_the_flake_parts_module") {
        return;
    }
    let module = flake_outputs()["flakeModule"].clone();
    assert_eq!(module["type"], "path");
    assert_eq!(module["isRepoFile"], true);
    assert_eq!(module["topLevel"], json!(["perSystem"]));
    assert_eq!(module["packages"]["infra-check"]["pname"], "infra-check");
    assert_eq!(
        module["packages"]["infra-check"]["version"],
        workspace_version().as_str()
    );
    // The check runs the package on the importing flake's own source.
    assert_eq!(
        module["checks"]["infra-check"]["script"],
        "infra-check check /nix/store/11111111111111111111111111111111-source --deny-warnings --format human\ntouch $out\n"
    );
}

/// What `checks.<system>.repository` runs: infra-check on its own repository, whose root is
/// the flake at the top (the fixtures, broken on purpose and each a repository of its own, are
/// excluded by its infra-check.toml). Run with no PATH from a subdirectory, as
/// `infra-check check` is typed in a checkout.
#[test]
fn the_repository_checks_clean_with_its_own_flake_at_the_root() {
    let out = common::run_in(&repo().join("crates/cli"), &["check", "--deny-warnings"]);
    let text = format!("{}{}", common::stdout(&out), common::stderr(&out));
    assert_eq!(common::code(&out), 0, "{text}");
    assert!(text.starts_with("No problems found in "), "{text}");
}

/// The README's Install section, from `## Install` to the next `## ` heading.
fn readme_install() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("\n## Install\n")
        .expect("README has an Install section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 4);
    rest[..end].to_owned()
}

/// The README begins with the two commands (the example, the test suite) and then says how to
/// install; the commands it gives name this repository and its binary crate.
#[test]
fn the_readme_installs_from_this_repository() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut lines = readme.lines().skip_while(|l| *l != "```sh").skip(1);
    assert!(lines
        .next()
        .unwrap()
        .starts_with("cargo run --release -p infra-check -- check examples/fleet"));
    assert!(lines.next().unwrap().starts_with("cargo test --workspace"));
    let first_section = readme.lines().find(|l| l.starts_with("## "));
    assert_eq!(first_section, Some("## Install"));

    let install = readme_install();
    assert!(install.contains("cargo install --locked --path crates/cli"));
    let cli: toml::Table =
        toml::from_str(&std::fs::read_to_string(repo().join("crates/cli/Cargo.toml")).unwrap())
            .unwrap();
    assert_eq!(cli["bin"][0]["name"].as_str(), Some("infra-check"));

    let workspace: toml::Table =
        toml::from_str(&std::fs::read_to_string(repo().join("Cargo.toml")).unwrap()).unwrap();
    let url = format!(
        "git+{}",
        workspace["workspace"]["package"]["repository"]
            .as_str()
            .unwrap()
    );
    let mut references = 0;
    for prefix in ["nix profile install ", "nix run ", "infra-check.url = \""] {
        for (at, _) in install.match_indices(prefix) {
            let reference: String = install[at + prefix.len()..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '`')
                .collect();
            assert!(
                reference == url || reference == ".",
                "the README installs from `{reference}`, not from this repository ({url})"
            );
            references += 1;
        }
    }
    assert!(references >= 4, "{install}");
}

/// The Nix snippets of the Install section parse.
#[test]
fn the_readme_nix_snippets_parse() {
    if !have_nix_instantiate("the_readme_nix_snippets_parse") {
        return;
    }
    let install = readme_install();
    let blocks: Vec<&str> = install
        .split("```nix\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2, "{install}");
    // The first block is two fragments, a line of flake.nix and a module; each must parse.
    let (inputs, module) = blocks[0]
        .split_once("\n\n")
        .expect("a blank line between the flake input and the module");
    let texts = [
        format!("{{\n{inputs}\n}}\n"),
        module.to_owned(),
        blocks[1].to_owned(),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (n, text) in texts.iter().enumerate() {
        let file = dir.path().join(format!("snippet-{n}.nix"));
        std::fs::write(&file, text).unwrap();
        let out = Command::new("nix-instantiate")
            .arg("--parse")
            .arg(&file)
            .env("HOME", std::env::temp_dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
