use super::words::commands;
use super::*;
use crate::tests::host_from_fixture;

/// Two NixOS machines and one nix-darwin machine.
const CLAN: &str = r#"#- /flake.nix
{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
#- /modules/clan.nix
{ lib, ... }:
{
  clan.inventory.machines = {
    argon = { };
    krypton = { };
    cobalt = { machineClass = "darwin"; };
  };
  clan.machines = lib.genAttrs [ "argon" "krypton" "cobalt" ] (_: { });
}
"#;

fn recipe(name: &str, body: &str) -> JustRecipe {
    JustRecipe {
        namepath: name.into(),
        file: "justfile".into(),
        range: TextRange::new(0, name.len() as u32),
        lines: body.lines().map(String::from).collect(),
        runs_elsewhere: false,
    }
}

/// `code: message` of every finding for the recipes, checked against `fixture`.
fn run(fixture: &str, recipes: &[JustRecipe]) -> Vec<String> {
    let host = host_from_fixture(fixture);
    host.snapshot()
        .justfile_diagnostics(recipes)
        .expect("not cancelled")
        .into_iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

fn findings(body: &str) -> Vec<String> {
    run(CLAN, &[recipe("r", body)])
}

#[test]
fn words_lose_their_quotes_and_computed_ones_are_marked() {
    let cmds = commands(
        "nix build '.#nixosConfigurations.\"argon\".config' \"$x\" a\\ b {{m}} # comment\necho `x`; ls *.nix",
    );
    let words: Vec<Vec<(&str, bool)>> = cmds
        .iter()
        .map(|c| c.iter().map(|w| (w.text.as_str(), w.literal)).collect())
        .collect();
    assert_eq!(
        words,
        vec![
            vec![
                ("nix", true),
                ("build", true),
                (".#nixosConfigurations.\"argon\".config", true),
                ("$x", false),
                ("a b", true),
                ("{{m}}", false),
            ],
            vec![("echo", true), ("`x`", false)],
            vec![("ls", true), ("*.nix", false)],
        ]
    );
    // A backslash-newline joins the lines of one command.
    assert_eq!(commands("a \\\n  b").len(), 1);
}

#[test]
fn a_missing_machine_in_a_configuration_or_an_update_is_reported() {
    let out = findings(
        "nix build .#nixosConfigurations.neon.config.system.build.toplevel\nclan machines update --build-host local argon kryptn",
    );
    assert_eq!(out.len(), 2, "{out:#?}");
    assert_eq!(
        out[0],
        "just/unknown-machine: Recipe `r` names `.#nixosConfigurations.neon`, but `neon` is not a machine of this clan (its machines are `argon`, `cobalt` and `krypton`)."
    );
    assert!(
        out[1].contains("runs `clan machines update kryptn`")
            && out[1].ends_with("Did you mean `krypton`?"),
        "{out:#?}"
    );
}

#[test]
fn quoted_flake_paths_and_attribute_names_are_read() {
    for body in [
        "nix build \".#darwinConfigurations.nope.system\"",
        "nix build 'path:.#darwinConfigurations.\"nope\".system'",
        "nix build ./#darwinConfigurations.nope",
    ] {
        let out = findings(body);
        assert_eq!(out.len(), 1, "{body}: {out:#?}");
        assert!(out[0].contains("`nope` is not a machine"), "{out:#?}");
    }
}

#[test]
fn a_machine_under_the_other_class_is_reported() {
    let out = findings("nix build .#nixosConfigurations.cobalt.config.system.build.toplevel");
    assert_eq!(
        out,
        ["just/unknown-machine: Recipe `r` names `.#nixosConfigurations.cobalt`, but `cobalt` is a darwin machine: its configuration is `.#darwinConfigurations.cobalt`, and `nixosConfigurations` has no `cobalt`."]
    );
}

#[test]
fn computed_names_and_other_flakes_are_silent() {
    for body in [
        "nix build .#nixosConfigurations.{{machine}}.config.system.build.toplevel",
        "nix build .#nixosConfigurations.{{…}}",
        "nix build \".#nixosConfigurations.$1.config\"",
        "nix build .#nixosConfigurations.${HOST}",
        "nix build .#nixosConfigurations.neon{{suffix}}",
        "nix build github:other/fleet#nixosConfigurations.neon",
        "nix build {{flake}}#nixosConfigurations.neon",
        "clan machines update {{machines}}",
        "clan machines update \"$@\"",
        "clan machines update $host",
        "clan machines update --tags server neon",
        "clan machines update --flake github:other/fleet neon",
        "clan machines update --unknown-option neon",
        "echo clan machines update neon",
        "echo \"nix build .#nixosConfigurations.neon\"",
        "# clan machines update neon",
        "cd sub && clan machines update neon",
        "infra-check deploy neon && clan machines update neon",
    ] {
        assert_eq!(findings(body), Vec::<String>::new(), "{body}");
    }
}

#[test]
fn wrappers_before_clan_still_run_it() {
    for body in [
        "direnv exec . clan machines update neon",
        "exec clan machines update neon",
        "nix develop -c clan machines update neon",
        "FOO=1 clan machines update neon",
        "@clan machines update neon",
    ] {
        let out = findings(body);
        assert_eq!(out.len(), 1, "{body}: {out:#?}");
    }
}

#[test]
fn a_partial_listing_names_the_machines_it_leaves_out() {
    let mut fixture = CLAN.replace("krypton = { };", "krypton = { };\n    xenon = { };");
    fixture = fixture.replace("\"krypton\" \"cobalt\"", "\"krypton\" \"xenon\" \"cobalt\"");
    let body = "nix build .#nixosConfigurations.argon.config.system.build.toplevel \\\n  .#nixosConfigurations.krypton.config.system.build.toplevel";
    assert_eq!(
        run(&fixture, &[recipe("build-all", body)]),
        ["just/incomplete-coverage: Recipe `build-all` lists 2 of the clan's 3 NixOS machines and leaves out `xenon`."]
    );
    // `clan machines update a b` lists machines too, and a listing may mix the classes.
    assert_eq!(
        run(&fixture, &[recipe("deploy-some", "clan machines update argon cobalt")]),
        ["just/incomplete-coverage: Recipe `deploy-some` lists 1 of the clan's 3 NixOS machines and leaves out `krypton` and `xenon`."]
    );
    // A name that is no machine is not part of the listing.
    let out = run(&fixture, &[recipe("r", "clan machines update argon neon")]);
    assert!(
        out.len() == 1 && out[0].starts_with("just/unknown-machine"),
        "{out:#?}"
    );
    // All of them, one of them, or some plus a computed one: nothing to say.
    for body in [
        "clan machines update argon krypton xenon",
        "clan machines update argon krypton xenon cobalt",
        "clan machines update argon",
        "clan machines update argon krypton {{more}}",
        "clan machines update",
        "nix build .#nixosConfigurations.argon .#nixosConfigurations.krypton .#nixosConfigurations.{{m}}",
    ] {
        assert_eq!(run(&fixture, &[recipe("r", body)]), Vec::<String>::new(), "{body}");
    }
}

#[test]
fn nothing_is_said_when_the_machines_are_not_all_known() {
    let open = CLAN.replace(
        "cobalt = { machineClass = \"darwin\"; };",
        "cobalt = { machineClass = \"darwin\"; };\n  } // inputs.other.machines // {",
    );
    assert_eq!(
        run(&open, &[recipe("r", "clan machines update neon")]),
        Vec::<String>::new()
    );
}

#[test]
fn configurations_the_flake_defines_itself_may_be_any_name() {
    let own = format!(
        "{CLAN}#- /modules/extra.nix\n{{ inputs, ... }}: {{ flake.nixosConfigurations.neon = inputs.nixpkgs.lib.nixosSystem {{ modules = [ ]; }}; }}\n"
    );
    // `neon` may be that configuration; clan still does not know it.
    assert_eq!(
        run(&own, &[recipe("r", "nix build .#nixosConfigurations.neon")]),
        Vec::<String>::new()
    );
    assert_eq!(
        run(&own, &[recipe("r", "clan machines update neon")]).len(),
        1
    );
    // Darwin configurations are still only the clan's, and reading nixos ones is no definition.
    let reads = format!(
        "{CLAN}#- /modules/extra.nix\n{{ self, ... }}: {{ perSystem.checks.x = self.nixosConfigurations.argon.config.system.build.toplevel; }}\n"
    );
    assert_eq!(
        run(
            &reads,
            &[recipe("r", "nix build .#nixosConfigurations.neon")]
        )
        .len(),
        1
    );
    assert_eq!(
        run(
            &own,
            &[recipe("r", "nix build .#darwinConfigurations.neon")]
        )
        .len(),
        1
    );
}

#[test]
fn a_recipe_running_elsewhere_is_not_checked() {
    let mut r = recipe("r", "clan machines update neon");
    r.runs_elsewhere = true;
    assert_eq!(run(CLAN, &[r]), Vec::<String>::new());
}

#[test]
fn severities_and_excludes_of_infra_check_toml_apply() {
    let off =
        format!("{CLAN}#- /infra-check.toml\n[severity]\n\"just/unknown-machine\" = \"off\"\n");
    assert_eq!(
        run(&off, &[recipe("r", "clan machines update neon")]),
        Vec::<String>::new()
    );
    let excluded = format!("{CLAN}#- /infra-check.toml\nexclude = [\"justfile\"]\n");
    assert_eq!(
        run(&excluded, &[recipe("r", "clan machines update neon")]),
        Vec::<String>::new()
    );
    let error =
        format!("{CLAN}#- /infra-check.toml\n[severity]\n\"just/unknown-machine\" = \"error\"\n");
    let host = host_from_fixture(&error);
    let d = host
        .snapshot()
        .justfile_diagnostics(&[recipe("r", "clan machines update neon")])
        .unwrap();
    assert_eq!(d[0].severity, crate::Severity::Error);
}

#[test]
fn long_bodies_are_read_in_one_pass() {
    let body = "clan machines update ".to_owned() + &"argon krypton \\\n".repeat(20_000);
    let out = findings(&body);
    assert!(out.is_empty(), "{out:?}");
    let quotes = "'".repeat(50_001) + &"\"".repeat(50_001) + &"{".repeat(50_000);
    let _ = findings(&quotes);
}
