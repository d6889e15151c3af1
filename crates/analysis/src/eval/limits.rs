//! The two limits every evaluation runs under, so that no input — recursion, fan-out, huge
//! values — can hang the analyzer or overflow its stack:
//!
//! - **fuel** bounds the total work: every evaluation step, every thunk, attribute or list
//!   element created, every value visited by a walk over values, and every byte of string
//!   built costs fuel. An evaluation starts with [`BASE_FUEL`] and receives [`FUEL_PER_BYTE`]
//!   for every byte of source it evaluates, so the work is linear in the input.
//! - **depth** bounds recursion: every recursive step (evaluating, forcing, applying,
//!   comparing, converting, walking types and configurations) enters one level, and no more
//!   than [`MAX_DEPTH`] may be open at once. Between two levels no code path uses more than a
//!   few kilobytes of stack, which is what [`crate::stack::MIN_STACK`] is sized for.
//!
//! When either runs out, what is being computed is Unknown, which never produces a diagnostic.
//! Running out of fuel is remembered ([`Budget::exhausted`]), so a caller that reads absence as
//! a fact (no definition of a module, no generator) knows that the reading was cut short.

use std::cell::Cell;

/// Fuel every evaluation starts with.
pub const BASE_FUEL: u64 = 400_000;
/// Fuel granted per byte of source evaluated (the file itself and each file it imports).
pub const FUEL_PER_BYTE: u64 = 16;
/// How many recursive steps may be open at once.
pub const MAX_DEPTH: u32 = 400;
/// Bytes of string one unit of fuel pays for.
pub const BYTES_PER_FUEL: u64 = 16;

pub(crate) struct Budget {
    spent: Cell<u64>,
    fuel: Cell<u64>,
    depth: Cell<u32>,
    exhausted: Cell<bool>,
}

/// One open level of recursion; closing it (dropping) leaves the level.
pub struct Level<'b> {
    depth: &'b Cell<u32>,
}

impl Drop for Level<'_> {
    fn drop(&mut self) {
        self.depth.set(self.depth.get() - 1);
    }
}

impl Budget {
    pub(crate) fn new() -> Budget {
        Budget {
            spent: Cell::new(0),
            fuel: Cell::new(BASE_FUEL),
            depth: Cell::new(0),
            exhausted: Cell::new(false),
        }
    }

    /// Spends `units` of fuel; false (from then on) when there is not enough left.
    pub(crate) fn charge(&self, units: u64) -> bool {
        let spent = self.spent.get().saturating_add(units);
        self.spent.set(spent);
        if spent > self.fuel.get() {
            self.exhausted.set(true);
        }
        !self.exhausted.get()
    }

    /// Spends the fuel for building a string of `len` bytes.
    pub(crate) fn charge_bytes(&self, len: usize) -> bool {
        self.charge(1 + len as u64 / BYTES_PER_FUEL)
    }

    /// Adds the fuel for `bytes` bytes of source to evaluate.
    pub(crate) fn grant(&self, bytes: usize) {
        let more = (bytes as u64).saturating_mul(FUEL_PER_BYTE);
        self.fuel.set(self.fuel.get().saturating_add(more));
    }

    /// Opens one level of recursion, spending one unit of fuel; `None` when the depth limit is
    /// reached or the fuel is gone.
    pub(crate) fn enter(&self) -> Option<Level<'_>> {
        if !self.charge(1) || self.depth.get() >= MAX_DEPTH {
            return None;
        }
        self.depth.set(self.depth.get() + 1);
        Some(Level { depth: &self.depth })
    }

    /// Runs `f` on an allowance of its own ([`BASE_FUEL`] plus what it is granted), and says
    /// whether `f` ran out; the caller keeps the fuel it had left, and running out inside `f`
    /// does not count as the caller running out.
    pub(crate) fn phase<T>(&self, f: impl FnOnce() -> T) -> (T, bool) {
        let (fuel, spent, exhausted) = (self.fuel.get(), self.spent.get(), self.exhausted.get());
        self.fuel.set(spent.saturating_add(BASE_FUEL));
        self.exhausted.set(false);
        let r = f();
        let ran_out = self.exhausted.get();
        let left = fuel.saturating_sub(spent);
        self.fuel.set(self.spent.get().saturating_add(left));
        self.exhausted.set(exhausted);
        (r, ran_out)
    }

    /// The fuel ran out at some point: results may be missing, not only Unknown.
    pub(crate) fn exhausted(&self) -> bool {
        self.exhausted.get()
    }

    pub(crate) fn spent(&self) -> u64 {
        self.spent.get()
    }
}
