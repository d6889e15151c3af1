//! `infra-check.toml` at the repository root: severity overrides and excluded paths.
//!
//! ```toml
//! exclude = ["tests/**", "modules/legacy/*.nix"]
//! catalogs = ["infra-check-options-web.json"]   # from `infra-check options dump`
//! [severity]
//! "module/unused" = "off"
//! "module/class-mismatch" = "warning"
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
    exclude_set: Option<GlobSet>,
    pub problems: Vec<ConfigProblem>,
}

impl PartialEq for Config {
    fn eq(&self, other: &Self) -> bool {
        self.severity == other.severity
            && self.exclude == other.exclude
            && self.catalogs == other.catalogs
            && self.problems == other.problems
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
    fn invalid_toml_is_a_problem_not_a_panic() {
        let c = Config::parse(Some("exclude = ["));
        assert_eq!(c.problems[0].code, "config/invalid");
        let c = Config::parse(Some("colour = 1"));
        assert_eq!(c.problems[0].code, "config/invalid");
    }
}
