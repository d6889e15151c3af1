//! Which of the root flake's inputs have their source in the workspace's store.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::locate::{locate, Located};
use crate::db::{Db, Workspace};

/// Every input of the root flake whose lock gives a source (a `follows` gives the source of
/// what it follows), located in [`Workspace::store`], by input name. The store is looked at
/// when `flake.lock` or the store setting changes: a source fetched while an editor runs is
/// seen at the next change of the lock (sources never change, so nothing read goes stale).
#[salsa::tracked(returns(ref))]
pub fn input_roots(db: &dyn Db, ws: Workspace) -> Arc<BTreeMap<String, Located>> {
    let store = ws.store(db);
    let info = crate::flake::flake_info(db, ws);
    let roots = info
        .lock
        .inputs
        .iter()
        .filter(|i| !i.path.contains('/'))
        .filter_map(|i| Some((i.path.clone(), locate(store, i.source.as_ref()?))))
        .collect();
    Arc::new(roots)
}

/// The directory holding the flake of the root input `name`, when its source was found.
pub fn input_root(db: &dyn Db, ws: Workspace, name: &str) -> Option<std::path::PathBuf> {
    input_roots(db, ws).get(name)?.root.clone()
}
