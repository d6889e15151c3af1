//! The rnix parse wrapper. Salsa stores the `GreenNode` (which is `Send`) and plain error data;
//! queries rebuild a `SyntaxNode` from it when they need to walk the tree.

use rowan::ast::AstNode as _;
use rowan::GreenNode;

use crate::diagnostic::TextRange;
use crate::syntax_errors;

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
    let root = parse.syntax();
    let mut parsed = Parsed {
        green: root.green().to_owned(),
        errors: Vec::new(),
    };
    let src = syntax_errors::Source::new(&root, text);
    let mut errors: Vec<ParseError> = parse
        .errors()
        .iter()
        .map(|e| syntax_errors::describe(e, &src))
        .collect();
    errors.extend(syntax_errors::unclosed_parens(&src));
    // The first error is the one reported: the earliest in the text.
    errors.sort_by_key(|e| e.range.start);
    parsed.errors = errors;
    if parsed.errors.is_empty() {
        parsed.errors = duplicate_formals(&root);
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
