//! Evaluation (stub: replaced by the evaluator).
