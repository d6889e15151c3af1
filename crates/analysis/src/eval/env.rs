//! Lexical environments. Variables are looked up through `let`/`rec`/lambda scopes first and
//! the `with` scopes only afterwards, innermost first — Nix's rule that `with` never shadows a
//! lexical binding.

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

use super::value::Thunk;

#[derive(Clone)]
pub struct Env(pub(super) Rc<Scope>);

pub(super) struct Scope {
    pub kind: ScopeKind,
    pub parent: Option<Env>,
    /// The root-relative path of the file the code in this scope was written in.
    pub file: Rc<str>,
    /// Defining this scope's bindings was cut short (the fuel ran out): a name it lacks may
    /// be one it would have had, so it is not looked up further out.
    pub cut: std::cell::Cell<bool>,
}

pub(super) enum ScopeKind {
    Vars(RefCell<HashMap<Rc<str>, Thunk>>),
    With(Thunk),
    Root(Rc<HashMap<Rc<str>, Thunk>>),
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<env of {}>", self.0.file)
    }
}

/// A scope compared by identity, to key things by the scope they belong to.
#[derive(Clone)]
pub(super) struct SameScope(pub Env);

impl PartialEq for SameScope {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0 .0, &other.0 .0)
    }
}

impl Eq for SameScope {}

impl std::hash::Hash for SameScope {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Rc::as_ptr(&self.0 .0).hash(state)
    }
}

/// Where a name was found.
pub(super) enum Lookup {
    Found(Thunk),
    /// Not bound lexically; these `with` namespaces (innermost first) may provide it.
    Withs(Vec<Thunk>),
    /// Not bound in a scope whose bindings were cut short: not knowable.
    Cut,
}

impl Env {
    pub(super) fn root(file: Rc<str>, globals: Rc<HashMap<Rc<str>, Thunk>>) -> Env {
        Env(Rc::new(Scope {
            kind: ScopeKind::Root(globals),
            parent: None,
            file,
            cut: Default::default(),
        }))
    }

    pub(super) fn child_vars(&self) -> Env {
        Env(Rc::new(Scope {
            kind: ScopeKind::Vars(RefCell::new(HashMap::default())),
            parent: Some(self.clone()),
            file: self.0.file.clone(),
            cut: Default::default(),
        }))
    }

    pub(super) fn child_with(&self, ns: Thunk) -> Env {
        Env(Rc::new(Scope {
            kind: ScopeKind::With(ns),
            parent: Some(self.clone()),
            file: self.0.file.clone(),
            cut: Default::default(),
        }))
    }

    pub(super) fn define(&self, name: Rc<str>, value: Thunk) {
        if let ScopeKind::Vars(vars) = &self.0.kind {
            vars.borrow_mut().insert(name, value);
        }
    }

    /// Marks this scope's bindings as cut short.
    pub(super) fn mark_cut(&self) {
        self.0.cut.set(true);
    }

    pub fn file(&self) -> &Rc<str> {
        &self.0.file
    }

    /// Where `name` is bound, and how many scopes were searched (the cost of the lookup).
    pub(super) fn lookup(&self, name: &str) -> (Lookup, u32) {
        let mut withs = Vec::new();
        let mut cur = Some(self);
        let mut hops = 0;
        while let Some(env) = cur {
            hops += 1;
            match &env.0.kind {
                ScopeKind::Vars(vars) => {
                    if let Some(t) = vars.borrow().get(name) {
                        return (Lookup::Found(t.clone()), hops);
                    }
                    if env.0.cut.get() {
                        return (Lookup::Cut, hops);
                    }
                }
                ScopeKind::With(ns) => withs.push(ns.clone()),
                ScopeKind::Root(globals) => {
                    if let Some(t) = globals.get(name) {
                        return (Lookup::Found(t.clone()), hops);
                    }
                }
            }
            cur = env.0.parent.as_ref();
        }
        (Lookup::Withs(withs), hops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_missing_from_a_cut_scope_is_not_looked_up_further_out() {
        let root = Env::root("f.nix".into(), Rc::new(HashMap::default()));
        let outer = root.child_vars();
        outer.define("x".into(), Thunk::unknown());
        let inner = outer.child_vars();
        inner.define("a".into(), Thunk::unknown());
        assert!(matches!(inner.lookup("x").0, Lookup::Found(_)));
        // `let a = …; <cut here> x = …; in x` must not read the outer `x`.
        inner.mark_cut();
        assert!(matches!(inner.lookup("a").0, Lookup::Found(_)));
        assert!(matches!(inner.lookup("x").0, Lookup::Cut));
    }
}
