//! `cargo bench -p infra-check --bench check`: times the analyzer on the embedded example and on
//! synthetic fleets of 10, 100 and 1,000 machines (written by `crates/fleetgen`), in a release
//! build. Prints medians.
//!
//! Measured per tree:
//! - `read+parse`: reading and parsing every `.nix` file serially with rnix — the baseline the
//!   design compares a cold check against;
//! - `cold check`: what `infra-check check` does (walk, read, parse in parallel, summarise,
//!   index, check), from nothing;
//! - `edit, same summary`: re-check after appending a comment to one module;
//! - `edit, new summary`: re-check after adding a reference to one module.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use infra_check_analysis::AnalysisHost;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut xs = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(f());
        xs.push(start.elapsed());
    }
    median(xs)
}

/// The `.nix` files the analyzer reads under `root` (its own walk, so the baseline reads the
/// same files as the check).
fn nix_files(root: &Path) -> Vec<PathBuf> {
    let scan = infra_check_analysis::scan(root).unwrap();
    scan.texts
        .iter()
        .filter(|(rel, _)| rel.ends_with(".nix"))
        .map(|(rel, _)| scan.root.join(rel))
        .collect()
}

fn read_and_parse(files: &[PathBuf]) -> usize {
    let mut errors = 0;
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        errors += rnix::Root::parse(&text).errors().len();
    }
    errors
}

fn cold_check(root: &Path) -> usize {
    let loaded = infra_check_analysis::load(root).unwrap();
    let a = loaded.host.snapshot();
    a.prime().unwrap();
    a.diagnostics().unwrap().len()
}

fn loaded(root: &Path) -> AnalysisHost {
    let host = infra_check_analysis::load(root).unwrap().host;
    host.snapshot().diagnostics().unwrap();
    host
}

fn edit_and_check(
    host: &mut AnalysisHost,
    path: &str,
    original: &str,
    suffix: &str,
    i: usize,
) -> usize {
    let text: Arc<str> = format!("{original}{suffix}{i}\n").into();
    host.set_file_text(path, Some(text));
    host.snapshot().diagnostics().unwrap().len()
}

fn bench(name: &str, root: &Path, edit_file: &str, runs: usize) {
    let files = nix_files(root);
    let bytes: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
    let parse = time(runs, || read_and_parse(&files));
    let cold = time(runs, || cold_check(root));
    let diags = cold_check(root);

    let original = std::fs::read_to_string(root.join(edit_file)).unwrap();
    let mut host = loaded(root);
    let mut i = 0;
    let same = time(runs * 3, || {
        i += 1;
        edit_and_check(&mut host, edit_file, &original, "# edited ", i)
    });
    // A new top-level attribute that references a module: the summary changes.
    let with_ref = original.trim_end().trim_end_matches('}').to_owned();
    let mut j = 0;
    let changed = time(runs * 3, || {
        j += 1;
        let text = format!(
            "{with_ref}  flake.modules.nixos.\"bench-{j}\".imports = [ config.flake.modules.nixos.base ];\n}}\n"
        );
        host.set_file_text(edit_file, Some(text.into()));
        host.snapshot().diagnostics().unwrap().len()
    });
    println!(
        "{name:<22} {:>6} files {:>8.1} KiB | read+parse {:>9.2?} | cold check {:>9.2?} | edit, same summary {:>9.2?} | edit, new summary {:>9.2?} | {diags} diagnostics",
        files.len(),
        bytes as f64 / 1024.0,
        parse,
        cold,
        same,
        changed
    );
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let runs = 15;
    let fleet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet");
    bench(
        "examples/fleet",
        &fleet,
        "modules/machines/nixos/krypton/default.nix",
        runs,
    );
    for (machines, shared) in [(10, 10), (100, 50), (1000, 200)] {
        let dir = tempfile::tempdir().unwrap();
        fleetgen::write_fleet(dir.path(), fleetgen::Spec { machines, shared }).unwrap();
        bench(
            &format!("synthetic {machines} machines"),
            dir.path(),
            "modules/machines/nixos/m0/default.nix",
            if machines >= 1000 { 5 } else { runs },
        );
    }
}
