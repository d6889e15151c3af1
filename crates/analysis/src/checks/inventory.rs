//! The inventory checks: instances, their services and roles, role members and settings, and
//! darwin machines in NixOS-only roles. Every check reads the resolved clan model and stays
//! silent where a "complete" flag says something could not be read.

use std::collections::BTreeMap;

use super::edits::{rename_edit, BareName};
use crate::attribution::Affects;
use crate::clan::model::{Member, Setting};
use crate::clan::resolve::{clan_model, ClanModel, Instance, Role};
use crate::clan::services::{resolve, Resolution, RoleView, ServiceView};
use crate::db::{Db, Workspace};
use crate::diagnostic::{Diagnostic, Fix, TextEdit};
use crate::options::types::check_value;

pub(super) fn check(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    let model = clan_model(db, ws);
    let mut out = Vec::new();
    let mut per_service: BTreeMap<String, Vec<&Instance>> = BTreeMap::new();
    let mut views: BTreeMap<String, ServiceView> = BTreeMap::new();
    let mut suggester = Suggester::new();
    let by_service = service_members(model);
    for inst in model.instances.values() {
        if inst.roles_known && inst.roles.is_empty() {
            out.push(Diagnostic::new(
                "inventory/no-roles",
                &inst.locations[0].file,
                inst.locations[0].range,
                format!(
                    "Instance `{}` has no roles, so no machine gets the service; clan-core refuses it (\"must define members via 'roles'\"). Add `roles.<role>.machines.<machine> = {{ }};` or remove the instance.",
                    inst.name
                ),
            ).for_all_machines());
        }
        for role in inst.roles.values() {
            shape(inst, role, &mut out);
            members(model, inst, role, &mut suggester, &mut out);
        }
        match resolve(model, inst) {
            Resolution::Service(view) => {
                per_service.entry(view.name.clone()).or_default().push(inst);
                let service = by_service.get(&view.name).cloned().unwrap_or(Affects::All);
                roles(model, inst, &view, &service, &mut out);
                views.insert(view.name.clone(), view);
            }
            Resolution::UnknownInput { input, location } => {
                let mut inputs: Vec<&str> = model.flake_inputs.iter().map(|s| s.as_str()).collect();
                inputs.sort();
                out.push(Diagnostic::new(
                    "inventory/unknown-input",
                    &location.file,
                    location.range,
                    format!(
                        "Instance `{}` takes its service from the input `{input}`, but this flake has no input of that name; `module.input` must be null (clan-core), \"self\" or one of: {}.",
                        inst.name,
                        inputs.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
                    ),
                ).for_all_machines());
            }
            Resolution::UnknownService {
                name,
                input_desc,
                candidates,
                location,
                removed,
            } => {
                let mut message = match &removed {
                    Some(why) => format!("Instance `{}` uses the service `{name}`, which {input_desc} no longer provides: {why}", inst.name),
                    None => format!(
                        "Instance `{}` uses the service `{name}`, but {input_desc} provides no service of that name",
                        inst.name
                    ),
                };
                if let Some(best) = suggest(&name, candidates.iter().map(|s| s.as_str())) {
                    message.push_str(&format!("; did you mean `{best}`?"));
                } else if !message.ends_with('.') {
                    message.push('.');
                }
                out.push(
                    Diagnostic::new(
                        "inventory/unknown-service",
                        &location.file,
                        location.range,
                        message,
                    )
                    .for_all_machines(),
                );
            }
            Resolution::Unknowable => {}
        }
    }
    for (service, insts) in &per_service {
        let view = &views[service];
        if let Some(max) = view.max_instances {
            if insts.len() as u64 > max {
                for inst in insts.iter().skip(max as usize) {
                    out.push(Diagnostic::new(
                        "inventory/role-cardinality",
                        &inst.locations[0].file,
                        inst.locations[0].range,
                        format!(
                            "Service `{}` allows at most {max} instance(s) but {} are defined ({}).",
                            view.display,
                            insts.len(),
                            insts.iter().map(|i| format!("`{}`", i.name)).collect::<Vec<_>>().join(", ")
                        ),
                    ).affecting(by_service.get(service).cloned().or(Some(Affects::All))));
                }
            }
        }
    }
    out
}

/// The machines holding a role of an instance (every machine when some role's members
/// cannot be read).
pub(crate) fn instance_members(model: &ClanModel, inst: &Instance) -> Affects {
    if !inst.roles_known {
        return Affects::All;
    }
    let mut out = Affects::none();
    for role in inst.roles.values() {
        out = out.union(role_members(model, role));
    }
    out
}

fn role_members(model: &ClanModel, role: &Role) -> Affects {
    match model.role_assignments(role) {
        Some(a) => Affects::Machines(a.into_iter().map(|a| a.machine).collect()),
        None => Affects::All,
    }
}

/// The machines holding a role of some instance of each service. clan-core evaluates all the
/// instances of one service module together (`modules/clan/distributed-services.nix` groups
/// them), so an instance the service refuses (a role it does not define) fails every one of
/// its machines. An instance whose service cannot be known may be of any service.
fn service_members(model: &ClanModel) -> BTreeMap<String, Affects> {
    let mut out: BTreeMap<String, Affects> = BTreeMap::new();
    let mut anywhere = if model.instances_complete {
        Affects::none()
    } else {
        Affects::All
    };
    for inst in model.instances.values() {
        let members = instance_members(model, inst);
        match resolve(model, inst) {
            Resolution::Service(view) => {
                let e = out.entry(view.name.clone()).or_insert_with(Affects::none);
                *e = std::mem::replace(e, Affects::All).union(members);
            }
            Resolution::Unknowable => anywhere = anywhere.union(members),
            _ => {}
        }
    }
    for a in out.values_mut() {
        *a = std::mem::replace(a, Affects::All).union(anywhere.clone());
    }
    out
}

/// The closest candidate by edit distance, when it is close enough to be a likely typo.
/// Did-you-mean for up to [`Suggester::MAX`] names per check. Each suggestion is a pass over
/// every candidate; past that many unknown names the repository has a problem other than
/// typos (generated or broken configuration), and suggesting for all of them would cost the
/// product of two sizes.
pub(crate) struct Suggester {
    left: usize,
}

impl Suggester {
    pub const MAX: usize = 200;

    pub fn new() -> Self {
        Suggester { left: Self::MAX }
    }

    pub fn suggest<'a>(
        &mut self,
        name: &str,
        candidates: impl Iterator<Item = &'a str>,
    ) -> Option<&'a str> {
        self.left = self.left.checked_sub(1)?;
        suggest(name, candidates)
    }
}

pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    // Close in edits (a transposition is one edit) or sharing a long prefix.
    let budget = (name.chars().count() / 3).max(1);
    candidates
        .filter_map(|c| {
            let d = strsim::damerau_levenshtein(name, c);
            let jw = strsim::jaro_winkler(name, c);
            (d <= budget || (jw >= 0.9 && strsim::normalized_damerau_levenshtein(name, c) >= 0.5))
                .then_some((d, jw, c))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| c)
}

fn shape(inst: &Instance, role: &Role, out: &mut Vec<Diagnostic>) {
    for (loc, names) in &role.machine_lists {
        let replacement = format!(
            "{{ {} }}",
            names
                .iter()
                .map(|n| format!("{} = {{ }};", crate::summary::attr_display(&n.name)))
                .collect::<Vec<_>>()
                .join(" ")
        );
        out.push(
            Diagnostic::new(
                "inventory/invalid-shape",
                &loc.file,
                loc.range,
                format!(
                    "`roles.{}.machines` of instance `{}` is a list, but clan-core wants an attribute set of machine names to `{{ settings }}`: write `machines = {replacement}`.",
                    role.name, inst.name
                ),
            )
            .for_all_machines()
            .with_fix(Fix {
                message: "Turn the list into an attribute set.".into(),
                edits: vec![TextEdit {
                    file: loc.file.to_string(),
                    range: loc.range,
                    new_text: replacement,
                }],
                command: None,
            }),
        );
    }
}

fn members(
    model: &ClanModel,
    inst: &Instance,
    role: &Role,
    suggester: &mut Suggester,
    out: &mut Vec<Diagnostic>,
) {
    if model.machines_complete {
        for m in &role.machines {
            if model.machines.contains_key(&m.name) {
                continue;
            }
            let mut message = format!(
                "Role `{}` of instance `{}` names the machine `{}`, which is not in the inventory, `inventory.json`, `machines/` or `clan.machines`; clan-core ignores it silently",
                role.name, inst.name, m.name
            );
            let best = suggester.suggest(&m.name, model.machines.keys().map(|s| s.as_str()));
            if let Some(best) = best {
                message.push_str(&format!("; did you mean `{best}`?"));
            } else {
                message.push('.');
            }
            // clan-core keeps the name as a member (`resolveTags` passes explicit members
            // through), so the other members' configuration is built with a machine that does
            // not exist.
            let mut d = Diagnostic::new(
                "inventory/unknown-machine",
                &m.location.file,
                m.location.range,
                message,
            )
            .affecting(Some(instance_members(model, inst)));
            if let Some(best) = best {
                let machine = &model.machines[best];
                let l = machine.location();
                d = d.with_related(
                    &l.file,
                    l.range,
                    format!("machine `{best}` is defined here"),
                );
                if let Some(edit) = rename_edit(&m.location, &m.name, best, BareName::Key) {
                    d = d.with_fix(Fix {
                        message: format!("Replace `{}` with `{best}`.", m.name),
                        edits: vec![edit],
                        command: None,
                    });
                }
            }
            out.push(d);
        }
    }
    for t in &role.tags {
        if let Some(members) = model.tag_members(&t.name) {
            if members.is_empty() {
                let mut message = format!(
                    "Role `{}` of instance `{}` uses the tag `{}`, but no machine carries it, so the tag adds no machine to the role",
                    role.name, inst.name, t.name
                );
                let tags = model.known_tags();
                match suggest(&t.name, tags.iter().map(|s| s.as_str())) {
                    Some(best) => message.push_str(&format!("; did you mean `{best}`?")),
                    None => message.push('.'),
                }
                // clan-core only warns; the members get a service without the machines meant.
                out.push(
                    Diagnostic::new(
                        "inventory/unknown-tag",
                        &t.location.file,
                        t.location.range,
                        message,
                    )
                    .affecting(Some(instance_members(model, inst))),
                );
            }
        }
    }
}

fn roles(
    model: &ClanModel,
    inst: &Instance,
    view: &ServiceView,
    service: &Affects,
    out: &mut Vec<Diagnostic>,
) {
    let Some(service_roles) = &view.roles else {
        return;
    };
    let mut assigned: BTreeMap<&str, Vec<crate::clan::resolve::Assignment>> = BTreeMap::new();
    for role in inst.roles.values() {
        let Some(rv) = service_roles.get(&role.name) else {
            if !view.roles_complete {
                continue;
            }
            let loc = &role.locations[0];
            let names: Vec<String> = service_roles.keys().map(|r| format!("`{r}`")).collect();
            let mut message = format!(
                "Instance `{}` uses the role `{}`, but the service `{}` only defines {}",
                inst.name,
                role.name,
                view.display,
                names.join(", ")
            );
            match suggest(&role.name, service_roles.keys().map(|s| s.as_str())) {
                Some(best) => message.push_str(&format!("; did you mean `{best}`?")),
                None => message.push('.'),
            }
            out.push(
                Diagnostic::new("inventory/unknown-role", &loc.file, loc.range, message)
                    .affecting(Some(service.clone())),
            );
            continue;
        };
        settings(model, inst, role, rv, out);
        let Some(assignments) = model.role_assignments(role) else {
            continue;
        };
        cardinality(model, inst, role, rv, view, &assignments, out);
        darwin(model, inst, role, rv, view, &assignments, out);
        assigned.insert(role.name.as_str(), assignments);
    }
    // A role the service needs machines in, that the instance does not use at all.
    if inst.roles_known {
        for (name, rv) in service_roles {
            let Some(min) = rv.min_machines.filter(|m| *m > 0) else {
                continue;
            };
            if inst.roles.contains_key(name) {
                continue;
            }
            let loc = &inst.locations[0];
            let note = rv
                .cardinality_note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            out.push(Diagnostic::new(
                "inventory/role-cardinality",
                &loc.file,
                loc.range,
                format!(
                    "Instance `{}` of service `{}` has no `{name}` role, but it requires at least {min} machine(s) in it{note}. Add `roles.{name}.machines.<machine> = {{ }};`.",
                    inst.name, view.display
                ),
            ).affecting(Some(instance_members(model, inst))));
        }
    }
    for (a, b, why) in &view.exclusive_roles {
        let (Some(xs), Some(ys)) = (assigned.get(a.as_str()), assigned.get(b.as_str())) else {
            continue;
        };
        for x in xs {
            if let Some(y) = ys.iter().find(|y| y.machine == x.machine) {
                out.push(
                    Diagnostic::new(
                        "inventory/role-conflict",
                        &y.location.file,
                        y.location.range,
                        format!(
                            "Machine `{}` holds both the `{a}` and the `{b}` role of instance `{}`: {}",
                            x.machine,
                            inst.name,
                            why.replace("{machine}", &x.machine).replace("{instance}", &inst.name)
                        ),
                    )
                    .with_related(&x.location.file, x.location.range, format!("it holds `{a}` here"))
                    .for_machines([x.machine.as_str()]),
                );
            }
        }
    }
}

fn via(a: &crate::clan::resolve::Assignment) -> String {
    match &a.via_tag {
        Some(t) => format!("`{}` (through the tag `{t}`)", a.machine),
        None => format!("`{}`", a.machine),
    }
}

fn cardinality(
    model: &ClanModel,
    inst: &Instance,
    role: &Role,
    rv: &RoleView,
    view: &ServiceView,
    assignments: &[crate::clan::resolve::Assignment],
    out: &mut Vec<Diagnostic>,
) {
    let n = assignments.len() as u64;
    let loc = &role.locations[0];
    let list = if assignments.is_empty() {
        "none".to_owned()
    } else {
        assignments.iter().map(via).collect::<Vec<_>>().join(", ")
    };
    let note = rv
        .cardinality_note
        .as_ref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    // The instance's machines get a service whose roles are not filled as it needs.
    let members = Some(instance_members(model, inst));
    if let Some(min) = rv.min_machines {
        if n < min {
            out.push(Diagnostic::new(
                "inventory/role-cardinality",
                &loc.file,
                loc.range,
                format!(
                    "Role `{}` of service `{}` instance `{}` requires at least {min} machine(s) but {n} are assigned: {list}{note}.",
                    role.name, view.display, inst.name
                ),
            ).affecting(members.clone()));
        }
    }
    if let Some(max) = rv.max_machines {
        if n > max {
            // Point at the first assignment past the limit in the order they are written.
            let mut in_order: Vec<&crate::clan::resolve::Assignment> = assignments.iter().collect();
            in_order.sort_by(|a, b| {
                (&a.location.file, a.location.range.start)
                    .cmp(&(&b.location.file, b.location.range.start))
            });
            let extra = in_order[max as usize];
            out.push(
                Diagnostic::new(
                    "inventory/role-cardinality",
                    &extra.location.file,
                    extra.location.range,
                    format!(
                        "Role `{}` of service `{}` instance `{}` allows at most {max} machine(s) but {n} are assigned: {list}{note}.",
                        role.name, view.display, inst.name
                    ),
                )
                .with_related(&loc.file, loc.range, format!("role `{}` is declared here", role.name))
                .affecting(members),
            );
        }
    }
}

fn darwin(
    model: &ClanModel,
    inst: &Instance,
    role: &Role,
    rv: &RoleView,
    view: &ServiceView,
    assignments: &[crate::clan::resolve::Assignment],
    out: &mut Vec<Diagnostic>,
) {
    // clan-core imports a role's `extraModules` into the darwinModule it gives the machine
    // too (`result.allRoles` in `distributed-service/service-module.nix`), so a darwin machine
    // in such a role does get configuration from it: nothing to warn about.
    if rv.darwin != Some(false) || role.extra_modules != Some(0) {
        return;
    }
    // One finding per place that pulls darwin machines in: a tag names them all at once.
    let mut by_place: Vec<(&crate::clan::resolve::Assignment, Vec<&str>)> = Vec::new();
    for a in assignments {
        if model
            .machines
            .get(&a.machine)
            .and_then(|m| m.class.as_deref())
            != Some("darwin")
        {
            continue;
        }
        match by_place
            .iter_mut()
            .find(|(p, _)| p.via_tag == a.via_tag && p.location == a.location)
        {
            Some((_, machines)) => machines.push(&a.machine),
            None => by_place.push((a, vec![&a.machine])),
        }
    }
    for (a, machines) in by_place {
        let machines_named: Vec<String> = machines.iter().map(|m| m.to_string()).collect();
        let names = machines
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (subject, verb, gets) = if machines.len() == 1 {
            (
                format!("The darwin machine {names}"),
                "is",
                "the machine gets",
            )
        } else {
            (format!("The darwin machines {names}"), "are", "they get")
        };
        let (how, advice) = match &a.via_tag {
            Some(t) if t == "all" => (
                "through the tag `all`".to_owned(),
                "If only the NixOS machines are meant, use the tag `nixos` instead of `all`.".to_owned(),
            ),
            Some(t) => (
                format!("through the tag `{t}`"),
                format!("If only the NixOS machines are meant, use a tag only they carry instead of `{t}`."),
            ),
            None => ("by name".to_owned(), "Remove it from the role.".to_owned()),
        };
        let mut d = Diagnostic::new(
            "platform/service-unsupported",
            &a.location.file,
            a.location.range,
            format!(
                "{subject} {verb} in role `{}` of instance `{}` ({how}), but the service `{}` has no darwin module in the locked clan-core, and the role has no `extraModules`: {gets} nothing from this role. {advice}",
                role.name, inst.name, view.display
            ),
        );
        for name in machines {
            let m = &model.machines[name];
            let l = m.class_location.clone().unwrap_or_else(|| m.location());
            d = d.with_related(&l.file, l.range, format!("`{name}` is a darwin machine"));
        }
        out.push(d.for_machines(machines_named));
    }
}

fn settings(
    model: &ClanModel,
    inst: &Instance,
    role: &Role,
    rv: &RoleView,
    out: &mut Vec<Diagnostic>,
) {
    // Each setting with the machines it is evaluated for: the role's for its own settings, the
    // machine for a member's, the tag's machines for a tag's.
    let mut all: Vec<(&Setting, String, Affects)> = role
        .settings
        .iter()
        .map(|s| {
            (
                s,
                format!("roles.{}.settings", role.name),
                role_members(model, role),
            )
        })
        .collect();
    for m in &role.machines {
        for s in &m.settings.entries {
            all.push((
                s,
                format!("settings of `{}` in role `{}`", m.name, role.name),
                Affects::Machines([m.name.clone()].into()),
            ));
        }
    }
    for t in &role.tags {
        let tagged = match model.tag_members(&t.name) {
            Some(ms) => Affects::Machines(ms.into_iter().map(|m| m.name.clone()).collect()),
            None => Affects::All,
        };
        for s in &t.settings.entries {
            all.push((
                s,
                format!("settings of `{}` in role `{}`", t.name, role.name),
                tagged.clone(),
            ));
        }
    }
    for (s, place, affects) in &all {
        match rv.known_options.get(&s.key) {
            Some(spec) => {
                if let Some(v) = &s.value {
                    if let Err(why) = check_value(&spec.ty, v) {
                        let loc = s.value_location.as_ref().unwrap_or(&s.location);
                        let mut d = Diagnostic::new(
                            "inventory/setting-type",
                            &loc.file,
                            loc.range,
                            format!(
                                "The setting `{}` ({place}) of instance `{}` has the wrong type: {why}.",
                                s.key, inst.name
                            ),
                        );
                        if let Some(dl) = rv.option_locations.get(&s.key) {
                            d = d.with_related(
                                &dl.file,
                                dl.range,
                                format!("`{}` is declared here", s.key),
                            );
                        }
                        out.push(d.affecting(Some(affects.clone())));
                    }
                }
            }
            None => {
                let Some(options) = &rv.options else { continue };
                let mut message = format!(
                    "`{}` is not a setting of role `{}` ({place}, instance `{}`)",
                    s.key, role.name, inst.name
                );
                match suggest(&s.key, options.keys().map(|k| k.as_str())) {
                    Some(best) => message.push_str(&format!("; did you mean `{best}`?")),
                    None if options.is_empty() => {
                        message.push_str("; the role declares no settings.")
                    }
                    None => message.push_str(&format!(
                        "; it declares {}.",
                        options
                            .keys()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
                out.push(
                    Diagnostic::new(
                        "inventory/unknown-setting",
                        &s.location.file,
                        s.location.range,
                        message,
                    )
                    .affecting(Some(affects.clone())),
                );
            }
        }
    }
    required(model, inst, role, rv, out);
}

/// A required option (no default) that a machine holding the role never gets a value for.
fn required(
    model: &ClanModel,
    inst: &Instance,
    role: &Role,
    rv: &RoleView,
    out: &mut Vec<Diagnostic>,
) {
    let Some(options) = &rv.options else { return };
    // Tags may carry settings for machines we would have to expand; only judge explicit members
    // of roles whose every settings source was read.
    if !role.settings_known || !role.tags.is_empty() || !role.machines_known {
        return;
    }
    let role_keys: Vec<&str> = role.settings.iter().map(|s| s.key.as_str()).collect();
    for m in &role.machines {
        if m.settings.open {
            continue;
        }
        let _: &Member = m;
        for (name, spec) in options {
            if !spec.required
                || role_keys.contains(&name.as_str())
                || m.settings.entries.iter().any(|s| &s.key == name)
            {
                continue;
            }
            let mut d = Diagnostic::new(
                "inventory/setting-type",
                &m.location.file,
                m.location.range,
                format!(
                    "Machine `{}` holds role `{}` of instance `{}`, but the required setting `{name}` ({}) has no value and no default: set it in `roles.{}.settings` or in this machine's `settings`.",
                    m.name,
                    role.name,
                    inst.name,
                    spec.ty.describe(),
                    role.name
                ),
            );
            if let Some(dl) = rv.option_locations.get(name) {
                d = d.with_related(
                    &dl.file,
                    dl.range,
                    format!("`{name}` is declared here without a default"),
                );
            }
            out.push(d.for_machines([m.name.as_str()]));
        }
    }
    let _ = model;
}
