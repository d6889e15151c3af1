//! Rename a deferred module, machine, tag, instance or generator everywhere it is written.
//!
//! The places come from the occurrence index (the same one navigation uses), plus the module
//! references in `.nix` files that are not flake-parts modules. Each place is rewritten by the
//! syntax it sits in: an attribute name is quoted when the new name is not an identifier, a
//! variable bound by `with` must stay an identifier that nothing closer shadows, an
//! `inherit (set) x;` that binds a variable keeps binding it. A rename that cannot see every
//! use (a computed name, a module set that escapes, a file not read completely) is refused
//! with where or why.

use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;

use super::occurrences::{all_occurrences, at, Subject};
use crate::clan::resolve::clan_model;
use crate::db::{file_by_path, parse, Db, Workspace};
use crate::diagnostic::{Location, TextRange};
use crate::flake::module_files;
use crate::index::module_index;
use crate::summary::{attr_display, file_summary};

/// What `prepareRename` answers: the name under the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameTarget {
    /// The name's range, inside the quotes when it is quoted.
    pub range: TextRange,
    pub placeholder: String,
}

/// Why the thing at the cursor cannot be renamed (a full sentence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameRefusal(pub String);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TextEdit {
    pub range: TextRange,
    pub new_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub file: String,
    /// In order, never overlapping.
    pub edits: Vec<TextEdit>,
}

/// A file or directory to move (root-relative paths).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PathRename {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenameEdit {
    pub files: Vec<FileEdit>,
    /// Applied after the text edits; empty unless the client can rename files.
    pub paths: Vec<PathRename>,
}

type Refused<T> = Result<T, RenameRefusal>;

fn refuse<T>(message: String) -> Refused<T> {
    Err(RenameRefusal(message))
}

/// The thing at `offset`, when it is one rename knows.
pub fn prepare(
    db: &dyn Db,
    ws: Workspace,
    file: &str,
    offset: u32,
) -> Refused<Option<RenameTarget>> {
    let Some(here) = at(db, ws, file, offset) else {
        return Ok(None);
    };
    let plan = plan(db, ws, &here.subject)?;
    let mut range = here.location.range;
    let text = file_text(db, ws, file);
    if text
        .get(range.start as usize..range.end as usize)
        .is_some_and(|t| t.len() >= 2 && t.starts_with('"') && t.ends_with('"'))
    {
        range = TextRange::new(range.start + 1, range.end - 1);
    }
    Ok(Some(RenameTarget {
        range,
        placeholder: plan.old,
    }))
}

/// The edit renaming the thing at `offset` to `new_name`. `resource_ops`: the client can
/// rename directories; without it a rename that must move one is refused.
pub fn rename(
    db: &dyn Db,
    ws: Workspace,
    file: &str,
    offset: u32,
    new_name: &str,
    resource_ops: bool,
) -> Refused<RenameEdit> {
    let Some(here) = at(db, ws, file, offset) else {
        return refuse(
            "There is no module, machine, tag, instance or generator at the cursor to rename."
                .into(),
        );
    };
    let main = plan(db, ws, &here.subject)?;
    if new_name == main.old {
        return Ok(RenameEdit::default());
    }
    let mut parts = vec![(main, new_name.to_owned())];
    // A machine's own deferred module (`machines/<class>/<m>`) is named after it.
    if let Subject::Machine(m) = &here.subject {
        check_machine_name(db, ws, m, new_name)?;
        if let Some(class) = clan_model(db, ws)
            .machines
            .get(m)
            .and_then(|x| x.class.clone())
        {
            let module = Subject::Module {
                class: class.clone(),
                name: format!("machines/{class}/{m}"),
            };
            if module_index(db, ws).is_defined(&class, &format!("machines/{class}/{m}")) {
                parts.push((
                    plan(db, ws, &module)?,
                    format!("machines/{class}/{new_name}"),
                ));
            }
        }
    }
    let mut edits: Vec<(String, TextEdit)> = Vec::new();
    let mut paths = Vec::new();
    for (plan, new) in &parts {
        check_new_name(db, ws, &plan.subject, new)?;
        for site in &plan.sites {
            for e in rewrite(db, ws, site, &plan.subject, &plan.old, new)? {
                edits.push((site.file.to_string(), e));
            }
        }
        paths.extend(moved_paths(db, ws, &plan.subject, new)?);
    }
    if !paths.is_empty() && !resource_ops {
        let list: Vec<String> = paths.iter().map(|p| format!("`{}/`", p.from)).collect();
        return refuse(format!(
            "Renaming {} also renames {}, and this editor cannot rename files; rename them by hand together with the name, or use an editor that supports file renames.",
            super::nav::label(&parts[0].0.subject),
            list.join(", ")
        ));
    }
    edits.sort();
    edits.dedup();
    let mut files: Vec<FileEdit> = Vec::new();
    for (file, e) in edits {
        match files.last_mut() {
            Some(f) if f.file == file => {
                if f.edits.last().is_some_and(|l| l.range.end > e.range.start) {
                    return refuse(format!(
                        "Two uses of the name overlap at {}; rename it by hand there.",
                        place(db, ws, &Location::new(&file, e.range))
                    ));
                }
                f.edits.push(e)
            }
            _ => files.push(FileEdit {
                file,
                edits: vec![e],
            }),
        }
    }
    paths.sort();
    paths.dedup();
    Ok(RenameEdit { files, paths })
}

/// Every place a subject's name is written, once it is sure none is missing.
struct Plan {
    subject: Subject,
    old: String,
    sites: Vec<Location>,
}

fn plan(db: &dyn Db, ws: Workspace, subject: &Subject) -> Refused<Plan> {
    let old = match subject {
        Subject::Module { name, .. } => name.clone(),
        Subject::Machine(n) | Subject::Tag(n) | Subject::Instance(n) | Subject::Generator(n) => {
            n.clone()
        }
        other => {
            return refuse(format!(
                "{} cannot be renamed: rename works on deferred modules, machines, tags, instances and generators.",
                super::nav::label(other)
            ))
        }
    };
    let mut sites: Vec<Location> = all_occurrences(db, ws)
        .iter()
        .filter(|o| &o.subject == subject)
        .map(|o| o.location.clone())
        .collect();
    let label = super::nav::label(subject);
    unread_files(db, ws, &label)?;
    let clan = clan_model(db, ws);
    match subject {
        Subject::Module { class, name } => {
            module_blockers(db, ws, class, &label)?;
            sites.extend(outside_references(db, ws, class, name, &label)?);
        }
        Subject::Machine(_)
            if !clan.machines_complete
                || !clan.instances_complete
                || clan
                    .instances
                    .values()
                    .any(|i| i.roles.values().any(|r| !r.machines_known)) =>
        {
            return refuse(format!(
                "{label} cannot be renamed safely: some of the clan's machines or instances are computed, so not every use of the name can be found."
            ))
        }
        Subject::Tag(t) => {
            if matches!(t.as_str(), "all" | "nixos" | "darwin") {
                return refuse(format!(
                    "{label} is one of clan's built-in tags and cannot be renamed."
                ));
            }
            if !clan.tags_complete
                || !clan.instances_complete
                || clan
                    .instances
                    .values()
                    .any(|i| i.roles.values().any(|r| !r.tags_known))
            {
                return refuse(format!(
                    "{label} cannot be renamed safely: some of the clan's tags or instances are computed, so not every use of the name can be found."
                ));
            }
        }
        Subject::Instance(_) if !clan.instances_complete => {
            return refuse(format!(
                "{label} cannot be renamed safely: some of the clan's instances are computed, so not every use of the name can be found."
            ))
        }
        Subject::Generator(g) => generator_blockers(db, ws, g, &label, &sites)?,
        _ => {}
    }
    sites.sort();
    sites.dedup();
    Ok(Plan {
        subject: subject.clone(),
        old,
        sites,
    })
}

/// A file that could not be read in full may use any name.
fn unread_files(db: &dyn Db, ws: Workspace, label: &str) -> Refused<()> {
    let files = module_files(db, ws);
    if files.incomplete || files.unreadable {
        return refuse(format!(
            "{label} cannot be renamed safely: the flake's list of module files cannot be read completely, so not every use of the name can be found."
        ));
    }
    for path in &files.files {
        let Some(f) = file_by_path(db, ws, path) else {
            continue;
        };
        if file_summary(db, ws, f).incomplete {
            return refuse(format!(
                "{label} cannot be renamed safely: {path} could not be read completely (it is too large or too complex), so it may use the name where infra-check cannot see it."
            ));
        }
    }
    Ok(())
}

fn module_blockers(db: &dyn Db, ws: Workspace, class: &str, label: &str) -> Refused<()> {
    let idx = module_index(db, ws);
    if let Some(r) = idx
        .references
        .iter()
        .find(|r| &*r.class == class && r.name.is_none())
    {
        return refuse(format!(
            "{label} cannot be renamed safely: a `{class}` module is selected by a computed name at {}, which may be this one; write the name out there first.",
            place(db, ws, &r.location)
        ));
    }
    if idx.all_escaped || idx.escaped.contains(class) {
        let file = module_files(db, ws).files.iter().find(|p| {
            file_by_path(db, ws, p).is_some_and(|f| {
                file_summary(db, ws, f)
                    .escaped
                    .iter()
                    .any(|c| c.as_deref().is_none_or(|c| c == class))
            })
        });
        let whr = file.map_or(String::new(), |f| format!(" in {f}"));
        return refuse(format!(
            "{label} cannot be renamed safely: the set of `{class}` modules is handed{whr} to code infra-check cannot follow, which may use the name."
        ));
    }
    Ok(())
}

/// Module references in `.nix` files that are not flake-parts modules (a machine's
/// `configuration.nix`, a file imported by path).
fn outside_references(
    db: &dyn Db,
    ws: Workspace,
    class: &str,
    name: &str,
    label: &str,
) -> Refused<Vec<Location>> {
    let modules = module_files(db, ws);
    let mut out = Vec::new();
    for (path, file) in ws.files(db).iter() {
        if !path.ends_with(".nix") || path == "flake.nix" || modules.files.contains(path) {
            continue;
        }
        let s = file_summary(db, ws, *file);
        for r in s.references.iter().filter(|r| &*r.class == class) {
            match &r.name {
                Some(n) if **n == *name => out.push(r.location.clone()),
                Some(_) => {}
                None => {
                    return refuse(format!(
                        "{label} cannot be renamed safely: a `{class}` module is selected by a computed name at {}, which may be this one; write the name out there first.",
                        place(db, ws, &r.location)
                    ))
                }
            }
        }
        if s.escaped
            .iter()
            .any(|c| c.as_deref().is_none_or(|c| c == class))
        {
            return refuse(format!(
                "{label} cannot be renamed safely: the set of `{class}` modules is handed in {path} to code infra-check cannot follow, which may use the name."
            ));
        }
    }
    Ok(out)
}

fn generator_blockers(
    db: &dyn Db,
    ws: Workspace,
    g: &str,
    label: &str,
    sites: &[Location],
) -> Refused<()> {
    let declared = all_occurrences(db, ws)
        .iter()
        .any(|o| o.definition && o.subject == Subject::Generator(g.to_owned()));
    if !declared {
        return refuse(format!(
            "{label} is not declared in this repository (a clan service declares it), so it cannot be renamed here."
        ));
    }
    for path in &module_files(db, ws).files {
        let Some(f) = file_by_path(db, ws, path) else {
            continue;
        };
        if let Some(r) = file_summary(db, ws, f)
            .vars
            .var_refs
            .iter()
            .find(|r| r.generator.is_none())
        {
            return refuse(format!(
                "{label} cannot be renamed safely: a generator is read by a computed name at {}, which may be this one; write the name out there first.",
                place(db, ws, &r.location)
            ));
        }
    }
    let _ = sites;
    Ok(())
}

fn check_machine_name(db: &dyn Db, ws: Workspace, old: &str, new: &str) -> Refused<()> {
    if !crate::clan::model::valid_machine_name(new) {
        return refuse(format!(
            "`{new}` is not a valid machine name: clan wants letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters."
        ));
    }
    let clan = clan_model(db, ws);
    if clan.machines.contains_key(new) {
        return refuse(format!(
            "There is already a machine `{new}`; pick another name for `{old}`."
        ));
    }
    Ok(())
}

fn check_new_name(db: &dyn Db, ws: Workspace, subject: &Subject, new: &str) -> Refused<()> {
    if new.is_empty() {
        return refuse("The new name is empty.".into());
    }
    let clan = clan_model(db, ws);
    let taken = match subject {
        Subject::Module { class, .. } => module_index(db, ws).is_defined(class, new),
        Subject::Machine(_) => false, // checked with the machine rule
        Subject::Tag(_) => clan.known_tags().iter().any(|t| t == new),
        Subject::Instance(_) => clan.instances.contains_key(new),
        Subject::Generator(_) => {
            if new.contains('/') || new == "." || new == ".." {
                return refuse(format!(
                    "`{new}` cannot name a generator: it becomes a directory name under `vars/`."
                ));
            }
            all_occurrences(db, ws)
                .iter()
                .any(|o| o.subject == Subject::Generator(new.to_owned()))
        }
        _ => false,
    };
    if taken {
        let what = match subject {
            Subject::Module { class, .. } => {
                format!("flake.modules.{class}.{}", attr_display(new))
            }
            Subject::Tag(_) => format!("tag {new}"),
            Subject::Instance(_) => format!("instance {new}"),
            Subject::Generator(_) => format!("generator {new}"),
            _ => new.to_owned(),
        };
        return refuse(format!(
            "{what} already exists; renaming {} to it would merge the two. Pick another name.",
            super::nav::label(subject)
        ));
    }
    Ok(())
}

/// Directories named after the subject, moved with it.
fn moved_paths(
    db: &dyn Db,
    ws: Workspace,
    subject: &Subject,
    new: &str,
) -> Refused<Vec<PathRename>> {
    let disk = ws.disk(db);
    let mut out = Vec::new();
    let mut push = |from: String, to: String| -> Refused<()> {
        if disk.get(&from).is_some() {
            if disk.exists(&to) {
                return refuse(format!(
                    "`{to}` already exists; move it away before renaming `{from}`."
                ));
            }
            out.push(PathRename { from, to });
        }
        Ok(())
    };
    match subject {
        Subject::Machine(m) => {
            // A link that names the machine (a secret shared with it, its age key) points into
            // `sops/machines/<m>`; a file rename cannot rewrite where it points.
            if let Some((link, _)) = disk.iter().find(|(p, k)| {
                matches!(k, crate::disk::EntryKind::Symlink(t) if t.contains(&format!("machines/{m}")))
                    && (p.starts_with("vars/") || p.starts_with("sops/"))
            }) {
                return refuse(format!(
                    "Machine {m} cannot be renamed here: `{link}` is a link into `sops/machines/{m}`, and an editor cannot rewrite where links point. Rename the machine with clan's tools, or re-create its secrets after renaming."
                ));
            }
            push(format!("machines/{m}"), format!("machines/{new}"))?;
            push(
                format!("vars/per-machine/{m}"),
                format!("vars/per-machine/{new}"),
            )?;
            push(format!("sops/machines/{m}"), format!("sops/machines/{new}"))?;
        }
        Subject::Generator(g) => {
            let machines: Vec<String> = disk
                .children("vars/per-machine")
                .map(|(m, _)| m.to_owned())
                .collect();
            for m in machines {
                push(
                    format!("vars/per-machine/{m}/{g}"),
                    format!("vars/per-machine/{m}/{new}"),
                )?;
            }
            push(format!("vars/shared/{g}"), format!("vars/shared/{new}"))?;
        }
        _ => {}
    }
    Ok(out)
}

fn file_text(db: &dyn Db, ws: Workspace, file: &str) -> std::sync::Arc<str> {
    file_by_path(db, ws, file).map_or_else(|| "".into(), |f| f.text(db).clone())
}

/// `file:line` for messages.
fn place(db: &dyn Db, ws: Workspace, l: &Location) -> String {
    let text = file_text(db, ws, &l.file);
    let end = (l.range.start as usize).min(text.len());
    let line = text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    format!("{}:{line}", l.file)
}

/// A Nix string literal holding `s`.
fn nix_string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn is_identifier(s: &str) -> bool {
    attr_display(s) == s
}

/// Names every Nix file sees before any `with`: a `with` never binds them.
fn is_global(s: &str) -> bool {
    s.starts_with("__")
        || matches!(
            s,
            "abort"
                | "baseNameOf"
                | "break"
                | "builtins"
                | "derivation"
                | "derivationStrict"
                | "dirOf"
                | "false"
                | "fetchGit"
                | "fetchMercurial"
                | "fetchTarball"
                | "fetchTree"
                | "fromTOML"
                | "import"
                | "isNull"
                | "map"
                | "null"
                | "placeholder"
                | "removeAttrs"
                | "scopedImport"
                | "throw"
                | "toString"
                | "true"
        )
}

/// The edits that rewrite `old` to `new` at one site.
fn rewrite(
    db: &dyn Db,
    ws: Workspace,
    site: &Location,
    subject: &Subject,
    old: &str,
    new: &str,
) -> Refused<Vec<TextEdit>> {
    let text = file_text(db, ws, &site.file);
    let r = site.range;
    let written = text.get(r.start as usize..r.end as usize).unwrap_or("");
    let at = || place(db, ws, site);
    let unrecognised = || {
        refuse(format!(
            "The name of {} is written at {} in a form rename cannot rewrite; rename it by hand there.",
            super::nav::label(subject),
            at()
        ))
    };
    let edit = |new_text: String| Ok(vec![TextEdit { range: r, new_text }]);
    if !site.file.ends_with(".nix") {
        // `inventory.json`: a JSON string.
        let quoted = serde_json::to_string(old).unwrap_or_default();
        if written != quoted {
            return unrecognised();
        }
        return edit(serde_json::to_string(new).unwrap_or_default());
    }
    let Some(f) = file_by_path(db, ws, &site.file) else {
        return unrecognised();
    };
    let root = parse(db, f).syntax();
    if r.end as usize > text.len() {
        return unrecognised();
    }
    let range = rowan::TextRange::new(r.start.into(), r.end.into());
    let element = root.covering_element(range);
    let node = match element {
        rowan::NodeOrToken::Node(n) => n,
        rowan::NodeOrToken::Token(t) => match t.parent() {
            Some(p) => p,
            None => return unrecognised(),
        },
    };
    if node.text_range() != range {
        return unrecognised();
    }
    let parent = node.parent().map(|p| p.kind());
    match node.kind() {
        SyntaxKind::NODE_DYNAMIC => refuse(format!(
            "The name of {} is computed at {} (`${{…}}`); write it out there before renaming.",
            super::nav::label(subject),
            at()
        )),
        SyntaxKind::NODE_STRING => {
            if node
                .children()
                .any(|c| c.kind() == SyntaxKind::NODE_INTERPOL)
            {
                return refuse(format!(
                    "The name of {} is built by interpolation at {}; write it out there before renaming.",
                    super::nav::label(subject),
                    at()
                ));
            }
            if written != nix_string(old) {
                return unrecognised();
            }
            if parent == Some(SyntaxKind::NODE_INHERIT) {
                return inherit_site(db, ws, site, &node, subject, old, new);
            }
            edit(nix_string(new))
        }
        SyntaxKind::NODE_IDENT => {
            if written != old {
                return unrecognised();
            }
            match parent {
                Some(SyntaxKind::NODE_ATTRPATH) => edit(attr_display(new)),
                Some(SyntaxKind::NODE_INHERIT) => {
                    inherit_site(db, ws, site, &node, subject, old, new)
                }
                _ => variable_site(&node, site, subject, new, &at()).and_then(|_| edit(new.into())),
            }
        }
        _ => unrecognised(),
    }
}

/// A name used as a variable, which only a `with` binds (`with flakeModules; [ x ]`): the new
/// name must be an identifier nothing closer binds.
fn variable_site(
    node: &SyntaxNode,
    site: &Location,
    subject: &Subject,
    new: &str,
    at: &str,
) -> Refused<()> {
    let label = super::nav::label(subject);
    let old = node.text().to_string();
    let via = node
        .ancestors()
        .find(|a| a.kind() == SyntaxKind::NODE_WITH)
        .and_then(|w| rnix::ast::With::cast(w)?.namespace())
        .map(|n| n.syntax().text().to_string())
        .unwrap_or_default();
    if !is_identifier(new) {
        return refuse(format!(
            "`{old}` is referenced through `with {via};` at {at}, where only identifiers work; rename it to an identifier or change that reference first."
        ));
    }
    if is_global(new) {
        return refuse(format!(
            "`{new}` is a Nix built-in name, which `with {via};` cannot override at {at}; pick another name for {label}."
        ));
    }
    if let Some(binder) = bound_above(node, new) {
        return refuse(format!(
            "`{new}` is already bound by {binder} around {at}, so `with {via};` would not reach it there; pick another name for {label}.",
        ));
    }
    let _ = site;
    Ok(())
}

/// What binds `name` lexically around `node`, if anything does.
fn bound_above(node: &SyntaxNode, name: &str) -> Option<&'static str> {
    use rnix::ast;
    let is = |i: Option<ast::Ident>| i.is_some_and(|i| i.syntax().text() == name);
    for a in node.ancestors() {
        if let Some(l) = ast::Lambda::cast(a.clone()) {
            let bound = match l.param() {
                Some(ast::Param::IdentParam(p)) => is(p.ident()),
                Some(ast::Param::Pattern(p)) => {
                    p.pat_entries().any(|e| is(e.ident()))
                        || is(p.pat_bind().and_then(|b| b.ident()))
                }
                None => false,
            };
            if bound {
                return Some("a function argument");
            }
        } else if let Some(l) = ast::LetIn::cast(a.clone()) {
            if binds(&l, name) {
                return Some("a `let` binding");
            }
        } else if let Some(s) = ast::AttrSet::cast(a) {
            if s.rec_token().is_some() && binds(&s, name) {
                return Some("a `rec` attribute");
            }
        }
    }
    None
}

fn binds(entries: &impl rnix::ast::HasEntry, name: &str) -> bool {
    use rnix::ast::Attr;
    let attr_is = |a: Attr| matches!(a, Attr::Ident(i) if i.syntax().text() == name);
    entries.attrpath_values().any(|kv| {
        kv.attrpath()
            .and_then(|p| p.attrs().next())
            .is_some_and(attr_is)
    }) || entries.inherits().any(|i| i.attrs().any(attr_is))
}

/// `inherit (set) old;`. In a `let` or `rec` set it binds a variable the code goes on using,
/// so it becomes `old = set.new;`; elsewhere it names an attribute, renamed in place.
fn inherit_site(
    db: &dyn Db,
    ws: Workspace,
    site: &Location,
    node: &SyntaxNode,
    subject: &Subject,
    old: &str,
    new: &str,
) -> Refused<Vec<TextEdit>> {
    let _ = (db, ws);
    let inherit = node.parent().and_then(rnix::ast::Inherit::cast);
    let Some(inherit) = inherit else {
        return refuse(format!("Unexpected `inherit` at {}.", site.file));
    };
    let container = inherit.syntax().parent();
    let binds_variable = container.as_ref().is_some_and(|c| {
        c.kind() == SyntaxKind::NODE_LET_IN
            || rnix::ast::AttrSet::cast(c.clone()).is_some_and(|s| s.rec_token().is_some())
    });
    let from = inherit.from().and_then(|f| f.expr()).map(|e| {
        let t = e.syntax().text().to_string();
        match e {
            rnix::ast::Expr::Ident(_) | rnix::ast::Expr::Select(_) => t,
            _ => format!("({t})"),
        }
    });
    let Some(from) = from else {
        return refuse(format!(
            "{} is inherited without a set at {}; rename it by hand there.",
            super::nav::label(subject),
            place(db, ws, site)
        ));
    };
    if !binds_variable {
        if !is_identifier(new) {
            return refuse(format!(
                "`{old}` is referenced through `inherit ({from})` at {}, where only identifiers work; rename it to an identifier or change that reference first.",
                place(db, ws, site)
            ));
        }
        return Ok(vec![TextEdit {
            range: site.range,
            new_text: new.to_owned(),
        }]);
    }
    let binding = format!("{} = {from}.{};", attr_display(old), attr_display(new));
    let r: TextRange = inherit.syntax().text_range().into();
    if inherit.attrs().count() == 1 {
        return Ok(vec![TextEdit {
            range: r,
            new_text: binding,
        }]);
    }
    // Drop the name (and the space before it) from the `inherit`; bind it after.
    let start = node
        .prev_sibling_or_token()
        .filter(|t| t.kind() == SyntaxKind::TOKEN_WHITESPACE)
        .map_or(site.range.start, |t| u32::from(t.text_range().start()));
    Ok(vec![
        TextEdit {
            range: TextRange::new(start, site.range.end),
            new_text: String::new(),
        },
        TextEdit {
            range: TextRange::empty(r.end),
            new_text: format!(" {binding}"),
        },
    ])
}
