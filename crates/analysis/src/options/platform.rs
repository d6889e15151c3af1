//! Option namespaces that exist on only one machine class, for `platform/option-unavailable`.
//!
//! A flake that mixes NixOS servers and nix-darwin workstations often shares modules between
//! them. A module that defines, say, `boot.loader.grub.enable` or `homebrew.casks` fails to
//! evaluate on a machine of the other class. This table says which option namespaces belong to
//! only one class, so the analyzer can report such a definition before `nix` does.
//!
//! Precision matters more than coverage: an entry listed wrongly produces false positives. Every
//! entry was read from the module that declares it on its own side, and checked against the
//! other side's module list (and, for children of a shared namespace such as `networking` or
//! `services.openssh`, against the other side's module for that namespace). Candidates that
//! turned out to exist on both sides (for example `system.activationScripts`, `power`,
//! `services.openssh`) are recorded in the file's `rejected` list with the reason.
//!
//! # The data file
//!
//! `crates/analysis/data/platform-options.json`, embedded with `include_str!` and parsed once:
//!
//! ```json
//! {
//!   "format": 1,
//!   "doc": "free text",
//!   "sources": [
//!     { "id": "darwin-homebrew", "repo": "nix-darwin/nix-darwin", "path": "modules/homebrew.nix",
//!       "revision": "<commit of the copy read>", "note": "optional" }
//!   ],
//!   "entries": [
//!     { "path": "homebrew", "only": "darwin", "source": "darwin-homebrew",
//!       "absent_from": ["nixos-module-list"], "note": "optional" }
//!   ],
//!   "rejected": [
//!     { "path": "system.activationScripts", "reason": "declared on both", "sources": ["..."] }
//!   ]
//! }
//! ```
//!
//! - `path` is a dotted option path (no entry needs a quoted segment). An entry covers every
//!   option definition whose path starts with it: `homebrew` covers `homebrew.casks`.
//! - `only` is `"nixos"` or `"darwin"`: the class on which the namespace exists.
//! - `source` names the source that declares the namespace on that class; `absent_from` names
//!   the sources showing it is not declared on the other class. Both must be ids in `sources`.
//! - `rejected` documents candidates that were checked and refused; it is validated but not
//!   exposed.
//!
//! Loading fails (and the unit tests fail) on an unknown field, a `format` other than 1, an
//! `only` that is neither class, an unknown source id, a duplicate path, or an entry that is a
//! prefix of another entry with a different `only`.
//!
//! # Lookup
//!
//! [`platform_only`] takes the full path of one option definition (leaf or not, as the caller
//! has it) and returns the entry whose path is a prefix of it, the longest if several are. It
//! does not look below the given path: `["networking"]` alone is not covered by
//! `networking.computerName`; a caller walking an attribute set must pass the nested paths.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

/// The embedded data file.
const EMBEDDED: &str = include_str!("../../data/platform-options.json");

/// The class name for NixOS machines, as used in [`PlatformOnly::only`].
pub const NIXOS: &str = "nixos";
/// The class name for nix-darwin machines, as used in [`PlatformOnly::only`].
pub const DARWIN: &str = "darwin";

/// An option namespace that exists on one machine class only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformOnly {
    /// The option path, one attribute name per element (`["services", "yabai"]`).
    pub path: Vec<String>,
    /// `"nixos"` or `"darwin"`: the class on which the namespace exists.
    pub only: String,
    /// Where the fact comes from, for humans: the declaring repository, file and revision, then
    /// the files that show the namespace absent on the other class.
    pub source: String,
    pub note: Option<String>,
}

impl PlatformOnly {
    /// The path written with dots, as Nix prints option names.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }

    /// The class on which the namespace does not exist.
    pub fn unavailable_on(&self) -> &'static str {
        if self.only == NIXOS {
            DARWIN
        } else {
            NIXOS
        }
    }
}

/// Every entry of the table, in file order.
pub fn entries() -> &'static [PlatformOnly] {
    static TABLE: OnceLock<Vec<PlatformOnly>> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse(EMBEDDED)
            .expect("the embedded platform-options.json is valid (the platform unit tests load it)")
    })
}

/// The entry covering an option definition path (the entry's path is a prefix of `path`), if
/// any. When several entries are prefixes, the longest wins.
pub fn platform_only(path: &[&str]) -> Option<&'static PlatformOnly> {
    // Every definition of every configuration is looked up: by first name, not by a scan.
    static BY_FIRST: OnceLock<rustc_hash::FxHashMap<&'static str, Vec<&'static PlatformOnly>>> =
        OnceLock::new();
    let by_first = BY_FIRST.get_or_init(|| {
        let mut m: rustc_hash::FxHashMap<&str, Vec<&PlatformOnly>> = Default::default();
        for e in entries() {
            if let Some(first) = e.path.first() {
                m.entry(first.as_str()).or_default().push(e);
            }
        }
        m
    });
    let first = path.first()?;
    by_first
        .get(first)?
        .iter()
        .copied()
        .filter(|e| is_prefix(&e.path, path))
        .max_by_key(|e| e.path.len())
}

fn is_prefix(prefix: &[String], path: &[&str]) -> bool {
    prefix.len() <= path.len() && prefix.iter().zip(path).all(|(a, b)| a == b)
}

// ---------------------------------------------------------------------------------------------
// The file as written.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    format: u32,
    #[allow(dead_code)]
    doc: String,
    sources: Vec<RawSource>,
    entries: Vec<RawEntry>,
    #[serde(default)]
    rejected: Vec<RawRejected>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: String,
    repo: String,
    path: String,
    revision: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    path: String,
    only: String,
    source: String,
    absent_from: Vec<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRejected {
    path: String,
    #[allow(dead_code)]
    reason: String,
    #[serde(default)]
    sources: Vec<String>,
}

fn split_path(dotted: &str) -> Result<Vec<String>, String> {
    let parts: Vec<String> = dotted.split('.').map(str::to_owned).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("option path `{dotted}` has an empty segment"));
    }
    Ok(parts)
}

fn describe_source(s: &RawSource) -> String {
    let rev: String = s.revision.chars().take(12).collect();
    format!("{} {} @ {}", s.repo, s.path, rev)
}

fn parse(text: &str) -> Result<Vec<PlatformOnly>, String> {
    let raw: RawFile =
        serde_json::from_str(text).map_err(|e| format!("platform-options.json: {e}"))?;
    if raw.format != 1 {
        return Err(format!(
            "platform-options.json: format {} is not supported (expected 1)",
            raw.format
        ));
    }

    let mut sources: BTreeMap<&str, &RawSource> = BTreeMap::new();
    for s in &raw.sources {
        if s.repo.is_empty() || s.path.is_empty() || s.revision.is_empty() {
            return Err(format!("source `{}` lacks a repo, path or revision", s.id));
        }
        if sources.insert(s.id.as_str(), s).is_some() {
            return Err(format!("source id `{}` is defined twice", s.id));
        }
    }
    let lookup = |id: &str, what: &str| -> Result<&RawSource, String> {
        sources
            .get(id)
            .copied()
            .ok_or_else(|| format!("{what} names unknown source `{id}`"))
    };

    let mut out = Vec::with_capacity(raw.entries.len());
    let mut seen = BTreeSet::new();
    for e in &raw.entries {
        let what = format!("entry `{}`", e.path);
        if e.only != NIXOS && e.only != DARWIN {
            return Err(format!(
                "{what}: only must be \"nixos\" or \"darwin\", not \"{}\"",
                e.only
            ));
        }
        let path = split_path(&e.path)?;
        if !seen.insert(path.clone()) {
            return Err(format!("{what} is listed twice"));
        }
        if e.absent_from.is_empty() {
            return Err(format!("{what}: absent_from must name at least one source"));
        }
        let declared = describe_source(lookup(&e.source, &what)?);
        let absent = e
            .absent_from
            .iter()
            .map(|id| lookup(id, &what).map(describe_source))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(PlatformOnly {
            path,
            only: e.only.clone(),
            source: format!(
                "declared in {declared}; not declared in {}",
                absent.join(", ")
            ),
            note: e.note.clone(),
        });
    }

    for r in &raw.rejected {
        let what = format!("rejected `{}`", r.path);
        split_path(&r.path)?;
        for id in &r.sources {
            lookup(id, &what)?;
        }
    }

    for a in &out {
        for b in &out {
            if a.only != b.only && a.path.len() <= b.path.len() && b.path.starts_with(&a.path) {
                return Err(format!(
                    "entry `{}` ({}) is a prefix of entry `{}` ({})",
                    a.dotted(),
                    a.only,
                    b.dotted(),
                    b.only
                ));
            }
        }
    }

    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_of(path: &[&str]) -> Option<&'static str> {
        platform_only(path).map(|e| e.only.as_str())
    }

    #[test]
    fn the_file_parses() {
        let parsed = parse(EMBEDDED).expect("platform-options.json parses");
        assert!(!parsed.is_empty());
        assert_eq!(entries().len(), parsed.len());
    }

    #[test]
    fn every_only_is_a_class() {
        for e in entries() {
            assert!(
                e.only == NIXOS || e.only == DARWIN,
                "{}: only = {}",
                e.dotted(),
                e.only
            );
        }
    }

    #[test]
    fn every_entry_names_its_sources() {
        for e in entries() {
            assert!(e.source.starts_with("declared in "), "{}", e.source);
            assert!(e.source.contains(" @ "), "{}", e.source);
            assert!(e.source.contains("; not declared in "), "{}", e.source);
        }
    }

    #[test]
    fn darwin_only_namespaces() {
        assert_eq!(only_of(&["homebrew", "enable"]), Some(DARWIN));
        assert_eq!(only_of(&["homebrew"]), Some(DARWIN));
        assert_eq!(
            only_of(&["launchd", "daemons", "x", "serviceConfig"]),
            Some(DARWIN)
        );
        assert_eq!(
            only_of(&["system", "defaults", "dock", "autohide"]),
            Some(DARWIN)
        );
        assert_eq!(only_of(&["system", "primaryUser"]), Some(DARWIN));
        assert_eq!(only_of(&["services", "yabai", "enable"]), Some(DARWIN));
        assert_eq!(only_of(&["networking", "computerName"]), Some(DARWIN));
        assert_eq!(only_of(&["power", "sleep", "computer"]), Some(DARWIN));
        let e = platform_only(&["homebrew", "enable"]).unwrap();
        assert_eq!(e.unavailable_on(), NIXOS);
        assert_eq!(e.dotted(), "homebrew");
    }

    #[test]
    fn nixos_only_namespaces() {
        assert_eq!(only_of(&["boot", "loader", "grub", "enable"]), Some(NIXOS));
        assert_eq!(
            only_of(&["systemd", "services", "foo", "serviceConfig"]),
            Some(NIXOS)
        );
        assert_eq!(only_of(&["fileSystems", "/", "device"]), Some(NIXOS));
        assert_eq!(
            only_of(&["networking", "firewall", "allowedTCPPorts"]),
            Some(NIXOS)
        );
        assert_eq!(
            only_of(&["services", "openssh", "settings", "PasswordAuthentication"]),
            Some(NIXOS)
        );
        assert_eq!(only_of(&["disko", "devices"]), Some(NIXOS));
        assert_eq!(only_of(&["users", "mutableUsers"]), Some(NIXOS));
        let e = platform_only(&["boot", "loader", "grub", "enable"]).unwrap();
        assert_eq!(e.unavailable_on(), DARWIN);
    }

    #[test]
    fn shared_namespaces_are_not_covered() {
        for path in [
            &["environment", "systemPackages"][..],
            &["nix", "settings"],
            &["users", "users", "x", "home"],
            &["services", "openssh", "enable"],
            &["services", "openssh", "extraConfig"],
            &["services", "openssh", "hostKeys"],
            &["networking", "hostName"],
            &["networking"],
            &["system", "activationScripts", "postActivation", "text"],
            &["system", "stateVersion"],
            &["power", "ups", "enable"],
            &["security", "sudo", "extraConfig"],
            &["security", "pam", "services", "sudo_local", "touchIdAuth"],
            &["programs", "zsh", "enable"],
            &["time", "timeZone"],
        ] {
            assert_eq!(platform_only(path), None, "{path:?}");
        }
    }

    #[test]
    fn a_prefix_must_match_whole_segments() {
        // `bootstrap` is not under `boot`, nor `hardwareX` under `hardware`.
        assert_eq!(platform_only(&["bootstrap"]), None);
        assert_eq!(platform_only(&["services", "yabaiX"]), None);
    }

    #[test]
    fn no_entry_is_a_prefix_of_another_with_a_different_class() {
        let all = entries();
        for a in all {
            for b in all {
                if b.path.starts_with(&a.path) {
                    assert_eq!(a.only, b.only, "{} vs {}", a.dotted(), b.dotted());
                }
            }
        }
    }

    #[test]
    fn the_longest_prefix_wins() {
        let good = r#"{ "format": 1, "doc": "",
            "sources": [ { "id": "s", "repo": "r", "path": "p", "revision": "0123456789abcdef" } ],
            "entries": [
              { "path": "a", "only": "nixos", "source": "s", "absent_from": ["s"] },
              { "path": "a.b", "only": "nixos", "source": "s", "absent_from": ["s"], "note": "inner" }
            ] }"#;
        let parsed = parse(good).unwrap();
        let hit = parsed
            .iter()
            .filter(|e| is_prefix(&e.path, &["a", "b", "c"]))
            .max_by_key(|e| e.path.len())
            .unwrap();
        assert_eq!(hit.note.as_deref(), Some("inner"));
        assert_eq!(
            parsed[0].source,
            "declared in r p @ 0123456789ab; not declared in r p @ 0123456789ab"
        );
    }

    #[test]
    fn bad_files_are_refused() {
        let base = |entries: &str| {
            format!(
                r#"{{ "format": 1, "doc": "",
                  "sources": [ {{ "id": "s", "repo": "r", "path": "p", "revision": "abc" }} ],
                  "entries": [ {entries} ] }}"#
            )
        };
        // an `only` that is not a class
        assert!(parse(&base(
            r#"{ "path": "a", "only": "linux", "source": "s", "absent_from": ["s"] }"#
        ))
        .is_err());
        // an unknown source
        assert!(parse(&base(
            r#"{ "path": "a", "only": "nixos", "source": "t", "absent_from": ["s"] }"#
        ))
        .is_err());
        // conflicting prefixes
        assert!(parse(&base(
            r#"{ "path": "a", "only": "nixos", "source": "s", "absent_from": ["s"] },
               { "path": "a.b", "only": "darwin", "source": "s", "absent_from": ["s"] }"#
        ))
        .is_err());
        // a duplicate
        assert!(parse(&base(
            r#"{ "path": "a", "only": "nixos", "source": "s", "absent_from": ["s"] },
               { "path": "a", "only": "nixos", "source": "s", "absent_from": ["s"] }"#
        ))
        .is_err());
        // an empty segment
        assert!(parse(&base(
            r#"{ "path": "a..b", "only": "nixos", "source": "s", "absent_from": ["s"] }"#
        ))
        .is_err());
        // an unknown field
        assert!(parse(&base(
            r#"{ "path": "a", "only": "nixos", "source": "s", "absent_from": ["s"], "x": 1 }"#
        ))
        .is_err());
    }
}
