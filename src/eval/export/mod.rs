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
use crate::eval::machine::Interrupt;
use std::sync::atomic::{AtomicU32, Ordering};

/// Limits that apply while rendering, and the run's interrupt (timeout or cancel, §12.3:
/// rendering stops promptly too).
#[derive(Clone, Debug)]
pub struct ExportLimits {
    pub max_depth: u32,
    pub max_output_bytes: Option<u64>,
    pub interrupt: Interrupt,
    pub ticks: Ticks,
}

impl Default for ExportLimits {
    fn default() -> ExportLimits {
        ExportLimits {
            max_depth: 10_000,
            max_output_bytes: None,
            interrupt: Interrupt::default(),
            ticks: Ticks::default(),
        }
    }
}

/// The output limit when the host sets none (`max_output_bytes` is unset by default, §12):
/// memory is finite, and a document sharing parts can be exponentially bigger than its
/// value (`let a1 = [a0, a0]; ...`), so an unset limit means 192 MiB, eight times the
/// biggest benchmark document; a host that wants more says so. A document stopped there
/// peaks under 500 MB in every format (output buffers grow by doubling). See
/// docs/spec-notes.md.
pub const DEFAULT_MAX_OUTPUT: u64 = 192 << 20;

/// The host's clock is read once per this many [`ExportLimits::tick`]s.
const CLOCK_EVERY: u32 = 1024;

/// Counts [`ExportLimits::tick`]s between reads of the host's clock. Only a run with a
/// deadline counts (hosts with no timer beside the run: single-threaded wasm), so the
/// parallel JSON chunks of a native run never contend on it. A clone starts at zero.
#[derive(Debug, Default)]
pub struct Ticks(AtomicU32);

impl Clone for Ticks {
    fn clone(&self) -> Ticks {
        Ticks::default()
    }
}

impl ExportLimits {
    /// The output size limit in force: the host's, else [`DEFAULT_MAX_OUTPUT`].
    pub(crate) fn max_output(&self) -> u64 {
        self.max_output_bytes.unwrap_or(DEFAULT_MAX_OUTPUT)
    }

    pub(crate) fn check_size(&self, out: &str) -> Result<(), EvalErrorKind> {
        let max = self.max_output();
        if out.len() as u64 > max {
            Err(EvalErrorKind::OutputTooLarge { max })
        } else {
            Ok(())
        }
    }

    /// The check after each list element and record field: the size, the cancel flag (one
    /// atomic load) and, every [`CLOCK_EVERY`] ticks, the deadline (a read
    /// of the host's clock). A list of numbers passes no other check, so without it a
    /// document of 10^8 numbers was written whatever the limits.
    pub(crate) fn tick(&self, out: &str) -> Result<(), EvalErrorKind> {
        self.check_size(out)?;
        if self.interrupt.flag_set() {
            return Err(EvalErrorKind::Cancelled);
        }
        if self.interrupt.deadline.is_some() {
            let n = self.ticks.0.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            let due = n.is_multiple_of(CLOCK_EVERY);
            if due && self.interrupt.fired() {
                return Err(EvalErrorKind::Cancelled);
            }
        }
        Ok(())
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
