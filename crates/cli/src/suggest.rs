//! Did-you-mean for names the user types on the command line (machines, codes).

/// Up to three of `names` that look like `wanted`, best first: close in edits (a
/// transposition is one edit, as in the analyzer's own suggestions) or similar by Jaro-Winkler.
pub fn closest<'a>(wanted: &str, names: &'a [String]) -> Vec<&'a str> {
    let budget = (wanted.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, f64, &str)> = names
        .iter()
        .map(|n| {
            (
                strsim::damerau_levenshtein(wanted, n),
                strsim::jaro_winkler(wanted, n),
                n.as_str(),
            )
        })
        .filter(|(edits, similarity, _)| *edits <= budget || *similarity >= 0.8)
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(b.2)));
    scored.into_iter().take(3).map(|(_, _, n)| n).collect()
}

/// ` Did you mean `a`?` / ` Did you mean `a`, `b` or `c`?`, or nothing.
pub fn did_you_mean(suggestions: &[&str]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!(" Did you mean `{one}`?"),
        [init @ .., last] => format!(
            " Did you mean {} or `{last}`?",
            init.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The sentence for a `--machine` that names no machine of the clan.
pub fn unknown_machine_message(wanted: &str, names: &[String]) -> String {
    if names.is_empty() {
        return format!("`{wanted}` is not a machine of this clan: it has no machines.");
    }
    let hint = did_you_mean(&closest(wanted, names));
    format!(
        "`{wanted}` is not a machine of this clan.{hint} Run `infra-check machines` to list them."
    )
}
