//! How each machine's run ended, the summary table, and the JSON document.
//!
//! # JSON schema, version 1 (`plan`, `deploy`, `build`, `rollback` with `--format json`)
//!
//! ```text
//! {
//!   "version": 1,
//!   "action": "deploy",                  // "deploy" | "build" | "rollback"
//!   "dryRun": false,                     // true for `plan` and `--dry-run`: nothing ran
//!   "root": "/abs/path/to/repo",           // every command runs in this directory
//!   "envrc": null,                       // commands run through direnv: "allowed" | "blocked" |
//!                                        // "unknown" (direnv's answer could not be read)
//!   "batches": [                         // in the order they run
//!     { "machines": ["argon"],
//!       "reasons": ["holds zerotier/controller, which zerotier/peer (krypton) waits for"] }
//!   ],
//!   "machines": [                        // in plan order; a canary's rollback is its own entry
//!     {
//!       "name": "argon",
//!       "class": "nixos",                // "nixos" | "darwin" | null (cannot be known)
//!       "action": "deploy",              // "rollback" for the rollback of a failed canary
//!       "batch": 1,                      // 1-based
//!       "command": {                     // null when nothing can run for the machine
//!         "program": "clan", "args": ["machines", "update", "argon"],
//!         "cwd": "/abs/path/to/repo", "direnv": true,
//!         "source": "builtin",           // "recipe" (infra-check.toml) | "justfile" | "builtin"
//!         "shown": "direnv exec /abs/path/to/repo clan machines update argon"
//!       },
//!       "result": "ok",                  // "planned" | "ok" | "failed" | "refused" | "skipped"
//!       "exitCode": 0,                   // null when it did not run or was killed
//!       "reason": null,                  // why it failed, was refused or skipped
//!       "forced": false,                 // has blocking findings, went ahead with --force
//!       "waitsFor": [],                  // machines of earlier batches it depends on
//!       "blocking": [                    // the findings that refuse it (or were forced past)
//!         { "code": "module/undefined", "severity": "error", "message": "…",
//!           "file": "modules/darwin/base.nix", "line": 3, "column": 5 }
//!       ],
//!       "durationMs": 1234               // null when it did not run
//!     }
//!   ],
//!   "summary": { "ok": 7, "failed": 0, "refused": 1, "skipped": 0, "planned": 0 }
//! }
//! ```
//!
//! Keys may be added without changing `version`; a change to existing keys or their meaning
//! increments it.

use std::time::Duration;

use serde::Serialize;

use crate::deploy::invocation::Invocation;
use crate::deploy::plan::{Plan, Step};
use crate::deploy::preflight::Fleet;
use crate::deploy::Action;
use crate::text::{column_widths, push_row};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Planned,
    Ok,
    Failed,
    Refused,
    Skipped,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub machine: String,
    pub class: Option<String>,
    pub action: Action,
    pub invocation: Option<Invocation>,
    pub outcome: Outcome,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub duration: Option<Duration>,
    pub forced: bool,
    pub blocking: Vec<usize>,
    pub waits_for: Vec<String>,
}

impl Record {
    pub fn new(step: &Step, action: Action, outcome: Outcome, reason: Option<String>) -> Record {
        Record {
            machine: step.machine.clone(),
            class: step.class.clone(),
            action,
            invocation: step.invocation.clone(),
            outcome,
            exit_code: None,
            reason,
            duration: None,
            forced: step.forced,
            blocking: step.blocking.clone(),
            waits_for: step.waits_for.clone(),
        }
    }
}

/// Why a refused machine is refused: nothing can run for it, or the codes of its findings.
pub fn refusal(fleet: &Fleet, s: &Step) -> String {
    if let Some(c) = &s.cannot {
        return c.clone();
    }
    let mut codes: Vec<&str> = Vec::new();
    for d in s.blocking.iter().filter_map(|&i| fleet.diagnostics.get(i)) {
        if !codes.contains(&d.code) {
            codes.push(d.code);
        }
    }
    format!(
        "{}: {}",
        crate::text::plural(s.blocking.len(), "finding", "findings"),
        codes.join(", ")
    )
}

/// The records of a plan that does not run: refused or planned.
pub fn planned(fleet: &Fleet, plan: &Plan) -> Vec<Record> {
    plan.steps()
        .map(|s| {
            if s.refused {
                Record::new(s, plan.action, Outcome::Refused, Some(refusal(fleet, s)))
            } else {
                Record::new(s, plan.action, Outcome::Planned, None)
            }
        })
        .collect()
}

/// Exit code 1 unless every machine ended ok (or is planned).
pub fn all_ok(records: &[Record]) -> bool {
    records
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Ok | Outcome::Planned))
}

const HEADER: [&str; 4] = ["MACHINE", "ACTION", "RESULT", "DURATION"];

/// The summary table: one row per record, then a count line.
pub fn table(records: &[Record]) -> String {
    let rows: Vec<[String; 4]> = records
        .iter()
        .map(|r| {
            let result = match r.outcome {
                Outcome::Planned => "planned".to_owned(),
                Outcome::Ok if r.forced => "ok (forced)".to_owned(),
                Outcome::Ok => "ok".to_owned(),
                // A failure's reason is its exit (`exit 3`), or why it says more.
                Outcome::Failed => format!(
                    "failed ({})",
                    r.reason
                        .clone()
                        .unwrap_or_else(|| crate::deploy::runner::exit_text(r.exit_code))
                ),
                Outcome::Refused => format!("refused ({})", r.reason.clone().unwrap_or_default()),
                Outcome::Skipped => format!("skipped ({})", r.reason.clone().unwrap_or_default()),
            };
            [
                r.machine.clone(),
                r.action.section().to_owned(),
                result,
                r.duration.map(seconds).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let widths = column_widths(&HEADER, &rows);
    let mut out = String::new();
    push_row(&mut out, "", &HEADER, &widths);
    for r in &rows {
        push_row(&mut out, "", r, &widths);
    }
    let count = |o: Outcome| records.iter().filter(|r| r.outcome == o).count();
    let mut parts = Vec::new();
    for (o, word) in [
        (Outcome::Ok, "ok"),
        (Outcome::Failed, "failed"),
        (Outcome::Refused, "refused"),
        (Outcome::Skipped, "skipped"),
        (Outcome::Planned, "planned"),
    ] {
        let n = count(o);
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    out.push_str(&parts.join(", "));
    out.push('\n');
    out
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    version: u32,
    action: &'static str,
    dry_run: bool,
    root: String,
    envrc: Option<&'static str>,
    batches: Vec<JsonBatch<'a>>,
    machines: Vec<JsonMachine<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonBatch<'a> {
    machines: Vec<&'a str>,
    reasons: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonMachine<'a> {
    name: &'a str,
    class: Option<&'a str>,
    action: &'static str,
    batch: Option<usize>,
    command: Option<JsonCommand<'a>>,
    result: Outcome,
    exit_code: Option<i32>,
    reason: Option<&'a str>,
    forced: bool,
    waits_for: &'a [String],
    blocking: Vec<JsonFinding<'a>>,
    duration_ms: Option<u128>,
}

#[derive(Serialize)]
struct JsonCommand<'a> {
    #[serde(flatten)]
    invocation: &'a Invocation,
    shown: String,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    severity: &'static str,
    message: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct JsonSummary {
    ok: usize,
    failed: usize,
    refused: usize,
    skipped: usize,
    planned: usize,
}

/// The JSON document for a run (or a plan: `dry_run`).
pub fn write_json(
    out: &mut dyn std::io::Write,
    fleet: &Fleet,
    plan: &Plan,
    records: &[Record],
    dry_run: bool,
    envrc: Option<crate::deploy::envrc::Status>,
) -> std::io::Result<()> {
    let batch_of = |m: &str| {
        plan.batches
            .iter()
            .position(|b| b.steps.iter().any(|s| s.machine == m))
            .map(|i| i + 1)
    };
    let count = |o: Outcome| records.iter().filter(|r| r.outcome == o).count();
    let doc = Document {
        version: SCHEMA_VERSION,
        action: plan.action.section(),
        dry_run,
        root: fleet.root.display().to_string(),
        envrc: envrc.map(|s| s.word()),
        batches: plan
            .batches
            .iter()
            .map(|b| JsonBatch {
                machines: b.steps.iter().map(|s| s.machine.as_str()).collect(),
                reasons: &b.reasons,
            })
            .collect(),
        machines: records
            .iter()
            .map(|r| JsonMachine {
                name: &r.machine,
                class: r.class.as_deref(),
                action: r.action.section(),
                batch: batch_of(&r.machine),
                command: r.invocation.as_ref().map(|i| JsonCommand {
                    invocation: i,
                    shown: i.shown(),
                }),
                result: r.outcome,
                exit_code: r.exit_code,
                reason: r.reason.as_deref(),
                forced: r.forced,
                waits_for: &r.waits_for,
                blocking: r
                    .blocking
                    .iter()
                    .filter_map(|&i| fleet.diagnostics.get(i))
                    .map(|d| {
                        let span = fleet.sources.span(d.file(), d.location.range);
                        JsonFinding {
                            code: d.code,
                            severity: d.severity.as_str(),
                            message: &d.message,
                            file: d.file(),
                            line: span.start.line,
                            column: span.start.column,
                        }
                    })
                    .collect(),
                duration_ms: r.duration.map(|d| d.as_millis()),
            })
            .collect(),
        summary: JsonSummary {
            ok: count(Outcome::Ok),
            failed: count(Outcome::Failed),
            refused: count(Outcome::Refused),
            skipped: count(Outcome::Skipped),
            planned: count(Outcome::Planned),
        },
    };
    crate::output::write_json(out, &doc)
}
