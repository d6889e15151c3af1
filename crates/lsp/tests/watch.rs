//! Changes made on disk outside the editor, on a copy of `examples/fleet`: a client that does
//! not watch files relies on the server's own watch (vars directories, links, new modules, a
//! burst of 500 files); a client that registers watchers gets no second refresh from the
//! server, only the one its notification asks for; a save rescans the disk for both; and a
//! client that refuses the registration gets the server's watch instead.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::client::{file_uri, uri, Client};
use common::stdio::StdioServer;
use serde_json::{json, Value};
use tempfile::TempDir;

const CONFIG: &str = "machines/argon/configuration.nix";
const NODE_ID: &str = "vars/per-machine/argon/node-id";
const ARGON: &str = "modules/machines/nixos/argon/default.nix";
/// The link that makes a zerotier secret decryptable on argon.
const LINK: &str = "vars/shared/zerotier-identity-argon/identity-secret/machines/argon";
const ZEROTIER: &str = "modules/clan/inventory/services/zerotier.nix";

fn fleet_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet")
}

/// Copies a directory tree, keeping links as links (the vars tree is made of them).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let ft = entry.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if ft.is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn fleet_copy() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fleet_src(), dir.path());
    dir
}

fn read(root: &TempDir, rel: &str) -> String {
    std::fs::read_to_string(root.path().join(rel)).unwrap()
}

fn has(code: &'static str) -> impl Fn(&[Value]) -> bool {
    move |d: &[Value]| d.iter().any(|d| d["code"] == code)
}

fn clean(d: &[Value]) -> bool {
    d.is_empty()
}

/// Argon's machine module with `extra` names added to its `with flakeModules; [ … ]` list.
fn argon_importing(root: &TempDir, extra: &[String]) -> String {
    let text = read(root, ARGON);
    let mut names = String::from("        monitoring\n");
    for name in extra {
        names.push_str(&format!("        {name}\n"));
    }
    let edited = text.replacen("        monitoring\n", &names, 1);
    assert_ne!(edited, text, "argon's module lists `monitoring`");
    edited
}

/// Opens `rel` with the text on disk and waits until it is published clean.
async fn open_clean(client: &mut Client, root: &TempDir, rel: &str) -> String {
    let uri = file_uri(root, rel);
    client.open(&uri, 1, &read(root, rel)).await;
    client.wait_for(&uri, clean).await;
    uri
}

/// Reads what the server sends for `window` and fails on a publish for `uri` that `bad`
/// holds for. Only for a short window: absence is not waited for long.
async fn assert_no_publish(
    client: &mut Client,
    uri: &str,
    window: Duration,
    bad: impl Fn(&[Value]) -> bool,
) {
    let deadline = Instant::now() + window;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Some(msg) = client.next_message(left).await else {
            break;
        };
        if let Some(diags) = common::client::published_for(&msg, uri) {
            assert!(!bad(&diags), "an unexpected refresh published {diags:#?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_client_watchers_vars_directories_and_links_changed_on_disk_are_seen() {
    let root = fleet_copy();
    let mut client = Client::start(Some(root.path())).await;
    let config = open_clean(&mut client, &root, CONFIG).await;

    // A generator's directory removed outside the editor. The removal takes several steps
    // (its files, then the directory), and the server may publish a state in between (a
    // file of the generator missing): what counts is that the generator is reported missing.
    std::fs::remove_dir_all(root.path().join(NODE_ID)).unwrap();
    client
        .wait_for(&config, |diags: &[Value]| {
            diags.iter().any(|d| {
                d["code"] == "vars/missing"
                    && d["message"].as_str().is_some_and(|m| {
                        m.starts_with("Machine `argon` needs the generator `node-id`")
                    })
            })
        })
        .await;
    // Generated again.
    copy_dir(&fleet_src().join(NODE_ID), &root.path().join(NODE_ID));
    client.wait_for(&config, clean).await;

    // The link that gives argon access to a secret, removed and made again.
    let zerotier = file_uri(&root, ZEROTIER);
    let link = root.path().join(LINK);
    let target = std::fs::read_link(&link).unwrap();
    std::fs::remove_file(&link).unwrap();
    client.wait_for(&zerotier, has("vars/not-deployed")).await;
    std::os::unix::fs::symlink(&target, &link).unwrap();
    client.wait_for(&zerotier, clean).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_client_watchers_a_new_module_file_defines_what_an_open_buffer_imports() {
    let root = fleet_copy();
    let mut client = Client::start(Some(root.path())).await;
    let argon = file_uri(&root, ARGON);
    // The buffer imports a module nobody defines yet.
    let buffer = argon_importing(&root, &["alerting".into()]);
    client.open(&argon, 1, &buffer).await;
    let diags = client.wait_for(&argon, has("module/undefined")).await;
    assert_eq!(diags.len(), 1, "{diags:#?}");

    // A new file defines it; at the same moment the file on disk is changed to import another
    // missing module, which the buffer (what the editor shows) does not.
    std::fs::write(
        root.path().join("modules/nixos/alerting.nix"),
        "{\n  flake.modules.nixos.alerting = { };\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.path().join(ARGON),
        argon_importing(&root, &["not-in-the-buffer".into()]),
    )
    .unwrap();
    client.wait_for(&argon, clean).await;
    assert_eq!(
        client.settle(&argon).await,
        None,
        "the buffer's text is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_client_watchers_a_burst_of_500_files_is_a_few_refreshes() {
    const N: usize = 500;
    let root = fleet_copy();
    let mut client = Client::start(Some(root.path())).await;
    let argon = file_uri(&root, ARGON);
    let names: Vec<String> = (0..N).map(|i| format!("burst{i}")).collect();
    client
        .open(&argon, 1, &argon_importing(&root, &names))
        .await;
    let diags = client
        .wait_for(&argon, |d| {
            d.len() == N && d.iter().all(|d| d["code"] == "module/undefined")
        })
        .await;
    assert_eq!(diags.len(), N);

    // A checkout writes 500 modules at once, each defining one of them.
    let dir = root.path().join("modules/burst");
    std::fs::create_dir(&dir).unwrap();
    for name in &names {
        std::fs::write(
            dir.join(format!("{name}.nix")),
            format!("{{\n  flake.modules.nixos.{name} = {{ }};\n}}\n"),
        )
        .unwrap();
    }
    // Every intermediate state of argon's imports is a different list: count them.
    let deadline = tokio::time::Instant::now() + common::client::WAIT;
    let mut publishes = 0;
    while !client.view[&argon].is_empty() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = client
            .next_message(left)
            .await
            .unwrap_or_else(|| panic!("argon still has {:#?}", client.view[&argon].len()));
        if common::client::published_for(&msg, &argon).is_some() {
            publishes += 1;
        }
    }
    assert!(
        publishes < 20,
        "{publishes} publishes for argon after writing {N} files"
    );
}

fn watching_client() -> Value {
    json!({ "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_watches_files_gets_no_second_refresh_and_a_save_rescans() {
    let root = fleet_copy();
    let mut client = Client::start_with(Some(root.path()), watching_client()).await;
    let config = open_clean(&mut client, &root, CONFIG).await;
    while !client.logs.iter().any(|l| l.starts_with("loaded ")) {
        client.next_message(common::client::WAIT).await.unwrap();
    }
    assert!(
        !client
            .logs
            .iter()
            .any(|l| l.contains("for changes on disk")),
        "{:#?}",
        client.logs
    );

    // Removed on disk, and the client does not say so: the server does not look by itself.
    std::fs::remove_dir_all(root.path().join(NODE_ID)).unwrap();
    assert_no_publish(
        &mut client,
        &config,
        Duration::from_millis(1500),
        has("vars/missing"),
    )
    .await;
    assert_eq!(client.view[&config], Vec::<Value>::new());

    // The client's notification is applied.
    let dir = root.path().join(NODE_ID);
    let params = json!({ "changes": [{ "uri": uri(&dir), "type": 3 }] });
    client
        .notify("workspace/didChangeWatchedFiles", params)
        .await;
    client.wait_for(&config, has("vars/missing")).await;

    // Generated again in a terminal, unannounced; saving any file sees it.
    copy_dir(&fleet_src().join(NODE_ID), &dir);
    let params = json!({ "textDocument": { "uri": config } });
    client.notify("textDocument/didSave", params).await;
    client.wait_for(&config, clean).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_rescans_the_disk_for_a_client_without_watchers_too() {
    let root = fleet_copy();
    let mut client = Client::start(Some(root.path())).await;
    let config = open_clean(&mut client, &root, CONFIG).await;
    std::fs::remove_dir_all(root.path().join(NODE_ID)).unwrap();
    let params = json!({ "textDocument": { "uri": config } });
    client.notify("textDocument/didSave", params).await;
    client.wait_for(&config, has("vars/missing")).await;
}

/// Over standard input and output with the real binary: the client offers to watch files but
/// refuses the registration, so the server watches the disk itself.
#[test]
fn a_refused_registration_falls_back_to_the_server_s_watch() {
    let root = fleet_copy();
    let root_path = root.path().canonicalize().unwrap();
    let root_uri = uri(&root_path);
    let mut server = StdioServer::spawn();
    let init = server.request(
        "initialize",
        json!({ "capabilities": watching_client(), "rootUri": root_uri,
                "workspaceFolders": [{ "uri": root_uri, "name": "fleet" }] }),
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "infra-check");
    server.notify("initialized", json!({}));
    let registration = server.wait_for("client/registerCapability", |m| {
        m["method"] == "client/registerCapability"
    });
    server.send_json(&json!({ "jsonrpc": "2.0", "id": registration["id"],
        "error": { "code": -32601, "message": "dynamic registration is not supported here" } }));
    let watching = format!("watching {} for changes on disk", root_path.display());
    server.wait_for("the server's watch", |m| {
        m["method"] == "window/logMessage" && m["params"]["message"] == watching.as_str()
    });

    let config = uri(&root_path.join(CONFIG));
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": config, "languageId": "nix", "version": 1,
                                  "text": read(&root, CONFIG) } }),
    );
    std::fs::remove_dir_all(root_path.join(NODE_ID)).unwrap();
    server.wait_for("vars/missing for argon", |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == config.as_str()
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| has("vars/missing")(d))
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_right_after_the_first_check_is_seen_while_the_watch_is_still_starting() {
    // Twenty thousand directories take the watch longer to register than the first check of
    // this small fleet takes: the change below is made before the watch is (likely) in place,
    // and must be seen either way (by the watch, or by the rescan that follows it).
    let root = fleet_copy();
    for i in 0..400 {
        for j in 0..50 {
            std::fs::create_dir_all(root.path().join(format!("docs/d{i}/e{j}"))).unwrap();
        }
    }
    let mut client = Client::start(Some(root.path())).await;
    let config = open_clean(&mut client, &root, CONFIG).await;
    std::fs::remove_dir_all(root.path().join(NODE_ID)).unwrap();
    client.wait_for(&config, has("vars/missing")).await;
    // Generated again: seen by the watch, which is in place by now.
    copy_dir(&fleet_src().join(NODE_ID), &root.path().join(NODE_ID));
    client.wait_for(&config, clean).await;
}
