//! clan-core's services read from the locked clan-core's own source, when Nix has it in the
//! store: what `module.input = "clan-core"` (or no input) names, exactly for the pinned
//! version, instead of the hand-written catalog's era.
//!
//! clan-core registers its services as flake-parts modules under `clanServices/`: its
//! `clanServices/flake-module.nix` imports `<dir>/flake-module.nix` of every subdirectory that
//! has one (since June 2025, with `builtins.readDir`; earlier versions list them and set some
//! `clan.modules` themselves), and each of those sets `clan.modules.<name>` to the service
//! module. That module is read as a repository's own `clan.modules` are
//! ([`super::extract::ClanReader::local_services`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::model::{ClanFragment, LocalService};
use crate::db::{Db, Workspace};
use crate::diagnostic::{Location, TextRange};
use crate::eval::read::{attr_values, config_sets_of, module_body};
use crate::eval::{Evaluator, Thunk, Value};
use crate::inputs::tree::InputTree;

/// What the locked clan-core's source says its services are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceServices {
    /// By `clan.modules` name.
    pub services: BTreeMap<String, LocalService>,
    /// Every registration was read: a name not in `services` is not a service of this version.
    pub complete: bool,
    /// `clan.deprecatedModules`: names clan-core keeps only to refuse them with a message (a
    /// service moved out of clan-core leaves a stub that throws).
    pub deprecated: std::collections::BTreeSet<String>,
}

/// The directory of clan-core's services, and its registration module.
const SERVICES_DIR: &str = "clanServices";
const REGISTRATION: &str = "clanServices/flake-module.nix";
/// The name of the services of a source in the cache (`inputs::cache`).
pub const SERVICES_ENTRY: &str = "clan services";
/// How many registration modules are followed (clan-core has about thirty).
const MAX_REGISTRATIONS: usize = 512;

/// [`SourceServices`] of the workspace's clan-core input, when its source is in the store and
/// has clan services; `None` otherwise (the catalog speaks for it then).
#[salsa::tracked(returns(ref))]
pub fn clan_core_source(db: &dyn Db, ws: Workspace) -> Option<Arc<SourceServices>> {
    let info = crate::flake::flake_info(db, ws);
    let (name, _) = info.clan_core_input()?;
    let root = crate::inputs::roots::input_root(db, ws, name)?;
    crate::inputs::cache::cached(ws.cache(db).as_deref(), &root, SERVICES_ENTRY, || {
        read_services(&root)
    })
    .map(Arc::new)
}

/// The services of the clan-core source at `root`; `None` when it has no `clanServices/`
/// registration infra-check can read anything from.
pub fn read_services(root: &Path) -> Option<SourceServices> {
    crate::stack::run(|| read_services_here(root))
}

fn read_services_here(root: &Path) -> Option<SourceServices> {
    let tree = InputTree::new(root)?;
    if !tree.is_file(REGISTRATION) {
        return None;
    }
    let ev = Evaluator::new(&tree);
    let mut fragment = ClanFragment::default();
    let mut complete = true;
    let mut deprecated = std::collections::BTreeSet::new();
    let mut queue = vec![REGISTRATION.to_owned()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(file) = queue.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        if seen.len() > MAX_REGISTRATIONS {
            complete = false;
            break;
        }
        let module = Thunk::value(module_body(&ev, ev.import(&file)));
        let (top, ok) = config_sets_of(&ev, &module);
        complete &= ok;
        let fallback = Location::new(&file, TextRange::default());
        for clan in attr_values(&top, "clan") {
            let (clan_sets, ok) = config_sets_of(&ev, &clan);
            complete &= ok;
            for modules in attr_values(&clan_sets, "modules") {
                let mut reader = super::extract::ClanReader::new(&ev, &mut fragment);
                reader.local_services(&modules, &fallback);
            }
            for list in attr_values(&clan_sets, "deprecatedModules") {
                match ev.force(&list) {
                    Value::List(items) => {
                        for item in items.iter() {
                            match ev.force(item) {
                                Value::Str(name) => {
                                    deprecated.insert(name.to_string());
                                }
                                _ => complete = false,
                            }
                        }
                    }
                    _ => complete = false,
                }
            }
        }
        match attr_values(&top, "imports").first() {
            None => {}
            Some(imports) => match ev.force(imports) {
                Value::List(items) => {
                    for item in items.iter() {
                        match ev.force(item) {
                            Value::Path(p) => queue.push(p.to_string()),
                            _ => complete = false,
                        }
                    }
                }
                // clan-core's own rule, which the evaluator cannot run (`builtins.readDir`):
                // every subdirectory but `result` that has a `flake-module.nix`.
                _ if file == REGISTRATION && reads_the_directory(&tree) => {
                    let Some(dirs) = tree.subdirectories(SERVICES_DIR) else {
                        complete = false;
                        continue;
                    };
                    for dir in dirs {
                        let module = format!("{SERVICES_DIR}/{dir}/flake-module.nix");
                        if dir != "result" && tree.is_file(&module) {
                            queue.push(module);
                        }
                    }
                }
                _ => complete = false,
            },
        }
    }
    complete &= !fragment.open.modules;
    if fragment.local_services.is_empty() {
        return None;
    }
    let services = fragment
        .local_services
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect();
    Some(SourceServices {
        services,
        complete,
        deprecated,
    })
}

/// Whether `clanServices/flake-module.nix` imports its subdirectories by listing the directory,
/// as every clan-core since June 2025 does (its text names `readDir` and `flake-module.nix`).
fn reads_the_directory(tree: &InputTree) -> bool {
    tree.text(REGISTRATION, crate::fsread::MAX_NIX_BYTES)
        .is_some_and(|t| t.contains("builtins.readDir ./.") && t.contains("/flake-module.nix"))
}

#[cfg(test)]
#[path = "source_services_tests.rs"]
mod tests;
