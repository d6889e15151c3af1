//! `module/undefined`, `module/class-mismatch` and `module/unused`: the deferred-module checks,
//! read off the workspace index.

use super::edits::{rename_edit, BareName};
use crate::db::{Db, Workspace};
use crate::diagnostic::{Diagnostic, Fix, Location};
use crate::index::{module_index, outside_uses, ModuleIndex, OutsideUses};
use crate::summary::{attr_display, ContextClass};

/// Classes whose evaluation enforces `_class`: importing another class there fails.
const CHECKED_CLASSES: &[&str] = &["nixos", "darwin", "homeManager", "flake"];

pub(super) fn check(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    let idx = module_index(db, ws);
    let clan = crate::clan::resolve::clan_model(db, ws);
    let mut out = Vec::new();
    undefined(idx, &mut out);
    class_mismatch(idx, clan, &mut out);
    unused(idx, outside_uses(db, ws), clan, &mut out);
    out
}

fn class_display(class: &str) -> &str {
    match class {
        "nixos" => "NixOS",
        "darwin" => "nix-darwin",
        "homeManager" => "home-manager",
        "flake" => "flake-parts",
        other => other,
    }
}

fn module_path(class: &str, name: &str) -> String {
    format!(
        "flake.modules.{}.{}",
        attr_display(class),
        attr_display(name)
    )
}

fn undefined(idx: &ModuleIndex, out: &mut Vec<Diagnostic>) {
    let mut suggester = super::inventory::Suggester::new();
    for r in &idx.references {
        let Some(name) = &r.name else { continue };
        if r.optional || r.hypothetical || idx.is_open(&r.class) || idx.is_defined(&r.class, name) {
            continue;
        }
        let best = suggester.suggest(name, idx.names_of(&r.class));
        let mut message = format!(
            "`{}` is not defined: no module in this flake defines a {} module named `{}`",
            module_path(&r.class, name),
            class_display(&r.class),
            name
        );
        let mut d;
        if let Some(best) = best {
            message.push_str(&format!("; did you mean `{best}`?"));
            d = Diagnostic::new(
                "module/undefined",
                &r.location.file,
                r.location.range,
                message,
            );
            if let Some(defs) = idx.definitions.get(&(r.class.to_string(), best.to_owned())) {
                d = d.with_related(
                    &defs[0].file,
                    defs[0].range,
                    format!("`{}` is defined here", module_path(&r.class, best)),
                );
            }
            if let Some(edit) = rename_edit(&r.location, name, best, BareName::Identifier) {
                d = d.with_fix(Fix {
                    message: format!("Replace `{name}` with `{best}`."),
                    edits: vec![edit],
                    command: None,
                });
            }
        } else {
            message.push('.');
            d = Diagnostic::new(
                "module/undefined",
                &r.location.file,
                r.location.range,
                message,
            );
        }
        for ((class, n), defs) in &idx.definitions {
            if **n == **name && **class != *r.class {
                d = d.with_related(
                    &defs[0].file,
                    defs[0].range,
                    format!(
                        "a {} module of that name is defined here",
                        class_display(class)
                    ),
                );
            }
        }
        out.push(d);
    }
}

fn class_mismatch(
    idx: &ModuleIndex,
    clan: &crate::clan::resolve::ClanModel,
    out: &mut Vec<Diagnostic>,
) {
    // References written with an `or` default fall back when the module is missing.
    let optional: rustc_hash::FxHashSet<&Location> = idx
        .references
        .iter()
        .filter(|r| r.optional)
        .map(|r| &r.location)
        .collect();
    let whole_machine = machine_level_mismatch(idx, clan, &optional, out);
    for ctx in &idx.contexts {
        if let ContextClass::Machine(m) = &ctx.class {
            if whole_machine.contains(m.as_str()) {
                continue;
            }
        }
        let class = match &ctx.class {
            ContextClass::Known(c) => c,
            ContextClass::Machine(m) => match clan.machines.get(m).and_then(|m| m.class.as_ref()) {
                Some(c) => c,
                None => continue,
            },
            // The role's machines may be of either class.
            ContextClass::Role(_) => continue,
        };
        if !CHECKED_CLASSES.contains(&class.as_str()) {
            continue;
        }
        let owner_desc = || match &ctx.class {
            ContextClass::Machine(m) => {
                format!("{} (machine `{m}`, machineClass \"{class}\")", ctx.owner)
            }
            ContextClass::Known(_) | ContextClass::Role(_) => ctx.owner.to_string(),
        };
        for item in &ctx.items {
            let Some(name) = &item.name else { continue };
            if *item.class == **class || &*item.class == "generic" {
                continue;
            }
            // A module that does not exist is reported as undefined instead; one that may exist
            // (an unreadable set) only counts when it cannot fall back to an `or` default.
            if !counts(idx, item, &optional) {
                continue;
            }
            let mut message = format!(
                "The {} module `{}` is imported into {}, which is evaluated as a {} configuration; only {} and generic modules can be imported there",
                class_display(&item.class),
                module_path(&item.class, name),
                owner_desc(),
                class_display(class),
                class_display(class),
            );
            if &*item.class == "homeManager" && class != "flake" {
                message.push_str(
                    "; import home-manager modules through `home-manager.users.<user>.imports` or `home-manager.sharedModules`",
                );
            }
            message.push('.');
            let mut d = Diagnostic::new(
                "module/class-mismatch",
                &item.location.file,
                item.location.range,
                message,
            );
            if let Some(defs) = idx
                .definitions
                .get(&(item.class.to_string(), name.to_string()))
            {
                d = d.with_related(
                    &defs[0].file,
                    defs[0].range,
                    format!("`{}` is defined here", module_path(&item.class, name)),
                );
            }
            if let Some(defs) = idx.definitions.get(&(class.clone(), name.to_string())) {
                d = d.with_related(
                    &defs[0].file,
                    defs[0].range,
                    format!(
                        "a {} module of the same name exists: `{}`",
                        class_display(class),
                        module_path(class, name)
                    ),
                );
            }
            out.push(d);
        }
    }
}

/// Whether an imported module counts for class checks: it exists, or may exist and is not an
/// `or`-defaulted reference.
fn counts(
    idx: &ModuleIndex,
    item: &crate::summary::ModuleReference,
    optional: &rustc_hash::FxHashSet<&Location>,
) -> bool {
    match &item.name {
        Some(name) => {
            idx.is_defined(&item.class, name)
                || (idx.is_open(&item.class) && !optional.contains(&item.location))
        }
        None => false,
    }
}

/// `machine/class-mismatch`: every module a machine's configuration imports is of one other
/// class than its `machineClass`. Reported once per machine instead of once per import; returns
/// those machines.
fn machine_level_mismatch<'a>(
    idx: &'a ModuleIndex,
    clan: &crate::clan::resolve::ClanModel,
    optional: &rustc_hash::FxHashSet<&Location>,
    out: &mut Vec<Diagnostic>,
) -> rustc_hash::FxHashSet<&'a str> {
    // Hashed, then sorted once: an ordered map compares machine names a dozen times for each
    // of the fleet's contexts.
    let mut by_machine: rustc_hash::FxHashMap<&str, Vec<&crate::summary::ModuleReference>> =
        Default::default();
    for ctx in &idx.contexts {
        if let ContextClass::Machine(m) = &ctx.class {
            by_machine.entry(m.as_str()).or_default().extend(
                ctx.items
                    .iter()
                    .filter(|i| &*i.class != "generic" && counts(idx, i, optional)),
            );
        }
    }
    let mut by_machine: Vec<_> = by_machine.into_iter().collect();
    by_machine.sort_unstable_by_key(|(m, _)| *m);
    let mut done = rustc_hash::FxHashSet::default();
    for (machine, items) in by_machine {
        let Some(m) = clan.machines.get(machine) else {
            continue;
        };
        let Some(class) = &m.class else { continue };
        let Some(first) = items.first() else { continue };
        let other = &first.class;
        if **other == **class
            || !CHECKED_CLASSES.contains(&&**other)
            || !items.iter().all(|i| &i.class == other)
        {
            continue;
        }
        done.insert(machine);
        let loc = m.class_location.clone().unwrap_or_else(|| m.location());
        let set_how = if m.class_location.is_some() {
            format!("its `machineClass` is \"{class}\"")
        } else {
            format!("it has no `machineClass`, so clan treats it as \"{class}\"")
        };
        let mut d = Diagnostic::new(
            "machine/class-mismatch",
            &loc.file,
            loc.range,
            format!(
                "Machine `{machine}` imports only {} modules, but {set_how}; set `machineClass = \"{other}\";` in its inventory entry or import {} modules.",
                class_display(other),
                class_display(class)
            ),
        )
        .for_machines([machine]);
        for i in items.iter().take(3) {
            d = d.with_related(
                &i.location.file,
                i.location.range,
                format!(
                    "imports the {} module `{}`",
                    class_display(&i.class),
                    module_path(&i.class, i.name.as_deref().unwrap_or("?"))
                ),
            );
        }
        out.push(d);
    }
    done
}

fn unused(
    idx: &ModuleIndex,
    outside: &OutsideUses,
    clan: &crate::clan::resolve::ClanModel,
    out: &mut Vec<Diagnostic>,
) {
    if idx.all_escaped || outside.all {
        return;
    }
    let mut used = rustc_hash::FxHashSet::default();
    let mut any_name_used = rustc_hash::FxHashSet::default();
    for r in &idx.references {
        match &r.name {
            Some(n) => used.insert((&*r.class, &**n)),
            None => any_name_used.insert(&*r.class),
        };
    }
    let outside_names: rustc_hash::FxHashSet<(&str, &str)> = outside
        .names
        .iter()
        .map(|(c, n)| (c.as_str(), n.as_str()))
        .collect();
    // An unused machine module is `machine/unregistered`'s to report.
    let machines_checked = clan.present && clan.machine_configs_complete;
    for ((class, name), defs) in &idx.definitions {
        let machine_module = name
            .strip_prefix("machines/")
            .and_then(|rest| rest.strip_prefix(class.as_str()))
            .is_some_and(|rest| rest.starts_with('/'));
        if machines_checked && machine_module {
            continue;
        }
        if idx.escaped.contains(class)
            || any_name_used.contains(class.as_str())
            || used.contains(&(class.as_str(), name.as_str()))
            || outside.any_name.contains(class)
            || outside_names.contains(&(class.as_str(), name.as_str()))
        {
            continue;
        }
        // Nothing imports it, so no configuration is made of it.
        let mut d = Diagnostic::new(
            "module/unused",
            &defs[0].file,
            defs[0].range,
            format!(
                "`{}` is defined but nothing in this flake imports it.",
                module_path(class, name)
            ),
        )
        .for_machines(std::iter::empty::<String>());
        for other in &defs[1..] {
            d = d.with_related(&other.file, other.range, "also defined here");
        }
        out.push(d);
    }
}
