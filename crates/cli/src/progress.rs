//! Progress messages on standard error, shown only when standard error is a terminal so that
//! logs and pipes stay clean. Each message replaces the previous one on the same line.

use std::io::{IsTerminal, Write};

pub struct Progress {
    enabled: bool,
    shown: bool,
}

impl Progress {
    /// A progress line that is shown only when standard error is a terminal.
    pub fn stderr() -> Self {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    /// Replaces the current progress message with `message`.
    pub fn set(&mut self, message: &str) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        // Progress is decoration: failing to show it is not worth reporting.
        let _ = write!(err, "\r\x1b[2K{message}");
        let _ = err.flush();
        self.shown = true;
    }

    /// Removes the progress line so the report starts on a clean line.
    pub fn finish(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
