//! Exit codes of `infra-check check` and the `explain` command.

mod common;

use common::*;
use infra_check_analysis::codes::CODES;

#[test]
fn clean_repository_exits_0() {
    let dir = repo(&[("modules/ok.nix", "{ a = 1; }\n")]);
    let out = run(&["check", path_str(dir.path())]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn syntax_error_exits_1() {
    let dir = broken_repo();
    let out = run(&["check", path_str(dir.path())]);
    assert_eq!(code(&out), 1);
}

#[test]
fn path_defaults_to_the_current_directory_and_finds_the_root_above() {
    let dir = broken_repo();
    let out = run_in(&dir.path().join("modules"), &["check", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["diagnostics"][0]["file"], "modules/broken.nix");
}

#[test]
fn nonexistent_path_exits_2_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("does-not-exist");
    let out = run(&["check", path_str(&missing)]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("does-not-exist") && err.contains("does not exist"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn directory_without_flake_exits_2_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["check", path_str(dir.path())]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("No flake.nix was found"), "{err}");
    assert!(err.contains(path_str(dir.path())), "{err}");
}

#[test]
fn unknown_format_is_a_usage_error() {
    let out = run(&["check", "--format", "xml"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    let dir = repo(&[
        ("modules/broken.nix", BROKEN),
        (
            "infra-check.toml",
            "[severity]\n\"syntax/parse-error\" = \"warning\"\n",
        ),
    ]);
    let out = run(&["check", path_str(dir.path())]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("warning[syntax/parse-error]"));
    let out = run(&["check", path_str(dir.path()), "--deny-warnings"]);
    assert_eq!(code(&out), 1);
}

#[test]
fn infos_and_hints_never_fail() {
    for severity in ["info", "hint"] {
        let config = format!("[severity]\n\"syntax/parse-error\" = \"{severity}\"\n");
        let dir = repo(&[
            ("modules/broken.nix", BROKEN),
            ("infra-check.toml", &config),
        ]);
        let out = run(&["check", path_str(dir.path()), "--deny-warnings"]);
        assert_eq!(code(&out), 0, "{severity}: {}", stdout(&out));
    }
}

#[test]
fn explain_prints_a_known_code() {
    let out = run(&["explain", "syntax/parse-error"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    let info = CODES
        .iter()
        .find(|c| c.code == "syntax/parse-error")
        .unwrap();
    assert!(text.starts_with("syntax/parse-error"), "{text}");
    assert!(text.contains("error"));
    assert!(text.contains(info.summary));
    assert!(text.contains(info.explanation));
}

#[test]
fn explain_suggests_close_codes_for_an_unknown_one() {
    let out = run(&["explain", "syntax/parse-eror"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.contains("`syntax/parse-eror` is not an infra-check diagnostic code"),
        "{err}"
    );
    assert!(err.contains("Did you mean `syntax/parse-error`"), "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn explain_list_shows_every_code() {
    let out = run(&["explain", "--list"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), CODES.len());
    for (line, info) in text.lines().zip(CODES) {
        assert!(line.starts_with(info.code), "{line}");
        assert!(line.contains(info.severity.as_str()), "{line}");
        assert!(line.ends_with(info.summary), "{line}");
    }
}

#[test]
fn explain_needs_a_code_or_list() {
    let out = run(&["explain"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn help_documents_formats_and_exit_codes() {
    let out = run(&["check", "--help"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    for needle in [
        "human",
        "json",
        "sarif",
        "github",
        "--deny-warnings",
        "Exit codes",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
}
