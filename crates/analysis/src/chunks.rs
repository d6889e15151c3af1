//! The workspace's files in fixed groups, for the queries that gather one per-file result from
//! every file (the file-local findings, the paths files name, unknown codes in ignore
//! comments).
//!
//! Salsa re-verifies a result by visiting what it read. A gather that read one per-file result
//! of each of 12,000 files visits 12,000 of them after any edit, although only the edited file
//! can have changed: milliseconds on every keystroke. Gathered through groups, it reads one
//! result per group instead, and a group whose files are all read from disk has their
//! durability, so it is verified in one step without visiting its files; only the edited
//! file's group is visited file by file.

use crate::db::{Db, SourceFile, Workspace};

/// Files per group: small enough that the edited file's group is quick to visit, large enough
/// that the groups of a large workspace are a few hundred.
const GROUP: usize = 64;

/// A group of files of a workspace, as the key of the gathering queries below and those
/// elsewhere that read per-file results group by group.
#[salsa::interned(debug)]
pub struct FileChunk<'db> {
    pub ws: Workspace,
    #[returns(ref)]
    pub files: Vec<SourceFile>,
}

/// `files` (in their order) in groups of [`GROUP`]. A group's key is its files, so a file added
/// or removed moves the groups after it; their results are then gathered again from the
/// per-file results, which stay memoised.
pub(crate) fn chunks<'db>(
    db: &'db dyn Db,
    ws: Workspace,
    files: impl IntoIterator<Item = SourceFile>,
) -> Vec<FileChunk<'db>> {
    let mut out = Vec::new();
    let mut group = Vec::with_capacity(GROUP);
    for f in files {
        group.push(f);
        if group.len() == GROUP {
            out.push(FileChunk::new(db, ws, std::mem::take(&mut group)));
        }
    }
    if !group.is_empty() {
        out.push(FileChunk::new(db, ws, group));
    }
    out
}

/// The `.nix` files of `ws` (every one, or those `keep` accepts by path), in groups.
pub(crate) fn nix_chunks<'db>(
    db: &'db dyn Db,
    ws: Workspace,
    keep: impl Fn(&str) -> bool,
) -> Vec<FileChunk<'db>> {
    let files = ws.files(db);
    let nix = files
        .iter()
        .filter(|(p, _)| p.ends_with(".nix") && keep(p))
        .map(|(_, f)| *f);
    chunks(db, ws, nix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_hold_every_file_once_in_order() {
        let db = crate::db::RootDatabase::default();
        let ws = Workspace::new(&db, Default::default(), Default::default());
        let files: Vec<SourceFile> = (0..(2 * GROUP + 3))
            .map(|i| SourceFile::new(&db, format!("f{i}.nix"), "{ }".into()))
            .collect();
        let groups = chunks(&db, ws, files.iter().copied());
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[2].files(&db).len(), 3);
        let flat: Vec<SourceFile> = groups
            .iter()
            .flat_map(|g| g.files(&db).iter().copied())
            .collect();
        assert_eq!(flat, files);
        assert!(chunks(&db, ws, std::iter::empty()).is_empty());
    }
}
