//! Ligature: a strict, pure, statically typed configuration language.
//!
//! The library is IO-free: files come through a file-system trait, nothing is printed,
//! no clock or environment is read. [`api`] is the one facade that the CLI, the wasm
//! bindings and the tests use.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod api;
pub mod diagnostic;
pub mod engine;
pub mod eval;
pub mod hash;
pub mod loader;
pub mod modules;
pub mod par;
pub mod source;
pub mod syntax;
pub mod types;
pub mod validate;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
