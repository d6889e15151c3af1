use std::collections::BTreeMap;

use super::rename::{PathRename, RenameEdit};
use crate::tests::{host_from_fixture, with_clan_flake};
use crate::Analysis;

const MODULES: &str = r#"#- /modules/base.nix
{
  flake.modules = {
    nixos = {
      base = { config, ... }: {
        config.clan.core.vars.generators.api = { files.token = { }; };
      };
    };
  };
  flake.modules.nixos."roles/web" = { };
}
#- /modules/users.nix
{ config, inputs, ... }:
let
  flakeModules = config.flake.modules.nixos;
in
{
  flake.modules.nixos.x = { config, ... }: {
    imports = with flakeModules; [ base ] ++ [ flakeModules."roles/web" inputs.self.modules.nixos.base ];
    services.api.tokenFile = config.clan.core.vars.generators.api.files.token.path;
  };
  flake.modules.nixos.y = { imports = builtins.attrValues { inherit (flakeModules) base; }; };
}
#- /modules/lets.nix
{ config, ... }:
let
  inherit (config.flake.modules.nixos) base "roles/web";
in
{ flake.modules.nixos.w.imports = [ base ]; }
#- /modules/clan.nix
{ config, ... }:
{
  clan.inventory.machines.web = { tags = [ "server" ]; };
  clan.machines.web.imports = [ config.flake.modules.nixos.base ];
  clan.inventory.instances.sshd = { module.name = "sshd"; roles.server.machines.web = { }; roles.server.tags.server = { }; };
}
#- /machines/web/configuration.nix
{ self, ... }: { imports = [ self.modules.nixos.base ]; }
"#;

fn analysis(extra: &str) -> Analysis {
    host_from_fixture(&with_clan_flake(&format!("{MODULES}{extra}"))).snapshot()
}

fn offset(a: &Analysis, file: &str, needle: &str, delta: u32) -> u32 {
    let text = a.file_text(file).unwrap();
    text.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in {file}")) as u32
        + delta
}

/// The files' texts after the edit.
fn apply(a: &Analysis, edit: &RenameEdit) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for f in &edit.files {
        let mut text = a.file_text(&f.file).unwrap().to_string();
        for e in f.edits.iter().rev() {
            text.replace_range(e.range.start as usize..e.range.end as usize, &e.new_text);
        }
        out.insert(f.file.clone(), text);
    }
    out
}

fn rename(
    a: &Analysis,
    file: &str,
    needle: &str,
    delta: u32,
    new: &str,
    ops: bool,
) -> Result<RenameEdit, String> {
    let at = offset(a, file, needle, delta);
    a.rename(file, at, new, ops).unwrap().map_err(|r| r.0)
}

#[test]
fn a_module_is_renamed_at_every_definition_and_reference() {
    let a = analysis("");
    let at = offset(&a, "modules/users.nix", "base ]", 1);
    let p = a
        .prepare_rename("modules/users.nix", at)
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(p.placeholder, "base");
    let edit = rename(&a, "modules/users.nix", "base ]", 1, "core", false).unwrap();
    assert!(edit.paths.is_empty());
    let out = apply(&a, &edit);
    assert!(
        out["modules/base.nix"].contains("      core = { config"),
        "{}",
        out["modules/base.nix"]
    );
    let users = &out["modules/users.nix"];
    assert!(users.contains("with flakeModules; [ core ]"), "{users}");
    assert!(users.contains("inputs.self.modules.nixos.core"), "{users}");
    // A `let`'s `inherit` keeps binding the variable the code uses.
    let lets = &out["modules/lets.nix"];
    assert!(
        lets.contains("  inherit (config.flake.modules.nixos) \"roles/web\"; base = config.flake.modules.nixos.core;\n"),
        "{lets}"
    );
    assert!(lets.contains("imports = [ base ]"), "{lets}");
    // In a plain attribute set the attribute is renamed in place.
    assert!(
        users.contains("{ inherit (flakeModules) core; }"),
        "{users}"
    );
    assert!(out["modules/clan.nix"].contains("config.flake.modules.nixos.core ]"));
    // A machine's `configuration.nix` is not a flake-parts module but names modules too.
    assert!(out["machines/web/configuration.nix"].contains("self.modules.nixos.core"));
    // The renamed repository still resolves every reference.
    let mut host = host_from_fixture(&with_clan_flake(MODULES));
    for (f, t) in &out {
        host.set_file_text(f, Some(t.as_str().into()));
    }
    let after = host.snapshot().diagnostics().unwrap();
    let before = a.diagnostics().unwrap();
    let codes = |d: &[crate::Diagnostic]| d.iter().map(|d| d.code).collect::<Vec<_>>();
    assert_eq!(codes(&before), codes(&after));
    assert!(
        !after.iter().any(|d| d.code == "module/undefined"),
        "{after:#?}"
    );
}

#[test]
fn a_name_that_is_not_an_identifier_is_quoted_in_attributes_and_refused_in_with_lists() {
    let a = analysis("");
    // `roles/web` is only used as attributes: quoted or not as needed.
    let edit = rename(&a, "modules/base.nix", "\"roles/web\"", 2, "front", false).unwrap();
    let out = apply(&a, &edit);
    assert!(out["modules/base.nix"].contains("flake.modules.nixos.\"front\""));
    assert!(out["modules/users.nix"].contains("flakeModules.\"front\""));
    let edit = rename(
        &a,
        "modules/base.nix",
        "\"roles/web\"",
        2,
        "roles/front",
        false,
    )
    .unwrap();
    assert!(apply(&a, &edit)["modules/users.nix"].contains("flakeModules.\"roles/front\""));
    // `base` is used in a `with` list: a non-identifier cannot be written there.
    let err = rename(
        &a,
        "modules/base.nix",
        "base =",
        1,
        "machines/nixos/base",
        false,
    )
    .unwrap_err();
    assert!(
        err.contains("`base` is referenced through `with flakeModules;` at modules/users.nix:7")
            && err.contains("only identifiers"),
        "{err}"
    );
    // Nor a name the `with` cannot reach: a function argument, a built-in.
    let err = rename(&a, "modules/base.nix", "base =", 1, "config", false).unwrap_err();
    assert!(
        err.contains("already bound by a function argument"),
        "{err}"
    );
    let err = rename(&a, "modules/base.nix", "base =", 1, "map", false).unwrap_err();
    assert!(err.contains("built-in"), "{err}");
    // Nor one that is taken.
    let err = rename(&a, "modules/base.nix", "base =", 1, "x", false).unwrap_err();
    assert!(
        err.contains("flake.modules.nixos.x already exists"),
        "{err}"
    );
}

#[test]
fn a_module_selected_by_a_computed_name_is_refused() {
    let a = analysis(
        r#"#- /modules/computed.nix
{ config, ... }:
let name = builtins.getEnv "X"; in
{ flake.modules.nixos.z.imports = [ config.flake.modules.nixos.${name} ]; }
"#,
    );
    let err = rename(&a, "modules/base.nix", "base =", 1, "core", false).unwrap_err();
    assert!(
        err.contains("computed name at modules/computed.nix:3"),
        "{err}"
    );
    // Another class is not affected.
    let a = analysis(
        r#"#- /modules/computed.nix
{ config, ... }:
let name = builtins.getEnv "X"; in
{ flake.modules.darwin.z.imports = [ config.flake.modules.darwin.${name} ]; }
"#,
    );
    assert!(rename(&a, "modules/base.nix", "base =", 1, "core", false).is_ok());
}

#[test]
fn a_module_set_that_escapes_is_refused() {
    let a = analysis(
        r#"#- /modules/escape.nix
{ config, lib, ... }:
{ flake.modules.nixos.z.imports = lib.attrValues (lib.filterAttrs (n: _: n != "x") config.flake.modules.nixos); }
"#,
    );
    let err = rename(&a, "modules/base.nix", "base =", 1, "core", false).unwrap_err();
    assert!(
        err.contains("handed in modules/escape.nix") || err.contains("handed"),
        "{err}"
    );
}

#[test]
fn a_machine_moves_its_directories_only_when_the_client_renames_files() {
    let extra = r#"#- /inventory.json
{ "machines": { "db": { } } }
#- /vars/per-machine/web/api/token/value
x
#- /sops/machines/web/key.json
{}
#- /modules/db.nix
{ clan.inventory.instances.sshd.roles.client.machines.db = { }; }
"#;
    let a = analysis(extra);
    let err = rename(&a, "modules/clan.nix", "web = { tags", 0, "www", false).unwrap_err();
    assert!(
        err.contains("`machines/web/`")
            && err.contains("`vars/per-machine/web/`")
            && err.contains("`sops/machines/web/`"),
        "{err}"
    );
    let edit = rename(&a, "modules/clan.nix", "web = { tags", 0, "www", true).unwrap();
    assert_eq!(
        edit.paths,
        [
            PathRename {
                from: "machines/web".into(),
                to: "machines/www".into()
            },
            PathRename {
                from: "sops/machines/web".into(),
                to: "sops/machines/www".into()
            },
            PathRename {
                from: "vars/per-machine/web".into(),
                to: "vars/per-machine/www".into()
            },
        ]
    );
    let out = apply(&a, &edit);
    let clan = &out["modules/clan.nix"];
    assert!(clan.contains("clan.inventory.machines.www = {"), "{clan}");
    assert!(clan.contains("clan.machines.www.imports"), "{clan}");
    assert!(clan.contains("roles.server.machines.www = { }"), "{clan}");
    // A machine in `inventory.json`: its key is rewritten as JSON.
    let edit = rename(&a, "modules/db.nix", "db = { }", 0, "store", true).unwrap();
    let out = apply(&a, &edit);
    assert!(out["inventory.json"].contains("\"store\": { }"), "{out:?}");
    assert!(
        out["modules/db.nix"].contains("machines.store = { }"),
        "{out:?}"
    );
    // Clan's rule for machine names, and names that are taken.
    let err = rename(&a, "modules/clan.nix", "web = { tags", 0, "Web_1", true).unwrap_err();
    assert!(err.contains("not a valid machine name"), "{err}");
    let err = rename(&a, "modules/clan.nix", "web = { tags", 0, "db", true).unwrap_err();
    assert!(err.contains("already a machine `db`"), "{err}");
}

#[test]
fn a_machine_whose_secrets_link_to_it_is_refused() {
    let a = analysis(
        "#- /vars/per-machine/web/api/token/machines/web -> ../../../../../../sops/machines/web\n",
    );
    let err = rename(&a, "modules/clan.nix", "web = { tags", 0, "www", true).unwrap_err();
    assert!(err.contains("is a link into `sops/machines/web`"), "{err}");
}

#[test]
fn the_machine_module_named_after_a_machine_is_renamed_with_it() {
    let a = analysis(
        r#"#- /modules/web.nix
{ config, ... }:
{
  flake.modules.nixos."machines/nixos/web" = { };
  clan.inventory.machines.web.machineClass = "nixos";
  clan.machines.web.imports = [ config.flake.modules.nixos."machines/nixos/web" ];
}
"#,
    );
    let edit = rename(&a, "modules/clan.nix", "web = { tags", 0, "www", true).unwrap();
    let web = &apply(&a, &edit)["modules/web.nix"];
    assert!(
        web.contains("flake.modules.nixos.\"machines/nixos/www\" = { }"),
        "{web}"
    );
    assert!(web.contains("nixos.\"machines/nixos/www\" ]"), "{web}");
    assert!(web.contains("clan.machines.www.imports"), "{web}");
}

#[test]
fn tags_instances_and_generators() {
    let a = analysis(
        "#- /vars/per-machine/web/api/token/value\nx\n#- /vars/shared/api/token/value\ny\n",
    );
    // A tag: on the machine and in the role.
    let edit = rename(&a, "modules/clan.nix", "\"server\"", 1, "front", false).unwrap();
    let clan = &apply(&a, &edit)["modules/clan.nix"];
    assert!(clan.contains("tags = [ \"front\" ]"), "{clan}");
    assert!(clan.contains("roles.server.tags.front"), "{clan}");
    let err = rename(&a, "modules/clan.nix", "\"server\"", 1, "all", false).unwrap_err();
    assert!(err.contains("already exists"), "{err}");
    // An instance.
    let edit = rename(&a, "modules/clan.nix", "sshd =", 0, "ssh-keys", false).unwrap();
    let clan = &apply(&a, &edit)["modules/clan.nix"];
    assert!(clan.contains("instances.ssh-keys = {"), "{clan}");
    // The service name is not the instance name.
    assert!(clan.contains("module.name = \"sshd\""), "{clan}");
    // A generator: its declaration, its reads, its directories.
    let err = rename(&a, "modules/base.nix", "api =", 0, "web-api", false).unwrap_err();
    assert!(
        err.contains("`vars/per-machine/web/api/`") && err.contains("`vars/shared/api/`"),
        "{err}"
    );
    let edit = rename(&a, "modules/users.nix", "api.files", 0, "web-api", true).unwrap();
    let out = apply(&a, &edit);
    assert!(out["modules/base.nix"].contains("generators.web-api = {"));
    assert!(out["modules/users.nix"].contains("generators.web-api.files.token.path"));
    assert_eq!(edit.paths.len(), 2, "{:?}", edit.paths);
    let err = rename(&a, "modules/base.nix", "api =", 0, "a/b", true).unwrap_err();
    assert!(err.contains("directory name"), "{err}");
}

#[test]
fn what_cannot_be_renamed_says_so() {
    let a = analysis("");
    // A service name and a role are not renamed.
    let at = offset(&a, "modules/clan.nix", "\"sshd\"", 1);
    let err = a
        .prepare_rename("modules/clan.nix", at)
        .unwrap()
        .unwrap_err();
    assert!(
        err.0.contains("service sshd cannot be renamed"),
        "{}",
        err.0
    );
    // Nothing at the cursor.
    assert_eq!(a.prepare_rename("flake.nix", 0).unwrap(), Ok(None));
    // A quoted name's range is inside the quotes.
    let at = offset(&a, "modules/base.nix", "\"roles/web\"", 2);
    let p = a
        .prepare_rename("modules/base.nix", at)
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(p.placeholder, "roles/web");
    let text = a.file_text("modules/base.nix").unwrap();
    assert_eq!(
        &text[p.range.start as usize..p.range.end as usize],
        "roles/web"
    );
}
