//! `infra-check machines`: every machine of the clan with its class, platform, tags, roles and
//! deployment target, as an aligned table for people or as JSON for scripts.
//!
//! # JSON schema, version 1
//!
//! ```text
//! {
//!   "version": 1,
//!   "machines": [                              // sorted by name
//!     {
//!       "name": "argon",
//!       "class": "nixos",                      // "nixos" | "darwin" | null (cannot be known)
//!       "system": "x86_64-linux",              // nixpkgs.hostPlatform, or null when no module
//!                                              // of the machine sets it literally
//!       "tags": ["all", "nixos", "server"],    // sorted; includes the built-in tags
//!       "roles": [                             // sorted by instance, then role
//!         {
//!           "instance": "zerotier",            // key of inventory.instances
//!           "service": "zerotier",             // the instance's module.name, or null
//!           "role": "controller"
//!         }
//!       ],
//!       "rolesComplete": true,                 // false: some role's members (or some
//!                                              // instance's roles) cannot be known, and
//!                                              // the machine may hold more than `roles`
//!       "targetHost": "root@argon.example.org", // inventory deploy.targetHost, or null
//!       "buildHost": null,                     // inventory deploy.buildHost, or null
//!       "modules": ["nixos.base"]              // deferred modules clan.machines.<name>
//!                                              // imports directly, as `class.name` (sorted)
//!     }
//!   ]
//! }
//! ```
//!
//! - Every key is always present; `null` means the value is not set or cannot be known
//!   statically.
//! - A repository without a clan gives `{"version": 1, "machines": []}`.
//! - Keys may be added in later releases without changing `version`; a change to existing keys
//!   or their meaning increments it.

use std::process::ExitCode;

use infra_check_analysis::clan::overview::{MachineInfo, Overview};
use serde::Serialize;

use crate::error::CliError;
use crate::text::{column_widths, push_row};
use crate::{MachinesArgs, MachinesFormat};

/// The version of the schema above.
pub const SCHEMA_VERSION: u32 = 1;

pub fn run(args: &MachinesArgs) -> Result<ExitCode, CliError> {
    let fleet = crate::overview::load(&args.path)?;
    let text = match args.format {
        MachinesFormat::Table => render_table(&fleet.overview),
        MachinesFormat::Json => render_json(&fleet.overview)?,
    };
    crate::overview::finish(&text, &fleet.unreadable)
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    machines: Vec<JsonMachine<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonMachine<'a> {
    name: &'a str,
    class: Option<&'a str>,
    system: Option<&'a str>,
    tags: &'a [String],
    roles: Vec<JsonRole<'a>>,
    roles_complete: bool,
    target_host: Option<&'a str>,
    build_host: Option<&'a str>,
    modules: &'a [String],
}

#[derive(Serialize)]
struct JsonRole<'a> {
    instance: &'a str,
    service: Option<&'a str>,
    role: &'a str,
}

/// The JSON document for `overview`, pretty-printed, with a trailing newline.
pub fn render_json(overview: &Overview) -> Result<String, CliError> {
    let doc = Document {
        version: SCHEMA_VERSION,
        machines: overview
            .machines
            .iter()
            .map(|m| JsonMachine {
                name: &m.name,
                class: m.class.as_deref(),
                system: m.system.as_deref(),
                tags: &m.tags,
                roles: m
                    .roles
                    .iter()
                    .map(|r| JsonRole {
                        instance: &r.instance,
                        service: r.service.as_deref(),
                        role: &r.role,
                    })
                    .collect(),
                roles_complete: m.roles_complete,
                target_host: m.target_host.as_deref(),
                build_host: m.build_host.as_deref(),
                modules: &m.modules,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| CliError::Io(format!("The JSON document could not be produced: {e}.")))?;
    text.push('\n');
    Ok(text)
}

const HEADER: [&str; 6] = ["NAME", "CLASS", "SYSTEM", "TAGS", "ROLES", "TARGET"];

/// The table: a header, one row per machine, and a summary line. Values that cannot be known
/// are `?`, values that are not set (or empty lists) are `-`; roles that cannot all be known
/// end in `?`.
pub fn render_table(overview: &Overview) -> String {
    let rows: Vec<[String; 6]> = overview.machines.iter().map(row).collect();
    let widths = column_widths(&HEADER, &rows);
    let mut out = String::new();
    push_row(&mut out, "", &HEADER, &widths);
    for r in &rows {
        push_row(&mut out, "", r, &widths);
    }
    out.push_str(&summary(&overview.machines));
    out.push('\n');
    out
}

fn row(m: &MachineInfo) -> [String; 6] {
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join(",")
        }
    };
    [
        m.name.clone(),
        m.class.clone().unwrap_or_else(|| "?".into()),
        m.system.clone().unwrap_or_else(|| "?".into()),
        list(m.tags.clone()),
        {
            let mut roles: Vec<String> = m
                .roles
                .iter()
                .map(|r| format!("{}/{}", r.instance, r.role))
                .collect();
            // Roles that cannot be read may hold the machine too: never `-` as if none did.
            if !m.roles_complete {
                roles.push("?".into());
            }
            list(roles)
        },
        m.target_host.clone().unwrap_or_else(|| "-".into()),
    ]
}

/// `8 machines (4 nixos, 4 darwin)`: the count, then the count per class in the order classes
/// first appear, with machines of unknown class last.
fn summary(machines: &[MachineInfo]) -> String {
    let n = machines.len();
    let mut text = format!("{n} machine{}", if n == 1 { "" } else { "s" });
    let mut classes: Vec<(&str, usize)> = Vec::new();
    let mut unknown = 0;
    for m in machines {
        match m.class.as_deref() {
            Some(c) => match classes.iter_mut().find(|(k, _)| *k == c) {
                Some((_, count)) => *count += 1,
                None => classes.push((c, 1)),
            },
            None => unknown += 1,
        }
    }
    // NixOS first, then darwin, then anything else in order of appearance.
    classes.sort_by_key(|(c, _)| match *c {
        "nixos" => 0,
        "darwin" => 1,
        _ => 2,
    });
    let mut parts: Vec<String> = classes.iter().map(|(c, n)| format!("{n} {c}")).collect();
    if unknown > 0 {
        parts.push(format!("{unknown} of unknown class"));
    }
    if !parts.is_empty() {
        text.push_str(&format!(" ({})", parts.join(", ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use infra_check_analysis::clan::overview::RoleRef;
    use infra_check_analysis::{Location, TextRange};

    use super::*;

    fn machine(name: &str, class: Option<&str>) -> MachineInfo {
        MachineInfo {
            name: name.into(),
            class: class.map(String::from),
            system: None,
            tags: vec![],
            roles: vec![],
            roles_complete: true,
            target_host: None,
            build_host: None,
            modules: vec![],
            location: Location {
                file: "m.nix".into(),
                range: TextRange::new(0, 0),
            },
        }
    }

    #[test]
    fn table_marks_unknown_and_absent_values() {
        let mut a = machine("alpha", Some("nixos"));
        a.tags = vec!["all".into(), "nixos".into()];
        a.roles = vec![RoleRef {
            instance: "sshd".into(),
            service: Some("sshd".into()),
            role: "server".into(),
        }];
        a.target_host = Some("root@alpha".into());
        let b = machine("b", None);
        let text = render_table(&Overview {
            machines_complete: true,
            tags_complete: true,
            clan_core: true,
            machines: vec![a, b],
            instances: vec![],
        });
        assert_eq!(
            text,
            "NAME   CLASS  SYSTEM  TAGS       ROLES        TARGET\n\
             alpha  nixos  ?       all,nixos  sshd/server  root@alpha\n\
             b      ?      ?       -          -            -\n\
             2 machines (1 nixos, 1 of unknown class)\n"
        );
    }

    #[test]
    fn summary_counts_classes() {
        let ms = [
            machine("a", Some("darwin")),
            machine("b", Some("nixos")),
            machine("c", Some("nixos")),
        ];
        assert_eq!(summary(&ms), "3 machines (2 nixos, 1 darwin)");
        assert_eq!(summary(&ms[..1]), "1 machine (1 darwin)");
        assert_eq!(summary(&[]), "0 machines");
    }
}
