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
fn an_unreadable_machine_import_makes_the_machine_reach_every_module() {
    let shared = r#"{ config, ... }: {
  flake.modules.nixos.x = { };
  flake.modules.darwin.x = { imports = [ config.flake.modules.darwin.gone ]; };
}"#;
    // `other` imports something computed: it may be `darwin.x`.
    let out = attributed(&mixed(shared, "").replace(
        "clan.machines.other.imports = [ ];",
        "clan.machines.other.imports = [ (builtins.getFlake \"x\").mod ];",
    ));
    expect![[r#"
        module/undefined modules/shared.nix:3 -> mac mac2 other
    "#]]
    .assert_eq(&out);
}
