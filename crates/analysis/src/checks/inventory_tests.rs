use expect_test::expect;

use crate::tests::check;

const BASE: &str = r#"#- /infra-check.toml
# These tests are about the inventory: the vars the services would need are not written.
[severity]
"vars/missing" = "off"
#- /flake.nix
{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
#- /modules/machines.nix
{ lib, ... }:
{
  clan.inventory.machines = {
    a = { tags = [ "t" ]; };
    b = { tags = [ "t" ]; };
    c = { tags = [ "t" ]; };
    d = { tags = [ "t" ]; };
    e = { tags = [ "t" ]; };
    mac = { machineClass = "darwin"; };
  };
  clan.machines = lib.genAttrs [ "a" "b" "c" "d" "e" "mac" ] (_: { });
}
"#;

fn with_instances(body: &str) -> String {
    format!("{BASE}#- /modules/instances.nix\n{body}\n")
}

#[test]
fn zerotier_needs_a_controller_and_at_most_four_moons() {
    let out = check(&with_instances(
        r#"{
  clan.inventory.instances.zt = {
    module.name = "zerotier";
    roles.peer.machines.a = { };
    roles.moon.tags = [ "t" ];
  };
}"#,
    ));
    expect![[r#"
        inventory/role-cardinality modules/instances.nix:2:28: Instance `zt` of service `clan-core/zerotier` has no `controller` role, but it requires at least 1 machine(s) in it (zerotier needs exactly one controller: manifest.constraints.roles.controller.minMachines = maxMachines = 1, reported by clan vars generate (cliChecks)). Add `roles.controller.machines.<machine> = { };`.
        inventory/role-cardinality modules/instances.nix:5:25: Role `moon` of service `clan-core/zerotier` instance `zt` allows at most 4 machine(s) but 5 are assigned: `a` (through the tag `t`), `b` (through the tag `t`), `c` (through the tag `t`), `d` (through the tag `t`), `e` (through the tag `t`) (manifest.constraints.roles.moon.maxMachines = 4 (zerotier-idtool 1.x limit on roots per moon), checked by clan vars generate).
          note modules/instances.nix:5:11: role `moon` is declared here
    "#]]
    .assert_eq(&out);
}

#[test]
fn monitoring_needs_exactly_one_server_and_wireguard_roles_exclude_each_other() {
    let out = check(&with_instances(
        r#"{
  clan.inventory.instances.mon = {
    module.name = "monitoring";
    roles.server.machines.a = { };
    roles.server.machines.b = { };
    roles.client.tags = [ "t" ];
  };
  clan.inventory.instances.wg = {
    module.name = "wireguard";
    roles.controller.machines.c = { };
    roles.peer.machines.c = { };
    roles.peer.machines.d = { };
  };
}"#,
    ));
    assert!(
        out.contains("inventory/role-cardinality modules/instances.nix:5:"),
        "{out}"
    );
    assert!(
        out.contains("inventory/role-conflict modules/instances.nix:11:"),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| !l.starts_with(' ')).count(),
        2,
        "{out}"
    );
}

#[test]
fn constraints_that_hold_are_silent() {
    let out = check(&with_instances(
        r#"{
  clan.inventory.instances.zt = {
    module.name = "zerotier";
    roles.controller.machines.a = { };
    roles.peer.tags.t = { };
    roles.moon.machines = { b = { }; c = { }; };
    roles.moon.settings.stableEndpoints = [ "192.0.2.1" ];
  };
  clan.inventory.instances.mon = {
    module.name = "monitoring";
    roles.server.machines.a = { };
    roles.client.tags = [ "t" ];
  };
  clan.inventory.instances.wg = {
    module.name = "wireguard";
    roles.controller.machines.a = { };
    roles.peer.machines = { b = { }; mac = { }; };
  };
}"#,
    ));
    // wireguard has a darwin module: `mac` as a peer is fine.
    expect![[""]].assert_eq(&out);
}

#[test]
fn members_that_cannot_be_known_keep_every_role_check_silent() {
    let out = check(&with_instances(
        r#"{ inputs, lib, ... }:
{
  clan.inventory.instances.zt = {
    module.name = "zerotier";
    roles.controller.machines = inputs.self.lib.controllers;
    roles.peer.tags = inputs.self.lib.peerTags;
  };
  clan.inventory.instances.other = {
    module = { name = "whatever"; input = "clan-core-fork"; };
    roles.anything.machines.nobody = { };
  };
}"#,
    ));
    // `clan-core-fork` is not an input, but the inputs of this flake.nix are all known:
    // that is reported; nothing about the Unknown members is.
    expect![[r#"
        inventory/unknown-input modules/instances.nix:9:43: Instance `other` takes its service from the input `clan-core-fork`, but this flake has no input of that name; `module.input` must be null (clan-core), "self" or one of: `clan-core`, `flake-parts`, `import-tree`.
        inventory/unknown-machine modules/instances.nix:10:29: Role `anything` of instance `other` names the machine `nobody`, which is not in the inventory, `inventory.json`, `machines/` or `clan.machines`; clan-core ignores it silently.
    "#]]
    .assert_eq(&out);
}

#[test]
fn lib_clan_in_flake_nix_is_read() {
    let out = check(
        r#"#- /flake.nix
{
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = { self, clan-core, ... }:
    let
      clan = clan-core.lib.clan {
        inherit self;
        meta.name = "x";
        inventory.machines.web = { };
        inventory.instances.sshd.roles.server.machines.wbe = { };
        machines.web = { };
      };
    in
    { inherit (clan.config) nixosConfigurations; };
}
"#,
    );
    expect![[r#"
        inventory/unknown-machine flake.nix:9:56: Role `server` of instance `sshd` names the machine `wbe`, which is not in the inventory, `inventory.json`, `machines/` or `clan.machines`; clan-core ignores it silently; did you mean `web`?
          note flake.nix:8:28: machine `web` is defined here
          fix: "web"
    "#]]
    .assert_eq(&out);
}

#[test]
fn suggestions_allow_transpositions() {
    assert_eq!(
        super::inventory::suggest("wbe", ["web", "db"].into_iter()),
        Some("web")
    );
    assert_eq!(
        super::inventory::suggest("argonn", ["argon", "radon"].into_iter()),
        Some("argon")
    );
    assert_eq!(super::inventory::suggest("zzz", ["web"].into_iter()), None);
}

/// `BASE` with the clan-core input locked at `last_modified`.
fn locked_at(last_modified: i64, body: &str) -> String {
    with_instances(body) + &crate::tests::clan_core_lock(last_modified)
}

#[test]
fn a_clan_core_newer_than_the_catalog_claims_no_absence() {
    // A darwin machine in a role of a NixOS-only service, an unknown service, an unknown role
    // and an unknown setting: all reported for a clan-core the catalog describes (2026-07-12)…
    let body = r#"{
  clan.inventory.instances.ea = {
    module.name = "emergency-access";
    roles.default.machines.mac = { };
  };
  clan.inventory.instances.nope = { module.name = "no-such-service"; roles.x.machines.a = { }; };
  clan.inventory.instances.zt = {
    module.name = "zerotier";
    roles.controller.machines.a = { };
    roles.relay.machines.b = { };
  };
}"#;
    let known = check(&locked_at(1_783_862_144, body));
    for code in [
        "platform/service-unsupported",
        "inventory/unknown-service",
        "inventory/unknown-role",
    ] {
        assert!(known.contains(code), "{code} missing from:\n{known}");
    }
    // …but a clan-core from after the newest revision the catalog was read from (2026-11-01)
    // may have added any of them.
    expect![[""]].assert_eq(&check(&locked_at(1_793_491_200, body)));
}

#[test]
fn did_you_mean_is_offered_for_the_first_few_hundred_names_only() {
    // Each suggestion is a pass over every candidate: a check that meets thousands of unknown
    // names would otherwise cost their number times the candidates'.
    let mut s = super::inventory::Suggester::new();
    let offered = (0..super::inventory::Suggester::MAX + 50)
        .filter(|_| s.suggest("wbe", ["web", "db"].into_iter()).is_some())
        .count();
    assert_eq!(offered, super::inventory::Suggester::MAX);
}
