//! Which of the root flake's inputs have their source in the workspace's store.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::locate::{locate, Located};
use crate::db::{Db, Workspace};

/// Every input of the root flake whose lock gives a source (a `follows` gives the source of
/// what it follows), located in [`Workspace::store`], by input name. The store is looked at
/// when `flake.lock` or the store setting changes, and when the host finds that the store holds
/// other sources than before (`AnalysisHost::refresh_store`: the language server looks after
/// every rescan); sources never change, so nothing read goes stale.
#[salsa::tracked(returns(ref))]
pub fn input_roots(db: &dyn Db, ws: Workspace) -> Arc<BTreeMap<String, Located>> {
    // Looked at again when the host finds the store changed (`AnalysisHost::refresh_store`).
    let _ = ws.store_epoch(db);
    Arc::new(locate_roots(
        ws.store(db),
        &crate::flake::flake_info(db, ws).lock,
    ))
}

/// The root inputs of `lock` whose lock gives a source, located in `store`, by name.
pub(crate) fn locate_roots(
    store: &crate::inputs::StoreSetting,
    lock: &crate::inputs::Lock,
) -> BTreeMap<String, Located> {
    lock.inputs
        .iter()
        .filter(|i| !i.path.contains('/'))
        .filter_map(|i| Some((i.path.clone(), locate(store, i.source.as_ref()?))))
        .collect()
}

/// The directory holding the flake of the root input `name`, when its source was found.
pub fn input_root(db: &dyn Db, ws: Workspace, name: &str) -> Option<std::path::PathBuf> {
    input_roots(db, ws).get(name)?.root.clone()
}

#[cfg(test)]
mod tests {
    use crate::inputs::store_path::{parse_nar_hash, source_store_path};
    use crate::inputs::StoreSetting;

    #[test]
    fn a_source_fetched_while_the_host_runs_is_found_when_it_looks_again() {
        let store = tempfile::tempdir().unwrap();
        let store_dir = store.path().to_str().unwrap().to_owned();
        let hash = format!("sha256-{}E=", "B".repeat(42));
        let lock = format!(
            r#"{{ "version": 7, "root": "root", "nodes": {{
  "root": {{ "inputs": {{ "extmod": "extmod" }} }},
  "extmod": {{ "locked": {{ "type": "github", "owner": "o", "repo": "r", "rev": "abc", "narHash": "{hash}" }},
              "original": {{ "type": "github", "owner": "o", "repo": "r" }} }} }} }}"#
        );
        let mut host = crate::tests::host_from_fixture(&format!(
            "#- /flake.nix\n{{ inputs.extmod.url = \"github:o/r\"; outputs = _: {{ }}; }}\n#- /flake.lock\n{lock}\n"
        ));
        host.set_store(StoreSetting::Dir(store_dir.clone()));
        let root = |host: &crate::db::AnalysisHost| {
            let analysis = host.snapshot();
            let (db, ws) = (analysis.db_for_tests(), analysis.workspace_for_tests());
            super::input_root(db, ws, "extmod")
        };
        assert_eq!(root(&host), None);
        assert!(!host.refresh_store(), "nothing changed yet");
        // `nix flake archive` puts the source where its hash says.
        let path = source_store_path(&store_dir, &parse_nar_hash(&hash).unwrap());
        std::fs::create_dir_all(&path).unwrap();
        assert!(host.refresh_store());
        assert_eq!(root(&host), Some(std::path::PathBuf::from(&path)));
        assert!(!host.refresh_store(), "found once, it stays found");
        // Collected by `nix-store --gc`: unknown again.
        std::fs::remove_dir(&path).unwrap();
        assert!(host.refresh_store());
        assert_eq!(root(&host), None);
    }
}
