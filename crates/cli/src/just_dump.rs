//! A repository's justfile as `just` itself reads it: `just --dump --dump-format json`, turned
//! into the few facts infra-check uses (recipes, their parameters, their bodies as text, and the
//! string variables they interpolate). Only `just` parses the justfile; dumping it runs no recipe
//! and evaluates no backtick, so reading it executes nothing of the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

/// The justfile names `just` looks for in a directory (it compares them case-insensitively).
const NAMES: &[&str] = &["justfile", ".justfile"];

/// The justfile at the repository root, if there is one.
pub fn find_justfile(root: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy().to_ascii_lowercase();
            NAMES.contains(&name.as_str()) && e.file_type().is_ok_and(|t| t.is_file())
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found.into_iter().next()
}

/// What the dump says, reduced to what infra-check uses.
#[derive(Debug, Clone, Default)]
pub struct Justfile {
    /// The justfile that was dumped.
    pub path: PathBuf,
    /// Every recipe, the root module's first and then each `mod`'s, by name path
    /// (`deploy`, `infra::deploy`).
    pub recipes: Vec<Recipe>,
}

#[derive(Debug, Clone)]
pub struct Recipe {
    /// `deploy`, or `infra::deploy` for a recipe of a module.
    pub namepath: String,
    pub name: String,
    pub parameters: Vec<Parameter>,
    /// The body, one line per line, with every interpolation written back as `{{…}}`; a
    /// variable of the justfile whose value is a plain string is replaced by that string, so
    /// `clan machines update {{servers}}` reads as the machines it names.
    pub lines: Vec<String>,
    /// The file the recipe is defined in (the root justfile for recipes of `import`ed files,
    /// which the dump does not tell apart).
    pub source: PathBuf,
    /// The recipe runs somewhere other than its file's directory: a `[working-directory]` or
    /// `[no-cd]` attribute, or its module's `working-directory` or `no-cd` setting.
    pub changes_directory: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    /// `machine` (one value), `+machines` (one or more) or `*machines` (any number).
    pub variadic: bool,
    pub has_default: bool,
}

impl Recipe {
    /// The body as one text.
    pub fn body(&self) -> String {
        self.lines.join("\n")
    }
    /// Whether the recipe is in the root module (not in a `mod`).
    pub fn is_top_level(&self) -> bool {
        !self.namepath.contains("::")
    }
}

/// Why a justfile could not be read.
#[derive(Debug)]
pub enum DumpError {
    /// `just` is not installed.
    NoJust,
    /// `just` refused the justfile (a syntax error, an unknown setting, …). Its message quotes
    /// the justfile, so it is not kept.
    Rejected,
    /// `just` could not be started or printed something that is not its dump.
    Failed(String),
}

impl DumpError {
    /// What happened to the justfile shown as `shown`, as a clause. just's own message is not
    /// repeated: it quotes the justfile, and `just --list` shows it to the user.
    pub fn clause(&self, shown: &str) -> String {
        match self {
            DumpError::NoJust => format!("`{shown}` was not read because `just` is not installed"),
            DumpError::Rejected => {
                format!("just rejected `{shown}` (run `just --list` to see why)")
            }
            DumpError::Failed(why) => format!("`{shown}` could not be read with just ({why})"),
        }
    }

    /// [`DumpError::clause`] as a sentence, with how to get `just` when it is missing.
    pub fn sentence(&self, shown: &str) -> String {
        match self {
            DumpError::NoJust => format!(
                "{}. {}",
                self.clause(shown),
                crate::programs::how_to_get("just")
            ),
            _ => format!("{}.", self.clause(shown)),
        }
    }
}

/// `just --dump` of the justfile at a root, running on its own thread while the repository is
/// analysed: it is a separate process, and waiting for it afterwards would add its start-up to
/// every run.
pub struct Pending(std::thread::JoinHandle<Option<Dumped>>);

/// A finished dump.
pub struct Dumped {
    /// The root, canonical.
    pub root: PathBuf,
    /// The justfile.
    pub path: PathBuf,
    pub result: Result<Justfile, DumpError>,
}

/// Starts dumping the justfile at `root`, if there is one.
pub fn start(root: &Path) -> Pending {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    Pending(std::thread::spawn(move || {
        let path = find_justfile(&root)?;
        let result = read(&path, &root);
        Some(Dumped { root, path, result })
    }))
}

impl Pending {
    /// The dump; `None` when there is no justfile.
    pub fn wait(self) -> Option<Dumped> {
        self.0.join().ok().flatten()
    }
}

/// Dumps `justfile` with `just`, in `root`.
pub fn read(justfile: &Path, root: &Path) -> Result<Justfile, DumpError> {
    let just = crate::programs::find("just").ok_or(DumpError::NoJust)?;
    let output = Command::new(&just)
        .arg("--justfile")
        .arg(justfile)
        .arg("--working-directory")
        .arg(root)
        .args(["--dump", "--dump-format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| {
            DumpError::Failed(format!("`{}` could not be started: {e}", just.display()))
        })?;
    if !output.status.success() {
        return Err(DumpError::Rejected);
    }
    parse(&output.stdout, justfile)
        .map_err(|e| DumpError::Failed(format!("its JSON dump could not be read: {e}")))
}

/// Reads a dump (the JSON `just --dump --dump-format json` prints).
pub fn parse(json: &[u8], justfile: &Path) -> Result<Justfile, serde_json::Error> {
    let module: Module = serde_json::from_slice(json)?;
    let mut out = Justfile {
        path: justfile.to_path_buf(),
        recipes: Vec::new(),
    };
    collect(&module, justfile, &mut out.recipes);
    Ok(out)
}

fn collect(module: &Module, default_source: &Path, out: &mut Vec<Recipe>) {
    let source = module
        .source
        .as_deref()
        .map(PathBuf::from)
        .unwrap_or_else(|| default_source.to_path_buf());
    let module_moves = module.settings.working_directory.is_some() || module.settings.no_cd;
    let strings: BTreeMap<&str, &str> = module
        .assignments
        .iter()
        .filter_map(|(name, a)| a.value.as_str().map(|v| (name.as_str(), v)))
        .collect();
    for (name, r) in &module.recipes {
        let params: Vec<&str> = r.parameters.iter().map(|p| p.name.as_str()).collect();
        out.push(Recipe {
            namepath: r.namepath.clone().unwrap_or_else(|| name.clone()),
            name: name.clone(),
            parameters: r
                .parameters
                .iter()
                .map(|p| Parameter {
                    name: p.name.clone(),
                    variadic: p.kind != "singular",
                    has_default: !p.default.is_null(),
                })
                .collect(),
            lines: r
                .body
                .iter()
                .map(|line| render_line(line, &strings, &params))
                .collect(),
            source: source.clone(),
            changes_directory: module_moves
                || r.attributes.iter().any(|a| match a {
                    serde_json::Value::String(name) => name == "no-cd",
                    serde_json::Value::Object(map) => map.contains_key("working-directory"),
                    _ => false,
                }),
        });
    }
    for m in module.modules.values() {
        collect(m, &source, out);
    }
}

/// One body line: literal text as it is, interpolations as `{{…}}` (a string variable that no
/// parameter shadows as its value).
fn render_line(
    line: &[serde_json::Value],
    strings: &BTreeMap<&str, &str>,
    params: &[&str],
) -> String {
    let mut out = String::new();
    for fragment in line {
        match fragment {
            serde_json::Value::String(s) => out.push_str(s),
            serde_json::Value::Array(interpolation) => {
                // `[["variable", "name"]]`: an interpolation holding one expression.
                let name = match interpolation.as_slice() {
                    [serde_json::Value::Array(expr)] => match expr.as_slice() {
                        [kind, serde_json::Value::String(name)] if kind == "variable" => {
                            Some(name.as_str())
                        }
                        _ => None,
                    },
                    _ => None,
                };
                match name {
                    Some(n) if !params.contains(&n) && strings.contains_key(n) => {
                        out.push_str(strings[n]);
                    }
                    Some(n) => {
                        out.push_str("{{");
                        out.push_str(n);
                        out.push_str("}}");
                    }
                    None => out.push_str("{{…}}"),
                }
            }
            _ => {}
        }
    }
    out
}

/// The 0-based line at which `recipe` is declared in its source text, if it can be found: a
/// line that starts with the recipe's name (after an optional `@`) followed by a parameter or
/// the colon. Used only to point at the recipe.
pub fn recipe_line(text: &str, recipe: &str) -> Option<usize> {
    text.lines().position(|line| {
        let line = line.strip_prefix('@').unwrap_or(line);
        line.strip_prefix(recipe).is_some_and(|rest| {
            rest.starts_with(':') || rest.starts_with(' ') || rest.starts_with('\t')
        }) && line.contains(':')
    })
}

#[derive(Deserialize)]
struct Module {
    #[serde(default)]
    assignments: BTreeMap<String, Assignment>,
    #[serde(default)]
    modules: BTreeMap<String, Module>,
    #[serde(default)]
    recipes: BTreeMap<String, RawRecipe>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    settings: Settings,
}

#[derive(Deserialize, Default)]
struct Settings {
    #[serde(default)]
    working_directory: Option<serde_json::Value>,
    #[serde(default)]
    no_cd: bool,
}

#[derive(Deserialize)]
struct Assignment {
    #[serde(default)]
    value: serde_json::Value,
}

#[derive(Deserialize)]
struct RawRecipe {
    #[serde(default)]
    attributes: Vec<serde_json::Value>,
    #[serde(default)]
    body: Vec<Vec<serde_json::Value>>,
    #[serde(default)]
    parameters: Vec<RawParameter>,
    #[serde(default)]
    namepath: Option<String>,
}

#[derive(Deserialize)]
struct RawParameter {
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    default: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = r#"{
      "assignments": {"servers": {"name": "servers", "value": "argon krypton"},
                      "computed": {"name": "computed", "value": ["call", "env", "X"]}},
      "modules": {"infra": {"assignments": {}, "modules": {}, "source": "/r/infra.just",
        "recipes": {"deploy": {"body": [], "parameters": [
          {"name": "machines", "kind": "star", "default": null}], "private": false,
          "namepath": "infra::deploy"}}}},
      "recipes": {
        "deploy": {"body": [["clan machines update ", [["variable", "machine"]]]],
                   "attributes": ["private", {"group": "deploy"}],
                   "parameters": [{"name": "machine", "kind": "singular", "default": null}],
                   "private": false, "namepath": "deploy"},
        "servers": {"attributes": [{"working-directory": "sub"}], "body": [["clan machines update ", [["variable", "servers"]], " ",
                              [["variable", "computed"]], [["call", "x"]]]],
                    "parameters": [], "private": true, "namepath": "servers"}
      },
      "source": "/r/justfile"
    }"#;

    #[test]
    fn reads_recipes_parameters_and_bodies() {
        let j = parse(DUMP.as_bytes(), Path::new("/r/justfile")).unwrap();
        let names: Vec<&str> = j.recipes.iter().map(|r| r.namepath.as_str()).collect();
        assert_eq!(names, ["deploy", "servers", "infra::deploy"]);
        let deploy = &j.recipes[0];
        assert_eq!(
            deploy.parameters,
            [Parameter {
                name: "machine".into(),
                variadic: false,
                has_default: false
            }]
        );
        assert_eq!(deploy.body(), "clan machines update {{machine}}");
        // A string variable reads as its value; anything computed stays an interpolation.
        assert_eq!(
            j.recipes[1].body(),
            "clan machines update argon krypton {{computed}}{{…}}"
        );
        assert!(!j.recipes[2].is_top_level());
        assert!(j.recipes[2].parameters[0].variadic);
        assert_eq!(j.recipes[2].source, Path::new("/r/infra.just"));
        assert!(!deploy.changes_directory);
        assert!(j.recipes[1].changes_directory);
    }

    #[test]
    fn finds_the_line_a_recipe_is_declared_on() {
        let text = "x := \"deploy\"\n# deploy it\ndeploy-all:\n  true\n@deploy machine:\n  true\n";
        assert_eq!(recipe_line(text, "deploy"), Some(4));
        assert_eq!(recipe_line(text, "deploy-all"), Some(2));
        assert_eq!(recipe_line(text, "missing"), None);
    }
}
