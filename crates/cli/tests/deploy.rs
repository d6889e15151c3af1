//! End-to-end tests of `plan`, `deploy`, `build` and `rollback` on copies of the example fleet,
//! with real `just` and `direnv`, and recording stubs for the programs that would reach real
//! machines (`clan`, `nixos-rebuild`, `darwin-rebuild`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{code, fleet_copy, path_str, stderr, stdout, write};
use tempfile::TempDir;

/// A stub for a program that reaches real machines: it records its name and arguments (and
/// `$FLEET_ENV`, which only the test `.envrc` sets) one line per run; with `$STUB_GATE=N` waits
/// until N runs have started (exit 5 after 20 s: they were not running at once); fails with
/// exit 3 for an argument listed in the fail file; sleeps `$STUB_SLEEP` seconds when set.
const STUB: &str = r#"#!/bin/sh
name=$(basename "$0")
line="$name"
for a in "$@"; do line="$line $a"; done
echo "$line env=${FLEET_ENV:-}" >> "$STUB_LOG"
if [ -n "$STUB_GATE" ]; then
  waited=0
  while [ "$(wc -l < "$STUB_LOG")" -lt "$STUB_GATE" ]; do
    sleep 0.1; waited=$((waited + 1))
    if [ "$waited" -gt 200 ]; then echo "$name: the others never started" >&2; exit 5; fi
  done
fi
for a in "$@"; do
  if [ -f "$STUB_FAIL" ] && grep -qx -- "$a" "$STUB_FAIL"; then
    echo "$name: failing for $a" >&2
    exit 3
  fi
done
if [ -n "$STUB_SLEEP" ]; then sleep "$STUB_SLEEP"; fi
echo "$name: done"
"#;

struct Env {
    fleet: TempDir,
    stubs: TempDir,
}

impl Env {
    /// A copy of the example fleet without its `.envrc` (which would build the dev shell with
    /// Nix), with stubs on PATH.
    fn new() -> Env {
        let fleet = fleet_copy();
        std::fs::remove_file(fleet.path().join(".envrc")).expect("remove .envrc");
        let stubs = tempfile::tempdir().expect("create a temporary directory");
        for name in ["clan", "nixos-rebuild", "darwin-rebuild", "health-check"] {
            let p = stubs.path().join("bin").join(name);
            write(stubs.path(), &format!("bin/{name}"), STUB);
            make_executable(&p);
        }
        Env { fleet, stubs }
    }
    fn root(&self) -> &Path {
        self.fleet.path()
    }
    fn log(&self) -> PathBuf {
        self.stubs.path().join("log")
    }
    /// The stub runs recorded so far.
    fn recorded(&self) -> Vec<String> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
    fn fail_for(&self, args: &[&str]) {
        std::fs::write(self.stubs.path().join("fail"), args.join("\n") + "\n").expect("write");
    }
    fn command(&self) -> Command {
        let mut cmd = common::command();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![self.stubs.path().join("bin")];
        dirs.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(dirs).expect("join PATH"))
            .env("STUB_LOG", self.log())
            .env("STUB_FAIL", self.stubs.path().join("fail"))
            .env("XDG_DATA_HOME", self.stubs.path().join("data"))
            .env("XDG_CONFIG_HOME", self.stubs.path().join("config"))
            .env_remove("STUB_SLEEP")
            .env_remove("STUB_GATE")
            .env_remove("INFRA_CHECK_DEPLOYING")
            .env_remove("DIRENV_DIR")
            .current_dir(self.root());
        cmd
    }
    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run infra-check")
    }
    /// Real `just` in the fleet, with infra-check's binary and the stubs on PATH.
    fn just(&self, args: &[&str]) -> Output {
        let bin = Path::new(env!("CARGO_BIN_EXE_infra-check"))
            .parent()
            .expect("the binary's directory")
            .to_path_buf();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![self.stubs.path().join("bin"), bin];
        dirs.extend(std::env::split_paths(&path));
        Command::new("just")
            .args(args)
            .current_dir(self.root())
            .env("PATH", std::env::join_paths(dirs).expect("join PATH"))
            .env("STUB_LOG", self.log())
            .env("STUB_FAIL", self.stubs.path().join("fail"))
            .env_remove("INFRA_CHECK_DEPLOYING")
            .env_remove("NO_COLOR")
            .output()
            .expect("run just")
    }
    fn remove_justfile(&self) {
        std::fs::remove_file(self.root().join("justfile")).expect("remove the justfile");
    }
}

/// Whether `text` has a table row whose cells are `cells` (however the columns are padded).
fn has_row(text: &str, cells: &[&str]) -> bool {
    let want = cells.join(" ");
    text.lines().any(|l| {
        l.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .starts_with(&want)
    })
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

const NIXOS: [&str; 4] = ["argon", "krypton", "radon", "xenon"];
const DARWIN: [&str; 4] = ["bismuth", "cobalt", "gallium", "indium"];

#[test]
fn plan_lists_every_machine_with_its_command_and_the_controller_first() {
    let env = Env::new();
    env.remove_justfile();
    let out = env.run(&["plan", "--all"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    assert!(
        text.contains("Plan: deploy 8 machines in 2 batches"),
        "{text}"
    );
    let batch2 = text.find("batch 2/2").expect("two batches");
    let batch1 = &text[..batch2];
    assert!(
        has_row(batch1, &["argon", "clan", "machines", "update", "argon"]),
        "{text}"
    );
    assert!(batch1.contains("zerotier/controller"), "{text}");
    for m in NIXOS.iter().chain(&DARWIN).filter(|m| **m != "argon") {
        assert!(
            !batch1.contains(&format!("update {m}")),
            "{m} in batch 1: {text}"
        );
        assert!(
            text[batch2..].contains(&format!("clan machines update {m}")),
            "{m}: {text}"
        );
    }
    assert!(text.contains("Dry run: nothing was run."), "{text}");
    assert!(env.recorded().is_empty(), "plan runs nothing");

    // --action build shows nix build per class.
    let out = env.run(&["plan", "--all", "--action", "build"]);
    let text = stdout(&out);
    assert!(
        text.contains("nix build .#nixosConfigurations.argon.config.system.build.toplevel --out-link result-argon"),
        "{text}"
    );
    assert!(
        text.contains("nix build .#darwinConfigurations.cobalt.system --out-link result-cobalt"),
        "{text}"
    );

    // JSON: the versioned document, with each command's program and arguments.
    let out = env.run(&["plan", "--all", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["dryRun"], true);
    assert_eq!(doc["envrc"], serde_json::Value::Null);
    assert_eq!(doc["batches"][0]["machines"], serde_json::json!(["argon"]));
    let argon = &doc["machines"][0];
    assert_eq!(argon["name"], "argon");
    assert_eq!(argon["result"], "planned");
    assert_eq!(argon["command"]["program"], "clan");
    assert_eq!(
        argon["command"]["args"],
        serde_json::json!(["machines", "update", "argon"])
    );
    assert_eq!(argon["command"]["direnv"], false);
    assert_eq!(doc["summary"]["planned"], 8);
}

#[test]
fn nothing_selected_or_unknown_names_are_usage_errors() {
    let env = Env::new();
    let out = env.run(&["deploy"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("No machine was selected"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["deploy", "argno"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("Did you mean `argon`?"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["deploy", "--tag", "servr"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("Did you mean `server`?"),
        "{}",
        stderr(&out)
    );
    assert!(env.recorded().is_empty());
}

#[test]
fn tags_intersect() {
    let env = Env::new();
    env.remove_justfile();
    let out = env.run(&["deploy", "--tag", "server", "--tag", "gcp"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let runs = env.recorded();
    assert_eq!(
        runs,
        [
            "clan machines update radon env=",
            "clan machines update xenon env="
        ]
    );
}

#[test]
fn a_module_error_in_one_darwin_machine_refuses_only_that_machine() {
    let env = Env::new();
    env.remove_justfile();
    common::fleet::edit(
        env.root(),
        "modules/machines/darwin/cobalt/default.nix",
        "      remote-builder\n",
        "      remote-builder\n      no-such-module\n",
    );
    let out = env.run(&["deploy", "--all"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}{}", stderr(&out));
    assert!(text.contains("refused"), "{text}");
    assert!(text.contains("module/undefined"), "{text}");
    assert!(text.contains("no-such-module"), "{text}");
    let runs = env.recorded();
    assert_eq!(runs.len(), 7, "{runs:?}");
    assert!(!runs.iter().any(|r| r.contains("cobalt")), "{runs:?}");
    let summary = text.rsplit("MACHINE").next().unwrap();
    assert!(
        has_row(summary, &["cobalt", "deploy", "refused"]),
        "{summary}"
    );
    assert!(summary.contains("7 ok, 1 refused"), "{summary}");

    // --force deploys it anyway, and says so.
    std::fs::remove_file(env.log()).ok();
    let out = env.run(&["deploy", "cobalt", "--force"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    assert!(text.contains("forced past 1 finding"), "{text}");
    assert!(text.contains("ok (forced)"), "{text}");
    assert_eq!(env.recorded(), ["clan machines update cobalt env="]);
}

#[test]
fn machines_waiting_for_a_refused_machine_are_skipped_and_the_others_go_ahead() {
    let env = Env::new();
    env.remove_justfile();
    common::fleet::edit(
        env.root(),
        "modules/machines/nixos/argon/default.nix",
        "        monitoring\n",
        "        monitoring\n        no-such-module\n",
    );
    let out = env.run(&["deploy", "--all"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    let runs = env.recorded();
    let deployed: Vec<&str> = runs
        .iter()
        .map(|r| {
            r.trim_start_matches("clan machines update ")
                .trim_end_matches(" env=")
        })
        .collect();
    assert_eq!(deployed, DARWIN, "{text}");
    for m in ["krypton", "radon", "xenon"] {
        assert!(
            has_row(
                &text,
                &[m, "deploy", "skipped", "(it", "waits", "for", "`argon`,"]
            ),
            "{m}: {text}"
        );
    }
    assert!(has_row(&text, &["argon", "deploy", "refused"]), "{text}");
}

#[test]
fn a_failure_stops_the_later_batches() {
    let env = Env::new();
    env.remove_justfile();
    env.fail_for(&["argon"]);
    let out = env.run(&["deploy", "argon", "krypton", "cobalt"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert_eq!(env.recorded(), ["clan machines update argon env="]);
    assert!(text.contains("[argon] clan: failing for argon"), "{text}");
    assert!(text.contains("failed (exit 3)"), "{text}");
    assert!(
        text.contains("skipped (`argon` in batch 1 failed)"),
        "{text}"
    );
    assert!(text.contains("1 failed, 2 skipped"), "{text}");
}

#[test]
fn jobs_run_a_batch_in_parallel_and_every_failure_is_reported() {
    let env = Env::new();
    env.remove_justfile();
    env.fail_for(&["krypton", "radon"]);
    // Each stub waits until all three have started: run one at a time, the first two would give
    // up waiting (exit 5), not fail for their machine (exit 3).
    let out = env
        .command()
        .env("STUB_GATE", "3")
        .args(["deploy", "krypton", "radon", "xenon", "--jobs", "3"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert_eq!(env.recorded().len(), 3);
    assert!(text.contains("1 ok, 2 failed"), "{text}");
    for machine in ["krypton", "radon"] {
        assert!(
            has_row(&text, &[machine, "deploy", "failed", "(exit", "3)"]),
            "{text}"
        );
    }
}

#[test]
fn canary_with_a_failing_health_check_is_rolled_back_and_the_run_stops() {
    let env = Env::new();
    env.remove_justfile();
    write(
        env.root(),
        "infra-check.toml",
        "[deploy]\nhealth = [\"health-check\", \"{machine}\"]\n",
    );
    env.fail_for(&["health-of-nobody"]);
    // A passing health check: the rest of each batch follows its canary.
    let out = env.run(&["deploy", "argon", "krypton", "xenon", "--canary"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        env.recorded(),
        [
            "clan machines update argon env=",
            "health-check argon env=",
            "clan machines update krypton env=",
            "health-check krypton env=",
            "clan machines update xenon env=",
        ]
    );
    std::fs::remove_file(env.log()).ok();
    env.fail_for(&["krypton"]);
    std::fs::write(env.stubs.path().join("fail"), "krypton\n").unwrap();
    // krypton's deploy fails too in this fail file; use the health check alone instead.
    let health_fails =
        "#!/bin/sh\necho \"health-check $* env=\" >> \"$STUB_LOG\"\necho unhealthy >&2\nexit 4\n";
    write(env.stubs.path(), "bin/health-check", health_fails);
    make_executable(&env.stubs.path().join("bin/health-check"));
    std::fs::remove_file(env.stubs.path().join("fail")).ok();
    let out = env.run(&["deploy", "argon", "krypton", "xenon", "--canary"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert_eq!(
        env.recorded(),
        [
            "clan machines update argon env=",
            "health-check argon env=",
            "nixos-rebuild switch --rollback --target-host root@argon.periodic.example.org env=",
        ]
    );
    assert!(
        text.contains("its health check `health-check argon` failed (exit 4)"),
        "{text}"
    );
    assert!(has_row(&text, &["argon", "rollback", "ok"]), "{text}");
    assert!(
        text.contains("skipped (the health check of the canary `argon` failed)"),
        "{text}"
    );
}

#[test]
fn the_configured_recipe_is_preferred_and_runs_through_real_just() {
    if !common::have_tool("just") {
        return;
    }
    let env = Env::new();
    write(
        env.root(),
        "infra-check.toml",
        "[deploy]\nrecipe = \"ship\"\n",
    );
    let mut justfile = std::fs::read_to_string(env.root().join("justfile")).unwrap();
    justfile.push_str(
        "\n# Ship one machine\nship machine:\n    clan machines update --fast {{machine}}\n",
    );
    std::fs::write(env.root().join("justfile"), justfile).unwrap();
    let out = env.run(&["plan", "argon"]);
    assert!(
        has_row(&stdout(&out), &["argon", "just", "ship", "argon"]),
        "{}",
        stdout(&out)
    );
    let out = env.run(&["deploy", "argon"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(env.recorded(), ["clan machines update --fast argon env="]);

    // Without the setting, the justfile's own `deploy machine` recipe is the obvious one.
    std::fs::remove_file(env.root().join("infra-check.toml")).unwrap();
    std::fs::remove_file(env.log()).ok();
    let out = env.run(&["deploy", "krypton"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("[krypton] $ just deploy krypton"),
        "{}",
        stdout(&out)
    );
    assert_eq!(env.recorded(), ["clan machines update krypton env="]);

    // A configured recipe that does not exist is refused with a message.
    write(
        env.root(),
        "infra-check.toml",
        "[deploy]\nrecipe = \"nope\"\n",
    );
    let out = env.run(&["plan", "argon"]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("has no such recipe"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn commands_run_through_direnv_and_a_blocked_envrc_stops_the_run() {
    if !common::have_tool("direnv") {
        return;
    }
    let env = Env::new();
    env.remove_justfile();
    write(env.root(), ".envrc", "export FLEET_ENV=from-envrc\n");
    let out = env.run(&["deploy", "argon"]);
    assert_eq!(code(&out), 2, "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("direnv allow"), "{}", stderr(&out));
    assert!(stderr(&out).contains("it is blocked"), "{}", stderr(&out));
    assert!(env.recorded().is_empty(), "nothing ran");
    // infra-check never allows it itself.
    let out = env.run(&["plan", "argon"]);
    assert!(stdout(&out).contains("it is blocked"), "{}", stdout(&out));
    let out = env.run(&["plan", "argon", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["envrc"], "blocked");
    assert_eq!(doc["machines"][0]["command"]["direnv"], true);

    let allow = env
        .command()
        .args(["--version"])
        .output()
        .map(|_| ())
        .and_then(|_| {
            Command::new("direnv")
                .arg("allow")
                .arg(env.root())
                .env("XDG_DATA_HOME", env.stubs.path().join("data"))
                .env("XDG_CONFIG_HOME", env.stubs.path().join("config"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|_| ())
        });
    allow.expect("direnv allow");
    let out = env.run(&["deploy", "argon"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    let root = env.root().canonicalize().unwrap();
    assert!(
        text.contains(&format!(
            "[argon] $ direnv exec {} clan machines update argon",
            root.display()
        )),
        "{text}"
    );
    assert_eq!(
        env.recorded(),
        ["clan machines update argon env=from-envrc"]
    );
}

#[test]
fn names_outside_the_name_rule_are_refused_before_anything_runs() {
    let env = Env::new();
    env.remove_justfile();
    for bad in ["a;rm -rf /", "$(touch x)", "`touch x`", "a\nb", "x|touch y"] {
        for args in [
            vec!["deploy", "--", bad],
            vec!["deploy", "--tag", bad],
            vec!["rollback", "--", bad],
            vec!["build", "--tag", bad],
        ] {
            let out = env.run(&args);
            assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("is not a valid"),
                "{args:?}: {}",
                stderr(&out)
            );
        }
    }
    // An option-looking word is clap's usage error.
    let out = env.run(&["deploy", "-rf"]);
    assert_eq!(code(&out), 2);
    let out = env.run(&["deploy", "--", "-rf"]);
    assert_eq!(code(&out), 2);
    assert!(env.recorded().is_empty(), "{:?}", env.recorded());
    for f in ["x", "y"] {
        assert!(!env.root().join(f).exists());
    }
}

#[test]
fn a_missing_program_is_named_and_nothing_runs() {
    let env = Env::new();
    env.remove_justfile();
    std::fs::remove_file(env.stubs.path().join("bin/clan")).unwrap();
    let out = env
        .command()
        .env("PATH", env.stubs.path().join("bin"))
        .args(["deploy", "argon"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`clan` was not found on PATH"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("clan-cli"), "{}", stderr(&out));
}

#[test]
fn rollback_uses_nixos_rebuild_and_refuses_a_remote_darwin_machine() {
    let env = Env::new();
    env.remove_justfile();
    let out = env.run(&["rollback", "krypton", "cobalt"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert_eq!(
        env.recorded(),
        ["nixos-rebuild switch --rollback --target-host root@krypton.periodic.example.org env="]
    );
    assert!(
        text.contains("darwin-rebuild can only roll back the machine it runs on"),
        "{text}"
    );

    // A darwin machine whose target is this host is rolled back locally.
    common::fleet::edit(
        env.root(),
        "modules/machines/darwin/cobalt/default.nix",
        "ada@cobalt.periodic.example.org",
        "ada@localhost",
    );
    std::fs::remove_file(env.log()).ok();
    // darwin-rebuild activates only as root: as anyone else it is planned through sudo.
    if rustix::process::geteuid().is_root() {
        let out = env.run(&["rollback", "cobalt"]);
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
        assert_eq!(env.recorded(), ["darwin-rebuild --rollback env="]);
    } else {
        let out = env.run(&["rollback", "cobalt", "--dry-run"]);
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
        assert!(
            stdout(&out).contains("sudo darwin-rebuild --rollback"),
            "{}",
            stdout(&out)
        );
        assert!(env.recorded().is_empty(), "a dry run runs nothing");
    }
}

#[test]
fn json_output_of_a_run_is_the_versioned_document() {
    let env = Env::new();
    env.remove_justfile();
    env.fail_for(&["radon"]);
    let out = env.run(&[
        "deploy", "radon", "xenon", "--jobs", "2", "--format", "json",
    ]);
    assert_eq!(code(&out), 1);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["dryRun"], false);
    let m = doc["machines"].as_array().unwrap();
    assert_eq!(m[0]["name"], "radon");
    assert_eq!(m[0]["result"], "failed");
    assert_eq!(m[0]["exitCode"], 3);
    assert_eq!(m[1]["name"], "xenon");
    assert_eq!(m[1]["result"], "ok");
    assert!(m[1]["durationMs"].is_u64());
    // The commands' output went to standard error.
    assert!(stderr(&out).contains("[radon] clan: failing for radon"));
}

#[test]
fn ctrl_c_stops_starting_machines_and_waits_for_the_running_one() {
    let env = Env::new();
    env.remove_justfile();
    let child = env
        .command()
        .env("STUB_SLEEP", "2")
        .args(["deploy", "krypton", "radon", "xenon"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first machine has started.
    let start = std::time::Instant::now();
    while env.recorded().is_empty() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}{}", stderr(&out));
    assert_eq!(env.recorded(), ["clan machines update krypton env="]);
    // The running deploy finished (it is in its own process group: the interrupt did not reach it).
    assert!(text.contains("[krypton] clan: done"), "{text}");
    assert!(has_row(&text, &["krypton", "deploy", "ok"]), "{text}");
    assert!(text.contains("skipped"), "{text}");
    assert!(stderr(&out).contains("Interrupted"), "{}", stderr(&out));
}

/// A local flake whose `clan-core` input is a stand-in that turns each inventory machine into
/// a trivial derivation, so real `nix build` runs offline.
const FAKE_CLAN_CORE: &str = r#"{
  outputs = _: {
    lib.clan = args:
      let
        machines = args.inventory.machines;
        drv = name: derivation {
          inherit name;
          system = "x86_64-linux";
          builder = "/bin/sh";
          args = [ "-c" "echo ${name} > $out" ];
        };
        of = class: builtins.listToAttrs (map (n: { name = n; value = drv n; })
          (builtins.filter (n: (machines.${n}.machineClass or "nixos") == class)
            (builtins.attrNames machines)));
      in {
        config = {
          nixosConfigurations = builtins.mapAttrs (_: d: { config.system.build.toplevel = d; }) (of "nixos");
          darwinConfigurations = builtins.mapAttrs (_: d: { system = d; }) (of "darwin");
        };
      };
  };
}
"#;

const TEST_FLAKE: &str = r#"{
  inputs.clan-core.url = "path:./clan-core";
  outputs = { self, clan-core }:
    let
      clan = clan-core.lib.clan {
        inherit self;
        inventory.machines.argon = { deploy.targetHost = "root@argon.example.org"; };
        inventory.machines.cobalt = { machineClass = "darwin"; };
      };
    in {
      inherit (clan.config) nixosConfigurations darwinConfigurations;
    };
}
"#;

#[test]
fn build_runs_real_nix_and_produces_a_result_per_machine() {
    if !common::have_tool("nix") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "flake.nix", TEST_FLAKE);
    write(root, "clan-core/flake.nix", FAKE_CLAN_CORE);
    write(root, "machines/argon/configuration.nix", "{ ... }: { }\n");
    write(root, "machines/cobalt/configuration.nix", "{ ... }: { }\n");
    let state = tempfile::tempdir().unwrap();
    let out = common::command()
        .current_dir(root)
        .env(
            "NIX_CONFIG",
            "experimental-features = nix-command flakes\nsandbox = false\nsubstituters =\n",
        )
        .env("XDG_CACHE_HOME", state.path().join("cache"))
        .env_remove("INFRA_CHECK_DEPLOYING")
        .args(["build", path_str(root), "--all"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    for m in ["argon", "cobalt"] {
        let link = root.join(format!("result-{m}"));
        let target = std::fs::read_link(&link).unwrap_or_else(|e| panic!("{m}: {e}\n{text}"));
        assert!(target.starts_with("/nix/store"), "{target:?}");
        assert_eq!(std::fs::read_to_string(&link).unwrap().trim(), m);
    }
    assert!(has_row(&text, &["argon", "build", "ok"]), "{text}");
}

#[test]
fn a_recipe_that_calls_infra_check_deploy_again_is_stopped() {
    let env = Env::new();
    let out = env
        .command()
        .env("INFRA_CHECK_DEPLOYING", "1")
        .args(["deploy", "argon"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("rather than recurse"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_infra_module_plans_and_deploys_through_the_fleet_s_own_recipe() {
    if !common::have_tool("just") {
        return;
    }
    let env = Env::new();
    let out = env.just(&["infra", "plan", "--all"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        has_row(&stdout(&out), &["argon", "just", "deploy", "argon"]),
        "{}",
        stdout(&out)
    );
    // `just infra deploy argon` → `infra-check deploy argon` → the justfile's own `deploy`
    // recipe (not the module's: no recursion) → clan.
    let out = env.just(&["infra", "deploy", "argon"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(env.recorded(), ["clan machines update argon env="]);
    let out = env.just(&["infra", "build", "--dry-run", "cobalt"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let out = env.just(&["infra", "rollback", "krypton"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        env.recorded()[1],
        "nixos-rebuild switch --rollback --target-host root@krypton.periodic.example.org env="
    );
    // Arguments reach infra-check as one word each, and are refused there.
    for bad in ["a;touch pwned", "$(touch pwned)", "`touch pwned`"] {
        let out = env.just(&["infra", "deploy", bad]);
        assert_ne!(code(&out), 0);
        assert!(
            stderr(&out).contains("is not a valid machine name"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(env.recorded().len(), 2);
    assert!(!env.root().join("pwned").exists());
}

#[test]
fn a_flake_that_is_not_a_clan_has_no_machines_to_deploy() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "flake.nix",
        "{ inputs.nixpkgs.url = \"github:NixOS/nixpkgs\"; outputs = _: { }; }\n",
    );
    write(dir.path(), "machines/web/default.nix", "{ ... }: { }\n");
    let out = common::command()
        .args(["deploy", path_str(dir.path()), "--all"])
        .env_remove("INFRA_CHECK_DEPLOYING")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("no clan-core input"),
        "{}",
        stderr(&out)
    );
}
