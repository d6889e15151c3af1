//! Generator declarations and var reads as one file writes them (part of the per-file summary).

use std::sync::Arc;

use crate::diagnostic::Location;
use crate::summary::ContextClass;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VarsFragment {
    pub generators: Vec<GeneratorDecl>,
    /// Modules (by owner) whose generators could not all be read.
    pub open_owners: Vec<Arc<str>>,
    /// Modules (by owner) that import something the analyzer cannot see into.
    pub opaque_import_owners: Vec<Arc<str>>,
    /// Modules of flake inputs imported by a walked module (the same records as the options
    /// part's): they count as read when their source is (`inputs::modules`).
    pub input_imports: Vec<Arc<crate::options::model::InputImport>>,
    /// The flake's own module outputs a walked module imports by name (`self.nixosModules.x`):
    /// (importing owner, the output's owner).
    pub output_imports: Vec<(Arc<str>, Arc<str>)>,
    /// The flake's own module outputs defined here (`flake.nixosModules.x = …`), by owner.
    pub output_modules: Vec<Arc<str>>,
    /// This file may define module outputs infra-check cannot name.
    pub open_output_sets: bool,
    pub var_refs: Vec<VarRef>,
    /// `clan.core.vars.settings.secretStore` set by a module (by owner), with the value when
    /// it is a known string.
    pub secret_stores: Vec<(Arc<str>, Option<String>)>,
}

crate::lean::impl_empty!(VarsFragment);

impl VarsFragment {
    /// See `FileSummary::shrink`.
    pub(crate) fn shrink(&mut self) {
        self.generators.shrink_to_fit();
        self.open_owners.shrink_to_fit();
        self.opaque_import_owners.shrink_to_fit();
        self.input_imports.shrink_to_fit();
        self.output_imports.shrink_to_fit();
        self.output_modules.shrink_to_fit();
        self.var_refs.shrink_to_fit();
        self.secret_stores.shrink_to_fit();
    }
}

/// `clan.core.vars.generators.<name> = { … }` in a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorDecl {
    pub name: String,
    pub location: Location,
    /// The module it is declared in, as import contexts name it (`flake.modules.nixos.base`,
    /// `clan.machines.web`, `service cache/default`).
    pub owner: Arc<str>,
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
    /// `neededFor` (default: `services`); `None` when not knowable.
    pub needed_for: Option<NeededFor>,
    pub conditional: bool,
}

/// When clan deploys a secret file (`neededFor`, clan-core's default `services`). Only `users`
/// and `services` files become sops-nix secrets that the machine decrypts with its own key
/// (`generators-to-sops.nix`, `relevantFiles`); `activation` and `partitioning` files are
/// decrypted with the admin's key and uploaded during deploy (`populate_dir` of clan's sops
/// store), so the machine needs no access to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NeededFor {
    Partitioning,
    Activation,
    Users,
    #[default]
    Services,
}

impl NeededFor {
    /// The value as clan-core's `neededFor` option spells it; `None` for anything else.
    pub fn parse(s: &str) -> Option<NeededFor> {
        match s {
            "partitioning" => Some(NeededFor::Partitioning),
            "activation" => Some(NeededFor::Activation),
            "users" => Some(NeededFor::Users),
            "services" => Some(NeededFor::Services),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NeededFor::Partitioning => "partitioning",
            NeededFor::Activation => "activation",
            NeededFor::Users => "users",
            NeededFor::Services => "services",
        }
    }

    /// Whether the machine decrypts the file itself, so it must be a recipient of it.
    pub fn decrypted_by_machine(self) -> bool {
        matches!(self, NeededFor::Users | NeededFor::Services)
    }
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
    pub owner: Arc<str>,
    pub generator: Option<String>,
    pub file: Option<String>,
    pub location: Location,
    /// Where the generator name is written in the read.
    pub generator_location: Option<Location>,
    /// Read only on a branch the evaluator does not know is taken: a use, never a finding.
    pub hypothetical: bool,
}
