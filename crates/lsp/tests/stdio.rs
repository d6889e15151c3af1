//! The real server binary over standard input and output, fed what a broken or hostile client
//! could send: every malformed message is answered (a parse error or an invalid request) and
//! the server goes on answering the next valid request; `exit` and the end of input still
//! stop it.

mod common;

use common::stdio::{frame, StdioServer};
use serde_json::{json, Value};
use tower_lsp_server::ls_types::Uri;

fn fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::write_fleet(dir.path());
    dir
}

fn uri_of(root: &tempfile::TempDir, rel: &str) -> String {
    Uri::from_file_path(root.path().canonicalize().unwrap().join(rel))
        .unwrap()
        .as_str()
        .to_owned()
}

/// The server answers a real request on the fleet: it is alive and still serving.
fn assert_serving(server: &mut StdioServer, web: &str, after: &str) {
    let symbols = server.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": web } }),
    );
    assert!(
        symbols["result"].is_array(),
        "after {after}: documentSymbol answered {symbols}"
    );
    let found = server.request("workspace/symbol", json!({ "query": "base" }));
    let names: Vec<&str> = found["result"]
        .as_array()
        .unwrap_or_else(|| panic!("after {after}: workspace/symbol answered {found}"))
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&"flake.modules.nixos.base"),
        "after {after}: {names:?}"
    );
    assert!(server.is_alive(), "after {after}");
}

#[test]
fn malformed_messages_are_answered_and_the_server_keeps_serving() {
    let root = fleet();
    let web = uri_of(&root, "modules/machines/web.nix");
    let mut server = StdioServer::initialized(root.path());
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": web, "languageId": "nix", "version": 1,
                                  "text": common::WEB } }),
    );
    assert_serving(&mut server, &web, "opening a document");

    let shutdown_in_body = br#"{"jsonrpc":"2.0","id":99,"method":"shutdown"}"#;
    let mut no_length = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n".to_vec();
    no_length.extend_from_slice(shutdown_in_body);
    let mut bad_length = b"Content-Length: twelve\r\n\r\n".to_vec();
    bad_length.extend_from_slice(shutdown_in_body);
    // (what, bytes, error code, id of the error response)
    let cases: Vec<(&str, Vec<u8>, i64, Value)> = vec![
        (
            "a body that is not JSON",
            frame(b"{not json"),
            -32700,
            Value::Null,
        ),
        ("an empty body", frame(b""), -32700, Value::Null),
        ("a JSON array", frame(b"[1, 2]"), -32600, Value::Null),
        ("an empty JSON array", frame(b"[]"), -32600, Value::Null),
        ("a JSON string", frame(b"\"hello\""), -32600, Value::Null),
        (
            "a header without Content-Length",
            no_length,
            -32700,
            Value::Null,
        ),
        (
            "an unreadable Content-Length",
            bad_length,
            -32700,
            Value::Null,
        ),
        (
            "text that is not a header",
            b"hello\r\n\r\n".to_vec(),
            -32700,
            Value::Null,
        ),
        (
            "JSON nested 100,000 deep",
            frame("[".repeat(100_000).as_bytes()),
            -32700,
            Value::Null,
        ),
        (
            "a request with the wrong jsonrpc version",
            frame(br#"{"jsonrpc":"1.0","id":"v","method":"shutdown"}"#),
            -32600,
            json!("v"),
        ),
        (
            "a request whose method is a number",
            frame(br#"{"jsonrpc":"2.0","id":7,"method":7}"#),
            -32600,
            json!(7),
        ),
        (
            "a request whose params are a number",
            frame(br#"{"jsonrpc":"2.0","id":8,"method":"shutdown","params":1}"#),
            -32600,
            json!(8),
        ),
        (
            "a response without an id",
            frame(br#"{"jsonrpc":"2.0","result":1}"#),
            -32600,
            Value::Null,
        ),
    ];
    for (what, bytes, code, id) in cases {
        assert!(server.send_raw(&bytes), "{what}: the server reads input");
        let answer = if id.is_null() {
            server.null_id_error()
        } else {
            server.response(&id)
        };
        assert_eq!(answer["error"]["code"], code, "{what}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}: {answer}"
        );
        // Also proves that a `shutdown` inside a rejected message was not run: after one,
        // requests are refused.
        assert_serving(&mut server, &web, what);
    }

    // Text with a lone surrogate: the change is applied (with U+FFFD) and requests still work,
    // positions after it included.
    let lone = r#"{ config, ... }: # \ud800 and \udc00
{
  flake.modules.nixos."machines/nixos/web" = { imports = [ config.flake.modules.nixos.base ]; };
}
"#;
    let change = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{web}","version":2}},"contentChanges":[{{"text":"{}"}}]}}}}"#,
        lone.replace('\n', "\\n").replace('"', "\\\"")
    );
    assert!(change.contains(r"\ud800"), "{change}");
    assert!(server.send_raw(&frame(change.as_bytes())));
    assert_serving(&mut server, &web, "a didChange holding a lone surrogate");
    let base = lone.lines().nth(2).unwrap().find(".base").unwrap() as u32 + 1;
    let definition = server.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": web }, "position": { "line": 2, "character": base } }),
    );
    assert_eq!(
        definition["result"][0]["uri"],
        uri_of(&root, "modules/base.nix"),
        "{definition}"
    );
    // A lone surrogate in an incremental change, and in a request's parameters.
    let ranged = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{web}","version":3}},"contentChanges":[{{"range":{{"start":{{"line":0,"character":19}},"end":{{"line":0,"character":20}}}},"text":"\ud83d"}}]}}}}"#
    );
    assert!(server.send_raw(&frame(ranged.as_bytes())));
    let query =
        br#"{"jsonrpc":"2.0","id":"q","method":"workspace/symbol","params":{"query":"\udfff"}}"#;
    assert!(server.send_raw(&frame(query)));
    let answer = server.response(&json!("q"));
    assert!(answer["result"].is_array(), "{answer}");
    // Bytes that are not UTF-8.
    let query = b"{\"jsonrpc\":\"2.0\",\"id\":\"u\",\"method\":\"workspace/symbol\",\"params\":{\"query\":\"\xff\"}}";
    assert!(server.send_raw(&frame(query)));
    let answer = server.response(&json!("u"));
    assert!(answer["result"].is_array(), "{answer}");
    assert_serving(&mut server, &web, "lone surrogates and invalid UTF-8");

    // A well-formed exit still stops it, after everything above.
    let shutdown = server.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null, "{shutdown}");
    server.notify("exit", Value::Null);
    assert!(server.wait_exit().success());
}

#[test]
fn exit_stops_the_server() {
    let root = fleet();
    let mut server = StdioServer::initialized(root.path());
    let shutdown = server.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    server.notify("exit", Value::Null);
    assert!(server.wait_exit().success());
}

#[test]
fn exit_right_after_garbage_stops_the_server() {
    let mut server = StdioServer::spawn();
    assert!(server.send_raw(b"garbage\r\n\r\n"));
    assert!(server.send_raw(&frame(br#"{"jsonrpc":"2.0","method":"exit"}"#)));
    assert!(server.wait_exit().success());
}

#[test]
fn the_end_of_input_stops_the_server() {
    let root = fleet();
    let mut server = StdioServer::initialized(root.path());
    // Even in the middle of a message.
    assert!(server.send_raw(b"Content-Length: 100\r\n\r\n{"));
    server.close_input();
    assert!(server.wait_exit().success());
}
