//! Reading option declarations (`options.<path> = lib.mkOption { … }`, `mkEnableOption`,
//! nested option groups) and option types (`lib.types.*`) out of evaluated modules.
//!
//! Types can refer to themselves — a bookmark type that is `oneOf [ bookmark directory ]`
//! where a directory is a submodule with a `listOf` that same type — and can fan out, so the
//! reader keeps three limits: a type met again inside itself reads as Unknown (which accepts
//! anything), option groups and types nest at most [`MAX_NESTING`] deep, and one option's type
//! has at most [`MAX_NODES`] parts. Past any limit the type is Unknown, never wrong.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::types::{OptType, OptionSpec};
use crate::diagnostic::Location;
use crate::eval::read::{attrs_named, config_sets_of, known_json, module_body};
use crate::eval::{Attrs, Evaluator, Span, Thunk, Value};

/// One declared option, with the whole path below `options`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDecl {
    pub path: Vec<String>,
    pub spec: OptionSpec,
    /// The default, when it is a known value.
    pub default: Option<serde_json::Value>,
    pub description: Option<String>,
    pub location: Location,
}

/// How deep option groups and types may nest, together.
pub const MAX_NESTING: u32 = 32;
/// How many parts (types and submodule options) one option's type may have.
pub const MAX_NODES: u32 = 4_096;

/// Every option declared in an `options` value, flattened to full paths. Returns false when
/// some part could not be read (those declarations are missing from `out`).
pub fn declarations(
    ev: &Evaluator,
    t: &Thunk,
    prefix: &[String],
    fallback: &Location,
    out: &mut Vec<OptionDecl>,
) -> bool {
    Reader::new(ev).declarations(t, prefix, fallback, out)
}

/// The options a module declares as a tree (option groups become submodules), with where
/// each top-level one is declared; `None` when they cannot all be read, or the module accepts
/// anything (`freeformType`).
pub fn module_option_tree(
    ev: &Evaluator,
    t: &Thunk,
) -> Option<BTreeMap<String, (OptionSpec, Location)>> {
    Reader::new(ev).module_option_tree(t)
}

/// An option type value (`lib.types.*` as the evaluator models it) as an [`OptType`].
pub fn option_type(ev: &Evaluator, t: &Thunk) -> OptType {
    Reader::new(ev).option_type(t)
}

struct Reader<'e, 'a> {
    ev: &'e Evaluator<'a>,
    /// The option-type values being read, outermost first (by identity): meeting one again
    /// means the type contains itself.
    active: Vec<*const Attrs>,
    /// Option groups and types open now.
    nesting: u32,
    /// Type parts read for the current option.
    nodes: u32,
}

impl<'e, 'a> Reader<'e, 'a> {
    fn new(ev: &'e Evaluator<'a>) -> Self {
        Reader {
            ev,
            active: Vec::new(),
            nesting: 0,
            nodes: 0,
        }
    }

    /// Runs `f` one level deeper; `None` past a limit.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.nesting >= MAX_NESTING {
            return None;
        }
        let ev: &'e Evaluator<'a> = self.ev;
        let _level = ev.enter()?;
        self.nesting += 1;
        let r = f(self);
        self.nesting -= 1;
        Some(r)
    }

    fn sets(&self, t: &Thunk) -> (Vec<Rc<Attrs>>, bool) {
        config_sets_of(self.ev, t)
    }

    /// Applies a module function to module arguments, so its body can be read.
    fn module_value(&self, t: &Thunk) -> Thunk {
        let ev = self.ev;
        match ev.force(t) {
            v @ (Value::Lambda(_) | Value::Builtin(_)) => Thunk::value(module_body(ev, v)),
            Value::Path(p) => Thunk::value(ev.import(&p)),
            _ => t.clone(),
        }
    }

    fn is_option(&self, a: &Attrs) -> bool {
        a.get("_type")
            .is_some_and(|t| self.ev.force(&t.value).as_str() == Some("option"))
    }

    fn declarations(
        &mut self,
        t: &Thunk,
        prefix: &[String],
        fallback: &Location,
        out: &mut Vec<OptionDecl>,
    ) -> bool {
        self.nested(|r| r.declarations_in(t, prefix, fallback, out))
            .unwrap_or(false)
    }

    fn declarations_in(
        &mut self,
        t: &Thunk,
        prefix: &[String],
        fallback: &Location,
        out: &mut Vec<OptionDecl>,
    ) -> bool {
        let ev = self.ev;
        let (sets, mut ok) = self.sets(t);
        for set in sets {
            for (name, decl) in &set.map {
                if !ev.charge(1) {
                    return false;
                }
                let at = decl
                    .key_span
                    .as_ref()
                    .map(Span::location)
                    .unwrap_or_else(|| fallback.clone());
                let mut path = prefix.to_vec();
                path.push(name.to_string());
                let Value::Attrs(a) = ev.force(&decl.value) else {
                    ok = false;
                    continue;
                };
                if self.is_option(&a) {
                    if self.active.is_empty() {
                        // Each option of a module gets the whole allowance for its type.
                        self.nodes = 0;
                    }
                    let ty = a
                        .get("type")
                        .map_or(OptType::Unknown, |t| self.option_type(&t.value));
                    out.push(OptionDecl {
                        spec: OptionSpec {
                            ty,
                            required: a.get("default").is_none(),
                        },
                        default: a.get("default").and_then(|d| known_json(ev, &d.value)),
                        description: a
                            .get("description")
                            .and_then(|d| ev.force(&d.value).as_str().map(String::from)),
                        location: at,
                        path,
                    });
                } else {
                    ok &= self.declarations(&decl.value, &path, &at, out);
                }
            }
        }
        ok
    }

    fn module_option_tree(
        &mut self,
        t: &Thunk,
    ) -> Option<BTreeMap<String, (OptionSpec, Location)>> {
        let body = self.module_value(t);
        let (sets, ok) = self.sets(&body);
        if !ok
            || attrs_named(&sets, "freeformType").next().is_some()
            || attrs_named(&sets, "imports").next().is_some()
        {
            return None;
        }
        let mut decls = Vec::new();
        for o in attrs_named(&sets, "options") {
            let fb = o
                .key_span
                .as_ref()
                .map(Span::location)
                .unwrap_or_else(|| Location::new("", Default::default()));
            if !self.declarations(&o.value, &[], &fb, &mut decls) {
                return None;
            }
        }
        Some(option_tree(decls))
    }

    fn option_type(&mut self, t: &Thunk) -> OptType {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return OptType::Unknown;
        }
        let Value::Attrs(a) = self.ev.force(t) else {
            return OptType::Unknown;
        };
        let id = Rc::as_ptr(&a);
        if self.active.contains(&id) {
            // The type contains itself: what lies below this point is not unrolled again.
            return OptType::Unknown;
        }
        self.active.push(id);
        let ty = self
            .nested(|r| r.option_type_of(&a))
            .unwrap_or(OptType::Unknown);
        self.active.pop();
        ty
    }

    fn option_type_of(&mut self, a: &Attrs) -> OptType {
        let ev = self.ev;
        if a.get("_type")
            .map(|x| ev.force(&x.value))
            .as_ref()
            .and_then(|v| v.as_str())
            != Some("option-type")
        {
            return OptType::Unknown;
        }
        let name = a.get("name").map(|x| ev.force(&x.value));
        let elem = |r: &mut Self, k: &str| {
            a.get(k)
                .map_or(OptType::Unknown, |e| r.option_type(&e.value))
        };
        match name.as_ref().and_then(|v| v.as_str()) {
            Some("str" | "nonEmptyStr" | "singleLineStr") => OptType::Str,
            Some("string" | "lines" | "commas" | "separatedString") => OptType::Lines,
            Some("bool") => OptType::Bool,
            Some("int") => OptType::Int,
            Some("port") => OptType::Port,
            Some("float" | "number") => OptType::Float,
            Some("path" | "pathInStore" | "externalPath") => OptType::Path,
            Some("package") => OptType::Package,
            Some("listOf") => OptType::ListOf(Box::new(elem(self, "elemType"))),
            Some("attrsOf" | "lazyAttrsOf") => OptType::AttrsOf(Box::new(elem(self, "elemType"))),
            Some("nullOr") => OptType::NullOr(Box::new(elem(self, "elemType"))),
            Some("either") => {
                let left = elem(self, "left");
                OptType::Either(vec![left, elem(self, "right")])
            }
            Some("enum") => match a.get("values").map(|v| known_json(ev, &v.value)) {
                Some(Some(serde_json::Value::Array(vs))) => {
                    let strs: Option<Vec<String>> =
                        vs.iter().map(|v| v.as_str().map(String::from)).collect();
                    strs.map_or(OptType::Unknown, OptType::Enum)
                }
                _ => OptType::Unknown,
            },
            Some("strMatching") => match a.get("pattern").map(|p| ev.force(&p.value)) {
                Some(Value::Str(p)) => OptType::StrMatching(p.to_string()),
                _ => OptType::Unknown,
            },
            Some("oneOf") => match a.get("types").map(|x| ev.force(&x.value)) {
                Some(Value::List(ts)) => {
                    OptType::Either(ts.iter().map(|t| self.option_type(t)).collect())
                }
                _ => OptType::Unknown,
            },
            Some("submodule") => match a
                .get("module")
                .and_then(|m| self.module_option_tree(&m.value))
            {
                Some(opts) => {
                    OptType::Submodule(opts.into_iter().map(|(k, (o, _))| (k, o)).collect())
                }
                None => OptType::Unknown,
            },
            _ => OptType::Unknown,
        }
    }
}

/// An option or a group of options, while declarations are put into a tree.
enum Entry {
    Option(OptionSpec),
    Group(BTreeMap<String, Entry>),
}

impl Entry {
    /// A group is a submodule of its options, required when any of them is.
    fn into_spec(self) -> OptionSpec {
        match self {
            Entry::Option(spec) => spec,
            Entry::Group(m) => {
                let opts: BTreeMap<String, OptionSpec> =
                    m.into_iter().map(|(k, e)| (k, e.into_spec())).collect();
                OptionSpec {
                    required: opts.values().any(|o| o.required),
                    ty: OptType::Submodule(opts),
                }
            }
        }
    }
}

/// Puts an option at `path` into a group. An option declared inside an option of submodule
/// type joins that submodule's options; inside an option of any other type it is dropped.
fn insert(group: &mut BTreeMap<String, Entry>, path: &[String], spec: OptionSpec) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        group.insert(first.clone(), Entry::Option(spec));
        return;
    }
    let entry = group
        .entry(first.clone())
        .or_insert_with(|| Entry::Group(BTreeMap::new()));
    if let Entry::Option(OptionSpec {
        ty: OptType::Submodule(opts),
        ..
    }) = entry
    {
        let opts = std::mem::take(opts);
        *entry = Entry::Group(
            opts.into_iter()
                .map(|(k, o)| (k, Entry::Option(o)))
                .collect(),
        );
    }
    if let Entry::Group(inner) = entry {
        insert(inner, rest, spec);
    }
}

/// The declarations of one module as a tree whose inner nodes are submodules, each top-level
/// name located where it was first declared (or last declared as a whole option).
fn option_tree(decls: Vec<OptionDecl>) -> BTreeMap<String, (OptionSpec, Location)> {
    let mut tree: BTreeMap<String, Entry> = BTreeMap::new();
    let mut at: BTreeMap<String, Location> = BTreeMap::new();
    for d in decls {
        let Some(first) = d.path.first() else {
            continue;
        };
        if d.path.len() == 1 {
            at.insert(first.clone(), d.location.clone());
        } else {
            at.entry(first.clone())
                .or_insert_with(|| d.location.clone());
        }
        insert(&mut tree, &d.path, d.spec);
    }
    tree.into_iter()
        .filter_map(|(k, e)| {
            let l = at.remove(&k)?;
            Some((k, (e.into_spec(), l)))
        })
        .collect()
}
