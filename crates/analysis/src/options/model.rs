//! Option declarations and definitions as one file writes them (part of the per-file summary).

use std::sync::Arc;

use super::read::OptionDecl;
use crate::diagnostic::Location;
use crate::summary::ContextClass;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptionsFragment {
    pub decls: Vec<DeclaredIn>,
    pub defs: Vec<Definition>,
    /// `config.<path>` read in a walked module.
    pub reads: Vec<OptionRead>,
    /// The `home-manager.users.<u>` and `home-manager.sharedModules` bodies walked, with the
    /// module that sets them.
    pub hm_scopes: Vec<HmScope>,
    /// Modules whose body or imports could not be read completely: they may declare anything.
    pub open_owners: Vec<Arc<str>>,
    /// Modules of flake inputs imported by a walked module (`inputs.x.nixosModules.y`).
    pub input_imports: Vec<Arc<InputImport>>,
    /// `homeConfigurations.<name>` built with home-manager's `homeManagerConfiguration`: the
    /// name, the owner of its modules, where it is written.
    pub home_configurations: Vec<(String, Arc<str>, Location)>,
}

crate::lean::impl_empty!(OptionsFragment);

impl OptionsFragment {
    /// See `FileSummary::shrink`.
    pub(crate) fn shrink(&mut self) {
        self.decls.shrink_to_fit();
        self.defs.shrink_to_fit();
        for d in &mut self.defs {
            d.path.shrink_to_fit();
        }
        self.reads.shrink_to_fit();
        self.hm_scopes.shrink_to_fit();
        self.open_owners.shrink_to_fit();
        self.input_imports.shrink_to_fit();
        self.home_configurations.shrink_to_fit();
    }
}

/// `config.a.b.c` read by the module `owner`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OptionRead {
    pub owner: Arc<str>,
    pub path: Vec<String>,
    pub location: Location,
}

/// A home-manager module set inside the NixOS or nix-darwin module `parent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmScope {
    pub parent: Arc<str>,
    /// The user, or `None` for `home-manager.sharedModules` (every user of the machine).
    pub user: Option<String>,
    /// The owner its declarations and definitions are recorded under.
    pub owner: Arc<str>,
}

/// `inputs.<input>.<path…>` imported by the module `owner`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputImport {
    pub owner: Arc<str>,
    pub input: String,
    pub path: Vec<String>,
}

/// A declaration and the module (owner, class) that declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredIn {
    pub decl: OptionDecl,
    /// `flake-parts` for the flake-parts configuration, else as in import contexts.
    pub owner: Arc<str>,
    pub class: ContextClass,
}

/// A value a module gives an option path (a leaf of its configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub path: Vec<String>,
    /// The value when fully known (JSON); `None` otherwise.
    pub value: Option<serde_json::Value>,
    /// The module system's priority: 100 plain, 1000 `mkDefault`, 50 `mkForce`, or `mkOverride`'s.
    pub priority: i64,
    /// Under a condition the analyzer cannot decide.
    pub conditional: bool,
    /// The key as written (the last path segment).
    pub location: Location,
    pub value_location: Option<Location>,
    pub owner: Arc<str>,
    pub class: ContextClass,
}

pub const FLAKE_PARTS: &str = "flake-parts";
