//! Checks of the repository's justfile: recipes that name a machine the clan does not have
//! (`just/unknown-machine`), and recipes that list some machines of a class but not all of
//! them (`just/incomplete-coverage`).
//!
//! The analyzer never runs programs, so it never reads the justfile itself: the CLI has `just`
//! dump it and hands over each recipe's body as text ([`JustRecipe`]), where every
//! interpolation just could not resolve to a plain string is written `{{…}}`. Only literal
//! names count; a name computed by just or the shell is unknown and produces nothing.

mod words;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use rowan::ast::AstNode as _;

use crate::clan::resolve::{clan_model, ClanModel};
use crate::db::{parse, Db, Workspace};
use crate::diagnostic::{Diagnostic, TextRange};
use words::{commands, plain_name, Word};

fn and_list(items: &[String]) -> String {
    let items: Vec<&str> = items.iter().map(String::as_str).collect();
    super::options::and_list(&items)
}

/// One recipe of the justfile, as the CLI read it from `just --dump`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JustRecipe {
    /// `build-all`, or `infra::deploy` for a recipe of a module.
    pub namepath: String,
    /// The root-relative file the recipe is declared in.
    pub file: String,
    /// Its declaration in that file (where findings about it go).
    pub range: TextRange,
    /// The body, one line per line, interpolations just could not resolve written `{{…}}`.
    pub lines: Vec<String>,
    /// The recipe does not run in the repository root (a `[working-directory]` or `[no-cd]`
    /// attribute, a module's `working-directory` setting, a module file in another directory),
    /// so `.` in its commands may be another flake.
    pub runs_elsewhere: bool,
}

/// The classes whose configurations a flake reference names.
const CLASSES: [&str; 2] = ["nixos", "darwin"];

/// Where a recipe names a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reference {
    /// `.#nixosConfigurations.<m>` / `.#darwinConfigurations.<m>`: the class and the name
    /// (`None` when computed).
    Configuration(&'static str, Option<String>),
    /// A machine argument of `clan machines update` (`None` when computed, or when the command
    /// selects machines some other way: none given, `--tags`).
    Update(Option<String>),
}

/// What the recipes may be checked against: the clan's machines with their classes, and
/// whether each class's `<class>Configurations` holds only the clan's machines.
pub(crate) struct Fleet<'a> {
    model: &'a ClanModel,
    /// `nixosConfigurations` / `darwinConfigurations` may hold entries the clan does not
    /// make: some Nix file defines the attribute itself.
    configurations_open: [bool; 2],
}

pub(crate) fn check(db: &dyn Db, ws: Workspace, recipes: &[JustRecipe]) -> Vec<Diagnostic> {
    let model = clan_model(db, ws);
    if !model.present || !model.machines_complete {
        // A machine infra-check cannot see may be the one a recipe names.
        return Vec::new();
    }
    let fleet = Fleet {
        model,
        configurations_open: CLASSES.map(|c| configurations_defined(db, ws, c)),
    };
    check_recipes(&fleet, recipes)
}

fn check_recipes(fleet: &Fleet, recipes: &[JustRecipe]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut suggester = super::inventory::Suggester::new();
    for r in recipes {
        let Some(refs) = references(r) else {
            continue;
        };
        unknown_machines(fleet, r, &refs, &mut suggester, &mut out);
        coverage(fleet, r, &refs, &mut out);
    }
    out
}

/// The machine references of a recipe, or `None` when the recipe is not one to check: it
/// calls infra-check (a module infra-check wrote), or runs somewhere `.` may be another
/// flake.
fn references(r: &JustRecipe) -> Option<Vec<Reference>> {
    if r.runs_elsewhere {
        return None;
    }
    let body: String = r
        .lines
        .iter()
        // just's line prefixes: `@` (do not echo) and `-` (ignore failure).
        .map(|l| l.trim_start().trim_start_matches(['@', '-']))
        .collect::<Vec<_>>()
        .join("\n");
    let cmds = commands(&body);
    let mut refs = Vec::new();
    for cmd in &cmds {
        let program = cmd
            .iter()
            .find(|w| !is_assignment(w))
            .map(|w| w.text.as_str());
        if matches!(program, Some("cd" | "pushd")) {
            return None;
        }
        if cmd
            .iter()
            .any(|w| w.text == "infra-check" || w.text.ends_with("/infra-check"))
        {
            // A recipe that runs infra-check (a module it wrote): its own business.
            return None;
        }
        for w in cmd {
            if let Some(reference) = configuration(w) {
                refs.push(reference);
            }
        }
        update_arguments(cmd, &mut refs);
    }
    Some(refs)
}

fn is_assignment(w: &Word) -> bool {
    w.text.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// This flake, as a flake reference's path part spells it.
fn is_this_flake(path: &str) -> bool {
    matches!(path, "." | "./" | "path:." | "path:./")
}

/// `.#nixosConfigurations.<m>…` (the whole word): the class and the machine.
fn configuration(w: &Word) -> Option<Reference> {
    let (flake, attr) = w.text.split_once('#')?;
    if !is_this_flake(flake) {
        return None;
    }
    let class = CLASSES
        .into_iter()
        .find(|c| attr.starts_with(&format!("{c}Configurations.")))?;
    let rest = &attr[class.len() + "Configurations.".len()..];
    let name = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').map(|(n, _)| n),
        None => Some(rest.split('.').next().unwrap_or_default()),
    };
    let name =
        name.filter(|n| plain_name(n) && !n.contains('.') && (w.literal || !computed_part(n)));
    // A name with a computed part, or one only the shell knows, may be any machine.
    let name = name.filter(|_| w.literal || literal_prefix(&w.text, rest));
    Some(Reference::Configuration(class, name.map(String::from)))
}

fn computed_part(s: &str) -> bool {
    s.contains(['$', '`', '{', '}', '*', '?', '[', '…'])
}

/// Whether the machine name at the start of `rest` is followed by nothing computed up to the
/// next `.` (a word that is not literal as a whole may still name its machine literally:
/// `.#nixosConfigurations.argon.config.${attr}`).
fn literal_prefix(word: &str, rest: &str) -> bool {
    let name_end = rest.find('.').unwrap_or(rest.len());
    let before = &word[..word.len() - rest.len() + name_end];
    !computed_part(before)
}

/// The options of `clan machines update` that take a value (the rest take none).
const UPDATE_VALUE_OPTIONS: &[&str] = &[
    "--flake",
    "--target-host",
    "--build-host",
    "--host-key-check",
];
/// Options known to take no value.
const UPDATE_FLAGS: &[&str] = &["--debug", "--quiet", "-h", "--help"];

/// The machine arguments of `clan machines update …` in `cmd`, if it is that command.
fn update_arguments(cmd: &[Word], refs: &mut Vec<Reference>) {
    let Some(start) = cmd
        .windows(3)
        .position(|w| w[0].text == "clan" && w[1].text == "machines" && w[2].text == "update")
    else {
        return;
    };
    // `clan` must be the program run: first (after assignments and wrappers such as `exec`
    // or `direnv exec <dir>`), or the command of `nix develop -c`, not an argument of `echo`.
    let wrappers = ["exec", "time", "command", "sudo", "env", "nice", "nohup"];
    let before = &cmd[..start];
    let runs_clan = before
        .last()
        .is_some_and(|w| matches!(w.text.as_str(), "-c" | "--command" | "--"))
        || before.iter().enumerate().all(|(i, w)| {
            is_assignment(w)
                || wrappers.contains(&w.text.as_str())
                || (w.text == "direnv" && before.get(i + 1).is_some_and(|n| n.text == "exec"))
                || (i == 2 && before.len() == 3 && before[0].text == "direnv")
        });
    if !runs_clan {
        return;
    }
    let mut machines = Vec::new();
    let mut args = cmd[start + 3..].iter();
    let mut selects_otherwise = false;
    while let Some(w) = args.next() {
        if !w.literal {
            // `$@`, `{{machines}}`, `"$host"`: any machine, or any option.
            selects_otherwise = true;
            break;
        }
        let t = w.text.as_str();
        if t == "--tags" {
            selects_otherwise = true;
            break;
        }
        if let Some((option, value)) = t.split_once('=').filter(|_| t.starts_with("--")) {
            if option == "--flake" && !is_this_flake(value) {
                return;
            }
            if !UPDATE_VALUE_OPTIONS.contains(&option) {
                selects_otherwise = true;
                break;
            }
            continue;
        }
        if UPDATE_VALUE_OPTIONS.contains(&t) {
            match args.next() {
                Some(v) if t == "--flake" && !(v.literal && is_this_flake(&v.text)) => return,
                Some(v) if !v.literal => {
                    selects_otherwise = true;
                    break;
                }
                _ => {}
            }
            continue;
        }
        if t == "--option" {
            // `--option <name> <value>`
            args.next();
            args.next();
            continue;
        }
        if UPDATE_FLAGS.contains(&t) {
            continue;
        }
        if t.starts_with('-') {
            // An option infra-check does not know: its value may be the next word.
            selects_otherwise = true;
            break;
        }
        if plain_name(t) {
            machines.push(Some(t.to_owned()));
        } else {
            selects_otherwise = true;
        }
    }
    if machines.is_empty() || selects_otherwise {
        // No machine given updates every machine; `--tags` or a computed word selects some
        // the recipe does not list.
        refs.push(Reference::Update(None));
    }
    refs.extend(machines.into_iter().map(Reference::Update));
}

fn unknown_machines(
    fleet: &Fleet,
    r: &JustRecipe,
    refs: &[Reference],
    suggester: &mut super::inventory::Suggester,
    out: &mut Vec<Diagnostic>,
) {
    let machines = &fleet.model.machines;
    let mut reported: BTreeSet<(&str, &str)> = BTreeSet::new();
    for reference in refs {
        let (name, what) = match reference {
            Reference::Configuration(class, Some(name)) => {
                let index = usize::from(*class == "darwin");
                if fleet.configurations_open[index] {
                    continue;
                }
                match machines.get(name) {
                    Some(m) => match m.class.as_deref() {
                        Some(c) if c != *class => {
                            if reported.insert((name, class)) {
                                out.push(Diagnostic::new(
                                    "just/unknown-machine",
                                    &r.file,
                                    r.range,
                                    format!(
                                        "Recipe `{}` names `.#{class}Configurations.{name}`, but `{name}` is a {c} machine: its configuration is `.#{c}Configurations.{name}`, and `{class}Configurations` has no `{name}`.",
                                        r.namepath
                                    ),
                                ));
                            }
                            continue;
                        }
                        _ => continue,
                    },
                    None => (name, format!("names `.#{class}Configurations.{name}`")),
                }
            }
            Reference::Update(Some(name)) if !machines.contains_key(name) => {
                (name, format!("runs `clan machines update {name}`"))
            }
            _ => continue,
        };
        if !reported.insert((name, "")) {
            continue;
        }
        let mut message = format!(
            "Recipe `{}` {what}, but `{name}` is not a machine of this clan ({}).",
            r.namepath,
            machine_list(fleet.model)
        );
        if let Some(best) = suggester.suggest(name, machines.keys().map(String::as_str)) {
            message.push_str(&format!(" Did you mean `{best}`?"));
        }
        out.push(Diagnostic::new(
            "just/unknown-machine",
            &r.file,
            r.range,
            message,
        ));
    }
}

/// `its machines are a, b and c`, at most a dozen named.
fn machine_list(model: &ClanModel) -> String {
    const SHOWN: usize = 12;
    let names: Vec<String> = model.machines.keys().map(|n| format!("`{n}`")).collect();
    match names.len() {
        0 => "it has no machines".into(),
        n if n > SHOWN => format!(
            "its machines include {} and {} more",
            names[..SHOWN].join(", "),
            n - SHOWN
        ),
        _ => format!("its machines are {}", and_list(&names)),
    }
}

fn coverage(fleet: &Fleet, r: &JustRecipe, refs: &[Reference], out: &mut Vec<Diagnostic>) {
    let machines = &fleet.model.machines;
    if machines.values().any(|m| m.class.is_none()) {
        // The machines of a class are not all known.
        return;
    }
    if refs.contains(&Reference::Update(None)) {
        return;
    }
    // A listing: two or more machines named literally, of any class.
    let listed: BTreeSet<&str> = refs
        .iter()
        .filter_map(|reference| match reference {
            Reference::Configuration(c, Some(n))
                if machines.get(n).and_then(|m| m.class.as_deref()) == Some(*c) =>
            {
                Some(n.as_str())
            }
            Reference::Update(Some(n)) if machines.contains_key(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    if listed.len() < 2 {
        return;
    }
    for class in CLASSES {
        if refs.contains(&Reference::Configuration(class, None)) {
            continue;
        }
        let listed: BTreeSet<&str> = listed
            .iter()
            .copied()
            .filter(|n| machines.get(*n).and_then(|m| m.class.as_deref()) == Some(class))
            .collect();
        if listed.is_empty() {
            continue;
        }
        let of_class: BTreeMap<&str, ()> = machines
            .values()
            .filter(|m| m.class.as_deref() == Some(class))
            .map(|m| (m.name.as_str(), ()))
            .collect();
        let missing: Vec<String> = of_class
            .keys()
            .filter(|n| !listed.contains(*n))
            .map(|n| format!("`{n}`"))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let class_name = if class == "nixos" {
            "NixOS"
        } else {
            "nix-darwin"
        };
        out.push(Diagnostic::new(
            "just/incomplete-coverage",
            &r.file,
            r.range,
            format!(
                "Recipe `{}` lists {} of the clan's {} {class_name} machines and leaves out {}.",
                r.namepath,
                listed.len(),
                of_class.len(),
                and_list(&missing)
            ),
        ));
    }
}

/// Whether some Nix file of the repository defines `<class>Configurations` itself (a binding
/// or `inherit` of it, or the name as a string, which may be a computed attribute), other
/// than re-exporting clan's (`inherit (clan) nixosConfigurations`,
/// `nixosConfigurations = clan.nixosConfigurations`): then a name clan does not know may
/// still be a configuration. A file too complex to parse may define it too.
fn configurations_defined(db: &dyn Db, ws: Workspace, class: &str) -> bool {
    let attr = format!("{class}Configurations");
    for (path, &file) in ws.files(db).iter() {
        if !path.ends_with(".nix") {
            continue;
        }
        if crate::db::too_complex(db, file).is_some() {
            return true;
        }
        if !file.text(db).contains(attr.as_str()) {
            continue;
        }
        let root = parse(db, file).syntax();
        for token in root
            .descendants_with_tokens()
            .filter_map(|e| e.into_token())
        {
            if token.text() != attr {
                continue;
            }
            if defines(&token) {
                return true;
            }
        }
    }
    false
}

/// Whether this occurrence of `<class>Configurations` defines it.
fn defines(token: &rnix::SyntaxToken) -> bool {
    use rnix::ast;
    let Some(parent) = token.parent() else {
        return true;
    };
    // The name in a string: a computed key, or data for something infra-check cannot follow.
    if token.kind() == rnix::SyntaxKind::TOKEN_STRING_CONTENT {
        return true;
    }
    for node in parent.ancestors() {
        if let Some(inherit) = ast::Inherit::cast(node.clone()) {
            return !inherit
                .from()
                .and_then(|f| f.expr())
                .is_some_and(|e| is_clan_expr(&e.syntax().text().to_string()));
        }
        if let Some(binding) = ast::AttrpathValue::cast(node.clone()) {
            let in_key = binding
                .attrpath()
                .is_some_and(|p| p.syntax().text_range().contains_range(token.text_range()));
            if !in_key {
                // A read in a binding's value.
                return false;
            }
            let value = binding.value().map(|v| v.syntax().text().to_string());
            return !value.is_some_and(|v| {
                v.strip_suffix(&format!(".{}", token.text()))
                    .is_some_and(is_clan_expr)
            });
        }
        if ast::Select::cast(node.clone()).is_some() || ast::HasAttr::cast(node).is_some() {
            // `self.nixosConfigurations.web`, `x ? nixosConfigurations`: a read.
            return false;
        }
    }
    false
}

/// `clan`, `clan.config`: the value `lib.clan` returns, whose configurations are the clan's.
fn is_clan_expr(text: &str) -> bool {
    matches!(text.trim(), "clan" | "clan.config")
}
