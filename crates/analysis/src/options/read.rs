//! Reading option declarations (`options.<path> = lib.mkOption { … }`, `mkEnableOption`,
//! nested option groups) and option types (`lib.types.*`) out of evaluated modules.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::types::{OptType, OptionSpec};
use crate::diagnostic::Location;
use crate::eval::read::{attrs_named, config_sets, known_json};
use crate::eval::{Attrs, Evaluator, ModuleArgsKind, Span, Sym, Thunk, Value};

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

fn loc(span: &Span) -> Location {
    Location {
        file: span.file.to_string(),
        range: span.range,
    }
}

fn sets(ev: &Evaluator, t: &Thunk) -> (Vec<Rc<Attrs>>, bool) {
    let mut out = Vec::new();
    let ok = config_sets(ev, t, &mut out, 0);
    (out, ok)
}

/// Applies a module function to module arguments, so its body can be read.
fn module_value(ev: &Evaluator, t: &Thunk) -> Thunk {
    match ev.force(t) {
        v @ (Value::Lambda(_) | Value::Builtin(_)) => Thunk::value(ev.apply(
            v,
            Thunk::value(Value::Sym(Rc::new(Sym::ModuleArgs(ModuleArgsKind::System)))),
        )),
        Value::Path(p) => Thunk::value(ev.import(&p)),
        _ => t.clone(),
    }
}

fn is_option(ev: &Evaluator, a: &Attrs) -> bool {
    a.get("_type")
        .is_some_and(|t| ev.force(&t.value).as_str() == Some("option"))
}

/// Every option declared in an `options` value, flattened to full paths. Returns false when
/// some part could not be read (those declarations are missing from `out`).
pub fn declarations(
    ev: &Evaluator,
    t: &Thunk,
    prefix: &[String],
    fallback: &Location,
    out: &mut Vec<OptionDecl>,
    depth: u32,
) -> bool {
    if depth > 12 {
        return false;
    }
    let (sets, mut ok) = sets(ev, t);
    for set in sets {
        for (name, decl) in &set.map {
            let at = decl
                .key_span
                .as_ref()
                .map(loc)
                .unwrap_or_else(|| fallback.clone());
            let mut path = prefix.to_vec();
            path.push(name.to_string());
            let Value::Attrs(a) = ev.force(&decl.value) else {
                ok = false;
                continue;
            };
            if is_option(ev, &a) {
                out.push(OptionDecl {
                    spec: OptionSpec {
                        ty: a
                            .get("type")
                            .map_or(OptType::Unknown, |t| option_type(ev, &t.value, 0)),
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
                ok &= declarations(ev, &decl.value, &path, &at, out, depth + 1);
            }
        }
    }
    ok
}

/// The options a module declares as a tree (option groups become submodules), with where
/// each top-level one is declared; `None` when they cannot all be read, or the module accepts
/// anything (`freeformType`).
pub fn module_option_tree(
    ev: &Evaluator,
    t: &Thunk,
) -> Option<BTreeMap<String, (OptionSpec, Location)>> {
    let body = module_value(ev, t);
    let (sets, ok) = sets(ev, &body);
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
            .map(loc)
            .unwrap_or_else(|| Location::new("", Default::default()));
        if !declarations(ev, &o.value, &[], &fb, &mut decls, 0) {
            return None;
        }
    }
    let mut tree: BTreeMap<String, (OptionSpec, Location)> = BTreeMap::new();
    for d in decls {
        insert(&mut tree, &d.path, d.spec, d.location);
    }
    Some(tree)
}

/// Puts an option at `path` into a tree whose inner nodes are submodules.
fn insert(
    tree: &mut BTreeMap<String, (OptionSpec, Location)>,
    path: &[String],
    spec: OptionSpec,
    at: Location,
) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        tree.insert(first.clone(), (spec, at));
        return;
    }
    let entry = tree.entry(first.clone()).or_insert_with(|| {
        (
            OptionSpec {
                ty: OptType::Submodule(BTreeMap::new()),
                required: false,
            },
            at.clone(),
        )
    });
    if let OptType::Submodule(inner) = &mut entry.0.ty {
        let mut located: BTreeMap<String, (OptionSpec, Location)> = inner
            .iter()
            .map(|(k, v)| (k.clone(), (v.clone(), at.clone())))
            .collect();
        insert(&mut located, rest, spec, at);
        entry.0.required = located.values().any(|(o, _)| o.required);
        *inner = located.into_iter().map(|(k, (o, _))| (k, o)).collect();
    }
}

/// An option type value (`lib.types.*` as the evaluator models it) as an [`OptType`].
pub fn option_type(ev: &Evaluator, t: &Thunk, depth: u32) -> OptType {
    if depth > 16 {
        return OptType::Unknown;
    }
    let Value::Attrs(a) = ev.force(t) else {
        return OptType::Unknown;
    };
    if a.get("_type")
        .map(|x| ev.force(&x.value))
        .as_ref()
        .and_then(|v| v.as_str())
        != Some("option-type")
    {
        return OptType::Unknown;
    }
    let name = a.get("name").map(|x| ev.force(&x.value));
    let elem = |k: &str| {
        a.get(k)
            .map_or(OptType::Unknown, |e| option_type(ev, &e.value, depth + 1))
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
        Some("listOf") => OptType::ListOf(Box::new(elem("elemType"))),
        Some("attrsOf" | "lazyAttrsOf") => OptType::AttrsOf(Box::new(elem("elemType"))),
        Some("nullOr") => OptType::NullOr(Box::new(elem("elemType"))),
        Some("either") => OptType::Either(vec![elem("left"), elem("right")]),
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
                OptType::Either(ts.iter().map(|t| option_type(ev, t, depth + 1)).collect())
            }
            _ => OptType::Unknown,
        },
        Some("submodule") => match a
            .get("module")
            .and_then(|m| module_option_tree(ev, &m.value))
        {
            Some(opts) => OptType::Submodule(opts.into_iter().map(|(k, (o, _))| (k, o)).collect()),
            None => OptType::Unknown,
        },
        _ => OptType::Unknown,
    }
}
