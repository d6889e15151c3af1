use expect_test::expect;

use crate::tests::{check, with_flake};

#[test]
fn clean_repository_has_no_diagnostics() {
    let out = check(&with_flake(
        r#"#- /modules/base.nix
{ ... }: { flake.modules.nixos.base = { lib, ... }: { networking.firewall.enable = lib.mkDefault true; }; }
#- /modules/darwin.nix
{ flake.modules = { darwin.base = { }; homeManager.shell = { }; }; }
#- /modules/machines/nixos/alpha/default.nix
{ config, inputs, ... }:
let flakeModules = config.flake.modules.nixos; hm = config.flake.modules.homeManager; in
{
  flake.modules.nixos."machines/nixos/alpha" = { pkgs, ... }: {
    imports = [ inputs.srvos.nixosModules.server ] ++ (with flakeModules; [ base ]);
    home-manager.users.alice.imports = [ hm.shell ];
  };
}
#- /modules/machines/darwin/beta.nix
{ inputs, ... }: {
  flake.modules.darwin."machines/darwin/beta" = { imports = [ inputs.self.modules.darwin.base ]; };
}
#- /modules/clan.nix
{ config, ... }: {
  clan.inventory.machines.alpha = { tags = [ "server" ]; };
  clan.inventory.machines.beta.machineClass = "darwin";
  clan.machines.alpha.imports = [ config.flake.modules.nixos."machines/nixos/alpha" ];
  clan.machines.beta.imports = [ config.flake.modules.darwin."machines/darwin/beta" ];
}
"#,
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn undefined_module_in_with_list_suggests_the_near_name() {
    let out = check(&with_flake(
        r#"#- /modules/base.nix
{ flake.modules.nixos.base = { }; flake.modules.nixos.ssh-known-hosts = { }; }
#- /modules/m.nix
{ config, ... }:
let flakeModules = config.flake.modules.nixos; in
{
  flake.modules.nixos.m = {
    imports = with flakeModules; [ basee ssh-known-hosts ];
  };
}
"#,
    ));
    expect![[r#"
        module/unused modules/base.nix:1:23: `flake.modules.nixos.base` is defined but nothing in this flake imports it.
        module/unused modules/m.nix:4:23: `flake.modules.nixos.m` is defined but nothing in this flake imports it.
        module/undefined modules/m.nix:5:36: `flake.modules.nixos.basee` is not defined: no module in this flake defines a NixOS module named `basee`; did you mean `base`?
          note modules/base.nix:1:23: `flake.modules.nixos.base` is defined here
          fix: "base"
    "#]]
    .assert_eq(&out);
}

#[test]
fn references_in_every_spelling_are_found() {
    let out = check(&with_flake(
        r#"#- /modules/defs.nix
{ flake.modules = { nixos = { a = { }; "quoted/name" = { }; }; }; }
#- /modules/use.nix
{ config, inputs, self, ... }:
let m = config.flake.modules; in
{
  flake.modules.nixos.user = {
    imports = [
      m.nixos.a
      inputs.self.modules.nixos."quoted/name"
      self.modules.nixos.missing1
      config.flake.modules.nixos.missing2
    ];
  };
  unused = let x = m.nixos.missing3; in 1;
}
"#,
    ));
    expect![[r#"
        module/unused modules/use.nix:4:23: `flake.modules.nixos.user` is defined but nothing in this flake imports it.
        module/undefined modules/use.nix:8:26: `flake.modules.nixos.missing1` is not defined: no module in this flake defines a NixOS module named `missing1`.
        module/undefined modules/use.nix:9:34: `flake.modules.nixos.missing2` is not defined: no module in this flake defines a NixOS module named `missing2`.
        module/undefined modules/use.nix:12:28: `flake.modules.nixos.missing3` is not defined: no module in this flake defines a NixOS module named `missing3`.
    "#]]
    .assert_eq(&out);
}

#[test]
fn unknown_names_and_classes_are_never_reported() {
    let out = check(&with_flake(
        r#"#- /modules/a.nix
{ config, inputs, lib, ... }:
let name = inputs.other.lib.pick "x"; in
{
  flake.modules.homeManager.base = { };
  flake.modules.nixos.m = {
    imports = [
      config.flake.modules.homeManager.${name}
      config.flake.modules.${name}.foo
      inputs.other.modules.nixos.whatever
      (lib.mkIf true config.flake.modules.nixos.also-unknown-target)
    ];
  };
}
"#,
    ));
    // The computed class/name may be anything; `also-unknown-target` is a real reference.
    expect![[r#"
        module/undefined modules/a.nix:10:49: `flake.modules.nixos.also-unknown-target` is not defined: no module in this flake defines a NixOS module named `also-unknown-target`.
    "#]]
    .assert_eq(&out);
}

#[test]
fn definitions_merge_across_files_and_may_be_computed() {
    let out = check(&with_flake(
        r#"#- /modules/one.nix
{ flake.modules.nixos.base.networking.hostName = "x"; }
#- /modules/two.nix
{ lib, ... }: { flake.modules.nixos = lib.genAttrs [ "gen-a" "gen-b" ] (n: { }); }
#- /modules/use.nix
{ config, ... }: {
  flake.modules.nixos.base.imports = with config.flake.modules.nixos; [ gen-a gen-b ];
}
"#,
    ));
    expect![[r#"
        module/unused modules/one.nix:1:23: `flake.modules.nixos.base` is defined but nothing in this flake imports it.
          note modules/use.nix:2:23: also defined here
    "#]].assert_eq(&out);
}

#[test]
fn class_mismatch_darwin_into_nixos_and_home_manager_into_nixos() {
    let out = check(&with_flake(
        r#"#- /modules/defs.nix
{ flake.modules = { darwin.base = { }; nixos.base = { }; homeManager.shell = { }; generic.nix-settings = { }; }; }
#- /modules/machine.nix
{ config, ... }:
let d = config.flake.modules.darwin; hm = config.flake.modules.homeManager; in
{
  flake.modules.nixos.server = {
    imports = [ d.base hm.shell config.flake.modules.generic.nix-settings config.flake.modules.nixos.base ];
    home-manager.users.alice = { imports = [ hm.shell d.base ]; };
  };
}
#- /modules/clan.nix
{ config, ... }: { clan.machines.srv.imports = [ config.flake.modules.nixos.server ]; clan.inventory.machines.srv = { }; }
"#,
    ));
    expect![[r#"
        module/class-mismatch modules/machine.nix:5:19: The nix-darwin module `flake.modules.darwin.base` is imported into flake.modules.nixos.server, which is evaluated as a NixOS configuration; only NixOS and generic modules can be imported there.
          note modules/defs.nix:1:28: `flake.modules.darwin.base` is defined here
          note modules/defs.nix:1:46: a NixOS module of the same name exists: `flake.modules.nixos.base`
        module/class-mismatch modules/machine.nix:5:27: The home-manager module `flake.modules.homeManager.shell` is imported into flake.modules.nixos.server, which is evaluated as a NixOS configuration; only NixOS and generic modules can be imported there; import home-manager modules through `home-manager.users.<user>.imports` or `home-manager.sharedModules`.
          note modules/defs.nix:1:70: `flake.modules.homeManager.shell` is defined here
        module/class-mismatch modules/machine.nix:6:57: The nix-darwin module `flake.modules.darwin.base` is imported into home-manager.users.alice (in flake.modules.nixos.server), which is evaluated as a home-manager configuration; only home-manager and generic modules can be imported there.
          note modules/defs.nix:1:28: `flake.modules.darwin.base` is defined here
    "#]]
    .assert_eq(&out);
}

#[test]
fn machine_class_comes_from_the_inventory() {
    let fixture = |class: &str| {
        with_flake(&format!(
            r#"#- /modules/defs.nix
{{ flake.modules = {{ darwin.mac = {{ }}; }}; }}
#- /modules/clan.nix
{{ config, ... }}: {{
  clan.inventory.machines.m1 = {{ {class} }};
  clan.machines.m1.imports = [ config.flake.modules.darwin.mac ];
}}
"#
        ))
    };
    expect![[r#"
        machine/class-mismatch modules/clan.nix:2:27: Machine `m1` imports only nix-darwin modules, but it has no `machineClass`, so clan treats it as "nixos"; set `machineClass = "darwin";` in its inventory entry or import NixOS modules.
          note modules/clan.nix:3:60: imports the nix-darwin module `flake.modules.darwin.mac`
    "#]]
    .assert_eq(&check(&fixture("")));
    expect![[""]].assert_eq(&check(&fixture(r#"machineClass = "darwin";"#)));
    // A class the analyzer cannot read: silent.
    expect![[""]].assert_eq(&check(&fixture("machineClass = config.something;")));
}

#[test]
fn unused_is_silent_when_the_module_set_escapes() {
    let out = check(&with_flake(
        r#"#- /modules/defs.nix
{ flake.modules.nixos.a = { }; flake.modules.darwin.b = { }; }
#- /modules/use.nix
{ config, lib, ... }: { flake.nixosConfigurations = builtins.mapAttrs (n: m: m) config.flake.modules.nixos; }
"#,
    ));
    expect![[r#"
        module/unused modules/defs.nix:1:53: `flake.modules.darwin.b` is defined but nothing in this flake imports it.
    "#]]
    .assert_eq(&out);
}

#[test]
fn builtins_that_only_read_names_do_not_let_the_module_set_escape() {
    // `hasAttr`, `attrNames` and the like (as in flake checks) hand back no module.
    let out = check(&with_flake(
        r#"#- /modules/defs.nix
{ flake.modules.nixos.a = { }; }
#- /modules/checks.nix
{ config, ... }: {
  flake.tests.has = builtins.hasAttr "nixos" config.flake.modules;
  flake.tests.names = builtins.attrNames config.flake.modules.nixos;
  flake.tests.count = builtins.length (builtins.attrNames config.flake.modules);
}
"#,
    ));
    expect![[r#"
        module/unused modules/defs.nix:1:23: `flake.modules.nixos.a` is defined but nothing in this flake imports it.
    "#]]
    .assert_eq(&out);
}

#[test]
fn recursive_helpers_in_unused_code_do_not_hide_unused_modules() {
    // Exploring `pow` and `go` with Unknown arguments used to unroll them until the budget
    // ran out, after which any module set might have escaped, and nothing was unused.
    let out = check(&with_flake(
        r#"#- /modules/defs.nix
{ flake.modules.nixos.a = { }; }
#- /modules/lib.nix
{ lib, ... }:
let
  pow = base: exp: if exp == 0 then 1 else base * (pow base (exp - 1));
  digits = s: let go = i: acc: if i == builtins.stringLength s then acc else go (i + 1) (acc * 10); in go 0 0;
in
{ flake.lib.hash = x: pow 2 (digits x); }
"#,
    ));
    expect![[r#"
        module/unused modules/defs.nix:1:23: `flake.modules.nixos.a` is defined but nothing in this flake imports it.
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_lambda_closed_over_each_class_is_explored_for_each() {
    // `pick "nixos"` and `pick "darwin"` are one lambda closed over two classes; both sets
    // escape through the Unknown name, so neither module is unused.
    let out = check(&with_flake(
        r#"#- /modules/defs.nix
{ flake.modules.nixos.a = { }; flake.modules.darwin.b = { }; }
#- /modules/pick.nix
{ config, ... }:
let pick = class: name: config.flake.modules.${class}.${name}; in
{ flake.lib.pick = x: [ (pick "nixos" x) (pick "darwin" x) ]; }
"#,
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn files_with_underscore_paths_are_not_flake_modules() {
    let out = check(&with_flake(
        r#"#- /modules/_private/plain.nix
{ config, ... }: { x = config.flake.modules.nixos.nope; }
#- /modules/home/_hm.nix
{ config, ... }: { y = config.flake.modules.nixos.nope2; }
"#,
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn import_tree_filters_and_explicit_imports_decide_module_files() {
    let out = check(
        r#"#- /flake.nix
{
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } {
    imports = [ ((inputs.import-tree.filterNot (inputs.nixpkgs.lib.hasInfix "/legacy/")) ./modules) ./extra.nix ];
  };
}
#- /modules/legacy/old.nix
{ config, ... }: { x = config.flake.modules.nixos.ignored; }
#- /modules/a.nix
{ flake.modules.nixos.a = { }; }
#- /extra.nix
{ config, ... }: { imports = [ ./more ]; flake.modules.nixos.b.imports = [ config.flake.modules.nixos.a ]; }
#- /more/default.nix
{ config, ... }: { flake.modules.nixos.c.imports = [ config.flake.modules.nixos.b config.flake.modules.nixos.zz ]; }
"#,
    );
    expect![[r#"
        module/unused more/default.nix:1:40: `flake.modules.nixos.c` is defined but nothing in this flake imports it.
        module/undefined more/default.nix:1:110: `flake.modules.nixos.zz` is not defined: no module in this flake defines a NixOS module named `zz`.
    "#]]
    .assert_eq(&out);
}

#[test]
fn import_not_found_for_missing_files_and_directories() {
    let out = check(&with_flake(
        r#"#- /modules/a.nix
{ ... }: {
  flake.modules.nixos.a = {
    imports = [ ./present.nix ./missing.nix ../modules/dir ./emptydir ] ++ [ (./also-missing.nix) ];
  };
}
#- /modules/present.nix
{ }
#- /modules/dir/default.nix
{ }
#- /modules/emptydir/
#- /lib/plain.nix
{ imports = [ ./nope.nix ./${"dyn"}.nix ../../outside.nix ]; }
"#,
    ));
    expect![[r#"
        module/import-not-found lib/plain.nix:1:15: `./nope.nix` does not exist: `lib/nope.nix` is not in the repository (or is ignored by git, which hides it from the flake).
        module/unused modules/a.nix:2:23: `flake.modules.nixos.a` is defined but nothing in this flake imports it.
        module/import-not-found modules/a.nix:3:31: `./missing.nix` does not exist: `modules/missing.nix` is not in the repository (or is ignored by git, which hides it from the flake).
        module/import-not-found modules/a.nix:3:60: `./emptydir` is a directory without a `default.nix`, so the module system cannot import it; name a file inside it.
        module/import-not-found modules/a.nix:3:79: `./also-missing.nix` does not exist: `modules/also-missing.nix` is not in the repository (or is ignored by git, which hides it from the flake).
    "#]]
    .assert_eq(&out);
}

#[test]
fn syntax_errors_are_reported_once_per_file() {
    let out = check(&with_flake("#- /modules/bad.nix\n{ a = 1 b = 2; }\n"));
    assert!(
        out.starts_with("syntax/parse-error modules/bad.nix:1:"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn ignore_comments_silence_codes_and_unknown_codes_are_reported() {
    let out = check(&with_flake(
        r#"#- /modules/a.nix
{
  # infra-check: ignore[module/unused]
  flake.modules.nixos.a = { };
  # infra-check: ignore[module/unsued]
  flake.modules.nixos.b = { };
}
"#,
    ));
    expect![[r#"
        config/unknown-code modules/a.nix:4:25: `module/unsued` is not an infra-check diagnostic code, so this ignore comment has no effect; `infra-check explain --list` lists the codes.
        module/unused modules/a.nix:5:23: `flake.modules.nixos.b` is defined but nothing in this flake imports it.
    "#]]
    .assert_eq(&out);
}

/// A comment silences its own line and the next, and no other: at the end of a line, on the
/// line before, two lines before (not). (Line endings: `suppress::tests`.)
#[test]
fn ignore_comments_reach_their_own_line_and_the_next_only() {
    let out = check(&with_flake(
        "#- /modules/a.nix\n{\n  flake.modules.nixos.a = { }; # infra-check: ignore[module/unused]\n  # infra-check: ignore[module/unused]\n\n  flake.modules.nixos.b = { };\n  # infra-check: ignore[module/unused]\n  flake.modules.nixos.c = { }; }",
    ));
    expect![[r#"
        module/unused modules/a.nix:5:23: `flake.modules.nixos.b` is defined but nothing in this flake imports it.
    "#]]
    .assert_eq(&out);
}

#[test]
fn unknown_codes_in_ignore_comments_follow_the_config_file() {
    let files = |config: &str| {
        format!(
            "#- /infra-check.toml\n{config}\n#- /vendor/a.nix\n# infra-check: ignore[module/unsued]\n{{ }}\n#- /modules/b.nix\n# infra-check: ignore[module/nope]\n{{ }}\n"
        )
    };
    let out = check(&with_flake(&files("exclude = [\"vendor/**\"]")));
    expect![[r#"
        config/unknown-code modules/b.nix:1:23: `module/nope` is not an infra-check diagnostic code, so this ignore comment has no effect; `infra-check explain --list` lists the codes.
    "#]].assert_eq(&out);
    let out = check(&with_flake(&files(
        "exclude = [\"vendor/**\"]\n[severity]\n\"config/unknown-code\" = \"off\"",
    )));
    expect![[r#""#]].assert_eq(&out);
}

#[test]
fn config_file_overrides_severity_and_excludes() {
    let out = check(&with_flake(
        r#"#- /infra-check.toml
exclude = ["modules/skip/**"]
[severity]
"module/unused" = "off"
#- /modules/a.nix
{ flake.modules.nixos.a = { }; }
#- /modules/skip/b.nix
{ a = ; }
"#,
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn arbitrary_bytes_and_deep_nesting_never_panic() {
    let deep = format!("{{ x = {}1{}; }}", "[".repeat(3000), "]".repeat(3000));
    let deep_attrs = format!("{}1{}", "{ a = ".repeat(600), "; }".repeat(600));
    let lets = format!("{}1", "let a = 1; in ".repeat(2000));
    for body in [
        "",
        "\u{0}\u{1}",
        "{ flake.modules.nixos = 1; }",
        "{ flake.modules.${1} = 2; }",
        "let x = x; in x",
        "rec { a = b; b = a; }",
        "{ imports = [ ./. ]; }",
        "''\n  ${",
        &deep,
        &deep_attrs,
        &lets,
    ] {
        let _ = check(&with_flake(&format!("#- /modules/x.nix\n{body}\n")));
    }
}

#[test]
fn machine_class_is_not_assumed_when_the_inventory_is_partly_unreadable() {
    let out = check(&with_flake(
        r#"#- /modules/defs.nix
{ flake.modules.darwin.mac = { }; }
#- /modules/clan.nix
{ config, inputs, ... }: {
  clan.imports = [ inputs.shared.clanModules.inventory ];
  clan.inventory.machines.m1 = { };
  clan.machines.m1.imports = [ config.flake.modules.darwin.mac ];
}
"#,
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn class_mismatch_is_not_repeated_for_undefined_or_optional_modules() {
    let out = check(&with_flake(
        r#"#- /modules/defs.nix
{ inputs, ... }: { flake.modules.darwin = inputs.other.darwinModules; flake.modules.nixos.base = { }; }
#- /modules/m.nix
{ config, ... }: {
  flake.modules.nixos.m.imports = [
    config.flake.modules.nixos.base
    config.flake.modules.homeManager.missing
    (config.flake.modules.darwin.maybe or { })
    config.flake.modules.darwin.surely
  ];
  clan.machines.m.imports = [ config.flake.modules.nixos.m ];
}
"#,
    ));
    expect![[r#"
        module/undefined modules/m.nix:4:38: `flake.modules.homeManager.missing` is not defined: no module in this flake defines a home-manager module named `missing`.
        module/class-mismatch modules/m.nix:6:33: The nix-darwin module `flake.modules.darwin.surely` is imported into flake.modules.nixos.m, which is evaluated as a NixOS configuration; only NixOS and generic modules can be imported there.
    "#]]
    .assert_eq(&out);
}

#[test]
fn modules_named_outside_the_flake_parts_modules_are_used() {
    // `users/ada.nix` is not a flake-parts module (it reaches a machine through extraModules,
    // by path), but the home-manager module it imports is used. The clan services all flow
    // into `clan.modules`. Only `nobody` is unused, and names with dots are quoted.
    let out = check(&with_flake(
        r#"#- /modules/hm.nix
{ flake.modules.homeManager.shell = { }; flake.modules.homeManager.nobody = { }; }
#- /modules/services.nix
{ config, ... }: {
  flake.modules."clan.service".backup = { _class = "clan.service"; manifest.name = "backup"; };
  flake.modules."clan.service"."x.y" = { };
  clan.modules = config.flake.modules."clan.service";
}
#- /users/ada.nix
{ inputs, ... }: { home-manager.users.ada.imports = [ inputs.self.modules.homeManager.shell ]; }
"#,
    ));
    expect![[r#"
        module/unused modules/hm.nix:1:68: `flake.modules.homeManager.nobody` is defined but nothing in this flake imports it.
    "#]]
    .assert_eq(&out);
}

#[test]
fn mistakes_in_files_nothing_imports_are_information() {
    // `templates/service.nix` holds placeholders and nothing imports it; `hosts/web.nix` is
    // imported by path, and `machines/db/configuration.nix` is imported by clan-core itself.
    let files = r#"#- /modules/hosts.nix
{ flake.nixosConfigurations.web = { modules = [ ../hosts/web.nix ]; };
  # Copied into a test VM and read as text: data, not Nix the flake evaluates.
  flake.checks.x = "cp ${../hosts/copied.nix} /etc/home.nix; echo ${builtins.readFile ../hosts/read.nix}";
  # Files picked below a directory by code.
  flake.nixosModules.picked = import (../picked + "/one.nix");
  # `callPackage` of a directory evaluates its default.nix, not every file in it.
  flake.packages.x = callPackage ../pkg { };
  # import-tree skips paths with `/_`.
  flake.nixosModules.tree = inputs.import-tree ../tree; }
#- /tree/a.nix
{ imports = [ ./gone.nix ]; }
#- /tree/_private/b.nix
{ imports = [ ./gone.nix ]; }
#- /pkg/default.nix
{ imports = [ ./gone.nix ]; }
#- /pkg/fixture.nix
{ imports = [ ./gone.nix ]; }
#- /picked/one.nix
{ imports = [ ./gone.nix ]; }
#- /hosts/copied.nix
{ imports = [ ./installed-by-the-test.nix ]; }
#- /hosts/read.nix
{ imports = [ ./gone.nix ]; }
#- /hosts/web.nix
{ imports = [ ./gone.nix ]; services.x = ; }
#- /machines/db/configuration.nix
{ imports = [ ./gone.nix ]; }
#- /templates/service.nix
{ imports = [ ./gone.nix ]; flake.modules.nixos.<NAME> = { }; }
"#;
    let host = crate::tests::host_from_fixture(&with_flake(files));
    let diags = host.snapshot().diagnostics().expect("not cancelled");
    let got: Vec<(&str, &str, crate::Severity)> = diags
        .iter()
        .map(|d| (d.code, &*d.location.file, d.severity))
        .collect();
    use crate::Severity::{Error, Info};
    assert_eq!(
        got,
        vec![
            ("module/import-not-found", "hosts/copied.nix", Info),
            ("module/import-not-found", "hosts/read.nix", Info),
            ("module/import-not-found", "hosts/web.nix", Error),
            ("syntax/parse-error", "hosts/web.nix", Error),
            (
                "module/import-not-found",
                "machines/db/configuration.nix",
                Error
            ),
            ("module/import-not-found", "picked/one.nix", Error),
            ("module/import-not-found", "pkg/default.nix", Error),
            ("module/import-not-found", "pkg/fixture.nix", Info),
            ("module/import-not-found", "templates/service.nix", Info),
            ("syntax/parse-error", "templates/service.nix", Info),
            ("module/import-not-found", "tree/_private/b.nix", Info),
            ("module/import-not-found", "tree/a.nix", Error),
        ],
        "{diags:#?}"
    );
    assert!(diags[9]
        .message
        .contains("Nothing in the flake that infra-check can see imports this file"));
}

#[test]
fn a_nix_file_encrypted_with_sops_is_not_a_syntax_error() {
    let files = r#"#- /modules/a.nix
{ flake.nixosConfigurations.web = { modules = [ ../hosts/token.nix ../hosts/broken.nix ]; }; }
#- /hosts/token.nix
{
	"data": "ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]",
	"sops": { "age": [], "lastmodified": "2026-01-01T00:00:00Z", "version": "3.9.0" }
}
#- /hosts/broken.nix
{ "data": "plain", "version": 1 }
"#;
    let out = check(&with_flake(files));
    assert!(!out.contains("hosts/token.nix"), "{out}");
    assert!(out.contains("syntax/parse-error hosts/broken.nix"), "{out}");
    assert!(!out.contains("ENC["), "{out}");
}

#[test]
fn a_flake_parts_deferred_module_reads_the_flake_through_its_own_config() {
    // `flake.modules.flake.*` are flake-parts modules: their `config` is flake-parts' own, so
    // what they import through it is used (and is no shadowed `config`).
    let out = check(&with_flake(
        r#"#- /modules/parts.nix
{ inputs, ... }: {
  imports = [ inputs.self.modules.flake.top ];
  flake.modules.flake.top = { config, ... }: { imports = [ config.flake.modules.flake.inner ]; };
  flake.modules.flake.inner = { config, ... }: { imports = [ config.flake.modules.flake.nope ]; };
}
"#,
    ));
    expect![[r#"
        module/undefined modules/parts.nix:4:89: `flake.modules.flake.nope` is not defined: no module in this flake defines a flake-parts module named `nope`.
    "#]].assert_eq(&out);
}

#[test]
fn a_machine_configuration_file_sets_the_machine_s_platform() {
    let clan = r#"#- /modules/clan.nix
{
  clan.inventory.machines = { web = { }; mac.machineClass = "darwin"; };
}
"#;
    // clan-core loads `configuration.nix` into every machine: a Linux platform on the darwin
    // machine is a mismatch.
    let out = check(&with_flake(&format!(
        "{clan}#- /machines/mac/configuration.nix\n{{ nixpkgs.hostPlatform = \"x86_64-linux\"; }}\n"
    )));
    assert!(
        out.contains("platform/host-platform-mismatch machines/mac/configuration.nix:1:26"),
        "{out}"
    );
    // `hardware-configuration.nix` only into NixOS machines: the darwin machine never reads
    // it, and the NixOS machine's own is consistent.
    let out = check(&with_flake(&format!(
        "{clan}#- /machines/mac/configuration.nix\n{{ nixpkgs.hostPlatform = \"aarch64-darwin\"; }}\n#- /machines/mac/hardware-configuration.nix\n{{ nixpkgs.hostPlatform = \"x86_64-linux\"; }}\n#- /machines/web/hardware-configuration.nix\n{{ nixpkgs.hostPlatform = \"x86_64-linux\"; }}\n"
    )));
    assert!(!out.contains("platform/"), "{out}");
}

#[test]
fn a_darwin_machine_s_hardware_configuration_is_not_evaluated() {
    // clan-core loads `hardware-configuration.nix` into NixOS machines only.
    let fixture = with_flake(
        "#- /modules/clan.nix\n{ clan.inventory.machines = { web = { }; mac.machineClass = \"darwin\"; }; }\n#- /machines/mac/hardware-configuration.nix\n{ a = ; }\n#- /machines/web/hardware-configuration.nix\n{ a = ; }\n",
    );
    let host = crate::tests::host_from_fixture(&fixture);
    let analysis = host.snapshot();
    let diagnostics = analysis.diagnostics().expect("not cancelled");
    let severity_of = |file: &str| {
        diagnostics
            .iter()
            .find(|d| &*d.location.file == file && d.code == "syntax/parse-error")
            .map(|d| d.severity)
    };
    use crate::diagnostic::Severity;
    assert_eq!(
        severity_of("machines/web/hardware-configuration.nix"),
        Some(Severity::Error)
    );
    assert_eq!(
        severity_of("machines/mac/hardware-configuration.nix"),
        Some(Severity::Info)
    );
}
