//! `infra-check`: the command-line front end. This file only declares the command line (clap)
//! and dispatches to one module per subcommand; the work lives in those modules.

mod alloc;
mod check;
mod deploy;
mod error;
mod explain;
mod github;
mod graph;
mod inputs;
mod json;
mod just_dump;
mod just_module;
mod justfile_checks;
mod lsp;
mod machines;
mod options_dump;
mod output;
mod overview;
mod programs;
mod progress;
mod render_human;
mod report;
mod sarif;
mod store;
mod suggest;
mod text;
mod threads;
mod vars;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::CliError;

const AFTER_HELP: &str = "\
Exit codes:
  0  no findings at or above the deny level (errors; also warnings with --deny-warnings)
  1  at least one finding at or above the deny level
  2  usage error, I/O error, or the repository could not be analysed
A file of the repository that cannot be read is a finding (workspace/unreadable), not exit 2.

Run `infra-check explain --list` to see every diagnostic code.";

/// Static checks for Nix infrastructure repositories written in the flake-parts "dendritic"
/// style with a clan-core inventory.
///
/// infra-check reads the repository without running Nix and reports undefined modules, inventory
/// mistakes, missing vars and platform mismatches, in the terminal, in CI, or in an editor
/// through its language server.
#[derive(Debug, Parser)]
#[command(name = "infra-check", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a repository and report every diagnostic.
    ///
    /// The repository root is the nearest directory at or above PATH that contains a flake.nix.
    /// Severities can be changed, and paths excluded, in `infra-check.toml` at that root.
    #[command(after_help = AFTER_HELP)]
    Check(CheckArgs),
    /// Explain a diagnostic code: what it means, why it matters and how to fix it.
    #[command(
        override_usage = "infra-check explain <CODE>\n       infra-check explain --list",
        after_help = "Exit codes:\n  0  the code was explained (or the codes listed)\n  2  the code is unknown"
    )]
    Explain(ExplainArgs),
    /// List the machines of the clan with their class, platform, tags, roles and target host.
    ///
    /// The repository root is the nearest directory at or above PATH that contains a flake.nix.
    /// Nothing is evaluated: values infra-check cannot know statically are shown as `?`
    /// (`null` in JSON), values that are not set as `-`.
    #[command(after_help = OVERVIEW_AFTER_HELP)]
    Machines(MachinesArgs),
    /// Draw the fleet as a Mermaid or Graphviz diagram.
    ///
    /// Machines are grouped by class; each service instance has an edge to every machine that
    /// holds one of its roles, labelled with the roles; each machine has an edge to the deferred
    /// modules it imports. The repository root is the nearest directory at or above PATH that contains a flake.nix.
    /// A role whose machines cannot be known statically gets a dashed edge to a `?` node.
    #[command(after_help = OVERVIEW_AFTER_HELP)]
    Graph(GraphArgs),
    /// Show the clan vars each machine needs and whether they are generated.
    ///
    /// For every machine: each generator it gets (from its modules and the service roles it
    /// holds) and each of its files, with its state: `present`, `missing` (the generator's
    /// directory or the file does not exist), `not deployed` (a deployed secret not encrypted
    /// for the machine) or `stale` (the generator's `validation` changed since it was
    /// generated); whether the machine's sops key is missing; and the `clan` commands that fix
    /// it. The repository root is the nearest directory at or above PATH that contains a
    /// flake.nix. Only which files exist is looked at: no secret is ever read or printed.
    #[command(after_help = VARS_AFTER_HELP)]
    Vars(VarsArgs),
    /// Work with option catalogs: the NixOS and nix-darwin options a machine can set.
    ///
    /// `infra-check options dump` evaluates a machine's options with Nix and writes them to a
    /// catalog file; named in `infra-check.toml` (`catalogs = ["<file>"]`), the catalog lets
    /// `infra-check check` check the machine's options without running Nix.
    Options(OptionsArgs),
    /// List the flake's locked inputs and whether their sources are in the Nix store.
    ///
    /// For every input flake.lock locks (the root flake's own, then theirs, by path): its
    /// fetcher, its locked reference and the store path Nix gives its source, computed from
    /// the lock's narHash (no nix command is run), and whether that path is on this machine:
    /// `found`, `absent` (not fetched here; `nix flake archive` fetches every input without
    /// evaluating anything), `unusable` (something else is at the path) or `not-locatable`
    /// (the lock does not give a path). The repository root is the nearest directory at or
    /// above PATH that contains a flake.nix.
    Inputs(InputsArgs),
    /// Show what `deploy`, `build` or `rollback` would run, machine by machine, and which
    /// machines the checks refuse.
    ///
    /// Runs the same analysis as `check`, attributes every finding to the machines it affects
    /// and prints the batches in the order they would run, each machine with the exact command
    /// (program, arguments, working directory, whether through direnv). Nothing is run.
    #[command(after_help = PLAN_AFTER_HELP)]
    Plan(PlanArgs),
    /// Deploy machines, in order, refusing every machine the checks find broken.
    ///
    /// For each machine: the justfile recipe named in infra-check.toml (`[deploy] recipe`), or
    /// the justfile's own `deploy` recipe when its first parameter is a machine, else
    /// `clan machines update <machine>`; through `direnv exec <root>` when the root has an
    /// `.envrc`. Machines whose roles others wait for (a zerotier controller) go first, as their
    /// own batch; a failure stops the batches after it. Each command is shown before it runs,
    /// its output is prefixed with `[machine]`, and a summary table ends the run. Ctrl-C stops
    /// starting machines and waits for the running ones (twice: interrupts them).
    #[command(after_help = DEPLOY_AFTER_HELP)]
    Deploy(DeployArgs),
    /// Build machines' system closures locally, refusing every machine the checks find broken.
    ///
    /// For each machine: the recipe named in infra-check.toml (`[build] recipe`) or the
    /// justfile's `build` recipe, else `nix build .#nixosConfigurations.<m>.config.system.build.toplevel`
    /// (`.#darwinConfigurations.<m>.system` for nix-darwin) with the link `result-<m>`.
    #[command(after_help = DEPLOY_AFTER_HELP)]
    Build(BuildArgs),
    /// Switch machines back to their previous generation.
    ///
    /// For each machine: the recipe named in infra-check.toml (`[rollback] recipe`) or the
    /// justfile's `rollback` recipe, else `nixos-rebuild switch --rollback --target-host
    /// <target>` for NixOS and `darwin-rebuild --rollback` for the nix-darwin machine
    /// infra-check runs on (a remote nix-darwin machine needs a recipe). Findings in the
    /// current configuration do not stop a rollback.
    #[command(after_help = DEPLOY_AFTER_HELP)]
    Rollback(RollbackArgs),
    /// Print a just module whose recipes run infra-check: `check`, `plan`, `deploy`, `build`,
    /// `rollback`.
    ///
    /// Save it next to the repository's justfile (`infra-check just --output infra.just`) and
    /// import it with `mod infra`: `just infra check`, `just infra deploy argon`. A module keeps
    /// its recipes apart from the justfile's own `check` or `deploy` (an `import` would make
    /// them collide). Every argument reaches infra-check as one word: nothing is re-split or
    /// evaluated by the shell.
    #[command(after_help = JUST_AFTER_HELP)]
    Just(JustArgs),
    /// Run the language server on standard input and output (for editors).
    Lsp,
}

const PLAN_AFTER_HELP: &str = "\
Exit codes:
  0  every selected machine can go ahead
  1  at least one machine is refused (its findings are shown under it)
  2  usage error (no machine selected, an unknown machine or tag, a name outside clan's name
     rule), or the repository could not be analysed

Run `infra-check plan --all` to see the whole fleet.";

const DEPLOY_AFTER_HELP: &str = "\
Exit codes:
  0  every selected machine ended ok
  1  a machine failed, was refused or skipped, or the run was interrupted
  2  usage or environment error (no machine selected, an unknown machine or tag, a name outside
     clan's name rule, a missing program, a blocked .envrc); nothing was run

Use --dry-run (or `infra-check plan`) to see what would run.";

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// `[PATH] [MACHINE…]`: the repository (a directory inside it, default `.`; the first
    /// argument is taken as PATH when it exists and contains a `/`, is `.` or `..`, or holds a
    /// flake.nix), then the machines.
    #[arg(value_name = "PATH|MACHINE")]
    pub words: Vec<String>,

    /// Select the machines that have this tag; repeat it to select those with every tag given.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Select every machine of the clan.
    #[arg(long)]
    pub all: bool,

    /// How to print the plan and the results.
    #[arg(long, value_enum, default_value_t = DeployFormat::Human, value_name = "FORMAT")]
    pub format: DeployFormat,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// Output formats of `plan`, `deploy`, `build` and `rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeployFormat {
    /// For people: the plan, the commands' output prefixed with `[machine]`, a summary table.
    Human,
    /// For scripts: one JSON document in a versioned schema ("version": 1) on standard
    /// output; the plan and the commands' output go to standard error.
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    /// The action to plan.
    #[arg(long, value_enum, default_value_t = deploy::Action::Deploy, value_name = "ACTION")]
    pub action: deploy::Action,

    /// Refuse machines with warnings too, as `deploy --deny-warnings` does.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    #[command(flatten)]
    pub run: RunArgs,

    /// Deploy the first machine of each batch alone and run the health check (`[deploy]
    /// health` in infra-check.toml) before the rest; a failed check rolls it back and stops.
    #[arg(long)]
    pub canary: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

/// What `deploy` and `build` share.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Show what would run, and stop.
    #[arg(long)]
    pub dry_run: bool,

    /// How many machines of a batch to handle at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,

    /// Go ahead with machines even when findings of the checks affect them (they are listed).
    #[arg(long)]
    pub force: bool,

    /// Refuse machines with warnings too, not only errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// `[PATH] MACHINE…`: the repository (as for deploy), then the machines to roll back.
    #[arg(value_name = "PATH|MACHINE", required = true)]
    pub words: Vec<String>,

    /// Show what would run, and stop.
    #[arg(long)]
    pub dry_run: bool,

    /// How to print the plan and the results.
    #[arg(long, value_enum, default_value_t = DeployFormat::Human, value_name = "FORMAT")]
    pub format: DeployFormat,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A directory (or file) inside the repository to check. The nearest directory at or above it
    /// that contains a flake.nix is checked as a whole.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// How to print the diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human, value_name = "FORMAT")]
    pub format: Format,

    /// Fail (exit code 1) on warnings as well as on errors. Infos and hints never fail.
    #[arg(long)]
    pub deny_warnings: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// Output formats of `infra-check check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: rustc-style messages with the source line underlined, and a summary line.
    /// Coloured when standard output is a terminal and NO_COLOR is not set.
    Human,
    /// For scripts: one JSON document in a versioned schema ("version": 1) with 1-based lines and
    /// character columns.
    Json,
    /// For code-scanning services (GitHub code scanning and others): a SARIF 2.1.0 log.
    Sarif,
    /// For GitHub Actions: one `::error`/`::warning`/`::notice` workflow command per diagnostic,
    /// which GitHub shows as annotations on the pull request, then a summary line.
    Github,
}

const OVERVIEW_AFTER_HELP: &str = "\
Exit codes:
  0  the fleet was printed (a file that could not be read is named in a warning on stderr:
     what it defines is missing from the output)
  2  usage error, I/O error, or the repository could not be analysed";

#[derive(Debug, Args)]
pub struct MachinesArgs {
    /// A directory (or file) inside the repository. The nearest directory at or above it that
    /// contains a flake.nix is read as a whole.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// How to print the machines.
    #[arg(long, value_enum, default_value_t = MachinesFormat::Table, value_name = "FORMAT")]
    pub format: MachinesFormat,
}

/// Output formats of `infra-check machines`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MachinesFormat {
    /// For people: one aligned row per machine (NAME, CLASS, SYSTEM, TAGS, ROLES, TARGET), then
    /// a count of the machines per class.
    Table,
    /// For scripts: one JSON document in a versioned schema ("version": 1) with every machine's
    /// class, system, tags, roles, target and build host, and imported modules.
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// A directory (or file) inside the repository. The nearest directory at or above it that
    /// contains a flake.nix is read as a whole.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// The diagram language to write.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid, value_name = "FORMAT")]
    pub format: GraphFormat,
}

/// Output formats of `infra-check graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart, to paste into a ```mermaid block in Markdown (GitHub renders it).
    Mermaid,
    /// A Graphviz digraph, to render with `dot`, for example `infra-check graph --format dot |
    /// dot -Tsvg > fleet.svg`.
    Dot,
}

const VARS_AFTER_HELP: &str = "\
Exit codes:
  0  nothing the listed machines need is missing, not deployed or stale, and no machine key
     is missing
  1  something needs fixing: a generator or file is missing, not deployed or stale (run
     `clan vars generate <machine>`, or `clan vars fix <machine>` for a per-machine secret
     not encrypted for the machine), or a machine's sops key is missing (run
     `clan secrets machines add <machine> <age-public-key>`)
  2  usage error (such as an unknown --machine), I/O error, or the repository could not be
     analysed
A file that could not be read is named in a warning on stderr; what it defines is missing from
the output.";

#[derive(Debug, Args)]
pub struct InputsArgs {
    /// A directory (or file) inside the repository. The nearest directory at or above it that
    /// contains a flake.nix is read.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// How to print the inputs.
    #[arg(long, value_enum, default_value_t = InputsFormat::Table, value_name = "FORMAT")]
    pub format: InputsFormat,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// Where the Nix store is, for the commands that read locked inputs from it.
#[derive(Debug, Clone, Args, Default)]
pub struct StoreArgs {
    /// The Nix store directory that holds the inputs' sources. Without it: NIX_STORE_DIR when
    /// set, else `store` in infra-check.toml, else /nix/store. The directory is part of every
    /// store path's hash, so it must be the one the store was made with.
    #[arg(long, value_name = "DIR", conflicts_with = "no_store")]
    pub store: Option<PathBuf>,

    /// Do not look in the Nix store: every input is unknown.
    #[arg(long)]
    pub no_store: bool,

    /// Do not keep what was read from the store in the user's cache directory
    /// (`$XDG_CACHE_HOME/infra-check`, else `~/.cache/infra-check`), and do not read it from
    /// there. Store paths never change, so the cache is never stale; it only saves time.
    #[arg(long)]
    pub no_cache: bool,
}

/// Output formats of `infra-check inputs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputsFormat {
    /// For people: one aligned row per input (INPUT, TYPE, LOCKED, STORE PATH, STATE), then
    /// how many are found.
    Table,
    /// For scripts: one JSON document in a versioned schema ("version": 1) with every input's
    /// lock, computed store path and state.
    Json,
}

#[derive(Debug, Args)]
pub struct VarsArgs {
    /// A directory (or file) inside the repository. The nearest directory at or above it that
    /// contains a flake.nix is read as a whole.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Show only this machine.
    #[arg(long, value_name = "MACHINE")]
    pub machine: Option<String>,

    /// How to print the vars.
    #[arg(long, value_enum, default_value_t = VarsFormat::Table, value_name = "FORMAT")]
    pub format: VarsFormat,
}

/// Output formats of `infra-check vars`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VarsFormat {
    /// For people: per machine, its name, then one aligned row per generated file (GENERATOR,
    /// FILE, KIND, STATE, SOURCE), notes and the commands that fix it; then a summary line.
    Table,
    /// For scripts: one JSON document in a versioned schema ("version": 1) with every
    /// machine's generators, their files and states, whether its key is missing, and the
    /// commands that fix it.
    Json,
}

#[derive(Debug, Args)]
struct OptionsArgs {
    #[command(subcommand)]
    command: OptionsCommand,
}

#[derive(Debug, Subcommand)]
enum OptionsCommand {
    /// Evaluate a machine's options with Nix and write them to an option catalog.
    ///
    /// This is the only infra-check command that runs Nix, so run it on your own machine: it
    /// runs `nix eval` on `<root>#nixosConfigurations.<MACHINE>.options` (or
    /// `darwinConfigurations` for a nix-darwin machine), through `direnv exec` when the root has
    /// an `.envrc` and direnv is installed, and never writes flake.lock. Only option
    /// declarations are read, not their values; an option that fails to evaluate is left out.
    /// The repository root is the nearest directory at or above PATH that contains a flake.nix.
    /// Then add the catalog to `catalogs` in infra-check.toml (the command prints how).
    #[command(after_help = OPTIONS_DUMP_AFTER_HELP)]
    Dump(OptionsDumpArgs),
}

const OPTIONS_DUMP_AFTER_HELP: &str = "\
Exit codes:
  0  the catalog was written
  2  usage error (such as an unknown --machine), Nix is not installed or the evaluation
     failed (Nix's messages are shown), I/O error, or the repository could not be analysed";

#[derive(Debug, Args)]
pub struct OptionsDumpArgs {
    /// A directory (or file) inside the repository. The nearest directory at or above it that
    /// contains a flake.nix is the flake whose machine is evaluated.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// The machine whose options to write, as named in the clan inventory.
    #[arg(long, value_name = "MACHINE")]
    pub machine: String,

    /// Where to write the catalog. Defaults to `infra-check-options-<MACHINE>.json` at the
    /// repository root; a relative path is relative to the current directory.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

const JUST_AFTER_HELP: &str = "\
Exit codes:
  0  the module was printed (or written)
  2  --output names a file infra-check did not write (it is left alone), or it could not be
     written";

#[derive(Debug, Args)]
pub struct JustArgs {
    /// Write the module to FILE (atomically) instead of standard output. A FILE that exists is
    /// only replaced when infra-check wrote it (its first line is infra-check's header).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// The diagnostic code to explain, such as `module/undefined`.
    #[arg(
        value_name = "CODE",
        required_unless_present = "list",
        conflicts_with = "list"
    )]
    code: Option<String>,

    /// List every diagnostic code with its default severity and a one-line summary.
    #[arg(long)]
    list: bool,
}

/// The driver's request for `targets`, adjusted by `set`.
fn request(
    action: deploy::Action,
    targets: &TargetArgs,
    set: impl FnOnce(&mut deploy::Request),
) -> deploy::Request {
    let (path, machines) = deploy::split_path(&targets.words);
    let mut r = deploy::Request {
        action,
        path,
        wanted: deploy::Wanted {
            machines,
            tags: targets.tags.clone(),
            all: targets.all,
        },
        dry_run: false,
        jobs: 1,
        canary: false,
        force: false,
        deny_warnings: false,
        json: targets.format == DeployFormat::Json,
        store: targets.store.clone(),
    };
    set(&mut r);
    r
}

fn main() -> ExitCode {
    alloc::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => match (args.list, args.code) {
            (true, _) => explain::list(),
            (false, Some(code)) => explain::explain(&code),
            (false, None) => Err(CliError::Usage(
                "Give a diagnostic code to explain, or --list to list them all.".into(),
            )),
        },
        Command::Machines(args) => machines::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Vars(args) => vars::run(&args),
        Command::Inputs(args) => inputs::run(&args),
        Command::Options(args) => match args.command {
            OptionsCommand::Dump(args) => options_dump::run(&args),
        },
        Command::Plan(a) => deploy::run(request(deploy::Action::Deploy, &a.targets, |r| {
            r.action = a.action;
            r.dry_run = true;
            r.deny_warnings = a.deny_warnings;
        })),
        Command::Deploy(a) => deploy::run(request(deploy::Action::Deploy, &a.targets, |r| {
            r.apply(&a.run);
            r.canary = a.canary;
        })),
        Command::Build(a) => deploy::run(request(deploy::Action::Build, &a.targets, |r| {
            r.apply(&a.run);
        })),
        Command::Rollback(a) => {
            let targets = TargetArgs {
                words: a.words,
                tags: Vec::new(),
                all: false,
                format: a.format,
                store: StoreArgs::default(),
            };
            deploy::run(request(deploy::Action::Rollback, &targets, |r| {
                r.dry_run = a.dry_run;
            }))
        }
        Command::Just(args) => just_module::run(&args),
        Command::Lsp => lsp::run(),
    };
    match result {
        Ok(code) => code,
        Err(err) => err.report(),
    }
}
