//! The plan: the selected machines in their batches, each with the command that will run for
//! it, or why it is refused.

use std::collections::{BTreeMap, BTreeSet};

use crate::deploy::invocation::{decide, Context, Invocation};
use crate::deploy::preflight::Fleet;
use crate::deploy::Action;

#[derive(Debug, Clone)]
pub struct Step {
    pub machine: String,
    pub class: Option<String>,
    pub invocation: Option<Invocation>,
    /// Indices into `Fleet::diagnostics` of the findings that refuse the machine.
    pub blocking: Vec<usize>,
    /// Refused: blocking findings (without `--force`), or nothing can run for it (`cannot`).
    pub refused: bool,
    /// Has blocking findings but goes ahead because of `--force`.
    pub forced: bool,
    /// Why no command can run for the machine.
    pub cannot: Option<String>,
    /// Selected machines of earlier batches it waits for.
    pub waits_for: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub steps: Vec<Step>,
    /// Why its machines go before the later batches.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub action: Action,
    pub batches: Vec<Batch>,
}

impl Plan {
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.batches.iter().flat_map(|b| b.steps.iter())
    }
    pub fn any_refused(&self) -> bool {
        self.steps().any(|s| s.refused)
    }
}

pub struct Options {
    pub force: bool,
    pub deny_warnings: bool,
}

/// The plan for `selected` (machine names of the fleet). Rollback has no order: each machine
/// is rolled back on its own, in one batch.
pub fn make(
    fleet: &Fleet,
    ctx: &Context,
    action: Action,
    selected: &[String],
    opts: &Options,
) -> Plan {
    let blocking = fleet.blocking(opts.deny_warnings);
    let chosen: BTreeSet<&str> = selected.iter().map(String::as_str).collect();
    let batches_of: Vec<Vec<String>> = if action == Action::Deploy {
        fleet.order.batches.clone()
    } else {
        vec![selected.to_vec()]
    };
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut batches = Vec::new();
    for names in &batches_of {
        let mut steps = Vec::new();
        for name in names {
            if !chosen.contains(name.as_str()) || !placed.insert(name.as_str()) {
                continue;
            }
            steps.push(step(fleet, ctx, action, name, &blocking, opts));
        }
        if steps.is_empty() {
            continue;
        }
        let reasons = names
            .iter()
            .filter(|n| chosen.contains(n.as_str()))
            .flat_map(|n| {
                fleet
                    .order
                    .reasons
                    .get(n)
                    .into_iter()
                    .flatten()
                    .map(move |r| format!("{n} {r}"))
            })
            .collect();
        batches.push(Batch { steps, reasons });
    }
    // Machines the order does not know (it lists every machine; this is a safety net) run last.
    let rest: Vec<Step> = selected
        .iter()
        .filter(|n| !placed.contains(n.as_str()))
        .map(|n| step(fleet, ctx, action, n, &blocking, opts))
        .collect();
    if !rest.is_empty() {
        batches.push(Batch {
            steps: rest,
            reasons: Vec::new(),
        });
    }
    Plan { action, batches }
}

fn step(
    fleet: &Fleet,
    ctx: &Context,
    action: Action,
    name: &str,
    blocking: &BTreeMap<String, Vec<usize>>,
    opts: &Options,
) -> Step {
    let info = fleet.overview.machines.iter().find(|m| m.name == name);
    let decided = info.map(|m| decide(ctx, action, m));
    let (invocation, cannot) = match decided {
        Some(Ok(i)) => (Some(i), None),
        Some(Err(why)) => (None, Some(why)),
        None => (
            None,
            Some(format!("`{name}` is not a machine of this clan.")),
        ),
    };
    // A rollback undoes a deploy: findings in the current configuration do not stop it.
    let blocking: Vec<usize> = if action == Action::Rollback {
        Vec::new()
    } else {
        blocking.get(name).cloned().unwrap_or_default()
    };
    let blocked = !blocking.is_empty();
    let waits_for = if action == Action::Deploy {
        fleet
            .order
            .waits_for
            .get(name)
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    Step {
        machine: name.to_owned(),
        class: info.and_then(|m| m.class.clone()),
        invocation,
        refused: (blocked && !opts.force) || cannot.is_some(),
        forced: blocked && opts.force,
        blocking,
        cannot,
        waits_for,
    }
}
