//! `cargo bench -p infra-check --bench check`: times the analyzer on the embedded example and on
//! synthetic fleets of 10, 100 and 1,000 machines, in a release build. Prints medians.
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

fn nix_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() && e.path().extension().is_some_and(|x| x == "nix") {
                out.push(e.path());
            }
        }
    }
    out
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

/// Writes a synthetic dendritic fleet: `machines` machine modules (half NixOS, half darwin),
/// `shared` shared modules per class, an inventory and `clan.machines`.
fn synth_fleet(dir: &Path, machines: usize, shared: usize) {
    let w = |p: &str, s: String| {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, s).unwrap();
    };
    w(
        "flake.nix",
        r#"{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.import-tree.url = "github:vic/import-tree";
  outputs = inputs@{ flake-parts, ... }: flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
"#
        .into(),
    );
    for class in ["nixos", "darwin"] {
        for s in 0..shared {
            w(
                &format!("modules/{class}/shared-{s}.nix"),
                format!(
                    "{{ lib, ... }}:\n{{\n  flake.modules.{class}.shared-{s} = {{ pkgs, ... }}: {{\n    environment.systemPackages = [ pkgs.hello ];\n    services.x{s}.enable = lib.mkDefault true;\n  }};\n}}\n"
                ),
            );
        }
    }
    let mut inventory = String::from("{\n  clan.inventory.machines = {\n");
    let mut registry = String::from("{ config, ... }:\n{\n");
    for m in 0..machines {
        let class = if m % 2 == 0 { "nixos" } else { "darwin" };
        let picks: Vec<String> = (0..4)
            .map(|k| format!("shared-{}", (m + k) % shared))
            .collect();
        w(
            &format!("modules/machines/{class}/m{m}/default.nix"),
            format!(
                "{{ config, inputs, ... }}:\nlet\n  flakeModules = config.flake.modules.{class};\nin\n{{\n  flake.modules.{class}.\"machines/{class}/m{m}\" = {{ pkgs, ... }}: {{\n    imports = [ inputs.srvos.{class}Modules.common ] ++ (with flakeModules; [ {} ]);\n    networking.hostName = \"m{m}\";\n  }};\n}}\n",
                picks.join(" ")
            ),
        );
        inventory.push_str(&format!(
            "    m{m} = {{ tags = [ \"t{}\" ]; machineClass = \"{class}\"; }};\n",
            m % 7
        ));
        registry.push_str(&format!(
            "  clan.machines.m{m}.imports = [ config.flake.modules.{class}.\"machines/{class}/m{m}\" ];\n"
        ));
    }
    inventory.push_str("  };\n}\n");
    registry.push_str("}\n");
    w("modules/clan/inventory.nix", inventory);
    w("modules/clan/machines.nix", registry);
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
        synth_fleet(dir.path(), machines, shared);
        bench(
            &format!("synthetic {machines} machines"),
            dir.path(),
            "modules/machines/nixos/m0/default.nix",
            if machines >= 1000 { 5 } else { runs },
        );
    }
}
