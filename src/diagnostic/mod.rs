//! Diagnostics as plain data.
//!
//! Every phase reports problems as [`Diagnostic`] values: a stable [`Code`] from the
//! catalogue of LANGUAGE.md section 13, a severity, a short message, labels pointing at
//! spans (possibly in other files), notes and an optional help line. Nothing here knows how
//! to print: [`render`] turns diagnostics into rustc-style text, and the `api` module turns
//! them into serialisable DTOs. Diagnostics leave the library sorted by
//! (file, span start, code) and without duplicates ([`sort_and_dedup`]).

pub mod render;

use crate::source::{FileId, FileSpan, Span};

macro_rules! codes {
    ($($code:ident = $name:literal, $severity:ident;)*) => {
        /// A diagnostic code of the catalogue (LANGUAGE.md section 13.3).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($code,)* }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// The code as written in messages, e.g. `"E1001"`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }

            /// The stable kebab-case name, e.g. `"parse/unexpected-token"`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$code => $name,)* }
            }

            /// The severity a diagnostic with this code has.
            pub fn severity(self) -> Severity {
                match self { $(Code::$code => Severity::$severity,)* }
            }

            #[allow(clippy::should_implement_trait)]
            pub fn from_str(text: &str) -> Option<Code> {
                match text { $(stringify!($code) => Some(Code::$code),)* _ => None }
            }
        }
    };
}

codes! {
    E1001 = "parse/unexpected-token", Error;
    E1002 = "parse/unterminated-string", Error;
    E1003 = "parse/unterminated-comment", Error;
    E1004 = "parse/integer-out-of-range", Error;
    E1005 = "parse/malformed-number", Error;
    E1006 = "parse/invalid-character", Error;
    E1007 = "parse/chained-comparison", Error;
    E1008 = "parse/invalid-escape", Error;
    E1009 = "parse/nesting-too-deep", Error;
    E1010 = "parse/duplicate-name", Error;
    E1011 = "parse/rec-not-lambda", Error;
    T2001 = "type/mismatch", Error;
    T2002 = "type/infinite", Error;
    T2003 = "type/unbound-value", Error;
    T2004 = "type/unbound-type", Error;
    T2005 = "type/arity", Error;
    T2006 = "type/duplicate-definition", Error;
    T2007 = "type/invalid-class-or-instance", Error;
    T2008 = "type/no-instance", Error;
    T2009 = "type/overlapping-instances", Error;
    T2010 = "type/function-equality", Error;
    T2011 = "type/constructor-arity", Error;
    T2012 = "type/ambiguous", Error;
    T2013 = "type/non-exhaustive", Warning;
    T2014 = "type/spread-unknown", Error;
    T2015 = "type/recursive-alias", Error;
    T2016 = "type/too-large", Error;
    T2017 = "type/instance-too-deep", Error;
    R3001 = "eval/overflow", Error;
    R3002 = "eval/division-by-zero", Error;
    R3003 = "eval/match-failure", Error;
    R3004 = "eval/function-equality", Error;
    R3005 = "eval/user-error", Error;
    R3006 = "eval/depth-exceeded", Error;
    R3007 = "eval/budget-exhausted", Error;
    R3008 = "eval/timeout", Error;
    R3009 = "eval/not-exportable", Error;
    R3010 = "eval/output-too-large", Error;
    M4001 = "import/not-found", Error;
    M4002 = "import/cycle", Error;
    M4003 = "import/invalid-path", Error;
    M4004 = "import/not-exported", Error;
    M4005 = "import/name-clash", Error;
    M4006 = "import/escapes-root", Error;
    M4007 = "import/invalid-manifest", Error;
    M4008 = "import/fetch-failed", Error;
    M4009 = "import/integrity", Error;
    C5001 = "validate/invalid-regex", Error;
    C5002 = "validate/ill-typed-constraint", Error;
    C5003 = "validate/predicate-error", Error;
    C5004 = "validate/data-shape", Error;
    C5005 = "validate/constraint-violated", Error;
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
    /// An internal error of the implementation (never expected; reported, not panicked).
    Bug,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
            Severity::Bug => "bug",
        }
    }
}

/// A span with a message. Exactly one label of a diagnostic is primary; it gives the
/// diagnostic's file, span, line and column.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    pub span: FileSpan,
    pub message: String,
    pub primary: bool,
}

/// One problem found in the user's program, as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// A short phrase, no trailing period, no ANSI codes.
    pub message: String,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's severity and a primary label at `span` in `file`.
    pub fn new(code: Code, message: impl Into<String>, file: FileId, span: Span) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            labels: vec![Label {
                span: span.in_file(file),
                message: String::new(),
                primary: true,
            }],
            notes: Vec::new(),
            help: None,
        }
    }

    /// Sets the message of the primary label.
    pub fn with_primary_message(mut self, message: impl Into<String>) -> Diagnostic {
        if let Some(label) = self.labels.iter_mut().find(|it| it.primary) {
            label.message = message.into();
        }
        self
    }

    pub fn with_label(
        mut self,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.labels.push(Label {
            span: span.in_file(file),
            message: message.into(),
            primary: false,
        });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// The primary location (file and span).
    pub fn primary(&self) -> Option<FileSpan> {
        self.labels
            .iter()
            .find(|it| it.primary)
            .or(self.labels.first())
            .map(|it| it.span)
    }

    pub fn is_error(&self) -> bool {
        matches!(self.severity, Severity::Error | Severity::Bug)
    }

    /// The key diagnostics are sorted by: file, span start, code.
    fn sort_key(&self) -> (FileId, u32, Code, u32) {
        let primary = self.primary().unwrap_or_default();
        (
            primary.file,
            primary.span.start,
            self.code,
            primary.span.end,
        )
    }
}

/// Sorts by (file, span start, code) and removes exact duplicates. `file_rank` maps a file
/// to its position in canonical module order (identity for a single file).
pub fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>, file_rank: impl Fn(FileId) -> u32) {
    diagnostics.sort_by(|a, b| {
        let (fa, sa, ca, ea) = a.sort_key();
        let (fb, sb, cb, eb) = b.sort_key();
        (file_rank(fa), sa, ca, ea, &a.message).cmp(&(file_rank(fb), sb, cb, eb, &b.message))
    });
    diagnostics.dedup();
}

/// True if any diagnostic is an error (warnings never stop a run).
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}
