//! Plain-text output shared by the commands that print tables: aligned columns and counted
//! nouns.

/// The width of each column: its widest cell, the header included (in characters, not bytes,
/// so a name with `ü` lines up).
pub fn column_widths<'a, const N: usize>(
    header: &[&str; N],
    rows: impl IntoIterator<Item = &'a [String; N]>,
) -> [usize; N] {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    widths
}

/// One line: `indent`, then the cells padded to their column's width and separated by two
/// spaces, without trailing spaces.
pub fn push_row<S: AsRef<str>>(out: &mut String, indent: &str, cells: &[S], widths: &[usize]) {
    let mut line = String::from(indent);
    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
        let cell = cell.as_ref();
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        if i + 1 < cells.len() {
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// `1 machine`, `2 machines`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_characters_and_lines_have_no_trailing_spaces() {
        let rows = [
            ["jürgen".to_string(), "x".to_string()],
            ["a".into(), "".into()],
        ];
        let widths = column_widths(&["NAME", "V"], &rows);
        assert_eq!(widths, [6, 1]);
        let mut out = String::new();
        push_row(&mut out, "  ", &["NAME", "V"], &widths);
        for r in &rows {
            push_row(&mut out, "  ", r, &widths);
        }
        assert_eq!(out, "  NAME    V\n  jürgen  x\n  a\n");
        assert_eq!(plural(1, "file", "files"), "1 file");
        assert_eq!(plural(0, "file", "files"), "0 files");
    }
}
