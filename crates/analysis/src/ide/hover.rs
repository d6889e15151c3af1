//! Hover text: what a module, machine, tag, instance, role, generator or option is.

use super::nav::label;
use super::occurrences::{all_occurrences, at, Subject};
use super::Hover;
use crate::clan::overview::overview;
use crate::clan::resolve::clan_model;
use crate::clan::services::{resolve, Resolution};
use crate::db::{Db, Workspace};
use crate::summary::attr_display;

pub fn hover(db: &dyn Db, ws: Workspace, file: &str, offset: u32) -> Option<Hover> {
    let here = at(db, ws, file, offset)?;
    let mut md = format!("**{}**\n\n", label(&here.subject));
    match &here.subject {
        Subject::Module { class, name } => {
            let all = all_occurrences(db, ws);
            let defs: Vec<String> = all
                .iter()
                .filter(|o| o.definition && o.subject == here.subject)
                .map(|o| format!("`{}`", o.location.file))
                .collect();
            md.push_str(&format!("A `{class}` module."));
            if defs.is_empty() {
                md.push_str(" Nothing in this flake defines it.");
            } else {
                md.push_str(&format!(" Defined in {}.", defs.join(", ")));
            }
            let key = format!("{class}.{}", attr_display(name));
            let machines: Vec<String> = overview(db, ws)
                .machines
                .into_iter()
                .filter(|m| m.modules.contains(&key))
                .map(|m| format!("`{}`", m.name))
                .collect();
            if !machines.is_empty() {
                md.push_str(&format!(
                    "\n\nImported by the machines {}.",
                    machines.join(", ")
                ));
            }
        }
        Subject::Machine(m) => {
            let info = overview(db, ws)
                .machines
                .into_iter()
                .find(|x| &x.name == m)?;
            md.push_str(&format!(
                "- class: `{}`\n- platform: `{}`\n- tags: {}\n- target: `{}`\n",
                info.class.as_deref().unwrap_or("?"),
                info.system.as_deref().unwrap_or("?"),
                info.tags
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                info.target_host.as_deref().unwrap_or("-"),
            ));
            if info.roles.is_empty() {
                md.push_str("- roles: none\n");
            } else {
                md.push_str(&format!(
                    "- roles: {}\n",
                    info.roles
                        .iter()
                        .map(|r| format!("`{}/{}`", r.instance, r.role))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if let Some(st) = crate::vars::status::statuses(db, ws)
                .into_iter()
                .find(|s| &s.machine == m)
            {
                let missing = st
                    .generators
                    .iter()
                    .filter(|g| {
                        g.directory.is_some()
                            && (!g.exists
                                || g.files
                                    .iter()
                                    .any(|f| f.state != crate::vars::status::FileState::Present))
                    })
                    .count();
                md.push_str(&format!(
                    "- vars: {} generator(s), {}\n",
                    st.generators.len(),
                    if missing == 0 {
                        "all generated".to_owned()
                    } else {
                        format!("{missing} need `clan vars generate {m}`")
                    }
                ));
            }
        }
        Subject::Tag(t) => {
            let clan = clan_model(db, ws);
            match clan.tag_members(t) {
                Some(ms) => md.push_str(&format!(
                    "Carried by {}.",
                    if ms.is_empty() {
                        "no machine".to_owned()
                    } else {
                        ms.iter()
                            .map(|m| format!("`{}`", m.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )),
                None => md.push_str("Its machines cannot all be known statically."),
            }
        }
        Subject::Instance(i) | Subject::Role { instance: i, .. } if !i.is_empty() => {
            let clan = clan_model(db, ws);
            let inst = clan.instances.get(i)?;
            match resolve(clan, inst) {
                Resolution::Service(v) => {
                    md.push_str(&format!("Service `{}`.", v.display));
                    if let Some(roles) = &v.roles {
                        for (r, rv) in roles {
                            if let Subject::Role { role, .. } = &here.subject {
                                if role != r {
                                    continue;
                                }
                            }
                            let members = inst
                                .roles
                                .get(r)
                                .and_then(|role| clan.role_assignments(role))
                                .map(|a| {
                                    a.into_iter()
                                        .map(|a| format!("`{}`", a.machine))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                });
                            md.push_str(&format!(
                                "\n- role `{r}`: {}; darwin: {}",
                                members.map_or("members not known statically".to_owned(), |m| {
                                    if m.is_empty() {
                                        "no machines".into()
                                    } else {
                                        m
                                    }
                                }),
                                match rv.darwin {
                                    Some(true) => "yes",
                                    Some(false) => "no (NixOS only)",
                                    None => "unknown",
                                }
                            ));
                        }
                    }
                }
                _ => md.push_str(&format!(
                    "Service `{}` (from another flake or not known).",
                    inst.service_name().unwrap_or("?")
                )),
            }
        }
        Subject::Generator(g) | Subject::GeneratorFile { generator: g, .. } => {
            let statuses = crate::vars::status::statuses(db, ws);
            let mut lines = Vec::new();
            for st in &statuses {
                for gs in st.generators.iter().filter(|x| *x.needed.name == **g) {
                    let files: Vec<String> = gs
                        .files
                        .iter()
                        .map(|f| {
                            format!(
                                "`{}` ({}, {})",
                                f.name,
                                match f.secret {
                                    Some(true) => "secret",
                                    Some(false) => "public",
                                    None => "?",
                                },
                                f.state.as_str()
                            )
                        })
                        .collect();
                    lines.push(format!(
                        "- `{}`: {}",
                        st.machine,
                        if !gs.exists {
                            "not generated".to_owned()
                        } else {
                            files.join(", ")
                        }
                    ));
                }
            }
            if lines.is_empty() {
                md.push_str("No machine needs it.");
            } else {
                md.push_str(&lines.join("\n"));
            }
        }
        Subject::Option(path) => {
            let infos = crate::options::option_info(db, ws, &path.join("."));
            let i = infos.first()?;
            md.push_str(&format!("- type: {}\n", i.type_description));
            if let Some(d) = &i.default {
                md.push_str(&format!("- default: `{d}`\n"));
            } else if i.required {
                md.push_str("- no default: it must be set\n");
            }
            md.push_str(&format!("- declared in `{}`\n", i.declared_in));
            if let Some(d) = &i.description {
                md.push_str(&format!("\n{d}\n"));
            }
        }
        _ => {}
    }
    Some(Hover {
        range: here.location.range,
        markdown: md,
    })
}
