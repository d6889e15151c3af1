//! `infra-check vars`: the clan vars every machine needs, generator by generator and file by
//! file, with their state on disk (present, missing, not deployed, stale), whether the machine's
//! sops key is missing, and the `clan` commands that fix it. As a table grouped per machine for
//! people, or as JSON for scripts.
//!
//! Only which paths exist under `vars/` and `sops/` is looked at: no secret is ever read, so no
//! secret can be printed.
//!
//! # JSON schema, version 1
//!
//! ```text
//! {
//!   "version": 1,
//!   "machines": [                                 // sorted by name
//!     {
//!       "name": "argon",
//!       "complete": true,                         // false when some generators of the machine
//!                                                 // come from modules infra-check cannot read:
//!                                                 // the list may be incomplete
//!       "keyMissing": false,                      // the machine has secrets it decrypts but no
//!                                                 // sops/machines/<name>/key.json
//!       "generators": [                           // sorted by name
//!         {
//!           "name": "initrd-ssh",
//!           "shared": false,                      // share = true (vars/shared), false
//!                                                 // (vars/per-machine), or null (cannot be known)
//!           "directory": "vars/per-machine/argon/initrd-ssh", // null when `shared` is null
//!           "state": "present",                   // "present": the directory and every file;
//!                                                 // "missing": the directory does not exist;
//!                                                 // "incomplete": a file is missing or not
//!                                                 // deployed (see "files");
//!                                                 // "stale": the declared `validation` changed
//!                                                 // since the files were generated;
//!                                                 // "unknown": the directory cannot be known
//!           "source": {                           // where the machine gets the generator from
//!             "kind": "module",                   // "module" | "service"
//!             "owner": "flake.modules.nixos.initrd-ssh", // (module) the declaring module
//!             "instance": "sshd",                 // (service) the inventory instance,
//!             "role": "server",                   //   the role the machine holds in it,
//!             "service": "sshd",                  //   and the clan service it runs
//!             "file": "modules/system/initrd-ssh.nix", // the declaration (module) or the
//!             "line": 11                          // role assignment (service); 1-based line,
//!                                                 // null when unknown
//!           },
//!           "files": [                            // the files certain to exist, in declaration
//!                                                 // order; empty when the directory is missing
//!             {
//!               "name": "id_ed25519",
//!               "secret": true,                   // true | false | null (cannot be known)
//!               "deploy": true,                   // true | false | null (cannot be known)
//!               "neededFor": "services",          // "partitioning" | "activation" | "users" |
//!                                                 // "services" | null (cannot be known); only
//!                                                 // users and services secrets are decrypted
//!                                                 // by the machine and need its link
//!               "state": "present",               // "present" | "missing" | "not deployed"
//!               "path": "vars/per-machine/argon/initrd-ssh/id_ed25519/secret"
//!                                                 // the file, or the missing link
//!                                                 // `…/machines/<name>` when "not deployed"
//!             }
//!           ]
//!         }
//!       ],
//!       "commands": ["clan vars generate argon"]  // what to run to fix the machine (`clan vars
//!                                                 // fix` for per-machine secrets not encrypted
//!                                                 // for it); empty when
//!                                                 // nothing needs fixing
//!     }
//!   ]
//! }
//! ```
//!
//! - Every key is always present; `null` means the value cannot be known statically. In
//!   `source`, only the keys of its `kind` are present.
//! - A repository without a clan gives `{"version": 1, "machines": []}`.
//! - Keys may be added in later releases without changing `version`; a change to existing keys
//!   or their meaning increments it.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::ExitCode;

use infra_check_analysis::vars::resolve::Source;
use infra_check_analysis::vars::status::{FileState, GeneratorStatus, MachineStatus};
use infra_check_analysis::{Analysis, Location};
use serde::Serialize;

use crate::error::CliError;
use crate::text::{column_widths, plural, push_row};
use crate::{VarsArgs, VarsFormat};

/// The version of the schema above.
pub const SCHEMA_VERSION: u32 = 1;

/// Exit code when something needs `clan vars generate` or a machine key is missing.
const EXIT_NEEDS_FIX: u8 = 1;

pub fn run(args: &VarsArgs) -> Result<ExitCode, CliError> {
    let root = crate::workspace::resolve_root(&args.path)?;
    let loaded = crate::workspace::on_large_stack(move || load(&root))?;
    let machines = select(loaded.machines, &loaded.names, args.machine.as_deref())?;
    let text = match args.format {
        VarsFormat::Table => render_table(&machines),
        VarsFormat::Json => render_json(&machines)?,
    };
    crate::overview::finish(&text, &loaded.unreadable)?;
    Ok(if machines.iter().any(Machine::needs_fix) {
        ExitCode::from(EXIT_NEEDS_FIX)
    } else {
        ExitCode::SUCCESS
    })
}

/// What the analysis thread hands back.
struct Loaded {
    machines: Vec<Machine>,
    /// Every machine of the clan, also those whose vars cannot be known.
    names: Vec<String>,
    unreadable: Vec<(String, String)>,
}

/// A machine's vars, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Machine {
    status: MachineStatus,
    /// 1-based line of each generator's source, in the order of `status.generators`.
    lines: Vec<Option<u32>>,
    /// The machine's class cannot be known, so nothing is known about its generators.
    class_unknown: bool,
}

fn load(root: &std::path::Path) -> Result<Loaded, CliError> {
    let mut loaded = crate::workspace::load(root, "Analysing", &crate::StoreArgs::default())?;
    let analysis = &loaded.analysis;
    let statuses = analysis
        .vars_status()
        .map_err(crate::workspace::cancelled)?;
    let names: Vec<String> = analysis
        .overview()
        .map_err(crate::workspace::cancelled)?
        .machines
        .into_iter()
        .map(|m| m.name)
        .collect();
    let mut machines = Vec::new();
    for mut status in statuses {
        // Sorted by name for stable output; equal names keep their order.
        status
            .generators
            .sort_by(|a, b| a.needed.name.cmp(&b.needed.name));
        let lines = status
            .generators
            .iter()
            .map(|g| line_of(analysis, g.needed.source.location()))
            .collect::<Result<_, _>>()?;
        machines.push(Machine {
            status,
            lines,
            class_unknown: false,
        });
    }
    // A machine whose class cannot be known has no vars status; list it as unknown. (A set of
    // the listed names: searching the list for each name is quadratic in a large inventory.)
    let listed: BTreeSet<String> = machines.iter().map(|m| m.status.machine.clone()).collect();
    for name in &names {
        if !listed.contains(name) {
            machines.push(Machine {
                status: MachineStatus {
                    machine: name.clone(),
                    complete: false,
                    generators: Vec::new(),
                    needs_key: false,
                    has_key: false,
                },
                lines: Vec::new(),
                class_unknown: true,
            });
        }
    }
    machines.sort_by(|a, b| a.status.machine.cmp(&b.status.machine));
    loaded.progress.finish();
    Ok(Loaded {
        machines,
        names,
        unreadable: std::mem::take(&mut loaded.unreadable),
    })
}

/// The 1-based line of a declaration in a Nix file.
fn line_of(analysis: &Analysis, location: &Location) -> Result<Option<u32>, CliError> {
    // Sources are always Nix files; never look at anything else (such as a secret).
    if !location.file.ends_with(".nix") {
        return Ok(None);
    }
    let Some(text) = analysis.file_text(&location.file) else {
        return Ok(None);
    };
    let Some(index) = analysis
        .line_index(&location.file)
        .map_err(crate::workspace::cancelled)?
    else {
        return Ok(None);
    };
    Ok(Some(
        index.line_col_chars(&text, location.range.start).line + 1,
    ))
}

/// Every machine, or only `wanted`: an unknown name is a usage error with suggestions.
fn select(
    machines: Vec<Machine>,
    names: &[String],
    wanted: Option<&str>,
) -> Result<Vec<Machine>, CliError> {
    let Some(wanted) = wanted else {
        return Ok(machines);
    };
    let chosen: Vec<Machine> = machines
        .into_iter()
        .filter(|m| m.status.machine == wanted)
        .collect();
    if chosen.is_empty() {
        return Err(CliError::Usage(crate::suggest::unknown_machine_message(
            wanted, names,
        )));
    }
    Ok(chosen)
}

/// The state of one generator as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GenState {
    Present,
    Missing,
    Incomplete,
    Stale,
    /// Whether it is shared cannot be known, so neither is its directory.
    Unknown,
}

impl GenState {
    fn of(g: &GeneratorStatus) -> GenState {
        if g.directory.is_none() {
            GenState::Unknown
        } else if !g.exists {
            GenState::Missing
        } else if g.stale.is_some() {
            GenState::Stale
        } else if g.files.iter().any(|f| f.state != FileState::Present) {
            GenState::Incomplete
        } else {
            GenState::Present
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            GenState::Present => "present",
            GenState::Missing => "missing",
            GenState::Incomplete => "incomplete",
            GenState::Stale => "stale",
            GenState::Unknown => "unknown",
        }
    }

    fn needs_generate(self) -> bool {
        matches!(
            self,
            GenState::Missing | GenState::Incomplete | GenState::Stale
        )
    }
}

/// Whether `clan vars generate` is what repairs the generator.
fn generate_fixes(g: &GeneratorStatus) -> bool {
    GenState::of(g).needs_generate() && !only_needs_vars_fix(g)
}

/// Whether every file of the generator is there and all that is wrong is a per-machine secret
/// not encrypted for the machine.
fn only_needs_vars_fix(g: &GeneratorStatus) -> bool {
    g.needed.share == Some(false)
        && g.exists
        && g.stale.is_none()
        && g.files.iter().any(|f| f.state == FileState::NotDeployed)
        && g.files.iter().all(|f| f.state != FileState::Missing)
}

impl Machine {
    fn name(&self) -> &str {
        &self.status.machine
    }

    fn key_missing(&self) -> bool {
        self.status.needs_key && !self.status.has_key
    }

    fn needs_generate(&self) -> bool {
        self.status.generators.iter().any(generate_fixes)
    }

    /// A per-machine secret that exists but is not encrypted for the machine: `clan vars fix`
    /// adds the machine as a recipient (`clan vars generate` does so only for shared ones).
    fn needs_vars_fix(&self) -> bool {
        self.status.generators.iter().any(only_needs_vars_fix)
    }

    fn needs_fix(&self) -> bool {
        self.needs_generate() || self.needs_vars_fix() || self.key_missing()
    }

    /// The commands that fix the machine, in the order to run them: the key first, since
    /// secrets can only be encrypted for a machine that has one.
    fn commands(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.key_missing() {
            out.push(format!(
                "clan secrets machines add {} <age-public-key>",
                self.name()
            ));
        }
        if self.needs_generate() {
            out.push(format!("clan vars generate {}", self.name()));
        }
        if self.needs_vars_fix() {
            out.push(format!("clan vars fix {}", self.name()));
        }
        out
    }

    /// Lines explaining why the list may be incomplete.
    fn notes(&self) -> Vec<String> {
        let m = self.name();
        let mut out = Vec::new();
        if self.class_unknown {
            out.push(format!(
                "the class of {m} cannot be known statically, so neither can its generators"
            ));
        } else if !self.status.complete {
            out.push(format!(
                "some generators of {m} come from modules infra-check cannot read; the list may \
be incomplete"
            ));
        }
        let unknown: Vec<&str> = self
            .status
            .generators
            .iter()
            .filter(|g| GenState::of(g) == GenState::Unknown)
            .map(|g| &*g.needed.name)
            .collect();
        if !unknown.is_empty() {
            out.push(format!(
                "whether {} {} shared cannot be known statically, so {} not checked",
                unknown
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                if unknown.len() == 1 {
                    "it was"
                } else {
                    "they were"
                },
            ));
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    machines: Vec<JsonMachine<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonMachine<'a> {
    name: &'a str,
    complete: bool,
    key_missing: bool,
    generators: Vec<JsonGenerator<'a>>,
    commands: Vec<String>,
}

#[derive(Serialize)]
struct JsonGenerator<'a> {
    name: &'a str,
    shared: Option<bool>,
    directory: Option<&'a str>,
    state: &'static str,
    source: JsonSource<'a>,
    files: Vec<JsonFile<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum JsonSource<'a> {
    Module {
        owner: &'a str,
        file: &'a str,
        line: Option<u32>,
    },
    Service {
        instance: &'a str,
        role: &'a str,
        service: &'a str,
        file: &'a str,
        line: Option<u32>,
    },
}

#[derive(Serialize)]
struct JsonFile<'a> {
    name: &'a str,
    secret: Option<bool>,
    deploy: Option<bool>,
    #[serde(rename = "neededFor")]
    needed_for: Option<&'static str>,
    state: &'static str,
    path: &'a str,
}

fn json_source(source: &Source, line: Option<u32>) -> JsonSource<'_> {
    match source {
        Source::Module { owner, location } => JsonSource::Module {
            owner,
            file: &location.file,
            line,
        },
        Source::Service {
            instance,
            role,
            service,
            location,
        } => JsonSource::Service {
            instance,
            role,
            service,
            file: &location.file,
            line,
        },
    }
}

/// The JSON document for `machines`, pretty-printed, with a trailing newline.
fn render_json(machines: &[Machine]) -> Result<String, CliError> {
    let doc = Document {
        version: SCHEMA_VERSION,
        machines: machines
            .iter()
            .map(|m| JsonMachine {
                name: m.name(),
                complete: m.status.complete,
                key_missing: m.key_missing(),
                generators: m
                    .status
                    .generators
                    .iter()
                    .zip(&m.lines)
                    .map(|(g, line)| JsonGenerator {
                        name: &g.needed.name,
                        shared: g.needed.share,
                        directory: g.directory.as_deref(),
                        state: GenState::of(g).as_str(),
                        source: json_source(&g.needed.source, *line),
                        files: g
                            .files
                            .iter()
                            .map(|f| JsonFile {
                                name: &f.name,
                                secret: f.secret,
                                deploy: f.deploy,
                                needed_for: f.needed_for.map(|n| n.as_str()),
                                state: f.state.as_str(),
                                path: &f.path,
                            })
                            .collect(),
                    })
                    .collect(),
                commands: m.commands(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| CliError::Io(format!("The JSON document could not be produced: {e}.")))?;
    text.push('\n');
    Ok(text)
}

// ---------------------------------------------------------------------------------------------
// Table

const HEADER: [&str; 5] = ["GENERATOR", "FILE", "KIND", "STATE", "SOURCE"];

/// `module owner` or `instance/role (service S)`, for the SOURCE column.
fn short_source(source: &Source) -> String {
    match source {
        Source::Module { owner, .. } => owner.to_string(),
        Source::Service {
            instance,
            role,
            service,
            ..
        } => format!("{instance}/{role} (service {service})"),
    }
}

fn kind(secret: Option<bool>) -> &'static str {
    match secret {
        Some(true) => "secret",
        Some(false) => "public",
        None => "?",
    }
}

/// The rows of one machine: one per file, or one for a generator without files to show. A
/// present file of a stale generator shows `stale`.
fn rows(m: &Machine) -> Vec<[String; 5]> {
    let mut out = Vec::new();
    for g in &m.status.generators {
        let state = GenState::of(g);
        let source = short_source(&g.needed.source);
        if g.files.is_empty() {
            out.push([
                g.needed.name.to_string(),
                "-".into(),
                "-".into(),
                state.as_str().into(),
                source.clone(),
            ]);
            continue;
        }
        for f in &g.files {
            let shown = if state == GenState::Stale && f.state == FileState::Present {
                "stale"
            } else {
                f.state.as_str()
            };
            out.push([
                g.needed.name.to_string(),
                f.name.to_string(),
                kind(f.secret).into(),
                shown.into(),
                source.clone(),
            ]);
        }
    }
    out
}

/// The table: per machine a header line with its name, its rows (indented, with a column
/// header), the key state, notes and fix commands; then a summary line. Columns are aligned
/// across machines.
fn render_table(machines: &[Machine]) -> String {
    let all: Vec<Vec<[String; 5]>> = machines.iter().map(rows).collect();
    let widths = column_widths(&HEADER, all.iter().flatten());
    let mut out = String::new();
    for (i, (m, rows)) in machines.iter().zip(&all).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(m.name());
        out.push('\n');
        if rows.is_empty() {
            out.push_str("  no generators\n");
        } else {
            push_row(&mut out, "  ", &HEADER, &widths);
            for r in rows {
                push_row(&mut out, "  ", r, &widths);
            }
        }
        if m.key_missing() {
            let _ = writeln!(
                out,
                "  key: missing (sops/machines/{}/key.json), so no secret can be encrypted for it",
                m.name()
            );
        }
        for note in m.notes() {
            let _ = writeln!(out, "  note: {note}");
        }
        for c in m.commands() {
            let _ = writeln!(out, "  fix: {c}");
        }
    }
    if !machines.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(machines));
    out.push('\n');
    out
}

/// `8 machines, 42 generators: 40 complete, 2 need `clan vars generate``, then the machines
/// without a key and those whose list may be incomplete. Generators are counted per machine.
fn summary(machines: &[Machine]) -> String {
    let generators: Vec<&GeneratorStatus> = machines
        .iter()
        .flat_map(|m| m.status.generators.iter())
        .collect();
    let states: Vec<GenState> = generators.iter().map(|g| GenState::of(g)).collect();
    let complete = states.iter().filter(|s| **s == GenState::Present).count();
    let generate = generators.iter().filter(|g| generate_fixes(g)).count();
    let vars_fix = generators.iter().filter(|g| only_needs_vars_fix(g)).count();
    let unknown = states.iter().filter(|s| **s == GenState::Unknown).count();
    let mut text = format!(
        "{}, {}",
        plural(machines.len(), "machine", "machines"),
        plural(states.len(), "generator", "generators")
    );
    if !states.is_empty() {
        let mut parts = vec![format!("{complete} complete")];
        if generate > 0 {
            parts.push(format!(
                "{generate} {} `clan vars generate`",
                if generate == 1 { "needs" } else { "need" }
            ));
        }
        if vars_fix > 0 {
            parts.push(format!(
                "{vars_fix} {} `clan vars fix`",
                if vars_fix == 1 { "needs" } else { "need" }
            ));
        }
        if unknown > 0 {
            parts.push(format!("{unknown} unknown"));
        }
        let _ = write!(text, ": {}", parts.join(", "));
    }
    let keys = machines.iter().filter(|m| m.key_missing()).count();
    if keys > 0 {
        let _ = write!(
            text,
            "; {} no sops key",
            plural(keys, "machine has", "machines have")
        );
    }
    let partial: BTreeSet<&str> = machines
        .iter()
        .filter(|m| !m.status.complete)
        .map(|m| m.name())
        .collect();
    if !partial.is_empty() {
        let _ = write!(
            text,
            "; the list may be incomplete for {}",
            plural(partial.len(), "machine", "machines")
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use infra_check_analysis::vars::model::Validation;
    use infra_check_analysis::vars::resolve::Needed;
    use infra_check_analysis::vars::status::FileStatus;
    use infra_check_analysis::TextRange;

    use super::*;

    fn generator(name: &str, exists: bool, files: Vec<FileStatus>) -> GeneratorStatus {
        GeneratorStatus {
            needed: Needed {
                name: name.into(),
                share: Some(false),
                files: None,
                validation: Validation::Unknown,
                source: Source::Module {
                    owner: "flake.modules.nixos.base".into(),
                    location: Location {
                        file: "m.nix".into(),
                        range: TextRange::new(0, 0),
                    },
                },
            },
            directory: Some(format!("vars/per-machine/a/{name}")),
            exists,
            files,
            stale: None,
        }
    }

    fn file(name: &str, secret: Option<bool>, state: FileState) -> FileStatus {
        FileStatus {
            name: name.into(),
            secret,
            deploy: secret,
            needed_for: Some(Default::default()),
            state,
            path: format!("x/{name}"),
        }
    }

    fn machine(name: &str, generators: Vec<GeneratorStatus>) -> Machine {
        Machine {
            lines: vec![None; generators.len()],
            status: MachineStatus {
                machine: name.into(),
                complete: true,
                generators,
                needs_key: false,
                has_key: true,
            },
            class_unknown: false,
        }
    }

    #[test]
    fn generator_states() {
        let mut g = generator("g", true, vec![file("f", Some(true), FileState::Present)]);
        assert_eq!(GenState::of(&g), GenState::Present);
        g.files[0].state = FileState::NotDeployed;
        assert_eq!(GenState::of(&g), GenState::Incomplete);
        g.stale = Some(("a".into(), "b".into()));
        assert_eq!(GenState::of(&g), GenState::Stale);
        g.exists = false;
        assert_eq!(GenState::of(&g), GenState::Missing);
        g.directory = None;
        assert_eq!(GenState::of(&g), GenState::Unknown);
        assert!(!GenState::Unknown.needs_generate());
    }

    #[test]
    fn table_groups_per_machine_with_fixes() {
        let ok = machine(
            "alpha",
            vec![generator(
                "ssh",
                true,
                vec![
                    file("key", Some(true), FileState::Present),
                    file("key.pub", Some(false), FileState::Present),
                ],
            )],
        );
        let mut bad = machine("b", vec![generator("ssh", false, vec![])]);
        bad.status.needs_key = true;
        bad.status.has_key = false;
        bad.status.complete = false;
        let text = render_table(&[ok, bad]);
        assert_eq!(
            text,
            "alpha\n  \
             GENERATOR  FILE     KIND    STATE    SOURCE\n  \
             ssh        key      secret  present  flake.modules.nixos.base\n  \
             ssh        key.pub  public  present  flake.modules.nixos.base\n\
             \n\
             b\n  \
             GENERATOR  FILE     KIND    STATE    SOURCE\n  \
             ssh        -        -       missing  flake.modules.nixos.base\n  \
             key: missing (sops/machines/b/key.json), so no secret can be encrypted for it\n  \
             note: some generators of b come from modules infra-check cannot read; the list \
             may be incomplete\n  \
             fix: clan secrets machines add b <age-public-key>\n  \
             fix: clan vars generate b\n\
             \n\
             2 machines, 2 generators: 1 complete, 1 needs `clan vars generate`; 1 machine has \
             no sops key; the list may be incomplete for 1 machine\n"
        );
    }

    #[test]
    fn suggestions_find_near_machines() {
        let names = vec!["argon".to_owned(), "krypton".to_owned(), "radon".to_owned()];
        assert_eq!(
            crate::suggest::closest("argn", &names).first(),
            Some(&"argon")
        );
        assert!(crate::suggest::closest("zzzzzz", &names).is_empty());
        assert!(crate::suggest::unknown_machine_message("argn", &names)
            .contains("Did you mean `argon`?"));
    }

    #[test]
    fn empty_fleet() {
        assert_eq!(render_table(&[]), "0 machines, 0 generators\n");
        let json: serde_json::Value = serde_json::from_str(&render_json(&[]).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"version": 1, "machines": []}));
    }
}
