//! `bench`: see the crate documentation and README.md's "Benchmarks".

use std::path::PathBuf;

use clap::Parser;

/// Times `infra-check check` as a whole process on the corpus and on fleetgen fleets, against
/// serial read + parse of the same files, and prints a Markdown table.
#[derive(Parser)]
#[command(name = "bench")]
struct Args {
    /// The infra-check binary to time.
    #[arg(long, default_value = "target/release/infra-check")]
    binary: PathBuf,
    /// Timed runs per tree, after one warm-up.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Only this tree (a corpus name, `fleetgen-N` or `formats`); may be repeated.
    #[arg(long)]
    only: Vec<String>,
    /// Benchmark this directory instead of the corpus and the fleets; may be repeated.
    #[arg(long)]
    tree: Vec<PathBuf>,
    /// Sizes of the generated fleets, in machines.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    fleets: Vec<usize>,
    /// Where the corpus is unpacked (default: $INFRA_CHECK_CORPUS_DIR or /tmp/infra-check-corpus).
    #[arg(long)]
    corpus_dir: Option<PathBuf>,
    /// Where the corpus archives are (default: `../shared/corpus` from the project root).
    #[arg(long)]
    corpus_archives: Option<PathBuf>,
    /// Write each tree's normalised `check --format json` output to DIR/<tree>.json.
    #[arg(long, value_name = "DIR")]
    save_json: Option<PathBuf>,
    /// Fail when a tree's normalised output differs from DIR/<tree>.json.
    #[arg(long, value_name = "DIR")]
    compare: Option<PathBuf>,
    /// Do not time statix, deadnix and nil even when they are on PATH.
    #[arg(long)]
    no_peers: bool,
    /// Machines in the fleet (without its vars: thousands of findings) on which every output
    /// format is timed; 0 skips it. `--only formats` selects it alone; `--tree` skips it.
    #[arg(long, default_value_t = 10000)]
    formats_fleet: usize,
}

fn main() {
    let a = Args::parse();
    let corpus_archives = a.corpus_archives.unwrap_or_else(|| {
        let here = PathBuf::from("../shared/corpus");
        if here.is_dir() {
            here
        } else {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        }
    });
    let opts = infra_check_bench::Options {
        binary: a.binary,
        runs: a.runs,
        only: a.only,
        trees: a.tree,
        fleets: a.fleets,
        corpus_dir: a.corpus_dir.unwrap_or_else(|| {
            std::env::var_os("INFRA_CHECK_CORPUS_DIR")
                .map_or_else(|| PathBuf::from("/tmp/infra-check-corpus"), PathBuf::from)
        }),
        corpus_archives,
        save_json: a.save_json,
        compare: a.compare,
        peers: !a.no_peers,
        formats: (a.formats_fleet > 0).then_some(a.formats_fleet),
    };
    match infra_check_bench::run(&opts) {
        Ok(outcome) => {
            println!("{}", outcome.report.trim_end());
            if !outcome.problems.is_empty() {
                eprintln!("\n{}", outcome.problems.join("\n\n"));
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
