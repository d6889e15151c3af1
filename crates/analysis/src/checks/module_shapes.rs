//! `module/shadowed-config` and `module/not-a-flake-module`: modules written in a shape their
//! evaluation cannot take — a system module reading flake-parts' `config` through its own, and a
//! file import-tree hands to flake-parts that is no flake-parts module.

use crate::db::{Db, Workspace};
use crate::diagnostic::Diagnostic;
use crate::index::module_summaries;
use crate::options::model::FLAKE_PARTS;
use crate::summary::ContextClass;

pub(super) fn check(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    shadowed_config(db, ws, &mut out);
    super::not_a_flake_module::check(db, ws, &mut out);
    out
}

/// The configuration a module of this class is evaluated in, when it certainly has no `flake`
/// attribute (NixOS, nix-darwin and home-manager declare none).
fn flake_less(class: &ContextClass) -> Option<&'static str> {
    match class {
        ContextClass::Known(c) => match c.as_str() {
            "nixos" => Some("NixOS"),
            "darwin" => Some("nix-darwin"),
            "homeManager" => Some("home-manager"),
            _ => None,
        },
        // A clan machine's configuration is NixOS or nix-darwin, neither has `flake`.
        ContextClass::Machine(_) => Some("machine's NixOS or nix-darwin"),
        // clan-core imports a role's `extraModules` into its machines' configurations.
        ContextClass::Role(_) => Some("machines' NixOS or nix-darwin"),
    }
}

fn shadowed_config(db: &dyn Db, ws: Workspace, out: &mut Vec<Diagnostic>) {
    let summaries = module_summaries(db, ws);
    // A repository that declares a `flake` option in its own system modules gives those
    // configurations one.
    let declares_flake = summaries.iter().any(|s| {
        s.options
            .decls
            .iter()
            .any(|d| *d.owner != *FLAKE_PARTS && d.decl.path.first().is_some_and(|p| p == "flake"))
    });
    if declares_flake {
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for s in &summaries {
        for r in &s.shadowed_configs {
            let kinds: Option<Vec<&str>> = r.classes.iter().map(flake_less).collect();
            let Some(kinds) = kinds.filter(|k| !k.is_empty()) else {
                continue;
            };
            if !seen.insert(r.location.clone()) {
                continue;
            }
            let mut kinds = kinds;
            kinds.dedup();
            let what = kinds.join(" and ");
            let written = r.path.as_deref().unwrap_or("flake");
            let example = r
                .path
                .as_deref()
                .and_then(|p| p.strip_prefix("flake.modules."))
                .map(|rest| {
                    let class = rest.split('.').next().unwrap_or("nixos");
                    format!(
                        "bind the flake-parts `config` outside the module (`let flakeModules = config.flake.modules.{class}; in …`, then `flakeModules.{}`) or write `inputs.self.modules.{rest}`",
                        rest.split_once('.').map(|(_, n)| n).unwrap_or("<name>")
                    )
                })
                .unwrap_or_else(|| {
                    "bind the flake-parts `config` outside the module (`let flakeConfig = config; in …`) or read the flake through `inputs.self`".into()
                });
            // `imports` are evaluated with the module; any other value only when something
            // uses it (a setting of a disabled service may never be), so it is a warning.
            let forced = in_imports(db, ws, &r.location);
            let when = if forced {
                "so Nix fails with"
            } else {
                "so evaluating it (as soon as anything uses this value) fails with"
            };
            let mut d = Diagnostic::new(
                "module/shadowed-config",
                &r.location.file,
                r.location.range,
                format!(
                    "`config.{written}` reads `config` of `{}`, the {what} configuration that module is evaluated in (its own `config` argument hides flake-parts' `config`); it has no `flake` attribute, {when} \"attribute 'flake' missing\". To fix it, {example}.",
                    r.owner
                ),
            );
            if !forced {
                d.severity = crate::diagnostic::Severity::Warning;
            }
            out.push(d);
        }
    }
}

/// Whether `at` lies in the value of an `imports` binding.
fn in_imports(db: &dyn Db, ws: Workspace, at: &crate::diagnostic::Location) -> bool {
    use rnix::ast;
    use rowan::ast::AstNode;
    let Some(file) = crate::db::file_by_path(db, ws, &at.file) else {
        return false;
    };
    let root = crate::db::parse(db, file).syntax();
    let offset = rowan::TextSize::from(at.range.start);
    let Some(token) = root.token_at_offset(offset).right_biased() else {
        return false;
    };
    token
        .parent_ancestors()
        .filter_map(ast::AttrpathValue::cast)
        .any(|kv| {
            kv.attrpath()
                .and_then(|p| p.attrs().last())
                .is_some_and(|a| a.syntax().text() == "imports")
        })
}

#[cfg(test)]
mod tests {
    use crate::tests::{check, with_flake};

    fn shadowed(out: &str) -> Vec<&str> {
        out.lines()
            .filter(|l| l.starts_with("module/shadowed-config"))
            .collect()
    }

    #[test]
    fn a_clan_machine_module_that_binds_config_is_reported() {
        let out = check(&with_flake(
            "#- /modules/m.nix\n{ config, ... }:\n{\n  flake.modules.nixos.base = { };\n  clan.inventory.machines.web = { };\n  clan.machines.web =\n    { config, ... }:\n    { imports = [ config.flake.modules.nixos.base ]; };\n}\n",
        ));
        let hits = shadowed(&out);
        assert_eq!(hits.len(), 1, "{out}");
        assert!(
            hits[0].starts_with("module/shadowed-config modules/m.nix:7:19: `config.flake.modules.nixos.base` reads `config` of `clan.machines.web`, the machine's NixOS or nix-darwin configuration"),
            "{out}"
        );
    }

    #[test]
    fn a_read_outside_imports_is_a_warning_as_it_fails_only_when_used() {
        // A setting of a disabled service may never be evaluated; `imports` always are.
        let out = check(&with_flake(
            "#- /modules/m.nix\n{\n  flake.modules.nixos.nas = { config, ... }: {\n    services.samba.enable = false;\n    services.samba.settings.share.\"valid users\" = config.flake.meta.user;\n  };\n}\n",
        ));
        let hits = shadowed(&out);
        assert_eq!(hits.len(), 1, "{out}");
        assert!(
            hits[0].contains("as soon as anything uses this value"),
            "{out}"
        );
        let host = crate::tests::host_from_fixture(&with_flake(
            "#- /modules/m.nix\n{\n  flake.modules.nixos.nas = { config, ... }: {\n    services.samba.settings.share.\"valid users\" = config.flake.meta.user;\n  };\n}\n",
        ));
        let severities: Vec<_> = host
            .snapshot()
            .diagnostics()
            .expect("not cancelled")
            .iter()
            .filter(|d| d.code == "module/shadowed-config")
            .map(|d| d.severity)
            .collect();
        assert_eq!(severities, [crate::diagnostic::Severity::Warning]);
    }

    #[test]
    fn a_repository_that_gives_its_systems_a_flake_option_is_left_alone() {
        let out = check(&with_flake(
            "#- /modules/m.nix\n{ lib, ... }:\n{\n  flake.modules.nixos.opt = { lib, ... }: { options.flake = lib.mkOption { type = lib.types.raw; }; };\n  flake.modules.nixos.web = { config, ... }: { x = config.flake.modules; };\n}\n",
        ));
        assert!(shadowed(&out).is_empty(), "{out}");
    }

    #[test]
    fn only_modules_evaluated_in_a_system_class_are_reported() {
        // A generic module may be imported into flake-parts, where `config.flake` exists.
        let generic = "#- /modules/m.nix\n{ config, ... }:\nlet f = { config, ... }: { y = config.flake.x; }; in\n{\n  flake.modules.generic.b = f;\n}\n";
        assert!(shadowed(&check(&with_flake(generic))).is_empty());
        // The same function as a NixOS module fails there.
        let both = generic.replace(
            "  flake.modules.generic.b = f;",
            "  flake.modules.generic.b = f;\n  flake.modules.nixos.a = f;",
        );
        let out = check(&with_flake(&both));
        let hits = shadowed(&out);
        assert_eq!(hits.len(), 1, "{out}");
        assert!(hits[0].contains("`flake.modules.nixos.a`"), "{out}");
    }
}
