//! The Markdown table the benchmark prints.

use std::time::Duration;

/// A command's medians on one tree.
#[derive(Clone, Copy)]
pub struct Timed {
    pub wall: Duration,
    pub cpu: Option<Duration>,
    pub max_rss: Option<u64>,
}

/// One line of the table.
pub struct Row {
    pub tree: String,
    pub files: usize,
    pub bytes: u64,
    /// The serial walk of the tree ([`crate::measure::walk`]).
    pub walk: Duration,
    pub read_parse: Duration,
    /// The check's medians, or why there are none (a crash, unusable output).
    pub check: Result<Timed, String>,
    /// Per peer tool, in [`crate::PEERS`] order: `None` when it is not on `PATH`.
    pub peers: Vec<Option<Result<Timed, String>>>,
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// `num ÷ den`, as `1.23×`; `-` when `den` is zero.
pub(crate) fn ratio(num: std::time::Duration, den: std::time::Duration) -> String {
    let den = den.as_secs_f64();
    if den > 0.0 {
        format!("{:.2}×", num.as_secs_f64() / den)
    } else {
        "-".into()
    }
}

pub(crate) fn size(bytes: u64) -> String {
    let kib = bytes as f64 / 1024.0;
    if kib >= 1024.0 {
        format!("{:.1} MiB", kib / 1024.0)
    } else {
        format!("{kib:.0} KiB")
    }
}

fn with_rss(t: &Timed) -> String {
    match t.max_rss {
        Some(rss) => format!("{} ({})", ms(t.wall), size(rss)),
        None => ms(t.wall),
    }
}

pub fn markdown(rows: &[Row], peers: &[&str]) -> String {
    let mut head = vec![
        "tree",
        ".nix files",
        "bytes",
        "walk, serial",
        "read+parse, serial",
        "check wall",
        "check CPU",
        "check peak RSS",
        "wall ÷ (walk + read+parse)",
        "wall ÷ read+parse",
    ];
    head.extend(peers);
    let mut out = format!("| {} |\n", head.join(" | "));
    let align: Vec<&str> = head
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { "---" } else { "---:" })
        .collect();
    out.push_str(&format!("|{}|\n", align.join("|")));
    for r in rows {
        let mut cells = vec![
            r.tree.clone(),
            r.files.to_string(),
            size(r.bytes),
            ms(r.walk),
            ms(r.read_parse),
        ];
        match &r.check {
            Ok(t) => {
                cells.push(ms(t.wall));
                cells.push(t.cpu.map_or("-".into(), ms));
                cells.push(t.max_rss.map_or("-".into(), size));
                for base in [r.walk + r.read_parse, r.read_parse] {
                    cells.push(ratio(t.wall, base));
                }
            }
            Err(e) => {
                cells.push(e.clone());
                cells.extend(["-", "-", "-", "-"].map(str::to_owned));
            }
        }
        for p in &r.peers {
            cells.push(match p {
                None => "-".to_owned(),
                Some(Ok(t)) => with_rss(t),
                Some(Err(e)) => e.clone(),
            });
        }
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}
