//! Evaluation: lowering to a core language, the machine, built-ins and rendering.
//!
//! The pipeline is `lower` (AST + the checker's `Elaboration` → [`lower::Program`], names
//! resolved to frame slots, captures, globals and built-ins), then [`machine::run`] (or
//! [`machine::Machine::eval_decl`] per top-level declaration, for a parallel host), then
//! [`export`] (JSON, YAML, TOML, text). Evaluation is strict, left to right, under the
//! budget of [`machine::Limits`]: steps are counted per core node, match case, refinement
//! item and per element or byte a built-in touches; depth is the number of calls in
//! progress; the host's [`machine::Interrupt`] (cancel flag, deadline) is polled every 4096 steps. Values are immutable and
//! `Send + Sync`.
//!
//! The api layer's calls, in order:
//! 1. `eval::lower(&module, &elaboration, file, &source_text) -> Result<Program, Box<Diagnostic>>`;
//! 2. `eval::run(&program, &limits, interrupt) -> Result<Evaluated, EvalError>`
//!    (or, per declaration, `Machine::new(file, &globals, limits, remaining_budget, interrupt)`
//!    and `machine.eval_decl(&program, idx)`, `machine.eval_body(&program)`, with
//!    `machine.steps()` for budget accounting; `globals` is any [`machine::Globals`], e.g.
//!    `Vec<OnceLock<Value>>` indexed by declaration);
//! 3. `export::{json, yaml, toml}::render(&value, &ExportLimits) -> Result<String, EvalErrorKind>`
//!    and `export::text::render_limited` (no final newline);
//! 4. errors: `EvalError::to_diagnostic()`; a render error becomes one with
//!    `EvalError::new(kind, file, span_of_the_binding)`.
//!
//! The host runs evaluation on a thread with a large stack: one Ligature call takes about
//! 0.7 KB of native stack in release builds (two frames: `eval` and `eval_app`), so
//! `max_depth` 10,000 needs about 7 MB; debug builds need several times more.

pub mod builtins;
pub mod error;
pub mod export;
pub mod link;
pub mod lower;
pub mod machine;
pub mod ops;
pub mod value;

pub use error::{EvalError, EvalErrorKind};
pub use lower::{lower, Program};
pub use machine::{run, Deadline, Evaluated, Globals, Interrupt, Limits, Machine};
pub use value::Value;

#[cfg(test)]
mod testparse;
#[cfg(test)]
mod tests;
