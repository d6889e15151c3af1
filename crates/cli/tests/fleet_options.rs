//! End to end on a copy of `examples/fleet`: an option set or read in a configuration that
//! the module declaring it does not reach (issue 10, point 5).

mod common;

use std::path::Path;

use common::fleet::{diagnostics, edit, findings, line_of};
use common::fleet_copy;

fn write(root: &Path, rel: &str, text: &str) {
    std::fs::write(root.join(rel), text).expect("write a fixture file");
}

/// The home-manager module `pager` declares `programs.pager`; it is imported for ada on
/// cobalt only, but ada's own module (imported on argon and indium too) sets it.
#[test]
fn an_option_set_for_a_user_of_a_machine_its_module_does_not_reach() {
    let dir = fleet_copy();
    let root = dir.path();
    let (code, clean) = findings(root);
    assert_eq!((code, clean.clone()), (0, vec![]), "the fleet starts clean");

    write(
        root,
        "modules/home/modules/pager.nix",
        r#"{
  flake.modules.homeManager.pager =
    { lib, ... }:
    {
      options.programs.pager.command = lib.mkOption {
        type = lib.types.str;
        default = "less";
        description = "The pager ada's tools call.";
      };
    };
}
"#,
    );
    edit(
        root,
        "modules/machines/darwin/cobalt/default.nix",
        "        flakeModulesHome.development\n",
        "        flakeModulesHome.development\n        flakeModulesHome.pager\n",
    );
    edit(
        root,
        "modules/home/users/ada/default.nix",
        "    home.sessionVariables.PAGER",
        "    programs.pager.command = \"less -FR\";\n    home.sessionVariables.PAGER",
    );
    let at = line_of(root, "modules/home/users/ada/default.nix", "programs.pager");
    let (code, found) = findings(root);
    assert_eq!(code, 1, "{found:?}");
    assert_eq!(
        found,
        vec![(
            "option/unknown".to_owned(),
            "modules/home/users/ada/default.nix".to_owned(),
            at
        )]
    );
    let (_, file, severity, message) = diagnostics(root).remove(0);
    assert_eq!(
        (file.as_str(), severity.as_str()),
        ("modules/home/users/ada/default.nix", "error")
    );
    for part in [
        "`programs.pager.command`",
        "home-manager user `ada` of machine `argon`",
        "home-manager user `ada` of machine `indium`",
        "`flake.modules.homeManager.pager`",
        "`home-manager.users.ada.imports` of machine `argon`",
        "`home-manager.users.ada.imports` of machine `indium`",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert!(
        !message.contains("cobalt"),
        "cobalt's ada has it: {message}"
    );

    // Half repaired: argon imports the module for ada too, indium does not yet.
    edit(
        root,
        "modules/machines/nixos/argon/default.nix",
        "          flakeModulesHome.shell\n",
        "          flakeModulesHome.shell\n          flakeModulesHome.pager\n",
    );
    let (_, _, _, message) = diagnostics(root).remove(0);
    assert!(
        message.contains("machine `indium`") && !message.contains("argon"),
        "{message}"
    );
    edit(
        root,
        "modules/machines/darwin/indium/default.nix",
        "        flakeModulesHome.shell\n",
        "        flakeModulesHome.shell\n        flakeModulesHome.pager\n",
    );
    assert_eq!(findings(root), (0, vec![]));
}

/// A module added through `home-manager.sharedModules` on argon declares `services.pagerd`;
/// a module read in a standalone `homeConfigurations` entry reads it there too, where shared
/// modules never reach.
#[test]
fn an_option_read_where_only_shared_modules_declare_it() {
    let dir = fleet_copy();
    let root = dir.path();
    write(
        root,
        "modules/home/modules/pagerd.nix",
        r#"{
  flake.modules.homeManager.pagerd =
    { lib, ... }:
    {
      options.services.pagerd.port = lib.mkOption {
        type = lib.types.port;
        default = 7070;
        description = "Where the pager daemon listens.";
      };
    };
  flake.modules.homeManager.pager-client =
    { config, ... }:
    {
      home.sessionVariables.PAGERD = "localhost:${toString config.services.pagerd.port}";
    };
}
"#,
    );
    edit(
        root,
        "modules/machines/nixos/argon/default.nix",
        "        useUserPackages = true;\n",
        "        useUserPackages = true;\n        sharedModules = [ flakeModulesHome.pagerd ];\n",
    );
    edit(
        root,
        "modules/machines/nixos/argon/default.nix",
        "          flakeModulesHome.shell\n",
        "          flakeModulesHome.shell\n          flakeModulesHome.pager-client\n",
    );
    write(
        root,
        "modules/home/standalone.nix",
        r#"{ config, inputs, ... }:
{
  flake.homeConfigurations.ada = inputs.home-manager.lib.homeManagerConfiguration {
    pkgs = inputs.nixpkgs.legacyPackages.x86_64-linux;
    modules = [
      config.flake.modules.homeManager.base
      config.flake.modules.homeManager.pager-client
    ];
  };
}
"#,
    );
    let at = line_of(root, "modules/home/modules/pagerd.nix", "config.services");
    let (code, found) = findings(root);
    assert_eq!(
        (code, found),
        (
            1,
            vec![(
                "option/unknown".to_owned(),
                "modules/home/modules/pagerd.nix".to_owned(),
                at
            )]
        )
    );
    let (_, _, _, message) = diagnostics(root).remove(0);
    for part in [
        "`config.services.pagerd.port` is read here",
        "home configuration `ada`",
        "`flake.modules.homeManager.pagerd`",
        "`homeConfigurations.ada`",
        "`home-manager.sharedModules` do not reach a standalone configuration",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }

    // Repaired: the standalone configuration imports the declaring module itself.
    edit(
        root,
        "modules/home/standalone.nix",
        "      config.flake.modules.homeManager.pager-client\n",
        "      config.flake.modules.homeManager.pager-client\n      config.flake.modules.homeManager.pagerd\n",
    );
    assert_eq!(findings(root), (0, vec![]));
}

/// argon stops importing `nixos.monitoring`, which declares the `periodic.*` options argon
/// sets; its other imports (srvos', home-manager's, the fleet's own) are all known.
#[test]
fn an_option_set_by_a_machine_that_does_not_import_its_module() {
    let dir = fleet_copy();
    let root = dir.path();
    let rel = "modules/machines/nixos/argon/default.nix";
    edit(
        root,
        rel,
        "        base\n        monitoring\n",
        "        base\n",
    );
    let role = line_of(root, rel, "periodic.role");
    let scrape = line_of(root, rel, "periodic.scrape");
    let (code, found) = findings(root);
    assert_eq!(code, 1, "{found:?}");
    assert_eq!(
        found,
        vec![
            ("option/unknown".to_owned(), rel.to_owned(), role),
            ("option/unknown".to_owned(), rel.to_owned(), scrape),
        ]
    );
    for (_, _, _, message) in diagnostics(root) {
        for part in [
            "no module of machine `argon` declares",
            "`flake.modules.nixos.monitoring`",
            "Import that module into the imports of machine `argon`",
        ] {
            assert!(message.contains(part), "{part} in {message}");
        }
    }

    // Repaired: the import is back.
    edit(
        root,
        rel,
        "        base\n",
        "        base\n        monitoring\n",
    );
    assert_eq!(findings(root), (0, vec![]));
}
