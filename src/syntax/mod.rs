//! Lexing and parsing: source text to [`ast::Module`] plus syntax diagnostics.
//!
//! [`lexer`] turns the text into a vector of tokens with byte spans (comments and whitespace
//! dropped); [`parser`] builds the tree by recursive descent, with precedence climbing for
//! binary operators. Both keep going after errors, so one run reports every syntax error it
//! can recover from (LANGUAGE.md section 13.2). [`dump`] prints a tree for fixture tests.
//!
//! Deep nesting never overflows the stack: the parser counts nested constructs and reports
//! E1009 beyond [`NESTING_BUDGET`]; chains (`let ... in`, `else if`, operators) are parsed with
//! loops, and `let ... in` and `else if` chains do not count as nesting (section 12.4).

pub mod ast;
pub mod chunks;
pub mod dump;
pub mod format;
pub mod lexer;
pub mod locate;
mod parser;

#[cfg(test)]
mod tests;

use crate::diagnostic::Diagnostic;
use crate::interrupt::{Interrupt, Poll};
use crate::source::FileId;

/// The levels of nesting every construct supports in every phase (LANGUAGE.md section 12.4),
/// alone or wrapped in parentheses: `((1))` is two levels, and so is `((\x -> (\y -> y)))`.
pub const MAX_NESTING: u32 = 10_000;

/// How many constructs the parser lets nest inside one another before E1009. A level of some
/// constructs is two of them (a parenthesised lambda, `(1 + (1 + ...))`, the `->` of a
/// parenthesised function type), and a declaration adds a few, hence twice [`MAX_NESTING`]
/// plus a margin. A `let ... in` or `else if` chain counts once however long it is.
pub const NESTING_BUDGET: u32 = 2 * MAX_NESTING + 100;

/// The result of parsing one file: the (possibly partial) tree and every syntax error found.
#[derive(Debug)]
pub struct Parsed {
    pub module: ast::Module,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file. Never panics; every `ExprId` in the tree is below `module.n_exprs`.
pub fn parse(file: FileId, text: &str) -> Parsed {
    parse_until(file, text, &Interrupt::default())
}

/// [`parse`], polling `interrupt` at every token (LANGUAGE.md 12.3): once it fires, the parse
/// stops where it is and its only diagnostic is R3008 ([`Parsed::cancelled`]).
pub fn parse_until(file: FileId, text: &str, interrupt: &Interrupt) -> Parsed {
    parse_polling(file, text, Poll::new(interrupt))
}

/// [`parse_until`] with a given poll ([`Poll::deferred`] for small texts parsed often).
pub(crate) fn parse_polling(file: FileId, text: &str, poll: Poll<'_>) -> Parsed {
    let mut parser = parser::Parser::new(file, text, poll);
    let module = parser.parse_module();
    Parsed {
        module,
        diagnostics: parser.finish(),
    }
}

/// [`parse`], also giving back the file's tokens.
pub(crate) fn parse_with_tokens(file: FileId, text: &str) -> (Parsed, Vec<lexer::Token>) {
    let interrupt = Interrupt::default();
    let mut parser = parser::Parser::new(file, text, Poll::new(&interrupt));
    let module = parser.parse_module();
    let (diagnostics, tokens) = parser.finish_with_tokens();
    (
        Parsed {
            module,
            diagnostics,
        },
        tokens,
    )
}

impl Parsed {
    /// Whether the interrupt stopped this parse (its tree is partial).
    pub fn cancelled(&self) -> bool {
        crate::interrupt::is_cancelled(&self.diagnostics)
    }
}
