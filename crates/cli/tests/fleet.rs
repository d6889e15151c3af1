//! The embedded example must check clean, and breaking it in the ways users break real fleets
//! must be reported with the right code, file and line — and clear again once repaired.

mod common;

use std::process::Command;

use common::fleet::{backup, diagnostics, findings, restore};
use common::{copy_dir, fleet_src};

#[test]
fn the_example_fleet_checks_clean() {
    let (code, list) = findings(&fleet_src());
    assert_eq!(
        list,
        vec![],
        "examples/fleet must have no diagnostics at all"
    );
    assert_eq!(code, 0);
    let out = Command::new(env!("CARGO_BIN_EXE_infra-check"))
        .args(["check", "--deny-warnings"])
        .arg(fleet_src())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

struct Breakage {
    file: &'static str,
    find: &'static str,
    replace: &'static str,
    code: &'static str,
    /// A string on the line where the diagnostic must point (after the change).
    marker: &'static str,
}

const BREAKAGES: &[Breakage] = &[
    Breakage {
        file: "modules/machines/nixos/krypton/default.nix",
        find: "++ (with flakeModules; [",
        replace: "++ (with flakeModules; [ monitorng",
        code: "module/undefined",
        marker: "monitorng",
    },
    Breakage {
        file: "modules/machines/nixos/krypton/default.nix",
        find: "imports = [",
        replace: "imports = [ config.flake.modules.darwin.base",
        code: "module/class-mismatch",
        marker: "modules.darwin.base",
    },
    Breakage {
        file: "modules/machines/nixos/krypton/default.nix",
        find: "imports = [",
        replace: "imports = [ config.flake.modules.homeManager.shell",
        code: "module/class-mismatch",
        marker: "homeManager.shell",
    },
    Breakage {
        file: "modules/machines/nixos/krypton/default.nix",
        find: "imports = [",
        replace: "imports = [ ./hardware-configuration.nix",
        code: "module/import-not-found",
        marker: "./hardware-configuration.nix",
    },
    Breakage {
        file: "modules/machines/nixos/krypton/default.nix",
        find: "networking.hostName = \"krypton\";",
        replace: "networking.hostName = \"krypton\"",
        code: "syntax/parse-error",
        marker: "",
    },
];

#[test]
fn breaking_the_fleet_is_reported_at_the_right_place_and_fixing_it_clears_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("fleet");
    copy_dir(&fleet_src(), &root);
    for b in BREAKAGES {
        let path = root.join(b.file);
        let original = std::fs::read_to_string(&path).unwrap();
        assert!(
            original.contains(b.find),
            "{} no longer contains {:?}",
            b.file,
            b.find
        );
        let broken = original.replacen(b.find, b.replace, 1);
        std::fs::write(&path, &broken).unwrap();
        let (code, list) = findings(&root);
        let hits: Vec<_> = list.iter().filter(|(c, _, _)| c == b.code).collect();
        assert_eq!(
            hits.len(),
            1,
            "{}: expected one {} in {list:?}",
            b.replace,
            b.code
        );
        let (_, file, line) = hits[0];
        assert_eq!(file, b.file);
        if !b.marker.is_empty() {
            let expected = broken.lines().position(|l| l.contains(b.marker)).unwrap() as u64 + 1;
            assert_eq!(*line, expected, "{}: wrong line", b.replace);
        }
        assert_eq!(code, 1, "{}: errors must exit 1", b.replace);
        std::fs::write(&path, &original).unwrap();
        let (code, list) = findings(&root);
        assert_eq!(list, vec![], "after repairing {:?}", b.replace);
        assert_eq!(code, 0);
    }
}

/// A change to the fleet's inventory and the diagnostics it must produce, as
/// `(code, file, line marker)`; the line is that of the marker in the changed file.
struct InventoryBreakage {
    file: &'static str,
    find: &'static str,
    replace: &'static str,
    expect: &'static [(&'static str, &'static str)],
    /// Substrings each expected message must contain.
    mentions: &'static [&'static str],
}

const ZT: &str = "modules/clan/inventory/services/zerotier.nix";

const INVENTORY_BREAKAGES: &[InventoryBreakage] = &[
    InventoryBreakage {
        file: ZT,
        find: "roles.peer.tags.zt-peer = { };",
        replace: "roles.peer.tags.all = { };",
        // One at the tag that pulled them in, naming every darwin machine.
        expect: &[("platform/service-unsupported", "tags.all")],
        mentions: &["zerotier", "peer", "`all`"],
    },
    InventoryBreakage {
        file: ZT,
        find: "roles.controller.machines.argon = { };",
        replace:
            "roles.controller.machines.argon = { };\n    roles.controller.machines.xenon = { };",
        expect: &[("inventory/role-cardinality", "machines.xenon")],
        mentions: &["controller", "at most 1"],
    },
    InventoryBreakage {
        file: ZT,
        find: "roles.controller.machines.argon = { };",
        replace: "roles.controller.machines.argonn = { };",
        expect: &[("inventory/unknown-machine", "argonn")],
        mentions: &["did you mean `argon`?"],
    },
];

#[test]
fn inventory_mistakes_in_the_fleet_are_reported_and_clear_when_repaired() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("fleet");
    copy_dir(&fleet_src(), &root);
    for b in INVENTORY_BREAKAGES {
        let path = root.join(b.file);
        let original = std::fs::read_to_string(&path).unwrap();
        assert!(
            original.contains(b.find),
            "{} no longer contains {:?}",
            b.file,
            b.find
        );
        let broken = original.replacen(b.find, b.replace, 1);
        std::fs::write(&path, &broken).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_infra-check"))
            .args(["check", "--format", "json"])
            .arg(&root)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let diags = json["diagnostics"].as_array().unwrap();
        // Infos are consequences, not the mistake: with `argonn` as controller, argon's
        // zerotier vars become orphans.
        let got: Vec<(String, String, u64, String)> = diags
            .iter()
            .filter(|d| d["severity"] != "info")
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_owned(),
                    d["file"].as_str().unwrap().to_owned(),
                    d["range"]["start"]["line"].as_u64().unwrap(),
                    d["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(got.len(), b.expect.len(), "{}: {got:#?}", b.replace);
        for ((code, marker), (gcode, gfile, gline, gmsg)) in b.expect.iter().zip(&got) {
            let line = broken.lines().position(|l| l.contains(marker)).unwrap() as u64 + 1;
            assert_eq!(
                (gcode.as_str(), gfile.as_str(), *gline),
                (*code, b.file, line),
                "{}",
                b.replace
            );
            for m in b.mentions {
                assert!(gmsg.contains(m), "{gmsg:?} should mention {m:?}");
            }
        }
        if b.expect[0].0 == "platform/service-unsupported" {
            let text: String = got.iter().map(|g| g.3.clone()).collect();
            for darwin in ["cobalt", "indium", "gallium", "bismuth"] {
                assert!(
                    text.contains(&format!("`{darwin}`")),
                    "{darwin} not named: {text}"
                );
            }
        }
        std::fs::write(&path, &original).unwrap();
        let (code, list) = findings(&root);
        assert_eq!(list, vec![], "after repairing {:?}", b.replace);
        assert_eq!(code, 0);
    }
}

#[test]
fn vars_removed_from_the_fleet_are_reported_and_clear_when_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("fleet");
    copy_dir(&fleet_src(), &root);
    let cases: &[(&str, &str, &[&str])] = &[
        // A generated file of a built-in service's generator.
        (
            "vars/per-machine/krypton/openssh/ssh.id_ed25519.pub/value",
            "vars/missing",
            &[
                "`krypton`",
                "`ssh.id_ed25519.pub`",
                "`openssh`",
                "clan vars generate krypton",
            ],
        ),
        // A whole generator of a module every NixOS machine imports.
        (
            "vars/per-machine/argon/initrd-ssh",
            "vars/missing",
            &[
                "`argon`",
                "`initrd-ssh`",
                "vars/per-machine/argon/initrd-ssh/",
                "clan vars generate argon",
            ],
        ),
        // A shared, deployed secret no longer encrypted for one of its machines.
        (
            "vars/shared/user-password-ada/user-password-hash/machines/xenon",
            "vars/not-deployed",
            &[
                "`xenon`",
                "`user-password-ada/user-password-hash`",
                "clan vars generate xenon",
            ],
        ),
        // A machine's sops key.
        (
            "sops/machines/radon/key.json",
            "vars/machine-key-missing",
            &["`radon`", "sops/machines/radon/key.json"],
        ),
    ];
    for (rel, code, mentions) in cases {
        let saved = backup(&root, rel, tmp.path());
        let got = diagnostics(&root);
        assert_eq!(got.len(), 1, "{rel}: {got:#?}");
        assert_eq!(got[0].0, *code, "{rel}: {got:#?}");
        for m in *mentions {
            assert!(
                got[0].3.contains(m),
                "{rel}: {:?} should mention {m}",
                got[0].3
            );
        }
        restore(&root, rel, &saved);
        assert_eq!(diagnostics(&root), vec![], "after restoring {rel}");
    }

    // Vars and a key left behind by a machine that is no longer in the inventory.
    copy_dir(
        &root.join("vars/per-machine/krypton"),
        &root.join("vars/per-machine/oldbox"),
    );
    copy_dir(
        &root.join("sops/machines/krypton"),
        &root.join("sops/machines/oldbox"),
    );
    let got = diagnostics(&root);
    // No line names `oldbox`: both go to the top of flake.nix, naming the directory.
    let files: Vec<(&str, &str, &str, bool)> = got
        .iter()
        .map(|(c, f, s, m)| (c.as_str(), f.as_str(), s.as_str(), m.starts_with('`')))
        .collect();
    assert_eq!(
        files,
        vec![
            ("vars/orphan", "flake.nix", "warning", true),
            ("vars/orphan", "flake.nix", "warning", true),
        ],
        "{got:#?}"
    );
    assert!(got[0].3.contains("`sops/machines/oldbox/`"), "{got:#?}");
    assert!(got[1].3.contains("`vars/per-machine/oldbox/`"), "{got:#?}");
    std::fs::remove_dir_all(root.join("vars/per-machine/oldbox")).unwrap();
    std::fs::remove_dir_all(root.join("sops/machines/oldbox")).unwrap();
    assert_eq!(diagnostics(&root), vec![]);
}

/// Option mistakes in the fleet: each is reported at the definition, with the declaration
/// (`modules/nixos/monitoring.nix`) as a related location, and clears when repaired.
#[test]
fn option_mistakes_in_the_fleet_are_reported_at_the_definition() {
    const KRYPTON: &str = "modules/machines/nixos/krypton/default.nix";
    const DISKO: &str = "modules/machines/nixos/krypton/disko.nix";
    const COBALT: &str = "modules/machines/darwin/cobalt/default.nix";
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            KRYPTON,
            "periodic.role = \"backup\";",
            "periodic.role = \"backup\";\n    periodic.exporterPort = \"9100\";",
            "option/type-mismatch",
            "exporterPort",
        ),
        (
            KRYPTON,
            "periodic.role = \"backup\";",
            "periodic.role = \"backup\";\n    periodic.exporterPort = 70000;",
            "option/type-mismatch",
            "exporterPort",
        ),
        (
            KRYPTON,
            "periodic.role = \"backup\";",
            "periodic.role = \"backup\";\n    periodic.scrape = \"yes\";",
            "option/type-mismatch",
            "scrape",
        ),
        (
            KRYPTON,
            "periodic.role = \"backup\";",
            "periodic.role = \"backups\";",
            "option/type-mismatch",
            "backups",
        ),
        (
            KRYPTON,
            "periodic.role = \"backup\";",
            "periodic.role = \"backup\";\n    periodic.scrpe = true;",
            "option/unknown",
            "scrpe",
        ),
        (
            DISKO,
            "disko.devices.disk.main = {",
            "periodic.role = \"gpu\";\n    disko.devices.disk.main = {",
            "option/conflict",
            "periodic.role",
        ),
        (
            KRYPTON,
            "periodic.role = \"backup\";",
            "periodic.role = \"backup\";\n    homebrew.enable = true;",
            "platform/option-unavailable",
            "homebrew",
        ),
        (
            COBALT,
            "system.primaryUser = \"ada\";",
            "system.primaryUser = \"ada\";\n    boot.loader.grub.enable = false;",
            "platform/option-unavailable",
            "boot.loader",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("fleet");
    copy_dir(&fleet_src(), &root);
    for (file, find, replace, code, marker) in cases {
        let path = root.join(file);
        let original = std::fs::read_to_string(&path).unwrap();
        assert!(
            original.contains(find),
            "{file} no longer contains {find:?}"
        );
        let broken = original.replacen(find, replace, 1);
        std::fs::write(&path, &broken).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_infra-check"))
            .args(["check", "--format", "json"])
            .arg(&root)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let diags = json["diagnostics"].as_array().unwrap();
        assert_eq!(diags.len(), 1, "{replace}: {diags:#?}");
        let d = &diags[0];
        assert_eq!(d["code"], *code, "{replace}: {d:#?}");
        assert_eq!(d["file"], *file, "{replace}");
        let line = broken.lines().position(|l| l.contains(marker)).unwrap() as u64 + 1;
        assert_eq!(d["range"]["start"]["line"], line, "{replace}");
        if code.starts_with("option/") {
            let related: Vec<&str> = d["related"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["file"].as_str().unwrap())
                .collect();
            assert!(
                related.contains(&"modules/nixos/monitoring.nix"),
                "{replace}: {related:?}"
            );
        }
        // `lib.mkForce` on one of the two decides the conflict.
        if *code == "option/conflict" {
            let forced = original
                .replacen(
                    "\"machines/nixos/krypton\" = {",
                    "\"machines/nixos/krypton\" = { lib, ... }: {",
                    1,
                )
                .replacen(find, &replace.replace("\"gpu\"", "lib.mkForce \"gpu\""), 1);
            std::fs::write(&path, &forced).unwrap();
            let (code, list) = findings(&root);
            assert_eq!(list, vec![], "with mkForce: {forced}");
            assert_eq!(code, 0);
        }
        std::fs::write(&path, &original).unwrap();
        let (code, list) = findings(&root);
        assert_eq!(list, vec![], "after repairing {replace:?}");
        assert_eq!(code, 0);
    }
}
