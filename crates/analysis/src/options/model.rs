//! Option declarations and definitions as one file writes them (part of the per-file summary).

use super::read::OptionDecl;
use crate::diagnostic::Location;
use crate::summary::ContextClass;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptionsFragment {
    pub decls: Vec<DeclaredIn>,
    pub defs: Vec<Definition>,
}

/// A declaration and the module (owner, class) that declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredIn {
    pub decl: OptionDecl,
    /// `flake-parts` for the flake-parts configuration, else as in import contexts.
    pub owner: String,
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
    pub owner: String,
    pub class: ContextClass,
}

pub const FLAKE_PARTS: &str = "flake-parts";
