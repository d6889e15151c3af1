//! Phase timings on standard error, for profiling a run without a profiler: set
//! `INFRA_CHECK_TIMINGS=1` and every phase prints how long it took when it ends. Off by default
//! and then free (one relaxed atomic load per phase).

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("INFRA_CHECK_TIMINGS").is_some_and(|v| v != "0"))
}

/// Prints `name` and its duration to standard error when dropped, if timings are on.
pub struct Phase {
    name: &'static str,
    start: Option<Instant>,
}

/// Starts timing the phase `name`.
pub fn phase(name: &'static str) -> Phase {
    Phase {
        name,
        start: enabled().then(Instant::now),
    }
}

/// Runs `f` as the phase `name`.
pub fn timed<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    let _phase = phase(name);
    f()
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(start) = self.start {
            eprintln!(
                "infra-check timing: {:<28} {:>9.2} ms{}",
                self.name,
                start.elapsed().as_secs_f64() * 1000.0,
                resident().map_or(String::new(), |mib| format!("  (resident {mib:.1} MiB)"))
            );
        }
    }
}

/// Whether per-file times are wanted too (`INFRA_CHECK_TIMINGS=files`).
pub fn per_file() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("INFRA_CHECK_TIMINGS").is_some_and(|v| v == "files"))
}

static FILES: std::sync::Mutex<Vec<(f64, String)>> = std::sync::Mutex::new(Vec::new());

/// Records how long one file's work took (only with [`per_file`]).
pub fn file(path: &str, start: Instant) {
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if let Ok(mut files) = FILES.lock() {
        files.push((ms, path.to_owned()));
    }
}

/// Prints the slowest files recorded so far and forgets them.
pub fn print_slowest(n: usize) {
    let Ok(mut files) = FILES.lock() else { return };
    files.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, path) in files.iter().take(n) {
        eprintln!("infra-check timing:   {ms:>9.2} ms  {path}");
    }
    files.clear();
}

/// The process's resident memory now, in MiB, where the platform tells (Linux).
fn resident() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0 / (1024.0 * 1024.0))
}
