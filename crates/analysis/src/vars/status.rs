//! The state of every generator a machine needs, read off the disk model: present, missing,
//! not deployed, stale. `infra-check vars` prints it; the vars checks report from it.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::model::{NeededFor, Validation};
use super::resolve::{machine_vars, vars_model, Needed};
use crate::db::{file_by_path, Db, Workspace};
use crate::disk::DiskTree;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineStatus {
    pub machine: String,
    /// Every generator the machine gets is known.
    pub complete: bool,
    pub generators: Vec<GeneratorStatus>,
    /// The machine needs deployed secrets.
    pub needs_key: bool,
    pub has_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorStatus {
    pub needed: Needed,
    /// `vars/per-machine/<m>/<g>` or `vars/shared/<g>`; `None` when `share` is unknown.
    pub directory: Option<String>,
    pub exists: bool,
    pub files: Vec<FileStatus>,
    /// `Some((stored, expected))` when `.validation-hash` differs from the declared value.
    pub stale: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    pub name: Arc<str>,
    pub secret: Option<bool>,
    pub deploy: Option<bool>,
    pub needed_for: Option<NeededFor>,
    pub state: FileState,
    /// The path that is missing (for `Missing` and `NotDeployed`).
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Present,
    Missing,
    /// The secret exists but is not encrypted for this machine.
    NotDeployed,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Present => "present",
            FileState::Missing => "missing",
            FileState::NotDeployed => "not deployed",
        }
    }
}

/// Whether a file is certainly a secret the machine decrypts with its own key, so it must be
/// encrypted for the machine (a `machines/<m>` link) and the machine needs a key. Secrets needed
/// for activation or partitioning are decrypted by the admin at deploy time.
fn decrypted_by_machine(
    secret: Option<bool>,
    deploy: Option<bool>,
    needed_for: Option<NeededFor>,
) -> bool {
    secret == Some(true)
        && deploy == Some(true)
        && needed_for.is_some_and(NeededFor::decrypted_by_machine)
}

impl FileStatus {
    pub fn decrypted_by_machine(&self) -> bool {
        decrypted_by_machine(self.secret, self.deploy, self.needed_for)
    }
}

impl MachineStatus {
    /// Whether anything needs `clan vars generate` for this machine.
    pub fn needs_generate(&self) -> bool {
        // A generator whose directory cannot be known (unknown `share`) is not judged.
        self.generators
            .iter()
            .filter(|g| g.directory.is_some())
            .any(|g| {
                !g.exists
                    || g.stale.is_some()
                    || g.files.iter().any(|f| f.state != FileState::Present)
            })
    }
}

pub fn statuses(db: &dyn Db, ws: Workspace) -> Vec<MachineStatus> {
    vars_model(db, ws)
        .machines
        .keys()
        .filter_map(|m| machine_status(db, ws, m))
        .collect()
}

/// The state of the generators one machine needs (`None` for a machine whose class is not
/// known). Not memoised: it is mostly copies of what the machine's vars say, and the findings
/// made from it are (see `checks::vars`).
pub fn machine_status(db: &dyn Db, ws: Workspace, machine: &str) -> Option<MachineStatus> {
    let mv = machine_vars(db, ws, machine).clone()?;
    let disk = ws.disk(db);
    let generators: Vec<GeneratorStatus> = mv
        .needed
        .iter()
        .map(|n| generator_status(db, ws, disk, n, machine))
        .collect();
    let needs_key = generators
        .iter()
        .any(|g| g.files.iter().any(FileStatus::decrypted_by_machine));
    let has_key = disk.exists(&format!("sops/machines/{machine}/key.json"));
    Some(MachineStatus {
        machine: machine.to_owned(),
        complete: mv.complete,
        generators,
        needs_key,
        has_key,
    })
}

fn generator_status(
    db: &dyn Db,
    ws: Workspace,
    disk: &DiskTree,
    n: &Needed,
    machine: &str,
) -> GeneratorStatus {
    let directory = n.share.map(|share| {
        if share {
            format!("vars/shared/{}", n.name)
        } else {
            format!("vars/per-machine/{machine}/{}", n.name)
        }
    });
    let exists = directory.as_deref().is_some_and(|d| disk.exists(d));
    let mut files = Vec::new();
    if let (Some(dir), true) = (&directory, exists) {
        for f in n.files.iter().flatten().filter(|f| f.certain) {
            let fdir = format!("{dir}/{}", f.name);
            let (path, have) = match f.secret {
                Some(true) => {
                    let p = format!("{fdir}/secret");
                    let h = disk.exists(&p);
                    (p, h)
                }
                Some(false) => {
                    let p = format!("{fdir}/value");
                    let h = disk.exists(&p);
                    (p, h)
                }
                None => (
                    format!("{fdir}/secret"),
                    disk.exists(&format!("{fdir}/secret")) || disk.exists(&format!("{fdir}/value")),
                ),
            };
            let link = format!("{fdir}/machines/{machine}");
            let (state, path) = if !have {
                (FileState::Missing, path)
            } else if decrypted_by_machine(f.secret, f.deploy, f.needed_for) && !disk.exists(&link)
            {
                (FileState::NotDeployed, link)
            } else {
                (FileState::Present, path)
            };
            files.push(FileStatus {
                name: f.name.clone(),
                secret: f.secret,
                deploy: f.deploy,
                needed_for: f.needed_for,
                state,
                path,
            });
        }
    }
    let stale = match (&n.validation, &directory) {
        (Validation::Known(v), Some(dir)) if exists => stale(db, ws, disk, v, dir),
        _ => None,
    };
    GeneratorStatus {
        needed: n.clone(),
        directory,
        exists,
        files,
        stale,
    }
}

/// `builtins.toJSON` of a known value, as clan hashes it; `None` for floats, whose printing
/// differs between Nix versions. serde_json writes the evaluator's (sorted) attributes in
/// order and escapes strings as Nix does.
pub fn nix_json(v: &serde_json::Value) -> Option<String> {
    fn has_float(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => !n.is_i64() && !n.is_u64(),
            serde_json::Value::Array(a) => a.iter().any(has_float),
            serde_json::Value::Object(o) => o.values().any(has_float),
            _ => false,
        }
    }
    if has_float(v) {
        return None;
    }
    serde_json::to_string(v).ok()
}

fn stale(
    db: &dyn Db,
    ws: Workspace,
    disk: &DiskTree,
    v: &serde_json::Value,
    dir: &str,
) -> Option<(String, String)> {
    let json = nix_json(v)?;
    let hash_path = format!("{dir}/.validation-hash");
    if !disk.exists(&hash_path) {
        return None;
    }
    let stored = file_by_path(db, ws, &hash_path)?.text(db).trim().to_owned();
    let expected = format!("{:x}", Sha256::digest(json.as_bytes()));
    (stored != expected).then_some((stored, expected))
}
