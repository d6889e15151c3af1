//! The text edits quick fixes make.

use crate::diagnostic::{Location, TextEdit};
use crate::summary::attr_display;

/// What a bare name in the source may be replaced with.
#[derive(Clone, Copy)]
pub(super) enum BareName {
    /// An attribute key: a name that needs quoting may be written quoted.
    Key,
    /// Possibly an identifier (a `with` list entry): only another bare name will do.
    Identifier,
}

/// An edit replacing the name `old`, written at `loc`, with `new`: when the span is exactly the
/// name, bare (its length is the name's) or as a plain string (two longer). `None` for any
/// other span, e.g. a string with escapes or interpolation.
pub(super) fn rename_edit(
    loc: &Location,
    old: &str,
    new: &str,
    bare: BareName,
) -> Option<TextEdit> {
    let len = loc.range.len() as usize;
    let new_text = if len == old.len() {
        let display = attr_display(new);
        if matches!(bare, BareName::Identifier) && display.starts_with('"') {
            return None;
        }
        display
    } else if len == old.len() + 2 {
        format!("\"{new}\"")
    } else {
        return None;
    };
    Some(TextEdit {
        file: loc.file.to_string(),
        range: loc.range,
        new_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::TextRange;

    fn at(len: u32) -> Location {
        Location {
            file: "m.nix".into(),
            range: TextRange::new(10, 10 + len),
        }
    }

    fn text(edit: Option<TextEdit>) -> Option<String> {
        edit.map(|e| e.new_text)
    }

    #[test]
    fn a_bare_name_becomes_bare_or_quoted_as_the_site_allows() {
        assert_eq!(
            text(rename_edit(&at(3), "wbe", "web", BareName::Key)).as_deref(),
            Some("web")
        );
        assert_eq!(
            text(rename_edit(&at(3), "wbe", "web/1", BareName::Key)).as_deref(),
            Some("\"web/1\"")
        );
        assert_eq!(
            text(rename_edit(&at(3), "wbe", "web/1", BareName::Identifier)),
            None
        );
    }

    #[test]
    fn a_plain_string_stays_a_string_and_other_spans_get_no_edit() {
        assert_eq!(
            text(rename_edit(&at(5), "wbe", "web/1", BareName::Identifier)).as_deref(),
            Some("\"web/1\"")
        );
        // `"w${x}"`: the span is neither the name nor the name in quotes.
        assert_eq!(text(rename_edit(&at(9), "wbe", "web", BareName::Key)), None);
    }
}
