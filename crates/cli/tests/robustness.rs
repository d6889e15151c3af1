//! The binary never panics on what it finds on disk: invalid UTF-8, empty and binary files,
//! dangling symlinks.

use std::process::Command;

#[test]
fn odd_files_on_disk_give_diagnostics_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("flake.nix"),
        "{ outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules); }\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("modules")).unwrap();
    std::fs::write(
        root.join("modules/latin1.nix"),
        b"{ name = \"caf\xe9\"; }\n",
    )
    .unwrap();
    std::fs::write(root.join("modules/empty.nix"), b"").unwrap();
    std::fs::write(
        root.join("modules/binary.nix"),
        [0u8, 159, 146, 150, 255, 0, 1],
    )
    .unwrap();
    std::os::unix::fs::symlink("missing.nix", root.join("modules/dangling.nix")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_infra-check"))
        .args(["check", "--format", "json"])
        .arg(root)
        .output()
        .unwrap();
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "exit {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    // The binary file does not parse; the Latin-1 one parses once decoded leniently.
    assert!(files.contains(&"modules/binary.nix"), "{files:?}");
    assert!(!files.contains(&"modules/latin1.nix"), "{files:?}");
}
