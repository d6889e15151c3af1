//! Mutation fuzzing of the real binary on real-shaped repositories.
//!
//! Each case copies `examples/fleet` or one of `tests/fixtures/*` to a temporary directory,
//! plants a secret canary in plain text in one or two vars `secret` files, applies one to three
//! mutations (see `choose.rs` for the list: truncated files, deleted or repeated lines,
//! unbalanced brackets, swapped tokens and identifiers, import cycles, self-references,
//! 10^5-deep nesting and 10^5-long chains, huge files, invalid UTF-8, NUL bytes, CRLF, symlink
//! loops, dangling links and links out of the repository, unreadable entries, FIFOs and
//! directories where files belong, broken `flake.lock`, `inventory.json`, `infra-check.toml`
//! and catalogs, odd file names, attempts to get a secret printed), and runs the binary on the
//! result: mostly `check --format json`, sometimes another format, `machines`, `graph` or
//! `vars`. Every run must end by itself within a time and memory bound proportional to its
//! input, exit with 0, 1 or 2 and no panic, print valid JSON where JSON was asked for, anchor
//! no diagnostic on a directory or past the end of its file, and print neither the canary nor
//! anything read from outside the repository (`judge.rs`).
//!
//! # Modes
//!
//! - **Bounded** (the default, part of `cargo test`): a fixed seed and 300 cases, about half a
//!   minute for a debug build on two cores, with the bounded draw: mutations listed in
//!   `choose::PENDING_ON_OTHER_BRANCHES` are left out or kept below the size that fails today,
//!   and those in `choose::KEPT_SMALL_IN_BOUNDED_RUNS` are kept small.
//! - **Long**: `INFRA_CHECK_FUZZ_SECONDS=1200 cargo test --release -p infra-check --test fuzz -- --nocapture`
//!   runs cases for that many seconds from a seed taken from the clock (printed at the start
//!   and in the summary), with the full draw (every mutation at full size). Add
//!   `INFRA_CHECK_FUZZ_DRAW=bounded` to look for new classes while pending ones are open.
//! - **Replay**: `INFRA_CHECK_FUZZ_SEED=<n> INFRA_CHECK_FUZZ_CASE=<k> INFRA_CHECK_FUZZ_DRAW=<d>`
//!   runs only case `k` of seed `n`; a failure prints that line with every setting it needs.
//!
//! Other settings: `INFRA_CHECK_FUZZ_CASES` (bounded mode's case count),
//! `INFRA_CHECK_FUZZ_DRAW=bounded|full`, `INFRA_CHECK_FUZZ_KINDS=fifo,deep-nesting` (only
//! those kinds), `INFRA_CHECK_FUZZ_SCALE` (depth and length of the huge inputs, 100000),
//! `INFRA_CHECK_FUZZ_SIZE_LIMIT` (bytes; huge files are drawn just below, at and above it,
//! 8 MiB), `INFRA_CHECK_FUZZ_JOBS` (cases run at once, 2), `INFRA_CHECK_FUZZ_TIMEOUT` (the
//! time bound's base in seconds, 60, plus 10 s per MiB of input; the memory bound is 2 GiB
//! plus 64 bytes per byte of input), `INFRA_CHECK_FUZZ_MINIMIZE_SECONDS` (time spent
//! shrinking each group of failures, 120; ten budgets in all, largest groups first) and
//! `INFRA_CHECK_FUZZ_TMPDIR` (where case trees are written; `/dev/shm` when it is writable).
//!
//! A failing case prints its seed, number, mutations and replay line. Failures are grouped by
//! class and kinds of mutations; the first of each group is shrunk (fewer mutations, fewer
//! source files) into `target/tmp/fuzz-reproducers/seed-<n>-case-<k>/`
//! (`tree/` and `README.txt`).

mod case;
mod choose;
mod data_kinds;
mod generated;
mod judge;
mod minimize;
mod mutation;
mod run;
mod text_kinds;
mod tree;
mod tree_kinds;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use case::{Draw, DrawMode, Plan, Source};
use choose::{Kind, Limits};
use judge::{judge, Class, Failure, Forbidden};
use run::{Bounds, Outcome};
use tree::Workdir;

/// The bounded run's seed: fixed, so `cargo test` is reproducible.
const BOUNDED_SEED: u64 = 9;
const BOUNDED_CASES: u64 = 300;
const DEFAULT_SCALE: usize = 100_000;
const DEFAULT_SIZE_LIMIT: usize = 8 << 20;

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_num<T: std::str::FromStr>(name: &str) -> Option<T> {
    env_var(name).map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
    })
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Bounded { cases: u64 },
    Long { seconds: u64 },
    Replay { case: u64 },
}

struct Settings {
    mode: Mode,
    draw: Draw,
    jobs: usize,
    timeout_base: Duration,
    minimize_budget: Duration,
}

impl Settings {
    fn from_env() -> Settings {
        let mode = if let Some(case) = env_num("INFRA_CHECK_FUZZ_CASE") {
            Mode::Replay { case }
        } else if let Some(seconds) = env_num("INFRA_CHECK_FUZZ_SECONDS") {
            Mode::Long { seconds }
        } else {
            Mode::Bounded {
                cases: env_num("INFRA_CHECK_FUZZ_CASES").unwrap_or(BOUNDED_CASES),
            }
        };
        let seed = env_num("INFRA_CHECK_FUZZ_SEED").unwrap_or_else(|| match mode {
            Mode::Long { .. } => clock_seed(),
            _ => BOUNDED_SEED,
        });
        let draw_mode = match env_var("INFRA_CHECK_FUZZ_DRAW").as_deref() {
            Some("full") => DrawMode::Full,
            Some("bounded") => DrawMode::Bounded,
            Some(other) => panic!("INFRA_CHECK_FUZZ_DRAW={other}: use bounded or full"),
            None if matches!(mode, Mode::Long { .. }) => DrawMode::Full,
            None => DrawMode::Bounded,
        };
        let only = env_var("INFRA_CHECK_FUZZ_KINDS").map(|list| {
            list.split(',')
                .map(|n| {
                    Kind::by_name(n.trim()).unwrap_or_else(|| {
                        let names: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
                        panic!("INFRA_CHECK_FUZZ_KINDS: no kind `{n}`; kinds: {names:?}")
                    })
                })
                .collect()
        });
        Settings {
            mode,
            draw: Draw {
                seed,
                limits: Limits {
                    scale: env_num("INFRA_CHECK_FUZZ_SCALE").unwrap_or(DEFAULT_SCALE),
                    size_limit: env_num("INFRA_CHECK_FUZZ_SIZE_LIMIT")
                        .unwrap_or(DEFAULT_SIZE_LIMIT),
                },
                mode: draw_mode,
                only,
            },
            jobs: env_num("INFRA_CHECK_FUZZ_JOBS").unwrap_or(2).max(1),
            timeout_base: Duration::from_secs(env_num("INFRA_CHECK_FUZZ_TIMEOUT").unwrap_or(60)),
            minimize_budget: Duration::from_secs(
                env_num("INFRA_CHECK_FUZZ_MINIMIZE_SECONDS").unwrap_or(120),
            ),
        }
    }

    /// The environment that replays case `index` with these settings.
    fn replay_line(&self, index: u64) -> String {
        let mut line = format!(
            "INFRA_CHECK_FUZZ_SEED={} INFRA_CHECK_FUZZ_CASE={index} INFRA_CHECK_FUZZ_DRAW={}",
            self.draw.seed,
            self.draw.mode.name()
        );
        if let Some(only) = &self.draw.only {
            let names: Vec<_> = only.iter().map(|k| k.name()).collect();
            let _ = write!(line, " INFRA_CHECK_FUZZ_KINDS={}", names.join(","));
        }
        if self.draw.limits.scale != DEFAULT_SCALE {
            let _ = write!(line, " INFRA_CHECK_FUZZ_SCALE={}", self.draw.limits.scale);
        }
        if self.draw.limits.size_limit != DEFAULT_SIZE_LIMIT {
            let _ = write!(
                line,
                " INFRA_CHECK_FUZZ_SIZE_LIMIT={}",
                self.draw.limits.size_limit
            );
        }
        line + " cargo test -p infra-check --test fuzz -- --nocapture"
    }
}

fn clock_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    (nanos as u64) ^ ((nanos >> 64) as u64) ^ u64::from(std::process::id())
}

/// One run case and what became of it.
struct Result {
    plan: Plan,
    outcome: Outcome,
    failure: Option<Failure>,
}

fn run_case(settings: &Settings, sources: &[Source], index: u64) -> Result {
    let work = Workdir::new();
    let root = work.root();
    let plan = case::draw(&settings.draw, sources, index, &root);
    let bounds = Bounds::for_input(settings.timeout_base, tree::size(&root));
    let outcome = run::run(&plan.invocation, &root, bounds);
    let failure = judge(
        &outcome,
        &plan.invocation,
        &root,
        &Forbidden::new(&plan.canary),
    );
    Result {
        plan,
        outcome,
        failure,
    }
}

/// How a failure is grouped: its class and the kinds of mutations in its case.
fn group_key(class: &Class, plan: &Plan) -> String {
    let mut kinds: Vec<&str> = plan.mutations.iter().map(|m| m.kind.name()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    format!("{class} [{}]", kinds.join(", "))
}

fn describe(settings: &Settings, r: &Result, failure: &Failure) -> String {
    let mut s = format!(
        "case {} of seed {}: {}: {}\n  source: {}\n  run: {}\n  replay: {}\n  mutations:\n",
        r.plan.index,
        settings.draw.seed,
        failure.class,
        first_line(&failure.detail),
        r.plan.source.name,
        r.plan.invocation,
        settings.replay_line(r.plan.index),
    );
    for m in &r.plan.mutations {
        let _ = writeln!(s, "    {m}");
    }
    s
}

/// A case in one line: number, source, command, mutations.
fn summary_line(plan: &Plan) -> String {
    let mutations: Vec<String> = plan.mutations.iter().map(|m| m.to_string()).collect();
    format!(
        "case {} ({}; {}): {}",
        plan.index,
        plan.source.name,
        plan.invocation,
        mutations.join("; ")
    )
}

fn first_line(s: &str) -> String {
    let line = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    line.chars().take(240).collect()
}

#[test]
fn mutated_repositories_never_crash_hang_or_leak() {
    let settings = Settings::from_env();
    let sources = Source::all();
    let start = Instant::now();
    let (limit, deadline) = match settings.mode {
        Mode::Bounded { cases } => (cases, None),
        Mode::Long { seconds } => (u64::MAX, Some(start + Duration::from_secs(seconds))),
        Mode::Replay { case } => (case + 1, None),
    };
    let first = match settings.mode {
        Mode::Replay { case } => case,
        _ => 0,
    };
    eprintln!(
        "fuzz: {:?}, seed {}, {} draw, {} job(s)",
        settings.mode,
        settings.draw.seed,
        settings.draw.mode.name(),
        settings.jobs
    );
    let next = AtomicU64::new(first);
    let failures: Mutex<Vec<Result>> = Mutex::new(Vec::new());
    let stats: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());
    let slowest: Mutex<Vec<(Duration, String)>> = Mutex::new(Vec::new());
    let ran = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for job in 0..settings.jobs {
            // Drawing a case parses the mutated Nix files (rnix recurses once per level of
            // nesting): the stack the binary gives its own analysis thread.
            let worker = std::thread::Builder::new()
                .name(format!("fuzz-{job}"))
                .stack_size(256 << 20);
            let spawned = worker.spawn_scoped(scope, || loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= limit {
                    break;
                }
                let r = run_case(&settings, &sources, index);
                let done = ran.fetch_add(1, Ordering::SeqCst) + 1;
                {
                    let mut stats = stats.lock().unwrap();
                    for m in &r.plan.mutations {
                        *stats.entry(m.kind.name()).or_default() += 1;
                    }
                }
                {
                    let mut slowest = slowest.lock().unwrap();
                    slowest.push((r.outcome.elapsed, summary_line(&r.plan)));
                    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
                    slowest.truncate(5);
                }
                if let Some(f) = &r.failure {
                    eprintln!("fuzz: FAILED {}", describe(&settings, &r, f));
                    failures.lock().unwrap().push(r);
                } else if deadline.is_some() && done.is_multiple_of(100) {
                    eprintln!(
                        "fuzz: {done} cases in {:.0} s, {} failure(s)",
                        start.elapsed().as_secs_f64(),
                        failures.lock().unwrap().len()
                    );
                }
            });
            spawned.expect("start a fuzz worker");
        }
    });
    let elapsed = start.elapsed();
    let ran = ran.into_inner();
    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|r| r.plan.index);

    // One reduced reproducer per group; the other members are listed under it.
    let mut groups: BTreeMap<String, Vec<&Result>> = BTreeMap::new();
    for r in &failures {
        let f = r.failure.as_ref().expect("only failures are kept");
        groups
            .entry(group_key(&f.class, &r.plan))
            .or_default()
            .push(r);
    }
    let mut report = format!(
        "fuzz: {ran} cases in {:.1} s (seed {}, {} draw), {} failure(s) in {} group(s)\n",
        elapsed.as_secs_f64(),
        settings.draw.seed,
        settings.draw.mode.name(),
        failures.len(),
        groups.len()
    );
    if settings.draw.mode == DrawMode::Bounded {
        for p in choose::PENDING_ON_OTHER_BRANCHES {
            let _ = writeln!(
                report,
                "pending, {}: {} ({})",
                match p.size_cap {
                    None => "left out".to_owned(),
                    Some(cap) => format!("kept at or below {cap}"),
                },
                p.kind.name(),
                p.why
            );
        }
    }
    let stats = stats.into_inner().unwrap();
    let _ = writeln!(
        report,
        "mutations applied: {}",
        stats
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (took, case) in slowest.into_inner().unwrap() {
        let _ = writeln!(report, "slow: {:.1} s: {case}", took.as_secs_f64());
    }
    // Shrinking costs up to its budget per group: the largest groups first, and a total of
    // ten budgets; the other groups' reproducers are written as drawn.
    let mut order: Vec<(&String, &Vec<&Result>)> = groups.iter().collect();
    order.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    let shrink_until = Instant::now() + settings.minimize_budget * 10;
    for (key, members) in order {
        let r = members[0];
        let f = r.failure.as_ref().expect("a failure");
        let dir = minimize::reproducer_dir(settings.draw.seed, r.plan.index);
        let budget = if Instant::now() < shrink_until {
            settings.minimize_budget
        } else {
            Duration::ZERO
        };
        let reduced = minimize::reduce(&r.plan, &f.class, settings.timeout_base, budget);
        let written = minimize::write_reproducer(
            &dir,
            &reduced,
            f,
            &r.outcome,
            &settings.replay_line(r.plan.index),
        );
        let _ = writeln!(
            report,
            "\n== {key}: {} case(s)\n{}  reduced to {} mutation(s), {} source path(s) left out, in {} trial(s); reproducer: {}{}",
            members.len(),
            describe(&settings, r, f),
            reduced.plan.mutations.len(),
            reduced.skip.len(),
            reduced.trials,
            dir.display(),
            match written {
                Ok(()) => String::new(),
                Err(e) => format!(" (could not be written: {e})"),
            }
        );
        let others: Vec<String> = members[1..]
            .iter()
            .map(|r| r.plan.index.to_string())
            .collect();
        if !others.is_empty() {
            let _ = writeln!(report, "  also cases {}", others.join(", "));
        }
    }
    eprintln!("{report}");
    assert!(failures.is_empty(), "{report}");
}

#[cfg(test)]
mod engine_tests {
    //! The engine itself: cases replay exactly, every kind of mutation changes a real tree,
    //! and the judge catches each class of failure.

    use std::collections::BTreeSet;
    use std::hash::{Hash, Hasher};
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;
    use std::path::Path;
    use std::process::ExitStatus;

    use super::*;
    use crate::case::{Invocation, Output};
    use crate::choose::Ctx;
    use crate::run::Ended;

    fn draw_settings(seed: u64) -> Draw {
        Draw {
            seed,
            limits: Limits {
                scale: 1000,
                size_limit: 1 << 16,
            },
            mode: DrawMode::Full,
            only: None,
        }
    }

    /// Every entry of a tree (whatever its name) with its kind, mode, link target and a hash
    /// of its content.
    fn fingerprint(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                let mut h = std::hash::DefaultHasher::new();
                if meta.is_file() {
                    std::fs::read(&path).unwrap_or_default().hash(&mut h);
                } else if meta.is_dir() {
                    stack.push(path.clone());
                }
                out.push(format!(
                    "{:?} {:?} {:o} {:?} {:x}",
                    path.strip_prefix(root).unwrap(),
                    meta.file_type(),
                    meta.permissions().mode(),
                    std::fs::read_link(&path).ok(),
                    h.finish()
                ));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_case_replays_to_the_same_tree() {
        let sources = Source::all();
        for index in [0, 7, 31] {
            let (a, b) = (Workdir::new(), Workdir::new());
            let pa = case::draw(&draw_settings(5), &sources, index, &a.root());
            let pb = case::draw(&draw_settings(5), &sources, index, &b.root());
            assert_eq!(pa, pb);
            assert_eq!(fingerprint(&a.root()), fingerprint(&b.root()));
            let c = Workdir::new();
            case::rebuild(&pa, &c.root(), &BTreeSet::new()).unwrap();
            assert_eq!(fingerprint(&a.root()), fingerprint(&c.root()));
        }
    }

    #[test]
    fn every_kind_of_mutation_changes_the_fleet() {
        let fleet = &Source::all()[0];
        let limits = draw_settings(0).limits;
        for &kind in Kind::ALL {
            let changed = (0..20).any(|seed| {
                let work = Workdir::new();
                let root = work.root();
                tree::copy_source(&fleet.path, &root, &BTreeSet::new()).unwrap();
                let before = fingerprint(&root);
                let listing = tree::Listing::of(&root);
                let mut rng = fastrand::Rng::with_seed(seed);
                let mut ctx = Ctx {
                    rng: &mut rng,
                    root: &root,
                    listing: &listing,
                    limits: &limits,
                    size_cap: None,
                };
                let Some(m) = kind.build(&mut ctx) else {
                    return false;
                };
                m.apply(&root).is_ok() && fingerprint(&root) != before
            });
            assert!(
                changed,
                "no mutation of kind {} changed the fleet",
                kind.name()
            );
        }
    }

    fn outcome(code: i32, stdout: &str, stderr: &str) -> Outcome {
        Outcome {
            ended: Ended::Exited(ExitStatus::from_raw(code << 8)),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            truncated: false,
            elapsed: Duration::from_millis(5),
        }
    }

    fn check_json() -> Invocation {
        Invocation {
            args: vec!["check".into(), "--format".into(), "json".into()],
            target: String::new(),
            output: Output::CheckJson,
        }
    }

    fn class_of(o: &Outcome, root: &Path) -> Option<Class> {
        let forbidden = Forbidden {
            canary: "INFRA-CHECK-FUZZ-CANARY-0123456789abcdef".into(),
            foreign: Some("root:x:0:0:root:/root:/bin/bash".into()),
        };
        judge(o, &check_json(), root, &forbidden).map(|f| f.class)
    }

    fn diagnostic(file: &str, line: u32, column: u32) -> String {
        format!(
            r#"{{"diagnostics":[{{"code":"x/y","file":"{file}","range":{{"start":{{"line":{line},"column":{column}}},"end":{{"line":{line},"column":{column}}}}},"related":[]}}]}}"#
        )
    }

    #[test]
    fn the_judge_catches_every_class_of_failure() {
        let work = Workdir::new();
        let root = work.root();
        std::fs::create_dir_all(root.join("modules")).unwrap();
        std::fs::write(root.join("modules/a.nix"), "{\n  a = 1;\n}\n").unwrap();
        let ok = diagnostic("modules/a.nix", 2, 9);
        assert_eq!(class_of(&outcome(1, &ok, ""), &root), None);
        assert_eq!(
            class_of(&outcome(1, &diagnostic("modules", 1, 1), ""), &root),
            Some(Class::DirectoryAnchor)
        );
        assert_eq!(
            class_of(&outcome(1, &diagnostic("modules/a.nix", 2, 10), ""), &root),
            Some(Class::RangeOutsideFile)
        );
        assert_eq!(
            class_of(
                &outcome(1, &diagnostic("modules/../a.nix", 1, 1), ""),
                &root
            ),
            Some(Class::BadPath)
        );
        assert_eq!(
            class_of(&outcome(0, "{\"diagnostics\": [", ""), &root),
            Some(Class::InvalidOutput)
        );
        assert_eq!(
            class_of(
                &outcome(
                    2,
                    "",
                    "thread 'main' panicked at crates/analysis/src/x.rs:10:5:\nboom\n"
                ),
                &root
            ),
            Some(Class::Panic("crates/analysis/src/x.rs:10".into()))
        );
        assert_eq!(
            class_of(
                &outcome(
                    134,
                    "",
                    "thread 'w' has overflowed its stack\nfatal runtime error: stack overflow"
                ),
                &root
            ),
            Some(Class::StackOverflow)
        );
        assert_eq!(
            class_of(&outcome(3, &ok, ""), &root),
            Some(Class::ExitCode(3))
        );
        let mut signalled = outcome(0, "", "");
        signalled.ended = Ended::Exited(ExitStatus::from_raw(11));
        assert_eq!(class_of(&signalled, &root), Some(Class::Signal(11)));
        let mut hung = outcome(0, "", "");
        hung.ended = Ended::TimedOut;
        assert_eq!(class_of(&hung, &root), Some(Class::Timeout));
        assert_eq!(
            class_of(&outcome(1, &ok, "error: 23456789abcd leaked"), &root),
            Some(Class::SecretLeak)
        );
        assert_eq!(
            class_of(
                &outcome(1, &ok, "config/invalid: root:x:0:0:root:/root:/bin/bash"),
                &root
            ),
            Some(Class::ForeignContent)
        );
        // Exit 2 may come with no output at all.
        assert_eq!(
            class_of(&outcome(2, "", "error: no flake.nix"), &root),
            None
        );
    }
}
