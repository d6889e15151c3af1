//! `infra-check.toml` at the repository root: severity overrides and excluded paths.
//!
//! ```toml
//! exclude = ["tests/**", "modules/legacy/*.nix"]
//! catalogs = ["infra-check-options-web.json"]   # from `infra-check options dump`
//! store = "/nix/store"                         # where Nix keeps the locked inputs
//! [severity]
//! "module/unused" = "off"
//! "module/class-mismatch" = "warning"
//! [deploy]                                     # `infra-check deploy`
//! recipe = "deploy"                            # a justfile recipe; the machine is its first argument
//! health = ["just", "health", "{machine}"]     # run after each canary (`--canary`)
//! [build]
//! recipe = "build-machine"
//! [rollback]
//! recipe = "rollback"
//! ```

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::diagnostic::Severity;

pub const CONFIG_FILE: &str = "infra-check.toml";

/// A problem found while reading the configuration, reported as a diagnostic on the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub code: &'static str,
    pub message: String,
    /// Byte range in `infra-check.toml`, when known.
    pub range: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `None` means the code is turned off.
    pub severity: BTreeMap<String, Option<Severity>>,
    pub exclude: Vec<String>,
    /// Option catalogs written by `infra-check options dump` (root-relative paths).
    pub catalogs: Vec<String>,
    /// `store`: the Nix store directory that holds the locked inputs, canonical. The CLI's
    /// `--store` and `NIX_STORE_DIR` win over it (they describe the machine it runs on).
    pub store: Option<String>,
    exclude_set: Option<GlobSet>,
    pub problems: Vec<ConfigProblem>,
    /// `[deploy]`, `[build]`, `[rollback]`: how `infra-check deploy|build|rollback` runs.
    pub deploy: ActionConfig,
    pub build: ActionConfig,
    pub rollback: ActionConfig,
}

/// One action's section of `infra-check.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// The justfile recipe that performs the action; the machine is its first argument.
    #[serde(default)]
    pub recipe: Option<String>,
    /// A command (program and arguments, `{machine}` replaced by the machine's name) that
    /// says whether a deployed machine is healthy (exit 0). Only `[deploy]` has one.
    #[serde(default)]
    pub health: Vec<String>,
}

impl PartialEq for Config {
    fn eq(&self, other: &Self) -> bool {
        self.severity == other.severity
            && self.exclude == other.exclude
            && self.catalogs == other.catalogs
            && self.store == other.store
            && self.problems == other.problems
            && self.deploy == other.deploy
            && self.build == other.build
            && self.rollback == other.rollback
    }
}
impl Eq for Config {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default)]
    catalogs: Vec<String>,
    #[serde(default)]
    store: Option<String>,
    #[serde(default)]
    deploy: ActionConfig,
    #[serde(default)]
    build: ActionConfig,
    #[serde(default)]
    rollback: ActionConfig,
}

impl Config {
    pub fn parse(text: Option<&str>) -> Config {
        let mut cfg = Config::default();
        let Some(text) = text else {
            return cfg;
        };
        let raw: RawConfig = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                cfg.problems.push(ConfigProblem {
                    code: "config/invalid",
                    message: format!("{CONFIG_FILE} was ignored: {}", e.message()),
                    range: e.span().map(|s| (s.start as u32, s.end as u32)),
                });
                return cfg;
            }
        };
        let find = |needle: &str| -> Option<(u32, u32)> {
            text.find(needle)
                .map(|i| (i as u32, (i + needle.len()) as u32))
        };
        for (code, level) in raw.severity {
            if crate::codes::lookup(&code).is_none() {
                cfg.problems.push(ConfigProblem {
                    code: "config/unknown-code",
                    message: format!(
                        "`{code}` in [severity] is not an infra-check diagnostic code, so the setting has no effect; `infra-check explain --list` lists the codes."
                    ),
                    range: find(&code),
                });
                continue;
            }
            let sev = if level == "off" {
                None
            } else if let Some(s) = Severity::parse(&level) {
                Some(s)
            } else {
                cfg.problems.push(ConfigProblem {
                    code: "config/invalid",
                    message: format!(
                        "The severity `{level}` for `{code}` is not one of error, warning, info, hint or off, so it was ignored."
                    ),
                    range: find(&level),
                });
                continue;
            };
            cfg.severity.insert(code, sev);
        }
        cfg.catalogs = raw.catalogs;
        if let Some(store) = raw.store {
            cfg.store = crate::inputs::store_path::canonical_store_dir(&store);
            if cfg.store.is_none() {
                cfg.problems.push(ConfigProblem {
                    code: "config/invalid",
                    message: format!(
                        "`store = \"{store}\"` is not an absolute path, which a Nix store directory must be, so the default store is used. Write the directory Nix uses, such as `/nix/store`."
                    ),
                    range: find(&store),
                });
            }
        }
        for (section, action) in [("build", &raw.build), ("rollback", &raw.rollback)] {
            if !action.health.is_empty() {
                cfg.problems.push(ConfigProblem {
                    code: "config/invalid",
                    message: format!(
                        "`health` in [{section}] has no effect: only a deploy is followed by a health check. Move it to [deploy]."
                    ),
                    range: find("health"),
                });
            }
        }
        cfg.deploy = raw.deploy;
        cfg.build = raw.build;
        cfg.rollback = raw.rollback;
        let mut builder = GlobSetBuilder::new();
        for pat in &raw.exclude {
            match Glob::new(pat) {
                Ok(g) => {
                    builder.add(g);
                    cfg.exclude.push(pat.clone());
                }
                Err(e) => cfg.problems.push(ConfigProblem {
                    code: "config/invalid",
                    message: format!(
                        "The exclude pattern `{pat}` is not a valid glob ({e}), so it was ignored."
                    ),
                    range: find(pat),
                }),
            }
        }
        cfg.exclude_set = builder.build().ok();
        cfg
    }

    pub fn is_excluded(&self, path: &str) -> bool {
        self.exclude_set.as_ref().is_some_and(|s| s.is_match(path))
    }

    /// The severity a code should be reported at, or `None` when it is turned off.
    pub fn severity_for(&self, code: &str, default: Severity) -> Option<Severity> {
        match self.severity.get(code) {
            Some(s) => *s,
            None => Some(default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_overrides_and_reports_unknown_codes() {
        let c = Config::parse(Some(
            "exclude = [\"tests/**\"]\n[severity]\n\"module/unused\" = \"off\"\n\"module/nope\" = \"error\"\n",
        ));
        assert_eq!(c.severity_for("module/unused", Severity::Info), None);
        assert!(c.is_excluded("tests/a/b.nix"));
        assert!(!c.is_excluded("modules/a.nix"));
        assert_eq!(c.problems.len(), 1);
        assert_eq!(c.problems[0].code, "config/unknown-code");
    }

    #[test]
    fn reads_the_deploy_sections() {
        let c = Config::parse(Some(
            "[deploy]\nrecipe = \"deploy\"\nhealth = [\"just\", \"health\", \"{machine}\"]\n[build]\nrecipe = \"b\"\n",
        ));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.deploy.recipe.as_deref(), Some("deploy"));
        assert_eq!(c.deploy.health, ["just", "health", "{machine}"]);
        assert_eq!(c.build.recipe.as_deref(), Some("b"));
        assert_eq!(c.rollback, ActionConfig::default());
        let c = Config::parse(Some("[build]\nhealth = [\"true\"]\n"));
        assert_eq!(c.problems[0].code, "config/invalid");
        let c = Config::parse(Some("[deploy]\nrecipes = \"x\"\n"));
        assert_eq!(c.problems[0].code, "config/invalid");
    }

    #[test]
    fn reads_the_store_directory() {
        let c = Config::parse(Some("store = \"/opt/nix//store/\"\n"));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.store.as_deref(), Some("/opt/nix/store"));
        let c = Config::parse(Some("store = \"nix/store\"\n"));
        assert_eq!(c.store, None);
        assert_eq!(c.problems[0].code, "config/invalid");
        assert_eq!(c.problems[0].range, Some((9, 18)));
    }

    #[test]
    fn invalid_toml_is_a_problem_not_a_panic() {
        let c = Config::parse(Some("exclude = ["));
        assert_eq!(c.problems[0].code, "config/invalid");
        let c = Config::parse(Some("colour = 1"));
        assert_eq!(c.problems[0].code, "config/invalid");
    }
}
