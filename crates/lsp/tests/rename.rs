//! Rename, hierarchical document symbols and where diagnostics about paths go, through the
//! in-process client of `common/client.rs`.

mod common;

use std::path::Path;

use common::client::*;
use serde_json::{json, Value};
use tempfile::TempDir;

fn fleet_repo() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::write_fleet(dir.path());
    dir
}

fn at(uri: &str, text: &str, needle: &str, delta: usize) -> Value {
    let (line, character) = common::position_of(text, needle, delta);
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

fn rename_params(uri: &str, text: &str, needle: &str, delta: usize, new: &str) -> Value {
    let mut p = at(uri, text, needle, delta);
    p["newName"] = json!(new);
    p
}

/// A client that applies `documentChanges` with file renames.
fn renaming_files() -> Value {
    json!({ "workspace": { "workspaceEdit": {
        "documentChanges": true,
        "resourceOperations": ["create", "rename", "delete"]
    } } })
}

/// Applies `edits` (LSP `TextEdit`s of one file) to `text`.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let col = p["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        // The fleet is ASCII: UTF-16 columns are bytes.
        start + col
    };
    let mut edits: Vec<&Value> = edits.iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    let mut out = text.to_owned();
    for e in edits {
        let (s, end) = (offset(&e["range"]["start"]), offset(&e["range"]["end"]));
        out.replace_range(s..end, e["newText"].as_str().unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_is_renamed_across_files_with_plain_changes() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let web = file_uri(&root, "modules/machines/web.nix");
    let base = file_uri(&root, "modules/base.nix");
    let db = file_uri(&root, "modules/machines/db.nix");

    let prepared = client
        .request(
            "textDocument/prepareRename",
            at(&web, common::WEB, "      base", 7),
        )
        .await;
    assert_eq!(prepared["placeholder"], "base", "{prepared}");
    assert_eq!(
        prepared["range"],
        json!({ "start": { "line": 7, "character": 6 }, "end": { "line": 7, "character": 10 } })
    );
    let result = client
        .request(
            "textDocument/rename",
            rename_params(&web, common::WEB, "      base", 7, "core"),
        )
        .await;
    assert!(result.get("documentChanges").is_none(), "{result}");
    let changes = &result["changes"];
    assert!(apply(common::WEB, changes[&web].as_array().unwrap()).contains("      core\n"));
    assert!(apply(common::BASE, changes[&base].as_array().unwrap())
        .contains("flake.modules.nixos.core = {"));
    assert!(apply(common::DB, changes[&db].as_array().unwrap())
        .contains("config.flake.modules.nixos.core ]"));

    // Not an identifier: cannot be written in the `with` list of web.nix.
    let err = client
        .try_request(
            "textDocument/rename",
            rename_params(&web, common::WEB, "      base", 7, "roles/base"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code.code(), -32803);
    assert!(
        err.message
            .contains("referenced through `with flakeModules;` at modules/machines/web.nix:8"),
        "{}",
        err.message
    );
    // A role cannot be renamed: prepareRename says so.
    let inventory = file_uri(&root, "modules/clan/inventory.nix");
    let err = client
        .try_request(
            "textDocument/prepareRename",
            at(&inventory, common::INVENTORY, "controller", 1),
        )
        .await
        .unwrap_err();
    assert!(err.message.contains("cannot be renamed"), "{}", err.message);
    // Nothing at the cursor: null.
    let nothing = client
        .request(
            "textDocument/prepareRename",
            at(&base, common::BASE, "{", 0),
        )
        .await;
    assert_eq!(nothing, Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_moves_its_vars_only_with_a_client_that_renames_files() {
    let root = fleet_repo();
    let inventory = file_uri(&root, "modules/clan/inventory.nix");
    let params = rename_params(&inventory, common::INVENTORY, "db = { }", 0, "store");

    let mut plain = Client::start(Some(root.path())).await;
    let err = plain
        .try_request("textDocument/rename", params.clone())
        .await
        .unwrap_err();
    assert!(
        err.message.contains("`vars/per-machine/db/`"),
        "{}",
        err.message
    );

    let mut client = Client::start_with(Some(root.path()), renaming_files()).await;
    let result = client.request("textDocument/rename", params).await;
    assert!(result.get("changes").is_none(), "{result}");
    let ops = result["documentChanges"].as_array().unwrap();
    // Text edits first, then the rename of the directory.
    let kinds: Vec<&str> = ops
        .iter()
        .map(|o| o["kind"].as_str().unwrap_or("edit"))
        .collect();
    assert_eq!(kinds.last(), Some(&"rename"), "{result}");
    assert!(
        kinds[..kinds.len() - 1].iter().all(|k| *k == "edit"),
        "{result}"
    );
    let rename = ops.last().unwrap();
    assert_eq!(
        rename["oldUri"],
        uri(&root
            .path()
            .canonicalize()
            .unwrap()
            .join("vars/per-machine/db"))
    );
    assert!(rename["newUri"]
        .as_str()
        .unwrap()
        .ends_with("/vars/per-machine/store"));
    let edited = |rel: &str, text: &str| -> String {
        let u = file_uri(&root, rel);
        let e = ops
            .iter()
            .find(|o| o["textDocument"]["uri"] == u.as_str())
            .unwrap_or_else(|| panic!("no edit of {rel}: {result}"));
        apply(text, e["edits"].as_array().unwrap())
    };
    assert!(edited("modules/clan/inventory.nix", common::INVENTORY).contains("    store = { };"));
    assert!(edited("modules/clan/inventory.nix", common::INVENTORY)
        .contains("roles.peer.machines.store"));
    assert!(edited("modules/clan/machines.nix", common::MACHINES)
        .contains("clan.machines.store.imports"));
    // The machine module named after it follows.
    assert!(edited("modules/machines/db.nix", common::DB).contains("\"machines/nixos/store\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_symbols_are_a_tree_for_clients_that_take_one() {
    let root = fleet_repo();
    let caps = json!({ "textDocument": { "documentSymbol": { "hierarchicalDocumentSymbolSupport": true } } });
    let mut client = Client::start_with(Some(root.path()), caps).await;
    let inventory = file_uri(&root, "modules/clan/inventory.nix");
    let result = client
        .request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": inventory } }),
        )
        .await;
    let top = result.as_array().unwrap_or_else(|| panic!("{result}"));
    let zerotier = top
        .iter()
        .find(|s| s["name"] == "zerotier")
        .unwrap_or_else(|| panic!("{result}"));
    assert!(
        zerotier.get("location").is_none(),
        "a DocumentSymbol: {zerotier}"
    );
    let roles: Vec<(&str, Vec<&str>)> = zerotier["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let members = r["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["name"].as_str().unwrap())
                .collect();
            (r["name"].as_str().unwrap(), members)
        })
        .collect();
    assert_eq!(
        roles,
        [("controller", vec!["web"]), ("peer", vec!["db"])],
        "{result}"
    );
    assert!(
        top.iter().any(|s| s["name"] == "web" && s["kind"] == 23),
        "{result}"
    );
    let web = file_uri(&root, "modules/machines/web.nix");
    let result = client
        .request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": web } }),
        )
        .await;
    let nixos = &result[0];
    assert_eq!(nixos["name"], "nixos", "{result}");
    assert_eq!(
        nixos["children"][0]["name"], "\"machines/nixos/web\"",
        "{result}"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let kind = e.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if kind.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Diagnostics about a vars directory go to the line that declares or needs it, never to the
/// directory's URI, which editors cannot show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_published_for_a_directory() {
    let root = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet");
    copy_tree(&example, root.path());
    // A missing generator's directory and one no generator declares.
    std::fs::remove_dir_all(
        root.path()
            .join("vars/per-machine/bismuth/remote-builder-ssh"),
    )
    .unwrap();
    std::fs::create_dir_all(root.path().join("vars/per-machine/argon/stale/key")).unwrap();
    std::fs::write(
        root.path().join("vars/per-machine/argon/stale/key/value"),
        "x\n",
    )
    .unwrap();
    let mut client = Client::start(Some(root.path())).await;
    let deadline = std::time::Instant::now() + WAIT;
    let mut codes = Vec::new();
    while std::time::Instant::now() < deadline {
        let Some(msg) = client.next_message(QUIET).await else {
            if codes.iter().any(|c| c == "vars/missing") && codes.iter().any(|c| c == "vars/orphan")
            {
                break;
            }
            continue;
        };
        if msg.method() != "textDocument/publishDiagnostics" {
            continue;
        }
        let params = msg.params().unwrap();
        let u = params["uri"].as_str().unwrap();
        let path = infra_check_lsp::convert::uri_to_path(&u.parse().unwrap()).unwrap();
        assert!(
            !path.is_dir(),
            "diagnostics published for a directory: {params}"
        );
        for d in params["diagnostics"].as_array().unwrap() {
            codes.push(d["code"].as_str().unwrap_or("").to_owned());
        }
    }
    assert!(codes.iter().any(|c| c == "vars/missing"), "{codes:?}");
    assert!(codes.iter().any(|c| c == "vars/orphan"), "{codes:?}");
}
