//! Mutations of the text of one file (or a few): broken syntax, swapped names, recursion, and
//! the huge expressions that stress the parser and the evaluator.

use std::collections::BTreeSet;
use std::ops::Range;

use rnix::SyntaxKind as K;

use crate::choose::{tokens, value_ranges, Ctx, Kind};
use crate::generated::{Gen, Nesting, Padding, ATTRPATH_PREFIXES, BINARY_OPS, SELECT_BASES};
use crate::mutation::{show_bytes, Action, Mutation, Payload};
use crate::tree::parent;

pub fn truncate(ctx: &mut Ctx) -> Option<Mutation> {
    let file = ctx.text_target()?;
    let len = ctx.file_len(&file)?;
    let at = if len == 0 { 0 } else { ctx.rng.usize(0..len) };
    Some(Mutation::new(
        Kind::Truncate,
        format!("cut {file} after byte {at} of {len}"),
        vec![Action::Truncate { file, len: at }],
    ))
}

/// A block of 1–5 whole lines: its first line (0-based), line count and byte range.
fn line_block(ctx: &mut Ctx, text: &str) -> Option<(usize, usize, Range<usize>)> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.is_empty() {
        return None;
    }
    let first = ctx.rng.usize(0..lines.len());
    let count = ctx.rng.usize(1..=(lines.len() - first).min(5));
    let start: usize = lines[..first].iter().map(|l| l.len()).sum();
    let len: usize = lines[first..first + count].iter().map(|l| l.len()).sum();
    Some((first, count, start..start + len))
}

pub fn delete_lines(ctx: &mut Ctx) -> Option<Mutation> {
    let file = ctx.text_target()?;
    let text = ctx.read_text(&file)?;
    let (first, count, range) = line_block(ctx, &text)?;
    Some(Mutation::new(
        Kind::DeleteLines,
        format!("delete lines {}–{} of {file}", first + 1, first + count),
        vec![Action::Splice {
            file,
            at: range.start,
            remove: range.len(),
            insert: Payload::text(""),
        }],
    ))
}

pub fn duplicate_lines(ctx: &mut Ctx) -> Option<Mutation> {
    let file = ctx.text_target()?;
    let text = ctx.read_text(&file)?;
    let (first, count, range) = line_block(ctx, &text)?;
    let times = ctx.pick(&[1, 1, 2, 3, 100])?;
    let block = text.get(range.clone())?.repeat(times);
    Some(Mutation::new(
        Kind::DuplicateLines,
        format!(
            "repeat lines {}–{} of {file} {times} more time(s)",
            first + 1,
            first + count
        ),
        vec![Action::Splice {
            file,
            at: range.end,
            remove: 0,
            insert: Payload::text(block),
        }],
    ))
}

/// Text that opens or closes something, or starts a construct, out of place.
const UNBALANCED: &[&str] = &[
    "{", "}", "[", "]", "(", ")", "\"", "''", "${", "\"${", "''${", "}\"", "/*", "*/", "let ",
    " in ", "rec {", ";", "=", ".", "inherit ", ": ", "@", "...", "?", " or ", "then ", "else ",
    "//", "\\", "<nixpkgs", "~/", "./", "# ", "${x", "\"\\", "''\\", "assert ", "with ", "x:", ",",
    "$${", "''$", "|>", "<|", "1.2.3", "0x", "./a b", "\"${\"${",
];

/// Tokens whose removal leaves something unclosed.
fn is_delimiter(kind: K) -> bool {
    matches!(
        kind,
        K::TOKEN_L_BRACE
            | K::TOKEN_R_BRACE
            | K::TOKEN_L_BRACK
            | K::TOKEN_R_BRACK
            | K::TOKEN_L_PAREN
            | K::TOKEN_R_PAREN
            | K::TOKEN_INTERPOL_START
            | K::TOKEN_INTERPOL_END
            | K::TOKEN_STRING_START
            | K::TOKEN_STRING_END
            | K::TOKEN_SEMICOLON
            | K::TOKEN_IN
            | K::TOKEN_ASSIGN
    )
}

pub fn unbalanced(ctx: &mut Ctx) -> Option<Mutation> {
    let file = ctx.text_target()?;
    let text = ctx.read_text(&file)?;
    let toks = tokens(&text);
    let delimiters: Vec<Range<usize>> = toks
        .iter()
        .filter(|(k, _)| is_delimiter(*k))
        .map(|(_, r)| r.clone())
        .collect();
    if file.ends_with(".nix") && !delimiters.is_empty() && ctx.rng.bool() {
        let r = ctx.pick(&delimiters)?;
        return Some(Mutation::new(
            Kind::Unbalanced,
            format!(
                "delete `{}` at byte {} of {file}",
                &text[r.clone()],
                r.start
            ),
            vec![Action::Splice {
                file,
                at: r.start,
                remove: r.len(),
                insert: Payload::text(""),
            }],
        ));
    }
    let at = if file.ends_with(".nix") && !toks.is_empty() {
        ctx.pick(&toks)?.1.start
    } else {
        ctx.rng.usize(0..=text.len())
    };
    let insert = ctx.pick(UNBALANCED)?;
    Some(Mutation::new(
        Kind::Unbalanced,
        format!("insert `{insert}` at byte {at} of {file}"),
        vec![Action::Splice {
            file,
            at,
            remove: 0,
            insert: Payload::text(insert),
        }],
    ))
}

/// Tokens worth moving: not whitespace or comments.
fn solid(toks: &[(K, Range<usize>)]) -> Vec<Range<usize>> {
    toks.iter()
        .filter(|(k, _)| !matches!(k, K::TOKEN_WHITESPACE | K::TOKEN_COMMENT))
        .map(|(_, r)| r.clone())
        .collect()
}

pub fn swap_tokens(ctx: &mut Ctx) -> Option<Mutation> {
    let (file, text) = ctx.nix_text()?;
    let solid = solid(&tokens(&text));
    if solid.len() < 2 {
        return None;
    }
    let i = ctx.rng.usize(0..solid.len() - 1);
    let j = ctx.rng.usize(i + 1..solid.len().min(i + 20));
    let (a, b) = (solid[i].clone(), solid[j].clone());
    if text[a.clone()] == text[b.clone()] {
        return None;
    }
    let swapped = format!(
        "{}{}{}",
        &text[b.clone()],
        &text[a.end..b.start],
        &text[a.clone()]
    );
    Some(Mutation::new(
        Kind::SwapTokens,
        format!(
            "swap `{}` (byte {}) and `{}` (byte {}) in {file}",
            &text[a.clone()],
            a.start,
            &text[b.clone()],
            b.start
        ),
        vec![Action::Splice {
            file,
            at: a.start,
            remove: b.end - a.start,
            insert: Payload::text(swapped),
        }],
    ))
}

/// Every token text of one kind in the repository's Nix files (small files only).
fn repo_tokens(ctx: &Ctx, kind: K, max_len: usize) -> Vec<String> {
    let mut set = BTreeSet::new();
    for file in ctx.listing.nix_files() {
        if ctx.file_len(file).is_none_or(|n| n > 256 << 10) {
            continue;
        }
        let Some(text) = ctx.read_text(file) else {
            continue;
        };
        for (k, r) in tokens(&text) {
            if k == kind && r.len() <= max_len {
                set.insert(text[r].to_owned());
            }
        }
    }
    set.into_iter().collect()
}

pub fn identifier_swap(ctx: &mut Ctx) -> Option<Mutation> {
    let (file, text) = ctx.nix_text()?;
    let own: Vec<String> = tokens(&text)
        .into_iter()
        .filter(|(k, _)| *k == K::TOKEN_IDENT)
        .map(|(_, r)| text[r].to_owned())
        .collect();
    let from = ctx.pick(&own)?;
    let all = repo_tokens(ctx, K::TOKEN_IDENT, 64);
    let to = ctx.pick(&all)?;
    if to == from {
        return None;
    }
    let count = own.iter().filter(|t| **t == from).count();
    let nth = if ctx.rng.bool() {
        None
    } else {
        Some(ctx.rng.usize(0..count))
    };
    Some(Mutation::new(
        Kind::IdentifierSwap,
        match nth {
            None => format!("rename every `{from}` in {file} to `{to}`"),
            Some(n) => format!("rename occurrence {n} of `{from}` in {file} to `{to}`"),
        },
        vec![Action::RenameIdent {
            file,
            from,
            to,
            nth,
        }],
    ))
}

pub fn string_swap(ctx: &mut Ctx) -> Option<Mutation> {
    let (file, text) = ctx.nix_text()?;
    let own: Vec<Range<usize>> = tokens(&text)
        .into_iter()
        .filter(|(k, _)| *k == K::TOKEN_STRING_CONTENT)
        .map(|(_, r)| r)
        .collect();
    let r = ctx.pick(&own)?;
    let all = repo_tokens(ctx, K::TOKEN_STRING_CONTENT, 200);
    let to = ctx.pick(&all)?;
    Some(Mutation::new(
        Kind::StringSwap,
        format!(
            "replace the string text {} at byte {} of {file} with {}",
            show_bytes(text[r.clone()].as_bytes(), 40),
            r.start,
            show_bytes(to.as_bytes(), 40)
        ),
        vec![Action::Splice {
            file,
            at: r.start,
            remove: r.len(),
            insert: Payload::text(to),
        }],
    ))
}

/// A Nix path literal from the directory `from_dir` to the root-relative `to`, or `None` when
/// `to` has characters a path literal cannot hold.
pub fn path_literal(from_dir: &str, to: &str) -> Option<String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || "/_.+-".contains(c);
    if !to.chars().all(valid) {
        return None;
    }
    let from: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(&to_parts[common..]);
    Some(format!("./{}", parts.join("/")))
}

pub fn import_cycle(ctx: &mut Ctx) -> Option<Mutation> {
    let nix: Vec<String> = ctx
        .listing
        .nix_files()
        .into_iter()
        .filter(|f| path_literal("", f).is_some())
        .map(str::to_owned)
        .collect();
    if nix.is_empty() {
        return None;
    }
    let len = ctx.rng.usize(1..=nix.len().min(3));
    let mut files = Vec::new();
    while files.len() < len {
        let f = ctx.pick(&nix)?;
        if !files.contains(&f) {
            files.push(f);
        }
    }
    let as_modules = ctx.rng.bool();
    let mut actions = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let next = &files[(i + 1) % files.len()];
        let lit = path_literal(parent(file), next)?;
        let text = ctx.read_text(file)?;
        let action = if !as_modules {
            Action::Write {
                file: file.clone(),
                payload: Payload::text(format!("import {lit}\n")),
            }
        } else if let Some(at) = text.find("imports = [") {
            Action::Splice {
                file: file.clone(),
                at: at + "imports = [".len(),
                remove: 0,
                insert: Payload::text(format!(" {lit}")),
            }
        } else {
            Action::Write {
                file: file.clone(),
                payload: Payload::text(format!("{{ imports = [ {lit} ({text}\n) ]; }}\n")),
            }
        };
        actions.push(action);
    }
    Some(Mutation::new(
        Kind::ImportCycle,
        format!(
            "make {} {} each other in a cycle",
            files.join(" → "),
            if as_modules {
                "import (as modules)"
            } else {
                "`import`"
            }
        ),
        actions,
    ))
}

/// Values that refer to themselves, directly or around a loop, or never stop unfolding.
const SELF_REFERENCES: &[&str] = &[
    "let x = x; in x",
    "let a = b; b = a; in a",
    "rec { a = a; }.a",
    "rec { a = b; b = a; }",
    "let s = { inherit (s) a; }; in s.a",
    "(x: x x) (x: x x)",
    "let f = x: f x; in f 1",
    "let xs = [ xs ]; in xs",
    "let a = { b = a; }; in a",
    "let fix = f: let x = f x; in x; in (fix (self: { a = self.a; })).a",
    "builtins.deepSeq (let a = { b = a; }; in a) 1",
    "let a = { b = a; }; in a == a",
    "let a = [ a ]; in builtins.toJSON a",
    "let x = x // { }; in x",
    "let x = { inherit x; }; in x.x.x.x",
];

pub fn self_reference(ctx: &mut Ctx) -> Option<Mutation> {
    let form = ctx.pick(SELF_REFERENCES)?;
    place(
        ctx,
        Kind::SelfReference,
        Payload::text(form),
        form.to_owned(),
    )
}

/// Puts an expression where the evaluator looks: in place of a binding's value in an existing
/// Nix file (half of the time), as a new module, or as the whole text of an existing file.
fn place(ctx: &mut Ctx, kind: Kind, expr: Payload, shown: String) -> Option<Mutation> {
    let choice = ctx.rng.u8(0..10);
    if choice < 5 {
        if let Some((file, text)) = ctx.nix_text() {
            let ranges = value_ranges(&text);
            if let Some(r) = ctx.pick(&ranges) {
                return Some(Mutation::new(
                    kind,
                    format!(
                        "replace the value at byte {} of {file} with {shown}",
                        r.start
                    ),
                    vec![Action::Splice {
                        file,
                        at: r.start,
                        remove: r.len(),
                        insert: expr,
                    }],
                ));
            }
        }
    }
    let wrap = |expr: Payload| match expr {
        Payload::Gen(gen) => Payload::Wrapped {
            before: "{ flake.fuzz = ".into(),
            gen,
            after: "; }\n".into(),
        },
        other => Payload::Bytes([b"{ flake.fuzz = ".as_slice(), &other.bytes(), b"; }\n"].concat()),
    };
    if choice < 8 {
        let file = ctx.new_module_path("fuzz");
        return Some(Mutation::new(
            kind,
            format!("write a module {file} defining {shown}"),
            vec![Action::Write {
                file,
                payload: wrap(expr),
            }],
        ));
    }
    let (file, _) = ctx.nix_text()?;
    Some(Mutation::new(
        kind,
        format!("replace all of {file} with {shown}"),
        vec![Action::Write {
            file,
            payload: expr,
        }],
    ))
}

fn place_gen(ctx: &mut Ctx, kind: Kind, gen: Gen) -> Option<Mutation> {
    let shown = gen.to_string();
    place(ctx, kind, Payload::Gen(gen), shown)
}

pub fn deep_nesting(ctx: &mut Ctx) -> Option<Mutation> {
    let form = ctx.pick(Nesting::ALL)?;
    let depth = ctx.big();
    place_gen(ctx, Kind::DeepNesting, Gen::Nesting { form, depth })
}

pub fn long_select(ctx: &mut Ctx) -> Option<Mutation> {
    let base = ctx.pick(SELECT_BASES)?;
    let len = ctx.big();
    place_gen(ctx, Kind::LongSelect, Gen::SelectChain { base, len })
}

pub fn long_attrpath(ctx: &mut Ctx) -> Option<Mutation> {
    let prefix = ctx.pick(ATTRPATH_PREFIXES)?;
    let len = ctx.big();
    place_gen(ctx, Kind::LongAttrpath, Gen::Attrpath { prefix, len })
}

pub fn long_application(ctx: &mut Ctx) -> Option<Mutation> {
    let len = ctx.big();
    place_gen(ctx, Kind::LongApplication, Gen::Application { len })
}

pub fn long_binary(ctx: &mut Ctx) -> Option<Mutation> {
    let (op, operand) = ctx.pick(BINARY_OPS)?;
    let len = ctx.big();
    place_gen(ctx, Kind::LongBinary, Gen::Binary { op, operand, len })
}

pub fn fan_out(ctx: &mut Ctx) -> Option<Mutation> {
    let gen = if ctx.rng.bool() {
        let width = ctx.big().min(ctx.pick(&[3, 10, 30, 100, 300])?);
        Gen::FanOut { width }
    } else {
        let times = ctx.big().min(ctx.rng.usize(8..=64));
        Gen::Doubling { times }
    };
    place_gen(ctx, Kind::FanOut, gen)
}

pub fn huge_list(ctx: &mut Ctx) -> Option<Mutation> {
    let len = ctx.big();
    place_gen(ctx, Kind::HugeList, Gen::List { len })
}

pub fn many_attrs(ctx: &mut Ctx) -> Option<Mutation> {
    let mut count = ctx.big() * if ctx.chance(30) { 10 } else { 1 };
    if let Some(cap) = ctx.size_cap {
        count = count.min(cap);
    }
    let gen = Gen::Attrs { count };
    let (file, what) = if ctx.rng.bool() {
        let file = ctx.new_module_path("many-attrs");
        let what = format!("write {file}: {gen}");
        (file, what)
    } else {
        let (file, _) = ctx.nix_text()?;
        let what = format!("replace all of {file} with {gen}");
        (file, what)
    };
    Some(Mutation::new(
        Kind::ManyAttrs,
        what,
        vec![Action::Write {
            file,
            payload: Payload::Gen(gen),
        }],
    ))
}

pub fn huge_file(ctx: &mut Ctx) -> Option<Mutation> {
    let limit = ctx.limits.size_limit;
    let sizes = [
        limit.saturating_sub(4096),
        limit - 1,
        limit,
        limit + 1,
        limit * 2,
    ];
    let mut bytes = ctx.pick(&sizes)?;
    if let Some(cap) = ctx.size_cap {
        bytes = bytes.min(cap);
    }
    let (file, form) = match ctx.rng.u8(0..4) {
        0 => ("inventory.json".to_owned(), Padding::JsonWhitespace),
        1 => ("flake.lock".to_owned(), Padding::JsonWhitespace),
        2 => {
            let (file, _) = ctx.nix_text()?;
            (
                file,
                ctx.pick(&[Padding::Comment, Padding::String, Padding::Bindings])?,
            )
        }
        _ => (
            ctx.new_module_path("huge"),
            ctx.pick(&[Padding::Comment, Padding::String, Padding::Bindings])?,
        ),
    };
    let gen = Gen::Padded { bytes, form };
    Some(Mutation::new(
        Kind::HugeFile,
        format!("make {file} {gen}"),
        vec![Action::Write {
            file,
            payload: Payload::Gen(gen),
        }],
    ))
}

/// Byte sequences that are not UTF-8: stray and truncated sequences, surrogates, overlong
/// forms, code points past U+10FFFF, Latin-1.
const NOT_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xc0\xaf",
    b"\xf4\x90\x80\x80",
    b"\x80",
    b"caf\xe9",
];

pub fn invalid_utf8(ctx: &mut Ctx) -> Option<Mutation> {
    let file = ctx.text_target()?;
    let len = ctx.file_len(&file)?;
    let at = ctx.rng.usize(0..=len);
    let bytes = ctx.pick(NOT_UTF8)?.to_vec();
    Some(Mutation::new(
        Kind::InvalidUtf8,
        format!("insert {} at byte {at} of {file}", show_bytes(&bytes, 20)),
        vec![Action::Splice {
            file,
            at,
            remove: 0,
            insert: Payload::Bytes(bytes),
        }],
    ))
}

pub fn nul_bytes(ctx: &mut Ctx) -> Option<Mutation> {
    let file = ctx.text_target()?;
    let len = ctx.file_len(&file)?;
    if ctx.chance(10) {
        let n = ctx.rng.usize(1..=4096);
        return Some(Mutation::new(
            Kind::NulBytes,
            format!("replace {file} with {n} NUL bytes"),
            vec![Action::Write {
                file,
                payload: Payload::Bytes(vec![0; n]),
            }],
        ));
    }
    let mut offsets: Vec<usize> = (0..ctx.rng.usize(1..=3))
        .map(|_| ctx.rng.usize(0..=len))
        .collect();
    // From the end, so that each offset still means the original text's.
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    let actions = offsets
        .iter()
        .map(|&at| Action::Splice {
            file: file.clone(),
            at,
            remove: 0,
            insert: Payload::Bytes(vec![0]),
        })
        .collect();
    Some(Mutation::new(
        Kind::NulBytes,
        format!("insert NUL bytes at {offsets:?} in {file}"),
        actions,
    ))
}

pub fn line_endings(ctx: &mut Ctx) -> Option<Mutation> {
    let file = ctx.text_target()?;
    let (what, action) = match ctx.rng.u8(0..5) {
        0 => (
            format!("turn the line feeds of {file} into lone CRs"),
            Action::LineEndings {
                file,
                lone_cr: true,
            },
        ),
        1 => (
            format!("put a byte-order mark at the start of {file}"),
            Action::Splice {
                file,
                at: 0,
                remove: 0,
                insert: Payload::Bytes(b"\xef\xbb\xbf".to_vec()),
            },
        ),
        _ => (
            format!("give {file} CRLF line endings"),
            Action::LineEndings {
                file,
                lone_cr: false,
            },
        ),
    };
    Some(Mutation::new(Kind::LineEndings, what, vec![action]))
}
