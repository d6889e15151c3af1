//! One view of a service, whether it is built into clan-core (from the catalog, for the locked
//! clan-core version) or defined by the repository (`clan.modules.<name>`).

use std::collections::BTreeMap;

use super::catalog::catalog;
use super::resolve::{ClanModel, Instance};
use super::source_services::SourceServices;
use crate::diagnostic::Location;
use crate::options::types::OptionSpec;

#[derive(Debug, Clone)]
pub struct ServiceView {
    /// `module.name`.
    pub name: String,
    /// How clan-core names it in messages (`manifest.name`).
    pub display: String,
    pub origin: Origin,
    /// `None` when the roles cannot be read.
    pub roles: Option<BTreeMap<String, RoleView>>,
    /// Every role is listed: a role not among them does not exist.
    pub roles_complete: bool,
    pub max_instances: Option<u64>,
    /// Roles one machine may not hold together in one instance, with clan-core's message.
    pub exclusive_roles: Vec<(String, String, String)>,
    /// Where a local service is defined.
    pub location: Option<Location>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    ClanCore,
    Local,
}

#[derive(Debug, Clone, Default)]
pub struct RoleView {
    /// `None` when the option list is not known completely.
    pub options: Option<BTreeMap<String, OptionSpec>>,
    /// Options known to exist (complete or not), for type checks.
    pub known_options: BTreeMap<String, OptionSpec>,
    pub option_locations: BTreeMap<String, Location>,
    pub min_machines: Option<u64>,
    pub max_machines: Option<u64>,
    pub cardinality_note: Option<String>,
    /// Whether darwin machines get a module from this role; `None` when unknown.
    pub darwin: Option<bool>,
    pub location: Option<Location>,
}

/// What an instance's `module` resolves to.
#[derive(Clone)]
pub enum Resolution {
    Service(ServiceView),
    /// The input is not a flake input (and the inputs are known).
    UnknownInput {
        input: String,
        location: Location,
    },
    /// The input provides no service of that name.
    UnknownService {
        name: String,
        input_desc: String,
        candidates: Vec<String>,
        location: Location,
        removed: Option<String>,
    },
    /// Something the analyzer cannot see (another flake's services, an unreadable value).
    Unknowable,
}

pub fn resolve(model: &ClanModel, inst: &Instance) -> Resolution {
    use super::model::Field;
    let Some(name) = inst.service_name() else {
        return Resolution::Unknowable;
    };
    let name_loc = inst
        .module_name
        .location()
        .cloned()
        .unwrap_or_else(|| inst.locations[0].clone());
    let input = match &inst.module_input {
        Field::Unset | Field::Known(None, _) => None,
        Field::Known(Some(i), _) => Some(i.as_str()),
        Field::Unknown => return Resolution::Unknowable,
    };
    match input {
        Some("self") => {
            if let Some(s) = model.local_services.get(name) {
                return Resolution::Service(local_view(s));
            }
            if !model.local_services_complete {
                return Resolution::Unknowable;
            }
            Resolution::UnknownService {
                name: name.to_owned(),
                input_desc: "this flake's `clan.modules`".into(),
                candidates: model.local_services.keys().cloned().collect(),
                location: name_loc,
                removed: None,
            }
        }
        Some(i) if Some(i) != model.clan_core_input.as_deref() => {
            if model.flake_inputs.contains(i) || !model.flake_inputs_complete {
                Resolution::Unknowable
            } else {
                Resolution::UnknownInput {
                    input: i.to_owned(),
                    location: inst.module_input.location().cloned().unwrap_or(name_loc),
                }
            }
        }
        _ => {
            let view = catalog().at(model.clan_core_last_modified);
            if let Some(source) = &model.clan_core_source {
                if let Some(found) = from_source(source, &view, name, name_loc.clone()) {
                    return found;
                }
            }
            match view.service(name) {
                Some(spec) if spec.removed.is_none() => {
                    Resolution::Service(builtin_view(name, &spec))
                }
                Some(spec) => Resolution::UnknownService {
                    name: name.to_owned(),
                    input_desc: "clan-core".into(),
                    candidates: Vec::new(),
                    location: name_loc,
                    removed: spec.removed.as_ref().map(|n| n.message.clone()),
                },
                // A clan-core newer than the catalog may have services it does not list.
                None if view.beyond_newest() => Resolution::Unknowable,
                None => Resolution::UnknownService {
                    name: name.to_owned(),
                    input_desc: "clan-core".into(),
                    candidates: view.service_names(),
                    location: name_loc,
                    removed: None,
                },
            }
        }
    }
}

/// What the locked clan-core's own source says `name` is; `None` when the source was not read
/// completely and does not have it (the catalog answers, as without the source). The catalog
/// still gives what a source cannot declare (cardinality enforced by a `throw`, exclusive
/// roles, the message of a service that moved away) where it knows the service.
fn from_source(
    source: &SourceServices,
    view: &super::catalog::CatalogView,
    name: &str,
    location: Location,
) -> Option<Resolution> {
    // The newest catalog view has a removed service's message whatever the version's era: the
    // source already says it is gone.
    let removed = || {
        catalog()
            .at(None)
            .service(name)
            .and_then(|s| s.removed.map(|n| n.message))
    };
    if source.deprecated.contains(name) {
        return Some(match removed() {
            Some(message) => Resolution::UnknownService {
                name: name.to_owned(),
                input_desc: "clan-core".into(),
                candidates: Vec::new(),
                location,
                removed: Some(message),
            },
            None => Resolution::Unknowable,
        });
    }
    match source.services.get(name) {
        Some(service) => {
            let mut v = local_view(service);
            v.origin = Origin::ClanCore;
            v.location = None;
            let spec = view.service(name).filter(|s| s.removed.is_none());
            for (role, rv) in v.roles.iter_mut().flatten() {
                rv.location = None;
                rv.option_locations.clear();
                // Settings are judged as without the source: the module system reports an
                // unknown or missing setting only when a module forces it, and which settings
                // clan-core's modules force is not read yet. (A nested option such as
                // `services.matrix-synapse.package` or a role with no interface would
                // otherwise be a false error.)
                let rs = spec.as_ref().and_then(|s| s.roles.get(role));
                rv.options = rs
                    .and_then(|rs| (rs.options_complete && rs.certain).then(|| rs.options.clone()));
                rv.known_options = rs.map(|rs| rs.options.clone()).unwrap_or_default();
                let Some(rs) = rs else {
                    continue;
                };
                if rv.min_machines.is_none() && rv.max_machines.is_none() {
                    rv.min_machines = rs.min_machines.map(u64::from);
                    rv.max_machines = rs.max_machines.map(u64::from);
                    rv.cardinality_note = rs.cardinality_note.clone();
                }
            }
            if let Some(spec) = spec {
                let roles = v.roles.as_ref();
                v.exclusive_roles = spec
                    .exclusive_roles
                    .into_iter()
                    .filter(|(a, b, _)| {
                        roles.is_some_and(|r| r.contains_key(a) && r.contains_key(b))
                    })
                    .collect();
            }
            Some(Resolution::Service(v))
        }
        None if source.complete => Some(Resolution::UnknownService {
            name: name.to_owned(),
            input_desc: "clan-core".into(),
            candidates: source
                .services
                .keys()
                .filter(|n| !source.deprecated.contains(*n))
                .cloned()
                .collect(),
            location,
            removed: removed(),
        }),
        None => None,
    }
}

fn builtin_view(name: &str, spec: &super::catalog::ServiceSpec) -> ServiceView {
    let roles = spec
        .roles
        .iter()
        .map(|(r, rs)| {
            (
                r.clone(),
                RoleView {
                    // A role that may not exist in this version says nothing about its settings.
                    options: (rs.options_complete && rs.certain).then(|| rs.options.clone()),
                    known_options: rs.options.clone(),
                    option_locations: BTreeMap::new(),
                    min_machines: rs.min_machines.map(u64::from),
                    max_machines: rs.max_machines.map(u64::from),
                    cardinality_note: rs.cardinality_note.clone(),
                    darwin: if spec.machine_modules {
                        spec.darwin
                    } else {
                        None
                    },
                    location: None,
                },
            )
        })
        .collect();
    ServiceView {
        name: name.to_owned(),
        display: spec
            .manifest_name
            .clone()
            .unwrap_or_else(|| name.to_owned()),
        origin: Origin::ClanCore,
        roles: Some(roles),
        roles_complete: spec.roles_complete,
        max_instances: spec.max_instances.map(u64::from),
        exclusive_roles: spec.exclusive_roles.clone(),
        location: None,
    }
}

fn local_view(s: &super::model::LocalService) -> ServiceView {
    let roles = s.roles.as_ref().map(|roles| {
        roles
            .iter()
            .map(|(r, lr)| {
                let opts: Option<BTreeMap<String, OptionSpec>> = lr.options.as_ref().map(|o| {
                    o.iter()
                        .map(|(k, (spec, _))| (k.clone(), spec.clone()))
                        .collect()
                });
                (
                    r.clone(),
                    RoleView {
                        known_options: opts.clone().unwrap_or_default(),
                        options: opts,
                        option_locations: lr
                            .options
                            .iter()
                            .flatten()
                            .map(|(k, (_, l))| (k.clone(), l.clone()))
                            .collect(),
                        min_machines: lr.min_machines,
                        max_machines: lr.max_machines,
                        cardinality_note: None,
                        darwin: lr.darwin,
                        location: Some(lr.location.clone()),
                    },
                )
            })
            .collect()
    });
    ServiceView {
        name: s.name.clone(),
        display: s.manifest_name.clone().unwrap_or_else(|| s.name.clone()),
        origin: Origin::Local,
        roles_complete: roles.is_some(),
        roles,
        max_instances: s.max_instances,
        exclusive_roles: Vec::new(),
        location: Some(s.location.clone()),
    }
}
