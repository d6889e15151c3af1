//! The language server under random edits: a real-shaped file (a flake-parts module with clan
//! inventory, non-ASCII comments and strings) receives random incremental changes (ranges out
//! of the file, past line ends and between the halves of surrogate pairs included), random Nix
//! tokens, full replacements, closes and re-opens, interleaved with every request at random
//! positions. Every request must be answered (a result, or `RequestCancelled`; never an
//! internal error, never a hang), no check may panic, and the server must still publish for the
//! final text.
//!
//! `cargo test` runs a few hundred steps from a fixed seed. `INFRA_CHECK_FUZZ_SECONDS=N` runs
//! for N seconds from a seed derived from the time; `INFRA_CHECK_FUZZ_SEED=S` replays a seed
//! (with either mode). The seed is printed first.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::client::*;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::ErrorCode;

const FILE: &str = r#"# Fleet inventory — réseau du bureau 😀 中文
{ config, inputs, lib, ... }:
let
  mods = config.flake.modules.nixos; # « modules »
  admins = [ "zoë" "李" ];
in
{
  flake.modules.nixos.edge = { imports = with mods; [ base monitoring ]; };
  clan = {
    meta.name = "büro-中";
    inventory.machines = {
      web = { tags = [ "edge" "😀" ]; deploy.targetHost = "root@web"; };
      db = { tags = [ "中" ]; };
    };
    inventory.instances = {
      zerotier = {
        roles.controller.machines.web = { };
        roles.peer.tags.edge = { };
      };
      "user-é" = {
        module.name = "users";
        roles.default.machines.db.settings.user = builtins.head admins;
      };
    };
  };
  perSystem = { pkgs, ... }: { formatter = pkgs.nixfmt; /* 😀😀 */ };
}
"#;

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ";",
    "=",
    ".",
    ",",
    ":",
    "?",
    "@",
    "\"",
    "''",
    "${",
    "/*",
    "*/",
    "#",
    " ",
    "\n",
    "\r\n",
    "\r",
    "let",
    "in",
    "rec",
    "with",
    "inherit",
    "if",
    "then",
    "else",
    "or",
    "assert",
    "...",
    "//",
    "++",
    "->",
    "x",
    "web",
    "db",
    "base",
    "monitorng",
    "1",
    "0.5",
    "./x.nix",
    "<nixpkgs>",
    "é",
    "😀",
    "中文",
    "\u{fffd}",
    "\t",
    "config.flake.modules.nixos.",
    "clan.inventory.machines.",
    "roles.peer.machines.",
    "imports = [ ];",
    "{ a = 1; }",
    "\"${x}\"",
    "''\n  ${y}\n''",
];

const REQUESTS: &[&str] = &[
    "textDocument/definition",
    "textDocument/references",
    "textDocument/hover",
    "textDocument/completion",
    "textDocument/codeAction",
    "textDocument/documentSymbol",
    "textDocument/prepareRename",
    "textDocument/rename",
    "workspace/symbol",
];

/// New names a rename is asked for: valid, quoted-only, and ones no rule allows.
const NEW_NAMES: &[&str] = &["renamed", "a/b", "web-02", "", "a b", "x;y", "\u{0}", "é"];

/// The client's copy of the document, edited the way the server is told to: UTF-16
/// positions, clamped to the line (before its `\n`, `\r\n` or `\r`) and to the last line, a
/// column between the halves of a pair meaning the pair's start.
struct Doc {
    text: String,
}

impl Doc {
    /// Byte ranges of each line's text (without terminator).
    fn lines(&self) -> Vec<(usize, usize)> {
        let b = self.text.as_bytes();
        let mut out = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\n' => {
                    out.push((start, i));
                    start = i + 1;
                }
                b'\r' => {
                    out.push((start, i));
                    if b.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        out.push((start, b.len()));
        out
    }

    fn units(&self, line: usize) -> u32 {
        let lines = self.lines();
        lines
            .get(line)
            .map_or(0, |&(s, e)| self.text[s..e].encode_utf16().count() as u32)
    }

    fn offset(&self, line: u32, col: u32) -> usize {
        let lines = self.lines();
        let Some(&(start, end)) = lines.get(line as usize) else {
            return self.text.len();
        };
        let mut units = 0;
        for (i, c) in self.text[start..end].char_indices() {
            units += c.len_utf16() as u32;
            if units > col {
                return start + i;
            }
        }
        end
    }

    fn edit(&mut self, (l1, c1): (u32, u32), (l2, c2): (u32, u32), new: &str) {
        let (a, b) = (self.offset(l1, c1), self.offset(l2, c2));
        self.text.replace_range(a.min(b)..a.max(b), new);
    }
}

fn position(rng: &mut fastrand::Rng, doc: &Doc) -> (u32, u32) {
    let lines = doc.lines().len() as u32;
    // Now and then past the last line, or far past a line's end.
    let line = rng.u32(0..lines + 2);
    let width = doc.units(line as usize);
    let col = if rng.u8(0..10) == 0 {
        rng.u32(0..1000)
    } else {
        rng.u32(0..=width + 2)
    };
    (line, col)
}

fn json_pos((line, character): (u32, u32)) -> Value {
    json!({ "line": line, "character": character })
}

fn seed() -> (u64, Option<Duration>) {
    let seconds = std::env::var("INFRA_CHECK_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    let seed = std::env::var("INFRA_CHECK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let seed = match (seed, seconds) {
        (Some(seed), _) => seed,
        (None, Some(_)) => SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
        (None, None) => 0x1AF9_2026,
    };
    (seed, seconds)
}

/// Sends a request and checks its answer: a result or `RequestCancelled`, within [`WAIT`].
async fn checked(client: &mut Client, method: &'static str, params: Value, step: u64) {
    let what = format!("step {step}: {method} {params}");
    let answer = tokio::time::timeout(WAIT, client.try_request(method, params))
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {WAIT:?}"));
    if let Err(e) = answer {
        // A rename the server refuses is answered with `RequestFailed` and a sentence.
        let refused = e.code == ErrorCode::ServerError(-32803)
            && method.contains("ename")
            && !e.message.is_empty();
        assert!(
            e.code == ErrorCode::RequestCancelled || refused,
            "{what}: {e:?}"
        );
    }
}

/// Reads what the server sent meanwhile; a check that panicked is logged as an internal error.
async fn drain(client: &mut Client, step: u64) {
    while client.next_message(Duration::ZERO).await.is_some() {}
    if let Some(log) = client.logs.iter().find(|l| l.contains("internal error")) {
        panic!("step {step}: {log}");
    }
    client.logs.clear();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_edits_and_requests_keep_the_server_answering() {
    let (seed, seconds) = seed();
    println!("language server fuzz: seed {seed} (replay with INFRA_CHECK_FUZZ_SEED={seed})");
    let mut rng = fastrand::Rng::with_seed(seed);
    let files: Vec<(&str, &str)> = common::FILES
        .iter()
        .map(|&(path, text)| match path {
            "modules/clan/inventory.nix" => (path, FILE),
            _ => (path, text),
        })
        .collect();
    let root = fleet(&files);
    let mut client = Client::start(Some(root.path())).await;
    let uri = file_uri(&root, "modules/clan/inventory.nix");
    let mut doc = Doc {
        text: FILE.to_owned(),
    };
    let mut version = 1;
    client.open(&uri, version, &doc.text).await;

    let deadline = seconds.map(|s| Instant::now() + s);
    let mut step = 0u64;
    loop {
        match deadline {
            Some(d) if Instant::now() >= d => break,
            None if step >= 400 => break,
            _ => {}
        }
        step += 1;
        match rng.u8(0..100) {
            // A ranged change: insert tokens, delete, or replace.
            0..=49 => {
                let a = position(&mut rng, &doc);
                let b = if rng.bool() {
                    a
                } else {
                    position(&mut rng, &doc)
                };
                let new: String = (0..rng.usize(0..4))
                    .map(|_| TOKENS[rng.usize(..TOKENS.len())])
                    .collect();
                version += 1;
                doc.edit(a, b, &new);
                let change = json!({ "range": { "start": json_pos(a), "end": json_pos(b) },
                                     "text": new });
                client
                    .notify(
                        "textDocument/didChange",
                        json!({ "textDocument": { "uri": uri, "version": version },
                                "contentChanges": [change] }),
                    )
                    .await;
            }
            // Several changes in one notification, applied in order.
            50..=54 => {
                version += 1;
                let mut changes = Vec::new();
                for _ in 0..rng.usize(2..5) {
                    let a = position(&mut rng, &doc);
                    let b = position(&mut rng, &doc);
                    let new = TOKENS[rng.usize(..TOKENS.len())];
                    doc.edit(a, b, new);
                    changes.push(
                        json!({ "range": { "start": json_pos(a), "end": json_pos(b) },
                                         "text": new }),
                    );
                }
                client
                    .notify(
                        "textDocument/didChange",
                        json!({ "textDocument": { "uri": uri, "version": version },
                                "contentChanges": changes }),
                    )
                    .await;
            }
            // The whole text: sometimes back to the original, sometimes cut short.
            55..=59 => {
                version += 1;
                doc.text = if rng.bool() {
                    FILE.to_owned()
                } else {
                    let mut cut = rng.usize(0..=doc.text.len());
                    while !doc.text.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    doc.text[..cut].to_owned()
                };
                client.change(&uri, version, &doc.text).await;
            }
            60..=61 => {
                client.close(&uri).await;
                version += 1;
                client.open(&uri, version, &doc.text).await;
            }
            _ => {
                let method = REQUESTS[rng.usize(..REQUESTS.len())];
                let at = position(&mut rng, &doc);
                let mut params =
                    json!({ "textDocument": { "uri": uri }, "position": json_pos(at) });
                match method {
                    "textDocument/references" => {
                        params["context"] = json!({ "includeDeclaration": rng.bool() });
                    }
                    "textDocument/codeAction" => {
                        let end = position(&mut rng, &doc);
                        params = json!({
                            "textDocument": { "uri": uri },
                            "range": { "start": json_pos(at), "end": json_pos(end) },
                            "context": { "diagnostics": [] },
                        });
                    }
                    "textDocument/documentSymbol" => {
                        params = json!({ "textDocument": { "uri": uri } })
                    }
                    "workspace/symbol" => {
                        params = json!({ "query": TOKENS[rng.usize(..TOKENS.len())] });
                    }
                    "textDocument/rename" => {
                        params["newName"] = json!(NEW_NAMES[rng.usize(..NEW_NAMES.len())]);
                    }
                    _ => {}
                }
                checked(&mut client, method, params, step).await;
            }
        }
        drain(&mut client, step).await;
    }

    // Still alive, and still checking: a last text with a known error is published.
    version += 1;
    let broken = "{\n  a = ;\n}\n";
    client.change(&uri, version, broken).await;
    let diags = client
        .wait_for(&uri, |d| {
            d.iter()
                .any(|d| d["code"] == "syntax/parse-error" && d["range"]["start"]["line"] == 1)
        })
        .await;
    assert!(!diags.is_empty());
    drain(&mut client, step).await;
    println!("language server fuzz: {step} steps from seed {seed}, no failure");
}
