//! The plan for people: batches in order, each machine with the exact command that runs for it
//! or why it is refused, the refusing findings rendered as `check` renders them.

use crate::deploy::envrc::Status;
use crate::deploy::invocation::Context;
use crate::deploy::plan::Plan;
use crate::deploy::preflight::Fleet;
use crate::text::plural;

pub fn plan(
    fleet: &Fleet,
    plan: &Plan,
    ctx: &Context,
    envrc: Option<Status>,
    dry_run: bool,
) -> String {
    let mut out = String::new();
    let machines = plan.steps().count();
    out.push_str(&format!(
        "Plan: {} {} in {}; every command runs in {}\n",
        plan.action.section(),
        plural(machines, "machine", "machines"),
        plural(plan.batches.len(), "batch", "batches"),
        fleet.root.display()
    ));
    if ctx.direnv {
        out.push_str(&format!(
            "Commands run through direnv in the environment of `{}`.\n",
            fleet.root.join(".envrc").display()
        ));
        if envrc == Some(Status::Blocked) {
            out.push_str(&format!(
                "warning: {}\n",
                crate::deploy::envrc::blocked_message(&fleet.root, ", so no command could run")
            ));
        }
    }
    if let Some(why) = &ctx.recipes.unreadable {
        out.push_str(&format!(
            "warning: the justfile's recipes were not considered: {why}\n"
        ));
    }
    let width = plan.steps().map(|s| s.machine.len()).max().unwrap_or(0);
    let batches = plan.batches.len();
    for (i, b) in plan.batches.iter().enumerate() {
        out.push_str(&format!("\nbatch {}/{batches}", i + 1));
        if !b.reasons.is_empty() {
            out.push_str(" goes first:");
        }
        out.push('\n');
        // Each reason is `<machine> holds <role>, which <roles> wait for: <why>`; the why of a
        // service is the same for every machine, so it is said once.
        let mut said: Vec<&str> = Vec::new();
        for r in &b.reasons {
            let (head, why) = r.split_once(": ").unwrap_or((r, ""));
            out.push_str(&format!("  - {head}\n"));
            if !why.is_empty() && !said.contains(&why) {
                said.push(why);
                out.push_str(&format!("    ({why})\n"));
            }
        }
        for s in &b.steps {
            let command = s.invocation.as_ref().map(|i| i.shown());
            let line = match (&s.cannot, s.refused, &command) {
                (Some(why), _, _) => format!("refused: {why}"),
                (None, true, _) => format!(
                    "refused: {} affect{} it (fix {}, or pass --force)",
                    plural(s.blocking.len(), "finding", "findings"),
                    if s.blocking.len() == 1 { "s" } else { "" },
                    if s.blocking.len() == 1 { "it" } else { "them" },
                ),
                (None, false, Some(c)) if s.forced => format!(
                    "{c}   (forced past {})",
                    plural(s.blocking.len(), "finding", "findings")
                ),
                (None, false, Some(c)) => c.clone(),
                (None, false, None) => "-".into(),
            };
            out.push_str(&format!("  {:width$}  {line}\n", s.machine));
            if !s.waits_for.is_empty() {
                out.push_str(&format!(
                    "  {:width$}  (waits for {})\n",
                    "",
                    s.waits_for.join(", ")
                ));
            }
            if !s.blocking.is_empty() {
                let ds: Vec<_> = s
                    .blocking
                    .iter()
                    .filter_map(|&i| fleet.diagnostics.get(i).cloned())
                    .collect();
                let text = crate::render_human::render_diagnostics(
                    &ds,
                    &fleet.sources,
                    crate::check::use_colour(),
                );
                for l in text.trim_end().lines() {
                    out.push_str(&format!("      {l}\n"));
                }
            }
        }
    }
    if dry_run {
        out.push_str("\nDry run: nothing was run.\n");
    }
    out
}
