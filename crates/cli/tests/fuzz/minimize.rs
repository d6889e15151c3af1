//! Shrinks a failing case to what it needs (fewer mutations, fewer source files) and writes the
//! result as a reproducer directory under the target directory.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::case::{rebuild, Plan};
use crate::judge::{judge, tail, Class, Failure, Forbidden};
use crate::run::{run, Bounds, Outcome};
use crate::tree::{self, Listing, Workdir};

/// What a reproducer keeps: the plan with only the mutations it needs, and the source paths
/// left out of its tree.
pub struct Reduced {
    pub plan: Plan,
    pub skip: BTreeSet<String>,
    pub trials: usize,
    /// Whether the time budget ran out before the case was fully reduced.
    pub cut_short: bool,
}

/// Runs `plan` built without `skip` and tells whether it fails with `class` again.
fn fails_again(plan: &Plan, skip: &BTreeSet<String>, class: &Class, base: Duration) -> bool {
    let work = Workdir::new();
    let root = work.root();
    if rebuild(plan, &root, skip).is_err() {
        return false;
    }
    let bounds = Bounds::for_input(base, tree::size(&root));
    let outcome = run(&plan.invocation, &root, bounds);
    judge(
        &outcome,
        &plan.invocation,
        &root,
        &Forbidden::new(&plan.canary),
    )
    .is_some_and(|f| f.class == *class)
}

/// Greedy reduction within `budget`: drop each mutation that is not needed, then each source
/// directory or file (largest first) that is not needed.
pub fn reduce(plan: &Plan, class: &Class, base: Duration, budget: Duration) -> Reduced {
    let start = Instant::now();
    let mut plan = plan.clone();
    let mut skip = BTreeSet::new();
    let mut trials = 0;
    let out_of_time = |trials: usize| budget.is_zero() || (trials > 0 && start.elapsed() > budget);

    let mut i = plan.mutations.len();
    while i > 0 {
        i -= 1;
        if plan.mutations.len() == 1 || out_of_time(trials) {
            break;
        }
        let mut candidate = plan.clone();
        candidate.mutations.remove(i);
        trials += 1;
        if fails_again(&candidate, &skip, class, base) {
            plan = candidate;
        }
    }

    // Paths the mutations act on, and their ancestors, stay.
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for a in plan.mutations.iter().flat_map(|m| &m.actions) {
        for p in a.paths() {
            let mut p = p;
            loop {
                keep.insert(p.to_owned());
                match p.rsplit_once('/') {
                    Some((parent, _)) => p = parent,
                    None => break,
                }
            }
        }
    }
    keep.extend(plan.canary_files.iter().cloned());
    let source = source_listing(&plan);
    let mut queue: Vec<String> = children(&source, "");
    while let Some(entry) = queue.pop() {
        if out_of_time(trials) {
            break;
        }
        let is_dir = source.kind(&entry) == Some(tree::EntryKind::Dir);
        if !keep.contains(&entry) {
            let mut candidate = skip.clone();
            candidate.insert(entry.clone());
            trials += 1;
            if fails_again(&plan, &candidate, class, base) {
                skip = candidate;
                continue;
            }
        }
        if is_dir {
            queue.extend(children(&source, &entry));
        }
    }
    Reduced {
        plan,
        skip,
        trials,
        cut_short: out_of_time(trials),
    }
}

fn source_listing(plan: &Plan) -> Listing {
    let work = Workdir::new();
    let root = work.root();
    tree::copy_source(&plan.source.path, &root, &BTreeSet::new()).expect("copy the source tree");
    Listing::of(&root)
}

/// Direct children of `dir`, smallest name last (so the queue tries them in name order).
fn children(listing: &Listing, dir: &str) -> Vec<String> {
    let mut out: Vec<String> = listing
        .entries
        .keys()
        .filter(|p| tree::parent(p) == dir && p.as_str() != dir)
        .cloned()
        .collect();
    out.reverse();
    out
}

/// Where reproducers go: `<target>/tmp/fuzz-reproducers/seed-<seed>-case-<index>`.
pub fn reproducer_dir(seed: u64, index: u64) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz-reproducers")
        .join(format!("seed-{seed}-case-{index}"))
}

/// Writes `<dir>/tree` (the reduced tree) and `<dir>/README.txt` (what fails, how to replay).
pub fn write_reproducer(
    dir: &Path,
    reduced: &Reduced,
    failure: &Failure,
    outcome: &Outcome,
    replay: &str,
) -> std::io::Result<()> {
    if dir.exists() {
        tree::remove(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let plan = &reduced.plan;
    rebuild(plan, &dir.join("tree"), &reduced.skip)?;
    let mut text = String::new();
    let _ = writeln!(text, "{}: {}", failure.class, failure.detail);
    let _ = writeln!(text, "\nreplay: {replay}");
    let _ = writeln!(text, "run:    {}", plan.invocation);
    let _ = writeln!(text, "source: {}", plan.source.name);
    let _ = writeln!(
        text,
        "left out of the source: {} path(s){}",
        reduced.skip.len(),
        if reduced.cut_short {
            " (reduction stopped at its time budget)"
        } else {
            ""
        }
    );
    for p in &reduced.skip {
        let _ = writeln!(text, "  - {p}");
    }
    let _ = writeln!(text, "secret canary planted in: {:?}", plan.canary_files);
    let _ = writeln!(text, "\nmutations:");
    for m in &plan.mutations {
        let _ = writeln!(text, "  {m}");
        for a in &m.actions {
            let _ = writeln!(text, "      {a}");
        }
    }
    let _ = writeln!(
        text,
        "\nfirst run: {:?} after {:.1} s\nstderr (end):\n{}",
        outcome.ended,
        outcome.elapsed.as_secs_f64(),
        tail(&String::from_utf8_lossy(&outcome.stderr))
    );
    std::fs::write(dir.join("README.txt"), text)
}
