use expect_test::expect;

use crate::attribution::Affects;
use crate::tests::{host_from_fixture, with_flake};

/// Each diagnostic as `code file:line -> machines` (`all`, or the machines, `-` for none).
fn attributed(fixture: &str) -> String {
    let host = host_from_fixture(fixture);
    let a = host.snapshot();
    let diags = a.diagnostics().expect("not cancelled");
    let affects = a.affected_machines().expect("not cancelled");
    assert_eq!(diags.len(), affects.len());
    let mut out = String::new();
    for (d, m) in diags.iter().zip(affects.iter()) {
        let text = a.file_text(&d.location.file).unwrap_or_default();
        let line = crate::LineIndex::new(&text)
            .line_col_chars(&text, d.location.range.start)
            .line
            + 1;
        let who = match m {
            Affects::All => "all".to_owned(),
            Affects::Machines(ms) if ms.is_empty() => "-".to_owned(),
            Affects::Machines(ms) => ms.iter().cloned().collect::<Vec<_>>().join(" "),
        };
        out.push_str(&format!("{} {}:{line} -> {who}\n", d.code, d.location.file));
    }
    out
}

/// Three darwin machines and one NixOS machine; `shared.nix` defines a NixOS and a darwin
/// module of the same name.
fn mixed(shared: &str, extra: &str) -> String {
    with_flake(&format!(
        r#"#- /modules/shared.nix
{shared}
#- /modules/clan.nix
{{ config, ... }}: {{
  clan.inventory.machines = {{
    lin = {{ }};
    mac = {{ machineClass = "darwin"; }};
    mac2 = {{ machineClass = "darwin"; }};
    other = {{ machineClass = "darwin"; }};
  }};
  clan.machines.lin.imports = [ config.flake.modules.nixos.x ];
  clan.machines.mac.imports = [ config.flake.modules.darwin.x ];
  clan.machines.mac2.imports = [ config.flake.modules.darwin.base ];
  clan.machines.other.imports = [ ];
}}
#- /modules/base.nix
{{ config, ... }}: {{ flake.modules.darwin.base.imports = [ config.flake.modules.darwin.x ]; }}
{extra}"#
    ))
}

#[test]
fn a_finding_in_a_darwin_module_affects_only_the_darwin_machines_reaching_it() {
    let shared = r#"{ config, ... }: {
  flake.modules.nixos.x = { imports = [ config.flake.modules.nixos.missing ]; };
  flake.modules.darwin = {
    x = { imports = [ config.flake.modules.darwin.gone ]; };
  };
}"#;
    expect![[r#"
        module/undefined modules/shared.nix:2 -> lin
        module/undefined modules/shared.nix:4 -> mac mac2
    "#]]
    .assert_eq(&attributed(&mixed(shared, "")));
}

#[test]
fn a_syntax_error_in_a_module_file_affects_every_machine() {
    let shared = r#"{ config, ... }: {
  flake.modules.nixos.x = { networking.hostName = "a" };
  flake.modules.darwin.x = { };
}"#;
    let out = attributed(&mixed(shared, ""));
    assert!(
        out.contains("syntax/parse-error modules/shared.nix:2 -> all"),
        "{out}"
    );
    assert!(!out.contains("-> lin") && !out.contains("-> mac"), "{out}");
}

#[test]
fn flake_level_code_of_a_module_file_affects_every_machine() {
    // A missing flake-parts import fails the flake, though the file also defines a module.
    let shared = r#"{ config, ... }: {
  imports = [ ./gone.nix ];
  flake.modules.nixos.x = { };
  flake.modules.darwin.x = { };
}"#;
    expect![[r#"
        module/import-not-found modules/shared.nix:2 -> all
    "#]]
    .assert_eq(&attributed(&mixed(shared, "")));
}

#[test]
fn a_file_imported_by_path_affects_the_machines_reaching_its_importer() {
    let shared = r#"{ config, ... }: {
  flake.modules.nixos.x = { };
  flake.modules.darwin.x = { imports = [ ./_darwin/extra.nix ]; };
}"#;
    let extra = "#- /modules/_darwin/extra.nix\n{ ... }: { imports = [ ./gone.nix ]; }\n";
    expect![[r#"
        module/import-not-found modules/_darwin/extra.nix:1 -> mac mac2
    "#]]
    .assert_eq(&attributed(&mixed(shared, extra)));
}

#[test]
fn an_error_in_a_machine_s_configuration_file_affects_that_machine() {
    let shared = "{ flake.modules.nixos.x = { }; flake.modules.darwin.x = { }; }";
    let extra = "#- /machines/lin/configuration.nix\n{ ... }: { imports = [ ./gone.nix ]; }\n";
    expect![[r#"
        module/import-not-found machines/lin/configuration.nix:1 -> lin
    "#]]
    .assert_eq(&attributed(&mixed(shared, extra)));
}

#[test]
fn a_mistake_in_a_file_nothing_imports_affects_no_machine() {
    let shared = "{ flake.modules.nixos.x = { }; flake.modules.darwin.x = { }; }";
    let extra = "#- /templates/_default/flake.nix\n{ outputs = { }: { }\n";
    let out = attributed(&mixed(shared, extra));
    expect![[r#"
        syntax/parse-error templates/_default/flake.nix:2 -> -
    "#]]
    .assert_eq(&out);
}

#[test]
fn an_unread_import_reaches_every_module_unread_code_may_pick() {
    let shared = r#"{ config, ... }: {
  flake.modules.nixos.x = { };
  flake.modules.darwin.x = { imports = [ config.flake.modules.darwin.gone ]; };
}"#;
    let other = |imports: &str| {
        attributed(&mixed(shared, "").replace(
            "clan.machines.other.imports = [ ];",
            &format!("clan.machines.other.imports = {imports};"),
        ))
    };
    // `other` imports what code infra-check cannot follow makes of `darwin.x`.
    expect![[r#"
        module/undefined modules/shared.nix:3 -> mac mac2 other
    "#]]
    .assert_eq(&other(
        "[ ((builtins.getFlake \"x\").wrap config.flake.modules.darwin.x) ]",
    ));
    // The whole set of darwin modules goes to code infra-check does not follow: which
    // machine gets which module is not known.
    expect![[r#"
        module/undefined modules/shared.nix:3 -> all
    "#]]
    .assert_eq(&other("builtins.attrValues config.flake.modules.darwin"));
    // Another flake's module cannot name this flake's modules.
    expect![[r#"
        module/undefined modules/shared.nix:3 -> mac mac2
    "#]]
    .assert_eq(&other("[ (builtins.getFlake \"x\").mod ]"));
}

#[test]
fn a_let_binding_counts_for_the_modules_of_a_file_that_only_defines_modules() {
    let shared = |extra: &str| {
        format!(
            r#"{{ config, ... }}:
let
  common = {{ imports = [ ./gone.nix ]; }};
in
{{
  flake.modules.nixos.x = common;
  flake.modules.darwin.x = {{ }};{extra}
}}"#
        )
    };
    expect![[r#"
        module/import-not-found modules/shared.nix:3 -> lin mac mac2
    "#]]
    .assert_eq(&attributed(&mixed(&shared(""), "")));
    // The file sets flake-level options too, which may use the binding.
    expect![[r#"
        module/import-not-found modules/shared.nix:3 -> all
    "#]]
    .assert_eq(&attributed(&mixed(&shared("\n  perSystem = { };"), "")));
}

#[test]
fn an_unreadable_import_of_a_nixos_machine_never_reaches_a_darwin_module() {
    let shared = r#"{ config, ... }: {
  flake.modules.nixos.x = { };
  flake.modules.darwin.x = { imports = [ config.flake.modules.darwin.gone ]; };
}"#;
    // `lin` imports something computed, but the module system refuses a darwin module in a
    // NixOS configuration, so `darwin.x`'s finding is not `lin`'s.
    let out = attributed(&mixed(shared, "").replace(
        "clan.machines.lin.imports = [ config.flake.modules.nixos.x ];",
        "clan.machines.lin.imports = [ (builtins.getFlake \"x\").mod ];",
    ));
    expect![[r#"
        module/unused modules/shared.nix:2 -> -
        module/undefined modules/shared.nix:3 -> mac mac2
    "#]]
    .assert_eq(&out);
}

/// `web` and `db` get the generator `api` from module `base`; only `web`'s vars exist.
const VARS: &str = r#"#- /flake.nix
{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
#- /modules/base.nix
{ config, ... }:
{
  flake.modules.nixos.base = {
    clan.core.vars.generators.api = { files.id.secret = false; script = "generate"; };
  };
  clan.inventory.machines = { web = { }; db = { }; };
  clan.machines.web.imports = [ config.flake.modules.nixos.base ];
  clan.machines.db.imports = [ config.flake.modules.nixos.base ];
}
#- /vars/per-machine/web/api/id/value
api-1
"#;

#[test]
fn missing_vars_affect_exactly_the_machine_lacking_them() {
    expect![[r#"
        vars/missing modules/base.nix:4 -> db
    "#]]
    .assert_eq(&attributed(VARS));
}

#[test]
fn a_missing_shared_generator_affects_every_machine_needing_it() {
    let fixture = VARS
        .replace(
            "files.id.secret = false;",
            "share = true; files.id.secret = false;",
        )
        .replace("#- /vars/per-machine/web/api/id/value\napi-1\n", "");
    expect![[r#"
        vars/missing modules/base.nix:4 -> db web
    "#]]
    .assert_eq(&attributed(&fixture));
}

#[test]
fn vars_of_a_machine_that_is_gone_affect_no_machine() {
    let fixture = format!("{VARS}#- /vars/per-machine/db/api/id/value\napi-2\n#- /vars/per-machine/old/api/id/value\napi-0\n");
    expect![[r#"
        vars/orphan flake.nix:1 -> -
    "#]]
    .assert_eq(&attributed(&fixture));
}

#[test]
fn an_option_error_of_a_standalone_home_configuration_affects_no_machine() {
    let home = |modules: &str| {
        with_flake(&format!(
            r#"#- /modules/home.nix
{{ config, inputs, ... }}: {{
  flake.modules.homeManager.tool = {{ lib, ... }}: {{
    options.mytool.port = lib.mkOption {{ type = lib.types.port; }};
    config.mytool.port = "eighty";
  }};
  flake.homeConfigurations.ada = inputs.home-manager.lib.homeManagerConfiguration {{
    modules = [ config.flake.modules.homeManager.tool ];
  }};
  flake.modules.nixos.web = {{
    imports = [ inputs.home-manager.nixosModules.home-manager ];
    home-manager.users.ada.imports = [ {modules} ];
  }};
  clan.inventory.machines = {{ web = {{ }}; db = {{ }}; }};
  clan.machines.web.imports = [ config.flake.modules.nixos.web ];
  clan.machines.db = {{ }};
}}
"#
        ))
    };
    expect![[r#"
        option/type-mismatch modules/home.nix:4 -> -
    "#]]
    .assert_eq(&attributed(&home("")));
    // The same module in a machine's home-manager user: that machine.
    expect![[r#"
        option/type-mismatch modules/home.nix:4 -> web
    "#]]
    .assert_eq(&attributed(&home("config.flake.modules.homeManager.tool")));
}
