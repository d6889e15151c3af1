//! The rnix parse wrapper. Salsa stores the `GreenNode` (which is `Send`) and plain error data;
//! queries rebuild a `SyntaxNode` from it when they need to walk the tree.

use rowan::ast::AstNode as _;
use rowan::GreenNode;

use crate::diagnostic::TextRange;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub range: TextRange,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub green: GreenNode,
    pub errors: Vec<ParseError>,
}

impl Parsed {
    pub fn syntax(&self) -> rnix::SyntaxNode {
        rnix::SyntaxNode::new_root(self.green.clone())
    }
    pub fn root_expr(&self) -> Option<rnix::ast::Expr> {
        rnix::ast::Root::cast(self.syntax())?.expr()
    }
}

pub fn parse_text(text: &str) -> Parsed {
    let parse = rnix::Root::parse(text);
    let len = text.len() as u32;
    let errors = parse.errors().iter().map(|e| describe(e, len)).collect();
    let mut parsed = Parsed {
        green: parse.syntax().green().to_owned(),
        errors,
    };
    if parsed.errors.is_empty() {
        parsed.errors = duplicate_formals(&parsed.syntax());
    }
    parsed
}

/// `{ a, a }: …` is rejected by Nix's parser but accepted by rnix.
fn duplicate_formals(root: &rnix::SyntaxNode) -> Vec<ParseError> {
    let mut out = Vec::new();
    for node in root.descendants() {
        let Some(pat) = rnix::ast::Pattern::cast(node) else {
            continue;
        };
        let mut seen = std::collections::HashSet::new();
        let bind = pat
            .pat_bind()
            .and_then(|b| b.ident())
            .and_then(|i| i.ident_token());
        for entry in pat.pat_entries() {
            let Some(tok) = entry.ident().and_then(|i| i.ident_token()) else {
                continue;
            };
            let name = tok.text().to_owned();
            if !seen.insert(name.clone()) || bind.as_ref().is_some_and(|b| b.text() == name) {
                out.push(ParseError {
                    range: tok.text_range().into(),
                    message: format!("the function argument `{name}` is declared twice"),
                });
            }
        }
    }
    out
}

fn kinds(wanted: &[rnix::SyntaxKind]) -> String {
    let names: Vec<String> = wanted.iter().map(|k| token_name(*k)).collect();
    match names.len() {
        0 => "something else".to_owned(),
        1 => names[0].clone(),
        _ => format!("one of {}", names.join(", ")),
    }
}

fn token_name(kind: rnix::SyntaxKind) -> String {
    use rnix::SyntaxKind::*;
    let s = match kind {
        TOKEN_SEMICOLON => "`;`",
        TOKEN_COLON => "`:`",
        TOKEN_COMMA => "`,`",
        TOKEN_DOT => "`.`",
        TOKEN_ASSIGN => "`=`",
        TOKEN_L_BRACE => "`{`",
        TOKEN_R_BRACE => "`}`",
        TOKEN_L_BRACK => "`[`",
        TOKEN_R_BRACK => "`]`",
        TOKEN_L_PAREN => "`(`",
        TOKEN_R_PAREN => "`)`",
        TOKEN_IN => "`in`",
        TOKEN_THEN => "`then`",
        TOKEN_ELSE => "`else`",
        TOKEN_IDENT => "an identifier",
        TOKEN_STRING_END => "the end of the string",
        TOKEN_INTERPOL_END => "`}` closing the interpolation",
        other => return format!("{other:?}").to_lowercase().replace('_', " "),
    };
    s.to_owned()
}

fn describe(e: &rnix::ParseError, len: u32) -> ParseError {
    use rnix::ParseError as E;
    let (range, message) = match e {
        E::Unexpected(r) => (TextRange::from(*r), "unexpected input".to_owned()),
        E::UnexpectedExtra(r) => (
            TextRange::from(*r),
            "unexpected input after the end of the expression".to_owned(),
        ),
        E::UnexpectedWanted(got, r, wanted) => (
            TextRange::from(*r),
            format!("expected {}, found {}", kinds(wanted), token_name(*got)),
        ),
        E::UnexpectedDoubleBind(r) => (
            TextRange::from(*r),
            "the function argument is bound twice with `@`".to_owned(),
        ),
        E::UnexpectedEOF => (TextRange::empty(len), "unexpected end of file".to_owned()),
        E::UnexpectedEOFWanted(wanted) => (
            TextRange::empty(len),
            format!("unexpected end of file; expected {}", kinds(wanted)),
        ),
        E::DuplicatedArgs(r, name) => (
            TextRange::from(*r),
            format!("the function argument `{name}` is declared twice"),
        ),
        E::RecursionLimitExceeded => (
            TextRange::empty(0),
            "the expression is nested too deeply to parse".to_owned(),
        ),
        #[allow(unreachable_patterns)]
        other => (TextRange::empty(0), other.to_string()),
    };
    ParseError { range, message }
}

/// A piece of a path literal.
pub enum PathPart {
    Literal(String),
    Interpolation(rnix::ast::Interpol),
}

/// The pieces of a path literal. rnix's own `parts()` asserts on the token kinds it meets,
/// which error-recovered trees do not always satisfy; `None` for such a tree.
pub fn path_parts(node: &rnix::SyntaxNode) -> Option<Vec<PathPart>> {
    use rnix::SyntaxKind::*;
    let mut out = Vec::new();
    for child in node.children_with_tokens() {
        match child {
            rowan::NodeOrToken::Token(t)
                if matches!(t.kind(), TOKEN_PATH_ABS | TOKEN_PATH_REL | TOKEN_PATH_HOME) =>
            {
                out.push(PathPart::Literal(t.text().to_owned()))
            }
            rowan::NodeOrToken::Node(n) => {
                out.push(PathPart::Interpolation(rnix::ast::Interpol::cast(n)?))
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_missing_semicolon_with_position() {
        let p = parse_text("{ a = 1 b = 2; }");
        assert!(!p.errors.is_empty());
        assert!(p.errors[0].message.contains("expected"), "{:?}", p.errors);
    }

    #[test]
    fn duplicate_formals_are_a_syntax_error_as_in_nix() {
        assert_eq!(parse_text("{ a, b, a }: a").errors.len(), 1);
        assert_eq!(parse_text("{ a }@a: a").errors.len(), 1);
        assert!(parse_text("{ a, b ? a }@args: a").errors.is_empty());
    }

    #[test]
    fn arbitrary_input_never_panics() {
        for text in [
            "",
            "{",
            "''",
            "\"${",
            "{ a.${b} = ; }",
            "let in",
            "x: y: @",
            "\u{0}\u{1}\u{ffff}",
            &"(".repeat(5000),
            &"[".repeat(5000),
        ] {
            let _ = parse_text(text);
        }
    }
}
