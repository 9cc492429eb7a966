//! The facade (stub).
