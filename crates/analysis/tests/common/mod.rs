//! A flake-parts repository to put test files in, for the tests that analyse whole files.

use std::sync::Arc;

use infra_check_analysis::disk::{DiskTree, EntryKind};
use infra_check_analysis::AnalysisHost;

/// A flake whose modules are every file under `modules/`, with a clan-core input.
pub const FLAKE: &str = fleetgen::FLAKE_NIX;

/// A host holding [`FLAKE`] and `files` (root-relative paths and texts), each on the disk.
pub fn host(files: Vec<(String, String)>) -> AnalysisHost {
    let mut host = AnalysisHost::new("/test".into());
    let mut disk = DiskTree::default();
    let mut texts = vec![("flake.nix".to_owned(), Arc::<str>::from(FLAKE))];
    disk.insert("flake.nix".into(), EntryKind::File);
    for (p, t) in files {
        disk.insert(p.clone(), EntryKind::File);
        texts.push((p, Arc::from(t.as_str())));
    }
    host.set_files(texts);
    host.set_disk(disk);
    host
}
