//! JSON text written directly, for the JSON Schema export.
//!
//! The schema of a 100,000-line file is some 24 MB of JSON. Built as a `serde_json::Value`
//! tree (an `IndexMap` per object, a `String` per key) and then printed, it took most of
//! the export's time and memory. The exporter writes each definition as compact text
//! instead (exactly what `serde_json::to_string` writes for the same value): definitions
//! are compared and deduplicated by that text anyway, and [`JsonText::to_pretty`]
//! re-indents it the way `serde_json::to_string_pretty` would have printed the tree.

use serde_json::Value as Json;

/// A JSON document as compact text (no whitespace between tokens), in `serde_json`'s
/// spelling of strings and numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonText(pub(super) String);

impl JsonText {
    /// The compact text (`serde_json::to_string` of the same value).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text as `serde_json::to_string_pretty` prints it: two spaces of indentation,
    /// `": "` after keys, empty objects and arrays as `{}` and `[]`.
    pub fn to_pretty(&self) -> String {
        // Indentation about doubles a schema's text; pages reserved and not written cost
        // nothing.
        let mut out: Vec<u8> = Vec::with_capacity(self.0.len() * 2);
        let never = |_: &mut Vec<u8>| Ok(());
        // Nothing is flushed, so nothing can fail.
        let _ = pretty(self.0.as_bytes(), &mut out, usize::MAX, never);
        // Only whole ASCII bytes outside strings were added or moved: still UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Writes [`JsonText::to_pretty`]'s text to `sink`, a piece at a time: the pretty text
    /// of a 100,000-line schema is some 50 MB that the CLI only writes out, and fresh
    /// memory is what this costs most.
    pub fn write_pretty(&self, sink: &mut impl std::io::Write) -> std::io::Result<()> {
        const PIECE: usize = 1 << 16;
        let mut out: Vec<u8> = Vec::with_capacity(PIECE + 4096);
        let flush = |out: &mut Vec<u8>| {
            let res = sink.write_all(out);
            out.clear();
            res
        };
        pretty(self.0.as_bytes(), &mut out, PIECE, flush)
    }

    /// The document as a `serde_json` value (for tests and callers that want a tree).
    pub fn to_value(&self) -> Json {
        serde_json::from_str(&self.0).unwrap_or(Json::Null)
    }
}

/// A newline and up to 64 levels of indentation, copied at once.
const NEWLINE: [u8; 129] = {
    let mut bytes = [b' '; 129];
    bytes[0] = b'\n';
    bytes
};

/// Starts a line at `depth`.
fn newline(out: &mut Vec<u8>, depth: usize) {
    match NEWLINE.get(..1 + 2 * depth) {
        Some(bytes) => out.extend_from_slice(bytes),
        None => {
            out.push(b'\n');
            out.resize(out.len() + 2 * depth, b' ');
        }
    }
}

/// Indents compact JSON `text` into `out` as `serde_json::to_string_pretty` would, handing
/// `out` to `flush` (which empties it) whenever it holds `piece` bytes or more, and at the
/// end. Strings, numbers and literals are copied whole; only the bytes between them are
/// looked at one by one.
fn pretty(
    text: &[u8],
    out: &mut Vec<u8>,
    piece: usize,
    mut flush: impl FnMut(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut depth = 0usize;
    let mut k = 0;
    while let Some(&c) = text.get(k) {
        if out.len() >= piece {
            flush(out)?;
        }
        let from = k;
        k += 1;
        match c {
            b'"' => {
                // A string, copied whole: up to the first quote not escaped.
                while let Some(&b) = text.get(k) {
                    k += 1;
                    match b {
                        b'"' => break,
                        b'\\' => k += 1,
                        _ => {}
                    }
                }
                k = k.min(text.len());
                out.extend_from_slice(text.get(from..k).unwrap_or(&[]));
            }
            b'{' | b'[' => {
                out.push(c);
                match text.get(k) {
                    Some(&close @ (b'}' | b']')) => {
                        out.push(close);
                        k += 1;
                    }
                    _ => {
                        depth += 1;
                        newline(out, depth);
                    }
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(out, depth);
                out.push(c);
            }
            b',' => {
                out.push(c);
                newline(out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => {
                // A number or a literal, up to the next structural byte.
                while let Some(&b) = text.get(k) {
                    if matches!(b, b'"' | b'{' | b'[' | b'}' | b']' | b',' | b':') {
                        break;
                    }
                    k += 1;
                }
                out.extend_from_slice(text.get(from..k).unwrap_or(&[]));
            }
        }
    }
    flush(out)
}

/// Writes `s` as a JSON string, escaped as `serde_json` escapes it (`\"`, `\\`, `\b`,
/// `\f`, `\n`, `\r`, `\t`, other control characters as `\u00xx`).
pub(super) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    write_escaped(out, s);
    out.push('"');
}

/// Writes the inside of [`write_str`]'s string: `s` escaped, without the quotes.
pub(super) fn write_escaped(out: &mut String, s: &str) {
    // Names and keywords need no escapes: one copy.
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        return;
    }
    let mut start = 0;
    for (at, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(start..at).unwrap_or(""));
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            for digit in [byte >> 4, byte & 0xf] {
                out.push(char::from(
                    HEX.get(usize::from(digit)).copied().unwrap_or(b'0'),
                ));
            }
        } else {
            out.push_str(escape);
        }
        start = at + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
}

/// Whether `bytes` hold a quote, a backslash or a control character, eight bytes at a
/// time: a byte of a word is below `n` when `(w - n * LO) & !w & HI` has its high bit (the
/// classic test, exact as a whole word's answer for `n <= 0x80`).
fn needs_escape(bytes: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, n: u64| w.wrapping_sub(n * LO) & !w & HI;
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let w = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
        let hit = below(w, 0x20)
            | below(w ^ (u64::from(b'"') * LO), 1)
            | below(w ^ (u64::from(b'\\') * LO), 1);
        if hit != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Writes `n` in decimal, as `serde_json` and `Display` write it, without the formatting
/// machinery (a schema has two 64-bit bounds per integer).
pub(super) fn write_int(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Writes `n` in decimal.
pub(super) fn write_count(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

#[cfg(test)]
mod tests {
    use super::{write_count, write_int, write_str, JsonText};
    use serde_json::json;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in [
            "plain",
            "q\"b\\s",
            "\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}",
            "é ✓ 𝄞",
            "",
        ] {
            let mut out = String::new();
            write_str(&mut out, s);
            assert_eq!(out, json!(s).to_string());
        }
    }

    #[test]
    fn escapes_are_found_in_every_position() {
        for len in 0..20 {
            let plain = "a".repeat(len);
            assert!(!super::needs_escape(plain.as_bytes()));
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    let mut bytes = plain.clone().into_bytes();
                    bytes[at] = special;
                    assert!(super::needs_escape(&bytes), "{len} {at} {special}");
                }
                for other in [0x20, 0x7f, 0x80, 0xff, b'!', b'#', b']', b']' + 1] {
                    let mut bytes = plain.clone().into_bytes();
                    bytes[at] = other;
                    assert!(!super::needs_escape(&bytes), "{len} {at} {other}");
                }
            }
        }
    }

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        for n in [0, 1, -1, 9, 10, -10, 65535, i64::MIN, i64::MAX] {
            let mut out = String::new();
            write_int(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        for n in [0, 7, 100, u64::MAX] {
            let mut out = String::new();
            write_count(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn pretty_text_is_serde_jsons_pretty_printing() {
        let value = json!({
            "a": [],
            "b": {},
            "c": [1, {"d": "x:{,}[]\"\\"}, [2.5, null]],
            "e": {"f": {"g": true}},
        });
        let text = JsonText(value.to_string());
        assert_eq!(
            text.to_pretty(),
            serde_json::to_string_pretty(&value).expect("a value prints")
        );
        assert_eq!(text.to_value(), value);
        // Written out a piece at a time, the same text.
        let mut written = Vec::new();
        text.write_pretty(&mut written)
            .expect("a Vec takes every byte");
        assert_eq!(written, text.to_pretty().into_bytes());
        let mut pieces = Vec::new();
        let mut out = Vec::new();
        let flush = |out: &mut Vec<u8>| {
            pieces.extend_from_slice(out);
            out.clear();
            Ok(())
        };
        super::pretty(text.as_str().as_bytes(), &mut out, 3, flush).expect("no failure");
        assert_eq!(pieces, text.to_pretty().into_bytes());
    }
}
