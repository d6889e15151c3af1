//! Generator declarations and var reads as one file writes them (part of the per-file summary).

use crate::diagnostic::Location;
use crate::summary::ContextClass;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VarsFragment {
    pub generators: Vec<GeneratorDecl>,
    /// Modules (by owner) whose generators could not all be read.
    pub open_owners: Vec<String>,
    /// Modules (by owner) that import something the analyzer cannot see into.
    pub opaque_import_owners: Vec<String>,
    pub var_refs: Vec<VarRef>,
}

/// `clan.core.vars.generators.<name> = { … }` in a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorDecl {
    pub name: String,
    pub location: Location,
    /// The module it is declared in, as import contexts name it (`flake.modules.nixos.base`,
    /// `clan.machines.web`, `service cache/default`).
    pub owner: String,
    pub class: ContextClass,
    /// Declared under a condition the analyzer cannot decide (`mkIf <unknown>`).
    pub conditional: bool,
    /// `share`; `None` when not knowable.
    pub share: Option<bool>,
    /// `None` when the files could not all be read.
    pub files: Option<Vec<FileDecl>>,
    pub validation: Validation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDecl {
    pub name: String,
    pub location: Location,
    /// `secret` (clan's default: true); `None` when not knowable.
    pub secret: Option<bool>,
    /// `deploy` (default: true); `None` when not knowable.
    pub deploy: Option<bool>,
    pub conditional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    /// Not set (or null): no `.validation-hash` is expected.
    Unset,
    /// Fully known; its sha256 over Nix's `builtins.toJSON` is what clan stores.
    Known(serde_json::Value),
    Unknown,
}

/// A read of `config.clan.core.vars.generators.<g>.files.<f>` in a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub owner: String,
    pub generator: Option<String>,
    pub file: Option<String>,
    pub location: Location,
    /// Where the generator name is written in the read.
    pub generator_location: Option<Location>,
}
