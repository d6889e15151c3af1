//! Values of the partial evaluator. `Unknown` stands for anything the evaluator cannot know;
//! `Sym` values stand for well-understood things it does not evaluate but can follow
//! (the flake-parts `config`, the flake's inputs, the deferred-module sets, nixpkgs' `lib`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use rnix::ast;

use super::env::Env;
use crate::diagnostic::{Location, TextRange};

/// Where a value or key was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: Rc<str>,
    pub range: TextRange,
}

impl Span {
    /// The span as a [`Location`], whose file name is shared with the locations made before it
    /// from the same file on this thread (see [`shared_str`]).
    pub fn location(&self) -> Location {
        Location {
            file: shared_str(&self.file),
            range: self.range,
        }
    }
}

/// The text of `rc` as an `Arc<str>`: the same `Arc` for every conversion of one `Rc` on this
/// thread (while the table keeps it), and for an `Rc` made by [`shared_rc`] the `Arc` it was
/// made from. The evaluator writes each file's and each module's name into one `Rc`, and a
/// summary records them thousands of times; a `String` per record was a tenth of a large
/// workspace's memory.
pub fn shared_str(rc: &Rc<str>) -> Arc<str> {
    with_shared_names(|names| match names.get(&name_key(rc)) {
        Some((_, arc)) => arc.clone(),
        None => {
            let arc: Arc<str> = Arc::from(&**rc);
            remember_name(names, rc, &arc);
            arc
        }
    })
}

/// `text` as an `Arc<str>` shared with every earlier call on this thread for the same text:
/// for names that many files write (module names and classes: a fleet's machines import the
/// same few modules, each file with its own copy of their names). The table is emptied when it
/// grows past [`SHARED_TEXTS`], so a long session cannot fill memory with names it has moved
/// past; only sharing is lost.
pub fn shared_text(text: &str) -> Arc<str> {
    thread_local! {
        static TEXTS: RefCell<rustc_hash::FxHashSet<Arc<str>>> = RefCell::default();
    }
    TEXTS.with_borrow_mut(|texts| {
        if let Some(arc) = texts.get(text) {
            return arc.clone();
        }
        if texts.len() >= SHARED_TEXTS {
            texts.clear();
        }
        let arc: Arc<str> = Arc::from(text);
        texts.insert(arc.clone());
        arc
    })
}

/// The most texts [`shared_text`] keeps per thread.
const SHARED_TEXTS: usize = 1 << 16;

/// `arc`'s text as an `Rc` for the evaluator, which [`shared_str`] turns back into `arc`: what
/// the evaluator records under a module's name then shares the walker's own.
pub fn shared_rc(arc: &Arc<str>) -> Rc<str> {
    let rc: Rc<str> = Rc::from(&**arc);
    with_shared_names(|names| remember_name(names, &rc, arc));
    rc
}

/// By the address of each `Rc`, the `Rc` (kept alive, so that its address is not reused) and
/// its shared text.
type SharedNames = rustc_hash::FxHashMap<usize, (Rc<str>, Arc<str>)>;

fn with_shared_names<T>(f: impl FnOnce(&mut SharedNames) -> T) -> T {
    thread_local! {
        static SHARED: RefCell<SharedNames> = RefCell::new(SharedNames::default());
    }
    SHARED.with_borrow_mut(f)
}

fn name_key(rc: &Rc<str>) -> usize {
    Rc::as_ptr(rc) as *const u8 as usize
}

fn remember_name(names: &mut SharedNames, rc: &Rc<str>, arc: &Arc<str>) {
    /// Enough for the files and modules one summary meets; past it the table starts again.
    const KEPT: usize = 256;
    if names.len() >= KEPT {
        names.clear();
    }
    names.insert(name_key(rc), (rc.clone(), arc.clone()));
}

#[derive(Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    /// A path inside the workspace, root-relative (`""` is the root itself).
    Path(Rc<str>),
    List(Rc<Vec<Thunk>>),
    Attrs(Rc<Attrs>),
    Lambda(Rc<Closure>),
    Builtin(Rc<BuiltinApp>),
    Sym(Rc<Sym>),
    Unknown,
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Path(p) => write!(f, "./{p}"),
            Value::List(l) => write!(f, "[list of {}]", l.len()),
            Value::Attrs(a) => write!(
                f,
                "{{ {} }}",
                a.keys().cloned().collect::<Vec<_>>().join(" ")
            ),
            Value::Lambda(_) => write!(f, "<lambda>"),
            Value::Builtin(b) => write!(f, "<builtin {}>", b.name),
            Value::Sym(s) => write!(f, "<{s:?}>"),
            Value::Unknown => write!(f, "<unknown>"),
        }
    }
}

impl Value {
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_attrs(&self) -> Option<&Rc<Attrs>> {
        match self {
            Value::Attrs(a) => Some(a),
            _ => None,
        }
    }
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Path(_) => "path",
            Value::List(_) => "list",
            Value::Attrs(_) => "set",
            Value::Lambda(_) | Value::Builtin(_) => "lambda",
            Value::Sym(_) | Value::Unknown => "unknown",
        }
    }
}

/// An attribute: its value and the key as written (for "defined here" locations).
#[derive(Clone, Debug)]
pub struct Attr {
    pub value: Thunk,
    pub key_span: Option<Span>,
    /// The value expression as written, when it was written in an attrset literal.
    pub value_span: Option<Span>,
}

/// An attribute set. `partial` is set when some keys could not be evaluated (a dynamic key
/// with an Unknown name): a missing key is then Unknown rather than an error.
#[derive(Clone, Debug, Default)]
pub struct Attrs {
    pub map: BTreeMap<Rc<str>, Attr>,
    pub partial: bool,
}

impl Attrs {
    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.map.get(name)
    }
    pub fn keys(&self) -> impl Iterator<Item = &Rc<str>> {
        self.map.keys()
    }

    /// `{ imports = <list>; }`: a module made of the modules of `list`.
    pub fn with_imports(list: Thunk) -> Attrs {
        let attr = Attr {
            value: list,
            key_span: None,
            value_span: None,
        };
        Attrs {
            map: BTreeMap::from([(Rc::from("imports"), attr)]),
            partial: false,
        }
    }
}

#[derive(Debug)]
pub struct Closure {
    pub lambda: ast::Lambda,
    pub env: Env,
}

pub struct BuiltinApp {
    pub name: &'static str,
    pub arity: usize,
    pub args: Vec<Thunk>,
}

/// Symbolic values the evaluator follows without evaluating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sym {
    /// The flake-parts module argument `config`, selected down `path`.
    FlakeConfig(Vec<Rc<str>>),
    /// The flake's `inputs` (a module argument or the `outputs` function's argument).
    Inputs,
    /// One flake input, selected down `path`.
    Input { name: Rc<str>, path: Vec<Rc<str>> },
    /// The flake itself (`self`, `inputs.self`), selected down `path`.
    SelfFlake(Vec<Rc<str>>),
    /// `flake.modules` (class `None`) or `flake.modules.<class>`.
    ModuleSet(Option<Rc<str>>),
    /// One deferred module, `flake.modules.<class>.<name>`, referenced at `span`.
    ModuleRef {
        class: Rc<str>,
        name: Rc<str>,
        span: Span,
    },
    /// nixpkgs' `lib`, selected down `path`.
    Lib(Vec<Rc<str>>),
    /// The value of `inputs.import-tree`, possibly with filters applied.
    ImportTree(ImportTreeSpec),
    /// `flake-parts.lib.mkFlake`, applied to its first argument or not.
    MkFlake { applied: bool },
    /// What `mkFlake args module` returns: the top-level flake-parts module.
    FlakeParts(Thunk),
    /// The argument set the module system passes to a module function.
    ModuleArgs(ModuleArgsKind),
    /// `clan-core.lib.clan` (or the deprecated `lib.buildClan`): its argument is a clan module.
    LibClan,
    /// What home-manager's `lib.homeManagerConfiguration` returns, with its argument (whose
    /// `modules` are the configuration's modules).
    HomeConfiguration(Thunk),
    /// The arguments of a NixOS or nix-darwin module the summary walks, named by its owner,
    /// with the flake-level arguments the configuration is known to get.
    SystemArgs {
        owner: Rc<str>,
        special: SpecialArgs,
    },
    /// One of the flake's own module outputs, `self.nixosModules.<name>` (`set` is
    /// `nixosModules` or `darwinModules`), or the set itself (`name` is `None`).
    OutputModule { set: Rc<str>, name: Option<Rc<str>> },
    /// `modulesPath`, or a path or string under it: a module of the module system's own
    /// (nixpkgs' `nixos/modules`, nix-darwin's or home-manager's `modules`), none of which
    /// knows clan's options.
    ModulesPath,
    /// That module's `config`, selected down `path` (only towards clan vars).
    SystemConfig {
        owner: Rc<str>,
        path: Vec<Rc<str>>,
        /// Where the generator name was written, once the path has reached it.
        generator_span: Option<Span>,
    },
}

/// The arguments of a clan machine's configuration that lead back to the flake (clan-core's
/// `specialArgs`: `self` by default, and whatever the clan's `specialArgs` adds). A module
/// walked without knowing its configuration gets none of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SpecialArgs {
    /// `self` is the flake.
    pub self_flake: bool,
    /// `inputs` is the flake's inputs.
    pub inputs: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleArgsKind {
    /// A flake-parts module: `config`, `inputs`, `self` and `lib` are followed.
    FlakeParts,
    /// A NixOS, nix-darwin or home-manager module: only `lib` is followed.
    System,
}

/// An import-tree call: the roots it walks and its path filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportTreeSpec {
    pub roots: Vec<String>,
    pub filters: Vec<PathFilter>,
    /// A filter the evaluator could not read; which files it keeps is unknown.
    pub opaque_filter: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathFilter {
    Keep(StrTest),
    Drop(StrTest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrTest {
    Infix(String),
    Prefix(String),
    Suffix(String),
}

impl StrTest {
    pub fn test(&self, s: &str) -> bool {
        match self {
            StrTest::Infix(x) => s.contains(x.as_str()),
            StrTest::Prefix(x) => s.starts_with(x.as_str()),
            StrTest::Suffix(x) => s.ends_with(x.as_str()),
        }
    }
}

/// A lazily evaluated value, shared by every reference to it.
#[derive(Clone)]
pub struct Thunk(pub(super) Rc<ThunkCell>);

pub(super) struct ThunkCell {
    pub state: RefCell<ThunkState>,
    /// Where the expression was written, for thunks made from source.
    pub span: Option<Span>,
    /// Made on a branch or turn exploring does not know is taken (see
    /// [`super::Evaluator::force_all`]): what forcing it records may happen, not does.
    pub hypothetical: std::cell::Cell<bool>,
}

pub(super) enum ThunkState {
    Pending {
        expr: ast::Expr,
        env: Env,
    },
    /// A value computed by Rust code on first use (`inherit (e) x`, builtin results).
    Deferred(Box<dyn FnOnce(&super::Evaluator) -> Value>),
    Forcing,
    Done(Value),
}

thread_local! {
    /// States of thunks being dropped, and whether a drop loop is already running.
    static DROPPING: (RefCell<Vec<ThunkState>>, std::cell::Cell<bool>) =
        const { (RefCell::new(Vec::new()), std::cell::Cell::new(false)) };
}

/// Values nest through thunks (an attribute's value, a list element), and a value can be as
/// deep as evaluation made it. Dropping one recursively could overflow the stack, so a thunk's
/// state is dropped by a loop: nested thunks met while dropping queue their state instead of
/// dropping it in place.
impl Drop for ThunkCell {
    fn drop(&mut self) {
        let state = std::mem::replace(self.state.get_mut(), ThunkState::Forcing);
        if matches!(state, ThunkState::Forcing) {
            return;
        }
        let queued = DROPPING.try_with(|(queue, running)| {
            queue.borrow_mut().push(state);
            if running.replace(true) {
                return;
            }
            loop {
                let next = queue.borrow_mut().pop();
                match next {
                    Some(s) => drop(s),
                    None => break,
                }
            }
            running.set(false);
        });
        // During thread shutdown the queue may be gone: the state is then dropped here (it was
        // moved into the closure and dropped with it).
        let _ = queued;
    }
}

impl std::fmt::Debug for Thunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0.state.borrow() {
            ThunkState::Done(v) => write!(f, "{v:?}"),
            ThunkState::Pending { .. } | ThunkState::Deferred(_) => write!(f, "<thunk>"),
            ThunkState::Forcing => write!(f, "<forcing>"),
        }
    }
}

impl PartialEq for Thunk {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for Thunk {}

impl Thunk {
    pub fn value(v: Value) -> Thunk {
        Thunk::cell(ThunkState::Done(v), None)
    }
    fn cell(state: ThunkState, span: Option<Span>) -> Thunk {
        Thunk(Rc::new(ThunkCell {
            state: RefCell::new(state),
            span,
            hypothetical: std::cell::Cell::new(false),
        }))
    }
    /// Marks a thunk not yet forced as made on a branch that may not be taken.
    pub(super) fn set_hypothetical(&self) {
        if !self.is_forced() {
            self.0.hypothetical.set(true);
        }
    }
    pub(super) fn is_hypothetical(&self) -> bool {
        self.0.hypothetical.get()
    }
    pub(super) fn pending(expr: ast::Expr, env: Env) -> Thunk {
        use rowan::ast::AstNode;
        let span = Span {
            file: env.file().clone(),
            range: expr.syntax().text_range().into(),
        };
        Thunk::cell(ThunkState::Pending { expr, env }, Some(span))
    }
    /// Where the expression behind this value was written, when it came from source.
    pub fn span(&self) -> Option<&Span> {
        self.0.span.as_ref()
    }
    pub(super) fn deferred(f: impl FnOnce(&super::Evaluator) -> Value + 'static) -> Thunk {
        Thunk::cell(ThunkState::Deferred(Box::new(f)), None)
    }
    pub fn unknown() -> Thunk {
        Thunk::value(Value::Unknown)
    }
    pub fn is_forced(&self) -> bool {
        matches!(&*self.0.state.borrow(), ThunkState::Done(_))
    }
}

#[cfg(test)]
mod tests {
    use super::{shared_text, SHARED_TEXTS};
    use std::sync::Arc;

    /// Runs on a thread of its own: the table is per thread, and the test empties it.
    #[test]
    fn equal_texts_share_one_arc_until_the_table_is_emptied() {
        std::thread::spawn(|| {
            let a = shared_text("shared-0");
            assert!(Arc::ptr_eq(&a, &shared_text(&String::from("shared-0"))));
            assert!(!Arc::ptr_eq(&a, &shared_text("shared-1")));
            assert_eq!(&*shared_text("shared-1"), "shared-1");
            // Two texts are in the table; this many more fill it and empty it once.
            for i in 0..SHARED_TEXTS - 1 {
                shared_text(&format!("n{i}"));
            }
            let again = shared_text("shared-0");
            assert_eq!(&*again, "shared-0");
            assert!(!Arc::ptr_eq(&a, &again), "the table was never emptied");
        })
        .join()
        .unwrap();
    }
}
