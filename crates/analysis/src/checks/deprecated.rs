//! `deprecated/inventory-services`, `deprecated/facts`, `deprecated/build-clan` and
//! `deprecated/clan-field`.

use rnix::ast;
use rowan::ast::AstNode;

use crate::clan::catalog::catalog;
use crate::clan::resolve::clan_model;
use crate::db::{Db, SourceFile, Workspace};
use crate::diagnostic::Diagnostic;

pub(super) fn check(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    let mut out = inventory_services(db, ws);
    out.extend(clan_fields(db, ws));
    out
}

/// Fields of the clan configuration the locked clan-core warns about (`meta.tld`).
fn clan_fields(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    let model = clan_model(db, ws);
    let deprecations = catalog()
        .at(model.clan_core_last_modified)
        .field_deprecations();
    if deprecations.is_empty() {
        return Vec::new();
    }
    // The files the clan configuration is read from: the flake-parts modules and `flake.nix`.
    let set: Vec<&crate::clan::model::Named> = crate::index::module_and_flake_summaries(db, ws)
        .flat_map(|s| &s.clan.meta_strings)
        .collect();
    let mut out = Vec::new();
    for d in deprecations {
        let replacement_set = set.iter().any(|n| n.name == d.replacement);
        for n in set.iter().filter(|n| n.name == d.path) {
            let mut message = format!(
                "clan-core warns: \"{}\" Set `{}` instead and remove `{}`",
                d.message, d.replacement, d.path
            );
            if replacement_set {
                message.push_str(&format!(
                    " (`{}` is set too, so clan-core already ignores `{}`)",
                    d.replacement, d.path
                ));
            }
            message.push('.');
            // A field of the clan itself, read for every machine.
            out.push(
                Diagnostic::new(
                    "deprecated/clan-field",
                    &n.location.file,
                    n.location.range,
                    message,
                )
                .for_all_machines(),
            );
        }
    }
    out
}

fn inventory_services(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    let model = clan_model(db, ws);
    let removed = catalog()
        .at(model.clan_core_last_modified)
        .inventory_services_removed();
    // Only when the locked clan-core certainly has it removed.
    if removed != Some(true) {
        return Vec::new();
    }
    model
        .legacy_services
        .iter()
        .map(|l| {
            Diagnostic::new(
                "deprecated/inventory-services",
                &l.file,
                l.range,
                "`inventory.services` was removed from clan-core and now throws; move each `services.<module>.<instance>` to `inventory.instances.<instance>` with `module.name = \"<module>\"` and roles as attribute sets of machines.".into(),
            )
            .for_all_machines()
        })
        .collect()
}

/// Per file, from the syntax (`parsed`, the tree of `file`): `clan.core.facts` and
/// `lib.buildClan`.
pub(super) fn check_file(
    db: &dyn Db,
    ws: Workspace,
    file: SourceFile,
    parsed: &crate::syntax::Parsed,
) -> Vec<Diagnostic> {
    let text = file.text(db);
    if !text.contains("facts") && !text.contains("buildClan") {
        return Vec::new();
    }
    let last_modified = crate::flake::flake_info(db, ws)
        .clan_core_input()
        .and_then(|(_, i)| i.last_modified);
    // With a clan-core from before facts were removed, they still work.
    let facts_removed = catalog().at(last_modified).facts_removed() == Some(true);
    let path = file.path(db);
    let mut out = Vec::new();
    for node in parsed.syntax().descendants() {
        let names: Vec<String> = if let Some(p) = ast::Attrpath::cast(node.clone()) {
            p.attrs()
                .map(|a| match a {
                    ast::Attr::Ident(i) => i.syntax().text().to_string(),
                    ast::Attr::Str(s) => s.syntax().text().to_string().trim_matches('"').to_owned(),
                    ast::Attr::Dynamic(_) => String::new(),
                })
                .collect()
        } else {
            continue;
        };
        let range = node.text_range();
        if facts_removed && names.windows(3).any(|w| w == ["clan", "core", "facts"]) {
            out.push(Diagnostic::new(
                "deprecated/facts",
                path,
                range.into(),
                "`clan.core.facts` was removed from clan-core; declare `clan.core.vars.generators.<name>` (files, script, prompts) instead.".into(),
            ));
        } else if names.len() >= 2 && names[names.len() - 2..] == ["lib", "buildClan"]
            || names.first().map(String::as_str) == Some("buildClan") && is_lib_select(&node)
        {
            out.push(Diagnostic::new(
                "deprecated/build-clan",
                path,
                range.into(),
                "`lib.buildClan` is deprecated; call `clan-core.lib.clan { … }` instead.".into(),
            ));
        }
    }
    out
}

/// `<something>.lib` `.buildClan`: a select whose base ends in `lib`.
fn is_lib_select(attrpath: &rnix::SyntaxNode) -> bool {
    let Some(sel) = attrpath.parent().and_then(ast::Select::cast) else {
        return false;
    };
    sel.expr()
        .is_some_and(|e| e.syntax().text().to_string().ends_with("lib"))
}

#[cfg(test)]
mod tests {
    use crate::tests::{check, with_flake};

    #[test]
    fn meta_tld_is_reported_with_clan_cores_warning_in_both_places_meta_is_read() {
        let out = check(&with_flake(
            "#- /modules/clan.nix\n{\n  clan.meta.name = \"x\";\n  clan.inventory.meta.tld = \"lan\";\n  clan.meta.domain = \"example.org\";\n}\n",
        ));
        assert_eq!(
            out,
            "deprecated/clan-field modules/clan.nix:3:23: clan-core warns: \"`clan.meta.tld` has been deprecated in favor of `clan.meta.domain`. `clan.meta.tld` will be removed in the next release.\" Set `meta.domain` instead and remove `meta.tld` (`meta.domain` is set too, so clan-core already ignores `meta.tld`).\n"
        );
        // Unknown or null values may be the default: nothing is claimed.
        let unknown = check(&with_flake(
            "#- /modules/clan.nix\n{ inputs, ... }:\n{\n  clan.meta.tld = inputs.x.tld;\n  flake.clan.meta.tld = null;\n}\n",
        ));
        assert_eq!(unknown, "");
    }
}
