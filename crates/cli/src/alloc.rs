//! The allocator. The analysis allocates and frees a great many small values (syntax nodes,
//! thunks, scopes) on several threads; mimalloc does that markedly faster than the system
//! allocator (10–25% less CPU time on the corpus). It is built without its transparent huge
//! page hint (`no_thp`): mimalloc would otherwise ask for huge pages for its arena before
//! `main` runs, and each of the first ones would be faulted in as a zeroed 2 MiB page
//! (−3 MiB peak on fleetgen's 10,000 machines, −3.5 MiB on a 300-file fleet, time unchanged).

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

#[global_allocator]
static GLOBAL: Mimalloc = Mimalloc;

/// Whether mimalloc's plain entry points give `layout` its alignment: every block it hands out
/// is aligned to a machine word, whatever its size, since its size classes are whole words
/// (`mi_bin` in its `page-queue.c`). Larger alignments go through its aligned entry points.
fn word_aligned(layout: Layout) -> bool {
    layout.align() <= std::mem::size_of::<usize>()
}

/// mimalloc, asked through its plain entry points when a word's alignment is enough (almost
/// every allocation): `mimalloc::MiMalloc` always calls the aligned ones, which test the
/// alignment of each block they get (3.4% fewer instructions on a 300-file fleet without that).
struct Mimalloc;

// SAFETY: each method forwards to the mimalloc function of the same contract, with an alignment
// at most a word only where mimalloc's blocks always have it.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if word_aligned(layout) {
            unsafe { mi::mi_malloc(layout.size()) as *mut u8 }
        } else {
            unsafe { mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if word_aligned(layout) {
            unsafe { mi::mi_zalloc(layout.size()) as *mut u8 }
        } else {
            unsafe { mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if word_aligned(layout) {
            unsafe { mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8 }
        } else {
            unsafe {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

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
    fn every_block_has_its_alignment_and_keeps_its_bytes_when_it_grows() {
        use std::alloc::{GlobalAlloc, Layout};
        let a = super::Mimalloc;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 3, 8, 16, 24, 40, 100, 1000, 5000, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: non-zero sizes and power-of-two alignments; each block is freed once,
                // with the layout it has.
                unsafe {
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0, "zeroed {size} bytes at {align}");
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|b| *b == 0));
                    a.dealloc(z, layout);
                    let p = a.alloc(layout);
                    assert_eq!(p as usize % align, 0, "{size} bytes at {align}");
                    for i in 0..size {
                        *p.add(i) = i as u8;
                    }
                    let q = a.realloc(p, layout, size * 3);
                    assert_eq!(q as usize % align, 0, "{size} bytes grown at {align}");
                    assert!((0..size).all(|i| *q.add(i) == i as u8));
                    a.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                }
            }
        }
    }

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
