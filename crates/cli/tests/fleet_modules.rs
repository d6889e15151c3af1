//! Module shapes real fleets get wrong, on a copy of `examples/fleet`: a system module reading
//! flake-parts' `config` through its own (`module/shadowed-config`), and a file import-tree
//! loads that is not a flake-parts module (`module/not-a-flake-module`). Each is reported at
//! the right file and line, and the fleet is clean again once repaired.

mod common;

use std::path::Path;

use common::fleet::{assert_clean, backup, diagnostics, edit_all, findings, line_of, restore};
use common::fleet_copy;

/// The one finding of `code`, as `(file, line)`.
fn one(root: &Path, code: &str) -> (String, u64) {
    let (exit, list) = findings(root);
    let hits: Vec<_> = list.iter().filter(|(c, _, _)| c == code).collect();
    assert_eq!(hits.len(), 1, "expected one {code} in {list:?}");
    assert_eq!(exit, 1, "an error must exit 1: {list:?}");
    (hits[0].1.clone(), hits[0].2)
}

/// Asserts that the one finding of `code` is in `file`, on the line holding `marker`.
fn assert_one_at(root: &Path, code: &str, file: &str, marker: &str) {
    let (f, line) = one(root, code);
    assert_eq!(f, file);
    assert_eq!(line, line_of(root, file, marker), "{code}: wrong line");
}

/// `(severity, message)` of the first finding of `code`.
fn message_of(root: &Path, code: &str) -> (String, String) {
    let d = diagnostics(root);
    let (_, _, severity, message) = d.into_iter().find(|(c, ..)| c == code).unwrap();
    (severity, message)
}

#[test]
fn a_machine_module_that_binds_config_cannot_read_the_flake_through_it() {
    let dir = fleet_copy();
    let root = dir.path();
    let file = "modules/machines/nixos/argon/default.nix";
    let original = std::fs::read_to_string(root.join(file)).unwrap();
    edit_all(
        root,
        file,
        &[
            ("{ pkgs, ... }:", "{ config, pkgs, ... }:"),
            (
                "genericModules.ssh-known-hosts",
                "config.flake.modules.generic.ssh-known-hosts",
            ),
        ],
    );
    assert_one_at(
        root,
        "module/shadowed-config",
        file,
        "config.flake.modules.generic.ssh-known-hosts",
    );
    let (severity, message) = message_of(root, "module/shadowed-config");
    assert_eq!(severity, "error");
    assert!(
        message.contains("attribute 'flake' missing")
            && message.contains("inputs.self.modules.generic.ssh-known-hosts")
            && message.contains("flake.modules.nixos.\"machines/nixos/argon\""),
        "{message}"
    );
    std::fs::write(root.join(file), original).unwrap();
    assert_clean(root, "binding the flake-parts config outside again");
}

#[test]
fn a_home_manager_user_module_that_binds_config_is_reported_too() {
    let dir = fleet_copy();
    let root = dir.path();
    let file = "modules/machines/nixos/argon/default.nix";
    let original = std::fs::read_to_string(root.join(file)).unwrap();
    edit_all(
        root,
        file,
        &[
            (
                "users.ada.imports = [",
                "users.ada = { config, ... }: { imports = [ config.flake.modules.homeManager.git",
            ),
            (
                "flakeModulesHome.shell\n        ];",
                "flakeModulesHome.shell\n        ]; };",
            ),
        ],
    );
    assert_one_at(
        root,
        "module/shadowed-config",
        file,
        "config.flake.modules.homeManager.git",
    );
    std::fs::write(root.join(file), original).unwrap();
    assert_clean(root, "removing the home-manager module that shadows config");
}

#[test]
fn a_home_manager_file_import_tree_loads_is_not_a_flake_module() {
    let dir = fleet_copy();
    let root = dir.path();
    let tmp = tempfile::tempdir().unwrap();
    // The real mistake: the plain home-manager module loses its leading underscore.
    let old = "modules/home/modules/_shell-aliases.nix";
    let new = "modules/home/modules/shell-aliases.nix";
    let saved = backup(root, old, tmp.path());
    std::fs::copy(&saved, root.join(new)).unwrap();
    let users = [
        "modules/home/modules/shell.nix",
        "modules/machines/darwin/cobalt/default.nix",
    ];
    for u in users {
        edit_all(root, u, &[("_shell-aliases.nix", "shell-aliases.nix")]);
    }
    assert_one_at(root, "module/not-a-flake-module", new, "home.shellAliases");
    let (severity, message) = message_of(root, "module/not-a-flake-module");
    assert_eq!(severity, "error");
    assert!(
        message.contains("import-tree")
            && message.contains("home-manager module")
            && message.contains("modules/home/modules/_shell-aliases.nix"),
        "{message}"
    );
    // Repaired: the underscore back, and the imports following it.
    std::fs::remove_file(root.join(new)).unwrap();
    restore(root, old, &saved);
    for u in users {
        edit_all(root, u, &[("/shell-aliases.nix", "/_shell-aliases.nix")]);
    }
    assert_clean(root, "putting the leading underscore back");
}

#[test]
fn a_clan_service_file_import_tree_loads_is_not_a_flake_module() {
    let dir = fleet_copy();
    let root = dir.path();
    let service = "modules/clan/services/binary-cache/service.nix";
    std::fs::write(
        root.join(service),
        "{\n  _class = \"clan.service\";\n  manifest.name = \"periodic/other\";\n  roles.default = { };\n}\n",
    )
    .unwrap();
    assert_one_at(root, "module/not-a-flake-module", service, "_class");
    let (_, message) = message_of(root, "module/not-a-flake-module");
    assert!(
        message.contains("clan service module")
            && message.contains("was imported into flake instead of clan.service"),
        "{message}"
    );
    let moved = "modules/clan/services/binary-cache/_service.nix";
    std::fs::rename(root.join(service), root.join(moved)).unwrap();
    assert_clean(root, "prefixing the service file with `_`");
}
