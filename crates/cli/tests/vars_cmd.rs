//! `infra-check vars` on a copy of the embedded example fleet: the generators each machine
//! needs and their state, and what changes when vars are deleted, unlinked or a machine key is
//! missing (exit code 1, the fix commands), plus `--machine` and its usage errors.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{code, fleet_copy, path_str, run, stderr, stdout};
use serde_json::Value;

const NIXOS: [&str; 4] = ["argon", "krypton", "radon", "xenon"];
const DARWIN: [&str; 4] = ["bismuth", "cobalt", "gallium", "indium"];

/// `vars --format json` (plus `extra`) of `dir`: exit code and the machines by name.
fn vars_json(dir: &Path, extra: &[&str]) -> (i32, BTreeMap<String, Value>) {
    let mut args = vec!["vars", path_str(dir), "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}): {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        )
    });
    assert_eq!(doc["version"], 1);
    let machines = doc["machines"]
        .as_array()
        .expect("machines is an array")
        .iter()
        .map(|m| (m["name"].as_str().unwrap().to_owned(), m.clone()))
        .collect();
    (code(&out), machines)
}

/// The generator `name` of machine `m`.
fn generator<'a>(m: &'a Value, name: &str) -> &'a Value {
    m["generators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("machine {} has no generator `{name}`: {m:#}", m["name"]))
}

fn generator_names(m: &Value) -> Vec<String> {
    m["generators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect()
}

fn file<'a>(g: &'a Value, name: &str) -> &'a Value {
    g["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("generator {} has no file `{name}`: {g:#}", g["name"]))
}

fn commands(m: &Value) -> Vec<String> {
    m["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_clean_fleet_has_every_generator_present() {
    let dir = fleet_copy();
    let (exit, machines) = vars_json(dir.path(), &[]);
    assert_eq!(exit, 0);
    let names: Vec<&str> = machines.keys().map(String::as_str).collect();
    let mut all: Vec<&str> = NIXOS.iter().chain(&DARWIN).copied().collect();
    all.sort();
    assert_eq!(names, all);

    for m in machines.values() {
        assert_eq!(m["keyMissing"], false, "{m:#}");
        assert!(commands(m).is_empty(), "{m:#}");
        for g in m["generators"].as_array().unwrap() {
            assert_eq!(g["state"], "present", "{g:#}");
            for f in g["files"].as_array().unwrap() {
                assert_eq!(f["state"], "present", "{f:#}");
            }
        }
    }

    for name in NIXOS {
        let m = &machines[name];
        let openssh = generator(m, "openssh");
        assert_eq!(openssh["shared"], false);
        assert_eq!(
            openssh["directory"],
            format!("vars/per-machine/{name}/openssh")
        );
        assert_eq!(openssh["source"]["kind"], "service");
        assert_eq!(openssh["source"]["instance"], "sshd");
        assert_eq!(openssh["source"]["role"], "server");
        let key = file(openssh, "ssh.id_ed25519");
        assert_eq!(key["secret"], true);
        assert_eq!(key["deploy"], true);
        assert_eq!(
            key["path"],
            format!("vars/per-machine/{name}/openssh/ssh.id_ed25519/secret")
        );
        assert_eq!(file(openssh, "ssh.id_ed25519.pub")["secret"], false);

        let ada = generator(m, "user-password-ada");
        assert_eq!(ada["shared"], true);
        assert_eq!(ada["directory"], "vars/shared/user-password-ada");
        assert_eq!(ada["state"], "present");

        // flake.modules.nixos.base declares it in modules/system/initrd-ssh.nix.
        let initrd = generator(m, "initrd-ssh");
        assert_eq!(initrd["source"]["kind"], "module");
        assert_eq!(initrd["source"]["owner"], "flake.modules.nixos.base");
        assert_eq!(initrd["source"]["file"], "modules/system/initrd-ssh.nix");
        assert!(initrd["source"]["line"].as_u64().is_some());

        assert!(generator_names(m).contains(&"emergency-access".to_owned()));
        assert!(!generator_names(m).contains(&"remote-builder-ssh".to_owned()));
    }
    // Only the machines of the user-rowan instance get rowan's password; only argon backs up.
    for (name, rowan) in [
        ("argon", false),
        ("krypton", false),
        ("radon", true),
        ("xenon", true),
    ] {
        let has = generator_names(&machines[name]).contains(&"user-password-rowan".to_owned());
        assert_eq!(has, rowan, "{name}");
    }
    assert_eq!(
        generator(&machines["argon"], "restic-offsite")["shared"],
        false
    );
    assert_eq!(
        generator(&machines["xenon"], "binary-cache-signing-key")["state"],
        "present"
    );

    for name in DARWIN {
        let m = &machines[name];
        let g = generator(m, "remote-builder-ssh");
        assert_eq!(g["shared"], false);
        assert_eq!(
            g["directory"],
            format!("vars/per-machine/{name}/remote-builder-ssh")
        );
        assert_eq!(g["source"]["owner"], "flake.modules.darwin.remote-builder");
        assert_eq!(file(g, "id_ed25519")["secret"], true);
        assert_eq!(file(g, "id_ed25519.pub")["secret"], false);
        // sshd and the user services are NixOS-only.
        assert_eq!(generator_names(m), vec!["remote-builder-ssh".to_owned()]);
    }
}

#[test]
fn the_clean_fleet_table() {
    let dir = fleet_copy();
    let out = run(&["vars", path_str(dir.path())]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    let text = stdout(&out);
    for name in NIXOS.iter().chain(&DARWIN) {
        assert!(
            text.lines().any(|l| l == *name),
            "no header line for {name}:\n{text}"
        );
    }
    assert!(text.contains("  GENERATOR"), "{text}");
    assert!(!text.contains("fix:"), "{text}");
    let summary = text.lines().last().unwrap();
    assert!(summary.starts_with("8 machines, "), "{summary}");
    assert!(!summary.contains("clan vars generate"), "{summary}");
}

#[test]
fn a_deleted_generator_is_missing_and_fails() {
    let dir = fleet_copy();
    std::fs::remove_dir_all(dir.path().join("vars/per-machine/argon/initrd-ssh")).unwrap();

    let (exit, machines) = vars_json(dir.path(), &[]);
    assert_eq!(exit, 1);
    let argon = &machines["argon"];
    let g = generator(argon, "initrd-ssh");
    assert_eq!(g["state"], "missing");
    assert_eq!(g["files"], serde_json::json!([]));
    assert!(commands(argon).contains(&"clan vars generate argon".to_owned()));
    for (name, m) in &machines {
        if name != "argon" {
            assert!(commands(m).is_empty(), "{m:#}");
        }
    }

    let (exit, only) = vars_json(dir.path(), &["--machine", "argon"]);
    assert_eq!(exit, 1);
    assert_eq!(only.keys().collect::<Vec<_>>(), vec!["argon"]);

    let out = run(&["vars", path_str(dir.path())]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.lines().any(|l| l == "  fix: clan vars generate argon"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("initrd-ssh") && l.contains("missing")),
        "{text}"
    );
    assert!(text.contains("1 needs `clan vars generate`"), "{text}");

    // Another machine alone is still fine.
    let (exit, _) = vars_json(dir.path(), &["--machine", "krypton"]);
    assert_eq!(exit, 0);
}

#[test]
fn an_unknown_machine_is_a_usage_error_with_a_suggestion() {
    let dir = fleet_copy();
    let out = run(&["vars", path_str(dir.path()), "--machine", "argn"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains("`argon`"), "{}", stderr(&out));

    let out = run(&["vars", path_str(dir.path()), "--machine", "nothing-like-it"]);
    assert_eq!(code(&out), 2);
    assert!(!stderr(&out).contains("Did you mean"), "{}", stderr(&out));
}

#[test]
fn a_secret_not_encrypted_for_its_machine_is_not_deployed() {
    let dir = fleet_copy();
    std::fs::remove_file(
        dir.path()
            .join("vars/per-machine/krypton/openssh/ssh.id_ed25519/machines/krypton"),
    )
    .unwrap();
    let (exit, machines) = vars_json(dir.path(), &["--machine", "krypton"]);
    assert_eq!(exit, 1);
    let g = generator(&machines["krypton"], "openssh");
    assert_eq!(g["state"], "incomplete");
    let f = file(g, "ssh.id_ed25519");
    assert_eq!(f["state"], "not deployed");
    assert_eq!(
        f["path"],
        "vars/per-machine/krypton/openssh/ssh.id_ed25519/machines/krypton"
    );
    // A per-machine secret gains a recipient through `clan vars fix` (`clan vars generate`
    // re-encrypts only shared secrets).
    assert_eq!(
        commands(&machines["krypton"]),
        vec!["clan vars fix krypton"]
    );
    assert_eq!(f["neededFor"], "services");

    let out = run(&["vars", path_str(dir.path()), "--machine", "krypton"]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.contains("ssh.id_ed25519 ") && l.contains("not deployed")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_missing_machine_key_fails_with_the_command_to_add_it() {
    let dir = fleet_copy();
    std::fs::remove_dir_all(dir.path().join("sops/machines/radon")).unwrap();
    let (exit, machines) = vars_json(dir.path(), &[]);
    assert_eq!(exit, 1);
    assert_eq!(machines["radon"]["keyMissing"], true);
    assert_eq!(
        commands(&machines["radon"]),
        vec!["clan secrets machines add radon <age-public-key>"]
    );
    assert_eq!(machines["argon"]["keyMissing"], false);

    let out = run(&["vars", path_str(dir.path()), "--machine", "radon"]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l == "  fix: clan secrets machines add radon <age-public-key>"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn incomplete_machines_get_a_note() {
    // Every machine of the fleet imports modules from flake inputs (srvos, home-manager) that
    // infra-check cannot read, so none of their lists is known to be complete.
    let dir = fleet_copy();
    let (_, machines) = vars_json(dir.path(), &[]);
    let out = run(&["vars", path_str(dir.path())]);
    let text = stdout(&out);
    for (name, m) in &machines {
        let note = format!(
            "  note: some generators of {name} come from modules infra-check cannot read; the \
list may be incomplete"
        );
        let complete = m["complete"].as_bool().unwrap();
        assert_eq!(
            text.lines().any(|l| l == note),
            !complete,
            "{name}:\n{text}"
        );
    }
}

#[test]
fn help_documents_the_exit_codes() {
    let out = run(&["vars", "--help"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(text.contains("Exit codes:"), "{text}");
    assert!(text.contains("clan vars generate"), "{text}");
    assert!(text.contains("--machine"), "{text}");
}

#[test]
fn a_path_without_a_flake_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["vars", path_str(dir.path())]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("flake.nix"), "{}", stderr(&out));
}

#[test]
fn a_machine_whose_class_is_unknown_is_listed_once_as_incomplete() {
    let dir = common::repo(&[(
        "modules/clan.nix",
        r#"{ inputs, ... }:
{
  clan.inventory.machines.web-1 = { };
  clan.inventory.machines.mac = { machineClass = inputs.self.lib.classOf "mac"; };
}
"#,
    )]);
    common::write(
        dir.path(),
        "flake.nix",
        "{ inputs.flake-parts.url = \"github:hercules-ci/flake-parts\";\n  inputs.import-tree.url = \"github:vic/import-tree\";\n  inputs.clan-core.url = \"github:clan-lol/clan-core\";\n  outputs = inputs@{ flake-parts, ... }: flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);\n}\n",
    );
    let out = run(&["vars", path_str(dir.path()), "--format", "json"]);
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("vars prints JSON");
    let names: Vec<&str> = doc["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mac", "web-1"], "stderr: {}", stderr(&out));
    let mac = &doc["machines"][0];
    assert_eq!(mac["complete"], false);
    assert_eq!(mac["generators"], serde_json::json!([]));
}
