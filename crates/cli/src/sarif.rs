//! `--format sarif`: a SARIF 2.1.0 log for code-scanning services such as GitHub code scanning
//! (`github/codeql-action/upload-sarif`).
//!
//! One run; the driver `infra-check` lists every diagnostic code as a rule (so the log is
//! complete even when a rule has no results). Each result has `ruleId`/`ruleIndex`, a level
//! (`error`, `warning`, or `note` for infos and hints), the primary location relative to
//! `%SRCROOT%` (the repository root, also given in `originalUriBaseIds`), 1-based regions with
//! columns in Unicode code points (`columnKind`), related locations with their messages, and a
//! `partialFingerprints` entry that stays the same when lines move, so alerts are tracked
//! across commits.

use std::collections::{BTreeMap, HashMap};

use infra_check_analysis::codes::{CodeInfo, CODES};
use infra_check_analysis::{Diagnostic, Severity, TextRange};
use serde::Serialize;
use serde_sarif::sarif;

use crate::report::{Report, Sources};

/// The JSON schema of SARIF 2.1.0, as GitHub's documentation references it.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The symbolic base of every artifact URI: the repository root.
pub const SRCROOT: &str = "%SRCROOT%";
/// The key of our entry in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "infraCheckFingerprint/v1";

/// The log around the results: `$schema`, `version` and one run whose results are written
/// one at a time, so a large report is never held as SARIF objects all at once.
#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [RunWithResults<'a>; 1],
}

#[derive(Serialize)]
struct RunWithResults<'a> {
    #[serde(flatten)]
    run: sarif::Run,
    results: Results<'a>,
}

/// Each diagnostic with its rule index and which occurrence of its (code, file, message) it is.
struct Results<'a> {
    report: &'a Report,
    numbered: Vec<(usize, usize)>,
}

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let sources = &self.report.sources;
        serializer.collect_seq(
            self.report
                .diagnostics
                .iter()
                .zip(&self.numbered)
                .map(|(d, &(index, occurrence))| result(d, index, occurrence, sources)),
        )
    }
}

/// Writes the SARIF log for `report`, pretty-printed, with a trailing newline.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut rules: Vec<sarif::ReportingDescriptor> = CODES.iter().map(rule).collect();
    let mut rule_index: HashMap<&str, usize> =
        CODES.iter().enumerate().map(|(i, c)| (c.code, i)).collect();
    let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut numbered = Vec::with_capacity(report.diagnostics.len());
    for d in &report.diagnostics {
        // A code missing from the registry would be a bug in a check; give it a rule anyway so
        // the indices stay consistent.
        let index = *rule_index.entry(d.code).or_insert_with(|| {
            rules.push(
                sarif::ReportingDescriptor::builder()
                    .id(d.code)
                    .default_configuration(configuration(d.severity))
                    .build(),
            );
            rules.len() - 1
        });
        let occurrence = seen.entry((d.code, d.file(), &d.message)).or_insert(0);
        numbered.push((index, *occurrence));
        *occurrence += 1;
    }

    let driver = sarif::ToolComponent::builder()
        .name("infra-check")
        .information_uri(env!("CARGO_PKG_REPOSITORY"))
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let root_uri = format!(
        "file://{}/",
        encode_uri_path(&report.root.to_string_lossy())
    );
    let base_ids = BTreeMap::from([(
        SRCROOT.to_owned(),
        sarif::ArtifactLocation::builder().uri(root_uri).build(),
    )]);
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .original_uri_base_ids(base_ids)
        .column_kind(serde_json::Value::from("unicodeCodePoints"))
        .build();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [RunWithResults {
            run,
            results: Results { report, numbered },
        }],
    };
    crate::output::write_json(out, &log)
}

/// The SARIF log for `report` as a string (see [`write`]).
#[cfg(test)]
pub fn render(report: &Report) -> String {
    crate::output::to_string(|out| write(report, out))
}

/// The SARIF level of a severity: infos and hints are notes.
pub fn level_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

fn result_level(severity: Severity) -> sarif::ResultLevel {
    match severity {
        Severity::Error => sarif::ResultLevel::Error,
        Severity::Warning => sarif::ResultLevel::Warning,
        Severity::Info | Severity::Hint => sarif::ResultLevel::Note,
    }
}

fn configuration(severity: Severity) -> sarif::ReportingConfiguration {
    sarif::ReportingConfiguration::builder()
        .level(serde_json::Value::from(level_name(severity)))
        .build()
}

fn text(s: &str) -> sarif::MultiformatMessageString {
    sarif::MultiformatMessageString::builder().text(s).build()
}

fn rule(info: &CodeInfo) -> sarif::ReportingDescriptor {
    let group = info.code.split('/').next().unwrap_or(info.code);
    sarif::ReportingDescriptor::builder()
        .id(info.code)
        .short_description(text(info.summary))
        .full_description(text(info.explanation))
        .help(
            sarif::MultiformatMessageString::builder()
                .text(info.explanation)
                .markdown(info.explanation)
                .build(),
        )
        .default_configuration(configuration(info.severity))
        .properties(
            sarif::PropertyBag::builder()
                .tags(vec!["infra-check".to_owned(), group.to_owned()])
                .build(),
        )
        .build()
}

fn result(
    d: &Diagnostic,
    rule_index: usize,
    occurrence: usize,
    sources: &Sources,
) -> sarif::Result {
    let related: Vec<sarif::Location> = d
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| {
            sarif::Location::builder()
                .id(i as i64)
                .physical_location(physical(&r.location.file, r.location.range, sources))
                .message(sarif::Message::builder().text(r.message.as_str()).build())
                .build()
        })
        .collect();
    let primary = sarif::Location::builder()
        .physical_location(physical(d.file(), d.range(), sources))
        .build();
    let fingerprint = fingerprint(d, occurrence);
    let builder = sarif::Result::builder()
        .rule_id(d.code)
        .rule_index(rule_index as i64)
        .level(result_level(d.severity))
        .message(sarif::Message::builder().text(d.message.as_str()).build())
        .locations(vec![primary])
        .partial_fingerprints(BTreeMap::from([(FINGERPRINT_KEY.to_owned(), fingerprint)]));
    if related.is_empty() {
        builder.build()
    } else {
        builder.related_locations(related).build()
    }
}

fn physical(file: &str, range: TextRange, sources: &Sources) -> sarif::PhysicalLocation {
    let span = sources.span(file, range);
    sarif::PhysicalLocation::builder()
        .artifact_location(
            sarif::ArtifactLocation::builder()
                .uri(encode_uri_path(file))
                .uri_base_id(SRCROOT)
                .build(),
        )
        .region(
            sarif::Region::builder()
                .start_line(i64::from(span.start.line))
                .start_column(i64::from(span.start.column))
                .end_line(i64::from(span.end.line))
                .end_column(i64::from(span.end.column))
                .build(),
        )
        .build()
}

/// A fingerprint of what the finding is, not where: code, file, message, and which occurrence
/// of that triple it is. It survives edits that only move lines.
fn fingerprint(d: &Diagnostic, occurrence: usize) -> String {
    let key = format!("{}\0{}\0{}\0{occurrence}", d.code, d.file(), d.message);
    format!("{:016x}", fnv1a64(key.as_bytes()))
}

/// FNV-1a, 64 bit: tiny and fixed forever, unlike `std`'s `DefaultHasher`.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Percent-encodes a path for use in a URI, keeping `/` and the unreserved characters.
fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_are_percent_encoded() {
        assert_eq!(encode_uri_path("modules/a b.nix"), "modules/a%20b.nix");
        assert_eq!(encode_uri_path("m/ü.nix"), "m/%C3%BC.nix");
    }

    #[test]
    fn results_are_written_in_order_with_their_rule_and_occurrence() {
        use infra_check_analysis::TextRange;
        let same = || {
            Diagnostic::new(
                "module/undefined",
                "a.nix",
                TextRange::new(0, 1),
                "m".into(),
            )
        };
        let other = Diagnostic::new("no/such-code", "b.nix", TextRange::new(0, 1), "n".into());
        let report = Report {
            root: std::path::PathBuf::from("/r"),
            files: 2,
            diagnostics: vec![same(), other, same()],
            sources: Sources::default(),
        };
        let log: serde_json::Value = serde_json::from_str(&render(&report)).unwrap();
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        let ids: Vec<&str> = results
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["module/undefined", "no/such-code", "module/undefined"]
        );
        for r in results {
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(run["tool"]["driver"]["rules"][index]["id"], r["ruleId"]);
        }
        // The two identical findings are told apart by their occurrence.
        let print = |r: &serde_json::Value| r["partialFingerprints"][FINGERPRINT_KEY].clone();
        assert_ne!(print(&results[0]), print(&results[2]));
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["$schema"], SCHEMA);
        assert_eq!(run["columnKind"], "unicodeCodePoints");
    }

    #[test]
    fn fnv_is_the_reference_function() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
