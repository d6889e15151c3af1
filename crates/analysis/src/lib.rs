//! The infra-check analyzer: reads a Nix infrastructure repository (flake-parts deferred
//! modules, a clan inventory) statically and returns diagnostics as plain data.
//!
//! Data flows one way: files → [`db::parse`] → per-file summary ([`summary`]) → workspace
//! index ([`index`]) → [`checks`]. Nothing here prints, exits or reads the environment.

pub mod attribution;
mod chunks;
pub mod codes;
pub mod complexity;
pub mod config;
pub mod db;
pub mod diagnostic;
pub mod disk;
pub mod eval;
pub(crate) mod file_pass;
pub mod flake;
pub mod fsread;
pub mod ide;
pub mod index;
pub mod inputs;
pub mod jsondata;
pub mod lean;
pub mod line_index;
pub mod loader;
pub mod machine_config;
pub mod options;
pub mod reach;
pub mod stack;
pub mod summary;
pub mod syntax;
mod syntax_errors;
pub mod timings;
pub mod vars;
pub mod walk;

mod checks;
pub mod clan;

pub use attribution::Affects;
pub use checks::justfile::JustRecipe;
pub use clan::deploy_order::DeployOrder;
pub use db::{Analysis, AnalysisHost, Cancellable, Cancelled};
pub use diagnostic::{Diagnostic, Fix, Location, Related, Severity, TextEdit, TextRange};
pub use line_index::{LineCol, LineIndex};
pub use loader::{find_root, load, scan, Loaded, Scan};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod db_tests;

#[cfg(test)]
mod attribution_tests;
