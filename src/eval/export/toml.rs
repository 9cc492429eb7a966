//! TOML rendering (section 11.6): the document must be a record without Unit; plain values
//! of a table come before its sub-tables; lists of records become arrays of tables.

use std::fmt::Write;

use crate::eval::error::EvalErrorKind;
use crate::eval::export::{write_float, ExportLimits};
use crate::eval::value::Value;

fn not_exportable(reason: &str) -> EvalErrorKind {
    EvalErrorKind::NotExportable {
        reason: reason.to_string(),
    }
}

pub fn render(v: &Value, limits: &ExportLimits) -> Result<String, EvalErrorKind> {
    let Value::Record(_) = v else {
        return Err(not_exportable("a TOML document must be a record"));
    };
    let mut out = String::new();
    let mut path = Vec::new();
    write_table(v, &mut out, &mut path, 0, limits)?;
    limits.check_size(&out)?;
    Ok(out)
}

/// The (key, value) pairs of a table: a record's fields, or `C = payload`.
fn entries(v: &Value) -> Vec<(&str, &Value)> {
    match v {
        Value::Record(r) => r
            .names
            .iter()
            .map(|n| n.as_str())
            .zip(r.values.iter())
            .collect(),
        Value::Ctor(c) => match &c.payload {
            Some(p) => vec![(c.name.as_str(), p)],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Record(_)) || matches!(v, Value::Ctor(c) if c.payload.is_some())
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::List(xs) if !xs.is_empty() && xs.iter().all(is_table))
}

fn write_key(out: &mut String, key: &str) {
    if !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        out.push_str(key);
    } else {
        write_string(out, key);
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_header(out: &mut String, path: &[&str], array: bool) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(if array { "[[" } else { "[" });
    for (k, key) in path.iter().enumerate() {
        if k > 0 {
            out.push('.');
        }
        write_key(out, key);
    }
    out.push_str(if array { "]]\n" } else { "]\n" });
}

/// Checks the native stack every few levels (`par::deep`), then `write_table_here`.
fn write_table<'v>(
    v: &'v Value,
    out: &mut String,
    path: &mut Vec<&'v str>,
    depth: u32,
    limits: &ExportLimits,
) -> Result<(), EvalErrorKind> {
    crate::par::deep(depth, || write_table_here(v, out, path, depth, limits))
}

fn write_table_here<'v>(
    v: &'v Value,
    out: &mut String,
    path: &mut Vec<&'v str>,
    depth: u32,
    limits: &ExportLimits,
) -> Result<(), EvalErrorKind> {
    limits.check_depth(depth)?;
    let items = entries(v);
    for (key, x) in &items {
        if is_table(x) || is_table_array(x) {
            continue;
        }
        write_key(out, key);
        out.push_str(" = ");
        write_inline(x, out, depth + 1, limits)?;
        out.push('\n');
        limits.tick(out)?;
    }
    for (key, x) in &items {
        if is_table(x) {
            path.push(key);
            write_header(out, path, false);
            write_table(x, out, path, depth + 1, limits)?;
            path.pop();
        } else if is_table_array(x) {
            if let Value::List(xs) = x {
                path.push(key);
                for item in xs.iter() {
                    write_header(out, path, true);
                    write_table(item, out, path, depth + 1, limits)?;
                    limits.tick(out)?;
                }
                path.pop();
            }
        }
    }
    limits.check_size(out)
}

/// Checks the native stack every few levels (`par::deep`), then `write_inline_here`.
fn write_inline(
    v: &Value,
    out: &mut String,
    depth: u32,
    limits: &ExportLimits,
) -> Result<(), EvalErrorKind> {
    crate::par::deep(depth, || write_inline_here(v, out, depth, limits))
}

fn write_inline_here(
    v: &Value,
    out: &mut String,
    depth: u32,
    limits: &ExportLimits,
) -> Result<(), EvalErrorKind> {
    limits.check_depth(depth)?;
    match v {
        Value::Unit => return Err(not_exportable("TOML has no null value")),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(x) => write_float(out, *x),
        Value::Str(s) => write_string(out, s),
        Value::List(xs) => {
            out.push('[');
            for (k, x) in xs.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                write_inline(x, out, depth + 1, limits)?;
                limits.tick(out)?;
            }
            out.push(']');
        }
        Value::Record(_) | Value::Ctor(_) => {
            if let Value::Ctor(c) = v {
                if c.payload.is_none() {
                    write_string(out, &c.name);
                    return Ok(());
                }
            }
            let items = entries(v);
            if items.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push_str("{ ");
            for (k, (key, x)) in items.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                write_key(out, key);
                out.push_str(" = ");
                write_inline(x, out, depth + 1, limits)?;
                limits.tick(out)?;
            }
            out.push_str(" }");
        }
        Value::Func(_) | Value::Dict(_) => {
            return Err(not_exportable("a function cannot be rendered as TOML"))
        }
    }
    limits.check_size(out)
}
