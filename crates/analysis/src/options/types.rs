//! Module-system option types as plain data, a parser for the small type language the service
//! catalog is written in, and a checker of known (JSON-like) values against a type.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OptType {
    Str,
    /// `lines`, `commas`, `separatedString`, `string`: strings that merge by concatenation.
    Lines,
    Bool,
    Int,
    /// An int in 0..=65535.
    Port,
    Float,
    /// A path or a string that is an absolute path.
    Path,
    Enum(Vec<String>),
    ListOf(Box<OptType>),
    AttrsOf(Box<OptType>),
    NullOr(Box<OptType>),
    Either(Vec<OptType>),
    Submodule(BTreeMap<String, OptionSpec>),
    StrMatching(String),
    Package,
    /// `raw`, `anything`, `unspecified`, `deferredModule`, and every type we do not model.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OptionSpec {
    pub ty: OptType,
    /// No default: leaving it unset is an error when the option is used.
    pub required: bool,
}

impl OptType {
    /// How Nix's module system names the type in its errors.
    pub fn describe(&self) -> String {
        match self {
            OptType::Str => "string".into(),
            OptType::Lines => "strings concatenated with a separator".into(),
            OptType::Bool => "boolean".into(),
            OptType::Int => "signed integer".into(),
            OptType::Port => "16 bit unsigned integer; between 0 and 65535 (both inclusive)".into(),
            OptType::Float => "floating point number".into(),
            OptType::Path => "absolute path".into(),
            OptType::Enum(vs) => format!(
                "one of {}",
                vs.iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            OptType::ListOf(t) => format!("list of {}", t.describe()),
            OptType::AttrsOf(t) => format!("attribute set of {}", t.describe()),
            OptType::NullOr(t) => format!("null or {}", t.describe()),
            OptType::Either(ts) => ts
                .iter()
                .map(|t| t.describe())
                .collect::<Vec<_>>()
                .join(" or "),
            OptType::Submodule(_) => "submodule".into(),
            OptType::StrMatching(re) => format!("string matching the pattern {re}"),
            OptType::Package => "package".into(),
            OptType::Unknown => "anything".into(),
        }
    }

    /// Parses the catalog's type language: `str`, `bool`, `int`, `port`, `float`, `path`,
    /// `package`, `anything`, `listOf T`, `attrsOf T`, `nullOr T`, `either T U`,
    /// `enum [ "a" "b" ]`, `strMatching "re"`, `submodule { name = T; other? = T; }` (a `?` marks
    /// an option with a default), and parentheses.
    pub fn parse(src: &str) -> Result<OptType, String> {
        let toks = tokenize(src)?;
        let mut p = Parser { toks, pos: 0 };
        let t = p.ty()?;
        if p.pos != p.toks.len() {
            return Err(format!("unexpected `{}` in type `{src}`", p.toks[p.pos]));
        }
        Ok(t)
    }
}

fn tokenize(src: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = src.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if "()[]{};=".contains(c) {
            out.push(c.to_string());
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::from("\"");
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => {
                        if let Some(n) = chars.next() {
                            s.push(n);
                        }
                    }
                    Some(ch) => s.push(ch),
                    None => return Err(format!("unterminated string in type `{src}`")),
                }
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || "()[]{};=\"".contains(ch) {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            out.push(s);
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(|s| s.as_str())
    }
    fn next(&mut self) -> Result<String, String> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or_else(|| "unexpected end of type".to_owned())?;
        self.pos += 1;
        Ok(t)
    }
    fn expect(&mut self, s: &str) -> Result<(), String> {
        let t = self.next()?;
        if t == s {
            Ok(())
        } else {
            Err(format!("expected `{s}`, found `{t}`"))
        }
    }

    fn ty(&mut self) -> Result<OptType, String> {
        let head = self.next()?;
        Ok(match head.as_str() {
            "(" => {
                let t = self.ty()?;
                self.expect(")")?;
                t
            }
            "str" | "nonEmptyStr" | "singleLineStr" => OptType::Str,
            "string" | "lines" | "commas" => OptType::Lines,
            "bool" => OptType::Bool,
            "int" | "ints.unsigned" | "ints.positive" => OptType::Int,
            "port" | "ints.u16" => OptType::Port,
            "float" | "number" => OptType::Float,
            "path" => OptType::Path,
            "package" => OptType::Package,
            "anything" | "raw" | "unspecified" | "deferredModule" | "attrs" => OptType::Unknown,
            "listOf" => OptType::ListOf(Box::new(self.ty()?)),
            "attrsOf" | "lazyAttrsOf" => OptType::AttrsOf(Box::new(self.ty()?)),
            "nullOr" => OptType::NullOr(Box::new(self.ty()?)),
            "either" => OptType::Either(vec![self.ty()?, self.ty()?]),
            "enum" => {
                self.expect("[")?;
                let mut vs = Vec::new();
                while self.peek() != Some("]") {
                    let v = self.next()?;
                    vs.push(v.strip_prefix('"').unwrap_or(&v).to_owned());
                }
                self.expect("]")?;
                OptType::Enum(vs)
            }
            "strMatching" => {
                let re = self.next()?;
                OptType::StrMatching(re.strip_prefix('"').unwrap_or(&re).to_owned())
            }
            "submodule" => {
                self.expect("{")?;
                let mut opts = BTreeMap::new();
                while self.peek() != Some("}") {
                    let name = self.next()?;
                    let (name, required) = match name.strip_suffix('?') {
                        Some(n) => (n.to_owned(), false),
                        None => (name, true),
                    };
                    self.expect("=")?;
                    let ty = self.ty()?;
                    self.expect(";")?;
                    opts.insert(name, OptionSpec { ty, required });
                }
                self.expect("}")?;
                OptType::Submodule(opts)
            }
            other => return Err(format!("unknown type `{other}`")),
        })
    }
}

/// A value known well enough to type-check: JSON plus paths.
pub type KnownValue = serde_json::Value;

impl OptType {
    /// Whether several definitions of different values merge instead of conflicting.
    pub fn mergeable(&self) -> bool {
        match self {
            OptType::Str
            | OptType::Bool
            | OptType::Int
            | OptType::Port
            | OptType::Float
            | OptType::Path
            | OptType::Enum(_)
            | OptType::StrMatching(_)
            | OptType::Package => false,
            OptType::NullOr(t) => t.mergeable(),
            OptType::Either(ts) => ts.iter().all(|t| t.mergeable()),
            OptType::Lines
            | OptType::ListOf(_)
            | OptType::AttrsOf(_)
            | OptType::Submodule(_)
            | OptType::Unknown => true,
        }
    }

    /// Checks a value defined at `rest` below an option of this type (a definition written
    /// as `option.a.b = v` has `rest = [a, b]`).
    pub fn check_at_path(&self, rest: &[String], v: &KnownValue) -> Result<(), String> {
        Checker::for_value(v).check_at_path(self, rest, v)
    }
}

/// The work one check may do, in steps: a generous multiple of the value's size, so that
/// alternatives (`either`, `oneOf`, `nullOr`) tried inside alternatives cannot take
/// exponential time. A check that runs out accepts the value: an unfinished check never
/// reports a mismatch, and a mismatch is only reported when every alternative really failed.
struct Checker {
    left: u64,
}

impl Checker {
    fn for_value(v: &KnownValue) -> Checker {
        fn size(v: &KnownValue, budget: &mut u64) {
            *budget += 1;
            match v {
                serde_json::Value::Array(a) => a.iter().for_each(|x| size(x, budget)),
                serde_json::Value::Object(m) => m.values().for_each(|x| size(x, budget)),
                _ => {}
            }
        }
        let mut n = 0;
        size(v, &mut n);
        Checker {
            left: 10_000 + 64 * n,
        }
    }

    /// Pays for one step; false when the check has run out.
    fn step(&mut self) -> bool {
        match self.left.checked_sub(1) {
            Some(l) => {
                self.left = l;
                true
            }
            None => false,
        }
    }

    fn check_at_path(
        &mut self,
        ty: &OptType,
        rest: &[String],
        v: &KnownValue,
    ) -> Result<(), String> {
        if !self.step() {
            return Ok(());
        }
        let Some((first, more)) = rest.split_first() else {
            return self.check_at(ty, v, String::new());
        };
        match ty {
            OptType::AttrsOf(t) => self.check_at_path(t, more, v),
            OptType::Submodule(opts) => match opts.get(first) {
                Some(o) => self.check_at_path(&o.ty, more, v),
                None => Err(format!(
                    "`{first}` is not an option of this submodule (it has {})",
                    opts.keys()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            OptType::NullOr(t) => self.check_at_path(t, rest, v),
            OptType::Either(ts) => {
                if ts.iter().any(|t| self.check_at_path(t, rest, v).is_ok()) {
                    Ok(())
                } else {
                    Err(format!(
                        "expected {}, found an attribute set",
                        ty.describe()
                    ))
                }
            }
            OptType::Unknown | OptType::Package => Ok(()),
            _ => Err(format!(
                "expected {}, found an attribute set",
                ty.describe()
            )),
        }
    }

    fn check_at(&mut self, ty: &OptType, v: &KnownValue, at: String) -> Result<(), String> {
        if !self.step() {
            return Ok(());
        }
        check_at(self, ty, v, at)
    }
}

/// Checks `v` against `ty`. `Ok` when it fits (or the type is unknown); `Err` with a sentence
/// naming what was expected and the sub-path (like `.hosts[2]`) where it fails.
pub fn check_value(ty: &OptType, v: &KnownValue) -> Result<(), String> {
    Checker::for_value(v).check_at(ty, v, String::new())
}

fn check_at(c: &mut Checker, ty: &OptType, v: &KnownValue, at: String) -> Result<(), String> {
    use serde_json::Value as J;
    let fail = |what: &str| {
        Err(format!(
            "{}expected {}, found {}",
            if at.is_empty() {
                String::new()
            } else {
                format!("at `{at}`: ")
            },
            ty.describe(),
            what
        ))
    };
    let found = match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        J::Number(_) => "a float",
        J::String(_) => "a string",
        J::Array(_) => "a list",
        J::Object(_) => "an attribute set",
    };
    match ty {
        OptType::Unknown | OptType::Package => Ok(()),
        OptType::Str | OptType::Lines => match v {
            J::String(_) => Ok(()),
            _ => fail(found),
        },
        OptType::StrMatching(re) => match v {
            // Nix regexes are POSIX extended; we only check the type, not the pattern.
            J::String(_) => {
                let _ = re;
                Ok(())
            }
            _ => fail(found),
        },
        OptType::Bool => match v {
            J::Bool(_) => Ok(()),
            _ => fail(found),
        },
        OptType::Int => match v {
            J::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
            _ => fail(found),
        },
        OptType::Port => match v.as_i64() {
            Some(n) if (0..=65535).contains(&n) && !v.is_f64() => Ok(()),
            Some(n) if !v.is_f64() => fail(&format!("the integer {n}")),
            _ => fail(found),
        },
        OptType::Float => match v {
            J::Number(_) => Ok(()),
            _ => fail(found),
        },
        OptType::Path => match v {
            J::String(s) if s.starts_with('/') => Ok(()),
            J::String(s) => fail(&format!(
                "the string \"{s}\", which is not an absolute path"
            )),
            _ => fail(found),
        },
        OptType::Enum(vs) => match v {
            J::String(s) if vs.contains(s) => Ok(()),
            J::String(s) => fail(&format!("\"{s}\"")),
            _ => fail(found),
        },
        OptType::ListOf(t) => match v {
            J::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    c.check_at(t, x, format!("{at}[{i}]"))?;
                }
                Ok(())
            }
            _ => fail(found),
        },
        OptType::AttrsOf(t) => match v {
            J::Object(m) => {
                for (k, x) in m {
                    c.check_at(t, x, format!("{at}.{k}"))?;
                }
                Ok(())
            }
            _ => fail(found),
        },
        OptType::NullOr(t) => match v {
            J::Null => Ok(()),
            _ => c.check_at(t, v, at.clone()).or_else(|_| fail(found)),
        },
        OptType::Either(ts) => {
            if ts.iter().any(|t| c.check_at(t, v, at.clone()).is_ok()) {
                Ok(())
            } else {
                fail(found)
            }
        }
        OptType::Submodule(opts) => match v {
            J::Object(m) => {
                for (k, x) in m {
                    match opts.get(k) {
                        Some(o) => c.check_at(&o.ty, x, format!("{at}.{k}"))?,
                        None => {
                            return Err(format!(
                                "`{at}.{k}` is not an option of this submodule (it has {})",
                                opts.keys()
                                    .map(|k| format!("`{k}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        }
                    }
                }
                Ok(())
            }
            _ => fail(found),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_catalog_type_language() {
        assert_eq!(
            OptType::parse("nullOr (listOf str)").unwrap(),
            OptType::NullOr(Box::new(OptType::ListOf(Box::new(OptType::Str))))
        );
        assert_eq!(
            OptType::parse("enum [ \"a\" \"b\" ]").unwrap(),
            OptType::Enum(vec!["a".into(), "b".into()])
        );
        let sub = OptType::parse("attrsOf (submodule { enable? = bool; keyMgmt = str; })").unwrap();
        let OptType::AttrsOf(inner) = sub else {
            panic!()
        };
        let OptType::Submodule(opts) = *inner else {
            panic!()
        };
        assert!(!opts["enable"].required && opts["keyMgmt"].required);
        assert!(OptType::parse("listOf").is_err());
        assert!(OptType::parse("frobnicate").is_err());
    }

    #[test]
    fn checks_values_and_names_the_failing_place() {
        let t = OptType::parse("listOf str").unwrap();
        assert!(check_value(&t, &json!(["a", "b"])).is_ok());
        let e = check_value(&t, &json!(["a", 1])).unwrap_err();
        assert!(e.contains("[1]") && e.contains("string"), "{e}");
        let port = OptType::Port;
        assert!(check_value(&port, &json!(8080)).is_ok());
        assert!(check_value(&port, &json!(70000)).is_err());
        assert!(check_value(&port, &json!("8080")).is_err());
        assert!(check_value(&OptType::Unknown, &json!({"x": 1})).is_ok());
        let e = check_value(&OptType::Enum(vec!["a".into()]), &json!("b")).unwrap_err();
        assert!(e.contains("one of \"a\""), "{e}");
    }

    #[test]
    fn every_type_constructor_accepts_and_rejects() {
        // (type, accepted, rejected)
        let cases: &[(&str, serde_json::Value, serde_json::Value)] = &[
            ("bool", json!(true), json!("true")),
            ("str", json!("x"), json!(1)),
            ("lines", json!("a\nb"), json!(["a"])),
            ("int", json!(-3), json!(1.5)),
            ("port", json!(65535), json!(65536)),
            ("float", json!(1.5), json!("1.5")),
            ("path", json!("/etc/x"), json!("relative")),
            ("package", json!("anything goes"), json!(null)),
            ("anything", json!({"a": [1]}), json!(null)),
            ("enum [ \"a\" \"b\" ]", json!("a"), json!("c")),
            ("listOf int", json!([1, 2]), json!([1, "2"])),
            ("attrsOf bool", json!({"x": true}), json!({"x": 1})),
            ("nullOr str", json!(null), json!(1)),
            ("either int str", json!("x"), json!(true)),
            ("strMatching \"^[a-z]+$\"", json!("abc"), json!(3)),
            (
                "submodule { ip = str; port? = port; }",
                json!({"ip": "1.2.3.4"}),
                json!({"ip": "x", "nope": 1}),
            ),
        ];
        for (ty, good, bad) in cases {
            let t = OptType::parse(ty).unwrap();
            assert!(check_value(&t, good).is_ok(), "{ty} should accept {good}");
            // `package` and `anything` accept everything: their "bad" case must pass too.
            if matches!(t, OptType::Package | OptType::Unknown) {
                assert!(check_value(&t, bad).is_ok(), "{ty} accepts {bad}");
            } else {
                assert!(check_value(&t, bad).is_err(), "{ty} should reject {bad}");
            }
        }
    }

    #[test]
    fn definitions_below_an_option_follow_the_type() {
        let t = OptType::parse("attrsOf (submodule { ip = str; })").unwrap();
        assert!(t
            .check_at_path(&["db".into(), "ip".into()], &json!("1.2.3.4"))
            .is_ok());
        assert!(t
            .check_at_path(&["db".into(), "ip".into()], &json!(1))
            .is_err());
        assert!(t
            .check_at_path(&["db".into(), "mac".into()], &json!("x"))
            .is_err());
        assert!(OptType::Str
            .check_at_path(&["x".into()], &json!(1))
            .is_err());
        assert!(OptType::Unknown
            .check_at_path(&["x".into()], &json!(1))
            .is_ok());
        assert!(!OptType::Str.mergeable() && OptType::Lines.mergeable());
        assert!(OptType::parse("listOf str").unwrap().mergeable());
    }
}
