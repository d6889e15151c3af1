//! In-process protocol tests: drive the `LspService` with tower calls, the way an editor would,
//! and read what the server sends back (`publishDiagnostics`, `logMessage`) from its socket.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use infra_check_lsp::{build_service, LspService, Server};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tower::{Service, ServiceExt};
use tower_lsp_server::jsonrpc::Request;
use tower_lsp_server::ls_types::Uri;

const WAIT: Duration = Duration::from_secs(30);
/// How long the server must stay quiet before a published state counts as final.
const QUIET: Duration = Duration::from_millis(700);

const FLAKE: &str = "{\n  outputs = _: { };\n}\n";
const BROKEN: &str = "{\n  a = 1;\n  b = \"é😀\" + ;\n}\n";
const CLEAN: &str = "{\n  a = 1;\n}\n";

/// A temporary flake root holding `files` (plus a `flake.nix` unless given).
fn fleet(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    if !files.iter().any(|(p, _)| *p == "flake.nix") {
        std::fs::write(dir.path().join("flake.nix"), FLAKE).unwrap();
    }
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn uri(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    Uri::from_file_path(path).unwrap().as_str().to_owned()
}

fn file_uri(root: &TempDir, rel: &str) -> String {
    uri(&root.path().canonicalize().unwrap().join(rel))
}

/// A broken file with `n` clean lines before the error, so each variant fails on its own line.
fn broken_at(n: usize) -> String {
    let mut s = String::from("{\n");
    for i in 0..n {
        s.push_str(&format!("  a{i} = {i};\n"));
    }
    s.push_str("  b = ;\n}\n");
    s
}

struct Client {
    service: LspService<Server>,
    messages: UnboundedReceiver<Request>,
    logs: Vec<String>,
    /// The client's view: the last diagnostics published for each URI.
    view: HashMap<String, Vec<Value>>,
    next_id: i64,
}

impl Client {
    /// Starts a server and initializes it with `root` as the workspace folder.
    async fn start(root: Option<&Path>) -> Client {
        Client::start_with(root, json!({})).await
    }

    async fn start_with(root: Option<&Path>, capabilities: Value) -> Client {
        let (service, mut socket) = build_service();
        // Drain the socket continuously: it holds one message at a time, and a full socket
        // would block the server.
        let (tx, messages) = unbounded_channel();
        tokio::spawn(async move {
            while let Some(msg) = socket.next().await {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            service,
            messages,
            logs: Vec::new(),
            view: HashMap::new(),
            next_id: 0,
        };
        let mut params = json!({ "capabilities": capabilities });
        if let Some(root) = root {
            params["rootUri"] = json!(uri(root));
            params["workspaceFolders"] = json!([{ "uri": uri(root), "name": "fleet" }]);
        }
        let result = client.request("initialize", params).await;
        assert_eq!(result["capabilities"]["textDocumentSync"]["change"], 1);
        assert_eq!(
            result["capabilities"]["textDocumentSync"]["openClose"],
            true
        );
        assert_eq!(result["serverInfo"]["name"], "infra-check");
        client.notify("initialized", json!({})).await;
        client
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
            .expect("a request gets a response");
        let (_, result) = response.into_parts();
        result.expect("the request succeeds")
    }

    async fn notify(&mut self, method: &'static str, params: Value) {
        let request = Request::build(method).params(params).finish();
        let response = self
            .service
            .ready()
            .await
            .unwrap()
            .call(request)
            .await
            .unwrap();
        assert!(response.is_none(), "a notification gets no response");
    }

    async fn open(&mut self, uri: &str, version: i32, text: &str) {
        let params = json!({ "textDocument": {
            "uri": uri, "languageId": "nix", "version": version, "text": text } });
        self.notify("textDocument/didOpen", params).await;
    }

    async fn change(&mut self, uri: &str, version: i32, text: &str) {
        let params = json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{ "text": text }] });
        self.notify("textDocument/didChange", params).await;
    }

    async fn close(&mut self, uri: &str) {
        let params = json!({ "textDocument": { "uri": uri } });
        self.notify("textDocument/didClose", params).await;
    }

    /// The next message from the server, or `None` after `wait` of silence. Log messages are
    /// recorded, publishes update the view; both are returned too.
    async fn next_message(&mut self, wait: Duration) -> Option<Request> {
        let msg = tokio::time::timeout(wait, self.messages.recv())
            .await
            .ok()??;
        let params = msg.params().cloned().unwrap_or_default();
        match msg.method() {
            "window/logMessage" => {
                self.logs
                    .push(params["message"].as_str().unwrap().to_owned());
            }
            "textDocument/publishDiagnostics" => {
                let uri = params["uri"].as_str().unwrap().to_owned();
                let diags = params["diagnostics"].as_array().unwrap().clone();
                self.view.insert(uri, diags);
            }
            _ => {}
        }
        Some(msg)
    }

    /// Waits until the last diagnostics published for `uri` satisfy `done`, and returns them.
    /// Panics, listing what was published, when that does not happen.
    async fn wait_for(&mut self, uri: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            if let Some(diags) = self.view.get(uri) {
                if done(diags) {
                    return diags.clone();
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(msg) = self.next_message(left).await else {
                panic!(
                    "no matching publish for {uri}; saw {seen:#?}; logs {:#?}",
                    self.logs
                );
            };
            if let Some(diags) = published_for(&msg, uri) {
                seen.push(diags);
            }
        }
    }

    /// Reads until the server has been quiet for [`QUIET`] and returns the last diagnostics
    /// published for `uri` in that time, if any.
    async fn settle(&mut self, uri: &str) -> Option<Vec<Value>> {
        let mut last = None;
        while let Some(msg) = self.next_message(QUIET).await {
            if let Some(diags) = published_for(&msg, uri) {
                last = Some(diags);
            }
        }
        last
    }
}

fn published_for(msg: &Request, uri: &str) -> Option<Vec<Value>> {
    if msg.method() != "textDocument/publishDiagnostics" {
        return None;
    }
    let params = msg.params()?;
    if params["uri"] != uri {
        return None;
    }
    Some(params["diagnostics"].as_array().unwrap().clone())
}

fn lines_of(diags: &[Value]) -> Vec<u64> {
    diags
        .iter()
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_publishes_diagnostics_of_files_on_disk() {
    let root = fleet(&[("modules/broken.nix", BROKEN), ("modules/ok.nix", CLEAN)]);
    let mut client = Client::start(Some(root.path())).await;
    let uri = file_uri(&root, "modules/broken.nix");
    let diags = client.wait_for(&uri, |d| !d.is_empty()).await;
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d["code"], "syntax/parse-error");
    assert_eq!(d["source"], "infra-check");
    assert_eq!(d["severity"], 1);
    // `  b = "é😀" + ;` — the `;` is at byte 17 of line 2 but UTF-16 column 14 (é is one
    // unit, 😀 two).
    assert_eq!(
        d["range"],
        json!({ "start": { "line": 2, "character": 14 }, "end": { "line": 2, "character": 15 } }),
        "{d:#?}"
    );
    assert!(
        client.logs.iter().any(|l| l.starts_with("loaded ")),
        "{:?}",
        client.logs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_document_uses_its_text_and_fixing_it_clears_the_diagnostic() {
    let root = fleet(&[("modules/a.nix", CLEAN)]);
    let mut client = Client::start(Some(root.path())).await;
    let uri = file_uri(&root, "modules/a.nix");

    client.open(&uri, 1, &broken_at(3)).await;
    let diags = client.wait_for(&uri, |d| !d.is_empty()).await;
    assert_eq!(diags[0]["code"], "syntax/parse-error");
    assert_eq!(lines_of(&diags), vec![4]);

    client.change(&uri, 2, CLEAN).await;
    client.wait_for(&uri, |d| d.is_empty()).await;
    assert_eq!(
        client.settle(&uri).await,
        None,
        "nothing after the clearing publish"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_document_reverts_to_the_text_on_disk() {
    let root = fleet(&[("modules/a.nix", CLEAN), ("modules/b.nix", &broken_at(1))]);
    let mut client = Client::start(Some(root.path())).await;
    let a = file_uri(&root, "modules/a.nix");
    let b = file_uri(&root, "modules/b.nix");
    client.wait_for(&b, |d| lines_of(d) == [2]).await;

    // In memory, a.nix is broken and b.nix fixed; on disk it is the other way round.
    client.open(&a, 1, &broken_at(0)).await;
    client.open(&b, 1, CLEAN).await;
    client.wait_for(&a, |d| lines_of(d) == [1]).await;
    client.close(&a).await;
    client.close(&b).await;
    client.wait_for(&a, |d| d.is_empty()).await;
    client.wait_for(&b, |d| lines_of(d) == [2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_changes_ends_in_the_state_of_the_last_text() {
    let root = fleet(&[("modules/a.nix", CLEAN)]);
    let mut client = Client::start(Some(root.path())).await;
    let uri = file_uri(&root, "modules/a.nix");
    client.open(&uri, 1, &broken_at(0)).await;
    client.wait_for(&uri, |d| lines_of(d) == [1]).await;

    // Sequential notifications without waiting for any publish: ends clean.
    let mut version = 1;
    for i in 0..30 {
        version += 1;
        client.change(&uri, version, &broken_at(i % 7 + 1)).await;
    }
    version += 1;
    client.change(&uri, version, CLEAN).await;
    client.wait_for(&uri, |d| d.is_empty()).await;
    let last = client.settle(&uri).await;
    assert!(last.is_none(), "published after the final state: {last:?}");

    // The same burst, with the calls in flight at once as the transport runs them (up to four
    // handlers concurrently): ends broken at a line no intermediate text has.
    let mut calls = Vec::new();
    for i in 0..30 {
        version += 1;
        let params = json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{ "text": broken_at(i % 5) }] });
        let request = Request::build("textDocument/didChange")
            .params(params)
            .finish();
        calls.push(client.service.ready().await.unwrap().call(request));
    }
    version += 1;
    let params = json!({
        "textDocument": { "uri": uri, "version": version },
        "contentChanges": [{ "text": broken_at(9) }] });
    let request = Request::build("textDocument/didChange")
        .params(params)
        .finish();
    calls.push(client.service.ready().await.unwrap().call(request));
    for result in futures::future::join_all(calls).await {
        assert!(result.unwrap().is_none());
    }
    client.wait_for(&uri, |d| lines_of(d) == [10]).await;
    let last = client.settle(&uri).await;
    assert!(last.is_none(), "published after the final state: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_versions_are_ignored() {
    let root = fleet(&[("modules/a.nix", CLEAN)]);
    let mut client = Client::start(Some(root.path())).await;
    let uri = file_uri(&root, "modules/a.nix");
    client.open(&uri, 1, CLEAN).await;
    client.change(&uri, 3, &broken_at(2)).await;
    client.change(&uri, 2, CLEAN).await; // arrives late: must not win
    client.wait_for(&uri, |d| lines_of(d) == [3]).await;
    assert_eq!(client.settle(&uri).await, None);
    assert!(
        client.logs.iter().any(|l| l.contains("stale change")),
        "{:?}",
        client.logs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_outside_the_root_are_ignored() {
    let root = fleet(&[("modules/a.nix", CLEAN)]);
    let elsewhere = tempfile::tempdir().unwrap();
    let mut client = Client::start(Some(root.path())).await;
    let outside = uri(&elsewhere.path().join("x.nix"));
    client.open(&outside, 1, &broken_at(0)).await;
    // A document inside the root still works after it.
    let inside = file_uri(&root, "modules/a.nix");
    client.open(&inside, 1, &broken_at(0)).await;
    client.wait_for(&inside, |d| lines_of(d) == [1]).await;
    assert_eq!(client.settle(&outside).await, None);
    assert!(
        client
            .logs
            .iter()
            .any(|l| l.contains("outside the workspace root")),
        "{:?}",
        client.logs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_flake_open_documents_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut client = Client::start(Some(dir.path())).await;
    let uri = uri(&dir.path().join("scratch.nix"));
    client.open(&uri, 1, &broken_at(2)).await;
    client.wait_for(&uri, |d| lines_of(d) == [3]).await;
    client.close(&uri).await;
    client.wait_for(&uri, |d| d.is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_file_changes_are_read_from_disk() {
    let root = fleet(&[("modules/a.nix", CLEAN)]);
    let mut client = Client::start(Some(root.path())).await;
    let a = file_uri(&root, "modules/a.nix");
    let b = file_uri(&root, "modules/new.nix");

    std::fs::write(root.path().join("modules/a.nix"), broken_at(1)).unwrap();
    std::fs::write(root.path().join("modules/new.nix"), broken_at(2)).unwrap();
    let params = json!({ "changes": [
        { "uri": a, "type": 2 },
        { "uri": b, "type": 1 } ] });
    client
        .notify("workspace/didChangeWatchedFiles", params)
        .await;
    client.wait_for(&a, |d| lines_of(d) == [2]).await;
    client.wait_for(&b, |d| lines_of(d) == [3]).await;

    std::fs::remove_file(root.path().join("modules/new.nix")).unwrap();
    let params = json!({ "changes": [{ "uri": b, "type": 3 }] });
    client
        .notify("workspace/didChangeWatchedFiles", params)
        .await;
    client.wait_for(&b, |d| d.is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_and_exit() {
    let root = fleet(&[]);
    let mut client = Client::start(Some(root.path())).await;
    let shutdown = Request::build("shutdown").id(99).finish();
    let response = client.service.ready().await.unwrap().call(shutdown).await;
    let (_, result) = response.unwrap().unwrap().into_parts();
    assert_eq!(result.unwrap(), Value::Null);
    let exit = Request::build("exit").finish();
    let response = client.service.ready().await.unwrap().call(exit).await;
    assert!(response.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_file_watchers_when_the_client_supports_it() {
    let root = fleet(&[]);
    let capabilities = json!({
        "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } });
    let mut client = Client::start_with(Some(root.path()), capabilities).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let registration = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = client
            .next_message(left)
            .await
            .expect("a registration request");
        if msg.method() == "client/registerCapability" {
            assert!(msg.id().is_some(), "a request, not a notification");
            break msg.params().unwrap()["registrations"][0].clone();
        }
    };
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    let globs: Vec<&str> = registration["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["globPattern"].as_str().unwrap())
        .collect();
    assert!(globs.contains(&"**/*.nix"), "{globs:?}");
    assert!(globs.contains(&"**/*"), "{globs:?}");
}
