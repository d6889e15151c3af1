//! Mutations of the file system: links (looping, dangling, leaving the repository), FIFOs,
//! directories and unreadable entries where files belong, removed paths and odd file names.

use crate::choose::{Ctx, Kind};
use crate::mutation::{show_bytes, Action, Mutation, Payload};
use crate::tree::{join, EntryKind};

/// A directory at or below `top` (`top` itself when the tree has none there).
fn dir_under(ctx: &mut Ctx, top: &str) -> String {
    let dirs: Vec<String> = ctx
        .listing
        .dirs_under(top)
        .into_iter()
        .map(str::to_owned)
        .collect();
    ctx.pick(&dirs).unwrap_or_else(|| top.to_owned())
}

/// `..` segments from `dir` back to the root.
fn up_to_root(dir: &str) -> String {
    let depth = dir.split('/').filter(|s| !s.is_empty()).count();
    if depth == 0 {
        ".".into()
    } else {
        vec![".."; depth].join("/")
    }
}

/// Any existing entry of the given kind.
fn existing(ctx: &mut Ctx, kind: EntryKind) -> Option<String> {
    let all: Vec<String> = ctx.listing.of_kind(kind).map(str::to_owned).collect();
    ctx.pick(&all)
}

pub fn symlink_loop(ctx: &mut Ctx) -> Option<Mutation> {
    let top = if ctx.listing.contains("vars") && ctx.rng.bool() {
        "vars"
    } else {
        "modules"
    };
    let dir = dir_under(ctx, top);
    let link = |name: &str, target: &str| Action::Symlink {
        link: join(&dir, name),
        target: target.into(),
    };
    let (what, actions) = match ctx.rng.u8(0..7) {
        0 => ("a link to its own directory", vec![link("loop", ".")]),
        1 => ("a link to the parent directory", vec![link("up", "..")]),
        2 => (
            "two links to each other",
            vec![link("loop-a", "loop-b"), link("loop-b", "loop-a")],
        ),
        3 => ("a file link to itself", vec![link("self.nix", "self.nix")]),
        4 => (
            "a directory link named like a Nix file",
            vec![link("loop.nix", ".")],
        ),
        5 => {
            let target = up_to_root(&dir);
            ("a link to the repository root", vec![link("root", &target)])
        }
        _ if dir != top => (
            "the directory replaced by a link to its parent",
            vec![Action::Symlink {
                link: dir.clone(),
                target: "..".into(),
            }],
        ),
        _ => ("a link to its own directory", vec![link("loop", ".")]),
    };
    Some(Mutation::new(
        Kind::SymlinkLoop,
        format!("in {dir}: {what}"),
        actions,
    ))
}

pub fn dangling_link(ctx: &mut Ctx) -> Option<Mutation> {
    let links: Vec<String> = ctx
        .listing
        .of_kind(EntryKind::Symlink)
        .filter(|p| p.starts_with("vars/") || p.starts_with("sops/"))
        .map(str::to_owned)
        .collect();
    let (link, target) = match ctx.rng.u8(0..5) {
        0 => (existing(ctx, EntryKind::File)?, "missing".to_owned()),
        1 if !links.is_empty() => (ctx.pick(&links)?, "../../missing".to_owned()),
        2 => (
            join(&dir_under(ctx, "modules"), "dangling.nix"),
            "/nonexistent/infra-check-fuzz.nix".to_owned(),
        ),
        3 => {
            let file = existing(ctx, EntryKind::File)?;
            let name = file.rsplit('/').next()?.to_owned();
            (file, name)
        }
        _ => (
            join(&dir_under(ctx, "modules"), "dangling.nix"),
            "missing.nix".to_owned(),
        ),
    };
    Some(Mutation::new(
        Kind::DanglingLink,
        format!("make {link} a link to {target}, which does not exist"),
        vec![Action::Symlink { link, target }],
    ))
}

/// Places outside the repository: a file everyone can read, endless devices, directories.
const OUTSIDE: &[&str] = &[
    "/etc/passwd",
    "/dev/zero",
    "/dev/null",
    "/dev/urandom",
    "/etc",
    "/",
];

pub fn link_outside(ctx: &mut Ctx) -> Option<Mutation> {
    let target = ctx.pick(OUTSIDE)?;
    let mut actions = Vec::new();
    let link = match ctx.rng.u8(0..8) {
        0 => "inventory.json".to_owned(),
        1 => "flake.lock".to_owned(),
        2 => "infra-check.toml".to_owned(),
        3 => {
            actions.push(Action::Write {
                file: "infra-check.toml".into(),
                payload: Payload::text("catalogs = [\"cat.json\"]\n"),
            });
            "cat.json".to_owned()
        }
        4 => existing(ctx, EntryKind::File)?,
        5 => dir_under(ctx, "modules"),
        _ => join(&dir_under(ctx, "modules"), "outside.nix"),
    };
    actions.push(Action::Symlink {
        link: link.clone(),
        target: target.to_owned(),
    });
    Some(Mutation::new(
        Kind::LinkOutside,
        format!("make {link} a link to {target}"),
        actions,
    ))
}

pub fn unreadable(ctx: &mut Ctx) -> Option<Mutation> {
    let candidates: Vec<String> = ctx
        .listing
        .entries
        .iter()
        .filter(|(_, k)| matches!(k, EntryKind::File | EntryKind::Dir))
        .map(|(p, _)| p.clone())
        .collect();
    let path = ctx.pick(&candidates)?;
    let mode = ctx.pick(&[0o000, 0o000, 0o200, 0o111])?;
    Some(Mutation::new(
        Kind::Unreadable,
        format!("chmod {mode:03o} {path}"),
        vec![Action::Chmod { path, mode }],
    ))
}

/// A machine name for per-machine paths.
fn machine(ctx: &mut Ctx) -> String {
    let machines = ctx.listing.machines();
    ctx.pick(&machines).unwrap_or_else(|| "fuzz".into())
}

/// A path infra-check reads (or might read) for a FIFO, a directory or a link to go.
fn read_path(ctx: &mut Ctx) -> (String, Vec<Action>) {
    let none = Vec::new;
    match ctx.rng.u8(0..11) {
        0 => ("flake.lock".into(), none()),
        1 => ("inventory.json".into(), none()),
        2 => ("infra-check.toml".into(), none()),
        3 => match existing_named(ctx, "secret") {
            Some(p) => (p, none()),
            None => (
                format!("vars/per-machine/{}/fuzz/token/secret", machine(ctx)),
                none(),
            ),
        },
        4 => match existing_named(ctx, ".validation-hash") {
            Some(p) => (p, none()),
            None => (
                format!("vars/per-machine/{}/fuzz/.validation-hash", machine(ctx)),
                none(),
            ),
        },
        5 => (
            format!("machines/{}/configuration.nix", machine(ctx)),
            none(),
        ),
        6 => (
            "cat.json".into(),
            vec![Action::Write {
                file: "infra-check.toml".into(),
                payload: Payload::text("catalogs = [\"cat.json\"]\n"),
            }],
        ),
        7 => ("flake.nix".into(), none()),
        8 => match ctx.nix_text() {
            Some((file, _)) => (file, none()),
            None => (join(&dir_under(ctx, "modules"), "x.nix"), none()),
        },
        _ => (join(&dir_under(ctx, "modules"), "x.nix"), none()),
    }
}

fn existing_named(ctx: &mut Ctx, name: &str) -> Option<String> {
    let all: Vec<String> = ctx
        .listing
        .files()
        .into_iter()
        .filter(|p| p.rsplit('/').next() == Some(name))
        .map(str::to_owned)
        .collect();
    ctx.pick(&all)
}

pub fn fifo(ctx: &mut Ctx) -> Option<Mutation> {
    let (path, mut actions) = read_path(ctx);
    actions.push(Action::Fifo { path: path.clone() });
    Some(Mutation::new(
        Kind::Fifo,
        format!("make {path} a FIFO"),
        actions,
    ))
}

pub fn directory_as_file(ctx: &mut Ctx) -> Option<Mutation> {
    let (path, mut actions) = read_path(ctx);
    actions.push(Action::MakeDir { path: path.clone() });
    let inside = match ctx.rng.u8(0..3) {
        0 => None,
        1 => Some(("default.nix", "{ }\n")),
        _ => Some(("default.nix", "{ a = ; }\n")),
    };
    if let Some((name, text)) = inside {
        actions.push(Action::Write {
            file: join(&path, name),
            payload: Payload::text(text),
        });
    }
    Some(Mutation::new(
        Kind::DirectoryAsFile,
        format!(
            "make {path} a directory{}",
            if inside.is_some() {
                " with a default.nix"
            } else {
                ""
            }
        ),
        actions,
    ))
}

pub fn remove_path(ctx: &mut Ctx) -> Option<Mutation> {
    let path = if ctx.chance(20) {
        ctx.pick_str(&["flake.nix", "modules", "vars", "flake.lock", "sops"])?
    } else {
        let all: Vec<String> = ctx.listing.entries.keys().cloned().collect();
        ctx.pick(&all)?
    };
    if !ctx.listing.contains(&path) {
        return None;
    }
    Some(Mutation::new(
        Kind::RemovePath,
        format!("remove {path}"),
        vec![Action::Remove { path }],
    ))
}

/// File names that quoting, escaping and path handling get wrong.
const ODD_NAMES: &[&str] = &[
    "with space.nix",
    "new\nline.nix",
    "tab\t.nix",
    "cr\r.nix",
    "percent%25.nix",
    "%0A.nix",
    "colon:x.nix",
    "comma,x.nix",
    "::error file=x::injected.nix",
    "quote\".nix",
    "apostrophe'.nix",
    "back\\slash.nix",
    "émoji😀.nix",
    "-dash.nix",
    "#hash.nix",
    "$(echo x).nix",
    "star*.nix",
    "[bracket].nix",
    "{brace}.nix",
    "<angle>.nix",
    "x.nix.nix",
    ".hidden.nix",
    "_underscore.nix",
    "\u{202e}xin.nix",
    "zero\u{200b}width.nix",
    "\u{1b}[31mred.nix",
    "bell\u{7}.nix",
    "..nix",
    " .nix",
    "ünïcödé/nested.nix",
    "dir with space/x.nix",
];

/// Module texts that get a diagnostic anchored in the file (so its name is printed).
const ANCHORED: &[&str] = &[
    "{ a = ; }\n",
    "{ imports = [ ./missing.nix ]; }\n",
    "{ flake.modules.nixos.odd = { }; }\n",
    "{ config, ... }: { imports = [ config.flake.modules.nixos.does-not-exist ]; }\n",
];

pub fn odd_file_name(ctx: &mut Ctx) -> Option<Mutation> {
    let dir = dir_under(ctx, "modules");
    let name = if ctx.chance(10) {
        format!("{}.nix", "a".repeat(ctx.rng.usize(200..=250)))
    } else {
        ctx.pick_str(ODD_NAMES)?
    };
    let file = join(&dir, &name);
    let text = ctx.pick(ANCHORED)?;
    Some(Mutation::new(
        Kind::OddFileName,
        format!(
            "write {} with {}",
            show_bytes(file.as_bytes(), 300),
            show_bytes(text.as_bytes(), 80)
        ),
        vec![Action::Write {
            file,
            payload: Payload::text(text),
        }],
    ))
}

const NON_UTF8_NAMES: &[&[u8]] = &[b"\xff.nix", b"caf\xe9.nix", b"\xc3.nix", b"\xffdir/x.nix"];

pub fn non_utf8_file_name(ctx: &mut Ctx) -> Option<Mutation> {
    let dir = dir_under(ctx, "modules");
    let name = ctx.pick(NON_UTF8_NAMES)?.to_vec();
    let text = ctx.pick(ANCHORED)?;
    Some(Mutation::new(
        Kind::NonUtf8FileName,
        format!(
            "write {}/{} with {}",
            dir,
            show_bytes(&name, 40),
            show_bytes(text.as_bytes(), 80)
        ),
        vec![Action::WriteRawName {
            dir: dir.clone(),
            name,
            payload: Payload::text(text),
        }],
    ))
}
