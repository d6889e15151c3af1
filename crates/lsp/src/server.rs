//! The protocol side: a `LanguageServer` whose handlers only translate parameters and hand
//! them to the worker (see [`crate::worker`]), synchronously, before their first `.await`.
//! Requests ask the worker for a snapshot the same way, then run on the blocking pool (see
//! [`crate::features`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Mutex;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::convert::uri_to_path;
use crate::features;
use crate::worker::{self, Msg, Out, Snapshot};

/// The infra-check language server. Build it with [`crate::build_service`].
pub struct Server {
    client: Client,
    tx: Sender<Msg>,
    /// Taken by `initialize`, which starts the worker thread.
    worker_parts: Mutex<Option<(Receiver<Msg>, UnboundedSender<Out>)>>,
    /// Taken by `initialized`, which starts the publisher: the client only accepts
    /// notifications once it has the `initialize` response.
    publisher_rx: Mutex<Option<UnboundedReceiver<Out>>>,
    watch_files: AtomicBool,
    /// The client's `window.workDoneProgress`.
    work_done_progress: AtomicBool,
    /// The client's `workspace.workspaceEdit.resourceOperations` includes `rename`.
    rename_files: AtomicBool,
    /// The client's `textDocument.documentSymbol.hierarchicalDocumentSymbolSupport`.
    symbol_tree: AtomicBool,
}

impl Server {
    pub fn new(client: Client) -> Self {
        let (tx, rx) = mpsc::channel();
        let (out_tx, out_rx) = unbounded_channel();
        Server {
            client,
            tx,
            worker_parts: Mutex::new(Some((rx, out_tx))),
            publisher_rx: Mutex::new(Some(out_rx)),
            watch_files: AtomicBool::new(false),
            work_done_progress: AtomicBool::new(false),
            rename_files: AtomicBool::new(false),
            symbol_tree: AtomicBool::new(false),
        }
    }

    /// Hands a message to the worker. Never blocks; call it before any `.await`.
    fn send(&self, msg: Msg) {
        // The worker only stops after `shutdown`; later messages have nowhere to go.
        let _ = self.tx.send(msg);
    }

    /// Asks the worker for a snapshot of the current revision. Never blocks; call it before any
    /// `.await`, so the snapshot includes every change the client sent before the request.
    fn snapshot(&self) -> tokio::sync::oneshot::Receiver<Option<Snapshot>> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.send(Msg::Snapshot { reply });
        rx
    }

    async fn not_a_file(&self, uri: &Uri) {
        self.client
            .log_message(
                MessageType::LOG,
                format!("ignoring {}: not a file: URI", uri.as_str()),
            )
            .await;
    }
}

fn workspace_roots(params: &InitializeParams) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| uri_to_path(&f.uri))
        .collect();
    #[allow(deprecated)] // still the only root older clients send
    if let Some(path) = params.root_uri.as_ref().and_then(uri_to_path) {
        if !roots.contains(&path) {
            roots.push(path);
        }
    }
    roots
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                // Ranged changes: a keystroke sends what changed, not the whole file.
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), "\"".into()]),
            ..CompletionOptions::default()
        }),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

impl Drop for Server {
    /// The worker may hold a sender to itself (for the disk watch), so it is told to stop
    /// rather than left to notice that every sender is gone.
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Shutdown);
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let roots = workspace_roots(&params);
        let dynamic_watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.watch_files.store(dynamic_watch, Ordering::Relaxed);
        let progress = params
            .capabilities
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false);
        self.work_done_progress.store(progress, Ordering::Relaxed);
        let caps = &params.capabilities;
        let rename_files = caps
            .workspace
            .as_ref()
            .and_then(|w| w.workspace_edit.as_ref())
            .filter(|e| e.document_changes == Some(true))
            .and_then(|e| e.resource_operations.as_ref())
            .is_some_and(|ops| ops.contains(&ResourceOperationKind::Rename));
        self.rename_files.store(rename_files, Ordering::Relaxed);
        let symbol_tree = caps
            .text_document
            .as_ref()
            .and_then(|t| t.document_symbol.as_ref())
            .and_then(|d| d.hierarchical_document_symbol_support)
            .unwrap_or(false);
        self.symbol_tree.store(symbol_tree, Ordering::Relaxed);
        let parts = self.worker_parts.lock().unwrap().take();
        if let Some((rx, out)) = parts {
            let handle = tokio::runtime::Handle::current();
            if let Err(e) = worker::spawn(rx, self.tx.clone(), out, handle) {
                return Err(tower_lsp_server::jsonrpc::Error {
                    code: tower_lsp_server::jsonrpc::ErrorCode::InternalError,
                    message: format!("cannot start the worker thread: {e}").into(),
                    data: None,
                });
            }
        }
        if !dynamic_watch {
            // Before `Init`, so the watch begins with the load (see `Worker::begin_disk_watch`).
            self.send(Msg::WatchDisk(self.tx.clone()));
        }
        // Loading happens on the worker thread; documents opened meanwhile queue behind it.
        self.send(Msg::Init { roots });
        Ok(InitializeResult {
            capabilities: capabilities(),
            server_info: Some(ServerInfo {
                name: "infra-check".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let rx = self.publisher_rx.lock().unwrap().take();
        if let Some(rx) = rx {
            let progress = self.work_done_progress.load(Ordering::Relaxed);
            tokio::spawn(worker::publish(self.client.clone(), rx, progress));
        }
        if self.watch_files.load(Ordering::Relaxed) {
            let client = self.client.clone();
            let tx = self.tx.clone();
            tokio::spawn(async move { register_watchers(client, tx).await });
        }
    }

    async fn shutdown(&self) -> Result<()> {
        self.send(Msg::Shutdown);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let Some(path) = uri_to_path(&doc.uri) else {
            return self.not_a_file(&doc.uri).await;
        };
        self.send(Msg::Open {
            path,
            uri: doc.uri,
            version: doc.version,
            text: doc.text,
        });
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let Some(path) = uri_to_path(&params.text_document.uri) else {
            return;
        };
        self.send(Msg::Change {
            path,
            version: params.text_document.version,
            changes: params.content_changes,
        });
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        if let Some(path) = uri_to_path(&params.text_document.uri) {
            self.send(Msg::Save { path });
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        if let Some(path) = uri_to_path(&params.text_document.uri) {
            self.send(Msg::Close { path });
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let changes = params
            .changes
            .into_iter()
            .filter_map(|c| Some((uri_to_path(&c.uri)?, c.typ)))
            .collect();
        self.send(Msg::Watched { changes });
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        let Some(path) = uri_to_path(&at.text_document.uri) else {
            return Ok(None);
        };
        let snapshot = self.snapshot();
        features::run(snapshot, None, move |ctx| {
            features::definition(ctx, &path, at.position)
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = params.text_document_position;
        let Some(path) = uri_to_path(&at.text_document.uri) else {
            return Ok(None);
        };
        let include_declaration = params.context.include_declaration;
        let snapshot = self.snapshot();
        features::run(snapshot, None, move |ctx| {
            features::references(ctx, &path, at.position, include_declaration)
        })
        .await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        let Some(path) = uri_to_path(&at.text_document.uri) else {
            return Ok(None);
        };
        let snapshot = self.snapshot();
        features::run(snapshot, None, move |ctx| {
            features::hover(ctx, &path, at.position)
        })
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = params.text_document_position;
        let Some(path) = uri_to_path(&at.text_document.uri) else {
            return Ok(None);
        };
        let snapshot = self.snapshot();
        features::run(snapshot, None, move |ctx| {
            features::completion(ctx, &path, at.position)
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some(path) = uri_to_path(&params.text_document.uri) else {
            return Ok(None);
        };
        let range = params.range;
        let only = params.context.only;
        let snapshot = self.snapshot();
        features::run(snapshot, None, move |ctx| {
            features::code_actions(ctx, &path, range, only.as_deref())
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some(path) = uri_to_path(&params.text_document.uri) else {
            return Ok(None);
        };
        let tree = self.symbol_tree.load(Ordering::Relaxed);
        let snapshot = self.snapshot();
        features::run(snapshot, None, move |ctx| {
            features::document_symbols(ctx, &path, tree)
        })
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let Some(path) = uri_to_path(&params.text_document.uri) else {
            return Ok(None);
        };
        let snapshot = self.snapshot();
        features::run(snapshot, Ok(None), move |ctx| {
            features::prepare_rename(ctx, &path, params.position)
        })
        .await?
        .map_err(features::request_failed)
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = params.text_document_position;
        let Some(path) = uri_to_path(&at.text_document.uri) else {
            return Ok(None);
        };
        let resource_ops = self.rename_files.load(Ordering::Relaxed);
        let snapshot = self.snapshot();
        features::run(snapshot, Ok(None), move |ctx| {
            features::rename(ctx, &path, at.position, &params.new_name, resource_ops)
        })
        .await?
        .map_err(features::request_failed)
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let query = params.query;
        let snapshot = self.snapshot();
        features::run(snapshot, None, move |ctx| {
            features::workspace_symbols(ctx, &query)
        })
        .await
    }
}

/// Asks the client to watch the files whose creation, deletion or change matters: every
/// creation and deletion (the disk tree: vars, sops, machine directories), everything under
/// `vars/` and `sops/` (a secret's encryption is read from it), and changes to the files whose
/// text is read.
/// When the client refuses, the server watches the disk itself.
async fn register_watchers(client: Client, tx: Sender<Msg>) {
    let watcher = |glob: &str, kind: WatchKind| FileSystemWatcher {
        glob_pattern: GlobPattern::String(glob.into()),
        kind: Some(kind),
    };
    let all = WatchKind::Create | WatchKind::Change | WatchKind::Delete;
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![
            watcher("**/*", WatchKind::Create | WatchKind::Delete),
            watcher("**/*.nix", WatchKind::Change),
            watcher("**/vars/**", all),
            watcher("**/sops/**", all),
            watcher("**/flake.lock", all),
            watcher("**/infra-check.toml", all),
            watcher("**/inventory.json", all),
        ],
    };
    let registration = Registration {
        id: "infra-check-watched-files".into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(options).ok(),
    };
    if let Err(e) = client.register_capability(vec![registration]).await {
        client
            .log_message(
                MessageType::WARNING,
                format!("could not register file watchers ({e}); watching the disk instead"),
            )
            .await;
        let _ = tx.send(Msg::WatchDisk(tx.clone()));
    }
}
