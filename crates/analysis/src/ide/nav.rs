//! Go to definition and find references.

use rowan::ast::AstNode;

use super::occurrences::{all_occurrences, at, Occurrence, Subject};
use super::NavTarget;
use crate::clan::resolve::clan_model;
use crate::db::{file_by_path, parse, Db, Workspace};
use crate::diagnostic::{Location, TextRange};
use crate::summary::attr_display;

pub fn label(subject: &Subject) -> String {
    match subject {
        Subject::Module { class, name } => format!("flake.modules.{class}.{}", attr_display(name)),
        Subject::Machine(m) => format!("machine {m}"),
        Subject::Tag(t) => format!("tag {t}"),
        Subject::Instance(i) => format!("instance {i}"),
        Subject::Role { instance, role } if instance.is_empty() => format!("role {role}"),
        Subject::Role { instance, role } => format!("role {role} of {instance}"),
        Subject::Service(s) => format!("service {s}"),
        Subject::Generator(g) => format!("generator {g}"),
        Subject::GeneratorFile { generator, file } => format!("{generator}/{file}"),
        Subject::Option(p) => p.join("."),
        Subject::Path(p) => p.clone(),
    }
}

fn targets(occ: impl Iterator<Item = Occurrence>) -> Vec<NavTarget> {
    let mut out: Vec<NavTarget> = occ
        .map(|o| NavTarget {
            label: label(&o.subject),
            location: o.location,
        })
        .collect();
    out.dedup();
    out
}

/// Where the thing at `offset` is defined.
pub fn definition(db: &dyn Db, ws: Workspace, file: &str, offset: u32) -> Vec<NavTarget> {
    if let Some(t) = import_path_at(db, ws, file, offset) {
        return vec![t];
    }
    let Some(here) = at(db, ws, file, offset) else {
        return Vec::new();
    };
    let all = all_occurrences(db, ws);
    let defs_of = |s: &Subject| -> Vec<Occurrence> {
        all.iter()
            .filter(|o| o.definition && &o.subject == s)
            .cloned()
            .collect()
    };
    match &here.subject {
        Subject::Machine(m) => {
            // Its inventory entry, and the machine module it is built from.
            let mut out = targets(defs_of(&here.subject).into_iter());
            let clan = clan_model(db, ws);
            if let Some(machine) = clan.machines.get(m) {
                if out.is_empty() {
                    out.extend(
                        machine
                            .locations
                            .iter()
                            .chain(
                                machine
                                    .directory
                                    .as_deref()
                                    .filter(|_| machine.locations.is_empty())
                                    .map(|d| Location::new(d, TextRange::default()))
                                    .as_ref(),
                            )
                            .map(|l| NavTarget {
                                location: l.clone(),
                                label: format!("machine {m}"),
                            }),
                    );
                }
                if let Some(class) = &machine.class {
                    let module = Subject::Module {
                        class: class.clone(),
                        name: format!("machines/{class}/{m}"),
                    };
                    out.extend(targets(defs_of(&module).into_iter()));
                }
            }
            out
        }
        Subject::Tag(t) => {
            // The machines carrying it.
            let clan = clan_model(db, ws);
            clan.tag_members(t)
                .unwrap_or_default()
                .into_iter()
                .map(|m| NavTarget {
                    location: m.location(),
                    label: format!("machine {}", m.name),
                })
                .collect()
        }
        Subject::Role { instance, role } if !instance.is_empty() => {
            let clan = clan_model(db, ws);
            let Some(inst) = clan.instances.get(instance) else {
                return Vec::new();
            };
            let Some(service) = inst.service_name() else {
                return Vec::new();
            };
            targets(
                defs_of(&Subject::Role {
                    instance: String::new(),
                    role: format!("{service}/{role}"),
                })
                .into_iter(),
            )
        }
        Subject::GeneratorFile { generator, .. } => {
            let mut out = targets(defs_of(&here.subject).into_iter());
            if out.is_empty() {
                out = targets(defs_of(&Subject::Generator(generator.clone())).into_iter());
            }
            out
        }
        s => targets(defs_of(s).into_iter()),
    }
}

/// Every use of the thing at `offset` (and, with `include_declaration`, its definitions).
pub fn references(
    db: &dyn Db,
    ws: Workspace,
    file: &str,
    offset: u32,
    include_declaration: bool,
) -> Vec<NavTarget> {
    let Some(here) = at(db, ws, file, offset) else {
        return Vec::new();
    };
    let subject = match &here.subject {
        // Reads of a generator's files count as references to the generator.
        Subject::Generator(g) => {
            let all = all_occurrences(db, ws);
            return targets(
                all.iter()
                    .filter(|o| {
                        (include_declaration || !o.definition)
                            && match &o.subject {
                                Subject::Generator(x) => x == g,
                                Subject::GeneratorFile { generator, .. } => {
                                    generator == g && !o.definition
                                }
                                _ => false,
                            }
                    })
                    .cloned(),
            );
        }
        s => s.clone(),
    };
    let all = all_occurrences(db, ws);
    targets(
        all.iter()
            .filter(|o| o.subject == subject && (include_declaration || !o.definition))
            .cloned(),
    )
}

/// `imports = [ ./x.nix ]`: the path at `offset`, resolved to the file it names.
fn import_path_at(db: &dyn Db, ws: Workspace, file: &str, offset: u32) -> Option<NavTarget> {
    let f = file_by_path(db, ws, file)?;
    let parsed = parse(db, f);
    let root = parsed.syntax();
    // rowan panics on an offset past the end.
    let offset = offset.min(root.text_range().end().into());
    let token = root
        .token_at_offset(offset.into())
        .find(|t| t.kind() == rnix::SyntaxKind::TOKEN_PATH_REL)?;
    let node = token.parent()?;
    rnix::ast::PathRel::cast(node.clone())?;
    if node.children().next().is_some() {
        return None; // interpolated
    }
    let target = crate::disk::normalize_join(crate::disk::parent_dir(file), token.text())?;
    let resolved = crate::flake::module_file_for(&target, ws.disk(db))?;
    Some(NavTarget {
        location: Location::new(&resolved, TextRange::default()),
        label: resolved.clone(),
    })
}
