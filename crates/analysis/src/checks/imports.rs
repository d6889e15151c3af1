//! `module/import-not-found`: relative paths in `imports` lists that do not exist. Read from the
//! syntax alone, so it covers every `.nix` file, loaded by import-tree or not.

use rnix::ast;
use rowan::ast::AstNode;

use std::sync::Arc;

use crate::db::{Db, SourceFile, Workspace};
use crate::diagnostic::{Diagnostic, TextRange};
use crate::disk::{normalize_join, parent_dir, EntryKind};
use crate::syntax::Parsed;

/// The findings about `literals`, the [`literals_in`] of `file`.
pub(super) fn check(
    db: &dyn Db,
    ws: Workspace,
    file: SourceFile,
    literals: &ImportLiterals,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let disk = ws.disk(db);
    let path = file.path(db);
    for (text, target, range) in literals.iter() {
        // Below a directory that could not be read nothing is known (that is reported once,
        // as `workspace/unreadable`).
        if disk.is_unknown(target) {
            continue;
        }
        let missing = match disk.get(target) {
            None => Some(format!(
                "`{text}` does not exist: `{target}` is not in the repository (or is ignored by git, which hides it from the flake)."
            )),
            Some(EntryKind::Dir) if !disk.exists(&format!("{target}/default.nix")) => Some(format!(
                "`{text}` is a directory without a `default.nix`, so the module system cannot import it; name a file inside it."
            )),
            Some(EntryKind::Symlink(_)) if disk.resolve_link(target).is_some_and(|t| !disk.exists(&t)) => {
                Some(format!("`{text}` is a symbolic link whose target does not exist."))
            }
            _ => None,
        };
        if let Some(message) = missing {
            out.push(Diagnostic::new(
                "module/import-not-found",
                path,
                *range,
                message,
            ));
        }
    }
    out
}

/// Every literal path in an `imports` list of a file: as written, the root-relative path it
/// names, and where it is written.
pub(crate) type ImportLiterals = Vec<(String, String, TextRange)>;

/// The [`ImportLiterals`] of `file` (from [`crate::file_pass`]).
#[salsa::tracked(returns(ref))]
pub(super) fn import_literals(db: &dyn Db, ws: Workspace, file: SourceFile) -> Arc<ImportLiterals> {
    crate::file_pass::file_pass(db, ws, file).imports.clone()
}

/// The [`ImportLiterals`] of `parsed`, the tree of `file`.
pub(crate) fn literals_in(db: &dyn Db, file: SourceFile, parsed: &Parsed) -> ImportLiterals {
    let mut out = Vec::new();
    if !file.text(db).contains("imports") {
        return out;
    }
    let path = file.path(db);
    for node in parsed.syntax().descendants() {
        let Some(apv) = ast::AttrpathValue::cast(node) else {
            continue;
        };
        let is_imports = apv
            .attrpath()
            .and_then(|p| p.attrs().last())
            .is_some_and(|a| matches!(&a, ast::Attr::Ident(i) if i.ident_token().is_some_and(|t| t.text() == "imports")));
        if !is_imports {
            continue;
        }
        let Some(value) = apv.value() else { continue };
        let mut paths = Vec::new();
        list_paths(&value, &mut paths, 0);
        for p in paths {
            let Some(text) = literal_path(&p) else {
                continue;
            };
            let Some(target) = normalize_join(parent_dir(path), &text) else {
                continue;
            };
            out.push((text, target, p.syntax().text_range().into()));
        }
    }
    out
}

/// Path literals that are elements of the list (through parentheses and `++`).
fn list_paths(e: &ast::Expr, out: &mut Vec<ast::PathRel>, depth: u32) {
    if depth > 64 {
        return;
    }
    match e {
        ast::Expr::List(l) => {
            for item in l.items() {
                match item {
                    ast::Expr::PathRel(p) => out.push(p),
                    ast::Expr::Paren(p) => {
                        if let Some(ast::Expr::PathRel(p)) = p.expr() {
                            out.push(p)
                        }
                    }
                    _ => {}
                }
            }
        }
        ast::Expr::Paren(p) => {
            if let Some(inner) = p.expr() {
                list_paths(&inner, out, depth + 1);
            }
        }
        ast::Expr::BinOp(b) if b.operator() == Some(ast::BinOpKind::Concat) => {
            for side in [b.lhs(), b.rhs()].into_iter().flatten() {
                list_paths(&side, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The text of a path literal without interpolation.
fn literal_path(p: &ast::PathRel) -> Option<String> {
    let mut s = String::new();
    for part in crate::syntax::path_parts(p.syntax())? {
        match part {
            crate::syntax::PathPart::Literal(c) => s.push_str(&c),
            crate::syntax::PathPart::Interpolation(_) => return None,
        }
    }
    Some(s)
}
