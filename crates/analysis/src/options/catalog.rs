//! Option catalogs written by `infra-check options dump` from a machine's evaluated `options`:
//! with one loaded, that machine's NixOS or nix-darwin options are checked too.
//!
//! ```json
//! {"format":1,"class":"nixos","machine":"web","generatedBy":"infra-check 0.1.0",
//!  "options":{"services.openssh.enable":{"type":{"name":"bool"},"hasDefault":true,
//!             "description":"…"}}}
//! ```
//! Types are nixpkgs' type names with `elemType`, `left`/`right` and enum `values`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use super::types::{OptType, OptionSpec};
use crate::db::{config, file_by_path, Db, Workspace};
use crate::diagnostic::TextRange;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// Root-relative path of the catalog file.
    pub file: String,
    pub class: String,
    pub machine: Option<String>,
    pub options: BTreeMap<String, CatalogOption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogOption {
    pub path: Vec<String>,
    pub spec: OptionSpec,
    pub description: Option<String>,
}

#[derive(Deserialize)]
struct RawCatalog {
    format: u32,
    class: String,
    machine: Option<String>,
    options: BTreeMap<String, RawOption>,
}

#[derive(Deserialize)]
struct RawOption {
    #[serde(rename = "type")]
    ty: Option<RawType>,
    #[serde(rename = "hasDefault", default)]
    has_default: bool,
    description: Option<String>,
}

#[derive(Deserialize)]
struct RawType {
    name: String,
    #[serde(rename = "elemType")]
    elem_type: Option<Box<RawType>>,
    left: Option<Box<RawType>>,
    right: Option<Box<RawType>>,
    values: Option<Vec<serde_json::Value>>,
}

fn convert(t: &RawType) -> OptType {
    let elem = || t.elem_type.as_deref().map_or(OptType::Unknown, convert);
    match t.name.as_str() {
        "bool" | "boolean" => OptType::Bool,
        "str" | "nonEmptyStr" | "singleLineStr" | "passwdEntry str" => OptType::Str,
        "string" | "lines" | "commas" | "separatedString" | "envVar" => OptType::Lines,
        "int" | "signedInt" | "unsignedInt" | "positiveInt" | "intBetween" | "unsignedInt8"
        | "unsignedInt32" | "signedInt8" | "signedInt16" | "signedInt32" => OptType::Int,
        "unsignedInt16" | "port" => OptType::Port,
        "float" | "number" => OptType::Float,
        "path" | "pathInStore" | "externalPath" => OptType::Path,
        "package" => OptType::Package,
        "listOf" => OptType::ListOf(Box::new(elem())),
        "attrsOf" | "lazyAttrsOf" => OptType::AttrsOf(Box::new(elem())),
        "nullOr" => OptType::NullOr(Box::new(elem())),
        "either" => OptType::Either(vec![
            t.left.as_deref().map_or(OptType::Unknown, convert),
            t.right.as_deref().map_or(OptType::Unknown, convert),
        ]),
        "enum" => match &t.values {
            Some(vs) => {
                let strs: Option<Vec<String>> =
                    vs.iter().map(|v| v.as_str().map(String::from)).collect();
                strs.map_or(OptType::Unknown, OptType::Enum)
            }
            None => OptType::Unknown,
        },
        // Submodules are not expanded in a dump, and everything else is not modelled.
        _ => OptType::Unknown,
    }
}

/// Parses a catalog; the error is a sentence for `config/invalid` and where in the file it is.
/// Neither quotes the file: a catalog may be any file the repository names.
pub fn parse(file: &str, text: &str) -> Result<Catalog, (String, TextRange)> {
    let raw: RawCatalog = serde_json::from_str(text).map_err(|e| {
        (
            format!(
                "The option catalog `{file}` {}, so its options are not checked. Write it again with `infra-check options dump`.",
                crate::jsondata::error_words(text, &e)
            ),
            crate::jsondata::error_range(text, &e),
        )
    })?;
    if raw.format != 1 {
        return Err((
            format!(
                "The option catalog `{file}` has a format other than 1, the only one this infra-check reads; write it again with `infra-check options dump`."
            ),
            crate::jsondata::key_range(text, "format", 0),
        ));
    }
    if raw.class != "nixos" && raw.class != "darwin" {
        return Err((
            format!("The option catalog `{file}` is for a class other than nixos and darwin, the only ones supported."),
            crate::jsondata::key_range(text, "class", 0),
        ));
    }
    let options = raw
        .options
        .into_iter()
        .map(|(k, o)| {
            let option = CatalogOption {
                path: k.split('.').map(String::from).collect(),
                spec: OptionSpec {
                    ty: o.ty.as_ref().map_or(OptType::Unknown, convert),
                    required: !o.has_default,
                },
                description: o.description,
            };
            (k, option)
        })
        .collect();
    Ok(Catalog {
        file: file.to_owned(),
        class: raw.class,
        machine: raw.machine,
        options,
    })
}

/// The catalogs that could be read, and `(file, range, message)` for each that could not.
pub type Catalogs = (Vec<Catalog>, Vec<(String, TextRange, String)>);

/// Every catalog `infra-check.toml` names, with the problems found reading them. One the loader
/// could not read is `workspace/unreadable`'s to report.
#[salsa::tracked(returns(ref))]
pub fn catalogs(db: &dyn Db, ws: Workspace) -> Arc<Catalogs> {
    let cfg = config(db, ws);
    let disk = ws.disk(db);
    let mut ok = Vec::new();
    let mut problems = Vec::new();
    let config_file = crate::config::CONFIG_FILE;
    for path in &cfg.catalogs {
        let Some(rel) = crate::disk::normalize_join("", path).filter(|r| !r.is_empty()) else {
            problems.push((
                config_file.to_owned(),
                TextRange::default(),
                format!("The option catalog `{path}` named in {config_file} is not a path inside the repository; infra-check reads catalogs only from the repository. Name it relative to the repository root."),
            ));
            continue;
        };
        if crate::loader::is_secret_file(&rel) {
            problems.push((
                config_file.to_owned(),
                TextRange::default(),
                format!("The option catalog `{path}` named in {config_file} is a vars secret, which infra-check never reads as data; name the file `infra-check options dump` wrote."),
            ));
            continue;
        }
        match file_by_path(db, ws, &rel) {
            Some(f) => match parse(&rel, f.text(db)) {
                Ok(c) => ok.push(c),
                Err((message, range)) => problems.push((rel, range, message)),
            },
            None if disk.is_unknown(&rel) => {}
            None => problems.push((
                config_file.to_owned(),
                TextRange::default(),
                format!("The option catalog `{path}` named in {config_file} does not exist; write it with `infra-check options dump --machine <machine>`."),
            )),
        }
    }
    Arc::new((ok, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_types_and_rejects_other_formats() {
        let c = parse(
            "c.json",
            r#"{"format":1,"class":"nixos","machine":"web","options":{
                "services.openssh.enable":{"type":{"name":"bool"},"hasDefault":true},
                "services.openssh.ports":{"type":{"name":"listOf","elemType":{"name":"unsignedInt16"}},"hasDefault":true},
                "x.mode":{"type":{"name":"enum","values":["a","b"]}},
                "x.sub":{"type":{"name":"submodule"}}}}"#,
        )
        .unwrap();
        assert_eq!(c.options["services.openssh.enable"].spec.ty, OptType::Bool);
        assert_eq!(
            c.options["services.openssh.ports"].spec.ty,
            OptType::ListOf(Box::new(OptType::Port))
        );
        assert_eq!(
            c.options["x.mode"].spec.ty,
            OptType::Enum(vec!["a".into(), "b".into()])
        );
        assert!(c.options["x.mode"].spec.required);
        assert_eq!(c.options["x.sub"].spec.ty, OptType::Unknown);
        assert!(parse("c.json", r#"{"format":2,"class":"nixos","options":{}}"#).is_err());
        assert!(parse("c.json", "not json").is_err());
    }
}
