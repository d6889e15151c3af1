//! Stack sizes. The analyzer's limits are sized for [`MIN_STACK`] and the analyzer moves its
//! own work onto threads that have it (its rayon pool for the per-file work, a scoped thread
//! per query otherwise); the CLI starts its analysis thread with that stack and marks it, so
//! queries run there directly.

pub use infra_check_analysis::stack::MIN_STACK;

/// Stack of the thread that runs the analysis.
pub const ANALYSIS_STACK: usize = MIN_STACK;

/// Names rayon's global pool, which the loader reads files on; an error only means the pool
/// already exists. Only the first call in a process takes effect.
pub fn configure_rayon() {
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(MIN_STACK)
        .thread_name(|i| format!("infra-check-worker-{i}"))
        .build_global();
}

/// Marks the current thread, started with [`ANALYSIS_STACK`], as fit to run analysis work.
pub fn mark_analysis_thread() {
    infra_check_analysis::stack::assume_min_stack();
}
