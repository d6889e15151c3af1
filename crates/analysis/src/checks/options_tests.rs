use expect_test::expect;

use crate::tests::check;

/// Two NixOS machines (`web`, `db`) and a darwin one (`mac`); `fleet.*` is declared in a
/// module every NixOS machine imports.
fn repo(machine_web: &str, extra: &str) -> String {
    format!(
        r#"#- /flake.nix
{{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  outputs = inputs@{{ flake-parts, ... }}:
    flake-parts.lib.mkFlake {{ inherit inputs; }} (inputs.import-tree ./modules);
}}
#- /modules/fleet-options.nix
{{
  flake.modules.nixos.fleet = {{ lib, ... }}: {{
    options.fleet = {{
      port = lib.mkOption {{ type = lib.types.port; default = 8080; description = "The service port."; }};
      enable = lib.mkEnableOption "the fleet agent";
      role = lib.mkOption {{ type = lib.types.enum [ "web" "db" ]; }};
      name = lib.mkOption {{ type = lib.types.str; }};
      motd = lib.mkOption {{ type = lib.types.lines; default = ""; }};
      tags = lib.mkOption {{ type = lib.types.listOf lib.types.str; default = [ ]; }};
      weight = lib.mkOption {{ type = lib.types.nullOr lib.types.float; default = null; }};
      hosts = lib.mkOption {{
        type = lib.types.attrsOf (lib.types.submodule {{ options.ip = lib.mkOption {{ type = lib.types.str; }}; }});
        default = {{ }};
      }};
    }};
  }};
}}
#- /modules/machines.nix
{{ config, ... }}:
let m = config.flake.modules; in
{{
  flake.modules.nixos.web = {{ lib, ... }}: {{
    imports = [ m.nixos.fleet m.nixos.common ];
{machine_web}
  }};
  flake.modules.nixos.db = {{ imports = [ m.nixos.fleet m.nixos.common ]; fleet.role = "db"; fleet.name = "db"; }};
  flake.modules.nixos.common = {{ }};
  flake.modules.darwin.mac = {{ }};
  clan.inventory.machines = {{ web = {{ }}; db = {{ }}; mac.machineClass = "darwin"; }};
  clan.machines.web.imports = [ m.nixos.web ];
  clan.machines.db.imports = [ m.nixos.db ];
  clan.machines.mac.imports = [ m.darwin.mac ];
}}
{extra}"#
    )
}

#[test]
fn well_typed_definitions_are_clean() {
    let out = check(&repo(
        r#"    fleet = { role = "web"; name = "web"; port = 443; enable = true; motd = "hi"; tags = [ "a" ]; weight = 1.5; };
    fleet.hosts.db.ip = "10.0.0.2";"#,
        "",
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn wrong_types_are_reported_at_the_definition_with_the_declaration() {
    let out = check(&repo(
        r#"    fleet.role = "proxy";
    fleet.name = "web";
    fleet.port = "8080";
    fleet.enable = "yes";
    fleet.tags = [ "a" 1 ];
    fleet.hosts.db.ip = 10;
    fleet.hosts.db.mac = "x";"#,
        "",
    ));
    expect![[r#"
        option/type-mismatch modules/machines.nix:6:18: `fleet.role` has the wrong type: expected one of "web", "db", found "proxy".
          note modules/fleet-options.nix:6:7: `fleet.role` is declared here as one of "web", "db"
        option/type-mismatch modules/machines.nix:8:18: `fleet.port` has the wrong type: expected 16 bit unsigned integer; between 0 and 65535 (both inclusive), found a string.
          note modules/fleet-options.nix:4:7: `fleet.port` is declared here as 16 bit unsigned integer; between 0 and 65535 (both inclusive)
        option/type-mismatch modules/machines.nix:9:20: `fleet.enable` has the wrong type: expected boolean, found a string.
          note modules/fleet-options.nix:5:7: `fleet.enable` is declared here as boolean
        option/type-mismatch modules/machines.nix:10:18: `fleet.tags` has the wrong type: at `[1]`: expected string, found an integer.
          note modules/fleet-options.nix:9:7: `fleet.tags` is declared here as list of string
        option/type-mismatch modules/machines.nix:11:25: `fleet.hosts.db.ip` has the wrong type: expected string, found an integer.
          note modules/fleet-options.nix:11:7: `fleet.hosts` is declared here as attribute set of submodule
        option/type-mismatch modules/machines.nix:12:26: `fleet.hosts.db.mac` has the wrong type: `mac` is not an option of this submodule (it has `ip`).
          note modules/fleet-options.nix:11:7: `fleet.hosts` is declared here as attribute set of submodule
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_port_above_65535_and_a_misspelt_option() {
    let out = check(&repo(
        r#"    fleet.role = "web";
    fleet.name = "web";
    fleet.port = 70000;
    fleet.prot = 80;"#,
        "",
    ));
    expect![[r#"
        option/type-mismatch modules/machines.nix:8:18: `fleet.port` has the wrong type: expected 16 bit unsigned integer; between 0 and 65535 (both inclusive), found the integer 70000.
          note modules/fleet-options.nix:4:7: `fleet.port` is declared here as 16 bit unsigned integer; between 0 and 65535 (both inclusive)
        option/unknown modules/machines.nix:9:11: `fleet.prot` is not an option: nothing in this repository declares it, and `fleet` is this repository's own namespace; did you mean `fleet.port`?
          note modules/fleet-options.nix:4:7: `fleet.port` is declared here
    "#]]
    .assert_eq(&out);
}

#[test]
fn conflicting_definitions_and_priorities() {
    let conflict = repo(
        r#"    fleet.role = "web";
    fleet.name = "web";"#,
        r#"#- /modules/override.nix
{ flake.modules.nixos.common.fleet.name = "common"; }
"#,
    );
    let out = check(&conflict);
    expect![[r#"
        option/conflict modules/override.nix:1:36: `fleet.name` is defined as "common" here and as "db" elsewhere, at the same priority, for machine `db`; a string option cannot merge two values. Remove one, or give one `lib.mkDefault` or `lib.mkForce`.
          note modules/machines.nix:9:99: `fleet.name` is also defined here
          note modules/fleet-options.nix:7:7: declared here
    "#]]
    .assert_eq(&out);
    // mkForce on one of them decides it; so does mkDefault on the other; lines merge.
    for fix in [
        r#"{ lib, ... }: { flake.modules.nixos.common = { lib, ... }: { fleet.name = lib.mkForce "common"; }; }"#,
        r#"{ lib, ... }: { flake.modules.nixos.common = { lib, ... }: { fleet.name = lib.mkDefault "common"; }; }"#,
        r#"{ flake.modules.nixos.common.fleet.motd = "more"; }"#,
    ] {
        let out = check(&repo(
            "    fleet.role = \"web\";\n    fleet.name = \"web\";\n    fleet.motd = \"hi\";",
            &format!("#- /modules/override.nix\n{fix}\n"),
        ));
        assert_eq!(out, "", "{fix}");
    }
}

#[test]
fn platform_only_options_in_both_directions() {
    let out = check(&repo(
        r#"    fleet.role = "web";
    fleet.name = "web";
    homebrew.enable = true;"#,
        r#"#- /modules/mac.nix
{ flake.modules.darwin.mac.boot.loader.grub.enable = false; }
"#,
    ));
    expect![[r#"
        platform/option-unavailable modules/mac.nix:1:45: `boot.loader.grub.enable` exists only on NixOS (`boot` is a NixOS option; source: declared in NixOS/nixpkgs nixos/modules/system/boot/kernel.nix @ 045d702e8af1; not declared in nix-darwin/nix-darwin modules/module-list.nix @ 041492f3ef8a), but this module reaches machine `mac`, evaluated as nix-darwin.
        platform/option-unavailable modules/machines.nix:8:14: `homebrew.enable` exists only on nix-darwin (`homebrew` is a nix-darwin option; source: declared in nix-darwin/nix-darwin modules/homebrew.nix @ 03331f0ab52d; not declared in NixOS/nixpkgs nixos/modules/module-list.nix @ 0002b50f7049), but this module reaches machine `web`, evaluated as NixOS.
    "#]]
    .assert_eq(&out);
}

#[test]
fn nixos_options_are_not_judged_without_a_catalog() {
    let out = check(&repo(
        r#"    fleet.role = "web";
    fleet.name = "web";
    services.openssh.enable = "yes";
    services.nonexistent.thing = 1;
    networking.hostName = 42;"#,
        "",
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn a_catalog_makes_its_machine_s_options_checked() {
    let catalog = r#"#- /infra-check.toml
catalogs = ["infra-check-options-web.json"]
#- /infra-check-options-web.json
{"format":1,"class":"nixos","machine":"web","generatedBy":"test","options":{
  "services.openssh.enable":{"type":{"name":"bool"},"hasDefault":true,"description":"Whether to enable the OpenSSH daemon."},
  "services.openssh.ports":{"type":{"name":"listOf","elemType":{"name":"unsignedInt16"}},"hasDefault":true},
  "networking.hostName":{"type":{"name":"str"},"hasDefault":true},
  "fleet.role":{"type":{"name":"enum","values":["web","db"]}},
  "fleet.name":{"type":{"name":"str"}},
  "users.users":{"type":{"name":"attrsOf","elemType":{"name":"submodule"}},"hasDefault":true}
}}
"#;
    let web = r#"    fleet.role = "web";
    fleet.name = "web";
    networking.hostName = "web";
    users.users.alice.isNormalUser = true;
    services.openssh.enable = "yes";
    services.openssh.ports = [ 22 70000 ];
    services.opensh.enable = true;"#;
    let out = check(&repo(web, catalog));
    expect![[r#"
        option/type-mismatch modules/machines.nix:10:31: `services.openssh.enable` has the wrong type: expected boolean, found a string.
          note infra-check-options-web.json:1:1: `services.openssh.enable` is declared here as boolean
        option/type-mismatch modules/machines.nix:11:30: `services.openssh.ports` has the wrong type: at `[1]`: expected 16 bit unsigned integer; between 0 and 65535 (both inclusive), found the integer 70000.
          note infra-check-options-web.json:1:1: `services.openssh.ports` is declared here as list of 16 bit unsigned integer; between 0 and 65535 (both inclusive)
        option/unknown modules/machines.nix:12:21: `services.opensh.enable` is not an option of machine `web`: the option catalog loaded for it does not have it; did you mean `services.openssh.enable`?
          note infra-check-options-web.json:1:1: `services.openssh.enable` is declared here
    "#]]
    .assert_eq(&out);
    // The same definitions on `db`, which the catalog does not describe: nothing.
    let db_only = check(
        &repo(
            "    fleet.role = \"web\";\n    fleet.name = \"web\";",
            catalog,
        )
        .replace(
            "fleet.role = \"db\"; fleet.name = \"db\";",
            "fleet.role = \"db\"; fleet.name = \"db\"; services.openssh.enable = \"yes\";",
        ),
    );
    assert_eq!(db_only, "");
    // A catalog that cannot be read is reported, and nothing is checked against it.
    let broken = check(&repo(
        web,
        "#- /infra-check.toml\ncatalogs = [\"bad.json\"]\n#- /bad.json\n{ not json\n",
    ));
    assert!(
        broken.starts_with(
            "config/invalid bad.json:1:3: The option catalog `bad.json` is not valid JSON (line 1, column 3)"
        ),
        "{broken}"
    );
    assert_eq!(broken.lines().count(), 1, "{broken}");
}

#[test]
fn hover_data_for_a_declared_option() {
    let host = crate::tests::host_from_fixture(&repo(
        "    fleet.role = \"web\";\n    fleet.name = \"web\";",
        "",
    ));
    let info = host.snapshot().option_info("fleet.port").unwrap();
    assert_eq!(info.len(), 1);
    let i = &info[0];
    assert!(
        i.type_description.starts_with("16 bit unsigned integer"),
        "{i:?}"
    );
    assert_eq!(i.default.as_deref(), Some("8080"));
    assert_eq!(i.description.as_deref(), Some("The service port."));
    assert!(!i.required);
    assert_eq!(&*i.declared_at.file, "modules/fleet-options.nix");
    assert_eq!(i.declared_in, "flake.modules.nixos.fleet");
    assert!(host
        .snapshot()
        .option_info("fleet.nope")
        .unwrap()
        .is_empty());
}

/// A menu whose entries are links or sub-menus of entries: a type that contains itself.
const MENU: &str = r#"#- /modules/menu.nix
{
  flake.modules.nixos.common = { lib, ... }:
    let
      inherit (lib) mkOption types;
      link = types.submodule {
        options.label = mkOption { type = types.str; };
        options.href = mkOption { type = types.str; };
      };
      submenu = types.submodule {
        options.label = mkOption { type = types.str; };
        options.entries = mkOption { type = types.listOf entry; default = [ ]; };
      };
      entry = types.oneOf [ link submenu ];
    in
    {
      options.fleet.menu = mkOption { type = types.listOf entry; default = [ ]; };
    };
}
"#;

#[test]
fn a_type_that_contains_itself_is_read_up_to_where_it_recurs() {
    let good = check(&repo(
        r#"    fleet = { role = "web"; name = "web"; };
    fleet.menu = [
      { label = "home"; href = "/"; }
      { label = "docs"; entries = [ { label = "api"; href = "/api"; } { label = "more"; entries = [ ]; } ]; }
    ];"#,
        MENU,
    ));
    expect![[""]].assert_eq(&good);
    // The outer levels are checked; inside the recursion the type is unknown, so silent.
    let bad = check(&repo(
        r#"    fleet = { role = "web"; name = "web"; };
    fleet.menu = [ { label = 1; href = "/"; } { label = "docs"; entries = [ 42 ]; } ];"#,
        MENU,
    ));
    expect![[r#"
        option/type-mismatch modules/machines.nix:7:18: `fleet.menu` has the wrong type: at `[0]`: expected submodule or submodule, found an attribute set.
          note modules/menu.nix:16:21: `fleet.menu` is declared here as list of submodule or submodule
    "#]]
    .assert_eq(&bad);
}

/// Two NixOS machines with home-manager users, a standalone home configuration, and the
/// home-manager modules `mytool` (declares `programs.mytool`), `syncd` (declares
/// `services.syncd`), `ada` (the user's own settings). `web` and `db` are written by the test.
fn hm_repo(web: &str, db: &str, home: &str, extra: &str) -> String {
    format!(
        r#"#- /flake.nix
{{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.home-manager.url = "github:nix-community/home-manager";
  outputs = inputs@{{ flake-parts, ... }}:
    flake-parts.lib.mkFlake {{ inherit inputs; }} (inputs.import-tree ./modules);
}}
#- /modules/home.nix
{{
  flake.modules.homeManager.mytool = {{ lib, ... }}: {{
    options.programs.mytool = {{
      enable = lib.mkEnableOption "mytool";
      theme = lib.mkOption {{ type = lib.types.str; default = "dark"; description = "The theme."; }};
    }};
  }};
  flake.modules.homeManager.syncd = {{ lib, ... }}: {{
    options.services.syncd.port = lib.mkOption {{ type = lib.types.port; default = 8384; description = "The port."; }};
  }};
  flake.modules.homeManager.firewall = {{ config, ... }}: {{
    home.sessionVariables.SYNCD_PORT = toString config.services.syncd.port;
  }};
  flake.modules.homeManager.ada = {{
    programs.mytool.enable = true;
    programs.git.enable = true;
  }};
}}
#- /modules/machines.nix
{{ config, inputs, ... }}:
let hm = config.flake.modules.homeManager; in
{{
  flake.modules.nixos.web = {{
    imports = [ inputs.home-manager.nixosModules.home-manager ];
{web}
  }};
  flake.modules.nixos.db = {{
    imports = [ inputs.home-manager.nixosModules.home-manager ];
{db}
  }};
  clan.inventory.machines = {{ web = {{ }}; db = {{ }}; }};
  clan.machines.web.imports = [ config.flake.modules.nixos.web ];
  clan.machines.db.imports = [ config.flake.modules.nixos.db ];
{home}
}}
{extra}"#
    )
}

const HM_CLEAN_WEB: &str = "    home-manager.users.ada.imports = [ hm.ada hm.mytool ];";

#[test]
fn a_home_manager_option_set_for_a_user_whose_machine_lacks_its_module_is_reported() {
    let out = options_only(check(&hm_repo(
        HM_CLEAN_WEB,
        "    home-manager.users.ada.imports = [ hm.ada ];",
        "",
        "",
    )));
    expect![[r#"
        option/unknown modules/home.nix:15:21: `programs.mytool.enable` is set here, but no module of home-manager user `ada` of machine `db` declares `programs.mytool.enable`: it is declared in `flake.modules.homeManager.mytool`, which does not reach it. Import that module into `home-manager.users.ada.imports` of machine `db` (or its `home-manager.sharedModules`).
          note modules/home.nix:4:7: `programs.mytool.enable` is declared here, in `flake.modules.homeManager.mytool`
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_declaration_reaching_through_an_import_or_shared_modules_is_clean() {
    // db gets `mytool` through `sharedModules`; web through a module that imports it.
    let out = options_only(check(&hm_repo(
        "    home-manager.users.ada.imports = [ hm.ada hm.tools ];",
        "    home-manager.sharedModules = [ hm.mytool ];\n    home-manager.users.ada.imports = [ hm.ada ];",
        "",
        "#- /modules/tools.nix\n{ config, ... }: { flake.modules.homeManager.tools.imports = [ config.flake.modules.homeManager.mytool ]; }\n",
    )));
    expect![[""]].assert_eq(&out);
}

#[test]
fn a_read_of_an_option_declared_only_in_shared_modules_is_reported_in_a_standalone_configuration() {
    let home = r#"  flake.homeConfigurations.ada = inputs.home-manager.lib.homeManagerConfiguration {
    modules = [ hm.ada hm.mytool hm.firewall ];
  };"#;
    let out = options_only(check(&hm_repo(
        "    home-manager.sharedModules = [ hm.syncd ];\n    home-manager.users.ada.imports = [ hm.ada hm.mytool hm.firewall ];",
        "    home-manager.users.ada.imports = [ hm.ada hm.mytool ];",
        home,
        "",
    )));
    expect![[r#"
        option/unknown modules/home.nix:12:49: `config.services.syncd.port` is read here, but no module of home configuration `ada` declares `services.syncd.port`: it is declared in `flake.modules.homeManager.syncd`, which does not reach it. Import that module into the `modules` of `homeConfigurations.ada` (`home-manager.sharedModules` do not reach a standalone configuration).
          note modules/home.nix:9:28: `services.syncd.port` is declared here, in `flake.modules.homeManager.syncd`
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_read_on_a_branch_of_an_unknown_condition_is_not_reported() {
    // The same standalone configuration as above, reading the port only if a file exists.
    let home = r#"  flake.homeConfigurations.ada = inputs.home-manager.lib.homeManagerConfiguration {
    modules = [ hm.ada hm.mytool hm.firewall ];
  };"#;
    let out = options_only(check(
        &hm_repo(
            "    home-manager.sharedModules = [ hm.syncd ];\n    home-manager.users.ada.imports = [ hm.ada hm.mytool hm.firewall ];",
            "    home-manager.users.ada.imports = [ hm.ada hm.mytool ];",
            home,
            "",
        )
        .replace(
            "toString config.services.syncd.port",
            "if builtins.pathExists ./syncd then toString config.services.syncd.port else \"\"",
        ),
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn an_unreadable_or_unknown_import_keeps_the_configuration_silent() {
    // db's user imports another flake's module and something computed: either may declare
    // `programs.mytool`.
    for import in [
        "inputs.nix-index.homeModules.default",
        "(builtins.getFlake \"x\").mod",
    ] {
        let db = format!("    home-manager.users.ada.imports = [ hm.ada {import} ];");
        let out = options_only(check(&hm_repo(HM_CLEAN_WEB, &db, "", "")));
        expect![[""]].assert_eq(&out);
    }
    // The machine itself imports an unknown module, which could add shared modules.
    let db = "    home-manager.users.ada.imports = [ hm.ada ];";
    let extra = "#- /modules/db-extra.nix\n{ inputs, ... }: { flake.modules.nixos.db.imports = [ inputs.other.nixosModules.default ]; }\n";
    let out = options_only(check(&hm_repo(HM_CLEAN_WEB, db, "", extra)));
    expect![[""]].assert_eq(&out);
    // With srvos, whose options are known, it is reported.
    let extra = "#- /modules/db-extra.nix\n{ inputs, ... }: { flake.modules.nixos.db.imports = [ inputs.srvos.nixosModules.server ]; }\n";
    let out = options_only(check(&hm_repo(HM_CLEAN_WEB, db, "", extra)));
    expect![[r#"
        option/unknown modules/home.nix:15:21: `programs.mytool.enable` is set here, but no module of home-manager user `ada` of machine `db` declares `programs.mytool.enable`: it is declared in `flake.modules.homeManager.mytool`, which does not reach it. Import that module into `home-manager.users.ada.imports` of machine `db` (or its `home-manager.sharedModules`).
          note modules/home.nix:4:7: `programs.mytool.enable` is declared here, in `flake.modules.homeManager.mytool`
    "#]].assert_eq(&out);
}

#[test]
fn platform_options_and_extended_platform_options_are_not_judged() {
    // `programs.git` is home-manager's; a bare submodule extending it (no description, no
    // default) may merge with home-manager's own declaration, so it does not make
    // `programs.git.*` the repository's.
    let extra = r#"#- /modules/git-extra.nix
{
  flake.modules.homeManager.git-extra = { lib, ... }: {
    options.programs.git = lib.mkOption { type = lib.types.submodule { options.signWith = lib.mkOption { type = lib.types.str; }; }; };
  };
}
"#;
    let out = options_only(check(&hm_repo(
        "    home-manager.users.ada.imports = [ hm.ada hm.mytool hm.git-extra ];",
        "    home-manager.users.ada = { imports = [ hm.ada hm.mytool ]; programs.git.signWith = \"x\"; };",
        "",
        extra,
    )));
    expect![[""]].assert_eq(&out);
}

#[test]
fn an_option_declared_by_an_external_module_is_not_judged() {
    // `programs.mytool` also comes from another flake's module on db: it is not reported
    // even though the repository's own declaration does not reach db.
    let out = options_only(check(&hm_repo(
        HM_CLEAN_WEB,
        "    home-manager.users.ada.imports = [ hm.ada inputs.mytool.homeManagerModules.default ];",
        "",
        "",
    )));
    expect![[""]].assert_eq(&out);
}

#[test]
fn a_machine_setting_an_option_whose_module_it_does_not_import_is_reported() {
    let out = check(&repo(
        "",
        r#"#- /modules/cache.nix
{ config, ... }: {
  flake.modules.nixos.cache = { imports = [ config.flake.modules.nixos.common ]; fleet.port = 8443; };
  clan.inventory.machines.cache = { };
  clan.machines.cache.imports = [ config.flake.modules.nixos.cache ];
}
"#,
    ));
    expect![[r#"
        option/unknown modules/cache.nix:2:88: `fleet.port` is set here, but no module of machine `cache` declares `fleet.port`: it is declared in `flake.modules.nixos.fleet`, which does not reach it. Import that module into the imports of machine `cache`.
          note modules/fleet-options.nix:4:7: `fleet.port` is declared here, in `flake.modules.nixos.fleet`
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_read_guarded_by_a_test_for_the_option_is_not_judged() {
    // `options ? services.syncd` guards the read: it only happens where `syncd` is imported.
    let home = r#"  flake.homeConfigurations.ada = inputs.home-manager.lib.homeManagerConfiguration {
    modules = [ hm.ada hm.mytool hm.guarded ];
  };"#;
    let extra = r#"#- /modules/guarded.nix
{
  flake.modules.homeManager.guarded = { config, lib, options, ... }: {
    home.sessionVariables = lib.optionalAttrs (options ? services.syncd) {
      SYNCD_PORT = toString config.services.syncd.port;
    };
  };
}
"#;
    let out = options_only(check(&hm_repo(
        "    home-manager.sharedModules = [ hm.syncd ];\n    home-manager.users.ada.imports = [ hm.ada hm.mytool hm.guarded ];",
        "    home-manager.users.ada.imports = [ hm.ada hm.mytool ];",
        home,
        extra,
    )));
    expect![[""]].assert_eq(&out);
}

#[test]
fn a_user_written_as_a_path_is_read_from_that_file() {
    let extra = "#- /modules/_ada-db.nix\n{ programs.mytool.theme = \"light\"; }\n";
    let out = options_only(check(&hm_repo(
        HM_CLEAN_WEB,
        "    home-manager.users.ada = ./_ada-db.nix;",
        "",
        extra,
    )));
    expect![[r#"
        option/unknown modules/_ada-db.nix:1:19: `programs.mytool.theme` is set here, but no module of home-manager user `ada` of machine `db` declares `programs.mytool.theme`: it is declared in `flake.modules.homeManager.mytool`, which does not reach it. Import that module into `home-manager.users.ada.imports` of machine `db` (or its `home-manager.sharedModules`).
          note modules/home.nix:5:7: `programs.mytool.theme` is declared here, in `flake.modules.homeManager.mytool`
    "#]]
    .assert_eq(&out);
    // A file infra-check cannot read may import anything; ada's module is still imported.
    let out = options_only(check(&hm_repo(
        HM_CLEAN_WEB,
        "    home-manager.users.ada = { imports = [ hm.ada ./_missing.nix ]; };",
        "",
        "",
    )));
    expect![[""]].assert_eq(&out);
}

/// The option findings of a check (the fixtures leave some modules unused).
fn options_only(out: String) -> String {
    let mut keep = String::new();
    let mut on = false;
    for line in out.lines() {
        if !line.starts_with(' ') {
            on = line.starts_with("option/");
        }
        if on {
            keep.push_str(line);
            keep.push('\n');
        }
    }
    keep
}

#[test]
fn a_machine_configuration_file_is_one_of_the_machine_s_modules() {
    let cache = r#"#- /modules/cache.nix
{ config, ... }: {
  flake.modules.nixos.cache = { imports = [ config.flake.modules.nixos.common ]; };
  clan.inventory.machines.cache = { };
  clan.machines.cache.imports = [ config.flake.modules.nixos.cache ];
}
"#;
    // clan-core loads `machines/cache/configuration.nix` into the machine: what it sets is
    // judged against what the machine imports.
    let out = check(&repo(
        "",
        &format!("{cache}#- /machines/cache/configuration.nix\n{{ fleet.port = 8443; }}\n"),
    ));
    expect![[r#"
        option/unknown machines/cache/configuration.nix:1:9: `fleet.port` is set here, but no module of machine `cache` declares `fleet.port`: it is declared in `flake.modules.nixos.fleet`, which does not reach it. Import that module into the imports of machine `cache`.
          note modules/fleet-options.nix:4:7: `fleet.port` is declared here, in `flake.modules.nixos.fleet`
    "#]]
    .assert_eq(&out);
    // What it imports is part of the machine too.
    let out = check(&repo(
        "",
        &format!(
            "{cache}#- /machines/cache/configuration.nix\n{{ self, ... }}: {{ imports = [ self.modules.nixos.fleet ]; fleet.port = 8443; }}\n"
        ),
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn a_namespace_another_flake_s_module_may_also_declare_is_not_claimed() {
    let web = r#"    fleet.role = "web";
    fleet.name = "web";
    fleet.prot = 80;"#;
    // An input's module, imported anywhere, may declare under `fleet` too (as
    // `inputs.preservation.nixosModules.preservation` declares `preservation.*` next to a
    // repository's own `options.preservation.rollback`).
    let extra = r#"#- /modules/agent.nix
{ inputs, ... }: { flake.modules.nixos.common.imports = [ inputs.fleet-agent.nixosModules.default ]; }
"#;
    let out = check(&repo(web, extra));
    assert!(!out.contains("option/unknown"), "{out}");
    // So may a `.nix` file infra-check does not read as a module.
    let extra =
        "#- /lib/more-options.nix\n{ lib, ... }: { options.fleet.prot = lib.mkOption { }; }\n";
    let out = check(&repo(web, extra));
    assert!(!out.contains("option/unknown"), "{out}");
    // A file that does not mention the namespace changes nothing.
    let extra = "#- /lib/other.nix\n{ lib, ... }: { options.other = lib.mkOption { }; }\n";
    let out = check(&repo(web, extra));
    assert!(
        out.contains("option/unknown modules/machines.nix:8:11: `fleet.prot`"),
        "{out}"
    );
}
