//! Several modules may declare the same option. The module system merges the declarations
//! (`mergeOptionDecls` in nixpkgs' `lib/modules.nix`) by merging their types with each type's
//! `typeMerge`: submodules union their options, `attrsOf`/`listOf`/`nullOr` merge their element
//! types, `enum`s union their values, and equal types merge to themselves. A definition is
//! checked against that merge. Where two types would not merge (Nix then refuses the
//! declarations with "is already declared in") or a type is not known, the merge is
//! [`OptType::Unknown`]: nothing is reported against it.

use std::collections::BTreeMap;

use super::types::{OptType, OptionSpec};

/// The type several declarations of one option give it, in the module system's terms.
pub fn merge_all<'a>(types: impl IntoIterator<Item = &'a OptType>) -> OptType {
    let mut it = types.into_iter();
    let Some(first) = it.next() else {
        return OptType::Unknown;
    };
    it.fold(first.clone(), |acc, t| merge(&acc, t))
}

/// The merge of two declarations' types.
pub fn merge(a: &OptType, b: &OptType) -> OptType {
    use OptType as T;
    match (a, b) {
        (T::Unknown, _) | (_, T::Unknown) => T::Unknown,
        (T::Submodule(x), T::Submodule(y)) => T::Submodule(merge_options(x, y)),
        (T::AttrsOf(x), T::AttrsOf(y)) => T::AttrsOf(Box::new(merge(x, y))),
        (T::ListOf(x), T::ListOf(y)) => T::ListOf(Box::new(merge(x, y))),
        (T::NullOr(x), T::NullOr(y)) => T::NullOr(Box::new(merge(x, y))),
        (T::Enum(x), T::Enum(y)) => {
            let mut values = x.clone();
            values.extend(y.iter().filter(|v| !x.contains(v)).cloned());
            T::Enum(values)
        }
        (T::Either(x), T::Either(y)) if x.len() == y.len() => {
            T::Either(x.iter().zip(y).map(|(p, q)| merge(p, q)).collect())
        }
        (x, y) if x == y => x.clone(),
        _ => T::Unknown,
    }
}

/// The options of two declarations of one submodule: the union, with an option both declare
/// merged in turn. It is required only when neither declaration gives it a default.
fn merge_options(
    a: &BTreeMap<String, OptionSpec>,
    b: &BTreeMap<String, OptionSpec>,
) -> BTreeMap<String, OptionSpec> {
    let mut out = a.clone();
    for (name, spec) in b {
        match out.get_mut(name) {
            Some(have) => {
                have.ty = merge(&have.ty, &spec.ty);
                have.required &= spec.required;
            }
            None => {
                out.insert(name.clone(), spec.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::types::check_value;

    fn ty(src: &str) -> OptType {
        OptType::parse(src).unwrap()
    }

    #[test]
    fn submodule_declarations_union_their_options() {
        let merged = merge_all([
            &ty("attrsOf (submodule { name = str; })"),
            &ty("attrsOf (submodule { shell? = str; })"),
            &ty("attrsOf (submodule { uid? = int; name? = str; })"),
        ]);
        let v = serde_json::json!({ "ada": { "name": "Ada", "shell": "zsh", "uid": 1000 } });
        assert_eq!(check_value(&merged, &v), Ok(()));
        // The merge still rejects what none of them declares, and wrong types.
        assert!(check_value(&merged, &serde_json::json!({ "ada": { "home": "/x" } })).is_err());
        assert!(check_value(&merged, &serde_json::json!({ "ada": { "uid": "x" } })).is_err());
        // `name` has a default in one declaration: no longer required.
        let OptType::AttrsOf(inner) = &merged else {
            panic!("{merged:?}")
        };
        let OptType::Submodule(opts) = &**inner else {
            panic!("{inner:?}")
        };
        assert!(!opts["name"].required);
    }

    #[test]
    fn enums_union_and_equal_types_merge_to_themselves() {
        assert_eq!(
            merge(&ty(r#"enum [ "a" "b" ]"#), &ty(r#"enum [ "b" "c" ]"#)),
            ty(r#"enum [ "a" "b" "c" ]"#)
        );
        assert_eq!(
            merge(&ty("listOf str"), &ty("listOf str")),
            ty("listOf str")
        );
    }

    #[test]
    fn types_that_do_not_merge_or_are_unknown_give_unknown() {
        assert_eq!(merge(&ty("str"), &ty("int")), OptType::Unknown);
        assert_eq!(merge(&ty("attrsOf str"), &ty("anything")), OptType::Unknown);
        assert_eq!(
            merge(&ty("submodule { a = str; }"), &ty("attrsOf str")),
            OptType::Unknown
        );
    }
}
