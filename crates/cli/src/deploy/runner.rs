//! Running a plan: batch after batch, up to `--jobs` machines at once, the canary first with
//! its health check, every command shown before it runs and its output streamed line by line
//! with a `[machine] ` prefix. Ctrl-C stops starting machines and waits for the running ones;
//! a second Ctrl-C interrupts them.

use std::collections::{BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::deploy::invocation::{decide, Context, Invocation};
use crate::deploy::outcome::{Outcome, Record};
use crate::deploy::plan::{Plan, Step};
use crate::deploy::preflight::Fleet;
use crate::deploy::Action;

/// How many times Ctrl-C was pressed during the run.
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);
/// Process groups of the commands running now (each child leads its own group, so Ctrl-C at
/// the terminal reaches infra-check only and a half-finished switch is not cut off).
static RUNNING: OnceLock<Mutex<BTreeSet<u32>>> = OnceLock::new();

fn running() -> &'static Mutex<BTreeSet<u32>> {
    RUNNING.get_or_init(|| Mutex::new(BTreeSet::new()))
}

pub fn interrupted() -> bool {
    INTERRUPTS.load(Ordering::SeqCst) > 0
}

/// Installs the Ctrl-C handler: the first press stops new machines from starting, the second
/// passes the interrupt on to the running commands.
pub fn handle_interrupts(out: Arc<Output>) {
    let _ = ctrlc::set_handler(move || {
        let n = INTERRUPTS.fetch_add(1, Ordering::SeqCst);
        if n == 0 {
            out.note("Interrupted: no further machine will start; waiting for the running ones to finish (press Ctrl-C again to interrupt them).");
        } else {
            out.note("Interrupting the running commands.");
            for &pgid in running().lock().unwrap_or_else(|e| e.into_inner()).iter() {
                if let Some(pid) = rustix::process::Pid::from_raw(pgid as i32) {
                    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::INT);
                }
            }
        }
    });
}

/// Where the run's lines go: the commands' output and infra-check's own notes go to standard
/// output for people, or to standard error when standard output carries the JSON document.
pub struct Output {
    to_stderr: bool,
    bars: Option<MultiProgress>,
    lock: Mutex<()>,
}

impl Output {
    pub fn new(json: bool) -> Output {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Output {
            to_stderr: json,
            bars,
            lock: Mutex::new(()),
        }
    }

    pub fn line(&self, text: &str) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let write = || {
            if self.to_stderr {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            } else {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
        };
        match &self.bars {
            Some(b) => b.suspend(write),
            None => write(),
        }
    }

    /// A note of infra-check's own, on standard error.
    pub fn note(&self, text: &str) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let write = || {
            let _ = writeln!(std::io::stderr().lock(), "infra-check: {text}");
        };
        match &self.bars {
            Some(b) => b.suspend(write),
            None => write(),
        }
    }

    fn bar(&self, len: usize, message: String) -> Option<ProgressBar> {
        let bars = self.bars.as_ref()?;
        let bar = bars.add(ProgressBar::new(len as u64));
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:20}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    }
}

pub struct RunOptions {
    pub jobs: usize,
    pub canary: bool,
}

/// What ran and how it ended, one record per machine (and per rollback of a canary).
pub fn execute(
    fleet: &Fleet,
    ctx: &Context,
    plan: &Plan,
    opts: &RunOptions,
    out: &Output,
) -> Vec<Record> {
    let mut records: Vec<Record> = Vec::new();
    let mut stop: Option<String> = None;
    let refused: BTreeSet<&str> = plan
        .steps()
        .filter(|s| s.refused)
        .map(|s| s.machine.as_str())
        .collect();
    let batches = plan.batches.len();
    for (bi, batch) in plan.batches.iter().enumerate() {
        let mut runnable: Vec<&Step> = Vec::new();
        for s in &batch.steps {
            if s.refused {
                records.push(Record::new(
                    s,
                    plan.action,
                    Outcome::Refused,
                    Some(crate::deploy::outcome::refusal(fleet, s)),
                ));
            } else if let Some(reason) = &stop {
                records.push(Record::new(
                    s,
                    plan.action,
                    Outcome::Skipped,
                    Some(reason.clone()),
                ));
            } else if let Some(w) = s.waits_for.iter().find(|w| refused.contains(w.as_str())) {
                records.push(Record::new(
                    s,
                    plan.action,
                    Outcome::Skipped,
                    Some(format!("it waits for `{w}`, which was refused")),
                ));
            } else {
                runnable.push(s);
            }
        }
        if runnable.is_empty() {
            continue;
        }
        let names: Vec<&str> = runnable.iter().map(|s| s.machine.as_str()).collect();
        out.line(&format!(
            "==> batch {}/{batches}: {} {}",
            bi + 1,
            plan.action.present(),
            names.join(", ")
        ));
        let bar = out.bar(runnable.len(), format!("batch {}/{batches}", bi + 1));
        let mut rest: &[&Step] = &runnable;
        if opts.canary && plan.action == Action::Deploy {
            let canary = runnable[0];
            out.line(&format!("==> canary: {}", canary.machine));
            let record = run_step(canary, plan.action, out);
            if let Some(b) = &bar {
                b.inc(1);
            }
            let ok = record.outcome == Outcome::Ok;
            records.push(record);
            rest = &runnable[1..];
            if !ok {
                stop = Some(format!("the canary `{}` failed", canary.machine));
            } else if let Some(health) = health_check(fleet, ctx, &canary.machine) {
                out.line(&format!("[{}] $ {}", canary.machine, health.shown()));
                let Ran { code, elapsed, .. } = run(&canary.machine, &health, out);
                if code == Some(0) {
                    out.line(&format!("[{}] health check passed", canary.machine));
                } else {
                    let why = format!(
                        "its health check `{}` failed ({})",
                        health.shown(),
                        exit_text(code)
                    );
                    if let Some(last) = records.last_mut() {
                        last.outcome = Outcome::Failed;
                        last.exit_code = code;
                        last.reason = Some(why.clone());
                        last.duration = last.duration.map(|d| d + elapsed);
                    }
                    records.push(roll_back(fleet, ctx, canary, out));
                    stop = Some(format!(
                        "the health check of the canary `{}` failed",
                        canary.machine
                    ));
                }
            }
        }
        if let Some(reason) = &stop {
            for s in rest {
                records.push(Record::new(
                    s,
                    plan.action,
                    Outcome::Skipped,
                    Some(reason.clone()),
                ));
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            continue;
        }
        let ran = run_pool(rest, plan.action, opts.jobs, out, bar.as_ref());
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let failed: Vec<String> = ran
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .map(|r| format!("`{}`", r.machine))
            .collect();
        records.extend(ran);
        if !failed.is_empty() && stop.is_none() {
            stop = Some(format!("{} in batch {} failed", failed.join(", "), bi + 1));
        }
        if interrupted() && stop.is_none() {
            stop = Some("the run was interrupted".into());
        }
    }
    // In plan order (a canary's rollback right after it), however they ended.
    let order: Vec<&str> = plan.steps().map(|s| s.machine.as_str()).collect();
    records.sort_by_key(|r| {
        (
            order.iter().position(|m| *m == r.machine),
            r.action == Action::Rollback,
        )
    });
    records
}

/// The health check for `machine`, from `[deploy] health`, run the way commands run.
fn health_check(fleet: &Fleet, ctx: &Context, machine: &str) -> Option<Invocation> {
    let (program, args) = fleet.config.deploy.health.split_first()?;
    Some(Invocation {
        program: program.replace("{machine}", machine),
        args: args
            .iter()
            .map(|a| a.replace("{machine}", machine))
            .collect(),
        cwd: ctx.root.to_path_buf(),
        direnv: ctx.direnv,
        source: "health",
    })
}

/// Rolls the canary back with the rollback action's own command.
fn roll_back(fleet: &Fleet, ctx: &Context, canary: &Step, out: &Output) -> Record {
    let info = fleet
        .overview
        .machines
        .iter()
        .find(|m| m.name == canary.machine);
    let decided = match info {
        Some(m) => decide(ctx, Action::Rollback, m),
        None => Err(format!(
            "`{}` is not a machine of this clan.",
            canary.machine
        )),
    };
    let mut step = canary.clone();
    match decided {
        Ok(inv) => {
            step.invocation = Some(inv);
            out.line(&format!("==> rolling back the canary {}", canary.machine));
            run_step(&step, Action::Rollback, out)
        }
        Err(why) => {
            step.invocation = None;
            Record::new(&step, Action::Rollback, Outcome::Failed, Some(why))
        }
    }
}

/// Runs `steps` with up to `jobs` at once, none started after an interrupt.
fn run_pool(
    steps: &[&Step],
    action: Action,
    jobs: usize,
    out: &Output,
    bar: Option<&ProgressBar>,
) -> Vec<Record> {
    let queue: Mutex<VecDeque<&Step>> = Mutex::new(steps.iter().copied().collect());
    let records: Mutex<Vec<Record>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, steps.len().max(1)) {
            scope.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                let Some(step) = next else { break };
                let record = if interrupted() {
                    Record::new(
                        step,
                        action,
                        Outcome::Skipped,
                        Some("the run was interrupted before it started".into()),
                    )
                } else {
                    run_step(step, action, out)
                };
                if let Some(b) = bar {
                    b.inc(1);
                }
                records
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(record);
            });
        }
    });
    let mut records = records.into_inner().unwrap_or_else(|e| e.into_inner());
    // In plan order, whatever order they finished in.
    records.sort_by_key(|r| steps.iter().position(|s| s.machine == r.machine));
    records
}

fn run_step(step: &Step, action: Action, out: &Output) -> Record {
    let Some(inv) = &step.invocation else {
        return Record::new(step, action, Outcome::Refused, step.cannot.clone());
    };
    out.line(&format!("[{}] $ {}", step.machine, inv.shown()));
    let ran = run(&step.machine, inv, out);
    let (code, elapsed) = (ran.code, ran.elapsed);
    let mut r = Record::new(
        step,
        action,
        if code == Some(0) {
            Outcome::Ok
        } else {
            Outcome::Failed
        },
        None,
    );
    r.exit_code = code;
    r.duration = Some(elapsed);
    if code != Some(0) {
        r.reason = Some(if ran.envrc_blocked {
            crate::deploy::envrc::blocked_message(&inv.cwd, "")
        } else {
            exit_text(code)
        });
    }
    r
}

pub fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exit {c}"),
        None => "killed by a signal".into(),
    }
}

/// How one command ended.
struct Ran {
    /// The exit code; `None` when it was killed.
    code: Option<i32>,
    elapsed: Duration,
    /// direnv said the `.envrc` is blocked (so the command itself never ran).
    envrc_blocked: bool,
}

/// Spawns `inv` (directly, never through a shell) and streams its output.
fn run(machine: &str, inv: &Invocation, out: &Output) -> Ran {
    let start = Instant::now();
    let argv = inv.argv();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(&inv.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Anything started from here knows it runs under infra-check's deploy driver, so a
        // recipe that calls `infra-check deploy` again is refused instead of recursing.
        .env(NESTED_ENV, "1");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            out.line(&format!(
                "[{machine}] `{}` could not be started: {e}. {}",
                argv[0],
                crate::programs::how_to_get(&argv[0])
            ));
            return Ran {
                code: Some(127),
                elapsed: start.elapsed(),
                envrc_blocked: false,
            };
        }
    };
    let pid = child.id();
    running()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pid);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let envrc_blocked = std::thread::scope(|scope| {
        if let Some(s) = stdout {
            scope.spawn(|| stream(machine, s, out, false));
        }
        let err = stderr.map(|s| scope.spawn(|| stream(machine, s, out, inv.direnv)));
        err.is_some_and(|h| h.join().unwrap_or(false))
    });
    let status = child.wait();
    running()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&pid);
    Ran {
        code: status.ok().and_then(|s| s.code()),
        elapsed: start.elapsed(),
        envrc_blocked,
    }
}

/// Environment variable set for every command the driver runs.
pub const NESTED_ENV: &str = "INFRA_CHECK_DEPLOYING";

/// Prefixes and prints each line of `pipe`; whether direnv said the `.envrc` is blocked.
fn stream(machine: &str, pipe: impl Read, out: &Output, watch_direnv: bool) -> bool {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    let mut blocked = false;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break blocked,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                let line = line.trim_end_matches(['\n', '\r']);
                if watch_direnv && line.contains("direnv: error") && line.contains("is blocked") {
                    blocked = true;
                }
                out.line(&format!("[{machine}] {line}"));
            }
        }
    }
}
