//! Locked inputs in the Nix store, against the real Nix (Debian nix-bin): the store path
//! infra-check computes from a `narHash` is the one `nix-store --add-fixed` gives the same
//! tree, in the default store and in a store of another directory, and `infra-check inputs`
//! finds, misses and refuses what a store built by Nix holds. Skipped without Nix (a failure
//! with INFRA_CHECK_REQUIRE_TOOLS=1).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use infra_check_analysis::inputs::store_path::{parse_nar_hash, source_store_path};
use serde_json::{json, Value};
use tempfile::TempDir;

fn have_nix(test: &str) -> bool {
    let found = ["nix", "nix-store", "nix-hash"]
        .iter()
        .all(|t| common::have_tool(t));
    if !found {
        eprintln!("skipped: {test} needs nix, nix-store and nix-hash (Debian package nix-bin)");
    }
    found
}

/// A local store of its own in `dir`, whose store directory is `<dir>/store`: Nix hashes that
/// directory into every path, so its paths differ from /nix/store's for the same tree.
struct Store {
    dir: PathBuf,
}

impl Store {
    fn new(dir: &Path) -> Store {
        Store {
            dir: dir.to_path_buf(),
        }
    }

    fn store_dir(&self) -> String {
        self.dir.join("store").to_str().unwrap().to_owned()
    }

    fn url(&self) -> String {
        let d = self.dir.to_str().unwrap();
        format!("local?store={d}/store&state={d}/state&log={d}/log")
    }

    /// `nix-store --add-fixed --recursive sha256` of `tree` (which must be named `source`, the
    /// name of every fetched input): the path Nix gives it.
    fn add(&self, tree: &Path) -> String {
        nix_store(Some(&self.url()), tree)
    }

    /// Adds `tree` as [`Store::add`] does and gives the `narHash` a lock of it has.
    fn add_locked(&self, tree: &Path) -> String {
        let hash = sri(tree);
        self.add(tree);
        hash
    }
}

fn nix_store(store: Option<&str>, tree: &Path) -> String {
    assert_eq!(tree.file_name().unwrap(), "source");
    let mut cmd = Command::new("nix-store");
    if let Some(url) = store {
        cmd.args(["--store", url]);
    }
    let out = cmd
        .args(["--add-fixed", "--recursive", "sha256"])
        .arg(tree)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run nix-store");
    assert!(
        out.status.success(),
        "nix-store --add-fixed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `nix-hash --type sha256 --base32` of `tree`: the NAR hash, in the `sha256:<base32>` spelling.
fn nar_hash(tree: &Path) -> String {
    let out = Command::new("nix-hash")
        .args(["--type", "sha256", "--base32"])
        .arg(tree)
        .output()
        .expect("run nix-hash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("sha256:{}", String::from_utf8(out.stdout).unwrap().trim())
}

/// `nix hash path` of `tree`: the NAR hash in the SRI spelling `flake.lock` uses
/// (`sha256-<base64>`).
fn sri(tree: &Path) -> String {
    let out = Command::new("nix")
        .args([
            "--extra-experimental-features",
            "nix-command",
            "hash",
            "path",
        ])
        .arg(tree)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run nix hash path");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Tree number `n`: a different mix of files, directories, executables, links and names.
fn write_tree(root: &Path, n: usize) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let source = root.join(format!("t{n}")).join("source");
    std::fs::create_dir_all(&source).unwrap();
    for i in 0..=n % 4 {
        common::write(
            &source,
            &format!("f{i}.nix"),
            &format!("{{ n = {n}; i = {i}; }}\n"),
        );
    }
    if n % 2 == 1 {
        common::write(&source, "nested/deeper/ü name.txt", &"x".repeat(n * 100));
    }
    if n.is_multiple_of(3) {
        std::fs::create_dir_all(source.join("empty")).unwrap();
        let script = source.join("run.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    if n % 4 == 2 {
        std::os::unix::fs::symlink("f0.nix", source.join("link.nix")).unwrap();
        std::os::unix::fs::symlink("/nowhere", source.join("dangling")).unwrap();
    }
    source
}

fn am_root() -> bool {
    // Debian's nix-bin adds to /nix/store only for the user that owns it (root in CI).
    rustix::process::geteuid().is_root()
}

#[test]
fn the_store_path_is_the_one_nix_adds_the_tree_at() {
    if !have_nix("the_store_path_is_the_one_nix_adds_the_tree_at") {
        return;
    }
    let tmp = TempDir::new().unwrap();
    let store = Store::new(&tmp.path().join("other-store"));
    for n in 0..12 {
        let tree = write_tree(tmp.path(), n);
        let base32 = nar_hash(&tree);
        let hash = parse_nar_hash(&base32).expect("nix-hash's base 32 is read");
        assert_eq!(parse_nar_hash(&sri(&tree)), Some(hash), "tree {n}");
        assert_eq!(
            source_store_path(&store.store_dir(), &hash),
            store.add(&tree),
            "tree {n} in a store of another directory"
        );
        if n < 3 && am_root() {
            assert_eq!(
                source_store_path("/nix/store", &hash),
                nix_store(None, &tree),
                "tree {n} in /nix/store"
            );
        }
    }
}

fn node(kind: &str, hash: Option<&str>, extra: Value) -> Value {
    let mut locked =
        json!({ "type": kind, "owner": "o", "repo": "r", "rev": "abc", "lastModified": 1 });
    if let Some(h) = hash {
        locked["narHash"] = json!(h);
    }
    for (k, v) in extra.as_object().unwrap() {
        locked[k] = v.clone();
    }
    json!({ "locked": locked, "original": { "type": kind, "owner": "o", "repo": "r" } })
}

/// A repository whose flake.lock locks: `found` (a flake in the store), `sub` (its flake in a
/// subdirectory), `file-input` (a `file` input), `absent`, `a-file` (a store path that is a
/// file), `loop` (a store path that is a link to itself), `unhashed` (no narHash), and
/// `pinned` that follows `found`.
fn fixture(tmp: &Path) -> (TempDir, Store) {
    let store = Store::new(&tmp.join("store-root"));
    let flake = tmp.join("flake").join("source");
    common::write(&flake, "flake.nix", "{ outputs = _: { }; }\n");
    common::write(&flake, "sub/flake.nix", "{ outputs = _: { }; }\n");
    let flake_hash = sri(&flake);
    store.add(&flake);
    let file = tmp.join("file").join("source");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "not a directory\n").unwrap();
    let file_hash = sri(&file);
    store.add(&file);
    // A hash nothing was added under; and one whose path the test makes a link loop.
    let absent = format!("sha256:{}", "1".repeat(52));
    let looped = format!("sha256:{}1", "0".repeat(51));
    let loop_path = source_store_path(&store.store_dir(), &parse_nar_hash(&looped).unwrap());
    std::os::unix::fs::symlink(&loop_path, &loop_path).unwrap();
    let lock = json!({
        "version": 7,
        "root": "root",
        "nodes": {
            "root": { "inputs": {
                "found": "found", "sub": "sub", "file-input": "file-input", "absent": "absent",
                "a-file": "a-file", "loop": "loop", "unhashed": "unhashed", "pinned": ["found"],
            } },
            "found": node("github", Some(&flake_hash), json!({})),
            "sub": node("github", Some(&flake_hash), json!({ "dir": "sub" })),
            "file-input": node("file", Some(&flake_hash), json!({ "url": "https://x/f" })),
            "absent": node("gitlab", Some(&absent), json!({})),
            "a-file": node("tarball", Some(&file_hash), json!({ "url": "https://x/t.tar.gz" })),
            "loop": node("github", Some(&looped), json!({})),
            "unhashed": node("github", None, json!({})),
        }
    });
    let repo = common::repo(&[("flake.lock", &serde_json::to_string_pretty(&lock).unwrap())]);
    (repo, store)
}

fn inputs(repo: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut cmd = common::command();
    cmd.env_remove("NIX_STORE_DIR")
        .arg("inputs")
        .arg(repo)
        .args(["--format", "json"])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    (
        common::code(&out),
        serde_json::from_slice(&out.stdout).expect("inputs --format json prints JSON"),
    )
}

fn states(doc: &Value) -> Vec<(String, String)> {
    doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap().to_owned(),
                i["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn inputs_shows_what_a_store_made_by_nix_holds() {
    if !have_nix("inputs_shows_what_a_store_made_by_nix_holds") {
        return;
    }
    let tmp = TempDir::new().unwrap();
    let (repo, store) = fixture(tmp.path());
    let dir = store.store_dir();
    let (_, doc) = inputs(repo.path(), &["--store", &dir], &[]);
    assert_eq!(doc["store"], json!(dir));
    assert_eq!(doc["storeFrom"], json!("option"));
    let pairs: Vec<(&str, &str)> = [
        ("a-file", "unusable"),
        ("absent", "absent"),
        ("file-input", "not-locatable"),
        ("found", "found"),
        ("loop", "unusable"),
        ("pinned", "follows"),
        ("sub", "found"),
        ("unhashed", "not-locatable"),
    ]
    .into();
    let expected: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(states(&doc), expected);
    let by_path = |p: &str| {
        doc["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"] == p)
            .unwrap()
            .clone()
    };
    let found = by_path("found");
    assert_eq!(found["hasFlakeNix"], json!(true));
    assert_eq!(found["locked"], json!("github:o/r/abc"));
    assert!(found["storePath"].as_str().unwrap().starts_with(&dir));
    assert_eq!(by_path("sub")["dir"], json!("sub"));
    assert_eq!(by_path("pinned")["follows"], json!("found"));
    assert!(by_path("a-file")["reason"]
        .as_str()
        .unwrap()
        .contains("a regular file, not a directory"));
    assert!(by_path("loop")["reason"]
        .as_str()
        .unwrap()
        .contains("symbolic link"));
    assert!(by_path("unhashed")["reason"]
        .as_str()
        .unwrap()
        .contains("no `narHash`"));

    // The same store named by NIX_STORE_DIR, and by infra-check.toml; the option wins over both.
    let (_, doc) = inputs(repo.path(), &[], &[("NIX_STORE_DIR", &format!("{dir}/"))]);
    assert_eq!(doc["storeFrom"], json!("NIX_STORE_DIR"));
    assert_eq!(states(&doc), expected);
    common::write(
        repo.path(),
        "infra-check.toml",
        &format!("store = \"{dir}\"\n"),
    );
    let (_, doc) = inputs(repo.path(), &[], &[]);
    assert_eq!(doc["storeFrom"], json!("infra-check.toml"));
    assert_eq!(states(&doc), expected);
    // Another store directory hashes to other paths: nothing is found there.
    let (_, doc) = inputs(repo.path(), &["--store", tmp.path().to_str().unwrap()], &[]);
    assert!(states(&doc).iter().all(|(_, s)| s != "found"));
    // --no-store looks at nothing.
    let (_, doc) = inputs(repo.path(), &["--no-store"], &[]);
    assert_eq!(doc["store"], Value::Null);
    assert!(states(&doc)
        .iter()
        .all(|(_, s)| ["off", "follows", "not-locatable"].contains(&s.as_str())));

    // The table says the same for people, and how to fetch what is absent.
    let out = common::command()
        .env_remove("NIX_STORE_DIR")
        .args(["inputs", "--store", &dir])
        .arg(repo.path())
        .output()
        .unwrap();
    let text = common::stdout(&out);
    assert!(text.starts_with("INPUT "), "{text}");
    assert!(
        text.contains(&format!("7 locked inputs in {dir} (from option): 2 found, 1 absent, 2 unusable, 2 not locatable from the lock.")),
        "{text}"
    );
    assert!(text.contains("`nix flake archive`"), "{text}");
    assert!(text.contains("follows found"), "{text}");
}

#[test]
fn a_repository_without_a_lock_or_with_a_broken_one_says_so() {
    let repo = common::repo(&[]);
    let out = common::run(&["inputs", repo.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(common::code(&out), 0, "{}", common::stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["inputs"], json!([]));
    assert!(common::stderr(&out).contains("has no flake.lock"));
    common::write(repo.path(), "flake.lock", "{ \"nodes\": ");
    let out = common::run(&["inputs", repo.path().to_str().unwrap()]);
    assert_eq!(common::code(&out), 2);
    assert!(
        common::stderr(&out).contains("is not valid JSON"),
        "{}",
        common::stderr(&out)
    );
    let out = common::run(&[
        "inputs",
        repo.path().to_str().unwrap(),
        "--store",
        "a",
        "--no-store",
    ]);
    assert_eq!(common::code(&out), 2);
}

/// A clan-core of the test's own making, with two services: `zerotier`, whose roles give darwin
/// machines a module (registered through `lib.modules.importApply`), and `users`, whose role
/// gives only NixOS machines one (registered as a path).
fn write_mini_clan_core(root: &Path) -> PathBuf {
    write_clan_core(
        root,
        &[
            (
                "zerotier",
                "{ lib, ... }: { clan.modules.zerotier = lib.modules.importApply ./default.nix { }; }\n",
                r#"{ ... }:
{
  _class = "clan.service";
  manifest.name = "clan-core/zerotier";
  roles.controller.perInstance.nixosModule = { };
  roles.peer.perInstance = { ... }: {
    nixosModule = { };
    darwinModule = { };
  };
}
"#,
            ),
            (
                "users",
                "{ clan.modules.users = ./default.nix; }\n",
                r#"{ lib, ... }:
{
  _class = "clan.service";
  manifest.name = "clan-core/user";
  roles.default.interface.options.user = lib.mkOption { type = lib.types.str; };
  roles.default.perInstance.nixosModule = { };
}
"#,
            ),
        ],
    )
}

/// A clan-core source (written here) registering `services`: each its name, its
/// `flake-module.nix` and its `default.nix`.
fn write_clan_core(root: &Path, services: &[(&str, &str, &str)]) -> PathBuf {
    let source = root.join("clan-core").join("source");
    common::write(
        &source,
        "flake.nix",
        "{ outputs = inputs: { flakeModules.default = ./flakeModules/clan.nix; }; }\n",
    );
    let imports: Vec<String> = services
        .iter()
        .map(|(name, _, _)| format!("./{name}/flake-module.nix"))
        .collect();
    common::write(
        &source,
        "clanServices/flake-module.nix",
        &format!("{{ ... }}: {{ imports = [ {} ]; }}\n", imports.join(" ")),
    );
    for (name, registration, module) in services {
        common::write(
            &source,
            &format!("clanServices/{name}/flake-module.nix"),
            registration,
        );
        common::write(&source, &format!("clanServices/{name}/default.nix"), module);
    }
    source
}

/// The findings whose `code file:line` starts with `prefix`.
fn only(prefix: &str, found: &[String]) -> Vec<String> {
    found
        .iter()
        .filter(|f| f.starts_with(prefix))
        .cloned()
        .collect()
}

/// The findings whose `code file:line` does not start with `prefix`.
fn except(prefix: &str, found: &[String]) -> Vec<String> {
    found
        .iter()
        .filter(|f| !f.starts_with(prefix))
        .cloned()
        .collect()
}

/// `check --format json` of `repo`: each finding's code and `file:line`, sorted.
fn findings(repo: &Path, args: &[&str]) -> Vec<String> {
    graded_findings(repo, args, false)
}

/// [`findings`], each preceded by its severity when `severity`.
fn graded_findings(repo: &Path, args: &[&str], severity: bool) -> Vec<String> {
    cached_findings(repo, args, severity, None)
}

/// [`graded_findings`] with `cache` as the user's cache directory (`XDG_CACHE_HOME`).
fn cached_findings(
    repo: &Path,
    args: &[&str],
    severity: bool,
    cache: Option<&Path>,
) -> Vec<String> {
    let mut cmd = common::command();
    if let Some(c) = cache {
        cmd.env("XDG_CACHE_HOME", c);
    }
    let out = cmd
        .env_remove("NIX_STORE_DIR")
        .arg("check")
        .arg(repo)
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(common::code(&out), 0 | 1),
        "{}",
        common::stderr(&out)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<String> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}{} {}:{}",
                if severity {
                    format!("{} ", d["severity"].as_str().unwrap())
                } else {
                    String::new()
                },
                d["code"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
                d["range"]["start"]["line"]
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn the_locked_clan_core_in_the_store_decides_which_roles_reach_darwin_machines() {
    if !have_nix("the_locked_clan_core_in_the_store_decides_which_roles_reach_darwin_machines") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::new(&tmp.path().join("store-root"));
    let source = write_mini_clan_core(tmp.path());
    let hash = store.add_locked(&source);

    let repo = tempfile::tempdir().unwrap();
    common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/platform-service-unsupported"),
        repo.path(),
    );
    let lock_path = repo.path().join("flake.lock");
    let mut lock: Value =
        serde_json::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
    lock["nodes"]["clan-core"]["locked"]["narHash"] = json!(hash);
    std::fs::write(&lock_path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();

    // `inputs` says what it read from the source.
    let (_, doc) = inputs(repo.path(), &["--store", &store.store_dir()], &[]);
    let clan_core = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == "clan-core")
        .unwrap();
    assert_eq!(clan_core["state"], "found", "{doc:#}");
    assert_eq!(
        clan_core["clanServices"],
        json!({ "count": 2, "complete": true })
    );
    // What was read is kept in the user's cache directory, and read from there next time.
    let cache = tmp.path().join("cache");
    let env = [("XDG_CACHE_HOME", cache.to_str().unwrap())];
    for cached in [false, true] {
        let (_, doc) = inputs(repo.path(), &["--store", &store.store_dir()], &env);
        let clan_core = doc["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"] == "clan-core")
            .unwrap();
        assert_eq!(clan_core["cached"], json!(cached), "{doc:#}");
        assert_eq!(clan_core["clanServices"]["count"], 2);
        assert!(doc["cache"]
            .as_str()
            .unwrap()
            .starts_with(cache.to_str().unwrap()));
    }

    // Without the source, the built-in catalog says neither service has a darwin module.
    let catalog = findings(repo.path(), &["--no-store"]);
    assert_eq!(
        only("platform/", &catalog),
        [
            "platform/service-unsupported modules/services/users.nix:15",
            "platform/service-unsupported modules/services/zerotier.nix:4",
        ],
        "{catalog:#?}"
    );
    // With it, the pinned zerotier gives `peer` a darwin module: only `users` is reported.
    let store_dir = store.store_dir();
    let read = findings(repo.path(), &["--store", &store_dir]);
    assert_eq!(
        only("platform/", &read),
        ["platform/service-unsupported modules/services/users.nix:15"],
        "{read:#?}"
    );
    // Nothing else changes: the source takes no other finding away and adds none.
    assert_eq!(except("platform/", &read), except("platform/", &catalog));

    // A complete source knows every service and role of its version: a service or a role
    // the catalog has but the pinned clan-core does not is reported only with the source.
    common::write(
        repo.path(),
        "modules/services/more.nix",
        r#"{
  clan.inventory.instances.backup = {
    module.name = "borgbackup";
    roles.client.machines.web = { };
  };
  clan.inventory.instances.zt-moon = {
    module.name = "zerotier";
    roles.moon.machines.db = { };
  };
}
"#,
    );
    assert_eq!(
        only(
            "inventory/unknown",
            &findings(repo.path(), &["--store", &store_dir])
        ),
        [
            "inventory/unknown-role modules/services/more.nix:8",
            "inventory/unknown-service modules/services/more.nix:3",
        ]
    );
    assert_eq!(
        only("inventory/unknown", &findings(repo.path(), &["--no-store"])),
        Vec::<String>::new()
    );
    std::fs::remove_file(repo.path().join("modules/services/more.nix")).unwrap();

    // The same source registered by a module that does not parse is not read: the catalog
    // answers, as when the source is absent.
    let broken = tmp.path().join("broken");
    common::copy_dir(&source, &broken.join("source"));
    common::write(
        &broken.join("source"),
        "clanServices/flake-module.nix",
        "{ imports = [ ",
    );
    let broken_hash = store.add_locked(&broken.join("source"));
    lock["nodes"]["clan-core"]["locked"]["narHash"] = json!(broken_hash);
    std::fs::write(&lock_path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
    assert_eq!(findings(repo.path(), &["--store", &store_dir]), catalog);
}

/// A flake that is not a copy of any real one: its `nixosModules` are named from their paths
/// with `toString` (as srvos names its own), `keys` declares a generator and an option and
/// imports a file of its own, `hardware` imports modules of the platform (`modulesPath`),
/// `opaque` imports what cannot be read.
fn write_module_flake(root: &Path, name: &str) -> PathBuf {
    let source = root.join(name).join("source");
    common::write(
        &source,
        "flake.nix",
        r#"{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs";
  outputs = { self, nixpkgs, ... }:
    let
      modules = import ./lib/expose.nix ./modules [
        ./modules/keys.nix
        ./modules/hardware.nix
        ./modules/opaque
      ];
    in
    {
      nixosModules = modules;
      modules.nixos = modules;
    };
}
"#,
    );
    common::write(
        &source,
        "lib/expose.nix",
        r#"dir: paths:
let
  prefix = builtins.stringLength (toString dir) + 1;
  name = p: builtins.replaceStrings [ ".nix" ] [ "" ] (builtins.substring prefix 1000 (toString p));
in
builtins.listToAttrs (map (p: { name = name p; value = p; }) paths)
"#,
    );
    common::write(
        &source,
        "modules/keys.nix",
        r#"{ lib, ... }:
{
  imports = [ ./common.nix ];
  options.extmod.keys.enable = lib.mkEnableOption "the keys";
  config.clan.core.vars.generators.ext-key = {
    files.key = { };
    script = "openssl rand -hex 32 > $out/key";
  };
}
"#,
    );
    common::write(&source, "modules/common.nix", "{ ... }: { }\n");
    common::write(
        &source,
        "modules/hardware.nix",
        r#"{ modulesPath, ... }:
{
  imports = [
    "${modulesPath}/profiles/minimal.nix"
    (modulesPath + "/installer/scan/not-detected.nix")
  ];
}
"#,
    );
    common::write(
        &source,
        "modules/opaque/default.nix",
        "{ pkgs, ... }: { imports = [ pkgs.extraModule ]; }\n",
    );
    source
}

/// A `github` node of a lock, locked in July 2026 with `hash`.
fn github_node(owner: &str, repo: &str, hash: &str) -> Value {
    json!({
        "locked": { "type": "github", "owner": owner, "repo": repo,
                    "rev": "1111111111111111111111111111111111111111",
                    "narHash": hash, "lastModified": 1783862144 },
        "original": { "type": "github", "owner": owner, "repo": repo }
    })
}

/// The `narHash` of an input whose source no test puts in a store.
const PLACEHOLDER: &str = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// A clan whose machine `vault` imports `extmod`'s `keys` and `hardware`, `relay` its `keys`
/// and `mailer` its `opaque`; each reads a generator nothing declares and defines an option
/// only a module none of them imports declares; `vault` and `mailer` have the vars of a
/// generator nothing declares.
fn module_repo(hash: &str) -> TempDir {
    let lock = json!({
        "version": 7,
        "root": "root",
        "nodes": {
            "root": { "inputs": {
                "nixpkgs": "nixpkgs", "flake-parts": "flake-parts",
                "import-tree": "import-tree", "extmod": "extmod",
            } },
            "nixpkgs": github_node("NixOS", "nixpkgs", PLACEHOLDER),
            "flake-parts": github_node("hercules-ci", "flake-parts", PLACEHOLDER),
            "import-tree": github_node("vic", "import-tree", PLACEHOLDER),
            "extmod": github_node("example", "extmod", hash),
        }
    });
    let machines = r#"{ config, inputs, ... }:
{
  clan.meta.name = "fixture";
  clan.inventory.machines.vault = { };
  clan.inventory.machines.mailer = { };
  clan.inventory.machines.relay = { };
  flake.modules.nixos.reads = { config, ... }: {
    services.a.keyFile = config.clan.core.vars.generators.ext-key.files.key.path;
    services.b.keyFile = config.clan.core.vars.generators.nowhere.files.key.path;
    mine.enable = true;
  };
  flake.modules.nixos.declares = { lib, ... }: {
    options.mine.enable = lib.mkOption { type = lib.types.bool; default = false; description = "Mine."; };
  };
  clan.machines.vault.imports = [
    config.flake.modules.nixos.reads
    inputs.extmod.nixosModules.keys
    inputs.extmod.nixosModules.hardware
  ];
  clan.machines.relay.imports = [
    config.flake.modules.nixos.reads
    inputs.extmod.nixosModules.keys
  ];
  clan.machines.mailer.imports = [
    config.flake.modules.nixos.reads
    inputs.extmod.nixosModules.opaque
  ];
}
"#;
    let flake = r#"{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    flake-parts.url = "github:hercules-ci/flake-parts";
    import-tree.url = "github:vic/import-tree";
    extmod.url = "github:example/extmod";
  };
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
"#;
    let key = "[ { \"publickey\": \"age1xyz\", \"type\": \"age\" } ]\n";
    let repo = common::repo(&[
        ("flake.lock", &serde_json::to_string_pretty(&lock).unwrap()),
        ("modules/machines.nix", machines),
        ("sops/users/admin/key.json", key),
        ("sops/machines/vault/key.json", key),
        ("sops/machines/mailer/key.json", key),
        ("sops/machines/relay/key.json", key),
        (
            "vars/per-machine/vault/ext-key/key/secret",
            "{\"sops\": {}}\n",
        ),
        ("vars/per-machine/vault/old-gen/key/value", "x\n"),
        ("vars/per-machine/mailer/old-gen/key/value", "x\n"),
    ]);
    common::write(repo.path(), "flake.nix", flake);
    repo
}

/// `extmod` ([`write_module_flake`]) added to a store of its own, and [`module_repo`] locking
/// it; `None` without Nix.
struct ModuleFixture {
    tmp: TempDir,
    store: Store,
    repo: TempDir,
    hash: String,
    store_dir: String,
}

impl ModuleFixture {
    fn new(test: &str) -> Option<ModuleFixture> {
        if !have_nix(test) {
            return None;
        }
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(&tmp.path().join("store-root"));
        let source = write_module_flake(tmp.path(), "extmod");
        let hash = store.add_locked(&source);
        let repo = module_repo(&hash);
        let store_dir = store.store_dir();
        Some(ModuleFixture {
            tmp,
            store,
            repo,
            hash,
            store_dir,
        })
    }
}

#[test]
fn modules_of_an_input_in_the_store_count_for_the_machines_that_import_them() {
    let Some(ModuleFixture {
        tmp,
        store,
        repo,
        store_dir,
        ..
    }) = ModuleFixture::new(
        "modules_of_an_input_in_the_store_count_for_the_machines_that_import_them",
    )
    else {
        return;
    };

    // Without the source, both machines import a module nobody can read: their vars nothing
    // declares are only possibly orphaned (information), the read of `nowhere` is not
    // reported.
    let absent = graded_findings(repo.path(), &["--no-store"], true);
    assert_eq!(
        only("info vars/", &absent),
        [
            "info vars/orphan modules/machines.nix:4",
            "info vars/orphan modules/machines.nix:5",
        ],
        "{absent:#?}"
    );
    assert_eq!(only("error", &absent), Vec::<String>::new());
    // With it, `vault` and `relay` import only what is read: the read of `nowhere` and the
    // vars of `old-gen` are reported; `ext-key` (declared by the input's module) is not.
    // `relay`'s modules declare every option they could (`hardware`'s platform modules
    // declare options infra-check does not know, so `vault`'s do not): `mine.enable` is not
    // one of them. `mailer`'s module imports what cannot be read, so it stays as before.
    let read = graded_findings(repo.path(), &["--store", &store_dir], true);
    let new = |f: &[String]| -> Vec<String> {
        f.iter()
            .filter(|f| f.contains(" vars/") || f.contains(" option/"))
            .cloned()
            .collect()
    };
    assert_eq!(
        new(&read),
        [
            "error option/unknown modules/machines.nix:10",
            "error vars/undeclared-reference modules/machines.nix:9",
            "info vars/orphan modules/machines.nix:5",
            "warning vars/orphan modules/machines.nix:4",
        ],
        "{read:#?}"
    );
    let others = |f: &[String]| -> Vec<String> {
        f.iter().filter(|x| !new(f).contains(x)).cloned().collect()
    };
    assert_eq!(others(&read), others(&absent));

    // `inputs` says what was read of each module the repository imports.
    let (_, doc) = inputs(repo.path(), &["--store", &store_dir], &[]);
    let extmod = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == "extmod")
        .unwrap();
    assert_eq!(
        extmod["modules"],
        json!([
            { "path": "nixosModules.hardware", "read": "partial", "vars": true,
              "options": false, "generators": [], "declares": [] },
            { "path": "nixosModules.keys", "read": "complete", "vars": true,
              "options": true, "generators": ["ext-key"], "declares": ["extmod"] },
            { "path": "nixosModules.opaque", "read": "partial", "vars": false,
              "options": false, "generators": [], "declares": [] },
        ]),
        "{doc:#}"
    );
    let (_, doc) = inputs(repo.path(), &["--no-store"], &[]);
    let unread: Vec<&str> = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["modules"].as_array().unwrap())
        .map(|m| m["read"].as_str().unwrap())
        .collect();
    assert_eq!(unread, ["unread"; 3]);

    // flake-parts' `modules.<class>` output names the same modules.
    let machines = repo.path().join("modules/machines.nix");
    let text = std::fs::read_to_string(&machines).unwrap();
    std::fs::write(
        &machines,
        text.replace(
            "inputs.extmod.nixosModules.",
            "inputs.extmod.modules.nixos.",
        ),
    )
    .unwrap();
    let by_modules = graded_findings(repo.path(), &["--store", &store_dir], true);
    assert_eq!(new(&by_modules), new(&read), "{by_modules:#?}");
    std::fs::write(&machines, text).unwrap();

    // An input whose flake.nix does not parse is not read: as without the store.
    let broken = write_module_flake(tmp.path(), "broken");
    common::write(&broken, "flake.nix", "{ outputs = ");
    let broken_hash = store.add_locked(&broken);
    let repo = module_repo(&broken_hash);
    assert_eq!(
        graded_findings(repo.path(), &["--store", &store_dir], true),
        absent
    );
}

/// The files of the cache directory `cache/infra-check/<build>/`.
fn cache_entries(cache: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for build in std::fs::read_dir(cache.join("infra-check"))
        .into_iter()
        .flatten()
    {
        for e in std::fs::read_dir(build.unwrap().path()).unwrap() {
            out.push(e.unwrap().path());
        }
    }
    out.sort();
    out
}

#[test]
fn what_is_read_from_the_store_is_kept_in_the_cache_and_read_from_there() {
    let Some(ModuleFixture {
        tmp,
        repo,
        hash,
        store_dir,
        ..
    }) = ModuleFixture::new("what_is_read_from_the_store_is_kept_in_the_cache_and_read_from_there")
    else {
        return;
    };
    let cache = tmp.path().join("cache");
    let args = ["--store", store_dir.as_str()];

    let fresh = cached_findings(repo.path(), &args, true, None);
    let cold = cached_findings(repo.path(), &args, true, Some(&cache));
    assert_eq!(cold, fresh);
    // One entry per module the repository imports.
    let entries = cache_entries(&cache);
    assert_eq!(entries.len(), 3, "{entries:?}");
    // Read from there: a source the store holds is never read again, so an entry is all it
    // takes (here one the test rewrites, to see that it is what answers).
    let warm = cached_findings(repo.path(), &args, true, Some(&cache));
    assert_eq!(warm, fresh);
    let stamp: Vec<_> = entries
        .iter()
        .map(|e| std::fs::metadata(e).unwrap().modified().unwrap())
        .collect();
    let again: Vec<_> = cache_entries(&cache)
        .iter()
        .map(|e| std::fs::metadata(e).unwrap().modified().unwrap())
        .collect();
    assert_eq!(stamp, again, "a warm run rewrites no entry");
    for e in &entries {
        let text = std::fs::read_to_string(e).unwrap();
        if text.contains("ext-key") {
            std::fs::write(e, text.replace("ext-key", "old-gen")).unwrap();
        }
    }
    let from_cache = cached_findings(repo.path(), &args, true, Some(&cache));
    // The entry says `keys` declares `old-gen`, not `ext-key`: the read of `ext-key` is now
    // one of a generator nothing declares.
    assert!(
        from_cache.contains(&"error vars/undeclared-reference modules/machines.nix:8".to_owned()),
        "{from_cache:#?}"
    );
    // An entry that is not what this build writes is read from the source again.
    for e in &entries {
        std::fs::write(e, "{ not json").unwrap();
    }
    assert_eq!(
        cached_findings(repo.path(), &args, true, Some(&cache)),
        fresh
    );
    // --no-cache neither reads nor writes it.
    std::fs::remove_dir_all(&cache).unwrap();
    let off = cached_findings(
        repo.path(),
        &["--store", &store_dir, "--no-cache"],
        true,
        Some(&cache),
    );
    assert_eq!(off, fresh);
    assert!(!cache.exists());
    // The cache never answers for a source the store does not hold (any more).
    cached_findings(repo.path(), &args, true, Some(&cache));
    let path = source_store_path(&store_dir, &parse_nar_hash(&hash).unwrap());
    std::process::Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(&path)
        .status()
        .unwrap();
    std::fs::remove_dir_all(&path).unwrap();
    assert_eq!(
        cached_findings(repo.path(), &args, true, Some(&cache)),
        graded_findings(repo.path(), &["--no-store"], true)
    );
}

/// A clan-core source (written here) with one service, `tor`, whose roles are `server` and
/// `client`.
fn write_tor_clan_core(root: &Path) -> PathBuf {
    write_clan_core(
        root,
        &[(
            "tor",
            "{ clan.modules.tor = ./default.nix; }\n",
            r#"{ ... }:
{
  _class = "clan.service";
  manifest.name = "clan-core/tor";
  roles.server.perInstance.nixosModule = { };
  roles.client.perInstance.nixosModule = { };
}
"#,
        )],
    )
}

#[test]
fn the_locked_clan_core_says_which_roles_exist_where_the_catalog_is_unsure() {
    if !have_nix("the_locked_clan_core_says_which_roles_exist_where_the_catalog_is_unsure") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::new(&tmp.path().join("store-root"));
    let hash = store.add_locked(&write_tor_clan_core(tmp.path()));
    // Locked in July 2026, when the catalog does not know whether tor's `server` role exists
    // yet (it replaced `default` at a date it does not know, by August 2026).
    let lock = json!({
        "version": 7,
        "root": "root",
        "nodes": {
            "root": { "inputs": {
                "flake-parts": "flake-parts", "import-tree": "import-tree", "clan-core": "clan-core",
            } },
            "flake-parts": github_node("hercules-ci", "flake-parts", PLACEHOLDER),
            "import-tree": github_node("vic", "import-tree", PLACEHOLDER),
            "clan-core": github_node("clan-lol", "clan-core", &hash),
        }
    });
    let flake = r#"{
  inputs = {
    flake-parts.url = "github:hercules-ci/flake-parts";
    import-tree.url = "github:vic/import-tree";
    clan-core.url = "github:clan-lol/clan-core";
  };
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (inputs.import-tree ./modules);
}
"#;
    let clan = r#"{ inputs, ... }:
{
  imports = [ inputs.clan-core.flakeModules.default ];
  clan.meta.name = "fixture";
  clan.inventory.machines.web = { };
  clan.inventory.instances.tor = { module.name = "tor"; roles.server.machines.web = { }; };
  clan.machines.web = { };
}
"#;
    let sops = r#"{"data": "ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]", "sops": {"age": [], "version": "3.9.0"}}"#;
    let key = "[ { \"publickey\": \"age1xyz\", \"type\": \"age\" } ]\n";
    let repo = common::repo(&[
        ("flake.lock", &serde_json::to_string_pretty(&lock).unwrap()),
        ("modules/clan.nix", clan),
        ("sops/machines/web/key.json", key),
        ("sops/users/admin/key.json", key),
        (
            "vars/per-machine/web/tor_tor/hs_ed25519_secret_key/secret",
            sops,
        ),
        ("vars/per-machine/web/retired/x/value", "x\n"),
    ]);
    common::write(repo.path(), "flake.nix", flake);
    let secret = repo
        .path()
        .join("vars/per-machine/web/tor_tor/hs_ed25519_secret_key");
    std::fs::create_dir_all(secret.join("machines")).unwrap();
    std::os::unix::fs::symlink(
        "../../../../../../sops/machines/web",
        secret.join("machines/web"),
    )
    .unwrap();
    let orphans = |args: &[&str]| -> Vec<String> {
        graded_findings(repo.path(), args, true)
            .into_iter()
            .filter(|f| f.contains("vars/orphan"))
            .collect()
    };
    eprintln!(
        "ALL {:#?}\n{:#?}",
        graded_findings(repo.path(), &["--no-store"], true),
        graded_findings(repo.path(), &["--store", &store.store_dir()], true)
    );
    // The catalog alone: `web` may get generators it does not know of, so `retired` is only
    // possibly an orphan.
    assert_eq!(
        orphans(&["--no-store"]),
        ["info vars/orphan modules/clan.nix:5"]
    );
    // The source says `server` exists: web's generators are all known, `retired` is one of
    // none of them.
    let store_dir = store.store_dir();
    assert_eq!(
        orphans(&["--store", &store_dir]),
        ["warning vars/orphan modules/clan.nix:5"]
    );
}
