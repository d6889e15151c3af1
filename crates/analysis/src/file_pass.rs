//! The per-file pass: everything later phases read from one file's syntax tree, derived from
//! one parse whose tree is dropped when the pass ends.
//!
//! A green tree is ~15× its source. Were the tree memoised for each of these results, a cold
//! start would hold every file's tree at once (80 MiB on 12,000 files) and free them all in one
//! go, on one thread, whenever salsa drops them. Parsed here, each tree lives only as long as
//! its file's pass, on the worker thread that parsed it. Each result is still memoised on its
//! own through a projection query ([`crate::summary::file_summary`],
//! [`crate::checks::file_local_diagnostics`], [`crate::reach::named_paths`], the import
//! literals), so an edit that keeps one of them equal stops there. Whoever needs the tree
//! itself (a file `import` evaluates, a finding's surroundings, the editor's features) asks
//! [`crate::db::parse`], which first looks among the trees of the last passes ([`recent`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use crate::checks::imports::ImportLiterals;
use crate::db::{Db, SourceFile, Workspace};
use crate::diagnostic::Diagnostic;
use crate::reach::Named;
use crate::summary::FileSummary;
use crate::syntax::Parsed;

#[derive(Debug, PartialEq, Eq)]
pub struct FilePass {
    pub summary: Arc<FileSummary>,
    pub local: Arc<Vec<Diagnostic>>,
    pub named: Arc<Named>,
    pub imports: Arc<ImportLiterals>,
}

#[salsa::tracked(returns(ref))]
pub fn file_pass(db: &dyn Db, ws: Workspace, file: SourceFile) -> Arc<FilePass> {
    let parsed = Arc::new(crate::db::parse_file(db, file));
    let named = crate::reach::named_in(db, file, &parsed);
    if note_named(&named, file.path(db)) {
        keep_recent(db, file, &parsed);
    }
    let imports = crate::checks::imports::literals_in(db, file, &parsed);
    let local = crate::checks::local_diagnostics_in(db, ws, file, &parsed, &imports);
    Arc::new(FilePass {
        summary: Arc::new(crate::summary::summarize_file(db, ws, file, &parsed)),
        local: Arc::new(local),
        named: Arc::new(named),
        imports: Arc::new(imports),
    })
}

/// Notes the paths `named` names, and says whether a pass before this one named `path`: then
/// the file is likely to be evaluated through `import` too (a module a machine's configuration
/// imports by path), and its tree is worth keeping ([`keep_recent`]). Only a hint for the
/// cache: a file named later, or by another database of the process, is parsed again.
fn note_named(named: &Named, path: &str) -> bool {
    static NAMED: Mutex<FxHashSet<String>> = Mutex::new(FxHashSet::with_hasher(FxBuildHasher));
    let mut set = NAMED.lock().unwrap_or_else(|e| e.into_inner());
    // A language server's edits name paths for as long as it runs (each keystroke in a path
    // literal is one): a hint need not remember them all.
    if set.len() > NAMED_MAX {
        set.clear();
    }
    for p in &named.paths {
        if !set.contains(p) {
            set.insert(p.clone());
        }
    }
    set.contains(path)
        || path
            .strip_suffix("/default.nix")
            .is_some_and(|d| set.contains(d))
}

/// How many paths [`note_named`] remembers before it starts again.
const NAMED_MAX: usize = 200_000;

/// How many trees of the last passes are kept for [`crate::db::parse`]: on a repository of a
/// few hundred files all of them, so a file that is also evaluated through `import` (modules a
/// machine's configuration imports by path) is parsed once; on a large one a bounded few MiB.
const RECENT: usize = 512;

/// The trees of the last passes, each with the text it was parsed from. A tree is a function of
/// its text and its file's path alone, so handing one out for the same text (the same `Arc`,
/// held here so no other text can take its place) is the same as parsing again, whatever
/// database asks: this is shared by every database of the process, whose files' ids may
/// coincide.
struct Recent {
    trees: FxHashMap<SourceFile, (Arc<str>, Arc<Parsed>)>,
    order: VecDeque<SourceFile>,
}

static RECENT_TREES: Mutex<Recent> = Mutex::new(Recent {
    trees: FxHashMap::with_hasher(FxBuildHasher),
    order: VecDeque::new(),
});

fn keep_recent(db: &dyn Db, file: SourceFile, parsed: &Arc<Parsed>) {
    let entry = (file.text(db).clone(), Arc::clone(parsed));
    let mut dropped = Vec::new();
    {
        let mut recent = RECENT_TREES.lock().unwrap_or_else(|e| e.into_inner());
        match recent.trees.insert(file, entry) {
            Some(old) => dropped.push(old),
            None => recent.order.push_back(file),
        }
        while recent.order.len() > RECENT {
            let Some(oldest) = recent.order.pop_front() else {
                break;
            };
            dropped.extend(recent.trees.remove(&oldest));
        }
    }
    // Freed outside the lock: a tree is thousands of allocations.
    drop(dropped);
}

/// The tree a recent pass parsed from `file`'s current text, if it is still kept.
pub(crate) fn recent(db: &dyn Db, file: SourceFile) -> Option<Arc<Parsed>> {
    let recent = RECENT_TREES.lock().unwrap_or_else(|e| e.into_inner());
    let (text, tree) = recent.trees.get(&file)?;
    Arc::ptr_eq(text, file.text(db)).then(|| Arc::clone(tree))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::summary::FileSummary;
    use crate::tests::{host_from_fixture, with_flake};

    /// The summary of each of `paths` in the flake of `fixture`, from one snapshot.
    fn summaries<const N: usize>(fixture: &str, paths: [&str; N]) -> [Arc<FileSummary>; N] {
        let analysis = host_from_fixture(&with_flake(fixture)).snapshot();
        paths.map(|p| analysis.file_summary(p).unwrap().expect(p))
    }

    /// A summary is kept for every file as long as the session lasts: its lists hold their
    /// entries and no more (three definitions pushed one by one would have room for four), and
    /// its empty parts no room at all.
    #[test]
    fn a_summary_holds_no_room_beyond_its_entries() {
        let [s] = summaries(
            "#- /modules/m.nix\n{\n  flake.modules.nixos.a = { services.x.enable = true; };\n  flake.modules.nixos.b = { };\n  flake.modules.nixos.c = { };\n}\n",
            ["modules/m.nix"],
        );
        assert_eq!(s.definitions.len(), 3, "{:?}", s.definitions);
        assert_eq!(s.definitions.capacity(), 3);
        assert!(!s.options.defs.is_empty());
        assert_eq!(s.options.defs.capacity(), s.options.defs.len());
        // Parts the file contributes nothing to hold nothing.
        assert!(s.options.is_allocated());
        assert!(!s.clan.is_allocated() && !s.vars.is_allocated());
    }

    /// A module's imports are kept as written, with no spare room, and the names they write
    /// are shared: every class and module name once, whichever list (the import context, the
    /// references) records it.
    #[test]
    fn the_imports_of_a_module_hold_no_room_and_share_their_names() {
        let [s] = summaries(
            "#- /modules/m.nix\n{ config, ... }: {\n  flake.modules.nixos.a = { };\n  flake.modules.nixos.b = { };\n  flake.modules.nixos.m = {\n    imports = with config.flake.modules.nixos; [ a b a b a ];\n  };\n}\n",
            ["modules/m.nix"],
        );
        let ctx = s
            .contexts
            .iter()
            .find(|c| &*c.owner == "flake.modules.nixos.m")
            .expect("the import context of m");
        assert_eq!(ctx.items.len(), 5, "{:?}", ctx.items);
        assert_eq!(ctx.items.capacity(), 5);
        let name = |i: usize| ctx.items[i].name.clone().expect("a known name");
        assert!(Arc::ptr_eq(&ctx.items[0].class, &ctx.items[1].class));
        assert!(Arc::ptr_eq(&name(0), &name(2)));
        assert!(!Arc::ptr_eq(&name(0), &name(1)));
        let reference = s
            .references
            .iter()
            .find(|r| r.name.as_deref() == Some("b"))
            .expect("a reference to b");
        assert!(Arc::ptr_eq(reference.name.as_ref().unwrap(), &name(1)));
    }

    /// The locations of one summary share their file's name (one allocation, not one per
    /// location), and a file summarised after it on the same thread gets its own name.
    #[test]
    fn the_locations_of_a_summary_share_one_file_name() {
        let [m, n] = summaries(
            "#- /modules/m.nix\n{\n  flake.modules.nixos.a = { };\n  flake.modules.nixos.b = { };\n}\n#- /modules/n.nix\n{\n  flake.modules.nixos.c = { };\n}\n",
            ["modules/m.nix", "modules/n.nix"],
        );
        let [a, b] = &m.definitions[..] else {
            panic!("{:?}", m.definitions)
        };
        assert_eq!(&*a.location.file, "modules/m.nix");
        assert!(Arc::ptr_eq(&a.location.file, &b.location.file));
        assert_eq!(&*n.definitions[0].location.file, "modules/n.nix");
    }

    /// What one module records (its definitions, the reads its evaluation made) names the
    /// module with one shared owner name, not one copy per record or per mechanism.
    #[test]
    fn the_records_of_a_module_share_its_owner_name() {
        let [s] = summaries(
            "#- /modules/m.nix\n{\n  flake.modules.nixos.a = { config, ... }: {\n    services.x.enable = true;\n    services.y.port = config.services.x.port;\n  };\n}\n",
            ["modules/m.nix"],
        );
        let [x, y] = &s.options.defs[..] else {
            panic!("{:?}", s.options.defs)
        };
        assert_eq!(&*x.owner, "flake.modules.nixos.a");
        assert!(Arc::ptr_eq(&x.owner, &y.owner));
        // The evaluator records the read under the module's name; it comes back as the
        // walker's own.
        let read = s.options.reads.first().expect("a read of config");
        assert_eq!(&*read.owner, "flake.modules.nixos.a");
        assert!(Arc::ptr_eq(&read.owner, &x.owner));
    }

    /// A file an earlier pass named by path keeps its tree for `parse` (the same tree, not
    /// parsed again); one nothing named does not. Paths are this test's own: the hint is
    /// shared by the whole process.
    #[test]
    fn a_file_named_by_an_earlier_pass_keeps_its_tree_for_parse() {
        let host = host_from_fixture(
            "#- /flake.nix\n{ outputs = _: { }; }\n#- /recent-trees/a.nix\n{ imports = [ ./named.nix ]; }\n#- /recent-trees/named.nix\n{ }\n#- /recent-trees/unnamed.nix\n{ }\n",
        );
        let analysis = host.snapshot();
        let (db, ws) = (analysis.db_for_tests(), analysis.workspace_for_tests());
        let file = |p: &str| crate::db::file_by_path(db, ws, p).unwrap();
        for p in [
            "recent-trees/a.nix",
            "recent-trees/named.nix",
            "recent-trees/unnamed.nix",
        ] {
            super::file_pass(db, ws, file(p));
        }
        let kept = super::recent(db, file("recent-trees/named.nix")).expect("kept");
        let parsed = crate::db::parse(db, file("recent-trees/named.nix"));
        assert!(Arc::ptr_eq(&kept, parsed));
        assert!(super::recent(db, file("recent-trees/unnamed.nix")).is_none());
    }
}
