//! The stack the analysis runs on. Parsing, evaluating and walking recurse once per level of
//! nesting; the limits that bound those levels ([`crate::complexity::MAX_NESTING`] for the
//! parser, [`crate::eval::limits::MAX_DEPTH`] for evaluation and every walk over values, types
//! and configurations) are sized so that the deepest input they accept fits in [`MIN_STACK`].
//! The analyzer makes sure of it by itself: [`crate::Analysis`] runs every query on a thread
//! with that stack (its own rayon pool for [`crate::Analysis::prime`], a scoped thread for the
//! rest), unless the caller's thread is already marked as having it. An embedding may mark its
//! own threads with [`assume_min_stack`] to save the hand-over, never to shrink the stack.

use std::cell::Cell;
use std::sync::{Mutex, OnceLock};

/// The stack every thread that runs analysis work has. The deepest inputs the limits accept
/// (500 levels of nesting of any construct, 400 levels of recursion while evaluating) need
/// about 2 MiB in a debug build and under 1 MiB in a release build; this leaves a margin of
/// eight times that for code paths the measurements missed.
pub const MIN_STACK: usize = 16 << 20;

thread_local! {
    static SIZED: Cell<bool> = const { Cell::new(false) };
}

/// Declares that the current thread was created with a stack of at least [`MIN_STACK`], so
/// analysis work runs on it directly. Call it only on threads whose stack size you set.
pub fn assume_min_stack() {
    SIZED.with(|s| s.set(true));
}

fn has_min_stack() -> bool {
    SIZED.with(|s| s.get())
}

/// Runs `f` on a thread with [`MIN_STACK`]: this one when it is marked, else a new scoped
/// thread (a panic in `f` is resumed here). If no thread can be started, `f` runs here.
pub fn run<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if has_min_stack() {
        return f();
    }
    let slot = Mutex::new(Some(f));
    let take = || slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    let spawned = std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("infra-check-analysis".into())
            .stack_size(MIN_STACK)
            .spawn_scoped(scope, || {
                assume_min_stack();
                take().map(|f| f())
            });
        match handle {
            Ok(h) => match h.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(_) => None,
        }
    });
    match spawned {
        Some(v) => v,
        None => take().map(|f| f()).expect("the job runs once"),
    }
}

/// A rayon pool whose workers have [`MIN_STACK`] (one per core); `None` when it cannot be
/// built, and the caller works serially instead.
pub(crate) fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(MIN_STACK)
            .thread_name(|i| format!("infra-check-analysis-{i}"))
            .start_handler(|_| assume_min_stack())
            .build()
            .ok()
    })
    .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_moves_to_a_marked_thread_once() {
        let outer = std::thread::current().id();
        let (id, marked, nested) = run(|| {
            let id = std::thread::current().id();
            let nested = run(|| std::thread::current().id());
            (id, has_min_stack(), nested)
        });
        assert!(marked);
        assert_eq!(id, nested, "a marked thread runs nested work itself");
        if !has_min_stack() {
            assert_ne!(id, outer);
        }
        let on_pool = pool()
            .expect("the pool starts")
            .install(|| (has_min_stack(), run(|| 7)));
        assert_eq!(on_pool, (true, 7));
    }

    #[test]
    fn a_panic_comes_back_to_the_caller() {
        let r = std::panic::catch_unwind(|| run(|| panic!("inside")));
        let payload = r.expect_err("the panic is resumed");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"inside"));
    }
}
