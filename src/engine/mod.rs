//! The pipeline over the declaration graph, scheduled on all cores (DESIGN.md sections 3
//! to 5).
//!
//! `types` and `eval` are sequential code over immutable data; this module decides what
//! runs where. [`check::check_module`] type-checks independent `let` declarations in
//! parallel between the declarations that change the type environment;
//! [`eval::run`] evaluates independent top-level declarations in parallel, each once, into
//! once-cells. Both produce exactly the sequential result, whatever the number of threads
//! ([`dag`] explains the scheduling, [`eval`] the canonical accounting of errors and
//! budget). Threads come only through [`crate::par`].

pub mod check;
pub mod dag;
pub mod deps;
pub mod eval;

pub use crate::par::{Par, Threads};
