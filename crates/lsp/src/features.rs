//! The requests: definition, references, hover, completion, code actions and symbols. Each
//! runs on one [`Snapshot`] on the blocking pool and converts plain analysis data to the
//! protocol, with positions taken from the texts of that snapshot (for open documents, their
//! in-memory text).

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;

use infra_check_analysis::ide::complete::replaced_start;
use infra_check_analysis::ide::{Completion, CompletionKind, Symbol, SymbolKind};
use infra_check_analysis::{
    Analysis, Cancellable, Cancelled, Diagnostic, LineIndex, Location, TextRange,
};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types as lsp;

use crate::convert::{self, relative_path, FileLines, UriMap};
use crate::worker::Snapshot;

/// Runs `f` on `snapshot` on the blocking pool. A query the worker cancelled (a change arrived
/// meanwhile) answers `RequestCancelled`; no workspace yet answers `default`.
pub async fn run<T, F>(
    snapshot: tokio::sync::oneshot::Receiver<Option<Snapshot>>,
    default: T,
    f: F,
) -> jsonrpc::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Ctx) -> Cancellable<T> + Send + 'static,
{
    let Ok(Some(snapshot)) = snapshot.await else {
        return Ok(default);
    };
    let joined = tokio::task::spawn_blocking(move || {
        let ctx = Ctx::new(&snapshot);
        let result = Cancelled::catch(AssertUnwindSafe(|| f(&ctx)));
        drop(ctx);
        drop(snapshot); // promptly: the worker may be waiting for it
        result
    })
    .await;
    match joined {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(_)) | Err(_)) => Err(jsonrpc::Error::request_cancelled()),
        Err(e) => Err(jsonrpc::Error {
            code: jsonrpc::ErrorCode::InternalError,
            message: format!("internal error: {e}").into(),
            data: None,
        }),
    }
}

/// A file's text and line index, from one snapshot.
type FileText = (Arc<str>, Arc<LineIndex>);

/// A snapshot with the texts it has looked up, for converting positions.
pub struct Ctx<'a> {
    pub analysis: &'a Analysis,
    pub uris: &'a UriMap,
    texts: RefCell<HashMap<String, Option<FileText>>>,
}

impl<'a> Ctx<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Self {
        Ctx {
            analysis: &snapshot.analysis,
            uris: &snapshot.uris,
            texts: RefCell::new(HashMap::new()),
        }
    }

    /// The root-relative path of a client path, when it lies inside the root.
    pub fn relative(&self, path: &Path) -> Option<String> {
        relative_path(self.analysis.root(), path)
    }

    fn text(&self, file: &str) -> Cancellable<Option<FileText>> {
        if let Some(entry) = self.texts.borrow().get(file) {
            return Ok(entry.clone());
        }
        let entry = match self.analysis.file_text(file) {
            Some(text) => self.analysis.line_index(file)?.map(|index| (text, index)),
            None => None,
        };
        self.texts
            .borrow_mut()
            .insert(file.to_owned(), entry.clone());
        Ok(entry)
    }

    /// The byte offset of a protocol position in `file`; `None` when the analysis has no text
    /// for it.
    pub fn offset(&self, file: &str, pos: lsp::Position) -> Cancellable<Option<u32>> {
        Ok(self.text(file)?.map(|(text, index)| {
            FileLines {
                text: &text,
                index: &index,
            }
            .offset(pos)
        }))
    }

    /// A byte range of `file` as a protocol range; 0:0 when the analysis has no text for it
    /// (a directory such as `vars/per-machine/x`, a file it does not read).
    pub fn range(&self, file: &str, range: TextRange) -> Cancellable<lsp::Range> {
        Ok(match self.text(file)? {
            Some((text, index)) => FileLines {
                text: &text,
                index: &index,
            }
            .range(range),
            None => lsp::Range::default(),
        })
    }

    pub fn location(&self, loc: &Location) -> Cancellable<Option<lsp::Location>> {
        let Some(uri) = self.uris.uri(&loc.file) else {
            return Ok(None);
        };
        Ok(Some(lsp::Location::new(
            uri,
            self.range(&loc.file, loc.range)?,
        )))
    }

    /// A diagnostic as it was published.
    pub fn diagnostic(&self, d: &Diagnostic) -> Cancellable<lsp::Diagnostic> {
        // Look up every file it names first; the conversion itself cannot fail.
        self.text(&d.location.file)?;
        for r in &d.related {
            self.text(&r.location.file)?;
        }
        let texts = self.texts.borrow();
        let mut lines = |file: &str| {
            texts
                .get(file)
                .and_then(|e| e.as_ref())
                .map(|(text, index)| FileLines { text, index })
        };
        Ok(convert::diagnostic(d, self.uris, &mut lines))
    }

    /// The root-relative path and byte offset of a position in a document.
    fn at(&self, path: &Path, pos: lsp::Position) -> Cancellable<Option<(String, u32)>> {
        let Some(rel) = self.relative(path) else {
            return Ok(None);
        };
        Ok(self.offset(&rel, pos)?.map(|offset| (rel, offset)))
    }

    fn locations<'l>(
        &self,
        locations: impl Iterator<Item = &'l Location>,
    ) -> Cancellable<Vec<lsp::Location>> {
        let mut out: Vec<lsp::Location> = Vec::new();
        for loc in locations {
            if let Some(l) = self.location(loc)? {
                if !out.contains(&l) {
                    out.push(l);
                }
            }
        }
        Ok(out)
    }
}

pub fn definition(
    ctx: &Ctx,
    path: &Path,
    pos: lsp::Position,
) -> Cancellable<Option<lsp::GotoDefinitionResponse>> {
    let Some((file, offset)) = ctx.at(path, pos)? else {
        return Ok(None);
    };
    let targets = ctx.analysis.definition(&file, offset)?;
    let locations = ctx.locations(targets.iter().map(|t| &t.location))?;
    Ok((!locations.is_empty()).then_some(lsp::GotoDefinitionResponse::Array(locations)))
}

pub fn references(
    ctx: &Ctx,
    path: &Path,
    pos: lsp::Position,
    include_declaration: bool,
) -> Cancellable<Option<Vec<lsp::Location>>> {
    let Some((file, offset)) = ctx.at(path, pos)? else {
        return Ok(None);
    };
    let targets = ctx
        .analysis
        .references(&file, offset, include_declaration)?;
    Ok(Some(ctx.locations(targets.iter().map(|t| &t.location))?))
}

pub fn hover(ctx: &Ctx, path: &Path, pos: lsp::Position) -> Cancellable<Option<lsp::Hover>> {
    let Some((file, offset)) = ctx.at(path, pos)? else {
        return Ok(None);
    };
    let Some(hover) = ctx.analysis.hover(&file, offset)? else {
        return Ok(None);
    };
    Ok(Some(lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: hover.markdown,
        }),
        range: Some(ctx.range(&file, hover.range)?),
    }))
}

pub fn completion_kind(kind: CompletionKind) -> lsp::CompletionItemKind {
    match kind {
        CompletionKind::Module => lsp::CompletionItemKind::MODULE,
        CompletionKind::Class => lsp::CompletionItemKind::CLASS,
        CompletionKind::Machine => lsp::CompletionItemKind::VALUE,
        CompletionKind::Tag => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::Role => lsp::CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Service => lsp::CompletionItemKind::INTERFACE,
        CompletionKind::Generator => lsp::CompletionItemKind::FUNCTION,
        CompletionKind::File => lsp::CompletionItemKind::FILE,
        CompletionKind::Option => lsp::CompletionItemKind::PROPERTY,
    }
}

pub fn completion(
    ctx: &Ctx,
    path: &Path,
    pos: lsp::Position,
) -> Cancellable<Option<lsp::CompletionResponse>> {
    let Some((file, offset)) = ctx.at(path, pos)? else {
        return Ok(None);
    };
    let items = ctx.analysis.completions(&file, offset)?;
    if items.is_empty() {
        return Ok(None);
    }
    // Replace what has been typed of the name (a quoted name replaces its opening quote too).
    let Some((text, _)) = ctx.text(&file)? else {
        return Ok(None);
    };
    let offset = (offset as usize).min(text.len());
    let start = replaced_start(&text, offset);
    let typed_quote = text[start..].starts_with('"');
    let range = ctx.range(&file, TextRange::new(start as u32, offset as u32))?;
    let items = items
        .into_iter()
        .map(|c: Completion| lsp::CompletionItem {
            kind: Some(completion_kind(c.kind)),
            detail: c.detail,
            insert_text: Some(c.insert.clone()),
            filter_text: Some(if typed_quote {
                c.insert.clone()
            } else {
                c.label.clone()
            }),
            text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
                range,
                new_text: c.insert,
            })),
            label: c.label,
            ..lsp::CompletionItem::default()
        })
        .collect();
    Ok(Some(lsp::CompletionResponse::Array(items)))
}

/// A quick fix for every diagnostic of the document overlapping `range` whose fix has edits.
pub fn code_actions(
    ctx: &Ctx,
    path: &Path,
    range: lsp::Range,
    only: Option<&[lsp::CodeActionKind]>,
) -> Cancellable<Option<lsp::CodeActionResponse>> {
    if let Some(only) = only {
        let wanted = only.iter().any(|k| {
            let k = k.as_str();
            k.is_empty() || lsp::CodeActionKind::QUICKFIX.as_str().starts_with(k)
        });
        if !wanted {
            return Ok(None);
        }
    }
    let Some(file) = ctx.relative(path) else {
        return Ok(None);
    };
    let (Some(start), Some(end)) = (
        ctx.offset(&file, range.start)?,
        ctx.offset(&file, range.end)?,
    ) else {
        return Ok(None);
    };
    let (start, end) = (start.min(end), start.max(end));
    let diagnostics = ctx.analysis.diagnostics()?;
    let mut actions = Vec::new();
    for d in diagnostics.iter() {
        if *d.location.file != *file || d.location.range.start > end || d.location.range.end < start
        {
            continue;
        }
        let Some(fix) = d.fix.as_ref().filter(|f| !f.edits.is_empty()) else {
            continue;
        };
        let mut changes: HashMap<lsp::Uri, Vec<lsp::TextEdit>> = HashMap::new();
        for edit in &fix.edits {
            let Some(uri) = ctx.uris.uri(&edit.file) else {
                continue;
            };
            changes.entry(uri).or_default().push(lsp::TextEdit {
                range: ctx.range(&edit.file, edit.range)?,
                new_text: edit.new_text.clone(),
            });
        }
        actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
            title: fix.message.clone(),
            kind: Some(lsp::CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![ctx.diagnostic(d)?]),
            edit: Some(lsp::WorkspaceEdit {
                changes: Some(changes),
                ..lsp::WorkspaceEdit::default()
            }),
            is_preferred: Some(true),
            ..lsp::CodeAction::default()
        }));
    }
    Ok(Some(actions))
}

pub fn symbol_kind(kind: SymbolKind) -> lsp::SymbolKind {
    match kind {
        SymbolKind::Module => lsp::SymbolKind::MODULE,
        SymbolKind::Machine => lsp::SymbolKind::STRUCT,
        SymbolKind::Instance => lsp::SymbolKind::OBJECT,
        SymbolKind::Generator => lsp::SymbolKind::FUNCTION,
        SymbolKind::Option => lsp::SymbolKind::PROPERTY,
        SymbolKind::Service => lsp::SymbolKind::INTERFACE,
        SymbolKind::Class => lsp::SymbolKind::NAMESPACE,
        SymbolKind::Role => lsp::SymbolKind::ENUM_MEMBER,
        SymbolKind::File => lsp::SymbolKind::FILE,
    }
}

fn symbols(ctx: &Ctx, symbols: Vec<Symbol>) -> Cancellable<Vec<lsp::SymbolInformation>> {
    let mut out = Vec::with_capacity(symbols.len());
    for s in symbols {
        let Some(location) = ctx.location(&s.location)? else {
            continue;
        };
        #[allow(deprecated)] // `deprecated` has no default outside `Default`
        out.push(lsp::SymbolInformation {
            name: s.name,
            kind: symbol_kind(s.kind),
            tags: None,
            deprecated: None,
            location,
            container_name: s.container,
        });
    }
    Ok(out)
}

/// `tree`: the client takes `DocumentSymbol` trees (else the flat list).
pub fn document_symbols(
    ctx: &Ctx,
    path: &Path,
    tree: bool,
) -> Cancellable<Option<lsp::DocumentSymbolResponse>> {
    let Some(file) = ctx.relative(path) else {
        return Ok(None);
    };
    if tree {
        let found = ctx.analysis.document_symbol_tree(&file)?;
        let mut out = Vec::with_capacity(found.len());
        for s in found {
            out.push(document_symbol(ctx, &file, s)?);
        }
        return Ok(Some(lsp::DocumentSymbolResponse::Nested(out)));
    }
    let found = ctx.analysis.document_symbols(&file)?;
    Ok(Some(lsp::DocumentSymbolResponse::Flat(symbols(
        ctx, found,
    )?)))
}

fn document_symbol(
    ctx: &Ctx,
    file: &str,
    s: infra_check_analysis::ide::symbols::SymbolTree,
) -> Cancellable<lsp::DocumentSymbol> {
    let mut children = Vec::with_capacity(s.children.len());
    for c in s.children {
        children.push(document_symbol(ctx, file, c)?);
    }
    #[allow(deprecated)] // `deprecated` has no default outside `Default`
    Ok(lsp::DocumentSymbol {
        name: s.name,
        detail: s.detail,
        kind: symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        range: ctx.range(file, s.range)?,
        selection_range: ctx.range(file, s.selection)?,
        children: (!children.is_empty()).then_some(children),
    })
}

pub fn workspace_symbols(
    ctx: &Ctx,
    query: &str,
) -> Cancellable<Option<lsp::WorkspaceSymbolResponse>> {
    let found = ctx.analysis.workspace_symbols(query)?;
    Ok(Some(lsp::WorkspaceSymbolResponse::Flat(symbols(
        ctx, found,
    )?)))
}

/// `textDocument/prepareRename`: the name at the cursor, or why it cannot be renamed.
pub fn prepare_rename(
    ctx: &Ctx,
    path: &Path,
    pos: lsp::Position,
) -> Cancellable<Result<Option<lsp::PrepareRenameResponse>, String>> {
    let Some((file, offset)) = ctx.at(path, pos)? else {
        return Ok(Ok(None));
    };
    Ok(match ctx.analysis.prepare_rename(&file, offset)? {
        Ok(Some(t)) => Ok(Some(lsp::PrepareRenameResponse::RangeWithPlaceholder {
            range: ctx.range(&file, t.range)?,
            placeholder: t.placeholder,
        })),
        Ok(None) => Ok(None),
        Err(refusal) => Err(refusal.0),
    })
}

/// `textDocument/rename`. With `resource_ops` (the client renames files) the edit is
/// `documentChanges`, text edits first and the directory renames after them; without, plain
/// `changes` (a rename that must move a directory is refused by the analysis).
pub fn rename(
    ctx: &Ctx,
    path: &Path,
    pos: lsp::Position,
    new_name: &str,
    resource_ops: bool,
) -> Cancellable<Result<Option<lsp::WorkspaceEdit>, String>> {
    let Some((file, offset)) = ctx.at(path, pos)? else {
        return Ok(Ok(None));
    };
    let edit = match ctx.analysis.rename(&file, offset, new_name, resource_ops)? {
        Ok(e) => e,
        Err(refusal) => return Ok(Err(refusal.0)),
    };
    let mut per_file: Vec<(lsp::Uri, Vec<lsp::TextEdit>)> = Vec::new();
    for f in &edit.files {
        let Some(uri) = ctx.uris.uri(&f.file) else {
            return Ok(Err(format!("{} has no file URI.", f.file)));
        };
        let mut edits = Vec::with_capacity(f.edits.len());
        for e in &f.edits {
            edits.push(lsp::TextEdit::new(
                ctx.range(&f.file, e.range)?,
                e.new_text.clone(),
            ));
        }
        per_file.push((uri, edits));
    }
    if !resource_ops {
        return Ok(Ok(Some(lsp::WorkspaceEdit {
            changes: Some(per_file.into_iter().collect()),
            ..lsp::WorkspaceEdit::default()
        })));
    }
    let mut ops: Vec<lsp::DocumentChangeOperation> = per_file
        .into_iter()
        .map(|(uri, edits)| {
            lsp::DocumentChangeOperation::Edit(lsp::TextDocumentEdit {
                text_document: lsp::OptionalVersionedTextDocumentIdentifier { uri, version: None },
                edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
            })
        })
        .collect();
    for p in &edit.paths {
        let (Some(old_uri), Some(new_uri)) = (ctx.uris.uri(&p.from), ctx.uris.uri(&p.to)) else {
            return Ok(Err(format!("{} has no file URI.", p.from)));
        };
        ops.push(lsp::DocumentChangeOperation::Op(lsp::ResourceOp::Rename(
            lsp::RenameFile {
                old_uri,
                new_uri,
                options: None,
                annotation_id: None,
            },
        )));
    }
    Ok(Ok(Some(lsp::WorkspaceEdit {
        document_changes: Some(lsp::DocumentChanges::Operations(ops)),
        ..lsp::WorkspaceEdit::default()
    })))
}

/// A refusal as the protocol's `RequestFailed`, its message shown to the user.
pub fn request_failed(message: String) -> jsonrpc::Error {
    jsonrpc::Error {
        code: jsonrpc::ErrorCode::ServerError(-32803),
        message: message.into(),
        data: None,
    }
}
