//! Positions: the protocol's (line, UTF-16 code unit) pairs against the library's byte
//! offsets.
//!
//! A [`LineIndex`] keeps the byte offset of every line start. Converting either way
//! clamps: a line past the end is the end of the text, a character past the end of its
//! line is the line's end, and an offset inside a multi-byte character moves back to the
//! character's start. Clients send whatever they like; nothing here panics.

use lsp_types::{Position, Range};

use ligature::source::Span;

pub struct LineIndex {
    /// Byte offset of each line's start; the first is 0.
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        for (idx, byte) in text.bytes().enumerate() {
            if byte == b'\n' {
                starts.push(u32::try_from(idx + 1).unwrap_or(u32::MAX));
            }
        }
        LineIndex { starts }
    }

    /// The byte offset of `pos` in `text` (clamped to the text).
    pub fn offset(&self, text: &str, pos: Position) -> u32 {
        let Some(&line_start) = self.starts.get(pos.line as usize) else {
            return u32::try_from(text.len()).unwrap_or(u32::MAX);
        };
        let line_end = self
            .starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |it| *it as usize);
        let line = text.get(line_start as usize..line_end).unwrap_or_default();
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut units = 0u32;
        for (idx, ch) in line.char_indices() {
            if units >= pos.character {
                return line_start + idx as u32;
            }
            units += ch.len_utf16() as u32;
            if units > pos.character {
                // Inside a surrogate pair: the character's start.
                return line_start + idx as u32;
            }
        }
        line_start + line.len() as u32
    }

    /// The protocol position of the byte `offset` (clamped to the text).
    pub fn position(&self, text: &str, offset: u32) -> Position {
        let offset = (offset as usize).min(text.len());
        let line = self.starts.partition_point(|&it| it as usize <= offset) - 1;
        let start = self.starts[line] as usize;
        let mut end = offset;
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let character = text
            .get(start..end)
            .map_or(0, |it| it.encode_utf16().count() as u32);
        Position {
            line: line as u32,
            character,
        }
    }

    pub fn range(&self, text: &str, span: Span) -> Range {
        Range {
            start: self.position(text, span.start),
            end: self.position(text, span.end.max(span.start)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str, pat: char) -> u32 {
        text.find(pat).expect("in the text") as u32
    }

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn utf16_columns_and_clamping() {
        let text = "let a = \"é😀x\";\r\nlet b = 1;";
        let index = LineIndex::new(text);
        // `x` follows `é` (2 bytes, 1 unit) and `😀` (4 bytes, 2 units).
        let x = find(text, 'x');
        assert_eq!(index.position(text, x), pos(0, 12));
        assert_eq!(index.offset(text, pos(0, 12)), x);
        // Inside the surrogate pair: the emoji's start.
        assert_eq!(index.offset(text, pos(0, 11)), x - 4);
        // Past the line's end: before its CR LF.
        assert_eq!(index.offset(text, pos(0, 999)), find(text, '\r'));
        assert_eq!(
            index.offset(text, pos(1, 4)),
            text.rfind('b').expect("in the text") as u32
        );
        assert_eq!(index.offset(text, pos(99, 0)), text.len() as u32);
        assert_eq!(index.position(text, u32::MAX), pos(1, 10));
        // Inside a multi-byte character: its start.
        let e = find(text, 'é');
        assert_eq!(index.position(text, e + 1), index.position(text, e));
    }
}
