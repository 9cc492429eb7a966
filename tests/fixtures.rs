//! Fixture corpus harness (stub).
fn main() {}
