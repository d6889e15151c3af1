//! Modules of flake inputs the repository imports (`inputs.srvos.nixosModules.server`,
//! `inputs.disko.nixosModules.disko`, `inputs.<x>.modules.nixos.<y>`), read from the input's
//! source in the store: its `flake.nix` `outputs`, applied to its inputs, as far as the
//! evaluator follows them, then the module walked as the repository's own modules are
//! (`summary::summarize_input_module`). What it declares counts for the machines that import
//! it; nothing in it is ever reported on.

use std::collections::BTreeSet;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use crate::db::{Db, Workspace};
use crate::eval::{Evaluator, Sym, Thunk, Value};
use crate::inputs::tree::InputTree;

/// What an input's module declares, as far as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct InputModule {
    /// Every `clan.core.vars.generators` it declares is in `generators`.
    pub vars_complete: bool,
    /// Every option it declares is in `declares`.
    pub options_complete: bool,
    /// The generators it declares (under a condition or not: they count as ones the machine
    /// may get, never as ones it must have, since their files are the input's).
    pub generators: BTreeSet<String>,
    /// The top-level names of the options it declares (`srvos`, `disko`, `home-manager`).
    pub declares: BTreeSet<String>,
}

/// A module of a flake input some module of the repository imports, and what was read of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedModule {
    pub input: String,
    /// The output path (`["nixosModules", "server"]`).
    pub path: Vec<String>,
    /// `None`: not read (the input is absent, or its outputs do not lead to a module).
    pub module: Option<Arc<InputModule>>,
}

/// Every module of a flake input the repository's modules import, by input and path.
pub fn imported_modules(db: &dyn Db, ws: Workspace) -> Vec<ImportedModule> {
    let named: BTreeSet<(&str, &[String])> = crate::vars::resolve::all_vars_parts(db, ws)
        .flat_map(|v| v.input_imports.iter())
        .map(|i| (i.input.as_str(), i.path.as_slice()))
        .collect();
    named
        .into_iter()
        .map(|(input, path)| ImportedModule {
            input: input.to_owned(),
            path: path.to_vec(),
            module: input_module(db, ws, input, path).clone(),
        })
        .collect()
}

/// One module of one root input, as the repository names it.
#[salsa::interned(debug)]
struct InputModuleKey<'db> {
    ws: Workspace,
    #[returns(ref)]
    input: String,
    #[returns(ref)]
    path: Vec<String>,
}

/// [`InputModule`] of `inputs.<input>.<path…>`, when the input's source is in the store and
/// its `flake.nix` leads to a module of a known class; `None` otherwise (the module then stays
/// unknown, as without a store).
pub fn input_module<'db>(
    db: &'db dyn Db,
    ws: Workspace,
    input: &str,
    path: &[String],
) -> &'db Option<Arc<InputModule>> {
    input_module_of(
        db,
        InputModuleKey::new(db, ws, input.to_owned(), path.to_vec()),
    )
}

#[salsa::tracked(returns(ref))]
fn input_module_of<'db>(db: &'db dyn Db, key: InputModuleKey<'db>) -> Option<Arc<InputModule>> {
    let (ws, input, path) = (*key.ws(db), key.input(db), key.path(db));
    module_class(path)?;
    let root = crate::inputs::roots::input_root(db, ws, input)?;
    crate::inputs::cache::cached(ws.cache(db).as_deref(), &root, &cache_entry(path), || {
        read_module(&root, path)
    })
    .map(Arc::new)
}

/// The name of the module at `path` in the cache (`inputs::cache`).
fn cache_entry(path: &[String]) -> String {
    // Attribute names may hold any character: each one's length keeps the name unambiguous.
    let mut out = String::from("module");
    for p in path {
        out.push_str(&format!(" {}:{p}", p.len()));
    }
    out
}

/// The module class of an output path: `nixosModules.<n>` and `modules.nixos.<n>` are NixOS
/// modules, and so on; `None` for a path that does not name one module.
pub fn module_class(path: &[String]) -> Option<&'static str> {
    let class = |c: &str| match c {
        "nixos" => Some("nixos"),
        "darwin" => Some("darwin"),
        "homeManager" => Some("homeManager"),
        _ => None,
    };
    match path {
        [set, _] => match set.as_str() {
            "nixosModules" => Some("nixos"),
            "darwinModules" => Some("darwin"),
            "homeManagerModules" | "homeModules" => Some("homeManager"),
            _ => None,
        },
        [modules, c, _] if modules == "modules" => class(c),
        _ => None,
    }
}

/// The module at the output `path` of the flake whose source is `root`.
pub fn read_module(root: &Path, path: &[String]) -> Option<InputModule> {
    let class = module_class(path)?;
    crate::stack::run(|| read_module_here(root, path, class))
}

fn read_module_here(root: &Path, path: &[String], class: &str) -> Option<InputModule> {
    let tree = InputTree::new(root)?;
    let ev = Evaluator::new(&tree);
    let Value::Attrs(flake) = ev.import("flake.nix") else {
        return None;
    };
    let outputs = ev.force(&flake.get("outputs")?.value);
    let mut v = ev.apply(outputs, Thunk::value(Value::Sym(Rc::new(Sym::Inputs))));
    for name in path {
        v = match v {
            Value::Attrs(a) => ev.force(&a.get(name)?.value),
            _ => return None,
        };
    }
    let module = match v {
        Value::Path(p) => ev.import(&p),
        v @ (Value::Attrs(_) | Value::Lambda(_)) => v,
        _ => return None,
    };
    if module.is_unknown() {
        return None;
    }
    let owner = format!("input module {}", path.join("."));
    let s = crate::summary::summarize_input_module(&ev, &Thunk::value(module), class, &owner);
    // Its own imports of modules this reading does not follow: its inputs' modules (`inputs`
    // here are the input's, not the repository's), its flake's own deferred modules and
    // module outputs (`self.nixosModules.<n>`), files it could not read.
    let closed = !s.incomplete
        && s.contexts.is_empty()
        && s.vars.input_imports.is_empty()
        && s.vars.output_imports.is_empty();
    Some(InputModule {
        vars_complete: closed
            && s.vars.open_owners.is_empty()
            && s.vars.opaque_import_owners.is_empty(),
        options_complete: closed && s.options.open_owners.is_empty(),
        generators: s.vars.generators.iter().map(|g| g.name.clone()).collect(),
        declares: s
            .options
            .decls
            .iter()
            .filter_map(|d| d.decl.path.first().cloned())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let full = dir.path().join("source").join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        dir
    }

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn output_paths_name_a_module_of_a_class_or_nothing() {
        assert_eq!(module_class(&path("nixosModules.server")), Some("nixos"));
        assert_eq!(module_class(&path("darwinModules.x")), Some("darwin"));
        assert_eq!(module_class(&path("homeModules.x")), Some("homeManager"));
        assert_eq!(
            module_class(&path("modules.homeManager.x")),
            Some("homeManager")
        );
        for p in [
            "nixosModules",
            "modules.nixos",
            "modules.flake.x",
            "packages.x",
            "lib.x.y",
        ] {
            assert_eq!(module_class(&path(p)), None, "{p}");
        }
    }

    #[test]
    fn a_module_named_by_its_path_is_read_with_what_it_declares() {
        let dir = source(&[
            (
                "flake.nix",
                "{ outputs = { self, ... }: import ./. ; }",
            ),
            (
                "default.nix",
                "rec { modules.nixos = builtins.listToAttrs (map (p: { name = builtins.substring (builtins.stringLength (toString ./mods) + 1) 99 (toString p); value = p; }) [ ./mods/a.nix ]); nixosModules = modules.nixos; }",
            ),
            (
                "mods/a.nix",
                "{ lib, config, modulesPath, ... }: { imports = [ (modulesPath + \"/x.nix\") ]; options.a.enable = lib.mkEnableOption \"a\"; config = lib.mkIf config.a.enable { clan.core.vars.generators.a-key.files.k = { }; }; }",
            ),
        ]);
        let root = dir.path().join("source");
        for p in [
            &["nixosModules", "a.nix"][..],
            &["modules", "nixos", "a.nix"],
        ] {
            let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
            let m = read_module(&root, &p).expect("read");
            assert!(m.vars_complete, "{m:?}");
            // The platform's modules it imports declare options infra-check does not know.
            assert!(!m.options_complete, "{m:?}");
            assert_eq!(m.generators, BTreeSet::from(["a-key".to_owned()]));
            assert_eq!(m.declares, BTreeSet::from(["a".to_owned()]));
        }
        assert_eq!(read_module(&root, &path("nixosModules.b")), None);
    }

    #[test]
    fn a_source_that_cannot_be_read_gives_no_module() {
        let unparsed = source(&[("flake.nix", "{ outputs = ")]);
        let no_flake = source(&[("default.nix", "{ }")]);
        let unknown = source(&[("flake.nix", "{ outputs = inputs: inputs.other.lib.f { }; }")]);
        let file = tempfile::tempdir().unwrap();
        std::fs::write(file.path().join("source"), "not a directory").unwrap();
        let looped = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("source", looped.path().join("source")).unwrap();
        for dir in [&unparsed, &no_flake, &unknown, &file, &looped] {
            let root = dir.path().join("source");
            assert_eq!(
                read_module(&root, &path("nixosModules.x")),
                None,
                "{root:?}"
            );
        }
        // A module that imports what cannot be read is read, and known to be incomplete.
        let opaque = source(&[(
            "flake.nix",
            "{ outputs = _: { nixosModules.x = { pkgs, ... }: { imports = [ pkgs.m ]; }; }; }",
        )]);
        let m = read_module(&opaque.path().join("source"), &path("nixosModules.x")).unwrap();
        assert!(!m.vars_complete && !m.options_complete, "{m:?}");
        // So is one that imports another module of its own flake by its output name: this
        // reading follows only the one module.
        let own = source(&[(
            "flake.nix",
            "{ outputs = { self, ... }: { nixosModules.x = { imports = [ self.nixosModules.y ]; }; nixosModules.y = { }; }; }",
        )]);
        let m = read_module(&own.path().join("source"), &path("nixosModules.x")).unwrap();
        assert!(!m.vars_complete && !m.options_complete, "{m:?}");
    }
}
