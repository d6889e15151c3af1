//! Mutations of the data files infra-check reads (`flake.lock`, `inventory.json`,
//! `infra-check.toml`, option catalogs) and attempts to get a secret's content printed.

use serde_json::Value;

use crate::choose::{Ctx, Kind};
use crate::generated::Gen;
use crate::mutation::{show_bytes, Action, Mutation, Payload};
use crate::text_kinds::path_literal;
use crate::tree::parent;

/// JSON values of the wrong shape for any place in a data file.
const WRONG_VALUES: &[&str] = &[
    "null",
    "[]",
    "{}",
    "\"x\"",
    "0",
    "-1",
    "1e300",
    "18446744073709551616",
    "true",
    "\"clan-core\"",
    "[\"root\", \"root\"]",
    "{\"nodes\": {}}",
];

/// Every JSON pointer in `value` (the first 10,000 nodes).
fn pointers(value: &Value) -> Vec<String> {
    fn walk(v: &Value, at: String, out: &mut Vec<String>) {
        if out.len() >= 10_000 {
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    walk(child, format!("{at}/{key}"), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

/// Replaces one random node of the JSON text of `file` with a value of the wrong shape.
fn replace_node(ctx: &mut Ctx, kind: Kind, file: &str) -> Option<Mutation> {
    let text = ctx.read_text(file)?;
    let mut value: Value = serde_json::from_str(&text).ok()?;
    let all = pointers(&value);
    let pointer = ctx.pick(&all)?;
    let replacement = ctx.pick(WRONG_VALUES)?;
    *value.pointer_mut(&pointer)? = serde_json::from_str(replacement).ok()?;
    let out = serde_json::to_string_pretty(&value).ok()?;
    Some(Mutation::new(
        kind,
        format!(
            "in {file}, replace `{}` with {replacement}",
            if pointer.is_empty() { "/" } else { &pointer }
        ),
        vec![Action::Write {
            file: file.to_owned(),
            payload: Payload::text(out),
        }],
    ))
}

/// The shared forms of breaking a JSON data file: truncation, an empty file, a wrong node,
/// deep nesting, a byte-order mark, bad bytes, or one of `literals`.
fn broken_json(ctx: &mut Ctx, kind: Kind, file: &str, literals: &[&str]) -> Option<Mutation> {
    let exists = ctx.file_len(file).is_some();
    let write = |what: String, payload: Payload| {
        Some(Mutation::new(
            kind,
            what,
            vec![Action::Write {
                file: file.to_owned(),
                payload,
            }],
        ))
    };
    match ctx.rng.u8(0..10) {
        0 | 1 if exists => {
            let len = ctx.file_len(file)?;
            let at = ctx.rng.usize(0..len.max(1));
            Some(Mutation::new(
                kind,
                format!("cut {file} after byte {at} of {len}"),
                vec![Action::Truncate {
                    file: file.to_owned(),
                    len: at,
                }],
            ))
        }
        2 | 3 if exists => replace_node(ctx, kind, file),
        4 => {
            let depth = ctx.big();
            let gen = Gen::JsonNesting { depth };
            write(format!("make {file} {gen}"), Payload::Gen(gen))
        }
        5 => {
            let text = ctx.read_text(file).unwrap_or_else(|| "{}".into());
            let mut bytes = b"\xef\xbb\xbf".to_vec();
            bytes.extend(text.into_bytes());
            write(
                format!("put a byte-order mark before {file}"),
                Payload::Bytes(bytes),
            )
        }
        6 => write(
            format!("make {file} JSON with a string that is not UTF-8"),
            Payload::Bytes(
                b"{\"machines\": {\"caf\xe9\": {}}, \"nodes\": {\"\xff\": {}}}".to_vec(),
            ),
        ),
        _ => {
            let literal = ctx.pick(literals)?;
            write(
                format!("make {file} {}", show_bytes(literal.as_bytes(), 120)),
                Payload::text(literal),
            )
        }
    }
}

const LOCK_LITERALS: &[&str] = &[
    "",
    "null",
    "[]",
    "\"lock\"",
    "1",
    "{}",
    "{\"nodes\": null}",
    "{\"nodes\": []}",
    "{\"nodes\": {\"root\": 1}, \"root\": \"root\", \"version\": 7}",
    "{\"nodes\": {\"root\": {\"inputs\": {\"clan-core\": [\"a\", \"b\"]}}}, \"root\": \"root\", \"version\": 7}",
    "{\"nodes\": {\"root\": {\"inputs\": {\"clan-core\": \"clan-core\"}}, \"clan-core\": {\"locked\": {\"lastModified\": \"yesterday\"}}}, \"root\": \"root\", \"version\": 7}",
    "{\"nodes\": {\"root\": {\"inputs\": {\"clan-core\": \"clan-core\"}}, \"clan-core\": {\"locked\": {\"lastModified\": -1}}}, \"root\": \"root\", \"version\": 7}",
    "{\"nodes\": {\"root\": {\"inputs\": {\"clan-core\": \"clan-core\"}}, \"clan-core\": {\"locked\": {\"lastModified\": 1e300}}}, \"root\": \"root\", \"version\": 7}",
    "{\"nodes\": {\"root\": {\"inputs\": {\"clan-core\": \"clan-core\"}}, \"clan-core\": {\"locked\": {\"lastModified\": 18446744073709551616}}}, \"root\": \"root\", \"version\": 7}",
    "{\"nodes\": {\"root\": {\"inputs\": {\"a\": [\"a\", \"a\", \"a\"]}}, \"a\": {\"inputs\": {\"a\": [\"root\", \"a\"]}}}, \"root\": \"root\", \"version\": 7}",
    "{\"nodes\": {\"root\": {\"inputs\": {\"clan-core\": \"root\"}}}, \"root\": \"root\", \"version\": 7}",
    "{\"nodes\": {}, \"root\": \"nowhere\", \"version\": 7}",
    "{\"nodes\": {\"root\": {}}, \"root\": \"root\", \"version\": 7, \"nodes\": 1}",
];

pub fn broken_lock(ctx: &mut Ctx) -> Option<Mutation> {
    broken_json(ctx, Kind::BrokenLock, "flake.lock", LOCK_LITERALS)
}

const INVENTORY_LITERALS: &[&str] = &[
    "",
    "null",
    "[]",
    "\"x\"",
    "{}",
    "{\"machines\": []}",
    "{\"machines\": null}",
    "{\"machines\": {\"a\": null}}",
    "{\"machines\": {\"a\": {\"tags\": \"x\"}}}",
    "{\"machines\": {\"a\": {\"tags\": [1, null, {}]}}}",
    "{\"machines\": {\"Bad Name\": {}, \"\": {}}}",
    "{\"machines\": {\"a\": {\"machineClass\": \"windows\"}}}",
    "{\"machines\": {\"a\": {\"machineClass\": 1}}}",
    "{\"machines\": {\"a\": {\"deploy\": {\"targetHost\": 1}}}}",
    "{\"instances\": {\"x\": {\"roles\": 1}}}",
    "{\"meta\": {\"name\": 1}}",
    "{\"machines\": {\"a\": {}}, \"machines\": {\"b\": {}}}",
    "{\"machines\": {\"a\": {\"tags\": [\"all\", \"nixos\", \"darwin\"]}}}",
];

pub fn broken_inventory(ctx: &mut Ctx) -> Option<Mutation> {
    broken_json(
        ctx,
        Kind::BrokenInventory,
        "inventory.json",
        INVENTORY_LITERALS,
    )
}

pub fn many_machines(ctx: &mut Ctx) -> Option<Mutation> {
    let gen = Gen::JsonMachines { count: ctx.big() };
    Some(Mutation::new(
        Kind::ManyMachines,
        format!("make inventory.json {gen}"),
        vec![Action::Write {
            file: "inventory.json".into(),
            payload: Payload::Gen(gen),
        }],
    ))
}

const CONFIG_LITERALS: &[&str] = &[
    "this is not toml",
    "catalogs = 1\n",
    "catalogs = [\"missing.json\"]\n",
    "catalogs = [\"../outside.json\"]\n",
    "catalogs = [\"/etc/passwd\"]\n",
    "catalogs = [\"flake.nix\"]\n",
    "catalogs = [\"flake.lock\"]\n",
    "catalogs = [\"modules\"]\n",
    "catalogs = [\"vars\"]\n",
    "catalogs = [\"\", \".\", \"./\"]\n",
    "exclude = [\"[\"]\n",
    "exclude = [\"**\"]\n",
    "exclude = [\"modules/**\"]\n",
    "exclude = 1\n",
    "[severity]\n\"module/unused\" = \"loud\"\n",
    "[severity]\n\"nope/x\" = \"off\"\n",
    "[severity]\n\"syntax/parse-error\" = \"off\"\n\"vars/missing\" = \"error\"\n",
    "[severity]\n\"module/unused\" = 1\n",
    "severity = 3\n",
    "[[severity]]\n",
    "a = \"\\uD800\"\n",
    "\u{feff}exclude = []\n",
    "# infra-check: ignore[module/undefined]\n",
];

pub fn broken_config(ctx: &mut Ctx) -> Option<Mutation> {
    let file = "infra-check.toml".to_owned();
    let (what, payload) = match ctx.rng.u8(0..6) {
        0 => {
            let depth = ctx.big();
            (
                format!("make {file} a TOML array {depth} deep"),
                Payload::text(format!("a = {}{}\n", "[".repeat(depth), "]".repeat(depth))),
            )
        }
        1 => (
            format!("make {file} bytes that are not UTF-8"),
            Payload::Bytes(b"exclude = [\"caf\xe9\"]\n".to_vec()),
        ),
        _ => {
            let literal = ctx.pick(CONFIG_LITERALS)?;
            (
                format!("make {file} {}", show_bytes(literal.as_bytes(), 100)),
                Payload::text(literal),
            )
        }
    };
    Some(Mutation::new(
        Kind::BrokenConfig,
        what,
        vec![Action::Write { file, payload }],
    ))
}

/// Catalog texts from broken to valid-but-strict, with the machine name filled in.
const CATALOGS: &[&str] = &[
    "",
    "null",
    "[]",
    "{}",
    "{\"format\": 1, \"class\": \"nixos\", \"machine\": \"@M\", \"options\": {}}",
    "{\"format\": 99, \"class\": \"nixos\", \"machine\": \"@M\", \"options\": {}}",
    "{\"format\": 1, \"class\": \"windows\", \"machine\": \"@M\", \"options\": {}}",
    "{\"format\": 1, \"class\": \"nixos\", \"machine\": null, \"options\": {\"\": {}, \".\": {}, \"a..b\": {}}}",
    "{\"format\": 1, \"class\": \"nixos\", \"machine\": \"@M\", \"options\": {\"networking.hostName\": {\"type\": {\"name\": \"int\"}}, \"services.openssh.enable\": {\"type\": {\"name\": \"str\"}}, \"system.stateVersion\": {\"type\": {\"name\": \"bool\"}}, \"users.users\": {\"type\": {\"name\": \"attrsOf\", \"elemType\": {\"name\": \"int\"}}}, \"environment.systemPackages\": {\"type\": {\"name\": \"listOf\", \"elemType\": {\"name\": \"bool\"}}}, \"time.timeZone\": {\"type\": {\"name\": \"enum\", \"values\": [1, {}, null]}}, \"nixpkgs.hostPlatform\": {\"type\": {\"name\": \"either\", \"left\": {\"name\": \"int\"}, \"right\": {\"name\": \"nope\"}}}}}",
    "{\"format\": 1, \"class\": \"nixos\", \"machine\": \"@M\", \"options\": {\"a\": {\"type\": {\"name\": \"submodule\"}}, \"a.b\": {\"type\": {\"name\": \"int\"}}, \"a.b.c\": {\"type\": null}}}",
    "{\"format\": 1, \"class\": \"nixos\", \"machine\": \"@M\", \"options\": {\"networking\": {\"type\": {\"name\": \"str\"}}}}",
];

pub fn broken_catalog(ctx: &mut Ctx) -> Option<Mutation> {
    let machines = ctx.listing.machines();
    let machine = ctx.pick(&machines).unwrap_or_else(|| "fuzz".into());
    let file = format!("infra-check-options-{machine}.json");
    let config = format!(
        "catalogs = [\"{file}\"]\n{}",
        ctx.read_text("infra-check.toml").unwrap_or_default()
    );
    let (what, payload) = if ctx.chance(20) {
        let depth = ctx.big();
        let gen = Gen::JsonNesting { depth };
        (format!("{gen}"), Payload::Gen(gen))
    } else {
        let text = ctx.pick(CATALOGS)?.replace("@M", &machine);
        let text = if ctx.chance(25) && !text.is_empty() {
            let at = ctx.rng.usize(0..text.len());
            text[..at].to_owned()
        } else {
            text
        };
        (show_bytes(text.as_bytes(), 100), Payload::text(text))
    };
    Some(Mutation::new(
        Kind::BrokenCatalog,
        format!("name the catalog {file} in infra-check.toml and make it {what}"),
        vec![
            Action::Write {
                file: "infra-check.toml".into(),
                payload: Payload::text(config),
            },
            Action::Write { file, payload },
        ],
    ))
}

/// A secret of the tree whose path a Nix path literal can hold.
fn secret(ctx: &mut Ctx) -> Option<String> {
    let secrets: Vec<String> = ctx
        .listing
        .secrets()
        .into_iter()
        .filter(|s| path_literal("", s).is_some())
        .map(str::to_owned)
        .collect();
    ctx.pick(&secrets)
}

/// Ways a repository could try to have a secret printed: reading it from Nix, linking the
/// files infra-check reads to it.
pub fn secret_leak(ctx: &mut Ctx) -> Option<Mutation> {
    let secret = secret(ctx)?;
    let module = "modules/leak.nix";
    let lit = path_literal(parent(module), &secret)?;
    let write = |text: String| Action::Write {
        file: module.into(),
        payload: Payload::text(text),
    };
    let link = |link: &str, target: String| Action::Symlink {
        link: link.into(),
        target,
    };
    let (what, action) = match ctx.rng.u8(0..7) {
        0 => ("read it into an option of the wrong type", write(format!(
            "{{ lib, ... }}: {{ options.leak = lib.mkOption {{ type = lib.types.int; }}; config.leak = builtins.readFile {lit}; }}\n"
        ))),
        1 => ("import it as a module", write(format!("{{ imports = [ {lit} ]; }}\n"))),
        2 => ("import it as a value", write(format!("{{ flake.leak = import {lit}; }}\n"))),
        3 => ("name a module after its content", write(format!(
            "{{ flake.modules.nixos.${{builtins.readFile {lit}}} = {{ }}; }}\n"
        ))),
        4 => ("link a module to it", link(module, lit[2..].to_owned())),
        5 => ("link inventory.json to it", link("inventory.json", secret.clone())),
        _ => ("link infra-check.toml to it", link("infra-check.toml", secret.clone())),
    };
    Some(Mutation::new(
        Kind::SecretLeak,
        format!("{secret}: {what}"),
        vec![action],
    ))
}

/// A secret named as an option catalog in `infra-check.toml`, or a catalog linked to it: the
/// loader reads it as the catalog's text.
pub fn secret_as_catalog(ctx: &mut Ctx) -> Option<Mutation> {
    let secret = secret(ctx)?;
    let config = |name: &str| Action::Write {
        file: "infra-check.toml".into(),
        payload: Payload::text(format!("catalogs = [\"{name}\"]\n")),
    };
    let (what, actions) = if ctx.rng.bool() {
        ("name it as a catalog", vec![config(&secret)])
    } else {
        (
            "link a catalog to it",
            vec![
                config("cat.json"),
                Action::Symlink {
                    link: "cat.json".into(),
                    target: secret.clone(),
                },
            ],
        )
    };
    Some(Mutation::new(
        Kind::SecretAsCatalog,
        format!("{secret}: {what}"),
        actions,
    ))
}
