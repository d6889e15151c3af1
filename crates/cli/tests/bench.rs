//! The whole-process benchmark (`crates/bench`) runs on `examples/fleet` with one run, so it
//! cannot rot; its "nothing may change a diagnostic" guard passes on the same output and fails
//! on a changed one. Timings are never asserted.

use std::path::{Path, PathBuf};

fn options(save: Option<&Path>, compare: Option<&Path>) -> infra_check_bench::Options {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet");
    infra_check_bench::Options {
        binary: PathBuf::from(env!("CARGO_BIN_EXE_infra-check")),
        runs: 1,
        only: Vec::new(),
        trees: vec![root],
        fleets: Vec::new(),
        corpus_dir: PathBuf::from("/nonexistent"),
        corpus_archives: PathBuf::from("/nonexistent"),
        save_json: save.map(Path::to_owned),
        compare: compare.map(Path::to_owned),
        peers: false,
        formats: None,
    }
}

#[test]
fn the_formats_table_times_every_format_on_a_fleet_with_findings() {
    let mut opts = options(None, None);
    opts.trees.clear();
    opts.only = vec!["formats".to_owned()];
    opts.formats = Some(20);
    let outcome = infra_check_bench::run(&opts).unwrap();
    assert!(outcome.problems.is_empty(), "{:#?}", outcome.problems);
    let head = outcome
        .report
        .lines()
        .find(|l| l.starts_with("Output formats on fleetgen-20 without vars ("))
        .unwrap_or_else(|| panic!("no formats table in:\n{}", outcome.report));
    // A fleet without its vars has findings: at least one per machine.
    let findings: usize = head
        .split('(')
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(findings >= 20, "{head}");
    let mut sizes = Vec::new();
    for format in ["human", "json", "sarif", "github"] {
        let row = outcome
            .report
            .lines()
            .find(|l| l.starts_with(&format!("| {format} | ")))
            .unwrap_or_else(|| panic!("no row for {format} in:\n{}", outcome.report));
        sizes.push(row.split('|').nth(2).unwrap().trim().to_owned());
    }
    // Each format was asked for: four outputs of four sizes.
    sizes.sort();
    sizes.dedup();
    assert_eq!(sizes.len(), 4, "{}", outcome.report);
}

#[test]
fn the_benchmark_runs_on_the_example_fleet_and_guards_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("before");

    let first = infra_check_bench::run(&options(Some(&saved), None)).unwrap();
    assert!(first.problems.is_empty(), "{:#?}", first.problems);
    let row = first
        .report
        .lines()
        .find(|l| l.starts_with("| fleet |"))
        .unwrap_or_else(|| panic!("no row for the fleet in:\n{}", first.report));
    // The file count is the analyzer's walk, not a guess.
    let files: usize = row.split('|').nth(2).unwrap().trim().parse().unwrap();
    assert!(files > 10, "{row}");

    // The saved output names no absolute path.
    let text = std::fs::read_to_string(saved.join("fleet.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["root"], "<root>");
    assert!(!text.contains(env!("CARGO_MANIFEST_DIR")), "{text}");

    // The same binary on the same tree: nothing changed.
    let same = infra_check_bench::run(&options(None, Some(&saved))).unwrap();
    assert!(same.problems.is_empty(), "{:#?}", same.problems);

    // A saved output with one more diagnostic: the guard fails and says what is gone.
    let mut changed = doc.clone();
    let extra = serde_json::json!({
        "code": "bench/test", "severity": "error", "message": "planted by the test",
        "file": "flake.nix",
        "range": {"start": {"line": 1, "column": 1}, "end": {"line": 1, "column": 2}},
        "related": [], "fix": null
    });
    changed["diagnostics"].as_array_mut().unwrap().push(extra);
    std::fs::write(saved.join("fleet.json"), changed.to_string()).unwrap();
    let differs = infra_check_bench::run(&options(None, Some(&saved))).unwrap();
    let problems = differs.problems.join("\n");
    assert!(problems.contains("fleet: the output differs"), "{problems}");
    assert!(
        problems.contains("gone: flake.nix:1: error[bench/test] planted by the test"),
        "{problems}"
    );
}
