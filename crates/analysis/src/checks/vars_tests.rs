use expect_test::expect;

use crate::tests::check;

const SOPS: &str = r#"{"data": "ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]", "sops": {"age": [], "version": "3.9.0"}}"#;

/// A flake with one NixOS machine `web` (and a darwin machine `mac`), whose module `base`
/// declares the generator `api` with a secret `token` and a public `id`.
fn fleet(extra: &str) -> String {
    format!(
        r#"#- /flake.nix
{{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  inputs.clan-core.url = "github:clan-lol/clan-core";
  outputs = inputs@{{ flake-parts, ... }}:
    flake-parts.lib.mkFlake {{ inherit inputs; }} (inputs.import-tree ./modules);
}}
#- /modules/base.nix
{{ config, lib, ... }}:
{{
  flake.modules.nixos.base = {{ config, pkgs, ... }}: {{
    clan.core.vars.generators.api = {{
      files.token = {{ }};
      files.id.secret = false;
      script = "generate";
    }};
    services.api.tokenFile = config.clan.core.vars.generators.api.files.token.path;
  }};
  clan.inventory.machines.web = {{ }};
  clan.inventory.machines.mac.machineClass = "darwin";
  clan.machines.web.imports = [ config.flake.modules.nixos.base ];
  clan.machines.mac = {{ }};
}}
#- /sops/machines/web/key.json
[ {{ "publickey": "age1xyz", "type": "age" }} ]
#- /sops/users/admin/key.json
[ {{ "publickey": "age1abc", "type": "age" }} ]
{extra}"#
    )
}

const COMPLETE_VARS: &str = r#"#- /vars/per-machine/web/api/id/value
api-1
#- /vars/per-machine/web/api/token/secret
SOPS
#- /vars/per-machine/web/api/token/machines/web -> ../../../../../../sops/machines/web
#- /vars/per-machine/web/api/token/users/admin -> ../../../../../../sops/users/admin
"#;

fn complete() -> String {
    COMPLETE_VARS.replace("SOPS", SOPS)
}

#[test]
fn a_complete_vars_tree_is_clean() {
    expect![[""]].assert_eq(&check(&fleet(&complete())));
}

#[test]
fn missing_generator_file_link_and_key_are_reported() {
    // No vars at all.
    let out = check(&fleet(""));
    assert!(
        out.starts_with(
            "vars/missing modules/base.nix:4:31: Machine `web` needs the generator `api`"
        ),
        "{out}"
    );
    assert!(
        out.contains("`vars/per-machine/web/api/` does not exist"),
        "{out}"
    );
    // The fix is the command that generates the vars, not an edit.
    let host = crate::tests::host_from_fixture(&fleet(""));
    let diags = host.snapshot().diagnostics().expect("not cancelled");
    let missing = diags
        .iter()
        .find(|d| d.code == "vars/missing")
        .unwrap_or_else(|| panic!("no vars/missing in {out}"));
    let fix = missing.fix.as_ref().expect("vars/missing carries a fix");
    assert_eq!(fix.command.as_deref(), Some("clan vars generate web"));
    assert!(fix.edits.is_empty());
    // The public file is gone.
    let out = check(&fleet(
        &complete().replace("#- /vars/per-machine/web/api/id/value\napi-1\n", ""),
    ));
    expect![[r#"
        vars/missing modules/base.nix:4:31: Machine `web` needs the file `id` of generator `api` (declared in `flake.modules.nixos.base`), but `vars/per-machine/web/api/id/value` does not exist. Run `clan vars generate web`.
          note modules/base.nix:11:27: machine `web`
    "#]]
    .assert_eq(&out);
    // The secret is not encrypted for the machine.
    let out = check(&fleet(&complete().replace(
        "#- /vars/per-machine/web/api/token/machines/web -> ../../../../../../sops/machines/web\n",
        "",
    )));
    assert!(out.starts_with("vars/not-deployed modules/base.nix:4:31: The secret `api/token` is decrypted on machine `web` (needed for services), but it is not encrypted for the machine"), "{out}");
    assert!(out.contains("Run `clan vars fix web`."), "{out}");
    // The machine has no key (and the link into sops/machines dangles).
    let out = check(&fleet(&complete()).replace(
        "#- /sops/machines/web/key.json\n[ { \"publickey\": \"age1xyz\", \"type\": \"age\" } ]\n",
        "",
    ));
    assert!(out.contains("vars/machine-key-missing modules/base.nix:11:27: Machine `web` has secret vars it decrypts itself (needed for users or services), but `sops/machines/web/key.json` does not exist"), "{out}");
    assert!(
        out.contains("vars/dangling-link vars/per-machine/web/api/token/machines/web:1:1"),
        "{out}"
    );
}

#[test]
fn deploy_false_conditional_and_darwin_cases_stay_silent() {
    let out = check(&(fleet(&complete()).replace(
        "      script = \"generate\";\n    };",
        "      script = \"generate\";\n    };\n    clan.core.vars.generators.backup-key = { files.key.deploy = false; };\n    clan.core.vars.generators.maybe = lib.mkIf config.services.x.enable { files.y = { }; };",
    ) + &r#"#- /vars/per-machine/web/backup-key/key/secret
SOPS
#- /vars/per-machine/web/backup-key/key/users/admin -> ../../../../../../sops/users/admin
"#
    .replace("SOPS", SOPS)));
    // `backup-key` is not deployed, so it needs no machines/web link; `maybe` depends on an
    // unknown condition; `mac` (darwin) gets nothing from the NixOS module.
    expect![[""]].assert_eq(&out);
}

#[test]
fn reads_on_a_branch_of_an_unknown_condition_are_not_reported() {
    // The branch that reads `apii` may never be taken (the condition is unknown); the same
    // read outside the `if` is reported above.
    let out = check(&fleet(&complete()).replace(
        "config.clan.core.vars.generators.api.files.token.path",
        "if config.services.api.legacy then config.clan.core.vars.generators.apii.files.token.path else config.clan.core.vars.generators.api.files.token.path",
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn undeclared_generator_and_file_reads_are_reported() {
    let out = check(&fleet(&complete()).replace(
        "config.clan.core.vars.generators.api.files.token.path",
        "[ config.clan.core.vars.generators.apii.files.token.path config.clan.core.vars.generators.api.files.tokn.path ]",
    ));
    expect![[r#"
        vars/undeclared-reference modules/base.nix:9:76: `flake.modules.nixos.base` reads the generator `apii`, which is not declared for `web`, the machine that uses this module; did you mean `api`?
        vars/undeclared-reference modules/base.nix:9:130: `flake.modules.nixos.base` reads the file `tokn` of generator `api`, which has no such file on machine `web`; did you mean `token`?
    "#]]
    .assert_eq(&out);
}

#[test]
fn orphans_plaintext_and_stale_validation() {
    let extra = complete()
        + r#"#- /vars/per-machine/oldbox/api/id/value
x
#- /vars/per-machine/web/retired/x/value
x
#- /sops/machines/oldbox/key.json
[]
#- /vars/shared/nobody/x/secret
not encrypted at all
"#;
    let out = check(&fleet(&extra));
    expect![[r#"
        vars/orphan flake.nix:1:1: `sops/machines/oldbox/` holds the key of `oldbox`, which is not a machine of this clan. Remove it with `clan secrets machines remove oldbox` if the machine is gone.
        vars/orphan flake.nix:1:1: `vars/per-machine/oldbox/` holds vars of `oldbox`, which is not a machine of this clan. Delete it if the machine is gone.
        vars/orphan flake.nix:1:1: `vars/shared/nobody/` holds vars of the shared generator `nobody`, which no machine gets.
        vars/orphan modules/base.nix:11:27: `vars/per-machine/web/retired/` holds vars of the generator `retired`, which machine `web` does not get.
        vars/plaintext-secret vars/shared/nobody/x/secret:1:1: `vars/shared/nobody/x/secret` is not sops-encrypted JSON: this secret is committed in plain text (its content is not shown). Rotate it and regenerate it with `clan vars generate`.
    "#]]
    .assert_eq(&out);
    assert!(!out.contains("not encrypted at all"));

    // validation: the hash of `{"domain":"example.org"}` as Nix's toJSON writes it.
    let validated = fleet(&complete()).replace(
        "      script = \"generate\";",
        "      script = \"generate\";\n      validation = { domain = \"example.org\"; };",
    );
    let good = "a8f6a0b3d5ed2c9b1d0b1e4c4f4a2b7e6a8b0f4e0f3f0e2a1c3b5d7e9f1a3c5e";
    let out = check(&format!(
        "{validated}#- /vars/per-machine/web/api/.validation-hash\n{good}\n"
    ));
    assert!(
        out.starts_with("vars/validation-stale modules/base.nix:4:31:"),
        "{out}"
    );
    let real = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(br#"{"domain":"example.org"}"#))
    };
    let out = check(&format!(
        "{validated}#- /vars/per-machine/web/api/.validation-hash\n{real}\n"
    ));
    expect![[""]].assert_eq(&out);
}

#[test]
fn a_darwin_machine_in_a_nixos_only_service_needs_no_vars() {
    let out = check(&fleet(&complete()).replace(
        "  clan.machines.mac = { };",
        "  clan.machines.mac = { };\n  clan.inventory.instances.sshd.roles.server.tags.all = { };",
    ));
    let codes: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    // web lacks sshd's vars; mac gets nothing from sshd (no darwin module), so only the
    // platform warning names it.
    assert!(codes.contains(&"platform/service-unsupported"), "{out}");
    assert!(codes.contains(&"vars/missing"), "{out}");
    for line in out.lines().filter(|l| l.starts_with("vars/")) {
        assert!(!line.contains("`mac`"), "{line}");
    }
}

/// The fleet with `neededFor` set on the secret `token`.
fn fleet_needed_for(needed_for: &str, vars: &str) -> String {
    fleet(vars).replace(
        "files.token = { };",
        &format!("files.token.neededFor = \"{needed_for}\";"),
    )
}

#[test]
fn secrets_needed_for_activation_or_partitioning_need_no_machine_link() {
    // clan decrypts these with the admin's key and uploads them during deploy: the machine is
    // not a recipient, so a missing `machines/web` link is no error (nor a missing key).
    let unlinked = complete().replace(
        "#- /vars/per-machine/web/api/token/machines/web -> ../../../../../../sops/machines/web\n",
        "",
    );
    for phase in ["activation", "partitioning"] {
        expect![[""]].assert_eq(&check(&fleet_needed_for(phase, &unlinked)));
        let no_key = fleet_needed_for(phase, &unlinked).replace(
            "#- /sops/machines/web/key.json\n[ { \"publickey\": \"age1xyz\", \"type\": \"age\" } ]\n",
            "",
        );
        expect![[""]].assert_eq(&check(&no_key));
    }
    // `users` and `services` secrets become sops-nix secrets the machine decrypts.
    for phase in ["users", "services"] {
        let out = check(&fleet_needed_for(phase, &unlinked));
        assert!(
            out.starts_with(&format!("vars/not-deployed modules/base.nix:4:31: The secret `api/token` is decrypted on machine `web` (needed for {phase})")),
            "{out}"
        );
    }
    // A `neededFor` infra-check cannot read could be either: silent.
    let unknown =
        fleet(&unlinked).replace("files.token = { };", "files.token.neededFor = pkgs.phase;");
    expect![[""]].assert_eq(&check(&unknown));
}

#[test]
fn generators_clan_core_declares_itself_are_not_orphans() {
    // clan-core's own NixOS modules declare `state-version` (on by default through
    // `enableRecommendedDefaults`) and `machine-id` (when enabled) on every NixOS machine.
    let own = complete()
        + "#- /vars/per-machine/web/state-version/version/value\n25.05\n\
           #- /vars/per-machine/web/machine-id/machineId/value\n0123456789abcdef0123456789abcdef\n";
    expect![[""]].assert_eq(&check(&fleet(&own)));
    // Not on darwin machines: those modules are NixOS-only.
    let darwin = complete() + "#- /vars/per-machine/mac/state-version/version/value\n25.05\n";
    let out = check(&fleet(&darwin));
    assert!(
        out.contains("`vars/per-machine/mac/state-version/` holds vars of the generator `state-version`, which machine `mac` does not get."),
        "{out}"
    );
    // Nor before clan-core had them (a lock from 2025-05-01).
    let lock = crate::tests::clan_core_lock(1_746_057_600);
    let out = check(&fleet(&(own + &lock)));
    assert!(
        out.contains(
            "`vars/per-machine/web/state-version/` holds vars of the generator `state-version`"
        ),
        "{out}"
    );
}

#[test]
fn orphans_that_are_only_a_guess_are_one_info_per_machine() {
    // `web` imports a module from another flake: its generators are not all known, so vars
    // nothing known declares may still be in use. One info names them all.
    let opaque = fleet(
        &(complete()
            + "#- /vars/per-machine/web/mail/x/value\nx\n#- /vars/per-machine/web/dns/x/value\nx\n"),
    )
    .replace(
        "clan.machines.web.imports = [ config.flake.modules.nixos.base ];",
        "clan.machines.web.imports = [ config.flake.modules.nixos.base inputs.srvos.nixosModules.server ];",
    )
    .replace("{ config, lib, ... }:\n{\n  flake", "{ config, lib, inputs, ... }:\n{\n  flake");
    let out = check(&opaque);
    expect![[r#"
        vars/orphan modules/base.nix:11:27: `vars/per-machine/web/` holds vars of 2 generators that machine `web` does not get as far as infra-check can see (`dns`, `mail`); the machine imports modules infra-check cannot read, which may declare them.
    "#]]
    .assert_eq(&out);
    let host = crate::tests::host_from_fixture(&opaque);
    let diags = host.snapshot().diagnostics().expect("not cancelled");
    assert_eq!(diags[0].severity, crate::Severity::Info);
}

#[test]
fn secrets_of_another_secret_store_are_not_looked_for_in_the_repository() {
    // Only the public `id` is on disk; the secret `token` lives in the password store.
    let public_only = "#- /vars/per-machine/web/api/id/value\napi-1\n";
    for setting in [
        "clan.vars.settings.secretStore = \"password-store\";",
        "clan.vars.settings.secretStore = inputs.self.store;",
    ] {
        let repo = fleet(public_only).replace(
            "clan.inventory.machines.web = { };",
            &format!("clan.inventory.machines.web = {{ }};\n  {setting}"),
        );
        expect![[""]].assert_eq(&check(&repo));
    }
    // Set on the machine (clan's older, machine-level spelling).
    let machine_level = fleet(public_only).replace(
        "services.api.tokenFile",
        "clan.core.vars.settings.secretStore = \"age\";\n    services.api.tokenFile",
    );
    expect![[""]].assert_eq(&check(&machine_level));
    // Public files are still in the repository and still checked.
    let repo = fleet("").replace(
        "clan.inventory.machines.web = { };",
        "clan.inventory.machines.web = { };\n  clan.vars.settings.secretStore = \"password-store\";",
    );
    let out = check(&repo);
    assert!(
        out.starts_with(
            "vars/missing modules/base.nix:4:31: Machine `web` needs the generator `api`"
        ),
        "{out}"
    );
    // sops, said explicitly, is the default.
    let sops = fleet(public_only).replace(
        "clan.inventory.machines.web = { };",
        "clan.inventory.machines.web = { };\n  clan.vars.settings.secretStore = \"sops\";",
    );
    assert!(check(&sops).contains("vars/missing"), "{}", check(&sops));
}

/// `machines/<m>/<file>` with `text`, as clan-core loads it into machine `m`.
fn machine_file(machine: &str, file: &str, text: &str) -> String {
    format!("#- /machines/{machine}/{file}\n{text}\n")
}

#[test]
fn a_machine_configuration_file_is_read_as_the_machine_s_module() {
    // clan-core imports `machines/web/configuration.nix` (and what it imports by path) into
    // `web` by itself: the generator it declares is the machine's, and so is its read.
    let config = machine_file(
        "web",
        "configuration.nix",
        "{ config, ... }: {\n  imports = [ ./mail.nix ];\n  services.x.file = config.clan.core.vars.generators.mail.files.key.path;\n}",
    ) + &machine_file("web", "mail.nix", "{\n  clan.core.vars.generators.mail.files.key.secret = false;\n}");
    let generated = "#- /vars/per-machine/web/mail/key/value\nk\n";
    expect![[""]].assert_eq(&check(&fleet(&(complete() + &config + generated))));
    // Not generated yet: reported where the included file declares it.
    let out = check(&fleet(&(complete() + &config)));
    assert!(
        out.starts_with("vars/missing machines/web/mail.nix:2:29: Machine `web` needs the generator `mail` (declared in `machines/web/configuration.nix`)"),
        "{out}"
    );
    // Everything the machine imports is read: a generator nothing declares is an orphan, and
    // a read of an undeclared one an error.
    let stray = "#- /vars/per-machine/web/old/x/value\nx\n";
    let out = check(&fleet(&(complete() + &config + generated + stray)));
    expect![[r#"
        vars/orphan modules/base.nix:11:27: `vars/per-machine/web/old/` holds vars of the generator `old`, which machine `web` does not get.
    "#]]
    .assert_eq(&out);
    let typo = config.replace(
        "generators.mail.files.key.path",
        "generators.mial.files.key.path",
    );
    let out = check(&fleet(&(complete() + &typo + generated)));
    expect![[r#"
        vars/undeclared-reference machines/web/configuration.nix:3:65: `machines/web/configuration.nix` reads the generator `mial`, which is not declared for `web`, the machine that uses this module; did you mean `mail`?
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_machine_configuration_file_gets_self_and_inputs_as_clan_passes_them() {
    // `base` is imported only by the configuration file; its generator `api` is the machine's.
    let repo = |config: &str, special: &str| {
        fleet(&(complete() + &machine_file("web", "configuration.nix", config))).replace(
            "clan.machines.web.imports = [ config.flake.modules.nixos.base ];",
            special,
        )
    };
    for import in [
        "self.modules.nixos.base",
        "self.inputs.self.modules.nixos.base",
    ] {
        let config = format!("{{ self, ... }}: {{ imports = [ {import} ]; }}");
        expect![[""]].assert_eq(&check(&repo(&config, "")));
        // Without the generator's vars, `api` is missing: the import was followed.
        let out =
            check(&repo(&config, "").replace("#- /vars/per-machine/web/api/id/value\napi-1\n", ""));
        assert!(out.contains("vars/missing"), "{out}");
    }
    // `inputs` only exists when the clan's `specialArgs` passes it.
    let config = "{ inputs, ... }: { imports = [ inputs.self.modules.nixos.base ]; }";
    let passed = "clan.specialArgs = { inherit inputs; };";
    let stray = "#- /vars/per-machine/web/old/x/value\nx\n";
    let with_inputs =
        repo(config, passed).replace("{ config, lib, ... }:", "{ config, lib, inputs, ... }:");
    assert!(check(&(with_inputs.clone() + stray)).contains("which machine `web` does not get."));
    // Not passed: `inputs` is not known, so neither is what the machine imports.
    let out = check(&(repo(config, "") + stray));
    assert!(out.contains("as far as infra-check can see"), "{out}");
}

#[test]
fn what_a_machine_configuration_file_cannot_show_keeps_the_machine_incomplete() {
    let stray = "#- /vars/per-machine/web/mail/x/value\nx\n";
    let guess = "vars/orphan modules/base.nix:11:27: `vars/per-machine/web/` holds vars of 1 generator that machine `web` does not get as far as infra-check can see (`mail`); the machine imports modules infra-check cannot read, which may declare it.\n";
    for config in [
        // Another flake's module, a module exported in a way infra-check does not follow.
        "{ self, ... }: { imports = [ self.inputs.srvos.nixosModules.server ]; }",
        "{ self, ... }: { imports = [ self.nixosModules.mail ]; }",
        // A module argument clan does not pass by default.
        "{ ctx, ... }: { imports = [ ctx.mail ]; }",
        // A file that is not there to read.
        "{ imports = [ ./mail.nix ]; }",
    ] {
        let out = check(&fleet(
            &(complete() + stray + &machine_file("web", "configuration.nix", config)),
        ));
        assert!(out.contains(guess), "{config}: {out}");
        assert!(
            !out.contains("which machine `web` does not get."),
            "{config}: {out}"
        );
    }
    // A file clan-core would load that could not be read.
    let out = check(&fleet(
        &(complete() + stray + "#- /machines/web/disko.nix !fifo\n"),
    ));
    assert!(out.contains(guess), "{out}");
}

#[test]
fn hardware_and_disko_files_are_loaded_on_nixos_only() {
    // On the darwin machine `mac`, clan-core loads only `configuration.nix`.
    let read = "{ config, ... }: { x = config.clan.core.vars.generators.nope.files.y.path; }";
    let out = check(&fleet(
        &(complete() + &machine_file("web", "disko.nix", read)),
    ));
    assert!(
        out.contains("vars/undeclared-reference machines/web/disko.nix:1:68"),
        "{out}"
    );
    expect![[""]].assert_eq(&check(&fleet(
        &(complete() + &machine_file("mac", "disko.nix", read)),
    )));
    let out = check(&fleet(
        &(complete() + &machine_file("mac", "configuration.nix", read)),
    ));
    assert!(
        out.contains("vars/undeclared-reference machines/mac/configuration.nix:1:68"),
        "{out}"
    );
}

#[test]
fn service_generators_of_a_clan_core_newer_than_the_catalog_are_only_possible() {
    let users = |t: i64| {
        fleet(&(complete() + &crate::tests::clan_core_lock(t))).replace(
            "clan.inventory.machines.web = { };",
            "clan.inventory.machines.web = { };\n  clan.inventory.instances.ada = { module.name = \"users\"; roles.default.machines.web = { }; roles.default.settings.user = \"ada\"; };",
        )
    };
    // 2026-07-12: the catalog knows the `users` service creates `user-password-ada`.
    let out = check(&users(1_783_862_144));
    assert!(
        out.contains("needs the generator `user-password-ada`"),
        "{out}"
    );
    // 2026-11-01: newer than any clan-core the catalog was read from.
    expect![[""]].assert_eq(&check(&users(1_793_491_200)));
}

#[test]
fn a_machine_from_inventory_json_is_pointed_at_where_it_is_named() {
    // `db` is only in inventory.json; its stray generator is reported at its name there.
    let repo = fleet(
        &(complete()
            + "#- /inventory.json\n{\n  \"machines\": {\n    \"db\": { \"tags\": [] }\n  }\n}\n\
               #- /vars/per-machine/db/old/x/value\nx\n"),
    );
    let out = check(&repo);
    assert!(
        out.contains("vars/orphan inventory.json:3:5: `vars/per-machine/db/old/`"),
        "{out}"
    );
}

#[test]
fn a_machine_link_on_a_secret_that_is_not_deployed_is_stale_access() {
    let lock = |t: i64| crate::tests::clan_core_lock(t);
    let undeployed =
        |vars: &str| fleet(vars).replace("files.token = { };", "files.token.deploy = false;");
    // 2026-07-12: `clan vars fix` removes such links.
    let out = check(&undeployed(&(complete() + &lock(1_783_862_144))));
    expect![[r#"
        vars/stale-access modules/base.nix:5:13: The secret `api/token` has `deploy = false`, so machine `web` never receives it, but `vars/per-machine/web/api/token/machines/web` still encrypts it for the machine's key. Run `clan vars fix web`: it removes the link and re-encrypts the secret for the remaining recipients.
    "#]]
    .assert_eq(&out);
    let host = crate::tests::host_from_fixture(&undeployed(&(complete() + &lock(1_783_862_144))));
    let diags = host.snapshot().diagnostics().expect("not cancelled");
    let fix = diags[0].fix.as_ref().expect("a fix");
    assert_eq!(fix.command.as_deref(), Some("clan vars fix web"));
    // Repaired: the link is gone.
    let repaired = complete().replace(
        "#- /vars/per-machine/web/api/token/machines/web -> ../../../../../../sops/machines/web\n",
        "",
    );
    expect![[""]].assert_eq(&check(&undeployed(&(repaired + &lock(1_783_862_144)))));
    // A shared generator's link is the machine's too.
    let shared = complete()
        .replace("per-machine/web/api", "shared/api")
        .replace("../../../../../../", "../../../../../");
    let out = check(&undeployed(&(shared + &lock(1_783_862_144))).replace(
        "script = \"generate\";",
        "share = true;\n      script = \"generate\";",
    ));
    assert!(
        out.contains("vars/stale-access modules/base.nix:5:13: The secret `api/token`"),
        "{out}"
    );
    assert!(
        out.contains("`vars/shared/api/token/machines/web`"),
        "{out}"
    );
}

#[test]
fn stale_access_needs_a_known_deploy_and_a_clan_core_whose_fix_removes_it() {
    let with = |decl: &str, lock: &str| {
        check(&fleet(&(complete() + lock)).replace("files.token = { };", decl))
    };
    let new = crate::tests::clan_core_lock(1_783_862_144);
    // Deployed (the default), or `deploy` not known: the link is needed or may be.
    for decl in [
        "files.token = { };",
        "files.token.deploy = true;",
        "files.token.deploy = config.services.api.enable;",
        "files.token.deploy = lib.mkIf config.services.api.enable false;",
    ] {
        let out = with(decl, &new);
        assert!(!out.contains("vars/stale-access"), "{decl}: {out}");
    }
    // A public file has no machine links to speak of; a clan-core of 2026-03-01 gives machines
    // access to such secrets itself, and without a lock the clan-core is not known.
    let out = with("files.token = { deploy = false; secret = false; };", &new);
    assert!(!out.contains("vars/stale-access"), "{out}");
    for lock in [crate::tests::clan_core_lock(1_772_323_200), String::new()] {
        let out = with("files.token.deploy = false;", &lock);
        assert!(!out.contains("vars/stale-access"), "{out}");
    }
}

/// `fleet` where `web` also imports a module of another flake, which infra-check cannot read.
fn fleet_with_unread_module(vars: &str) -> String {
    fleet(vars)
        .replace("{ config, lib, ... }:\n{", "{ config, lib, inputs, ... }:\n{")
        .replace(
            "clan.machines.web.imports = [ config.flake.modules.nixos.base ];",
            "clan.machines.web.imports = [ config.flake.modules.nixos.base inputs.srvos.nixosModules.server ];",
        )
}

#[test]
fn a_read_close_to_a_declared_generator_is_a_near_miss_when_unread_modules_might_declare_it() {
    let read = |repo: String, name: &str| {
        repo.replace(
            "generators.api.files.token.path",
            &format!("generators.{name}.files.token.path"),
        )
    };
    let out = check(&read(fleet_with_unread_module(&complete()), "apis"));
    expect![[r#"
        vars/near-miss modules/base.nix:9:63: `flake.modules.nixos.base` reads the generator `apis`, which no module infra-check can read declares for `web`, but `api` is declared; did you mean `api`? (The machine also imports modules infra-check cannot read, which might still declare `apis`.)
          fix: "api"
    "#]]
    .assert_eq(&out);
    // The quick fix writes the declared name.
    let host =
        crate::tests::host_from_fixture(&read(fleet_with_unread_module(&complete()), "apis"));
    let diags = host.snapshot().diagnostics().expect("not cancelled");
    let edits = &diags[0].fix.as_ref().expect("a fix").edits;
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].new_text, "api");
    // Everything readable: the error it always was.
    let out = check(&read(fleet(&complete()), "apis"));
    assert!(
        out.starts_with("vars/undeclared-reference modules/base.nix:9:"),
        "{out}"
    );
    // A name not close to any declared one, or declared by a module (here one no machine
    // imports): not a typo.
    expect![[""]].assert_eq(&check(&read(fleet_with_unread_module(&complete()), "mail")));
    let elsewhere = fleet_with_unread_module(&complete()).replace(
        "clan.inventory.machines.web = { };",
        "clan.inventory.machines.web = { };\n  flake.modules.nixos.other.clan.core.vars.generators.apis.files.token = { };",
    );
    expect![[r#"
        module/unused modules/base.nix:12:23: `flake.modules.nixos.other` is defined but nothing in this flake imports it.
    "#]].assert_eq(&check(&read(elsewhere, "apis")));
}

#[test]
fn a_read_close_to_a_declared_file_is_a_near_miss_when_another_declaration_might_add_it() {
    // A second declaration of `api` under a condition infra-check cannot decide may add files.
    let repo = |file: &str| {
        fleet(&complete())
            .replace(
                "clan.inventory.machines.web = { };",
                "clan.inventory.machines.web = { };\n  flake.modules.nixos.extra = { config, lib, ... }: { clan.core.vars.generators.api = lib.mkIf config.services.x.enable { files.extra = { }; }; };",
            )
            .replace(
                "clan.machines.web.imports = [ config.flake.modules.nixos.base ];",
                "clan.machines.web.imports = [ config.flake.modules.nixos.base config.flake.modules.nixos.extra ];",
            )
            .replace("files.token.path", &format!("files.{file}.path"))
    };
    let out = check(&repo("tokn"));
    expect![[r#"
        vars/near-miss modules/base.nix:9:73: `flake.modules.nixos.base` reads the file `tokn` of generator `api`, which no declaration infra-check can read gives it on machine `web`, but it has `token`; did you mean `token`? (Another declaration of `api`, under a condition or from a module infra-check cannot read, might still add `tokn`.)
          fix: "token"
    "#]]
    .assert_eq(&out);
    expect![[""]].assert_eq(&check(&repo("cert")));
}

/// `web` is the controller of a zerotier instance, with clan-core locked at `t`.
fn zerotier_fleet(t: i64, vars: &str) -> String {
    fleet(&(complete() + vars + &crate::tests::clan_core_lock(t))).replace(
        "clan.inventory.machines.web = { };",
        "clan.inventory.machines.web = { };\n  clan.inventory.instances.zt = { module.name = \"zerotier\"; roles.controller.machines.web = { }; };",
    )
}

#[test]
fn zerotier_between_march_and_may_2026_keeps_the_network_in_a_shared_controller_generator() {
    // 2026-04-15: clan-core #7165 (2026-03-30) declared the shared `zerotier-controller` on
    // every machine of the network, next to the controller's per-machine `zerotier` copy.
    let april = 1_776_211_200;
    let out = check(&zerotier_fleet(april, ""));
    assert!(
        out.contains("needs the generator `zerotier-controller`")
            && out.contains("needs the generator `zerotier`"),
        "{out}"
    );
    let secret = |dir: &str, machine: bool| {
        let up = "../".repeat(dir.matches('/').count() + 2);
        let mut s =
            format!("#- /{dir}/secret\n{SOPS}\n#- /{dir}/users/admin -> {up}sops/users/admin\n");
        if machine {
            s.push_str(&format!(
                "#- /{dir}/machines/web -> {up}sops/machines/web\n"
            ));
        }
        s
    };
    let shared = secret(
        "vars/shared/zerotier-controller/zerotier-identity-secret",
        false,
    ) + "#- /vars/shared/zerotier-controller/zerotier-ip/value\nfd00::1\n\
           #- /vars/shared/zerotier-controller/zerotier-network-id/value\n0123456789abcdef\n";
    let own = secret(
        "vars/per-machine/web/zerotier/zerotier-identity-secret",
        true,
    ) + "#- /vars/per-machine/web/zerotier/zerotier-ip/value\nfd00::1\n\
           #- /vars/per-machine/web/zerotier/zerotier-network-id/value\n0123456789abcdef\n";
    expect![[""]].assert_eq(&check(&zerotier_fleet(april, &(shared.clone() + &own))));
    // Without the shared layout (a repository generated before the bump), it is missing.
    let out = check(&zerotier_fleet(april, &own));
    assert!(
        out.contains("needs the generator `zerotier-controller`")
            && !out.contains("needs the generator `zerotier`,"),
        "{out}"
    );
    // Before 2026-03-30 the shared directory belongs to no generator the machine gets.
    let before = 1_772_323_200; // 2026-03-01
    let out = check(&zerotier_fleet(before, &(shared + &own)));
    assert!(
        out.contains("vars/orphan") && out.contains("zerotier-controller"),
        "{out}"
    );
    assert!(!out.contains("vars/missing"), "{out}");
}

/// A local service `noop` whose role `default` gives nothing, and an instance of it that gives
/// machine `web` the `extraModules` `modules`.
fn extra_modules(modules: &str) -> String {
    format!(
        r#"#- /modules/extras.nix
{{ inputs, ... }}:
{{
  clan.modules.noop = {{ _class = "clan.service"; manifest.name = "noop"; roles.default = {{ }}; }};
  clan.inventory.instances.extras = {{
    module.name = "noop";
    module.input = "self";
    roles.default.machines.web = {{ }};
    roles.default.extraModules = [ {modules} ];
  }};
}}
"#
    )
}

#[test]
fn the_extra_modules_of_a_role_are_part_of_its_machines() {
    // What they declare is the machine's (`extra-key` is needed, and its vars are missing);
    // what they read is judged against the machine (`extra-keyy` is a typo).
    let module = r#"({ config, ... }: {
      clan.core.vars.generators.extra-key.files.k.secret = false;
      services.x.keyFile = config.clan.core.vars.generators.extra-keyy.files.k.path;
    })"#;
    let out = check(&fleet(&(complete() + &extra_modules(module))));
    expect![[r#"
        vars/missing modules/extras.nix:9:33: Machine `web` needs the generator `extra-key` (declared in `inventory.instances.extras.roles.default.extraModules`), but `vars/per-machine/web/extra-key/` does not exist: it was never generated. Run `clan vars generate web`.
          note modules/base.nix:11:27: machine `web`
        vars/undeclared-reference modules/extras.nix:10:78: `inventory.instances.extras.roles.default.extraModules` reads the generator `extra-keyy`, which is not declared for `web`, the machine that uses this module; did you mean `extra-key`?
    "#]]
    .assert_eq(&out);
    // One that imports what cannot be read leaves the machine's other generators unknown: the
    // read of `extra-keyy` is only a near miss (a warning); `extra-key` is still needed.
    let out = check(&fleet(
        &(complete() + &extra_modules(&format!("{module} inputs.other.nixosModules.x"))),
    ));
    expect![[r#"
        vars/missing modules/extras.nix:9:33: Machine `web` needs the generator `extra-key` (declared in `inventory.instances.extras.roles.default.extraModules`), but `vars/per-machine/web/extra-key/` does not exist: it was never generated. Run `clan vars generate web`.
          note modules/base.nix:11:27: machine `web`
        vars/near-miss modules/extras.nix:10:61: `inventory.instances.extras.roles.default.extraModules` reads the generator `extra-keyy`, which no module infra-check can read declares for `web`, but `extra-key` is declared; did you mean `extra-key`? (The machine also imports modules infra-check cannot read, which might still declare `extra-keyy`.)
          fix: "extra-key"
    "#]].assert_eq(&out);
}

#[test]
fn a_service_generator_under_a_condition_that_cannot_be_decided_is_one_the_machine_may_get() {
    // sshd's `server` may create `sshd-root-key` (when `generateRootKey` is on, which nothing
    // here says): web may have its vars, and web's other generators are still all known, so
    // `retired` is an orphan for certain.
    let vars = complete()
        + "#- /vars/per-machine/web/sshd-root-key/key/secret\nSOPS\n#- /vars/per-machine/web/retired/x/value\nx\n";
    let out = check(&fleet(&vars.replace("SOPS", SOPS)).replace(
        "  clan.machines.mac = { };",
        "  clan.machines.mac = { };\n  clan.inventory.instances.sshd.roles.server.machines.web = { };",
    ));
    let orphans: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("vars/orphan"))
        .collect();
    assert_eq!(orphans.len(), 1, "{out}");
    assert!(
        orphans[0].contains(
            "`vars/per-machine/web/retired/` holds vars of the generator `retired`, which machine `web` does not get."
        ),
        "{out}"
    );
}

#[test]
fn the_flakes_own_module_outputs_are_part_of_the_machines_that_import_them() {
    // `web` imports `flake.nixosModules.keys` by its output name: the generator it declares is
    // web's, and web's generators are all known, so a typo read of `api` is an error.
    let fleet_with = |outputs: &str| {
        check(
            &fleet(&(complete() + outputs))
                .replace(
                    "clan.machines.web.imports = [ config.flake.modules.nixos.base ];",
                    "clan.machines.web.imports = [ config.flake.modules.nixos.base config.flake.nixosModules.keys ];",
                )
                .replace(
                    "services.api.tokenFile = config.clan.core.vars.generators.api.files.token.path;",
                    "services.api.tokenFile = config.clan.core.vars.generators.apii.files.token.path;",
                ),
        )
    };
    let keys = "#- /modules/outputs.nix\n{ flake.nixosModules.keys = { clan.core.vars.generators.out-key.files.k.secret = false; }; }\n";
    expect![[r#"
        vars/undeclared-reference modules/base.nix:9:74: `flake.modules.nixos.base` reads the generator `apii`, which is not declared for `web`, the machine that uses this module; did you mean `api`?
        vars/missing modules/outputs.nix:1:57: Machine `web` needs the generator `out-key` (declared in `flake.nixosModules.keys`), but `vars/per-machine/web/out-key/` does not exist: it was never generated. Run `clan vars generate web`.
          note modules/base.nix:11:27: machine `web`
    "#]]
    .assert_eq(&fleet_with(keys));
    // An output infra-check cannot see whole (another file sets `flake.nixosModules` to what it
    // cannot read): web may get more, so the typo is only a near miss.
    let open = format!("{keys}#- /modules/more.nix\n{{ lib, ... }}: {{ flake.nixosModules = lib.unknownThing {{ }}; }}\n");
    expect![[r#"
        vars/near-miss modules/base.nix:9:63: `flake.modules.nixos.base` reads the generator `apii`, which no module infra-check can read declares for `web`, but `api` is declared; did you mean `api`? (The machine also imports modules infra-check cannot read, which might still declare `apii`.)
          fix: "api"
        vars/missing modules/outputs.nix:1:57: Machine `web` needs the generator `out-key` (declared in `flake.nixosModules.keys`), but `vars/per-machine/web/out-key/` does not exist: it was never generated. Run `clan vars generate web`.
          note modules/base.nix:11:27: machine `web`
    "#]]
    .assert_eq(&fleet_with(&open));
    // Imported as `self.nixosModules.keys` by the file clan-core loads for the machine.
    let by_self = check(
        &fleet(&(complete() + keys + "#- /machines/web/configuration.nix\n{ self, ... }: { imports = [ self.nixosModules.keys ]; }\n"))
            .replace(
                "services.api.tokenFile = config.clan.core.vars.generators.api.files.token.path;",
                "services.api.tokenFile = config.clan.core.vars.generators.apii.files.token.path;",
            ),
    );
    assert!(
        by_self.contains("vars/undeclared-reference modules/base.nix:9:74"),
        "{by_self}"
    );
    assert!(
        by_self.contains("Machine `web` needs the generator `out-key`"),
        "{by_self}"
    );
}

#[test]
fn system_modules_imported_through_an_import_tree_are_not_known_to_declare_nothing() {
    // `tree` imports the NixOS modules under `_nixos/` with import-tree: infra-check does not
    // read them as modules, so `tree-key` (declared there) is neither an orphan for certain nor
    // an undeclared read.
    let extra = complete()
        + "#- /modules/tree.nix\n{ inputs, ... }: { flake.modules.nixos.tree = { imports = [ (inputs.import-tree ./_nixos) ]; }; }\n#- /modules/_nixos/keys.nix\n{ clan.core.vars.generators.tree-key.files.k.secret = false; }\n#- /vars/per-machine/web/tree-key/k/value\nx\n";
    let out = check(
        &fleet(&extra)
            .replace(
                "clan.machines.web.imports = [ config.flake.modules.nixos.base ];",
                "clan.machines.web.imports = [ config.flake.modules.nixos.base config.flake.modules.nixos.tree ];",
            )
            .replace(
                "services.api.tokenFile = config.clan.core.vars.generators.api.files.token.path;",
                "services.api.tokenFile = config.clan.core.vars.generators.api.files.token.path;\n    services.tree.keyFile = config.clan.core.vars.generators.tree-key.files.k.path;",
            ),
    );
    for line in out.lines().filter(|l| !l.starts_with(' ')) {
        assert!(
            !line.starts_with("vars/undeclared-reference")
                && !line.contains("which machine `web` does not get."),
            "{out}"
        );
    }
}
