//! What the checks say when a data file is broken: the problem is reported, and the findings
//! that depended on what it could have said are not made up.

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
