//! Builtins, the parts of nixpkgs `lib` the evaluator knows, and import-tree. Every function
//! returns Unknown when an argument is Unknown or of the wrong type (an error in Nix).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::value::{
    Attr, Attrs, BuiltinApp, ImportTreeSpec, PathFilter, StrTest, Sym, Thunk, Value,
};
use super::Evaluator;

/// (name, arity) of the builtins the evaluator implements.
const BUILTINS: &[(&str, usize)] = &[
    ("attrNames", 1),
    ("attrValues", 1),
    ("length", 1),
    ("elem", 2),
    ("map", 2),
    ("filter", 2),
    ("toString", 1),
    ("hasAttr", 2),
    ("getAttr", 2),
    ("listToAttrs", 1),
    ("concatStringsSep", 2),
    ("isAttrs", 1),
    ("isList", 1),
    ("isString", 1),
    ("isInt", 1),
    ("isFloat", 1),
    ("isBool", 1),
    ("isFunction", 1),
    ("isPath", 1),
    ("isNull", 1),
    ("head", 1),
    ("tail", 1),
    ("elemAt", 2),
    ("foldl'", 3),
    ("genList", 2),
    ("removeAttrs", 2),
    ("mapAttrs", 2),
    ("concatLists", 1),
    ("concatMap", 2),
    ("typeOf", 1),
    ("fromJSON", 1),
    ("toJSON", 1),
    ("replaceStrings", 3),
    ("substring", 3),
    ("stringLength", 1),
    ("import", 1),
    ("readFile", 1),
    ("throw", 1),
    ("abort", 1),
    ("seq", 2),
    ("deepSeq", 2),
    ("trace", 2),
    ("any", 2),
    ("all", 2),
    ("intersectAttrs", 2),
    ("catAttrs", 2),
    ("baseNameOf", 1),
];

/// Builtins that are also bound at the top level, outside `builtins`.
const TOP_LEVEL: &[&str] = &[
    "map",
    "toString",
    "isNull",
    "removeAttrs",
    "throw",
    "abort",
    "import",
    "baseNameOf",
];

fn builtin(name: &'static str, arity: usize) -> Value {
    Value::Builtin(Rc::new(BuiltinApp {
        name,
        arity,
        args: Vec::new(),
    }))
}

pub(super) fn globals() -> rustc_hash::FxHashMap<Rc<str>, Thunk> {
    let mut set = BTreeMap::new();
    for &(name, arity) in BUILTINS {
        set.insert(
            Rc::from(name),
            Attr {
                value: Thunk::value(builtin(name, arity)),
                key_span: None,
                value_span: None,
            },
        );
    }
    for (name, v) in [
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("null", Value::Null),
    ] {
        set.insert(
            Rc::from(name),
            Attr {
                value: Thunk::value(v),
                key_span: None,
                value_span: None,
            },
        );
    }
    // Everything else in `builtins` is real but not implemented here: Unknown, not missing.
    let builtins_set = Value::Attrs(Rc::new(Attrs {
        map: set,
        partial: true,
    }));
    let mut g = rustc_hash::FxHashMap::default();
    g.insert(Rc::from("builtins"), Thunk::value(builtins_set));
    for (name, v) in [
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("null", Value::Null),
    ] {
        g.insert(Rc::from(name), Thunk::value(v));
    }
    for &name in TOP_LEVEL {
        let arity = BUILTINS
            .iter()
            .find(|b| b.0 == name)
            .map(|b| b.1)
            .unwrap_or(1);
        g.insert(Rc::from(name), Thunk::value(builtin(name, arity)));
    }
    g
}

pub(super) fn add(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            x.checked_add(y).map(Value::Int).unwrap_or(Value::Unknown)
        }
        (Value::Int(x), Value::Float(y)) => Value::Float(x as f64 + y),
        (Value::Float(x), Value::Int(y)) => Value::Float(x + y as f64),
        (Value::Float(x), Value::Float(y)) => Value::Float(x + y),
        (Value::Str(x), Value::Str(y)) => Value::Str(format!("{x}{y}").into()),
        (Value::Path(p), Value::Str(s)) => {
            let joined = format!("{p}{s}");
            match crate::disk::normalize_join("", joined.trim_start_matches('/')) {
                Some(j) if !s.is_empty() => Value::Path(j.into()),
                _ => Value::Unknown,
            }
        }
        (Value::Path(p), Value::Path(q)) => {
            match crate::disk::normalize_join("", &format!("{p}/{q}")) {
                Some(j) => Value::Path(j.into()),
                None => Value::Unknown,
            }
        }
        _ => Value::Unknown,
    }
}

pub(super) fn arith(kind: rnix::ast::BinOpKind, a: Value, b: Value) -> Value {
    use rnix::ast::BinOpKind as K;
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => match kind {
            K::Sub => x.checked_sub(y),
            K::Mul => x.checked_mul(y),
            K::Div => x.checked_div(y),
            _ => None,
        }
        .map(Value::Int)
        .unwrap_or(Value::Unknown),
        (a, b) => {
            let (Some(x), Some(y)) = (as_f64(&a), as_f64(&b)) else {
                return Value::Unknown;
            };
            match kind {
                K::Sub => Value::Float(x - y),
                K::Mul => Value::Float(x * y),
                K::Div if y != 0.0 => Value::Float(x / y),
                _ => Value::Unknown,
            }
        }
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn list(items: Vec<Thunk>) -> Value {
    Value::List(Rc::new(items))
}

fn attrs_of(map: BTreeMap<Rc<str>, Attr>) -> Value {
    Value::Attrs(Rc::new(Attrs {
        map,
        partial: false,
    }))
}

fn attr(value: Thunk) -> Attr {
    Attr {
        value,
        key_span: None,
        value_span: None,
    }
}

fn known_attrs(v: &Value) -> Option<&Rc<Attrs>> {
    match v {
        Value::Attrs(a) if !a.partial => Some(a),
        _ => None,
    }
}

fn lazy_apply(ev: &Evaluator, f: &Thunk, args: Vec<Thunk>) -> Thunk {
    let f = f.clone();
    ev.deferred(move |ev| {
        let mut v = ev.force(&f);
        for a in args {
            v = ev.apply(v, a);
        }
        v
    })
}

/// Nix's `toString` coercion; `None` when Unknown or an error.
pub(super) fn coerce_to_string(ev: &Evaluator, v: &Value) -> Option<String> {
    let _level = ev.enter()?;
    match v {
        Value::Str(s) => Some(s.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(format!("{f:.6}")),
        Value::Bool(true) => Some("1".into()),
        Value::Bool(false) | Value::Null => Some(String::new()),
        Value::List(items) => {
            // Nix puts no separator after an element that is an empty list.
            let mut out = String::new();
            for (i, t) in items.iter().enumerate() {
                let v = ev.force(t);
                let s = coerce_to_string(ev, &v)?;
                if !ev.charge_bytes(s.len()) {
                    return None;
                }
                out.push_str(&s);
                let empty_list = matches!(&v, Value::List(l) if l.is_empty());
                if i + 1 < items.len() && !empty_list {
                    out.push(' ');
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// The work of walking or copying a value: its elements, attributes or bytes.
fn size(v: &Value) -> u64 {
    match v {
        Value::List(l) => l.len() as u64,
        Value::Attrs(a) => a.map.len() as u64,
        Value::Str(s) => s.len() as u64 / super::limits::BYTES_PER_FUEL,
        _ => 0,
    }
}

/// `lib.optional`'s (and its siblings') content under a condition not known: like an unknown
/// `if`'s branches, it may be evaluated, not known to be.
fn unknown_branch(content: &Thunk) -> Value {
    content.set_hypothetical();
    Value::Unknown
}

pub(super) fn call(ev: &Evaluator, name: &'static str, args: &[Thunk]) -> Value {
    let arg = |i: usize| ev.force(&args[i]);
    // An argument the builtin walks or copies: its size is charged, so loops over large
    // values cost what they do.
    let each = |i: usize| {
        let v = ev.force(&args[i]);
        ev.charge(size(&v));
        v
    };
    match name {
        "attrNames" => match known_attrs(&each(0)) {
            Some(a) => list(
                a.keys()
                    .map(|k| Thunk::value(Value::Str(k.clone())))
                    .collect(),
            ),
            None => Value::Unknown,
        },
        "attrValues" => match known_attrs(&each(0)) {
            Some(a) => list(a.map.values().map(|x| x.value.clone()).collect()),
            None => Value::Unknown,
        },
        "length" => match arg(0) {
            Value::List(l) => Value::Int(l.len() as i64),
            _ => Value::Unknown,
        },
        "elem" => {
            let x = each(0);
            match each(1) {
                Value::List(l) => {
                    // Nix compares in order; an element we cannot know might throw first.
                    for t in l.iter() {
                        match ev.equal(&x, &ev.force(t)) {
                            Some(true) => return Value::Bool(true),
                            None => return Value::Unknown,
                            Some(false) => {}
                        }
                    }
                    Value::Bool(false)
                }
                _ => Value::Unknown,
            }
        }
        "map" => match each(1) {
            Value::List(l) => list(
                l.iter()
                    .map(|x| lazy_apply(ev, &args[0], vec![x.clone()]))
                    .collect(),
            ),
            _ => Value::Unknown,
        },
        "concatMap" => match each(1) {
            Value::List(l) => {
                let f = each(0);
                let mut out = Vec::new();
                for x in l.iter() {
                    match ev.apply(f.clone(), x.clone()) {
                        Value::List(inner) => out.extend(inner.iter().cloned()),
                        _ => return Value::Unknown,
                    }
                }
                list(out)
            }
            _ => Value::Unknown,
        },
        "filter" | "any" | "all" => match each(1) {
            Value::List(l) => {
                let f = each(0);
                let mut out = Vec::new();
                for x in l.iter() {
                    match ev.apply(f.clone(), x.clone()) {
                        Value::Bool(true) => {
                            if name == "any" {
                                return Value::Bool(true);
                            }
                            out.push(x.clone())
                        }
                        Value::Bool(false) => {
                            if name == "all" {
                                return Value::Bool(false);
                            }
                        }
                        _ => return Value::Unknown,
                    }
                }
                match name {
                    "any" => Value::Bool(false),
                    "all" => Value::Bool(true),
                    _ => list(out),
                }
            }
            _ => Value::Unknown,
        },
        "toString" => match each(0) {
            // A path stays where it is (only interpolation copies it into the store).
            Value::Path(p) => match ev.files.absolute_path(&p) {
                Some(s) => Value::Str(s.into()),
                None => Value::Unknown,
            },
            v => match coerce_to_string(ev, &v) {
                Some(s) => Value::Str(s.into()),
                None => Value::Unknown,
            },
        },
        "hasAttr" => match (arg(0), arg(1)) {
            (Value::Str(n), Value::Attrs(a)) => {
                if a.get(&n).is_some() {
                    Value::Bool(true)
                } else if a.partial {
                    Value::Unknown
                } else {
                    Value::Bool(false)
                }
            }
            _ => Value::Unknown,
        },
        "getAttr" => match (arg(0), arg(1)) {
            (Value::Str(n), Value::Attrs(a)) => match a.get(&n) {
                Some(x) => ev.force(&x.value),
                None => Value::Unknown,
            },
            _ => Value::Unknown,
        },
        "listToAttrs" => match each(0) {
            Value::List(l) => {
                let mut map = BTreeMap::new();
                for t in l.iter() {
                    let Some(a) = known_attrs(&ev.force(t)).cloned() else {
                        return Value::Unknown;
                    };
                    let (Some(n), Some(v)) = (a.get("name"), a.get("value")) else {
                        return Value::Unknown;
                    };
                    let Value::Str(n) = ev.force(&n.value) else {
                        return Value::Unknown;
                    };
                    // The first occurrence of a name wins.
                    map.entry(n).or_insert_with(|| attr(v.value.clone()));
                }
                attrs_of(map)
            }
            _ => Value::Unknown,
        },
        "concatStringsSep" => match (each(0), each(1)) {
            (Value::Str(sep), Value::List(l)) => {
                let mut parts = Vec::new();
                // Only strings: Nix refuses to coerce numbers, booleans and lists here.
                for t in l.iter() {
                    match ev.force(t) {
                        Value::Str(s) => parts.push(s.to_string()),
                        _ => return Value::Unknown,
                    }
                }
                let len = parts.iter().map(|p| p.len() + sep.len()).sum();
                if !ev.charge_bytes(len) {
                    return Value::Unknown;
                }
                Value::Str(parts.join(&sep).into())
            }
            _ => Value::Unknown,
        },
        "isAttrs" | "isList" | "isString" | "isInt" | "isFloat" | "isBool" | "isFunction"
        | "isPath" | "isNull" => {
            let v = arg(0);
            if matches!(v, Value::Unknown | Value::Sym(_)) {
                return Value::Unknown;
            }
            Value::Bool(match name {
                "isAttrs" => matches!(v, Value::Attrs(_)),
                "isList" => matches!(v, Value::List(_)),
                "isString" => matches!(v, Value::Str(_)),
                "isInt" => matches!(v, Value::Int(_)),
                "isFloat" => matches!(v, Value::Float(_)),
                "isBool" => matches!(v, Value::Bool(_)),
                "isFunction" => matches!(v, Value::Lambda(_) | Value::Builtin(_)),
                "isPath" => matches!(v, Value::Path(_)),
                _ => matches!(v, Value::Null),
            })
        }
        "typeOf" => match arg(0) {
            Value::Unknown | Value::Sym(_) => Value::Unknown,
            v => Value::Str(v.type_name().into()),
        },
        "head" => match arg(0) {
            Value::List(l) => l.first().map(|t| ev.force(t)).unwrap_or(Value::Unknown),
            _ => Value::Unknown,
        },
        "tail" => match each(0) {
            Value::List(l) if !l.is_empty() => list(l[1..].to_vec()),
            _ => Value::Unknown,
        },
        "elemAt" => match (arg(0), arg(1)) {
            (Value::List(l), Value::Int(i)) if i >= 0 => l
                .get(i as usize)
                .map(|t| ev.force(t))
                .unwrap_or(Value::Unknown),
            _ => Value::Unknown,
        },
        "foldl'" => match each(2) {
            Value::List(l) => {
                let f = each(0);
                let mut acc = args[1].clone();
                for x in l.iter() {
                    let partial = ev.apply(f.clone(), acc);
                    let v = ev.apply(partial, x.clone());
                    if v.is_unknown() {
                        return Value::Unknown;
                    }
                    acc = Thunk::value(v);
                }
                ev.force(&acc)
            }
            _ => Value::Unknown,
        },
        "genList" => match arg(1) {
            Value::Int(n) if (0..=100_000).contains(&n) => list(
                (0..n)
                    .map(|i| lazy_apply(ev, &args[0], vec![Thunk::value(Value::Int(i))]))
                    .collect(),
            ),
            _ => Value::Unknown,
        },
        "removeAttrs" => match (each(0), each(1)) {
            (Value::Attrs(a), Value::List(names)) => {
                let mut m = (*a).clone();
                for t in names.iter() {
                    match ev.force(t) {
                        Value::Str(n) => {
                            m.map.remove(&n);
                        }
                        _ => return Value::Unknown,
                    }
                }
                Value::Attrs(Rc::new(m))
            }
            _ => Value::Unknown,
        },
        "mapAttrs" => match each(1) {
            Value::Attrs(a) => {
                let mut m = (*a).clone();
                for (k, x) in m.map.iter_mut() {
                    x.value = lazy_apply(
                        ev,
                        &args[0],
                        vec![Thunk::value(Value::Str(k.clone())), x.value.clone()],
                    );
                }
                Value::Attrs(Rc::new(m))
            }
            _ => Value::Unknown,
        },
        "intersectAttrs" => match (known_attrs(&each(0)).cloned(), each(1)) {
            (Some(a), Value::Attrs(b)) if !b.partial => {
                let map = b
                    .map
                    .iter()
                    .filter(|(k, _)| a.map.contains_key(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                attrs_of(map)
            }
            _ => Value::Unknown,
        },
        "catAttrs" => match (each(0), each(1)) {
            (Value::Str(n), Value::List(l)) => {
                let mut out = Vec::new();
                for t in l.iter() {
                    match ev.force(t) {
                        Value::Attrs(a) => match a.get(&n) {
                            Some(x) => out.push(x.value.clone()),
                            None if a.partial => return Value::Unknown,
                            None => {}
                        },
                        _ => return Value::Unknown,
                    }
                }
                list(out)
            }
            _ => Value::Unknown,
        },
        "concatLists" => match each(0) {
            Value::List(l) => {
                let mut out = Vec::new();
                for t in l.iter() {
                    match ev.force(t) {
                        Value::List(inner) => out.extend(inner.iter().cloned()),
                        _ => return Value::Unknown,
                    }
                }
                list(out)
            }
            _ => Value::Unknown,
        },
        "stringLength" => match arg(0) {
            Value::Str(s) => Value::Int(s.len() as i64),
            _ => Value::Unknown,
        },
        "substring" => match (each(0), each(1), each(2)) {
            (Value::Int(start), Value::Int(len), Value::Str(s)) if start >= 0 => {
                let bytes = s.as_bytes();
                let start = (start as usize).min(bytes.len());
                let end = if len < 0 {
                    bytes.len()
                } else {
                    start.saturating_add(len as usize).min(bytes.len())
                };
                match std::str::from_utf8(&bytes[start..end]) {
                    Ok(x) => Value::Str(x.into()),
                    Err(_) => Value::Unknown,
                }
            }
            _ => Value::Unknown,
        },
        "replaceStrings" => match (each(0), each(1), each(2)) {
            (Value::List(from), Value::List(to), Value::Str(s)) if from.len() == to.len() => {
                let mut pats = Vec::new();
                for (f, t) in from.iter().zip(to.iter()) {
                    match (ev.force(f), ev.force(t)) {
                        (Value::Str(f), Value::Str(t)) => pats.push((f, t)),
                        _ => return Value::Unknown,
                    }
                }
                if !ev.charge_bytes(s.len().saturating_mul(pats.len())) {
                    return Value::Unknown;
                }
                Value::Str(replace_strings(&s, &pats).into())
            }
            _ => Value::Unknown,
        },
        "baseNameOf" => match arg(0) {
            Value::Str(s) => {
                let t = s.trim_end_matches('/');
                Value::Str(t.rsplit('/').next().unwrap_or("").into())
            }
            Value::Path(p) => Value::Str(p.rsplit('/').next().unwrap_or("").into()),
            _ => Value::Unknown,
        },
        "fromJSON" => match each(0) {
            Value::Str(s) => match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(j) => from_json(&j),
                Err(_) => Value::Unknown,
            },
            _ => Value::Unknown,
        },
        "toJSON" => match to_json(ev, &args[0]) {
            // How floats are printed differs between Nix versions (`1.0` or `1`).
            Some(j) if !has_float(&j) => Value::Str(j.to_string().into()),
            _ => Value::Unknown,
        },
        "import" => match arg(0) {
            Value::Path(p) => ev.import(&p),
            _ => Value::Unknown,
        },
        "readFile" => match arg(0) {
            Value::Path(p) => match ev.read_text(&p) {
                Some(t) if ev.charge_bytes(t.len()) => Value::Str(t.to_string().into()),
                _ => Value::Unknown,
            },
            _ => Value::Unknown,
        },
        "seq" => {
            arg(0);
            arg(1)
        }
        "deepSeq" => {
            ev.deep_force(&args[0]);
            arg(1)
        }
        "trace" => arg(1),
        "throw" | "abort" => Value::Unknown,
        // nixpkgs lib
        "lib.mkIf" => module_marker(&[
            ("_type", str_v("if")),
            ("condition", args[0].clone()),
            ("content", args[1].clone()),
        ]),
        "lib.mkMerge" => module_marker(&[("_type", str_v("merge")), ("contents", args[0].clone())]),
        "lib.mkOverride" => module_marker(&[
            ("_type", str_v("override")),
            ("priority", args[0].clone()),
            ("content", args[1].clone()),
        ]),
        "lib.mkDefault" => module_marker(&[
            ("_type", str_v("override")),
            ("priority", Thunk::value(Value::Int(1000))),
            ("content", args[0].clone()),
        ]),
        "lib.mkForce" => module_marker(&[
            ("_type", str_v("override")),
            ("priority", Thunk::value(Value::Int(50))),
            ("content", args[0].clone()),
        ]),
        "lib.mkBefore" => module_marker(&[
            ("_type", str_v("order")),
            ("priority", Thunk::value(Value::Int(500))),
            ("content", args[0].clone()),
        ]),
        "lib.mkAfter" => module_marker(&[
            ("_type", str_v("order")),
            ("priority", Thunk::value(Value::Int(1500))),
            ("content", args[0].clone()),
        ]),
        "lib.types.listOf" => option_type("listOf", &[("elemType", args[0].clone())]),
        "lib.types.attrsOf" => option_type("attrsOf", &[("elemType", args[0].clone())]),
        "lib.types.lazyAttrsOf" => option_type("lazyAttrsOf", &[("elemType", args[0].clone())]),
        "lib.types.nullOr" => option_type("nullOr", &[("elemType", args[0].clone())]),
        "lib.types.uniq" => ev.force(&args[0]),
        "lib.types.enum" => option_type("enum", &[("values", args[0].clone())]),
        "lib.types.strMatching" => option_type("strMatching", &[("pattern", args[0].clone())]),
        "lib.types.submodule" => option_type("submodule", &[("module", args[0].clone())]),
        "lib.types.oneOf" => option_type("oneOf", &[("types", args[0].clone())]),
        "lib.types.either" => option_type(
            "either",
            &[("left", args[0].clone()), ("right", args[1].clone())],
        ),
        "lib.types.coercedTo" => ev.force(&args[2]),
        "lib.types.separatedString" => {
            option_type("separatedString", &[("separator", args[0].clone())])
        }
        "lib.types.between" => option_type("int", &[]),
        "lib.mkOption" => match arg(0) {
            Value::Attrs(a) => {
                let mut m = (*a).clone();
                m.map.insert(Rc::from("_type"), attr(str_v("option")));
                Value::Attrs(Rc::new(m))
            }
            _ => Value::Unknown,
        },
        "lib.mkEnableOption" => {
            let description = match arg(0) {
                Value::Str(n) => Value::Str(format!("Whether to enable {n}.").into()),
                _ => Value::Unknown,
            };
            module_marker(&[
                ("_type", str_v("option")),
                ("type", Thunk::value(option_type("bool", &[]))),
                ("default", Thunk::value(Value::Bool(false))),
                ("example", Thunk::value(Value::Bool(true))),
                ("description", Thunk::value(description)),
            ])
        }
        "lib.mkPackageOption" => {
            let map: BTreeMap<Rc<str>, Attr> = [
                ("_type", str_v("option")),
                ("type", Thunk::value(option_type("package", &[]))),
                ("default", Thunk::unknown()),
            ]
            .into_iter()
            .map(|(k, v)| (Rc::from(k), attr(v)))
            .collect();
            // Its other attributes (description, defaultText, …) are not modelled.
            Value::Attrs(Rc::new(Attrs { map, partial: true }))
        }
        "lib.optional" => match arg(0) {
            Value::Bool(true) => list(vec![args[1].clone()]),
            Value::Bool(false) => list(Vec::new()),
            _ => unknown_branch(&args[1]),
        },
        "lib.optionals" => match arg(0) {
            Value::Bool(true) => arg(1),
            Value::Bool(false) => list(Vec::new()),
            _ => unknown_branch(&args[1]),
        },
        "lib.modules.importApply" => match arg(0) {
            Value::Path(p) => ev.apply(ev.import(&p), args[1].clone()),
            _ => Value::Unknown,
        },
        "lib.optionalAttrs" => match arg(0) {
            Value::Bool(true) => arg(1),
            Value::Bool(false) => attrs_of(BTreeMap::new()),
            _ => unknown_branch(&args[1]),
        },
        "lib.optionalString" => match arg(0) {
            Value::Bool(true) => arg(1),
            Value::Bool(false) => Value::Str("".into()),
            _ => unknown_branch(&args[1]),
        },
        "lib.genAttrs" => match each(0) {
            Value::List(names) => {
                let mut map = BTreeMap::new();
                for t in names.iter() {
                    let Value::Str(n) = ev.force(t) else {
                        return Value::Unknown;
                    };
                    let v = lazy_apply(ev, &args[1], vec![Thunk::value(Value::Str(n.clone()))]);
                    map.insert(n, attr(v));
                }
                attrs_of(map)
            }
            _ => Value::Unknown,
        },
        "lib.mapAttrsToList" => match known_attrs(&each(1)).cloned() {
            Some(a) => list(
                a.map
                    .iter()
                    .map(|(k, x)| {
                        lazy_apply(
                            ev,
                            &args[0],
                            vec![Thunk::value(Value::Str(k.clone())), x.value.clone()],
                        )
                    })
                    .collect(),
            ),
            None => Value::Unknown,
        },
        "lib.filterAttrs" => match known_attrs(&each(1)).cloned() {
            Some(a) => {
                let f = each(0);
                let mut map = BTreeMap::new();
                for (k, x) in &a.map {
                    let p = ev.apply(f.clone(), Thunk::value(Value::Str(k.clone())));
                    match ev.apply(p, x.value.clone()) {
                        Value::Bool(true) => {
                            map.insert(k.clone(), x.clone());
                        }
                        Value::Bool(false) => {}
                        _ => return Value::Unknown,
                    }
                }
                attrs_of(map)
            }
            None => Value::Unknown,
        },
        "lib.hasPrefix" | "lib.hasSuffix" | "lib.hasInfix" => match (each(0), each(1)) {
            (Value::Str(p), Value::Str(s)) => Value::Bool(match name {
                "lib.hasPrefix" => s.starts_with(&*p),
                "lib.hasSuffix" => s.ends_with(&*p),
                _ => s.contains(&*p),
            }),
            _ => Value::Unknown,
        },
        "lib.flatten" => {
            let mut out = Vec::new();
            if flatten(ev, &each(0), &mut out) {
                list(out)
            } else {
                Value::Unknown
            }
        }
        "lib.unique" => match each(0) {
            Value::List(l) => {
                let mut out: Vec<(Thunk, Value)> = Vec::new();
                for t in l.iter() {
                    let v = ev.force(t);
                    let mut dup = false;
                    for (_, seen) in &out {
                        match ev.equal(seen, &v) {
                            Some(true) => dup = true,
                            None => return Value::Unknown,
                            Some(false) => {}
                        }
                    }
                    if !dup {
                        out.push((t.clone(), v));
                    }
                }
                list(out.into_iter().map(|(t, _)| t).collect())
            }
            _ => Value::Unknown,
        },
        "importTree.filter"
        | "importTree.filterNot"
        | "importTree.match"
        | "importTree.matchNot" => {
            let Value::Sym(s) = arg(0) else {
                return Value::Unknown;
            };
            let Sym::ImportTree(mut spec) = (*s).clone() else {
                return Value::Unknown;
            };
            let keep = matches!(name, "importTree.filter" | "importTree.match");
            match (name, str_test(ev, &arg(1))) {
                ("importTree.filter" | "importTree.filterNot", Some(test)) => {
                    spec.filters.push(if keep {
                        PathFilter::Keep(test)
                    } else {
                        PathFilter::Drop(test)
                    })
                }
                _ => spec.opaque_filter = true,
            }
            Value::Sym(Rc::new(Sym::ImportTree(spec)))
        }
        _ => Value::Unknown,
    }
}

/// A predicate such as `lib.hasInfix "/legacy/"`, recognised so import-tree filters are known.
fn str_test(ev: &Evaluator, v: &Value) -> Option<StrTest> {
    let Value::Builtin(b) = v else { return None };
    if b.args.len() != 1 {
        return None;
    }
    let Value::Str(s) = ev.force(&b.args[0]) else {
        return None;
    };
    match b.name {
        "lib.hasInfix" => Some(StrTest::Infix(s.to_string())),
        "lib.hasPrefix" => Some(StrTest::Prefix(s.to_string())),
        "lib.hasSuffix" => Some(StrTest::Suffix(s.to_string())),
        _ => None,
    }
}

fn flatten(ev: &Evaluator, v: &Value, out: &mut Vec<Thunk>) -> bool {
    let Some(_level) = ev.enter() else {
        return false;
    };
    match v {
        Value::List(l) => {
            if !ev.charge(l.len() as u64) {
                return false;
            }
            for t in l.iter() {
                let inner = ev.force(t);
                match inner {
                    Value::List(_) => {
                        if !flatten(ev, &inner, out) {
                            return false;
                        }
                    }
                    Value::Unknown => return false,
                    _ => out.push(t.clone()),
                }
            }
            true
        }
        _ => false,
    }
}

fn str_v(s: &str) -> Thunk {
    Thunk::value(Value::Str(s.into()))
}

fn module_marker(fields: &[(&str, Thunk)]) -> Value {
    attrs_of(
        fields
            .iter()
            .map(|(k, v)| (Rc::from(*k), attr(v.clone())))
            .collect(),
    )
}

fn replace_strings(s: &str, pats: &[(Rc<str>, Rc<str>)]) -> String {
    let mut out = String::new();
    let mut i = 0;
    let bytes = s.as_bytes();
    'outer: while i <= bytes.len() {
        for (from, to) in pats {
            if s[i..].starts_with(&**from) {
                out.push_str(to);
                if from.is_empty() {
                    if let Some(c) = s[i..].chars().next() {
                        out.push(c);
                        i += c.len_utf8();
                    } else {
                        break 'outer;
                    }
                } else {
                    i += from.len();
                }
                continue 'outer;
            }
        }
        match s[i..].chars().next() {
            Some(c) => {
                out.push(c);
                i += c.len_utf8();
            }
            None => break,
        }
    }
    out
}

fn has_float(j: &serde_json::Value) -> bool {
    match j {
        serde_json::Value::Number(n) => !n.is_i64() && !n.is_u64(),
        serde_json::Value::Array(a) => a.iter().any(has_float),
        serde_json::Value::Object(o) => o.values().any(has_float),
        _ => false,
    }
}

fn from_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // Integers beyond 64 bits wrap or fail depending on the Nix version.
            None if n.is_u64() => Value::Unknown,
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() >= 9.2e18 => Value::Unknown,
                Some(f) => Value::Float(f),
                None => Value::Unknown,
            },
        },
        // Nix strings end at a NUL byte.
        serde_json::Value::String(s) if s.contains('\0') => Value::Unknown,
        serde_json::Value::String(s) => Value::Str(s.as_str().into()),
        serde_json::Value::Array(a) => list(a.iter().map(|x| Thunk::value(from_json(x))).collect()),
        serde_json::Value::Object(o) => attrs_of(
            o.iter()
                .map(|(k, v)| (Rc::from(k.as_str()), attr(Thunk::value(from_json(v)))))
                .collect(),
        ),
    }
}

/// Deeply forces a value into JSON as `builtins.toJSON` would; `None` if anything is Unknown.
pub(super) fn to_json(ev: &Evaluator, t: &Thunk) -> Option<serde_json::Value> {
    let _level = ev.enter()?;
    Some(match ev.force(t) {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(b),
        Value::Int(i) => serde_json::Value::from(i),
        Value::Float(f) => serde_json::Number::from_f64(f).map(serde_json::Value::Number)?,
        Value::Str(s) if ev.charge_bytes(s.len()) => serde_json::Value::String(s.to_string()),
        Value::List(l) => serde_json::Value::Array(
            l.iter()
                .map(|x| to_json(ev, x))
                .collect::<Option<Vec<_>>>()?,
        ),
        Value::Attrs(a) => {
            if a.partial || a.get("__toString").is_some() || a.get("outPath").is_some() {
                return None;
            }
            let mut m = serde_json::Map::new();
            for (k, v) in &a.map {
                m.insert(k.to_string(), to_json(ev, &v.value)?);
            }
            serde_json::Value::Object(m)
        }
        // Paths are copied to the store; functions cannot be serialised; a string past the
        // fuel is not copied.
        Value::Str(_)
        | Value::Path(_)
        | Value::Lambda(_)
        | Value::Builtin(_)
        | Value::Sym(_)
        | Value::Unknown => return None,
    })
}

/// `lib.<path>.<name>`: the functions the evaluator implements, by their last name.
pub(super) fn lib_select(path: &[Rc<str>], name: &str) -> Value {
    const NAMESPACES: &[&str] = &[
        "attrsets", "lists", "strings", "trivial", "modules", "options", "types",
    ];
    let ns: Vec<&str> = path.iter().map(|p| &**p).collect();
    match (ns.as_slice(), name) {
        ([], n) if NAMESPACES.contains(&n) => {
            return Value::Sym(Rc::new(Sym::Lib(vec![name.into()])))
        }
        (["types"], "ints") => {
            return Value::Sym(Rc::new(Sym::Lib(vec!["types".into(), "ints".into()])))
        }
        (["types"], _) => return types_select(name),
        (["types", "ints"], "between") => return builtin("lib.types.between", 2),
        (["types", "ints"], _) => return option_type("int", &[]),
        ([] | ["options"], "mkOption") => return builtin("lib.mkOption", 1),
        ([] | ["options"], "mkEnableOption") => return builtin("lib.mkEnableOption", 1),
        ([] | ["options"], "mkPackageOption") => return builtin("lib.mkPackageOption", 3),
        // nixpkgs' `importApply = modulePath: staticArg: setDefaultModuleLocation modulePath
        // (import modulePath staticArg)`: the location changes only error messages.
        (["modules"], "importApply") => return builtin("lib.modules.importApply", 2),
        _ if path.len() > 1 => return Value::Unknown,
        // Only the names nixpkgs has in that namespace (`lib.lists.hasPrefix` is a list
        // function there, not the string one).
        ([ns], n) if !in_namespace(ns, n) => return Value::Unknown,
        _ => {}
    }
    let (qualified, arity) = match name {
        "mkIf" => ("lib.mkIf", 2),
        "mkMerge" => ("lib.mkMerge", 1),
        "mkOverride" => ("lib.mkOverride", 2),
        "mkDefault" => ("lib.mkDefault", 1),
        "mkForce" => ("lib.mkForce", 1),
        "mkBefore" => ("lib.mkBefore", 1),
        "mkAfter" => ("lib.mkAfter", 1),
        "optional" => ("lib.optional", 2),
        "optionals" => ("lib.optionals", 2),
        "optionalAttrs" => ("lib.optionalAttrs", 2),
        "optionalString" => ("lib.optionalString", 2),
        "genAttrs" => ("lib.genAttrs", 2),
        "mapAttrsToList" => ("lib.mapAttrsToList", 2),
        "filterAttrs" => ("lib.filterAttrs", 2),
        "hasPrefix" => ("lib.hasPrefix", 2),
        "hasSuffix" => ("lib.hasSuffix", 2),
        "hasInfix" => ("lib.hasInfix", 2),
        "flatten" => ("lib.flatten", 1),
        "unique" => ("lib.unique", 1),
        // Same as the builtins.
        "attrNames" | "attrValues" | "length" | "elem" | "filter" | "concatStringsSep" | "head"
        | "tail" | "elemAt" | "foldl'" | "genList" | "removeAttrs" | "mapAttrs" | "concatLists"
        | "concatMap" | "toString" | "hasAttr" | "getAttr" | "listToAttrs" | "any" | "all"
        | "replaceStrings" | "substring" | "stringLength" | "toJSON" | "fromJSON" | "isAttrs"
        | "isList" | "isString" | "isInt" | "isBool" | "isFunction" | "intersectAttrs"
        | "catAttrs" => {
            let b = BUILTINS.iter().find(|b| b.0 == name);
            match b {
                Some(&(n, a)) => (n, a),
                None => return Value::Unknown,
            }
        }
        "map" => ("map", 2),
        _ => return Value::Unknown,
    };
    builtin(qualified, arity)
}

fn in_namespace(ns: &str, name: &str) -> bool {
    const STRINGS: &[&str] = &[
        "hasPrefix",
        "hasSuffix",
        "hasInfix",
        "concatStringsSep",
        "optionalString",
        "replaceStrings",
        "substring",
        "stringLength",
        "toJSON",
        "fromJSON",
    ];
    const LISTS: &[&str] = &[
        "optional",
        "optionals",
        "flatten",
        "unique",
        "elem",
        "filter",
        "head",
        "tail",
        "elemAt",
        "foldl'",
        "genList",
        "concatLists",
        "concatMap",
        "length",
        "any",
        "all",
        "map",
    ];
    const ATTRSETS: &[&str] = &[
        "genAttrs",
        "mapAttrsToList",
        "filterAttrs",
        "optionalAttrs",
        "attrNames",
        "attrValues",
        "mapAttrs",
        "removeAttrs",
        "hasAttr",
        "getAttr",
        "listToAttrs",
        "intersectAttrs",
        "catAttrs",
    ];
    const MODULES: &[&str] = &[
        "mkIf",
        "mkMerge",
        "mkOverride",
        "mkDefault",
        "mkForce",
        "mkBefore",
        "mkAfter",
    ];
    match ns {
        "strings" => STRINGS.contains(&name),
        "lists" => LISTS.contains(&name),
        "attrsets" => ATTRSETS.contains(&name),
        "modules" => MODULES.contains(&name),
        "trivial" => false,
        "options" | "types" => true,
        _ => false,
    }
}

/// An option type as the evaluator represents it: `{ _type = "option-type"; name; … }`.
fn option_type(name: &str, fields: &[(&str, Thunk)]) -> Value {
    let mut map: BTreeMap<Rc<str>, Attr> = fields
        .iter()
        .map(|(k, v)| (Rc::from(*k), attr(v.clone())))
        .collect();
    map.insert(Rc::from("_type"), attr(str_v("option-type")));
    map.insert(Rc::from("name"), attr(str_v(name)));
    // nixpkgs' types carry more attributes (check, merge, description, …): what is not
    // modelled here is Unknown, not missing.
    Value::Attrs(Rc::new(Attrs { map, partial: true }))
}

/// `lib.types.<name>`.
fn types_select(name: &str) -> Value {
    match name {
        "str" | "string" | "lines" | "commas" | "nonEmptyStr" | "singleLineStr" | "bool"
        | "int" | "port" | "float" | "number" | "path" | "package" | "anything" | "raw"
        | "unspecified" | "attrs" | "deferredModule" | "pathInStore" | "externalPath" => {
            option_type(name, &[])
        }
        "listOf" | "attrsOf" | "lazyAttrsOf" | "nullOr" | "uniq" | "unique" | "enum"
        | "strMatching" | "submodule" | "oneOf" => {
            let q = match name {
                "listOf" => "lib.types.listOf",
                "attrsOf" => "lib.types.attrsOf",
                "lazyAttrsOf" => "lib.types.lazyAttrsOf",
                "nullOr" => "lib.types.nullOr",
                "uniq" | "unique" => "lib.types.uniq",
                "enum" => "lib.types.enum",
                "strMatching" => "lib.types.strMatching",
                "submodule" => "lib.types.submodule",
                _ => "lib.types.oneOf",
            };
            builtin(q, 1)
        }
        "either" => builtin("lib.types.either", 2),
        "separatedString" => builtin("lib.types.separatedString", 1),
        "coercedTo" => builtin("lib.types.coercedTo", 3),
        _ => Value::Unknown,
    }
}

/// `import-tree <paths>`: records the roots; anything it cannot read makes the result Unknown.
pub(super) fn import_tree_apply(ev: &Evaluator, mut spec: ImportTreeSpec, arg: &Thunk) -> Value {
    fn roots(ev: &Evaluator, v: &Value, out: &mut Vec<String>) -> bool {
        let Some(_level) = ev.enter() else {
            return false;
        };
        match v {
            Value::Path(p) => {
                out.push(p.to_string());
                true
            }
            Value::List(l) => l.iter().all(|t| roots(ev, &ev.force(t), out)),
            _ => false,
        }
    }
    let v = ev.force(arg);
    if !roots(ev, &v, &mut spec.roots) {
        return Value::Unknown;
    }
    Value::Sym(Rc::new(Sym::ImportTree(spec)))
}
