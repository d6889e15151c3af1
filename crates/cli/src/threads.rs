//! Stack sizes. rnix and the evaluator recurse once per level of nesting, so deeply nested
//! input needs far more than the default 2 MiB, both on the thread that runs the analysis and
//! on rayon's workers (files are parsed in parallel on the global pool).

/// Stack of the thread that runs the analysis.
pub const ANALYSIS_STACK: usize = 256 << 20;
/// Stack of each rayon worker.
pub const WORKER_STACK: usize = 64 << 20;

/// Gives rayon's global pool workers a large stack. Must run before anything uses rayon; only
/// the first call in a process takes effect.
pub fn configure_rayon() {
    // An error only means the pool already exists, which cannot happen this early.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .thread_name(|i| format!("infra-check-worker-{i}"))
        .build_global();
}
