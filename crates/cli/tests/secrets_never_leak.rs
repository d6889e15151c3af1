//! No command ever prints a secret. A copy of the example fleet gets a unique marker written in
//! plain text into a per-machine and a shared vars `secret` file (where sops-encrypted JSON
//! belongs); every command in every format must then run without the marker, or any part of
//! it, showing up on standard output or standard error, while `check` still reports exactly
//! those two files as `vars/plaintext-secret`.

mod common;

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;

use common::{command, fleet_copy, path_str};
use serde_json::Value;

/// A secret file of one machine and one shared by several.
const PER_MACHINE: &str = "vars/per-machine/argon/openssh/ssh.id_ed25519/secret";
const SHARED: &str = "vars/shared/user-password-ada/user-password/secret";

/// 32 random hex digits (std's randomly seeded hasher, twice).
fn random_hex() -> String {
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        );
        h.write_u32(std::process::id());
        h.finish()
    };
    format!("{:016x}{:016x}", word(), word())
}

/// Writes the marker as a plain-text secret: on the first line, the way a leaked password
/// would be, and again further down.
fn plant(root: &Path, rel: &str, marker: &str) {
    let path = root.join(rel);
    assert!(
        path.is_file() && !path.is_symlink(),
        "{rel} must be a regular file in the fleet"
    );
    std::fs::write(&path, format!("{marker}\nuser = \"{marker}\";\n{marker}")).unwrap();
}

#[test]
fn no_command_prints_a_plaintext_secret() {
    let hex = random_hex();
    let marker = format!("INFRA-CHECK-LEAK-CANARY-{hex}");
    let dir = fleet_copy();
    plant(dir.path(), PER_MACHINE, &marker);
    plant(dir.path(), SHARED, &marker);
    let root = path_str(dir.path());

    let invocations: Vec<Vec<&str>> = vec![
        vec!["check", root],
        vec!["check", root, "--format", "human"],
        vec!["check", root, "--format", "json"],
        vec!["check", root, "--format", "sarif"],
        vec!["check", root, "--format", "github"],
        vec!["check", root, "--deny-warnings"],
        vec!["machines", root],
        vec!["machines", root, "--format", "table"],
        vec!["machines", root, "--format", "json"],
        vec!["graph", root],
        vec!["graph", root, "--format", "mermaid"],
        vec!["graph", root, "--format", "dot"],
        vec!["vars", root],
        vec!["vars", root, "--format", "table"],
        vec!["vars", root, "--format", "json"],
        vec!["vars", root, "--machine", "argon"],
        vec!["vars", root, "--machine", "argon", "--format", "json"],
        vec!["vars", root, "--machine", "radon", "--format", "table"],
        vec!["vars", root, "--machine", "argn"],
        vec!["explain", "vars/plaintext-secret"],
    ];
    let mut check_json = None;
    for args in &invocations {
        // Also as GitHub Actions would run it, where paths get the workspace prefix.
        for github in [false, true] {
            let mut cmd = command();
            if github {
                cmd.env("GITHUB_WORKSPACE", dir.path());
            }
            let out = cmd.args(args).output().expect("run infra-check");
            let status = out.status.code();
            assert!(
                matches!(status, Some(0..=2)),
                "{args:?} ended with {:?}",
                out.status
            );
            for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                let text = String::from_utf8_lossy(bytes);
                assert!(
                    !text.contains(&marker) && !text.contains(&hex) && !text.contains(&hex[..12]),
                    "`infra-check {}` printed the secret on {stream}",
                    args.join(" ")
                );
                assert!(
                    !text.contains("LEAK-CANARY"),
                    "`infra-check {}` printed part of the secret on {stream}",
                    args.join(" ")
                );
            }
            // Every command prints something, except the usage error of an unknown machine.
            if !args.contains(&"argn") {
                assert!(
                    !out.stdout.is_empty(),
                    "`infra-check {}` printed nothing",
                    args.join(" ")
                );
            }
            if args[..] == ["check", root, "--format", "json"] && !github {
                check_json = Some(out.stdout.clone());
            }
        }
    }

    let doc: Value = serde_json::from_slice(&check_json.unwrap()).unwrap();
    let plaintext: BTreeSet<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "vars/plaintext-secret")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(plaintext, BTreeSet::from([PER_MACHINE, SHARED]));
}
