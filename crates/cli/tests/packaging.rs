//! The packaging and editor files in the repository are well-formed: the Nix files parse with
//! the real Nix (what the flake's outputs are is tested in flake.rs), the Helix configuration
//! is valid TOML naming `infra-check lsp`.

use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn nix_packaging_files_parse() {
    if Command::new("nix-instantiate")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("INFRA_CHECK_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "nix-instantiate (Debian nix-bin) is required"
        );
        eprintln!("skipped: nix-instantiate (Debian package nix-bin) is not installed");
        return;
    }
    // The root flake and every file under nix/.
    let mut files = vec!["flake.nix".to_owned()];
    for entry in std::fs::read_dir(repo().join("nix")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".nix") {
            files.push(format!("nix/{name}"));
        }
    }
    for required in ["nix/package.nix", "nix/flake-module.nix"] {
        assert!(files.iter().any(|f| f == required), "{required} is missing");
    }
    for f in files {
        let out = Command::new("nix-instantiate")
            .args(["--parse"])
            .arg(repo().join(&f))
            .env("HOME", std::env::temp_dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn editor_configurations_start_the_language_server() {
    let helix = std::fs::read_to_string(repo().join("editors/helix/languages.toml")).unwrap();
    let parsed: toml::Table = toml::from_str(&helix).unwrap();
    assert_eq!(
        parsed["language-server"]["infra-check"]["command"].as_str(),
        Some("infra-check")
    );
    for f in [
        "editors/neovim/infra-check.lua",
        "editors/emacs/infra-check.el",
    ] {
        let text = std::fs::read_to_string(repo().join(f)).unwrap();
        assert!(
            text.contains("\"lsp\"") || text.contains("'lsp'"),
            "{f} does not run `infra-check lsp`"
        );
    }
}
