//! Whether direnv will load the repository's `.envrc`, asked of direnv itself (`direnv
//! status`), which reads the allow list without running the file.

use std::path::Path;
use std::process::{Command, Stdio};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Allowed,
    Blocked,
    /// direnv's answer could not be read; the run finds out when the first command starts.
    Unknown,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Allowed => "allowed",
            Status::Blocked => "blocked",
            Status::Unknown => "unknown",
        }
    }
}

pub fn status(root: &Path) -> Status {
    let Some(direnv) = crate::programs::find("direnv") else {
        return Status::Unknown;
    };
    let output = Command::new(direnv)
        .arg("status")
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match output {
        Ok(o) => parse(&String::from_utf8_lossy(&o.stdout)),
        Err(_) => Status::Unknown,
    }
}

/// `Found RC allowed true|false` (direnv ≤ 2.32) or `Found RC allowed 0|1|2` (later: 0 is
/// allowed, 1 not allowed, 2 denied).
fn parse(text: &str) -> Status {
    for line in text.lines() {
        if let Some(v) = line.trim().strip_prefix("Found RC allowed ") {
            return match v.trim() {
                "true" | "0" => Status::Allowed,
                "false" | "1" | "2" => Status::Blocked,
                _ => Status::Unknown,
            };
        }
    }
    Status::Unknown
}

/// `consequence`: what it means for this command, as a clause (", so nothing was run").
pub fn blocked_message(root: &Path, consequence: &str) -> String {
    format!(
        "direnv will not load `{}`: it is blocked (new or changed since it was last \
allowed){consequence}. Read it, and if you trust it run `direnv allow {}`; infra-check never \
allows it for you.",
        root.join(".envrc").display(),
        root.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_status_formats() {
        assert_eq!(
            parse("Found RC path /r/.envrc\nFound RC allowed true\n"),
            Status::Allowed
        );
        assert_eq!(parse("Found RC allowed false\n"), Status::Blocked);
        assert_eq!(parse("Found RC allowed 0\n"), Status::Allowed);
        assert_eq!(parse("Found RC allowed 2\n"), Status::Blocked);
        assert_eq!(parse("No .envrc or .env loaded\n"), Status::Unknown);
    }
}
