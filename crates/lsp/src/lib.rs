//! The infra-check language server: tower-lsp-server on top of `infra-check-analysis`.
//!
//! This crate only translates between the protocol and plain analysis data:
//! - [`server`]: the protocol handlers. They hand every document change to the worker over one
//!   ordered channel before their first `.await`, so changes apply in the client's order even
//!   though tower-lsp-server runs up to four handlers at once.
//! - [`worker`]: one thread owns the `AnalysisHost`, applies changes, and re-checks on a
//!   snapshot in the blocking pool; one task publishes the results, newest generation only.
//! - [`features`]: the requests (definition, references, hover, completion, code actions,
//!   symbols), each on a snapshot the worker hands out, on the blocking pool.
//! - [`watch`]: for a client that does not watch files, the server watches the workspace on
//!   disk itself and hands debounced batches to the worker as if the client had sent them.
//! - [`convert`]: URIs ↔ root-relative paths, byte ranges → UTF-16 positions, diagnostics.
//! - [`transport`]: stdin/stdout, through [`framing`] and [`message`], which answer malformed
//!   messages themselves so that tower-lsp-server only ever sees well-formed ones.
//!
//! Nothing here writes to stdout except the protocol itself; logging goes through
//! `window/logMessage`.

pub mod convert;
pub mod features;
pub mod framing;
pub mod message;
pub mod server;
pub mod transport;
pub mod watch;
pub mod worker;

use std::time::Duration;

pub use server::Server;
pub use tower_lsp_server::{ClientSocket, LspService};

/// The service and the socket of messages to the client, for a transport or a test to drive.
pub fn build_service() -> (LspService<Server>, ClientSocket) {
    LspService::new(Server::new)
}

/// Serves the language server on stdin/stdout until the client says `exit` (or closes stdin).
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("infra-check-lsp")
        // Checks and requests run on blocking threads: give every thread the stack the
        // analyzer's limits are sized for, and say so, so queries run there directly.
        .thread_stack_size(infra_check_analysis::stack::MIN_STACK)
        .on_thread_start(infra_check_analysis::stack::assume_min_stack)
        .enable_all()
        .build()?;
    runtime.block_on(transport::serve(tokio::io::stdin(), tokio::io::stdout()));
    // The blocking stdin reader may still wait for input that never comes.
    runtime.shutdown_timeout(Duration::from_millis(200));
    Ok(())
}
