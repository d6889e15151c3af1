//! A client for the real server binary over standard input and output: raw bytes in, framed
//! JSON out (read on a thread), with a deadline on every wait so a hang fails instead of
//! blocking the test run.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const SERVER: &str = env!("CARGO_BIN_EXE_infra-check-lsp-test-server");

/// Generous: a debug build on a loaded two-core machine.
pub const WAIT: Duration = Duration::from_secs(60);

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

pub struct StdioServer {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    /// Messages read while waiting for something else.
    seen: Vec<Value>,
    next_id: i64,
}

/// Reads framed messages until the server's output ends. A malformed frame from the server
/// is a test failure, reported as a message the waits do not expect.
fn read_messages(out: impl Read, tx: mpsc::Sender<Value>) {
    let mut out = BufReader::new(out);
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            match out.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
            }
        }
        let Some(length) = length else {
            let _ = tx.send(json!({ "malformed frame from the server": true }));
            return;
        };
        let mut body = vec![0; length];
        if out.read_exact(&mut body).is_err() {
            return;
        }
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| json!({ "malformed body from the server": true }));
        if tx.send(value).is_err() {
            return;
        }
    }
}

impl StdioServer {
    pub fn spawn() -> StdioServer {
        let mut child = Command::new(SERVER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || read_messages(stdout, tx));
        StdioServer {
            stdin: child.stdin.take(),
            child,
            messages,
            seen: Vec::new(),
            next_id: 0,
        }
    }

    /// Spawns the server and initializes it on `root`.
    pub fn initialized(root: &Path) -> StdioServer {
        let mut server = StdioServer::spawn();
        let uri = tower_lsp_server::ls_types::Uri::from_file_path(root.canonicalize().unwrap())
            .unwrap()
            .as_str()
            .to_owned();
        let result = server.request(
            "initialize",
            json!({ "capabilities": {}, "rootUri": uri,
                    "workspaceFolders": [{ "uri": uri, "name": "fleet" }] }),
        );
        assert_eq!(result["result"]["serverInfo"]["name"], "infra-check");
        server.notify("initialized", json!({}));
        server
    }

    /// Writes raw bytes to the server's input. `false` when the server has closed it.
    pub fn send_raw(&mut self, bytes: &[u8]) -> bool {
        let Some(stdin) = self.stdin.as_mut() else {
            return false;
        };
        stdin.write_all(bytes).is_ok() && stdin.flush().is_ok()
    }

    pub fn send_json(&mut self, message: &Value) -> bool {
        self.send_raw(&frame(message.to_string().as_bytes()))
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        let sent = self.send_json(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
        assert!(sent, "the server accepts input");
    }

    /// Sends a request and returns its whole response (`result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let sent = self
            .send_json(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        assert!(sent, "the server accepts input");
        self.response(&json!(id))
    }

    /// The next message satisfying `wanted`, failing after [`WAIT`].
    pub fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&wanted) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(msg) if wanted(&msg) => return msg,
                Ok(msg) => {
                    assert!(
                        msg.get("malformed frame from the server").is_none()
                            && msg.get("malformed body from the server").is_none(),
                        "the server wrote a malformed message"
                    );
                    self.seen.push(msg);
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} within {WAIT:?}; alive: {}", self.is_alive())
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the server's output ended while waiting for {what}; exit: {:?}",
                    self.child.try_wait()
                ),
            }
        }
    }

    /// The response to the request with `id`.
    pub fn response(&mut self, id: &Value) -> Value {
        let id = id.clone();
        self.wait_for(&format!("response to {id}"), move |m| {
            m.get("method").is_none() && m["id"] == id
        })
    }

    /// The next error response with a `null` id (an answer to a malformed message).
    pub fn null_id_error(&mut self) -> Value {
        self.wait_for("error response with a null id", |m| {
            m.get("method").is_none() && m["id"].is_null() && m.get("error").is_some()
        })
    }

    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Closes the server's input.
    pub fn close_input(&mut self) {
        self.stdin = None;
    }

    /// Waits for the process to end, failing after [`WAIT`].
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for StdioServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
