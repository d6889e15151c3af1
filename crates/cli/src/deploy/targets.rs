//! Which machines a command acts on: names, `--tag` (every tag must match, as
//! `clan machines update --tags` does), or `--all`; each word checked against clan's name rule
//! before anything else happens, so nothing outside it can ever reach a command line.

use infra_check_analysis::clan::model::valid_machine_name;
use infra_check_analysis::clan::overview::Overview;

use crate::error::CliError;

/// What the command line asks for.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub machines: Vec<String>,
    pub tags: Vec<String>,
    pub all: bool,
}

/// Refuses any machine name or tag that clan's rules do not allow, naming it (escaped, so a
/// control character cannot hide). Runs before the repository is read.
pub fn check_words(wanted: &Wanted) -> Result<(), CliError> {
    for m in &wanted.machines {
        if !valid_machine_name(m) {
            return Err(CliError::Usage(format!(
                "{} is not a valid machine name: clan machine names are letters, digits and \
inner hyphens (at most 63 characters), so nothing was run. (A repository PATH must come first \
and exist.)",
                shown(m)
            )));
        }
    }
    for t in &wanted.tags {
        if !valid_tag(t) {
            return Err(CliError::Usage(format!(
                "{} is not a valid tag: tags are letters, digits, `-` and `_`, starting with a \
letter or digit, so nothing was run.",
                shown(t)
            )));
        }
    }
    Ok(())
}

/// A tag as the inventory's `tags` keys are written in practice; no leading `-` (it would read
/// as an option) and nothing a shell or Nix would interpret.
fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// A word from the command line for a message: in backticks, with anything unprintable escaped.
pub fn shown(word: &str) -> String {
    format!("`{}`", word.escape_debug())
}

/// The selected machines, in the order of `overview.machines` (by name); a usage error when
/// nothing is selected or a name is not a machine.
pub fn select(overview: &Overview, wanted: &Wanted) -> Result<Vec<String>, CliError> {
    if !overview.clan_core {
        return Err(CliError::Usage(
            "This flake has no clan-core input, so it is not a clan: infra-check deploys, builds \
and rolls back the machines of a clan (its inventory and `machines/<name>/`), and knows no \
machines here."
                .into(),
        ));
    }
    let names: Vec<String> = overview.machines.iter().map(|m| m.name.clone()).collect();
    if !wanted.all && wanted.machines.is_empty() && wanted.tags.is_empty() {
        return Err(CliError::Usage(
            "No machine was selected: name the machines, select them with `--tag`, or pass \
`--all` for every machine of the clan."
                .into(),
        ));
    }
    for m in &wanted.machines {
        if !names.contains(m) {
            let mut message = crate::suggest::unknown_machine_message(m, &names);
            if !overview.machines_complete {
                message.push_str(
                    " (The inventory could not be read in full, so a machine it defines in a way \
infra-check cannot follow is not known to it.)",
                );
            }
            return Err(CliError::Usage(message));
        }
    }
    let known_tags: Vec<String> = {
        let mut t: Vec<String> = overview
            .machines
            .iter()
            .flat_map(|m| m.tags.iter().cloned())
            .collect();
        t.sort();
        t.dedup();
        t
    };
    for t in &wanted.tags {
        if !known_tags.contains(t) && overview.tags_complete {
            let hint = crate::suggest::did_you_mean(&crate::suggest::closest(t, &known_tags));
            return Err(CliError::Usage(format!(
                "No machine has the tag `{t}`.{hint} Run `infra-check machines` to see every \
machine's tags."
            )));
        }
    }
    if !wanted.tags.is_empty() && !overview.tags_complete {
        return Err(CliError::Usage(
            "Some machine's tags cannot be known without evaluating the repository, so `--tag` \
could miss machines or select the wrong ones; name the machines instead."
                .into(),
        ));
    }
    let selected: Vec<String> = overview
        .machines
        .iter()
        .filter(|m| {
            wanted.all
                || wanted.machines.contains(&m.name)
                || (!wanted.tags.is_empty() && wanted.tags.iter().all(|t| m.tags.contains(t)))
        })
        .map(|m| m.name.clone())
        .collect();
    if selected.is_empty() && wanted.all {
        return Err(CliError::Usage(if overview.machines_complete {
            "`--all` selects nothing: this repository has no clan machines (no \
`clan.inventory.machines`, `clan.machines` or `machines/<name>/` directory infra-check can read)."
                .into()
        } else {
            "`--all` selects nothing: infra-check could not read any of the clan's machines \
without evaluating the repository; name the machines instead."
                .into()
        }));
    }
    if selected.is_empty() {
        let tags: Vec<String> = wanted.tags.iter().map(|t| format!("`{t}`")).collect();
        return Err(CliError::Usage(format!(
            "No machine has all of the tags {}: `--tag` selects the machines that have every tag \
given.",
            tags.join(", ")
        )));
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_words_outside_the_name_rules() {
        for bad in [
            "a;rm -rf /",
            "$(touch x)",
            "`x`",
            "-rf",
            "a\nb",
            "",
            "a b",
            "a/b",
        ] {
            let w = Wanted {
                machines: vec![bad.into()],
                ..Default::default()
            };
            assert!(check_words(&w).is_err(), "{bad:?}");
            let w = Wanted {
                tags: vec![bad.into()],
                ..Default::default()
            };
            assert!(check_words(&w).is_err(), "{bad:?}");
        }
        let w = Wanted {
            machines: vec!["argon".into(), "web-01".into()],
            tags: vec!["zt_peer".into(), "server".into()],
            all: false,
        };
        assert!(check_words(&w).is_ok());
        assert_eq!(shown("a\nb"), "`a\\nb`");
    }
}
