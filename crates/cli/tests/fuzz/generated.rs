//! Large generated inputs, described by a small recipe so that a mutation list stays short to
//! print and replays to the same bytes.

use std::fmt;
use std::fmt::Write as _;

/// How a deeply nested Nix expression nests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    List,
    Attrs,
    RecAttrs,
    Parens,
    Negation,
    Not,
    Lambda,
    Let,
    If,
    Interpolation,
    With,
    Assert,
    Select,
    Update,
}

impl Nesting {
    pub const ALL: &[Nesting] = &[
        Nesting::List,
        Nesting::Attrs,
        Nesting::RecAttrs,
        Nesting::Parens,
        Nesting::Negation,
        Nesting::Not,
        Nesting::Lambda,
        Nesting::Let,
        Nesting::If,
        Nesting::Interpolation,
        Nesting::With,
        Nesting::Assert,
        Nesting::Select,
        Nesting::Update,
    ];

    /// The text before and after the innermost value, repeated `depth` times, and that value.
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Nesting::List => ("[ ", " ]", "1"),
            Nesting::Attrs => ("{ a = ", "; }", "1"),
            Nesting::RecAttrs => ("rec { a = ", "; b = a; }", "1"),
            Nesting::Parens => ("(", ")", "1"),
            Nesting::Negation => ("- ", "", "1"),
            Nesting::Not => ("!", "", "true"),
            Nesting::Lambda => ("x: ", "", "x"),
            Nesting::Let => ("let a = ", "; in a", "1"),
            Nesting::If => ("if true then ", " else 0", "1"),
            Nesting::Interpolation => ("\"${", "}\"", "\"x\""),
            Nesting::With => ("with { a = 1; }; ", "", "a"),
            Nesting::Assert => ("assert true; ", "", "1"),
            Nesting::Select => ("(", ").a", "{ a = 1; }"),
            Nesting::Update => ("{ a = 1; } // (", ")", "{ }"),
        }
    }
}

/// What goes between the operands of a long binary chain, and the operand.
pub const BINARY_OPS: &[(&str, &str)] = &[
    ("+", "1"),
    ("-", "1"),
    ("*", "1"),
    ("++", "[ 1 ]"),
    ("//", "{ a = 1; }"),
    ("&&", "true"),
    ("||", "false"),
    ("==", "1"),
    ("->", "true"),
    ("<", "1"),
];

/// Bases of a long select chain: an unknown value, a module set, a literal.
pub const SELECT_BASES: &[&str] = &[
    "config",
    "config.flake.modules.nixos",
    "inputs.self",
    "{ }",
    "lib",
];

/// Prefixes of a long attribute path: none, a module, a clan instance.
pub const ATTRPATH_PREFIXES: &[&str] = &[
    "",
    "flake.modules.nixos.",
    "clan.inventory.instances.",
    "options.",
];

/// How a huge file reaches its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// A module followed by comment lines.
    Comment,
    /// A module with one long string.
    String,
    /// A module with many short bindings.
    Bindings,
    /// JSON followed by whitespace.
    JsonWhitespace,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gen {
    /// An expression nested `depth` times.
    Nesting { form: Nesting, depth: usize },
    /// `base.a0.a1…` with `len` selections.
    SelectChain { base: &'static str, len: usize },
    /// `{ <prefix>a0.a1….a<len> = 1; }`.
    Attrpath { prefix: &'static str, len: usize },
    /// `let f = x: x; in f f … f 1`.
    Application { len: usize },
    /// `x op x op … x`.
    Binary {
        op: &'static str,
        operand: &'static str,
        len: usize,
    },
    /// A function that calls itself `width` times per call.
    FanOut { width: usize },
    /// A list doubled `times` times.
    Doubling { times: usize },
    /// A list of `len` numbers and strings.
    List { len: usize },
    /// `{ a0 = 0; … }` with `count` attributes.
    Attrs { count: usize },
    /// A file of exactly `bytes` bytes.
    Padded { bytes: usize, form: Padding },
    /// JSON arrays nested `depth` times.
    JsonNesting { depth: usize },
    /// An `inventory.json` with `count` machines.
    JsonMachines { count: usize },
}

impl Gen {
    pub fn text(&self) -> String {
        match *self {
            Gen::Nesting { form, depth } => {
                let (open, close, inner) = form.parts();
                let mut s = String::with_capacity((open.len() + close.len()) * depth + 8);
                for _ in 0..depth {
                    s.push_str(open);
                }
                s.push_str(inner);
                for _ in 0..depth {
                    s.push_str(close);
                }
                s
            }
            Gen::SelectChain { base, len } => {
                let mut s = format!("({base})");
                for i in 0..len {
                    let _ = write!(s, ".a{i}");
                }
                s
            }
            Gen::Attrpath { prefix, len } => {
                let mut s = format!("{{ {prefix}a0");
                for i in 1..len {
                    let _ = write!(s, ".a{i}");
                }
                s.push_str(" = 1; }");
                s
            }
            Gen::Application { len } => {
                let mut s = String::from("(let f = x: x; in ");
                for _ in 0..len {
                    s.push_str("f ");
                }
                s.push_str("1)");
                s
            }
            Gen::Binary { op, operand, len } => {
                let mut s = String::from("(");
                s.push_str(operand);
                for _ in 1..len {
                    let _ = write!(s, " {op} {operand}");
                }
                s.push(')');
                s
            }
            Gen::FanOut { width } => {
                let mut s = String::from("(let f = x: let ");
                for i in 0..width {
                    let _ = write!(s, "a{i} = f {i}; ");
                }
                s.push_str("in { inherit");
                for i in 0..width {
                    let _ = write!(s, " a{i}");
                }
                s.push_str("; }; in f 0)");
                s
            }
            Gen::Doubling { times } => format!(
                "(builtins.foldl' (acc: _: acc ++ acc) [ 1 ] (builtins.genList (x: x) {times}))"
            ),
            Gen::List { len } => {
                let mut s = String::from("[");
                for i in 0..len {
                    if i % 2 == 0 {
                        let _ = write!(s, " {i}");
                    } else {
                        let _ = write!(s, " \"s{i}\"");
                    }
                }
                s.push_str(" ]");
                s
            }
            Gen::Attrs { count } => {
                let mut s = String::from("{\n");
                for i in 0..count {
                    let _ = writeln!(s, "  a{i} = {i};");
                }
                s.push_str("}\n");
                s
            }
            Gen::Padded { bytes, form } => padded(bytes, form),
            Gen::JsonNesting { depth } => "[".repeat(depth) + &"]".repeat(depth),
            Gen::JsonMachines { count } => {
                let mut s = String::from("{\n  \"machines\": {\n");
                for i in 0..count {
                    let sep = if i + 1 == count { "" } else { "," };
                    let _ = writeln!(
                        s,
                        "    \"m{i}\": {{ \"tags\": [\"t{}\"], \"installedAt\": {i} }}{sep}",
                        i % 7
                    );
                }
                s.push_str("  }\n}\n");
                s
            }
        }
    }
}

/// A file of exactly `bytes` bytes (a few bytes more when `bytes` is smaller than the smallest
/// valid text of that form).
fn padded(bytes: usize, form: Padding) -> String {
    match form {
        Padding::Comment => {
            let mut s = String::from("{ flake.padded = true; }\n");
            while s.len() < bytes {
                let line = (bytes - s.len()).clamp(1, 80);
                s.push_str(&"#".repeat(line - 1));
                s.push('\n');
            }
            s
        }
        Padding::String => {
            let head = "{ flake.padded = \"";
            let tail = "\"; }\n";
            let fill = bytes.saturating_sub(head.len() + tail.len());
            format!("{head}{}{tail}", "x".repeat(fill))
        }
        Padding::Bindings => {
            let mut s = String::from("{\n");
            let mut i = 0;
            while s.len() + 2 < bytes {
                let line = format!("  p{i} = {i};\n");
                if s.len() + line.len() + 2 > bytes {
                    break;
                }
                s.push_str(&line);
                i += 1;
            }
            s.push('}');
            while s.len() < bytes {
                s.push('\n');
            }
            s
        }
        Padding::JsonWhitespace => {
            let head = "{\"machines\": {}}";
            format!("{head}{}", " ".repeat(bytes.saturating_sub(head.len())))
        }
    }
}

impl fmt::Display for Gen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gen::Nesting { form, depth } => write!(f, "{form:?} nesting, {depth} deep"),
            Gen::SelectChain { base, len } => write!(f, "`({base}).a0.a1…`, {len} selections"),
            Gen::Attrpath { prefix, len } => {
                write!(f, "`{{ {prefix}a0.a1… = 1; }}`, {len} attribute names")
            }
            Gen::Application { len } => write!(f, "`f f … f 1`, {len} applications"),
            Gen::Binary { op, operand, len } => {
                write!(f, "`{operand} {op} {operand} …`, {len} operands")
            }
            Gen::FanOut { width } => write!(f, "a function calling itself {width} times per call"),
            Gen::Doubling { times } => write!(f, "a list doubled {times} times"),
            Gen::List { len } => write!(f, "a list of {len} elements"),
            Gen::Attrs { count } => write!(f, "an attribute set of {count} attributes"),
            Gen::Padded { bytes, form } => write!(f, "{bytes} bytes ({form:?} padding)"),
            Gen::JsonNesting { depth } => write!(f, "JSON arrays {depth} deep"),
            Gen::JsonMachines { count } => write!(f, "an inventory of {count} machines"),
        }
    }
}
