//! The checks. Each submodule is one family; this file gathers their findings for the
//! workspace and applies suppression comments and `infra-check.toml`.

mod complexity;
mod deprecated;
mod edits;
pub(crate) mod imports;
mod inventory;
pub(crate) mod justfile;
mod machines;
mod module_shapes;
mod modules;
mod not_a_flake_module;
mod options;
mod suppress;
mod syntax;
mod vars;
mod workspace;

use std::sync::Arc;

use crate::db::{config, Db, Workspace};
use crate::diagnostic::{Diagnostic, TextRange};

#[salsa::tracked(returns(ref))]
pub fn workspace_diagnostics(db: &dyn Db, ws: Workspace) -> Arc<Vec<Diagnostic>> {
    let _p = crate::timings::phase("workspace diagnostics");
    let cfg = config(db, ws);
    let mut all = Vec::new();
    for chunk in crate::chunks::nix_chunks(db, ws, |p| !cfg.is_excluded(p)) {
        all.extend(chunk_local_diagnostics(db, chunk).iter().cloned());
    }
    // The cross-file checks, each family memoised apart from suppression: they read summaries
    // and models, not file text, so an edit that keeps every summary leaves them cached.
    for family in Family::ALL {
        all.extend(family_findings(db, ws, family).iter().cloned());
    }
    for p in &cfg.problems {
        let range = p
            .range
            .map(|(s, e)| TextRange::new(s, e))
            .unwrap_or_default();
        all.push(Diagnostic::new(
            p.code,
            crate::config::CONFIG_FILE,
            range,
            p.message.clone(),
        ));
    }
    let disk = ws.disk(db);
    let reached = crate::reach::reached(db, ws);
    let mut out = Vec::with_capacity(all.len());
    for mut d in all {
        anchor_on_a_file(&mut d, disk);
        if matches!(d.code, "syntax/parse-error" | "module/import-not-found")
            && !reached.contains(&d.location.file)
        {
            // Nothing the flake evaluates names the file: the mistake breaks nothing the
            // checks can see (a template, a file left behind, one an outside tool reads).
            d.severity = crate::diagnostic::Severity::Info;
            d.message.push_str(" Nothing in the flake that infra-check can see imports this file, so this is shown as information only.");
        }
        if cfg.is_excluded(&d.location.file) {
            continue;
        }
        let Some(sev) = cfg.severity_for(d.code, d.severity) else {
            continue;
        };
        d.severity = sev;
        out.push(d);
    }
    out = suppress::apply(db, ws, out);
    crate::diagnostic::sort_and_dedup(&mut out);
    Arc::new(out)
}

/// The findings about the repository's justfile (see [`justfile`]), with `infra-check.toml`
/// applied as to every other finding. Not memoised: the recipes come from outside the
/// database, read once per run by the CLI.
pub(crate) fn justfile_diagnostics(
    db: &dyn Db,
    ws: Workspace,
    recipes: &[justfile::JustRecipe],
) -> Vec<Diagnostic> {
    let cfg = config(db, ws);
    let mut out: Vec<Diagnostic> = justfile::check(db, ws, recipes)
        .into_iter()
        .filter(|d| !cfg.is_excluded(&d.location.file))
        .filter_map(|mut d| {
            d.severity = cfg.severity_for(d.code, d.severity)?;
            Some(d)
        })
        .collect();
    crate::diagnostic::sort_and_dedup(&mut out);
    out
}

/// Editors cannot show a diagnostic on a directory (they open a listing, or drop it): a finding
/// anchored on one moves to `flake.nix` with the path named in its message, and related
/// locations on directories are dropped. The checks anchor on the declaring line where there is
/// one; this only keeps a slip from reaching an editor.
fn anchor_on_a_file(d: &mut Diagnostic, disk: &crate::disk::DiskTree) {
    let on_dir = |l: &crate::diagnostic::Location| l.file.is_empty() || disk.is_dir(&l.file);
    if on_dir(&d.location) {
        if !d.location.file.is_empty() && !d.message.contains(&*d.location.file) {
            d.message = format!("`{}/`: {}", d.location.file, d.message);
        }
        d.location = crate::diagnostic::Location::flake_nix();
    }
    d.related.retain(|r| !on_dir(&r.location));
}

/// The families of cross-file checks, in the order their findings are gathered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    Modules,
    ModuleShapes,
    Inventory,
    Machines,
    Deprecated,
    Vars,
    Options,
    Workspace,
}

impl Family {
    const ALL: [Family; 8] = [
        Family::Modules,
        Family::ModuleShapes,
        Family::Inventory,
        Family::Machines,
        Family::Deprecated,
        Family::Vars,
        Family::Options,
        Family::Workspace,
    ];
}

/// One family's findings, memoised on its own so that the families can be computed at once on
/// several threads ([`prime_workspace`]) and an edit recomputes only those it concerns.
#[salsa::tracked(returns(ref))]
fn family_findings(db: &dyn Db, ws: Workspace, family: Family) -> Arc<Vec<Diagnostic>> {
    use crate::timings::timed;
    Arc::new(match family {
        Family::Modules => timed("check modules", || modules::check(db, ws)),
        Family::ModuleShapes => timed("check module shapes", || module_shapes::check(db, ws)),
        Family::Inventory => timed("check inventory", || inventory::check(db, ws)),
        Family::Machines => timed("check machines", || machines::check(db, ws)),
        Family::Deprecated => timed("check deprecated", || deprecated::check(db, ws)),
        Family::Vars => timed("check vars", || vars::check(db, ws)),
        Family::Options => timed("check options", || options::check(db, ws)),
        Family::Workspace => timed("check workspace", || workspace::check(db, ws)),
    })
}

/// Computes what the cross-file checks need, one machine at a time, and then the families of
/// checks, on every thread of the pool this runs on, so that the serial workspace phase finds
/// them memoised. Optional, like [`crate::Analysis::prime`]: each query computes what it needs
/// on demand; this only spreads the work over the cores. The results are the same whichever
/// thread computes them, and are gathered in a fixed order.
pub(crate) fn prime_workspace(db: &crate::db::RootDatabase, ws: Workspace) {
    use rayon::prelude::*;
    let _p = crate::timings::phase("workspace models");
    // The files clan-core loads from `machines/<m>/`, each evaluated as its machine's module:
    // the clan model reads every one.
    crate::machine_config::machine_special_args(db, ws);
    let machine_files = crate::machine_config::machine_files(db, ws);
    machine_files
        .par_iter()
        .for_each_with(db.clone(), |db, (_, file)| {
            crate::machine_config::machine_file_summary(db, ws, *file);
        });
    // The clan-wide models every machine reads, first: a worker needing one in progress would
    // only wait for it.
    let clan = crate::timings::timed("clan model", || {
        let clan = crate::clan::resolve::clan_model(db, ws);
        crate::vars::resolve::machines_closed(db, ws);
        clan
    });
    let machines: Vec<&String> = clan.machines.keys().collect();
    crate::timings::timed("machines' parts", || {
        machines.par_iter().for_each_with(db.clone(), |db, m| {
            vars::machine_findings(db, ws, m);
            crate::options::configs::machine_configurations(db, ws, m);
        })
    });
    Family::ALL.par_iter().for_each_with(db.clone(), |db, f| {
        family_findings(db, ws, *f);
    });
}

/// Findings that depend on one file alone (and the disk tree), cached per file (from
/// [`crate::file_pass`]).
#[salsa::tracked(returns(ref))]
pub(crate) fn file_local_diagnostics(
    db: &dyn Db,
    ws: Workspace,
    file: crate::db::SourceFile,
) -> Arc<Vec<Diagnostic>> {
    crate::file_pass::file_pass(db, ws, file).local.clone()
}

/// The [`file_local_diagnostics`] of a group of files (see [`crate::chunks`]).
#[salsa::tracked(returns(ref))]
fn chunk_local_diagnostics<'db>(
    db: &'db dyn Db,
    chunk: crate::chunks::FileChunk<'db>,
) -> Arc<Vec<Diagnostic>> {
    let ws = *chunk.ws(db);
    Arc::new(
        chunk
            .files(db)
            .iter()
            .flat_map(|&f| file_local_diagnostics(db, ws, f).iter().cloned())
            .collect(),
    )
}

/// The [`file_local_diagnostics`] of `parsed`, the tree of `file` whose import literals are
/// `imports`.
pub(crate) fn local_diagnostics_in(
    db: &dyn Db,
    ws: Workspace,
    file: crate::db::SourceFile,
    parsed: &crate::syntax::Parsed,
    imports: &imports::ImportLiterals,
) -> Vec<Diagnostic> {
    let mut out = syntax::check(db, file, parsed);
    out.extend(complexity::check(db, file));
    out.extend(imports::check(db, ws, file, imports));
    out.extend(deprecated::check_file(db, ws, file, parsed));
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod inventory_tests;

#[cfg(test)]
mod vars_tests;

#[cfg(test)]
mod options_tests;

#[cfg(test)]
mod workspace_tests;

#[cfg(test)]
mod incremental_tests;
