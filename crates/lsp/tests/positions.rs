//! Every request, at every UTF-16 column (and past the end) of lines holding é (one unit, two
//! bytes), emoji (two units, four bytes), CJK text (one unit, three bytes) and `\r\n`: each
//! answers without an error, and what it finds is found at exactly the columns of its name and
//! reported at exactly those columns. Positions taken as bytes, or as characters, shift all of
//! these.

mod common;

use common::client::*;
use serde_json::{json, Value};

/// A machine module with non-ASCII comments and strings around the names it uses. `monitorng`
/// is a typo for `monitoring` (a `module/undefined` error with a quick fix).
const WEB: &str = r#"{ config, ... }:
let
  mods = config.flake.modules.nixos; # modules — é
in
{
  /* é😀中 */ flake.modules.nixos."machines/nixos/web" = {
    imports = with mods; [ /* é😀中 */ base /* 😀 */ monitorng ]; # 中文
    fleet.role = "wéb 😀 中";
  };
}
"#;

/// The inventory, with `\r\n` line ends.
const INVENTORY: &str = "{\r\n  clan.inventory.machines = {\r\n    web = { tags = [ \"édge\" ]; }; # 😀 中\r\n    db = { };\r\n  };\r\n  clan.inventory.instances.zerotier = {\r\n    roles.controller.machines.web = { }; # 控制 😀 é\r\n    roles.peer.machines.db = { };\r\n  };\r\n}\r\n";

/// The issue's reproducers: completion after `é` and inside emoji. Not valid Nix (`é` is not
/// an identifier), so it is only in the repository of the completion test: a file that does
/// not parse might define anything, which silences `module/undefined`.
const NOTES: &str = "{\n  é = \"ü\";\n  x = \"😀😀\";\n  \"中文\" = 1;\n}\n";

fn repo(extra: &[(&'static str, &'static str)]) -> tempfile::TempDir {
    let files: Vec<(&str, &str)> = common::FILES
        .iter()
        .map(|&(path, text)| match path {
            "modules/machines/web.nix" => (path, WEB),
            "modules/clan/inventory.nix" => (path, INVENTORY),
            _ => (path, text),
        })
        .chain(extra.iter().copied())
        .collect();
    fleet(&files)
}

/// The UTF-16 columns `[start, end)` of the first `needle` on line `line` of `text`.
fn columns(text: &str, line: usize, needle: &str) -> (u32, u32) {
    let l = line_text(text, line);
    let at = l
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not on line {line}"));
    let start = l[..at].encode_utf16().count() as u32;
    (start, start + needle.encode_utf16().count() as u32)
}

/// Line `n` without its terminator (`\n` or `\r\n`).
fn line_text(text: &str, n: usize) -> &str {
    text.split('\n').nth(n).unwrap().trim_end_matches('\r')
}

fn line_units(text: &str, n: usize) -> u32 {
    line_text(text, n).encode_utf16().count() as u32
}

fn range(line: usize, (start, end): (u32, u32)) -> Value {
    json!({ "start": { "line": line, "character": start },
            "end": { "line": line, "character": end } })
}

fn at(uri: &str, line: usize, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

/// Every column of the line, two past its end, and far past it.
fn every_column(text: &str, line: usize) -> Vec<u32> {
    (0..=line_units(text, line) + 2).chain([999]).collect()
}

/// Whether `col` is a character boundary of the line (not between the halves of a pair).
fn is_boundary(text: &str, line: usize, col: u32) -> bool {
    let units: Vec<u16> = line_text(text, line).encode_utf16().collect();
    let col = col as usize;
    col >= units.len() || !(0xDC00..0xE000).contains(&units[col])
}

async fn answer(client: &mut Client, method: &'static str, params: Value) -> Value {
    let what = format!("{method} {params}");
    client
        .try_request(method, params)
        .await
        .unwrap_or_else(|e| panic!("{what} answered an error: {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_references_and_hover_at_every_column() {
    let root = repo(&[]);
    let mut client = Client::start(Some(root.path())).await;
    let web = file_uri(&root, "modules/machines/web.nix");
    let base_file = file_uri(&root, "modules/base.nix");
    let inventory = file_uri(&root, "modules/clan/inventory.nix");
    client.open(&web, 1, WEB).await;

    // `base` on the imports line, after é, an emoji and CJK text.
    let line = 6;
    let base = columns(WEB, line, "base");
    let mut defined_at = Vec::new();
    let mut referenced_at = Vec::new();
    for col in every_column(WEB, line) {
        let result = answer(&mut client, "textDocument/definition", at(&web, line, col)).await;
        if result
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l["uri"] == base_file))
        {
            defined_at.push(col);
        }
        let mut params = at(&web, line, col);
        params["context"] = json!({ "includeDeclaration": false });
        let result = answer(&mut client, "textDocument/references", params).await;
        let here = result
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["uri"] == web && l["range"]["start"]["line"] == line);
        if let Some(here) = here {
            referenced_at.push(col);
            if (base.0..=base.1).contains(&col) {
                assert_eq!(here["range"], range(line, base), "references at {col}");
            }
        }
        answer(&mut client, "textDocument/hover", at(&web, line, col)).await;
    }
    let expected: Vec<u32> = (base.0..=base.1).collect();
    assert_eq!(defined_at, expected, "definition of `base` {base:?}");
    assert!(
        expected.iter().all(|c| referenced_at.contains(c)),
        "references of `base` {base:?}: {referenced_at:?}"
    );

    // The machine `web` in a role, on a `\r\n` line after CJK text: hover at every column.
    let line = 6;
    let name = columns(INVENTORY, line, "machines.web");
    let machine = (name.0 + 9, name.1);
    let mut hovered_at = Vec::new();
    for col in every_column(INVENTORY, line) {
        let result = answer(&mut client, "textDocument/hover", at(&inventory, line, col)).await;
        let value = result["contents"]["value"].as_str().unwrap_or_default();
        if value.contains("**machine web**") {
            hovered_at.push(col);
            assert_eq!(result["range"], range(line, machine), "hover at {col}");
        }
        answer(
            &mut client,
            "textDocument/definition",
            at(&inventory, line, col),
        )
        .await;
    }
    assert_eq!(hovered_at, (machine.0..=machine.1).collect::<Vec<_>>());
    // Its definition is the inventory entry, on a `\r\n` line holding é, emoji and CJK.
    let result = answer(
        &mut client,
        "textDocument/definition",
        at(&inventory, line, machine.0 + 1),
    )
    .await;
    let entry = columns(INVENTORY, 2, "web");
    assert!(
        result
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["range"] == range(2, entry)),
        "{result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_at_every_column() {
    let root = repo(&[("modules/notes.nix", NOTES)]);
    let mut client = Client::start(Some(root.path())).await;
    let web = file_uri(&root, "modules/machines/web.nix");
    let notes = file_uri(&root, "modules/notes.nix");
    client.open(&web, 1, WEB).await;
    client.open(&notes, 1, NOTES).await;

    let check = |text: &str, line: usize, col: u32, result: &Value| {
        // Inside a surrogate pair: the start of the emoji.
        let mut end = col.min(line_units(text, line));
        while !is_boundary(text, line, end) {
            end -= 1;
        }
        for item in result.as_array().into_iter().flatten() {
            let r = &item["textEdit"]["range"];
            assert_eq!(
                r["end"],
                json!({ "line": line, "character": end }),
                "{item}"
            );
            let start = r["start"]["character"].as_u64().unwrap() as u32;
            assert!(start <= end && is_boundary(text, line, start), "{item}");
        }
    };
    for (uri, text, lines) in [
        (&web, WEB, vec![2, 5, 6, 7]),
        (&notes, NOTES, vec![1, 2, 3]),
    ] {
        for line in lines {
            for col in every_column(text, line) {
                let mut params = at(uri, line, col);
                params["context"] = json!({ "triggerKind": 1 });
                let result = answer(&mut client, "textDocument/completion", params).await;
                check(text, line, col, &result);
            }
        }
    }

    // Module names after `bas` of `base`, replacing exactly `bas`.
    let line = 6;
    let (start, _) = columns(WEB, line, "base");
    let result = answer(
        &mut client,
        "textDocument/completion",
        at(&web, line, start + 3),
    )
    .await;
    let items = result.as_array().unwrap_or_else(|| panic!("{result}"));
    let item = items.iter().find(|i| i["label"] == "base").unwrap();
    assert_eq!(item["textEdit"]["range"], range(line, (start, start + 3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_actions_and_symbols_after_non_ascii_text() {
    let root = repo(&[]);
    let mut client = Client::start(Some(root.path())).await;
    let web = file_uri(&root, "modules/machines/web.nix");
    client.open(&web, 1, WEB).await;

    let line = 6;
    let typo = columns(WEB, line, "monitorng");
    let mut fixed_at = Vec::new();
    for col in every_column(WEB, line) {
        for width in [0, 2] {
            let params = json!({
                "textDocument": { "uri": web },
                "range": { "start": { "line": line, "character": col },
                           "end": { "line": line, "character": col + width } },
                "context": { "diagnostics": [] },
            });
            let result = answer(&mut client, "textDocument/codeAction", params).await;
            let Some(action) = result.as_array().and_then(|a| a.first()) else {
                continue;
            };
            if width == 0 {
                fixed_at.push(col);
            }
            let edit = &action["edit"]["changes"][&web][0];
            assert_eq!(edit["newText"], "monitoring");
            assert_eq!(edit["range"], range(line, typo), "at {col}");
            assert_eq!(
                action["diagnostics"][0]["range"],
                range(line, typo),
                "at {col}"
            );
        }
    }
    assert_eq!(fixed_at, (typo.0..=typo.1).collect::<Vec<_>>());

    // The machine module's symbol starts after `/* é😀中 */`.
    let result = answer(
        &mut client,
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": web } }),
    )
    .await;
    let symbol = result
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "flake.modules.nixos.\"machines/nixos/web\"")
        .unwrap_or_else(|| panic!("{result}"))
        .clone();
    let name = columns(WEB, 5, "\"machines/nixos/web\"");
    assert_eq!(symbol["location"]["range"], range(5, name), "{symbol}");
    let result = answer(&mut client, "workspace/symbol", json!({ "query": "web" })).await;
    let machine = result
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "machine web")
        .unwrap_or_else(|| panic!("{result}"))
        .clone();
    assert_eq!(
        machine["location"]["range"],
        range(2, columns(INVENTORY, 2, "web")),
        "{machine}"
    );
}

/// The text a client holds after replacing UTF-16 columns `[a, b)` of line `line` with `new`,
/// positions clamped as the protocol says (past the end: the end of the line; a column inside
/// a surrogate pair is not something a client sends, and is not generated here).
fn client_edit(text: &str, line: usize, (a, b): (u32, u32), new: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if i != line {
            out.push_str(l);
            continue;
        }
        let (content, cr) = match l.strip_suffix('\r') {
            Some(c) => (c, "\r"),
            None => (*l, ""),
        };
        let units: Vec<u16> = content.encode_utf16().collect();
        let (a, b) = ((a as usize).min(units.len()), (b as usize).min(units.len()));
        out.push_str(&String::from_utf16(&units[..a]).unwrap());
        out.push_str(new);
        out.push_str(&String::from_utf16(&units[b..]).unwrap());
        out.push_str(cr);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_and_full_changes_at_every_column() {
    let root = repo(&[]);
    let mut client = Client::start(Some(root.path())).await;
    let web = file_uri(&root, "modules/machines/web.nix");
    let inventory = file_uri(&root, "modules/clan/inventory.nix");
    client.open(&web, 1, WEB).await;
    client.open(&inventory, 1, INVENTORY).await;
    let mut version = 1;

    // Insert `ü😀` at every character boundary of the imports line (and past its end), then
    // take it out again: the text must come back exactly, which the definition of `base` and
    // the range of the quick fix for `monitorng` show. (Most insertions break the syntax, which
    // silences `module/undefined`; the worker's unit tests check each text exactly.)
    let line = 6;
    let base = columns(WEB, line, "base");
    let typo = columns(WEB, line, "monitorng");
    for col in every_column(WEB, line) {
        if !is_boundary(WEB, line, col) {
            continue;
        }
        version += 1;
        client
            .change_range(&web, version, range(line, (col, col)), "ü😀")
            .await;
        answer(&mut client, "textDocument/hover", at(&web, line, col)).await;
        version += 1;
        let end = col.min(line_units(WEB, line));
        client
            .change_range(&web, version, range(line, (end, end + 3)), "")
            .await;
        let result = answer(
            &mut client,
            "textDocument/definition",
            at(&web, line, base.0 + 1),
        )
        .await;
        assert_eq!(
            result[0]["uri"],
            file_uri(&root, "modules/base.nix"),
            "after removing at {col}: {result}"
        );
        let params = json!({
            "textDocument": { "uri": web },
            "range": range(line, (typo.0, typo.0)),
            "context": { "diagnostics": [] },
        });
        let result = answer(&mut client, "textDocument/codeAction", params).await;
        assert_eq!(
            result[0]["edit"]["changes"][&web][0]["range"],
            range(line, typo),
            "after removing at {col}"
        );
    }
    // An insertion that keeps the file valid moves the typo by the client's count.
    let (col, _) = columns(WEB, line, "/* 😀 */");
    version += 1;
    client
        .change_range(&web, version, range(line, (col + 3, col + 3)), "ü中😀")
        .await;
    let inserted = client_edit(WEB, line, (col + 3, col + 3), "ü中😀");
    let moved = columns(&inserted, line, "monitorng");
    let params = json!({
        "textDocument": { "uri": web },
        "range": range(line, (moved.0 + 1, moved.0 + 1)),
        "context": { "diagnostics": [] },
    });
    let result = answer(&mut client, "textDocument/codeAction", params).await;
    assert_eq!(
        result[0]["edit"]["changes"][&web][0]["range"],
        range(line, moved),
        "{result}"
    );
    version += 1;
    client.change(&web, version, WEB).await;

    // On a `\r\n` line: replace the machine name in the role and the rest of the line, with
    // an end far past the line's end (clamped to it, before `\r\n`).
    let line = 6;
    let machine = columns(INVENTORY, line, "machines.web");
    let machine = (machine.0 + 9, machine.1);
    version += 1;
    client
        .change_range(
            &inventory,
            version,
            range(line, (machine.0, machine.1 + 50)),
            "db = { }; # 控制 😀 é",
        )
        .await;
    let edited = client_edit(
        INVENTORY,
        line,
        (machine.0, line_units(INVENTORY, line)),
        "db = { }; # 控制 😀 é",
    );
    let db = columns(&edited, line, "db");
    let result = answer(
        &mut client,
        "textDocument/hover",
        at(&inventory, line, db.0 + 1),
    )
    .await;
    let value = result["contents"]["value"].as_str().unwrap_or_default();
    assert!(value.contains("**machine db**"), "{result}");
    assert_eq!(result["range"], range(line, db), "{result}");

    // A full change with the same content as the file: requests see the new text.
    version += 1;
    let shifted = WEB.replace("/* é😀中 */ base", "/* é😀中中😀é */ base");
    client.change(&web, version, &shifted).await;
    let moved = columns(&shifted, 6, "base");
    let result = answer(&mut client, "textDocument/definition", at(&web, 6, moved.0)).await;
    assert_eq!(result[0]["uri"], file_uri(&root, "modules/base.nix"));
    let result = answer(
        &mut client,
        "textDocument/definition",
        at(&web, 6, moved.0 - 2),
    )
    .await;
    assert_ne!(result[0]["uri"], file_uri(&root, "modules/base.nix"));
}
