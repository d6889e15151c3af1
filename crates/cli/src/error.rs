//! The errors that end a command early. Each carries a full sentence for the user; all of them
//! exit with code 2 ("usage or I/O error"), distinct from 1 ("findings").

use std::io::Write;
use std::process::ExitCode;

/// Exit code for a usage or I/O error.
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug)]
pub enum CliError {
    /// The command line asks for something that cannot be done.
    Usage(String),
    /// Reading the repository or writing the output failed, or the analysis could not finish.
    Io(String),
}

impl CliError {
    pub fn message(&self) -> &str {
        match self {
            CliError::Usage(m) | CliError::Io(m) => m,
        }
    }

    /// Prints the message to standard error and returns exit code 2.
    pub fn report(&self) -> ExitCode {
        let mut stderr = std::io::stderr().lock();
        // If standard error is gone too there is nobody left to tell.
        let _ = writeln!(stderr, "error: {}", self.message());
        ExitCode::from(EXIT_ERROR)
    }
}
