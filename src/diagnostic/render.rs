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

struct MapFiles<'a>(&'a SourceMap);

impl<'a> Files<'a> for MapFiles<'a> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.0.get(id).map(|it| it.name.as_str()).ok_or(FilesError::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.0.get(id).map(|it| &*it.text).ok_or(FilesError::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        let file = self.0.get(id).ok_or(FilesError::FileMissing)?;
        let starts = file.line_start_offsets();
        Ok(match starts.binary_search(&(byte_index as u32)) {
            Ok(idx) => idx,
            Err(idx) => idx.saturating_sub(1),
        })
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<std::ops::Range<usize>, FilesError> {
        let file = self.0.get(id).ok_or(FilesError::FileMissing)?;
        let starts = file.line_start_offsets();
        let start = *starts
            .get(line_index)
            .ok_or(FilesError::LineTooLarge { given: line_index, max: starts.len().saturating_sub(1) })?
            as usize;
        let end = starts.get(line_index + 1).map(|it| *it as usize).unwrap_or(file.text.len());
        Ok(start..end)
    }
}

/// Renders diagnostics as text. `color` adds ANSI colours (use it on terminals only).
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&render_one(diagnostic, sources, color));
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
        diagnostic.message
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
    let labels = diagnostic
        .labels
        .iter()
        .filter(|label| sources.get(label.span.file).is_some())
        .map(|label| {
            let style = if label.primary { cs::LabelStyle::Primary } else { cs::LabelStyle::Secondary };
            let file = sources.get(label.span.file);
            let len = file.map(|it| it.text.len()).unwrap_or(0);
            let start = (label.span.span.start as usize).min(len);
            let end = (label.span.span.end as usize).clamp(start, len);
            cs::Label::new(style, label.span.file, start..end).with_message(label.message.clone())
        })
        .collect::<Vec<_>>();
    let mut notes = diagnostic.notes.iter().map(|note| format!("note: {note}")).collect::<Vec<_>>();
    if let Some(help) = &diagnostic.help {
        notes.push(format!("help: {help}"));
    }
    let cs_diagnostic = cs::Diagnostic::new(severity).with_labels(labels).with_notes(notes);
    let config = Config::default();
    let files = MapFiles(sources);
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
