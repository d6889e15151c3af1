//! rnix's parse errors in Nix terms.
//!
//! rnix reports what it wanted as a set of token kinds (`[TOKEN_IDENT, TOKEN_OR,
//! TOKEN_CUR_POS]` for an attribute name). Its parser (rnix 0.15 `parser.rs`) asks for these
//! sets, and each gets its own sentence, made specific by where in the tree the error is
//! (after a `.`, in an `inherit`, in a list, …):
//!
//! | wanted                                   | where rnix asks for it                       |
//! |------------------------------------------|----------------------------------------------|
//! | name, `or`, `__curPos`                   | an attribute name (attrpath, `inherit`, `?`) |
//! | `;`                                      | binding, `inherit`, `with`, `assert`         |
//! | `=`                                      | binding                                      |
//! | `}` (interpolation end)                  | `${ … }` in strings, paths, attribute names  |
//! | string end, string text, `${`            | inside a string                              |
//! | string end                               | after a string                               |
//! | `{`                                      | after `rec`, after `name@`                   |
//! | `:`                                      | after a function's argument set              |
//! | `}`, `...`, name                         | an entry of an argument set                  |
//! | `}`                                      | after `...` or an argument without `,`       |
//! | name                                     | after `@` in an argument set                 |
//! | `)`                                      | `inherit ( … )`                              |
//! | `then`, `else`                           | `if`                                         |
//! | `(`, `rec`, `{`, `[`, string, name       | an expression                                |
//!
//! Any other set (a later rnix) is listed in words. A plain end of file is explained by the
//! construct left open at the end (`{`, `[`, `(`, a string, `${`, `let` without `in`, a
//! function without a body, an operator without its right side, …). Messages are sentence
//! fragments: the check adds "Syntax error: " and the final period.

use std::cell::OnceCell;

use rnix::SyntaxKind::{self, *};
use rnix::{SyntaxNode, SyntaxToken};
use rowan::{NodeOrToken, TextSize};

use crate::diagnostic::TextRange;
use crate::line_index::LineIndex;
use crate::syntax::ParseError;

/// What a message needs from the parse: the tree, the text and (built when a message names a
/// line) its line index.
pub(crate) struct Source<'a> {
    root: &'a SyntaxNode,
    text: &'a str,
    lines: OnceCell<LineIndex>,
    /// What is open at the end of the file: the same for every end-of-file error, and there
    /// is one per unclosed construct (thousands for `[[[[…`).
    open_at_end: OnceCell<String>,
}

impl<'a> Source<'a> {
    pub fn new(root: &'a SyntaxNode, text: &'a str) -> Self {
        Source {
            root,
            text,
            lines: OnceCell::new(),
            open_at_end: OnceCell::new(),
        }
    }

    /// The 1-based line of `offset`.
    fn line(&self, offset: TextSize) -> u32 {
        self.lines
            .get_or_init(|| LineIndex::new(self.text))
            .line_col_chars(self.text, u32::from(offset))
            .line
            + 1
    }

    fn len(&self) -> u32 {
        self.text.len() as u32
    }

    /// The non-trivia token starting at (or covering) `offset`.
    fn token_at(&self, offset: TextSize) -> Option<SyntaxToken> {
        if offset >= self.root.text_range().end() {
            return None;
        }
        let t = self.root.token_at_offset(offset).right_biased()?;
        if t.kind().is_trivia() {
            next_significant(&t)
        } else {
            Some(t)
        }
    }

    /// The last non-trivia token of the file. (Not `last_token()`: rnix leaves empty nodes,
    /// such as the attribute path after a trailing `.`, and rowan stops at them.)
    fn last_token(&self) -> Option<SyntaxToken> {
        let t = self
            .root
            .token_at_offset(self.root.text_range().end())
            .left_biased()?;
        if t.kind().is_trivia() {
            prev_significant(&t)
        } else {
            Some(t)
        }
    }
}

fn prev_significant(t: &SyntaxToken) -> Option<SyntaxToken> {
    let mut t = t.prev_token()?;
    while t.kind().is_trivia() {
        t = t.prev_token()?;
    }
    Some(t)
}

fn next_significant(t: &SyntaxToken) -> Option<SyntaxToken> {
    let mut t = t.next_token()?;
    while t.kind().is_trivia() {
        t = t.next_token()?;
    }
    Some(t)
}

/// A short, one-line excerpt of source text, for quoting in a message.
fn excerpt(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(24).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out.replace('`', "'")
}

fn is_keyword(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_ASSERT
            | TOKEN_ELSE
            | TOKEN_IF
            | TOKEN_IN
            | TOKEN_INHERIT
            | TOKEN_LET
            | TOKEN_OR
            | TOKEN_REC
            | TOKEN_THEN
            | TOKEN_WITH
    )
}

/// What was found, in words: "`]`", "the keyword `in`", "the name `x`", …
fn found(t: &SyntaxToken) -> String {
    let text = excerpt(t.text());
    match t.kind() {
        k if is_keyword(k) => format!("the keyword `{text}`"),
        TOKEN_IDENT => format!("the name `{text}`"),
        TOKEN_INTEGER | TOKEN_FLOAT => format!("the number `{text}`"),
        TOKEN_PATH_ABS | TOKEN_PATH_REL | TOKEN_PATH_HOME | TOKEN_PATH_SEARCH => {
            format!("the path `{text}`")
        }
        TOKEN_URI => format!("the URI `{text}`"),
        TOKEN_STRING_START => "a string".to_owned(),
        TOKEN_STRING_CONTENT => "string text".to_owned(),
        TOKEN_ERROR => format!("`{text}`, which is not valid Nix"),
        _ => format!("`{text}`"),
    }
}

/// One token kind in words, for a wanted set without a sentence of its own.
pub fn token_name(kind: SyntaxKind) -> &'static str {
    match kind {
        TOKEN_ADD => "`+`",
        TOKEN_AND_AND => "`&&`",
        TOKEN_ASSIGN => "`=`",
        TOKEN_ASSERT => "`assert`",
        TOKEN_AT => "`@`",
        TOKEN_COLON => "`:`",
        TOKEN_COMMA => "`,`",
        TOKEN_COMMENT => "a comment",
        TOKEN_CONCAT => "`++`",
        TOKEN_CUR_POS => "`__curPos`",
        TOKEN_DIV => "`/`",
        TOKEN_DOT => "`.`",
        TOKEN_ELLIPSIS => "`...`",
        TOKEN_ELSE => "`else`",
        TOKEN_EQUAL => "`==`",
        TOKEN_ERROR => "text that is not valid Nix",
        TOKEN_FLOAT => "a number",
        TOKEN_IDENT => "a name",
        TOKEN_IF => "`if`",
        TOKEN_IMPLICATION => "`->`",
        TOKEN_IN => "`in`",
        TOKEN_INHERIT => "`inherit`",
        TOKEN_INTEGER => "a number",
        TOKEN_INTERPOL_END => "`}`",
        TOKEN_INTERPOL_START => "`${`",
        TOKEN_INVERT => "`!`",
        TOKEN_L_BRACE => "`{`",
        TOKEN_L_BRACK => "`[`",
        TOKEN_L_PAREN => "`(`",
        TOKEN_LESS => "`<`",
        TOKEN_LESS_OR_EQ => "`<=`",
        TOKEN_LET => "`let`",
        TOKEN_MORE => "`>`",
        TOKEN_MORE_OR_EQ => "`>=`",
        TOKEN_MUL => "`*`",
        TOKEN_NOT_EQUAL => "`!=`",
        TOKEN_OR => "`or`",
        TOKEN_OR_OR => "`||`",
        TOKEN_PATH_ABS | TOKEN_PATH_HOME | TOKEN_PATH_REL => "a path",
        TOKEN_PATH_SEARCH => "a search path such as `<nixpkgs>`",
        TOKEN_PIPE_LEFT => "`<|`",
        TOKEN_PIPE_RIGHT => "`|>`",
        TOKEN_QUESTION => "`?`",
        TOKEN_R_BRACE => "`}`",
        TOKEN_R_BRACK => "`]`",
        TOKEN_R_PAREN => "`)`",
        TOKEN_REC => "`rec`",
        TOKEN_SEMICOLON => "`;`",
        TOKEN_STRING_CONTENT => "string text",
        TOKEN_STRING_END => "the end of the string",
        TOKEN_STRING_START => "a string",
        TOKEN_SUB => "`-`",
        TOKEN_THEN => "`then`",
        TOKEN_UPDATE => "`//`",
        TOKEN_URI => "a URI",
        TOKEN_WHITESPACE => "whitespace",
        TOKEN_WITH => "`with`",
        // Nodes are never wanted; a later rnix may add kinds.
        _ => "another piece of Nix syntax",
    }
}

fn listed(wanted: &[SyntaxKind]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for k in wanted {
        let n = token_name(*k);
        if !names.contains(&n) {
            names.push(n);
        }
    }
    match names.as_slice() {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The sets of wanted kinds rnix 0.15 produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    AttrName,
    Semicolon,
    Assign,
    InterpolEnd,
    StringPart,
    StringEnd,
    LBrace,
    Colon,
    PatternEntry,
    RBrace,
    Ident,
    RParen,
    Then,
    Else,
    Expr,
}

fn classify(wanted: &[SyntaxKind]) -> Option<Wanted> {
    Some(match wanted {
        [TOKEN_IDENT, TOKEN_OR, TOKEN_CUR_POS] => Wanted::AttrName,
        [TOKEN_SEMICOLON] => Wanted::Semicolon,
        [TOKEN_ASSIGN] => Wanted::Assign,
        [TOKEN_INTERPOL_END] => Wanted::InterpolEnd,
        [TOKEN_STRING_END, TOKEN_STRING_CONTENT, TOKEN_INTERPOL_START] => Wanted::StringPart,
        [TOKEN_STRING_END] => Wanted::StringEnd,
        [TOKEN_L_BRACE] => Wanted::LBrace,
        [TOKEN_COLON] => Wanted::Colon,
        [TOKEN_R_BRACE, TOKEN_ELLIPSIS, TOKEN_IDENT] => Wanted::PatternEntry,
        [TOKEN_R_BRACE] => Wanted::RBrace,
        [TOKEN_IDENT] => Wanted::Ident,
        [TOKEN_R_PAREN] => Wanted::RParen,
        [TOKEN_THEN] => Wanted::Then,
        [TOKEN_ELSE] => Wanted::Else,
        [TOKEN_L_PAREN, TOKEN_REC, TOKEN_L_BRACE, TOKEN_L_BRACK, TOKEN_STRING_START, TOKEN_IDENT] => {
            Wanted::Expr
        }
        _ => return None,
    })
}

/// Where an error is: the node rnix was building, and the last token before the error.
struct At<'a> {
    /// The innermost node open at the error (the parent of rnix's error node, or the node of
    /// the last token at the end of the file).
    node: Option<SyntaxNode>,
    /// The last significant token before the error.
    before: Option<SyntaxToken>,
    /// What was found instead (`None` at the end of the file).
    found: Option<SyntaxToken>,
    src: &'a Source<'a>,
}

fn direct_token(node: &SyntaxNode, kind: SyntaxKind) -> Option<SyntaxToken> {
    node.children_with_tokens()
        .filter_map(NodeOrToken::into_token)
        .find(|t| t.kind() == kind)
}

/// The last significant child (token or node) of `node`.
fn last_child_kind(node: &SyntaxNode) -> Option<SyntaxKind> {
    node.children_with_tokens()
        .filter(|c| !c.kind().is_trivia())
        .last()
        .map(|c| c.kind())
}

impl At<'_> {
    fn ancestor(&self, kinds: &[SyntaxKind]) -> Option<SyntaxNode> {
        self.node
            .as_ref()?
            .ancestors()
            .find(|n| kinds.contains(&n.kind()))
    }

    fn line(&self, node: &SyntaxNode) -> u32 {
        self.src.line(node.text_range().start())
    }

    fn before_is(&self, kind: SyntaxKind) -> bool {
        self.before.as_ref().is_some_and(|t| t.kind() == kind)
    }

    /// The attribute path of the binding being written, e.g. `a.b`.
    fn binding_name(&self) -> Option<String> {
        let binding = self.ancestor(&[NODE_ATTRPATH_VALUE])?;
        let path = binding.children().find(|n| n.kind() == NODE_ATTRPATH)?;
        let text = path.text().to_string();
        let text = text.trim();
        (!text.is_empty()).then(|| excerpt(text))
    }

    /// `, found X` (nothing at the end of the file).
    fn found_suffix(&self) -> String {
        match &self.found {
            Some(t) => format!(", found {}", found(t)),
            None => String::new(),
        }
    }

    fn wanted(&self, w: Wanted, raw: &[SyntaxKind]) -> String {
        let found = self.found_suffix();
        match w {
            Wanted::AttrName => {
                if self.before_is(TOKEN_DOT) {
                    format!("expected an attribute name after `.`{found}")
                } else if self.ancestor(&[NODE_INHERIT]).is_some() {
                    format!("expected a name to inherit, or `;` to end the `inherit`{found}")
                } else if self.before_is(TOKEN_QUESTION) {
                    format!("expected an attribute name after `?`{found}")
                } else if let Some(set) = self.ancestor(&[NODE_ATTR_SET, NODE_LET_IN, NODE_LEGACY_LET])
                {
                    let close = match set.kind() {
                        NODE_LET_IN => "`in` to end the bindings of the `let`".to_owned(),
                        _ => "`}` to close the `{`".to_owned(),
                    };
                    format!(
                        "expected an attribute name, or {close} on line {}{found}",
                        self.line(&set)
                    )
                } else {
                    format!("expected an attribute name{found}")
                }
            }
            Wanted::Semicolon => {
                let construct =
                    self.ancestor(&[NODE_ATTRPATH_VALUE, NODE_INHERIT, NODE_WITH, NODE_ASSERT]);
                match construct.map(|n| n.kind()) {
                    Some(NODE_ATTRPATH_VALUE) => {
                        let name = self.binding_name().unwrap_or_else(|| "the binding".into());
                        let hint = if self.found.as_ref().is_some_and(|t| t.kind() == TOKEN_ASSIGN)
                        {
                            " (is the `;` after it missing, before the next name?)"
                        } else {
                            ""
                        };
                        format!("expected `;` after the value of `{name}`{found}{hint}")
                    }
                    Some(NODE_INHERIT) => format!("expected `;` at the end of the `inherit`{found}"),
                    Some(NODE_WITH) => {
                        format!("expected `;` after the expression of `with`{found}")
                    }
                    Some(NODE_ASSERT) => {
                        format!("expected `;` after the condition of `assert`{found}")
                    }
                    _ => format!("expected `;`{found}"),
                }
            }
            Wanted::Assign => {
                let name = self
                    .binding_name()
                    .map(|n| format!(" after the attribute name `{n}`"))
                    .unwrap_or_default();
                let open_let = self
                    .ancestor(&[NODE_LET_IN])
                    .filter(|l| direct_token(l, TOKEN_IN).is_none());
                match open_let {
                    Some(l) => format!(
                        "expected `=`{name}{found}; if this is the body of the `let` on line {}, it needs an `in` before it",
                        self.line(&l)
                    ),
                    None => format!("expected `=`{name}{found}"),
                }
            }
            Wanted::InterpolEnd => match self.ancestor(&[NODE_INTERPOL, NODE_DYNAMIC]) {
                Some(i) => format!(
                    "expected `}}` to close the `${{` on line {}{found}",
                    self.line(&i)
                ),
                None => format!("expected `}}` to close the interpolation{found}"),
            },
            Wanted::StringPart | Wanted::StringEnd => {
                let (quote, line) = match self.ancestor(&[NODE_STRING]) {
                    Some(s) => {
                        let quote = direct_token(&s, TOKEN_STRING_START)
                            .map(|t| t.text().to_owned())
                            .unwrap_or_else(|| "\"".into());
                        (quote, Some(self.line(&s)))
                    }
                    None => ("\"".into(), None),
                };
                let opened = line.map(|l| format!(" on line {l}")).unwrap_or_default();
                format!("the string opened{opened} is not closed: add the closing `{quote}`")
            }
            Wanted::LBrace => {
                if self.before_is(TOKEN_REC) {
                    format!("expected `{{` after `rec`{found}")
                } else if self.before_is(TOKEN_AT) {
                    format!(
                        "expected `{{` after `@`: `name@` is followed by an argument set such as `{{ a, ... }}`{found}"
                    )
                } else {
                    format!("expected `{{`{found}")
                }
            }
            Wanted::Colon => format!(
                "expected `:` after the argument set of a function{found} (an attribute set needs `name = value;` entries)"
            ),
            Wanted::PatternEntry => {
                format!("expected an argument name, `...` or `}}` in the argument set{found}")
            }
            Wanted::RBrace => {
                if self.before_is(TOKEN_ELLIPSIS) {
                    format!("expected `}}` after `...`: it must come last in the argument set{found}")
                } else {
                    let arg = self
                        .before
                        .as_ref()
                        .filter(|t| t.kind() == TOKEN_IDENT)
                        .map(|t| format!(" after the argument `{}`", excerpt(t.text())))
                        .unwrap_or_default();
                    format!("expected `,` or `}}`{arg}{found}")
                }
            }
            Wanted::Ident => {
                if self.before_is(TOKEN_AT) {
                    format!("expected a name after `@`{found}")
                } else {
                    format!("expected a name{found}")
                }
            }
            Wanted::RParen => {
                if self.ancestor(&[NODE_INHERIT_FROM]).is_some() {
                    format!("expected `)` after the set in `inherit (…)`{found}")
                } else {
                    format!("expected `)`{found}")
                }
            }
            Wanted::Then => format!("expected `then` after the condition of `if`{found}"),
            Wanted::Else => format!(
                "expected `else`{found}: in Nix every `if … then …` needs an `else` branch"
            ),
            Wanted::Expr => self.expression(raw),
        }
    }

    /// An expression was wanted and something else found.
    fn expression(&self, raw: &[SyntaxKind]) -> String {
        let Some(t) = &self.found else {
            return format!("expected an expression ({})", listed(raw));
        };
        let what = found(t);
        if t.kind() == TOKEN_ERROR {
            return self.invalid_text(t);
        }
        let parent = self.node.as_ref().map(|n| n.kind());
        if parent == Some(NODE_LIST) {
            let list = self.node.as_ref().unwrap();
            if t.kind() == TOKEN_COMMA {
                return "unexpected `,` in a list: list elements are separated by spaces, not commas"
                    .to_owned();
            }
            return format!(
                "expected a list element, or `]` to close the `[` on line {}, found {what}",
                self.line(list)
            );
        }
        if t.kind() == TOKEN_LESS {
            return "expected an expression, found `<` (a search path such as `<nixpkgs>` needs its closing `>`)".to_owned();
        }
        if t.kind() == TOKEN_INTERPOL_START {
            return "unexpected `${`: interpolation only works inside strings, paths and attribute names"
                .to_owned();
        }
        match parent {
            Some(NODE_ATTRPATH_VALUE) => {
                let name = self.binding_name().unwrap_or_else(|| "the binding".into());
                format!("expected a value after `=` for `{name}`, found {what}")
            }
            Some(NODE_LAMBDA) => format!("expected the function body after `:`, found {what}"),
            Some(NODE_LET_IN) => format!("expected the body of the `let` after `in`, found {what}"),
            Some(NODE_BIN_OP | NODE_UNARY_OP | NODE_IF_ELSE | NODE_WITH | NODE_ASSERT) => {
                let op = self
                    .before
                    .as_ref()
                    .map(|t| format!(" after `{}`", excerpt(t.text())))
                    .unwrap_or_default();
                format!("expected an expression{op}, found {what}")
            }
            Some(NODE_ROOT) | None if opener_of(t.kind()).is_some() => format!(
                "unexpected {what}: there is no `{}` open for it to close",
                opener_of(t.kind()).unwrap_or_default()
            ),
            _ => format!("expected an expression, found {what}"),
        }
    }

    /// A token rnix's tokenizer could not read.
    fn invalid_text(&self, t: &SyntaxToken) -> String {
        let text = t.text();
        let line = self.src.line(t.text_range().start());
        if text.starts_with("/*") {
            return format!("the comment opened with `/*` on line {line} is not closed: add `*/`");
        }
        if text.starts_with('~') && !text.starts_with("~/") {
            return format!(
                "`{}` is not a path: a path in the home directory starts with `~/`",
                excerpt(text)
            );
        }
        if text.contains('/') && (text.ends_with('/') || text.contains("//")) {
            return format!(
                "the path `{}` is not valid: a path cannot end with `/` or contain `//`",
                excerpt(text)
            );
        }
        if text.starts_with('<') {
            return format!("the search path `{}` is not closed: add `>`", excerpt(text));
        }
        format!("unexpected `{}`, which is not valid Nix", excerpt(text))
    }
}

/// The opening bracket a closing one would close.
fn opener_of(kind: SyntaxKind) -> Option<&'static str> {
    match kind {
        TOKEN_R_BRACE | TOKEN_INTERPOL_END => Some("{"),
        TOKEN_R_BRACK => Some("["),
        TOKEN_R_PAREN => Some("("),
        _ => None,
    }
}

/// The innermost construct left open at the end of the file, in words.
fn open_at_end(src: &Source) -> String {
    let Some(last) = src.last_token() else {
        return "the file holds no expression".to_owned();
    };
    let line = |n: &SyntaxNode| src.line(n.text_range().start());
    for node in last.parent_ancestors() {
        let has = |kind| direct_token(&node, kind).is_some();
        let ends_with = |kind| last_child_kind(&node) == Some(kind);
        let message = match node.kind() {
            NODE_STRING if !has(TOKEN_STRING_END) => {
                let quote = direct_token(&node, TOKEN_STRING_START)
                    .map(|t| t.text().to_owned())
                    .unwrap_or_else(|| "\"".into());
                format!(
                    "the string opened on line {} is not closed: add the closing `{quote}`",
                    line(&node)
                )
            }
            NODE_INTERPOL | NODE_DYNAMIC if !has(TOKEN_INTERPOL_END) => {
                format!("the `${{` on line {} is not closed: add `}}`", line(&node))
            }
            NODE_LIST if !has(TOKEN_R_BRACK) => {
                format!("the `[` on line {} is not closed: add `]`", line(&node))
            }
            NODE_PAREN if !has(TOKEN_R_PAREN) => {
                format!("the `(` on line {} is not closed: add `)`", line(&node))
            }
            NODE_ATTR_SET | NODE_LEGACY_LET | NODE_PATTERN if !has(TOKEN_R_BRACE) => {
                format!("the `{{` on line {} is not closed: add `}}`", line(&node))
            }
            NODE_LET_IN if !has(TOKEN_IN) => format!(
                "the `let` on line {} has no `in`: add `in` and the expression the bindings are for",
                line(&node)
            ),
            NODE_LET_IN if ends_with(TOKEN_IN) => {
                "expected the body of the `let` after `in`".to_owned()
            }
            NODE_LAMBDA if ends_with(TOKEN_COLON) => "expected the function body after `:`".to_owned(),
            NODE_BIN_OP | NODE_UNARY_OP if last.parent().as_ref() == Some(&node) => {
                format!("expected an expression after `{}`", excerpt(last.text()))
            }
            NODE_WITH if ends_with(TOKEN_SEMICOLON) => {
                "expected an expression after `with …;`".to_owned()
            }
            NODE_ASSERT if ends_with(TOKEN_SEMICOLON) => {
                "expected an expression after `assert …;`".to_owned()
            }
            NODE_IF_ELSE if matches!(last_child_kind(&node), Some(TOKEN_IF | TOKEN_THEN | TOKEN_ELSE)) => {
                format!("expected an expression after `{}`", excerpt(last.text()))
            }
            NODE_ATTRPATH_VALUE if ends_with(TOKEN_ASSIGN) => {
                let name = node
                    .children()
                    .find(|n| n.kind() == NODE_ATTRPATH)
                    .map(|p| excerpt(p.text().to_string().trim()))
                    .unwrap_or_default();
                format!("expected a value after `=` for `{name}`")
            }
            NODE_SELECT if ends_with(TOKEN_OR) => "expected a default value after `or`".to_owned(),
            _ => continue,
        };
        return message;
    }
    "the expression is not complete".to_owned()
}

/// The error node rnix made for `range`, and the node it was made in.
fn error_parent(src: &Source, range: rowan::TextRange) -> Option<SyntaxNode> {
    let element = src.root.covering_element(range);
    let start = match element {
        NodeOrToken::Node(n) => n,
        NodeOrToken::Token(t) => t.parent()?,
    };
    let error = start
        .ancestors()
        .find(|n| n.kind() == NODE_ERROR && n.text_range() == range)?;
    error.parent()
}

fn at_range<'a>(src: &'a Source<'a>, range: rowan::TextRange) -> At<'a> {
    let found = src.token_at(range.start());
    let before = found.as_ref().and_then(prev_significant);
    let node = error_parent(src, range).or_else(|| found.as_ref().and_then(|t| t.parent()));
    At {
        node,
        before,
        found,
        src,
    }
}

fn at_end<'a>(src: &'a Source<'a>) -> At<'a> {
    let before = src.last_token();
    At {
        node: before.as_ref().and_then(|t| t.parent()),
        before,
        found: None,
        src,
    }
}

fn wanted_message(at: &At, wanted: &[SyntaxKind]) -> String {
    match classify(wanted) {
        Some(w) => at.wanted(w, wanted),
        None => format!("expected {}{}", listed(wanted), at.found_suffix()),
    }
}

pub(crate) fn describe(e: &rnix::ParseError, src: &Source) -> ParseError {
    use rnix::ParseError as E;
    let eof = TextRange::empty(src.len());
    let (range, message) = match e {
        E::Unexpected(r) => {
            let at = at_range(src, *r);
            let what = at
                .found
                .as_ref()
                .map(found)
                .unwrap_or_else(|| "input".into());
            (TextRange::from(*r), format!("unexpected {what}"))
        }
        E::UnexpectedExtra(r) => {
            let at = at_range(src, *r);
            let message = match &at.found {
                Some(t) if opener_of(t.kind()).is_some() => format!(
                    "unexpected {} after the end of the expression: there is no `{}` open for it to close",
                    found(t),
                    opener_of(t.kind()).unwrap()
                ),
                Some(t) if t.kind() == TOKEN_ASSIGN => "unexpected `=` after the end of the expression: bindings such as `a = …;` belong inside `{ … }` or after `let`".to_owned(),
                Some(t) => format!(
                    "unexpected {} after the end of the expression: a Nix file holds a single expression",
                    found(t)
                ),
                None => "unexpected input after the end of the expression".to_owned(),
            };
            (TextRange::from(*r), message)
        }
        E::UnexpectedWanted(_, r, wanted) => {
            let at = at_range(src, *r);
            (TextRange::from(*r), wanted_message(&at, wanted))
        }
        E::UnexpectedDoubleBind(r) => (
            TextRange::from(*r),
            "the argument set is given a name with `@` twice: keep one `name@`".to_owned(),
        ),
        E::UnexpectedEOF => {
            let open = src.open_at_end.get_or_init(|| open_at_end(src));
            (eof, format!("unexpected end of file: {open}"))
        }
        E::UnexpectedEOFWanted(wanted) => {
            let at = at_end(src);
            (
                eof,
                format!("unexpected end of file: {}", wanted_message(&at, wanted)),
            )
        }
        E::DuplicatedArgs(r, name) => (
            TextRange::from(*r),
            format!("the function argument `{name}` is declared twice"),
        ),
        E::RecursionLimitExceeded => (
            TextRange::empty(0),
            "the expression is nested too deeply to parse (more than 512 levels)".to_owned(),
        ),
        // A later rnix: its own words are still better than nothing.
        #[allow(unreachable_patterns)]
        other => (TextRange::empty(0), other.to_string()),
    };
    ParseError { range, message }
}

/// rnix closes a parenthesis with whatever token follows its expression (`( a ]` parses);
/// Nix does not.
pub(crate) fn unclosed_parens(src: &Source) -> Vec<ParseError> {
    let mut out = Vec::new();
    for node in src.root.descendants() {
        if node.kind() != NODE_PAREN {
            continue;
        }
        let Some(NodeOrToken::Token(last)) = node
            .children_with_tokens()
            .filter(|c| !c.kind().is_trivia())
            .last()
        else {
            continue; // ended by the end of the file: rnix reports that
        };
        if matches!(last.kind(), TOKEN_R_PAREN | TOKEN_L_PAREN) {
            continue;
        }
        out.push(ParseError {
            range: last.text_range().into(),
            message: format!(
                "expected `)` to close the `(` on line {}, found {}",
                src.line(node.text_range().start()),
                found(&last)
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::syntax::parse_text;

    /// The first error of `text` (the one reported), as `start..end: message`.
    fn first(text: &str) -> String {
        let p = parse_text(text);
        let e = p
            .errors
            .first()
            .unwrap_or_else(|| panic!("no error for {text:?}"));
        format!("{}..{}: {}", e.range.start, e.range.end, e.message)
    }

    /// Every kind of mistake rnix 0.15 reports, with the exact message (and range) shown.
    #[test]
    fn parse_errors_are_described_in_nix_terms() {
        let cases: &[(&str, &str)] = &[
            ("[ config.flake.modules.nixos. ]", "30..31: expected an attribute name after `.`, found `]`"),
            ("{ a = 1 b = 2; }", "10..13: expected `;` after the value of `a`, found `=` (is the `;` after it missing, before the next name?)"),
            ("{ a 1; }", "4..8: expected `=` after the attribute name `a`, found the number `1`"),
            ("{ a = 1; ", "9..9: unexpected end of file: the `{` on line 1 is not closed: add `}`"),
            ("[ 1 2", "5..5: unexpected end of file: the `[` on line 1 is not closed: add `]`"),
            ("( 1", "3..3: unexpected end of file: the `(` on line 1 is not closed: add `)`"),
            ("\"abc", "1..4: the string opened on line 1 is not closed: add the closing `\"`"),
            ("\"a ${b", "6..6: unexpected end of file: expected `}` to close the `${` on line 1"),
            ("''abc", "2..5: the string opened on line 1 is not closed: add the closing `''`"),
            ("let a = 1; a", "12..12: unexpected end of file: expected `=` after the attribute name `a`; if this is the body of the `let` on line 1, it needs an `in` before it"),
            ("let a = 1", "9..9: unexpected end of file: expected `;` after the value of `a`"),
            ("]", "0..1: unexpected `]`: there is no `[` open for it to close"),
            ("{ } ]", "4..5: unexpected `]` after the end of the expression: there is no `[` open for it to close"),
            ("if a then b", "11..11: unexpected end of file: expected `else`: in Nix every `if … then …` needs an `else` branch"),
            ("if a b", "6..6: unexpected end of file: expected `then` after the condition of `if`"),
            ("x:", "2..2: unexpected end of file: expected the function body after `:`"),
            ("{ a, b }:", "9..9: unexpected end of file: expected the function body after `:`"),
            ("a.", "2..2: unexpected end of file: expected an attribute name after `.`"),
            ("a.b.", "4..4: unexpected end of file: expected an attribute name after `.`"),
            ("{ a. = 1; }", "5..11: expected an attribute name after `.`, found `=`"),
            ("{ a.b = ; }", "8..9: expected a value after `=` for `a.b`, found `;`"),
            ("with a", "6..6: unexpected end of file: expected `;` after the expression of `with`"),
            ("with a; ", "8..8: unexpected end of file: expected an expression after `with …;`"),
            ("assert a", "8..8: unexpected end of file: expected `;` after the condition of `assert`"),
            ("{ inherit (a) b }", "16..17: expected a name to inherit, or `;` to end the `inherit`, found `}`"),
            ("{ inherit a }", "12..13: expected a name to inherit, or `;` to end the `inherit`, found `}`"),
            ("rec a", "4..5: expected `{` after `rec`, found the name `a`"),
            ("{ a ? 1, b }", "12..12: unexpected end of file: expected `:` after the argument set of a function (an attribute set needs `name = value;` entries)"),
            ("{ a, b }@c@d: 1", "10..12: expected `:` after the argument set of a function, found `@` (an attribute set needs `name = value;` entries)"),
            ("x@y: 1", "2..6: expected `{` after `@`: `name@` is followed by an argument set such as `{ a, ... }`, found the name `y`"),
            ("{ a, ... , b }: 1", "9..12: expected `}` after `...`: it must come last in the argument set, found `,`"),
            ("( a ]", "4..5: expected `)` to close the `(` on line 1, found `]`"),
            ("(a; b)", "2..3: expected `)` to close the `(` on line 1, found `;`"),
            ("1 +", "3..3: unexpected end of file: expected an expression after `+`"),
            ("a ? ", "4..4: unexpected end of file: expected an attribute name after `?`"),
            ("$", "0..1: unexpected `$`, which is not valid Nix"),
            ("/* abc", "0..6: the comment opened with `/*` on line 1 is not closed: add `*/`"),
            ("~x", "0..2: `~x` is not a path: a path in the home directory starts with `~/`"),
            ("a/", "2..2: unexpected end of file: expected an expression after `/`"),
            ("<nixpkgs", "0..1: expected an expression, found `<` (a search path such as `<nixpkgs>` needs its closing `>`)"),
            ("${a}", "0..2: unexpected `${`: interpolation only works inside strings, paths and attribute names"),
            ("{ ${a = 1; }", "6..10: expected `}` to close the `${` on line 1, found `=`"),
            ("{ \"a = 1; }", "3..11: the string opened on line 1 is not closed: add the closing `\"`"),
            ("[ , ]", "2..3: unexpected `,` in a list: list elements are separated by spaces, not commas"),
            ("a = 1", "2..5: unexpected `=` after the end of the expression: bindings such as `a = …;` belong inside `{ … }` or after `let`"),
            ("{ a = { b = 1; }; ", "18..18: unexpected end of file: the `{` on line 1 is not closed: add `}`"),
            ("let in", "6..6: unexpected end of file: expected the body of the `let` after `in`"),
            ("let a = 1; in", "13..13: unexpected end of file: expected the body of the `let` after `in`"),
            ("{ a = 1; } x = 2", "13..16: unexpected `=` after the end of the expression: bindings such as `a = …;` belong inside `{ … }` or after `let`"),
            ("", "0..0: unexpected end of file: the file holds no expression"),
            ("   # only a comment\n", "20..20: unexpected end of file: the file holds no expression"),
            ("{ a = [ 1 2; }", "11..12: expected a list element, or `]` to close the `[` on line 1, found `;`"),
            ("{ a = 1; ] }", "9..12: expected an attribute name, or `}` to close the `{` on line 1, found `]`"),
            ("let a = 1; in a b )", "18..19: unexpected `)` after the end of the expression: there is no `(` open for it to close"),
            ("x: y: ", "6..6: unexpected end of file: expected the function body after `:`"),
            ("{ a = -; }", "7..8: expected an expression after `-`, found `;`"),
            ("{ a = if; }", "8..9: expected an expression after `if`, found `;`"),
            ("{ a, b }", "8..8: unexpected end of file: expected `:` after the argument set of a function (an attribute set needs `name = value;` entries)"),
            ("{ inherit (a; }", "12..15: expected `)` after the set in `inherit (…)`, found `;`"),
            ("\"${a\"", "5..5: unexpected end of file: the string opened on line 1 is not closed: add the closing `\"`"),
            ("{ a = \"x\" + }", "12..13: expected an expression after `+`, found `}`"),
            ("a.${b", "5..5: unexpected end of file: expected `}` to close the `${` on line 1"),
            ("{ a = x: ; }", "9..10: expected the function body after `:`, found `;`"),
            // Lines are named where the construct was opened.
            (
                "{\n  a = [\n    1\n",
                "16..16: unexpected end of file: the `[` on line 2 is not closed: add `]`",
            ),
            (
                "{\n  a = \"x\n\n  b = 2;\n}\n",
                "9..23: the string opened on line 2 is not closed: add the closing `\"`",
            ),
            (
                "let\n  a = 1;\n  b = 2;\nin\n{\n  x = (a;\n}\n",
                "35..36: expected `)` to close the `(` on line 6, found `;`",
            ),
            (
                "{\r\n  a = {\r\n    b = 1;\r\n",
                "24..24: unexpected end of file: the `{` on line 2 is not closed: add `}`",
            ),
        ];
        let mut failures = Vec::new();
        for (text, expected) in cases {
            let got = first(text);
            if got != *expected {
                failures.push(format!(
                    "{text:?}\n  expected: {expected}\n       got: {got}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// No message leaks rnix's own words, whatever the input: every prefix of a real-shaped
    /// module (an end of file in every context), and the module with each character removed.
    #[test]
    fn no_message_uses_rnix_words() {
        let module = r#"{ config, lib, ... }:
let
  mods = config.flake.modules.nixos; # é
  f = { a ? 1, b, ... }@args: x: a + b;
in
{
  flake.modules.nixos."machines/web" = {
    imports = with mods; [ base (f { b = 2; } 3) ];
    networking.hostName = "web-${toString 1}";
    text = ''
      ${lib.concatStrings [ "a" "b" ]}
    '';
  };
  clan.inventory.machines.web.tags = if true then [ "x" ] else [ ];
  inherit (lib) mkIf;
  p = ./a/${"b"}.nix;
  s = rec { x = 1; y = x.z or 2; };
  h = s ? x && !(s ? "y") -> -1 < 2;
  l = let { body = 1; };
  w = assert true; with lib; <nixpkgs>;
}
"#;
        let mut texts: Vec<String> = Vec::new();
        for (i, _) in module.char_indices() {
            texts.push(module[..i].to_owned());
            let mut without = module.to_owned();
            without.remove(i);
            texts.push(without);
        }
        texts.extend(CASES.iter().map(|s| s.to_string()));
        for text in &texts {
            for e in parse_text(text).errors {
                let m = &e.message;
                let leaked = [
                    "TOKEN_",
                    "NODE_",
                    "token ",
                    "cur pos",
                    "wanted",
                    "error node",
                    "Unexpected",
                ]
                .iter()
                .any(|w| m.contains(w));
                assert!(!leaked && !m.ends_with('.'), "{text:?}: {m}");
                assert!(
                    m.starts_with(|c: char| c.is_lowercase() || c == '`'),
                    "{text:?}: {m}"
                );
                assert!(e.range.end as usize <= text.len(), "{text:?}: {e:?}");
            }
        }
    }
    const CASES: &[&str] = &[
        "[ config.flake.modules.nixos. ]",
        "{ a = 1 b = 2; }",
        "{ a 1; }",
        "{ a = 1; ",
        "[ 1 2",
        "( 1",
        "\"abc",
        "\"a ${b",
        "''abc",
        "let a = 1; a",
        "let a = 1",
        "]",
        "{ } ]",
        "if a then b",
        "if a b",
        "x:",
        "{ a, b }:",
        "a.",
        "a.b.",
        "{ a. = 1; }",
        "{ a.b = ; }",
        "with a",
        "with a; ",
        "assert a",
        "{ inherit (a) b }",
        "{ inherit a }",
        "rec a",
        "{ a ? 1, b }",
        "{ a, b }@c@d: 1",
        "x@y: 1",
        "{ a, ... , b }: 1",
        "( a ]",
        "(a; b)",
        "1 +",
        "a ? ",
        "$",
        "/* abc",
        "~x",
        "a/",
        "<nixpkgs",
        "${a}",
        "{ ${a = 1; }",
        "{ \"a = 1; }",
        "[ , ]",
        "a = 1",
        "{ a = { b = 1; }; ",
        "let in",
        "let a = 1; in",
        "{ a = 1; } x = 2",
        "",
        "   # only a comment\n",
        "{ a = [ 1 2; }",
        "{ a = 1; ] }",
        "let a = 1; in a b )",
        "x: y: ",
        "{ a = -; }",
        "{ a = if; }",
        "{ a, b }",
        "{ inherit (a; }",
        "\"${a\"",
        "{ a = \"x\" + }",
        "a.${b",
        "{ a = x: ; }",
    ];
}
