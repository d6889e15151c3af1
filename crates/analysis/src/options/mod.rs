//! Option types and their checking. Service settings (and, later, module options) are checked
//! against these; a type the analyzer does not know is `Unknown` and accepts anything.

pub mod catalog;
pub mod configs;
pub mod merge;
pub mod model;
pub mod platform;
pub mod read;
pub mod types;

/// What an editor shows when hovering an option: for every declaration of `path` in the
/// workspace (the repository's modules and loaded catalogs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionInfo {
    pub path: String,
    /// The type in words, as the module system describes it.
    pub type_description: String,
    /// The default as JSON, when it is a known value.
    pub default: Option<String>,
    pub required: bool,
    pub description: Option<String>,
    /// The declaration (a module, or the catalog file).
    pub declared_at: crate::diagnostic::Location,
    /// `flake.modules.nixos.base`, `flake-parts` or `catalog <file>`.
    pub declared_in: String,
}

pub(crate) fn option_info(
    db: &dyn crate::db::Db,
    ws: crate::db::Workspace,
    path: &str,
) -> Vec<OptionInfo> {
    let files = crate::flake::module_files(db, ws);
    let mut out = Vec::new();
    for f in files
        .files
        .iter()
        .filter_map(|p| crate::db::file_by_path(db, ws, p))
    {
        for d in &crate::summary::file_summary(db, ws, f).options.decls {
            if d.decl.path.join(".") == path {
                out.push(OptionInfo {
                    path: path.to_owned(),
                    type_description: d.decl.spec.ty.describe(),
                    default: d.decl.default.as_ref().map(|v| v.to_string()),
                    required: d.decl.spec.required,
                    description: d.decl.description.clone(),
                    declared_at: d.decl.location.clone(),
                    declared_in: d.owner.to_string(),
                });
            }
        }
    }
    for c in &catalog::catalogs(db, ws).0 {
        if let Some(o) = c.options.get(path) {
            out.push(OptionInfo {
                path: path.to_owned(),
                type_description: o.spec.ty.describe(),
                default: None,
                required: o.spec.required,
                description: o.description.clone(),
                declared_at: crate::diagnostic::Location::new(&c.file, Default::default()),
                declared_in: format!("catalog {}", c.file),
            });
        }
    }
    out
}
