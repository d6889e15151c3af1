//! `infra-check plan|deploy|build|rollback`: the fleet's build and deploy driver. It runs the
//! same analysis as `check`, refuses every machine a finding affects, decides once what runs for
//! each machine (a justfile recipe, else clan's or Nix's command, through direnv when the
//! repository has an `.envrc`), orders machines in batches from the service catalog, and runs
//! them, streaming their output and summing up how each ended.

mod envrc;
mod invocation;
mod outcome;
mod plan;
mod preflight;
mod runner;
mod show;
mod targets;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::ValueEnum;

use crate::deploy::invocation::{Context, Recipes};
use crate::deploy::outcome::{all_ok, planned};
use crate::error::CliError;

pub use targets::Wanted;

/// What a run does to each machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Switch the machine to its new configuration (`clan machines update`).
    Deploy,
    /// Build the machine's system closure locally (`nix build`), without deploying it.
    Build,
    /// Switch the machine back to its previous generation.
    Rollback,
}

impl Action {
    /// The name of the action's section in infra-check.toml and of its obvious recipe.
    pub fn section(self) -> &'static str {
        match self {
            Action::Deploy => "deploy",
            Action::Build => "build",
            Action::Rollback => "rollback",
        }
    }
    pub fn verb(self) -> &'static str {
        match self {
            Action::Deploy => "deploy",
            Action::Build => "build",
            Action::Rollback => "roll back",
        }
    }
    pub fn present(self) -> &'static str {
        match self {
            Action::Deploy => "deploying",
            Action::Build => "building",
            Action::Rollback => "rolling back",
        }
    }
}

/// Everything one invocation of the driver was asked.
pub struct Request {
    pub action: Action,
    pub path: PathBuf,
    pub wanted: Wanted,
    /// Only show what would run (`plan`, `--dry-run`).
    pub dry_run: bool,
    pub jobs: usize,
    pub canary: bool,
    pub force: bool,
    pub deny_warnings: bool,
    pub json: bool,
    /// Where the locked inputs' sources are.
    pub store: crate::StoreArgs,
}

impl Request {
    /// Takes the options `deploy` and `build` share.
    pub fn apply(&mut self, run: &crate::RunArgs) {
        self.dry_run = run.dry_run;
        self.jobs = run.jobs;
        self.force = run.force;
        self.deny_warnings = run.deny_warnings;
    }
}

/// The first positional arguments: `[PATH] [MACHINE…]`. The first is the repository PATH when
/// it exists and contains a `/`, is `.` or `..`, or is a directory with a flake.nix; a machine
/// name can be none of these.
pub fn split_path(words: &[String]) -> (PathBuf, Vec<String>) {
    match words.split_first() {
        Some((first, rest)) if looks_like_path(first) => (PathBuf::from(first), rest.to_vec()),
        _ => (PathBuf::from("."), words.to_vec()),
    }
}

fn looks_like_path(word: &str) -> bool {
    let path = Path::new(word);
    path.exists()
        && (word.contains('/') || word == "." || word == ".." || path.join("flake.nix").exists())
}

pub fn run(req: Request) -> Result<ExitCode, CliError> {
    if std::env::var_os(runner::NESTED_ENV).is_some() && !req.dry_run {
        return Err(CliError::Usage(format!(
            "infra-check {} was started by a command infra-check itself runs (a recipe that \
calls infra-check again?), so it stopped rather than recurse. Point `[{}] recipe` in \
infra-check.toml at a recipe that does not call infra-check.",
            req.action.section(),
            req.action.section()
        )));
    }
    // Nothing outside clan's name rules may reach a command line: refuse before reading anything.
    targets::check_words(&req.wanted)?;
    if req.jobs == 0 {
        return Err(CliError::Usage(
            "--jobs must be at least 1 (the number of machines handled at once).".into(),
        ));
    }
    let root = crate::workspace::resolve_root(&req.path)?;
    // The justfile is read while the repository is analysed.
    let dump = crate::just_dump::start(&root);
    let fleet = preflight::load(&root, &req.store)?;
    let selected = targets::select(&fleet.overview, &req.wanted)?;
    let root = fleet.root.clone();

    let direnv = root.join(".envrc").is_file() && crate::programs::find("direnv").is_some();
    let (justfile, unreadable) = match dump.wait() {
        None => (None, None),
        Some(d) => match d.result {
            Ok(j) => (Some(j), None),
            Err(e) => (None, Some(e.sentence(&d.path.display().to_string()))),
        },
    };
    let ctx = Context {
        root: &root,
        config: &fleet.config,
        recipes: Recipes {
            justfile: justfile.as_ref(),
            unreadable,
        },
        direnv,
        local_host: local_host(),
        is_root: is_root(),
    };
    let plan = plan::make(
        &fleet,
        &ctx,
        req.action,
        &selected,
        &plan::Options {
            force: req.force,
            deny_warnings: req.deny_warnings,
        },
    );
    let envrc = direnv.then(|| envrc::status(&root));

    let out = Arc::new(runner::Output::new(req.json));
    let human_plan = show::plan(&fleet, &plan, &ctx, envrc, req.dry_run);
    if req.dry_run {
        let records = planned(&fleet, &plan);
        if req.json {
            crate::output::stream(|w| {
                outcome::write_json(w, &fleet, &plan, &records, true, envrc)
            })?;
        } else {
            crate::output::emit(&human_plan)?;
        }
        return Ok(exit(plan.any_refused()));
    }
    if !req.json {
        crate::output::emit(&human_plan)?;
    } else {
        // The plan, for people watching, while standard output carries the document.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), human_plan.as_bytes());
    }
    if let Some(envrc::Status::Blocked) = envrc {
        return Err(CliError::Io(envrc::blocked_message(
            &root,
            ", so nothing was run",
        )));
    }
    check_programs(&plan, &fleet, &ctx, req.canary)?;
    runner::handle_interrupts(out.clone());
    let records = runner::execute(
        &fleet,
        &ctx,
        &plan,
        &runner::RunOptions {
            jobs: req.jobs,
            canary: req.canary,
        },
        &out,
    );
    if req.json {
        crate::output::stream(|w| outcome::write_json(w, &fleet, &plan, &records, false, envrc))?;
    } else {
        crate::output::emit(&format!("\n{}", outcome::table(&records)))?;
    }
    Ok(exit(!all_ok(&records) || runner::interrupted()))
}

fn exit(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Every program the run would start must exist before anything starts (inside direnv's
/// environment only direnv itself can be looked for).
fn check_programs(
    plan: &plan::Plan,
    fleet: &preflight::Fleet,
    ctx: &Context,
    canary: bool,
) -> Result<(), CliError> {
    let mut programs: Vec<String> = Vec::new();
    for s in plan.steps().filter(|s| !s.refused) {
        if let Some(i) = &s.invocation {
            programs.push(if i.direnv {
                "direnv".into()
            } else {
                i.program.clone()
            });
        }
    }
    if canary && plan.action == Action::Deploy && !ctx.direnv {
        if let Some(p) = fleet.config.deploy.health.first() {
            programs.push(p.clone());
        }
    }
    programs.sort();
    programs.dedup();
    for p in programs {
        if crate::programs::find(&p).is_none() && !Path::new(&p).is_absolute() {
            return Err(CliError::Io(format!(
                "`{p}` was not found on PATH, and infra-check {} needs it to {} the selected \
machines; nothing was run. {}",
                plan.action.section(),
                plan.action.verb(),
                crate::programs::how_to_get(&p)
            )));
        }
    }
    Ok(())
}

/// The short name of the host infra-check runs on.
fn local_host() -> Option<String> {
    let uname = rustix::system::uname();
    let name = uname.nodename().to_str().ok()?;
    let short = name.split('.').next()?.to_owned();
    (!short.is_empty()).then_some(short)
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}
