use std::collections::BTreeSet;

use super::*;
use crate::clan::catalog::catalog;

/// What the source and the catalog say differently of the services, for the catalog's view at
/// `last_modified`: each line one difference.
fn differences(source: &SourceServices, last_modified: Option<i64>) -> Vec<String> {
    let view = catalog().at(last_modified);
    let mut out = Vec::new();
    let listed: BTreeSet<String> = view
        .service_names()
        .into_iter()
        .filter(|n| view.service(n).is_some_and(|s| s.removed.is_none()))
        .collect();
    let read: BTreeSet<String> = source
        .services
        .keys()
        .filter(|n| !source.deprecated.contains(*n))
        .cloned()
        .collect();
    for n in read.difference(&listed) {
        out.push(format!("{n}: in the source, not in the catalog"));
    }
    for n in listed.difference(&read) {
        out.push(format!("{n}: in the catalog, not in the source"));
    }
    for (name, s) in &source.services {
        if source.deprecated.contains(name) {
            if view.service(name).is_none_or(|s| s.removed.is_none()) {
                out.push(format!(
                    "{name}: deprecated in the source, not removed in the catalog"
                ));
            }
            continue;
        }
        let Some(spec) = view.service(name).filter(|s| s.removed.is_none()) else {
            continue;
        };
        if spec.manifest_name.is_some() && spec.manifest_name != s.manifest_name {
            out.push(format!(
                "{name}: manifest.name {:?} in the source, {:?} in the catalog",
                s.manifest_name, spec.manifest_name
            ));
        }
        if spec.max_instances.map(u64::from) != s.max_instances {
            out.push(format!(
                "{name}: maxInstances {:?} in the source, {:?} in the catalog",
                s.max_instances, spec.max_instances
            ));
        }
        let Some(roles) = &s.roles else {
            out.push(format!("{name}: the source's roles could not be read"));
            continue;
        };
        let certain: BTreeSet<&String> = spec
            .roles
            .iter()
            .filter(|(_, r)| r.certain)
            .map(|(n, _)| n)
            .collect();
        let source_roles: BTreeSet<&String> = roles.keys().collect();
        if spec.roles_complete && certain != source_roles {
            out.push(format!(
                "{name}: roles {source_roles:?} in the source, {certain:?} in the catalog"
            ));
        }
        if spec.machine_modules {
            let darwin = roles
                .values()
                .map(|r| r.darwin)
                .collect::<Option<Vec<bool>>>();
            let any = darwin.as_ref().map(|d| d.iter().any(|&b| b));
            if let (Some(a), Some(b)) = (any, spec.darwin) {
                if a != b {
                    out.push(format!(
                        "{name}: darwin module {a} in the source, {b} in the catalog"
                    ));
                }
            }
        }
        for (role, r) in roles {
            let Some(rs) = spec.roles.get(role).filter(|r| r.certain) else {
                continue;
            };
            if let Some(options) = &r.options {
                // The catalog writes an option group's options by dotted path; the source
                // reads the group as one option (a submodule).
                let read: BTreeSet<&str> = options.keys().map(String::as_str).collect();
                let listed: BTreeSet<&str> = rs
                    .options
                    .keys()
                    .map(|k| k.split('.').next().unwrap_or(k))
                    .collect();
                let complete = if rs.options_complete {
                    "complete"
                } else {
                    "incomplete"
                };
                for o in read.difference(&listed) {
                    out.push(format!(
                        "{name}/{role}: option {o} in the source, not in the catalog ({complete})"
                    ));
                }
                for o in listed.difference(&read) {
                    out.push(format!(
                        "{name}/{role}: option {o} in the catalog, not in the source"
                    ));
                }
            }
            if rs.min_machines.map(u64::from) != r.min_machines
                || rs.max_machines.map(u64::from) != r.max_machines
            {
                out.push(format!(
                    "{name}/{role}: machines {:?}..{:?} in the source, {:?}..{:?} in the catalog",
                    r.min_machines, r.max_machines, rs.min_machines, rs.max_machines
                ));
            }
        }
    }
    out
}

/// The real clan-core, when `INFRA_CHECK_CLAN_CORE_SOURCE` names a checkout of it (with
/// `INFRA_CHECK_CLAN_CORE_LAST_MODIFIED`, its commit time): the catalog's view of that version
/// and the services read from the source agree but for the differences this prints, each a
/// catalog bug or an era error. Without the variable there is nothing to compare with: the
/// project carries no copy of clan-core.
#[test]
fn the_catalog_agrees_with_a_real_clan_core_source() {
    let Ok(dir) = std::env::var("INFRA_CHECK_CLAN_CORE_SOURCE") else {
        eprintln!("skipped: set INFRA_CHECK_CLAN_CORE_SOURCE to a clan-core checkout to compare");
        return;
    };
    let last_modified = std::env::var("INFRA_CHECK_CLAN_CORE_LAST_MODIFIED")
        .ok()
        .and_then(|t| t.parse().ok());
    let source = read_services(Path::new(&dir)).expect("the checkout has clan services");
    eprintln!(
        "{} services, complete: {}",
        source.services.len(),
        source.complete
    );
    let diffs = differences(&source, last_modified);
    for d in &diffs {
        eprintln!("difference: {d}");
    }
    let allowed: BTreeSet<String> = std::env::var("INFRA_CHECK_CLAN_CORE_KNOWN_DIFFERENCES")
        .map(|v| v.split(';').map(String::from).collect())
        .unwrap_or_default();
    let unexpected: Vec<&String> = diffs.iter().filter(|d| !allowed.contains(*d)).collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

fn write_source(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// A registration by clan-core's directory rule (what the evaluator cannot run, infra-check
/// follows): every subdirectory but `result` with a `flake-module.nix`, whatever its name.
#[test]
fn services_registered_by_listing_the_directory_are_read_with_their_roles() {
    let dir = write_source(&[
        (
            "clanServices/flake-module.nix",
            r#"{ lib, ... }:
let
  dirs = lib.filterAttrs (n: t: t == "directory" && n != "result") (builtins.readDir ./.);
in
{ imports = lib.mapAttrsToList (n: _: ./. + "/${n}/flake-module.nix") dirs; }
"#,
        ),
        (
            "clanServices/alpha/flake-module.nix",
            "{ lib, ... }: { clan.modules.alpha = lib.modules.importApply ./default.nix { }; }",
        ),
        (
            "clanServices/alpha/default.nix",
            r#"{ ... }: { _class = "clan.service"; manifest.name = "clan-core/alpha";
  roles.server.perInstance.nixosModule = { };
  roles.client.perInstance = { ... }: { darwinModule = { }; nixosModule = { }; };
  roles.exporter = { };
}"#,
        ),
        (
            "clanServices/beta/flake-module.nix",
            r#"{ clan.modules.beta = ./default.nix; clan.deprecatedModules = [ "gamma" ]; }"#,
        ),
        (
            "clanServices/beta/default.nix",
            r#"{ _class = "clan.service"; manifest.name = "clan-core/beta";
  roles.default.perInstance.nixosModule = { }; }"#,
        ),
        // Not registered: no flake-module.nix, or the build output.
        ("clanServices/docs/README.md", "not a service"),
        (
            "clanServices/result/flake-module.nix",
            "{ clan.modules.stale = { }; }",
        ),
    ]);
    let source = read_services(dir.path()).expect("clan services are read");
    assert!(source.complete);
    assert_eq!(
        source.services.keys().collect::<Vec<_>>(),
        ["alpha", "beta"]
    );
    assert_eq!(source.deprecated, BTreeSet::from(["gamma".to_owned()]));
    let alpha = source.services["alpha"].roles.as_ref().unwrap();
    let darwin = |role: &str| alpha[role].darwin;
    assert_eq!(darwin("server"), Some(false));
    assert_eq!(darwin("client"), Some(true));
    // A role that gives no machine a module says nothing about darwin.
    assert_eq!(darwin("exporter"), None);
}

/// A source whose registrations cannot all be read is incomplete (a name it lacks may still
/// be a service), and one that registers nothing readable is no source of services at all.
#[test]
fn an_unreadable_registration_makes_the_source_incomplete_or_unused() {
    let partly = write_source(&[
        (
            "clanServices/flake-module.nix",
            "{ imports = [ ./a/flake-module.nix ./b/flake-module.nix ]; }",
        ),
        (
            "clanServices/a/flake-module.nix",
            r#"{ clan.modules.a = { _class = "clan.service"; roles.default = { }; }; }"#,
        ),
        ("clanServices/b/flake-module.nix", "{ clan.modules = "),
    ]);
    let source = read_services(partly.path()).unwrap();
    assert!(source.services.contains_key("a"));
    assert!(!source.complete);

    let broken = write_source(&[("clanServices/flake-module.nix", "{ imports = [ ")]);
    assert_eq!(read_services(broken.path()), None);
    let none = write_source(&[("flake.nix", "{ outputs = _: { }; }")]);
    assert_eq!(read_services(none.path()), None);
}
