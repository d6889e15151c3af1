//! [`Lean`]: a part of a kept value that most instances leave empty, which then costs one
//! pointer instead of its whole size. A summary is kept for every file of the workspace, and
//! most files contribute nothing to the clan, to vars or to options: inline, those three parts
//! made every summary a kilobyte. A part that holds something is shared ([`Lean::shared`]): a
//! model reading one kind of part from every summary can keep the parts themselves, and an
//! edit that changes a summary but not that part leaves them equal at the cost of a pointer
//! comparison.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A value that has one shared empty instance to stand for every empty one.
pub trait Empty: Default + PartialEq + 'static {
    fn empty() -> &'static Self;
}

/// Implements [`Empty`] for types whose `Default` is the empty value.
macro_rules! impl_empty {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::lean::Empty for $t {
            fn empty() -> &'static Self {
                static EMPTY: std::sync::OnceLock<$t> = std::sync::OnceLock::new();
                EMPTY.get_or_init(Default::default)
            }
        }
    )*};
}
pub(crate) use impl_empty;

/// Reads as `T`; nothing is allocated until it is written to, and [`Lean::settle`] gives back
/// what was allocated when it ended up empty.
#[derive(Clone, Default)]
pub struct Lean<T>(Option<Arc<T>>);

impl<T: Empty + Clone> Lean<T> {
    /// Frees the value when it equals the empty one (written to, but left empty), and gives
    /// what is left to `shrink` (unlike through `DerefMut`, nothing is allocated for that).
    pub fn settle(&mut self, shrink: impl FnOnce(&mut T)) {
        if self.0.as_deref().is_some_and(|v| v == T::empty()) {
            self.0 = None;
        }
        if let Some(v) = self.0.as_mut() {
            shrink(Arc::make_mut(v));
        }
    }

    /// The part itself when it holds something (`None` for an empty part).
    pub fn shared(&self) -> Option<&Arc<T>> {
        self.0.as_ref()
    }

    /// Whether anything is held (for tests of what a summary costs).
    pub fn is_allocated(&self) -> bool {
        self.0.is_some()
    }
}

impl<T: Empty> Deref for Lean<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.0 {
            Some(v) => v,
            None => T::empty(),
        }
    }
}

/// Writing to a part shared with a copy of its value copies it first (as [`Arc::make_mut`]); a
/// summary being built is never shared.
impl<T: Empty + Clone> DerefMut for Lean<T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }
}

impl<T: Empty> PartialEq for Lean<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Empty + Eq> Eq for Lean<T> {}

impl<T: Empty + fmt::Debug> fmt::Debug for Lean<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Lean;

    #[derive(Debug, Default, Clone, PartialEq)]
    struct Part {
        items: Vec<u32>,
    }
    super::impl_empty!(Part);

    #[test]
    fn reads_empty_without_allocating_and_settles_back_when_emptied() {
        let mut p: Lean<Part> = Lean::default();
        assert!(p.items.is_empty() && !p.is_allocated());
        p.items.reserve(8);
        p.items.push(1);
        assert!(p.is_allocated());
        p.settle(|p| p.items.shrink_to_fit());
        assert_eq!(p.items, [1], "a part holding something is kept");
        assert_eq!(p.items.capacity(), 1, "and shrunk");
        let copy = p.clone();
        assert!(
            std::sync::Arc::ptr_eq(p.shared().unwrap(), copy.shared().unwrap()),
            "a copy shares the part"
        );
        drop(copy);
        p.items.clear();
        p.settle(|_| panic!("an empty part is given back, not shrunk"));
        assert!(!p.is_allocated());
        assert_eq!(p, Lean::default(), "equal to a part never written");
    }
}
