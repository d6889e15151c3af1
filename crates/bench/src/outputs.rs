//! The "nothing may change a diagnostic" guard: `check --format json` output with the tree's
//! absolute path replaced by `<root>`, saved per tree and compared against a saved set.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// What stands for the tree's absolute path in saved output.
pub const ROOT: &str = "<root>";

/// Parses `stdout` and replaces every occurrence of the tree's path (as given and canonical)
/// in every string, so outputs from different checkouts or temporary directories compare.
pub fn normalise(stdout: &[u8], root: &Path) -> Result<Value, String> {
    let mut doc: Value =
        serde_json::from_slice(stdout).map_err(|e| format!("the output is not JSON ({e})"))?;
    let mut roots: Vec<String> = vec![root.display().to_string()];
    if let Ok(c) = root.canonicalize() {
        roots.push(c.display().to_string());
    }
    // The longer path first, so a path inside the other is replaced whole.
    roots.sort_by_key(|r| std::cmp::Reverse(r.len()));
    roots.dedup();
    replace(&mut doc, &roots);
    Ok(doc)
}

fn replace(v: &mut Value, roots: &[String]) {
    match v {
        Value::String(s) => {
            for r in roots {
                if s.contains(r.as_str()) {
                    *s = s.replace(r.as_str(), ROOT);
                }
            }
        }
        Value::Array(xs) => xs.iter_mut().for_each(|x| replace(x, roots)),
        Value::Object(m) => m.values_mut().for_each(|x| replace(x, roots)),
        _ => {}
    }
}

/// Writes `doc` to `dir/<tree>.json`, pretty-printed so a change reads well in `diff`.
pub fn save(dir: &Path, tree: &str, doc: &Value) -> Result<(), String> {
    let path = dir.join(format!("{tree}.json"));
    let cannot = |e: &dyn std::fmt::Display| {
        format!(
            "The output of `{tree}` could not be saved to `{}`: {e}.",
            path.display()
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| cannot(&e))?;
    let mut text = serde_json::to_string_pretty(doc).map_err(|e| cannot(&e))?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| cannot(&e))
}

/// Compares `doc` with `dir/<tree>.json`: `Ok(())` when they are equal, otherwise a summary of
/// what differs (a missing saved file is a difference too: the guard must not pass silently).
pub fn compare(dir: &Path, tree: &str, doc: &Value) -> Result<(), String> {
    let path = dir.join(format!("{tree}.json"));
    let saved: Value = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            format!("{tree}: the saved output `{}` is not JSON ({e}).", path.display())
        })?,
        Err(e) => {
            return Err(format!(
                "{tree}: there is no saved output to compare with at `{}` ({e}); run with `--save-json {}` on the reference binary first.",
                path.display(),
                dir.display()
            ))
        }
    };
    if &saved == doc {
        return Ok(());
    }
    Err(differences(tree, &saved, doc))
}

/// A short account of how `now` differs from `before`: diagnostics gone and new (as multisets,
/// so reordering alone shows as an order change), then any other key that changed.
fn differences(tree: &str, before: &Value, now: &Value) -> String {
    let diags = |v: &Value| -> Vec<Value> {
        v.get("diagnostics")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (b, n) = (diags(before), diags(now));
    let count = |xs: &[Value]| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for x in xs {
            *m.entry(x.to_string()).or_default() += 1;
        }
        m
    };
    let (cb, cn) = (count(&b), count(&n));
    let only = |a: &BTreeMap<String, usize>, z: &BTreeMap<String, usize>| -> Vec<String> {
        let mut out = Vec::new();
        for (k, &c) in a {
            let other = z.get(k).copied().unwrap_or(0);
            for _ in other..c {
                out.push(k.clone());
            }
        }
        out
    };
    let gone = only(&cb, &cn);
    let new = only(&cn, &cb);
    let mut lines = vec![format!(
        "{tree}: the output differs from the saved one ({} diagnostics before, {} now; {} gone, {} new).",
        b.len(),
        n.len(),
        gone.len(),
        new.len()
    )];
    const SHOWN: usize = 5;
    for (label, xs) in [("gone", &gone), ("new", &new)] {
        for x in xs.iter().take(SHOWN) {
            let d: Value = serde_json::from_str(x).unwrap_or(Value::Null);
            lines.push(format!("  {label}: {}", describe(&d)));
        }
        if xs.len() > SHOWN {
            lines.push(format!("  … and {} more {label}", xs.len() - SHOWN));
        }
    }
    if gone.is_empty() && new.is_empty() && b != n {
        lines.push("  the same diagnostics, in a different order".to_owned());
    }
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut all = keys(before);
    all.extend(keys(now));
    all.sort();
    all.dedup();
    for k in all.iter().filter(|k| *k != "diagnostics") {
        if before.get(k) != now.get(k) {
            let show = |v: Option<&Value>| v.map_or("(absent)".to_owned(), Value::to_string);
            lines.push(format!(
                "  `{k}` was {}, is now {}",
                show(before.get(k)),
                show(now.get(k))
            ));
        }
    }
    lines.join("\n")
}

/// `file:line: severity[code] message` of one JSON diagnostic.
fn describe(d: &Value) -> String {
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("?");
    let line = d
        .pointer("/range/start/line")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut message = s("message").to_owned();
    if message.chars().count() > 160 {
        message = message.chars().take(160).collect::<String>() + "…";
    }
    format!(
        "{}:{line}: {}[{}] {message}",
        s("file"),
        s("severity"),
        s("code")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diag(code: &str, line: u64) -> Value {
        json!({"code": code, "severity": "error", "message": "m", "file": "a.nix",
               "range": {"start": {"line": line, "column": 1}, "end": {"line": line, "column": 2}}})
    }

    #[test]
    fn the_root_is_replaced_in_every_string() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let out = format!(
            r#"{{"root": "{0}", "diagnostics": [{{"message": "see {0}/x.nix"}}]}}"#,
            root.display()
        );
        let doc = normalise(out.as_bytes(), &root).unwrap();
        assert_eq!(doc["root"], ROOT);
        assert_eq!(doc["diagnostics"][0]["message"], "see <root>/x.nix");
    }

    #[test]
    fn equal_outputs_compare_and_changed_ones_are_summarised() {
        let dir = tempfile::tempdir().unwrap();
        let before = json!({"version": 1, "diagnostics": [diag("a/x", 1), diag("a/y", 2)], "summary": {"error": 2}});
        save(dir.path(), "t", &before).unwrap();
        assert_eq!(compare(dir.path(), "t", &before), Ok(()));

        let now = json!({"version": 1, "diagnostics": [diag("a/x", 1), diag("a/z", 3)], "summary": {"error": 2}});
        let e = compare(dir.path(), "t", &now).unwrap_err();
        assert!(e.contains("1 gone, 1 new"), "{e}");
        assert!(e.contains("gone: a.nix:2: error[a/y]"), "{e}");
        assert!(e.contains("new: a.nix:3: error[a/z]"), "{e}");

        let reordered = json!({"version": 1, "diagnostics": [diag("a/y", 2), diag("a/x", 1)], "summary": {"error": 1}});
        let e = compare(dir.path(), "t", &reordered).unwrap_err();
        assert!(e.contains("in a different order"), "{e}");
        assert!(e.contains("`summary` was"), "{e}");
    }

    #[test]
    fn a_missing_saved_output_is_a_difference() {
        let dir = tempfile::tempdir().unwrap();
        let e = compare(dir.path(), "absent", &json!({})).unwrap_err();
        assert!(e.contains("no saved output"), "{e}");
    }
}
