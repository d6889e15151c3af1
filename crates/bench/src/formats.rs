//! How long each output format takes to produce on a tree with thousands of findings, next to
//! the check that found them: issue 13 asks that no output be slower to produce than the check.
//!
//! The tree is a fleetgen fleet with its `vars/` and `sops/` removed, so every machine misses
//! the vars its services generate (one finding per machine, and more). Each format runs as a
//! whole process with `INFRA_CHECK_TIMINGS=1`, whose "render the report" line is the time spent
//! producing the output once the findings are known.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::{measure, table};

/// The name that selects this part with `--only`.
pub const TREE: &str = "formats";

pub const FORMATS: [&str; 4] = ["human", "json", "sarif", "github"];

/// One format's medians.
pub struct FormatRow {
    pub format: &'static str,
    pub bytes: usize,
    pub wall: Duration,
    pub render: Duration,
}

/// Every format's row, and how many findings the tree has.
pub struct Formats {
    pub findings: usize,
    pub rows: Vec<FormatRow>,
}

/// Writes the fleet of `machines` machines without its vars into a fresh temporary directory.
pub fn findings_fleet(machines: usize) -> Result<crate::trees::Tree, String> {
    let tree = crate::trees::fleet(machines)?;
    for dir in ["vars", "sops"] {
        let path = tree.root.join(dir);
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .map_err(|e| format!("`{}` could not be removed: {e}.", path.display()))?;
        }
    }
    Ok(tree)
}

/// Times every format on `root`, `runs` times each after one warm-up.
pub fn bench(binary: &Path, root: &Path, runs: usize) -> Result<Formats, String> {
    let mut rows = Vec::new();
    let mut findings = 0;
    for format in FORMATS {
        let cmd = || {
            let mut cmd = Command::new(binary);
            cmd.arg("check")
                .arg(root)
                .arg("--format")
                .arg(format)
                .env("INFRA_CHECK_TIMINGS", "1")
                .env("NO_COLOR", "1");
            cmd
        };
        let (mut renders, mut bytes) = (Vec::new(), 0);
        let timed = crate::timed(runs, cmd, |run| {
            if !matches!(run.code, Some(0 | 1)) {
                return Err(format!(
                    "`infra-check check --format {format}` failed on `{}` ({:?}).",
                    root.display(),
                    run.code
                ));
            }
            renders.push(render_time(&run.stderr).ok_or_else(|| {
                format!(
                    "`infra-check check --format {format}` printed no \"render the report\" timing: is `{}` older than the benchmark?",
                    binary.display()
                )
            })?);
            bytes = run.stdout.len();
            if format == "json" {
                let doc: serde_json::Value = serde_json::from_slice(&run.stdout)
                    .map_err(|e| format!("`check --format json` printed no JSON: {e}."))?;
                findings = doc["diagnostics"].as_array().map_or(0, Vec::len);
            }
            Ok(())
        })?;
        rows.push(FormatRow {
            format,
            bytes,
            wall: timed.wall,
            // The first run was the warm-up.
            render: measure::median(&renders[1..]).unwrap_or_default(),
        });
    }
    Ok(Formats { findings, rows })
}

/// The "render the report" phase from `INFRA_CHECK_TIMINGS` output.
fn render_time(stderr: &[u8]) -> Option<Duration> {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .find(|l| l.contains("timing: render the report"))?;
    let ms: f64 = line
        .split("render the report")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(Duration::from_secs_f64(ms / 1000.0))
}

/// The Markdown table of the formats.
pub fn markdown(tree: &str, formats: &Formats) -> String {
    let mut out = format!(
        "Output formats on {tree} ({} findings): the whole process per format, and the part of it spent producing the output.\n\n| format | output | check wall | producing the output | output ÷ the rest of the run |\n|---|---:|---:|---:|---:|\n",
        formats.findings
    );
    for r in &formats.rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.format,
            table::size(r.bytes as u64),
            table::ms(r.wall),
            table::ms(r.render),
            table::ratio(r.render, r.wall.saturating_sub(r.render)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_render_phase_from_the_timings() {
        let stderr = b"infra-check timing: walk                              2.09 ms\ninfra-check timing: render the report                57.70 ms  (resident 308.9 MiB)\n";
        assert_eq!(render_time(stderr), Some(Duration::from_secs_f64(0.0577)));
        assert_eq!(render_time(b"infra-check timing: walk 2.09 ms\n"), None);
    }
}
