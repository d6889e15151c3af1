//! The example fleet with clan-core's flake module imported in `flake.nix` (next to the
//! import-tree and the flake modules of other tools, as many real flakes do) instead of a module
//! file: the clan stays readable, so a darwin machine pulled into zerotier's peer role by the
//! tag `all` is reported, at the role.

mod common;

use std::path::Path;

use common::fleet::{backup, diagnostics, edit, findings, line_of, restore};
use common::{copy_dir, fleet_copy};

const ZEROTIER: &str = "modules/clan/inventory/services/zerotier.nix";

/// Moves `inputs.clan-core.flakeModules.default` from modules/clan/core.nix into the module
/// `flake.nix` hands to `mkFlake`, with the flake modules of home-manager and landrun-nix (which
/// only declare options and per-system outputs) beside it.
fn import_flake_modules_in_flake_nix(root: &Path) {
    edit(
        root,
        "modules/clan/core.nix",
        "    inputs.clan-core.flakeModules.default\n",
        "",
    );
    edit(
        root,
        "flake.nix",
        "flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);",
        "flake-parts.lib.mkFlake { inherit inputs; } {\n      imports = [\n        inputs.clan-core.flakeModules.default\n        inputs.home-manager.flakeModules.home-manager\n        inputs.landrun-nix.flakeModule\n        (inputs.import-tree ./modules)\n      ];\n    };",
    );
    edit(
        root,
        "flake.nix",
        "    srvos.url = ",
        "    landrun-nix.url = \"github:srid/landrun-nix\";\n\n    srvos.url = ",
    );
}

#[test]
fn a_darwin_machine_in_zerotier_through_all_is_reported_with_clan_core_imported_in_flake_nix() {
    let dir = fleet_copy();
    let root = dir.path();
    import_flake_modules_in_flake_nix(root);
    let (code, list) = findings(root);
    assert_eq!(list, vec![], "the restructured fleet is still clean");
    assert_eq!(code, 0);

    // The real mistake: every machine joins the zerotier peers, the darwin ones included.
    let aside = tempfile::tempdir().unwrap();
    let saved = aside.path().join("original");
    copy_dir(&root.join("modules/clan/inventory"), &saved);
    edit(
        root,
        ZEROTIER,
        "roles.peer.tags.zt-peer = { };",
        "roles.peer.tags.all = { };",
    );
    let line = line_of(root, ZEROTIER, "roles.peer.tags.all");
    let (_, list) = findings(root);
    assert_eq!(
        list,
        vec![(
            "platform/service-unsupported".to_owned(),
            ZEROTIER.to_owned(),
            line
        )],
        "the darwin machines in zerotier's peers through `all`"
    );
    let d = diagnostics(root);
    let (_, _, severity, message) = &d[0];
    assert_eq!(severity, "warning");
    for name in [
        "bismuth", "cobalt", "gallium", "indium", "`all`", "zerotier",
    ] {
        assert!(message.contains(name), "{message}");
    }

    // A flake module infra-check cannot read, imported in flake.nix, may add machines and
    // tags: the role's members are unknown and the check stays silent.
    edit(
        root,
        "flake.nix",
        "        inputs.home-manager.flakeModules.home-manager\n",
        "        inputs.home-manager.flakeModules.home-manager\n        inputs.srvos.flakeModules.fleet\n",
    );
    let (_, list) = findings(root);
    assert!(
        list.iter()
            .all(|(code, _, _)| code != "platform/service-unsupported"),
        "{list:?}"
    );
    edit(
        root,
        "flake.nix",
        "        inputs.srvos.flakeModules.fleet\n",
        "",
    );

    // Repaired: the peers are the NixOS machines tagged `zt-peer` again.
    let broken = backup(root, "modules/clan/inventory", aside.path());
    std::fs::remove_dir_all(broken).unwrap();
    restore(root, "modules/clan/inventory", &saved);
    let (code, list) = findings(root);
    assert_eq!(list, vec![], "repaired");
    assert_eq!(code, 0);
}
