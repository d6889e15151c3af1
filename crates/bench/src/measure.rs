//! What is timed: the serial read + parse baseline, in this process, and a command as a
//! separate process (wall clock, CPU time and peak memory of that child alone).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the serial baseline works on, found by the analyzer's own walk so that it lists and
/// reads exactly what the check does.
pub struct Baseline {
    /// Every directory the walk enters (the root first).
    pub dirs: Vec<PathBuf>,
    /// Every `.nix` file it reads.
    pub files: Vec<PathBuf>,
}

pub fn baseline(root: &Path) -> Result<Baseline, String> {
    let scan = infra_check_analysis::scan(root)
        .map_err(|e| format!("`{}` could not be walked: {e}.", root.display()))?;
    let dirs = std::iter::once(scan.root.clone())
        .chain(
            scan.disk
                .iter()
                .filter(|(_, kind)| matches!(kind, infra_check_analysis::disk::EntryKind::Dir))
                .map(|(rel, _)| scan.root.join(rel)),
        )
        .collect();
    let files = scan
        .texts
        .iter()
        .filter(|(rel, _)| rel.ends_with(".nix"))
        .map(|(rel, _)| scan.root.join(rel))
        .collect();
    Ok(Baseline { dirs, files })
}

/// Lists `dirs` on this thread the way the simplest serial tool would: each entry named once
/// with the kind readdir gives (no stat). Returns the number of entries, so the walk cannot be
/// optimised away. A tool that reads a repository's files has to find them first; this is that
/// part of the baseline.
pub fn walk(dirs: &[PathBuf]) -> usize {
    let mut entries = 0;
    for dir in dirs {
        let Ok(listing) = std::fs::read_dir(dir) else {
            continue;
        };
        // The kind of each entry is asked for, as a tool deciding what to enter would.
        entries += listing
            .filter_map(Result::ok)
            .filter(|e| std::hint::black_box(e.file_type()).is_ok())
            .count();
    }
    entries
}

/// The median time of `runs` calls of `f`, after one more call to warm up.
pub fn median_time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    std::hint::black_box(f());
    let times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    median(&times).unwrap_or_default()
}

/// Reads and parses every file, one after the other, on this thread: the baseline. Returns
/// the number of bytes read (so the work cannot be optimised away and the table can show it).
pub fn read_and_parse(files: &[PathBuf]) -> u64 {
    let mut bytes = 0;
    for f in files {
        // A file that vanished or is not UTF-8 is still read as far as the analyzer would.
        let Ok(raw) = std::fs::read(f) else { continue };
        bytes += raw.len() as u64;
        let text = String::from_utf8_lossy(&raw);
        std::hint::black_box(rnix::Root::parse(&text));
    }
    bytes
}

/// One run of a child process.
pub struct Run {
    pub wall: Duration,
    /// User + system time of the child, when the platform reports it.
    pub cpu: Option<Duration>,
    /// Peak resident set of the child in bytes, when the platform reports it.
    pub max_rss: Option<u64>,
    /// The exit code, or `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `cmd` to the end with its output captured, and measures it.
pub fn run(mut cmd: Command) -> Result<Run, String> {
    let shown = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{shown} could not be started: {e}."))?;
    // Drain stderr on another thread so a chatty child never blocks on a full pipe.
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_end(&mut stdout);
    }
    let (code, cpu, max_rss) =
        wait(child).map_err(|e| format!("{shown} could not be waited for: {e}."))?;
    let wall = start.elapsed();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Run {
        wall,
        cpu,
        max_rss,
        code,
        stdout,
        stderr,
    })
}

/// Waits for the child with `wait4`, which reports the resources of that child alone.
#[cfg(unix)]
fn wait(
    child: std::process::Child,
) -> std::io::Result<(Option<i32>, Option<Duration>, Option<u64>)> {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value for the kernel to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child; both pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    // Linux reports KiB, macOS bytes.
    let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    let rss = usage.ru_maxrss as u64 * unit;
    Ok((code, Some(cpu), Some(rss)))
}

#[cfg(not(unix))]
fn wait(
    mut child: std::process::Child,
) -> std::io::Result<(Option<i32>, Option<Duration>, Option<u64>)> {
    Ok((child.wait()?.code(), None, None))
}

/// The median of `xs` (the upper one of an even count); `None` when empty.
pub fn median<T: Ord + Copy>(xs: &[T]) -> Option<T> {
    let mut v = xs.to_vec();
    v.sort();
    v.get(v.len() / 2).copied()
}
