//! The CI integrations: the SARIF log passes Microsoft's SARIF validator (npm
//! `@microsoft/sarif-multitool`) on trees with findings of every kind the fixtures produce, and
//! the GitHub Action and pre-commit hook files are right (tests/tools/ci-files.test.mjs, which
//! parses them and runs the action's steps against this binary).

mod common;
mod npm;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_infra-check");

fn tools() -> Option<std::path::PathBuf> {
    if !npm::available("the SARIF validator and the CI file tests") {
        return None;
    }
    let project = npm::repo().join("tests/tools");
    npm::install(&project).then_some(project)
}

/// examples/fleet broken three ways at once, so one log has findings in several files with
/// related locations: an undefined module, a value outside an option's enum, a missing var.
fn broken_fleet() -> tempfile::TempDir {
    let fleet = common::fleet_copy();
    let root = fleet.path();
    common::fleet::edit(
        root,
        "modules/machines/nixos/argon/default.nix",
        "        monitoring\n",
        "        monitorin\n",
    );
    common::fleet::edit(
        root,
        "modules/machines/nixos/radon/default.nix",
        "periodic.role = \"gpu\";",
        "periodic.role = \"gpus\";",
    );
    std::fs::remove_dir_all(root.join("vars/per-machine/xenon/openssh")).unwrap();
    fleet
}

#[test]
fn sarif_logs_pass_microsofts_validator() {
    let Some(project) = tools() else { return };
    let work = tempfile::tempdir().unwrap();
    let logs = work.path().join("logs");
    std::fs::create_dir(&logs).unwrap();

    let mut trees = vec![];
    let fleet = broken_fleet();
    trees.push(("fleet".to_owned(), fleet.path().to_owned()));
    let fixtures = npm::repo().join("tests/fixtures");
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        if path.join("flake.nix").is_file() {
            trees.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                path,
            ));
        }
    }
    assert!(
        trees.len() > 20,
        "the fixtures were not found in {}",
        fixtures.display()
    );

    let mut codes = BTreeSet::new();
    let mut files = vec![];
    for (name, tree) in &trees {
        let out = Command::new(BINARY)
            .args(["check", "--format", "sarif"])
            .arg(tree)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log: Value = serde_json::from_slice(&out.stdout).unwrap();
        for result in log["runs"][0]["results"].as_array().unwrap() {
            codes.insert(result["ruleId"].as_str().unwrap().to_owned());
        }
        let file = logs.join(format!("{name}.sarif"));
        std::fs::write(&file, &out.stdout).unwrap();
        files.push(file);
    }
    for code in [
        "module/undefined",
        "option/type-mismatch",
        "vars/missing",
        "syntax/parse-error",
        "workspace/invalid-data",
        "inventory/unknown-machine",
        "inventory/unknown-role",
        "inventory/invalid-shape",
        "machine/unregistered",
        "platform/service-unsupported",
        "deprecated/facts",
    ] {
        assert!(codes.contains(code), "no {code} in the logs: {codes:?}");
    }

    let control = logs.join("control.sarif");
    control_log(&files[0], &control);
    files.push(control);

    // The package resolves its platform's binary; bin.js would pass arguments through a shell.
    let resolve = npm::run(
        Command::new("node")
            .args(["-p", "require('@microsoft/sarif-multitool')"])
            .current_dir(&project),
    );
    assert!(resolve.status.success(), "{resolve:?}");
    let validator = String::from_utf8(resolve.stdout).unwrap().trim().to_owned();
    let report = work.path().join("validation.sarif");
    let out = npm::run(
        Command::new(&validator)
            .arg("validate")
            .args(&files)
            .arg("--output")
            .arg(&report)
            .args(["--log", "ForceOverwrite"])
            // The validator is a .NET program: no ICU library is needed for what it does.
            .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1"),
    );
    let console = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the validator failed: {console}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        console.contains(&format!("Done. {} files scanned.", files.len())),
        "{console}"
    );
    // Its default levels are errors and warnings: any result is a defect of the log (notes,
    // such as the advice against `/` in rule ids, are not asked for). Its exit code is 0 either
    // way, so the results are read; the control log shows that they are.
    let validation: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let mut problems = vec![];
    let mut control_caught = false;
    for r in validation["runs"][0]["results"].as_array().unwrap() {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_default();
        if uri.ends_with("/control.sarif") {
            control_caught |= r["ruleId"] == "JSON1008" && r["level"] == "error";
        } else {
            problems.push(format!(
                "{} {} in {uri}: {}",
                r["level"], r["ruleId"], r["message"]["arguments"]
            ));
        }
    }
    assert!(
        control_caught,
        "the validator did not report the control log's line 0: {validation}"
    );
    assert!(
        problems.is_empty(),
        "the validator reports:\n{}",
        problems.join("\n")
    );
}

/// A copy of `log` whose first result starts on line 0, which the SARIF schema forbids.
fn control_log(log: &Path, to: &Path) {
    let mut value: Value = serde_json::from_slice(&std::fs::read(log).unwrap()).unwrap();
    value["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    std::fs::write(to, serde_json::to_vec(&value).unwrap()).unwrap();
}

#[test]
fn github_action_and_pre_commit_hook_files() {
    let Some(project) = tools() else { return };
    let out = npm::run(
        Command::new("node")
            .args(["--test", "ci-files.test.mjs"])
            .env("INFRA_CHECK_BIN", BINARY)
            .current_dir(&project),
    );
    let tap = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{tap}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    npm::assert_passed(&tap, "CI file tests");
    assert!(
        !tap.contains("# SKIP"),
        "a CI file test was skipped:\n{tap}"
    );
}
