//! `infra-check options dump`: writes one machine's option catalog, the NixOS or nix-darwin
//! options it can set, by evaluating the machine's `options` with Nix. It is the only command
//! that runs Nix: the user runs it on their own machine, commits the catalog, and names it in
//! `infra-check.toml` (`catalogs = ["infra-check-options-web.json"]`), after which `check`
//! knows the options of nixpkgs and nix-darwin without evaluating anything.
//!
//! Nix is run without a shell as
//! `nix --extra-experimental-features "nix-command flakes" eval --json --no-write-lock-file
//! <root>#<nixos|darwin>Configurations.<machine>.options --apply <options_dump.nix>`, through
//! `direnv exec <root>` when the root has an `.envrc` and direnv is installed, so that the Nix
//! of the repository's dev shell is used. `--no-write-lock-file` keeps Nix from touching
//! `flake.lock`.
//!
//! # Catalog format, version 1
//!
//! ```text
//! {"format":1,"class":"nixos","machine":"web","generatedBy":"infra-check 0.1.0","options":{
//! "networking.hostName":{"type":{"name":"str"},"hasDefault":false,"description":null},
//! "services.openssh.enable":{"type":{"name":"bool"},"hasDefault":true,"description":"Whether to enable the OpenSSH daemon."},
//! "services.openssh.ports":{"type":{"name":"listOf","elemType":{"name":"unsignedInt16"}},"hasDefault":true,"description":"Ports."}
//! }}
//! ```
//!
//! - `format`: 1. A change to existing keys or their meaning increments it.
//! - `class`: `"nixos"` (read from `nixosConfigurations`) or `"darwin"`
//!   (`darwinConfigurations`); `machine`: the machine whose options these are;
//!   `generatedBy`: `"infra-check <version>"`.
//! - `options`: every option declaration, keyed by its attribute path joined with `.`
//!   (sorted, one option per line so that a committed catalog diffs well). Options under
//!   `_module` are left out, as is any option whose type fails to evaluate, and paths deeper
//!   than 12 attributes. Submodules are not expanded: `users.users` is one option of type
//!   `attrsOf` of `submodule`, its sub-options are not listed.
//! - `type`: nixpkgs' type `name` (`"bool"`, `"str"`, `"listOf"`, `"submodule"`, …) plus,
//!   where present, `elemType` (a type, from `nestedTypes.elemType`: `listOf`, `attrsOf`,
//!   `lazyAttrsOf`, `nullOr`, …), `left` and `right` (types, for `either`) and `values` (for
//!   an `enum` whose values are all strings). Keys that are absent are not known.
//! - `hasDefault`: whether the declaration has a default (false means setting it is required
//!   when the option is used); `description`: the description as text (Markdown in current
//!   nixpkgs), or null when there is none or it fails to evaluate.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output, Stdio};

use serde::{Deserialize, Serialize};

use crate::error::CliError;
use crate::progress::Progress;
use crate::OptionsDumpArgs;

/// The version of the catalog format above.
pub const FORMAT: u32 = 1;

/// The Nix expression applied to the machine's `options`.
const EXPRESSION: &str = include_str!("options_dump.nix");

pub fn run(args: &OptionsDumpArgs) -> Result<ExitCode, CliError> {
    let root = crate::workspace::resolve_root(&args.path)?;
    let machine = args.machine.clone();
    let class = {
        let root = root.clone();
        crate::workspace::on_large_stack(move || class_of(&root, &machine))?
    };
    let Some(attribute) = configurations_attribute(&class) else {
        return Err(CliError::Usage(format!(
            "`{}` has the class `{class}`, but infra-check options dump can only read the \
options of nixos and darwin machines.",
            args.machine
        )));
    };
    if crate::programs::find("nix").is_none() {
        return Err(needs_nix());
    }
    let direnv = root
        .join(".envrc")
        .is_file()
        .then(|| crate::programs::find("direnv"))
        .flatten();
    let nix = NixRun::new(&root, attribute, &args.machine, direnv);

    let mut progress = Progress::stderr();
    progress.set(&format!(
        "Evaluating the options of {} with Nix… this can take a minute",
        args.machine
    ));
    let output = nix.run();
    progress.finish();
    let output = output?;
    let options = parse_dump(&output.stdout, &nix)?;

    let catalog = Catalog {
        class: &class,
        machine: &args.machine,
        options: &options,
    };
    let target = match &args.output {
        Some(path) => path.clone(),
        None => root.join(format!("infra-check-options-{}.json", args.machine)),
    };
    crate::output::write_atomically(&target, &catalog.render()?, "The option catalog")?;
    crate::output::emit(&summary(
        &root,
        &target,
        &args.machine,
        &class,
        options.len(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// The class of `machine` according to the static analysis, or a usage error that names the
/// machines there are.
fn class_of(root: &Path, machine: &str) -> Result<String, CliError> {
    let mut loaded = crate::workspace::load(root, "Analysing", &crate::StoreArgs::default())?;
    let overview = loaded
        .analysis
        .overview()
        .map_err(crate::workspace::cancelled)?;
    loaded.progress.finish();
    let Some(info) = overview.machines.iter().find(|m| m.name == machine) else {
        let names: Vec<String> = overview.machines.into_iter().map(|m| m.name).collect();
        return Err(CliError::Usage(crate::suggest::unknown_machine_message(
            machine, &names,
        )));
    };
    info.class.clone().ok_or_else(|| {
        CliError::Usage(format!(
            "infra-check cannot tell without evaluating the repository whether `{machine}` is a \
NixOS or a nix-darwin machine, so it does not know whether to read nixosConfigurations or \
darwinConfigurations; set its `machineClass` in the inventory to the literal \"nixos\" or \
\"darwin\"."
        ))
    })
}

/// The flake output that holds the configurations of machines of `class`.
fn configurations_attribute(class: &str) -> Option<&'static str> {
    match class {
        "nixos" => Some("nixosConfigurations"),
        "darwin" => Some("darwinConfigurations"),
        _ => None,
    }
}

fn needs_nix() -> CliError {
    CliError::Io(
        "infra-check options dump needs Nix: no `nix` executable was found on PATH. Install Nix \
(https://nixos.org/download) or run it from a shell that has Nix; this is the only infra-check \
command that evaluates the repository."
            .into(),
    )
}

/// One evaluation of a machine's options.
struct NixRun {
    root: PathBuf,
    /// `<root>#<attribute>.<machine>.options`.
    installable: OsString,
    /// `direnv` to run Nix in the repository's environment, when it has an `.envrc`.
    direnv: Option<PathBuf>,
}

impl NixRun {
    fn new(root: &Path, attribute: &str, machine: &str, direnv: Option<PathBuf>) -> NixRun {
        let mut installable = root.as_os_str().to_owned();
        installable.push(format!("#{attribute}.{}.options", attr_name(machine)));
        NixRun {
            root: root.to_path_buf(),
            installable,
            direnv,
        }
    }

    fn command(&self) -> Command {
        let mut cmd = match &self.direnv {
            Some(direnv) => {
                let mut cmd = Command::new(direnv);
                cmd.arg("exec").arg(&self.root).arg("nix");
                cmd
            }
            None => Command::new("nix"),
        };
        cmd.args(["--extra-experimental-features", "nix-command flakes"])
            .args(["eval", "--json", "--no-write-lock-file"])
            .arg(&self.installable)
            .args(["--apply", EXPRESSION])
            .current_dir(&self.root)
            .stdin(Stdio::null());
        cmd
    }

    /// The command as shown in messages, without the (long) expression.
    fn shown(&self) -> String {
        let nix = format!(
            "nix eval --json {} --apply <expression>",
            self.installable.to_string_lossy()
        );
        match &self.direnv {
            Some(_) => format!("direnv exec {} {nix}", self.root.display()),
            None => nix,
        }
    }

    /// Runs Nix and waits for it; a failure is an error that carries Nix's own messages.
    fn run(&self) -> Result<Output, CliError> {
        let output = match self.command().output() {
            Ok(output) => output,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(match &self.direnv {
                    Some(direnv) => {
                        CliError::Io(format!("`{}` could not be started: {e}.", direnv.display()))
                    }
                    None => needs_nix(),
                })
            }
            Err(e) => {
                return Err(CliError::Io(format!(
                    "`{}` could not be started: {e}.",
                    self.shown()
                )))
            }
        };
        if output.status.success() {
            return Ok(output);
        }
        let how = match output.status.code() {
            Some(code) => format!("failed with exit code {code}"),
            None => "was stopped by a signal".to_owned(),
        };
        // direnv colours its errors even when they go to a pipe.
        let said = without_colours(&String::from_utf8_lossy(&output.stderr));
        let said = said.trim_end();
        let mut message = format!(
            "`{}` {how}, so no option catalog was written.",
            self.shown()
        );
        if self.direnv.is_some() {
            message.push_str(" It ran through direnv because the repository has an `.envrc`.");
        }
        if said.is_empty() {
            message.push_str(" It printed nothing on standard error.");
        } else {
            message.push_str(" Its messages:\n");
            message.push_str(said);
        }
        Err(CliError::Io(message))
    }
}

/// `text` without ANSI colour sequences (`ESC [ … m`).
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("\x1b[") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find(|c: char| !(c.is_ascii_digit() || c == ';')) {
            Some(end) if after[end..].starts_with('m') => rest = &after[end + 1..],
            _ => {
                out.push_str("\x1b[");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `name` as one element of a Nix attribute path: quoted unless it is a plain identifier.
fn attr_name(name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''));
    if plain {
        name.to_owned()
    } else {
        format!("\"{name}\"")
    }
}

/// What `options_dump.nix` returns.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Dump {
    format: u32,
    options: BTreeMap<String, CatalogOption>,
}

/// One option of the catalog.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CatalogOption {
    #[serde(rename = "type")]
    ty: TypeTree,
    has_default: bool,
    description: Option<String>,
}

/// An option's type; the keys that are not known are left out.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TypeTree {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    elem_type: Option<Box<TypeTree>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    left: Option<Box<TypeTree>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    right: Option<Box<TypeTree>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    values: Option<Vec<String>>,
}

fn parse_dump(stdout: &[u8], nix: &NixRun) -> Result<BTreeMap<String, CatalogOption>, CliError> {
    let dump: Dump = serde_json::from_slice(stdout).map_err(|e| {
        CliError::Io(format!(
            "`{}` succeeded but did not print the expected option catalog ({e}); this is a bug \
in infra-check, please report it.",
            nix.shown()
        ))
    })?;
    if dump.format != FORMAT {
        return Err(CliError::Io(format!(
            "`{}` printed a catalog of format {} instead of {FORMAT}; this is a bug in \
infra-check, please report it.",
            nix.shown(),
            dump.format
        )));
    }
    Ok(dump.options)
}

/// The catalog file.
struct Catalog<'a> {
    class: &'a str,
    machine: &'a str,
    options: &'a BTreeMap<String, CatalogOption>,
}

impl Catalog<'_> {
    /// The catalog as JSON: the header keys on the first line, then one option per line, with
    /// a trailing newline.
    fn render(&self) -> Result<String, CliError> {
        let mut out = format!(
            "{{\"format\":{FORMAT},\"class\":{},\"machine\":{},\"generatedBy\":{},\"options\":{{",
            json(&self.class)?,
            json(&self.machine)?,
            json(&format!("infra-check {}", env!("CARGO_PKG_VERSION")))?,
        );
        for (i, (name, option)) in self.options.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push_str(&json(name)?);
            out.push(':');
            out.push_str(&json(option)?);
        }
        if !self.options.is_empty() {
            out.push('\n');
        }
        out.push_str("}}\n");
        Ok(out)
    }
}

/// `value` as compact JSON.
fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    serde_json::to_string(value)
        .map_err(|e| CliError::Io(format!("The option catalog could not be produced: {e}.")))
}

/// The sentence printed after writing: how many options went where, and how to use them.
fn summary(root: &Path, written: &Path, machine: &str, class: &str, count: usize) -> String {
    let options = format!(
        "{count} option{} of `{machine}` ({class})",
        if count == 1 { "" } else { "s" }
    );
    let inside = std::fs::canonicalize(written)
        .ok()
        .and_then(|full| full.strip_prefix(root).ok().map(Path::to_path_buf))
        .and_then(|rel| {
            rel.components()
                .map(|c| c.as_os_str().to_str())
                .collect::<Option<Vec<_>>>()
                .map(|parts| parts.join("/"))
        });
    match inside {
        Some(rel) if already_named(root, &rel) => format!(
            "Wrote {options} to `{rel}`, which infra-check.toml already names in `catalogs`: \
`infra-check check` checks the machine's options against it.\n"
        ),
        Some(rel) => format!(
            "Wrote {options} to `{rel}`. To check the machine's options against it, add \
`catalogs = [\"{rel}\"]` to infra-check.toml at the repository root.\n"
        ),
        None => format!(
            "Wrote {options} to `{}`. To check the machine's options against it, move it into \
the repository and add `catalogs = [\"<its path from the repository root>\"]` to \
infra-check.toml at the root.\n",
            std::path::absolute(written)
                .unwrap_or_else(|_| written.to_path_buf())
                .display()
        ),
    }
}

/// Whether infra-check.toml at `root` already lists the catalog `rel`.
fn already_named(root: &Path, rel: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(root.join(infra_check_analysis::config::CONFIG_FILE))
    else {
        return false;
    };
    infra_check_analysis::config::Config::parse(Some(&text))
        .catalogs
        .iter()
        .any(|c| infra_check_analysis::disk::normalize_join("", c).as_deref() == Some(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_machine_names_that_are_not_identifiers() {
        assert_eq!(attr_name("web-1"), "web-1");
        assert_eq!(attr_name("my.host"), "\"my.host\"");
        assert_eq!(attr_name("1st"), "\"1st\"");
    }

    #[test]
    fn renders_one_option_per_line() {
        let mut options = BTreeMap::new();
        options.insert(
            "a.b".to_owned(),
            CatalogOption {
                ty: TypeTree {
                    name: "listOf".into(),
                    elem_type: Some(Box::new(TypeTree {
                        name: "str".into(),
                        elem_type: None,
                        left: None,
                        right: None,
                        values: None,
                    })),
                    left: None,
                    right: None,
                    values: None,
                },
                has_default: true,
                description: None,
            },
        );
        let catalog = Catalog {
            class: "nixos",
            machine: "web",
            options: &options,
        };
        let text = catalog.render().unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"format\":1,\"class\":\"nixos\",\"machine\":\"web\",\"generatedBy\":\"infra-check {}\",\"options\":{{\n\
                 \"a.b\":{{\"type\":{{\"name\":\"listOf\",\"elemType\":{{\"name\":\"str\"}}}},\"hasDefault\":true,\"description\":null}}\n\
                 }}}}\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        let empty = BTreeMap::new();
        let text = Catalog {
            options: &empty,
            ..catalog
        }
        .render()
        .unwrap();
        assert!(text.ends_with("\"options\":{}}\n"), "{text}");
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    }

    #[test]
    fn removes_colours_only() {
        assert_eq!(
            without_colours("\x1b[31mdirenv: error\x1b[0m\n\x1b[2Kkept \x1b["),
            "direnv: error\n\x1b[2Kkept \x1b["
        );
    }

    #[test]
    fn suggests_close_machine_names() {
        let names = vec!["web".to_owned(), "mac".to_owned()];
        assert!(
            crate::suggest::unknown_machine_message("wbe", &names).contains("Did you mean `web`?")
        );
        assert!(
            crate::suggest::unknown_machine_message("mca", &names).contains("Did you mean `mac`?")
        );
        assert!(!crate::suggest::unknown_machine_message("zzz", &names).contains("Did you mean"));
        assert_eq!(
            crate::suggest::unknown_machine_message("x", &[]),
            "`x` is not a machine of this clan: it has no machines."
        );
    }
}
