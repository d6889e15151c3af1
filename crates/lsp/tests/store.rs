//! The language server and the Nix store: an input Nix fetches while the server runs (a
//! `nix develop` in a terminal) is read from the next save on, without a restart.

mod common;

use common::client::{file_uri, Client};
use infra_check_analysis::inputs::store_path::{parse_nar_hash, source_store_path};
use serde_json::{json, Value};

const MACHINES: &str = r#"{ config, inputs, ... }:
{
  clan.meta.name = "fixture";
  clan.inventory.machines.vault = { };
  flake.modules.nixos.reads = { config, ... }: {
    services.b.keyFile = config.clan.core.vars.generators.nowhere.files.key.path;
  };
  clan.machines.vault.imports = [
    config.flake.modules.nixos.reads
    inputs.extmod.nixosModules.keys
  ];
}
"#;

const FLAKE: &str = r#"{
  inputs = {
    flake-parts.url = "github:hercules-ci/flake-parts";
    import-tree.url = "github:vic/import-tree";
    extmod.url = "github:example/extmod";
  };
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
"#;

fn node(repo: &str, hash: &str) -> Value {
    json!({
        "locked": { "type": "github", "owner": "example", "repo": repo,
                    "rev": "1111111111111111111111111111111111111111",
                    "narHash": hash, "lastModified": 1783862144 },
        "original": { "type": "github", "owner": "example", "repo": repo }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_nix_fetches_while_the_server_runs_is_read_from_the_next_save() {
    if std::env::var_os("NIX_STORE_DIR").is_some() {
        // The server prefers it to infra-check.toml, which names this test's store.
        eprintln!("skipped: NIX_STORE_DIR is set, and this test names its own store");
        return;
    }
    let store = tempfile::tempdir().unwrap();
    let store_dir = store.path().to_str().unwrap().to_owned();
    let hash = format!("sha256-{}E=", "C".repeat(42));
    let placeholder = format!("sha256-{}=", "A".repeat(43));
    let lock = json!({
        "version": 7,
        "root": "root",
        "nodes": {
            "root": { "inputs": {
                "flake-parts": "flake-parts", "import-tree": "import-tree", "extmod": "extmod",
            } },
            "flake-parts": node("flake-parts", &placeholder),
            "import-tree": node("import-tree", &placeholder),
            "extmod": node("extmod", &hash),
        }
    });
    let key = "[ { \"publickey\": \"age1xyz\", \"type\": \"age\" } ]\n";
    let toml = format!("store = \"{store_dir}\"\n");
    let lock_text = serde_json::to_string_pretty(&lock).unwrap();
    let root = common::client::fleet(&[
        ("flake.nix", FLAKE),
        ("flake.lock", &lock_text),
        ("infra-check.toml", &toml),
        ("modules/machines.nix", MACHINES),
        ("sops/machines/vault/key.json", key),
        ("sops/users/admin/key.json", key),
    ]);
    let mut client = Client::start(Some(root.path())).await;
    let uri = file_uri(&root, "modules/machines.nix");
    client.open(&uri, 1, MACHINES).await;
    // `extmod` is not in the store: vault imports a module nobody can read, so the read of
    // `nowhere` may be of a generator it declares.
    let first = client.settle(&uri).await.unwrap_or_default();
    assert!(
        !first
            .iter()
            .any(|d| d["code"] == "vars/undeclared-reference"),
        "{first:#?}"
    );
    // Nix fetches it: a flake whose `keys` module declares nothing.
    let source = source_store_path(&store_dir, &parse_nar_hash(&hash).unwrap());
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(
        std::path::Path::new(&source).join("flake.nix"),
        "{ outputs = _: { nixosModules.keys = { ... }: { }; }; }\n",
    )
    .unwrap();
    let params = json!({ "textDocument": { "uri": uri } });
    client.notify("textDocument/didSave", params).await;
    client
        .wait_for(&uri, |d| {
            d.iter().any(|d| d["code"] == "vars/undeclared-reference")
        })
        .await;
}
