//! Runs the real binary on a tree with a time and memory bound, killing it when it passes
//! either: a hang or unbounded growth is a finding, not a stuck test.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::case::Invocation;

/// At most this much of each output stream is kept (100,000 machines' findings are over 64 MiB
/// of JSON).
const KEEP_OUTPUT: usize = 512 << 20;

/// Bounds proportional to the input: they exist to catch hangs and runaway memory in a debug
/// build on a loaded machine, so they are far above what any case needs.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub time: Duration,
    pub memory: u64,
}

impl Bounds {
    /// `base` plus 10 s per MiB of input; 2 GiB plus 64 bytes per byte of input.
    pub fn for_input(base: Duration, input_bytes: u64) -> Bounds {
        let mib = input_bytes as f64 / (1 << 20) as f64;
        Bounds {
            time: base + Duration::from_secs_f64(10.0 * mib),
            memory: (2 << 30) + 64 * input_bytes,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Exited(ExitStatus),
    /// Killed after the time bound.
    TimedOut,
    /// Killed when its resident memory passed the bound (the bytes it had).
    OutOfMemory(u64),
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub ended: Ended,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Some output was dropped (beyond [`KEEP_OUTPUT`]): its content cannot be checked whole.
    pub truncated: bool,
    pub elapsed: Duration,
}

/// Runs `infra-check <args> <root>/<target>` in `root`.
pub fn run(invocation: &Invocation, root: &Path, bounds: Bounds) -> Outcome {
    let path = if invocation.target.is_empty() {
        root.to_path_buf()
    } else {
        root.join(&invocation.target)
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_infra-check"))
        .args(&invocation.args)
        .arg(path)
        .current_dir(root.parent().unwrap_or(root))
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("NO_COLOR")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start infra-check");
    limit_address_space(&child, bounds.memory);
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let start = Instant::now();
    let ended = supervise(&mut child, bounds, start);
    let (stdout, cut_out) = stdout.join().unwrap_or_default();
    let (stderr, cut_err) = stderr.join().unwrap_or_default();
    Outcome {
        ended,
        stdout,
        stderr,
        truncated: cut_out || cut_err,
        elapsed: start.elapsed(),
    }
}

fn supervise(child: &mut Child, bounds: Bounds, start: Instant) -> Ended {
    let mut polls = 0u32;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ended::Exited(status),
            Ok(None) => {}
            Err(e) => panic!("wait for infra-check: {e}"),
        }
        if start.elapsed() > bounds.time {
            kill(child);
            return Ended::TimedOut;
        }
        polls += 1;
        if polls.is_multiple_of(5) {
            if let Some(rss) = resident_bytes(child.id()) {
                if rss > bounds.memory {
                    kill(child);
                    return Ended::OutOfMemory(rss);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Caps the child's address space a few GiB above the memory bound, so that memory growing
/// faster than [`supervise`] polls ends in a failed allocation rather than in the machine's
/// out-of-memory killer (the reserved thread stacks and allocator arenas are the margin).
/// Set right after the start, long before the binary has read anything.
fn limit_address_space(child: &Child, memory: u64) {
    use rustix::process::{prlimit, Pid, Resource, Rlimit};
    let cap = memory + (4 << 30);
    let _ = prlimit(
        Some(Pid::from_child(child)),
        Resource::As,
        Rlimit {
            current: Some(cap),
            maximum: Some(cap),
        },
    );
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The resident set of a process, from `/proc` (Linux).
fn resident_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Reads a stream to its end on its own thread (so a full pipe never blocks the child),
/// keeping the first [`KEEP_OUTPUT`] bytes; also says whether it dropped any.
fn drain(mut stream: impl Read + Send + 'static) -> JoinHandle<(Vec<u8>, bool)> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut dropped = false;
        let mut buf = vec![0; 1 << 16];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = KEEP_OUTPUT.saturating_sub(kept.len());
                    dropped |= n > room;
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        (kept, dropped)
    })
}
