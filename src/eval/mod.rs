//! Evaluation: lowering to a core language, the machine, built-ins and rendering.
//!
//! The pipeline is `lower` (AST + the checker's `Elaboration` → [`lower::Program`], names
//! resolved to frame slots, captures, globals and built-ins), then [`machine::run`] (or
//! [`machine::Machine::eval_decl`] per top-level declaration, for a parallel host), then
//! [`export`] (JSON, YAML, TOML, text). Evaluation is strict, left to right, under the
//! budget of [`machine::Limits`]: steps are counted per core node, match case, refinement
//! item and per element or byte a built-in touches; depth is the number of calls in
//! progress; a shared cancel flag is polled every 4096 steps. Values are immutable and
//! `Send + Sync`.

pub mod builtins;
pub mod error;
pub mod export;
pub mod lower;
pub mod machine;
pub mod ops;
pub mod value;

pub use error::{EvalError, EvalErrorKind};
pub use lower::{lower, Program};
pub use machine::{run, Evaluated, Globals, Limits, Machine};
pub use value::Value;

#[cfg(test)]
mod testparse;
#[cfg(test)]
mod tests;
