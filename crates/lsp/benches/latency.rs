//! `cargo bench -p infra-check-lsp --bench latency`: the language server's latency from an edit
//! to the diagnostics of the edited file, on `examples/fleet` and on synthetic fleets of 1,000
//! and 10,000 machines (`INFRA_CHECK_BENCH_FLEETS=1000,10000` chooses), in a release build.
//!
//! Each tree runs in a fresh process (this binary, re-run with `INFRA_CHECK_BENCH_ROOT` set) so
//! its resident set is its own. That process drives the real `LspService` in-process, the way
//! the protocol tests do: `initialize` (with `window.workDoneProgress`, so the end of the
//! initial load and check is the `$/progress` end), `didOpen` of one machine module, then 50
//! `didChange`s of it, each timed until the `publishDiagnostics` of that file with the new
//! version (the server re-publishes an open document whenever its version moves on), then
//! 100 ms of quiet, as between keystrokes, in which the server does its idle work. The edits
//! alternate between one that keeps the file's summary (a comment appended to the previous
//! text) and one that changes it (a new deferred module importing a shared one).
//!
//! Printed per tree: files, time to the end of the initial load and check, VmRSS and VmHWM after
//! it, and p50/p95 of the edit → publish latency (both kinds together and each kind alone);
//! with `INFRA_CHECK_BENCH_EDITS` set, each edit's latency too, on standard error.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use infra_check_lsp::build_service;
use serde_json::{json, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tower::{Service, ServiceExt};
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::ls_types::Uri;

/// The allocator `infra-check lsp` runs with, set up the same way: the CLI's own `alloc.rs`,
/// so the figures are the ones users get.
#[path = "../../cli/src/alloc.rs"]
mod alloc;

const EDITS: usize = 50;
/// Between one edit's publish and the next edit: a fast typist's interval between keys.
const PAUSE: Duration = Duration::from_millis(100);
const WAIT: Duration = Duration::from_secs(300);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The in-process client: the service, and everything the server sends.
struct Client {
    service: infra_check_lsp::LspService<infra_check_lsp::Server>,
    messages: UnboundedReceiver<Request>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let (service, socket) = build_service();
        let (mut requests, mut responses) = socket.split();
        let (tx, messages) = unbounded_channel();
        tokio::spawn(async move {
            while let Some(msg) = requests.next().await {
                if let Some(id) = msg.id() {
                    let _ = responses
                        .send(Response::from_ok(id.clone(), Value::Null))
                        .await;
                }
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        Client {
            service,
            messages,
            next_id: 0,
        }
    }

    async fn request(&mut self, method: &'static str, params: Value) -> Value {
        self.next_id += 1;
        let request = Request::build(method)
            .params(params)
            .id(self.next_id)
            .finish();
        let response = self
            .service
            .ready()
            .await
            .unwrap()
            .call(request)
            .await
            .unwrap()
            .expect("a response");
        response.into_parts().1.expect("the request succeeds")
    }

    async fn notify(&mut self, method: &'static str, params: Value) {
        let request = Request::build(method).params(params).finish();
        self.service
            .ready()
            .await
            .unwrap()
            .call(request)
            .await
            .unwrap();
    }

    /// Reads until `done` accepts a message.
    async fn until(&mut self, what: &str, mut done: impl FnMut(&Request) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.messages.recv()).await {
                Ok(Some(msg)) if done(&msg) => return,
                Ok(Some(_)) => {}
                _ => panic!("timed out waiting for {what}"),
            }
        }
    }

    async fn published(&mut self, uri: &str, version: i32) {
        self.until(&format!("the publish of {uri} v{version}"), |msg| {
            msg.method() == "textDocument/publishDiagnostics"
                && msg.params().is_some_and(|p| {
                    p["uri"] == uri && p["version"].as_i64() == Some(version as i64)
                })
        })
        .await
    }
}

struct Measured {
    files: usize,
    index: Duration,
    rss_kib: u64,
    hwm_kib: u64,
    same: Vec<Duration>,
    changed: Vec<Duration>,
}

/// The child process: one tree.
async fn measure(root: &Path, edit_file: &str, reference: &str) -> Measured {
    let root = root.canonicalize().unwrap();
    let files = infra_check_analysis::scan(&root)
        .unwrap()
        .texts
        .iter()
        .filter(|(rel, _)| rel.ends_with(".nix"))
        .count();
    let root_uri = Uri::from_file_path(&root).unwrap().as_str().to_owned();
    let mut client = Client::start();
    let started = Instant::now();
    client
        .request(
            "initialize",
            json!({
                "rootUri": root_uri,
                "workspaceFolders": [{ "uri": root_uri, "name": "bench" }],
                "capabilities": { "window": { "workDoneProgress": true } },
            }),
        )
        .await;
    client.notify("initialized", json!({})).await;
    client
        .until("the end of the initial load", |msg| {
            msg.method() == "$/progress"
                && msg.params().is_some_and(|p| p["value"]["kind"] == "end")
        })
        .await;
    let index = started.elapsed();
    let rss_kib = status_kib("VmRSS:");
    let hwm_kib = status_kib("VmHWM:");

    let path = root.join(edit_file);
    let uri = Uri::from_file_path(&path).unwrap().as_str().to_owned();
    let original = std::fs::read_to_string(&path).unwrap();
    client
        .notify(
            "textDocument/didOpen",
            json!({ "textDocument": {
                "uri": uri, "languageId": "nix", "version": 1, "text": original } }),
        )
        .await;
    client.published(&uri, 1).await;
    // Nobody types within a keystroke's interval of opening a file: the server's idle work
    // after the open happens before the first edit, as it would in an editor.
    tokio::time::sleep(PAUSE).await;

    // Before the last `}`: a new deferred module, so the summary changes every time.
    let body = original.trim_end().trim_end_matches('}').to_owned();
    let class = if reference.contains("darwin") {
        "darwin"
    } else {
        "nixos"
    };
    let mut text = original.clone();
    let mut same = Vec::new();
    let mut changed = Vec::new();
    for i in 0..EDITS {
        let version = i as i32 + 2;
        let keeps_summary = i % 2 == 0;
        text = if keeps_summary {
            format!("{text}# edit {i}\n")
        } else {
            format!("{body}  flake.modules.{class}.\"bench-{i}\".imports = [ {reference} ];\n}}\n")
        };
        let params = json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{ "text": text }] });
        let start = Instant::now();
        client.notify("textDocument/didChange", params).await;
        client.published(&uri, version).await;
        let elapsed = start.elapsed();
        if std::env::var_os("INFRA_CHECK_BENCH_EDITS").is_some() {
            let kind = if keeps_summary { "same" } else { "changed" };
            eprintln!(
                "edit {i} ({kind} summary): {:.2} ms",
                elapsed.as_secs_f64() * 1000.0
            );
        }
        // A pause between keystrokes, as when typing: the server's idle work (freeing what
        // the edit replaced) happens there, not on the next edit's path.
        tokio::time::sleep(PAUSE).await;
        if keeps_summary {
            same.push(elapsed);
        } else {
            changed.push(elapsed);
        }
    }
    Measured {
        files,
        index,
        rss_kib,
        hwm_kib,
        same,
        changed,
    }
}

fn child(root: &Path, edit_file: &str, reference: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(64 << 20)
        .enable_all()
        .build()
        .unwrap();
    let m = runtime.block_on(measure(root, edit_file, reference));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let stats = |xs: &[Duration]| {
        let mut xs = xs.to_vec();
        xs.sort();
        (ms(percentile(&xs, 0.5)), ms(percentile(&xs, 0.95)))
    };
    let all: Vec<Duration> = m.same.iter().chain(&m.changed).copied().collect();
    let (all50, all95) = stats(&all);
    let (s50, s95) = stats(&m.same);
    let (c50, c95) = stats(&m.changed);
    println!(
        "RESULT {} {:.1} {} {} {all50:.2} {all95:.2} {s50:.2} {s95:.2} {c50:.2} {c95:.2}",
        m.files,
        ms(m.index),
        m.rss_kib,
        m.hwm_kib
    );
    // Skip tearing the server down: the blocking stdin-free runtime has nothing left to do.
    std::process::exit(0);
}

fn main() {
    alloc::init();
    // `cargo bench` passes `--bench`; ignore arguments.
    if let Some(root) = std::env::var_os("INFRA_CHECK_BENCH_ROOT") {
        let file = std::env::var("INFRA_CHECK_BENCH_FILE").unwrap();
        let reference = std::env::var("INFRA_CHECK_BENCH_REFERENCE").unwrap();
        child(Path::new(&root), &file, &reference);
        return;
    }
    let fleet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet");
    // `INFRA_CHECK_BENCH_FLEETS=1000,10000` (the default) chooses the synthetic fleets.
    let sizes: Vec<usize> = std::env::var("INFRA_CHECK_BENCH_FLEETS")
        .unwrap_or_else(|_| "1000,10000".to_owned())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let mut synthetic = Vec::new();
    for machines in sizes {
        let dir = tempfile::tempdir().unwrap();
        fleetgen::write_fleet(
            dir.path(),
            fleetgen::Spec {
                machines,
                shared: (machines / 5).clamp(1, 1000),
            },
        )
        .unwrap();
        synthetic.push((format!("synthetic {machines} machines"), dir));
    }
    let mut trees: Vec<(String, PathBuf, &str, &str)> = vec![(
        "examples/fleet".to_owned(),
        fleet,
        "modules/machines/nixos/krypton/default.nix",
        "config.flake.modules.nixos.base",
    )];
    for (name, dir) in &synthetic {
        trees.push((
            name.clone(),
            dir.path().to_path_buf(),
            "modules/machines/nixos/m0/default.nix",
            "config.flake.modules.nixos.shared-0",
        ));
    }
    let exe = std::env::current_exe().unwrap();
    println!(
        "edit → publishDiagnostics of the edited file, {EDITS} edits alternating same/changed summary (release, in-process LspService)\n"
    );
    println!(
        "{:<25} {:>6} {:>10} {:>9} {:>9} | {:>17} | {:>17} | {:>17}",
        "tree",
        "files",
        "index",
        "RSS",
        "peak RSS",
        "all p50 / p95",
        "same p50 / p95",
        "changed p50 / p95"
    );
    for (name, root, file, reference) in trees {
        let output = Command::new(&exe)
            .env("INFRA_CHECK_BENCH_ROOT", &root)
            .env("INFRA_CHECK_BENCH_FILE", file)
            .env("INFRA_CHECK_BENCH_REFERENCE", reference)
            .output()
            .expect("run the bench for one tree");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
            panic!(
                "{name}: no result (status {}); stdout:\n{stdout}\nstderr:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let f: Vec<&str> = line.split(' ').collect();
        let mib = |kib: &str| kib.parse::<f64>().unwrap() / 1024.0;
        println!(
            "{name:<25} {:>6} {:>8} ms {:>5.1} MiB {:>5.1} MiB | {:>6} / {:>6} ms | {:>6} / {:>6} ms | {:>6} / {:>6} ms",
            f[0],
            f[1],
            mib(f[2]),
            mib(f[3]),
            f[4],
            f[5],
            f[6],
            f[7],
            f[8],
            f[9]
        );
    }
}
