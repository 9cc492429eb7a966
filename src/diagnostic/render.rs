//! Rendering diagnostics as rustc-style text with source excerpts.
//!
//! The first line of each diagnostic is `FILE:LINE:COL: error[CODE]: message` (LANGUAGE.md
//! section 1.3), so tools and people can grep it; the excerpt below it is drawn by
//! codespan-reporting, the crate Gleam and Nickel use. Rendering is pure: it returns a
//! `String` and never prints.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::termcolor::{Ansi, NoColor, WriteColor};
use codespan_reporting::term::{self, Config};

use super::{Diagnostic, Severity};
use crate::source::{FileId, SourceMap};

/// The files codespan reads: the source map, where a diagnostic's excerpt would be too big
/// replaced, file by file, by a [`View`] of only the lines it shows, clipped.
struct MapFiles<'a> {
    sources: &'a SourceMap,
    views: Vec<(FileId, View)>,
}

impl MapFiles<'_> {
    fn view(&self, id: FileId) -> Option<&View> {
        self.views
            .iter()
            .find(|(it, _)| *it == id)
            .map(|(_, view)| view)
    }
}

impl<'a> Files<'a> for MapFiles<'a> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.sources
            .get(id)
            .map(|it| it.name.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        if let Some(view) = self.view(id) {
            return Ok(&view.text);
        }
        self.sources
            .get(id)
            .map(|it| &*it.text)
            .ok_or(FilesError::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        if let Some(view) = self.view(id) {
            let k = match view.lines.binary_search_by_key(&byte_index, |it| it.start) {
                Ok(k) => k,
                Err(k) => k.saturating_sub(1),
            };
            return view
                .lines
                .get(k)
                .map(|it| it.index)
                .ok_or(FilesError::FileMissing);
        }
        let file = self.sources.get(id).ok_or(FilesError::FileMissing)?;
        let starts = file.line_start_offsets();
        Ok(match starts.binary_search(&(byte_index as u32)) {
            Ok(idx) => idx,
            Err(idx) => idx.saturating_sub(1),
        })
    }

    /// In a view, the column of the real file (the window starts anywhere on its line).
    fn column_number(
        &'a self,
        id: FileId,
        line_index: usize,
        byte_index: usize,
    ) -> Result<usize, FilesError> {
        let Some(view) = self.view(id) else {
            let range = self.line_range(id, line_index)?;
            let source = self.source(id)?;
            let end = byte_index.clamp(range.start, range.end);
            let prefix = source.get(range.start..end).unwrap_or("");
            return Ok(prefix.chars().count() + 1);
        };
        let file = self.sources.get(id).ok_or(FilesError::FileMissing)?;
        let line = view
            .lines
            .iter()
            .find(|it| it.index == line_index)
            .ok_or(FilesError::FileMissing)?;
        let real = line.shown.start + byte_index.saturating_sub(line.at);
        Ok(file.position(real.min(line.shown.end) as u32).column as usize)
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, FilesError> {
        if let Some(view) = self.view(id) {
            let k = view
                .lines
                .binary_search_by_key(&line_index, |it| it.index)
                .map_err(|_| FilesError::LineTooLarge {
                    given: line_index,
                    max: view.lines.last().map_or(0, |it| it.index),
                })?;
            let start = view.lines.get(k).map_or(0, |it| it.start);
            let end = view.lines.get(k + 1).map_or(view.text.len(), |it| it.start);
            return Ok(start..end);
        }
        let file = self.sources.get(id).ok_or(FilesError::FileMissing)?;
        let starts = file.line_start_offsets();
        let start = *starts.get(line_index).ok_or(FilesError::LineTooLarge {
            given: line_index,
            max: starts.len().saturating_sub(1),
        })? as usize;
        let end = starts
            .get(line_index + 1)
            .map(|it| *it as usize)
            .unwrap_or(file.text.len());
        Ok(start..end)
    }
}

/// At most this many bytes of one source line are shown in an excerpt; a longer line is
/// cut to a window around its labels, with `…` where text was left out.
const MAX_LINE_BYTES: usize = 160;
/// Bytes of context kept before a label on a cut line.
const CONTEXT_BYTES: usize = 40;
/// A label over more lines than this is shown on its first line only (codespan would draw
/// every line of it).
const MAX_LABEL_LINES: usize = 12;
/// At most this many diagnostics are rendered; a line counts the rest.
pub const MAX_RENDERED: usize = 100;

/// The lines of one file that a diagnostic's excerpt shows, each cut to a window: `text`
/// holds them one after another, `lines` says where each starts and which line of the real
/// file it is (so codespan numbers them as the file does).
struct View {
    text: String,
    lines: Vec<ViewLine>,
}

struct ViewLine {
    /// The line's index in the real file.
    index: usize,
    /// Where it starts in `View::text`.
    start: usize,
    /// The real byte range shown, and where it begins in `text` (after a leading `…`).
    shown: std::ops::Range<usize>,
    at: usize,
}

impl View {
    /// Maps a real byte offset on a shown line into the view (clamped to what is shown).
    fn map(&self, offset: usize, line: usize) -> usize {
        match self.lines.iter().find(|it| it.index == line) {
            Some(it) => it.at + offset.clamp(it.shown.start, it.shown.end) - it.shown.start,
            None => 0,
        }
    }
}

/// Where a label sits: its file, its (clamped) byte range and the lines it starts and ends on.
struct Placed {
    file: FileId,
    primary: bool,
    range: std::ops::Range<usize>,
    lines: (usize, usize),
}

fn line_of(starts: &[u32], offset: usize) -> usize {
    match starts.binary_search(&(offset as u32)) {
        Ok(idx) => idx,
        Err(idx) => idx.saturating_sub(1),
    }
}

/// Builds the views a diagnostic needs (none when every excerpt line is short and every
/// label spans few lines, the common case, whose rendering stays as codespan draws it), and
/// returns each label's range in the text codespan will read.
fn clip(placed: &mut [Placed], sources: &SourceMap) -> Vec<(FileId, View)> {
    let mut views = Vec::new();
    let mut files: Vec<FileId> = placed.iter().map(|it| it.file).collect();
    files.sort_by_key(|it| it.0);
    files.dedup();
    for file_id in files {
        let Some(file) = sources.get(file_id) else {
            continue;
        };
        let text: &str = &file.text;
        let starts = file.line_start_offsets();
        let line_start = |idx: usize| starts.get(idx).map_or(0, |it| *it as usize);
        let line_end = |idx: usize| -> usize {
            let end = starts.get(idx + 1).map_or(text.len(), |it| *it as usize);
            let end = if text.as_bytes().get(end.wrapping_sub(1)) == Some(&b'\n') {
                end - 1
            } else {
                end
            };
            end.max(line_start(idx))
        };
        let mut needs_view = false;
        for label in placed.iter_mut().filter(|it| it.file == file_id) {
            if label.lines.1 - label.lines.0 >= MAX_LABEL_LINES {
                label.range.end = label.range.end.min(line_end(label.lines.0));
                label.range.start = label.range.start.min(label.range.end);
                label.lines.1 = label.lines.0;
                needs_view = true;
            }
            for idx in label.lines.0..=label.lines.1 {
                needs_view |= line_end(idx) - line_start(idx) > MAX_LINE_BYTES;
            }
        }
        if !needs_view {
            continue;
        }
        // The lines shown: every line of every label, and a single line between two shown
        // ones (codespan draws that line rather than a gap).
        let mut shown: Vec<usize> = Vec::new();
        for label in placed.iter().filter(|it| it.file == file_id) {
            shown.extend(label.lines.0..=label.lines.1);
        }
        shown.sort_unstable();
        shown.dedup();
        let mut between = Vec::new();
        for pair in shown.windows(2) {
            if let [a, b] = pair {
                if b - a == 2 {
                    between.push(a + 1);
                }
            }
        }
        shown.extend(between);
        shown.sort_unstable();
        let mut view = View {
            text: String::new(),
            lines: Vec::with_capacity(shown.len()),
        };
        for idx in shown {
            let (from, to) = (line_start(idx), line_end(idx));
            // The labels' extent on this line decides the window; the primary label's
            // alone when there is one on the line (others may lie outside the window).
            let on_line =
                |it: &&Placed| it.file == file_id && it.lines.0 <= idx && idx <= it.lines.1;
            let any_primary = placed.iter().filter(on_line).any(|it| it.primary);
            let mut lo = to;
            let mut hi = from;
            for label in placed.iter().filter(on_line) {
                if label.primary || !any_primary {
                    lo = lo.min(label.range.start.max(from));
                    hi = hi.max(label.range.end.min(to));
                }
            }
            let (mut a, mut b) = (from, to);
            if to - from > MAX_LINE_BYTES {
                a = if lo > from + CONTEXT_BYTES && lo <= to {
                    lo - CONTEXT_BYTES
                } else {
                    from
                };
                b = (a + MAX_LINE_BYTES).min(to);
                if hi > b && hi - a <= MAX_LINE_BYTES {
                    b = hi;
                }
                while a > from && !text.is_char_boundary(a) {
                    a -= 1;
                }
                while b < to && !text.is_char_boundary(b) {
                    b -= 1;
                }
            }
            let start = view.text.len();
            if a > from {
                view.text.push('…');
            }
            let at = view.text.len();
            view.text.push_str(text.get(a..b).unwrap_or(""));
            if b < to {
                view.text.push('…');
            }
            view.text.push('\n');
            view.lines.push(ViewLine {
                index: idx,
                start,
                shown: a..b,
                at,
            });
        }
        for label in placed.iter_mut().filter(|it| it.file == file_id) {
            let start = view.map(label.range.start, label.lines.0);
            let end = view.map(label.range.end, label.lines.1).max(start);
            label.range = start..end;
        }
        views.push((file_id, view));
    }
    views
}

/// Renders diagnostics as text. `color` adds ANSI colours (use it on terminals only).
/// At most [`MAX_RENDERED`] are drawn; a last line counts the others by severity.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics.iter().take(MAX_RENDERED) {
        out.push_str(&render_one(diagnostic, sources, color));
    }
    if let Some(rest) = diagnostics.get(MAX_RENDERED..).filter(|it| !it.is_empty()) {
        let errors = rest
            .iter()
            .filter(|it| matches!(it.severity, Severity::Error | Severity::Bug))
            .count();
        out.push_str(&format!(
            "... and {} more diagnostic{} not shown ({errors} error{})\n",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" },
            if errors == 1 { "" } else { "s" },
        ));
    }
    out
}

/// The `FILE:LINE:COL: severity[CODE]: message` header line (without newline).
pub fn header(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let location = diagnostic.primary().and_then(|primary| {
        let file = sources.get(primary.file)?;
        let pos = file.position(primary.span.start);
        Some(format!("{}:{}:{}: ", file.name, pos.line, pos.column))
    });
    format!(
        "{}{}[{}]: {}",
        location.unwrap_or_default(),
        diagnostic.severity.as_str(),
        diagnostic.code,
        clip_text(&diagnostic.message)
    )
}

fn render_one(diagnostic: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let mut buffer: Vec<u8> = Vec::new();
    // The header line is ours; codespan draws only the excerpt, notes and help.
    let head = header(diagnostic, sources);
    let severity = match diagnostic.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Note => cs::Severity::Note,
        Severity::Bug => cs::Severity::Bug,
    };
    let shown: Vec<&super::Label> = diagnostic
        .labels
        .iter()
        .filter(|label| sources.get(label.span.file).is_some())
        .collect();
    let mut placed: Vec<Placed> = shown
        .iter()
        .filter_map(|label| {
            let file = sources.get(label.span.file)?;
            let len = file.text.len();
            let start = (label.span.span.start as usize).min(len);
            let end = (label.span.span.end as usize).clamp(start, len);
            let starts = file.line_start_offsets();
            Some(Placed {
                file: label.span.file,
                primary: label.primary,
                range: start..end,
                lines: (line_of(starts, start), line_of(starts, end)),
            })
        })
        .collect();
    let views = clip(&mut placed, sources);
    let labels = shown
        .iter()
        .zip(&placed)
        .map(|(label, placed)| {
            let style = if label.primary {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            cs::Label::new(style, placed.file, placed.range.clone())
                .with_message(clip_text(&label.message))
        })
        .collect::<Vec<_>>();
    let mut notes = diagnostic
        .notes
        .iter()
        .map(|note| format!("note: {}", clip_text(note)))
        .collect::<Vec<_>>();
    if let Some(help) = &diagnostic.help {
        notes.push(format!("help: {}", clip_text(help)));
    }
    let cs_diagnostic = cs::Diagnostic::new(severity)
        .with_labels(labels)
        .with_notes(notes);
    let config = Config::default();
    let files = MapFiles { sources, views };
    let result = if color {
        let mut writer = Ansi::new(&mut buffer);
        write_header(&mut writer, &head, diagnostic.severity, true)
            .and_then(|()| term::emit(&mut writer, &config, &files, &cs_diagnostic).map_err(to_io))
    } else {
        let mut writer = NoColor::new(&mut buffer);
        write_header(&mut writer, &head, diagnostic.severity, false)
            .and_then(|()| term::emit(&mut writer, &config, &files, &cs_diagnostic).map_err(to_io))
    };
    let mut text = String::from_utf8_lossy(&buffer).into_owned();
    if result.is_err() {
        // The excerpt could not be drawn (a span outside its file): keep the header at least.
        text = format!("{head}\n");
    }
    // codespan starts with the severity line `error: ` (empty message) that we replace by
    // our header; drop its first line, which it always writes.
    strip_codespan_title(&text, &head)
}

/// A message, note or help longer than this is cut, with `…`: they may quote values.
const MAX_MESSAGE_BYTES: usize = 1_000;

fn clip_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_MESSAGE_BYTES {
        return text.into();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or("")).into()
}

fn to_io(err: FilesError) -> std::io::Error {
    std::io::Error::other(err.to_string())
}

fn write_header(
    writer: &mut dyn WriteColor,
    head: &str,
    severity: Severity,
    color: bool,
) -> std::io::Result<()> {
    use codespan_reporting::term::termcolor::{Color, ColorSpec};
    if color {
        let mut spec = ColorSpec::new();
        spec.set_bold(true);
        spec.set_fg(Some(match severity {
            Severity::Warning => Color::Yellow,
            Severity::Note => Color::Blue,
            _ => Color::Red,
        }));
        writer.set_color(&spec)?;
    }
    writeln!(writer, "{head}")?;
    if color {
        writer.reset()?;
    }
    Ok(())
}

fn strip_codespan_title(text: &str, head: &str) -> String {
    // Layout: our header line, then codespan's title line (e.g. "error: "), then the rest.
    let mut lines = text.split_inclusive('\n');
    let mut out = String::with_capacity(text.len());
    if let Some(first) = lines.next() {
        out.push_str(first);
    }
    if let Some(title) = lines.next() {
        let plain = strip_ansi(title);
        let is_title = ["error", "warning", "note", "bug", "help"]
            .iter()
            .any(|sev| plain.trim_end().starts_with(sev) && plain.trim_end().ends_with(':'));
        if !is_title {
            out.push_str(title);
        }
    }
    for line in lines {
        out.push_str(line);
    }
    if out.is_empty() {
        out = format!("{head}\n");
    }
    out
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::source::Span;

    fn one(text: &str, start: u32, end: u32, secondary: Option<(u32, u32)>) -> String {
        let mut sources = SourceMap::default();
        let file = sources.add("t.lig", text);
        let mut diagnostic = Diagnostic::new(Code::T2001, "a problem", file, Span { start, end });
        if let Some((s, e)) = secondary {
            diagnostic = diagnostic.with_label(file, Span { start: s, end: e }, "because");
        }
        render(&[diagnostic], &sources, false)
    }

    /// Short lines render as codespan draws them; a long line is cut around the label.
    #[test]
    fn an_excerpt_is_clipped_around_its_span_on_a_long_line() {
        let short = one("let x = 1 + \"a\";\n", 12, 15, None);
        assert!(short.contains("1 │ let x = 1 + \"a\";\n"), "{short}");
        let long = format!("let x = [{}\"a\"];\n", "1, ".repeat(1_000_000));
        let at = long.find('"').unwrap_or(0) as u32;
        let out = one(&long, at, at + 3, Some((8, 9)));
        assert!(out.len() < 2_000, "{} bytes:\n{out}", out.len());
        assert!(out.starts_with("t.lig:1:3000010: error[T2001]"), "{out}");
        assert!(out.contains("┌─ t.lig:1:3000010"), "{out}");
        assert!(out.contains("1, \"a\"];"), "{out}");
    }

    #[test]
    fn a_label_over_many_lines_is_drawn_on_its_first_line() {
        let text: String = (0..5_000).map(|k| format!("line {k}\n")).collect();
        let out = one(&text, 7, text.len() as u32 - 3, None);
        assert!(out.lines().count() < 12, "{out}");
        let few = one(&text, 7, 30, None);
        assert!(few.contains("3 │"), "{few}");
    }

    #[test]
    fn many_diagnostics_are_counted_beyond_the_first_hundred() {
        let text = "let a = 1; ".repeat(9_000);
        let mut sources = SourceMap::default();
        let file = sources.add("t.lig", text.as_str());
        let diagnostics: Vec<Diagnostic> = (0..9_000u32)
            .map(|k| {
                Diagnostic::new(
                    Code::T2006,
                    "twice",
                    file,
                    Span {
                        start: k * 11 + 4,
                        end: k * 11 + 5,
                    },
                )
            })
            .collect();
        let out = render(&diagnostics, &sources, false);
        assert!(out.len() < 100 * 2_000, "{} bytes", out.len());
        assert_eq!(out.matches("error[T2006]").count(), MAX_RENDERED);
        assert!(
            out.ends_with("... and 8900 more diagnostics not shown (8900 errors)\n"),
            "{}",
            &out[out.len() - 200..]
        );
    }

    /// The class: any span on any text (long lines, multi-byte characters, empty and
    /// out-of-range spans, many lines) renders without panicking, with the header's
    /// position, and in size bounded by the excerpt limits rather than by the text.
    #[test]
    fn any_span_on_any_text_renders_a_bounded_excerpt() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        let pieces = [
            "a",
            "é",
            "😀",
            "\n",
            "\t",
            " ",
            "let x = 1;",
            "\r\n",
            "ab\ncd",
        ];
        for _ in 0..400 {
            let mut text = String::new();
            let n = next(3) as usize;
            for _ in 0..[20, 2_000, 40_000][n] {
                text.push_str(pieces[next(pieces.len() as u64) as usize]);
            }
            let len = text.len() as u64;
            let (a, b) = (next(len + 10) as u32, next(len + 10) as u32);
            let (c, d) = (next(len + 1) as u32, next(len + 1) as u32);
            let mut sources = SourceMap::default();
            let file = sources.add("t.lig", text.as_str());
            let diagnostic = Diagnostic::new(
                Code::T2001,
                "m",
                file,
                Span {
                    start: a.min(b),
                    end: a.max(b),
                },
            )
            .with_label(
                file,
                Span {
                    start: c.min(d),
                    end: c.max(d),
                },
                "n",
            );
            let out = render(std::slice::from_ref(&diagnostic), &sources, false);
            assert!(out.starts_with(&header(&diagnostic, &sources)), "{out}");
            // Two labels, each on at most MAX_LABEL_LINES lines of at most MAX_LINE_BYTES.
            let bound = 2 * (MAX_LABEL_LINES + 2) * (3 * MAX_LINE_BYTES + 40) + 400;
            assert!(
                out.len() < bound.max(4 * text.len() + 400),
                "{} bytes for {} of text",
                out.len(),
                text.len()
            );
            if text.len() > 10_000 {
                assert!(out.len() < bound, "{} bytes:\n{out}", out.len());
            }
        }
    }
}
