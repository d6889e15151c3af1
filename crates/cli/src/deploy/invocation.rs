//! What runs for one machine and action, decided once: a recipe of the repository's justfile
//! (named in `infra-check.toml`, or an obvious one), else clan's or Nix's own command. The
//! same value is shown by `plan` and `--dry-run` and spawned by the runner, so what is shown
//! is exactly what runs.

use std::path::{Path, PathBuf};

use infra_check_analysis::clan::overview::MachineInfo;
use infra_check_analysis::config::Config;
use serde::Serialize;

use crate::deploy::Action;
use crate::just_dump::{Justfile, Recipe};

/// A program and its arguments, spawned directly (never through a shell).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    /// The program as looked up on PATH (or inside the direnv environment).
    pub program: String,
    pub args: Vec<String>,
    /// The directory it runs in: the repository root.
    pub cwd: PathBuf,
    /// Run as `direnv exec <root> <program> <args…>`.
    pub direnv: bool,
    /// Where the command comes from: `recipe` (named in infra-check.toml), `justfile` (the
    /// justfile's obvious recipe) or `builtin`.
    pub source: &'static str,
}

impl Invocation {
    /// The full argument vector that is spawned, direnv included.
    pub fn argv(&self) -> Vec<String> {
        let mut argv = Vec::new();
        if self.direnv {
            argv.push("direnv".to_owned());
            argv.push("exec".to_owned());
            argv.push(self.cwd.display().to_string());
        }
        argv.push(self.program.clone());
        argv.extend(self.args.iter().cloned());
        argv
    }

    /// The command for people to read (and paste): each word quoted for a POSIX shell when it
    /// holds anything but plain characters. Only for display: nothing runs through a shell.
    pub fn shown(&self) -> String {
        self.argv()
            .iter()
            .map(|w| quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=#+,%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The justfile recipes an action could use.
pub struct Recipes<'a> {
    pub justfile: Option<&'a Justfile>,
    /// Why the justfile could not be read, when it exists but `just` could not dump it.
    pub unreadable: Option<String>,
}

/// Everything the decision depends on besides the machine.
pub struct Context<'a> {
    pub root: &'a Path,
    pub config: &'a Config,
    pub recipes: Recipes<'a>,
    pub direnv: bool,
    /// The short host name of the machine infra-check runs on.
    pub local_host: Option<String>,
    /// Whether infra-check runs as root (darwin-rebuild activates only as root).
    pub is_root: bool,
}

/// The recipe parameter names that say "a machine".
const MACHINE_PARAMETERS: &[&str] = &[
    "machine", "machines", "host", "hosts", "hostname", "name", "node", "target",
];

/// The decision for one machine, or why nothing can run for it.
pub fn decide(ctx: &Context, action: Action, m: &MachineInfo) -> Result<Invocation, String> {
    let make = |program: &str, args: Vec<String>, source: &'static str| Invocation {
        program: program.to_owned(),
        args,
        cwd: ctx.root.to_path_buf(),
        direnv: ctx.direnv,
        source,
    };
    let section = match action {
        Action::Deploy => &ctx.config.deploy,
        Action::Build => &ctx.config.build,
        Action::Rollback => &ctx.config.rollback,
    };
    if let Some(name) = &section.recipe {
        configured_recipe(ctx, action, name)?;
        return Ok(make("just", vec![name.clone(), m.name.clone()], "recipe"));
    }
    if let Some(r) = ctx.recipes.justfile.and_then(|j| obvious_recipe(j, action)) {
        return Ok(make(
            "just",
            vec![r.name.clone(), m.name.clone()],
            "justfile",
        ));
    }
    let class = m.class.as_deref();
    match (action, class) {
        (Action::Deploy, _) => Ok(make(
            "clan",
            vec!["machines".into(), "update".into(), m.name.clone()],
            "builtin",
        )),
        (Action::Build, Some("nixos")) => Ok(make(
            "nix",
            build_args(&format!(
                ".#nixosConfigurations.{}.config.system.build.toplevel",
                m.name
            ), &m.name),
            "builtin",
        )),
        (Action::Build, Some("darwin")) => Ok(make(
            "nix",
            build_args(&format!(".#darwinConfigurations.{}.system", m.name), &m.name),
            "builtin",
        )),
        (Action::Rollback, Some("nixos")) => match &m.target_host {
            Some(host) if !is_local(host, &m.name, ctx.local_host.as_deref()) => Ok(make(
                "nixos-rebuild",
                vec![
                    "switch".into(),
                    "--rollback".into(),
                    "--target-host".into(),
                    host.clone(),
                ],
                "builtin",
            )),
            _ if is_local_machine(&m.name, m.target_host.as_deref(), ctx.local_host.as_deref()) => {
                Ok(make(
                    "nixos-rebuild",
                    vec!["switch".into(), "--rollback".into()],
                    "builtin",
                ))
            }
            _ => Err(format!(
                "Machine `{}` has no target host (set `deploy.targetHost` in its inventory entry, or \
`clan.core.networking.targetHost` in its configuration) and is not this machine, so there is no \
host to roll back; add a `[rollback] recipe` to infra-check.toml to roll it back your way.",
                m.name
            )),
        },
        (Action::Rollback, Some("darwin")) => {
            if is_local_machine(&m.name, m.target_host.as_deref(), ctx.local_host.as_deref()) {
                // nix-darwin's darwin-rebuild refuses to activate unless it runs as root.
                if ctx.is_root {
                    Ok(make("darwin-rebuild", vec!["--rollback".into()], "builtin"))
                } else {
                    Ok(make(
                        "sudo",
                        vec!["darwin-rebuild".into(), "--rollback".into()],
                        "builtin",
                    ))
                }
            } else {
                Err(format!(
                    "Machine `{}` is a nix-darwin machine other than this one, and darwin-rebuild \
can only roll back the machine it runs on; run `infra-check rollback {}` on `{}` itself, or add a \
`[rollback] recipe` to infra-check.toml that rolls it back remotely.",
                    m.name, m.name, m.name
                ))
            }
        }
        (_, _) => Err(format!(
            "infra-check cannot tell without evaluating the repository whether `{}` is a NixOS or \
a nix-darwin machine, so it does not know which configuration to {}; set its `machineClass` in \
the inventory to the literal \"nixos\" or \"darwin\", or name a recipe in infra-check.toml.",
            m.name,
            action.verb()
        )),
    }
}

/// `nix build <installable> --out-link result-<m>`: each machine gets its own link, so builds
/// of several machines do not replace each other's `result`.
fn build_args(installable: &str, machine: &str) -> Vec<String> {
    vec![
        "build".into(),
        installable.into(),
        "--out-link".into(),
        format!("result-{machine}"),
    ]
}

/// The recipe `infra-check.toml` names must exist and take a machine.
fn configured_recipe(ctx: &Context, action: Action, name: &str) -> Result<(), String> {
    let section = action.section();
    let Some(justfile) = ctx.recipes.justfile else {
        return Err(match &ctx.recipes.unreadable {
            Some(why) => format!(
                "infra-check.toml names the recipe `{name}` in [{section}], but its recipes \
are not known: {why}"
            ),
            None => format!(
                "infra-check.toml names the recipe `{name}` in [{section}], but the repository \
has no justfile at its root. Add the recipe, or remove `recipe` from [{section}]."
            ),
        });
    };
    let Some(r) = justfile
        .recipes
        .iter()
        .find(|r| r.is_top_level() && r.name == name)
    else {
        return Err(format!(
            "infra-check.toml names the recipe `{name}` in [{section}], but `{}` has no such \
recipe; `just --list` lists them.",
            justfile.path.display()
        ));
    };
    if r.parameters.is_empty() {
        return Err(format!(
            "The recipe `{name}` named in [{section}] of infra-check.toml takes no parameter, \
but infra-check passes the machine as its first argument; give it one (`{name} machine:`)."
        ));
    }
    if r.parameters
        .iter()
        .skip(1)
        .any(|p| !p.has_default && !p.variadic)
    {
        return Err(format!(
            "The recipe `{name}` named in [{section}] of infra-check.toml needs more than one \
argument, but infra-check passes only the machine; give its other parameters defaults."
        ));
    }
    Ok(())
}

/// A top-level recipe named for the action whose first parameter is a machine, that takes no
/// other required argument and does not itself call infra-check (which would recurse).
fn obvious_recipe(justfile: &Justfile, action: Action) -> Option<&Recipe> {
    justfile.recipes.iter().find(|r| {
        r.is_top_level()
            && r.name == action.section()
            && r.parameters
                .first()
                .is_some_and(|p| MACHINE_PARAMETERS.contains(&p.name.to_ascii_lowercase().as_str()))
            && r.parameters
                .iter()
                .skip(1)
                .all(|p| p.has_default || p.variadic)
            && !r.body().contains("infra-check")
    })
}

/// A target host that is this machine.
fn is_local(host: &str, machine: &str, local_host: Option<&str>) -> bool {
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = host.split(':').next().unwrap_or(host);
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]")
        || local_host.is_some_and(|l| {
            let short = host.split('.').next().unwrap_or(host);
            short.eq_ignore_ascii_case(l) && machine.eq_ignore_ascii_case(l)
        })
}

/// The machine is the one infra-check runs on: its target is this host, or it has no target
/// and carries this host's name.
fn is_local_machine(machine: &str, target: Option<&str>, local_host: Option<&str>) -> bool {
    match target {
        Some(t) => is_local(t, machine, local_host),
        None => local_host.is_some_and(|l| machine.eq_ignore_ascii_case(l)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_words_quoted_only_when_needed() {
        let i = Invocation {
            program: "just".into(),
            args: vec!["deploy".into(), "a b".into(), "it's".into()],
            cwd: "/r".into(),
            direnv: true,
            source: "recipe",
        };
        assert_eq!(i.shown(), "direnv exec /r just deploy 'a b' 'it'\\''s'");
        assert_eq!(
            i.argv(),
            ["direnv", "exec", "/r", "just", "deploy", "a b", "it's"]
        );
    }

    #[test]
    fn tells_local_targets() {
        assert!(is_local("root@localhost", "x", None));
        assert!(is_local("ada@127.0.0.1:22", "x", None));
        assert!(is_local("ada@cobalt.example.org", "cobalt", Some("cobalt")));
        assert!(!is_local(
            "ada@cobalt.example.org",
            "cobalt",
            Some("indium")
        ));
        assert!(is_local_machine("cobalt", None, Some("cobalt")));
        assert!(!is_local_machine("cobalt", None, None));
    }
}
