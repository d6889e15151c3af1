//! An in-process client for the protocol tests: drives the `LspService` with tower calls, the
//! way an editor would, and reads what the server sends back (`publishDiagnostics`,
//! `logMessage`, `$/progress`) from its socket. Requests from the server
//! (`client/registerCapability`, `window/workDoneProgress/create`) are answered with `null` and
//! recorded like the rest.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use infra_check_lsp::{build_service, LspService, Server};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tower::{Service, ServiceExt};
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::ls_types::Uri;

pub const WAIT: Duration = Duration::from_secs(30);
/// How long the server must stay quiet before a published state counts as final.
pub const QUIET: Duration = Duration::from_millis(700);

/// Its outputs read every file below `modules/`, so a mistake there is an error.
pub const FLAKE: &str = "{\n  outputs = _: { modules = builtins.readDir ./modules; };\n}\n";

/// A temporary flake root holding `files` (plus a `flake.nix` unless given).
pub fn fleet(files: &[(&str, &str)]) -> TempDir {
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

pub fn uri(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    Uri::from_file_path(path).unwrap().as_str().to_owned()
}

pub fn file_uri(root: &TempDir, rel: &str) -> String {
    uri(&root.path().canonicalize().unwrap().join(rel))
}

pub struct Client {
    pub service: LspService<Server>,
    pub messages: UnboundedReceiver<Request>,
    pub logs: Vec<String>,
    /// The client's view: the last diagnostics published for each URI.
    pub view: HashMap<String, Vec<Value>>,
    pub next_id: i64,
}

impl Client {
    /// Starts a server and initializes it with `root` as the workspace folder.
    pub async fn start(root: Option<&Path>) -> Client {
        Client::start_with(root, json!({})).await
    }

    pub async fn start_with(root: Option<&Path>, capabilities: Value) -> Client {
        let (service, socket) = build_service();
        let (mut requests, mut responses) = socket.split();
        // Drain the socket continuously: it holds one message at a time, and a full socket
        // would block the server. Answer the server's requests as a plain editor would.
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
        assert_eq!(result["capabilities"]["textDocumentSync"]["change"], 2);
        assert_eq!(
            result["capabilities"]["textDocumentSync"]["openClose"],
            true
        );
        assert_eq!(result["serverInfo"]["name"], "infra-check");
        client.notify("initialized", json!({})).await;
        client
    }

    pub async fn request(&mut self, method: &'static str, params: Value) -> Value {
        self.try_request(method, params)
            .await
            .expect("the request succeeds")
    }

    pub async fn try_request(
        &mut self,
        method: &'static str,
        params: Value,
    ) -> Result<Value, tower_lsp_server::jsonrpc::Error> {
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
        result
    }

    pub async fn notify(&mut self, method: &'static str, params: Value) {
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

    pub async fn open(&mut self, uri: &str, version: i32, text: &str) {
        let params = json!({ "textDocument": {
            "uri": uri, "languageId": "nix", "version": version, "text": text } });
        self.notify("textDocument/didOpen", params).await;
    }

    pub async fn change(&mut self, uri: &str, version: i32, text: &str) {
        let params = json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{ "text": text }] });
        self.notify("textDocument/didChange", params).await;
    }

    /// One incremental change: `range` (UTF-16 positions, as JSON) becomes `text`.
    pub async fn change_range(&mut self, uri: &str, version: i32, range: Value, text: &str) {
        let params = json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{ "range": range, "text": text }] });
        self.notify("textDocument/didChange", params).await;
    }

    pub async fn close(&mut self, uri: &str) {
        let params = json!({ "textDocument": { "uri": uri } });
        self.notify("textDocument/didClose", params).await;
    }

    /// The next message from the server, or `None` after `wait` of silence. Log messages are
    /// recorded, publishes update the view; both are returned too.
    pub async fn next_message(&mut self, wait: Duration) -> Option<Request> {
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
    pub async fn wait_for(&mut self, uri: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
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
    pub async fn settle(&mut self, uri: &str) -> Option<Vec<Value>> {
        let mut last = None;
        while let Some(msg) = self.next_message(QUIET).await {
            if let Some(diags) = published_for(&msg, uri) {
                last = Some(diags);
            }
        }
        last
    }
}

pub fn published_for(msg: &Request, uri: &str) -> Option<Vec<Value>> {
    if msg.method() != "textDocument/publishDiagnostics" {
        return None;
    }
    let params = msg.params()?;
    if params["uri"] != uri {
        return None;
    }
    Some(params["diagnostics"].as_array().unwrap().clone())
}
