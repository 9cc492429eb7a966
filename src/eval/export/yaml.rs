//! YAML rendering (section 11.5): block style, two-space indentation; strings that a
//! YAML 1.2 core-schema reader would read as something else are double-quoted.

use std::fmt::Write;

use crate::eval::error::EvalErrorKind;
use crate::eval::export::{json, write_float, ExportLimits};
use crate::eval::value::Value;

pub fn render(v: &Value, limits: &ExportLimits) -> Result<String, EvalErrorKind> {
    let mut out = String::new();
    write_block(v, &mut out, 0, 0, limits)?;
    out.push('\n');
    limits.check_size(&out)?;
    Ok(out)
}

/// Whether a string can be written as a plain scalar and read back as the same string.
pub fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if s.ends_with(' ') {
        return false;
    }
    if !s.chars().all(|c| {
        c.is_alphanumeric()
            || matches!(c, ' ' | '_' | '-' | '.' | '/' | '@' | '+' | '=' | '(' | ')')
    }) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    !matches!(
        lower.as_str(),
        "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
    )
}

fn write_string(out: &mut String, s: &str) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if s.chars().any(needs_yaml_escape) {
        // JSON escapes, plus the characters YAML does not allow unescaped (DEL, C1 controls).
        out.push('"');
        for c in s.chars() {
            if needs_yaml_escape(c) {
                let _ = write!(out, "\\u{:04x}", c as u32);
            } else {
                let mut buf = String::new();
                json::write_string(&mut buf, c.encode_utf8(&mut [0; 4]));
                out.push_str(buf.get(1..buf.len() - 1).unwrap_or(""));
            }
        }
        out.push('"');
    } else {
        json::write_string(out, s);
    }
}

fn needs_yaml_escape(c: char) -> bool {
    matches!(c as u32, 0x7f..=0x84 | 0x86..=0x9f | 0xfffe | 0xffff)
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::List(xs) => !xs.is_empty(),
        Value::Record(r) => !r.values.is_empty(),
        Value::Ctor(c) => c.payload.is_some(),
        _ => false,
    }
}

fn newline(out: &mut String, indent: usize) {
    const SPACES: &str = "                                                                ";
    out.push('\n');
    match SPACES.get(..indent) {
        Some(spaces) => out.push_str(spaces),
        None => out.extend(std::iter::repeat_n(' ', indent)),
    }
}

fn write_entry(
    key: &str,
    v: &Value,
    out: &mut String,
    indent: usize,
    depth: u32,
    limits: &ExportLimits,
) -> Result<(), EvalErrorKind> {
    write_string(out, key);
    out.push(':');
    if is_block(v) {
        newline(out, indent + 2);
        write_block(v, out, indent + 2, depth + 1, limits)
    } else {
        out.push(' ');
        write_block(v, out, indent, depth + 1, limits)
    }
}

/// Checks the native stack every few levels (`par::deep`), then `write_block_here`.
fn write_block(
    v: &Value,
    out: &mut String,
    indent: usize,
    depth: u32,
    limits: &ExportLimits,
) -> Result<(), EvalErrorKind> {
    crate::par::deep(depth, || write_block_here(v, out, indent, depth, limits))
}

fn write_block_here(
    v: &Value,
    out: &mut String,
    indent: usize,
    depth: u32,
    limits: &ExportLimits,
) -> Result<(), EvalErrorKind> {
    limits.check_depth(depth)?;
    match v {
        Value::Unit => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => json::write_int(out, *n),
        Value::Float(x) => write_float(out, *x),
        Value::Str(s) => {
            write_string(out, s);
            limits.check_size(out)?;
        }
        Value::List(xs) => {
            if xs.is_empty() {
                out.push_str("[]");
            }
            for (k, x) in xs.iter().enumerate() {
                if k > 0 {
                    newline(out, indent);
                }
                out.push_str("- ");
                write_block(x, out, indent + 2, depth + 1, limits)?;
                limits.tick(out)?;
            }
        }
        Value::Record(r) => {
            if r.values.is_empty() {
                out.push_str("{}");
            }
            for (k, (name, x)) in r.names.iter().zip(r.values.iter()).enumerate() {
                if k > 0 {
                    newline(out, indent);
                }
                write_entry(name, x, out, indent, depth, limits)?;
                limits.tick(out)?;
            }
            limits.check_size(out)?;
        }
        Value::Ctor(c) => match &c.payload {
            None => write_string(out, &c.name),
            Some(p) => write_entry(&c.name, p, out, indent, depth, limits)?,
        },
        Value::Func(_) | Value::Dict(_) => {
            return Err(EvalErrorKind::NotExportable {
                reason: "a function cannot be rendered as YAML".to_string(),
            })
        }
    }
    Ok(())
}
