//! In-process protocol tests, through the client of `common/client.rs`.

mod common;

use common::client::*;
use infra_check_lsp::build_service;
use serde_json::{json, Value};
use tempfile::TempDir;
use tower::{Service, ServiceExt};
use tower_lsp_server::jsonrpc::Request;

const BROKEN: &str = "{\n  a = 1;\n  b = \"é😀\" + ;\n}\n";
const CLEAN: &str = "{\n  a = 1;\n}\n";

/// A broken file with `n` clean lines before the error, so each variant fails on its own line.
fn broken_at(n: usize) -> String {
    let mut s = String::from("{\n");
    for i in 0..n {
        s.push_str(&format!("  a{i} = {i};\n"));
    }
    s.push_str("  b = ;\n}\n");
    s
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

// ---------------------------------------------------------------------------------------------
// Requests on a multi-file fleet (tests/common).

fn fleet_repo() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::write_fleet(dir.path());
    dir
}

/// `textDocument/…` parameters at `delta` bytes into `needle` in `text`.
fn at(uri: &str, text: &str, needle: &str, delta: usize) -> Value {
    let (line, character) = common::position_of(text, needle, delta);
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

/// The range of the first `needle` in `text`.
fn range_of(text: &str, needle: &str) -> Value {
    range_in(text, needle, 0, needle.len())
}

/// The range of `len` bytes from `delta` bytes into the first `needle` in `text`.
fn range_in(text: &str, needle: &str, delta: usize, len: usize) -> Value {
    let start = text.find(needle).unwrap() + delta;
    let (l1, c1) = common::line_col(text, start);
    let (l2, c2) = common::line_col(text, start + len);
    json!({ "start": { "line": l1, "character": c1 }, "end": { "line": l2, "character": c2 } })
}

fn uris_of(locations: &Value) -> Vec<String> {
    locations
        .as_array()
        .unwrap_or_else(|| panic!("not a list of locations: {locations}"))
        .iter()
        .map(|l| l["uri"].as_str().unwrap().to_owned())
        .collect()
}

fn codes(diags: &[Value]) -> Vec<&str> {
    diags.iter().map(|d| d["code"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advertises_the_request_capabilities() {
    let root = fleet_repo();
    let (service, _socket) = build_service();
    let mut service = service;
    let params = json!({ "capabilities": {}, "rootUri": uri(root.path()) });
    let request = Request::build("initialize").params(params).id(1).finish();
    let response = service.ready().await.unwrap().call(request).await;
    let (_, result) = response.unwrap().unwrap().into_parts();
    let caps = &result.unwrap()["capabilities"];
    for cap in [
        "definitionProvider",
        "referencesProvider",
        "hoverProvider",
        "documentSymbolProvider",
        "workspaceSymbolProvider",
    ] {
        assert_eq!(caps[cap], true, "{cap}: {caps}");
    }
    assert_eq!(
        caps["completionProvider"]["triggerCharacters"],
        json!([".", "\""])
    );
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_of_a_module_reference_is_its_defining_file() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let web = file_uri(&root, "modules/machines/web.nix");
    let base = file_uri(&root, "modules/base.nix");
    let monitoring = file_uri(&root, "modules/monitoring.nix");

    // Not open: the text on disk. Through `with flakeModules; [ base … ]`.
    let result = client
        .request(
            "textDocument/definition",
            at(&web, common::WEB, "      base", 7),
        )
        .await;
    assert_eq!(uris_of(&result), vec![base.clone()], "{result}");
    assert_eq!(
        result[0]["range"],
        range_of(common::BASE, "base"),
        "the name in `flake.modules.nixos.base`: {result}"
    );

    // Open, with the typo fixed in memory only: positions follow the in-memory text.
    let fixed = common::WEB.replace("monitorng", "monitoring");
    client.open(&web, 1, &format!("\n\n{fixed}")).await;
    let result = client
        .request(
            "textDocument/definition",
            at(&web, &format!("\n\n{fixed}"), "      monitoring", 8),
        )
        .await;
    assert_eq!(uris_of(&result), vec![monitoring], "{result}");

    // The direct `config.flake.modules.nixos.base` of db.nix, at the end of the name.
    let db = file_uri(&root, "modules/machines/db.nix");
    let result = client
        .request(
            "textDocument/definition",
            at(&db, common::DB, "nixos.base ]", 10),
        )
        .await;
    assert_eq!(uris_of(&result), vec![base], "{result}");

    // Nothing there: null.
    let result = client
        .request("textDocument/definition", at(&db, common::DB, "imports", 2))
        .await;
    assert_eq!(result, Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_of_a_machine_in_a_role_is_its_inventory_entry() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let inventory = file_uri(&root, "modules/clan/inventory.nix");
    let result = client
        .request(
            "textDocument/definition",
            at(&inventory, common::INVENTORY, "controller.machines.web", 21),
        )
        .await;
    let locations = result.as_array().unwrap();
    assert_eq!(locations[0]["uri"], inventory, "{result}");
    assert_eq!(
        locations[0]["range"],
        range_of(common::INVENTORY, "web"),
        "the inventory entry `web = {{ … }}` first: {result}"
    );
    // Then its registration and its machine module.
    let uris = uris_of(&result);
    assert!(
        uris.contains(&file_uri(&root, "modules/machines/web.nix")),
        "{result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_of_a_module_are_its_import_sites() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let base = file_uri(&root, "modules/base.nix");
    let web = file_uri(&root, "modules/machines/web.nix");
    let db = file_uri(&root, "modules/machines/db.nix");
    let mut params = at(&base, common::BASE, "nixos.base", 7);
    params["context"] = json!({ "includeDeclaration": false });
    let result = client
        .request("textDocument/references", params.clone())
        .await;
    let mut uris = uris_of(&result);
    uris.sort();
    let mut expected = vec![web.clone(), db.clone()];
    expected.sort();
    assert_eq!(uris, expected, "{result}");
    for l in result.as_array().unwrap() {
        let expected = if l["uri"] == web {
            range_of(common::WEB, "base")
        } else {
            range_of(common::DB, "base")
        };
        assert_eq!(l["range"], expected, "{result}");
    }

    params["context"] = json!({ "includeDeclaration": true });
    let result = client.request("textDocument/references", params).await;
    assert_eq!(uris_of(&result).len(), 3, "{result}");
    assert!(uris_of(&result).contains(&base), "{result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_a_machine_shows_its_class_and_roles() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let inventory = file_uri(&root, "modules/clan/inventory.nix");
    let result = client
        .request(
            "textDocument/hover",
            at(&inventory, common::INVENTORY, "controller.machines.web", 21),
        )
        .await;
    assert_eq!(result["contents"]["kind"], "markdown", "{result}");
    let md = result["contents"]["value"].as_str().unwrap();
    assert!(md.contains("**machine web**"), "{md}");
    assert!(md.contains("class: `nixos`"), "{md}");
    assert!(md.contains("`zerotier/controller`"), "{md}");
    assert_eq!(
        result["range"],
        range_in(common::INVENTORY, "controller.machines.web", 20, 3),
        "{result}"
    );

    // A module: where it is defined and who imports it.
    let web = file_uri(&root, "modules/machines/web.nix");
    let result = client
        .request("textDocument/hover", at(&web, common::WEB, "      base", 7))
        .await;
    let md = result["contents"]["value"].as_str().unwrap();
    assert!(md.contains("Defined in `modules/base.nix`"), "{md}");

    // Nothing to say: null.
    let result = client
        .request("textDocument/hover", at(&web, common::WEB, "imports", 1))
        .await;
    assert_eq!(result, Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_lists_modules_machines_and_quoted_names() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let db = file_uri(&root, "modules/machines/db.nix");
    let typing = common::DB.replace(
        "[ config.flake.modules.nixos.base ]",
        "[ config.flake.modules.nixos. ]",
    );
    client.open(&db, 1, &typing).await;
    let mut params = at(&db, &typing, "nixos. ]", 6);
    params["context"] = json!({ "triggerKind": 2, "triggerCharacter": "." });
    let result = client.request("textDocument/completion", params).await;
    let items = result.as_array().unwrap_or_else(|| panic!("{result}"));
    let base = items
        .iter()
        .find(|i| i["label"] == "base")
        .unwrap_or_else(|| panic!("no `base` in {result}"));
    assert_eq!(base["kind"], 9, "module: {base}");
    assert_eq!(base["insertText"], "base");
    assert_eq!(base["detail"], "nixos module");
    let machine = items
        .iter()
        .find(|i| i["label"] == "machines/nixos/web")
        .unwrap_or_else(|| panic!("{result}"));
    assert_eq!(machine["insertText"], "\"machines/nixos/web\"");

    // A quoted name being typed: the edit replaces the opening quote and the prefix.
    let typing = common::DB.replace(
        "[ config.flake.modules.nixos.base ]",
        "[ config.flake.modules.nixos.\"machines/ ]",
    );
    client.change(&db, 2, &typing).await;
    let params = at(&db, &typing, "/ ]", 1);
    let result = client.request("textDocument/completion", params).await;
    let items = result.as_array().unwrap_or_else(|| panic!("{result}"));
    let labels: Vec<&str> = items.iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        ["machines/nixos/db", "machines/nixos/web"],
        "{result}"
    );
    assert_eq!(items[1]["textEdit"]["newText"], "\"machines/nixos/web\"");
    assert_eq!(
        items[1]["textEdit"]["range"],
        range_in(&typing, "\"machines/ ]", 0, "\"machines/".len()),
        "{result}"
    );

    // Machine names in a role.
    let inventory = file_uri(&root, "modules/clan/inventory.nix");
    let typing = common::INVENTORY.replace("roles.peer.machines.db", "roles.peer.machines.d");
    client.open(&inventory, 1, &typing).await;
    let result = client
        .request(
            "textDocument/completion",
            at(&inventory, &typing, "peer.machines.d", 15),
        )
        .await;
    let items = result.as_array().unwrap_or_else(|| panic!("{result}"));
    assert_eq!(items.len(), 1, "{result}");
    assert_eq!(items[0]["label"], "db");
    assert_eq!(items[0]["kind"], 12, "value: {result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_action_replaces_a_misspelt_module_reference() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let web = file_uri(&root, "modules/machines/web.nix");
    client.open(&web, 1, common::WEB).await;
    let diags = client
        .wait_for(&web, |d| codes(d).contains(&"module/undefined"))
        .await;
    let params = json!({
        "textDocument": { "uri": web },
        "range": range_of(common::WEB, "monitorng"),
        "context": { "diagnostics": diags },
    });
    let result = client.request("textDocument/codeAction", params).await;
    let actions = result.as_array().unwrap_or_else(|| panic!("{result}"));
    assert_eq!(actions.len(), 1, "{result}");
    let action = &actions[0];
    assert_eq!(action["title"], "Replace `monitorng` with `monitoring`.");
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(action["diagnostics"][0]["code"], "module/undefined");
    assert_eq!(
        action["diagnostics"][0], diags[0],
        "the published diagnostic"
    );
    let edits = action["edit"]["changes"][&web].as_array().unwrap();
    assert_eq!(edits.len(), 1, "{result}");
    assert_eq!(edits[0]["newText"], "monitoring");
    assert_eq!(edits[0]["range"], range_of(common::WEB, "monitorng"));

    // Applying it clears the diagnostic.
    client
        .change(&web, 2, &common::WEB.replace("monitorng", "monitoring"))
        .await;
    client
        .wait_for(&web, |d| !codes(d).contains(&"module/undefined"))
        .await;

    // Elsewhere in the file (an empty range on another line): nothing.
    let params = json!({
        "textDocument": { "uri": web },
        "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
        "context": { "diagnostics": [] },
    });
    let result = client.request("textDocument/codeAction", params).await;
    assert_eq!(result, json!([]));

    // `vars/missing` only has a command (`clan vars generate web`): no code action.
    let base = file_uri(&root, "modules/base.nix");
    let diags = client
        .wait_for(&base, |d| codes(d).contains(&"vars/missing"))
        .await;
    let params = json!({
        "textDocument": { "uri": base },
        "range": range_of(common::BASE, "generators.api"),
        "context": { "diagnostics": diags },
    });
    let result = client.request("textDocument/codeAction", params).await;
    assert_eq!(result, json!([]));

    // Only other kinds asked for: nothing.
    client.change(&web, 3, common::WEB).await;
    let params = json!({
        "textDocument": { "uri": web },
        "range": range_of(common::WEB, "monitorng"),
        "context": { "diagnostics": [], "only": ["refactor"] },
    });
    let result = client.request("textDocument/codeAction", params).await;
    assert_eq!(result, Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_and_workspace_symbols() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let base = file_uri(&root, "modules/base.nix");
    let result = client
        .request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": base } }),
        )
        .await;
    let symbols = result.as_array().unwrap_or_else(|| panic!("{result}"));
    let names: Vec<(&str, u64)> = symbols
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["kind"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("flake.modules.nixos.base", 2),
            ("fleet.role", 7),
            ("generator api", 12)
        ],
        "{result}"
    );
    assert_eq!(symbols[0]["containerName"], "nixos");
    assert_eq!(symbols[0]["location"]["uri"], base);
    assert_eq!(
        symbols[0]["location"]["range"],
        range_of(common::BASE, "base")
    );

    let result = client
        .request("workspace/symbol", json!({ "query": "web" }))
        .await;
    let symbols = result.as_array().unwrap_or_else(|| panic!("{result}"));
    let names: Vec<&str> = symbols
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"machine web"), "{names:?}");
    assert!(
        names.contains(&"flake.modules.nixos.\"machines/nixos/web\""),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("db")), "{names:?}");
    let machine = symbols.iter().find(|s| s["name"] == "machine web").unwrap();
    assert_eq!(machine["kind"], 23, "struct: {machine}");
    assert_eq!(
        machine["location"]["uri"],
        file_uri(&root, "modules/clan/inventory.nix")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generating_a_missing_var_on_disk_clears_vars_missing() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let base = file_uri(&root, "modules/base.nix");
    let web = file_uri(&root, "modules/machines/web.nix");
    let missing = |d: &[Value]| {
        d.iter().any(|d| {
            d["code"] == "vars/missing"
                && d["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Machine `web` needs the generator `api`")
        })
    };
    client.wait_for(&base, missing).await;
    // An open buffer with unsaved text (the typo fixed): the reload must keep it.
    let fixed = common::WEB.replace("monitorng", "monitoring");
    client.open(&web, 1, &fixed).await;
    client.wait_for(&web, |d| d.is_empty()).await;

    let value = root.path().join("vars/per-machine/web/api/id/value");
    std::fs::create_dir_all(value.parent().unwrap()).unwrap();
    std::fs::write(&value, "api-web\n").unwrap();
    let params = json!({ "changes": [{ "uri": uri(&value), "type": 1 }] });
    client
        .notify("workspace/didChangeWatchedFiles", params)
        .await;
    client.wait_for(&base, |d| !missing(d)).await;
    assert_eq!(
        client.settle(&web).await,
        None,
        "the open buffer is untouched"
    );
    assert_eq!(client.view[&web], Vec::<Value>::new());

    // Deleting it again brings the diagnostic back.
    std::fs::remove_dir_all(root.path().join("vars/per-machine/web")).unwrap();
    let params = json!({ "changes": [
        { "uri": uri(&root.path().join("vars/per-machine/web")), "type": 3 } ] });
    client
        .notify("workspace/didChangeWatchedFiles", params)
        .await;
    client.wait_for(&base, missing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_in_one_file_republishes_the_others() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let web = file_uri(&root, "modules/machines/web.nix");
    let monitoring = file_uri(&root, "modules/monitoring.nix");
    client
        .wait_for(&web, |d| codes(d) == ["module/undefined"])
        .await;
    // Rename the module to the misspelt name: web.nix is fine now, and nothing is unused.
    let renamed = common::MONITORING.replace("nixos.monitoring", "nixos.monitorng");
    client.open(&monitoring, 1, &renamed).await;
    client.wait_for(&web, |d| d.is_empty()).await;
    client.wait_for(&monitoring, |d| d.is_empty()).await;
    // And back.
    client.change(&monitoring, 2, common::MONITORING).await;
    client
        .wait_for(&web, |d| codes(d) == ["module/undefined"])
        .await;
    client
        .wait_for(&monitoring, |d| codes(d) == ["module/unused"])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_edit_of_an_open_document_is_published_with_its_version() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let db = file_uri(&root, "modules/machines/db.nix");
    client.open(&db, 1, common::DB).await;
    let version_of = |msg: &Request| {
        (msg.method() == "textDocument/publishDiagnostics" && msg.params().unwrap()["uri"] == db)
            .then(|| msg.params().unwrap()["version"].clone())
    };
    for version in 2..5 {
        // A comment: the diagnostics stay the same (none), but the version moves on.
        client
            .change(&db, version, &format!("{}# {version}\n", common::DB))
            .await;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let msg = client.next_message(left).await.expect("a publish");
            if version_of(&msg) == Some(json!(version)) {
                assert_eq!(msg.params().unwrap()["diagnostics"], json!([]));
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_during_a_burst_of_edits_answer_or_are_cancelled() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let web = file_uri(&root, "modules/machines/web.nix");
    client.open(&web, 1, common::WEB).await;
    let mut calls = Vec::new();
    for version in 2..40 {
        let text = format!("{}# {version}\n", common::WEB);
        let params = json!({
            "textDocument": { "uri": web, "version": version },
            "contentChanges": [{ "text": text }] });
        let change = Request::build("textDocument/didChange")
            .params(params)
            .finish();
        calls.push(client.service.ready().await.unwrap().call(change));
        let hover = Request::build("textDocument/hover")
            .params(at(&web, common::WEB, "      base", 7))
            .id(1000 + version as i64)
            .finish();
        calls.push(client.service.ready().await.unwrap().call(hover));
    }
    for response in futures::future::join_all(calls).await {
        let Some(response) = response.unwrap() else {
            continue; // a notification
        };
        match response.into_parts().1 {
            Ok(result) => assert!(
                result["contents"]["value"]
                    .as_str()
                    .unwrap()
                    .contains("flake.modules.nixos.base"),
                "{result}"
            ),
            Err(e) => assert_eq!(
                e.code,
                tower_lsp_server::jsonrpc::ErrorCode::RequestCancelled,
                "{e:?}"
            ),
        }
    }
    // Quiet again: answered.
    let result = client
        .request("textDocument/hover", at(&web, common::WEB, "      base", 7))
        .await;
    assert!(result["contents"]["value"].is_string(), "{result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_progress_of_the_initial_load() {
    let root = fleet_repo();
    let capabilities = json!({ "window": { "workDoneProgress": true } });
    let mut client = Client::start_with(Some(root.path()), capabilities).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut token = None;
    let mut kinds = Vec::new();
    let mut published_before_end = false;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = client
            .next_message(left)
            .await
            .unwrap_or_else(|| panic!("no progress end; saw {kinds:?}"));
        match msg.method() {
            "window/workDoneProgress/create" => {
                assert!(msg.id().is_some(), "a request");
                assert!(kinds.is_empty(), "created first: {kinds:?}");
                token = Some(msg.params().unwrap()["token"].clone());
                kinds.push("create".to_owned());
            }
            "$/progress" => {
                let params = msg.params().unwrap();
                assert_eq!(Some(&params["token"]), token.as_ref(), "{params}");
                let kind = params["value"]["kind"].as_str().unwrap().to_owned();
                if kind == "begin" {
                    assert_eq!(params["value"]["title"], "infra-check");
                }
                kinds.push(kind.clone());
                if kind == "end" {
                    break;
                }
            }
            "textDocument/publishDiagnostics" => published_before_end = true,
            _ => {}
        }
    }
    assert_eq!(kinds, ["create", "begin", "report", "end"]);
    assert!(published_before_end, "the first check ended it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_progress_without_client_support() {
    let root = fleet_repo();
    let mut client = Client::start(Some(root.path())).await;
    let base = file_uri(&root, "modules/base.nix");
    client.wait_for(&base, |d| !d.is_empty()).await;
    while let Some(msg) = client.next_message(QUIET).await {
        assert!(
            !msg.method().contains("rogress"),
            "unexpected {}",
            msg.method()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_watchers_for_vars_sops_and_data_files() {
    let root = fleet_repo();
    let capabilities = json!({
        "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } });
    let mut client = Client::start_with(Some(root.path()), capabilities).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let watchers = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = client.next_message(left).await.expect("a registration");
        if msg.method() == "client/registerCapability" {
            break msg.params().unwrap()["registrations"][0]["registerOptions"]["watchers"].clone();
        }
    };
    for glob in [
        "**/vars/**",
        "**/sops/**",
        "**/flake.lock",
        "**/inventory.json",
        "**/infra-check.toml",
    ] {
        let w = watchers
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["globPattern"] == glob)
            .unwrap_or_else(|| panic!("no watcher for {glob}: {watchers}"));
        assert_eq!(w["kind"], 7, "create, change and delete: {w}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_secret_is_re_read_from_disk() {
    let root = fleet_repo();
    let secret = root.path().join("vars/shared/nobody/x/secret");
    std::fs::create_dir_all(secret.parent().unwrap()).unwrap();
    std::fs::write(&secret, "not encrypted at all\n").unwrap();
    let mut client = Client::start(Some(root.path())).await;
    let secret_uri = file_uri(&root, "vars/shared/nobody/x/secret");
    // A file the server has no text for: its diagnostics sit at 0:0.
    let diags = client
        .wait_for(&secret_uri, |d| codes(d) == ["vars/plaintext-secret"])
        .await;
    assert_eq!(
        diags[0]["range"],
        json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } })
    );
    // The orphaned directory is named at the top of flake.nix (never on the directory).
    let orphan = file_uri(&root, "flake.nix");
    let diags = client
        .wait_for(&orphan, |d| codes(d) == ["vars/orphan"])
        .await;
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("`vars/shared/nobody/`"),
        "{diags:?}"
    );

    std::fs::write(
        &secret,
        r#"{"data": "ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]", "sops": {"age": [], "version": "3.9.0"}}"#,
    )
    .unwrap();
    let params = json!({ "changes": [{ "uri": secret_uri, "type": 2 }] });
    client
        .notify("workspace/didChangeWatchedFiles", params)
        .await;
    client.wait_for(&secret_uri, |d| d.is_empty()).await;
    assert_eq!(
        codes(&client.view[&orphan]),
        ["vars/orphan"],
        "still an orphan"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definition_in_a_file_without_text_is_at_its_start() {
    let root = fleet_repo();
    // A machine known only from its `machines/<name>/` directory.
    let facts = root.path().join("machines/gadget/facts/id");
    std::fs::create_dir_all(facts.parent().unwrap()).unwrap();
    std::fs::write(&facts, "x\n").unwrap();
    let mut client = Client::start(Some(root.path())).await;
    let inventory = file_uri(&root, "modules/clan/inventory.nix");
    let text = common::INVENTORY.replace(
        "roles.peer.machines.db = { };",
        "roles.peer.machines.db = { };\n    roles.peer.machines.gadget = { };",
    );
    client.open(&inventory, 1, &text).await;
    let result = client
        .request(
            "textDocument/definition",
            at(&inventory, &text, "machines.gadget", 10),
        )
        .await;
    let locations = result.as_array().unwrap_or_else(|| panic!("{result}"));
    assert_eq!(locations.len(), 1, "{result}");
    assert_eq!(locations[0]["uri"], file_uri(&root, "machines/gadget"));
    assert_eq!(
        locations[0]["range"],
        json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } })
    );
}
