//! The clan configuration as the repository writes it: what one file contributes
//! ([`ClanFragment`], part of the per-file summary). Plain data with locations; every field that
//! could not be read is `Unknown`, and the checks that depend on it stay silent.

use std::collections::BTreeMap;

use crate::diagnostic::Location;
use crate::options::types::OptionSpec;

/// A field that may be unset, known (with where it was written), or not knowable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field<T> {
    #[default]
    Unset,
    Known(T, Location),
    Unknown,
}

impl<T> Field<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known(v, _) => Some(v),
            _ => None,
        }
    }
    pub fn location(&self) -> Option<&Location> {
        match self {
            Field::Known(_, l) => Some(l),
            _ => None,
        }
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Named {
    pub name: String,
    pub location: Location,
}

/// What one file contributes to the clan configuration. Fragments of all files merge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClanFragment {
    pub machines: Vec<InvMachine>,
    /// Keys of `clan.machines` (machines with a configuration).
    pub machine_configs: Vec<Named>,
    pub tags: Vec<InvTag>,
    /// `inventory.tags` written as a function of the machines (`{ config, ... }: { … }`):
    /// where the function is, to be applied once the machines are known.
    pub dynamic_tags: Vec<Location>,
    pub instances: Vec<InvInstance>,
    /// `inventory.services` (removed from clan-core).
    pub legacy_services: Vec<Location>,
    pub local_services: Vec<LocalService>,
    /// Literal `nixpkgs.hostPlatform` values, with the class they are evaluated in.
    pub host_platforms: Vec<ModuleLiteral>,
    /// Literal `clan.core.networking.targetHost` values (darwin machines set it in-module).
    pub target_hosts: Vec<ModuleLiteral>,
    /// `vars.settings.secretStore` of the clan (clan-core's default: `sops`).
    pub secret_store: Field<String>,
    /// Fields of `meta` (`clan.meta` and `inventory.meta`) set to a string, as `meta.<key>`,
    /// at the key.
    pub meta_strings: Vec<Named>,
    pub open: ClanOpen,
}

crate::lean::impl_empty!(ClanFragment);

impl ClanFragment {
    /// See `FileSummary::shrink`.
    pub(crate) fn shrink(&mut self) {
        self.machines.shrink_to_fit();
        self.machine_configs.shrink_to_fit();
        self.tags.shrink_to_fit();
        self.dynamic_tags.shrink_to_fit();
        self.instances.shrink_to_fit();
        self.legacy_services.shrink_to_fit();
        self.local_services.shrink_to_fit();
        self.host_platforms.shrink_to_fit();
        self.target_hosts.shrink_to_fit();
        self.meta_strings.shrink_to_fit();
    }
}

/// Parts of the clan configuration this file writes in a way that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClanOpen {
    pub machines: bool,
    pub machine_configs: bool,
    pub tags: bool,
    pub instances: bool,
    pub modules: bool,
}

impl ClanOpen {
    pub fn all() -> Self {
        ClanOpen {
            machines: true,
            machine_configs: true,
            tags: true,
            instances: true,
            modules: true,
        }
    }
    pub fn merge(&mut self, o: ClanOpen) {
        self.machines |= o.machines;
        self.machine_configs |= o.machine_configs;
        self.tags |= o.tags;
        self.instances |= o.instances;
        self.modules |= o.modules;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvMachine {
    pub name: String,
    pub location: Location,
    pub class: Field<String>,
    pub tags: Field<Vec<Named>>,
    pub target_host: Field<String>,
    pub build_host: Field<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvTag {
    pub name: String,
    pub location: Location,
    pub members: Field<Vec<Named>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvInstance {
    pub name: String,
    pub location: Location,
    pub module_name: Field<String>,
    /// `null` is `Known(None)`.
    pub module_input: Field<Option<String>>,
    pub roles: Field<Vec<InvRole>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvRole {
    pub name: String,
    pub location: Location,
    pub machines: Members,
    pub tags: Members,
    pub settings: Settings,
    /// How many modules `extraModules` adds to every machine of the role (whatever its class:
    /// clan-core imports them into both the nixosModule and the darwinModule of the role).
    pub extra_modules: Field<usize>,
}

/// The machines (or tags) of a role.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Members {
    #[default]
    Unset,
    Known(Vec<Member>),
    /// Written as a list where clan-core wants an attrset (`machines = [ "a" ]`).
    List(Location, Vec<Named>),
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub location: Location,
    pub settings: Settings,
}

/// A `settings` attrset: each key with its value when known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub entries: Vec<Setting>,
    /// Some keys could not be read.
    pub open: bool,
    /// Where `settings` was written, when it was.
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub location: Location,
    /// The value expression, when written literally.
    pub value_location: Option<Location>,
    pub value: Option<serde_json::Value>,
}

/// A service defined by the repository: `clan.modules.<name> = { _class = "clan.service"; … }`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LocalService {
    pub name: String,
    pub location: Location,
    pub manifest_name: Option<String>,
    /// `None` when the roles could not be read.
    pub roles: Option<BTreeMap<String, LocalRole>>,
    pub max_instances: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LocalRole {
    pub location: Location,
    /// The options its `interface` declares; `None` when the interface could not be read.
    pub options: Option<BTreeMap<String, (OptionSpec, Location)>>,
    pub min_machines: Option<u64>,
    pub max_machines: Option<u64>,
    /// Whether it gives darwin machines a module; `None` when unknown, or when the role gives
    /// no machine a module at all (exports only, or only the instance's `extraModules`).
    pub darwin: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// A string option a module sets literally.
pub struct ModuleLiteral {
    pub value: String,
    pub location: Location,
    pub context: crate::summary::ContextClass,
    /// The module that sets it, as in import contexts (`flake.modules.nixos.web`).
    pub owner: std::sync::Arc<str>,
}

/// clan's rule for machine names (`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters:
/// a host name label), which also keeps a name from ever being read as an option or as shell
/// syntax by the commands it is handed to.
pub fn valid_machine_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}
