//! Offset ↔ line/column conversion, the one place where byte offsets meet positions. The CLI
//! wants 1-based character columns, the language server 0-based UTF-16 columns; both come from
//! the same table of line starts.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r`, as the Language Server Protocol counts them (and
//! editors show them). Every conversion clamps instead of failing: an offset inside a character
//! or past the end, a column past the end of its line (or inside its line terminator), a line
//! past the last one, a column between the two UTF-16 units of a surrogate pair: each maps to
//! the nearest place before it that exists (the end of the line, the end of the file, the start
//! of the character).

use crate::diagnostic::TextRange;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset at which each line starts; always begins with 0.
    line_starts: Vec<u32>,
    len: u32,
}

/// A zero-based line and a zero-based column counted in the unit the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends_line {
                line_starts.push(i as u32 + 1);
            }
        }
        LineIndex {
            line_starts,
            len: text.len() as u32,
        }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The byte offset at which zero-based `line` starts, if the text has that line.
    pub fn line_start(&self, line: usize) -> Option<u32> {
        self.line_starts.get(line).copied()
    }

    /// The length that is safe to use with `text` (the text this index was built from).
    fn len(&self, text: &str) -> usize {
        (self.len as usize).min(text.len())
    }

    /// `offset` clamped to the text and moved back to the start of the character it is in.
    fn clamp(&self, text: &str, offset: u32) -> usize {
        let mut o = (offset as usize).min(self.len(text));
        while o > 0 && !text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// The byte range of a line's text, without its terminator.
    fn line_span(&self, text: &str, line: usize) -> (usize, usize) {
        let len = self.len(text);
        let start = (self.line_starts[line] as usize).min(len);
        let next = self
            .line_starts
            .get(line + 1)
            .map_or(len, |&s| (s as usize).min(len))
            .max(start);
        let bytes = &text.as_bytes()[start..next];
        let end = if bytes.ends_with(b"\r\n") {
            next - 2
        } else if bytes.ends_with(b"\n") || bytes.ends_with(b"\r") {
            next - 1
        } else {
            next
        };
        (start, end)
    }

    /// The line of `offset` and the text of that line before it (clamped to the line's text).
    fn before<'t>(&self, text: &'t str, offset: u32) -> (usize, &'t str) {
        let offset = self.clamp(text, offset);
        let line = self.line_of(offset);
        let (start, end) = self.line_span(text, line);
        (line, text.get(start..offset.min(end)).unwrap_or(""))
    }

    /// Zero-based line and zero-based column in Unicode scalar values.
    pub fn line_col_chars(&self, text: &str, offset: u32) -> LineCol {
        let (line, before) = self.before(text, offset);
        LineCol {
            line: line as u32,
            col: before.chars().count() as u32,
        }
    }

    /// Zero-based line and zero-based column in UTF-16 code units (the LSP default).
    pub fn line_col_utf16(&self, text: &str, offset: u32) -> LineCol {
        let (line, before) = self.before(text, offset);
        LineCol {
            line: line as u32,
            col: before.encode_utf16().count() as u32,
        }
    }

    /// The byte offset of a zero-based line and UTF-16 column. Always a character boundary of
    /// `text`; out-of-range positions clamp (see the module documentation).
    pub fn offset_utf16(&self, text: &str, pos: LineCol) -> u32 {
        let raw = self.raw_offset_utf16(text, pos);
        // A boundary already, unless `text` is not the text this index was built from.
        self.clamp(text, raw as u32) as u32
    }

    fn raw_offset_utf16(&self, text: &str, pos: LineCol) -> usize {
        let line = pos.line as usize;
        if line >= self.line_starts.len() {
            return self.len(text);
        }
        let (start, end) = self.line_span(text, line);
        let mut units = 0u32;
        for (i, c) in text.get(start..end).unwrap_or("").char_indices() {
            let width = c.len_utf16() as u32;
            if units + width > pos.col {
                return start + i;
            }
            units += width;
        }
        end
    }

    /// The byte range of two UTF-16 positions, in order.
    pub fn range_utf16(&self, text: &str, a: LineCol, b: LineCol) -> TextRange {
        let (a, b) = (self.offset_utf16(text, a), self.offset_utf16(text, b));
        TextRange::new(a.min(b), a.max(b))
    }

    /// The text of a zero-based line without its line terminator.
    pub fn line_text<'t>(&self, text: &'t str, line: u32) -> &'t str {
        if line as usize >= self.line_starts.len() {
            return "";
        }
        let (start, end) = self.line_span(text, line as usize);
        text.get(start..end).unwrap_or("")
    }

    pub fn range_chars(&self, text: &str, range: TextRange) -> (LineCol, LineCol) {
        (
            self.line_col_chars(text, range.start),
            self.line_col_chars(text, range.end),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_and_utf16_units() {
        let text = "ab\nx😀y\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col_chars(text, 0), LineCol { line: 0, col: 0 });
        assert_eq!(idx.line_col_chars(text, 3), LineCol { line: 1, col: 0 });
        // after the emoji: 1 + 1 chars, 1 + 2 utf16 units
        assert_eq!(idx.line_col_chars(text, 8), LineCol { line: 1, col: 2 });
        assert_eq!(idx.line_col_utf16(text, 8), LineCol { line: 1, col: 3 });
        assert_eq!(idx.offset_utf16(text, LineCol { line: 1, col: 3 }), 8);
        assert_eq!(idx.line_text(text, 1), "x😀y");
        // offsets inside a multi-byte char and past the end clamp instead of panicking
        assert_eq!(idx.line_col_chars(text, 5), LineCol { line: 1, col: 1 });
        assert_eq!(idx.line_col_chars(text, 999).line, 2);
    }

    fn lc(line: u32, col: u32) -> LineCol {
        LineCol { line, col }
    }

    #[test]
    fn positions_clamp_to_what_exists() {
        // `é` is 2 bytes and 1 unit, `😀` 4 bytes and 2 units, `中` 3 bytes and 1 unit.
        let text = "é😀中\r\nx\ry\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.line_text(text, 0), "é😀中");
        assert_eq!(idx.line_text(text, 1), "x");
        assert_eq!(idx.line_text(text, 2), "y");
        assert_eq!(idx.line_text(text, 3), "");
        assert_eq!(idx.line_text(text, 9), "");
        let at = |line, col| idx.offset_utf16(text, lc(line, col));
        assert_eq!(at(0, 0), 0);
        assert_eq!(at(0, 1), 2);
        assert_eq!(
            at(0, 2),
            6 - 4,
            "inside the surrogate pair: the start of the emoji"
        );
        assert_eq!(at(0, 3), 6);
        assert_eq!(at(0, 4), 9, "the end of the line, before `\\r\\n`");
        assert_eq!(at(0, 99), 9);
        assert_eq!(at(1, 0), 11);
        assert_eq!(at(1, 5), 12, "before the lone `\\r`");
        assert_eq!(at(2, 0), 13);
        assert_eq!(at(3, 0), 15);
        assert_eq!(at(3, 7), 15);
        assert_eq!(at(99, 0), 15, "past the last line: the end of the file");
        // And back: every byte offset, including those inside characters and terminators.
        let pos = |offset| idx.line_col_utf16(text, offset);
        assert_eq!(pos(0), lc(0, 0));
        assert_eq!(pos(1), lc(0, 0), "inside `é`");
        assert_eq!(pos(3), lc(0, 1), "inside the emoji");
        assert_eq!(pos(6), lc(0, 3));
        assert_eq!(pos(9), lc(0, 4));
        assert_eq!(pos(10), lc(0, 4), "between `\\r` and `\\n`");
        assert_eq!(pos(11), lc(1, 0));
        assert_eq!(pos(12), lc(1, 1));
        assert_eq!(pos(13), lc(2, 0));
        assert_eq!(pos(15), lc(3, 0));
        assert_eq!(pos(u32::MAX), lc(3, 0));
        assert_eq!(idx.line_col_chars(text, 9), lc(0, 3));
        for offset in 0..=text.len() as u32 + 2 {
            let p = pos(offset);
            let back = idx.offset_utf16(text, p);
            assert!(text.is_char_boundary(back as usize));
            assert_eq!(pos(back), p, "offset {offset}");
        }
        assert_eq!(
            idx.range_utf16(text, lc(1, 1), lc(0, 1)),
            TextRange::new(2, 12)
        );
    }

    #[test]
    fn a_text_that_is_not_the_indexed_one_never_panics() {
        let idx = LineIndex::new("a\nbb\nccc\n");
        for text in ["", "é", "😀😀😀😀", "x\r\n"] {
            for line in 0..5 {
                for col in 0..5 {
                    let o = idx.offset_utf16(text, lc(line, col));
                    assert!(text.is_char_boundary(o as usize));
                    let _ = idx.line_text(text, line);
                }
            }
            for o in 0..12 {
                let _ = idx.line_col_utf16(text, o);
                let _ = idx.line_col_chars(text, o);
            }
        }
    }
}
