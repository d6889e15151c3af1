//! `infra-check options dump` with the real Nix (and direnv) on a temporary flake whose
//! `nixosConfigurations.web.options` and `darwinConfigurations.mac.options` are mock option
//! trees shaped like nixpkgs' and nix-darwin's, with the machines' classes in `inventory.json`.
//!
//! Tests that need `nix` or `direnv` are skipped (with a message) when it is not on PATH, and
//! fail instead when INFRA_CHECK_REQUIRE_TOOLS=1.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{code, path_str, stderr, stdout};
use serde_json::{json, Value};
use tempfile::TempDir;

const FLAKE: &str = r#"{
  outputs = { self }: {
    nixosConfigurations.web.options = {
      services.openssh.enable = {
        _type = "option";
        type = { name = "bool"; };
        default = false;
        description = "Whether to enable the OpenSSH daemon.";
      };
      services.openssh.ports = {
        _type = "option";
        type = { name = "listOf"; nestedTypes.elemType = { name = "unsignedInt16"; }; };
        default = [ 22 ];
        description = { _type = "mdDoc"; text = "Ports."; };
      };
      networking.hostName = { _type = "option"; type = { name = "str"; }; };
      boot.loader.timeout = {
        _type = "option";
        type = {
          name = "either";
          nestedTypes = {
            left = { name = "int"; };
            right = { name = "enum"; functor.payload = [ "menu" "hidden" ]; };
          };
        };
        default = 5;
      };
      broken = { _type = "option"; type = throw "boom"; };
      hardware = throw "a whole subtree that fails";
      _module.args = { _type = "option"; type = { name = "attrsOf"; }; };
    };
    darwinConfigurations.mac.options = {
      homebrew.enable = {
        _type = "option";
        type = { name = "bool"; };
        default = false;
        description = "Whether to enable Homebrew.";
      };
      system.defaults.dock.orientation = {
        _type = "option";
        type = {
          name = "nullOr";
          nestedTypes.elemType = {
            name = "enum";
            functor.payload.values = [ "bottom" "left" "right" ];
          };
        };
        default = null;
      };
    };
  };
}
"#;

/// `db` is in the inventory but has no configuration in the flake.
const INVENTORY: &str = r#"{"machines":{"web":{},"mac":{"machineClass":"darwin"},"db":{},"odd":{"machineClass":"plan9"}}}"#;

/// The repository: the mock flake plus the inventory infra-check reads statically.
fn repo() -> TempDir {
    common::repo(&[("flake.nix", FLAKE), ("inventory.json", INVENTORY)])
}

/// The full path of `name` on PATH, or None (after saying why the test is skipped) when it is
/// missing; panics instead when INFRA_CHECK_REQUIRE_TOOLS=1.
fn tool(name: &str, test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("INFRA_CHECK_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{test}: `{name}` is not on PATH, and INFRA_CHECK_REQUIRE_TOOLS=1 requires it"
        );
        // Written past the test harness's capture, so the skip shows in every run.
        let _ = writeln!(
            std::io::stderr().lock(),
            "skipping {test}: `{name}` is not on PATH (set INFRA_CHECK_REQUIRE_TOOLS=1 to fail \
instead)"
        );
    }
    found
}

/// Private home, cache, config and data directories, so that neither Nix nor direnv reads or
/// writes the user's.
struct ToolEnv {
    dir: TempDir,
}

impl ToolEnv {
    fn new() -> ToolEnv {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        for sub in ["home", "cache", "config", "data"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create directories");
        }
        ToolEnv { dir }
    }

    fn apply<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        let d = self.dir.path();
        cmd.env("HOME", d.join("home"))
            .env("XDG_CACHE_HOME", d.join("cache"))
            .env("XDG_CONFIG_HOME", d.join("config"))
            .env("XDG_DATA_HOME", d.join("data"))
            .env_remove("DIRENV_DIR")
            .env_remove("DIRENV_FILE")
            .env_remove("DIRENV_DIFF")
            .env_remove("DIRENV_WATCHES")
    }

    /// `infra-check options dump <args>` in `cwd`.
    fn dump(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut cmd = common::command();
        self.apply(&mut cmd)
            .current_dir(cwd)
            .args(["options", "dump"])
            .args(args)
            .output()
            .expect("run infra-check")
    }
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{text}"))
}

fn report(out: &Output) -> String {
    format!(
        "exit code {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

#[test]
fn writes_the_catalog_of_a_nixos_machine() {
    if tool("nix", "writes_the_catalog_of_a_nixos_machine").is_none() {
        return;
    }
    let repo = repo();
    let env = ToolEnv::new();
    let out = env.dump(repo.path(), &["--machine", "web"]);
    assert_eq!(code(&out), 0, "{}", report(&out));
    assert_eq!(
        stdout(&out),
        "Wrote 4 options of `web` (nixos) to `infra-check-options-web.json`. To check the \
machine's options against it, add `catalogs = [\"infra-check-options-web.json\"]` to \
infra-check.toml at the repository root.\n"
    );

    let file = repo.path().join("infra-check-options-web.json");
    let doc = read_json(&file);
    assert_eq!(doc["format"], 1);
    assert_eq!(doc["class"], "nixos");
    assert_eq!(doc["machine"], "web");
    assert_eq!(
        doc["generatedBy"],
        format!("infra-check {}", env!("CARGO_PKG_VERSION"))
    );
    // `broken` (its type throws), `hardware` (throws) and `_module` are left out.
    assert_eq!(
        doc["options"],
        json!({
            "services.openssh.enable": {
                "type": {"name": "bool"},
                "hasDefault": true,
                "description": "Whether to enable the OpenSSH daemon."
            },
            "services.openssh.ports": {
                "type": {"name": "listOf", "elemType": {"name": "unsignedInt16"}},
                "hasDefault": true,
                "description": "Ports."
            },
            "networking.hostName": {
                "type": {"name": "str"},
                "hasDefault": false,
                "description": null
            },
            "boot.loader.timeout": {
                "type": {
                    "name": "either",
                    "left": {"name": "int"},
                    "right": {"name": "enum", "values": ["menu", "hidden"]}
                },
                "hasDefault": true,
                "description": null
            }
        })
    );

    // The header on the first line, then one option per line, sorted.
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[0].starts_with("{\"format\":1,\"class\":\"nixos\",\"machine\":\"web\","));
    assert!(lines[1].starts_with("\"boot.loader.timeout\":"), "{text}");
    assert!(
        lines[4].starts_with("\"services.openssh.ports\":"),
        "{text}"
    );
    assert_eq!(lines[5], "}}");

    // The analyzer reads what the command writes.
    let catalog =
        infra_check_analysis::options::catalog::parse("infra-check-options-web.json", &text)
            .expect("the analyzer reads the catalog");
    assert_eq!(catalog.class, "nixos");
    assert_eq!(catalog.options.len(), 4);

    // Once infra-check.toml names it, the summary says so.
    common::write(
        repo.path(),
        "infra-check.toml",
        "catalogs = [\"infra-check-options-web.json\"]\n",
    );
    let out = env.dump(repo.path(), &["--machine", "web"]);
    assert_eq!(code(&out), 0, "{}", report(&out));
    assert!(
        stdout(&out).contains("which infra-check.toml already names in `catalogs`"),
        "{}",
        report(&out)
    );
}

#[test]
fn writes_the_catalog_of_a_darwin_machine_where_asked() {
    if tool("nix", "writes_the_catalog_of_a_darwin_machine_where_asked").is_none() {
        return;
    }
    let repo = repo();
    let env = ToolEnv::new();
    let elsewhere = tempfile::tempdir().unwrap();
    // A relative --output is relative to the current directory, here outside the repository.
    let out = env.dump(
        elsewhere.path(),
        &[
            path_str(repo.path()),
            "--machine",
            "mac",
            "--output",
            "mac.json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", report(&out));
    let file = elsewhere.path().join("mac.json");
    let summary = stdout(&out);
    assert!(
        summary.starts_with(&format!(
            "Wrote 2 options of `mac` (darwin) to `{}`.",
            file.display()
        )),
        "{summary}"
    );
    assert!(summary.contains("move it into the repository"), "{summary}");
    assert_eq!(summary.lines().count(), 1, "{summary}");
    assert!(!repo.path().join("infra-check-options-mac.json").exists());

    let doc = read_json(&file);
    assert_eq!(doc["format"], 1);
    assert_eq!(doc["class"], "darwin");
    assert_eq!(doc["machine"], "mac");
    assert_eq!(
        doc["options"]["system.defaults.dock.orientation"]["type"],
        json!({
            "name": "nullOr",
            "elemType": {"name": "enum", "values": ["bottom", "left", "right"]}
        })
    );
    assert_eq!(
        doc["options"]["homebrew.enable"]["description"],
        "Whether to enable Homebrew."
    );
}

#[test]
fn an_unknown_machine_is_a_usage_error_with_a_suggestion() {
    let repo = repo();
    let env = ToolEnv::new();
    let out = env.dump(repo.path(), &["--machine", "wbe"]);
    assert_eq!(code(&out), 2, "{}", report(&out));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("`wbe` is not a machine of this clan. Did you mean `web`?"),
        "{}",
        report(&out)
    );
}

#[test]
fn a_machine_of_another_class_is_an_error() {
    let repo = repo();
    let env = ToolEnv::new();
    let out = env.dump(repo.path(), &["--machine", "odd"]);
    assert_eq!(code(&out), 2, "{}", report(&out));
    assert!(
        stderr(&out).contains("`odd` has the class `plan9`"),
        "{}",
        report(&out)
    );
}

#[test]
fn without_nix_it_says_so() {
    let repo = repo();
    let env = ToolEnv::new();
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = common::command();
    let out = env
        .apply(&mut cmd)
        .env("PATH", empty.path())
        .args(["options", "dump", path_str(repo.path()), "--machine", "web"])
        .output()
        .expect("run infra-check");
    assert_eq!(code(&out), 2, "{}", report(&out));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).starts_with("error: infra-check options dump needs Nix: "),
        "{}",
        report(&out)
    );
    assert!(!repo.path().join("infra-check-options-web.json").exists());
}

#[test]
fn a_failed_evaluation_shows_what_nix_said() {
    if tool("nix", "a_failed_evaluation_shows_what_nix_said").is_none() {
        return;
    }
    let repo = repo();
    let env = ToolEnv::new();
    let out = env.dump(repo.path(), &["--machine", "db"]);
    assert_eq!(code(&out), 2, "{}", report(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: `nix eval --json {}#nixosConfigurations.db.options --apply <expression>` \
failed with exit code 1, so no option catalog was written.",
            repo.path().canonicalize().unwrap().display()
        )),
        "{err}"
    );
    // Nix's own message follows.
    assert!(err.contains("nixosConfigurations.db.options"), "{err}");
    assert!(err.contains("does not provide attribute"), "{err}");
    assert!(!repo.path().join("infra-check-options-db.json").exists());
}

/// A `nix` that leaves a marker (its arguments) and then runs the real one.
fn nix_wrapper(real: &Path, marker: &Path) -> TempDir {
    let bin = tempfile::tempdir().unwrap();
    let script = bin.path().join("nix");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" > '{}'\nexec '{}' \"$@\"\n",
            marker.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn runs_nix_through_direnv_when_the_repository_has_an_envrc() {
    let test = "runs_nix_through_direnv_when_the_repository_has_an_envrc";
    let (Some(nix), Some(direnv)) = (tool("nix", test), tool("direnv", test)) else {
        return;
    };
    let repo = repo();
    let env = ToolEnv::new();
    let marker = env.dir.path().join("wrapper-ran");
    let bin = nix_wrapper(&nix, &marker);
    // The dev shell's `nix` comes first on PATH.
    common::write(
        repo.path(),
        ".envrc",
        &format!("PATH_add '{}'\n", bin.path().display()),
    );
    let mut allow = Command::new(&direnv);
    let allowed = env
        .apply(&mut allow)
        .arg("allow")
        .arg(repo.path())
        .output()
        .expect("run direnv allow");
    assert!(
        allowed.status.success(),
        "direnv allow: {}",
        report(&allowed)
    );

    let out = env.dump(repo.path(), &["--machine", "web"]);
    assert_eq!(code(&out), 0, "{}", report(&out));
    let ran = std::fs::read_to_string(&marker).expect("the .envrc's nix ran");
    assert!(ran.contains(" eval --json "), "{ran}");
    let doc = read_json(&repo.path().join("infra-check-options-web.json"));
    assert_eq!(doc["options"].as_object().unwrap().len(), 4);
    assert!(stdout(&out).starts_with("Wrote 4 options of `web` (nixos)"));
}

#[test]
fn a_blocked_envrc_is_reported_with_direnvs_message() {
    let test = "a_blocked_envrc_is_reported_with_direnvs_message";
    if tool("nix", test).is_none() || tool("direnv", test).is_none() {
        return;
    }
    let repo = repo();
    let env = ToolEnv::new();
    common::write(repo.path(), ".envrc", "export SOMETHING=1\n");
    // No `direnv allow`: direnv refuses to load it.
    let out = env.dump(repo.path(), &["--machine", "web"]);
    assert_eq!(code(&out), 2, "{}", report(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: `direnv exec "), "{err}");
    assert!(err.contains("It ran through direnv"), "{err}");
    assert!(err.contains("direnv allow"), "{err}");
    assert!(!err.contains('\x1b'), "{err}");
}

#[test]
fn without_direnv_an_envrc_is_not_used() {
    let Some(nix) = tool("nix", "without_direnv_an_envrc_is_not_used") else {
        return;
    };
    let repo = repo();
    let env = ToolEnv::new();
    let marker = env.dir.path().join("wrapper-ran");
    let wrapper = nix_wrapper(&nix, &marker);
    common::write(
        repo.path(),
        ".envrc",
        &format!("PATH_add '{}'\n", wrapper.path().display()),
    );
    // PATH holds only the real nix: no direnv.
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&nix, bin.path().join("nix")).unwrap();
    let mut cmd = common::command();
    let out = env
        .apply(&mut cmd)
        .env("PATH", bin.path())
        .args(["options", "dump", path_str(repo.path()), "--machine", "web"])
        .output()
        .expect("run infra-check");
    assert_eq!(code(&out), 0, "{}", report(&out));
    assert!(!marker.exists(), "the .envrc was used without direnv");
    assert!(repo.path().join("infra-check-options-web.json").is_file());
}
