//! Static types (stub: replaced by the type checker).

pub mod elab;
