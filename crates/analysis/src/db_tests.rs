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
