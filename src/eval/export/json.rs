//! JSON rendering (section 11.4): two-space pretty printing, final newline.

use std::fmt::Write;

use std::sync::OnceLock;

use crate::eval::error::EvalErrorKind;
use crate::eval::export::{write_float, ExportLimits};
use crate::eval::machine::Splitter;
use crate::eval::value::Value;

/// Renders `v` as JSON.
pub fn render(v: &Value, limits: &ExportLimits) -> Result<String, EvalErrorKind> {
    let mut out = String::new();
    write_value(v, &mut out, 0, limits, None)?;
    out.push('\n');
    limits.check_size(&out)?;
    Ok(out)
}

/// Renders `v` as JSON, the elements of big lists in chunks that `splitter` may run on
/// several threads; the chunks are joined in order, so the text is [`render`]'s. Any error
/// (rare: a function in the document, a limit) renders again sequentially, so the error
/// reported is exactly the one the sequential order meets first.
pub fn render_split(
    v: &Value,
    limits: &ExportLimits,
    splitter: Option<&dyn Splitter>,
) -> Result<String, EvalErrorKind> {
    if let Some(splitter) = splitter {
        let mut out = String::new();
        if write_value(v, &mut out, 0, limits, Some(splitter)).is_ok() {
            out.push('\n');
            if limits.check_size(&out).is_ok() {
                return Ok(out);
            }
        }
    }
    render(v, limits)
}

/// Writes `xs` as list elements at `depth`, separated as in a list.
fn write_elements(
    xs: &[Value],
    out: &mut String,
    depth: u32,
    limits: &ExportLimits,
) -> Result<(), EvalErrorKind> {
    for (k, x) in xs.iter().enumerate() {
        if k > 0 {
            out.push_str(",\n");
        }
        indent(out, depth);
        write_value(x, out, depth, limits, None)?;
    }
    Ok(())
}

/// The elements of a big list in chunks on `splitter`, joined in order.
fn write_elements_split(
    xs: &[Value],
    out: &mut String,
    depth: u32,
    limits: &ExportLimits,
    splitter: &dyn Splitter,
) -> Result<(), EvalErrorKind> {
    let chunk = splitter.chunk_len(xs.len()).max(1);
    let chunks: Vec<&[Value]> = xs.chunks(chunk).collect();
    let texts: Vec<OnceLock<Result<String, EvalErrorKind>>> =
        (0..chunks.len()).map(|_| OnceLock::new()).collect();
    splitter.for_each(chunks.len(), &|c| {
        if let (Some(xs), Some(slot)) = (chunks.get(c), texts.get(c)) {
            let mut text = String::new();
            let _ = slot.set(write_elements(xs, &mut text, depth, limits).map(|()| text));
        }
    });
    for (c, slot) in texts.into_iter().enumerate() {
        if c > 0 {
            out.push_str(",\n");
        }
        match slot.into_inner() {
            Some(Ok(text)) => out.push_str(&text),
            Some(Err(err)) => return Err(err),
            None => {
                return Err(EvalErrorKind::Internal {
                    message: "a list chunk was not rendered".into(),
                })
            }
        }
        limits.check_size(out)?;
    }
    Ok(())
}

pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (k, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(s.get(start..k).unwrap_or(""));
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = k + 1;
    }
    out.push_str(s.get(start..).unwrap_or(""));
    out.push('"');
}

fn indent(out: &mut String, depth: u32) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Checks the native stack every few levels (`par::deep`), then `write_value_here`.
fn write_value(
    v: &Value,
    out: &mut String,
    depth: u32,
    limits: &ExportLimits,
    splitter: Option<&dyn Splitter>,
) -> Result<(), EvalErrorKind> {
    crate::par::deep(depth, || write_value_here(v, out, depth, limits, splitter))
}

fn write_value_here(
    v: &Value,
    out: &mut String,
    depth: u32,
    limits: &ExportLimits,
    splitter: Option<&dyn Splitter>,
) -> Result<(), EvalErrorKind> {
    limits.check_depth(depth)?;
    match v {
        Value::Unit => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(x) => write_float(out, *x),
        Value::Str(s) => {
            write_string(out, s);
            limits.check_size(out)?;
        }
        Value::List(xs) => {
            if xs.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push_str("[\n");
            match splitter {
                Some(splitter) if splitter.worth_it(xs.len()) => {
                    write_elements_split(xs, out, depth + 1, limits, splitter)?;
                }
                _ => {
                    for (k, x) in xs.iter().enumerate() {
                        if k > 0 {
                            out.push_str(",\n");
                        }
                        indent(out, depth + 1);
                        write_value(x, out, depth + 1, limits, splitter)?;
                    }
                }
            }
            out.push('\n');
            indent(out, depth);
            out.push(']');
        }
        Value::Record(r) => {
            if r.values.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push_str("{\n");
            for (k, (name, x)) in r.names.iter().zip(r.values.iter()).enumerate() {
                if k > 0 {
                    out.push_str(",\n");
                }
                indent(out, depth + 1);
                write_string(out, name);
                out.push_str(": ");
                write_value(x, out, depth + 1, limits, splitter)?;
            }
            out.push('\n');
            indent(out, depth);
            out.push('}');
            limits.check_size(out)?;
        }
        Value::Ctor(c) => match &c.payload {
            None => write_string(out, &c.name),
            Some(p) => {
                out.push_str("{\n");
                indent(out, depth + 1);
                write_string(out, &c.name);
                out.push_str(": ");
                write_value(p, out, depth + 1, limits, splitter)?;
                out.push('\n');
                indent(out, depth);
                out.push('}');
            }
        },
        Value::Func(_) | Value::Dict(_) => {
            return Err(EvalErrorKind::NotExportable {
                reason: "a function cannot be rendered as JSON".to_string(),
            })
        }
    }
    Ok(())
}
