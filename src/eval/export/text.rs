//! Text rendering: one-line Ligature syntax (section 11.7); `toString` uses it.

use std::fmt::Write;

use crate::eval::error::EvalErrorKind;
use crate::eval::export::{write_float, ExportLimits};
use crate::eval::value::Value;

/// Renders `v` as Ligature text.
pub fn render(v: &Value, max_depth: u32) -> Result<String, EvalErrorKind> {
    let limits = ExportLimits {
        max_depth,
        ..ExportLimits::default()
    };
    render_limited(v, &limits)
}

/// Renders under `limits`: the output size (R3010) is checked as it grows, not only at the
/// end (a value sharing its parts can be exponentially bigger than its memory).
pub fn render_limited(v: &Value, limits: &ExportLimits) -> Result<String, EvalErrorKind> {
    let mut out = String::new();
    render_into(v, &mut out, limits)?;
    limits.check_size(&out)?;
    Ok(out)
}

/// A rendering for messages, shortened when long (and never written past that).
pub fn render_short(v: &Value, max_depth: u32) -> String {
    let limits = ExportLimits {
        max_depth: max_depth.min(200),
        max_output_bytes: Some(80),
        ..ExportLimits::default()
    };
    let mut out = String::new();
    if render_into(v, &mut out, &limits).is_err() && out.len() <= 80 {
        out.push_str("...");
    }
    if out.len() > 80 {
        let mut cut = 77;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

pub fn render_into(
    v: &Value,
    out: &mut String,
    limits: &ExportLimits,
) -> Result<(), EvalErrorKind> {
    write_value(v, out, 0, limits)
}

pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
    if depth > limits.max_depth {
        return Err(EvalErrorKind::DepthExceeded {
            max: limits.max_depth,
        });
    }
    match v {
        Value::Unit => out.push_str("()"),
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
                write_value(x, out, depth + 1, limits)?;
                limits.tick(out)?;
            }
            out.push(']');
        }
        Value::Record(r) => {
            if r.values.is_empty() {
                out.push_str("{}");
            } else {
                out.push_str("{ ");
                for (k, (name, x)) in r.names.iter().zip(r.values.iter()).enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    out.push_str(" = ");
                    write_value(x, out, depth + 1, limits)?;
                    limits.tick(out)?;
                }
                out.push_str(" }");
            }
        }
        Value::Ctor(c) => {
            out.push_str(&c.name);
            if let Some(p) = &c.payload {
                out.push(' ');
                let paren = match p {
                    Value::Ctor(inner) => inner.payload.is_some(),
                    Value::Int(n) => *n < 0,
                    Value::Float(x) => x.is_sign_negative(),
                    _ => false,
                };
                if paren {
                    out.push('(');
                }
                write_value(p, out, depth + 1, limits)?;
                if paren {
                    out.push(')');
                }
            }
        }
        Value::Func(_) | Value::Dict(_) => out.push_str("<function>"),
    }
    Ok(())
}
