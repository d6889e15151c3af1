//! Every named thing the editor features know about, with where it is written: deferred
//! modules, machines, tags, instances, roles, generators, options and imported paths.

use std::sync::Arc;

use crate::clan::model::Field;
use crate::clan::resolve::clan_model;
use crate::db::{file_by_path, Db, Workspace};
use crate::diagnostic::{Location, TextRange};
use crate::flake::module_files;
use crate::index::module_index;
use crate::summary::file_summary;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Module {
        class: String,
        name: String,
    },
    Machine(String),
    Tag(String),
    Instance(String),
    Role {
        instance: String,
        role: String,
    },
    /// A service named in `module.name`.
    Service(String),
    Generator(String),
    GeneratorFile {
        generator: String,
        file: String,
    },
    Option(Vec<String>),
    /// A relative path in `imports`, resolved to the file it names.
    Path(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub location: Location,
    pub subject: Subject,
    /// The place that defines or declares it (as opposed to a use).
    pub definition: bool,
}

/// Every occurrence in the workspace.
#[salsa::tracked(returns(ref))]
pub fn all_occurrences(db: &dyn Db, ws: Workspace) -> Arc<Vec<Occurrence>> {
    let mut out = Vec::new();
    let mut push = |location: &Location, subject: Subject, definition: bool| {
        if !location.file.is_empty() {
            out.push(Occurrence {
                location: location.clone(),
                subject,
                definition,
            });
        }
    };
    let idx = module_index(db, ws);
    for ((class, name), defs) in &idx.definitions {
        for d in defs {
            push(
                d,
                Subject::Module {
                    class: class.clone(),
                    name: name.clone(),
                },
                true,
            );
        }
    }
    for r in &idx.references {
        if let Some(name) = &r.name {
            push(
                &r.location,
                Subject::Module {
                    class: r.class.to_string(),
                    name: name.to_string(),
                },
                false,
            );
        }
    }
    let clan = clan_model(db, ws);
    for (name, m) in &clan.machines {
        for l in &m.locations {
            if l.range != TextRange::default() {
                push(l, Subject::Machine(name.clone()), m.in_inventory);
            }
        }
        for t in &m.tags {
            if t.location.range != TextRange::default() {
                push(&t.location, Subject::Tag(t.name.clone()), true);
            }
        }
    }
    for inst in clan.instances.values() {
        for l in &inst.locations {
            push(l, Subject::Instance(inst.name.clone()), true);
        }
        if let Field::Known(n, l) = &inst.module_name {
            push(l, Subject::Service(n.clone()), false);
        }
        for role in inst.roles.values() {
            for l in &role.locations {
                push(
                    l,
                    Subject::Role {
                        instance: inst.name.clone(),
                        role: role.name.clone(),
                    },
                    false,
                );
            }
            for m in &role.machines {
                push(&m.location, Subject::Machine(m.name.clone()), false);
            }
            for t in &role.tags {
                push(&t.location, Subject::Tag(t.name.clone()), false);
            }
        }
    }
    for s in clan.local_services.values() {
        push(&s.location, Subject::Service(s.name.clone()), true);
        for (role, r) in s.roles.iter().flatten() {
            // A local service's role: the declaration every instance's role points to.
            push(
                &r.location,
                Subject::Role {
                    instance: String::new(),
                    role: format!("{}/{role}", s.name),
                },
                true,
            );
        }
    }
    let files = module_files(db, ws);
    for path in &files.files {
        let Some(f) = file_by_path(db, ws, path) else {
            continue;
        };
        let s = file_summary(db, ws, f);
        for g in &s.vars.generators {
            push(&g.location, Subject::Generator(g.name.clone()), true);
            for file in g.files.iter().flatten() {
                push(
                    &file.location,
                    Subject::GeneratorFile {
                        generator: g.name.clone(),
                        file: file.name.clone(),
                    },
                    true,
                );
            }
        }
        for r in &s.vars.var_refs {
            if let (Some(g), Some(l)) = (&r.generator, &r.generator_location) {
                push(l, Subject::Generator(g.clone()), false);
            }
            if let (Some(g), Some(file)) = (&r.generator, &r.file) {
                push(
                    &r.location,
                    Subject::GeneratorFile {
                        generator: g.clone(),
                        file: file.clone(),
                    },
                    false,
                );
            }
        }
        for d in &s.options.decls {
            push(&d.decl.location, Subject::Option(d.decl.path.clone()), true);
        }
        for d in &s.options.defs {
            push(&d.location, Subject::Option(d.path.clone()), false);
        }
    }
    out.sort_by(|a, b| {
        (
            &a.location.file,
            a.location.range.start,
            a.location.range.end,
        )
            .cmp(&(
                &b.location.file,
                b.location.range.start,
                b.location.range.end,
            ))
    });
    out.dedup();
    Arc::new(out)
}

/// The occurrences in one file, in order.
pub fn occurrences_in(db: &dyn Db, ws: Workspace, file: &str) -> Vec<Occurrence> {
    all_occurrences(db, ws)
        .iter()
        .filter(|o| &*o.location.file == file)
        .cloned()
        .collect()
}

/// The innermost occurrence covering `offset` in `file`, if any.
pub fn at(db: &dyn Db, ws: Workspace, file: &str, offset: u32) -> Option<Occurrence> {
    all_occurrences(db, ws)
        .iter()
        .filter(|o| &*o.location.file == file && o.location.range.contains(offset))
        .min_by_key(|o| o.location.range.len())
        .cloned()
}
