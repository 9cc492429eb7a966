//! Run-time errors as data, and their diagnostics.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, FileSpan, Span};

/// What went wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalErrorKind {
    /// R3001: Integer overflow or a non-finite Float; the operator.
    Overflow { op: &'static str },
    /// R3002
    DivisionByZero,
    /// R3003
    MatchFailure { value: String },
    /// R3004
    FunctionEquality,
    /// R3005: the user's message.
    User { message: String },
    /// R3006
    DepthExceeded { max: u32 },
    /// R3007
    BudgetExhausted { max: u64 },
    /// R3008
    Cancelled,
    /// R3009: why the value cannot be exported.
    NotExportable { reason: String },
    /// R3010
    OutputTooLarge { max: u64 },
    /// C5001 (from `validatePattern`).
    InvalidRegex { message: String },
    /// C5003: a predicate failed with an error.
    PredicateError {
        type_name: String,
        inner: Box<EvalError>,
    },
    /// C5005: a value violates a refinement.
    ConstraintViolated {
        type_name: String,
        item: String,
        value: String,
        path: String,
        /// The failing item, in the file that declares the type.
        item_span: FileSpan,
    },
    /// An internal inconsistency (never expected after type checking).
    Internal { message: String },
}

/// A run-time error with its location and call chain (innermost call last).
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    /// Boxed to keep `Result<Value, EvalError>` small.
    pub kind: Box<EvalErrorKind>,
    pub span: FileSpan,
    pub calls: Vec<FileSpan>,
}

impl EvalError {
    pub fn new(kind: EvalErrorKind, file: FileId, span: Span) -> EvalError {
        EvalError {
            kind: Box::new(kind),
            span: span.in_file(file),
            calls: Vec::new(),
        }
    }

    pub fn code(&self) -> Code {
        match &*self.kind {
            EvalErrorKind::Overflow { .. } => Code::R3001,
            EvalErrorKind::DivisionByZero => Code::R3002,
            EvalErrorKind::MatchFailure { .. } => Code::R3003,
            EvalErrorKind::FunctionEquality => Code::R3004,
            EvalErrorKind::User { .. } => Code::R3005,
            EvalErrorKind::DepthExceeded { .. } => Code::R3006,
            EvalErrorKind::BudgetExhausted { .. } => Code::R3007,
            EvalErrorKind::Cancelled => Code::R3008,
            EvalErrorKind::NotExportable { .. } => Code::R3009,
            EvalErrorKind::OutputTooLarge { .. } => Code::R3010,
            EvalErrorKind::InvalidRegex { .. } => Code::C5001,
            EvalErrorKind::PredicateError { .. } => Code::C5003,
            EvalErrorKind::ConstraintViolated { .. } => Code::C5005,
            EvalErrorKind::Internal { .. } => Code::R3005,
        }
    }

    pub fn message(&self) -> String {
        match &*self.kind {
            EvalErrorKind::Overflow { op } => format!("arithmetic overflow in `{op}`"),
            EvalErrorKind::DivisionByZero => "division by zero".to_string(),
            EvalErrorKind::MatchFailure { value } => {
                format!("no case of this match applies to {value}")
            }
            EvalErrorKind::FunctionEquality => "functions cannot be compared".to_string(),
            EvalErrorKind::User { message } => message.clone(),
            EvalErrorKind::DepthExceeded { max } => {
                format!("evaluation depth exceeded the limit of {max}")
            }
            EvalErrorKind::BudgetExhausted { max } => {
                format!("evaluation budget of {max} steps exhausted")
            }
            EvalErrorKind::Cancelled => "evaluation timed out or was cancelled".to_string(),
            EvalErrorKind::NotExportable { reason } => {
                format!("value cannot be exported: {reason}")
            }
            EvalErrorKind::OutputTooLarge { max } => {
                format!("output exceeds the limit of {max} bytes")
            }
            EvalErrorKind::InvalidRegex { message } => {
                format!("invalid regular expression: {message}")
            }
            EvalErrorKind::PredicateError { type_name, .. } => {
                format!("the predicate of `{type_name}` failed while validating")
            }
            EvalErrorKind::ConstraintViolated {
                type_name,
                item,
                value,
                path,
                ..
            } => {
                let _ = item;
                if path.is_empty() {
                    format!("`{type_name}` rejects {value}")
                } else {
                    format!("`{type_name}` rejects {value} at {path}")
                }
            }
            EvalErrorKind::Internal { message } => format!("internal evaluator error: {message}"),
        }
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut diag = Diagnostic::new(self.code(), self.message(), self.span.file, self.span.span);
        if let EvalErrorKind::Internal { .. } = *self.kind {
            diag.severity = crate::diagnostic::Severity::Bug;
        }
        match &*self.kind {
            EvalErrorKind::ConstraintViolated {
                item,
                item_span,
                path,
                value,
                ..
            } => {
                diag =
                    diag.with_label(item_span.file, item_span.span, format!("failing: `{item}`"));
                diag = diag.with_note(format!("value: {value}"));
                if !path.is_empty() {
                    diag = diag.with_note(format!("path: {path}"));
                }
            }
            EvalErrorKind::PredicateError { inner, .. } => {
                diag = diag.with_note(format!("{}: {}", inner.code(), inner.message()));
                diag = diag.with_label(
                    inner.span.file,
                    inner.span.span,
                    "the predicate failed here",
                );
            }
            _ => {}
        }
        for call in self.calls.iter().rev() {
            diag = diag.with_label(call.file, call.span, "called from here");
        }
        diag
    }
}
