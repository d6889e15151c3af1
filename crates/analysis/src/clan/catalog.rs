//! The built-in clan-core service catalog: for every service clan-core ships (`module.input`
//! null), its roles, role settings, cardinality constraints, darwin support, deprecation and the
//! vars generators each role creates — keyed by clan-core version, because several of these
//! facts changed over time.
//!
//! The data lives in `crates/analysis/data/clan-services.json`, embedded with `include_str!` and
//! parsed once ([`catalog`]). A unit test loads the whole file, so the `expect` on the embedded
//! file can never fire at run time.
//!
//! # Versions and eras
//!
//! A clan-core version is the `lastModified` (unix seconds) of the clan-core input in
//! `flake.lock`. [`Catalog::at`] gives a [`CatalogView`] for one version (`None` = the newest
//! known, clan-core HEAD d7c35d9127af of 2026-08-22).
//!
//! Facts that changed are tied to named **boundaries** (`boundaries` in the file). A boundary has
//! either a known commit date, or only a date by which it had certainly happened (`known_by`,
//! the HEAD the reference was read at). A boundary's state for a version is three-valued:
//! - known date `D`: not yet in effect before `D − 1 day`, in effect from `D + 2 days`, and
//!   **uncertain** in between (the margin covers time zones and the delay between a commit and
//!   the main-branch commit a user locks);
//! - unknown date (`"since": null`): in effect from `known_by + 2 days`, uncertain before.
//!
//! The newest view (`None`) has every boundary in effect. [`CatalogView::with_assumption`] fixes a
//! boundary's state, so a check can evaluate both sides of an uncertain boundary and report only
//! what holds on both ([`CatalogView::uncertain_boundaries`] lists them).
//!
//! An item (role, option, generator, constraint, status) may carry `"since": "<boundary>"` (holds
//! once the boundary is in effect) and `"until": "<boundary>"` (holds while it is not). An item
//! without either holds for every version the analyzer meets. Uncertain items are never dropped
//! silently: roles become `certain: false`, generators move to
//! [`RoleSpec::possible_generators`], option lists stop being complete, statuses make
//! [`ServiceSpec::status_certain`] false. The rule the checks follow: what is uncertain produces
//! no diagnostic.
//!
//! # File layout (`format: 1`)
//!
//! ```text
//! {
//!   "format": 1, "doc": "...",
//!   "sources":    [ { "id", "revision", "date", "what" } ],          // where each fact was read
//!   "boundaries": { "<id>": { "what", "date": "YYYY-MM-DD"|null, "since": <unix>|null,
//!                             "commit"?, "known_by"?: "YYYY-MM-DD", "note"?, "source" } },
//!   "machine_generators": [ { "name", "class", "since": "YYYY-MM-DD", "commit",
//!                             "enabled_by", "source" } ],   // declared by clan-core itself
//!   "field_deprecations": [ { "path": "meta.tld", "replacement", "message" (verbatim),
//!                             "since": "<boundary>", "source" } ],   // clan configuration fields
//!   "services": {
//!     "<module.name>": {
//!       "manifest_name": "clan-core/zerotier" | null, "description"?, "sources": [ids],
//!       "darwin": "never" | "n/a" | "since:<boundary>",   // n/a: the service has no machine modules
//!       "deprecated"? / "removed"?: { "message", "verbatim", "migration"?, since?, until?, "source" },
//!       "max_instances"?: n, "notes"?: [..],
//!       "exclusive_roles"?: [ { "roles": [a, b], "message", "note"?, since?, until?, "source" } ],
//!       "deploy_order"?: [ { "first": "<role>", "then": ["<role>", ..], "why", "source" } ],
//!       "roles": { "<role>": {
//!           "description"?, since?, until?, "source", "removed"?: {status},
//!           "options": { "<path.relative.to.settings>": { "type": "<OptType>",
//!                         "default"?: json | "required"?: true | "default_from"?: "instance",
//!                         since?, until?, "note"?, "source" } },
//!           "options_complete_since"?: "<boundary>" | "always",
//!           "cardinality"?: [ { "min"?, "max"?, since?, until?, "note", "source" } ],
//!           "generators"?: [generator] } },
//!       "generators"?: [generator]        // created for every machine holding any role
//!     } } }
//! generator = { "name": "<template>", "share"?: false, "files": [ { "name": "<template>",
//!               "secret"?: true, "deploy"?: true, "needed_for"?: "services", "condition"?,
//!               "note"? } ],
//!               "files_complete"?: true, "condition"?, "for_each"?: "settings.<path>",
//!               "each_defaults"?: { key: json }, "inferred"?: false, since?, until?, "note"?,
//!               "source" }
//! ```
//!
//! `deploy_order` says which roles' machines the configuration of other roles of the same
//! instance depends on (a generator of theirs, their addresses): `first` is deployed before
//! `then` (see [`crate::clan::deploy_order`]); `why` is a clause for the operator.
//!
//! Option paths are dotted attribute paths below `settings` (`certificate.searchDomains`); a
//! settings attrset whose path is a proper prefix of an option path is an option group. Types are
//! in the [`OptType::parse`] language. An option with neither `default` nor `required` has an
//! unknown default and is treated as not required. An option list is complete (unknown settings
//! keys may be reported) only from `options_complete_since` on, and only where every option of
//! the role is certain. `inferred` generators (read from an older revision, or an inference) are
//! always only *possible*.
//!
//! # Name templates
//!
//! Generator and file names are literal text with placeholders in braces: `{machine}`,
//! `{instance}`, `{key}` (the attribute name in a `for_each` generator), `{settings.<path>}` and
//! `{each.<path>}` (a field of the `for_each` entry). `{a|b}` takes the first alternative that is
//! set: `user-password-{settings.user|instance}`. A value that is unknown, or missing with no
//! alternative left, makes the whole name unknown (`None`).
//!
//! # Condition mini-language
//!
//! ```text
//! cond    := and ( "||" and )*
//! and     := unary ( "&&" unary )*
//! unary   := "!" unary | "(" cond ")" | "true" | "false"
//!          | "nonEmpty(" path ")" | path [ ("==" | "!=") literal ]
//! path    := ("settings" | "each") ( "." name )+          name := [A-Za-z0-9_-]+
//! literal := a JSON string, number, true, false or null
//! ```
//!
//! A bare path is true when the value is `true` (a non-boolean is unknown); `nonEmpty` is true for
//! a non-empty list, attrset or string and false for null. A setting that is not set takes the
//! option's default; with no default known, it is unknown. Logic is three-valued (`false && ?` is
//! false, `true || ?` is true). A settings value that the caller cannot know is written as the
//! object `{"$unknown": true}` ([`UNKNOWN_VALUE_KEY`]); it is never replaced by a default.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::options::types::{OptType, OptionSpec};
use crate::vars::model::NeededFor;

/// The embedded data file.
const EMBEDDED: &str = include_str!("../../data/clan-services.json");

/// A settings value the caller cannot know is the JSON object `{"$unknown": true}`.
pub const UNKNOWN_VALUE_KEY: &str = "$unknown";

const DAY: i64 = 86_400;
/// The newest version the data describes: clan-core HEAD d7c35d9127af.
pub const NEWEST_REVISION: &str = "d7c35d9127af3f773b57d8e792818597a9aaa29c";

/// The catalog, parsed once from the embedded file.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        Catalog::from_json(EMBEDDED)
            .expect("the embedded clan-services.json is valid (the catalog unit tests load it)")
    })
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
    boundaries: BTreeMap<String, RawBoundary>,
    #[serde(default)]
    machine_generators: Vec<RawMachineGenerator>,
    #[serde(default)]
    field_deprecations: Vec<RawFieldDeprecation>,
    services: BTreeMap<String, RawService>,
}

/// A field of the clan configuration (`meta.tld`) clan-core deprecated, with the warning it
/// prints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFieldDeprecation {
    /// Dotted path below the clan (`meta.tld`); clan-core reads `meta` both as `clan.meta` and
    /// as `clan.inventory.meta`.
    path: String,
    replacement: String,
    /// What clan-core prints, verbatim.
    message: String,
    /// The boundary from which clan-core warns.
    since: String,
    source: String,
}

/// A deprecated field of the clan configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDeprecation {
    pub path: String,
    pub replacement: String,
    /// The warning clan-core prints, verbatim.
    pub message: String,
}

/// A generator clan-core's own machine modules (`nixosModules/clanCore`) declare, enabled by an
/// option of the machine's configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMachineGenerator {
    name: String,
    class: String,
    /// The commit date of the commit that added it.
    since: String,
    #[allow(dead_code)]
    commit: String,
    #[allow(dead_code)]
    enabled_by: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: String,
    revision: String,
    date: String,
    what: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoundary {
    what: String,
    date: Option<String>,
    since: Option<i64>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    known_by: Option<String>,
    #[serde(default)]
    note: Option<String>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    manifest_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    sources: Vec<String>,
    darwin: String,
    #[serde(default)]
    deprecated: Option<RawStatus>,
    #[serde(default)]
    removed: Option<RawStatus>,
    #[serde(default)]
    max_instances: Option<u32>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    exclusive_roles: Vec<RawExclusive>,
    #[serde(default)]
    deploy_order: Vec<RawDeployOrder>,
    roles: BTreeMap<String, RawRole>,
    #[serde(default)]
    generators: Vec<RawGenerator>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatus {
    message: String,
    verbatim: bool,
    #[serde(default)]
    migration: Option<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeployOrder {
    first: String,
    then: Vec<String>,
    why: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExclusive {
    roles: [String; 2],
    message: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    source: String,
    #[serde(default)]
    removed: Option<RawStatus>,
    #[serde(default)]
    options: BTreeMap<String, RawOption>,
    #[serde(default)]
    options_complete_since: Option<String>,
    #[serde(default)]
    cardinality: Vec<RawCardinality>,
    #[serde(default)]
    generators: Vec<RawGenerator>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    default: Option<Value>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    default_from: Option<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCardinality {
    #[serde(default)]
    min: Option<u32>,
    #[serde(default)]
    max: Option<u32>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    note: String,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGenerator {
    name: String,
    #[serde(default)]
    share: bool,
    files: Vec<RawGenFile>,
    #[serde(default = "yes")]
    files_complete: bool,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    for_each: Option<String>,
    #[serde(default)]
    each_defaults: BTreeMap<String, Value>,
    #[serde(default)]
    inferred: bool,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    note: Option<String>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGenFile {
    name: String,
    #[serde(default = "yes")]
    secret: bool,
    #[serde(default = "yes")]
    deploy: bool,
    /// clan-core's `neededFor`; unset is its default, `services`.
    #[serde(default)]
    needed_for: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

fn yes() -> bool {
    true
}

/// When an item holds: from a boundary on (`since`), before a boundary (`until`), or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Era {
    since: Option<String>,
    until: Option<String>,
}

impl Era {
    fn new(since: &Option<String>, until: &Option<String>) -> Era {
        Era {
            since: since.clone(),
            until: until.clone(),
        }
    }
    fn ids(&self) -> impl Iterator<Item = &str> {
        self.since
            .iter()
            .chain(self.until.iter())
            .map(String::as_str)
    }
}

// ---------------------------------------------------------------------------------------------
// The parsed catalog.

/// One named change in clan-core (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boundary {
    pub id: String,
    pub what: String,
    /// The commit date, when known.
    pub date: Option<String>,
    /// Midnight (UTC) of `date`, in unix seconds.
    pub since: Option<i64>,
    pub commit: Option<String>,
    /// For an unknown date: the day by which the change had certainly happened.
    pub known_by: Option<String>,
    pub note: Option<String>,
    known_by_secs: Option<i64>,
}

impl Boundary {
    /// In effect (`Some(true)`), not yet (`Some(false)`) or uncertain (`None`) for a version.
    pub fn state(&self, clan_core_last_modified: Option<i64>) -> Option<bool> {
        let Some(t) = clan_core_last_modified else {
            return Some(true);
        };
        if let Some(since) = self.since {
            if t < since - DAY {
                Some(false)
            } else if t >= since + 2 * DAY {
                Some(true)
            } else {
                None
            }
        } else if let Some(known_by) = self.known_by_secs {
            (t >= known_by + 2 * DAY).then_some(true)
        } else {
            None
        }
    }
}

#[derive(Debug)]
struct Source {
    id: String,
    revision: String,
    date: String,
    what: String,
}

#[derive(Debug)]
struct Status {
    note: StatusNote,
    era: Era,
}

#[derive(Debug)]
struct Exclusive {
    roles: [String; 2],
    message: String,
    era: Era,
}

#[derive(Debug)]
struct OptionEntry {
    spec: OptionSpec,
    default: Option<Value>,
    era: Era,
}

#[derive(Debug)]
struct Cardinality {
    min: Option<u32>,
    max: Option<u32>,
    note: String,
    era: Era,
}

#[derive(Debug)]
struct GeneratorEntry {
    spec: GeneratorSpec,
    each_defaults: BTreeMap<String, Value>,
    inferred: bool,
    era: Era,
}

#[derive(Debug)]
struct Role {
    description: Option<String>,
    era: Era,
    removed: Option<Status>,
    options: BTreeMap<String, OptionEntry>,
    /// `Some(None)` = complete in every version; `Some(Some(b))` = complete once `b` is in effect.
    options_complete: Option<Option<String>>,
    cardinality: Vec<Cardinality>,
    generators: Vec<GeneratorEntry>,
}

#[derive(Debug)]
enum Darwin {
    Never,
    NotApplicable,
    Since(String),
}

#[derive(Debug)]
struct Service {
    manifest_name: Option<String>,
    description: Option<String>,
    source: String,
    darwin: Darwin,
    deprecated: Option<Status>,
    removed: Option<Status>,
    max_instances: Option<u32>,
    notes: Vec<String>,
    exclusive_roles: Vec<Exclusive>,
    deploy_order: Vec<DeployOrderFact>,
    roles: BTreeMap<String, Role>,
    generators: Vec<GeneratorEntry>,
}

/// The parsed data file.
#[derive(Debug)]
pub struct Catalog {
    sources: Vec<Source>,
    boundaries: BTreeMap<String, Boundary>,
    /// `(name, class, since)` of the generators clan-core declares on machines itself.
    machine_generators: Vec<(String, String, i64)>,
    /// Deprecated fields of the clan configuration, with the boundary from which they warn.
    field_deprecations: Vec<(FieldDeprecation, String)>,
    /// Midnight of the date of [`NEWEST_REVISION`], the newest version the data was read from.
    newest: i64,
    services: BTreeMap<String, Service>,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Midnight UTC of `YYYY-MM-DD` in unix seconds.
fn parse_date(s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}` is not a YYYY-MM-DD date");
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (i64, i64, i64) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d) * DAY)
}

impl Catalog {
    /// Parses and validates a catalog file. The embedded one is loaded by [`catalog`].
    pub fn from_json(text: &str) -> Result<Catalog, String> {
        let raw: RawFile =
            serde_json::from_str(text).map_err(|e| format!("clan-services.json: {e}"))?;
        if raw.format != 1 {
            return Err(format!(
                "clan-services.json: unsupported format {}",
                raw.format
            ));
        }
        let mut sources = Vec::new();
        let mut source_ids = BTreeSet::new();
        for s in raw.sources {
            if !source_ids.insert(s.id.clone()) {
                return Err(format!("source `{}` is listed twice", s.id));
            }
            sources.push(Source {
                id: s.id,
                revision: s.revision,
                date: s.date,
                what: s.what,
            });
        }
        let check_source = |id: &str, at: &str| -> Result<(), String> {
            if source_ids.contains(id) {
                Ok(())
            } else {
                Err(format!("{at}: unknown source `{id}`"))
            }
        };

        let mut machine_generators = Vec::new();
        for g in raw.machine_generators {
            let at = format!("machine generator `{}`", g.name);
            check_source(&g.source, &at)?;
            let since = parse_date(&g.since).map_err(|e| format!("{at}: {e}"))?;
            machine_generators.push((g.name, g.class, since));
        }

        let mut field_deprecations = Vec::new();
        for f in raw.field_deprecations {
            let at = format!("field deprecation `{}`", f.path);
            check_source(&f.source, &at)?;
            if !raw.boundaries.contains_key(&f.since) {
                return Err(format!("{at}: unknown boundary `{}`", f.since));
            }
            field_deprecations.push((
                FieldDeprecation {
                    path: f.path,
                    replacement: f.replacement,
                    message: f.message,
                },
                f.since,
            ));
        }

        let mut boundaries = BTreeMap::new();
        for (id, b) in raw.boundaries {
            let at = format!("boundary `{id}`");
            check_source(&b.source, &at)?;
            let since = match (&b.date, b.since) {
                (Some(date), Some(since)) => {
                    let midnight = parse_date(date).map_err(|e| format!("{at}: {e}"))?;
                    if midnight != since {
                        return Err(format!(
                            "{at}: since {since} is not midnight of {date} ({midnight})"
                        ));
                    }
                    Some(since)
                }
                (None, None) => {
                    if b.note.is_none() {
                        return Err(format!("{at}: an unknown date needs a note"));
                    }
                    None
                }
                _ => return Err(format!("{at}: give both `date` and `since`, or neither")),
            };
            let known_by_secs = match &b.known_by {
                Some(d) => Some(parse_date(d).map_err(|e| format!("{at}: {e}"))?),
                None => None,
            };
            boundaries.insert(
                id.clone(),
                Boundary {
                    id,
                    what: b.what,
                    date: b.date,
                    since,
                    commit: b.commit,
                    known_by: b.known_by,
                    note: b.note,
                    known_by_secs,
                },
            );
        }
        let check_era = |era: &Era, at: &str| -> Result<(), String> {
            for id in era.ids() {
                if !boundaries.contains_key(id) {
                    return Err(format!("{at}: unknown boundary `{id}`"));
                }
            }
            Ok(())
        };
        let revision_of = |id: &str| -> String {
            sources
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.revision.clone())
                .unwrap_or_default()
        };
        let status = |s: RawStatus, at: &str| -> Result<Status, String> {
            check_source(&s.source, at)?;
            let era = Era::new(&s.since, &s.until);
            check_era(&era, at)?;
            Ok(Status {
                note: StatusNote {
                    message: s.message,
                    verbatim: s.verbatim,
                    migration: s.migration,
                },
                era,
            })
        };
        let generator = |g: RawGenerator, at: &str| -> Result<GeneratorEntry, String> {
            let at = format!("{at}, generator `{}`", g.name);
            check_source(&g.source, &at)?;
            let era = Era::new(&g.since, &g.until);
            check_era(&era, &at)?;
            parse_template(&g.name).map_err(|e| format!("{at}: {e}"))?;
            if let Some(c) = &g.condition {
                parse_condition(c).map_err(|e| format!("{at}: {e}"))?;
            }
            match &g.for_each {
                Some(p) => {
                    let rest = p.strip_prefix("settings.").ok_or_else(|| {
                        format!("{at}: for_each must be a `settings.` path, not `{p}`")
                    })?;
                    if rest.split('.').any(|s| !is_name(s)) {
                        return Err(format!("{at}: bad for_each path `{p}`"));
                    }
                }
                None if !g.each_defaults.is_empty() => {
                    return Err(format!("{at}: each_defaults without for_each"));
                }
                None => {
                    if uses_each(&g.name) {
                        return Err(format!("{at}: `each`/`key` placeholders without for_each"));
                    }
                }
            }
            let mut files = Vec::new();
            for f in g.files {
                parse_template(&f.name).map_err(|e| format!("{at}, file `{}`: {e}", f.name))?;
                if let Some(c) = &f.condition {
                    parse_condition(c).map_err(|e| format!("{at}, file `{}`: {e}", f.name))?;
                }
                let needed_for = match &f.needed_for {
                    None => NeededFor::default(),
                    Some(n) => NeededFor::parse(n).ok_or_else(|| {
                        format!("{at}, file `{}`: `{n}` is not a value of neededFor", f.name)
                    })?,
                };
                files.push(GeneratorFile {
                    name: f.name,
                    secret: f.secret,
                    deploy: f.deploy,
                    needed_for,
                    condition: f.condition,
                });
            }
            Ok(GeneratorEntry {
                spec: GeneratorSpec {
                    name_template: g.name,
                    share: g.share,
                    files,
                    files_complete: g.files_complete,
                    condition: g.condition,
                    for_each: g.for_each,
                    defaults: BTreeMap::new(),
                    note: g.note,
                    source: revision_of(&g.source),
                },
                each_defaults: g.each_defaults,
                inferred: g.inferred,
                era,
            })
        };

        let mut services = BTreeMap::new();
        for (name, s) in raw.services {
            let at = format!("service `{name}`");
            if s.sources.is_empty() {
                return Err(format!("{at}: no sources"));
            }
            for id in &s.sources {
                check_source(id, &at)?;
            }
            let darwin = match s.darwin.as_str() {
                "never" => Darwin::Never,
                "n/a" => Darwin::NotApplicable,
                other => match other.strip_prefix("since:") {
                    Some(b) if boundaries.contains_key(b) => Darwin::Since(b.to_owned()),
                    _ => return Err(format!("{at}: bad darwin value `{other}`")),
                },
            };
            let mut roles = BTreeMap::new();
            for (rname, r) in s.roles {
                let at = format!("{at}, role `{rname}`");
                check_source(&r.source, &at)?;
                let era = Era::new(&r.since, &r.until);
                check_era(&era, &at)?;
                let mut options = BTreeMap::new();
                for (path, o) in r.options {
                    let oat = format!("{at}, option `{path}`");
                    check_source(&o.source, &oat)?;
                    if path.split('.').any(|seg| !is_name(seg)) {
                        return Err(format!("{oat}: bad option path"));
                    }
                    let ty = OptType::parse(&o.ty).map_err(|e| format!("{oat}: {e}"))?;
                    if o.required && (o.default.is_some() || o.default_from.is_some()) {
                        return Err(format!("{oat}: required with a default"));
                    }
                    if let Some(from) = &o.default_from {
                        if from != "instance" {
                            return Err(format!("{oat}: default_from must be `instance`"));
                        }
                    }
                    let oera = Era::new(&o.since, &o.until);
                    check_era(&oera, &oat)?;
                    options.insert(
                        path,
                        OptionEntry {
                            spec: OptionSpec {
                                ty,
                                required: o.required,
                            },
                            default: o.default,
                            era: oera,
                        },
                    );
                }
                let options_complete = match r.options_complete_since.as_deref() {
                    None => None,
                    Some("always") => Some(None),
                    Some(b) if boundaries.contains_key(b) => Some(Some(b.to_owned())),
                    Some(b) => return Err(format!("{at}: unknown boundary `{b}`")),
                };
                let mut cardinality = Vec::new();
                for c in r.cardinality {
                    check_source(&c.source, &at)?;
                    let cera = Era::new(&c.since, &c.until);
                    check_era(&cera, &at)?;
                    if let (Some(min), Some(max)) = (c.min, c.max) {
                        if min > max {
                            return Err(format!("{at}: minMachines {min} > maxMachines {max}"));
                        }
                    }
                    cardinality.push(Cardinality {
                        min: c.min,
                        max: c.max,
                        note: c.note,
                        era: cera,
                    });
                }
                let mut generators = Vec::new();
                for g in r.generators {
                    generators.push(generator(g, &at)?);
                }
                let removed = match r.removed {
                    Some(st) => Some(status(st, &at)?),
                    None => None,
                };
                roles.insert(
                    rname,
                    Role {
                        description: r.description,
                        era,
                        removed,
                        options,
                        options_complete,
                        cardinality,
                        generators,
                    },
                );
            }
            let mut exclusive_roles = Vec::new();
            for x in s.exclusive_roles {
                check_source(&x.source, &at)?;
                let era = Era::new(&x.since, &x.until);
                check_era(&era, &at)?;
                for r in &x.roles {
                    if !roles.contains_key(r) {
                        return Err(format!("{at}: exclusive role `{r}` is not a role"));
                    }
                }
                exclusive_roles.push(Exclusive {
                    roles: x.roles,
                    message: x.message,
                    era,
                });
            }
            let mut deploy_order = Vec::new();
            for o in s.deploy_order {
                check_source(&o.source, &at)?;
                for r in std::iter::once(&o.first).chain(&o.then) {
                    if !roles.contains_key(r) {
                        return Err(format!("{at}: deploy_order role `{r}` is not a role"));
                    }
                }
                deploy_order.push(DeployOrderFact {
                    first: o.first,
                    then: o.then,
                    why: o.why,
                });
            }
            let mut generators = Vec::new();
            for g in s.generators {
                generators.push(generator(g, &at)?);
            }
            let deprecated = match s.deprecated {
                Some(st) => Some(status(st, &at)?),
                None => None,
            };
            let removed = match s.removed {
                Some(st) => Some(status(st, &at)?),
                None => None,
            };
            let source = s
                .sources
                .iter()
                .filter_map(|id| sources.iter().find(|x| &x.id == id))
                .map(|x| format!("{}: {}", x.revision, x.what))
                .collect::<Vec<_>>()
                .join("; ");
            services.insert(
                name,
                Service {
                    manifest_name: s.manifest_name,
                    description: s.description,
                    source,
                    darwin,
                    deprecated,
                    removed,
                    max_instances: s.max_instances,
                    notes: s.notes,
                    exclusive_roles,
                    deploy_order,
                    roles,
                    generators,
                },
            );
        }
        let newest = sources
            .iter()
            .find(|s| s.revision == NEWEST_REVISION)
            .ok_or_else(|| format!("no source is the newest revision {NEWEST_REVISION}"))
            .and_then(|s| parse_date(&s.date))?;
        Ok(Catalog {
            sources,
            boundaries,
            machine_generators,
            field_deprecations,
            newest,
            services,
        })
    }

    /// The view for a clan-core version (`lastModified` of the locked clan-core input, unix
    /// seconds); `None` = the newest known.
    pub fn at(&self, clan_core_last_modified: Option<i64>) -> CatalogView<'_> {
        CatalogView {
            cat: self,
            t: clan_core_last_modified,
            assume: BTreeMap::new(),
        }
    }

    /// Where the facts were read: `(revision, date, what)`.
    pub fn source_revisions(&self) -> Vec<(&str, &str, &str)> {
        self.sources
            .iter()
            .map(|s| (s.revision.as_str(), s.date.as_str(), s.what.as_str()))
            .collect()
    }

    /// Every known change, by id.
    pub fn boundaries(&self) -> impl Iterator<Item = &Boundary> {
        self.boundaries.values()
    }

    pub fn boundary(&self, id: &str) -> Option<&Boundary> {
        self.boundaries.get(id)
    }
}

// ---------------------------------------------------------------------------------------------
// Views.

/// A deprecation or removal notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusNote {
    pub message: String,
    /// The message is the text clan prints (otherwise a description of it).
    pub verbatim: bool,
    pub migration: Option<String>,
}

/// A built-in service as it is in one clan-core version.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    /// `module.name`, e.g. `zerotier`.
    pub name: String,
    /// `manifest.name`, e.g. `clan-core/zerotier` (used in clan's messages); `None` for a stub.
    pub manifest_name: Option<String>,
    pub description: Option<String>,
    /// Roles that exist, or may exist (`RoleSpec::certain == false`), in this version.
    pub roles: BTreeMap<String, RoleSpec>,
    /// Every role of this version is listed and certain: an unknown role may be reported.
    pub roles_complete: bool,
    /// Defines a darwinModule; `None` = unknown for this version, or not applicable
    /// (`machine_modules == false`).
    pub darwin: Option<bool>,
    /// The service gives machines modules at all (false: exports only, or only the instance's
    /// `extraModules`).
    pub machine_modules: bool,
    pub max_instances: Option<u32>,
    /// Roles one machine may not hold together in one instance: `(role, role, message)`, the
    /// message with `{machine}` and `{instance}` placeholders.
    pub exclusive_roles: Vec<(String, String, String)>,
    /// Roles whose machines go before other roles' machines of the same instance (only roles
    /// that exist in this version).
    pub deploy_order: Vec<DeployOrderFact>,
    pub deprecated: Option<StatusNote>,
    pub removed: Option<StatusNote>,
    /// False when whether the service is deprecated or removed depends on an uncertain boundary.
    pub status_certain: bool,
    pub notes: Vec<String>,
    /// Where the facts come from (revisions and files).
    pub source: String,
}

/// The machines of role `first` are deployed before those of the roles `then`, because `why`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOrderFact {
    pub first: String,
    pub then: Vec<String>,
    pub why: String,
}

/// One role of a service in one clan-core version.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpec {
    pub description: Option<String>,
    /// False when the role may not exist in this version, or may be a removed stub.
    pub certain: bool,
    /// Using the role fails with this assertion (e.g. data-mesher v1 roles).
    pub removed: Option<StatusNote>,
    /// Settings options by dotted path below `settings`.
    pub options: BTreeMap<String, OptionSpec>,
    /// Known defaults of the options, by the same paths.
    pub defaults: BTreeMap<String, Value>,
    /// The option list is the whole interface: unknown settings keys may be reported.
    pub options_complete: bool,
    pub min_machines: Option<u32>,
    pub max_machines: Option<u32>,
    /// Why the count is constrained and what enforces it.
    pub cardinality_note: Option<String>,
    /// Generators a machine holding this role certainly gets (subject to their conditions),
    /// including those the service creates for every member machine.
    pub generators: Vec<GeneratorSpec>,
    /// Generators it may get: their era is uncertain here, or they were inferred or read only
    /// from an older revision. Never report them missing; do not call them orphans either.
    pub possible_generators: Vec<GeneratorSpec>,
}

/// A vars generator a role creates.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorSpec {
    /// The generator name with placeholders (see the module docs).
    pub name_template: String,
    /// `vars/shared/<gen>` instead of `vars/per-machine/<m>/<gen>`.
    pub share: bool,
    pub files: Vec<GeneratorFile>,
    /// `files` lists every file of the generator.
    pub files_complete: bool,
    /// When the generator exists, in the condition language; `None` = always.
    pub condition: Option<String>,
    /// `settings.<path>`: one generator per attribute of that attrset (`{key}`, `each.*`).
    pub for_each: Option<String>,
    /// Defaults the condition uses for unset values: `settings.<path>` and `each.<path>`.
    pub defaults: BTreeMap<String, Value>,
    pub note: Option<String>,
    /// The clan-core revision (or other source) the generator was read from.
    pub source: String,
}

/// One file of a generator (clan's defaults: secret, deployed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorFile {
    /// The file name, possibly with placeholders.
    pub name: String,
    pub secret: bool,
    pub deploy: bool,
    pub needed_for: NeededFor,
    /// When the file exists, in the condition language.
    pub condition: Option<String>,
}

/// A generator with every placeholder and condition resolved for one machine and instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcreteGenerator {
    pub name: String,
    pub share: bool,
    pub files: Vec<ConcreteFile>,
    /// False when the spec's list is incomplete or a file's condition was unknown.
    pub files_complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcreteFile {
    pub name: String,
    pub secret: bool,
    pub deploy: bool,
    pub needed_for: NeededFor,
}

/// The catalog as it applies to one clan-core version.
#[derive(Debug, Clone)]
pub struct CatalogView<'a> {
    cat: &'a Catalog,
    t: Option<i64>,
    assume: BTreeMap<String, bool>,
}

type World<'w> = BTreeMap<&'w str, bool>;

fn cardinality_era(c: &Cardinality) -> &Era {
    &c.era
}

fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

impl<'a> CatalogView<'a> {
    /// The version this view is for (`None` = newest).
    pub fn clan_core_last_modified(&self) -> Option<i64> {
        self.t
    }

    /// The same view with a boundary's state fixed (in effect or not), e.g. to evaluate both
    /// sides of an uncertain boundary.
    pub fn with_assumption(&self, boundary: &str, in_effect: bool) -> CatalogView<'a> {
        let mut v = self.clone();
        v.assume.insert(boundary.to_owned(), in_effect);
        v
    }

    /// In effect (`Some(true)`), not yet (`Some(false)`), uncertain (`None`); `None` also for an
    /// unknown id.
    pub fn boundary(&self, id: &str) -> Option<bool> {
        self.state(id, &World::new())
    }

    /// The boundaries whose state is uncertain for this version.
    pub fn uncertain_boundaries(&self) -> Vec<&'a str> {
        self.cat
            .boundaries
            .keys()
            .filter(|id| self.boundary(id).is_none())
            .map(String::as_str)
            .collect()
    }

    fn state(&self, id: &str, world: &World<'_>) -> Option<bool> {
        if let Some(v) = world.get(id) {
            return Some(*v);
        }
        if let Some(v) = self.assume.get(id) {
            return Some(*v);
        }
        self.cat.boundaries.get(id).and_then(|b| b.state(self.t))
    }

    fn presence_in(&self, era: &Era, world: &World<'_>) -> Option<bool> {
        let from = match &era.since {
            None => Some(true),
            Some(b) => self.state(b, world),
        };
        let before = match &era.until {
            None => Some(true),
            Some(b) => self.state(b, world).map(|x| !x),
        };
        and3(from, before)
    }

    fn presence(&self, era: &Era) -> Option<bool> {
        self.presence_in(era, &World::new())
    }

    /// Resolves a field over variants that hold in different eras: the value every possible
    /// world agrees on (a world without an applicable variant gives `None`).
    fn agreed<T: Clone + PartialEq, V>(
        &self,
        variants: &[V],
        era: impl Fn(&V) -> &Era,
        field: impl Fn(&V) -> Option<T>,
    ) -> Option<T> {
        let mut unknown: Vec<&str> = variants
            .iter()
            .flat_map(|v| era(v).ids())
            .filter(|id| self.state(id, &World::new()).is_none())
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if unknown.len() > 8 {
            return None;
        }
        let mut agreed: Option<Option<T>> = None;
        for bits in 0u32..(1 << unknown.len()) {
            let world: World<'_> = unknown
                .iter()
                .enumerate()
                .map(|(i, id)| (*id, (bits & (1 << i)) != 0))
                .collect();
            let value = variants
                .iter()
                .find(|v| self.presence_in(era(v), &world) == Some(true))
                .and_then(&field);
            match &agreed {
                None => agreed = Some(value),
                Some(prev) if *prev == value => {}
                Some(_) => return None,
            }
        }
        agreed.flatten()
    }

    fn status(&self, s: &Option<Status>) -> (Option<StatusNote>, bool) {
        match s {
            None => (None, true),
            Some(st) => match self.presence(&st.era) {
                Some(true) => (Some(st.note.clone()), true),
                Some(false) => (None, true),
                None => (None, false),
            },
        }
    }

    /// Whether the version is newer than any the data was read from (with the same two-day
    /// margin as boundaries). What the data says exists still does, but what it says is absent
    /// — a service, a role, a setting, a darwin module — may have been added since: such a
    /// view claims no absence.
    pub fn beyond_newest(&self) -> bool {
        self.t.is_some_and(|t| t > self.cat.newest + 2 * DAY)
    }

    /// A built-in service by `module.name`, as it is in this version.
    pub fn service(&self, module_name: &str) -> Option<ServiceSpec> {
        let s = self.cat.services.get(module_name)?;
        let (deprecated, dep_certain) = self.status(&s.deprecated);
        let (removed, rem_certain) = self.status(&s.removed);
        let mut roles = BTreeMap::new();
        let mut roles_complete = rem_certain;
        for (name, r) in &s.roles {
            let exists = self.presence(&r.era);
            if exists == Some(false) {
                continue;
            }
            let (role_removed, removed_certain) = self.status(&r.removed);
            let certain = exists == Some(true) && removed_certain;
            roles_complete &= exists == Some(true);
            roles.insert(name.clone(), self.role(s, r, certain, role_removed));
        }
        let exclusive_roles = s
            .exclusive_roles
            .iter()
            .filter(|x| self.presence(&x.era) == Some(true))
            .filter(|x| {
                x.roles
                    .iter()
                    .all(|r| roles.get(r).is_some_and(|r| r.certain))
            })
            .map(|x| (x.roles[0].clone(), x.roles[1].clone(), x.message.clone()))
            .collect();
        let deploy_order = s
            .deploy_order
            .iter()
            .filter(|o| roles.contains_key(&o.first))
            .map(|o| DeployOrderFact {
                then: o
                    .then
                    .iter()
                    .filter(|r| roles.contains_key(*r))
                    .cloned()
                    .collect(),
                ..o.clone()
            })
            .collect();
        roles_complete &= !self.beyond_newest();
        let (darwin, machine_modules) = match &s.darwin {
            Darwin::Never if self.beyond_newest() => (None, true),
            Darwin::Never => (Some(false), true),
            Darwin::NotApplicable => (None, false),
            Darwin::Since(b) => (self.state(b, &World::new()), true),
        };
        Some(ServiceSpec {
            name: module_name.to_owned(),
            manifest_name: s.manifest_name.clone(),
            description: s.description.clone(),
            roles,
            roles_complete,
            darwin,
            machine_modules,
            max_instances: s.max_instances,
            exclusive_roles,
            deploy_order,
            deprecated,
            removed,
            status_certain: dep_certain && rem_certain,
            notes: s.notes.clone(),
            source: s.source.clone(),
        })
    }

    fn role(
        &self,
        service: &Service,
        r: &Role,
        certain: bool,
        removed: Option<StatusNote>,
    ) -> RoleSpec {
        let mut options = BTreeMap::new();
        let mut defaults = BTreeMap::new();
        let mut all_options_certain = true;
        for (path, o) in &r.options {
            match self.presence(&o.era) {
                Some(false) => continue,
                Some(true) => {}
                None => all_options_certain = false,
            }
            options.insert(path.clone(), o.spec.clone());
            if let Some(d) = &o.default {
                defaults.insert(path.clone(), d.clone());
            }
        }
        let options_complete = certain
            && all_options_certain
            && !self.beyond_newest()
            && match &r.options_complete {
                None => false,
                Some(None) => true,
                Some(Some(b)) => self.state(b, &World::new()) == Some(true),
            };
        let (min_machines, max_machines, cardinality_note) = if certain {
            let min = self.agreed(&r.cardinality, cardinality_era, |c| c.min);
            let max = self.agreed(&r.cardinality, cardinality_era, |c| c.max);
            let notes: Vec<&str> = r
                .cardinality
                .iter()
                .filter(|c| self.presence(&c.era) != Some(false))
                .map(|c| c.note.as_str())
                .collect();
            let note = (!notes.is_empty() && (min.is_some() || max.is_some()))
                .then(|| notes.join(" Or, depending on the clan-core version: "));
            (min, max, note)
        } else {
            (None, None, None)
        };
        let mut generators = Vec::new();
        let mut possible_generators = Vec::new();
        for g in r.generators.iter().chain(service.generators.iter()) {
            let present = self.presence(&g.era);
            if present == Some(false) {
                continue;
            }
            let mut spec = g.spec.clone();
            for (path, value) in &defaults {
                spec.defaults
                    .insert(format!("settings.{path}"), value.clone());
            }
            for (path, value) in &g.each_defaults {
                spec.defaults.insert(format!("each.{path}"), value.clone());
            }
            if present == Some(true) && certain && !g.inferred {
                generators.push(spec);
            } else {
                possible_generators.push(spec);
            }
        }
        RoleSpec {
            description: r.description.clone(),
            certain,
            removed,
            options,
            defaults,
            options_complete,
            min_machines,
            max_machines,
            cardinality_note,
            generators,
            possible_generators,
        }
    }

    /// Every built-in `module.name` (for did-you-mean), including stubs that only throw.
    /// The generators clan-core's own modules may declare on a machine of `class` in this
    /// version. Each is enabled by an option of the machine's configuration that infra-check
    /// does not decide (`clan.core.settings.state-version.enable`, on by default through
    /// `enableRecommendedDefaults`), so a machine only *may* get them: never missing, never an
    /// orphan. A version within a day of the commit that added one counts as having it.
    pub fn machine_generators(&self, class: &str) -> Vec<&'a str> {
        self.cat
            .machine_generators
            .iter()
            .filter(|(_, c, since)| c == class && self.t.is_none_or(|t| t + DAY >= *since))
            .map(|(name, _, _)| name.as_str())
            .collect()
    }

    /// The fields of the clan configuration this version certainly warns about.
    pub fn field_deprecations(&self) -> Vec<&'a FieldDeprecation> {
        self.cat
            .field_deprecations
            .iter()
            .filter(|(_, since)| self.boundary(since) == Some(true))
            .map(|(d, _)| d)
            .collect()
    }

    pub fn service_names(&self) -> Vec<String> {
        self.cat.services.keys().cloned().collect()
    }

    /// Whether the service defines a darwinModule in this version; `None` = unknown here, not a
    /// built-in, or not applicable (a service with no machine modules).
    pub fn supports_darwin(&self, module_name: &str) -> Option<bool> {
        self.service(module_name)?.darwin
    }

    /// `inventory.services` is removed (setting it throws).
    pub fn inventory_services_removed(&self) -> Option<bool> {
        self.boundary("inventory-services-removed")
    }

    /// `clan.core.facts` is removed.
    pub fn facts_removed(&self) -> Option<bool> {
        self.boundary("facts-removed")
    }

    /// The built-in `nixos`/`darwin` tags exist.
    pub fn builtin_os_tags(&self) -> Option<bool> {
        self.boundary("builtin-os-tags")
    }

    /// `manifest.constraints` exist and `clan vars generate` checks them.
    pub fn constraints_enforced(&self) -> Option<bool> {
        self.boundary("constraints")
    }
}

// ---------------------------------------------------------------------------------------------
// Name templates.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// Alternatives, each a root (`machine`, `instance`, `key`, `settings`, `each`) and a path.
    Hole(Vec<(String, Vec<String>)>),
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_ref(s: &str) -> Result<(String, Vec<String>), String> {
    let mut parts = s.split('.');
    let root = parts.next().unwrap_or_default().to_owned();
    let path: Vec<String> = parts.map(str::to_owned).collect();
    let ok = match root.as_str() {
        "machine" | "instance" | "key" => path.is_empty(),
        "settings" | "each" => !path.is_empty() && path.iter().all(|p| is_name(p)),
        _ => false,
    };
    if ok {
        Ok((root, path))
    } else {
        Err(format!("bad placeholder `{s}`"))
    }
}

fn parse_template(t: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Piece::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in `{t}`"))?;
        let alts = after[..close]
            .split('|')
            .map(|a| parse_ref(a.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Piece::Hole(alts));
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("stray `}}` in `{t}`"));
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_owned()));
    }
    Ok(out)
}

fn uses_each(t: &str) -> bool {
    parse_template(t).is_ok_and(|pieces| {
        pieces.iter().any(|p| match p {
            Piece::Hole(alts) => alts.iter().any(|(root, _)| root == "each" || root == "key"),
            Piece::Text(_) => false,
        })
    })
}

/// What placeholders and conditions are resolved against.
struct Ctx<'c> {
    machine: &'c str,
    instance: &'c str,
    settings: &'c Value,
    key: Option<&'c str>,
    each: Option<&'c Value>,
    defaults: &'c BTreeMap<String, Value>,
}

/// A looked-up value: set, not set, or set to something unknowable.
enum Lookup<'v> {
    Set(&'v Value),
    Unset,
    Unknown,
}

fn is_unknown_marker(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.contains_key(UNKNOWN_VALUE_KEY))
}

fn lookup<'v>(root: &'v Value, path: &[String]) -> Lookup<'v> {
    let mut cur = root;
    for seg in path {
        if is_unknown_marker(cur) {
            return Lookup::Unknown;
        }
        match cur {
            Value::Object(m) => match m.get(seg) {
                Some(v) => cur = v,
                None => return Lookup::Unset,
            },
            _ => return Lookup::Unknown,
        }
    }
    if is_unknown_marker(cur) {
        Lookup::Unknown
    } else {
        Lookup::Set(cur)
    }
}

impl Ctx<'_> {
    /// A `settings.*`/`each.*` value, falling back to the known default when unset.
    fn value(&self, root: &str, path: &[String]) -> Lookup<'_> {
        let base = match root {
            "settings" => Some(self.settings),
            "each" => self.each,
            _ => None,
        };
        let Some(base) = base else {
            return Lookup::Unknown;
        };
        match lookup(base, path) {
            Lookup::Unset => match self.defaults.get(&format!("{root}.{}", path.join("."))) {
                Some(d) => Lookup::Set(d),
                None => Lookup::Unset,
            },
            other => other,
        }
    }

    fn expand(&self, pieces: &[Piece]) -> Option<String> {
        let mut out = String::new();
        for p in pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Hole(alts) => out.push_str(&self.hole(alts)?),
            }
        }
        Some(out)
    }

    fn hole(&self, alts: &[(String, Vec<String>)]) -> Option<String> {
        for (root, path) in alts {
            match root.as_str() {
                "machine" => return Some(self.machine.to_owned()),
                "instance" => return Some(self.instance.to_owned()),
                "key" => return self.key.map(str::to_owned),
                _ => match self.value(root, path) {
                    Lookup::Set(Value::String(s)) => return Some(s.clone()),
                    Lookup::Set(Value::Number(n)) => return Some(n.to_string()),
                    Lookup::Set(_) | Lookup::Unknown => return None,
                    Lookup::Unset => continue,
                },
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Conditions.

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Const(bool),
    Truthy(String, Vec<String>),
    NonEmpty(String, Vec<String>),
    Compare(String, Vec<String>, Value, bool),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

struct CondParser<'s> {
    src: &'s str,
    pos: usize,
}

fn parse_condition(src: &str) -> Result<Cond, String> {
    let mut p = CondParser { src, pos: 0 };
    let c = p.or()?;
    p.skip_ws();
    if p.pos != src.len() {
        return Err(format!(
            "unexpected `{}` in condition `{src}`",
            &src[p.pos..]
        ));
    }
    Ok(c)
}

impl CondParser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }
    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }
    fn eat(&mut self, tok: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }
    fn err(&self, what: &str) -> String {
        format!(
            "expected {what} at `{}` in condition `{}`",
            self.rest(),
            self.src
        )
    }
    fn or(&mut self) -> Result<Cond, String> {
        let mut left = self.and()?;
        while self.eat("||") {
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Cond, String> {
        let mut left = self.unary()?;
        while self.eat("&&") {
            left = Cond::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Cond, String> {
        self.skip_ws();
        if self.rest().starts_with("!=") {
            return Err(self.err("a condition"));
        }
        if self.eat("!") {
            return Ok(Cond::Not(Box::new(self.unary()?)));
        }
        if self.eat("(") {
            let c = self.or()?;
            if !self.eat(")") {
                return Err(self.err("`)`"));
            }
            return Ok(c);
        }
        if self.eat("nonEmpty(") {
            let (root, path) = self.path()?;
            if !self.eat(")") {
                return Err(self.err("`)`"));
            }
            return Ok(Cond::NonEmpty(root, path));
        }
        let word = self.word();
        match word.as_str() {
            "true" => return Ok(Cond::Const(true)),
            "false" => return Ok(Cond::Const(false)),
            _ => {}
        }
        let (root, path) = split_path(&word).ok_or_else(|| self.err("a settings./each. path"))?;
        let negate = if self.eat("==") {
            false
        } else if self.eat("!=") {
            true
        } else {
            return Ok(Cond::Truthy(root, path));
        };
        self.skip_ws();
        let rest = self.rest();
        let (lit, used) = if rest.starts_with('"') {
            let mut de = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
            match de.next() {
                Some(Ok(v)) => (v, de.byte_offset()),
                _ => return Err(self.err("a JSON string")),
            }
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
                .unwrap_or(rest.len());
            match serde_json::from_str::<Value>(&rest[..len]) {
                Ok(v) => (v, len),
                Err(_) => return Err(self.err("a JSON literal")),
            }
        };
        self.pos += used;
        Ok(Cond::Compare(root, path, lit, negate))
    }
    fn word(&mut self) -> String {
        self.skip_ws();
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
            .unwrap_or(self.rest().len());
        let w = self.rest()[..len].to_owned();
        self.pos += len;
        w
    }
    fn path(&mut self) -> Result<(String, Vec<String>), String> {
        let w = self.word();
        split_path(&w).ok_or_else(|| self.err("a settings./each. path"))
    }
}

fn split_path(w: &str) -> Option<(String, Vec<String>)> {
    let (root, rest) = w.split_once('.')?;
    if root != "settings" && root != "each" {
        return None;
    }
    let path: Vec<String> = rest.split('.').map(str::to_owned).collect();
    path.iter()
        .all(|p| is_name(p))
        .then(|| (root.to_owned(), path))
}

impl Cond {
    fn eval(&self, ctx: &Ctx<'_>) -> Option<bool> {
        match self {
            Cond::Const(b) => Some(*b),
            Cond::Truthy(root, path) => match ctx.value(root, path) {
                Lookup::Set(Value::Bool(b)) => Some(*b),
                _ => None,
            },
            Cond::NonEmpty(root, path) => match ctx.value(root, path) {
                Lookup::Set(Value::Array(a)) => Some(!a.is_empty()),
                Lookup::Set(Value::Object(o)) => Some(!o.is_empty()),
                Lookup::Set(Value::String(s)) => Some(!s.is_empty()),
                Lookup::Set(Value::Null) => Some(false),
                _ => None,
            },
            Cond::Compare(root, path, lit, negate) => match ctx.value(root, path) {
                Lookup::Set(v) => Some((v == lit) != *negate),
                _ => None,
            },
            Cond::Not(c) => c.eval(ctx).map(|b| !b),
            Cond::And(a, b) => and3(a.eval(ctx), b.eval(ctx)),
            Cond::Or(a, b) => or3(a.eval(ctx), b.eval(ctx)),
        }
    }
}

fn eval_condition(cond: &Option<String>, ctx: &Ctx<'_>) -> Option<bool> {
    match cond {
        None => Some(true),
        Some(src) => parse_condition(src).ok()?.eval(ctx),
    }
}

impl GeneratorSpec {
    fn ctx<'c>(&'c self, machine: &'c str, instance: &'c str, settings: &'c Value) -> Ctx<'c> {
        Ctx {
            machine,
            instance,
            settings,
            key: None,
            each: None,
            defaults: &self.defaults,
        }
    }

    /// The generator's name for a machine and instance with the machine's merged settings;
    /// `None` when a placeholder's value is unknown, or for a `for_each` generator (use
    /// [`GeneratorSpec::expand`]).
    pub fn name_for(&self, machine: &str, instance: &str, settings: &Value) -> Option<String> {
        if self.for_each.is_some() {
            return None;
        }
        self.ctx(machine, instance, settings)
            .expand(&parse_template(&self.name_template).ok()?)
    }

    /// Whether the generator exists for these settings; `None` = unknown.
    pub fn applies(&self, settings: &Value) -> Option<bool> {
        eval_condition(&self.condition, &self.ctx("", "", settings))
    }

    /// The concrete generators (names, files) for a machine and instance; an empty list when
    /// the condition is false; `None` when anything needed is unknown.
    pub fn expand(
        &self,
        machine: &str,
        instance: &str,
        settings: &Value,
    ) -> Option<Vec<ConcreteGenerator>> {
        if !eval_condition(&self.condition, &self.ctx(machine, instance, settings))? {
            return Some(Vec::new());
        }
        self.expand_held(machine, instance, settings)
    }

    /// The names of the generators it gives when its condition holds, whether or not it does
    /// (for a condition that cannot be decided: the generators the machine may get); `None`
    /// when a name cannot be known.
    pub fn names_if_held(
        &self,
        machine: &str,
        instance: &str,
        settings: &Value,
    ) -> Option<Vec<String>> {
        let list = self.expand_held(machine, instance, settings)?;
        Some(list.into_iter().map(|g| g.name).collect())
    }

    fn expand_held(
        &self,
        machine: &str,
        instance: &str,
        settings: &Value,
    ) -> Option<Vec<ConcreteGenerator>> {
        let base = self.ctx(machine, instance, settings);
        let name = parse_template(&self.name_template).ok()?;
        let files: Vec<(Vec<Piece>, &GeneratorFile)> = self
            .files
            .iter()
            .map(|f| parse_template(&f.name).ok().map(|p| (p, f)))
            .collect::<Option<_>>()?;
        let one = |ctx: &Ctx<'_>| -> Option<ConcreteGenerator> {
            let mut out = ConcreteGenerator {
                name: ctx.expand(&name)?,
                share: self.share,
                files: Vec::new(),
                files_complete: self.files_complete,
            };
            for (pieces, f) in &files {
                match eval_condition(&f.condition, ctx) {
                    Some(true) => out.files.push(ConcreteFile {
                        name: ctx.expand(pieces)?,
                        secret: f.secret,
                        deploy: f.deploy,
                        needed_for: f.needed_for,
                    }),
                    Some(false) => {}
                    None => out.files_complete = false,
                }
            }
            Some(out)
        };
        let Some(each_path) = &self.for_each else {
            return Some(vec![one(&base)?]);
        };
        let (root, path) = split_path(each_path)?;
        let entries = match base.value(&root, &path) {
            Lookup::Set(Value::Object(m)) => m,
            _ => return None,
        };
        let mut out = Vec::new();
        for (key, entry) in entries {
            if is_unknown_marker(entry) {
                return None;
            }
            let ctx = Ctx {
                key: Some(key.as_str()),
                each: Some(entry),
                ..self.ctx(machine, instance, settings)
            };
            out.push(one(&ctx)?);
        }
        Some(out)
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The services of clan-core.md's table of built-in services.
    const TABLE: [&str; 31] = [
        "admin",
        "borgbackup",
        "certificates",
        "coredns",
        "data-mesher",
        "dm-dns",
        "dyndns",
        "emergency-access",
        "garage",
        "hello-world",
        "importer",
        "installer",
        "internet",
        "kde",
        "localbackup",
        "matrix-synapse",
        "monitoring",
        "mycelium",
        "ncps",
        "p2p-ssh-iroh",
        "packages",
        "pki",
        "sshd",
        "syncthing",
        "tor",
        "trusted-nix-caches",
        "users",
        "wifi",
        "wireguard",
        "yggdrasil",
        "zerotier",
    ];

    fn ts(date: &str) -> i64 {
        parse_date(date).unwrap()
    }

    fn names(gens: &[GeneratorSpec]) -> BTreeSet<&str> {
        gens.iter().map(|g| g.name_template.as_str()).collect()
    }

    #[test]
    fn the_embedded_file_loads_and_every_type_parses() {
        let cat = Catalog::from_json(EMBEDDED).unwrap();
        // Independently of the loader: every type string in the raw file parses.
        let raw: Value = serde_json::from_str(EMBEDDED).unwrap();
        let mut types = 0;
        for (svc, s) in raw["services"].as_object().unwrap() {
            for (role, r) in s["roles"].as_object().unwrap() {
                for (opt, o) in r
                    .get("options")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let ty = o["type"].as_str().unwrap();
                    OptType::parse(ty).unwrap_or_else(|e| panic!("{svc}.{role}.{opt}: {e}"));
                    types += 1;
                }
            }
        }
        assert!(types > 50, "{types}");
        assert!(std::ptr::eq(catalog(), catalog()));
        assert_eq!(cat.services.len(), catalog().at(None).service_names().len());
    }

    #[test]
    fn every_service_of_the_reference_table_is_present() {
        let view = catalog().at(None);
        let have = view.service_names();
        for name in TABLE {
            let s = view
                .service(name)
                .unwrap_or_else(|| panic!("missing {name}"));
            assert!(have.contains(&name.to_owned()));
            assert!(!s.source.is_empty(), "{name}");
        }
        assert_eq!(have.len(), TABLE.len());
        let zt = view.service("zerotier").unwrap();
        assert_eq!(zt.manifest_name.as_deref(), Some("clan-core/zerotier"));
        assert_eq!(
            zt.roles.keys().collect::<Vec<_>>(),
            ["controller", "moon", "peer"]
        );
        assert!(zt.roles_complete);
        assert!(view.service("nope").is_none());
    }

    #[test]
    fn zerotier_has_exactly_one_controller_and_at_most_four_moons() {
        for t in [
            None,
            Some(ts("2025-01-01")),
            Some(ts("2026-05-12")),
            Some(ts("2026-07-01")),
        ] {
            let zt = catalog().at(t).service("zerotier").unwrap();
            let c = &zt.roles["controller"];
            assert_eq!(
                (c.min_machines, c.max_machines),
                (Some(1), Some(1)),
                "{t:?}"
            );
            assert!(c
                .cardinality_note
                .as_deref()
                .unwrap()
                .contains("exactly one controller"));
        }
        let newest = catalog().at(None).service("zerotier").unwrap();
        assert_eq!(newest.roles["moon"].max_machines, Some(4));
        assert_eq!(newest.roles["moon"].min_machines, None);
        assert_eq!(newest.roles["peer"].max_machines, None);
        // Constraints did not exist before 2026-05-12: no moon limit then, none on its day.
        let before = catalog()
            .at(Some(ts("2026-03-01")))
            .service("zerotier")
            .unwrap();
        assert_eq!(before.roles["moon"].max_machines, None);
        assert!(before.roles["controller"]
            .cardinality_note
            .as_deref()
            .unwrap()
            .contains("head"));
        let on_the_day = catalog()
            .at(Some(ts("2026-05-12") + 3600))
            .service("zerotier")
            .unwrap();
        assert_eq!(on_the_day.roles["moon"].max_machines, None);
        assert_eq!(on_the_day.roles["controller"].max_machines, Some(1));
    }

    #[test]
    fn only_wireguard_supports_darwin_and_only_since_2025_11_26() {
        let newest = catalog().at(None);
        let early = catalog().at(Some(ts("2025-11-20")));
        let late = catalog().at(Some(ts("2025-12-15")));
        for name in TABLE {
            let (n, e) = (newest.supports_darwin(name), early.supports_darwin(name));
            if name == "wireguard" {
                assert_eq!(n, Some(true));
                assert_eq!(late.supports_darwin(name), Some(true));
            } else {
                assert_ne!(n, Some(true), "{name}");
                assert_ne!(late.supports_darwin(name), Some(true), "{name}");
            }
            assert_ne!(e, Some(true), "{name} before 2025-11-26");
        }
        assert_eq!(early.supports_darwin("wireguard"), Some(false));
        assert_eq!(newest.supports_darwin("zerotier"), Some(false));
        assert_eq!(
            newest.supports_darwin("internet"),
            None,
            "no machine modules at all"
        );
        let on_the_day = catalog().at(Some(ts("2025-11-26") + 7200));
        assert_eq!(on_the_day.supports_darwin("wireguard"), None);
    }

    #[test]
    fn zerotier_generator_names_differ_between_the_old_and_the_new_api() {
        fn roles<'a>(zt: &'a ServiceSpec, role: &str) -> BTreeSet<&'a str> {
            names(&zt.roles[role].generators)
        }
        // Old API (before 2026-03-30): one per-machine `zerotier` generator.
        let old = catalog().at(Some(ts("2025-06-01")));
        assert!(!old
            .uncertain_boundaries()
            .iter()
            .any(|b| b.starts_with("zerotier")));
        let old_zt = old.service("zerotier").unwrap();
        for role in ["peer", "moon", "controller"] {
            assert_eq!(roles(&old_zt, role), BTreeSet::from(["zerotier"]), "{role}");
            assert!(old_zt.roles[role].possible_generators.is_empty(), "{role}");
        }
        let controller = &old_zt.roles["controller"].generators;
        let files: Vec<&str> = controller[0]
            .files
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            files,
            [
                "zerotier-identity-secret",
                "zerotier-ip",
                "zerotier-network-id"
            ]
        );
        assert!(!controller[0].share);

        // On the day of a merge the state is uncertain: neither side is claimed.
        let on_the_day = catalog().at(Some(ts("2026-03-30") + 3600));
        assert!(on_the_day
            .uncertain_boundaries()
            .contains(&"zerotier-shared-controller"));
        let zt = on_the_day.service("zerotier").unwrap();
        assert!(roles(&zt, "moon").is_empty());
        assert!(names(&zt.roles["moon"].possible_generators).contains("zerotier-controller"));

        // The shared controller layout of 2026 (#7165): vars/shared/zerotier-controller/….
        let mid = catalog().at(Some(ts("2026-04-15")));
        let zt = mid.service("zerotier").unwrap();
        assert_eq!(
            roles(&zt, "peer"),
            BTreeSet::from(["zerotier", "zerotier-controller"])
        );
        assert_eq!(
            roles(&zt, "controller"),
            BTreeSet::from(["zerotier", "zerotier-controller"])
        );
        assert_eq!(roles(&zt, "moon"), BTreeSet::from(["zerotier-controller"]));
        let shared = zt.roles["moon"]
            .generators
            .iter()
            .find(|g| g.name_template == "zerotier-controller")
            .unwrap();
        assert!(shared.share && shared.files_complete);
        let flags: Vec<(&str, bool, bool)> = shared
            .files
            .iter()
            .map(|f| (f.name.as_str(), f.secret, f.deploy))
            .collect();
        assert_eq!(
            flags,
            [
                ("zerotier-identity-secret", true, false),
                ("zerotier-ip", false, true),
                ("zerotier-network-id", false, true),
            ]
        );

        // Multi-instance (#7504, 2026-05-29) until all vars became shared (#7535, 2026-06-02).
        let multi = catalog().at(Some(ts("2026-05-31") + 43200));
        assert!(!multi
            .uncertain_boundaries()
            .iter()
            .any(|b| b.starts_with("zerotier")));
        let zt = multi.service("zerotier").unwrap();
        assert_eq!(
            roles(&zt, "peer"),
            BTreeSet::from([
                "zerotier-identity",
                "zerotier-ip-{instance}",
                "zerotier-network-{instance}"
            ])
        );
        assert_eq!(
            roles(&zt, "controller"),
            BTreeSet::from([
                "zerotier-identity",
                "zerotier-identity-{machine}",
                "zerotier-network-{instance}"
            ])
        );

        let new = catalog().at(None).service("zerotier").unwrap();
        let peer = &new.roles["peer"].generators;
        assert_eq!(
            names(peer),
            BTreeSet::from([
                "zerotier-identity-{machine}",
                "zerotier-ip-{machine}-{instance}",
                "zerotier-network-{instance}",
            ])
        );
        assert!(peer.iter().all(|g| g.share));
        assert!(names(&old_zt.roles["controller"].generators).is_disjoint(&names(peer)));
        let settings = json!({});
        let concrete: BTreeSet<String> = peer
            .iter()
            .map(|g| g.name_for("electrum", "zerotier", &settings).unwrap())
            .collect();
        assert!(concrete.contains("zerotier-identity-electrum"));
        assert!(concrete.contains("zerotier-ip-electrum-zerotier"));
        assert!(concrete.contains("zerotier-network-zerotier"));
        // A date well after HEAD is certain too.
        let later = catalog()
            .at(Some(ts("2026-09-01")))
            .service("zerotier")
            .unwrap();
        assert_eq!(names(&later.roles["peer"].generators), names(peer));
    }

    #[test]
    fn meta_tld_is_deprecated_from_november_2025() {
        let newest = catalog().at(None).field_deprecations();
        let tld = newest.iter().find(|d| d.path == "meta.tld").unwrap();
        assert_eq!(tld.replacement, "meta.domain");
        assert_eq!(
            tld.message,
            "`clan.meta.tld` has been deprecated in favor of `clan.meta.domain`. `clan.meta.tld` will be removed in the next release."
        );
        assert!(catalog()
            .at(Some(ts("2025-11-01")))
            .field_deprecations()
            .is_empty());
        // On the day of the merge it is uncertain, so not claimed.
        assert!(catalog()
            .at(Some(ts("2025-11-27")))
            .field_deprecations()
            .is_empty());
        assert_eq!(
            catalog()
                .at(Some(ts("2025-12-01")))
                .field_deprecations()
                .len(),
            1
        );
    }

    #[test]
    fn name_for_fills_machine_instance_and_settings() {
        let users = catalog().at(None).service("users").unwrap();
        let role = &users.roles["default"];
        let shared = role.generators.iter().find(|g| g.share).unwrap();
        let settings = json!({ "user": "crs58", "share": true });
        assert_eq!(
            shared
                .name_for("cinnabar", "user-crs58", &settings)
                .unwrap(),
            "user-password-crs58"
        );
        assert_eq!(shared.applies(&settings), Some(true));
        // `user` falls back to the instance name; `share` to its default (false).
        assert_eq!(
            shared.name_for("m", "alice", &json!({})).unwrap(),
            "user-password-alice"
        );
        assert_eq!(shared.applies(&json!({})), Some(false));
        let unknown = json!({ "user": { UNKNOWN_VALUE_KEY: true } });
        assert_eq!(shared.name_for("m", "alice", &unknown), None);
        assert_eq!(
            shared.applies(&json!({ "share": { UNKNOWN_VALUE_KEY: true } })),
            None
        );

        let ip = GeneratorSpec {
            name_template: "zerotier-ip-{machine}-{instance}".into(),
            share: true,
            files: vec![],
            files_complete: true,
            condition: None,
            for_each: None,
            defaults: BTreeMap::new(),
            note: None,
            source: String::new(),
        };
        assert_eq!(
            ip.name_for("galena", "zt", &json!({})).unwrap(),
            "zerotier-ip-galena-zt"
        );
        let per_user = GeneratorSpec {
            name_template: "x-{settings.a.b}".into(),
            ..ip
        };
        assert_eq!(
            per_user
                .name_for("m", "i", &json!({"a": {"b": "c"}}))
                .unwrap(),
            "x-c"
        );
        assert_eq!(per_user.name_for("m", "i", &json!({})), None);
    }

    #[test]
    fn conditions_use_defaults_and_three_valued_logic() {
        let sshd = catalog().at(None).service("sshd").unwrap();
        let server = &sshd.roles["server"];
        assert!(!server.options_complete);
        let ca = server
            .generators
            .iter()
            .find(|g| g.name_template == "openssh-ca")
            .unwrap();
        assert_eq!(
            ca.applies(&json!({})),
            Some(true),
            "certificate.enable defaults to true"
        );
        assert_eq!(
            ca.applies(&json!({"certificate": {"enable": false}})),
            Some(false)
        );
        let rsa = server
            .generators
            .iter()
            .find(|g| g.name_template == "openssh-rsa")
            .unwrap();
        assert_eq!(rsa.applies(&json!({})), Some(false));
        assert!(names(&server.possible_generators).contains("sshd-root-key"));
        // Before the unknown switch, the searchDomains variant applies.
        let old = catalog()
            .at(Some(ts("2025-06-01")))
            .with_assumption("sshd-certificate-enable", false);
        let old_server = old.service("sshd").unwrap().roles["server"].clone();
        let old_ca = old_server
            .generators
            .iter()
            .find(|g| g.name_template == "openssh-ca")
            .unwrap();
        assert_eq!(old_ca.applies(&json!({})), Some(false));
        assert_eq!(
            old_ca.applies(&json!({"certificate": {"searchDomains": ["zt"]}})),
            Some(true)
        );
        assert!(!old_server.options.contains_key("certificate.enable"));

        let c =
            parse_condition("settings.a && (each.b != \"none\" || !nonEmpty(settings.c))").unwrap();
        let defaults = BTreeMap::new();
        let settings = json!({"a": false});
        let ctx = Ctx {
            machine: "",
            instance: "",
            settings: &settings,
            key: None,
            each: None,
            defaults: &defaults,
        };
        assert_eq!(c.eval(&ctx), Some(false), "false && unknown");
        let settings = json!({"a": true, "c": []});
        let ctx = Ctx {
            settings: &settings,
            ..ctx
        };
        assert_eq!(c.eval(&ctx), Some(true), "unknown || true");
        for bad in [
            "",
            "settings",
            "foo.bar",
            "settings.a ==",
            "(settings.a",
            "settings.a == [1]",
            "!= 1",
        ] {
            assert!(parse_condition(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn for_each_generators_expand_per_entry() {
        let wifi = catalog().at(None).service("wifi").unwrap();
        let g = &wifi.roles["default"].generators[0];
        assert_eq!(g.name_for("m", "wifi", &json!({})), None);
        let settings = json!({"networks": {"home": {}, "cafe": {"keyMgmt": "none"}}});
        let out = g.expand("m", "wifi", &settings).unwrap();
        assert_eq!(out.len(), 2);
        let cafe = out.iter().find(|g| g.name == "wifi.cafe").unwrap();
        assert!(cafe.share);
        assert_eq!(
            cafe.files
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["network-name"]
        );
        let home = out.iter().find(|g| g.name == "wifi.home").unwrap();
        assert_eq!(home.files.len(), 2, "keyMgmt defaults to wpa-psk");
        assert_eq!(
            g.expand("m", "wifi", &json!({})).unwrap(),
            vec![],
            "networks defaults to {{}}"
        );
        assert_eq!(
            g.expand("m", "wifi", &json!({"networks": {UNKNOWN_VALUE_KEY: true}})),
            None
        );
    }

    #[test]
    fn eras_of_roles_statuses_and_global_facts() {
        let newest = catalog().at(None);
        let old = catalog().at(Some(ts("2025-01-01")));
        assert_eq!(newest.inventory_services_removed(), Some(true));
        assert_eq!(old.inventory_services_removed(), Some(false));
        assert_eq!(
            catalog()
                .at(Some(ts("2026-05-29")))
                .inventory_services_removed(),
            None
        );
        assert_eq!(old.facts_removed(), Some(false));
        assert_eq!(
            catalog().at(Some(ts("2025-12-10"))).facts_removed(),
            Some(true)
        );
        assert_eq!(
            catalog().at(Some(ts("2025-06-01"))).builtin_os_tags(),
            Some(true)
        );
        assert_eq!(
            catalog().at(Some(ts("2025-03-01"))).builtin_os_tags(),
            Some(false)
        );
        assert_eq!(old.constraints_enforced(), Some(false));
        assert_eq!(newest.constraints_enforced(), Some(true));

        let tor = newest.service("tor").unwrap();
        assert_eq!(tor.roles.keys().collect::<Vec<_>>(), ["client", "server"]);
        let old_tor = old.service("tor").unwrap();
        assert!(!old_tor.roles_complete);
        assert!(old_tor.roles.values().all(|r| !r.certain));

        let coredns = newest.service("coredns").unwrap();
        assert!(coredns
            .removed
            .as_ref()
            .unwrap()
            .message
            .contains("clan-community"));
        assert!(coredns.roles.is_empty() && coredns.status_certain);
        let old_coredns = old.service("coredns").unwrap();
        assert!(old_coredns.removed.is_none() && !old_coredns.status_certain);
        assert!(newest.service("admin").unwrap().deprecated.is_some());

        let dm = newest.service("data-mesher").unwrap();
        assert!(dm.roles["admin"].removed.is_some() && dm.roles["admin"].options.is_empty());
        assert!(dm.roles["bootstrap"].certain);

        let wg = newest.service("wireguard").unwrap();
        assert_eq!(wg.exclusive_roles.len(), 1);
        assert_eq!(
            (
                wg.exclusive_roles[0].0.as_str(),
                wg.exclusive_roles[0].1.as_str()
            ),
            ("controller", "peer")
        );
        let monitoring = newest.service("monitoring").unwrap();
        let server = &monitoring.roles["server"];
        assert_eq!(
            (server.min_machines, server.max_machines),
            (Some(1), Some(1))
        );
        assert_eq!(
            old.service("monitoring").unwrap().roles["server"].max_machines,
            None
        );
    }

    #[test]
    fn sources_are_recorded() {
        let revs = catalog().source_revisions();
        assert!(revs
            .iter()
            .any(|(rev, date, _)| *rev == NEWEST_REVISION && *date == "2026-08-22"));
        assert!(revs
            .iter()
            .all(|(rev, _, what)| !rev.is_empty() && !what.is_empty()));
        for b in catalog().boundaries() {
            assert!(b.since.is_some() || b.note.is_some(), "{}", b.id);
        }
        let wg = catalog().at(None).service("wireguard").unwrap();
        assert!(wg.roles["peer"]
            .generators
            .iter()
            .all(|g| g.source == NEWEST_REVISION));
    }

    #[test]
    fn bad_files_are_rejected() {
        let with = |patch: &dyn Fn(&mut Value)| {
            let mut v: Value = serde_json::from_str(EMBEDDED).unwrap();
            patch(&mut v);
            Catalog::from_json(&v.to_string())
        };
        assert!(with(&|_| {}).is_ok());
        assert!(with(
            &|v| v["services"]["zerotier"]["roles"]["peer"]["options"]["orbitMoons"]["type"] =
                json!("listOf")
        )
        .is_err());
        assert!(with(&|v| v["boundaries"]["constraints"]["since"] = json!(1)).is_err());
        assert!(
            with(&|v| v["services"]["tor"]["roles"]["server"]["since"] = json!("nope")).is_err()
        );
        assert!(with(
            &|v| v["services"]["users"]["roles"]["default"]["generators"][0]["name"] =
                json!("x-{nope}")
        )
        .is_err());
        assert!(with(
            &|v| v["services"]["users"]["roles"]["default"]["generators"][0]["condition"] =
                json!("settings.share ==")
        )
        .is_err());
        assert!(with(&|v| v["services"]["kde"]["typo"] = json!(1)).is_err());
        assert!(Catalog::from_json("{").is_err());
    }
}
