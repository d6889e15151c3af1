//! Writing the rendered report to standard output. A reader that goes away early (`| head`)
//! is not an error: the write stops quietly instead of panicking like `print!` would.

use std::io::{BufWriter, ErrorKind, Write};

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

/// Streams a report to standard output through `write`, so that a large one is never held in
/// memory as a whole. A broken pipe is treated as success.
pub fn stream(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), CliError> {
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Io(format!(
            "The output could not be written to standard output: {e}."
        ))),
    }
}

/// Writes `value` as pretty-printed JSON and a newline, keeping an I/O error's kind (so that a
/// broken pipe stays recognisable).
pub fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => std::io::Error::new(kind, e),
        None => std::io::Error::other(e),
    })?;
    out.write_all(b"\n")
}

/// What `write` streams, as a string (for tests).
#[cfg(test)]
pub fn to_string(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> String {
    let mut text = Vec::new();
    write(&mut text).expect("writing to memory cannot fail");
    String::from_utf8(text).expect("reports are UTF-8")
}

/// Writes `text` to `path` through a temporary file next to it, so that a failed write never
/// leaves half a file behind and a reader sees the old text or the new. `what` names the
/// text in messages (`The option catalog`).
pub fn write_atomically(path: &std::path::Path, text: &str, what: &str) -> Result<(), CliError> {
    let failed = |e: std::io::Error| {
        CliError::Io(format!(
            "{what} could not be written to `{}`: {e}.",
            path.display()
        ))
    };
    let Some(file_name) = path.file_name() else {
        return Err(CliError::Usage(format!(
            "`{}` is not a file name to write {} to.",
            path.display(),
            what.to_lowercase()
        )));
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    std::fs::write(&temp, text).map_err(failed)?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        failed(e)
    })
}
