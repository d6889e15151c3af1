//! The JSON data files the flake and clan read — `flake.lock` and `inventory.json` — parsed
//! once, with what is wrong with them as plain problems. Messages give a line and column, never
//! the file's content: serde's own messages quote the offending value, and a data file may be
//! anything a link points at.

use std::sync::Arc;

use crate::db::{file_by_path, Db, Workspace};
use crate::diagnostic::TextRange;

/// What is wrong with a data file, at a place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataProblem {
    pub file: String,
    pub range: TextRange,
    pub message: String,
}

/// A data file as the analyzer could read it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum JsonFile {
    /// There is no such file.
    #[default]
    Absent,
    /// It exists but could not be read, or is not JSON of the expected shape at the top: what
    /// it says is unknown.
    Unknown,
    Known(serde_json::Value),
}

/// Parses `text` as JSON; the error is a sentence that ends after "… `file` " with how it is
/// wrong and where (e.g. "is not valid JSON (line 3, column 7)").
pub fn parse(file: &str, text: &str) -> Result<serde_json::Value, DataProblem> {
    serde_json::from_str(text).map_err(|e| DataProblem {
        file: file.to_owned(),
        range: error_range(text, &e),
        message: error_words(text, &e),
    })
}

/// How a serde_json error says the text is wrong, in words that quote none of it.
pub fn error_words(text: &str, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    if text.trim().is_empty() {
        return "is empty".into();
    }
    // serde_json says column 0 for an error just after a line break.
    let at = format!("line {}, column {}", e.line(), e.column().max(1));
    match e.classify() {
        Category::Eof => format!("ends before the JSON is complete ({at})"),
        Category::Syntax => format!("is not valid JSON ({at})"),
        Category::Data => format!("has a value of the wrong type or shape ({at})"),
        Category::Io => format!("could not be read as JSON ({at})"),
    }
}

/// The byte range a serde_json error points at (its line and column; the column counts
/// bytes), kept inside the text and on a character boundary.
pub fn error_range(text: &str, e: &serde_json::Error) -> TextRange {
    if text.trim().is_empty() {
        return TextRange::default();
    }
    let line_start = if e.line() <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(e.line() - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let mut at = (line_start + e.column().saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    TextRange::new(at as u32, at as u32)
}

/// What a JSON value is, for "holds a list where … expects an object".
pub fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "`null`",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Where the key `"name"` first appears at or after `from`, for pointing at a value whose shape
/// is wrong (serde_json's values do not keep their positions).
pub fn key_range(text: &str, name: &str, from: usize) -> TextRange {
    let needle = format!("{}:", serde_json::Value::String(name.to_owned()));
    let quoted = &needle[..needle.len() - 1];
    let rest = text.get(from..).unwrap_or("");
    match rest.find(quoted) {
        Some(i) => TextRange::new((from + i) as u32, (from + i + quoted.len()) as u32),
        None => TextRange::default(),
    }
}

/// The keys of the JSON object that starts at or after `from` (the first `{`), each with where
/// it is written, in one pass over the text. serde_json's values do not keep positions, and
/// searching for every key from the start would be quadratic in a large `inventory.json`.
pub fn object_keys(text: &str, from: usize) -> std::collections::HashMap<String, TextRange> {
    let mut out = std::collections::HashMap::new();
    let bytes = text.as_bytes();
    let Some(open) = text.get(from..).and_then(|r| r.find('{')) else {
        return out;
    };
    let mut i = from + open + 1;
    let mut depth = 1usize;
    // Whether the next string at depth 1 is a key (after `{` or `,`), not a value.
    let mut expect_key = true;
    while i < bytes.len() && depth > 0 {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let end = (i + 1).min(bytes.len());
                if depth == 1 && expect_key {
                    if let Some(Ok(key)) = text.get(start..end).map(serde_json::from_str::<String>)
                    {
                        out.entry(key)
                            .or_insert(TextRange::new(start as u32, end as u32));
                    }
                    expect_key = false;
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b',' if depth == 1 => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    out
}

/// `inventory.json`, with what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    pub file: JsonFile,
    pub problems: Vec<DataProblem>,
}

pub const INVENTORY_FILE: &str = "inventory.json";

/// Reads `inventory.json`: an object whose `machines`, when present, is an object of objects.
/// Deeper shapes (a `machineClass` that is not a string, …) are the clan model's to weigh; the
/// problems found here are reported by the checks.
#[salsa::tracked(returns(ref))]
pub fn inventory_json(db: &dyn Db, ws: Workspace) -> Arc<Inventory> {
    let mut out = Inventory::default();
    let Some(f) = file_by_path(db, ws, INVENTORY_FILE) else {
        if ws.disk(db).exists(INVENTORY_FILE) {
            // Present but unreadable: the loader's problem says why.
            out.file = JsonFile::Unknown;
        }
        return Arc::new(out);
    };
    let text = f.text(db);
    let problem = |range: TextRange, what: String| {
        DataProblem {
        file: INVENTORY_FILE.to_owned(),
        range,
        message: format!(
            "`{INVENTORY_FILE}` {what}, so clan cannot evaluate the flake and infra-check treats the machines it would list as unknown. Correct it, or write it again with the clan CLI."
        ),
    }
    };
    let value = match parse(INVENTORY_FILE, text) {
        Ok(v) => v,
        Err(p) => {
            out.problems.push(problem(p.range, p.message));
            out.file = JsonFile::Unknown;
            return Arc::new(out);
        }
    };
    let Some(top) = value.as_object() else {
        out.problems.push(problem(
            TextRange::default(),
            format!("holds {} where clan expects an object", kind(&value)),
        ));
        out.file = JsonFile::Unknown;
        return Arc::new(out);
    };
    if let Some(machines) = top.get("machines") {
        let at = key_range(text, "machines", 0);
        match machines.as_object() {
            None => {
                out.problems.push(problem(
                    at,
                    format!(
                        "has {} under `machines`, where clan expects an object of machines",
                        kind(machines)
                    ),
                ));
                out.file = JsonFile::Unknown;
                return Arc::new(out);
            }
            Some(ms) => {
                for (name, m) in ms {
                    if !m.is_object() {
                        out.problems.push(problem(
                            key_range(text, name, at.end as usize),
                            format!(
                                "has {} for a machine (at the marked key), where clan expects an object",
                                kind(m)
                            ),
                        ));
                    }
                }
            }
        }
    }
    out.file = JsonFile::Known(value);
    Arc::new(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_are_found_where_they_are_written() {
        let text = r#"{ "meta": { "name": "x" }, "machines": { "web": { "tags": [ "a", "web" ] },
  "db\"1": {}, "mac": { "machineClass": "darwin" } } }"#;
        let top = object_keys(text, 0);
        let mut names: Vec<&String> = top.keys().collect();
        names.sort();
        assert_eq!(names, ["machines", "meta"]);
        let machines = object_keys(text, top["machines"].end as usize);
        let at = |k: &str| &text[machines[k].start as usize..machines[k].end as usize];
        assert_eq!(at("web"), "\"web\"");
        assert_eq!(at("db\"1"), "\"db\\\"1\"");
        assert_eq!(at("mac"), "\"mac\"");
        // Values that look like keys are not keys; nested keys are not this object's.
        assert_eq!(machines.len(), 3);
        assert_eq!(object_keys("not json", 0).len(), 0);
    }

    #[test]
    fn errors_give_a_place_and_quote_nothing() {
        let text = "{\n  \"machines\": {\n    \"root:x:0:0\": tru }\n}\n";
        let p = parse("inventory.json", text).unwrap_err();
        assert!(
            p.message.starts_with("is not valid JSON (line 3"),
            "{}",
            p.message
        );
        assert!(!p.message.contains("root:x"), "{}", p.message);
        let line_3 = text.find("    \"root").unwrap() as u32;
        assert!(p.range.start >= line_3, "{:?}", p.range);
        assert_eq!(parse("f", "").unwrap_err().message, "is empty");
        assert!(parse("f", "{\"a\": [1, 2")
            .unwrap_err()
            .message
            .starts_with("ends before the JSON is complete"));
        // A typed parse names the line, not the value it met.
        let e = serde_json::from_str::<u32>("\"secret-value\"").unwrap_err();
        let words = error_words("\"secret-value\"", &e);
        assert!(
            words.contains("wrong type") && !words.contains("secret-value"),
            "{words}"
        );
    }

    #[test]
    fn key_ranges_point_at_the_key() {
        let text = "{ \"machines\": { \"a\": 1 } }";
        let r = key_range(text, "machines", 0);
        assert_eq!(&text[r.start as usize..r.end as usize], "\"machines\"");
        let r = key_range(text, "a", r.end as usize);
        assert_eq!(&text[r.start as usize..r.end as usize], "\"a\"");
        assert_eq!(key_range(text, "zzz", 0), TextRange::default());
    }
}
