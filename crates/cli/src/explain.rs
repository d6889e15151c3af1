//! `infra-check explain`: prints what a diagnostic code means, or lists every code.

use std::process::ExitCode;

use infra_check_analysis::codes::{self, CodeInfo, CODES};

use crate::error::CliError;

/// Prints the code, its default severity, its summary and its explanation.
pub fn explain(code: &str) -> Result<ExitCode, CliError> {
    let wanted = code.trim();
    let Some(info) = codes::lookup(wanted).or_else(|| codes::lookup(&wanted.to_lowercase())) else {
        return Err(CliError::Usage(unknown_code_message(wanted)));
    };
    crate::output::emit(&explanation(info))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints one line per code: code, default severity, summary.
pub fn list() -> Result<ExitCode, CliError> {
    crate::output::emit(&listing())?;
    Ok(ExitCode::SUCCESS)
}

fn explanation(info: &CodeInfo) -> String {
    format!(
        "{} (default severity: {})\n\n{}\n\n{}\n",
        info.code,
        info.severity.as_str(),
        info.summary,
        info.explanation
    )
}

fn listing() -> String {
    let code_width = CODES.iter().map(|c| c.code.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in CODES {
        out.push_str(&format!(
            "{:code_width$}  {:7}  {}\n",
            c.code,
            c.severity.as_str(),
            c.summary
        ));
    }
    out
}

fn unknown_code_message(code: &str) -> String {
    let suggestions = closest_codes(code);
    let hint = crate::suggest::did_you_mean(&suggestions);
    format!(
        "`{code}` is not an infra-check diagnostic code.{hint} Run `infra-check explain --list` \
to see every code."
    )
}

/// Up to three known codes that look like `code`, best first. A match on the part after the
/// `/` counts too, so `parse-error` finds `syntax/parse-error`.
fn closest_codes(code: &str) -> Vec<&'static str> {
    let code = code.to_lowercase();
    let mut scored: Vec<(f64, &'static str)> = CODES
        .iter()
        .map(|c| {
            let full = strsim::jaro_winkler(&code, c.code);
            let name = c.code.split_once('/').map_or(c.code, |(_, n)| n);
            let short = strsim::jaro_winkler(&code, name);
            (full.max(short), c.code)
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_near_codes() {
        assert_eq!(
            closest_codes("syntax/parse-eror").first(),
            Some(&"syntax/parse-error")
        );
        assert_eq!(
            closest_codes("parse-error").first(),
            Some(&"syntax/parse-error")
        );
        assert!(closest_codes("zzzzzzzz").is_empty());
    }

    #[test]
    fn listing_has_every_code() {
        let text = listing();
        assert_eq!(text.lines().count(), CODES.len());
        for c in CODES {
            assert!(text.contains(c.code));
        }
    }
}
