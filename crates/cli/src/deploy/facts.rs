//! TEMPORARY until the analysis crate's attribution and deploy order land (same shapes).
use std::collections::{BTreeMap, BTreeSet};

use infra_check_analysis::{Analysis, Cancellable};

#[derive(Debug, Clone, Default)]
pub struct DeployOrder {
    pub batches: Vec<Vec<String>>,
    pub reasons: BTreeMap<String, Vec<String>>,
    pub waits_for: BTreeMap<String, BTreeSet<String>>,
}

pub fn deploy_order(a: &Analysis) -> Cancellable<DeployOrder> {
    let names = a.overview()?.machines.into_iter().map(|m| m.name).collect();
    Ok(DeployOrder {
        batches: vec![names],
        ..Default::default()
    })
}
