//! `infra-check inputs`: every input `flake.lock` locks, the store path Nix gives its source
//! (computed from the lock, no `nix` command run) and whether that source is on this machine.
//!
//! # JSON schema, version 1
//!
//! ```text
//! {
//!   "version": 1,
//!   "store": "/nix/store",                   // the store directory looked in; null: --no-store
//!   "storeFrom": "default",                  // "option" | "NIX_STORE_DIR" | "infra-check.toml"
//!                                            // | "default" | "off"
//!   "cache": "~/.cache/infra-check/<build>",  // where what is read is kept; null: --no-cache
//!   "inputs": [                              // the root's inputs, then theirs, by path
//!     {
//!       "path": "clan-core/nixpkgs",         // the input's path from the root flake
//!       "follows": "nixpkgs",                // the input it follows, or null
//!       "type": "github",                    // the fetcher, or null
//!       "locked": "github:NixOS/nixpkgs/<rev>", // the locked reference, or null
//!       "narHash": "sha256-…",               // or null
//!       "dir": null,                         // the flake's subdirectory (`?dir=`), or null
//!       "flake": true,                       // false: `flake = false`
//!       "storePath": "/nix/store/…-source",  // computed; null when the lock does not give one
//!       "state": "found",                    // "found" | "absent" | "unusable"
//!                                            // | "not-locatable" | "off" | "follows"
//!       "reason": null,                      // why, for "unusable" and "not-locatable"
//!       "hasFlakeNix": true,                 // found: whether its root has a flake.nix; else null
//!       "clanServices": null,                // a clan-core source: {"count": 12, "complete":
//!                                            // true}, the services its clanServices/ registers
//!       "modules": [                         // its modules the repository imports (a root
//!         {                                  // input's only), by output path
//!           "path": "nixosModules.server",
//!           "read": "complete",              // "complete" | "partial" | "unread"
//!           "vars": true,                    // every generator it declares was read
//!           "options": true,                 // every option it declares was read
//!           "generators": ["…"],             // the generators it declares
//!           "declares": ["srvos"]            // the top-level names of its options
//!         }
//!       ],
//!       "cached": false                      // its clan services were in the cache already
//!     }
//!   ]
//! }
//! ```
//!
//! Keys may be added in later releases without changing `version`.

use std::path::Path;
use std::process::ExitCode;

use infra_check_analysis::fsread;
use infra_check_analysis::inputs::cache;
use infra_check_analysis::inputs::modules::ImportedModule;
use infra_check_analysis::inputs::{locate, Lock, LockedInput, StoreSetting, StoreState};
use serde::Serialize;

use crate::error::CliError;
use crate::text::{column_widths, plural, push_row};
use crate::{InputsArgs, InputsFormat};

pub const SCHEMA_VERSION: u32 = 1;

pub fn run(args: &InputsArgs) -> Result<ExitCode, CliError> {
    let root = crate::workspace::resolve_root(&args.path)?;
    let (store, from) = crate::store::setting(&args.store, &root)?;
    let cache = crate::store::cache_dir(&args.store);
    let from = from.as_str();
    let lock_path = root.join("flake.lock");
    let exists = std::fs::symlink_metadata(&lock_path).is_ok();
    let lock = match exists.then(|| fsread::read_regular(&lock_path, fsread::MAX_DATA_BYTES)) {
        None => None,
        Some(Ok(bytes)) => {
            let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
                CliError::Io(format!(
                    "`{}` is not valid JSON ({e}), so no input is known to be locked. Write it again with `nix flake lock`.",
                    lock_path.display()
                ))
            })?;
            Some(Lock::from_json(&value))
        }
        Some(Err(p)) => {
            return Err(CliError::Io(format!(
                "`{}` could not be read ({}), so no input is known to be locked.",
                lock_path.display(),
                infra_check_analysis::loader::describe(&p)
            )))
        }
    };
    let mut rows: Vec<Row> = lock
        .as_ref()
        .map(|l| {
            l.inputs
                .iter()
                .map(|i| Row::of(i, &store, cache.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    if lock.is_some() {
        // Only what the imports of inputs' modules need is computed (not the checks), so the
        // clan-core services each row read above are not read a second time.
        let mut loaded = crate::workspace::open(&root, "Reading the inputs of", &args.store)?;
        let modules = loaded
            .analysis
            .input_modules()
            .map_err(crate::workspace::cancelled)?;
        loaded.progress.finish();
        for m in modules {
            if let Some(row) = rows.iter_mut().find(|r| r.input.path == m.input) {
                row.modules.push(m);
            }
        }
    }
    let text = match args.format {
        InputsFormat::Table => render_table(&rows, &store, from, cache.as_deref()),
        InputsFormat::Json => render_json(&rows, &store, from, cache.as_deref())?,
    };
    crate::output::emit(&text)?;
    if lock.is_none() {
        eprintln!(
            "note: `{}` has no flake.lock, so no input is locked. `nix flake lock` writes one.",
            root.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One input, located.
struct Row<'a> {
    input: &'a LockedInput,
    store_path: Option<String>,
    state: &'static str,
    reason: Option<String>,
    has_flake_nix: Option<bool>,
    /// A clan-core source: how many services it registers, and whether it was read completely.
    services: Option<(usize, bool)>,
    /// Its modules the repository imports.
    modules: Vec<ImportedModule>,
    /// What was read of its source was in the cache before this run.
    cached: bool,
}

/// How much of an imported module was read: `complete`, `partial` or `unread`.
fn read_state(m: &ImportedModule) -> &'static str {
    match &m.module {
        Some(r) if r.vars_complete && r.options_complete => "complete",
        Some(_) => "partial",
        None => "unread",
    }
}

impl<'a> Row<'a> {
    fn of(input: &'a LockedInput, store: &StoreSetting, cache: Option<&Path>) -> Row<'a> {
        let mut row = Row {
            input,
            store_path: None,
            state: "follows",
            reason: None,
            has_flake_nix: None,
            services: None,
            modules: Vec::new(),
            cached: false,
        };
        if input.follows.is_some() {
            return row;
        }
        let Some(source) = &input.source else {
            row.state = "not-locatable";
            row.reason = Some(if input.node.is_some() {
                "its node in flake.lock has no `locked` attributes".into()
            } else {
                "flake.lock names a node for it that it does not have".into()
            });
            return row;
        };
        let located = locate(store, source);
        row.store_path = located.store_path;
        (row.state, row.reason) = match located.state {
            StoreState::Found => ("found", None),
            StoreState::Absent => ("absent", None),
            StoreState::Unusable(why) => ("unusable", Some(why)),
            StoreState::NotLocatable(why) => ("not-locatable", Some(why)),
            StoreState::Off => ("off", None),
        };
        row.has_flake_nix = located
            .root
            .as_ref()
            .map(|r| std::fs::symlink_metadata(r.join("flake.nix")).is_ok_and(|m| m.is_file()));
        if let Some(root) = located.root.as_deref() {
            use infra_check_analysis::clan::source_services::{read_services, SERVICES_ENTRY};
            row.cached = cache.is_some_and(|c| cache::has(c, root, SERVICES_ENTRY));
            row.services = cache::cached(cache, root, SERVICES_ENTRY, || read_services(root))
                .map(|s| (s.services.len(), s.complete));
        }
        row
    }
}

fn render_table(rows: &[Row], store: &StoreSetting, from: &str, cache: Option<&Path>) -> String {
    const HEADER: [&str; 5] = ["INPUT", "TYPE", "LOCKED", "STORE PATH", "STATE"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let source = r.input.source.as_ref();
            let state = match (&r.input.follows, &r.reason, r.has_flake_nix) {
                (Some(target), _, _) if target.is_empty() => "follows the root flake".into(),
                (Some(target), _, _) => format!("follows {target}"),
                (None, Some(why), _) => format!("{}: {why}", r.state),
                (None, None, Some(false)) if source.is_some_and(|s| s.flake) => {
                    format!("{} (no flake.nix)", r.state)
                }
                _ => r.state.to_owned(),
            };
            let state = match r.services {
                Some((n, complete)) => format!(
                    "{state}, {}{}",
                    plural(n, "clan service", "clan services"),
                    if complete { "" } else { " (read in part)" }
                ),
                None => state,
            };
            let state = match r.modules.len() {
                0 => state,
                n => {
                    let count = |s: &str| r.modules.iter().filter(|m| read_state(m) == s).count();
                    let (partial, unread) = (count("partial"), count("unread"));
                    let mut parts = vec![format!("{} read", count("complete"))];
                    if partial > 0 {
                        parts.push(format!("{partial} read in part"));
                    }
                    if unread > 0 {
                        parts.push(format!("{unread} unread"));
                    }
                    format!(
                        "{state}, {} imported: {}",
                        plural(n, "module", "modules"),
                        parts.join(", ")
                    )
                }
            };
            [
                r.input.path.clone(),
                dash(source.and_then(|s| s.kind.as_deref())),
                dash(source.and_then(|s| s.reference.as_deref())),
                dash(r.store_path.as_deref()),
                state,
            ]
        })
        .collect();
    let widths = column_widths(&HEADER, &cells);
    let mut out = String::new();
    push_row(&mut out, "", &HEADER, &widths);
    for row in &cells {
        push_row(&mut out, "", row, &widths);
    }
    let count = |state: &str| rows.iter().filter(|r| r.state == state).count();
    let located = rows.iter().filter(|r| r.state != "follows").count();
    match store {
        StoreSetting::Off => out.push_str(&format!(
            "\n{}; the store is not looked at (--no-store).\n",
            plural(located, "locked input", "locked inputs")
        )),
        StoreSetting::Dir(dir) => out.push_str(&format!(
            "\n{} in {dir} ({}): {} found, {} absent{}{}.\n",
            plural(located, "locked input", "locked inputs"),
            if from == "default" {
                "the default store".to_owned()
            } else {
                format!("from {from}")
            },
            count("found"),
            count("absent"),
            match count("unusable") {
                0 => String::new(),
                n => format!(", {n} unusable"),
            },
            match count("not-locatable") {
                0 => String::new(),
                n => format!(", {n} not locatable from the lock"),
            },
        )),
    }
    match cache {
        Some(c) if count("found") > 0 => out.push_str(&format!(
            "What is read from them is kept in {} (--no-cache: not kept).\n",
            cache::build_dir(c).display()
        )),
        None if count("found") > 0 => {
            out.push_str("What is read from them is not kept (--no-cache).\n")
        }
        _ => {}
    }
    if count("absent") > 0 {
        out.push_str(
            "Absent inputs are unknown to the checks. `nix flake archive` fetches every input without evaluating anything.\n",
        );
    }
    out
}

fn dash(s: Option<&str>) -> String {
    s.unwrap_or("-").to_owned()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    version: u32,
    store: Option<&'a str>,
    store_from: &'a str,
    /// This build's cache directory, or null with --no-cache.
    cache: Option<String>,
    inputs: Vec<JsonInput<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonInput<'a> {
    path: &'a str,
    follows: Option<&'a str>,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    locked: Option<&'a str>,
    nar_hash: Option<&'a str>,
    dir: Option<&'a str>,
    flake: bool,
    store_path: Option<&'a str>,
    state: &'a str,
    reason: Option<&'a str>,
    has_flake_nix: Option<bool>,
    clan_services: Option<JsonServices>,
    modules: Vec<JsonModule>,
    cached: bool,
}

#[derive(Serialize)]
struct JsonModule {
    path: String,
    read: &'static str,
    vars: bool,
    options: bool,
    generators: Vec<String>,
    declares: Vec<String>,
}

#[derive(Serialize)]
struct JsonServices {
    count: usize,
    complete: bool,
}

fn render_json(
    rows: &[Row],
    store: &StoreSetting,
    from: &str,
    cache: Option<&Path>,
) -> Result<String, CliError> {
    let doc = Document {
        version: SCHEMA_VERSION,
        store: match store {
            StoreSetting::Off => None,
            StoreSetting::Dir(d) => Some(d),
        },
        store_from: from,
        cache: cache.map(|c| cache::build_dir(c).display().to_string()),
        inputs: rows
            .iter()
            .map(|r| {
                let source = r.input.source.as_ref();
                JsonInput {
                    path: &r.input.path,
                    follows: r.input.follows.as_deref(),
                    kind: source.and_then(|s| s.kind.as_deref()),
                    locked: source.and_then(|s| s.reference.as_deref()),
                    nar_hash: source.and_then(|s| s.nar_hash.as_deref()),
                    dir: source.and_then(|s| s.dir.as_deref()),
                    flake: source.is_none_or(|s| s.flake),
                    store_path: r.store_path.as_deref(),
                    state: r.state,
                    reason: r.reason.as_deref(),
                    has_flake_nix: r.has_flake_nix,
                    clan_services: r
                        .services
                        .map(|(count, complete)| JsonServices { count, complete }),
                    modules: r
                        .modules
                        .iter()
                        .map(|m| {
                            let read = m.module.as_deref();
                            JsonModule {
                                path: m.path.join("."),
                                read: read_state(m),
                                vars: read.is_some_and(|r| r.vars_complete),
                                options: read.is_some_and(|r| r.options_complete),
                                generators: read
                                    .map(|r| r.generators.iter().cloned().collect())
                                    .unwrap_or_default(),
                                declares: read
                                    .map(|r| r.declares.iter().cloned().collect())
                                    .unwrap_or_default(),
                            }
                        })
                        .collect(),
                    cached: r.cached,
                }
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| CliError::Io(format!("The inputs could not be written as JSON: {e}.")))?;
    text.push('\n');
    Ok(text)
}
