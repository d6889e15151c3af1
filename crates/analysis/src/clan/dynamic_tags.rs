//! `inventory.tags` written as a function (`{ config, machines, ... }: { peers =
//! builtins.filter (n: n != "hub") config.nixos; }`): clan-core evaluates it with `config.all`,
//! `config.nixos`, `config.darwin` (the built-in tags, see clan-core's
//! `modules/clan/computed-tags.nix`) and `machines` (the inventory's machines). Once the
//! machines and their classes are known it is applied the same way; whatever it reads beyond
//! that is Unknown, and a tag whose members come out Unknown leaves the tags incomplete.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::model::Named;
use super::resolve::ClanModel;
use crate::db::{file_by_path, parse, Db, Workspace};
use crate::diagnostic::Location;
use crate::eval::{Attr, Attrs, Evaluator, Thunk, Value};
use crate::summary::DbFiles;

/// Applies each tags function at `locations`; false when some function or tag could not be
/// read (the tags are then incomplete).
pub(super) fn apply(
    db: &dyn Db,
    ws: Workspace,
    model: &mut ClanModel,
    locations: &[Location],
) -> bool {
    if locations.is_empty() {
        return true;
    }
    if !model.machines_complete || model.machines.values().any(|m| m.class.is_none()) {
        return false;
    }
    let mut complete = true;
    for at in locations {
        match members(db, ws, model, at) {
            Some(tags) => {
                for (tag, names) in tags {
                    for name in names {
                        if let Some(m) = model.machines.get_mut(&name) {
                            m.tags.push(Named {
                                name: tag.clone(),
                                location: at.clone(),
                            });
                        }
                    }
                }
            }
            None => complete = false,
        }
    }
    complete
}

/// The tags the function at `at` defines, each with its machines; `None` when any of it
/// cannot be read.
fn members(
    db: &dyn Db,
    ws: Workspace,
    model: &ClanModel,
    at: &Location,
) -> Option<BTreeMap<String, Vec<String>>> {
    let file = file_by_path(db, ws, &at.file)?;
    let parsed = parse(db, file);
    let root = parsed.root_expr()?;
    let range = rowan::TextRange::new(at.range.start.into(), at.range.end.into());
    let expr = rowan::ast::AstNode::syntax(&root)
        .descendants()
        .filter(|n| n.text_range() == range)
        .find_map(<rnix::ast::Expr as rowan::ast::AstNode>::cast)?;
    let files = DbFiles { db, ws };
    let ev = Evaluator::new(&files);
    // Only builtins are in scope: a `let` or argument the function uses is Unknown.
    let f = ev.eval(&expr, &ev.root_env(&at.file));
    if !matches!(f, Value::Lambda(_)) {
        return None;
    }
    let names = |pick: &dyn Fn(&str) -> bool| {
        list(
            model
                .machines
                .values()
                .filter(|m| pick(m.class.as_deref().unwrap_or_default()))
                .map(|m| m.name.clone())
                .collect(),
        )
    };
    let config = attrs(
        [
            ("all", names(&|_| true)),
            ("nixos", names(&|c| c == "nixos")),
            ("darwin", names(&|c| c == "darwin")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v)),
        // Other tags of `config` (static or computed) are not modelled.
        true,
    );
    let machines = attrs(
        model.machines.values().map(|m| {
            let fields = [
                (
                    "machineClass".to_owned(),
                    Thunk::value(Value::Str(m.class.clone().unwrap_or_default().into())),
                ),
                (
                    "tags".to_owned(),
                    list(m.tags.iter().map(|t| t.name.clone()).collect()),
                ),
            ];
            (
                m.name.clone(),
                Thunk::value(attrs(fields.into_iter(), true)),
            )
        }),
        false,
    );
    let arg = attrs(
        [
            ("config".to_owned(), Thunk::value(config)),
            ("machines".to_owned(), Thunk::value(machines)),
        ]
        .into_iter(),
        true,
    );
    let Value::Attrs(result) = ev.apply(f, Thunk::value(arg)) else {
        return None;
    };
    if result.partial {
        return None;
    }
    let mut out = BTreeMap::new();
    for (tag, a) in &result.map {
        let Value::List(items) = crate::eval::read::strip_priority(&ev, ev.force(&a.value)) else {
            return None;
        };
        let mut names = Vec::new();
        for i in items.iter() {
            match ev.force(i) {
                Value::Str(s) => names.push(s.to_string()),
                _ => return None,
            }
        }
        out.insert(tag.to_string(), names);
    }
    (!ev.exhausted()).then_some(out)
}

fn list(names: Vec<String>) -> Thunk {
    Thunk::value(Value::List(Rc::new(
        names
            .into_iter()
            .map(|n| Thunk::value(Value::Str(n.into())))
            .collect(),
    )))
}

fn attrs(entries: impl Iterator<Item = (String, Thunk)>, partial: bool) -> Value {
    Value::Attrs(Rc::new(Attrs {
        map: entries
            .map(|(k, value)| {
                (
                    Rc::from(k.as_str()),
                    Attr {
                        value,
                        key_span: None,
                        value_span: None,
                    },
                )
            })
            .collect(),
        partial,
    }))
}
