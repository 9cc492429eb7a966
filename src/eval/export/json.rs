//! JSON rendering (section 11.4): two-space pretty printing, final newline.

use std::fmt::Write;

use crate::eval::error::EvalErrorKind;
use crate::eval::export::{write_float, ExportLimits};
use crate::eval::value::Value;

/// Renders `v` as JSON.
pub fn render(v: &Value, limits: &ExportLimits) -> Result<String, EvalErrorKind> {
    let mut out = String::new();
    write_value(v, &mut out, 0, limits)?;
    out.push('\n');
    limits.check_size(&out)?;
    Ok(out)
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
) -> Result<(), EvalErrorKind> {
    crate::par::deep(depth, || write_value_here(v, out, depth, limits))
}

fn write_value_here(
    v: &Value,
    out: &mut String,
    depth: u32,
    limits: &ExportLimits,
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
            for (k, x) in xs.iter().enumerate() {
                if k > 0 {
                    out.push_str(",\n");
                }
                indent(out, depth + 1);
                write_value(x, out, depth + 1, limits)?;
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
                write_value(x, out, depth + 1, limits)?;
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
                write_value(p, out, depth + 1, limits)?;
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
