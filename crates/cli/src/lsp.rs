//! `infra-check lsp`: the language server on standard input and output.

use std::process::ExitCode;

use crate::error::CliError;

pub fn run() -> Result<ExitCode, CliError> {
    // The loader reads files on rayon's global pool.
    crate::threads::configure_rayon();
    infra_check_lsp::run_stdio().map_err(|e| {
        CliError::Io(format!(
            "The language server stopped because of an I/O error: {e}."
        ))
    })?;
    Ok(ExitCode::SUCCESS)
}
