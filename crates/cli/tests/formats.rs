//! One test per output format of `infra-check check`, on a repository with a syntax error.

mod common;

use common::*;
use infra_check_analysis::codes::CODES;
use serde_json::Value;

fn check(dir: &std::path::Path, format: &str) -> (String, i32) {
    let out = run(&["check", path_str(dir), "--format", format]);
    (stdout(&out), code(&out))
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

fn assert_range(v: &Value, start: (u64, u64), end: (u64, u64)) {
    assert_eq!(keys(v), ["end", "start"]);
    assert_eq!(keys(&v["start"]), ["column", "line"]);
    assert_eq!(keys(&v["end"]), ["column", "line"]);
    assert_eq!(v["start"]["line"], start.0, "start line in {v}");
    assert_eq!(v["start"]["column"], start.1, "start column in {v}");
    assert_eq!(v["end"]["line"], end.0, "end line in {v}");
    assert_eq!(v["end"]["column"], end.1, "end column in {v}");
}

#[test]
fn json_has_the_documented_shape() {
    let dir = broken_repo();
    let (text, status) = check(dir.path(), "json");
    assert_eq!(status, 1, "{text}");
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");

    assert_eq!(keys(&doc), ["diagnostics", "root", "summary", "version"]);
    assert_eq!(doc["version"], 1);
    let root = dir.path().canonicalize().unwrap();
    assert_eq!(doc["root"], path_str(&root));

    let diags = doc["diagnostics"].as_array().expect("an array");
    assert_eq!(diags.len(), 1, "{text}");
    let d = &diags[0];
    assert_eq!(
        keys(d),
        ["code", "file", "fix", "message", "range", "related", "severity"]
    );
    assert_eq!(d["code"], "syntax/parse-error");
    assert_eq!(d["severity"], "error");
    assert!(!d["message"].as_str().unwrap().is_empty());
    assert_eq!(d["file"], "modules/broken.nix");
    assert_range(&d["range"], (2, 17), (2, 18));
    assert_eq!(d["related"], Value::Array(vec![]));
    assert_eq!(d["fix"], Value::Null);

    let s = &doc["summary"];
    assert_eq!(keys(s), ["error", "files", "hint", "info", "warning"]);
    assert_eq!(s["error"], 1);
    assert_eq!(s["warning"], 0);
    assert_eq!(s["info"], 0);
    assert_eq!(s["hint"], 0);
    assert_eq!(s["files"], 2, "flake.nix and modules/broken.nix");
}

#[test]
fn json_of_a_clean_repository_is_empty() {
    let dir = repo(&[("modules/ok.nix", "{ a = 1; }\n")]);
    let (text, status) = check(dir.path(), "json");
    assert_eq!(status, 0, "{text}");
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(doc["diagnostics"], Value::Array(vec![]));
    assert_eq!(doc["summary"]["error"], 0);
    assert_eq!(doc["summary"]["files"], 2);
}

fn sarif_for(files: &[(&str, &str)]) -> (Value, i32) {
    let dir = repo(files);
    let (text, status) = check(dir.path(), "sarif");
    (serde_json::from_str(&text).expect("valid JSON"), status)
}

#[test]
fn sarif_is_a_complete_2_1_0_log() {
    let (log, status) = sarif_for(&[("modules/broken.nix", BROKEN)]);
    assert_eq!(status, 1);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];

    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "infra-check");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let codes: Vec<&str> = CODES.iter().map(|c| c.code).collect();
    assert_eq!(ids, codes, "one rule per code, in registry order");
    for (rule, info) in rules.iter().zip(CODES) {
        assert_eq!(rule["shortDescription"]["text"], info.summary);
        assert_eq!(rule["fullDescription"]["text"], info.explanation);
        assert_eq!(rule["help"]["text"], info.explanation);
        let level = match info.severity.as_str() {
            "error" => "error",
            "warning" => "warning",
            _ => "note",
        };
        assert_eq!(
            rule["defaultConfiguration"]["level"], level,
            "{}",
            info.code
        );
    }

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["ruleId"], "syntax/parse-error");
    let index = r["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(
        rules[index]["id"], r["ruleId"],
        "ruleIndex points at the rule"
    );
    assert_eq!(r["level"], "error");
    assert!(!r["message"]["text"].as_str().unwrap().is_empty());
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "modules/broken.nix");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    let region = &loc["region"];
    assert_eq!(region["startLine"], 2);
    assert_eq!(region["startColumn"], 17);
    assert_eq!(region["endLine"], 2);
    assert_eq!(region["endColumn"], 18);
    let fingerprints = r["partialFingerprints"].as_object().unwrap();
    assert_eq!(fingerprints.len(), 1);
    assert!(fingerprints
        .values()
        .all(|v| !v.as_str().unwrap().is_empty()));
}

#[test]
fn sarif_fingerprints_survive_moved_lines() {
    let (a, _) = sarif_for(&[("modules/broken.nix", BROKEN)]);
    let moved = format!("\n\n\n{BROKEN}");
    let (b, _) = sarif_for(&[("modules/broken.nix", &moved)]);
    let fp = |log: &Value| log["runs"][0]["results"][0]["partialFingerprints"].clone();
    assert_eq!(fp(&a), fp(&b));
    assert_eq!(
        b["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );
}

#[test]
fn sarif_levels_follow_the_configured_severity() {
    for (severity, level) in [("warning", "warning"), ("info", "note"), ("hint", "note")] {
        let config = format!("[severity]\n\"syntax/parse-error\" = \"{severity}\"\n");
        let (log, status) = sarif_for(&[
            ("modules/broken.nix", BROKEN),
            ("infra-check.toml", &config),
        ]);
        assert_eq!(status, 0, "a {severity} does not fail the check");
        assert_eq!(log["runs"][0]["results"][0]["level"], level, "{severity}");
    }
}

#[test]
fn github_prints_one_workflow_command_per_diagnostic() {
    let dir = repo(&[
        ("modules/broken.nix", BROKEN),
        ("modules/also-broken.nix", "{ a = ; }"),
    ]);
    let (text, status) = check(dir.path(), "github");
    assert_eq!(status, 1);
    let message = |file: &str| {
        let out = run(&["check", path_str(dir.path()), "--format", "json"]);
        let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
        doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["file"] == file)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let expected = format!(
        "::error file=modules/also-broken.nix,line=1,col=7,endLine=1,endColumn=8,title=syntax/parse-error::{}\n\
::error file=modules/broken.nix,line=2,col=17,endLine=2,endColumn=18,title=syntax/parse-error::{}\n\
2 errors, 0 warnings, 0 infos in 3 files\n",
        message("modules/also-broken.nix"),
        message("modules/broken.nix"),
    );
    assert_eq!(text, expected);
}

#[test]
fn github_maps_warnings_and_notices_and_escapes_properties() {
    let dir = repo(&[
        ("modules/a,b:c.nix", "{ a = ; }"),
        (
            "infra-check.toml",
            "[severity]\n\"syntax/parse-error\" = \"info\"\n",
        ),
    ]);
    let (text, status) = check(dir.path(), "github");
    assert_eq!(status, 0);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("::notice file=modules/a%2Cb%3Ac.nix,line=1,col=7,"),
        "{first}"
    );
    assert_eq!(
        text.lines().last().unwrap(),
        "0 errors, 0 warnings, 1 info in 3 files"
    );
}

#[test]
fn human_shows_the_code_location_source_and_underline() {
    let dir = broken_repo();
    let (text, status) = check(dir.path(), "human");
    assert_eq!(status, 1);
    assert!(!text.contains('\x1b'), "no colour when piped:\n{text}");
    assert!(text.contains("error[syntax/parse-error]: "), "{text}");
    assert!(text.contains("--> modules/broken.nix:2:17"), "{text}");

    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with(BROKEN_LINE))
        .unwrap_or_else(|| panic!("the source line is shown:\n{text}"));
    let source = lines[at];
    assert!(source.trim_start().starts_with("2 |"), "{source}");
    let gutter = source.chars().position(|c| c == '|').unwrap() + 2;
    let underline = lines[at + 1];
    let carets: Vec<usize> = underline
        .chars()
        .enumerate()
        .filter(|(_, c)| *c == '^')
        .map(|(i, _)| i)
        .collect();
    // Column 17 (1-based) of the source line, one character wide.
    assert_eq!(carets, [gutter + 16], "underline:\n{source}\n{underline}");

    assert_eq!(
        lines.last().copied(),
        Some("1 error, 0 warnings, 0 infos in 2 files")
    );
}

#[test]
fn human_reports_a_clean_repository() {
    let dir = repo(&[("modules/ok.nix", "{ a = 1; }\n")]);
    let (text, status) = check(dir.path(), "human");
    assert_eq!(status, 0);
    assert_eq!(text, "No problems found in 2 files.\n");
}

#[test]
fn human_places_an_end_of_file_error_where_json_does() {
    let dir = repo(&[("modules/eof.nix", "{\n  a = 1;\n")]);
    let (json, _) = check(dir.path(), "json");
    let doc: Value = serde_json::from_str(&json).unwrap();
    let start = &doc["diagnostics"][0]["range"]["start"];
    let at = format!("--> modules/eof.nix:{}:{}", start["line"], start["column"]);
    let (human, _) = check(dir.path(), "human");
    assert!(human.contains(&at), "expected `{at}` in:\n{human}");
}
