//! Editor features as plain data: what is at a position, where it is defined, where it is
//! used, what to show on hover, what to complete, and the symbols of a file or the workspace.
//! The language server translates these to the protocol.

pub mod complete;
pub mod hover;
pub mod nav;
mod occurrences;
pub mod rename;
pub mod symbols;

use crate::diagnostic::{Location, TextRange};

pub use occurrences::{occurrences_in, Occurrence, Subject};

/// A place to jump to, with what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavTarget {
    pub location: Location,
    /// A short label: `flake.modules.nixos.base`, `machine argon`, …
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    /// The range the hover is about.
    pub range: TextRange,
    /// Markdown.
    pub markdown: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Module,
    Class,
    Machine,
    Tag,
    Role,
    Service,
    Generator,
    File,
    Option,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// The text to insert (quoted when the name is not an identifier).
    pub insert: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Module,
    Machine,
    Instance,
    Generator,
    Option,
    Service,
    /// A module class grouping its modules.
    Class,
    Role,
    /// A file of a generator.
    File,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub location: Location,
    /// Where it belongs: the class of a module, the service of an instance, …
    pub container: Option<String>,
}

#[cfg(test)]
mod rename_tests;
#[cfg(test)]
mod tests;
