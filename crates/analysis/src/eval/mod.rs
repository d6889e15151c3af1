//! The partial evaluator: evaluates the data-like subset of Nix that inventories and module
//! lists are written in, lazily, over the rnix AST. Anything outside the subset — flake inputs,
//! `pkgs`, the evaluated system's `config`, unsupported builtins, errors — is
//! [`Value::Unknown`], and **Unknown never produces a diagnostic**.
//!
//! In recording mode it also notes every deferred-module reference it meets, including those
//! in code the final value does not reach (see [`Evaluator::force_all`]), so a typo in an unused
//! `let` binding or a function body is still found. What it notes on a branch it cannot decide
//! (and on every turn of a loop reached through one) is marked hypothetical: it may happen, so
//! it counts as a use, but it is not known to, so no check reports it as wrong.

mod builtins;
mod env;
pub mod limits;
pub mod read;
mod value;

#[cfg(test)]
mod explore_tests;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use rustc_hash::{FxHashMap, FxHashSet};
use std::rc::Rc;
use std::sync::Arc;

use rnix::ast::{self, HasEntry, InterpolPart};
use rowan::ast::AstNode;

pub use env::Env;
pub use value::{
    shared_rc, shared_str, shared_text, Attr, Attrs, Closure, ImportTreeSpec, ModuleArgsKind,
    PathFilter, Span, SpecialArgs, StrTest, Sym, Thunk, Value,
};
use value::{BuiltinApp, ThunkState};

use crate::diagnostic::TextRange;
use crate::disk::{normalize_join, parent_dir};
use crate::syntax::Parsed;

/// What the evaluator may read besides the expression itself.
pub trait FileSource {
    /// The parse of a workspace `.nix` file, for `import`.
    fn parse_nix(&self, path: &str) -> Option<Arc<Parsed>>;
    /// The text of a data file the analyzer has loaded (never secrets), for `readFile`.
    fn read_text(&self, path: &str) -> Option<Arc<str>>;
    /// The absolute path Nix gives the root-relative `path` (what `toString` of a path
    /// value is), when it is known: for a source in the Nix store, never for the repository,
    /// whose location on the machine that evaluates it is not.
    fn absolute_path(&self, _path: &str) -> Option<String> {
        None
    }
}

/// A source with no files: `import` and `readFile` are Unknown.
pub struct NoFiles;
impl FileSource for NoFiles {
    fn parse_nix(&self, _: &str) -> Option<Arc<Parsed>> {
        None
    }
    fn read_text(&self, _: &str) -> Option<Arc<str>> {
        None
    }
}

/// A deferred-module reference met during evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModuleRefEvent {
    pub class: Rc<str>,
    /// `None` when the name is computed from something Unknown.
    pub name: Option<Rc<str>>,
    pub span: Span,
    /// Selected with an `or` default, so a missing module is not an error.
    pub optional: bool,
    /// Met only on a branch or turn the evaluator does not know is taken (see
    /// [`Evaluator::force_all`]): it may happen, so it counts as a use, but it is not known to
    /// happen, so it is never reported as wrong.
    pub hypothetical: bool,
}

#[derive(Debug, Default)]
pub struct Recorder {
    pub refs: Vec<ModuleRefEvent>,
    /// Module classes whose whole set flowed somewhere the evaluator cannot follow
    /// (`None`: the set of all classes). Any module of such a class may be used.
    pub escaped: Vec<Option<Rc<str>>>,
    /// Arguments of `clan-core.lib.clan { … }` calls: clan modules.
    pub clan_calls: Vec<Thunk>,
    /// Reads of `config.clan.core.vars.generators.<g>.files.<f>` in walked modules.
    pub var_refs: Vec<VarRefEvent>,
    /// Reads of `config.<a>.<b>…` (a path written out in full, without an `or` default) in
    /// walked modules: the options check judges those under the repository's own options.
    pub option_reads: Vec<OptionReadEvent>,
    /// The file tests whether an option exists (`config ? x`, `options ? x`): its reads of
    /// `config` may be guarded by such a test, so none of them is sure to happen.
    pub option_tests: bool,
    /// `config.flake…` where `config` is a walked NixOS, nix-darwin or home-manager module's
    /// own argument (see [`ShadowedConfigEvent`]).
    pub shadowed_configs: Vec<ShadowedConfigEvent>,
}

/// `config.<path>` read in a NixOS, nix-darwin or home-manager module the summary walks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OptionReadEvent {
    pub owner: Rc<str>,
    pub path: Vec<Rc<str>>,
    /// The whole selection, `config.a.b`.
    pub span: Span,
    /// See [`ModuleRefEvent::hypothetical`].
    pub hypothetical: bool,
}

/// `config.flake…` written in a module whose `config` argument is the configuration the module
/// is evaluated in (not flake-parts'): the identifier `config` evaluates to that module's
/// `config`, and the select has no `or` default.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShadowedConfigEvent {
    pub owner: Rc<str>,
    /// From `config` to `flake`.
    pub span: Span,
    /// The attribute path as written after `config` (`flake.modules.nixos.base`), when every
    /// name in it is static.
    pub path: Option<String>,
    /// See [`ModuleRefEvent::hypothetical`].
    pub hypothetical: bool,
}

/// `config.clan.core.vars.generators.<generator>.files.<file>` read in a module.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VarRefEvent {
    pub owner: Rc<str>,
    /// `None` when computed from something Unknown.
    pub generator: Option<Rc<str>>,
    pub file: Option<Rc<str>>,
    pub span: Span,
    /// Where the generator name was written.
    pub generator_span: Option<Span>,
    /// See [`ModuleRefEvent::hypothetical`].
    pub hypothetical: bool,
}

thread_local! {
    // The builtins are immutable values; build them once per thread, not once per file.
    static GLOBALS: Rc<FxHashMap<Rc<str>, Thunk>> = Rc::new(builtins::globals());
}

/// Times one closure may be entered with a known argument while exploring (see
/// [`Evaluator::may_explore`]); after that it is entered once more with an Unknown argument.
const MAX_EXPLORED_ENTRIES: u32 = 32;

/// What exploring does with one application of a closure.
enum Explore {
    /// Enter it with its argument.
    Enter,
    /// Enter it once with an Unknown argument instead, which reaches the code every further
    /// entry would (an unknown `if` takes both branches) and records what it reads there
    /// with unknown names.
    Widen,
    /// Nothing new can be recorded by entering it again.
    Refuse,
}

/// A closure by where its lambda is written and the scope it closes over.
type ClosureKey = (Rc<str>, TextRange, env::SameScope);

/// Attribute paths nest values this deep at most (`a.b.….z = v` and nested set literals
/// together); deeper entries make their set partial instead.
const MAX_PATH_DEPTH: usize = 128;

pub struct Evaluator<'a> {
    files: &'a dyn FileSource,
    globals: Rc<FxHashMap<Rc<str>, Thunk>>,
    budget: limits::Budget,
    recording: bool,
    recorder: RefCell<Recorder>,
    /// Every thunk created, so `force_all` can visit code the result does not reach.
    created: RefCell<Vec<Thunk>>,
    /// Arguments passed to functions the evaluator cannot follow.
    escaping: RefCell<Vec<Thunk>>,
    /// Lambdas met, each with whether it was made on a hypothetical branch (see `hypothetical`).
    lambdas: RefCell<Vec<(Rc<Closure>, bool)>>,
    /// Lambdas queued in `lambdas` by where they are written, and whether only hypothetically.
    seen_lambdas: RefCell<FxHashMap<(Rc<str>, TextRange), bool>>,
    /// Inside [`Evaluator::force_all`]: code is explored for references, not for values.
    exploring: std::cell::Cell<bool>,
    /// The code being evaluated runs only on a branch the evaluator does not know is taken
    /// (an unknown `if`'s, the `or` default of a select from something unknown): what it
    /// records may happen, not does. Thunks made meanwhile inherit it.
    hypothetical: std::cell::Cell<bool>,
    /// Closures (where the lambda is written, and the scope it closes over) entered while
    /// exploring: how often, and whether with an Unknown argument yet (`Some(hypothetical)`).
    explored: RefCell<FxHashMap<ClosureKey, (u32, Option<bool>)>>,
    imports: RefCell<FxHashMap<Rc<str>, Thunk>>,
    /// Names of flake inputs by what they are (`import-tree`, `flake-parts`, `nixpkgs`).
    input_kinds: HashMap<Rc<str>, &'static str>,
}

impl<'a> Evaluator<'a> {
    pub fn new(files: &'a dyn FileSource) -> Self {
        Evaluator {
            files,
            globals: GLOBALS.with(|g| g.clone()),
            budget: limits::Budget::new(),
            recording: false,
            recorder: RefCell::new(Recorder::default()),
            created: RefCell::new(Vec::new()),
            escaping: RefCell::new(Vec::new()),
            lambdas: RefCell::new(Vec::new()),
            seen_lambdas: RefCell::new(FxHashMap::default()),
            exploring: std::cell::Cell::new(false),
            hypothetical: std::cell::Cell::new(false),
            explored: RefCell::new(FxHashMap::default()),
            imports: RefCell::new(FxHashMap::default()),
            input_kinds: HashMap::new(),
        }
    }

    /// Turns on reference recording (and the bookkeeping `force_all` needs).
    pub fn recording(mut self) -> Self {
        self.recording = true;
        self
    }

    /// Tells the evaluator which flake input is which tool, by input name.
    pub fn with_input_kinds<'k>(
        mut self,
        kinds: impl IntoIterator<Item = (&'k str, &'static str)>,
    ) -> Self {
        self.input_kinds = kinds.into_iter().map(|(n, k)| (Rc::from(n), k)).collect();
        self
    }

    /// The `lib.clan` arguments recorded after the first `from`.
    pub fn recorder_clan_calls(&self, from: usize) -> Vec<Thunk> {
        self.recorder
            .borrow()
            .clan_calls
            .get(from..)
            .map(|s| s.to_vec())
            .unwrap_or_default()
    }

    pub fn take_recorder(&self) -> Recorder {
        std::mem::take(&mut *self.recorder.borrow_mut())
    }

    pub fn root_env(&self, file: &str) -> Env {
        Env::root(file.into(), self.globals.clone())
    }

    /// Spends `units` of fuel (see [`limits`]); false once the fuel is gone.
    pub fn charge(&self, units: u64) -> bool {
        self.budget.charge(units)
    }

    /// Spends the fuel for a string of `len` bytes; false (build nothing) once it is gone.
    pub fn charge_bytes(&self, len: usize) -> bool {
        self.budget.charge_bytes(len)
    }

    /// Opens one level of recursion; `None` (answer Unknown) when the depth or fuel is gone.
    /// Every recursive walk over values, types or configurations goes through this.
    pub fn enter(&self) -> Option<limits::Level<'_>> {
        self.budget.enter()
    }

    /// The fuel ran out during this evaluation: some results are missing, not just Unknown.
    pub fn exhausted(&self) -> bool {
        self.budget.exhausted()
    }

    /// Runs `f` on an allowance of fuel of its own; says whether it ran out (see
    /// [`limits`]). For work whose cut-off costs only precision, such as exploring code the
    /// result does not reach, so it cannot starve the reading that follows.
    pub fn phase<T>(&self, f: impl FnOnce() -> T) -> (T, bool) {
        self.budget.phase(f)
    }

    /// Grants the fuel for evaluating `bytes` bytes of source.
    pub fn grant_for_source(&self, bytes: usize) {
        self.budget.grant(bytes)
    }

    /// Fuel spent so far.
    pub fn fuel_spent(&self) -> u64 {
        self.budget.spent()
    }

    fn new_thunk(&self, expr: ast::Expr, env: &Env) -> Thunk {
        self.charge(1);
        let t = Thunk::pending(expr, env.clone());
        if self.recording {
            if self.hypothetical.get() {
                t.set_hypothetical();
            }
            self.created.borrow_mut().push(t.clone());
        }
        t
    }

    /// Runs `f` as code that is (or is not) hypothetical, whatever the code around it is.
    fn with_hypothetical<T>(&self, hypothetical: bool, f: impl FnOnce() -> T) -> T {
        let outer = self.hypothetical.replace(hypothetical);
        let v = f();
        self.hypothetical.set(outer);
        v
    }

    /// A thunk for code that runs only if a branch the evaluator cannot decide is taken.
    fn new_branch_thunk(&self, expr: ast::Expr, env: &Env) -> Thunk {
        let t = self.new_thunk(expr, env);
        t.set_hypothetical();
        t
    }

    pub fn force(&self, t: &Thunk) -> Value {
        let state = std::mem::replace(&mut *t.0.state.borrow_mut(), ThunkState::Forcing);
        let v = match state {
            ThunkState::Done(v) => {
                *t.0.state.borrow_mut() = ThunkState::Done(v.clone());
                return v;
            }
            // Infinite recursion in Nix; for us, simply not knowable.
            ThunkState::Forcing => return Value::Unknown,
            // A thunk is as sure to run as the code it was made in, wherever it is forced.
            ThunkState::Pending { expr, env } => {
                self.with_hypothetical(t.is_hypothetical(), || self.eval(&expr, &env))
            }
            ThunkState::Deferred(f) => match self.enter() {
                Some(_level) => self.with_hypothetical(t.is_hypothetical(), || f(self)),
                None => Value::Unknown,
            },
        };
        *t.0.state.borrow_mut() = ThunkState::Done(v.clone());
        v
    }

    /// Evaluates an expression to weak head normal form.
    pub fn eval(&self, expr: &ast::Expr, env: &Env) -> Value {
        let Some(_level) = self.enter() else {
            return Value::Unknown;
        };
        self.eval_inner(expr, env)
    }

    fn span(&self, env: &Env, range: rowan::TextRange) -> Span {
        Span {
            file: env.file().clone(),
            range: range.into(),
        }
    }

    fn eval_inner(&self, expr: &ast::Expr, env: &Env) -> Value {
        use ast::Expr as E;
        match expr {
            E::Literal(lit) => eval_literal(lit),
            E::Str(s) => self.eval_str(s, env),
            E::PathRel(p) => match crate::syntax::path_parts(p.syntax()) {
                Some(parts) => self.eval_path(&parts, env),
                None => Value::Unknown,
            },
            E::PathAbs(_) | E::PathHome(_) | E::PathSearch(_) => Value::Unknown,
            E::Ident(id) => {
                let Some(tok) = id.ident_token() else {
                    return Value::Unknown;
                };
                self.lookup(env, tok.text(), id.syntax().text_range())
            }
            E::Paren(p) => match p.expr() {
                Some(e) => self.eval(&e, env),
                None => Value::Unknown,
            },
            E::Root(r) => match r.expr() {
                Some(e) => self.eval(&e, env),
                None => Value::Unknown,
            },
            E::AttrSet(set) => {
                if set.rec_token().is_some() {
                    let scope = env.child_vars();
                    let attrs = self.build_attrs(set, &scope, &scope, true);
                    Value::Attrs(Rc::new(attrs))
                } else {
                    Value::Attrs(Rc::new(self.build_attrs(set, env, env, false)))
                }
            }
            E::LetIn(l) => {
                let scope = env.child_vars();
                self.build_attrs(l, &scope, &scope, true);
                match l.body() {
                    Some(b) => self.eval(&b, &scope),
                    None => Value::Unknown,
                }
            }
            E::LegacyLet(l) => {
                let scope = env.child_vars();
                let attrs = self.build_attrs(l, &scope, &scope, true);
                match attrs.get("body") {
                    Some(a) => self.force(&a.value),
                    None => Value::Unknown,
                }
            }
            E::List(l) => Value::List(Rc::new(l.items().map(|e| self.new_thunk(e, env)).collect())),
            E::Lambda(lambda) => {
                let c = Rc::new(Closure {
                    lambda: lambda.clone(),
                    env: env.clone(),
                });
                if self.recording {
                    // Queued again when met for sure after only hypothetically.
                    let key = (env.file().clone(), lambda.syntax().text_range().into());
                    let hypothetical = self.hypothetical.get();
                    let queue = match self.seen_lambdas.borrow_mut().entry(key) {
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(hypothetical);
                            true
                        }
                        std::collections::hash_map::Entry::Occupied(mut o) => {
                            let again = *o.get() && !hypothetical;
                            if again {
                                o.insert(false);
                            }
                            again
                        }
                    };
                    if queue {
                        self.lambdas.borrow_mut().push((c.clone(), hypothetical));
                    }
                }
                Value::Lambda(c)
            }
            E::Apply(app) => {
                let (Some(f), Some(a)) = (app.lambda(), app.argument()) else {
                    return Value::Unknown;
                };
                let fv = self.eval(&f, env);
                let arg = self.new_thunk(a, env);
                self.apply(fv, arg)
            }
            E::Select(sel) => self.eval_select(sel, env),
            E::HasAttr(h) => self.eval_has_attr(h, env),
            E::IfElse(ie) => {
                let cond = ie.condition().map(|c| self.eval(&c, env));
                match cond {
                    Some(Value::Bool(true)) => self.eval_opt(ie.body(), env),
                    Some(Value::Bool(false)) => self.eval_opt(ie.else_body(), env),
                    _ => {
                        // Either branch may run; keep them for reference recording, as
                        // hypothetical: what they record counts as used, never as wrong.
                        for b in [ie.body(), ie.else_body()].into_iter().flatten() {
                            self.new_branch_thunk(b, env);
                        }
                        Value::Unknown
                    }
                }
            }
            E::Assert(a) => {
                let cond = a.condition().map(|c| self.eval(&c, env));
                match cond {
                    Some(Value::Bool(false)) => Value::Unknown,
                    _ => self.eval_opt(a.body(), env),
                }
            }
            E::With(w) => {
                let Some(ns) = w.namespace() else {
                    return Value::Unknown;
                };
                let ns = self.new_thunk(ns, env);
                let inner = env.child_with(ns);
                self.eval_opt(w.body(), &inner)
            }
            E::BinOp(op) => self.eval_binop(op, env),
            E::UnaryOp(op) => {
                let v = self.eval_opt(op.expr(), env);
                match (op.operator(), v) {
                    (Some(ast::UnaryOpKind::Invert), Value::Bool(b)) => Value::Bool(!b),
                    (Some(ast::UnaryOpKind::Negate), Value::Int(i)) => {
                        i.checked_neg().map(Value::Int).unwrap_or(Value::Unknown)
                    }
                    (Some(ast::UnaryOpKind::Negate), Value::Float(x)) => Value::Float(-x),
                    _ => Value::Unknown,
                }
            }
            E::Error(_) | E::CurPos(_) => Value::Unknown,
        }
    }

    fn eval_opt(&self, e: Option<ast::Expr>, env: &Env) -> Value {
        match e {
            Some(e) => self.eval(&e, env),
            None => Value::Unknown,
        }
    }

    fn lookup(&self, env: &Env, name: &str, range: rowan::TextRange) -> Value {
        let (found, hops) = env.lookup(name);
        if !self.charge(hops as u64 / 4) {
            return Value::Unknown;
        }
        match found {
            env::Lookup::Found(t) => self.force(&t),
            env::Lookup::Cut => Value::Unknown,
            env::Lookup::Withs(withs) => {
                for ns in withs {
                    match self.force(&ns) {
                        Value::Attrs(a) => {
                            if let Some(attr) = a.get(name) {
                                return self.force(&attr.value);
                            }
                            if a.partial {
                                return Value::Unknown;
                            }
                        }
                        Value::Sym(s) => {
                            return self.select_sym(&s, name, self.span(env, range));
                        }
                        _ => return Value::Unknown,
                    }
                }
                // An undefined variable: an evaluation error, which is not ours to report.
                Value::Unknown
            }
        }
    }

    fn eval_literal_str_parts(
        &self,
        parts: Vec<InterpolPart<String>>,
        env: &Env,
    ) -> Option<String> {
        let mut parts = parts.into_iter();
        // Most strings are one literal: it is the value as it is.
        let mut out = match parts.next() {
            None => return Some(String::new()),
            Some(InterpolPart::Literal(s)) => s,
            Some(InterpolPart::Interpolation(i)) => self.interpolated(&i, env)?.to_string(),
        };
        for p in parts {
            match p {
                InterpolPart::Literal(s) => out.push_str(&s),
                InterpolPart::Interpolation(i) => out.push_str(&self.interpolated(&i, env)?),
            }
        }
        Some(out)
    }

    /// The text an interpolation `${…}` puts into a string, when it is known.
    fn interpolated(&self, i: &ast::Interpol, env: &Env) -> Option<Rc<str>> {
        match self.eval_opt(i.expr(), env) {
            Value::Str(s) if self.charge_bytes(s.len()) => Some(s),
            // Paths are copied to the store when interpolated: not knowable here.
            _ => None,
        }
    }

    fn eval_str(&self, s: &ast::Str, env: &Env) -> Value {
        use rnix::SyntaxKind::*;
        // One look at the string's own children (its interpolations are strings of their own)
        // decides whether it is well formed (rnix's string helpers assert on the token kinds
        // they meet, and error-recovered trees can hold others) and whether it is one plain
        // literal.
        let mut indented = false;
        let mut interpolations = 0;
        let mut contents = 0;
        let mut first_content = None;
        for child in s.syntax().children_with_tokens() {
            match child {
                rowan::NodeOrToken::Token(t) => match t.kind() {
                    TOKEN_STRING_START => indented = t.text().starts_with("''"),
                    TOKEN_STRING_END => {}
                    TOKEN_STRING_CONTENT => {
                        // Nix strips indentation after an escaped line break (`''\n`) where
                        // rnix does not.
                        if indented && (t.text().contains("''\\n") || t.text().contains("''\\r")) {
                            return Value::Unknown;
                        }
                        contents += 1;
                        first_content.get_or_insert(t);
                    }
                    _ => return Value::Unknown,
                },
                rowan::NodeOrToken::Node(n) if n.kind() == NODE_INTERPOL => interpolations += 1,
                rowan::NodeOrToken::Node(_) => return Value::Unknown,
            }
        }
        // A `"…"` string without escapes or interpolations is its text as written (what
        // `normalized_parts` would make of it, without its copies).
        if !indented && interpolations == 0 {
            match (contents, first_content) {
                (0, _) => return Value::Str("".into()),
                (1, Some(t)) if !t.text().contains('\\') => return Value::Str(t.text().into()),
                _ => {}
            }
        }
        let parts = s.normalized_parts();
        // `"${modulesPath}/profiles/qemu-guest.nix"`
        if let Some(InterpolPart::Interpolation(i)) = parts.first() {
            if let Some(e @ ast::Expr::Ident(_)) = i.expr() {
                if let Value::Sym(m) = self.eval(&e, env) {
                    if *m == Sym::ModulesPath {
                        return Value::Sym(m);
                    }
                }
            }
        }
        match self.eval_literal_str_parts(parts, env) {
            Some(st) => Value::Str(st.into()),
            None => Value::Unknown,
        }
    }

    fn eval_path(&self, parts: &[crate::syntax::PathPart], env: &Env) -> Value {
        use crate::syntax::PathPart;
        let mut text = String::new();
        for p in parts {
            match p {
                PathPart::Literal(c) => text.push_str(c),
                PathPart::Interpolation(i) => match self.eval_opt(i.expr(), env) {
                    Value::Str(s) => text.push_str(&s),
                    _ => return Value::Unknown,
                },
            }
        }
        match normalize_join(parent_dir(env.file()), &text) {
            Some(p) => Value::Path(p.into()),
            None => Value::Unknown,
        }
    }

    /// The name of an attribute in an attrpath; `None` when it is computed from Unknown.
    pub(crate) fn attr_name(&self, attr: &ast::Attr, env: &Env) -> Option<Rc<str>> {
        match attr {
            ast::Attr::Ident(id) => Some(id.ident_token()?.text().into()),
            ast::Attr::Str(s) => self.eval_str(s, env).as_str().map(Rc::from),
            ast::Attr::Dynamic(d) => match self.eval_opt(d.expr(), env) {
                Value::Str(s) => Some(s),
                _ => None,
            },
        }
    }

    fn eval_select(&self, sel: &ast::Select, env: &Env) -> Value {
        let base = self.eval_opt(sel.expr(), env);
        let Some(path) = sel.attrpath() else {
            return Value::Unknown;
        };
        let default = sel.default_expr();
        if default.is_none() && self.recording {
            self.note_option_read(&base, &path, env, sel.syntax().text_range());
        }
        let base_is_config = matches!(
            sel.expr(),
            Some(ast::Expr::Ident(i)) if i.ident_token().is_some_and(|t| t.text() == "config")
        );
        let mut cur = base;
        for (index, attr) in path.attrs().enumerate() {
            if !self.charge(1) {
                return Value::Unknown;
            }
            let name = self.attr_name(&attr, env);
            let span = self.span(env, attr.syntax().text_range());
            if index == 0 && base_is_config && default.is_none() && self.recording {
                self.note_shadowed_config(&cur, name.as_deref(), sel, &path, env);
            }
            cur = match (cur, name) {
                (Value::Attrs(a), Some(n)) => match a.get(&n) {
                    Some(x) => self.force(&x.value),
                    None if a.partial => return self.unknown_with(default, env),
                    None => return self.eval_or_unknown(default, env),
                },
                (Value::Sym(s), Some(n)) => {
                    let v = self.select_sym(&s, &n, span);
                    if default.is_some() && matches!(&*s, Sym::ModuleSet(Some(_))) {
                        if let Some(r) = self.recorder.borrow_mut().refs.last_mut() {
                            r.optional = true;
                        }
                        // Taken when the module is missing, which is not known here: what
                        // the default names may be used.
                        if let (Some(d), true) = (&default, self.recording) {
                            self.new_branch_thunk(d.clone(), env);
                        }
                    }
                    v
                }
                (Value::Sym(s), None) => {
                    self.note_unknown_select(&s, span);
                    return self.unknown_with(default, env);
                }
                (Value::Unknown, _) | (Value::Attrs(_), None) => {
                    return self.unknown_with(default, env)
                }
                // Selecting from a non-set: an error, or the `or` default.
                (_, _) => return self.eval_or_unknown(default, env),
            };
        }
        if cur.is_unknown() {
            return self.unknown_with(default, env);
        }
        cur
    }

    /// Records `config.<path>` selected from a walked module's `config` with every name written
    /// out; a computed name ends the path there.
    fn note_option_read(
        &self,
        base: &Value,
        path: &ast::Attrpath,
        env: &Env,
        range: rowan::TextRange,
    ) {
        let Value::Sym(s) = base else { return };
        let Sym::SystemConfig { owner, path: p, .. } = &**s else {
            return;
        };
        if !p.is_empty() {
            return;
        }
        let mut names: Vec<Rc<str>> = Vec::new();
        for attr in path.attrs() {
            match attr {
                ast::Attr::Ident(id) => match id.ident_token() {
                    Some(t) => names.push(t.text().into()),
                    None => break,
                },
                _ => break,
            }
        }
        if names.is_empty() {
            return;
        }
        self.recorder
            .borrow_mut()
            .option_reads
            .push(OptionReadEvent {
                owner: owner.clone(),
                path: names,
                span: self.span(env, range),
                hypothetical: self.hypothetical.get(),
            });
    }

    /// Records `config.flake` where `config` is a walked system module's own `config`.
    fn note_shadowed_config(
        &self,
        base: &Value,
        first: Option<&str>,
        sel: &ast::Select,
        path: &ast::Attrpath,
        env: &Env,
    ) {
        let Value::Sym(s) = base else { return };
        let Sym::SystemConfig { owner, path: p, .. } = &**s else {
            return;
        };
        if !p.is_empty() || first != Some("flake") {
            return;
        }
        let Some(flake) = path.attrs().next() else {
            return;
        };
        let start = sel.syntax().text_range().start();
        let range = rowan::TextRange::new(start, flake.syntax().text_range().end());
        let written = path
            .attrs()
            .map(|a| match a {
                ast::Attr::Ident(i) => Some(i.syntax().text().to_string()),
                ast::Attr::Str(s) => Some(s.syntax().text().to_string()),
                ast::Attr::Dynamic(_) => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join("."));
        let event = ShadowedConfigEvent {
            owner: owner.clone(),
            span: self.span(env, range),
            path: written,
            hypothetical: self.hypothetical.get(),
        };
        let mut rec = self.recorder.borrow_mut();
        if !rec.shadowed_configs.contains(&event) {
            rec.shadowed_configs.push(event);
        }
    }

    fn unknown_with(&self, default: Option<ast::Expr>, env: &Env) -> Value {
        // Whether the default is taken is not known.
        if let Some(d) = default {
            self.new_branch_thunk(d, env);
        }
        Value::Unknown
    }

    fn eval_or_unknown(&self, default: Option<ast::Expr>, env: &Env) -> Value {
        match default {
            Some(d) => self.eval(&d, env),
            None => Value::Unknown,
        }
    }

    fn eval_has_attr(&self, h: &ast::HasAttr, env: &Env) -> Value {
        let mut cur = self.eval_opt(h.expr(), env);
        if self.recording {
            let on_options = matches!(h.expr(), Some(ast::Expr::Ident(ref i))
                if i.ident_token().is_some_and(|t| t.text() == "options"));
            let on_config =
                matches!(&cur, Value::Sym(s) if matches!(&**s, Sym::SystemConfig { .. }));
            if on_options || on_config {
                self.recorder.borrow_mut().option_tests = true;
            }
        }
        let Some(path) = h.attrpath() else {
            return Value::Unknown;
        };
        let attrs: Vec<ast::Attr> = path.attrs().collect();
        for (i, attr) in attrs.iter().enumerate() {
            if !self.charge(1) {
                return Value::Unknown;
            }
            let Some(name) = self.attr_name(attr, env) else {
                return Value::Unknown;
            };
            match cur {
                Value::Attrs(a) => match a.get(&name) {
                    Some(x) => {
                        if i + 1 == attrs.len() {
                            return Value::Bool(true);
                        }
                        cur = self.force(&x.value);
                    }
                    None if a.partial => return Value::Unknown,
                    None => return Value::Bool(false),
                },
                Value::Unknown | Value::Sym(_) => return Value::Unknown,
                _ => return Value::Bool(false),
            }
        }
        Value::Unknown
    }

    /// Builds the attributes of an attrset or `let`. Keys are evaluated in `key_env`, values in
    /// `value_env`; with `rec`, every top-level attribute is also bound in `value_env`.
    fn build_attrs(
        &self,
        node: &impl HasEntry,
        key_env: &Env,
        value_env: &Env,
        rec: bool,
    ) -> Attrs {
        let mut tree = PendingSet::default();
        self.collect_entries(node, key_env, value_env, rec, &mut tree, 0);
        let attrs = self.finish(tree);
        if rec {
            for (k, a) in &attrs.map {
                value_env.define(k.clone(), a.value.clone());
            }
            if self.exhausted() {
                value_env.mark_cut();
            }
        }
        attrs
    }

    /// Collects the entries of `node` into `tree`, which is `depth` levels below the set being
    /// built.
    fn collect_entries(
        &self,
        node: &impl HasEntry,
        key_env: &Env,
        value_env: &Env,
        rec: bool,
        tree: &mut PendingSet,
        depth: usize,
    ) {
        for entry in node.entries() {
            if !self.charge(1) {
                // Out of fuel: what is left of the set cannot be known.
                tree.partial = true;
                return;
            }
            match entry {
                ast::Entry::Inherit(inh) => {
                    let from = inh
                        .from()
                        .and_then(|f| f.expr())
                        .map(|e| self.new_thunk(e, value_env));
                    for attr in inh.attrs() {
                        let Some(name) = self.attr_name(&attr, key_env) else {
                            tree.partial = true;
                            continue;
                        };
                        let span = self.span(key_env, attr.syntax().text_range());
                        let thunk = match &from {
                            Some(src) => {
                                let src = src.clone();
                                let n = name.clone();
                                let sp = span.clone();
                                self.deferred(move |ev| match ev.force(&src) {
                                    Value::Attrs(a) => match a.get(&n) {
                                        Some(x) => ev.force(&x.value),
                                        None => Value::Unknown,
                                    },
                                    Value::Sym(s) => ev.select_sym(&s, &n, sp),
                                    _ => Value::Unknown,
                                })
                            }
                            None => {
                                // `inherit x;` reads x from the enclosing scope, even in `rec`.
                                let outer = if rec {
                                    value_env.0.parent.clone().unwrap_or(value_env.clone())
                                } else {
                                    value_env.clone()
                                };
                                let n = name.clone();
                                let range = attr.syntax().text_range();
                                self.deferred(move |ev| ev.lookup(&outer, &n, range))
                            }
                        };
                        tree.insert_leaf(name, thunk, span);
                    }
                }
                ast::Entry::AttrpathValue(apv) => {
                    let (Some(path), Some(value)) = (apv.attrpath(), apv.value()) else {
                        continue;
                    };
                    let attrs: Vec<ast::Attr> = path.attrs().collect();
                    if depth + attrs.len() > MAX_PATH_DEPTH || !self.charge(attrs.len() as u64) {
                        self.new_thunk(value, value_env);
                        tree.partial = true;
                        continue;
                    }
                    // `{ ${null} = v; }` defines nothing.
                    if let Some(ast::Attr::Dynamic(d)) = attrs.first() {
                        if matches!(self.eval_opt(d.expr(), key_env), Value::Null) {
                            continue;
                        }
                    }
                    let mut names = Vec::with_capacity(attrs.len());
                    let mut unknown = false;
                    for a in &attrs {
                        match self.attr_name(a, key_env) {
                            Some(n) => names.push((n, self.span(key_env, a.syntax().text_range()))),
                            None => {
                                unknown = true;
                                break;
                            }
                        }
                    }
                    if unknown {
                        // Keep the value around for reference recording.
                        self.new_thunk(value, value_env);
                        tree.mark_partial(&names);
                        continue;
                    }
                    tree.insert_path(self, &names, value, value_env, depth);
                }
            }
        }
    }

    fn deferred(&self, f: impl FnOnce(&Evaluator) -> Value + 'static) -> Thunk {
        self.charge(1);
        let t = Thunk::deferred(f);
        if self.recording {
            self.created.borrow_mut().push(t.clone());
        }
        t
    }

    fn finish(&self, tree: PendingSet) -> Attrs {
        let mut out = Attrs {
            map: BTreeMap::new(),
            partial: tree.partial,
        };
        for (name, node) in tree.entries {
            let (value, span, value_span) = match node {
                PendingNode::Leaf(t, s, v) => (t, s, v),
                PendingNode::Conflict(s) => (Thunk::unknown(), s, None),
                PendingNode::Set(set, s) => (
                    Thunk::value(Value::Attrs(Rc::new(self.finish(*set)))),
                    s,
                    None,
                ),
            };
            out.map.insert(
                name,
                Attr {
                    value,
                    key_span: Some(span),
                    value_span,
                },
            );
        }
        out
    }

    fn eval_binop(&self, op: &ast::BinOp, env: &Env) -> Value {
        use ast::BinOpKind as K;
        let Some(kind) = op.operator() else {
            return Value::Unknown;
        };
        let lhs = || self.eval_opt(op.lhs(), env);
        let rhs = || self.eval_opt(op.rhs(), env);
        match kind {
            K::And => match lhs() {
                Value::Bool(false) => Value::Bool(false),
                Value::Bool(true) => bool_or_unknown(rhs()),
                _ => self.keep_rhs(op, env),
            },
            K::Or => match lhs() {
                Value::Bool(true) => Value::Bool(true),
                Value::Bool(false) => bool_or_unknown(rhs()),
                _ => self.keep_rhs(op, env),
            },
            K::Implication => match lhs() {
                Value::Bool(false) => Value::Bool(true),
                Value::Bool(true) => bool_or_unknown(rhs()),
                _ => self.keep_rhs(op, env),
            },
            K::Concat => match (lhs(), rhs()) {
                (Value::List(a), Value::List(b)) if self.charge((a.len() + b.len()) as u64) => {
                    let mut v = (*a).clone();
                    v.extend(b.iter().cloned());
                    Value::List(Rc::new(v))
                }
                _ => Value::Unknown,
            },
            K::Update => match (lhs(), rhs()) {
                (Value::Attrs(a), Value::Attrs(b))
                    if self.charge((a.map.len() + b.map.len()) as u64) =>
                {
                    let mut m = (*a).clone();
                    for (k, v) in &b.map {
                        m.map.insert(k.clone(), v.clone());
                    }
                    m.partial |= b.partial;
                    Value::Attrs(Rc::new(m))
                }
                (a, b) => {
                    self.escape_value(&a);
                    self.escape_value(&b);
                    Value::Unknown
                }
            },
            K::Add => match (lhs(), rhs()) {
                (Value::Str(a), Value::Str(b)) if !self.charge_bytes(a.len() + b.len()) => {
                    Value::Unknown
                }
                // `modulesPath + "/profiles/qemu-guest.nix"`
                (Value::Sym(m), Value::Str(_)) if *m == Sym::ModulesPath => Value::Sym(m),
                (a, b) => builtins::add(a, b),
            },
            K::Sub | K::Mul | K::Div => builtins::arith(kind, lhs(), rhs()),
            K::Equal => match self.equal(&lhs(), &rhs()) {
                Some(b) => Value::Bool(b),
                None => Value::Unknown,
            },
            K::NotEqual => match self.equal(&lhs(), &rhs()) {
                Some(b) => Value::Bool(!b),
                None => Value::Unknown,
            },
            K::Less | K::LessOrEq | K::More | K::MoreOrEq => {
                let (a, b) = (lhs(), rhs());
                let ord = if matches!(kind, K::Less | K::MoreOrEq) {
                    self.less_than(&a, &b)
                } else {
                    self.less_than(&b, &a)
                };
                match (kind, ord) {
                    (K::Less | K::More, Some(x)) => Value::Bool(x),
                    (K::LessOrEq | K::MoreOrEq, Some(x)) => Value::Bool(!x),
                    _ => Value::Unknown,
                }
            }
            K::PipeLeft | K::PipeRight => Value::Unknown,
        }
    }

    fn keep_rhs(&self, op: &ast::BinOp, env: &Env) -> Value {
        if let Some(r) = op.rhs() {
            self.new_thunk(r, env);
        }
        Value::Unknown
    }

    /// Nix's `<`: numbers, strings, paths and lists (lexicographically). `None` when unknown
    /// or a type error.
    pub(crate) fn less_than(&self, a: &Value, b: &Value) -> Option<bool> {
        let _level = self.enter()?;
        self.less_than_inner(a, b)
    }

    fn less_than_inner(&self, a: &Value, b: &Value) -> Option<bool> {
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => Some(x < y),
            (Value::Int(x), Value::Float(y)) => Some((*x as f64) < *y),
            (Value::Float(x), Value::Int(y)) => Some(*x < (*y as f64)),
            (Value::Float(x), Value::Float(y)) => Some(x < y),
            (Value::Str(x), Value::Str(y)) => Some(x < y),
            (Value::Path(x), Value::Path(y)) => Some(x < y),
            (Value::List(x), Value::List(y)) => {
                for (p, q) in x.iter().zip(y.iter()) {
                    let (p, q) = (self.force(p), self.force(q));
                    if self.equal(&p, &q)? {
                        continue;
                    }
                    return self.less_than(&p, &q);
                }
                Some(x.len() < y.len())
            }
            _ => None,
        }
    }

    /// Nix's `==`, or `None` when the answer depends on something Unknown.
    pub(crate) fn equal(&self, a: &Value, b: &Value) -> Option<bool> {
        // Values can be infinitely deep (`let x = [ x ]; in x == x`).
        let _level = self.enter()?;
        self.equal_inner(a, b)
    }

    fn equal_inner(&self, a: &Value, b: &Value) -> Option<bool> {
        match (a, b) {
            (Value::Unknown, _) | (_, Value::Unknown) | (Value::Sym(_), _) | (_, Value::Sym(_)) => {
                None
            }
            (Value::Null, Value::Null) => Some(true),
            (Value::Bool(x), Value::Bool(y)) => Some(x == y),
            (Value::Int(x), Value::Int(y)) => Some(x == y),
            (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => {
                Some(*x as f64 == *y)
            }
            (Value::Float(x), Value::Float(y)) => Some(x == y),
            (Value::Str(x), Value::Str(y)) => Some(x == y),
            (Value::Path(x), Value::Path(y)) => Some(x == y),
            (Value::List(x), Value::List(y)) => {
                if x.len() != y.len() {
                    return Some(false);
                }
                let mut all = Some(true);
                for (p, q) in x.iter().zip(y.iter()) {
                    match self.equal(&self.force(p), &self.force(q)) {
                        Some(false) => return Some(false),
                        None => all = None,
                        Some(true) => {}
                    }
                }
                all
            }
            (Value::Attrs(x), Value::Attrs(y)) => {
                if x.partial || y.partial || !self.charge(x.map.len() as u64) {
                    return None;
                }
                if x.map.len() != y.map.len() || !x.keys().eq(y.keys()) {
                    return Some(false);
                }
                let mut all = Some(true);
                for (k, p) in &x.map {
                    let q = &y.map[k];
                    match self.equal(&self.force(&p.value), &self.force(&q.value)) {
                        Some(false) => return Some(false),
                        None => all = None,
                        Some(true) => {}
                    }
                }
                all
            }
            (Value::Lambda(_) | Value::Builtin(_), _)
            | (_, Value::Lambda(_) | Value::Builtin(_)) => None,
            _ => Some(false),
        }
    }

    /// Applies a function value to an argument.
    pub fn apply(&self, f: Value, arg: Thunk) -> Value {
        let Some(_level) = self.enter() else {
            return Value::Unknown;
        };
        match f {
            Value::Lambda(c) => {
                if self.exploring.get() {
                    match self.may_explore(&c, &arg) {
                        Explore::Enter => {}
                        Explore::Widen => {
                            // Explored for what it records; its value stands for this one
                            // application only as Unknown.
                            self.apply_lambda(&c, Thunk::unknown());
                            return Value::Unknown;
                        }
                        Explore::Refuse => return Value::Unknown,
                    }
                }
                self.apply_lambda(&c, arg)
            }
            Value::Builtin(b) => {
                let mut args = b.args.clone();
                args.push(arg);
                if args.len() < b.arity {
                    Value::Builtin(Rc::new(BuiltinApp {
                        name: b.name,
                        arity: b.arity,
                        args,
                    }))
                } else {
                    let v = builtins::call(self, b.name, &args);
                    // Builtins that only look at a set's names or type hand back no module.
                    let inspects_only = matches!(
                        b.name,
                        "hasAttr"
                            | "attrNames"
                            | "isAttrs"
                            | "isList"
                            | "isFunction"
                            | "typeOf"
                            | "length"
                    );
                    if v.is_unknown() && self.recording && !inspects_only {
                        // A module set handed to a builtin we could not evaluate may be used
                        // in any way (`attrValues config.flake.modules.nixos`).
                        for a in &args {
                            if a.is_forced() {
                                self.escape_value(&self.force(a));
                            }
                        }
                    }
                    v
                }
            }
            Value::Attrs(a) => match a.get("__functor") {
                Some(f) => {
                    let functor = self.force(&f.value);
                    let inner = self.apply(functor, Thunk::value(Value::Attrs(a.clone())));
                    self.apply(inner, arg)
                }
                None => Value::Unknown,
            },
            Value::Sym(s) => self.apply_sym(&s, arg),
            _ => {
                if self.recording {
                    self.escaping.borrow_mut().push(arg);
                }
                Value::Unknown
            }
        }
    }

    fn apply_lambda(&self, c: &Closure, arg: Thunk) -> Value {
        let scope = c.env.child_vars();
        match c.lambda.param() {
            Some(ast::Param::IdentParam(p)) => {
                if let Some(name) = p.ident().and_then(|i| i.ident_token()) {
                    scope.define(name.text().into(), arg);
                }
            }
            Some(ast::Param::Pattern(pat)) => {
                let argv = self.force(&arg);
                let (attrs, known) = match &argv {
                    Value::Attrs(a) => (Some(a.clone()), true),
                    Value::Unknown | Value::Sym(_) => (None, false),
                    _ => return Value::Unknown,
                };
                if let Some(bind) = pat
                    .pat_bind()
                    .and_then(|b| b.ident())
                    .and_then(|i| i.ident_token())
                {
                    scope.define(bind.text().into(), arg.clone());
                }
                let mut formals = FxHashSet::default();
                // Matching costs the formals and, without `...`, every attribute given.
                let given = attrs.as_ref().map_or(0, |a| a.map.len());
                if !self.charge(1 + given as u64) {
                    return Value::Unknown;
                }
                for entry in pat.pat_entries() {
                    self.charge(1);
                    let Some(tok) = entry.ident().and_then(|i| i.ident_token()) else {
                        continue;
                    };
                    let name: Rc<str> = tok.text().into();
                    formals.insert(name.clone());
                    let given = attrs
                        .as_ref()
                        .and_then(|a| a.get(&name).map(|x| x.value.clone()));
                    let t = match (given, entry.default()) {
                        (Some(t), _) => t,
                        (None, Some(d)) if known && !attrs.as_ref().is_some_and(|a| a.partial) => {
                            self.new_thunk(d, &scope)
                        }
                        (None, d) if known && !attrs.as_ref().is_some_and(|a| a.partial) => {
                            let _ = d;
                            // A required argument is missing: an evaluation error.
                            return Value::Unknown;
                        }
                        (None, d) => {
                            if let Some(d) = d {
                                self.new_thunk(d, &scope);
                            }
                            match &argv {
                                Value::Sym(s) => {
                                    let s = s.clone();
                                    let n = name.clone();
                                    let sp = self.span(&scope, tok.text_range());
                                    self.deferred(move |ev| ev.select_sym(&s, &n, sp))
                                }
                                _ if &*name == "lib" => {
                                    Thunk::value(Value::Sym(Rc::new(Sym::Lib(Vec::new()))))
                                }
                                _ => Thunk::unknown(),
                            }
                        }
                    };
                    scope.define(name, t);
                }
                if let Some(a) = &attrs {
                    if pat.ellipsis_token().is_none() && a.keys().any(|k| !formals.contains(k)) {
                        return Value::Unknown;
                    }
                }
            }
            None => return Value::Unknown,
        }
        self.eval_opt(c.lambda.body(), &scope)
    }

    /// `import ./file.nix`: evaluated once per evaluator, in a fresh scope of its own file.
    pub fn import(&self, path: &str) -> Value {
        let path = if path.is_empty() {
            // `import ./.` in a file at the root.
            "default.nix".to_owned()
        } else if self.files.parse_nix(path).is_none() {
            format!("{path}/default.nix")
        } else {
            path.to_owned()
        };
        let key: Rc<str> = path.as_str().into();
        if let Some(t) = self.imports.borrow().get(&key) {
            let t = t.clone();
            return self.force(&t);
        }
        let Some(parsed) = self.files.parse_nix(&path) else {
            return Value::Unknown;
        };
        if !parsed.errors.is_empty() {
            return Value::Unknown;
        }
        let Some(expr) = parsed.root_expr() else {
            return Value::Unknown;
        };
        self.grant_for_source(usize::from(parsed.green.text_len()));
        let env = self.root_env(&path);
        // A file is shared by every import of it, so it is not hypothetical however the
        // first import of it was reached; a function it returns is applied where it is used.
        let t = self.with_hypothetical(false, || self.new_thunk(expr, &env));
        self.imports.borrow_mut().insert(key, t.clone());
        self.force(&t)
    }

    pub(crate) fn read_text(&self, path: &str) -> Option<Arc<str>> {
        self.files.read_text(path)
    }

    /// Forces `t` completely: every list element and attribute, recursively. Each value is
    /// visited once, however many times it is shared.
    pub fn deep_force(&self, t: &Thunk) -> Value {
        let mut seen = FxHashSet::default();
        self.deep_force_in(t, &mut seen)
    }

    fn deep_force_in(&self, t: &Thunk, seen: &mut FxHashSet<*const ()>) -> Value {
        let v = self.force(t);
        let Some(_level) = self.enter() else {
            return v;
        };
        match &v {
            Value::List(l) if seen.insert(Rc::as_ptr(l).cast()) => {
                for x in l.iter() {
                    self.deep_force_in(x, seen);
                }
            }
            Value::Attrs(a) if seen.insert(Rc::as_ptr(a).cast()) => {
                for x in a.map.values() {
                    self.deep_force_in(&x.value, seen);
                }
            }
            _ => {}
        }
        v
    }

    /// Visits everything the evaluation created but did not force — unused `let` bindings,
    /// function bodies, both branches of an unknown `if` — so their module references are
    /// recorded too. Lambdas are entered once each with Unknown arguments.
    ///
    /// Code that exists runs whenever its value is needed, so what an unused binding or a
    /// function body names is recorded as sure. A branch of an unknown `if` (or `lib.optional`
    /// and its siblings) and the `or` default of an unknown select may never run: they are
    /// explored as hypothetical, and so is everything they lead to, such as the further turns
    /// of a loop whose end is unknown (`go (i + 1)` on the branch that does not stop).
    pub fn force_all(&self) {
        self.exploring.set(true);
        self.explore();
        self.exploring.set(false);
    }

    /// Whether exploring enters closure `c` with `arg`. Exploring follows both branches of an
    /// unknown `if`, so a recursive function would unroll forever: a closure is entered with an
    /// Unknown argument once (the same code with an argument as unknown records nothing new),
    /// and with known arguments at most [`MAX_EXPLORED_ENTRIES`] times — a loop over a counter
    /// whose end is unknown (`go (i + 1)` up to the length of an unknown string) would take
    /// every one of them, each costing a full turn of its body, in every file that imports
    /// it. Past that the closure is entered once with an Unknown argument ([`Explore::Widen`]),
    /// which covers the turns left out. A recursive function calls itself through the same
    /// closure, so it is stopped; one lambda closed over other values (`pick "nixos"` and
    /// `pick "darwin"` of a curried `pick`) is explored for each.
    fn may_explore(&self, c: &Closure, arg: &Thunk) -> Explore {
        let unknown = self.force(arg).is_unknown();
        let key = (
            c.env.file().clone(),
            c.lambda.syntax().text_range().into(),
            env::SameScope(c.env.clone()),
        );
        let hypothetical = self.hypothetical.get();
        let mut explored = self.explored.borrow_mut();
        let (entries, with_unknown) = explored.entry(key).or_insert((0, None));
        // Entered with Unknown for sure already, or hypothetically and this is too: nothing new.
        let covered = with_unknown.is_some_and(|h| !h || hypothetical);
        if covered && (unknown || *entries >= MAX_EXPLORED_ENTRIES) {
            return Explore::Refuse;
        }
        if unknown || *entries >= MAX_EXPLORED_ENTRIES {
            *with_unknown = Some(hypothetical);
            return if unknown {
                Explore::Enter
            } else {
                Explore::Widen
            };
        }
        *entries += 1;
        Explore::Enter
    }

    fn explore(&self) {
        let mut next_thunk = 0;
        let mut next_lambda = 0;
        let mut next_escape = 0;
        loop {
            if !self.charge(1) {
                break;
            }
            let t = self.created.borrow().get(next_thunk).cloned();
            if let Some(t) = t {
                next_thunk += 1;
                self.force(&t);
                continue;
            }
            let e = self.escaping.borrow().get(next_escape).cloned();
            if let Some(e) = e {
                next_escape += 1;
                let v = self.force(&e);
                self.escape_value(&v);
                continue;
            }
            let c = self.lambdas.borrow().get(next_lambda).cloned();
            if let Some((c, hypothetical)) = c {
                next_lambda += 1;
                let arg = Thunk::unknown();
                // A lambda's body is as sure to run as the code the lambda was made in.
                self.with_hypothetical(hypothetical, || {
                    if matches!(self.may_explore(&c, &arg), Explore::Enter) {
                        self.apply_lambda(&c, arg);
                    }
                });
                continue;
            }
            break;
        }
    }

    /// Notes that a module set (or a list/attrset holding one) flowed somewhere unknowable.
    pub(crate) fn escape_value(&self, v: &Value) {
        if !self.recording {
            return;
        }
        if let Value::Sym(s) = v {
            match &**s {
                Sym::ModuleSet(c) => self.recorder.borrow_mut().escaped.push(c.clone()),
                Sym::FlakeConfig(_) | Sym::SelfFlake(_) | Sym::Inputs => {
                    self.recorder.borrow_mut().escaped.push(None)
                }
                _ => {}
            }
        }
    }

    fn note_unknown_select(&self, s: &Sym, span: Span) {
        if !self.recording {
            return;
        }
        match s {
            Sym::ModuleSet(Some(class)) => {
                self.recorder.borrow_mut().refs.push(ModuleRefEvent {
                    class: class.clone(),
                    name: None,
                    span,
                    optional: false,
                    hypothetical: self.hypothetical.get(),
                });
                self.recorder.borrow_mut().escaped.push(Some(class.clone()));
            }
            Sym::ModuleSet(None) => self.recorder.borrow_mut().escaped.push(None),
            // `generators.${x}` or `files.${x}`: a read we cannot check.
            Sym::SystemConfig {
                owner,
                path,
                generator_span,
            } if path.len() == 4 || path.len() == 6 => {
                self.recorder.borrow_mut().var_refs.push(VarRefEvent {
                    owner: owner.clone(),
                    generator: path.get(4).cloned(),
                    file: None,
                    span,
                    generator_span: generator_span.clone(),
                    hypothetical: self.hypothetical.get(),
                });
            }
            _ => {}
        }
    }

    /// Selects `name` from a symbolic value.
    pub(crate) fn select_sym(&self, s: &Sym, name: &str, span: Span) -> Value {
        let sym = |s: Sym| Value::Sym(Rc::new(s));
        let ext = |path: &[Rc<str>]| {
            let mut p = path.to_vec();
            p.push(name.into());
            p
        };
        match s {
            Sym::FlakeConfig(path) => {
                let p = ext(path);
                match p.iter().map(|x| &**x).collect::<Vec<_>>().as_slice() {
                    ["flake"] => sym(Sym::FlakeConfig(p)),
                    ["flake", "modules"] => sym(Sym::ModuleSet(None)),
                    ["flake", set @ ("nixosModules" | "darwinModules")] => sym(Sym::OutputModule {
                        set: (*set).into(),
                        name: None,
                    }),
                    _ => Value::Unknown,
                }
            }
            Sym::Inputs => {
                if name == "self" {
                    sym(Sym::SelfFlake(Vec::new()))
                } else {
                    sym(Sym::Input {
                        name: name.into(),
                        path: Vec::new(),
                    })
                }
            }
            Sym::Input { name: input, path } => {
                let kind = self.input_kind(input);
                let p = ext(path);
                let strs: Vec<&str> = p.iter().map(|x| &**x).collect();
                match (kind, strs.as_slice()) {
                    (Some("flake-parts"), ["lib"]) => sym(Sym::Input {
                        name: input.clone(),
                        path: p,
                    }),
                    (Some("flake-parts"), ["lib", "mkFlake"]) => {
                        sym(Sym::MkFlake { applied: false })
                    }
                    (Some("nixpkgs"), ["lib"]) => sym(Sym::Lib(Vec::new())),
                    (Some("clan-core"), ["lib"]) => sym(Sym::Input {
                        name: input.clone(),
                        path: p,
                    }),
                    (Some("clan-core"), ["lib", "clan" | "buildClan"]) => sym(Sym::LibClan),
                    (Some("import-tree"), [_]) => {
                        self.select_sym(&Sym::ImportTree(ImportTreeSpec::default()), name, span)
                    }
                    (
                        k,
                        ["flakeModule" | "flakeModules" | "modules"]
                        | ["flakeModules", _]
                        | ["modules", "flake"]
                        | ["modules", "flake", _],
                    ) if crate::flake::has_inert_flake_modules(k) => sym(Sym::Input {
                        name: input.clone(),
                        path: p,
                    }),
                    // home-manager's standalone configurations (see `apply_sym`).
                    (_, ["lib"]) | (_, ["lib", "homeManagerConfiguration"]) => sym(Sym::Input {
                        name: input.clone(),
                        path: p,
                    }),
                    // A NixOS, nix-darwin or home-manager module of another flake: named, so
                    // that a configuration importing it knows which module it is (flake-parts'
                    // `modules.<class>` output as much as the older `<class>Modules`).
                    (
                        _,
                        ["nixosModules" | "darwinModules" | "homeManagerModules" | "homeModules"]
                        | ["nixosModules" | "darwinModules" | "homeManagerModules" | "homeModules", _]
                        | ["modules"]
                        | ["modules", "nixos" | "darwin" | "homeManager"]
                        | ["modules", "nixos" | "darwin" | "homeManager", _],
                    ) => sym(Sym::Input {
                        name: input.clone(),
                        path: p,
                    }),
                    _ => Value::Unknown,
                }
            }
            Sym::SelfFlake(path) => {
                let p = ext(path);
                match p.iter().map(|x| &**x).collect::<Vec<_>>().as_slice() {
                    ["modules"] => sym(Sym::ModuleSet(None)),
                    ["inputs"] => sym(Sym::Inputs),
                    [set @ ("nixosModules" | "darwinModules")] => sym(Sym::OutputModule {
                        set: (*set).into(),
                        name: None,
                    }),
                    _ => Value::Unknown,
                }
            }
            Sym::ModuleSet(None) => sym(Sym::ModuleSet(Some(name.into()))),
            Sym::ModuleSet(Some(class)) => {
                if self.recording {
                    self.recorder.borrow_mut().refs.push(ModuleRefEvent {
                        class: class.clone(),
                        name: Some(name.into()),
                        span: span.clone(),
                        optional: false,
                        hypothetical: self.hypothetical.get(),
                    });
                }
                sym(Sym::ModuleRef {
                    class: class.clone(),
                    name: name.into(),
                    span,
                })
            }
            Sym::Lib(path) => builtins::lib_select(path, name),
            Sym::ImportTree(spec) => match name {
                "filter" | "filterNot" | "match" | "matchNot" => {
                    Value::Builtin(Rc::new(BuiltinApp {
                        name: match name {
                            "filter" => "importTree.filter",
                            "filterNot" => "importTree.filterNot",
                            "match" => "importTree.match",
                            _ => "importTree.matchNot",
                        },
                        arity: 2,
                        args: vec![Thunk::value(sym(Sym::ImportTree(spec.clone())))],
                    }))
                }
                _ => Value::Unknown,
            },
            Sym::ModuleArgs(kind) => match (kind, name) {
                (_, "lib") => sym(Sym::Lib(Vec::new())),
                (ModuleArgsKind::FlakeParts, "config") => sym(Sym::FlakeConfig(Vec::new())),
                (ModuleArgsKind::FlakeParts, "inputs") => sym(Sym::Inputs),
                (ModuleArgsKind::FlakeParts, "self") => sym(Sym::SelfFlake(Vec::new())),
                _ => Value::Unknown,
            },
            Sym::SystemArgs { owner, special } => match name {
                "lib" => sym(Sym::Lib(Vec::new())),
                "self" if special.self_flake => sym(Sym::SelfFlake(Vec::new())),
                "inputs" if special.inputs => sym(Sym::Inputs),
                "modulesPath" => sym(Sym::ModulesPath),
                "config" => sym(Sym::SystemConfig {
                    owner: owner.clone(),
                    path: Vec::new(),
                    generator_span: None,
                }),
                _ => Value::Unknown,
            },
            Sym::SystemConfig {
                owner,
                path,
                generator_span,
            } => {
                const VARS: [&str; 4] = ["clan", "core", "vars", "generators"];
                let p = ext(path);
                let n = p.len();
                let prefix_ok = p.iter().zip(VARS.iter()).all(|(a, b)| &**a == *b);
                if !prefix_ok {
                    return Value::Unknown;
                }
                match n {
                    ..=5 => sym(Sym::SystemConfig {
                        owner: owner.clone(),
                        path: p,
                        generator_span: if n == 5 { Some(span) } else { None },
                    }),
                    6 if &*p[5] == "files" => sym(Sym::SystemConfig {
                        owner: owner.clone(),
                        path: p,
                        generator_span: generator_span.clone(),
                    }),
                    7 if &*p[5] == "files" => {
                        if self.recording {
                            self.recorder.borrow_mut().var_refs.push(VarRefEvent {
                                owner: owner.clone(),
                                generator: Some(p[4].clone()),
                                file: Some(p[6].clone()),
                                span,
                                generator_span: generator_span.clone(),
                                hypothetical: self.hypothetical.get(),
                            });
                        }
                        Value::Unknown
                    }
                    _ => Value::Unknown,
                }
            }
            Sym::ModuleRef { .. }
            | Sym::MkFlake { .. }
            | Sym::FlakeParts(_)
            | Sym::LibClan
            | Sym::HomeConfiguration(_)
            | Sym::ModulesPath => Value::Unknown,
            Sym::OutputModule { set, name: None } => sym(Sym::OutputModule {
                set: set.clone(),
                name: Some(name.into()),
            }),
            Sym::OutputModule { .. } => Value::Unknown,
        }
    }

    /// `inputs.<x>.flakeModule`, `….flakeModules.<m>` or `….modules.flake.<m>` of an input
    /// whose flake modules define nothing the
    /// analyzer models (see [`crate::flake::INERT_FLAKE_MODULES`]).
    pub fn is_inert_flake_module(&self, s: &Sym) -> bool {
        match s {
            Sym::Input { name, path } => {
                let p: Vec<&str> = path.iter().map(|p| &**p).collect();
                matches!(
                    p.as_slice(),
                    ["flakeModule"] | ["flakeModules", _] | ["modules", "flake", _]
                ) && crate::flake::has_inert_flake_modules(self.input_kind(name))
            }
            _ => false,
        }
    }

    fn input_kind(&self, input: &str) -> Option<&'static str> {
        if let Some(k) = self.input_kinds.get(input) {
            return Some(k);
        }
        match input {
            "import-tree" => Some("import-tree"),
            "flake-parts" => Some("flake-parts"),
            "nixpkgs" => Some("nixpkgs"),
            "clan-core" => Some("clan-core"),
            _ => None,
        }
    }

    fn apply_sym(&self, s: &Sym, arg: Thunk) -> Value {
        match s {
            Sym::Input { name, path }
                if path.is_empty() && self.input_kind(name) == Some("import-tree") =>
            {
                builtins::import_tree_apply(self, ImportTreeSpec::default(), &arg)
            }
            Sym::ImportTree(spec) => builtins::import_tree_apply(self, spec.clone(), &arg),
            Sym::MkFlake { applied: false } => Value::Sym(Rc::new(Sym::MkFlake { applied: true })),
            Sym::MkFlake { applied: true } => Value::Sym(Rc::new(Sym::FlakeParts(arg))),
            Sym::LibClan => {
                if self.recording {
                    self.recorder.borrow_mut().clan_calls.push(arg);
                }
                Value::Unknown
            }
            // Its modules are still explored for references, as any argument that escapes.
            Sym::Input { path, .. }
                if path.len() == 2
                    && &*path[0] == "lib"
                    && &*path[1] == "homeManagerConfiguration" =>
            {
                if self.recording {
                    self.escaping.borrow_mut().push(arg.clone());
                }
                Value::Sym(Rc::new(Sym::HomeConfiguration(arg)))
            }
            _ => {
                if self.recording {
                    self.escaping.borrow_mut().push(arg);
                }
                Value::Unknown
            }
        }
    }
}

fn bool_or_unknown(v: Value) -> Value {
    match v {
        Value::Bool(b) => Value::Bool(b),
        _ => Value::Unknown,
    }
}

fn eval_literal(lit: &ast::Literal) -> Value {
    let Some(tok) = lit.syntax().first_token() else {
        return Value::Unknown;
    };
    match tok.kind() {
        rnix::SyntaxKind::TOKEN_INTEGER => tok
            .text()
            .parse::<i64>()
            .map(Value::Int)
            .unwrap_or(Value::Unknown),
        rnix::SyntaxKind::TOKEN_FLOAT => tok
            .text()
            .parse::<f64>()
            .map(Value::Float)
            .unwrap_or(Value::Unknown),
        rnix::SyntaxKind::TOKEN_URI => Value::Str(tok.text().into()),
        _ => Value::Unknown,
    }
}

/// Attributes being collected from an attrset literal, before dotted paths are merged.
#[derive(Default)]
struct PendingSet {
    entries: BTreeMap<Rc<str>, PendingNode>,
    partial: bool,
}

enum PendingNode {
    /// A value, the key's span and the value expression's span.
    Leaf(Thunk, Span, Option<Span>),
    Set(Box<PendingSet>, Span),
    /// Defined twice: an evaluation error in Nix.
    Conflict(Span),
}

impl PendingSet {
    fn insert_leaf(&mut self, name: Rc<str>, t: Thunk, span: Span) {
        match self.entries.get(&name) {
            Some(_) => {
                self.entries.insert(name, PendingNode::Conflict(span));
            }
            None => {
                self.entries.insert(name, PendingNode::Leaf(t, span, None));
            }
        }
    }

    fn mark_partial(&mut self, known_prefix: &[(Rc<str>, Span)]) {
        let mut cur = self;
        for (n, _) in known_prefix {
            match cur.entries.get_mut(n) {
                Some(PendingNode::Set(s, _)) => cur = s,
                _ => {
                    cur.partial = true;
                    return;
                }
            }
        }
        cur.partial = true;
    }

    /// Inserts `a.b.c = value`, merging with sets already written as literals or dotted paths
    /// (`a = { b = 1; }; a.c = 2;` is one set in Nix). `self` is `depth` levels below the set
    /// being built; the caller keeps `depth + names.len()` within [`MAX_PATH_DEPTH`].
    fn insert_path(
        &mut self,
        ev: &Evaluator,
        names: &[(Rc<str>, Span)],
        value: ast::Expr,
        value_env: &Env,
        depth: usize,
    ) {
        let Some(((name, span), parents)) = names.split_last() else {
            return;
        };
        let mut cur = self;
        for (n, sp) in parents {
            let node = cur
                .entries
                .entry(n.clone())
                .or_insert_with(|| PendingNode::Set(Box::default(), sp.clone()));
            match node {
                PendingNode::Set(set, _) => cur = set,
                _ => {
                    *node = PendingNode::Conflict(sp.clone());
                    return;
                }
            }
        }
        let depth = depth + names.len();
        let literal_set = match &value {
            ast::Expr::AttrSet(s) if s.rec_token().is_none() => Some(s.clone()),
            _ => None,
        };
        match (cur.entries.get_mut(name), literal_set) {
            (Some(PendingNode::Set(existing, _)), Some(lit)) => {
                ev.collect_entries(&lit, value_env, value_env, false, existing, depth);
            }
            (Some(_), _) => {
                cur.entries
                    .insert(name.clone(), PendingNode::Conflict(span.clone()));
            }
            (None, Some(lit)) => {
                let mut set = PendingSet::default();
                ev.collect_entries(&lit, value_env, value_env, false, &mut set, depth);
                cur.entries
                    .insert(name.clone(), PendingNode::Set(Box::new(set), span.clone()));
            }
            (None, None) => {
                let value_span = ev.span(value_env, value.syntax().text_range());
                let t = ev.new_thunk(value, value_env);
                cur.entries.insert(
                    name.clone(),
                    PendingNode::Leaf(t, span.clone(), Some(value_span)),
                );
            }
        }
    }
}

/// The parse of `text`, unless it is too complex to parse (see [`crate::complexity`]).
pub(crate) fn parse_checked(text: &str) -> Option<Parsed> {
    crate::complexity::check(text).ok()?;
    Some(crate::syntax::parse_text(text))
}

/// Evaluates a closed expression and returns its value as JSON, or `None` when any part of it
/// is Unknown to the partial evaluator or evaluation fails. Used by the differential tests.
pub fn eval_standalone(src: &str) -> Option<serde_json::Value> {
    crate::stack::run(|| eval_standalone_here(src))
}

fn eval_standalone_here(src: &str) -> Option<serde_json::Value> {
    let parsed = parse_checked(src)?;
    if !parsed.errors.is_empty() {
        return None;
    }
    let expr = parsed.root_expr()?;
    let ev = Evaluator::new(&NoFiles);
    let env = ev.root_env("<expr>");
    let t = Thunk::pending(expr, env);
    builtins::to_json(&ev, &t)
}

/// Like [`eval_standalone`], with `dir` as the directory of the expression (so `./x.json` and
/// `import ./y.nix` read real files from it, root-relative to `dir`), and, when `with_lib`, the
/// name `lib` bound to nixpkgs' `lib` as the evaluator models it. For differential tests.
///
/// The expression is evaluated as if it were the file `<dir>/expr.nix`. With `with_lib` it is
/// the body of `{ lib, ... }: <src>` applied to the module arguments of a system module, so
/// `lib` is the evaluator's model of nixpkgs' `lib`.
pub fn eval_in_dir(dir: &std::path::Path, src: &str, with_lib: bool) -> Option<serde_json::Value> {
    crate::stack::run(|| eval_in_dir_here(dir, src, with_lib))
}

fn eval_in_dir_here(dir: &std::path::Path, src: &str, with_lib: bool) -> Option<serde_json::Value> {
    /// Reads files under `dir`; `.nix` files are parsed for `import`.
    struct DirFiles<'d>(&'d std::path::Path);
    impl FileSource for DirFiles<'_> {
        fn parse_nix(&self, path: &str) -> Option<Arc<Parsed>> {
            if !path.ends_with(".nix") {
                return None;
            }
            let text = std::fs::read_to_string(self.0.join(path)).ok()?;
            Some(Arc::new(parse_checked(&text)?))
        }
        fn read_text(&self, path: &str) -> Option<Arc<str>> {
            std::fs::read_to_string(self.0.join(path))
                .ok()
                .map(Arc::from)
        }
    }

    // Newlines keep a trailing `#` comment in `src` from swallowing the closing parenthesis.
    let text = if with_lib {
        format!("({{ lib, ... }}:\n{src}\n)")
    } else {
        src.to_owned()
    };
    let parsed = parse_checked(&text)?;
    if !parsed.errors.is_empty() {
        return None;
    }
    let expr = parsed.root_expr()?;
    let files = DirFiles(dir);
    let ev = Evaluator::new(&files);
    let env = ev.root_env("expr.nix");
    let t = Thunk::pending(expr, env);
    let t = if with_lib {
        let args = Thunk::value(Value::Sym(Rc::new(Sym::ModuleArgs(ModuleArgsKind::System))));
        let f = ev.force(&t);
        Thunk::value(ev.apply(f, args))
    } else {
        t
    };
    builtins::to_json(&ev, &t)
}
