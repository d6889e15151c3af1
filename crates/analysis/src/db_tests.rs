//! The host's inputs: what was read from disk and what is being edited are told apart (salsa
//! durability), and collecting garbage between edits changes no answer.

use crate::tests::host_from_fixture;

fn codes(host: &crate::AnalysisHost) -> Vec<String> {
    host.snapshot()
        .diagnostics()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d.code, d.location.file))
        .collect()
}

#[test]
fn edits_and_garbage_collection_between_them_keep_every_answer_current() {
    let mut host = host_from_fixture(
        "#- /flake.nix\n{ outputs = _: { }; }\n#- /modules/a.nix\n{ }\n#- /modules/b.nix\n{ }\n",
    );
    assert_eq!(codes(&host), Vec::<String>::new());
    // An edited document (low durability) breaks; a file read from disk does not change.
    host.set_file_text("modules/a.nix", Some("{ x = ; }".into()));
    let broken = codes(&host);
    assert!(
        broken.iter().any(|c| c.ends_with(" modules/a.nix")),
        "{broken:?}"
    );
    host.collect_garbage();
    assert_eq!(codes(&host), broken);
    // A disk file changing after an edit is seen too (its durability is high).
    host.set_files(vec![("modules/b.nix".to_owned(), "{ y = ; }".into())]);
    let both = codes(&host);
    assert!(
        both.iter().any(|c| c.ends_with(" modules/b.nix")),
        "{both:?}"
    );
    host.collect_garbage();
    host.set_file_text("modules/a.nix", Some("{ }".into()));
    host.collect_garbage();
    let fixed = codes(&host);
    assert!(
        !fixed.iter().any(|c| c.ends_with(" modules/a.nix")),
        "{fixed:?}"
    );
    assert!(
        fixed.iter().any(|c| c.ends_with(" modules/b.nix")),
        "{fixed:?}"
    );
}

/// The cold start's per-file work keeps no syntax tree (see `crate::file_pass`): only what reads
/// a file's tree itself — the flake's outputs, a file that `import` evaluates — runs `parse`.
#[test]
fn the_per_file_pass_parses_each_file_once_without_keeping_the_tree() {
    use std::sync::{Arc, Mutex};
    let executed: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&executed);
    let db = crate::db::RootDatabase::with_events(move |e| {
        if let salsa::EventKind::WillExecute { database_key } = e.kind {
            seen.lock().unwrap().push(format!("{database_key:?}"));
        }
    });
    let host = crate::tests::fixture_into(
        crate::AnalysisHost::with_database("/fixture".into(), db),
        "#- /flake.nix\n{ outputs = _: { }; }\n#- /modules/a.nix\n{ x = import ./lib.nix; }\n#- /modules/b.nix\n{ y = 1; }\n#- /modules/lib.nix\n{ z = 2; }\n",
    );
    let analysis = host.snapshot();
    analysis.prime().unwrap();
    let (db, ws) = (analysis.db_for_tests(), analysis.workspace_for_tests());
    let parse = |path: &str| {
        let file = crate::db::file_by_path(db, ws, path).unwrap();
        format!("parse({:?})", salsa::plumbing::AsId::as_id(&file))
    };
    let executed = executed.lock().unwrap().clone();
    let count = |q: &String| executed.iter().filter(|e| *e == q).count();
    let passes = executed
        .iter()
        .filter(|e| e.starts_with("file_pass("))
        .count();
    assert_eq!(passes, 4, "one pass per file: {executed:#?}");
    // Read as trees: the flake's outputs, and the file `import` evaluates.
    for path in ["flake.nix", "modules/lib.nix"] {
        assert_eq!(count(&parse(path)), 1, "{path}: {executed:#?}");
    }
    for path in ["modules/a.nix", "modules/b.nix"] {
        assert_eq!(count(&parse(path)), 0, "{path}: {executed:#?}");
    }
    // The results are the pass's, and the same as asked for one by one.
    assert!(analysis.diagnostics().unwrap().is_empty());
}
