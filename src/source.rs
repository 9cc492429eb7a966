//! Source files, byte spans and positions.
//!
//! Every position in Ligature is a byte offset into a file (LANGUAGE.md section 2.1).
//! Lines and columns are computed lazily, from a line index built the first time a
//! position in that file is asked for, and only when a diagnostic is rendered or turned
//! into a DTO: eager line/column computation is a known performance trap.

use std::sync::{Arc, OnceLock};

/// Identifies one file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A half-open byte range `[start, end)` in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const fn new(start: u32, end: u32) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    pub fn in_file(self, file: FileId) -> FileSpan {
        FileSpan { file, span: self }
    }
}

/// A span together with the file it points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileSpan {
    pub file: FileId,
    pub span: Span,
}

/// A 1-based line and column; `column` counts Unicode scalar values, `utf16_column`
/// counts UTF-16 code units (for JS editors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
    pub utf16_column: u32,
}

/// One source file: its display name, its text and a lazily built line index.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    line_starts: OnceLock<Vec<u32>>,
    /// Whether the text is ASCII, found with the line index: then a column is a byte count,
    /// and a position costs no walk over its line (many diagnostics on one long line).
    ascii: OnceLock<bool>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
            line_starts: OnceLock::new(),
            ascii: OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0u32];
            for (idx, byte) in self.text.bytes().enumerate() {
                if byte == b'\n' {
                    starts.push(idx as u32 + 1);
                }
            }
            starts
        })
    }

    /// The 1-based position of a byte offset (clamped to the text, and moved back to a
    /// character boundary if it falls inside one).
    pub fn position(&self, offset: u32) -> Position {
        let text: &str = &self.text;
        let mut offset = (offset as usize).min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let starts = self.line_starts();
        let line_idx = match starts.binary_search(&(offset as u32)) {
            Ok(idx) => idx,
            Err(idx) => idx.saturating_sub(1),
        };
        let line_start = starts.get(line_idx).copied().unwrap_or(0) as usize;
        let (column, utf16_column) = if *self.ascii.get_or_init(|| text.is_ascii()) {
            let n = offset.saturating_sub(line_start) as u32 + 1;
            (n, n)
        } else {
            let prefix = text.get(line_start..offset).unwrap_or("");
            (
                prefix.chars().count() as u32 + 1,
                prefix.encode_utf16().count() as u32 + 1,
            )
        };
        Position {
            line: line_idx as u32 + 1,
            column,
            utf16_column,
        }
    }

    /// Byte offsets where each line starts (for renderers).
    pub fn line_start_offsets(&self) -> &[u32] {
        self.line_starts()
    }
}

/// All files of one run, addressed by [`FileId`]. Immutable once built; shared by reference.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<Arc<SourceFile>>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(Arc::new(SourceFile::new(name, text)));
        id
    }

    pub fn get(&self, file: FileId) -> Option<&SourceFile> {
        self.files.get(file.0 as usize).map(|it| &**it)
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(idx, it)| (FileId(idx as u32), &**it))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Forgets the files added after the first `len` (a load that is done again).
    pub fn truncate(&mut self, len: usize) {
        self.files.truncate(len);
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_scalars_and_utf16_units() {
        let file = SourceFile::new("t", "ab\nc\u{e9}\u{1F600}x\n");
        assert_eq!(
            file.position(0),
            Position {
                line: 1,
                column: 1,
                utf16_column: 1
            }
        );
        assert_eq!(
            file.position(3),
            Position {
                line: 2,
                column: 1,
                utf16_column: 1
            }
        );
        // After 'c', 'é' (2 bytes) and the emoji (4 bytes, 2 UTF-16 units).
        assert_eq!(
            file.position(10),
            Position {
                line: 2,
                column: 4,
                utf16_column: 5
            }
        );
        // Offsets inside a character move back to its start.
        assert_eq!(
            file.position(5),
            Position {
                line: 2,
                column: 2,
                utf16_column: 2
            }
        );
        // Past the end clamps.
        assert_eq!(file.position(99).line, 3);
    }
}
