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
anything that imports it and infra-check can only check its syntax. In a file that nothing \
the flake evaluates names (no flake-parts module, no path literal, not a file clan-core imports \
from `machines/<m>/`), such as a template, it is reported as information only.\n\n\
Fix: correct the syntax at the marked position (a missing `;`, an unbalanced bracket or an \
unterminated string are the usual causes).",
    },
    CodeInfo {
        code: "syntax/too-complex",
        severity: Severity::Warning,
        summary: "A file too complex for infra-check to analyse.",
        explanation: "The file nests expressions more deeply than any hand-written Nix does \
(more than five hundred levels of brackets, operators, applications, `let`, `with` or lambdas), or \
holds an enormously long run of names and path characters with nothing between them, such as a \
chain of tens of thousands of attribute names joined by `.`, or has more than a million and a \
half different names, numbers and strings. Parsing such a file would take infra-check \
quadratic time or overflow its stack, so it skips the file: nothing in it is checked, \
and whatever it defines (modules, machines, generators, options) is treated as unknown, so other \
files get no false errors from its absence. Nix itself may still evaluate it.\n\n\
Fix: if the file is generated, generate flatter Nix (an attribute set or a list instead of a \
chain of operators or nested brackets), or JSON read with `builtins.fromJSON`; otherwise split \
the deep expression into `let` bindings or separate files.",
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
        code: "module/shadowed-config",
        severity: Severity::Error,
        summary: "`config.flake…` read through a NixOS, nix-darwin or home-manager module's own `config`.",
        explanation: "A deferred module written as a function that binds `config` (`flake.modules.nixos.x = \
{ config, pkgs, ... }: { imports = [ config.flake.modules.nixos.base ]; }`) gets the configuration \
it is evaluated in as `config`: the NixOS, nix-darwin or home-manager configuration, not \
flake-parts'. That configuration has no `flake` attribute, so Nix fails with \"attribute 'flake' \
missing\" when the machine is evaluated, and the module named there is not imported. In \
`imports` that always happens (an error); elsewhere only once the value is used (a warning: a \
setting of a disabled service may never be).\n\n\
Fix: read the flake-parts `config` outside the inner module, e.g. `let flakeModules = \
config.flake.modules.nixos; in { flake.modules.nixos.x = { pkgs, ... }: { imports = [ \
flakeModules.base ]; }; }`, or use `inputs.self.modules.nixos.base`.",
    },
    CodeInfo {
        code: "module/not-a-flake-module",
        severity: Severity::Error,
        summary: "import-tree loads a file that is not a flake-parts module.",
        explanation: "import-tree hands every `.nix` file below its directories to flake-parts as a \
flake-parts module, except paths with a component starting with `_`. A clan service \
(`_class = \"clan.service\"`), a NixOS, nix-darwin or home-manager module lying there is evaluated \
as a flake-parts module, and evaluation fails: with \"The module … was imported into flake instead \
of <class>\" for a module that declares its `_class`, or with \"The option `boot' does not exist\" \
for one that sets options flake-parts does not have.\n\n\
Fix: prefix the file's path with `_` (`modules/_nixos/hardware.nix`, `_hardware.nix`) so import-tree \
skips it, or move it out of the import-tree directory; keep importing it by path from the module \
that uses it.",
    },
    CodeInfo {
        code: "module/import-not-found",
        severity: Severity::Error,
        summary: "`imports` names a relative path that does not exist.",
        explanation: "A path such as `./hardware.nix` in an `imports` list points at a file (or a \
directory with a `default.nix`) that does not exist in the repository. Nix fails with \"path … \
does not exist\" as soon as the module is evaluated. Remember that a flake only sees files that \
git tracks. In a file nothing the flake evaluates names, it is reported as information only.\n\n\
Fix: correct the path or create the file.",
    },
    CodeInfo {
        code: "inventory/unknown-machine",
        severity: Severity::Error,
        summary: "A role names a machine that is not in the machine set.",
        explanation: "`roles.<role>.machines.<name>` names a machine that no inventory entry, `inventory.json`, `machines/<name>/` directory or `clan.machines` key defines. clan-core does not complain: the role silently does nothing for that name, so the service never reaches the machine you meant.\n\nFix: correct the name (the message suggests the closest machine) or add the machine to `inventory.machines`.",
    },
    CodeInfo {
        code: "inventory/unknown-tag",
        severity: Severity::Warning,
        summary: "A role's tag matches no machine.",
        explanation: "`roles.<role>.tags` names a tag that no machine carries (own `tags`, `inventory.tags`, or the built-in `all`, `nixos` and `darwin`). clan-core only prints a warning during evaluation and the role gets no machines from it.\n\nFix: correct the tag or add it to the machines that should hold the role.",
    },
    CodeInfo {
        code: "inventory/unknown-service",
        severity: Severity::Error,
        summary: "An instance's `module.name` is not a service of the resolved input.",
        explanation: "`instances.<name>.module.name` (which defaults to the instance name) is not provided by the input in `module.input`: not a built-in clan-core service when the input is clan-core or null, not one of the repository's `clan.modules` when it is \"self\". Evaluation throws \"clan-core doesn't provide clan-module with name …\".\n\nFix: correct the name, set `module.name` explicitly, or point `module.input` at the flake that provides the service.",
    },
    CodeInfo {
        code: "inventory/unknown-input",
        severity: Severity::Error,
        summary: "An instance's `module.input` is not a flake input.",
        explanation: "`instances.<name>.module.input` must be null (clan-core's services), \"self\" (this flake's `clan.modules`) or the name of a flake input. Evaluation throws \"Flake doesn't provide input with name …\".\n\nFix: use the input's name as written in `flake.nix` `inputs`.",
    },
    CodeInfo {
        code: "inventory/unknown-role",
        severity: Severity::Error,
        summary: "An instance uses a role its service does not define.",
        explanation: "`instances.<name>.roles.<role>` names a role the service does not have. Evaluation throws \"Instance … uses the following roles … But the clan-service module … only defines roles …\".\n\nFix: use one of the service's roles (the message lists them).",
    },
    CodeInfo {
        code: "inventory/no-roles",
        severity: Severity::Error,
        summary: "An instance with no roles.",
        explanation: "A service instance must assign machines through `roles`; without any, clan-core throws \"Instance '<name>' of service '<service>' must define members via 'roles'\".\n\nFix: add `roles.<role>.machines.<machine> = { };` or `roles.<role>.tags = [ … ];`, or remove the instance.",
    },
    CodeInfo {
        code: "inventory/role-cardinality",
        severity: Severity::Error,
        summary: "A role has too few or too many machines, or a service too many instances.",
        explanation: "Some services constrain how many machines hold a role (zerotier: exactly one controller and at most four moons; monitoring: exactly one server) or how many instances may exist. The count is taken after tags are expanded to machines. Violations fail `clan vars generate` and deploys, or evaluation itself.\n\nFix: adjust the role's machines or tags so the count fits.",
    },
    CodeInfo {
        code: "inventory/role-conflict",
        severity: Severity::Error,
        summary: "A machine holds two roles that exclude each other.",
        explanation: "Some services forbid one machine from holding two of their roles in the same instance (wireguard: controller and peer). The machine's configuration fails an assertion when it is built.\n\nFix: give the machine only one of the roles.",
    },
    CodeInfo {
        code: "inventory/unknown-setting",
        severity: Severity::Error,
        summary: "A settings key the role's interface does not declare.",
        explanation: "`settings` of a role, machine or tag sets an option the role's `interface` does not declare. Evaluation fails with \"The option `…settings.<key>' does not exist\".\n\nFix: correct the key (the message suggests the closest option) or remove it.",
    },
    CodeInfo {
        code: "inventory/setting-type",
        severity: Severity::Error,
        summary: "A settings value of the wrong type, or a required setting left unset.",
        explanation: "A settings value does not match the type the role's interface declares for it, or an option without a default is not set for a machine that holds the role. Evaluation fails with the module system's type error or \"The option … was accessed but has no value defined\".\n\nFix: give the value the declared type, or set the option.",
    },
    CodeInfo {
        code: "inventory/invalid-shape",
        severity: Severity::Error,
        summary: "An inventory value written in a shape clan-core does not accept.",
        explanation: "For example `roles.<role>.machines = [ \"a\" ]`: clan-core wants an attribute set of machine names to `{ settings }`. Evaluation fails with a type error.\n\nFix: write `roles.<role>.machines.a = { };` (the message shows the replacement).",
    },
    CodeInfo {
        code: "machine/no-configuration",
        severity: Severity::Error,
        summary: "An inventory machine with no configuration at all.",
        explanation: "The machine is in the inventory but has no `clan.machines.<name>` entry and no `machines/<name>/configuration.nix`, so clan builds it from service modules alone — usually not a bootable system, and a sign the machine module was never registered.\n\nFix: add `clan.machines.<name>.imports = [ … ];` or remove the machine from the inventory.",
    },
    CodeInfo {
        code: "machine/unregistered",
        severity: Severity::Warning,
        summary: "A machine module that no `clan.machines` entry uses.",
        explanation: "A deferred module named like a machine module (`flake.modules.<class>.\"machines/<class>/<name>\"`) exists, but no `clan.machines.<name>` imports it, so it is never part of any machine.\n\nFix: register it: `clan.machines.<name>.imports = [ config.flake.modules.<class>.\"machines/<class>/<name>\" ];`.",
    },
    CodeInfo {
        code: "machine/class-mismatch",
        severity: Severity::Error,
        summary: "`machineClass` disagrees with the class of the machine's modules.",
        explanation: "The inventory says the machine is `nixos` (the default) or `darwin`, but the modules `clan.machines.<name>` imports are all of the other class. clan evaluates the machine with its `machineClass`, so those imports fail with a class error.\n\nFix: set `machineClass` to match (darwin machines need `machineClass = \"darwin\"`) or import modules of the right class.",
    },
    CodeInfo {
        code: "machine/invalid-name",
        severity: Severity::Error,
        summary: "A machine name clan will refuse.",
        explanation: "clan's CLI accepts machine names matching `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` (case-insensitive) of at most 63 characters — a hostname label. Other names fail at `clan machines` and deploy time.\n\nFix: rename the machine (lowercase letters, digits and inner hyphens).",
    },
    CodeInfo {
        code: "platform/service-unsupported",
        severity: Severity::Warning,
        summary: "A darwin machine holds a role of a service that has no darwin module, and the role has no `extraModules`.",
        explanation: "The service (in the clan-core version the flake locks) only provides a `nixosModule`, so clan gives a darwin machine in one of its roles nothing from the service, silently. Other machines of the instance may also expect vars the darwin machine never generates. A role's `extraModules` do reach darwin machines (clan-core imports them into the darwin module of the role as well), so infra-check does not warn about a role that has them.\n\nFix: if only the NixOS machines are meant, narrow the role (use the `nixos` tag instead of `all`, or list machines explicitly); otherwise configure the darwin machine another way.",
    },
    CodeInfo {
        code: "platform/host-platform-mismatch",
        severity: Severity::Error,
        summary: "`nixpkgs.hostPlatform` disagrees with the machine's class.",
        explanation: "A darwin module or machine sets a Linux `nixpkgs.hostPlatform`, or a NixOS one sets a Darwin platform. The configuration cannot build.\n\nFix: use `aarch64-darwin`/`x86_64-darwin` for darwin and `x86_64-linux`/`aarch64-linux` for NixOS, or fix the machine's `machineClass`.",
    },
    CodeInfo {
        code: "vars/missing",
        severity: Severity::Error,
        summary: "A generated file a machine needs is not on disk.",
        explanation: "A generator the machine gets (from one of its modules or a service role it holds) has no `value` (public) or `secret` (sops-encrypted) file under `vars/`. Evaluation or activation fails on the machine (\"Please run `clan vars generate <machine>`\").\n\nFix: run the command in the message (`clan vars generate <machine>`) and commit the new files under `vars/` and `sops/`.",
    },
    CodeInfo {
        code: "vars/not-deployed",
        severity: Severity::Error,
        summary: "A secret the machine decrypts itself has no `machines/<m>` link for it.",
        explanation: "A secret file with `deploy = true` and `neededFor` `users` or `services` (the default) becomes a sops-nix secret that the machine decrypts with its own key at activation, so it must be encrypted for the machine: clan links the machines it is encrypted for under `<file>/machines/`. A machine that needs the secret but has no link there cannot decrypt it. Secrets with `neededFor = \"activation\"` or `\"partitioning\"` are decrypted with the admin's key and uploaded during deploy, so they need no link and are not reported.\n\nFix: run `clan vars fix <machine>` for a per-machine secret, or `clan vars generate <machine>` for a shared one, so the secret is re-encrypted for the machine.",
    },
    CodeInfo {
        code: "vars/machine-key-missing",
        severity: Severity::Error,
        summary: "A machine with secret vars has no sops key.",
        explanation: "The machine needs secrets it decrypts itself (`neededFor` `users` or `services`), but `sops/machines/<m>/key.json` (its age public key) does not exist, so nothing can be encrypted for it.\n\nFix: install the machine with clan (it generates the key) or add its age key with `clan secrets machines add <m> <age-public-key>`.",
    },
    CodeInfo {
        code: "vars/undeclared-reference",
        severity: Severity::Error,
        summary: "A module reads a generator or file that is not declared for the machine.",
        explanation: "`config.clan.core.vars.generators.<g>.files.<f>` is read, but `<g>` is not a generator of the machines that use the module, or it has no file `<f>`. Evaluation fails with a missing attribute.\n\nFix: correct the name (the message suggests the closest one) or declare the generator in a module the machines import.",
    },
    CodeInfo {
        code: "vars/orphan",
        severity: Severity::Warning,
        summary: "Vars on disk that nothing needs.",
        explanation: "Files under `vars/` or `sops/machines/` belong to a machine that is not in the clan, or to a generator no machine declares any more. They are dead weight and may keep old secrets around. When the generator could come from something infra-check cannot see (a module from another flake, an unknown condition), this is only an info.\n\nFix: delete the directory (`git rm -r …`) once you are sure nothing uses it.",
    },
    CodeInfo {
        code: "vars/dangling-link",
        severity: Severity::Error,
        summary: "A symbolic link under `vars/` or `sops/` points nowhere.",
        explanation: "clan links secrets to the users and machines that may decrypt them (`users/<u>`, `machines/<m>`); a link whose target is gone makes `clan vars` and `clan secrets` fail.\n\nFix: remove the link, or restore its target (for example the user's or machine's `key.json`).",
    },
    CodeInfo {
        code: "vars/plaintext-secret",
        severity: Severity::Error,
        summary: "A `secret` file that is not sops-encrypted.",
        explanation: "Files named `secret` under `vars/` and `sops/secrets/` must be sops-encrypted JSON; this one is not, so its content is committed in plain text. infra-check does not print it.\n\nFix: rotate the secret (it is exposed in git history) and regenerate it with `clan vars generate <machine> --regenerate`.",
    },
    CodeInfo {
        code: "vars/validation-stale",
        severity: Severity::Warning,
        summary: "`.validation-hash` differs from the generator's `validation`.",
        explanation: "clan stores the sha256 of the generator's `validation` value next to its files; when the value changes, the stored hash no longer matches and `clan vars check` reports the generator as outdated.\n\nFix: run `clan vars generate <machine>` to regenerate it.",
    },
    CodeInfo {
        code: "vars/stale-access",
        severity: Severity::Warning,
        summary: "A `deploy = false` secret is still encrypted for a machine.",
        explanation: "The file is declared with `deploy = false`: clan never puts it on the machine, so the machine needs no access to it. Yet `vars/…/<file>/machines/<m>` still links it to the machine, so it stays encrypted for the machine's age key (typically left over from before the file was marked `deploy = false`, or from a clan-core older than 2026-03 that encrypted such secrets for machines too). Anyone holding the machine's key can decrypt it. Reported only when the declaration is read in full and the locked clan-core is one whose `clan vars fix` removes such access.\n\nFix: run `clan vars fix <machine>`. For each secret of the machine with `deploy = false` that has a `machines/<machine>` link, clan's sops store removes the link and re-encrypts the secret for the remaining recipients (users and groups); commit the result.",
    },
    CodeInfo {
        code: "vars/near-miss",
        severity: Severity::Warning,
        summary: "A read of a generator or file that is not declared, close to one that is.",
        explanation: "`config.clan.core.vars.generators.<g>.files.<f>` is read where `<g>` (or the file `<f>`) is declared nowhere infra-check can read, but a generator (or file) with a very similar name is declared for the machines that use the module. The machines also import modules infra-check cannot read, which might still declare the name, so this is a warning, not an error; most often it is a typo and evaluation fails with a missing attribute.\n\nFix: use the declared name the message suggests (the quick fix rewrites it), or make sure the module that declares the name read is imported.",
    },
    CodeInfo {
        code: "option/type-mismatch",
        severity: Severity::Error,
        summary: "A value of the wrong type for its declared option.",
        explanation: "A module defines an option the repository declares (`options.<path> = lib.mkOption { type = …; }`) with a value the type does not accept: a string where a port is declared, a number above 65535, a value outside an `enum`. Evaluation fails with \"A definition for option `…' is not of type `…'\".\n\nFix: give the value the declared type; the message names the type and the declaration.",
    },
    CodeInfo {
        code: "option/unknown",
        severity: Severity::Error,
        summary: "An option path under the repository's own namespace that nothing declares, or that no declaration reaching the configuration declares.",
        explanation: "A module defines an option under a namespace only this repository declares (for example `fleet.*`), but no declaration matches the path — usually a typo. Evaluation fails with \"The option `…' does not exist\". NixOS, nix-darwin and home-manager namespaces are not checked without a catalog.\n\nThe same code is reported when an option the repository declares is set, or read as `config.<path>`, in a configuration that the declaring module does not reach: a machine that does not import it, a home-manager user whose imports and whose machine's `home-manager.sharedModules` lack it, or a standalone `homeConfigurations.<name>` (shared modules of machines never reach those). Each configuration is judged on its own modules, and only when all of them are read (or are flake inputs' modules whose options are known); otherwise infra-check stays silent.\n\nFix: correct the path (the message suggests the closest declared option) or declare the option; for an option declared elsewhere, import the declaring module into that configuration (or add it to `home-manager.sharedModules` for every user of a machine).",
    },
    CodeInfo {
        code: "option/conflict",
        severity: Severity::Error,
        summary: "Two different values for a non-mergeable option at the same priority.",
        explanation: "Two modules that reach the same machine define the same option (of a type that cannot merge, such as `str`, `bool`, `int`, `port` or `enum`) with different values at the same priority. Evaluation fails with \"The option `…' has conflicting definition values\".\n\nFix: remove one definition, or decide the winner with `lib.mkDefault` (weaker) or `lib.mkForce` (stronger).",
    },
    CodeInfo {
        code: "platform/option-unavailable",
        severity: Severity::Error,
        summary: "An option that exists only on the other platform.",
        explanation: "A module that reaches a NixOS machine defines an option that only nix-darwin has (such as `homebrew.*` or `launchd.*`), or one reaching a darwin machine defines a NixOS-only option (such as `boot.*` or `systemd.*`). Evaluation fails with \"The option `…' does not exist\". The table of platform-only namespaces, with where each fact comes from, is in `crates/analysis/data/platform-options.json`.\n\nFix: move the definition into a module of the right class, or guard it so it only reaches machines of that platform.",
    },
    CodeInfo {
        code: "deprecated/inventory-services",
        severity: Severity::Error,
        summary: "`inventory.services` was removed from clan-core.",
        explanation: "clan-core removed `inventory.services` (2026-05-29); setting it throws \"The `inventory.services` option has been removed. Use `inventory.instances` instead.\"\n\nFix: migrate each `services.<module>.<instance>` to `instances.<instance> = { module.name = \"<module>\"; roles.<role>.machines.<m> = { }; }` (see clan's migration guide).",
    },
    CodeInfo {
        code: "deprecated/facts",
        severity: Severity::Error,
        summary: "`clan.core.facts` was removed; use vars.",
        explanation: "clan-core removed the facts system (2025-12-03) in favour of vars generators.\n\nFix: replace `clan.core.facts.services.<name>` with `clan.core.vars.generators.<name>` (files, script, prompts).",
    },
    CodeInfo {
        code: "deprecated/clan-field",
        severity: Severity::Warning,
        summary: "A field of the clan configuration that the locked clan-core deprecated.",
        explanation: "The clan configuration sets a field clan-core has deprecated, such as `meta.tld` \
(deprecated in favour of `meta.domain` since 2025-11-27): evaluation prints clan-core's warning, \
quoted in the message, and the field will be removed in a later release. The era of each \
deprecation comes from the locked clan-core's date; near the date of the change nothing is \
reported.\n\n\
Fix: set the replacement the message names (`meta.domain = \"example.org\";`) and remove the \
deprecated field.",
    },
    CodeInfo {
        code: "deprecated/build-clan",
        severity: Severity::Warning,
        summary: "`lib.buildClan` is deprecated; use `lib.clan`.",
        explanation: "clan-core renamed `buildClan` to `clan`; the old name is kept for compatibility but will go away.\n\nFix: call `clan-core.lib.clan { … }`.",
    },
    CodeInfo {
        code: "just/unknown-machine",
        severity: Severity::Warning,
        summary: "A justfile recipe names a machine the clan does not have.",
        explanation: "A recipe of the repository's justfile (read with `just --dump`, only when \
`just` is installed) builds or deploys `.#nixosConfigurations.<m>` or \
`.#darwinConfigurations.<m>`, or runs `clan machines update <m>`, for a machine that is not in the \
clan (no inventory entry, `inventory.json`, `machines/<m>/` directory or `clan.machines` key), or \
names a machine's configuration under the other class. The recipe fails when it is run — \
typically in the middle of a deploy, after the machines before it were updated. Only names \
written literally count: a name computed from a recipe parameter, a variable just cannot \
resolve or the shell is never reported, and nothing is reported when some file that could \
define machines (or another `nixosConfigurations` entry) could not be read.\n\n\
Fix: correct the name (the message suggests the closest machine and lists the clan's \
machines), or remove the machine from the recipe if it was retired.",
    },
    CodeInfo {
        code: "just/incomplete-coverage",
        severity: Severity::Info,
        summary: "A justfile recipe lists some machines of a class but not all.",
        explanation: "A recipe that builds or deploys machines by naming them one by one (two or \
more literal `.#nixosConfigurations.<m>`, `.#darwinConfigurations.<m>` or `clan machines update \
a b …` arguments) leaves out some of the clan's machines of a class it names machines of. A \
`build-all` or `deploy-servers` recipe written when the fleet was smaller silently skips the \
machines added since. The message names the machines it leaves out. A recipe that also selects \
machines it does not list (a parameter, `--tags`, `clan machines update` without machines) is \
not reported.\n\n\
Fix: add the missing machines to the recipe, or let infra-check choose them: `infra-check \
build --all` and `infra-check deploy --all` (or `just infra build --all` with the module \
`infra-check just` prints). If the recipe is meant to cover only some machines, rename it to \
say so, or turn the note off with `\"just/incomplete-coverage\" = \"off\"` under `[severity]` \
in infra-check.toml.",
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
        summary: "infra-check.toml, or an option catalog it names, could not be read.",
        explanation: "The configuration file at the repository root is not valid TOML or has a \
value of the wrong shape, so none of its settings were applied; or an option catalog named in \
its `catalogs` is not one `infra-check options dump` wrote, so its options are not checked. The \
message gives the line and column; it never quotes a catalog, which may be any file.\n\n\
Fix: correct the file; the message says which key is wrong. Valid keys are `exclude` (a list \
of glob patterns), `catalogs` (paths inside the repository) and `[severity]` (code = \
\"error\" | \"warning\" | \"info\" | \"hint\" | \"off\"). Write a catalog again with \
`infra-check options dump`.",
    },
    CodeInfo {
        code: "workspace/unreadable",
        severity: Severity::Warning,
        summary: "A file or directory infra-check needs could not be read.",
        explanation: "A path infra-check reads — a `.nix` file, `flake.lock`, `inventory.json`, \
`infra-check.toml`, an option catalog, a vars `secret` or `.validation-hash`, or a directory \
holding them — is not something it can read: a named pipe, socket or device; a directory that \
cannot be listed; a symbolic link that dangles, loops, or leads outside the repository (or to a \
path the flake does not see, such as a git-ignored file); a name that is not valid UTF-8; or a \
permission error. infra-check reads only regular files inside the repository, so a hostile \
checkout cannot make it block, read without end, or print files from elsewhere.\n\n\
What the path could define is treated as unknown: checks that depend on it (undefined modules, \
unknown machines, missing vars, …) stay silent rather than guess. The finding is reported at the \
`imports` entry that names the path, or at the top of `flake.nix`.\n\n\
Fix: make it a regular, readable file (or directory) inside the repository, or remove it.",
    },
    CodeInfo {
        code: "workspace/too-large",
        severity: Severity::Warning,
        summary: "A file is too large to analyse, so it was not read.",
        explanation: "infra-check reads at most 8 MiB of a `.nix` file, `flake.lock` or \
`inventory.json`, 64 MiB of an option catalog, 16 MiB of a vars `secret` (only to see that it \
is encrypted), 1 MiB of `infra-check.toml` or `.gitignore` and 4 KiB of a `.validation-hash`. \
These are far above what people write; a larger file is almost always generated data or a \
mistake, and analysing it would dominate the run. The file is not read, and what it could \
define is treated as unknown, so the checks that depend on it stay silent.\n\n\
Fix: split the file into smaller ones, or move generated data out of the flake's sources.",
    },
    CodeInfo {
        code: "workspace/invalid-data",
        severity: Severity::Error,
        summary: "flake.lock or inventory.json is not JSON of the shape Nix or clan reads.",
        explanation: "`flake.lock` (read by Nix) or `inventory.json` (read by clan's \
`lib.clan`) is empty, truncated, not JSON, or JSON of the wrong shape (`null`, a list, \
`machines` that is not an object, …). Nix refuses such a lock file, and clan fails to evaluate \
such an inventory, so the flake does not build. The message gives the line and column and never \
quotes the file.\n\n\
What the file would have said is treated as unknown: with a broken `inventory.json` the set of \
machines is open (no `inventory/unknown-machine` or orphan findings are made up), with a broken \
`flake.lock` the locked revisions are unknown.\n\n\
Fix: restore the file from version control, or write it again — `nix flake lock` for \
`flake.lock`, the clan CLI for `inventory.json`.",
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
