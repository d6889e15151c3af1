//! The allocator. The analysis allocates and frees a great many small values (syntax nodes,
//! thunks, scopes) on several threads; mimalloc does that markedly faster than the system
//! allocator (10–25% less CPU time on the corpus). It is built without its transparent huge
//! page hint (`no_thp`): mimalloc would otherwise ask for huge pages for its arena before
//! `main` runs, and each of the first ones would be faulted in as a zeroed 2 MiB page
//! (−3 MiB peak on fleetgen's 10,000 machines, −3.5 MiB on a 300-file fleet, time unchanged).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_e` of the mimalloc 3 that
/// libmimalloc-sys builds; the crate names no constant for it). A test below checks that the
/// option at this place has the purge delay's default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Call first in `main`.
pub fn init() {
    // Where transparent huge pages are always on, mimalloc's large aligned regions fill whole
    // 2 MiB pages and a small check would hold twice the memory it uses; the process opts out
    // of them (a hint: if the kernel refuses, only memory use is higher).
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    // Pages freed are given back to the system at once rather than a second later. Each file's
    // syntax tree is freed as soon as its summary is made; with the delay, the peak also
    // counted pages of trees already freed (fleetgen's 10,000 machines: 163 -> 151 MiB peak,
    // time unchanged). `MIMALLOC_PURGE_DELAY` in the environment still wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option; called before any other thread exists.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_where_init_sets_it() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            eprintln!("skipped: MIMALLOC_PURGE_DELAY is set, so the default cannot be seen");
            return;
        }
        // The test binary does not run `init`, so the option still has mimalloc's default
        // (1,000 ms, in mimalloc's `options.c`), which no option next to it shares.
        // SAFETY: reads one integer option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(
            delay,
            1000,
            "option {} is not mimalloc's purge delay",
            super::PURGE_DELAY
        );
        // SAFETY: as above.
        let before = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY - 1) };
        assert_ne!(before, 1000);
    }
}
