//! The vars checks: generated files a machine needs but lacks, secrets not deployed to it,
//! missing machine keys, reads of undeclared generators, orphans, broken links, plaintext
//! secrets and stale validation hashes. Secrets are never read here: only which paths exist,
//! links, and the loader's "is sops-encrypted" flag.

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::attribution::Affects;
use crate::clan::held::{machine_key, MachineKey};
use crate::clan::resolve::clan_model;
use crate::db::{Db, Workspace};
use crate::diagnostic::{Diagnostic, Fix, Location, Severity, TextRange};
use crate::disk::{DiskTree, EntryKind};
use crate::vars::model::NeededFor;
use crate::vars::resolve::{vars_model, VarsModel};
use crate::vars::status::{machine_status, FileState};

fn at_path(path: &str) -> Location {
    Location::new(path, TextRange::default())
}

fn generate_fix(machine: &str) -> Fix {
    Fix {
        message: format!("Generate the missing vars: `clan vars generate {machine}`."),
        edits: Vec::new(),
        command: Some(format!("clan vars generate {machine}")),
    }
}

pub(super) fn check(db: &dyn Db, ws: Workspace) -> Vec<Diagnostic> {
    let clan = clan_model(db, ws);
    let vars = vars_model(db, ws);
    let disk = ws.disk(db);
    let mut out = Vec::new();
    disk_integrity(disk, &mut out);
    if !clan.present {
        return out;
    }
    // A shared generator is one directory for all its machines: report it once, as breaking
    // every machine that needs it.
    let mut reported_shared: FxHashMap<(String, String), usize> = FxHashMap::default();
    for machine in vars.machines.keys() {
        for f in machine_findings(db, ws, machine).iter() {
            if let Some((generator, file)) = &f.shared {
                if shared_again(&mut reported_shared, generator, file, machine, &mut out) {
                    continue;
                }
            }
            out.push(f.diagnostic.clone());
        }
    }
    orphans(clan, vars, disk, &mut out);
    undeclared(vars, clan, &mut out);
    out
}

/// A finding about one machine's vars; `shared`: it is about file `.1` (`""`: the whole
/// directory) of the shared generator `.0`, which other machines may need too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MachineFinding {
    shared: Option<(String, String)>,
    diagnostic: Diagnostic,
}

/// The vars findings about one machine, memoised per machine (an edit elsewhere leaves them).
pub(super) fn machine_findings<'db>(
    db: &'db dyn Db,
    ws: Workspace,
    machine: &str,
) -> &'db Arc<Vec<MachineFinding>> {
    findings_of(db, machine_key(db, ws, machine))
}

#[salsa::tracked(returns(ref))]
fn findings_of<'db>(db: &'db dyn Db, key: MachineKey<'db>) -> Arc<Vec<MachineFinding>> {
    let (ws, machine) = (*key.ws(db), key.name(db));
    let clan = clan_model(db, ws);
    let disk = ws.disk(db);
    let mut out = Vec::new();
    let Some(st) = machine_status(db, ws, machine) else {
        return Arc::new(out);
    };
    let mloc = clan.machines[machine].location();
    let mut push = |shared: Option<(&str, &str)>, diagnostic: Diagnostic| {
        out.push(MachineFinding {
            shared: shared.map(|(g, f)| (g.to_owned(), f.to_owned())),
            diagnostic,
        })
    };
    for g in &st.generators {
        let n = &g.needed;
        let source = n.source.describe();
        let loc = n.source.location();
        let Some(dir) = &g.directory else { continue };
        let shared = |file| (n.share == Some(true)).then_some((&*n.name, file));
        let with_machine = |d: Diagnostic| {
            d.with_related(&mloc.file, mloc.range, format!("machine `{machine}`"))
                .with_fix(generate_fix(machine))
                .for_machines([machine])
        };
        if !g.exists {
            push(
                shared(""),
                with_machine(Diagnostic::new(
                    "vars/missing",
                    &loc.file,
                    loc.range,
                    format!(
                        "Machine `{machine}` needs the generator `{}` ({source}), but `{dir}/` does not exist: it was never generated. Run `clan vars generate {machine}`.",
                        n.name
                    ),
                )),
            );
            continue;
        }
        for f in &g.files {
            match f.state {
                FileState::Present => {}
                FileState::Missing => {
                    push(
                        shared(&f.name),
                        with_machine(Diagnostic::new(
                            "vars/missing",
                            &loc.file,
                            loc.range,
                            format!(
                                "Machine `{machine}` needs the file `{}` of generator `{}` ({source}), but `{}` does not exist. Run `clan vars generate {machine}`.",
                                f.name, n.name, f.path
                            ),
                        )),
                    );
                }
                FileState::NotDeployed => {
                    // `clan vars generate` re-encrypts shared secrets for new machines;
                    // per-machine ones are re-encrypted by `clan vars fix`.
                    let fix = if n.share == Some(true) {
                        generate_fix(machine)
                    } else {
                        Fix {
                            message: format!(
                                "Encrypt the machine's secrets for it: `clan vars fix {machine}`."
                            ),
                            edits: Vec::new(),
                            command: Some(format!("clan vars fix {machine}")),
                        }
                    };
                    let command = fix.command.clone().unwrap_or_default();
                    push(
                        None,
                        Diagnostic::new(
                            "vars/not-deployed",
                            &loc.file,
                            loc.range,
                            format!(
                                "The secret `{}/{}` is decrypted on machine `{machine}` (needed for {}), but it is not encrypted for the machine: `{}` does not exist, so sops-nix cannot decrypt it there. Run `{command}`.",
                                n.name,
                                f.name,
                                f.needed_for.map(NeededFor::as_str).unwrap_or("services"),
                                f.path
                            ),
                        )
                        .with_related(&mloc.file, mloc.range, format!("machine `{machine}`"))
                        .with_fix(fix)
                        .for_machines([machine]),
                    );
                }
            }
        }
        if vars_fix_drops_undeployed(clan.clan_core_last_modified) {
            let mut stale = Vec::new();
            stale_access(disk, machine, dir, n, &mut stale);
            for d in stale {
                push(None, d);
            }
        }
        if let Some((stored, expected)) = &g.stale {
            push(
                None,
                Diagnostic::new(
                    "vars/validation-stale",
                    &loc.file,
                    loc.range,
                    format!(
                        "The `validation` of generator `{}` changed since its vars were generated: `{dir}/.validation-hash` holds {stored}, but the declared value hashes to {expected}. Run `clan vars generate {machine}` to regenerate it.",
                        n.name
                    ),
                )
                .with_fix(generate_fix(machine))
                .for_machines([machine]),
            );
        }
    }
    if st.needs_key && !st.has_key {
        push(None, Diagnostic::new(
            "vars/machine-key-missing",
            &mloc.file,
            mloc.range,
            format!(
                "Machine `{machine}` has secret vars it decrypts itself (needed for users or services), but `sops/machines/{machine}/key.json` does not exist, so no secret can be encrypted for it. Add its age key with `clan secrets machines add {machine} <age-public-key>` (clan does this when it installs the machine)."
            ),
        ).for_machines([machine]));
    }
    Arc::new(out)
}

/// Whether the finding about file `file` of shared generator `generator` was already made for
/// another machine; if so, `machine` is added to the machines it breaks. Otherwise the finding
/// about to be pushed is remembered.
fn shared_again(
    reported: &mut FxHashMap<(String, String), usize>,
    generator: &str,
    file: &str,
    machine: &str,
    out: &mut [Diagnostic],
) -> bool {
    let key = (generator.to_owned(), file.to_owned());
    match reported.get(&key) {
        Some(&i) => {
            if let Some(Affects::Machines(ms)) = &mut out[i].machines {
                ms.insert(machine.to_owned());
            }
            true
        }
        None => {
            reported.insert(key, out.len());
            false
        }
    }
}

/// clan-core's sops store stopped giving machines access to `deploy = false` secrets, and
/// `clan vars fix` started removing that access, on 2026-03-24 (shared generators, a98393c72)
/// and 2026-03-27 (all, 23eab0091). A week's margin covers a lock a little behind `main`.
const UNDEPLOYED_ACCESS_DROPPED: i64 = 1_775_203_200; // 2026-04-03

fn vars_fix_drops_undeployed(clan_core_last_modified: Option<i64>) -> bool {
    clan_core_last_modified.is_some_and(|t| t >= UNDEPLOYED_ACCESS_DROPPED)
}

/// `vars/stale-access`: a secret the machine never receives (`deploy = false`) that is still
/// encrypted for it (a `machines/<m>` link beside it). Only for files whose declaration is
/// read in full and says `deploy = false` unconditionally.
fn stale_access(
    disk: &DiskTree,
    machine: &str,
    dir: &str,
    n: &crate::vars::resolve::Needed,
    out: &mut Vec<Diagnostic>,
) {
    for f in n.files.iter().flatten() {
        if !(f.certain && f.secret == Some(true) && f.deploy == Some(false)) {
            continue;
        }
        let link = format!("{dir}/{}/machines/{machine}", f.name);
        // Really there, not merely below a directory that could not be listed.
        if disk.get(&link).is_none() {
            continue;
        }
        let loc = f.location.as_ref().unwrap_or(n.source.location());
        out.push(
            Diagnostic::new(
                "vars/stale-access",
                &loc.file,
                loc.range,
                format!(
                    "The secret `{}/{}` has `deploy = false`, so machine `{machine}` never receives it, but `{link}` still encrypts it for the machine's key. Run `clan vars fix {machine}`: it removes the link and re-encrypts the secret for the remaining recipients.",
                    n.name, f.name
                ),
            )
            .with_fix(Fix {
                message: format!("Remove the machine's access: `clan vars fix {machine}`."),
                edits: Vec::new(),
                command: Some(format!("clan vars fix {machine}")),
            })
            .for_machines([machine]),
        );
    }
}

fn disk_integrity(disk: &DiskTree, out: &mut Vec<Diagnostic>) {
    for (path, kind) in disk.iter() {
        if !(path.starts_with("vars/") || path.starts_with("sops/")) {
            continue;
        }
        if let EntryKind::Symlink(target) = kind {
            if let Some(resolved) = disk.resolve_link(path) {
                if !disk.exists(&resolved) {
                    let l = at_path(path);
                    out.push(Diagnostic::new(
                        "vars/dangling-link",
                        &l.file,
                        l.range,
                        format!("The link `{path}` points to `{target}`, which does not exist (`{resolved}`). Remove the link or restore its target."),
                    ));
                }
            }
        }
    }
    for (path, encrypted) in disk.secrets() {
        if !encrypted {
            let l = at_path(path);
            out.push(Diagnostic::new(
                "vars/plaintext-secret",
                &l.file,
                l.range,
                format!("`{path}` is not sops-encrypted JSON: this secret is committed in plain text (its content is not shown). Rotate it and regenerate it with `clan vars generate`."),
            ));
        }
    }
}

fn orphans(
    clan: &crate::clan::resolve::ClanModel,
    vars: &VarsModel,
    disk: &DiskTree,
    out: &mut Vec<Diagnostic>,
) {
    let all_complete = clan.machines_complete && vars.machines.values().all(|m| m.complete);
    // Orphans are directories: the finding goes to the line naming the machine they belong
    // to when there is one, else to `flake.nix` (the message names the path).
    // An orphan breaks no configuration; the machine it names, if it is one, is the one a
    // `--deny-warnings` deploy holds back.
    let orphan = |l: Location, message: String, certain: bool, of: Option<&str>| {
        let mut d = Diagnostic::new("vars/orphan", &l.file, l.range, message)
            .for_machines(of.filter(|m| clan.machines.contains_key(*m)));
        if !certain {
            d.severity = Severity::Info;
        }
        d
    };
    for (name, kind) in disk.children("vars/per-machine") {
        if !matches!(kind, EntryKind::Dir) {
            continue;
        }
        match vars.machines.get(name) {
            None if clan.machines_complete && !clan.machines.contains_key(name) => out.push(orphan(
                Location::flake_nix(),
                format!("`vars/per-machine/{name}/` holds vars of `{name}`, which is not a machine of this clan. Delete it if the machine is gone."),
                true,
                None,
            )),
            None => {}
            Some(mv) => {
                let dir = format!("vars/per-machine/{name}");
                let unknown: Vec<&str> = disk
                    .children(&dir)
                    .filter(|(g, gk)| matches!(gk, EntryKind::Dir) && !mv.knows(g))
                    .map(|(g, _)| g)
                    .collect();
                if mv.complete {
                    for g in unknown {
                        out.push(orphan(
                            clan.machines[name].location(),
                            format!("`vars/per-machine/{name}/{g}/` holds vars of the generator `{g}`, which machine `{name}` does not get."),
                            true,
                            Some(name),
                        ));
                    }
                } else if !unknown.is_empty() {
                    // Only a guess: say it once per machine, not once per directory.
                    out.push(orphan(
                        clan.machines[name].location(),
                        format!(
                            "`vars/per-machine/{name}/` holds vars of {} that machine `{name}` does not get as far as infra-check can see ({}); the machine imports modules infra-check cannot read, which may declare {}.",
                            plural_generators(unknown.len()),
                            listed(&unknown),
                            if unknown.len() == 1 { "it" } else { "them" }
                        ),
                        false,
                        Some(name),
                    ));
                }
            }
        }
    }
    let unused_shared: Vec<&str> = disk
        .children("vars/shared")
        .filter(|(g, kind)| {
            matches!(kind, EntryKind::Dir) && !vars.machines.values().any(|m| m.knows(g))
        })
        .map(|(g, _)| g)
        .collect();
    if all_complete {
        for g in unused_shared {
            out.push(orphan(
                Location::flake_nix(),
                format!("`vars/shared/{g}/` holds vars of the shared generator `{g}`, which no machine gets."),
                true,
                None,
            ));
        }
    } else if !unused_shared.is_empty() {
        out.push(orphan(
            Location::flake_nix(),
            format!(
                "`vars/shared/` holds vars of {} that no machine gets as far as infra-check can see ({}); some machines import modules infra-check cannot read, which may declare {}.",
                plural_generators(unused_shared.len()).replace("generator", "shared generator"),
                listed(&unused_shared),
                if unused_shared.len() == 1 { "it" } else { "them" }
            ),
            false,
            None,
        ));
    }
    if clan.machines_complete {
        for (name, kind) in disk.children("sops/machines") {
            if matches!(kind, EntryKind::Dir) && !clan.machines.contains_key(name) {
                out.push(orphan(
                    Location::flake_nix(),
                    format!("`sops/machines/{name}/` holds the key of `{name}`, which is not a machine of this clan. Remove it with `clan secrets machines remove {name}` if the machine is gone."),
                    true,
                    None,
                ));
            }
        }
    }
}

fn plural_generators(n: usize) -> String {
    if n == 1 {
        "1 generator".to_owned()
    } else {
        format!("{n} generators")
    }
}

/// `a`, `b`, `c` (at most ten names, then how many more).
fn listed(names: &[&str]) -> String {
    const SHOWN: usize = 10;
    let mut out = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        out.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    out
}

fn undeclared(vars: &VarsModel, clan: &crate::clan::resolve::ClanModel, out: &mut Vec<Diagnostic>) {
    // Which machines use each module, built once rather than searched for every read.
    let mut by_owner: rustc_hash::FxHashMap<&str, Vec<&str>> = Default::default();
    for (m, owners) in &vars.owners {
        for o in &owners.owners {
            by_owner.entry(o.as_ref()).or_default().push(m.as_str());
        }
    }
    // Every generator name something declares: a read of one of them is no typo.
    let known: rustc_hash::FxHashSet<&str> = vars
        .declared
        .iter()
        .map(String::as_str)
        .chain(vars.machines.values().flat_map(|mv| {
            mv.needed
                .iter()
                .map(|n| &*n.name)
                .chain(mv.maybe.iter().map(|m| &**m))
        }))
        .collect();
    let mut users_of: rustc_hash::FxHashMap<&str, Vec<&str>> = Default::default();
    for r in vars.var_refs.iter().filter(|r| !r.hypothetical) {
        let Some(g) = &r.generator else { continue };
        let users = users_of
            .entry(r.owner.as_ref())
            .or_insert_with(|| machines_using(vars, clan, &by_owner, &r.owner));
        let mut lacking = Vec::new();
        let mut file_missing: Option<(String, Vec<String>)> = None;
        // Machines that may get `g` (or the file) from a module infra-check cannot read, with
        // the declared names close to it.
        let mut near_generator: Vec<(&str, &str)> = Vec::new();
        let mut near_file: Option<(&str, String)> = None;
        let known_anywhere = known.contains(g.as_str());
        for m in users.iter() {
            let mv = &vars.machines[*m];
            if !mv.knows(g) {
                if mv.complete {
                    lacking.push(*m);
                } else if !known_anywhere {
                    let names = mv
                        .needed
                        .iter()
                        .map(|n| &*n.name)
                        .chain(mv.maybe.iter().map(|m| &**m));
                    if let Some(best) = near_name(g, names) {
                        near_generator.push((*m, best));
                    }
                }
                continue;
            }
            if let (Some(f), Some(n)) = (&r.file, mv.needed.iter().find(|n| *n.name == **g)) {
                if mv.maybe.contains(g.as_str()) {
                    // Another declaration, under a condition or in some clan-core versions,
                    // may add the file.
                    let files = n.files.iter().flatten().map(|x| &*x.name);
                    if !n.files.iter().flatten().any(|x| *x.name == **f) {
                        if let Some(best) = near_name(f, files) {
                            near_file = Some((*m, best.to_owned()));
                        }
                    }
                    continue;
                }
                if let Some(files) = &n.files {
                    if !files.iter().any(|x| *x.name == **f) {
                        file_missing = Some((
                            m.to_string(),
                            files.iter().map(|x| x.name.to_string()).collect(),
                        ));
                    }
                }
            }
        }
        if !lacking.is_empty() {
            let names: BTreeSet<&str> = lacking
                .iter()
                .flat_map(|m| {
                    let mv = &vars.machines[*m];
                    mv.needed
                        .iter()
                        .map(|n| &*n.name)
                        .chain(mv.maybe.iter().map(|m| &**m))
                })
                .collect();
            let mut message =
                format!(
                "`{}` reads the generator `{g}`, which is not declared for `{}`, {} this module",
                r.owner,
                lacking.join("`, `"),
                if lacking.len() == 1 { "the machine that uses" } else { "the machines that use" }
            );
            match super::inventory::suggest(g, names.iter().copied()) {
                Some(best) => message.push_str(&format!("; did you mean `{best}`?")),
                None => message.push('.'),
            }
            out.push(
                Diagnostic::new(
                    "vars/undeclared-reference",
                    &r.location.file,
                    r.location.range,
                    message,
                )
                .for_machines(lacking.iter().copied()),
            );
        } else if let (Some((m, files)), Some(f)) = (file_missing, &r.file) {
            let mut message = format!("`{}` reads the file `{f}` of generator `{g}`, which has no such file on machine `{m}`", r.owner);
            match super::inventory::suggest(f, files.iter().map(String::as_str)) {
                Some(best) => message.push_str(&format!("; did you mean `{best}`?")),
                None => message.push_str(&format!(
                    "; it has {}.",
                    files
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
            out.push(
                Diagnostic::new(
                    "vars/undeclared-reference",
                    &r.location.file,
                    r.location.range,
                    message,
                )
                .for_machines([m]),
            );
        } else if let Some((_, best)) = near_generator.first() {
            let machines: Vec<&str> = near_generator.iter().map(|(m, _)| *m).collect();
            let loc = r.generator_location.as_ref().unwrap_or(&r.location);
            out.push(near_miss(
                format!(
                    "`{}` reads the generator `{g}`, which no module infra-check can read declares for `{}`, but `{best}` is declared; did you mean `{best}`? ({} modules infra-check cannot read, which might still declare `{g}`.)",
                    r.owner,
                    machines.join("`, `"),
                    if machines.len() == 1 { "The machine also imports" } else { "The machines also import" },
                ),
                loc,
                g,
                best,
            ).for_machines(machines));
        } else if let (Some((m, best)), Some(f)) = (near_file, &r.file) {
            out.push(near_miss(
                format!(
                    "`{}` reads the file `{f}` of generator `{g}`, which no declaration infra-check can read gives it on machine `{m}`, but it has `{best}`; did you mean `{best}`? (Another declaration of `{g}`, under a condition or from a module infra-check cannot read, might still add `{f}`.)",
                    r.owner
                ),
                &r.location,
                f,
                &best,
            ).for_machines([m]));
        }
    }
}

/// A declared name within a small edit distance of `name` (a typo, not a different name):
/// one edit for names shorter than ten characters, two for longer ones.
fn near_name<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let budget = if name.chars().count() < 10 { 1 } else { 2 };
    candidates
        .filter(|c| *c != name && c.chars().count() >= 3)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= budget)
        .min()
        .map(|(_, c)| c)
}

fn near_miss(message: String, loc: &Location, old: &str, new: &str) -> Diagnostic {
    let mut d = Diagnostic::new("vars/near-miss", &loc.file, loc.range, message);
    if let Some(edit) = super::edits::rename_edit(loc, old, new, super::edits::BareName::Key) {
        d = d.with_fix(Fix {
            message: format!("Read `{new}` instead."),
            edits: vec![edit],
            command: None,
        });
    }
    d
}

/// The machines whose configuration includes the module `owner` (`by_owner`: the machines
/// of each module owner).
fn machines_using<'a>(
    vars: &'a VarsModel,
    clan: &crate::clan::resolve::ClanModel,
    by_owner: &rustc_hash::FxHashMap<&str, Vec<&'a str>>,
    owner: &str,
) -> Vec<&'a str> {
    if let Some(rest) = owner.strip_prefix("service ") {
        let (svc, role) = rest.split_once('/').unwrap_or((rest, "*"));
        let mut out = Vec::new();
        for inst in clan.instances.values() {
            if inst.service_name() != Some(svc) {
                continue;
            }
            for r in inst
                .roles
                .values()
                .filter(|r| role == "*" || r.name == role)
            {
                for a in clan.role_assignments(r).unwrap_or_default() {
                    if let Some((k, _)) = vars.machines.get_key_value(&a.machine) {
                        out.push(k.as_str());
                    }
                }
            }
        }
        return out;
    }
    by_owner.get(owner).cloned().unwrap_or_default()
}
