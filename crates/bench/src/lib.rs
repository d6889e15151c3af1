//! Whole-process benchmark of `infra-check check`, against the time it takes to read and parse
//! the same files serially with rnix (issue 13's baseline), and against statix, deadnix and nil
//! when they are on `PATH`. Runs on the corpus of real repositories and on fleetgen fleets, and
//! guards that an optimisation changes no diagnostic (`--save-json` before, `--compare` after).

mod formats;
mod measure;
mod outputs;
mod table;
mod trees;

use std::path::{Path, PathBuf};
use std::process::Command;

use table::{Row, Timed};

/// The peer tools timed when they are on `PATH`, in table order.
pub const PEERS: [&str; 3] = ["statix", "deadnix", "nil"];

/// What to run.
pub struct Options {
    /// The `infra-check` binary to time.
    pub binary: PathBuf,
    /// Timed runs per tree and command, after one untimed warm-up.
    pub runs: usize,
    /// Only the trees with these names (empty: all).
    pub only: Vec<String>,
    /// Directories to benchmark instead of the corpus and the fleets.
    pub trees: Vec<PathBuf>,
    /// Fleet sizes (machines) to generate.
    pub fleets: Vec<usize>,
    /// Where the corpus is unpacked.
    pub corpus_dir: PathBuf,
    /// Where the corpus archives (`NAME.tar.gz`) are.
    pub corpus_archives: PathBuf,
    pub save_json: Option<PathBuf>,
    pub compare: Option<PathBuf>,
    /// Time the peer tools found on `PATH`.
    pub peers: bool,
    /// Time every output format on a fleet of this many machines without its vars (thousands
    /// of findings); `None` skips it.
    pub formats: Option<usize>,
}

/// What a run found.
pub struct Outcome {
    /// How it was measured, then the Markdown table.
    pub report: String,
    /// Crashes, differing outputs and other failures, one paragraph each; empty when all is well.
    pub problems: Vec<String>,
}

/// Runs the benchmark. Progress goes to stderr; the report is returned.
pub fn run(opts: &Options) -> Result<Outcome, String> {
    if !opts.binary.is_file() {
        return Err(format!(
            "There is no infra-check binary at `{}`: run `cargo build --release` first or pass `--binary PATH`.",
            opts.binary.display()
        ));
    }
    let binary = opts
        .binary
        .canonicalize()
        .unwrap_or_else(|_| opts.binary.clone());
    let runs = opts.runs.max(1);
    let wanted = |name: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == name);
    let peers: Vec<Option<PathBuf>> = PEERS
        .iter()
        .map(|p| opts.peers.then(|| on_path(p)).flatten())
        .collect();

    // Trees are made one at a time, so at most one generated fleet is on disk.
    let mut sources = Vec::new();
    if opts.trees.is_empty() {
        for name in trees::corpus_names(&opts.corpus_archives, &opts.corpus_dir) {
            sources.push(trees::Source::Corpus(name));
        }
        sources.extend(opts.fleets.iter().map(|&m| trees::Source::Fleet(m)));
    } else {
        sources.extend(opts.trees.iter().cloned().map(trees::Source::Dir));
    }
    sources.retain(|s| wanted(&s.name()));
    let formats = opts
        .formats
        .filter(|_| opts.trees.is_empty() && wanted(formats::TREE));
    if sources.is_empty() && formats.is_none() {
        return Err(match opts.only.is_empty() {
            true => format!(
                "There is nothing to benchmark: no corpus in `{}` or `{}`, and no fleets.",
                opts.corpus_dir.display(),
                opts.corpus_archives.display()
            ),
            false => format!("No tree is named {}.", opts.only.join(", ")),
        });
    }

    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for source in sources {
        let name = source.name();
        eprintln!("{name}: preparing");
        let tree = match source.make(&opts.corpus_archives, &opts.corpus_dir) {
            Ok(t) => t,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        match bench_tree(&tree, &binary, runs, &peers, opts) {
            Ok((row, mut p)) => {
                eprintln!(
                    "{name}: {} files, walk {}, read+parse {}, check {}",
                    row.files,
                    table::ms(row.walk),
                    table::ms(row.read_parse),
                    row.check
                        .as_ref()
                        .map_or_else(Clone::clone, |t| table::ms(t.wall))
                );
                rows.push(row);
                problems.append(&mut p);
            }
            Err(e) => problems.push(e),
        }
    }

    let peer_names: Vec<&str> = PEERS.to_vec();
    let mut report = method(&binary, runs, &peers);
    if !rows.is_empty() {
        report.push_str("\n\n");
        report.push_str(&table::markdown(&rows, &peer_names));
    }
    if let Some(machines) = formats {
        eprintln!("output formats: preparing a fleet of {machines} machines without vars");
        match formats::findings_fleet(machines).and_then(|tree| {
            let name = format!("{} without vars", tree.name);
            formats::bench(&binary, &tree.root, runs).map(|formats| (name, formats))
        }) {
            Ok((name, timed)) => {
                // A blank line after the tree table, or after the method line alone.
                report.push_str(if rows.is_empty() { "\n\n" } else { "\n" });
                report.push_str(&formats::markdown(&name, &timed));
            }
            Err(e) => problems.push(format!("output formats: {e}")),
        }
    }
    Ok(Outcome { report, problems })
}

/// One tree: the baseline, the check (and the guard on its output), the peers.
fn bench_tree(
    tree: &trees::Tree,
    binary: &Path,
    runs: usize,
    peers: &[Option<PathBuf>],
    opts: &Options,
) -> Result<(Row, Vec<String>), String> {
    let name = &tree.name;
    let mut problems = Vec::new();
    let base = measure::baseline(&tree.root)?;
    let files = &base.files;
    let bytes = measure::read_and_parse(files);
    let read_parse = measure::median_time(runs, || measure::read_and_parse(files));
    let walk = measure::median_time(runs, || measure::walk(&base.dirs));

    let check_cmd = || {
        let mut c = Command::new(binary);
        c.arg("check").arg(&tree.root).arg("--format").arg("json");
        c
    };
    let mut first: Option<serde_json::Value> = None;
    let check = timed(runs, check_cmd, |run| {
        if !matches!(run.code, Some(0 | 1)) {
            let last = String::from_utf8_lossy(&run.stderr)
                .lines()
                .last()
                .unwrap_or("(no stderr)")
                .chars()
                .take(200)
                .collect::<String>();
            let how = run
                .code
                .map_or("killed by a signal".to_owned(), |c| format!("exit {c}"));
            return Err(format!("CRASH ({how}: {last})"));
        }
        let doc = outputs::normalise(&run.stdout, &tree.root)
            .map_err(|e| format!("unusable output: {e}"))?;
        match &first {
            None => first = Some(doc),
            Some(f) if *f != doc => {
                return Err("the output differs between two runs on the same tree".to_owned())
            }
            Some(_) => {}
        }
        Ok(())
    });
    if let Err(e) = &check {
        problems.push(format!("{name}: infra-check check: {e}."));
    }
    if let Some(doc) = &first {
        if let Some(dir) = &opts.save_json {
            outputs::save(dir, name, doc)?;
        }
        if let Some(dir) = &opts.compare {
            if let Err(diff) = outputs::compare(dir, name, doc) {
                problems.push(diff);
            }
        }
    } else if opts.compare.is_some() {
        problems.push(format!("{name}: no output to compare, the check failed."));
    }

    let peer_cells = peers
        .iter()
        .zip(PEERS)
        .map(|(path, peer)| {
            path.as_ref().map(|path| {
                let cmd = || peer_command(peer, path, &tree.root, files);
                // 0 or 1 (found something) is a run that looked at the tree; anything else
                // (2 is a usage error) timed only the refusal, so it is shown, not timed.
                timed(runs, cmd, |run| match run.code {
                    Some(0 | 1) => Ok(()),
                    Some(code) => Err(format!("exit {code}")),
                    None => Err("crash".to_owned()),
                })
            })
        })
        .collect();
    Ok((
        Row {
            tree: name.clone(),
            files: files.len(),
            bytes,
            walk,
            read_parse,
            check,
            peers: peer_cells,
        },
        problems,
    ))
}

/// Runs `cmd()` once to warm up and then `runs` times, checking each run with `accept`, and
/// returns the medians (each measure's own median).
pub(crate) fn timed(
    runs: usize,
    cmd: impl Fn() -> Command,
    mut accept: impl FnMut(&measure::Run) -> Result<(), String>,
) -> Result<Timed, String> {
    let (mut wall, mut cpu, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..=runs {
        let run = measure::run(cmd())?;
        accept(&run)?;
        if i == 0 {
            continue;
        }
        wall.push(run.wall);
        cpu.extend(run.cpu);
        rss.extend(run.max_rss);
    }
    Ok(Timed {
        wall: measure::median(&wall).unwrap_or_default(),
        cpu: measure::median(&cpu),
        max_rss: measure::median(&rss),
    })
}

/// How each peer is asked to look at the whole tree.
fn peer_command(peer: &str, path: &Path, root: &Path, files: &[PathBuf]) -> Command {
    let mut c = Command::new(path);
    match peer {
        "statix" => {
            c.arg("check").arg(root);
        }
        "deadnix" => {
            c.arg(root);
        }
        _ => {
            // nil has no directory mode: it is given the same files the baseline reads.
            c.arg("diagnostics").args(files);
        }
    }
    c
}

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// The line above the table: what was run, and how loaded the machine was.
fn method(binary: &Path, runs: usize, peers: &[Option<PathBuf>]) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    let found: Vec<&str> = peers
        .iter()
        .zip(PEERS)
        .filter_map(|(p, n)| p.as_ref().map(|_| n))
        .collect();
    format!(
        "`{}` (`check --format json`, a separate process per run): median of {runs} after 1 warm-up; CPU = user + system of the child; walk = every directory the analyzer enters (as its own walk found them) listed on one thread (readdir only, no stat); read+parse = every `.nix` file the analyzer reads, read and parsed with rnix one after the other on one thread; both in the benchmark's own process, medians of the same number of runs. {cores} cores{}. Peers on PATH: {}.",
        binary.display(),
        load.map_or(String::new(), |l| format!(", load average {l} at the end")),
        if found.is_empty() { "none".to_owned() } else { found.join(", ") },
    )
}
