//! A cheap pass over a file's tokens, before rnix parses it, that refuses the shapes rnix and
//! rowan cannot handle in linear time or bounded stack:
//!
//! - rnix's tokenizer looks ahead over the whole run of path characters (`[A-Za-z0-9._/+-]`)
//!   at every token that starts inside one, so `a0.a1.….a99999` costs the square of its length;
//! - rnix's parser recurses once per level of nesting, with no limit for `!`, unary `-`, list
//!   brackets and the right-associative operators (`++`, `//`, `->`), and rowan hashes and drops
//!   deep trees recursively (quadratically for chains of small nodes, such as `f f f … x`).
//!
//! - rowan interns every distinct token and small node of a tree in one hash table whose
//!   hashing degrades past a couple of million entries, so a file with that many different
//!   names, numbers and strings takes quadratic time to build.
//!
//! The pass runs rnix's own tokenizer, so it sees exactly the tokens the parser will, and
//! charges each token the look-ahead rnix is about to spend on it. It estimates how deep the
//! tree will nest from the tokens: brackets, strings and interpolations open levels, and within
//! a level every operator, keyword, lambda and application adds one, until the separator
//! (`;` of a binding, `,` of a pattern, a new list element) that ends the expression. The
//! estimate is never below the real depth; real code stays far under the limit.

use rnix::SyntaxKind::{self, *};

/// How deep an expression may nest. Real code nests a few dozen levels (the deepest of the
/// 5,000 files of home-manager, nix-darwin, nixos-hardware and eight clan fleets estimates
/// 117), and rnix itself gives up at 512 levels of `parse_expr`; the stack the deepest
/// accepted file needs is what [`crate::stack::MIN_STACK`] is sized for.
pub const MAX_NESTING: u32 = 500;

/// How many different tokens (names, numbers, strings, …) a file may have: rowan builds trees
/// of this many in linear time (about a million attributes' worth, far beyond files people
/// write, and beyond what the loader's size limit lets through).
pub const MAX_DISTINCT_TOKENS: usize = 1_500_000;

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TooComplex {
    /// Expressions nest deeper than [`MAX_NESTING`]; `offset` is where the limit was crossed.
    Nesting { offset: u32 },
    /// A run of name and path characters so long that tokenizing it would take quadratic
    /// time; `offset` is where the run starts and `len` its length in bytes.
    LongRun { offset: u32, len: u32 },
    /// More than [`MAX_DISTINCT_TOKENS`] different tokens.
    TooManyTokens,
}

impl TooComplex {
    pub fn offset(&self) -> u32 {
        match self {
            TooComplex::Nesting { offset } | TooComplex::LongRun { offset, .. } => *offset,
            TooComplex::TooManyTokens => 0,
        }
    }

    /// Why, as the end of a sentence that starts with the file's name.
    pub fn reason(&self) -> String {
        match self {
            TooComplex::Nesting { .. } => format!(
                "its expressions nest more than {MAX_NESTING} levels deep (brackets, operators, \
                 function applications, `let`, `with` and lambdas all count)"
            ),
            TooComplex::LongRun { len, .. } => format!(
                "it has a run of {len} name and path characters with no space or bracket \
                 between them (such as a very long chain of attribute names joined by `.`)"
            ),
            TooComplex::TooManyTokens => format!(
                "it has more than {MAX_DISTINCT_TOKENS} different names, numbers and strings"
            ),
        }
    }
}

/// The look-ahead rnix may spend in one file, in characters: a fixed allowance plus a multiple
/// of the file's length, so the tokenizer's work stays linear in the size of the file.
fn lookahead_budget(len: usize) -> u64 {
    (1 << 24) + 32 * len as u64
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Level {
    Top,
    Paren,
    List,
    Set,
    Let,
    Str,
    Interpol,
    /// The body of a lambda written as a list element: an expression until the list ends.
    LambdaBody,
}

struct Frame {
    level: Level,
    /// Nesting added inside this level by the expression being read.
    count: u32,
    /// The last token at this level ended an operand (so the next operand is an application,
    /// or in a list, the next element).
    after_operand: bool,
    /// Inside `inherit …;`, where names follow each other without applying anything.
    inherit: bool,
    /// `with …;` and `assert …;` whose `;` has not come yet (that `;` ends no binding).
    pending_semis: u32,
}

impl Frame {
    fn new(level: Level) -> Frame {
        Frame {
            level,
            count: 0,
            after_operand: false,
            inherit: false,
            pending_semis: 0,
        }
    }
}

struct Depth {
    stack: Vec<Frame>,
    /// Σ over the stack of (1 + count), kept up to date.
    total: u32,
}

impl Depth {
    fn top(&mut self) -> &mut Frame {
        // The `Top` frame is never popped.
        self.stack.last_mut().expect("the top frame stays")
    }

    fn add(&mut self, n: u32) {
        self.top().count += n;
        self.total += n;
    }

    fn reset(&mut self) {
        let f = self.top();
        let c = std::mem::take(&mut f.count);
        self.total -= c;
    }

    fn push(&mut self, level: Level) {
        self.stack.push(Frame::new(level));
        self.total += 1;
    }

    /// Closes the innermost `level`, with any `let` or lambda body opened inside it. A closer
    /// that matches no open bracket (a syntax error) closes nothing.
    fn pop_to(&mut self, level: Level) {
        let Some(i) = self
            .stack
            .iter()
            .rposition(|f| f.level == level || !matches!(f.level, Level::Let | Level::LambdaBody))
        else {
            return;
        };
        if self.stack[i].level != level || i == 0 {
            return;
        }
        for f in self.stack.drain(i..) {
            self.total -= 1 + f.count;
        }
        self.top().after_operand = true;
    }

    /// An operand begins at the current level: in a list it is a new element, elsewhere after
    /// another operand it is an argument.
    fn operand(&mut self) {
        let f = self.top();
        if f.after_operand && !f.inherit {
            match f.level {
                Level::List => self.reset(),
                Level::Str => {}
                _ => self.add(1),
            }
        }
    }

    fn token(&mut self, kind: SyntaxKind) {
        match kind {
            TOKEN_WHITESPACE | TOKEN_COMMENT => return,
            TOKEN_L_PAREN => {
                self.operand();
                self.push(Level::Paren);
                return;
            }
            TOKEN_L_BRACK => {
                self.operand();
                self.push(Level::List);
                return;
            }
            TOKEN_L_BRACE => {
                self.operand();
                self.push(Level::Set);
                return;
            }
            TOKEN_STRING_START => {
                self.operand();
                self.push(Level::Str);
                return;
            }
            TOKEN_INTERPOL_START => {
                self.push(Level::Interpol);
                return;
            }
            TOKEN_R_PAREN => return self.pop_to(Level::Paren),
            TOKEN_R_BRACK => return self.pop_to(Level::List),
            TOKEN_R_BRACE => return self.pop_to(Level::Set),
            TOKEN_STRING_END => return self.pop_to(Level::Str),
            TOKEN_INTERPOL_END => return self.pop_to(Level::Interpol),
            TOKEN_IN => {
                self.pop_to(Level::Let);
                self.top().after_operand = false;
                return;
            }
            _ => {}
        }
        let operand = matches!(
            kind,
            TOKEN_IDENT
                | TOKEN_INTEGER
                | TOKEN_FLOAT
                | TOKEN_URI
                | TOKEN_PATH_ABS
                | TOKEN_PATH_REL
                | TOKEN_PATH_HOME
                | TOKEN_PATH_SEARCH
                | TOKEN_REC
        );
        if operand {
            self.operand();
            self.top().after_operand = true;
            return;
        }
        if self.top().level == Level::Str {
            // String content: part of the string operand.
            return;
        }
        match kind {
            TOKEN_SEMICOLON => {
                let f = self.top();
                if f.pending_semis > 0 {
                    f.pending_semis -= 1;
                } else if matches!(f.level, Level::Set | Level::Let) {
                    f.inherit = false;
                    self.reset();
                }
            }
            TOKEN_COMMA => {
                if self.top().level == Level::Set {
                    self.reset();
                }
            }
            TOKEN_INHERIT => self.top().inherit = true,
            TOKEN_LET => {
                self.add(1);
                self.push(Level::Let);
            }
            TOKEN_WITH | TOKEN_ASSERT => {
                self.add(1);
                self.top().pending_semis += 1;
            }
            TOKEN_COLON => {
                self.add(1);
                if self.top().level == Level::List {
                    self.top().after_operand = false;
                    self.push(Level::LambdaBody);
                }
            }
            // Selecting, `...` and `@` add no level.
            TOKEN_DOT | TOKEN_ELLIPSIS | TOKEN_AT => {}
            // Everything else (operators, `if`, `then`, `else`, `or`, `=`, `?`, errors) may
            // open a level.
            _ => self.add(1),
        }
        self.top().after_operand = false;
    }
}

/// Where rnix's tokenizer will scan ahead for a path and how far: the run of path characters
/// (with `<` too when the token starts with `<`, as a search path may) from `pos`.
struct Runs<'t> {
    bytes: &'t [u8],
    /// The last run measured: `[start, end)` and whether it was measured from a `<`.
    last: (usize, usize, bool),
}

fn path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'.' | b'+' | b'-')
}

impl Runs<'_> {
    /// The characters rnix's look-ahead reads from `pos` (an upper bound when the token turns
    /// out to be whitespace, a comment or string content, whose runs are no longer than
    /// themselves).
    fn lookahead(&mut self, pos: usize) -> usize {
        let Some(&first) = self.bytes.get(pos) else {
            return 0;
        };
        let search = first == b'<';
        if !search && !path_char(first) {
            return 0;
        }
        let (start, end, s) = self.last;
        if s == search && start <= pos && pos < end {
            return end - pos;
        }
        let mut end = pos;
        while end < self.bytes.len()
            && (path_char(self.bytes[end]) || (search && self.bytes[end] == b'<'))
        {
            end += 1;
        }
        self.last = (pos, end, search);
        end - pos
    }
}

/// Checks that rnix can parse `text` in linear time and bounded stack.
pub fn check(text: &str) -> Result<(), TooComplex> {
    let mut runs = Runs {
        bytes: text.as_bytes(),
        last: (0, 0, false),
    };
    let budget = lookahead_budget(text.len());
    let mut spent: u64 = 0;
    let mut depth = Depth {
        stack: vec![Frame::new(Level::Top)],
        total: 1,
    };
    let mut pos = 0usize;
    let mut count = 0usize;
    let mut tokens = rnix::tokenize(text);
    loop {
        let ahead = runs.lookahead(pos);
        spent += ahead as u64;
        if spent > budget {
            let (start, end, _) = runs.last;
            return Err(TooComplex::LongRun {
                offset: start as u32,
                len: (end - start) as u32,
            });
        }
        let Some((kind, s)) = tokens.next() else {
            break;
        };
        count += 1;
        depth.token(kind);
        if depth.total > MAX_NESTING {
            return Err(TooComplex::Nesting { offset: pos as u32 });
        }
        pos += s.len();
    }
    // Only a file with that many tokens can have that many different ones.
    if count > MAX_DISTINCT_TOKENS {
        let mut distinct = std::collections::HashSet::new();
        for token in rnix::tokenize(text) {
            distinct.insert(token);
            if distinct.len() > MAX_DISTINCT_TOKENS {
                return Err(TooComplex::TooManyTokens);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_of(text: &str) -> u32 {
        let mut depth = Depth {
            stack: vec![Frame::new(Level::Top)],
            total: 1,
        };
        let mut max = 1;
        for (kind, _) in rnix::tokenize(text) {
            depth.token(kind);
            max = max.max(depth.total);
        }
        max
    }

    /// The real depth of rnix's tree, for comparison.
    fn tree_depth(text: &str) -> u32 {
        let root = rnix::Root::parse(text).syntax();
        let mut max = 0;
        let mut d = 0u32;
        for ev in root.preorder() {
            match ev {
                rowan::WalkEvent::Enter(_) => {
                    d += 1;
                    max = max.max(d);
                }
                rowan::WalkEvent::Leave(_) => d -= 1,
            }
        }
        max
    }

    #[test]
    fn the_estimate_is_never_below_the_real_nesting() {
        let n = 40;
        let cases = [
            format!("{}true", "!".repeat(n)),
            format!("{}1", "- ".repeat(n)),
            format!("{}1{}", "[ ".repeat(n), " ]".repeat(n)),
            format!("{}1{}", "( ".repeat(n), " )".repeat(n)),
            format!("{}1", "f ".repeat(n)),
            format!("1{}", " + 1".repeat(n)),
            format!("[ ]{}", " ++ [ ]".repeat(n)),
            format!("{{ }}{}", " // { }".repeat(n)),
            format!("{}x", "x: ".repeat(n)),
            format!("[ (x: {}1) ]", "f ".repeat(n)),
            format!("[ x: {}1 ]", "f ".repeat(n)),
            format!("{}1", "let a = 1; in ".repeat(n)),
            format!("{}1", "with a; ".repeat(n)),
            format!("{}1", "assert true; ".repeat(n)),
            format!("{}1", "if a then 1 else ".repeat(n)),
            format!("{}1{}", "{ a = ".repeat(n), "; }".repeat(n)),
            format!("{}x{}", "\"${".repeat(n), "}\"".repeat(n)),
            format!("a.b{}", " or a.b".repeat(n)),
            format!("a{}", " ? a".repeat(n)),
            format!("{{ a = with x; {}1; }}", "with y; ".repeat(n)),
        ];
        for c in &cases {
            assert!(
                depth_of(c) >= tree_depth(c) / 2,
                "{c}: estimated {} for a tree {} deep",
                depth_of(c),
                tree_depth(c)
            );
            assert!(depth_of(c) >= n as u32, "{c}: estimated {}", depth_of(c));
        }
    }

    #[test]
    fn flat_shapes_do_not_add_up() {
        let n = 10_000;
        let big_set = format!(
            "{{ {} }}",
            (0..n).map(|i| format!("a{i} = f {i};")).collect::<String>()
        );
        assert!(depth_of(&big_set) < 10, "{}", depth_of(&big_set));
        let big_list = format!(
            "[ {} ]",
            (0..n).map(|i| format!("(f {i}) a.b ")).collect::<String>()
        );
        assert!(depth_of(&big_list) < 10, "{}", depth_of(&big_list));
        let inherits = format!(
            "{{ inherit {}; }}",
            (0..n).map(|i| format!("a{i} ")).collect::<String>()
        );
        assert!(depth_of(&inherits) < 10);
        let module = "{ config, lib, ... }: { options.x = lib.mkOption { type = lib.types.str; }; config = lib.mkIf config.x.enable { a = with lib; [ b c ]; }; }";
        assert!(depth_of(module) < 20, "{}", depth_of(module));
        assert!(check(&big_set).is_ok() && check(&big_list).is_ok());
    }

    #[test]
    fn refuses_deep_nesting_and_long_runs() {
        let deep = format!("{}true", "!".repeat(100_000));
        assert!(matches!(check(&deep), Err(TooComplex::Nesting { .. })));
        let apply = format!("{}1", "f ".repeat(100_000));
        assert!(matches!(check(&apply), Err(TooComplex::Nesting { .. })));
        let chain = format!(
            "x.{}",
            (0..100_000)
                .map(|i| format!("a{i}"))
                .collect::<Vec<_>>()
                .join(".")
        );
        let Err(TooComplex::LongRun { offset, len }) = check(&chain) else {
            panic!("a long select chain is accepted");
        };
        assert_eq!((offset, len as usize), (0, chain.len()));
        // The same characters in a string or a comment cost rnix nothing extra.
        assert!(check(&format!("\"{chain}\"")).is_ok());
        assert!(check(&format!("# {chain}\n1")).is_ok());
        assert!(check(&format!("''{chain}''")).is_ok());
    }

    #[test]
    fn refuses_millions_of_different_tokens_but_not_millions_of_tokens() {
        let different: String = (0..760_000).map(|i| format!("a{i}={i};")).collect();
        assert_eq!(
            check(&format!("{{ {different} }}")),
            Err(TooComplex::TooManyTokens)
        );
        let same = format!("[ {}]", "1 ".repeat(800_000));
        assert!(check(&same).is_ok());
    }
}
