//! Completion from the text before the cursor: module names after `flake.modules.<class>.` (or
//! an alias of it, or inside `with <alias>; [ … ]` and `inherit (<alias>) …`, where only
//! identifiers can be written), classes after `flake.modules.`, machine
//! names in `machines.`, tags, service names for `module.name`, generator and file names after
//! `generators.` and option paths below declared namespaces.

use std::collections::BTreeSet;

use super::{Completion, CompletionKind};
use crate::clan::catalog::catalog;
use crate::clan::resolve::clan_model;
use crate::db::{file_by_path, Db, Workspace};
use crate::index::module_index;
use crate::index::module_summaries;
use crate::summary::attr_display;

fn item(label: &str, kind: CompletionKind, detail: Option<String>) -> Completion {
    Completion {
        label: label.to_owned(),
        kind,
        detail,
        insert: attr_display(label),
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\'' | '/')
}

/// Where the name characters at the end of `before` start (`before.len()` when there are none).
fn name_start(before: &str) -> usize {
    before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_name_char(c))
        .last()
        .map_or(before.len(), |(i, _)| i)
}

/// The identifier-ish word being typed and what stands before it.
fn split_prefix(before: &str) -> (&str, &str) {
    before.split_at(name_start(before))
}

/// The start of what a completion at `offset` replaces: the name being typed before it, and the
/// opening quote of a quoted name. `offset` itself when it is not a character boundary.
pub fn replaced_start(text: &str, offset: usize) -> usize {
    let Some(before) = text.get(..offset) else {
        return offset.min(text.len());
    };
    let start = name_start(before);
    if before[..start].ends_with('"') {
        start - 1
    } else {
        start
    }
}

pub fn completions(db: &dyn Db, ws: Workspace, file: &str, offset: u32) -> Vec<Completion> {
    let Some(f) = file_by_path(db, ws, file) else {
        return Vec::new();
    };
    let text = f.text(db);
    let offset = (offset as usize).min(text.len());
    if !text.is_char_boundary(offset) {
        return Vec::new();
    }
    let line_start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let before = &text[line_start..offset];
    let (head, word) = split_prefix(before);
    let head = head.trim_end_matches('"');
    let idx = module_index(db, ws);
    let classes: BTreeSet<&str> = idx.definitions.keys().map(|(c, _)| c.as_str()).collect();
    let mut out = Vec::new();
    let modules_of = |class: &str, out: &mut Vec<Completion>| {
        for n in idx.names_of(class) {
            out.push(item(
                n,
                CompletionKind::Module,
                Some(format!("{class} module")),
            ));
        }
    };
    // `…modules.<class>.` directly, or through an alias bound to it in this file.
    if let Some(rest) = head.strip_suffix('.') {
        let (_, last) = split_prefix(rest);
        let before_last = &rest[..rest.len() - last.len()];
        if before_last.ends_with("modules.") && classes.contains(last) {
            modules_of(last, &mut out);
        } else if rest.ends_with("modules") {
            for c in &classes {
                out.push(item(c, CompletionKind::Class, Some("module class".into())));
            }
        } else if let Some(class) = alias_class(text, last) {
            modules_of(&class, &mut out);
        } else if last == "machines" {
            for m in clan_model(db, ws).machines.keys() {
                out.push(item(m, CompletionKind::Machine, Some("machine".into())));
            }
        } else if last == "roles" {
            for (role, service) in role_names(db, ws, &text[..offset]) {
                out.push(item(
                    &role,
                    CompletionKind::Role,
                    Some(format!("role of {service}")),
                ));
            }
        } else if last == "tags" {
            for t in clan_model(db, ws).known_tags() {
                out.push(item(&t, CompletionKind::Tag, Some("tag".into())));
            }
        } else if last == "generators" {
            for g in generator_names(db, ws) {
                out.push(item(
                    &g,
                    CompletionKind::Generator,
                    Some("vars generator".into()),
                ));
            }
        } else if last == "files" {
            let (_, gen) = split_prefix(before_last.trim_end_matches('.'));
            for file in generator_files(db, ws, gen.trim_matches('"')) {
                out.push(item(
                    &file,
                    CompletionKind::File,
                    Some(format!("file of {gen}")),
                ));
            }
        } else {
            // Option paths: the declared options below what has been typed.
            let typed: Vec<&str> = rest.split('.').map(|s| s.trim()).collect();
            let typed_tail: Vec<String> = typed
                .iter()
                .rev()
                .take_while(|s| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                })
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let mut seen = BTreeSet::new();
            for path in option_paths(db, ws) {
                if path.len() > typed_tail.len() && path[..typed_tail.len()] == typed_tail[..] {
                    let next = &path[typed_tail.len()];
                    if seen.insert(next.clone()) {
                        out.push(item(next, CompletionKind::Option, Some(path.join("."))));
                    }
                }
            }
        }
    } else if before.contains("name") && before.contains('=') && before.contains("module")
        || head.ends_with("name =")
    {
        let clan = clan_model(db, ws);
        let mut names: BTreeSet<String> = catalog()
            .at(clan.clan_core_last_modified)
            .service_names()
            .into_iter()
            .collect();
        names.extend(clan.local_services.keys().cloned());
        for n in names {
            out.push(Completion {
                label: n.clone(),
                kind: CompletionKind::Service,
                detail: Some("clan service".into()),
                insert: n,
            });
        }
    } else if let Some(class) = with_class(text, offset).or_else(|| inherit_class(before, text)) {
        // A bare name there is a variable: a name that is not an identifier cannot be written.
        modules_of(&class, &mut out);
        out.retain(|c| crate::ide::rename::is_identifier(&c.label));
    }
    out.retain(|c| c.label.starts_with(word.trim_matches('"')));
    out
}

/// The roles an instance may use: those of its service when the instance being written can be
/// found before the cursor (`instances.<name>`), else those of every service the clan uses.
fn role_names(db: &dyn Db, ws: Workspace, before: &str) -> Vec<(String, String)> {
    let clan = clan_model(db, ws);
    let instance = before.rfind("instances.").and_then(|i| {
        let rest = &before[i + "instances.".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '"')))
            .unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"').to_owned()).filter(|n| !n.is_empty())
    });
    let instances: Vec<&crate::clan::resolve::Instance> =
        match instance.and_then(|n| clan.instances.get(&n)) {
            Some(i) => vec![i],
            None => clan.instances.values().collect(),
        };
    let mut out = Vec::new();
    for inst in instances {
        if let crate::clan::services::Resolution::Service(v) =
            crate::clan::services::resolve(clan, inst)
        {
            for r in v.roles.iter().flat_map(|r| r.keys()) {
                if !out.iter().any(|(x, _): &(String, String)| x == r) {
                    out.push((r.clone(), v.display.clone()));
                }
            }
        }
    }
    out
}

/// The class of `alias` when this file binds it to `… .modules.<class>`.
fn alias_class(text: &str, alias: &str) -> Option<String> {
    if alias.is_empty() {
        return None;
    }
    let pat = format!("{alias} = ");
    let i = text.find(&pat)?;
    let rhs = text[i + pat.len()..].split(';').next()?.trim();
    let class = rhs
        .strip_prefix("config.flake.modules.")
        .or_else(|| rhs.strip_prefix("inputs.self.modules."))
        .or_else(|| rhs.strip_prefix("self.modules."))?;
    (!class.is_empty() && class.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| class.to_owned())
}

/// Inside `with <alias-or-path>; [ … ]` (before the cursor, on this line or earlier): that
/// set's class.
fn with_class(text: &str, cursor: usize) -> Option<String> {
    let before = &text[..cursor.min(text.len())];
    let w = before.rfind("with ")?;
    let (target, after) = before[w + 5..].split_once(';')?;
    // The cursor must be inside the list that follows, not past it.
    let open = after.find('[')?;
    if after[open..].contains(']') {
        return None;
    }
    let target = target.trim().trim_start_matches('(');
    if let Some(c) = target.rsplit_once("modules.").map(|(_, c)| c) {
        return Some(c.to_owned());
    }
    alias_class(text, target)
}

/// Inside `inherit (<alias-or-path>) …;` on this line: that set's class.
fn inherit_class(line: &str, text: &str) -> Option<String> {
    let i = line.rfind("inherit")?;
    let rest = line[i + "inherit".len()..].trim_start().strip_prefix('(')?;
    let (target, names) = rest.split_once(')')?;
    if names.contains(';') {
        return None;
    }
    let target = target.trim();
    if let Some(c) = target.rsplit_once("modules.").map(|(_, c)| c) {
        return Some(c.to_owned());
    }
    alias_class(text, target)
}

fn generator_names(db: &dyn Db, ws: Workspace) -> BTreeSet<String> {
    module_summaries(db, ws)
        .into_iter()
        .flat_map(|s| s.vars.generators.iter().map(|g| g.name.clone()))
        .collect()
}

fn generator_files(db: &dyn Db, ws: Workspace, generator: &str) -> BTreeSet<String> {
    module_summaries(db, ws)
        .into_iter()
        .flat_map(|s| s.vars.generators.iter())
        .filter(|g| g.name == generator)
        .flat_map(|g| g.files.iter().flatten().map(|f| f.name.clone()))
        .collect()
}

fn option_paths(db: &dyn Db, ws: Workspace) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = module_summaries(db, ws)
        .into_iter()
        .flat_map(|s| s.options.decls.iter().map(|d| d.decl.path.clone()))
        .collect();
    for c in &crate::options::catalog::catalogs(db, ws).0 {
        out.extend(c.options.values().map(|o| o.path.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replaced_name_includes_an_opening_quote() {
        let text = "x = config.flake.modules.nixos.\"machines/ni";
        assert_eq!(&text[replaced_start(text, text.len())..], "\"machines/ni");
        let text = "imports = [ ba";
        assert_eq!(&text[replaced_start(text, text.len())..], "ba");
        assert_eq!(replaced_start("a.", 2), 2);
        assert_eq!(replaced_start("", 0), 0);
    }

    #[test]
    fn names_after_non_ascii_text_start_at_a_character_boundary() {
        // `é`, `ü`, `😀` and `中` are not name characters: the name starts after them.
        for (text, name) in [
            ("  é", ""),
            ("  éa", "a"),
            ("  é = \"ü\";", ""),
            ("{ x = \"😀😀", ""),
            ("中b-c", "b-c"),
        ] {
            let start = replaced_start(text, text.len());
            assert!(text.is_char_boundary(start), "{text}");
            assert_eq!(&text[start..], name, "{text}");
            assert_eq!(split_prefix(text).1, name.trim_start_matches('"'), "{text}");
        }
        // Inside a character: nothing is replaced.
        assert_eq!(replaced_start("é", 1), 1);
    }
}
