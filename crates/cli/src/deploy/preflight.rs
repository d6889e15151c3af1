//! Pre-flight: the same analysis as `check`, every diagnostic attributed to the machines it
//! affects, and the findings that refuse each machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use infra_check_analysis::attribution::Affects;
use infra_check_analysis::clan::deploy_order::DeployOrder;
use infra_check_analysis::clan::overview::Overview;
use infra_check_analysis::config::Config;
use infra_check_analysis::{Diagnostic, Severity};

use crate::error::CliError;
use crate::report::Sources;
use crate::workspace::cancelled;

/// What the analysis says about the fleet.
pub struct Fleet {
    pub root: PathBuf,
    pub overview: Overview,
    pub diagnostics: Vec<Diagnostic>,
    /// Parallel to `diagnostics`.
    pub affects: Vec<Affects>,
    pub sources: Sources,
    pub order: DeployOrder,
    pub config: Arc<Config>,
}

/// Reads and checks the repository at `root` (on the analysis thread).
pub fn load(root: &Path, store: &crate::StoreArgs) -> Result<Fleet, CliError> {
    let root = root.to_path_buf();
    let store = store.clone();
    crate::workspace::on_large_stack(move || {
        let mut loaded = crate::workspace::load(&root, "Checking", &store)?;
        let a = &loaded.analysis;
        let diagnostics: Vec<Diagnostic> = a.diagnostics().map_err(cancelled)?.to_vec();
        let affects = a.affected_machines().map_err(cancelled)?.to_vec();
        let sources = crate::check::collect_sources(a, &diagnostics)?;
        let fleet = Fleet {
            root: a.root().to_path_buf(),
            overview: a.overview().map_err(cancelled)?,
            order: a.deploy_order().map_err(cancelled)?,
            config: a.config().map_err(cancelled)?,
            diagnostics,
            affects,
            sources,
        };
        loaded.progress.finish();
        // The deploy runs on for minutes: give the database's memory back now.
        drop(std::mem::ManuallyDrop::into_inner(loaded.analysis));
        Ok(fleet)
    })
}

impl Fleet {
    /// For each machine, the indices of the diagnostics that refuse it: errors, and warnings
    /// with `deny_warnings`.
    pub fn blocking(&self, deny_warnings: bool) -> BTreeMap<String, Vec<usize>> {
        let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, d) in self.diagnostics.iter().enumerate() {
            let blocks =
                d.severity == Severity::Error || (deny_warnings && d.severity == Severity::Warning);
            if !blocks {
                continue;
            }
            match self.affects.get(i) {
                Some(Affects::Machines(ms)) => {
                    for m in ms {
                        out.entry(m.clone()).or_default().push(i);
                    }
                }
                // A diagnostic the analysis could not place affects every machine.
                Some(Affects::All) | None => {
                    for m in &self.overview.machines {
                        out.entry(m.name.clone()).or_default().push(i);
                    }
                }
            }
        }
        out
    }
}
