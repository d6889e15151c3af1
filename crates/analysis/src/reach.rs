//! Which `.nix` files the flake is known to evaluate: `flake.nix`, its flake-parts module
//! files, the files clan-core imports from `machines/<m>/`, and every file some `.nix` file of
//! the workspace names with a path literal (`imports = [ ./x.nix ]`, `import ./x.nix`,
//! `modules = [ ./configuration.nix ]`; a directory literal names its `default.nix`, an
//! interpolated one everything below its literal prefix). A mistake in any other file — a
//! template, a file left behind, one that only an outside tool evaluates — fails nothing the
//! flake does, so the checks say it at a lower severity.

use std::collections::BTreeSet;
use std::sync::Arc;

use rnix::ast;
use rowan::ast::AstNode;

use crate::db::{Db, SourceFile, Workspace};
use crate::disk::{normalize_join, parent_dir};
use crate::syntax::Parsed;
use crate::syntax::{path_parts, PathPart};

/// What one file's path literals name, root-relative: whole paths, and the literal prefixes of
/// interpolated ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Named {
    pub paths: Vec<String>,
    pub prefixes: Vec<String>,
    /// Directories handed to import-tree, which skips every path with `/_` below them.
    pub trees: Vec<String>,
}

/// What `file`'s path literals name (from [`crate::file_pass`]).
#[salsa::tracked(returns(ref))]
pub fn named_paths(db: &dyn Db, ws: Workspace, file: SourceFile) -> Arc<Named> {
    crate::file_pass::file_pass(db, ws, file).named.clone()
}

/// What the path literals of `parsed` (the tree of `file`) name.
pub(crate) fn named_in(db: &dyn Db, file: SourceFile, parsed: &Parsed) -> Named {
    let mut out = Named::default();
    let text = file.text(db);
    if !text.contains("./") {
        return out;
    }
    let dir = parent_dir(file.path(db));
    for node in parsed.syntax().descendants() {
        let Some(p) = ast::PathRel::cast(node) else {
            continue;
        };
        if read_as_data(p.syntax()) {
            continue;
        }
        let p_node = p.syntax();
        let Some(parts) = path_parts(p.syntax()) else {
            continue;
        };
        let mut literal = String::new();
        let mut interpolated = false;
        for part in parts {
            match part {
                PathPart::Literal(s) => literal.push_str(&s),
                PathPart::Interpolation(_) => {
                    interpolated = true;
                    break;
                }
            }
        }
        if interpolated {
            // `./hosts/${name}.nix`: anything below `hosts/`.
            let prefix = literal.rsplit_once('/').map(|(d, _)| d).unwrap_or(".");
            if let Some(p) = normalize_join(dir, prefix) {
                out.prefixes.push(p);
            }
        } else if let Some(p) = normalize_join(dir, &literal) {
            // `./modules + "/${name}.nix"`, `builtins.readDir ./hosts`, `import-tree ./parts`:
            // a directory whose files are picked by code. (Not the root: `lib.cleanSource ./.`
            // hands over sources, not modules.)
            if !p.is_empty() {
                match picks_files(p_node) {
                    Some(Picker::Tree) => out.trees.push(p.clone()),
                    Some(Picker::Any) => out.prefixes.push(p.clone()),
                    None => {}
                }
            }
            out.paths.push(p);
        }
    }
    out
}

/// The root-relative path a path literal without interpolation names, from a file in `dir`.
pub fn literal_target(dir: &str, node: &rnix::SyntaxNode) -> Option<String> {
    let mut literal = String::new();
    for part in path_parts(node)? {
        match part {
            PathPart::Literal(s) => literal.push_str(&s),
            PathPart::Interpolation(_) => return None,
        }
    }
    normalize_join(dir, &literal)
}

/// Whether a path literal names a file as data rather than as Nix to evaluate: it is copied
/// into the store by a string interpolation (`"cp ${./home.nix} …"`) or its text is read
/// (`builtins.readFile ./x.nix`, `lib.fileContents ./x.nix`).
fn read_as_data(path: &rnix::SyntaxNode) -> bool {
    use rnix::SyntaxKind::{NODE_APPLY, NODE_INTERPOL, NODE_STRING};
    let in_string = path
        .ancestors()
        .any(|a| a.kind() == NODE_INTERPOL && a.parent().is_some_and(|p| p.kind() == NODE_STRING));
    let read = path.parent().is_some_and(|p| {
        p.kind() == NODE_APPLY
            && ast::Apply::cast(p.clone())
                .and_then(|a| a.lambda())
                .is_some_and(|f| {
                    let text = f.syntax().text().to_string();
                    let name = text.rsplit('.').next().unwrap_or("");
                    matches!(name, "readFile" | "fileContents" | "path")
                })
    });
    in_string || read
}

/// Functions that pick the files below a directory (by the last name of how they are called).
const DIRECTORY_READERS: &[&str] = &[
    "readDir",
    "listFilesRecursive",
    "packagesFromDirectoryRecursive",
    "rakeLeaves",
    "flattenTree",
    "load",
];

/// How code picks files below a directory.
enum Picker {
    /// Any file may be picked.
    Any,
    /// import-tree: every `.nix` file except those with `/_` in their path below the root.
    Tree,
}

/// Whether a path literal is handed to code that may pick files below it: an operand of `+`
/// (`./modules + "/x.nix"`) or the argument of a function that reads directories
/// (`builtins.readDir ./hosts`, `inputs.import-tree ./parts`). Other calls (`import ./dir`,
/// `callPackage ./dir { }`, `runTest ./dir`) evaluate the directory's `default.nix`.
fn picks_files(path: &rnix::SyntaxNode) -> Option<Picker> {
    use rnix::SyntaxKind::{NODE_APPLY, NODE_BIN_OP};
    let parent = path.parent()?;
    match parent.kind() {
        NODE_BIN_OP => ast::BinOp::cast(parent)?
            .operator()
            .is_some_and(|o| o == ast::BinOpKind::Add)
            .then_some(Picker::Any),
        NODE_APPLY => {
            let f = ast::Apply::cast(parent)?
                .lambda()?
                .syntax()
                .text()
                .to_string();
            match f.rsplit('.').next().unwrap_or("") {
                "import-tree" | "importTree" => Some(Picker::Tree),
                name if DIRECTORY_READERS.contains(&name) => Some(Picker::Any),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The files known to be evaluated, and the directories everything below which may be.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reached {
    files: BTreeSet<String>,
    prefixes: BTreeSet<String>,
    trees: BTreeSet<String>,
}

impl Reached {
    pub fn contains(&self, path: &str) -> bool {
        let below = |p: &String| p.is_empty() || path.starts_with(&format!("{p}/"));
        self.files.contains(path)
            || self.prefixes.iter().any(below)
            || self
                .trees
                .iter()
                .any(|t| below(t) && !path[t.len()..].contains("/_"))
    }
}

#[salsa::tracked(returns(ref))]
pub fn reached(db: &dyn Db, ws: Workspace) -> Arc<Reached> {
    let modules = crate::flake::module_files(db, ws);
    let mut out = Reached::default();
    out.files.insert("flake.nix".to_owned());
    out.files.extend(modules.files.iter().cloned());
    if modules.incomplete && crate::flake::flake_info(db, ws).roots.is_some() {
        // flake-parts modules were handed over in a way infra-check cannot read: any file may
        // be one.
        out.prefixes.insert(String::new());
    }
    // clan-core imports these from every machine's directory by itself (which ones depends
    // on the machine's class).
    let loaded = crate::machine_config::loaded_files(db, ws);
    out.files
        .extend(loaded.by_machine.values().flatten().cloned());
    for chunk in crate::chunks::nix_chunks(db, ws, |_| true) {
        let named = chunk_named_paths(db, chunk);
        for p in &named.paths {
            out.files.insert(p.clone());
            out.files.insert(format!("{p}/default.nix"));
        }
        out.prefixes.extend(named.prefixes.iter().cloned());
        out.trees.extend(named.trees.iter().cloned());
    }
    Arc::new(out)
}

/// What the files of a group name (see [`crate::chunks`]), one list of each kind.
#[salsa::tracked(returns(ref))]
fn chunk_named_paths<'db>(db: &'db dyn Db, chunk: crate::chunks::FileChunk<'db>) -> Arc<Named> {
    let ws = *chunk.ws(db);
    let mut out = Named::default();
    for &f in chunk.files(db) {
        let named = named_paths(db, ws, f);
        out.paths.extend(named.paths.iter().cloned());
        out.prefixes.extend(named.prefixes.iter().cloned());
        out.trees.extend(named.trees.iter().cloned());
    }
    Arc::new(out)
}
