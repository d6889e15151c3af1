//! Writing the rendered report to standard output. A reader that goes away early (`| head`)
//! is not an error: the write stops quietly instead of panicking like `print!` would.

use std::io::{ErrorKind, Write};

use crate::error::CliError;

/// Writes `text` to standard output and flushes it. A broken pipe is treated as success.
pub fn emit(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Io(format!(
            "The output could not be written to standard output: {e}."
        ))),
    }
}
