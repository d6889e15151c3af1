//! `infra-check`: the command-line front end. This file only declares the command line (clap)
//! and dispatches to one module per subcommand; the work lives in those modules.

mod check;
mod error;
mod explain;
mod github;
mod json;
mod lsp;
mod output;
mod progress;
mod render_human;
mod report;
mod sarif;
mod threads;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::CliError;

const AFTER_HELP: &str = "\
Exit codes:
  0  no findings at or above the deny level (errors; also warnings with --deny-warnings)
  1  at least one finding at or above the deny level
  2  usage error, I/O error, or the repository could not be analysed

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
    /// Run the language server on standard input and output (for editors).
    Lsp,
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

fn main() -> ExitCode {
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
        Command::Lsp => lsp::run(),
    };
    match result {
        Ok(code) => code,
        Err(err) => err.report(),
    }
}
