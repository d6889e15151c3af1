//! One fuzz case: a source repository, the secret canary planted in it, the mutations drawn
//! for it and the command run on the result. A case is drawn from `(seed, index)` alone, so
//! printing those two (and the settings) is enough to replay it.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use fastrand::Rng;

use crate::choose::{
    draw_kind, Ctx, Kind, Limits, KEPT_SMALL_IN_BOUNDED_RUNS, PENDING_ON_OTHER_BRANCHES,
};
use crate::mutation::Mutation;
use crate::tree::{self, Listing};

/// A repository the cases start from: `examples/fleet` or a fixture under `tests/fixtures`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub path: PathBuf,
}

impl Source {
    /// Every source, the fleet first, the fixtures in name order.
    pub fn all() -> Vec<Source> {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut sources = vec![Source {
            name: "examples/fleet".into(),
            path: repo.join("examples/fleet"),
        }];
        let mut fixtures: Vec<_> = std::fs::read_dir(repo.join("tests/fixtures"))
            .expect("read tests/fixtures")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("flake.nix").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        fixtures.sort();
        sources.extend(fixtures.into_iter().map(|name| Source {
            path: repo.join("tests/fixtures").join(&name),
            name: format!("tests/fixtures/{name}"),
        }));
        sources
    }
}

/// How much of the engine a run draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawMode {
    /// `cargo test`'s draw: mutations pending fixes on other branches are left out or kept
    /// below the size that fails today, and slow kinds are kept small.
    Bounded,
    /// Every mutation at full size.
    Full,
}

impl DrawMode {
    pub fn name(self) -> &'static str {
        match self {
            DrawMode::Bounded => "bounded",
            DrawMode::Full => "full",
        }
    }
}

/// What decides how cases are drawn.
#[derive(Debug, Clone)]
pub struct Draw {
    pub seed: u64,
    pub limits: Limits,
    pub mode: DrawMode,
    /// Only these kinds, when set.
    pub only: Option<Vec<Kind>>,
}

impl Draw {
    /// The kinds to draw from, and the size cap of each.
    fn kinds(&self) -> Vec<(Kind, Option<usize>)> {
        Kind::ALL
            .iter()
            .copied()
            .filter(|k| self.only.as_ref().is_none_or(|only| only.contains(k)))
            .filter_map(|k| {
                if self.mode == DrawMode::Full {
                    return Some((k, None));
                }
                let small = KEPT_SMALL_IN_BOUNDED_RUNS
                    .iter()
                    .find(|(kind, _)| *kind == k)
                    .map(|(_, cap)| *cap);
                match PENDING_ON_OTHER_BRANCHES.iter().find(|p| p.kind == k) {
                    Some(p) => p.size_cap.map(|cap| (k, Some(cap))),
                    None => Some((k, small)),
                }
            })
            .collect()
    }
}

/// The command a case runs, and what its standard output must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Arguments before the path.
    pub args: Vec<String>,
    /// The path given, relative to the root (`""`: the root itself).
    pub target: String,
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// `check --format json`: the versioned diagnostics document.
    CheckJson,
    /// Any other JSON document (`--format sarif`, `machines`/`vars --format json`).
    Json,
    /// GitHub workflow commands, one per line, then a summary line.
    Github,
    /// Text for people: only the exit code and the absence of secrets are checked.
    Text,
}

impl Invocation {
    fn draw(rng: &mut Rng, listing: &Listing) -> Invocation {
        let machines = listing.machines();
        let (args, output): (&[&str], Output) = match rng.u8(0..100) {
            0..60 => (&["check", "--format", "json"], Output::CheckJson),
            60..65 => (
                &["check", "--format", "json", "--deny-warnings"],
                Output::CheckJson,
            ),
            65..70 => (&["check", "--format", "human"], Output::Text),
            70..75 => (&["check", "--format", "sarif"], Output::Json),
            75..80 => (&["check", "--format", "github"], Output::Github),
            80..85 => (&["machines", "--format", "json"], Output::Json),
            85..88 => (&["machines", "--format", "table"], Output::Text),
            88..90 => (&["graph", "--format", "dot"], Output::Text),
            90..92 => (&["graph", "--format", "mermaid"], Output::Text),
            92..97 => (&["vars", "--format", "json"], Output::Json),
            _ => (&["vars", "--format", "table"], Output::Text),
        };
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if args[0] == "vars" && !machines.is_empty() && rng.bool() {
            args.push("--machine".into());
            args.push(machines[rng.usize(..machines.len())].clone());
        }
        let target = if rng.u8(0..100) < 85 {
            String::new()
        } else {
            let entries: Vec<&String> = listing.entries.keys().collect();
            if entries.is_empty() {
                String::new()
            } else {
                entries[rng.usize(..entries.len())].clone()
            }
        };
        Invocation {
            args,
            target,
            output,
        }
    }
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "infra-check {} <root>", self.args.join(" "))?;
        if !self.target.is_empty() {
            write!(f, "/{}", self.target)?;
        }
        Ok(())
    }
}

/// A drawn case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub index: u64,
    pub source: Source,
    /// The marker planted in plain text in `canary_files`: it must never be printed.
    pub canary: String,
    pub canary_files: Vec<String>,
    /// How the secret around the marker looks (see [`SECRET_SHAPES`]).
    pub canary_shape: usize,
    pub mutations: Vec<Mutation>,
    pub invocation: Invocation,
}

/// The random generator of case `index`: independent streams for neighbouring indices.
fn case_rng(seed: u64, index: u64) -> Rng {
    Rng::with_seed(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
            ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}

/// Draws case `index` and builds its tree at `root` (which must not exist yet).
pub fn draw(draw: &Draw, sources: &[Source], index: u64, root: &Path) -> Plan {
    let mut rng = case_rng(draw.seed, index);
    // The fleet is the richest tree: a third of the cases start from it.
    let source = if rng.u8(0..3) == 0 {
        sources[0].clone()
    } else {
        sources[rng.usize(..sources.len())].clone()
    };
    tree::copy_source(&source.path, root, &BTreeSet::new()).expect("copy the source tree");
    let canary = format!("INFRA-CHECK-FUZZ-CANARY-{:016x}", rng.u64(..));
    let canary_files = choose_canary_files(&mut rng, &Listing::of(root));
    let canary_shape = rng.usize(..SECRET_SHAPES.len());
    plant(root, &canary, canary_shape, &canary_files).expect("plant the canary");

    let kinds = draw.kinds();
    let plain: Vec<Kind> = kinds.iter().map(|(k, _)| *k).collect();
    let count = match rng.u8(0..100) {
        0..55 => 1,
        55..85 => 2,
        _ => 3,
    };
    let mut mutations = Vec::new();
    for _ in 0..count {
        // A kind may not apply to this tree (no Nix file left, no secret): try a few.
        for _ in 0..8 {
            if plain.is_empty() {
                break;
            }
            let kind = draw_kind(&mut rng, &plain);
            let cap = kinds.iter().find(|(k, _)| *k == kind).and_then(|(_, c)| *c);
            let listing = Listing::of(root);
            let mut ctx = Ctx {
                rng: &mut rng,
                root,
                listing: &listing,
                limits: &draw.limits,
                size_cap: cap,
            };
            let Some(mutation) = kind.build(&mut ctx) else {
                continue;
            };
            // A mutation that cannot be applied (its target was made unreadable or replaced by
            // a FIFO by an earlier one) is dropped; a partly applied one is kept, as it is.
            match mutation.apply(root) {
                Ok(()) => {
                    mutations.push(mutation);
                    break;
                }
                Err(_) if mutation.actions.len() > 1 => {
                    mutations.push(mutation);
                    break;
                }
                Err(_) => continue,
            }
        }
    }
    let invocation = Invocation::draw(&mut rng, &Listing::of(root));
    Plan {
        index,
        source,
        canary,
        canary_files,
        canary_shape,
        mutations,
        invocation,
    }
}

/// One or two existing secrets, or (for half of the repositories that have none) a new one.
fn choose_canary_files(rng: &mut Rng, listing: &Listing) -> Vec<String> {
    let secrets = listing.secrets();
    if secrets.is_empty() {
        return if rng.bool() {
            vec!["vars/shared/fuzz-canary/token/secret".into()]
        } else {
            Vec::new()
        };
    }
    let mut chosen = BTreeSet::new();
    for _ in 0..2 {
        chosen.insert(secrets[rng.usize(..secrets.len())].to_owned());
    }
    chosen.into_iter().collect()
}

/// Plain-text secrets the way they leak (`@` is the marker): a password on its own, a line of
/// a config file, and texts a JSON, TOML or Nix parser reads far enough to quote the marker in
/// an error message.
const SECRET_SHAPES: &[&str] = &[
    "@\npassword = \"@\";\n",
    "\"@\"\n",
    "{\"format\": \"@\", \"class\": \"@\", \"options\": \"@\"}\n",
    "{\"machines\": {\"@\": 1}, \"nodes\": \"@\"}\n",
    "catalogs = \"@\"\n[severity]\n\"@\" = \"@\"\n",
    "{ @ = \"@\"; }\n",
];

/// Writes the canary as a plain-text secret.
fn plant(root: &Path, canary: &str, shape: usize, files: &[String]) -> io::Result<()> {
    for file in files {
        let path = root.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, SECRET_SHAPES[shape].replace('@', canary))?;
    }
    Ok(())
}

/// Builds the tree of `plan` at `root` again, leaving out the source paths in `skip` (and what
/// is below them). Fails when a mutation no longer applies.
pub fn rebuild(plan: &Plan, root: &Path, skip: &BTreeSet<String>) -> io::Result<()> {
    tree::copy_source(&plan.source.path, root, skip)?;
    plant(root, &plan.canary, plan.canary_shape, &plan.canary_files)?;
    for m in &plan.mutations {
        let partial = m.actions.len() > 1;
        match m.apply(root) {
            Err(_) if partial => {}
            other => other?,
        }
    }
    Ok(())
}
