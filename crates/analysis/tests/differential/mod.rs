//! What the two differential test tables share: running `nix-instantiate` in a scratch
//! environment, running the evaluator isolated from panics and hangs, comparing JSON values,
//! and judging each case against its [`Expect`] into one report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Supported subset: Nix prints this JSON, and the evaluator must return it.
    Value(&'static str),
    /// Nix fails; the evaluator must return `None`.
    Error,
    /// Outside the subset; the evaluator returns `None` or exactly Nix's value.
    NoneOrValue,
}

impl Expect {
    pub fn kind(&self) -> &'static str {
        match self {
            Expect::Value(_) => "value",
            Expect::Error => "error",
            Expect::NoneOrValue => "none-or-value",
        }
    }
}

const SKIP_MESSAGE: &str = "skipped: nix-instantiate (Debian package nix-bin) is not installed";

/// How long the evaluator may take on one case before it is reported as hanging.
const EVAL_TIMEOUT: Duration = Duration::from_secs(20);

// ------------------------------------------------------------------------------------------------
// Running nix-instantiate
// ------------------------------------------------------------------------------------------------

pub struct Nix {
    binary: PathBuf,
    /// Scratch directory used as HOME and for the XDG directories, removed on drop.
    scratch: tempfile::TempDir,
}

pub enum NixOutcome {
    Value(Value),
    Failed(String),
}

fn find_nix_instantiate() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("NIX_INSTANTIATE") {
        let path = PathBuf::from(explicit);
        return path.is_file().then_some(path);
    }
    let from_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("nix-instantiate"))
        .find(|candidate| candidate.is_file());
    from_path.or_else(|| {
        let fallback = Path::new("/usr/bin/nix-instantiate");
        fallback.is_file().then(|| fallback.to_path_buf())
    })
}

impl Nix {
    /// The installed `nix-instantiate`, checked to work. `None` (after printing why) when it
    /// is missing, unless `INFRA_CHECK_REQUIRE_TOOLS=1`, which makes a missing tool a failure.
    pub fn find_or_skip() -> Option<Nix> {
        let Some(binary) = find_nix_instantiate() else {
            if std::env::var("INFRA_CHECK_REQUIRE_TOOLS").as_deref() == Ok("1") {
                panic!("{SKIP_MESSAGE}");
            }
            eprintln!("{SKIP_MESSAGE}");
            return None;
        };
        let scratch = tempfile::tempdir().expect("create scratch dir for nix-instantiate");
        for sub in ["cache", "config", "data", "state"] {
            std::fs::create_dir_all(scratch.path().join(sub)).expect("create XDG dir");
        }
        let nix = Nix { binary, scratch };
        // So an environment problem is not reported as a hundred mismatches.
        match nix.eval("1 + 1") {
            NixOutcome::Value(v) if v == serde_json::json!(2) => {}
            other => panic!("nix-instantiate does not work here: {}", other.show()),
        }
        Some(nix)
    }

    /// Evaluates `expr` in the scratch directory.
    pub fn eval(&self, expr: &str) -> NixOutcome {
        self.eval_in(self.scratch.path(), expr)
    }

    /// Evaluates `expr` with `dir` as the working directory, so `./x` is `dir/x`.
    pub fn eval_in(&self, dir: &Path, expr: &str) -> NixOutcome {
        let home = self.scratch.path();
        // A positional argument starting with `-` would be taken for a flag; leading
        // whitespace does not change the meaning of a Nix expression.
        let arg = if expr.starts_with('-') {
            format!(" {expr}")
        } else {
            expr.to_owned()
        };
        let mut cmd = Command::new(&self.binary);
        cmd.env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
            )
            .env("HOME", home)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("NIX_PATH", "")
            .current_dir(dir)
            .args(["--readonly-mode", "--eval", "--strict", "--json", "-E"])
            .arg(arg);
        let output = match cmd.output() {
            Ok(output) => output,
            Err(err) => return NixOutcome::Failed(format!("could not run nix-instantiate: {err}")),
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            let first_error = stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or_else(|| stderr.lines().next().unwrap_or(""));
            return NixOutcome::Failed(format!("{} ({})", first_error.trim(), output.status));
        }
        match serde_json::from_str::<Value>(stdout.trim()) {
            Ok(v) => NixOutcome::Value(v),
            Err(err) => NixOutcome::Failed(format!("unparsable nix output {stdout:?}: {err}")),
        }
    }
}

impl NixOutcome {
    pub fn show(&self) -> String {
        match self {
            NixOutcome::Value(v) => v.to_string(),
            NixOutcome::Failed(msg) => format!("<error: {msg}>"),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Running the evaluator (isolated: a panic or a hang becomes a reported mismatch)
// ------------------------------------------------------------------------------------------------

pub enum OursOutcome {
    Returned(Option<Value>),
    Panicked(String),
    TimedOut,
}

impl OursOutcome {
    fn show(&self) -> String {
        match self {
            OursOutcome::Returned(Some(v)) => format!("Some({v})"),
            OursOutcome::Returned(None) => "None".into(),
            OursOutcome::Panicked(msg) => format!("<panicked: {msg}>"),
            OursOutcome::TimedOut => format!("<no result after {EVAL_TIMEOUT:?}>"),
        }
    }
}

/// Runs `evaluate` on its own thread with a large stack, turning a panic or a hang into an
/// outcome rather than a crashed or stuck test.
pub fn run_isolated(
    name: &str,
    evaluate: impl FnOnce() -> Option<Value> + Send + std::panic::UnwindSafe + 'static,
) -> OursOutcome {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(evaluate));
        });
    if let Err(err) = spawned {
        return OursOutcome::Panicked(format!("could not spawn evaluator thread: {err}"));
    }
    match rx.recv_timeout(EVAL_TIMEOUT) {
        Ok(Ok(value)) => OursOutcome::Returned(value),
        Ok(Err(payload)) => OursOutcome::Panicked(
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "<non-string panic payload>".into()),
        ),
        // The thread is leaked; there is no way to stop it.
        Err(mpsc::RecvTimeoutError::Timeout) => OursOutcome::TimedOut,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            OursOutcome::Panicked("evaluator thread died without a result".into())
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Comparing JSON values (numbers numerically)
// ------------------------------------------------------------------------------------------------

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if !a.is_f64() && !b.is_f64() {
        // Both integers: exact.
        return a == b;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => {
            if x == y {
                return true;
            }
            // Nix prints floats with six significant digits.
            let scale = x.abs().max(y.abs());
            (x - y).abs() <= 1e-5 * scale
        }
        _ => false,
    }
}

fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(k, x)| ys.get(k).is_some_and(|y| json_equal(x, y)))
        }
        _ => a == b,
    }
}

// ------------------------------------------------------------------------------------------------
// Judging cases
// ------------------------------------------------------------------------------------------------

/// The verdicts on a table's cases, collected so one run reports every disagreement.
#[derive(Default)]
pub struct Verdicts {
    /// Problems with the table itself: nix does not do what the case says.
    table_errors: Vec<String>,
    /// The evaluator disagrees with nix.
    mismatches: Vec<String>,
    /// Cases judged, by kind: value, error, none-or-value.
    counts: [usize; 3],
    /// Outside-the-subset cases the evaluator nevertheless evaluated (to nix's value).
    evaluated_anyway: usize,
}

impl Verdicts {
    /// Judges one case; `case` names it in the report.
    pub fn judge(&mut self, case: &str, expect: &Expect, nix: &NixOutcome, ours: &OursOutcome) {
        let disagree = |why: &str| {
            format!(
                "{case}{why}\n      nix:  {}\n      ours: {}",
                nix.show(),
                ours.show()
            )
        };
        match expect {
            Expect::Value(json) => {
                self.counts[0] += 1;
                let intended: Value =
                    serde_json::from_str(json).expect("checked by the table test");
                match nix {
                    NixOutcome::Value(v) if json_equal(v, &intended) => {}
                    _ => self.table_errors.push(format!(
                        "{case}\n      table says: {json}\n      nix:        {}",
                        nix.show()
                    )),
                }
                let ok = match (nix, ours) {
                    (NixOutcome::Value(n), OursOutcome::Returned(Some(o))) => json_equal(n, o),
                    _ => false,
                };
                if !ok {
                    self.mismatches.push(disagree(""));
                }
            }
            Expect::Error => {
                self.counts[1] += 1;
                if let NixOutcome::Value(v) = nix {
                    self.table_errors.push(format!(
                        "{case}\n      table says: nix fails\n      nix:        {v}"
                    ));
                }
                if !matches!(ours, OursOutcome::Returned(None)) {
                    self.mismatches.push(disagree(" (must be None: nix fails)"));
                }
            }
            Expect::NoneOrValue => {
                self.counts[2] += 1;
                let ok = match (nix, ours) {
                    (_, OursOutcome::Returned(None)) => true,
                    (NixOutcome::Value(n), OursOutcome::Returned(Some(o))) => {
                        self.evaluated_anyway += 1;
                        json_equal(n, o)
                    }
                    _ => false,
                };
                if let NixOutcome::Failed(_) = nix {
                    self.table_errors.push(format!(
                        "{case}\n      table says: nix succeeds\n      nix:        {}",
                        nix.show()
                    ));
                }
                if !ok {
                    self.mismatches
                        .push(disagree(" (must be None or nix's value)"));
                }
            }
        }
    }

    /// Prints the tally under `name` and returns the report: empty when everything agreed.
    pub fn report(&self, name: &str) -> String {
        let [values, errors, unknown] = self.counts;
        eprintln!(
            "{name}: {} cases ({values} supported, {errors} expected-error, {unknown} \
             outside-the-subset, {} of which evaluated); {} mismatches, {} table problems",
            values + errors + unknown,
            self.evaluated_anyway,
            self.mismatches.len(),
            self.table_errors.len()
        );
        let mut report = String::new();
        if !self.table_errors.is_empty() {
            report.push_str(&format!(
                "\n{} case(s) where nix-instantiate does not behave as the table says \
                 (fix the table):\n",
                self.table_errors.len()
            ));
            for t in &self.table_errors {
                report.push_str(&format!("  - {t}\n"));
            }
        }
        if !self.mismatches.is_empty() {
            report.push_str(&format!(
                "\n{} case(s) where the evaluator disagrees with nix-instantiate:\n",
                self.mismatches.len()
            ));
            for m in &self.mismatches {
                report.push_str(&format!("  - {m}\n"));
            }
        }
        report
    }
}
