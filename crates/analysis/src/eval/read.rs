//! Reading module-system values: the `_type` wrappers (`mkIf`, `mkMerge`, `mkDefault`, …) are
//! looked through, so a definition counts however it was wrapped.

use std::rc::Rc;

use super::{Attrs, Evaluator, ModuleArgsKind, Sym, Thunk, Value};

/// [`config_sets`] collected: the attrsets and whether every part was read.
pub fn config_sets_of(ev: &Evaluator, t: &Thunk) -> (Vec<Rc<Attrs>>, bool) {
    let mut out = Vec::new();
    let ok = config_sets(ev, t, &mut out, 0);
    (out, ok)
}

/// A module's body: a module function is applied to module arguments in which only `lib` is
/// known (nothing of the flake: `self`, `inputs`, `config` stay symbolic); anything else is
/// the body already.
pub fn module_body(ev: &Evaluator, v: Value) -> Value {
    match v {
        f @ (Value::Lambda(_) | Value::Builtin(_)) => ev.apply(
            f,
            Thunk::value(Value::Sym(Rc::new(Sym::ModuleArgs(ModuleArgsKind::System)))),
        ),
        other => other,
    }
}

/// The attrsets a configuration value contributes, through `mkIf`/`mkMerge`/`mkOverride`/
/// `mkOrder`. Returns false when some part could not be read (an Unknown, a non-attrset, or an
/// attrset with unreadable keys).
pub fn config_sets(ev: &Evaluator, t: &Thunk, out: &mut Vec<Rc<Attrs>>, depth: u32) -> bool {
    if depth > 16 {
        return false;
    }
    let Some(_level) = ev.enter() else {
        return false;
    };
    match ev.force(t) {
        Value::Attrs(a) => {
            let ty = a.get("_type").map(|x| ev.force(&x.value));
            match ty.as_ref().and_then(|v| v.as_str()) {
                Some("if") | Some("override") | Some("order") => match a.get("content") {
                    Some(c) => config_sets(ev, &c.value, out, depth + 1),
                    None => false,
                },
                Some("merge") => match a.get("contents").map(|c| ev.force(&c.value)) {
                    Some(Value::List(l)) => {
                        let mut ok = true;
                        for x in l.iter() {
                            ok &= config_sets(ev, x, out, depth + 1);
                        }
                        ok
                    }
                    _ => false,
                },
                Some(_) => false,
                None => {
                    let ok = !a.partial;
                    out.push(a);
                    ok
                }
            }
        }
        _ => false,
    }
}

/// Like [`config_sets`], but each set comes with whether it applies only under a condition the
/// evaluator could not decide (`mkIf <unknown>`); `mkIf false` contents are left out.
pub fn config_sets_cond(
    ev: &Evaluator,
    t: &Thunk,
    cond: bool,
    out: &mut Vec<(Rc<Attrs>, bool)>,
    depth: u32,
) -> bool {
    if depth > 16 {
        return false;
    }
    let Some(_level) = ev.enter() else {
        return false;
    };
    match ev.force(t) {
        Value::Attrs(a) => {
            let ty = a.get("_type").map(|x| ev.force(&x.value));
            match ty.as_ref().and_then(|v| v.as_str()) {
                Some("if") => {
                    let c = a.get("condition").map(|c| ev.force(&c.value));
                    let Some(content) = a.get("content") else {
                        return false;
                    };
                    match c {
                        Some(Value::Bool(false)) => true,
                        Some(Value::Bool(true)) => {
                            config_sets_cond(ev, &content.value, cond, out, depth + 1)
                        }
                        _ => config_sets_cond(ev, &content.value, true, out, depth + 1),
                    }
                }
                Some("override") | Some("order") => match a.get("content") {
                    Some(c) => config_sets_cond(ev, &c.value, cond, out, depth + 1),
                    None => false,
                },
                Some("merge") => match a.get("contents").map(|c| ev.force(&c.value)) {
                    Some(Value::List(l)) => {
                        let mut ok = true;
                        for x in l.iter() {
                            ok &= config_sets_cond(ev, x, cond, out, depth + 1);
                        }
                        ok
                    }
                    _ => false,
                },
                Some(_) => false,
                None => {
                    let ok = !a.partial;
                    out.push((a, cond));
                    ok
                }
            }
        }
        _ => false,
    }
}

/// The values of attribute `name` in every set.
pub fn attr_values(sets: &[Rc<Attrs>], name: &str) -> Vec<Thunk> {
    sets.iter()
        .filter_map(|s| s.get(name).map(|a| a.value.clone()))
        .collect()
}

/// The attribute `name` itself (value and spans) in every set.
pub fn attrs_named<'a>(
    sets: &'a [Rc<Attrs>],
    name: &'a str,
) -> impl Iterator<Item = &'a super::Attr> + 'a {
    sets.iter().filter_map(move |s| s.get(name))
}

/// A value with priority and order wrappers (`mkDefault x`, `mkForce x`, `mkBefore x`) removed.
/// `mkIf` is kept: its content may not apply.
pub fn strip_priority(ev: &Evaluator, mut v: Value) -> Value {
    for _ in 0..16 {
        let Value::Attrs(a) = &v else { return v };
        let ty = a.get("_type").map(|x| ev.force(&x.value));
        match ty.as_ref().and_then(|t| t.as_str()) {
            Some("override") | Some("order") => match a.get("content") {
                Some(c) => v = ev.force(&c.value),
                None => return Value::Unknown,
            },
            _ => return v,
        }
    }
    Value::Unknown
}

/// The value as JSON when every part of it is known (after stripping priorities), else `None`.
pub fn known_json(ev: &Evaluator, t: &Thunk) -> Option<serde_json::Value> {
    fn go(ev: &Evaluator, v: Value, depth: u32) -> Option<serde_json::Value> {
        if depth > 64 {
            return None;
        }
        let _level = ev.enter()?;
        let v = strip_priority(ev, v);
        Some(match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(b),
            Value::Int(i) => serde_json::Value::from(i),
            Value::Float(f) => serde_json::Number::from_f64(f).map(serde_json::Value::Number)?,
            Value::Str(s) if ev.charge_bytes(s.len()) => serde_json::Value::String(s.to_string()),
            Value::List(l) if ev.charge(l.len() as u64) => serde_json::Value::Array(
                l.iter()
                    .map(|x| go(ev, ev.force(x), depth + 1))
                    .collect::<Option<_>>()?,
            ),
            Value::Attrs(a) => {
                if a.partial || a.get("_type").is_some() {
                    return None;
                }
                let mut m = serde_json::Map::new();
                for (k, x) in &a.map {
                    if !ev.charge(1) {
                        return None;
                    }
                    m.insert(k.to_string(), go(ev, ev.force(&x.value), depth + 1)?);
                }
                serde_json::Value::Object(m)
            }
            _ => return None,
        })
    }
    go(ev, ev.force(t), 0)
}
