//! What the checks say when part of the repository could not be read, or a data file is
//! broken: the problem is reported, and the findings that depended on what it could have said
//! are not made up.

use expect_test::expect;

use crate::tests::check;

/// A clan whose instance names a machine nothing defines and whose module imports a module
/// nothing defines: with every file readable, both are errors.
const BASE: &str = r#"#- /infra-check.toml
[severity]
"vars/missing" = "off"
"module/unused" = "off"
#- /flake.nix
{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
#- /modules/clan.nix
{ config, ... }:
{
  clan.inventory.machines.a = { };
  clan.machines.a.imports = [ config.flake.modules.nixos.base ];
  clan.inventory.instances.sshd = {
    module.name = "sshd";
    roles.server.machines.zz = { };
  };
}
"#;

fn codes(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

#[test]
fn with_everything_readable_both_findings_are_made() {
    let out = check(BASE);
    assert_eq!(
        codes(&out),
        vec!["module/undefined", "inventory/unknown-machine"],
        "{out}"
    );
}

#[test]
fn a_module_file_that_is_a_pipe_is_reported_and_what_it_could_define_is_unknown() {
    let out = check(&format!("{BASE}#- /modules/base.nix !fifo\n"));
    expect![[r#"
        workspace/unreadable flake.nix:1:1: `modules/base.nix` is a named pipe (FIFO), not a regular file, so infra-check did not read it; what it could define is treated as unknown. Replace it with a regular file or remove it.
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_directory_that_cannot_be_listed_is_reported_at_the_import_that_reaches_it() {
    let fixture = BASE.replace(
        "{ config, ... }:\n{\n",
        "{ config, ... }:\n{\n  imports = [ ./private ];\n",
    );
    let out = check(&format!("{fixture}#- /modules/private/ !unreadable\n"));
    expect![[r#"
        workspace/unreadable modules/clan.nix:3:15: The directory `modules/private` could not be read (permission denied), so infra-check did not look inside it; what it could define is treated as unknown. Make it readable or remove it.
    "#]]
    .assert_eq(&out);
}

#[test]
fn an_unreadable_directory_outside_the_module_tree_changes_nothing_else() {
    let out = check(&format!("{BASE}#- /docs/ !unreadable\n"));
    assert_eq!(
        codes(&out),
        vec![
            "workspace/unreadable",
            "module/undefined",
            "inventory/unknown-machine"
        ],
        "{out}"
    );
    assert!(
        out.starts_with("workspace/unreadable flake.nix:1:1: The directory `docs`"),
        "{out}"
    );
}

#[test]
fn an_unreadable_machines_directory_opens_the_machine_set() {
    let out = check(&format!("{BASE}#- /machines/ !unreadable\n"));
    assert_eq!(
        codes(&out),
        vec!["workspace/unreadable", "module/undefined"],
        "{out}"
    );
}

#[test]
fn vars_below_an_unreadable_directory_are_not_missing() {
    let fixture = r#"#- /flake.nix
{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
#- /modules/clan.nix
{
  clan.inventory.machines.a = { };
  clan.machines.a = {
    clan.core.vars.generators.token.files.value.secret = false;
  };
}
"#;
    let missing = check(fixture);
    assert!(missing.contains("vars/missing"), "{missing}");
    let out = check(&format!("{fixture}#- /vars/per-machine/a/ !unreadable\n"));
    assert_eq!(codes(&out), vec!["workspace/unreadable"], "{out}");
}

#[test]
fn an_import_below_an_unreadable_directory_is_not_reported_missing() {
    let fixture = BASE.replace(
        "{ config, ... }:\n{\n",
        "{ config, ... }:\n{\n  imports = [ ./private/x.nix ];\n",
    );
    let out = check(&format!("{fixture}#- /modules/private/ !unreadable\n"));
    assert_eq!(codes(&out), vec!["workspace/unreadable"], "{out}");
    let out = check(&fixture);
    assert!(out.contains("module/import-not-found"), "{out}");
}

#[test]
fn a_flake_nix_that_cannot_be_read_leaves_everything_unknown() {
    let out = check(
        "#- /flake.nix !fifo\n#- /machines/a/\n#- /modules/a.nix\n{ x = config.flake.modules.nixos.nope; }\n",
    );
    expect![[r#"
        workspace/unreadable flake.nix:1:1: `flake.nix` is a named pipe (FIFO), not a regular file, so nothing the flake defines could be checked. Replace it with a regular file or remove it.
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_broken_inventory_json_is_an_error_and_opens_the_machine_set() {
    for (text, what) in [
        ("", "is empty"),
        (
            "{ \"machines\": { \"a\": {",
            "ends before the JSON is complete (line 2",
        ),
        ("{ machines }", "is not valid JSON (line 1, column 3)"),
        ("null", "holds `null` where clan expects an object"),
        ("[ \"zz\" ]", "holds a list where clan expects an object"),
        (
            "{ \"machines\": [ \"zz\" ] }",
            "has a list under `machines`, where clan expects an object of machines",
        ),
    ] {
        let out = check(&format!("{BASE}#- /inventory.json\n{text}\n"));
        assert_eq!(
            codes(&out),
            vec!["workspace/invalid-data", "module/undefined"],
            "{text}: {out}"
        );
        assert!(
            out.starts_with("workspace/invalid-data inventory.json:"),
            "{text}: {out}"
        );
        assert!(
            out.contains(&format!("`inventory.json` {what}")),
            "{text}: {out}"
        );
    }
}

#[test]
fn a_machine_entry_of_the_wrong_shape_is_reported_where_it_is() {
    let out = check(&format!(
        "{BASE}#- /inventory.json\n{{\n  \"machines\": {{\n    \"zz\": [ ]\n  }}\n}}\n"
    ));
    assert!(
        out.starts_with("workspace/invalid-data inventory.json:3:5: `inventory.json` has a list for a machine (at the marked key), where clan expects an object"),
        "{out}"
    );
    // The machine exists (its name is a key); what it says about itself is unknown.
    assert_eq!(
        codes(&out),
        vec!["workspace/invalid-data", "module/undefined"],
        "{out}"
    );
}

#[test]
fn a_valid_inventory_json_adds_its_machines() {
    let out = check(&format!(
        "{BASE}#- /inventory.json\n{{ \"machines\": {{ \"zz\": {{ \"tags\": [ \"x\" ] }} }} }}\n"
    ));
    assert_eq!(codes(&out), vec!["module/undefined"], "{out}");
}

#[test]
fn a_broken_flake_lock_is_an_error_at_its_place() {
    for (text, at, what) in [
        ("", "1:1", "is empty"),
        ("{\n  \"nodes\": {\n", "4:1", "ends before the JSON is complete"),
        ("null", "1:1", "holds `null` where Nix expects an object"),
        ("[]", "1:1", "holds a list where Nix expects an object"),
        ("{ \"version\": 7 }", "1:1", "has no `nodes`"),
        (
            "{ \"nodes\": { \"root\": { \"inputs\": [] } }, \"root\": \"root\" }",
            "1:24",
            "has a list as the root node's `inputs`",
        ),
        (
            "{ \"nodes\": { \"root\": { \"inputs\": { \"clan-core\": \"gone\" } } } }",
            "1:36",
            "names a node for an input of the root node (at the marked key) that `nodes` does not have",
        ),
    ] {
        let out = check(&format!("{BASE}#- /flake.lock\n{text}\n"));
        assert!(
            out.contains(&format!(
                "workspace/invalid-data flake.lock:{at}: `flake.lock` {what}"
            )),
            "{text}: {out}"
        );
    }
    let good = "{ \"nodes\": { \"root\": { \"inputs\": { \"clan-core\": \"clan-core\", \"nixpkgs\": [ \"clan-core\", \"nixpkgs\" ] } }, \"clan-core\": { \"locked\": { \"rev\": \"abc\", \"lastModified\": 1750000000 } } }, \"root\": \"root\", \"version\": 7 }";
    let out = check(&format!("{BASE}#- /flake.lock\n{good}\n"));
    assert!(!out.contains("workspace/invalid-data"), "{out}");
}

#[test]
fn a_module_file_that_cannot_be_read_may_use_any_module() {
    let fixture = BASE
        .replace("\"module/unused\" = \"off\"\n", "")
        .replace(
            "  clan.inventory.machines.a = { };\n",
            "  clan.inventory.machines.a = { };\n  flake.modules.nixos.base = { };\n  flake.modules.nixos.spare = { };\n",
        );
    let out = check(&fixture);
    assert!(out.contains("module/unused modules/clan.nix:5:"), "{out}");
    // It may also define the machine the instance names.
    let out = check(&format!("{fixture}#- /modules/other.nix !fifo\n"));
    assert_eq!(codes(&out), vec!["workspace/unreadable"], "{out}");
}

#[test]
fn a_module_file_that_cannot_be_read_may_declare_any_option_of_the_repository() {
    let fixture = r#"#- /flake.nix
{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
#- /modules/fleet.nix
{ config, ... }:
{
  flake.modules.nixos.fleet = { lib, ... }: {
    options.fleet.port = lib.mkOption { type = lib.types.port; };
  };
  flake.modules.nixos.web = { imports = [ config.flake.modules.nixos.fleet ]; fleet.port = 1; fleet.extra = 2; };
  clan.inventory.machines.web = { };
  clan.machines.web.imports = [ config.flake.modules.nixos.web ];
}
"#;
    let out = check(fixture);
    assert!(out.contains("option/unknown modules/fleet.nix:6:"), "{out}");
    let out = check(&format!("{fixture}#- /modules/more-options.nix !fifo\n"));
    assert_eq!(codes(&out), vec!["workspace/unreadable"], "{out}");
}
