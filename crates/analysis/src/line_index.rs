//! Offset ↔ line/column conversion. The CLI wants 1-based character columns, the language
//! server wants 0-based UTF-16 columns; both come from the same table of line starts.

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
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
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

    fn clamp(&self, text: &str, offset: u32) -> u32 {
        let mut o = offset.min(self.len) as usize;
        while o > 0 && !text.is_char_boundary(o) {
            o -= 1;
        }
        o as u32
    }

    fn line_of(&self, offset: u32) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Zero-based line and zero-based column in Unicode scalar values.
    pub fn line_col_chars(&self, text: &str, offset: u32) -> LineCol {
        let offset = self.clamp(text, offset);
        let line = self.line_of(offset);
        let start = self.line_starts[line] as usize;
        let col = text[start..offset as usize].chars().count() as u32;
        LineCol {
            line: line as u32,
            col,
        }
    }

    /// Zero-based line and zero-based column in UTF-16 code units (the LSP default).
    pub fn line_col_utf16(&self, text: &str, offset: u32) -> LineCol {
        let offset = self.clamp(text, offset);
        let line = self.line_of(offset);
        let start = self.line_starts[line] as usize;
        let col = text[start..offset as usize]
            .chars()
            .map(|c| c.len_utf16() as u32)
            .sum();
        LineCol {
            line: line as u32,
            col,
        }
    }

    /// The byte offset of a zero-based line and UTF-16 column; past-the-end positions clamp.
    pub fn offset_utf16(&self, text: &str, pos: LineCol) -> u32 {
        let Some(&start) = self.line_starts.get(pos.line as usize) else {
            return self.len;
        };
        let end = self
            .line_starts
            .get(pos.line as usize + 1)
            .copied()
            .unwrap_or(self.len);
        let mut units = 0u32;
        for (i, c) in text[start as usize..end as usize].char_indices() {
            if units >= pos.col || c == '\n' {
                return start + i as u32;
            }
            units += c.len_utf16() as u32;
        }
        end
    }

    /// The text of a zero-based line without its line terminator.
    pub fn line_text<'t>(&self, text: &'t str, line: u32) -> &'t str {
        let Some(&start) = self.line_starts.get(line as usize) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line as usize + 1)
            .copied()
            .unwrap_or(self.len);
        text[start as usize..end as usize].trim_end_matches(['\n', '\r'])
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
}
