//! Rendering values as JSON, YAML, TOML and Ligature text (LANGUAGE.md section 11).
//!
//! Every renderer writes into one `String`, checks the nesting depth as it walks the value
//! (R3006) and the output size after each scalar (R3010). Errors are returned as
//! [`EvalErrorKind`]; the caller attaches the location (the document's binding).

pub mod json;
pub mod text;
pub mod toml;
pub mod yaml;

use crate::eval::error::EvalErrorKind;

/// Limits that apply while rendering.
#[derive(Clone, Copy, Debug)]
pub struct ExportLimits {
    pub max_depth: u32,
    pub max_output_bytes: Option<u64>,
}

impl Default for ExportLimits {
    fn default() -> ExportLimits {
        ExportLimits {
            max_depth: 10_000,
            max_output_bytes: None,
        }
    }
}

impl ExportLimits {
    pub(crate) fn check_size(&self, out: &str) -> Result<(), EvalErrorKind> {
        match self.max_output_bytes {
            Some(max) if out.len() as u64 > max => Err(EvalErrorKind::OutputTooLarge { max }),
            _ => Ok(()),
        }
    }

    pub(crate) fn check_depth(&self, depth: u32) -> Result<(), EvalErrorKind> {
        if depth > self.max_depth {
            Err(EvalErrorKind::DepthExceeded {
                max: self.max_depth,
            })
        } else {
            Ok(())
        }
    }
}

/// Writes a Float as section 11.3 says: shortest round-trip digits, decimal with at least
/// one fractional digit when `1e-5 <= |v| < 1e16`, otherwise exponent notation.
pub fn write_float(out: &mut String, v: f64) {
    use std::fmt::Write;
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let abs = v.abs();
    if (1e-5..1e16).contains(&abs) {
        let start = out.len();
        let _ = write!(out, "{v}");
        if !out.get(start..).unwrap_or("").contains('.') {
            out.push_str(".0");
        }
    } else {
        let _ = write!(out, "{v:e}");
    }
}

pub fn format_float(v: f64) -> String {
    let mut s = String::new();
    write_float(&mut s, v);
    s
}
