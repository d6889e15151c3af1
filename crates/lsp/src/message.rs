//! What a frame's body must be before tower-lsp-server sees it: one JSON-RPC 2.0 request,
//! notification or response. Anything else is answered here, as JSON-RPC says: a body that is
//! not JSON with a parse error (`-32700`), JSON that is not a message with an invalid request
//! (`-32600`), both with `id: null` unless the message's own `id` can be read.
//!
//! Two repairs keep a document's text usable instead of dropping the change that carries it:
//! - a lone UTF-16 surrogate escape (`"\ud800"` without its other half) cannot be held in a Rust
//!   string, and serde_json rejects it; it becomes U+FFFD, the replacement character, as a lossy
//!   UTF-16 decoder does. Both are one UTF-16 unit, so the client's positions after it still
//!   point at the same text;
//! - bytes that are not UTF-8 become U+FFFD as well.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Id, Request, Response};

/// What to do with one body.
#[derive(Debug)]
pub enum Checked {
    /// A well-formed message, serialized again for tower-lsp-server.
    Forward(Vec<u8>),
    /// The error response to send back instead.
    Reject(Response),
}

pub fn error(id: Id, code: ErrorCode, message: impl Into<String>) -> Response {
    Response::from_error(
        id,
        Error {
            code,
            message: Cow::Owned(message.into()),
            data: None,
        },
    )
}

fn invalid(id: Id, message: impl Into<String>) -> Checked {
    Checked::Reject(error(id, ErrorCode::InvalidRequest, message))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The message's id when it is one JSON-RPC allows (a string or an integer).
fn readable_id(map: &Map<String, Value>) -> Option<Id> {
    match map.get("id")? {
        Value::String(s) => Some(Id::String(s.clone())),
        Value::Number(n) => n.as_i64().map(Id::Number),
        Value::Null => Some(Id::Null),
        _ => None,
    }
}

pub fn check(body: &[u8]) -> Checked {
    let text = String::from_utf8_lossy(body);
    let text = replace_lone_surrogates(&text);
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            return Checked::Reject(error(
                Id::Null,
                ErrorCode::ParseError,
                format!("the message is not valid JSON ({e})"),
            ))
        }
    };
    let Value::Object(map) = &value else {
        return invalid(
            Id::Null,
            format!(
                "a message must be a JSON object, not {} (batches are not part of the protocol)",
                kind_of(&value)
            ),
        );
    };
    let id = readable_id(map);
    let reply_to = id.clone().unwrap_or(Id::Null);
    if map.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid(reply_to, "the message must have `\"jsonrpc\": \"2.0\"`");
    }
    if map.contains_key("id") && id.is_none() {
        return invalid(
            Id::Null,
            "the message's `id` must be a string or an integer",
        );
    }
    if let Some(method) = map.get("method") {
        if !method.is_string() {
            return invalid(reply_to, "the message's `method` must be a string");
        }
        if let Some(params) = map.get("params") {
            if !matches!(params, Value::Object(_) | Value::Array(_) | Value::Null) {
                return invalid(
                    reply_to,
                    format!(
                        "the message's `params` must be an object or an array, not {}",
                        kind_of(params)
                    ),
                );
            }
        }
        return match Request::deserialize(&value) {
            Ok(request) => forward(&request),
            Err(_) => invalid(reply_to, "the message is not a valid request"),
        };
    }
    if map.contains_key("result") || map.contains_key("error") {
        return match Response::deserialize(&value) {
            Ok(response) => forward(&response),
            Err(_) => invalid(
                Id::Null,
                "the message is not a valid response: it needs an `id` and either a `result` or an `error` with a `code` and a `message`",
            ),
        };
    }
    invalid(
        reply_to,
        "the message is neither a request (it has no `method`) nor a response (it has no `result` or `error`)",
    )
}

/// Serialized again rather than passed on as received: tower-lsp-server parses the text itself
/// and stops on what it rejects (duplicate keys, for one), so it gets text it wrote itself.
fn forward<T: serde::Serialize>(message: &T) -> Checked {
    match serde_json::to_vec(message) {
        Ok(bytes) => Checked::Forward(bytes),
        Err(e) => Checked::Reject(error(
            Id::Null,
            ErrorCode::InternalError,
            format!("the message could not be passed on ({e})"),
        )),
    }
}

fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = std::str::from_utf8(bytes.get(at..at + 4)?).ok()?;
    u16::from_str_radix(digits, 16).ok()
}

fn is_high(u: u16) -> bool {
    (0xD800..0xDC00).contains(&u)
}

fn is_low(u: u16) -> bool {
    (0xDC00..0xE000).contains(&u)
}

/// `json` with every `\uXXXX` escape of an unpaired surrogate inside a string replaced by
/// `\ufffd`. Other escapes, and anything that is not valid JSON, are left for the parser.
pub fn replace_lone_surrogates(json: &str) -> Cow<'_, str> {
    if !json.contains("\\u") {
        return Cow::Borrowed(json);
    }
    let bytes = json.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                in_string = !in_string;
                i += 1;
            }
            b'\\' if in_string => {
                let unit = (bytes.get(i + 1) == Some(&b'u'))
                    .then(|| hex4(bytes, i + 2))
                    .flatten();
                match unit {
                    Some(u) if is_high(u) => {
                        let paired = bytes.get(i + 6..i + 8) == Some(b"\\u")
                            && hex4(bytes, i + 8).is_some_and(is_low);
                        if paired {
                            i += 12;
                        } else {
                            out.push_str(&json[copied..i]);
                            out.push_str("\\ufffd");
                            i += 6;
                            copied = i;
                        }
                    }
                    Some(u) if is_low(u) => {
                        out.push_str(&json[copied..i]);
                        out.push_str("\\ufffd");
                        i += 6;
                        copied = i;
                    }
                    Some(_) => i += 6,
                    // `\"`, `\\`, `\n`, … (or an invalid escape, for the parser to reject).
                    None => i += 2,
                }
            }
            _ => i += 1,
        }
    }
    if copied == 0 {
        return Cow::Borrowed(json);
    }
    out.push_str(&json[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reject(body: &str) -> Value {
        match check(body.as_bytes()) {
            Checked::Reject(r) => serde_json::to_value(r).unwrap(),
            Checked::Forward(f) => panic!("forwarded {}", String::from_utf8_lossy(&f)),
        }
    }

    fn forwarded(body: &[u8]) -> Value {
        match check(body) {
            Checked::Forward(f) => serde_json::from_slice(&f).unwrap(),
            Checked::Reject(r) => panic!("rejected: {r:?}"),
        }
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        assert_eq!(
            replace_lone_surrogates(r#"{"t":"a\ud800b"}"#),
            r#"{"t":"a\ufffdb"}"#
        );
        assert_eq!(
            replace_lone_surrogates(r#""\udc00\ud83d""#),
            r#""\ufffd\ufffd""#
        );
        // A pair, an escaped backslash before `u`, and text outside strings stay as they are.
        for kept in [
            r#""\ud83d\ude00""#,
            r#""\\ud800""#,
            r#""\u00e9\n\"\ud83d\ude00""#,
        ] {
            assert_eq!(replace_lone_surrogates(kept), kept);
        }
        assert_eq!(
            replace_lone_surrogates(r#""\ud83d\ud83d\ude00""#),
            r#""\ufffd\ud83d\ude00""#
        );
        assert_eq!(replace_lone_surrogates(r#""é\ud800""#), r#""é\ufffd""#);
        let v = forwarded(
            br#"{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"contentChanges":[{"text":"x\ud800"}]}}"#,
        );
        assert_eq!(v["params"]["contentChanges"][0]["text"], "x\u{fffd}");
    }

    #[test]
    fn invalid_utf8_becomes_the_replacement_character() {
        let v = forwarded(b"{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":[\"a\xffb\"]}");
        assert_eq!(v["params"][0], "a\u{fffd}b");
    }

    #[test]
    fn bodies_that_are_not_json_are_parse_errors() {
        for body in [
            "{not json",
            "",
            "{\"jsonrpc\":\"2.0\",",
            "\"\\x\"",
            &"[".repeat(100_000),
        ] {
            let r = reject(body);
            assert_eq!(r["id"], Value::Null);
            assert_eq!(r["error"]["code"], -32700, "{body:.40}");
        }
    }

    #[test]
    fn json_that_is_not_a_message_is_an_invalid_request() {
        let cases = [
            ("[1, 2]", Value::Null),
            ("[]", Value::Null),
            ("5", Value::Null),
            ("null", Value::Null),
            (r#"{"id":1,"method":"x"}"#, json!(1)),
            (r#"{"jsonrpc":"1.0","id":"a","method":"x"}"#, json!("a")),
            (r#"{"jsonrpc":"2.0","id":2,"method":5}"#, json!(2)),
            (
                r#"{"jsonrpc":"2.0","id":3,"method":"x","params":7}"#,
                json!(3),
            ),
            (r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#, Value::Null),
            (r#"{"jsonrpc":"2.0","id":[1],"method":"x"}"#, Value::Null),
            (r#"{"jsonrpc":"2.0","id":4}"#, json!(4)),
            (r#"{"jsonrpc":"2.0","result":1}"#, Value::Null),
            (
                r#"{"jsonrpc":"2.0","id":5,"error":{"code":"x"}}"#,
                Value::Null,
            ),
        ];
        for (body, id) in cases {
            let r = reject(body);
            assert_eq!(r["error"]["code"], -32600, "{body}");
            assert_eq!(r["id"], id, "{body}");
        }
    }

    #[test]
    fn messages_are_forwarded_in_a_form_tower_lsp_server_reads() {
        // A duplicate key would stop tower-lsp-server's own parser; the last one wins here.
        let v = forwarded(br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"shutdown"}"#);
        assert_eq!(v, json!({"jsonrpc":"2.0","id":2,"method":"shutdown"}));
        let v = forwarded(br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
        assert_eq!(v["method"], "initialized");
        let v = forwarded(br#"{"jsonrpc":"2.0","id":7,"result":null}"#);
        assert_eq!(v["id"], 7);
        let v = forwarded(br#"{"jsonrpc":"2.0","id":8,"error":{"code":-1,"message":"no"}}"#);
        assert_eq!(v["error"]["message"], "no");
    }
}
