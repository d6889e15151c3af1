//! Helix cannot be installed where the tests run (Debian does not package it), so this checks
//! what Helix would read from the shipped `editors/helix/languages.toml`: a TOML document that
//! declares the `infra-check lsp` server and adds it to Nix files beside nil, with the flake
//! as the root marker.

mod common;

use common::editor;

#[test]
fn helix_languages_toml_declares_infra_check_beside_nil_for_nix() {
    let path = editor::shipped("helix/languages.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));

    let server = &doc["language-server"]["infra-check"];
    assert_eq!(server["command"].as_str(), Some("infra-check"), "{server}");
    assert_eq!(
        server["args"].as_array().unwrap(),
        &vec![toml::Value::from("lsp")]
    );

    let languages = doc["language"].as_array().unwrap();
    assert_eq!(languages.len(), 1, "{text}");
    let nix = &languages[0];
    assert_eq!(nix["name"].as_str(), Some("nix"));
    let servers: Vec<&str> = nix["language-servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(servers.contains(&"infra-check"), "{servers:?}");
    assert!(
        servers.contains(&"nil"),
        "beside nil, not instead: {servers:?}"
    );
    let roots: Vec<&str> = nix["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(roots, ["flake.nix"]);
}
