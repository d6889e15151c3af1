//! The registry of diagnostic codes: the one place that says which codes exist, their default
//! severity, and the text `infra-check explain` prints. A check may only emit a code listed here.

use crate::diagnostic::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    pub code: &'static str,
    pub severity: Severity,
    /// One line, used as the SARIF rule's short description.
    pub summary: &'static str,
    /// What it means, why it matters and how to fix it.
    pub explanation: &'static str,
}

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "syntax/parse-error",
        severity: Severity::Error,
        summary: "The file is not valid Nix.",
        explanation: "The file does not parse as a Nix expression, so Nix will refuse to evaluate \
anything that imports it and infra-check can only check its syntax.\n\n\
Fix: correct the syntax at the marked position (a missing `;`, an unbalanced bracket or an \
unterminated string are the usual causes).",
    },
    CodeInfo {
        code: "module/undefined",
        severity: Severity::Error,
        summary: "A reference to a deferred module that no file defines.",
        explanation: "An expression such as `config.flake.modules.nixos.base`, \
`inputs.self.modules.darwin.base` or a name inside `with config.flake.modules.nixos; [ … ]` \
refers to `flake.modules.<class>.<name>`, but no flake-parts module in the repository defines \
that class and name. Evaluation fails with \"attribute '<name>' missing\" when the machine is \
built.\n\n\
Fix: correct the name (the message suggests the closest defined ones) or define the module with \
`flake.modules.<class>.<name> = { … };` in a file that import-tree loads.",
    },
    CodeInfo {
        code: "module/class-mismatch",
        severity: Severity::Error,
        summary: "A module of one class imported where another class is evaluated.",
        explanation: "flake-parts tags every `flake.modules.<class>.<name>` with `_class = \
\"<class>\"`, and the module system refuses a module whose class differs from the configuration \
being evaluated: a darwin module imported into a NixOS machine, or a homeManager module imported \
directly into a NixOS or nix-darwin module. Only `generic` modules fit anywhere.\n\n\
Fix: import the module of the right class (for example `flake.modules.nixos.base` instead of \
`flake.modules.darwin.base`), or import home-manager modules through \
`home-manager.users.<user>.imports` or `home-manager.sharedModules`.",
    },
    CodeInfo {
        code: "module/unused",
        severity: Severity::Info,
        summary: "A deferred module that nothing imports.",
        explanation: "The repository defines `flake.modules.<class>.<name>`, but no machine, \
module or configuration in the repository refers to it. It may be dead code, or a module that \
another flake consumes through this flake's `modules` output.\n\n\
Fix: import it where it is meant to be used, delete it, or silence this note with \
`# infra-check: ignore[module/unused]` on the line before the definition.",
    },
    CodeInfo {
        code: "module/import-not-found",
        severity: Severity::Error,
        summary: "`imports` names a relative path that does not exist.",
        explanation: "A path such as `./hardware.nix` in an `imports` list points at a file (or a \
directory with a `default.nix`) that does not exist in the repository. Nix fails with \"path … \
does not exist\" as soon as the module is evaluated. Remember that a flake only sees files that \
git tracks.\n\n\
Fix: correct the path or create the file.",
    },
    CodeInfo {
        code: "config/unknown-code",
        severity: Severity::Warning,
        summary: "A suppression comment or infra-check.toml names a code that does not exist.",
        explanation:
            "An `# infra-check: ignore[<code>]` comment or an entry in `infra-check.toml` \
names a diagnostic code infra-check does not know, so it has no effect. Usually a typo.\n\n\
Fix: use one of the codes listed by `infra-check explain --list`.",
    },
    CodeInfo {
        code: "config/invalid",
        severity: Severity::Error,
        summary: "infra-check.toml could not be read.",
        explanation: "The configuration file at the repository root is not valid TOML or has a \
value of the wrong shape, so none of its settings were applied.\n\n\
Fix: correct the file; the message says which key is wrong. Valid keys are `exclude` (a list \
of glob patterns) and `[severity]` (code = \"error\" | \"warning\" | \"info\" | \"hint\" | \
\"off\").",
    },
];

pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

pub fn default_severity(code: &str) -> Severity {
    lookup(code).map(|c| c.severity).unwrap_or(Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in CODES {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
            assert!(c.code.contains('/'), "{} is not group/name", c.code);
            assert!(
                c.summary.ends_with('.'),
                "{} summary is not a sentence",
                c.code
            );
            assert!(c.explanation.contains("Fix:"), "{} has no fix text", c.code);
        }
    }
}
